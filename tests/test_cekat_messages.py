"""cekat_messages: every message arrives, whatever the served order, totals or live inserts."""

from __future__ import annotations

import math
import random
import typing as t

import pytest

from imitations import CekatData
from tap_messages.shared.timestamps import format_utc
from tests.conftest import CEKAT_KEY, cekat_config
from tests.singer_run import run_messages

if t.TYPE_CHECKING:
    from imitations import ImitationServer

STREAM = "cekat_messages"


def utc_bookmark_of(data: CekatData) -> str:
    """The newest updated_at the imitation holds, in the tap's UTC format."""
    return max(format_utc(data.utc_of(m["updated_at"])) for m in data.messages)


def pages_requested(server: ImitationServer) -> list[tuple[int, int]]:
    """(page, limit) of each request for messages, in order."""
    return [
        (int(r.params["page"][0]), int(r.params["limit"][0]))
        for r in server.requests
        if r.path == "/api/messages"
    ]


@pytest.mark.parametrize("order", ["oldest_first", "newest_first"])
@pytest.mark.parametrize("order_by", ["created_at", "updated_at"])
def test_full_sync_emits_every_message_in_either_served_order(serve, order, order_by):
    data = CekatData(n_messages=3000, seed=2, order=order, order_by=order_by)
    server = serve(cekat=data)
    run = run_messages(cekat_config(server))
    assert run.returncode == 0, run.stderr
    assert {r["id"] for r in run.records(STREAM)} == data.ids()
    assert run.assert_records_match_schemas() >= 3000
    bookmark = run.bookmark(STREAM)
    assert bookmark["replication_key"] == "updated_at"
    assert bookmark["replication_key_value"] == utc_bookmark_of(data)
    assert bookmark["replication_key_value"].endswith("+00:00")
    assert "progress_markers" not in bookmark
    pages = pages_requested(server)
    assert len(pages) <= 1.10 * (3000 / 100 + 1), "a list at rest: its pages, plus a tenth"


def test_naive_times_are_read_in_the_configured_zone(serve):
    data = CekatData(n_messages=5, seed=3)
    server = serve(cekat=data)
    run = run_messages(cekat_config(server, timezone="Asia/Jakarta"))
    sent = {m["id"]: m for m in data.messages}
    for record in run.records(STREAM):
        naive = sent[record["id"]]["created_at"]
        assert record["created_at"] == format_utc(data.utc_of(naive))
    shifted = run_messages(cekat_config(server, timezone="UTC")).records(STREAM)
    assert shifted[0]["created_at"] != run.records(STREAM)[0]["created_at"]


@pytest.mark.parametrize("skew", [-20, -1, 3, 50])
def test_wrong_total_page_neither_cuts_nor_loops(serve, skew):
    data = CekatData(n_messages=1050, seed=4, total_page_skew=skew)
    server = serve(cekat=data)
    run = run_messages(cekat_config(server))
    assert {r["id"] for r in run.records(STREAM)} == data.ids()
    pages = pages_requested(server)
    assert len(pages) <= 1.10 * (math.ceil(1050 / 100) + 1), "total_page is not what counts"


def test_server_that_caps_limit_below_page_size_loses_nothing(serve):
    data = CekatData(n_messages=730, seed=5, max_limit=50)
    server = serve(cekat=data)
    run = run_messages(cekat_config(server, page_size=200))
    assert {r["id"] for r in run.records(STREAM)} == data.ids()


@pytest.mark.parametrize("order", ["oldest_first", "newest_first"])
def test_messages_inserted_mid_run_shift_pages_without_loss(serve, order):
    data = CekatData(n_messages=2000, seed=6, order=order)
    before = data.ids()
    inserted: list[str] = []

    def insert_some(request: t.Any) -> None:
        if request.path == "/api/messages":
            inserted.extend(m["id"] for m in data.add_messages(7))

    server = serve(cekat=data, after_request=insert_some)
    first = run_messages(cekat_config(server))
    server.after_request = None
    assert first.returncode == 0, first.stderr
    assert len(inserted) >= 7 * 20, "rows were inserted on every page of the first run"
    emitted = {r["id"] for r in first.records(STREAM)}
    assert before <= emitted, f"{len(before - emitted)} messages present at the start went missing"
    second = run_messages(cekat_config(server), first.final_state)
    assert data.ids() <= emitted | {r["id"] for r in second.records(STREAM)}


@pytest.mark.parametrize("order", ["oldest_first", "newest_first"])
@pytest.mark.parametrize("means", ["page", "absent"])
def test_a_total_items_that_does_not_count_the_list_costs_requests_not_messages(
    serve, order, means
):
    data = CekatData(n_messages=2500, seed=8, order=order, total_items_means=means)
    server = serve(cekat=data)
    run = run_messages({**cekat_config(server), "max_concurrency": 4})
    assert run.returncode == 0, run.stderr[-2000:]
    assert {r["id"] for r in run.records(STREAM)} == data.ids()
    assert "WARNING" not in run.stderr
    assert len(pages_requested(server)) <= 1.3 * 2500 / 100, "overlapping pages instead"


@pytest.mark.parametrize("order", ["oldest_first", "newest_first"])
@pytest.mark.parametrize("order_by", ["created_at", "updated_at"])
def test_rows_deleted_and_changed_during_a_full_sync_read_at_once_cost_a_round_and_their_pages(
    serve, order, order_by
):
    data = CekatData(n_messages=8000, seed=9, order=order, order_by=order_by)
    start, rng, moved = data.ids(), random.Random(9), set()
    requests = iter(range(10**6))
    deletes = []

    def delete_and_change(request: t.Any) -> None:
        if request.path == "/api/messages" and next(requests) % 5 == 4:
            deletes.append(request)
            ids = sorted(data.ids())
            changed = rng.sample(ids, 2)
            data.update_status(changed, "read")
            moved.update(changed if order_by == "updated_at" else ())
            gone = rng.choice(ids)
            data.delete([gone])
            moved.add(gone)

    server = serve(cekat=data, after_request=delete_and_change)
    run = run_messages({**cekat_config(server), "max_concurrency": 4})
    assert run.returncode == 0, run.stderr[-2000:]
    emitted = {r["id"] for r in run.records(STREAM)}
    assert start - moved <= emitted, "every message present throughout is emitted"
    assert "WARNING" not in run.stderr
    # The round that saw rows leave is read again, one page at a time. Rows only sink in age
    # rank, so oldest first that is all; newest first a page is asked again where rows left.
    again = len(deletes) if order == "newest_first" else 0
    bound = math.ceil(8000 / 100) + 2 + 32 + 2 + again
    assert len(pages_requested(server)) <= bound


ORDERS = [
    ("newest_first", "updated_at"),
    ("newest_first", "created_at"),
    ("oldest_first", "created_at"),
    ("oldest_first", "updated_at"),
]


@pytest.mark.parametrize(("order", "order_by"), ORDERS)
def test_a_run_without_news_reads_a_few_pages_and_emits_only_the_bookmark_instant(
    serve, order, order_by
):
    data = CekatData(n_messages=3000, seed=7, order=order, order_by=order_by)
    server = serve(cekat=data)
    config = cekat_config(server, lookback="PT0S")
    first = run_messages(config)
    full = len(server.requests)
    server.requests.clear()
    second = run_messages(config, first.final_state)
    assert second.returncode == 0, second.stderr
    bookmark = first.bookmark(STREAM)["replication_key_value"]
    assert {r["updated_at"] for r in second.records(STREAM)} <= {bookmark}
    assert second.bookmark(STREAM)["replication_key_value"] == bookmark
    print(f"\n{order} by {order_by}: full {full} requests, no-change run {len(server.requests)}")
    assert len(server.requests) <= 14, "a few pages, not the whole history"


@pytest.mark.parametrize("order", ["oldest_first", "newest_first"])
def test_new_and_updated_messages_arrive_in_the_next_run(serve, order):
    data = CekatData(n_messages=500, seed=9, order=order, order_by="updated_at")
    server = serve(cekat=data)
    first = run_messages(cekat_config(server))
    old_ids = sorted(data.ids())[:5]
    data.update_status(old_ids, "read")
    new_ids = {m["id"] for m in data.add_messages(30)}
    second = run_messages(cekat_config(server), first.final_state)
    emitted = {r["id"]: r for r in second.records(STREAM)}
    assert new_ids | set(old_ids) <= set(emitted)
    assert all(emitted[i]["status"] == "read" for i in old_ids)


def test_filters_are_sent_and_keep_a_bookmark_each(serve):
    data = CekatData(n_messages=600, seed=10, n_conversations=6, n_inboxes=3)
    server = serve(cekat=data)
    inbox = data.inbox_ids()[0]
    in_inbox = {m["conversation_id"] for m in data.messages if m["inbox"]["id"] == inbox}
    elsewhere = {m["conversation_id"] for m in data.messages} - in_inbox
    conversations = [sorted(in_inbox)[0], sorted(elsewhere)[0]]
    run = run_messages(cekat_config(server, inbox_ids=[inbox], conversation_ids=conversations))
    expected = {
        m["id"]
        for m in data.messages
        if m["inbox"]["id"] == inbox and m["conversation_id"] in conversations
    }
    assert expected
    assert {r["id"] for r in run.records(STREAM)} == expected
    sent = {
        (r.params.get("inbox_id", [None])[0], r.params.get("conversation_id", [None])[0])
        for r in server.requests
    }
    assert sent == {(inbox, c) for c in conversations}
    partitions = run.bookmark(STREAM)["partitions"]
    assert sorted(p["context"]["conversation_id"] for p in partitions) == sorted(conversations)


@pytest.mark.parametrize("required", ["bearer", "api_key"])
def test_key_goes_in_both_documented_headers(serve, required):
    data = CekatData(n_messages=50, seed=11, auth_header=required)
    server = serve(cekat=data)
    run = run_messages(cekat_config(server))
    assert run.returncode == 0, run.stderr
    assert len(run.records(STREAM)) == 50
    headers = server.requests[0].headers
    assert headers["authorization"] == f"Bearer {CEKAT_KEY}"
    assert headers["api_key"] == CEKAT_KEY
    assert headers["user-agent"].startswith("tap-messages/")


def test_rejected_key_fails_loudly_without_leaking_it(serve):
    server = serve(cekat=CekatData(n_messages=10, seed=12))
    wrong = "wrong-secret-key-aaaaaaaaaaaaaaaa"
    run = run_messages({"cekat": {"api_key": wrong, "base_url": server.base_url}})
    assert run.returncode != 0
    assert "Cekat rejected the API key (HTTP 401: Not authenticated)" in run.stderr
    assert "cekat.api_key" in run.stderr
    assert "Traceback" not in run.stderr
    assert wrong not in run.stdout + run.stderr
    assert not run.records(STREAM)
