"""The load driver: asyncio + httpx, bounded in request count and in time, loopback only.

Every benchmark, Quietline's and the baseline's, goes through :func:`drive`, so
both sides pay the same client cost. Each of ``concurrency`` workers sends one
request at a time over its own keep-alive connection until the request budget
or the time budget is spent, whichever comes first.
"""

from __future__ import annotations

import asyncio
import ipaddress
import statistics
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

LOOPBACK_NAMES = {"localhost"}


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    json: Any = None
    content: bytes | None = None
    headers: dict[str, str] | None = None


#: Builds the n-th request of a run (n counts from 0 across all workers).
RequestFactory = Callable[[int], Request]
#: Looks at a successful answer (e.g. to keep the token it returned).
AnswerHook = Callable[[int, httpx.Response], None]


@dataclass
class LoadResult:
    """What one bounded run measured from the client side."""

    concurrency: int
    latencies: list[float] = field(default_factory=list)  # seconds, successful requests only
    errors: Counter[str] = field(default_factory=Counter)  # "HTTP 500", "ReadTimeout", ...
    elapsed: float = 0.0

    @property
    def ok(self) -> int:
        return len(self.latencies)

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    @property
    def throughput(self) -> float:
        """Successful requests per second of wall time."""
        return self.ok / self.elapsed if self.elapsed > 0 else 0.0

    def percentile(self, fraction: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        index = min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))
        return ordered[index]

    @property
    def median(self) -> float:
        return statistics.median(self.latencies) if self.latencies else float("nan")

    @property
    def p99(self) -> float:
        return self.percentile(0.99)


def require_loopback(base_url: str) -> None:
    """Refuse to send load anywhere but this machine."""
    host = urlsplit(base_url).hostname or ""
    if host in LOOPBACK_NAMES:
        return
    try:
        if ipaddress.ip_address(host).is_loopback:
            return
    except ValueError:
        pass
    raise ValueError(f"the load driver only targets loopback addresses, not {host!r}")


async def drive(
    base_url: str,
    make_request: RequestFactory,
    *,
    concurrency: int,
    max_requests: int,
    max_seconds: float,
    expect_status: int = 200,
    on_answer: AnswerHook | None = None,
    cookies: httpx.Cookies | None = None,
    request_timeout: float = 60.0,
) -> LoadResult:
    """Send up to ``max_requests`` requests for at most ``max_seconds``; never more."""
    require_loopback(base_url)
    if concurrency < 1 or max_requests < 1 or max_seconds <= 0:
        raise ValueError("concurrency, max_requests and max_seconds must be positive")
    result = LoadResult(concurrency=concurrency)
    next_index = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(
        base_url=base_url, limits=limits, timeout=request_timeout, cookies=cookies
    ) as client:
        started = time.perf_counter()
        deadline = started + max_seconds

        async def worker() -> None:
            nonlocal next_index
            while next_index < max_requests and time.perf_counter() < deadline:
                index = next_index
                next_index += 1
                spec = make_request(index)
                sent = time.perf_counter()
                try:
                    answer = await client.request(
                        spec.method,
                        spec.path,
                        json=spec.json,
                        content=spec.content,
                        headers=spec.headers,
                    )
                except httpx.HTTPError as exc:
                    result.errors[type(exc).__name__] += 1
                    continue
                took = time.perf_counter() - sent
                if answer.status_code != expect_status:
                    result.errors[f"HTTP {answer.status_code}"] += 1
                    continue
                result.latencies.append(took)
                if on_answer is not None:
                    on_answer(index, answer)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        result.elapsed = time.perf_counter() - started
    return result
