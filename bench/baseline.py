"""The baseline: a bare Starlette app that inserts one SQLite row per POST.

It is what "close to the bare framework" is measured against: the same
framework, server, driver and SQLite settings as Quietline (WAL,
synchronous=FULL, one commit per report), and nothing else: no validation
beyond JSON, no encryption, no sealing, no routing.

    python -m bench.baseline --db /tmp/base.db --port 8001
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiosqlite
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

SCHEMA = "CREATE TABLE IF NOT EXISTS report (token TEXT PRIMARY KEY, category TEXT, body TEXT)"


async def _connect(path: Path) -> aiosqlite.Connection:
    connection = await aiosqlite.connect(path, isolation_level=None)
    await connection.execute("PRAGMA journal_mode=WAL")
    await connection.execute("PRAGMA synchronous=FULL")
    await connection.execute("PRAGMA busy_timeout=10000")
    return connection


def create_app(path: Path) -> Starlette:
    state: dict[str, aiosqlite.Connection] = {}
    write_lock = asyncio.Lock()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        state["writer"] = await _connect(path)
        await state["writer"].execute(SCHEMA)
        state["reader"] = await _connect(path)
        try:
            yield
        finally:
            await state["reader"].close()
            await state["writer"].close()

    async def submit(request: Request) -> Response:
        report = await request.json()
        token = secrets.token_urlsafe(16)
        async with write_lock:
            await state["writer"].execute(
                "INSERT INTO report (token, category, body) VALUES (?, ?, ?)",
                (token, report["category"], report["body"]),
            )
        return JSONResponse({"token": token}, status_code=201)

    async def status(request: Request) -> Response:
        query = await request.json()
        cursor = await state["reader"].execute(
            "SELECT category, length(body) FROM report WHERE token = ?", (query["token"],)
        )
        row = await cursor.fetchone()
        await cursor.close()
        if row is None:
            return JSONResponse({"error": "unknown"}, status_code=404)
        return JSONResponse({"category": row[0], "chars": row[1]})

    return Starlette(
        routes=[
            Route("/api/v1/reports", submit, methods=["POST"]),
            Route("/api/v1/reports/status", status, methods=["POST"]),
            Route("/", lambda request: JSONResponse({"ok": True}), methods=["GET"]),
        ],
        lifespan=lifespan,
    )


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    # The same server options as `quietline serve`.
    uvicorn.run(
        create_app(args.db),
        host=args.host,
        port=args.port,
        access_log=False,
        proxy_headers=False,
        server_header=False,
        log_level="warning",
        timeout_keep_alive=5,
        http="h11",
        h11_max_incomplete_event_size=16 * 1024,
    )


if __name__ == "__main__":
    main()
