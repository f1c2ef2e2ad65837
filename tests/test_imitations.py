"""The vendor imitations behave as api-facts.md describes (auth, paging, truncation, faults)."""

from __future__ import annotations

import http.client
import json
import re
import subprocess
import sys
import typing as t
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imitations import CekatData, ConvoticData, ImitationServer, RecordedRequest
from imitations.faults import (
    DROP_CONNECTION,
    every_nth,
    non_json_body,
    rate_limited,
    truncated_body,
)

UTC = timezone.utc
CK = {"Authorization": "Bearer cekat-test-key-0123456789"}
CV = {"X-API-Key": "cvtk_live_test0123456789abcdef"}
ROOT = Path(__file__).resolve().parents[1]


def get(
    srv: ImitationServer, path: str, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", srv.server_port, timeout=10)
    try:
        conn.request("GET", path, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), resp.read()
    finally:
        conn.close()


def get_json(srv: ImitationServer, path: str, headers: dict[str, str] | None = None) -> t.Any:
    status, _, body = get(srv, path, headers)
    return status, json.loads(body)


def cekat_page(data: CekatData, **params: t.Any) -> tuple[int, t.Any]:
    """Call the Cekat handler directly (no HTTP), for fast property tests."""
    query = {k: [str(v)] for k, v in params.items()}
    return data.handle("/api/messages", query, {"api_key": data.api_key})


# ---- Cekat ------------------------------------------------------------------------------------
def test_cekat_auth_accepts_bearer_or_api_key_header() -> None:
    with ImitationServer(cekat=CekatData(n_messages=3)) as srv:
        status, _, body = get(srv, "/api/messages")
        assert status == 401
        assert (
            body == b'{"success":false,"status_code":401,"error":{"message":"Not authenticated"}}'
        )
        assert get(srv, "/api/messages", CK)[0] == 200
        assert get(srv, "/api/messages", {"api_key": "cekat-test-key-0123456789"})[0] == 200
        assert get(srv, "/api/messages", {"Authorization": "Bearer nope"})[0] == 401
    strict = CekatData(n_messages=3, auth_header="bearer")
    assert strict.handle("/api/messages", {}, {"api_key": strict.api_key})[0] == 401
    assert strict.handle("/api/messages", {}, {"authorization": CK["Authorization"]})[0] == 200


@pytest.mark.parametrize("order", ["oldest_first", "newest_first"])
def test_cekat_pages_cover_everything_in_order(
    order: t.Literal["oldest_first", "newest_first"],
) -> None:
    data = CekatData(n_messages=25, order=order)
    with ImitationServer(cekat=data) as srv:
        pages = [get_json(srv, f"/api/messages?page={p}&limit=10", CK)[1] for p in (1, 2, 3, 4)]
    metas = [p["metadata"]["pagination"] for p in pages]
    assert [m["current_items"] for m in metas] == [10, 10, 5, 0]
    assert {(m["total_page"], m["total_items"]) for m in metas} == {(3, 25)}
    assert [m["current_page"] for m in metas] == [1, 2, 3, 4]
    served = [m["id"] for p in pages for m in p["data"]]
    expected = [m["id"] for m in data.messages]
    assert served == (expected if order == "oldest_first" else expected[::-1])


def test_cekat_defaults_clamp_skew_and_bad_params() -> None:
    data = CekatData(n_messages=25, max_limit=7, total_page_skew=-1)
    status, body = cekat_page(data)
    assert status == 200
    assert len(body["data"]) == 7  # default limit 10, clamped silently to 7
    assert body["metadata"]["pagination"]["total_page"] == 3  # ceil(25 / 7) - 1
    assert len(cekat_page(data, limit=1000)[1]["data"]) == 7
    assert cekat_page(data, page="abc")[0] == 400
    assert cekat_page(data, limit="1.5")[1]["status_code"] == 400
    assert cekat_page(data, limit=5, start_date="2026-01-01")[0] == 200  # unknown params ignored
    assert (
        cekat_page(CekatData(n_messages=25, total_page_skew=2), limit=5)[1]["metadata"][
            "pagination"
        ]["total_page"]
        == 7
    )


def test_cekat_filters_and_message_shape() -> None:
    data = CekatData(n_messages=200, n_conversations=4, n_inboxes=2, seed=3)
    conv = data.conversation_ids()[0]
    inbox = data.messages[0]["inbox"]["id"]
    both = [m for m in data.messages if m["conversation_id"] == conv and m["inbox"]["id"] == inbox]
    body = cekat_page(data, conversation_id=conv, inbox_id=inbox, limit=500)[1]
    assert [m["id"] for m in body["data"]] == [m["id"] for m in both]
    by_inbox = cekat_page(data, inbox_id=inbox, limit=500)[1]["data"]
    assert by_inbox
    assert all(m["inbox"]["id"] == inbox for m in by_inbox)
    fields = {"id", "message", "conversation_id", "sent_by", "sent_by_name", "sent_by_type"}
    fields |= {"media_type", "media_url", "status", "is_template", "created_at", "updated_at"}
    fields |= {"additional_data", "contact", "inbox"}
    assert all(set(m) == fields for m in data.messages)


def test_cekat_timestamps_are_naive_jakarta_and_deterministic() -> None:
    start = datetime(2026, 4, 10, 9, 24, 23, tzinfo=UTC)
    data = CekatData(n_messages=300, seed=5, start=start)
    first = data.messages[0]
    assert first["created_at"] == "2026-04-10 16:24:23"
    assert data.utc_of(first["created_at"]) == start
    naive = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")
    created = [m["created_at"] for m in data.messages]
    assert all(naive.fullmatch(c) for c in created)
    assert created == sorted(created)
    assert len(set(created)) < len(created)  # some messages share a second
    assert all(m["updated_at"] >= m["created_at"] for m in data.messages)
    assert any(m["updated_at"] > m["created_at"] for m in data.messages)
    assert [m["id"] for m in CekatData(n_messages=300, seed=5, start=start).messages] == [
        m["id"] for m in data.messages
    ]


def test_cekat_live_inserts_shift_pages_and_updates_move() -> None:
    data = CekatData(n_messages=20, order="newest_first")
    page1 = [m["id"] for m in cekat_page(data, page=1, limit=5)[1]["data"]]
    added = data.add_messages(2)
    page2 = [m["id"] for m in cekat_page(data, page=2, limit=5)[1]["data"]]
    assert page2[:2] == page1[-2:]  # rows slid down onto the next page
    assert data.messages[-1] is added[-1]
    assert {m["id"] for m in added} <= data.ids()

    by_update = CekatData(n_messages=20, order_by="updated_at", order="newest_first")
    oldest = by_update.messages[0]["id"]
    at = datetime(2027, 1, 1, tzinfo=UTC)
    assert by_update.update_status([oldest], "failed", at=at) == 1
    top = cekat_page(by_update, limit=1)[1]["data"][0]
    assert (top["id"], top["status"], top["updated_at"]) == (
        oldest,
        "failed",
        "2027-01-01 07:00:00",
    )


def test_cekat_raw_records_are_served_as_is() -> None:
    data = CekatData(n_messages=2)
    hostile = {
        "id": 42,
        "message": "nul\x00 and emoji 😀",
        "created_at": "not a date",
        "extra": [1],
    }
    data.add_raw(hostile)
    with ImitationServer(cekat=data) as srv:
        status, body = get_json(srv, "/api/messages?limit=10", CK)
    assert status == 200
    assert body["data"][-1] == hostile
    assert 42 not in data.ids()
    assert len(data.ids()) == 2


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(0, 60),
    limit=st.integers(1, 15),
    order=st.sampled_from(["oldest_first", "newest_first"]),
)
def test_cekat_page_walk_sees_each_message_once(n: int, limit: int, order: t.Any) -> None:
    data = CekatData(n_messages=n, order=order)
    pages = cekat_page(data, limit=limit)[1]["metadata"]["pagination"]["total_page"]
    seen = [
        m["id"]
        for p in range(1, pages + 2)
        for m in cekat_page(data, page=p, limit=limit)[1]["data"]
    ]
    assert sorted(seen) == sorted(data.ids())


# ---- Convotic ---------------------------------------------------------------------------------
def test_convotic_auth_bodies() -> None:
    with ImitationServer(
        convotic=ConvoticData(n_conversations=1, messages_per_conversation=2)
    ) as srv:
        for headers in ({}, {"X-API-Key": "wrong"}):
            status, body = get_json(srv, "/v1/info", headers)
            assert (status, body) == (
                401,
                {"error": {"code": "UNAUTHORIZED", "message": "Invalid API key"}},
            )
        assert get_json(srv, "/v1/info", CV) == (
            200,
            {"version": "1.0.0", "blocks": ["inbox"], "docsUrl": "https://convotic-docs.pages.dev"},
        )
    data = ConvoticData(auth_body="auth_page")
    assert data.handle("/v1/info", {}, {}) == (401, {"error": "missing_api_key"})
    assert data.handle("/v1/info", {}, {"x-api-key": "x"}) == (401, {"error": "invalid_api_key"})


def test_convotic_validation_errors() -> None:
    with ImitationServer(
        convotic=ConvoticData(n_conversations=1, messages_per_conversation=5)
    ) as srv:
        status, body = get_json(srv, "/v1/messages", CV)
        assert (status, body["error"]["code"]) == (400, "INVALID_REQUEST")
        for bad in ("0", "101", "abc", "5.0"):
            assert get_json(srv, f"/v1/messages?conversationId=conv_0001&limit={bad}", CV) == (
                400,
                {
                    "error": {
                        "code": "INVALID_REQUEST",
                        "message": "limit must be between 1 and 100",
                    }
                },
            )
        assert get_json(srv, "/v1/messages?conversationId=conv_0001&from=yesterday", CV)[0] == 400
        unencoded_plus = "/v1/messages?conversationId=conv_0001&from=2026-01-01T00:00:00+00:00"
        assert get_json(srv, unencoded_plus, CV)[0] == 400  # '+' decodes to a space
        assert get_json(srv, "/v1/messages?conversationId=conv_invalid", CV) == (
            404,
            {"error": {"code": "NOT_FOUND", "message": "Conversation 'conv_invalid' not found"}},
        )
        assert get_json(srv, "/v1/conversations", CV)[0] == 404


def test_convotic_windows_are_inclusive_in_any_iso_spelling() -> None:
    data = ConvoticData(conversations={"c1": 400}, seed=2, max_burst=50)
    msgs = data.messages_of("c1")
    stamp = msgs[200]["timestamp"]
    same_second = [m["id"] for m in msgs if m["timestamp"] == stamp]
    plus = stamp.replace("Z", "+00:00")
    fraction = stamp.replace("Z", ".000Z")
    for lo, hi in ((stamp, stamp), (plus, plus), (fraction, stamp)):
        q = {"conversationId": ["c1"], "from": [lo], "to": [hi], "limit": ["100"]}
        status, body = data.handle("/v1/messages", q, {"x-api-key": data.api_key})
        assert status == 200
        assert [m["id"] for m in body["messages"]] == same_second[:100]
        assert body["total"] == len(same_second)
    with ImitationServer(convotic=data) as srv:
        status, body = get_json(
            srv, f"/v1/messages?conversationId=c1&from={quote(plus)}&limit=1", CV
        )
        assert (status, body["messages"][0]["timestamp"]) == (200, stamp)


@pytest.mark.parametrize("truncate", ["keep_earliest", "keep_latest"])
def test_convotic_truncation_end_and_bursts(truncate: t.Any) -> None:
    data = ConvoticData(
        conversations={"conv_big": 500},
        burst_probability=0.5,
        max_burst=150,
        seed=7,
        truncate=truncate,
    )
    msgs = data.messages_of("conv_big")
    stamps = [m["timestamp"] for m in msgs]
    assert stamps == sorted(stamps)
    assert max(stamps.count(s) for s in set(stamps)) > 100  # a burst larger than any page
    status, body = data.handle(
        "/v1/messages",
        {"conversationId": ["conv_big"], "limit": ["100"]},
        {"x-api-key": data.api_key},
    )
    assert (status, body["total"], body["limit"], body["conversationId"]) == (
        200,
        500,
        100,
        "conv_big",
    )
    expected = msgs[:100] if truncate == "keep_earliest" else msgs[-100:]
    assert body["messages"] == expected


def test_convotic_ids_repeat_across_conversations_and_platform_filter() -> None:
    data = ConvoticData(n_conversations=3, messages_per_conversation=4, seed=1)
    assert data.conversation_ids() == ["conv_0001", "conv_0002", "conv_0003"]
    pairs = data.keys()
    assert len(pairs) == 12
    assert len({mid for _, mid in pairs}) == 4
    msg = data.messages_of("conv_0002")[0]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", msg["timestamp"])
    assert msg["direction"] != "inbound" or msg["sender"]["id"].startswith("ct_")
    key = {"x-api-key": data.api_key}
    same = {"conversationId": ["conv_0002"], "platform": [msg["platform"]]}
    other = {"conversationId": ["conv_0002"], "platform": ["telegram"]}
    assert data.handle("/v1/messages", same, key)[1]["total"] == 4
    assert data.handle("/v1/messages", other, key)[1]["total"] == 0
    assert data.handle("/v1/messages", {**other, "conversationId": ["nope"]}, key)[0] == 404
    data.add_messages("conv_0002", 2)
    data.add_raw("conv_0002", {"id": "msg_x", "platform": "telegram", "timestamp": "bad"})
    assert data.handle("/v1/messages", other, key)[1]["total"] == 1
    assert data.handle("/v1/messages", same, key)[1]["total"] == 6


# ---- Server and faults ------------------------------------------------------------------------
def test_keep_alive_connection_serves_many_requests_with_rate_headers() -> None:
    with ImitationServer(cekat=CekatData(n_messages=50), convotic=None) as srv:
        conn = http.client.HTTPConnection("127.0.0.1", srv.server_port, timeout=10)
        conn.connect()
        sock = conn.sock
        remaining = []
        for i in range(200):
            conn.request("GET", f"/api/messages?page={i % 6 + 1}", headers=CK)
            resp = conn.getresponse()
            resp.read()
            assert resp.status == 200
            assert resp.getheader("X-RateLimit-Limit") == "1000"
            remaining.append(int(resp.getheader("X-RateLimit-Remaining") or -1))
        assert conn.sock is sock  # one connection throughout
        conn.close()
        assert remaining == list(range(999, 799, -1))
        assert get(srv, "/v1/info", CV)[0] == 404  # vendor not hosted
        assert len(srv.requests) == 201
        assert srv.requests[0].params == {"page": ["1"]}


def test_faults_drop_truncate_and_non_json() -> None:
    with ImitationServer(cekat=CekatData(n_messages=5)) as srv:
        srv.fault = every_nth(2, DROP_CONNECTION)
        assert get(srv, "/api/messages", CK)[0] == 200
        with pytest.raises(ConnectionError):
            get(srv, "/api/messages", CK)
        srv.fault = lambda req: truncated_body()
        with pytest.raises(http.client.IncompleteRead):
            get(srv, "/api/messages", CK)
        srv.fault = lambda req: non_json_body(502)
        status, headers, body = get(srv, "/api/messages", CK)
        assert (status, headers["Content-Type"]) == (502, "text/html")
        with pytest.raises(json.JSONDecodeError):
            json.loads(body)
        srv.fault = None
        assert get(srv, "/api/messages", CK)[0] == 200
        assert [r.status for r in srv.requests] == [200, 0, 200, 502, 200]


@pytest.mark.parametrize("as_fault", [True, False])
def test_rate_limit_answers_429_with_retry_after(as_fault: bool) -> None:
    limiter = rate_limited(2, 30.0)
    srv = ImitationServer(
        cekat=CekatData(n_messages=1),
        convotic=ConvoticData(n_conversations=1, messages_per_conversation=1),
    )
    if as_fault:
        srv.fault = limiter
    else:
        srv.rate_limiter = limiter
    with srv:
        assert [get(srv, "/v1/info", CV)[1]["X-RateLimit-Remaining"] for _ in range(2)] == [
            "1",
            "0",
        ]
        status, headers, body = get(srv, "/v1/info", CV)
        assert status == 429
        wait = int(headers["Retry-After"])
        assert 1 <= wait <= 30
        assert json.loads(body) == {
            "error": {
                "code": "RATE_LIMITED",
                "message": f"Rate limit exceeded. Retry after {wait} seconds.",
            }
        }
        assert get(srv, "/api/messages", CK)[0] == 200  # another key has its own window
        get(srv, "/api/messages", CK)
        status, headers, body = get(srv, "/api/messages", CK)
        assert (status, json.loads(body)["status_code"]) == (429, 429)
        assert "Retry-After" in headers


def test_after_request_hook_sees_recorded_request() -> None:
    data = CekatData(n_messages=3)
    seen: list[RecordedRequest] = []

    def hook(req: RecordedRequest) -> None:
        seen.append(req)
        data.add_messages(1)

    with ImitationServer(cekat=data, after_request=hook, latency_s=0.001) as srv:
        get(srv, "/api/messages?limit=2&page=1", {"api_key": data.api_key})
        total = get_json(srv, "/api/messages", CK)[1]["metadata"]["pagination"]["total_items"]
    assert total == 4
    assert (seen[0].vendor, seen[0].path, seen[0].status) == ("cekat", "/api/messages", 200)
    assert seen[0].params == {"limit": ["2"], "page": ["1"]}
    assert seen[0].headers["api_key"] == data.api_key


def test_cli_prints_one_json_line_and_stops_on_sigterm() -> None:
    cmd = [
        sys.executable,
        "-m",
        "imitations",
        "--cekat-messages",
        "30",
        "--convotic-conversations",
        "2",
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        info = json.loads(proc.stdout.readline())
        assert info["convotic_conversation_ids"] == ["conv_0001", "conv_0002"]
        host, port = info["base_url"].removeprefix("http://").split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        conn.request("GET", "/api/messages", headers={"api_key": info["cekat_api_key"]})
        assert conn.getresponse().status == 200
        conn.close()
        proc.terminate()
        assert proc.wait(timeout=10) == 0
    finally:
        proc.kill()


def test_naive_datetimes_are_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        CekatData(start=datetime(2026, 1, 1))
    assert ConvoticData(start=datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=7))))


def test_cekat_deletes_move_later_rows_up_and_null_data_marks_an_empty_page() -> None:
    data = CekatData(n_messages=30, seed=9, null_when_empty=True)
    first_page = [m["id"] for m in cekat_page(data, limit=10)[1]["data"]]
    assert data.delete(first_page[:3]) == 3
    body = cekat_page(data, limit=10)[1]
    assert [m["id"] for m in body["data"]][:7] == first_page[3:]
    assert body["metadata"]["pagination"]["total_items"] == 27
    assert cekat_page(data, limit=10, page=9)[1]["data"] is None


@pytest.mark.parametrize(
    ("total_means", "expected"),
    [("window", 30), ("returned", 10), ("conversation", 40), ("absent", None)],
)
def test_convotic_total_can_mean_each_thing_the_docs_allow(
    total_means: t.Any, expected: t.Any
) -> None:
    data = ConvoticData(seed=9, total_means=total_means)
    data.add_messages("conv_t", 10, at=datetime(2026, 1, 1, tzinfo=UTC))
    data.add_messages("conv_t", 30, at=datetime(2026, 2, 1, tzinfo=UTC))
    params = {
        "conversationId": ["conv_t"],
        "from": ["2026-01-15T00:00:00Z"],
        "to": ["2026-03-01T00:00:00Z"],
        "limit": ["10"],
    }
    status, body = data.handle("/v1/messages", params, {"x-api-key": data.api_key})
    assert status == 200
    assert len(body["messages"]) == 10
    assert body.get("total") == expected
