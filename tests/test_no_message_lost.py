"""Every message arrives, or the run says loudly what it could not read, whatever the APIs do.

The five ways an independent imitation once made the tap lose messages silently, each over real
HTTP against the imitations, plus the late status changes a lookback exists for.
"""

from __future__ import annotations

import json
import random
import typing as t
from datetime import timedelta

import pytest

from imitations import CekatData, ConvoticData
from imitations.base import Response, dumps
from tests.conftest import cekat_config, convotic_config
from tests.singer_run import run_messages

CEKAT, CONVOTIC = "cekat_messages", "convotic_messages"
ORDERS = [
    ("newest_first", "created_at"),
    ("newest_first", "updated_at"),
    ("oldest_first", "created_at"),
    ("oldest_first", "updated_at"),
]


def ids(run, stream: str = CEKAT) -> set[str]:
    return {r["id"] for r in run.records(stream)}


def completeness(run, stream: str) -> str:
    return next(
        line for line in run.stderr.splitlines() if f"{stream}: " in line and "emitted" in line
    )


@pytest.mark.parametrize(("order", "order_by"), ORDERS)
def test_older_messages_whose_status_changed_inside_the_lookback_arrive_in_the_next_run(
    serve, order, order_by
):
    data = CekatData(n_messages=3000, seed=100, order=order, order_by=order_by)
    server = serve(cekat=data)
    first = run_messages(cekat_config(server))
    full = len(server.requests)
    newest = max(data.utc_of(m["created_at"]) for m in data.messages)
    recent = [
        m["id"]
        for m in data.messages
        if data.utc_of(m["created_at"]) > newest - timedelta(hours=20)
    ]
    changed = random.Random(100).sample(recent[:-200], 20)  # older than the last two pages
    data.update_status(changed, "read")
    server.requests.clear()
    second = run_messages(cekat_config(server), first.final_state)
    assert second.returncode == 0, second.stderr[-2000:]
    emitted = {r["id"]: r for r in second.records(CEKAT)}
    assert set(changed) <= set(emitted), f"{len(set(changed) - set(emitted))} of 20 missing"
    assert all(emitted[i]["status"] == "read" for i in changed)
    print(f"\n{order} by {order_by}: full sync {full} requests, increment {len(server.requests)}")
    assert len(server.requests) < full, "the increment reads less than the whole history"


@pytest.mark.parametrize("order", ["newest_first", "oldest_first"])
def test_messages_deleted_while_the_walk_pages_leave_every_survivor_emitted(serve, order):
    data = CekatData(n_messages=2400, seed=101, order=order)
    before = data.ids()
    deleted: set[str] = set()
    rng = random.Random(101)

    def delete_some(request: t.Any) -> None:
        if request.path == "/api/messages":
            doomed = rng.sample(sorted(data.ids()), 2)
            deleted.update(doomed)
            data.delete(doomed)

    server = serve(cekat=data, after_request=delete_some)
    run = run_messages(cekat_config(server))
    assert run.returncode == 0, run.stderr[-2000:]
    survivors = before - deleted
    assert len(deleted) >= 40
    assert survivors <= ids(run), f"{len(survivors - ids(run))} of {len(survivors)} missing"
    assert "shortfalls: none" in completeness(run, CEKAT)


def empty_page_of(data: CekatData, request: t.Any) -> Response:
    """The page the request asks for, with its rows gone and its totals kept."""
    status, body = data.handle(request.path, request.params, request.headers)
    body["data"] = []
    return Response(status, {"Content-Type": "application/json"}, dumps(body))


def test_one_transient_empty_page_that_the_totals_contradict_is_asked_again(serve):
    data = CekatData(n_messages=2400, seed=102)
    count = 0

    def once_empty(request: t.Any) -> Response | None:
        nonlocal count
        count += 1
        return empty_page_of(data, request) if count == 3 else None

    server = serve(cekat=data, fault=once_empty)
    run = run_messages(cekat_config(server))
    assert run.returncode == 0, run.stderr[-2000:]
    assert ids(run) == data.ids(), f"{len(ids(run))} of 2400"
    assert "shortfalls: none" in completeness(run, CEKAT)


def hole_at(data: CekatData, low: int, high: int) -> t.Callable[[t.Any], Response | None]:
    """Pages that start between rows `low` and `high` always come back empty."""

    def fault(request: t.Any) -> Response | None:
        page, limit = int(request.params["page"][0]), int(request.params["limit"][0])
        return empty_page_of(data, request) if low <= (page - 1) * limit < high else None

    return fault


def shortfall_warned(run) -> bool:
    lines = [line for line in run.stderr.splitlines() if "stayed empty" in line]
    return bool(lines) and "WARNING" in lines[0]


def test_a_page_that_stays_empty_is_named_and_the_bookmark_is_not_advanced(serve):
    data = CekatData(n_messages=2400, seed=103)
    server = serve(cekat=data, fault=hole_at(data, 1000, 1100))
    run = run_messages(cekat_config(server))
    assert run.returncode == 0, run.stderr[-2000:]
    assert shortfall_warned(run)
    assert "shortfalls: none" not in completeness(run, CEKAT)
    assert len(ids(run)) >= 2400 - 100, "the walk went on to the rows promised after the hole"
    assert "replication_key_value" not in run.final_state["bookmarks"][CEKAT]
    server.fault = None
    again = run_messages(cekat_config(server), run.final_state)
    assert ids(again) == data.ids(), "the next run reads everything again"


def test_an_increment_with_a_page_that_stays_empty_keeps_the_old_bookmark(serve):
    data = CekatData(n_messages=2400, seed=110, order="newest_first")
    server = serve(cekat=data)
    first = run_messages(cekat_config(server))
    data.add_messages(300)
    server.fault = hole_at(data, 100, 200)
    run = run_messages(cekat_config(server, lookback="PT0S"), first.final_state)
    assert run.returncode == 0, run.stderr[-2000:]
    assert shortfall_warned(run)
    held = run.final_state["bookmarks"][CEKAT]["replication_key_value"]
    assert held == first.bookmark(CEKAT)["replication_key_value"]
    server.fault = None
    again = run_messages(cekat_config(server, lookback="PT0S"), run.final_state)
    assert {m["id"] for m in data.messages[-300:]} <= ids(again) | ids(run)


def test_data_null_at_the_end_of_the_list_is_an_empty_page(serve):
    data = CekatData(n_messages=300, seed=104, null_when_empty=True)
    server = serve(cekat=data)
    run = run_messages(cekat_config(server))
    assert run.returncode == 0, run.stderr[-2000:]
    assert ids(run) == data.ids()


def success_false(message: str, status: int | None = None) -> Response:
    body: dict[str, t.Any] = {"success": False, "error": {"message": message}}
    if status is not None:
        body["status_code"] = status
    return Response(200, {"Content-Type": "application/json"}, json.dumps(body).encode())


def test_success_false_says_the_vendors_words_and_is_retried_when_transient(serve):
    data = CekatData(n_messages=400, seed=105)
    count = 0

    def flaky(request: t.Any) -> Response | None:
        nonlocal count
        count += 1
        return success_false("Service temporarily unavailable") if count % 3 == 0 else None

    server = serve(cekat=data, fault=flaky)
    run = run_messages(cekat_config(server))
    assert run.returncode == 0, run.stderr[-2000:]
    assert ids(run) == data.ids()
    assert (
        "Cekat refused /api/messages (success: false): Service temporarily unavailable"
        in run.stderr
    )
    server.fault = lambda request: success_false("Inbox access revoked for this key", 403)
    refused = run_messages(cekat_config(server))
    assert refused.returncode == 1
    last = refused.stderr.strip().splitlines()[-1]
    assert "Cekat refused /api/messages (success: false): Inbox access revoked for this key" in last
    assert "Traceback" not in refused.stderr


@pytest.mark.parametrize("total_means", ["window", "returned", "conversation", "absent"])
def test_every_reading_of_convotic_total_reads_every_message_and_ends(serve, total_means):
    data = ConvoticData(
        n_conversations=6, messages_per_conversation=600, seed=106, total_means=total_means
    )
    server = serve(convotic=data)
    run = run_messages(convotic_config(server, data.conversation_ids()))
    assert run.returncode == 0, run.stderr[-2000:]
    assert {(r["conversationId"], r["id"]) for r in run.records(CONVOTIC)} == data.keys()
    assert len(server.requests) <= 6 * 8, "about ceil(601 / 100) requests per conversation"


@pytest.mark.parametrize("total_means", ["returned", "window", "absent"])
def test_more_messages_at_one_instant_than_an_answer_holds_get_a_warning(serve, total_means):
    data = ConvoticData(conversations={"conv_a": 10}, seed=107, total_means=total_means)
    data.add_messages("conv_a", 150, spacing_s=0)
    server = serve(convotic=data)
    run = run_messages(convotic_config(server, ["conv_a"]))
    assert run.returncode == 0
    assert len(run.records(CONVOTIC)) == 110
    warning = next(line for line in run.stderr.splitlines() if "share the instant" in line)
    assert "WARNING" in warning
    expected = "up to 50 messages" if total_means == "window" else "an unknown number of messages"
    assert expected in warning
    assert "conv_a" in completeness(run, CONVOTIC)


def test_a_convotic_api_whose_answers_never_narrow_stops_with_the_conversation_named(serve):
    stamp = "2026-06-01T00:00:00Z"
    answer = {
        "messages": [
            {"id": f"m{i}", "conversationId": "c", "timestamp": stamp} for i in range(100)
        ],
        "total": 100,
        "limit": 100,
    }

    def same_instant(request: t.Any) -> Response:
        low = request.params["from"][0]
        body = {**answer, "messages": [{**m, "timestamp": low} for m in answer["messages"]]}
        return Response(200, {"Content-Type": "application/json"}, json.dumps(body).encode())

    data = ConvoticData(conversations={"conv_x": 1}, seed=108)
    server = serve(convotic=data, fault=same_instant)
    run = run_messages(
        {**convotic_config(server, ["conv_x"]), "start_date": "2026-06-01T00:00:00Z"}
    )
    assert run.returncode == 1
    last = run.stderr.strip().splitlines()[-1]
    assert "Convotic conversation conv_x:" in last
    assert "the API's answers do not narrow as the windows do" in last
    assert len(server.requests) <= 120


def test_each_stream_ends_with_a_completeness_line(serve):
    cekat = CekatData(n_messages=500, seed=109)
    convotic = ConvoticData(n_conversations=3, messages_per_conversation=120, seed=109)
    server = serve(cekat=cekat, convotic=convotic)
    config = {**cekat_config(server), **convotic_config(server, convotic.conversation_ids())}
    run = run_messages(config)
    cekat_line, convotic_line = completeness(run, CEKAT), completeness(run, CONVOTIC)
    assert "500 records emitted (0 quarantined)" in cekat_line
    assert "pages re-read" in cekat_line
    assert "360 records emitted (0 quarantined)" in convotic_line
    assert "windows re-read, shortfalls: none" in convotic_line
