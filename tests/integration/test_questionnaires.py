"""Questions per category: answered in two pages without JavaScript or through the API, checked
on the server against the version they were answered on, read by the case's holders with the
questions as they were asked, and counted in the statistics under the small-cell rule."""

from __future__ import annotations

import asyncio
import html
import io
import re

import httpx
import pypdf
from sqlmodel import select

from intake.casework import questionnaires
from intake.casework.questions import Choice, Kind, Question
from intake.storage import db
from intake.storage.models import AuditEvent, CaseAnswers
from tests.support.instance import Instance
from tests.support.staffing import StaffClient, fresh_totp, sign_in


def _q(ident: str, kind: Kind, text: str, **options: object) -> Question:
    return Question(id=ident, kind=kind, texts={"en": text, "fr_CA": f"FR {text}"}, **options)  # type: ignore[arg-type]


EVERY_KIND = (
    _q("where", Kind.TEXT, "Which building?", required=True),
    _q("story", Kind.LONG_TEXT, "Tell us more about the building"),
    _q(
        "colour",
        Kind.SINGLE,
        "Which colour was the van?",
        choices=(Choice("red", {"en": "Red"}), Choice("blue", {"en": "Blue"})),
        statistical=True,
    ),
    _q(
        "days",
        Kind.MULTIPLE,
        "On which days?",
        choices=(Choice("mon", {"en": "Monday"}), Choice("tue", {"en": "Tuesday"})),
    ),
    _q("seen", Kind.YES_NO, "Did you see it yourself?", may_identify=True),
    _q("on", Kind.DATE, "On which day exactly?"),
    _q("about", Kind.PERIOD, "About when was the van first there?"),
    _q("count", Kind.NUMBER, "How many vans?"),
    _q("cost", Kind.AMOUNT, "How much was paid for them?"),
)


async def _save(made: Instance, scope: str, asked: tuple[Question, ...], change: str) -> None:
    async with db.transaction(made.runtime.sessions) as session:
        await questionnaires.save_version(
            session,
            scope,
            asked,
            actor="admin@example.org",
            today=made.runtime.today(),
            change=change,
        )


def _hidden(page: str, name: str) -> str:
    found = re.search(rf'<input type="hidden" name="{name}" value="([^"]*)">', page)
    assert found, page
    return html.unescape(found.group(1))


async def _only_case(staff: StaffClient) -> str:
    cases = (await staff.get("/api/v1/cases")).json()
    (case,) = cases["cases"]
    return str(case["ref"])


async def test_a_report_in_two_pages_with_every_kind_of_answer_reaches_its_holders(
    client: httpx.AsyncClient, seeded: Instance
) -> None:
    await _save(seeded, "other", EVERY_KIND, "every kind")
    start = await client.get("/report")
    once = _hidden(start.text, "once")
    second = await client.post(
        "/report", data={"once": once, "category": "other", "step": "questions"}
    )
    assert second.status_code == 200
    for question in EVERY_KIND:
        assert question.texts["en"] in second.text
    # The common questions come after the category's own.
    assert second.text.index("How much was paid") < second.text.index("About when did it happen")
    assert "This answer may help someone work out who you are" in second.text
    questionnaire = _hidden(second.text, "questionnaire")
    typed = {
        "once": once,
        "category": "other",
        "questionnaire": questionnaire,
        "body": "A van parks at the depot every night.",
        "q-where": "Depot 4",
        "q-story": "It is unmarked.",
        "q-colour": "blue",
        "q-days": ["mon", "tue"],
        "q-seen": "unknown",
        "q-on": "2026-11-02",
        "q-about-year": "2025",
        "q-about-month": "03",
        "q-count": "3",
        "q-cost": "12 500,50",
        "q-before": "no",
    }
    # Back to the category: what was typed travels in the first page, and comes back.
    back = await client.post("/report", data={**typed, "step": "back"})
    assert back.status_code == 200 and 'name="q-where" value="Depot 4"' in back.text
    carried = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', back.text)
    fields: dict[str, list[str]] = {"category": ["other"], "step": ["questions"]}
    for name, value in carried:
        fields.setdefault(name, []).append(html.unescape(value))
    again = await client.post("/report", data=fields)
    assert 'value="Depot 4"' in again.text and "A van parks at the depot" in again.text
    assert re.search(r'value="blue" checked', again.text)
    assert re.search(r'<option value="2025" selected>', again.text)
    # A wrong answer is named beside its question; what was typed stays.
    wrong = await client.post("/report", data={**typed, "q-count": "three"})
    assert wrong.status_code == 422
    assert '<a href="#q-count">' in wrong.text and 'value="Depot 4"' in wrong.text
    filed = await client.post("/report", data=typed)
    assert filed.status_code == 201, filed.text

    staff = await sign_in(seeded, client, "officer1@example.org")
    ref = await _only_case(staff)
    case = (await staff.get(f"/api/v1/cases/{ref}")).json()
    shown = {item["question"]: item["answer"] for item in case["answers"]}
    assert shown == {
        "Which building?": "Depot 4",
        "Tell us more about the building": "It is unmarked.",
        "Which colour was the van?": "Blue",
        "On which days?": "Monday, Tuesday",
        "Did you see it yourself?": "I don't know",
        "On which day exactly?": "2026-11-02",
        "About when was the van first there?": "2025-03",
        "How many vans?": "3",
        "How much was paid for them?": "12500.50",
        "Has it happened before?": "No",
    }
    page = await client.get(f"/staff/cases/{ref}", headers={"Cookie": staff.headers["Cookie"]})
    assert "answers" in page.text and "Depot 4" in page.text, page.text[page.text.find("<h2") :][
        :1500
    ]
    exported = await staff.post(f"/api/v1/cases/{ref}/export")
    assert exported.status_code == 200
    assert "answers</h2>" in exported.text and "12500.50" in exported.text
    as_pdf = await staff.post(f"/api/v1/cases/{ref}/export?format=pdf")
    assert as_pdf.status_code == 200
    pdf_text = " ".join(
        page.extract_text() for page in pypdf.PdfReader(io.BytesIO(as_pdf.content)).pages
    )
    assert "The reporter's answers" in pdf_text and "Depot 4" in pdf_text
    assert "How much was paid for them?" in pdf_text and "12500.50" in pdf_text
    # At rest the answers are one ciphertext: no answer, question or choice in the clear.
    async with seeded.runtime.sessions() as session:
        (stored,) = (await session.exec(select(CaseAnswers))).all()
    for plain in (b"Depot 4", b"unmarked", b"blue", b"12500", b"where"):
        assert plain not in stored.answers


async def test_a_wrong_answer_through_the_api_is_a_422_naming_the_question(
    client: httpx.AsyncClient, seeded: Instance
) -> None:
    form = (await client.get("/api/v1/form")).json()
    financial = next(item for item in form["categories"] if item["id"] == "financial")
    ids = [question["id"] for question in financial["questions"]]
    assert ids[:6] == ["department", "contract", "amount", "vendor", "approved_by", "misuse"]
    misuse = financial["questions"][5]
    assert {"id": "unknown", "label": "I don't know"} in misuse["choices"]
    report = {"category": "financial", "body": "Invoices split in three."}
    for answers, named in (
        ({"amount": "lots"}, "amount"),
        ({"misuse": ["split"]}, "misuse"),
        ({"before": "perhaps"}, "before"),
        ({"when": "2025-13"}, "when"),
        ({"nosuch": "x"}, "nosuch"),
    ):
        answer = await client.post("/api/v1/reports", json={**report, "answers": answers})
        assert answer.status_code == 422, answers
        assert f"“{named}”" in answer.json()["error"]
    accepted = await client.post(
        "/api/v1/reports",
        json={**report, "answers": {"amount": "1200", "misuse": "split", "when": "unknown"}},
    )
    assert accepted.status_code == 201
    async with seeded.runtime.sessions() as session:
        assert len((await session.exec(select(CaseAnswers))).all()) == 1


async def test_a_changed_questionnaire_still_shows_old_reports_with_their_questions(
    client: httpx.AsyncClient, seeded: Instance
) -> None:
    filed = await client.post(
        "/api/v1/reports",
        json={
            "category": "financial",
            "body": "Paid twice.",
            "answers": {"department": "Parks", "amount": "1200"},
        },
    )
    assert filed.status_code == 201
    changed = (
        _q("department", Kind.TEXT, "Which city department signed it?"),
        _q("vendor", Kind.TEXT, "Which supplier?"),
    )
    await _save(seeded, "financial", changed, "shorter")
    staff = await sign_in(seeded, client, "officer1@example.org")
    case = (await staff.get(f"/api/v1/cases/{await _only_case(staff)}")).json()
    shown = {item["question"]: item["answer"] for item in case["answers"]}
    assert shown == {
        "Which department or office is involved?": "Parks",
        "About how much money is involved?": "1200.00",
    }
    form = (await client.get("/api/v1/form")).json()
    financial = next(item for item in form["categories"] if item["id"] == "financial")
    assert financial["questions"][0]["text"] == "Which city department signed it?"
    # An answer to the removed question is now refused; the change is in the audit log.
    gone = await client.post(
        "/api/v1/reports",
        json={"category": "financial", "body": "x", "answers": {"amount": "5"}},
    )
    assert gone.status_code == 422 and "“amount”" in gone.json()["error"]
    async with seeded.runtime.sessions() as session:
        events = (
            await session.exec(select(AuditEvent).where(AuditEvent.action == "admin.questionnaire"))
        ).all()
    assert len(events) == 1 and "financial" in events[0].detail


async def test_a_statistical_question_is_counted_with_small_cells_suppressed(
    client: httpx.AsyncClient, seeded: Instance
) -> None:
    for choice, times in (("split", 6), ("conflict", 2)):
        for _ in range(times):
            answer = await client.post(
                "/api/v1/reports",
                json={"category": "financial", "body": "x", "answers": {"misuse": choice}},
            )
            assert answer.status_code == 201
    # A free-text answer is never counted.
    await client.post(
        "/api/v1/reports",
        json={"category": "financial", "body": "x", "answers": {"vendor": "Acme"}},
    )
    staff = await sign_in(seeded, client, "officer1@example.org")
    year = seeded.runtime.today().year
    figures = (await staff.get("/api/v1/stats", params={"year": str(year)})).json()
    assert list(figures["by_answer"]) == ["financial:misuse"]
    counted = figures["by_answer"]["financial:misuse"]
    assert counted["choices"]["conflict"] == "fewer than 5"
    # Shown beside the total, 6 would give the 2 away: one of them is withheld too.
    assert not (
        isinstance(counted["choices"]["split"], int) and isinstance(counted["answered"], int)
    )
    page = await client.get(
        "/staff/stats", params={"year": str(year)}, headers={"Cookie": staff.headers["Cookie"]}
    )
    assert "What kind of misuse is it?" in page.text and "fewer than 5" in page.text
    assert "Acme" not in page.text


async def test_answers_of_reports_filed_together_are_all_counted(
    client: httpx.AsyncClient, seeded: Instance
) -> None:
    """Reports that arrive together are written in one transaction: each choice is counted
    once per report, the same choice summed across the batch and with what was counted before."""

    async def filed(choice: str) -> int:
        answer = await client.post(
            "/api/v1/reports",
            json={"category": "financial", "body": "x", "answers": {"misuse": choice}},
        )
        return answer.status_code

    for round_of_choices in (["split"] * 5 + ["conflict"] * 6, ["split", "conflict", "split"]):
        assert set(await asyncio.gather(*map(filed, round_of_choices))) == {201}
    async with seeded.runtime.sessions() as session:
        counts = await questionnaires.year_counts(session, seeded.runtime.today().year)
    assert counts == {"financial:misuse": {"split": 7, "conflict": 7}}


async def test_administrators_add_move_and_remove_questions_in_both_languages(
    client: httpx.AsyncClient, seeded: Instance
) -> None:
    client.cookies.clear()
    signed = await client.post(
        "/staff/login",
        data={
            "email": "admin@example.org",
            "password": seeded.staff_passwords["admin@example.org"],
            "totp": await fresh_totp(seeded, "admin@example.org"),
        },
    )
    assert signed.status_code == 303
    page = await client.get("/admin/questionnaires")
    assert page.status_code == 200 and "Which vendor or company, if any?" in page.text
    csrf = _hidden(page.text, "csrf")
    add = {
        "csrf": csrf,
        "action": "add",
        "scope": "financial",
        "id": "signer",
        "kind": "single",
        "text_en": "Who signed it?",
        "text_fr": "Quelle personne a signé ?",
        "choices_en": "A manager\nA councillor",
        "choices_fr": "Un gestionnaire\nUn conseiller",
        "statistical": "yes",
    }
    assert (await client.post("/admin/questionnaires", data=add)).status_code == 303
    # Statistical free text, a clashing id, French choices that do not match: refused, named.
    for change, problem in (
        ({"id": "free", "kind": "text"}, "Only a one-choice question can be counted"),
        ({"id": "vendor"}, "A question needs its own short id"),
        ({"id": "other_one", "choices_fr": "Un seul"}, "same order and number"),
    ):
        refused = await client.post("/admin/questionnaires", data={**add, **change})
        assert refused.status_code == 422 and problem in html.unescape(refused.text)
    moved = {"csrf": csrf, "scope": "financial", "question": "signer", "action": "up"}
    assert (await client.post("/admin/questionnaires", data=moved)).status_code == 303
    client.cookies.clear()
    french = await client.post(
        "/report",
        data={"category": "financial", "step": "questions"},
        headers={"accept-language": "fr-CA"},
    )
    text = html.unescape(french.text)
    assert "Quelle personne a signé ?" in text and "Un conseiller" in text
    assert text.index("Qui l'a signé ou") < text.index("Quelle personne") < text.index("De quel")
    english = (await client.get("/api/v1/form")).json()
    financial = next(item for item in english["categories"] if item["id"] == "financial")
    assert [question["id"] for question in financial["questions"]][4:7] == [
        "approved_by",
        "signer",
        "misuse",
    ]
    async with seeded.runtime.sessions() as session:
        events = (
            await session.exec(select(AuditEvent).where(AuditEvent.action == "admin.questionnaire"))
        ).all()
    assert [event.actor for event in events] == ["admin@example.org"] * 2
