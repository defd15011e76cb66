"""The casework pages as an officer reads them: a queue sorted by its columns (sorted in SQL, a
bad order refused clearly), dates in the page's language, names instead of stored values, the
case's timeline, and the export's labels."""

from __future__ import annotations

import re

import httpx

from intake.accounts import keyring
from intake.casework import export
from intake.web import export_file
from tests.support import casefactory
from tests.support.instance import Instance
from tests.support.staffing import sign_in

OFFICER = "officer1@example.org"


async def _refs_in_order(page: str) -> list[str]:
    return re.findall(r'class="ref" href="/staff/cases/(QL-[0-9A-Z-]+)"', page)


async def test_the_queue_sorts_by_each_column_and_refuses_an_unknown_order(
    client: httpx.AsyncClient, seeded: Instance
) -> None:
    runtime = seeded.runtime
    made = {}
    for category, body in (("safety", "first"), ("conduct", "second"), ("financial", "third")):
        _, case = await casefactory.file_report(runtime, category=category, body=body)
        made[body] = case
    # Move "second" on, and make "third" overdue: the due order and the stage order differ.
    await casefactory.update_case(runtime, made["second"].id, stage="assessing")
    past = made["third"].received_on.replace(year=made["third"].received_on.year - 1)
    await casefactory.update_case(runtime, made["third"].id, next_due=past, ack_due=past)
    officer = await sign_in(seeded, client, OFFICER)

    by = {}
    for sort in ("received", "oldest", "due", "stage", "category", "ref", "assignee"):
        answer = await officer.get("/staff/", {"sort": sort})
        assert answer.status_code == 200, sort
        by[sort] = await _refs_in_order(answer.text)
        assert sorted(by[sort]) == sorted(case.ref for case in made.values()), sort
    refs = {body: case.ref for body, case in made.items()}
    assert by["ref"] == sorted(refs.values())
    assert by["due"][0] == refs["third"]  # the overdue case first
    assert by["stage"][-1] == refs["second"]  # being assessed comes after received
    assert by["category"] == [refs["second"], refs["third"], refs["first"]]  # conduct, financial…
    assert by["oldest"] == list(reversed(by["received"]))
    # The API sorts the same way, and pages through a sorted queue without repeating a case.
    first = (await officer.get("/api/v1/cases", {"sort": "ref", "limit": "2"})).json()
    rest = (await officer.get("/api/v1/cases", {"sort": "ref", "after": first["next"]})).json()
    assert [row["ref"] for row in first["cases"] + rest["cases"]] == by["ref"]

    for bad in ("nonsense", "ref; DROP TABLE case", "x" * 5000):
        page = await officer.get("/staff/", {"sort": bad})
        assert page.status_code == 422 and "can be sorted by" in page.text, bad
        api = await officer.get("/api/v1/cases", {"sort": bad})
        assert api.status_code == 422, bad
    forged = await officer.get("/api/v1/cases", {"sort": "ref", "after": "QHh4eA"})
    assert forged.status_code == 422


async def test_the_queue_and_case_show_names_and_dates_in_the_pages_language(
    client: httpx.AsyncClient, seeded: Instance
) -> None:
    _, case = await casefactory.file_report(seeded.runtime, body="The depot's fuel card.")
    officer = await sign_in(seeded, client, OFFICER)
    await officer.post(f"/api/v1/cases/{case.ref}/stage", {"stage": "acknowledged"})
    await officer.post(f"/api/v1/cases/{case.ref}/messages", {"body": "Which weekend was it?"})
    await officer.post(f"/api/v1/cases/{case.ref}/notes", {"body": "Check the fuel log."})
    await officer.post(f"/api/v1/cases/{case.ref}/stage", {"stage": "assessing"})
    iso = case.received_on.isoformat()
    for lang, words in (
        ("en", ("Being assessed", "Web form", "Moved the case from Acknowledged")),
        ("fr-CA", ("Formulaire Web", "A fait passer le dossier")),
    ):
        for path in ("/staff/", f"/staff/cases/{case.ref}"):
            page = (await officer.get(path, {"lang": lang})).text
            assert f'<time datetime="{iso}">' in page, (lang, path)
            shown = re.sub(r'datetime="[^"]*"', "", page)
            assert iso not in shown, (lang, path)  # the day is written out, never ISO
        case_page = (await officer.get(f"/staff/cases/{case.ref}", {"lang": lang})).text
        for word in words:
            assert word in case_page, (lang, word)
        assert ">assessing<" not in case_page and ">web<" not in case_page
    page = (await officer.get(f"/staff/cases/{case.ref}")).text
    timeline = page.split('id="timeline"')[1].split("Write to the reporter")[0]
    for said in ("Which weekend was it?", "Check the fuel log.", "Moved the case from"):
        assert said in timeline, said


async def test_the_export_shows_names_and_written_dates_not_stored_values(
    seeded: Instance,
) -> None:
    _, case = await casefactory.file_report(seeded.runtime, body="Invoices split in two.")
    await casefactory.update_case(seeded.runtime, case.id, stage="assessing", channel="in_person")
    email = "officer1@example.org"
    async with seeded.runtime.sessions() as session:
        person = await keyring.staff_by_email(session, email)
        assert person is not None
    bundle = await export.export_case(
        seeded.runtime,
        ref=case.ref,
        private_key=seeded.staff_private[email],
        staff_id=person.id,
        actor=email,
    )
    html = "".join([piece async for piece in export_file.html_pieces(bundle)])
    facts = dict(re.findall(r"<dt>([^<]+)</dt><dd>([^<]*)</dd>", html))
    assert facts["Stage"] == "Being assessed"
    assert facts["Came in by"] == "In person"
    assert facts["Legal hold"] == "No"
    assert facts["Type"] == "Report"
    day = case.received_on
    assert facts["Received"] == f"{day:%B} {day.day}, {day.year}"
    for raw in ("assessing", "in_person", "in person", "no"):
        assert raw not in facts.values(), raw


async def test_the_statistics_page_writes_hidden_figures_and_months_in_french(
    client: httpx.AsyncClient, seeded: Instance
) -> None:
    await casefactory.file_report(seeded.runtime)  # one case: a figure too small to show
    officer = await sign_in(seeded, client, OFFICER)
    page = (await officer.get("/staff/stats", {"lang": "fr-CA"})).text
    assert "moins de 5" in page and "janvier" in page
    for english in ("fewer than", "withheld", "Reports received by month", "no figure"):
        assert english not in page, english
    assert 'class="year"' in page  # the year chosen in a row of its own size
