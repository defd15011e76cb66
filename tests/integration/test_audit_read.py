"""Reading the audit log (SECURITY.md, "Who reads the audit log"): a case's holders see its
history; nobody learns from any audit view, list, API answer or download that a case they cannot
open exists; the page works without script, in English and French; downloads are audited.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import httpx
from sqlalchemy import text

from intake.casework import retention
from intake.storage import db
from intake.storage.models import AuditEvent, Case
from tests.support import casefactory
from tests.support.instance import Instance, quietline_environ
from tests.support.staffing import StaffClient, login, sign_in

OFFICER = "officer1@example.org"
OTHER_OFFICER = "officer3@example.org"
ALTERNATE = "alternate@example.org"
ADMIN = "admin@example.org"
INVESTIGATOR = "investigator@example.org"


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, "the page has no CSRF field"
    return found.group(1)


async def _page_post(who: StaffClient, path: str, data: dict[str, str]) -> httpx.Response:
    """A form post from a page, with the session's cookie and the form's CSRF field."""
    return await who.http.post(
        path,
        data={**data, "csrf": who.csrf},
        headers={"Cookie": who.headers["Cookie"]},
    )


async def _everything_seen(who: StaffClient) -> dict[str, str]:
    """Every audit view of this reader, as text: the page (plain, filtered every way that could
    find a case), the API, and both downloads."""
    seen: dict[str, str] = {}
    for name, params in {
        "page": {},
        "page-views": {"kind": "case.view"},
        "page-notes": {"kind": "case.note"},
        "page-alternate": {"actor": ALTERNATE},
    }.items():
        answer = await who.get("/staff/audit", params)
        assert answer.status_code == 200, answer.text
        # What the page shows after its filter form (which repeats what was typed into it).
        shown = answer.text.split('class="filters"')[1].split("</form>", 1)[1]
        seen[name] = shown.split('id="download"')[0]
    api = await who.get("/api/v1/audit")
    assert api.status_code == 200, api.text
    seen["api"] = api.text
    for form in ("csv", "json"):
        answer = await _page_post(who, "/staff/audit/download", {"format": form})
        assert answer.status_code == 200, answer.text
        seen[form] = answer.text
    return seen


async def _api_events(who: StaffClient, **params: str) -> list[dict[str, object]]:
    answer = await who.get("/api/v1/audit", params)
    assert answer.status_code == 200, answer.text
    events: list[dict[str, object]] = answer.json()["events"]
    return events


async def test_a_holder_sees_who_did_what_to_the_case_on_its_page(
    client: httpx.AsyncClient, seeded: Instance
) -> None:
    _, case = await casefactory.file_report(
        seeded.runtime, category="conduct", attachments=(("list.txt", b"names"),)
    )
    officer = await sign_in(seeded, client, OFFICER)
    ref = case.ref
    assert (await officer.get(f"/api/v1/cases/{ref}")).status_code == 200
    attachment = (await officer.get(f"/api/v1/cases/{ref}")).json()["attachments"][0]["url"]
    assert (await officer.get(attachment)).status_code == 200
    assert (await officer.post(f"/api/v1/cases/{ref}/notes", {"body": "Call HR."})).is_success
    stage = await officer.post(f"/api/v1/cases/{ref}/stage", {"stage": "acknowledged"})
    assert stage.status_code == 200, stage.text
    assert (await officer.post(f"/api/v1/cases/{ref}/export")).status_code == 200
    assert (await officer.post(f"/api/v1/cases/{ref}/messages", {"body": "Thanks."})).is_success
    staff = (await officer.get("/api/v1/staff")).json()
    investigator = next(person["id"] for person in staff if person["name"] == "Investigator")
    to_them = {"staff_id": investigator}
    assert (await officer.post(f"/api/v1/cases/{ref}/grants", to_them)).is_success
    assert (await officer.post(f"/api/v1/cases/{ref}/assign", to_them)).is_success
    assert (await officer.delete(f"/api/v1/cases/{ref}/grants/{investigator}")).is_success
    assert (await officer.post(f"/api/v1/cases/{ref}/legal-hold", {"hold": True})).is_success

    page = await officer.get(f"/staff/cases/{ref}")
    assert page.status_code == 200
    history = page.text.split('id="history"')[1]
    for sentence in (
        "Opened the case",
        "Downloaded a file of the case",
        "Added an internal note",
        "Moved the case from Received to Acknowledged",
        "Exported the case",
        "Wrote to the reporter",
        f"Gave {INVESTIGATOR} access to the case",
        f"Assigned the case to {INVESTIGATOR}",
        f"Took away the access of {INVESTIGATOR} to the case",
        "Put the case on legal hold",
    ):
        assert sentence in history, sentence
    assert OFFICER in history
    assert "case.view" not in history and "Call HR." not in history and "Thanks." not in history
    # Each event carries its time to the second, written in the page's language.
    assert re.search(r'<time class="moment" datetime="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d', history)
    assert re.search(r">[A-Z][a-z]{2} \d{1,2}, \d{4},</span> <span[^>]*>\d{1,2}:\d\d:\d\d", history)

    # Another holder reads the same history; someone who holds no key gets no page at all.
    colleague = await sign_in(seeded, client, "officer2@example.org")
    assert "Added an internal note" in (await colleague.get(f"/staff/cases/{ref}")).text
    admin = await sign_in(seeded, client, ADMIN)
    assert (await admin.get(f"/staff/cases/{ref}")).status_code == 404
    assert await _api_events(admin, case=ref) == []


async def test_an_officer_of_the_office_sees_no_trace_of_a_case_routed_to_the_alternate_group(
    client: httpx.AsyncClient, seeded: Instance
) -> None:
    """Tested as that officer (and as the office's administrator): every audit view, list, API
    answer and download is the same after the alternate group worked a case about the office
    as before, and names nothing of it."""
    runtime = seeded.runtime
    await casefactory.file_report(runtime, category="financial", body="A plain report.")
    _, hidden = await casefactory.file_report(
        runtime, category="conduct", body="About the office.", involves_office=True
    )
    officer = await sign_in(seeded, client, OFFICER)
    admin = await sign_in(seeded, client, ADMIN)
    before = {who.email: await _api_events(who) for who in (officer, admin)}

    alternate = await sign_in(seeded, client, ALTERNATE)
    ref = hidden.ref
    assert (await alternate.get(f"/api/v1/cases/{ref}")).status_code == 200
    assert (await alternate.post(f"/api/v1/cases/{ref}/notes", {"body": "Ours."})).is_success
    assert (await alternate.post(f"/api/v1/cases/{ref}/export")).status_code == 200
    assert (await alternate.get(f"/staff/cases/{ref}")).status_code == 200
    downloaded = await _page_post(
        alternate, "/staff/audit/download", {"format": "csv", "case": ref}
    )
    assert downloaded.status_code == 200 and ref in downloaded.text

    for who in (officer, admin):
        # The office's own list is exactly what it was: no row, no gap, nothing to count.
        assert await _api_events(who) == before[who.email], who.email
    for who in (officer, admin):
        assert await _api_events(who, case=ref) == []
        assert await _api_events(who, case=ref) == await _api_events(who, case="QL-AAAAA-AAAAA")
        seen = await _everything_seen(who)
        for name, shown in seen.items():
            assert ref not in shown, f"{who.email} {name}"
            assert "conduct" not in shown and "Ours." not in shown, f"{who.email} {name}"
            # The alternate group's sign-in is theirs too: how often they work says they have cases.
            assert ALTERNATE not in shown, f"{who.email} {name}"
        by_case = await who.get("/staff/audit", {"case": ref})
        assert by_case.status_code == 200 and "No events to show." in by_case.text

    # The alternate officer, who holds the case, reads its history in full.
    theirs = await _api_events(alternate, case=ref)
    assert {event["kind"] for event in theirs} >= {"case.view", "case.note", "case.export"}
    assert all(event["case"] == ref for event in theirs)
    assert "seq" not in theirs[0]


async def test_the_audit_page_lists_filters_and_pages_without_script(
    client: httpx.AsyncClient, seeded: Instance
) -> None:
    _, case = await casefactory.file_report(seeded.runtime)
    officer = await sign_in(seeded, client, OFFICER)
    for _ in range(3):
        assert (await officer.get(f"/api/v1/cases/{case.ref}")).status_code == 200
    # Sixty events whose times collide in threes: paging by time must neither lose nor repeat one.
    async with db.transaction(seeded.runtime.sessions) as session:
        for number in range(60):
            session.add(
                AuditEvent(
                    seq=1000 + number,
                    at=datetime(2026, 3, 1, 9, number // 3, tzinfo=UTC),
                    actor=OFFICER,
                    action="case.note",
                    case_ref=case.ref,
                    prev_hash="",
                    hash="",
                )
            )

    first = await officer.get("/staff/audit")
    assert first.status_code == 200
    assert "<script" not in first.text
    assert f'href="/staff/cases/{case.ref}"' in first.text

    seen: list[str] = []
    path, params = "/staff/audit", {"kind": "case.note", "case": case.ref.lower()}
    for _ in range(5):
        answer = await officer.get(path, params)
        assert answer.status_code == 200
        seen += re.findall(r'<time class="moment" datetime="(2026-03-01T[\d:]+)', answer.text)
        more = re.search(r'href="(/staff/audit\?[^"]+)" *>Older events', answer.text)
        if more is None:
            break
        link = urlsplit(more.group(1).replace("&amp;", "&"))
        path, params = link.path, dict(parse_qsl(link.query))
    assert len(seen) == 60 and seen == sorted(seen, reverse=True)

    api_pages: list[dict[str, object]] = []
    cursor: str | None = ""
    while cursor is not None:
        answer = await officer.get(
            "/api/v1/audit", {"kind": "case.note", **({"after": cursor} if cursor else {})}
        )
        api_pages += answer.json()["events"]
        cursor = answer.json()["next"]
    assert len(api_pages) == 60

    dated = await _api_events(officer, since="2026-03-01", until="2026-03-01")
    assert len(dated) == 50 and all(event["at"].startswith("2026-03-01") for event in dated)
    assert await _api_events(officer, until="2026-02-28") == []
    views = await _api_events(officer, kind="case.view", actor=OFFICER.upper())
    assert len(views) == 3 and views[0]["description"] == "Opened the case"


async def test_bad_filters_are_refused_clearly_and_record_nothing(
    client: httpx.AsyncClient, seeded: Instance
) -> None:
    officer = await sign_in(seeded, client, OFFICER)
    before = await _api_events(officer)
    for params, words in (
        ({"since": "2026-13-01"}, "YYYY-MM-DD"),
        ({"since": "2026-03-02", "until": "2026-03-01"}, "comes after"),
        ({"kind": "no-such-kind"}, "no such kind"),
        ({"case": "QL-<script>"}, "not a case reference"),
        ({"after": "1999"}, "not valid"),
        # The shape of a page link, with a day that does not exist or other scripts' digits.
        ({"after": "2026-13-45T00:00:00.000000+00:00~1"}, "not valid"),
        ({"after": "٢٠٢٦-٠٣-٠١T00:00:00.000000+00:00~1"}, "not valid"),
        ({"actor": "a\x00b"}, "email address"),
    ):
        page = await officer.get("/staff/audit", params)
        assert page.status_code == 422 and words in page.text, params
        api = await officer.get("/api/v1/audit", params)
        assert api.status_code == 422, params
    refused = await _page_post(officer, "/staff/audit/download", {"format": "xml"})
    assert refused.status_code == 422
    assert await _api_events(officer) == before

    investigator = await sign_in(seeded, client, INVESTIGATOR)
    assert (await investigator.get("/staff/audit")).status_code == 403
    assert (await investigator.get("/api/v1/audit")).status_code == 403
    assert (await client.get("/api/v1/audit")).status_code == 401
    assert (await client.get("/staff/audit")).status_code == 401


async def test_a_download_is_itself_an_event_and_a_case_download_stays_with_the_case(
    client: httpx.AsyncClient, seeded: Instance
) -> None:
    _, case = await casefactory.file_report(seeded.runtime)
    officer = await sign_in(seeded, client, OFFICER)
    assert (await officer.get(f"/api/v1/cases/{case.ref}")).status_code == 200

    as_csv = await _page_post(officer, "/staff/audit/download", {"format": "csv"})
    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    assert "attachment" in as_csv.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert {"at", "actor", "kind", "case", "description"} <= set(rows[0])
    assert any(row["case"] == case.ref and row["kind"] == "case.view" for row in rows)

    as_json = await _page_post(
        officer, "/staff/audit/download", {"format": "json", "case": case.ref}
    )
    events = json.loads(as_json.text)["events"]
    assert events and all(event["case"] == case.ref for event in events)

    exports = await _api_events(officer, kind="audit.export")
    assert [event["description"] for event in exports] == [
        "Downloaded the audit log (json)",
        "Downloaded the audit log (csv)",
    ]
    assert exports[0]["case"] == case.ref and exports[1]["case"] is None
    # Another officer of the office who cannot open the case sees the plain download only.
    async with db.transaction(seeded.runtime.sessions) as session:
        await session.exec(
            text(
                "DELETE FROM casekey WHERE case_id = :case AND staff_id = "
                "(SELECT id FROM staff WHERE email = :email)"
            ),
            params={"case": case.id, "email": OTHER_OFFICER},
        )
    other = await sign_in(seeded, client, OTHER_OFFICER)
    theirs = await _api_events(other, kind="audit.export")
    assert [event["case"] for event in theirs] == [None]


async def test_after_a_purge_only_those_who_held_the_case_read_its_history(
    client: httpx.AsyncClient, seeded: Instance
) -> None:
    runtime = seeded.runtime
    _, case = await casefactory.file_report(runtime)
    officer = await sign_in(seeded, client, OFFICER)
    assert (await officer.get(f"/api/v1/cases/{case.ref}")).status_code == 200
    async with db.transaction(runtime.sessions) as session:
        await session.exec(
            text(
                "DELETE FROM casekey WHERE case_id = :case AND staff_id = "
                "(SELECT id FROM staff WHERE email = :email)"
            ),
            params={"case": case.id, "email": OTHER_OFFICER},
        )
        stored = await session.get(Case, case.id)
        assert stored is not None
        await retention.shred_case(session, runtime, stored, today=runtime.today(), actor="cli")

    kinds = [event["kind"] for event in await _api_events(officer, case=case.ref)]
    assert kinds == ["case.purged", "case.view"]
    other = await sign_in(seeded, client, OTHER_OFFICER)
    assert await _api_events(other, case=case.ref) == []
    assert case.ref not in (await other.get("/staff/audit")).text


async def test_the_audit_page_and_the_case_history_in_french(
    client: httpx.AsyncClient, seeded: Instance
) -> None:
    _, case = await casefactory.file_report(seeded.runtime)
    officer = await sign_in(seeded, client, OFFICER)
    assert (await officer.get(f"/api/v1/cases/{case.ref}")).status_code == 200

    page = await officer.get("/staff/audit", {"lang": "fr-CA"})
    assert page.status_code == 200 and page.headers["content-language"] == "fr-CA"
    assert "Journal d’audit" in page.text or "Journal d'audit" in page.text
    assert "A ouvert le dossier" in page.text and "Opened the case" not in page.text
    case_page = await officer.get(f"/staff/cases/{case.ref}", {"lang": "fr-CA"})
    assert "A ouvert le dossier" in case_page.text
    refused = await officer.get("/staff/audit", {"lang": "fr-CA", "since": "hier"})
    assert refused.status_code == 422 and "AAAA-MM-JJ" in refused.text


def _cli(made: Instance, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """``quietline`` as the operator runs it, on this instance's data directory and database."""
    url = None if made.settings.is_sqlite else made.settings.database_url
    return subprocess.run(
        [sys.executable, "-m", "intake.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, **quietline_environ(made.settings.data_dir, url)},
    )


async def test_the_operator_lists_every_event_with_references_and_no_content(
    client: httpx.AsyncClient, seeded: Instance, tmp_path: Path
) -> None:
    _, plain = await casefactory.file_report(seeded.runtime, body="The plain report's words.")
    _, hidden = await casefactory.file_report(
        seeded.runtime, body="The office report's words.", involves_office=True
    )
    officer = await sign_in(seeded, client, OFFICER)
    alternate = await sign_in(seeded, client, ALTERNATE)
    assert (await officer.get(f"/api/v1/cases/{plain.ref}")).status_code == 200
    assert (await alternate.get(f"/api/v1/cases/{hidden.ref}")).status_code == 200

    listed = _cli(seeded, "audit", "list", "--format", "json")
    assert listed.returncode == 0, listed.stderr
    events = json.loads(listed.stdout)["events"]
    assert {event["case"] for event in events} >= {plain.ref, hidden.ref}
    assert all(isinstance(event["seq"], int) for event in events)
    assert "words" not in listed.stdout

    one_case = _cli(seeded, "audit", "list", "--case", hidden.ref, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(one_case.stdout)))
    assert [(row["actor"], row["kind"], row["case"]) for row in rows] == [
        (ALTERNATE, "case.view", hidden.ref)
    ]
    text_lines = _cli(seeded, "audit", "list", "--actor", OFFICER, "--kind", "staff.sign_in")
    assert text_lines.returncode == 0
    assert "Signed in" in text_lines.stdout and ALTERNATE not in text_lines.stdout
    refused = _cli(seeded, "audit", "list", "--since", "2026-13-01")
    assert refused.returncode != 0 and "YYYY-MM-DD" in refused.stderr
    assert "Traceback" not in refused.stderr

    # Accounts made and disabled from the command line, and backups, are events too.
    added = _cli(
        seeded, "staff", "add", "--email", "clerk@example.org", "--name", "Clerk",
        "--role", "officer", "--password-stdin", stdin="a long enough password\n",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert _cli(seeded, "staff", "disable", "--email", "clerk@example.org").returncode == 0
    backed_up = _cli(seeded, "backup", "--out", str(tmp_path / "backup.tar"), "--plain")
    assert backed_up.returncode == 0, backed_up.stderr
    accounts = _cli(seeded, "audit", "list", "--kind", "admin.staff")
    assert "Added the staff account clerk@example.org (Intake officer" in accounts.stdout
    assert "Disabled the staff account clerk@example.org" in accounts.stdout
    backups = _cli(seeded, "audit", "list", "--kind", "backup", "--format", "json")
    [backup] = json.loads(backups.stdout)["events"]
    assert backup["actor"] == "cli" and backup["description"] == "Made a backup of the instance"
    # The office's administrator reads the backup on the audit page; the chain still verifies.
    admin = await sign_in(seeded, client, ADMIN)
    assert "Made a backup of the instance" in (await admin.get("/staff/audit")).text
    assert _cli(seeded, "audit", "verify").returncode == 0


async def test_sign_ins_failures_and_password_changes_are_read_without_what_was_typed(
    client: httpx.AsyncClient, seeded: Instance
) -> None:
    wrong = await login(seeded, client, OFFICER, password="Tr0ub4dor&3-wrong")
    assert wrong.status_code == 401
    nobody = await login(seeded, client, "nobody@example.org", totp="918273")
    assert nobody.status_code == 401
    officer = await sign_in(seeded, client, OFFICER)
    changed = await officer.post(
        "/api/v1/staff/password", {"current": seeded.staff_passwords[OFFICER], "new": "n" * 16}
    )
    assert changed.status_code == 200, changed.text

    admin = await sign_in(seeded, client, ADMIN)
    events = await _api_events(admin)
    described = [(event["actor"], event["description"]) for event in events]
    assert (OFFICER, "A sign-in failed (wrong password)") in described
    assert ("unknown", "A sign-in failed (unknown or disabled account)") in described
    assert (OFFICER, "Signed in") in described and (OFFICER, "Changed their password") in described
    page = await admin.get("/staff/audit", {"kind": "staff.sign_in_failed"})
    assert "an unknown account" in page.text and "nobody@example.org" not in page.text
    listed = _cli(seeded, "audit", "list", "--format", "json").stdout
    for typed in ("Tr0ub4dor", "nobody@example.org", "918273", "n" * 16):
        assert typed not in listed and typed not in json.dumps(events)
