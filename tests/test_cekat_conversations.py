"""cekat_conversations: the keyset walk reads each conversation once, ends, and never loops."""

from __future__ import annotations

import datetime as dt

import pytest

from imitations import CekatData
from tap_messages.shared.timestamps import format_utc, is_utc
from tests.conftest import cekat_config
from tests.singer_run import run_tap

STREAM = "cekat_conversations"
UTC = dt.timezone.utc


def cursors_sent(server) -> list[tuple[str, str] | None]:
    """The cursor of each request of the walk (None for the first page), not of the look back."""
    found: list[tuple[str, str] | None] = []
    for r in server.requests:
        if r.path == "/api/conversations":
            cid, ts = r.params.get("cursor_id"), r.params.get("cursor_ts")
            if found and not (cid and ts):
                return found  # from here the walk looks at the top again for what moved
            found.append((cid[0], ts[0]) if cid and ts else None)
    return found


@pytest.mark.parametrize("order", ["oldest_first", "newest_first"])
@pytest.mark.parametrize("cursor_on_last_page", [False, True])
def test_every_conversation_arrives_once_and_the_walk_ends(serve, order, cursor_on_last_page):
    data = CekatData(n_messages=900, n_conversations=250, seed=71)
    data.directory.conversations.order = order
    data.directory.conversations.cursor_on_last_page = cursor_on_last_page
    server = serve(cekat=data)
    run = run_tap(cekat_config(server, page_size=50))
    assert run.returncode == 0, run.stderr[-2000:]
    ids = [r["id"] for r in run.records(STREAM)]
    assert len(ids) == len(set(ids)) == 250
    assert set(ids) == set(data.conversation_ids())
    cursors = cursors_sent(server)
    assert cursors[0] is None
    assert len(cursors) == len(set(cursors)), "no cursor sent twice"
    # 250 rows in pages of 50: 5 full pages, and one empty page when the last still has a cursor
    assert len(cursors) == (6 if cursor_on_last_page else 5)
    assert all(ts.count(".") == 1 and "+" not in ts for _, ts in filter(None, cursors))
    assert "shortfalls: none" in run.stderr
    assert "may be unread" not in run.stderr


def test_a_repeated_cursor_stops_the_walk_loudly_instead_of_looping(serve):
    data = CekatData(n_messages=300, n_conversations=120, seed=72)
    # From the 2nd cursor on, the server answers that cursor's page again, whatever is sent.
    data.directory.conversations.stuck_after = 2
    server = serve(cekat=data)
    run = run_tap(cekat_config(server, page_size=20))
    assert run.returncode == 0, run.stderr[-2000:]
    cursors = cursors_sent(server)
    # None, C1, C2, then C3, whose answer points to C3 again: the walk stops there.
    assert len(cursors) == 4, "stopped at the first repeated cursor"
    ids = [r["id"] for r in run.records(STREAM)]
    assert len(ids) == len(set(ids)) == 60  # three pages; the repeat brought nothing new
    warnings = [line for line in run.stderr.splitlines() if "the cursor came again" in line]
    assert warnings, run.stderr[-2000:]
    assert "WARNING" in warnings[0]
    assert "conversations after it may be unread" in warnings[0]


def test_conversations_active_during_the_walk_arrive_when_served_by_last_activity(serve):
    data = CekatData(n_messages=900, n_conversations=250, seed=76)
    data.directory.conversations.order = "latest_activity"
    data.directory.conversations.active_per_page = 7  # each jumps above the cursor
    server = serve(cekat=data)
    run = run_tap(cekat_config(server, page_size=20))
    assert run.returncode == 0, run.stderr[-2000:]
    ids = [r["id"] for r in run.records(STREAM)]
    assert len(ids) == len(set(ids)) == 250
    looks_back = len([r for r in server.requests if r.path == "/api/conversations"])
    assert looks_back > len(cursors_sent(server)) + 1, "what moved took more than one page"
    assert "shortfalls: none" in run.stderr


def test_times_leave_in_utc_and_the_inbox_filter_partitions(serve):
    data = CekatData(n_messages=400, n_conversations=60, n_inboxes=3, seed=73)
    server = serve(cekat=data)
    wanted = data.inbox_ids()[:2]
    run = run_tap(cekat_config(server, inbox_ids=wanted))
    assert run.returncode == 0, run.stderr[-2000:]
    rows = run.records(STREAM)
    served = {r["id"]: r for r in data.directory.conversations.rows()}
    assert {r["id"] for r in rows} == {i for i, r in served.items() if r["inbox_id"] in wanted}
    for record in rows:
        assert is_utc(record["created_at"])
        sent = served[record["id"]]["created_at"]  # "...T09:24:23.237+00:00"
        assert record["created_at"] == sent.replace("+00:00", "000+00:00")
        assert record["resolved_at"] is None or is_utc(record["resolved_at"])
        assert is_utc(record["last_message"]["created_at"])
    assert {
        tuple(r.params["inbox_id"]) for r in server.requests if r.path == "/api/conversations"
    } <= {(w,) for w in wanted}
    assert run.assert_records_match_schemas() >= len(rows)


def test_conversations_resolved_or_started_during_the_walk_are_read_once(serve):
    data = CekatData(n_messages=500, n_conversations=200, seed=74)
    conversations = data.directory.conversations
    before = [r["id"] for r in conversations.rows()]
    open_late = next(r["id"] for r in conversations.rows()[150:] if r["stage_status"] != "resolved")
    resolved_at = dt.datetime(2026, 3, 1, 8, 30, 15, 123000, tzinfo=UTC)
    changed = []

    def meanwhile(request) -> None:
        if request.path == "/api/conversations" and not changed:
            changed.append(conversations.resolve(open_late, resolved_at))
            data.add_messages(3, conversation_id="late-conversation-0001")

    server = serve(cekat=data, after_request=meanwhile)
    run = run_tap(cekat_config(server, page_size=30))
    assert run.returncode == 0, run.stderr[-2000:]
    records = {r["id"]: r for r in run.records(STREAM)}
    assert len(records) == len(run.records(STREAM))
    assert set(before) | {"late-conversation-0001"} == set(records)  # oldest first: read now
    assert records[open_late]["stage_status"] == "resolved"
    assert records[open_late]["resolved_at"] == format_utc(resolved_at)


def test_a_conversation_that_fails_its_schema_is_quarantined_or_stops_the_run(serve):
    data = CekatData(n_messages=200, n_conversations=30, seed=75)
    broken = data.directory.conversations.rows()[7]
    broken.update(stage_status=7, created_at="yesterday")
    server = serve(cekat=data)
    run = run_tap(cekat_config(server), streams=[STREAM, "quarantined_records"])
    assert run.returncode == 0, run.stderr[-2000:]
    assert len(run.records(STREAM)) == 29
    [quarantined] = run.records("quarantined_records")
    assert quarantined["stream"] == STREAM
    assert quarantined["record"]["id"] == broken["id"]
    assert any(e.startswith("stage_status") for e in quarantined["errors"])
    assert any(e.startswith("created_at") for e in quarantined["errors"])
    failed = run_tap({**cekat_config(server), "on_invalid_record": "fail"}, streams=[STREAM])
    assert failed.returncode == 1
    assert f'{STREAM}: record {{"id": "{broken["id"]}"}} fails the schema' in failed.stderr
