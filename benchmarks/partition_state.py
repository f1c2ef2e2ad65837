"""Per-record bookkeeping cost and STATE size as the number of Convotic conversations grows.

Compares singer-sdk's StreamStateManager (list scan per record) with the tap's IndexedStateManager.
Run: .venv/bin/python benchmarks/partition_state.py
"""

from __future__ import annotations

import json
import time

from singer_sdk.streams._state import StreamStateManager

from tap_messages.shared.partition_state import IndexedStateManager

RECORDS = 20_000


def per_record_us(manager_class: type[StreamStateManager], conversations: int) -> tuple[float, int]:
    """Microseconds per record of increment_state, and the STATE's size in bytes."""
    state: dict = {}
    manager = manager_class(stream_name="convotic_messages", tap_state=state, is_sorted=True)
    contexts = [{"conversationId": f"conv_{i:06d}"} for i in range(conversations)]
    for context in contexts:  # every conversation has a bookmark, as after a first full sync
        manager.increment_state(
            {"timestamp": "2026-01-01T00:00:00.000000+00:00"},
            context=context,
            replication_key="timestamp",
        )
    record = {"timestamp": "2026-02-01T00:00:00.000000+00:00"}
    started = time.perf_counter()
    for i in range(RECORDS):
        manager.increment_state(
            record, context=contexts[i % conversations], replication_key="timestamp"
        )
    elapsed = time.perf_counter() - started
    size = len(json.dumps({"type": "STATE", "value": state}, separators=(",", ":")))
    return elapsed / RECORDS * 1e6, size


def main() -> None:
    """Print conversations, SDK µs/record, indexed µs/record, STATE bytes (total, per conv)."""
    columns = ("conversations", "sdk µs/rec", "indexed µs/rec", "STATE bytes", "B/conv")
    print(" ".join(f"{name:>14}" for name in columns))
    for conversations in (10, 1_000, 10_000):
        sdk, _ = per_record_us(StreamStateManager, conversations)
        indexed, size = per_record_us(IndexedStateManager, conversations)
        row = (conversations, f"{sdk:.2f}", f"{indexed:.2f}", size, f"{size / conversations:.0f}")
        print(" ".join(f"{value:>14}" for value in row))


if __name__ == "__main__":
    main()
