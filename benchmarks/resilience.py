"""Full syncs of both streams under injected faults, with the product's real waits.

Run: .venv/bin/python benchmarks/resilience.py
Prints, per scenario: records, every message present?, requests, 429s/500s served, seconds.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from imitations import CekatData, ConvoticData, ImitationServer
from imitations.base import Response
from imitations.faults import RateLimiter, error_response, rate_limited
from tests.conftest import CEKAT_KEY, CONVOTIC_KEY
from tests.singer_run import run_messages as run_tap  # the message streams


def too_many(vendor: str) -> Response:
    response = error_response(vendor, 429, "Rate limit exceeded. Retry after 1 seconds.")
    return Response(429, {**response.headers, "Retry-After": "1"}, response.body)


def every(n: int, make: object) -> object:
    """Answer every n-th request with make(vendor), in that vendor's own envelope."""
    count = 0

    def fault(request: object) -> Response | None:
        nonlocal count
        count += 1
        return make(request.vendor) if count % n == 0 else None  # type: ignore[attr-defined,operator]

    return fault


def scenario(name: str, fault: object, window: float = 60.0, scale: int = 1) -> None:
    cekat = CekatData(n_messages=3000 * scale, seed=90)
    convotic = ConvoticData(n_conversations=20 * scale, messages_per_conversation=150, seed=90)
    with ImitationServer(cekat=cekat, convotic=convotic) as server:
        if isinstance(fault, RateLimiter):
            server.rate_limiter = fault
        else:
            server.fault = fault  # type: ignore[assignment]
        config = {
            "cekat": {"api_key": CEKAT_KEY, "base_url": server.base_url},
            "convotic": {
                "api_key": CONVOTIC_KEY,
                "base_url": server.base_url,
                "conversation_ids": convotic.conversation_ids(),
            },
            "rate_limit_window": window,
        }
        started = time.perf_counter()
        run = run_tap(config)
        seconds = time.perf_counter() - started
        got = {("cekat", r["id"]) for r in run.records("cekat_messages")} | {
            (r["conversationId"], r["id"]) for r in run.records("convotic_messages")
        }
        expected = {("cekat", i) for i in cekat.ids()} | convotic.keys()
        statuses = [r.status for r in server.requests]
        print(
            f"{name:34s} exit {run.returncode} records {len(got):5d} complete {got == expected} "
            f"requests {len(statuses):4d} (429: {statuses.count(429)}, 500: "
            f"{statuses.count(500)}) {seconds:6.1f} s"
        )


if __name__ == "__main__":
    scenario("no faults", None)
    scenario("1 in 3 answered 429 (Retry-After: 1)", every(3, too_many))
    scenario("1 in 4 answered 500", every(4, lambda vendor: error_response(vendor, 500)))
    scenario("limit 40 per 10 s enforced", rate_limited(40, 10.0), window=10.0)
    scenario("limit 50 per 5 s enforced, long run", rate_limited(50, 5.0), window=5.0, scale=5)
