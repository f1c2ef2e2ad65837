"""Connector acceptance checks, after Airbyte's, for both message streams against the imitations."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from imitations import CekatData, ConvoticData
from tests.conftest import cekat_config, convotic_config
from tests.singer_run import TapRun, run_messages, tap_cli

ROOT = Path(__file__).parents[1]
CHECK_TAP = ROOT / ".venv-singer-tools" / "bin" / "singer-check-tap"
RKEY = {"cekat_messages": "updated_at", "convotic_messages": "timestamp"}


@pytest.fixture(params=["cekat_messages", "convotic_messages"])
def source(request, serve):
    """One stream's config against an imitation with a few thousand messages."""
    if request.param == "cekat_messages":
        data = CekatData(n_messages=2600, seed=80, order="newest_first")
        return request.param, cekat_config(serve(cekat=data))
    data = ConvoticData(n_conversations=12, messages_per_conversation=220, seed=80)
    server = serve(convotic=data)
    return request.param, convotic_config(server, data.conversation_ids())


def key_of(stream: str, record: dict) -> tuple:
    return (
        (record["id"],) if stream == "cekat_messages" else (record["conversationId"], record["id"])
    )


def bookmarks(state: dict, stream: str) -> dict:
    """Each partition's (or the stream's) bookmark, keyed by partition context."""
    entry = state.get("bookmarks", {}).get(stream, {})
    found = {
        json.dumps(p["context"], sort_keys=True): p.get("replication_key_value")
        for p in entry.get("partitions", [])
    }
    found[""] = entry.get("replication_key_value")
    return found


def floor_for(stream: str, record: dict, marks: dict) -> str | None:
    if stream == "convotic_messages":
        return marks.get(json.dumps({"conversationId": record["conversationId"]}))
    return marks.get("")


def assert_at_or_after(run: TapRun, stream: str, state: dict) -> None:
    marks = bookmarks(state, stream)
    for record in run.records(stream):
        floor = floor_for(stream, record, marks)
        assert floor is None or record[RKEY[stream]] >= floor, (record, floor)


def test_spec_and_discovery(tmp_path):
    about = json.loads(
        subprocess.run(
            [sys.executable, "-m", "tap_messages.tap", "--about", "--format=json"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    settings = about["settings"]["properties"]
    for name in ("start_date", "cekat", "convotic", "on_invalid_record", "max_retries"):
        assert name in settings
    for vendor in ("cekat", "convotic"):
        assert settings[vendor]["properties"]["api_key"]["secret"] is True
    catalog = tap_cli("--discover", cwd=tmp_path)
    for stream in catalog["streams"]:
        properties = stream["schema"]["properties"]
        assert set(stream["key_properties"]) <= set(properties)
        if stream.get("replication_key"):
            assert stream["replication_key"] in properties
        text = json.dumps(stream["schema"])
        assert '"additionalProperties": false' not in text.replace(" ", "").replace(":", ": ")
        assert '"additionalProperties":false' not in text.replace(" ", "")


def test_basic_read_conforms_to_schema_and_singer_spec(source):
    stream, config = source
    run = run_messages(config)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.records(stream)
    assert run.assert_records_match_schemas() >= len(run.records(stream))
    checked = subprocess.run([str(CHECK_TAP)], input=run.stdout, capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "The output is valid." in checked.stdout


def test_full_refresh_reads_are_consistent(source):
    stream, config = source
    first, second = run_messages(config), run_messages(config)
    as_set = lambda run: {json.dumps(r, sort_keys=True) for r in run.records(stream)}  # noqa: E731
    assert as_set(first) <= as_set(second)


def test_incremental_reads_start_at_their_checkpoints(source):
    stream, config = source
    first = run_messages(config)
    states = first.states()
    assert len(states) >= 3, "checkpoints along the way, not only at the end"
    second = run_messages(config, first.final_state)
    assert_at_or_after(second, stream, first.final_state)
    every = {key_of(stream, r) for r in first.records(stream)}
    records_before = 0
    seen_before: set = set()
    messages = first.messages
    for index, message in enumerate(messages):
        if message["type"] == "RECORD" and message["stream"] == stream:
            seen_before.add(key_of(stream, message["record"]))
            records_before += 1
        if message["type"] != "STATE" or index == len(messages) - 1:
            continue
        replay = run_messages(config, message["value"])
        assert replay.returncode == 0
        assert_at_or_after(replay, stream, message["value"])
        assert seen_before | {key_of(stream, r) for r in replay.records(stream)} >= every


def test_far_future_state_reads_nothing(source):
    stream, config = source
    future = "2999-01-01T00:00:00.000000+00:00"
    state = {
        "bookmarks": {stream: {"replication_key": RKEY[stream], "replication_key_value": future}}
    }
    if stream == "convotic_messages":
        state["bookmarks"][stream] = {
            "partitions": [
                {
                    "context": {"conversationId": cid},
                    "replication_key": "timestamp",
                    "replication_key_value": future,
                }
                for cid in config["convotic"]["conversation_ids"]
            ]
        }
    run = run_messages(config, state)
    assert run.returncode == 0, run.stderr[-2000:]
    assert not run.records(stream)
    assert run.states()
    assert "in the future" in run.stderr
