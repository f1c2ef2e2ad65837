"""Messages emitted against messages expected, and requests, in the cases that once lost messages.

Run: .venv/bin/python benchmarks/completeness.py (the scenarios of tests/test_no_message_lost.py).
"""

from __future__ import annotations

import random
import sys
import typing as t
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from imitations import CekatData, ConvoticData, ImitationServer  # noqa: E402
from tests.conftest import cekat_config, convotic_config  # noqa: E402
from tests.singer_run import run_messages as run_tap  # noqa: E402  (the message streams)
from tests.test_no_message_lost import empty_page_of  # noqa: E402

ORDERS = [(o, k) for o in ("newest_first", "oldest_first") for k in ("created_at", "updated_at")]


def row(*cells: object) -> None:
    print("| " + " | ".join(str(c) for c in cells) + " |")


def late_status_changes() -> None:
    print("\n## Status changes of 20 older messages after a full sync (lookback P1D)\n")
    row("served", "changed emitted / 20", "increment requests", "full sync requests")
    row("---", "---:", "---:", "---:")
    for order, key in ORDERS:
        data = CekatData(n_messages=3000, seed=100, order=order, order_by=key)
        with ImitationServer(cekat=data) as server:
            first = run_tap(cekat_config(server))
            full = len(server.requests)
            newest = max(data.utc_of(m["created_at"]) for m in data.messages)
            cut = newest - timedelta(hours=20)
            recent = [m["id"] for m in data.messages if data.utc_of(m["created_at"]) > cut]
            changed = random.Random(100).sample(recent[:-200], 20)
            data.update_status(changed, "read")
            server.requests.clear()
            second = run_tap(cekat_config(server), first.final_state)
            got = {r["id"] for r in second.records("cekat_messages") if r["status"] == "read"}
            row(f"{order} by {key}", len(set(changed) & got), len(server.requests), full)


def no_change() -> None:
    print("\n## A run with nothing new (3,000 messages; lookback P1D and PT0S)\n")
    row("served", "requests, lookback P1D", "requests, lookback PT0S", "full sync requests")
    row("---", "---:", "---:", "---:")
    for order, key in ORDERS:
        data = CekatData(n_messages=3000, seed=7, order=order, order_by=key)
        with ImitationServer(cekat=data) as server:
            first = run_tap(cekat_config(server))
            full, counts = len(server.requests), []
            for lookback in ("P1D", "PT0S"):
                server.requests.clear()
                run_tap(cekat_config(server, lookback=lookback), first.final_state)
                counts.append(len(server.requests))
            row(f"{order} by {key}", *counts, full)


def cekat_cases() -> None:
    print("\n## Cekat: rows deleted while paging, one transient empty page\n")
    row("case", "emitted / expected", "requests")
    row("---", "---:", "---:")
    for order in ("newest_first", "oldest_first"):
        data, rng, deleted = (
            CekatData(n_messages=2400, seed=101, order=order),
            random.Random(101),
            set(),
        )
        before = data.ids()

        def delete_some(
            request: t.Any, data: t.Any = data, rng: t.Any = rng, deleted: t.Any = deleted
        ) -> None:
            doomed = rng.sample(sorted(data.ids()), 2)
            deleted.update(doomed)
            data.delete(doomed)

        with ImitationServer(cekat=data, after_request=delete_some) as server:
            run = run_tap(cekat_config(server))
            survivors = before - deleted
            got = survivors & {r["id"] for r in run.records("cekat_messages")}
            row(
                f"2 deleted per request, {order}",
                f"{len(got)} / {len(survivors)}",
                len(server.requests),
            )
    data, count = CekatData(n_messages=2400, seed=102), [0]

    def once_empty(request: t.Any) -> t.Any:
        count[0] += 1
        return empty_page_of(data, request) if count[0] == 3 else None

    with ImitationServer(cekat=data, fault=once_empty) as server:
        run = run_tap(cekat_config(server))
        got = {r["id"] for r in run.records("cekat_messages")}
        row("3rd page empty once, totals say 24 pages", f"{len(got)} / 2400", len(server.requests))


def convotic_cases() -> None:
    print("\n## Convotic: every reading of `total`; 150 messages at one instant\n")
    row("case", "emitted / expected", "requests", "warning")
    row("---", "---:", "---:", "---")
    for means in ("window", "returned", "conversation", "absent"):
        data = ConvoticData(
            n_conversations=6, messages_per_conversation=600, seed=106, total_means=means
        )
        with ImitationServer(convotic=data) as server:
            run = run_tap(convotic_config(server, data.conversation_ids()))
            got = {(r["conversationId"], r["id"]) for r in run.records("convotic_messages")}
            row(
                f"total = {means}, 6 x 600",
                f"{len(got & data.keys())} / 3600",
                len(server.requests),
                "",
            )
    for means in ("returned", "window"):
        data = ConvoticData(conversations={"conv_a": 10}, seed=107, total_means=means)
        data.add_messages("conv_a", 150, spacing_s=0)
        with ImitationServer(convotic=data) as server:
            run = run_tap(convotic_config(server, ["conv_a"]))
            warning = next(
                (
                    line.split("| ")[-1]
                    for line in run.stderr.splitlines()
                    if "share the instant" in line
                ),
                "none",
            )
            row(
                f"150 at one instant, total = {means}",
                f"{len(run.records('convotic_messages'))} / 160",
                len(server.requests),
                warning,
            )


if __name__ == "__main__":
    late_status_changes()
    no_change()
    cekat_cases()
    convotic_cases()
