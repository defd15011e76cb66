"""What the recipient directory costs a report: a full verification against the cached state.

Every report reads the directory's newest entry in the statement filing makes anyway, and uses
the state verified in memory while that entry is unchanged (``directory.state_at``); only a new
entry, or a process start, replays the chain and checks every signature. This measures both on
a directory the size of a city office (two groups, 60 members, each signed by the root), on
SQLite, in-process.

    python -m bench.directory [--members 60] [--repeat 200]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import crypto
from intake.accounts import directory, instance
from intake.accounts.directory_rules import ROOT, Member, member_body
from intake.config import load_settings
from intake.runtime import Runtime, open_runtime
from intake.storage import db

TARGET = "recipient directory: a report's cached read < 2% of a full verification"


async def seed(
    data_dir: Path, members: int, database_url: str | None = None
) -> tuple[Runtime, bytes]:
    """An instance whose directory holds ``members`` officers, each entry signed by the root;
    the open runtime and the root's public key."""
    settings = load_settings(environ_of(data_dir, database_url))
    instance.prepare(settings)
    runtime = open_runtime(settings)
    await instance.initialise(runtime)
    ceremony = await instance.install_demo_ceremony(runtime)
    root = instance.root_of(ceremony)
    groups = [settings.default_group, settings.alternate_group]
    for number in range(members):
        member = Member(
            staff_id=f"{number:032x}",
            group=groups[number % 2],
            role="officer",
            active=True,
            label=f"Person {number}",
            encryption_public=crypto.generate_keypair().public,
            signing_public=crypto.generate_signing_keypair().public,
        )
        async with db.transaction(runtime.sessions) as session:
            change = await directory.propose(
                session,
                root_public=ceremony.root.public,
                kind="member",
                body=member_body(member),
                proposer=ROOT,
            )
            await directory.approve(
                session,
                change.id,
                root_public=ceremony.root.public,
                signer=ROOT,
                signing_private=root,
            )
    return runtime, ceremony.root.public


def environ_of(data_dir: Path, database_url: str | None = None) -> dict[str, str]:
    environ = {"QUIETLINE_DATA_DIR": str(data_dir), "QUIETLINE_DEV": "1"}
    if database_url:
        environ["QUIETLINE_DATABASE_URL"] = database_url
    return environ


async def measure(members: int, repeat: int) -> tuple[float, float]:
    """Median seconds of a full verification and of a cached read."""
    with tempfile.TemporaryDirectory() as folder:
        runtime, root_public = await seed(Path(folder) / "data", members)
        try:
            full, cached = [], []
            async with runtime.sessions() as session:
                state = await directory.verified_state(session, root_public=root_public)
                for _ in range(repeat):
                    started = time.perf_counter()
                    await directory.verify_all(session, root_public=root_public)
                    full.append(time.perf_counter() - started)
                    started = time.perf_counter()
                    await directory.state_at(
                        session,
                        root_public=root_public,
                        count=state.count,
                        head_previous=state.head_previous,
                    )
                    cached.append(time.perf_counter() - started)
        finally:
            await runtime.close()
    return statistics.median(full), statistics.median(cached)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    full, cached = asyncio.run(measure(args.members, args.repeat))
    print(
        f"directory of {args.members} members: full verification median {1000 * full:.2f} ms, "
        f"cached read median {1e6 * cached:.1f} us ({100 * cached / full:.2f}%)"
    )


if __name__ == "__main__":
    main()
