"""The singer-sdk internals the tap still touches behave as the tap relies on (docs/sdk.md).

If an SDK release moves or changes it, this fails before any run can go wrong.
"""

from __future__ import annotations

import inspect
import logging

from singer_sdk import Stream
from singer_sdk.streams._state import StreamStateManager

from tap_messages.cekat.messages import RESUMES
from tap_messages.shared.partition_state import IndexedStateManager


def managers(state: dict) -> tuple[StreamStateManager, IndexedStateManager]:
    options = {"tap_name": "t", "stream_name": "s", "is_sorted": True, "check_sorted": True}
    return StreamStateManager(tap_state=state, **options), IndexedStateManager(
        tap_state=state, **options
    )


def test_stream_state_manager_keeps_its_constructor_and_lookup():
    parameters = inspect.signature(StreamStateManager.__init__).parameters
    assert {"tap_name", "stream_name", "tap_state", "is_sorted", "check_sorted"} <= set(parameters)
    assert "context" in inspect.signature(StreamStateManager.get_context_state).parameters
    assert isinstance(inspect.getattr_static(Stream, "state_manager"), property)


def test_the_indexed_lookup_finds_the_very_dicts_the_sdk_writes_bookmarks_into():
    state = {
        "bookmarks": {
            "s": {
                "partitions": [
                    {"context": {"c": str(n)}, "replication_key_value": f"2026-01-0{n + 1}"}
                    for n in range(5)
                ]
            }
        }
    }
    sdk, indexed = managers(state)
    for n in range(5):
        assert indexed.get_context_state({"c": str(n)}) is sdk.get_context_state({"c": str(n)})
    new = indexed.get_context_state({"c": "new"})
    assert new is sdk.get_context_state({"c": "new"}), "a new partition lands in the stored list"
    indexed.increment_state({"ts": "2026-02-01"}, context={"c": "3"}, replication_key="ts")
    partitions = state["bookmarks"]["s"]["partitions"]
    assert partitions[3]["replication_key_value"] == "2026-02-01"
    assert len(partitions) == 6


def test_a_seeded_progress_marker_keeps_the_unsorted_stream_quiet_and_is_promoted(caplog):
    """cekat_messages seeds `progress_markers` so that the SDK does not warn it cannot resume."""
    state: dict = {"progress_markers": {"Note": RESUMES}}
    unsorted = StreamStateManager(
        tap_name="t",
        stream_name="s",
        tap_state={"bookmarks": {"s": state}},
        is_sorted=False,
        check_sorted=True,
    )
    with caplog.at_level(logging.WARNING):
        unsorted.increment_state({"ts": "2026-02-01"}, context=None, replication_key="ts")
        unsorted.increment_state({"ts": "2026-01-01"}, context=None, replication_key="ts")
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert state["progress_markers"]["replication_key_value"] == "2026-02-01"
    unsorted.finalize_progress_markers(state)
    assert state == {"replication_key": "ts", "replication_key_value": "2026-02-01"}


def test_without_the_seed_the_sdk_warns_so_the_seed_is_what_keeps_it_quiet(caplog):
    state: dict = {}
    unsorted = StreamStateManager(
        tap_name="t",
        stream_name="s",
        tap_state={"bookmarks": {"s": state}},
        is_sorted=False,
        check_sorted=True,
    )
    with caplog.at_level(logging.WARNING):
        unsorted.increment_state({"ts": "2026-02-01"}, context=None, replication_key="ts")
    assert any("unsorted" in r.getMessage() for r in caplog.records)
