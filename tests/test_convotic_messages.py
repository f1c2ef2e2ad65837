"""convotic_messages: every message of every conversation, resumable bookmarks, typed errors."""

from __future__ import annotations

import math

import pytest

from imitations import ConvoticData
from imitations.faults import error_response
from tests.conftest import CONVOTIC_KEY, convotic_config
from tests.singer_run import kill_after, run_messages

STREAM = "convotic_messages"


def keys_of(run):
    return {(r["conversationId"], r["id"]) for r in run.records(STREAM)}


def lower_bound(data):
    return sum(math.ceil((len(data.messages_of(c)) + 1) / 100) for c in data.conversation_ids())


@pytest.mark.parametrize("truncate", ["keep_earliest", "keep_latest"])
def test_full_sync_of_100_conversations_emits_every_message(serve, truncate):
    data = ConvoticData(
        n_conversations=100, messages_per_conversation=230, seed=40, truncate=truncate, max_burst=60
    )
    server = serve(convotic=data)
    run = run_messages(convotic_config(server, data.conversation_ids()))
    assert run.returncode == 0, run.stderr
    assert keys_of(run) == data.keys()
    run.assert_records_match_schemas()
    requests = len(server.requests)
    print(
        f"\n{truncate}: {len(data.keys())} messages, {requests} requests, "
        f"lower bound {lower_bound(data)}"
    )
    assert requests <= 1.6 * lower_bound(data) + 2
    partitions = run.bookmark(STREAM)["partitions"]
    assert len(partitions) == 100
    newest = {c: max(m["timestamp"] for m in data.messages_of(c)) for c in data.conversation_ids()}
    for p in partitions:
        assert p["replication_key_value"].startswith(newest[p["context"]["conversationId"]][:19])


def test_ids_repeating_across_conversations_stay_distinct(serve):
    data = ConvoticData(n_conversations=3, messages_per_conversation=5, seed=41)
    server = serve(convotic=data)
    run = run_messages(convotic_config(server, data.conversation_ids()))
    ids = [r["id"] for r in run.records(STREAM)]
    assert len(set(ids)) < len(ids), "the imitation reuses msg_001.. per conversation"
    assert len(keys_of(run)) == 15


def test_incremental_run_costs_one_request_per_conversation(serve):
    data = ConvoticData(n_conversations=30, messages_per_conversation=150, seed=42, max_burst=5)
    server = serve(convotic=data)
    ids = data.conversation_ids()
    first = run_messages(convotic_config(server, ids))
    server.requests.clear()
    second = run_messages(convotic_config(server, ids), first.final_state)
    assert len(server.requests) == 30
    marks = {
        p["context"]["conversationId"]: p["replication_key_value"]
        for p in first.bookmark(STREAM)["partitions"]
    }
    assert all(r["timestamp"] == marks[r["conversationId"]] for r in second.records(STREAM))
    added = {(c, m["id"]) for c in ids[:10] for m in data.add_messages(c, 120)}
    third = run_messages(convotic_config(server, ids), second.final_state)
    assert added <= keys_of(third)


def test_messages_arriving_during_a_run_come_in_the_next(serve):
    data = ConvoticData(n_conversations=10, messages_per_conversation=300, seed=43)
    ids = data.conversation_ids()
    server = serve(convotic=data)
    server.after_request = lambda request: data.add_messages(ids[len(server.requests) % 10], 3)
    first = run_messages(convotic_config(server, ids))
    server.after_request = None
    assert first.returncode == 0
    second = run_messages(convotic_config(server, ids), first.final_state)
    assert keys_of(first) | keys_of(second) == data.keys()


def test_removed_conversation_keeps_its_bookmark_and_a_new_one_starts_at_start_date(serve):
    data = ConvoticData(n_conversations=3, messages_per_conversation=40, seed=44)
    a, b, c = data.conversation_ids()
    server = serve(convotic=data)
    first = run_messages(convotic_config(server, [a, b]))
    second = run_messages(
        {**convotic_config(server, [b, c]), "start_date": "2000-01-01T00:00:00Z"}, first.final_state
    )
    kept = {p["context"]["conversationId"] for p in second.bookmark(STREAM)["partitions"]}
    assert kept == {a, b, c}
    assert {k for k in keys_of(second) if k[0] == c} == {k for k in data.keys() if k[0] == c}  # noqa: SIM118


def test_unknown_conversation_is_skipped_with_a_warning_and_counted(serve):
    data = ConvoticData(n_conversations=3, messages_per_conversation=20, seed=45)
    server = serve(convotic=data)
    run = run_messages(convotic_config(server, [*data.conversation_ids(), "conv_gone"]))
    assert run.returncode == 0, run.stderr
    assert keys_of(run) == data.keys()
    [warning] = [line for line in run.stderr.splitlines() if "WARNING" in line]
    assert "conversation conv_gone was skipped: not found (404)" in warning
    assert "shortfalls: conversation conv_gone was skipped: not found (404)" in run.stderr


@pytest.mark.parametrize(
    ("status", "message", "expected"),
    [
        (
            400,
            "limit must be between 1 and 100",
            "Convotic answered HTTP 400 on /v1/messages "
            "(the API rejected a request parameter): limit must be between 1 and 100",
        ),
        (
            401,
            "Invalid API key",
            "Convotic rejected the API key (HTTP 401: Invalid API key). Check convotic.api_key.",
        ),
    ],
)
def test_bad_request_and_bad_key_are_fatal_and_clear(serve, status, message, expected):
    data = ConvoticData(n_conversations=2, messages_per_conversation=5, seed=46)
    server = serve(convotic=data, fault=lambda request: error_response("convotic", status, message))
    run = run_messages(convotic_config(server, data.conversation_ids()))
    assert run.returncode == 1
    last_line = run.stderr.strip().splitlines()[-1]
    assert expected in last_line
    assert status != 400 or last_line.endswith("&limit=100]"), "a 400 shows the request's params"
    assert CONVOTIC_KEY not in run.stdout + run.stderr


def test_burst_beyond_the_limit_is_reported_not_silent(serve):
    data = ConvoticData(conversations={"conv_a": 10}, seed=47)
    data.add_messages("conv_a", 130, spacing_s=0)
    server = serve(convotic=data)
    run = run_messages(convotic_config(server, ["conv_a"]))
    assert len(keys_of(run)) == 110
    assert "130 messages share the instant" in run.stderr
    assert "up to 30 messages at that instant may be missing" in run.stderr


def test_killed_runs_resume_from_their_last_state_without_loss(serve):
    data = ConvoticData(n_conversations=12, messages_per_conversation=400, seed=48)
    server = serve(convotic=data)
    config = convotic_config(server, data.conversation_ids())
    state, emitted = None, set()
    for kill_at in (700, 1900, 1500):
        messages = kill_after(config, state, kill_at)
        emitted |= {
            (m["record"]["conversationId"], m["record"]["id"])
            for m in messages
            if m["type"] == "RECORD"
        }
        states = [m["value"] for m in messages if m["type"] == "STATE"]
        state = states[-1] if states else state
    final = run_messages(config, state)
    assert final.returncode == 0
    assert emitted | keys_of(final) == data.keys()
    assert len(keys_of(final)) < len(data.keys()), "the resumed run did not start over"


def test_platform_filter_is_sent_and_applied(serve):
    data = ConvoticData(n_conversations=8, messages_per_conversation=10, seed=49)
    server = serve(convotic=data)
    platform = data.messages_of(data.conversation_ids()[0])[0]["platform"]
    run = run_messages(convotic_config(server, data.conversation_ids(), platform=platform))
    assert {r.params["platform"][0] for r in server.requests} == {platform}
    assert run.records(STREAM)
    assert {r["platform"] for r in run.records(STREAM)} == {platform}


def test_shards_split_conversations_so_each_is_read_exactly_once(serve):
    data = ConvoticData(n_conversations=30, messages_per_conversation=20, seed=51)
    server = serve(convotic=data)
    ids = data.conversation_ids()
    seen: list[str] = []
    for index in range(3):
        run = run_messages(convotic_config(server, ids, shard_count=3, shard_index=index))
        assert run.returncode == 0, run.stderr[-1500:]
        conversations = {r["conversationId"] for r in run.records(STREAM)}
        assert conversations, "each shard has work"
        seen += sorted(conversations)
        partitions = run.bookmark(STREAM)["partitions"]
        assert {p["context"]["conversationId"] for p in partitions} == conversations
    assert sorted(seen) == sorted(ids), "no conversation read by two shards or by none"


def test_shard_index_must_be_below_shard_count(serve):
    server = serve(convotic=ConvoticData(n_conversations=1, messages_per_conversation=1, seed=52))
    run = run_messages(convotic_config(server, ["conv_0001"], shard_count=2, shard_index=2))
    assert run.returncode == 1
    assert "convotic.shard_index 2 must be below convotic.shard_count 2" in run.stderr
