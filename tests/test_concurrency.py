"""Requests go up to max_concurrency at once, and no record is lost or reordered on the way."""

from __future__ import annotations

import threading
import time

import pytest

from imitations import CekatData, ConvoticData
from imitations.faults import RateLimiter
from tap_messages.shared.read_ahead import ReadAhead
from tests.conftest import cekat_config, convotic_config
from tests.singer_run import run_messages

PIECES = {f"piece{n}": [f"piece{n}-item{i}" for i in range(6)] for n in range(5)}


def work_of(key: str, made_in: dict[str, int] | None = None):
    def work():
        for item in PIECES[key]:
            if made_in is not None:
                made_in[item] = threading.get_ident()
            yield item

    return work


def test_pieces_started_ahead_run_on_threads_and_come_back_whole_in_order():
    made_in: dict[str, int] = {}
    ahead: ReadAhead[str, str] = ReadAhead(width=3, depth=2)
    for key in PIECES:
        ahead.start(key, work_of(key, made_in))
    got = [item for key in PIECES for item in ahead.take(key, work_of(key))]
    ahead.close()
    assert got == [item for key in PIECES for item in PIECES[key]]
    assert threading.get_ident() not in set(made_in.values()), "all work ran on the threads"


def test_taking_a_later_piece_stops_the_earlier_ones_instead_of_waiting_for_them():
    ahead: ReadAhead[str, str] = ReadAhead(width=2, depth=1)
    for key in PIECES:
        ahead.start(key, work_of(key))
    assert list(ahead.take("piece3", work_of("piece3"))) == PIECES["piece3"]
    assert "piece0" not in ahead
    assert "piece4" in ahead
    ahead.close()


def test_with_one_thread_the_taker_does_the_work_itself():
    made_in: dict[str, int] = {}
    ahead: ReadAhead[str, str] = ReadAhead(width=1)
    ahead.start("piece0", work_of("piece0", made_in))
    assert "piece0" not in ahead
    assert list(ahead.take("piece0", work_of("piece0", made_in))) == PIECES["piece0"]
    assert set(made_in.values()) == {threading.get_ident()}


def test_an_error_on_a_thread_reaches_the_taker_and_stops_the_rest():
    def failing():
        yield "first"
        raise RuntimeError("boom in piece1")

    ahead: ReadAhead[str, str] = ReadAhead(width=2)
    ahead.start("piece1", failing)
    ahead.start("piece2", work_of("piece2"))
    taken = ahead.take("piece1", failing)
    assert next(taken) == "first"
    with pytest.raises(RuntimeError, match="boom in piece1"):
        next(taken)
    assert "piece2" not in ahead, "the pieces left were stopped"


def test_a_piece_holds_at_most_depth_items_the_taker_has_not_taken():
    produced: list[int] = []

    def endless():
        for n in range(1000):
            produced.append(n)
            yield n

    ahead: ReadAhead[str, int] = ReadAhead(width=2, depth=3)
    ahead.start("endless", endless)
    deadline = time.monotonic() + 5
    while len(produced) < 4 and time.monotonic() < deadline:
        time.sleep(0.01)  # polls for progress; the assertion is on counts, not on time
    assert len(produced) <= 3 + 1, "the thread waits once `depth` items are unclaimed"
    ahead.close()


@pytest.mark.parametrize("width", [4, 1])
def test_a_slow_api_is_read_up_to_max_concurrency_at_once_and_every_message_arrives(serve, width):
    data = ConvoticData(n_conversations=12, messages_per_conversation=150, seed=90)
    server = serve(convotic=data, latency_s=0.02)
    run = run_messages(
        {**convotic_config(server, data.conversation_ids()), "max_concurrency": width}
    )
    assert run.returncode == 0, run.stderr[-2000:]
    records = run.records("convotic_messages")
    assert {(r["conversationId"], r["id"]) for r in records} == data.keys()
    assert len(records) == len(data.keys()), "no message twice"
    order = [r["conversationId"] for r in records]
    assert order == sorted(order, key=data.conversation_ids().index), "conversations in order"
    assert server.most_in_flight <= width
    assert (server.most_in_flight > 1) == (width > 1)


def test_each_conversation_bookmark_is_its_newest_record_when_read_ahead(serve):
    data = ConvoticData(n_conversations=24, messages_per_conversation=150, seed=91)
    ids = data.conversation_ids()
    server = serve(convotic=data, latency_s=0.005)
    listed = [*ids[:20], "conv_missing", *ids[20:]]
    config = {**convotic_config(server, listed), "max_concurrency": 4}
    run = run_messages(config)
    assert run.returncode == 0, run.stderr[-2000:]
    run.assert_records_match_schemas()
    newest: dict[str, str] = {}
    for record in run.records("convotic_messages"):
        cid = record["conversationId"]
        newest[cid] = max(newest.get(cid, ""), record["timestamp"])
    partitions = run.final_state["bookmarks"]["convotic_messages"]["partitions"]
    bookmarks = {p["context"]["conversationId"]: p.get("replication_key_value") for p in partitions}
    assert {cid: bookmarks[cid] for cid in ids} == newest
    assert "shortfalls: conversation conv_missing was skipped: not found (404)" in run.stderr
    assert f"{len(server.requests)} requests, " in run.stderr
    assert server.most_in_flight > 1


@pytest.mark.parametrize("order", ["oldest_first", "newest_first"])
def test_cekat_pages_are_read_ahead_in_a_full_walk_and_every_message_arrives(serve, order):
    data = CekatData(n_messages=3000, seed=92, order=order)
    server = serve(cekat=data, latency_s=0.005)
    run = run_messages({**cekat_config(server), "max_concurrency": 4})
    assert run.returncode == 0, run.stderr[-2000:]
    assert {r["id"] for r in run.records("cekat_messages")} == data.ids()
    pages = [(r.params["page"][0], r.params["limit"][0]) for r in server.requests]
    assert len(set(pages)) >= len(pages) - 2, "each page once (but the top, once more)"
    assert server.most_in_flight > 1, "a full walk reads ahead in either order"


def test_the_shared_rate_limit_holds_with_every_thread_at_work(serve):
    data = ConvoticData(n_conversations=20, messages_per_conversation=60, seed=94)
    server = serve(convotic=data, rate_limiter=RateLimiter(100, 1.0))
    config = {
        **convotic_config(server, data.conversation_ids()),
        "rate_limit_window": 1,
        "max_concurrency": 8,
    }
    run = run_messages(config)
    assert run.returncode == 0, run.stderr[-2000:]
    assert [r.status for r in server.requests].count(429) == 0
    assert {(r["conversationId"], r["id"]) for r in run.records("convotic_messages")} == data.keys()
