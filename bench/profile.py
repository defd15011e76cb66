"""Where a Quietline server spends its time under one load: py-spy samples the server process.

    python -m bench.profile submit|status [--seconds 10] [--concurrency 8] [--top 40] [--gil]
        [--postgres]

Needs ``py-spy`` (``pip install py-spy``; it reads the process's memory, so
it needs ptrace rights: root, or kernel.yama.ptrace_scope=0). Prints the
functions holding the most samples, inclusive and self, and keeps the
collapsed stacks for a flame graph.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

from bench import pg
from bench.driver import drive
from bench.run import report_request, status_request
from bench.seed import seed_instance
from bench.servers import quietline_server


def summarise(collapsed: Path, top: int) -> str:
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        total += count
        frames = stack.split(";")
        for frame in set(frames):
            inclusive[frame] += count
        own[frames[-1]] += count
    lines = [f"{total} samples", "", "inclusive:"]
    lines += [f"{100 * n / total:5.1f}%  {frame}" for frame, n in inclusive.most_common(top)]
    lines += ["", "self:"]
    lines += [f"{100 * n / total:5.1f}%  {frame}" for frame, n in own.most_common(top)]
    return "\n".join(lines)


def find_py_spy() -> str | None:
    """py-spy on PATH, or beside this interpreter (a virtualenv not activated)."""
    beside = Path(sys.executable).parent / "py-spy"
    return shutil.which("py-spy") or (str(beside) if beside.exists() else None)


async def profile(args: argparse.Namespace, workdir: Path, py_spy: str) -> Path:
    database_url = await pg.create_database() if args.postgres else None
    seeded = await seed_instance(workdir / "data", database_url)
    server = quietline_server("quietline", workdir / "data", seeded.environ, workdir)
    server.start()
    tokens: list[str] = []
    try:
        await drive(
            server.url,
            report_request,
            concurrency=8,
            max_requests=200,
            max_seconds=30,
            expect_status=201,
            on_answer=lambda _i, answer: tokens.append(answer.json()["token"]),
        )
        output = workdir / "profile.collapsed"
        spy = subprocess.Popen(  # noqa: ASYNC220 - starts at once, waited for below
            [
                py_spy,
                "record",
                "--pid",
                str(server.pid),
                "--duration",
                str(int(args.seconds)),
                "--rate",
                "200",
                "--format",
                "raw",
                "--threads",
                *(["--gil"] if args.gil else []),
                "--output",
                str(output),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        await asyncio.sleep(1)
        if args.scenario == "submit":
            factory, status = report_request, 201
        else:
            factory, status = status_request(tokens), 200
        load = await drive(
            server.url,
            factory,
            concurrency=args.concurrency,
            max_requests=100_000,
            max_seconds=args.seconds - 2,
            expect_status=status,
        )
        print(f"{load.throughput:.0f}/s, p50 {1000 * load.median:.1f} ms", file=sys.stderr)
        spy.wait(timeout=args.seconds + 30)
    finally:
        server.stop()
        if database_url is not None:
            await pg.drop_database(database_url)
    return output


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("scenario", choices=["submit", "status"])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument(
        "--gil", action="store_true", help="only samples holding the GIL (Python CPU time)"
    )
    parser.add_argument(
        "--postgres", action="store_true", help="serve from a fresh PostgreSQL database"
    )
    parser.add_argument("--out", help="copy the collapsed stacks here")
    args = parser.parse_args()
    py_spy = find_py_spy()
    if py_spy is None:
        print("py-spy is not installed: pip install -e '.[bench]'", file=sys.stderr)
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="quietline-profile-"))
    try:
        collapsed = asyncio.run(profile(args, workdir, py_spy))
        print(summarise(collapsed, args.top))
        if args.out:
            shutil.copy(collapsed, args.out)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
