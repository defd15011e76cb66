"""The storage budget of reporters' files holds across two ``quietline serve`` processes on one
PostgreSQL database: uploads sent to both at once store no more than the hourly budget, and
the rest are refused with 507, while a report without files still goes through."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import secrets
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import asyncpg
import httpx

from tests.support.instance import quietline_environ
from tests.support.live import LiveServer, free_port

BUDGET = 1_000_000
FILE_BYTES = 300_000
REPORT = {"category": "financial", "body": "The fuel cards were shared."}


def _secret() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")


def _upload(url: str) -> int:
    answer = httpx.post(
        f"{url}/api/v1/reports",
        files=[
            ("report", (None, json.dumps(REPORT), "application/json")),
            ("files", ("scan.bin", os.urandom(FILE_BYTES), "application/octet-stream")),
        ],
        timeout=120,
    )
    assert answer.status_code in (201, 507), answer.text
    return answer.status_code


async def _stored(url: str) -> tuple[int, int]:
    connection = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://", 1))
    try:
        files = await connection.fetchval("SELECT coalesce(sum(stored_bytes), 0) FROM attachment")
        hour = await connection.fetchval("SELECT coalesce(sum(stored_bytes), 0) FROM uploadhour")
    finally:
        await connection.close()
    return int(files), int(hour)


def test_two_processes_together_keep_to_the_hourly_budget(tmp_path: Path, pg_database: str) -> None:
    shared = {
        "QUIETLINE_SECRET_KEY": _secret(),
        "QUIETLINE_TOKEN_PEPPER": _secret(),
        "QUIETLINE_ATTACHMENT_BUDGET_HOUR_BYTES": str(BUDGET),
        "QUIETLINE_ATTACHMENT_MIN_FREE_BYTES": "0",
    }
    servers = [
        LiveServer(
            data_dir=tmp_path / name,
            port=free_port(),
            environ={**quietline_environ(tmp_path / name, pg_database), **shared},
        )
        for name in ("a", "b")
    ]
    seeded = servers[0].command("demo")
    assert seeded.returncode == 0, seeded.stderr
    servers[1].pin_root_of(servers[0])
    try:
        for server in servers:
            server.start()
        urls = [server.url for server in servers] * 5
        with ThreadPoolExecutor(max_workers=len(urls)) as pool:
            statuses = list(pool.map(_upload, urls))
        text_only = httpx.post(f"{servers[1].url}/api/v1/reports", json=REPORT, timeout=60)
        assert text_only.status_code == 201, text_only.text
    finally:
        for server in servers:
            server.stop()
    files, hour = asyncio.run(_stored(pg_database))
    assert statuses.count(201) == BUDGET // (FILE_BYTES + 1000), statuses
    assert files == hour <= BUDGET
