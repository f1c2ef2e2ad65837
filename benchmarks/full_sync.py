"""Requests of a Cekat full sync against its bound, at rest and while rows move, beside a plain tap.

Run: .venv/bin/python benchmarks/full_sync.py [--rows N]. The bound of a list at rest is
1.10 x (ceil(rows / page_size) + 1). "Arrive": after every request for messages one new message
arrives. "Move": after every 5th, 2 new messages arrive, 2 change status and 1 is deleted.
"Missing" counts the messages present for the whole run that the run did not emit (a message
changed during the run, in a list sorted by `updated_at`, is the next run's: its `updated_at`
is past the bookmark).
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import typing as t
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.throughput import PLAIN, TAP, cekat_config, plain_config, row, run  # noqa: E402
from imitations import CekatData, ImitationServer  # noqa: E402
from imitations.faults import RateLimiter  # noqa: E402

ORDERS = [(o, k) for o in ("oldest_first", "newest_first") for k in ("created_at", "updated_at")]
UNLIMITED = RateLimiter(10**9, 60.0, enforce=False)


class Moving:
    """Changes after requests for messages: one arrival each ("arrive"), or every 5th ("move")."""

    def __init__(self, data: CekatData, seed: int, state: str) -> None:
        self.data, self.rng, self.seen, self.state = data, random.Random(seed), 0, state
        self.deleted: set[str] = set()
        self.changed: set[str] = set()

    def __call__(self, request: t.Any) -> None:
        if request.path != "/api/messages":
            return
        self.seen += 1
        if self.state == "arrive":
            self.data.add_messages(1)
            return
        if self.seen % 5:
            return
        self.data.add_messages(2)
        ids = [m["id"] for m in self.data.messages]
        changed = self.rng.sample(ids, 2)
        self.data.update_status(changed, "read")
        self.changed.update(changed)
        gone = self.rng.choice(ids)
        self.data.delete([gone])
        self.deleted.add(gone)


def sync(
    rows: int, order: str, key: str, *, state: str, plain: bool, width: int, latency: float = 0
) -> tuple[int, int, bool, float]:
    """Requests, messages missing, whether the run warned, and wall seconds, of one full sync."""
    data = CekatData(n_messages=rows, seed=11, order=order, order_by=key)  # type: ignore[arg-type]
    start = data.ids()
    mover = Moving(data, seed=12, state=state) if state != "at rest" else None
    with ImitationServer(
        cekat=data, rate_limiter=UNLIMITED, after_request=mover, latency_s=latency
    ) as server:
        url = server.base_url
        config = plain_config(url, None) if plain else cekat_config(url, max_concurrency=width)
        result = run(config, PLAIN if plain else TAP, ids=True)
        requests = sum(r.path == "/api/messages" for r in server.requests)
    exempt = (mover.deleted | (mover.changed if key == "updated_at" else set())) if mover else set()
    missing = len(start - exempt - result["ids"])
    return requests, missing, "WARNING" in result["stderr"], result["seconds"]


def under_latency(rows: int, latency: float) -> None:
    """Wall time against requests x latency / max_concurrency, a list at rest."""
    print(f"\n## At {latency * 1000:.0f} ms a request, {rows:,} messages at rest\n")
    row("served", "tap", "requests", "wall s", "requests x latency / width", "ratio")
    row("---", "---", "---:", "---:", "---:", "---:")
    for order, key in ORDERS[::2]:
        taps = [("tap-messages, max_concurrency 4", False, 4), ("plain SDK", True, 1)]
        for name, plain, width in taps:
            requests, _, _, wall = sync(
                rows, order, key, state="at rest", plain=plain, width=width, latency=latency
            )
            floor = requests * latency / width
            ratio = f"{wall / floor:.2f}"
            row(f"{order} by {key}", name, requests, f"{wall:.1f}", f"{floor:.1f}", ratio)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=15_000)
    parser.add_argument("--latency", type=float, default=0.1)
    args = parser.parse_args()
    rows = args.rows
    bound = 1.10 * (math.ceil(rows / 100) + 1)
    print(f"\n## Cekat full sync of {rows:,} messages, page_size 100 (bound at rest {bound:.0f})\n")
    row("served", "rows", "tap", "requests", "ratio to pages + 1", "missing", "warned")
    row("---", "---", "---", "---:", "---:", "---:", "---")
    for order, key in ORDERS:
        for state in ("at rest", "arrive", "move"):
            taps = [("tap-messages, max_concurrency 1", False, 1)]
            taps += [("tap-messages, max_concurrency 4", False, 4), ("plain SDK", True, 1)]
            for name, plain, width in taps:
                requests, missing, warned, _ = sync(
                    rows, order, key, state=state, plain=plain, width=width
                )
                ratio = requests / (math.ceil(rows / 100) + 1)
                row(
                    f"{order} by {key}", state, name, requests, f"{ratio:.3f}", missing,
                    "yes" if warned else "no",
                )  # fmt: skip
    under_latency(rows, args.latency)


if __name__ == "__main__":
    main()
