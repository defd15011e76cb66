"""Attachments end to end: uploaded through the API and the form, stored encrypted, cleaned,
and read back by staff with their own private key, on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import dataclasses
import io
import json
import os
import socket
import sqlite3
import subprocess
import zipfile
from collections.abc import AsyncIterator

import httpx
import pikepdf
import pytest
import sqlalchemy
from PIL import Image
from sqlmodel import select

import crypto
from intake.accounts.keyring import CASE_KEY_PURPOSE
from intake.attachments import embedding, store
from intake.storage.models import (
    Attachment,
    AttachmentChunk,
    AuditEvent,
    Case,
    CaseKey,
    Entry,
    Staff,
)
from intake.web.app import create_app
from tests.support import attachment_files as files
from tests.support import reports
from tests.support.instance import Instance, quietline_environ
from tests.support.live import LiveServer, bytes_written_under, free_port
from tests.support.staffing import StaffClient, sign_in

REPORT = {"category": "financial", "body": "The contract was signed without a vote."}
OFFICER = "officer1@example.org"


async def staff_case(seeded: Instance, token: str, email: str = OFFICER) -> tuple[Case, bytes]:
    """The case and its data key, opened the way staff do: with their private key."""
    runtime = seeded.runtime
    lookup = crypto.token_lookup_key(runtime.secrets.token_pepper, crypto.normalise_token(token))
    async with runtime.sessions() as session:
        case = (await session.exec(select(Case).where(Case.lookup == lookup))).one()
        staff = (await session.exec(select(Staff).where(Staff.email == email))).one()
        sealed = (
            await session.exec(
                select(CaseKey).where(CaseKey.case_id == case.id, CaseKey.staff_id == staff.id)
            )
        ).one()
    data_key = crypto.unseal(
        sealed.sealed, seeded.staff_private[email], case_id=case.id, purpose=CASE_KEY_PURPOSE
    )
    return case, data_key


async def staff_files(
    seeded: Instance, token: str
) -> dict[str, tuple[store.StoredAttachment, bytes]]:
    case, data_key = await staff_case(seeded, token)
    async with seeded.runtime.sessions() as session:
        listed = await store.list_for_case(session, case.id, crypto.KeyEpochs.first(data_key))
    downloaded = {}
    for item in listed:
        content = b"".join(
            [piece async for piece in store.plaintext(seeded.runtime.sessions, item, data_key)]
        )
        downloaded[item.name] = (item, content)
    return downloaded


async def staff_downloads(officer: StaffClient, ref: str) -> dict[str, tuple[dict, httpx.Response]]:
    """What the staff case view lists, each downloaded through its URL."""
    case = await officer.get(f"/api/v1/cases/{ref}")
    assert case.status_code == 200, case.text
    return {
        item["name"]: (item, await officer.get(item["url"])) for item in case.json()["attachments"]
    }


def multipart_report(uploads: list[tuple[str, bytes, str]], report: dict | None = None) -> dict:
    return {
        "files": [("report", (None, json.dumps(report or REPORT), "application/json"))]
        + [("files", upload) for upload in uploads]
    }


async def test_metadata_is_gone_and_content_survives_for_staff(
    client: httpx.AsyncClient, seeded: Instance
) -> None:
    uploads = [
        ("IMG_2041 at the depot.jpg", files.jpeg_with_exif_gps(), "image/jpeg"),
        ("minutes.pdf", files.pdf_with_author(), "application/pdf"),
        ("notes.docx", files.docx_with_author(), "application/octet-stream"),
        ("ledger.csv", b"date,amount\n2025-01-02,1000\n", "text/csv"),
    ]
    answer = await client.post("/api/v1/reports", **multipart_report(uploads))
    assert answer.status_code == 201, answer.text
    told = {item["name"]: item for item in answer.json()["attachments"]}
    assert told["IMG_2041 at the depot.jpg"]["cleaned"] is True
    assert any("GPS" in what for what in told["IMG_2041 at the depot.jpg"]["removed"])
    assert told["minutes.pdf"]["cleaned"] and told["notes.docx"]["cleaned"]
    assert told["ledger.csv"]["cleaned"] is False and told["ledger.csv"]["advice"]

    case, _ = await staff_case(seeded, answer.json()["token"])
    officer = await sign_in(seeded, client, OFFICER)
    downloads = await staff_downloads(officer, case.ref)
    assert set(downloads) == set(told)
    stored = {}
    for name, (item, response) in downloads.items():
        assert response.status_code == 200
        assert set(item) == {"id", "name", "size", "cleaned", "url"}
        assert response.headers["content-type"] == "application/octet-stream"
        assert response.headers["content-disposition"].startswith("attachment;")
        assert "filename*=UTF-8''" in response.headers["content-disposition"]
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["cache-control"] == "no-store"
        assert item["size"] == len(response.content)
        stored[name] = (item, response.content)
    for _, content in stored.values():
        for needle in (files.AUTHOR, files.CAMERA_MAKE, files.CAMERA_MODEL):
            assert needle.encode() not in content
    photo = stored["IMG_2041 at the depot.jpg"][1]
    with Image.open(io.BytesIO(photo)) as image:
        assert image.size == (64, 48) and not image.getexif()
    with pikepdf.open(io.BytesIO(stored["minutes.pdf"][1])) as pdf:
        assert "/Author" not in pdf.docinfo
        assert files.PDF_TEXT.encode() in pdf.pages[0].Contents.read_bytes()
    with zipfile.ZipFile(io.BytesIO(stored["notes.docx"][1])) as docx:
        assert files.DOCX_TEXT.encode() in docx.read("word/document.xml")
        assert files.AUTHOR.encode() not in docx.read("docProps/core.xml")
    assert stored["ledger.csv"][1] == uploads[3][1]
    assert stored["notes.docx"][0]["cleaned"] and not stored["ledger.csv"][0]["cleaned"]
    assert stored["IMG_2041 at the depot.jpg"][0]["cleaned"]
    async with seeded.runtime.sessions() as session:
        events = (
            await session.exec(select(AuditEvent).where(AuditEvent.action == "attachment.download"))
        ).all()
    assert len(events) == 4 and {event.case_ref for event in events} == {case.ref}
    assert {json.loads(event.detail)["attachment"] for event in events} == {
        item["id"] for item, _ in stored.values()
    }


async def test_only_key_holders_download_and_names_are_safe(
    client: httpx.AsyncClient, seeded: Instance
) -> None:
    name = 'Rapport "final" été\\..\\x.pdf'
    answer = await client.post(
        "/api/v1/reports",
        **multipart_report([(name, b"plain bytes", "application/pdf")]),
    )
    case, _ = await staff_case(seeded, answer.json()["token"])
    officer = await sign_in(seeded, client, OFFICER)
    (item, response) = (await staff_downloads(officer, case.ref))["x.pdf"]
    assert response.content == b"plain bytes"
    disposition = response.headers["content-disposition"]
    assert disposition == "attachment; filename=\"x.pdf\"; filename*=UTF-8''x.pdf"
    outsider = await sign_in(seeded, client, "alternate@example.org")
    refused = await outsider.get(item["url"])
    assert refused.status_code == 404 and b"plain bytes" not in refused.content
    anonymous = await client.get(item["url"])
    assert anonymous.status_code == 401
    missing = await officer.get(f"/api/v1/cases/{case.ref}/attachments/{'0' * 32}")
    assert missing.status_code == 404
    page = await officer.http.get(f"/staff/cases/{case.ref}", headers=officer.headers)
    assert "x.pdf" in page.text and f"/staff/cases/{case.ref}/attachments/{item['id']}" in page.text
    from_page = await officer.http.get(
        f"/staff/cases/{case.ref}/attachments/{item['id']}", headers=officer.headers
    )
    assert from_page.content == b"plain bytes"


async def test_follow_up_message_carries_files(client: httpx.AsyncClient, seeded: Instance):
    filed = await client.post("/api/v1/reports", json=REPORT)
    token = filed.json()["token"]
    photo = files.png_with_text()
    sent = await client.post(
        "/api/v1/reports/messages",
        files=[
            (
                "message",
                (None, json.dumps({"token": token, "body": "A photo"}), "application/json"),
            ),
            ("files", ("photo.png", photo, "image/png")),
        ],
    )
    assert sent.status_code == 201, sent.text
    assert sent.json()["attachments"][0]["cleaned"] is True
    stored = await staff_files(seeded, token)
    assert list(stored) == ["photo.png"]
    assert files.AUTHOR.encode() not in stored["photo.png"][1]
    case, _ = await staff_case(seeded, token)
    async with seeded.runtime.sessions() as session:
        attachment = (await session.exec(select(Attachment))).one()
        entry = await session.get(Entry, attachment.entry_id)
    assert entry is not None and entry.kind == "message" and entry.case_id == case.id


async def test_malformed_files_are_kept_as_uploaded_and_flagged(
    client: httpx.AsyncClient, seeded: Instance
) -> None:
    broken = {
        "cut.jpg": files.jpeg_with_exif_gps()[:700],
        "fake.pdf": b"%PDF-1.4 not really a pdf " + os.urandom(300),
        "notapdf.pdf": b"hello, I am plain text",
        "bomb.docx": files.zip_bomb_docx(),
    }
    uploads = [(name, data, "application/octet-stream") for name, data in broken.items()]
    answer = await client.post("/api/v1/reports", **multipart_report(uploads))
    assert answer.status_code == 201, answer.text
    for item in answer.json()["attachments"]:
        assert item["cleaned"] is False and item["problem"], item
    stored = await staff_files(seeded, answer.json()["token"])
    assert {name: content for name, (_, content) in stored.items()} == broken
    assert all(not item.cleaned for item, _ in stored.values())


async def test_a_file_over_the_limit_is_refused_and_nothing_is_stored(
    seeded: Instance,
) -> None:
    settings = dataclasses.replace(
        seeded.settings, attachment_max_file_bytes=200_000, attachment_max_total_bytes=300_000
    )
    app = create_app(settings, runtime=dataclasses.replace(seeded.runtime, settings=settings))
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client,
    ):
        too_big = [("big.bin", os.urandom(200_001), "application/octet-stream")]
        answer = await client.post("/api/v1/reports", **multipart_report(too_big))
        assert answer.status_code == 413
        assert "big.bin" in answer.json()["error"] and "per file" in answer.json()["error"]
        together = [
            (f"part{n}.bin", os.urandom(150_000), "application/octet-stream") for n in range(3)
        ]
        answer = await client.post("/api/v1/reports", **multipart_report(together))
        assert answer.status_code == 413 and "all the files" in answer.json()["error"]
        many = [(f"f{n}.txt", b"x", "text/plain") for n in range(11)]
        answer = await client.post("/api/v1/reports", **multipart_report(many))
        assert answer.status_code == 413 and "at most 10 files" in answer.json()["error"]
    async with seeded.runtime.sessions() as session:
        assert (await session.exec(select(Case))).all() == []
        assert (await session.exec(select(Attachment))).all() == []
        assert (await session.exec(select(AttachmentChunk))).all() == []
    assert not any((settings.data_dir / "staging").iterdir())


async def test_a_bad_report_with_files_stores_neither(client: httpx.AsyncClient, seeded: Instance):
    uploads = [("a.jpg", files.jpeg_with_exif_gps(), "image/jpeg")]
    answer = await client.post(
        "/api/v1/reports", **multipart_report(uploads, {"category": "nope", "body": "x"})
    )
    assert answer.status_code == 422
    answer = await client.post("/api/v1/reports", files=[("files", uploads[0])])
    assert answer.status_code == 400 and "report" in answer.json()["error"]
    async with seeded.runtime.sessions() as session:
        assert (await session.exec(select(Case))).all() == []
        assert (await session.exec(select(AttachmentChunk))).all() == []


async def test_no_javascript_form_sends_files_and_shows_what_was_cleaned(
    client: httpx.AsyncClient, seeded: Instance
) -> None:
    page = await reports.questions_page(client, "safety")
    assert 'enctype="multipart/form-data"' in page.text and 'type="file"' in page.text
    answer = await client.post(
        "/report",
        data={"category": "safety", "body": "Photos of the leaking tank."},
        files=[
            ("files", ("tank.jpg", files.jpeg_with_exif_gps(), "image/jpeg")),
            ("files", ("notes.txt", b"some notes", "text/plain")),
            ("files", ("", b"", "application/octet-stream")),  # an empty file input
        ],
    )
    assert answer.status_code == 201, answer.text
    assert "tank.jpg" in answer.text and "GPS" in answer.text
    assert "notes.txt" in answer.text
    token = answer.text.split('class="token-copy" type="text" readonly value="')[1].split('"')[0]
    stored = await staff_files(seeded, token)
    assert set(stored) == {"tank.jpg", "notes.txt"}
    status = await client.post(
        "/status/message",
        data={"token": token, "body": "One more"},
        files=[("files", ("more.png", files.png_with_text(), "image/png"))],
    )
    assert status.status_code == 200 and "more.png" in status.text
    assert set(await staff_files(seeded, token)) == {"tank.jpg", "notes.txt", "more.png"}


async def test_stored_attachment_fails_to_open_if_its_chunks_are_swapped(
    client: httpx.AsyncClient, seeded: Instance
) -> None:
    big = os.urandom(3 * store.ROW_BYTES // 2)
    answer = await client.post(
        "/api/v1/reports", **multipart_report([("big.bin", big, "application/octet-stream")])
    )
    token = answer.json()["token"]
    assert (await staff_files(seeded, token))["big.bin"][1] == big
    case, data_key = await staff_case(seeded, token)
    async with seeded.runtime.sessions() as session, session.begin():
        rows = (await session.exec(select(AttachmentChunk).order_by(AttachmentChunk.seq))).all()
        assert len(rows) == 2
        rows[0].data, rows[1].data = rows[1].data, rows[0].data
    try:
        await staff_files(seeded, token)
    except crypto.DecryptionError:
        pass
    else:
        raise AssertionError("swapped chunks opened")


async def test_delete_for_case_removes_every_file(client: httpx.AsyncClient, seeded: Instance):
    uploads = [("a.bin", os.urandom(1000), "application/octet-stream")] * 2
    token = (await client.post("/api/v1/reports", **multipart_report(uploads))).json()["token"]
    kept = (await client.post("/api/v1/reports", **multipart_report(uploads[:1]))).json()["token"]
    case, _ = await staff_case(seeded, token)
    async with seeded.runtime.sessions() as session, session.begin():
        assert await store.delete_for_case(session, case.id) == 2
    async with seeded.runtime.sessions() as session:
        assert len((await session.exec(select(Attachment))).all()) == 1
        assert len((await session.exec(select(AttachmentChunk))).all()) == 1
    assert list(await staff_files(seeded, kept)) == ["a.bin"]


async def test_data_directory_and_database_hold_no_plaintext_of_files_or_names(
    client: httpx.AsyncClient, seeded: Instance
) -> None:
    name = "Evidence-Secret-Name-7c1e.pdf"
    head = b"%PDF-1.4\n% UNIQUE-HEAD-" + os.urandom(8).hex().encode() + b"-" * 24
    content = head[:64] + os.urandom(200_000)
    photo = files.jpeg_with_exif_gps()
    answer = await client.post(
        "/api/v1/reports",
        **multipart_report(
            [(name, content, "application/pdf"), ("Photo-Name-91b2.jpg", photo, "image/jpeg")]
        ),
    )
    assert answer.status_code == 201
    written = bytes_written_under(seeded.settings.data_dir)
    if not seeded.settings.is_sqlite:
        dsn = seeded.settings.database_url.replace("postgresql+asyncpg://", "postgresql://", 1)
        dump = subprocess.run(  # noqa: ASYNC221 - a test reading what was stored
            ["pg_dump", "--data-only", dsn], capture_output=True, check=True
        )
        assert b"COPY public.attachmentchunk" in dump.stdout
        written += dump.stdout
    else:
        assert (seeded.settings.data_dir / "quietline.db").exists()
    for start in range(0, 64 - 16, 8):
        assert content[start : start + 16] not in written
    assert content[:64] not in written
    for needle in (name, "Evidence-Secret", "Photo-Name-91b2"):
        assert needle.encode() not in written and needle.encode("utf-16-le") not in written
    # Nor the body of the cleaned photo as stored (everything after its first segments).
    assert photo[-64:] not in written


def _read_response(sock: socket.socket, received: bytes) -> bytes:
    """The whole response (headers and a Content-Length body), from what arrived so far."""
    sock.settimeout(30)
    while True:
        head, _, body = received.partition(b"\r\n\r\n")
        length = next(
            (
                int(line.split(b":")[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            ),
            None,
        )
        if length is not None and len(body) >= length:
            return received
        piece = sock.recv(65536)
        if not piece:
            return received
        received += piece


def test_a_live_server_refuses_an_oversized_upload_before_reading_the_rest(tmp_path) -> None:
    environ = {
        **quietline_environ(tmp_path / "data"),
        "QUIETLINE_ATTACHMENT_MAX_FILE_BYTES": "1000000",
    }
    server = LiveServer(data_dir=tmp_path / "data", port=free_port(), environ=environ)
    assert server.command("demo").returncode == 0
    server.start()
    try:
        head = (
            f'--B\r\nContent-Disposition: form-data; name="report"\r\n\r\n{json.dumps(REPORT)}'
            '\r\n--B\r\nContent-Disposition: form-data; name="files"; filename="big.bin"\r\n'
            "\r\n"
        ).encode()
        request = (
            b"POST /api/v1/reports HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: multipart/form-data; boundary=B\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        sent = 0
        with socket.create_connection(("127.0.0.1", server.port)) as sock:
            sock.sendall(request + f"{len(head):x}\r\n".encode() + head + b"\r\n")
            piece = os.urandom(64 * 1024)
            answer = b""
            # Send up to 20 MB; the server must answer long before the end.
            while sent < 20_000_000:
                try:
                    sock.sendall(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                except OSError:
                    break
                sent += len(piece)
                sock.settimeout(0.01)
                try:
                    answer = sock.recv(65536)
                except (TimeoutError, BlockingIOError):
                    continue
                if answer:
                    break
            answer = _read_response(sock, answer)
        assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
        assert sent < 5_000_000
        assert b"big.bin" in answer and b"per file" in answer
    finally:
        server.stop()
    connection = sqlite3.connect(tmp_path / "data" / "quietline.db")
    try:
        assert connection.execute('SELECT count(*) FROM "case"').fetchone()[0] == 0
        assert connection.execute("SELECT count(*) FROM attachmentchunk").fetchone()[0] == 0
    finally:
        connection.close()


@pytest.mark.parametrize("sizes", [(), (0,), (1,), (2, 2), (5, 1, 7, 3), (65_536, 65_537, 1)])
async def test_base64_in_pieces_is_the_base64_of_the_whole(sizes: tuple[int, ...]) -> None:
    pieces = [os.urandom(size) for size in sizes]

    async def stream() -> AsyncIterator[bytes]:
        for piece in pieces:
            yield piece

    encoded = [text async for text in embedding.base64_pieces(stream())]
    assert "".join(encoded) == base64.b64encode(b"".join(pieces)).decode("ascii")
    assert all(not text.endswith("=") for text in encoded[:-1])


async def test_a_files_part_that_is_not_a_file_is_refused(
    client: httpx.AsyncClient, seeded: Instance
) -> None:
    """The document says `files` are files: a text part of that name is refused, not ignored."""
    answer = await client.post(
        "/api/v1/reports",
        files=[
            ("report", (None, json.dumps(REPORT), "application/json")),
            ("files", (None, "false")),
        ],
    )
    assert answer.status_code == 400, answer.text
    async with seeded.runtime.engine.connect() as connection:
        assert (
            await connection.execute(sqlalchemy.text('SELECT count(*) FROM "case"'))
        ).scalar() == 0
