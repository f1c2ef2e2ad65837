"""Cekat's contacts, agents and inboxes: every row once, in UTC, through the messages' page walk."""

from __future__ import annotations

import math

import pytest

from imitations import CekatData, ConvoticData, Response
from imitations.faults import RateLimiter
from tap_messages.shared.timestamps import is_utc
from tests.conftest import cekat_config, convotic_config
from tests.singer_run import run_tap

LISTS = ("cekat_contacts", "cekat_agents", "cekat_inboxes")


def requests_to(server, path: str) -> list[tuple[int, int]]:
    return [
        (int(r.params["page"][0]), int(r.params["limit"][0]))
        for r in server.requests
        if r.path == path
    ]


@pytest.mark.parametrize("max_limit", [None, 7])
def test_each_list_arrives_whole_once_whatever_total_page_or_the_limit_cap_say(serve, max_limit):
    data = CekatData(n_messages=600, n_conversations=230, n_inboxes=5, seed=61, max_limit=max_limit)
    server = serve(cekat=data)
    run = run_tap(cekat_config(server, page_size=40))
    assert run.returncode == 0, run.stderr[-2000:]
    served = {
        "cekat_contacts": data.directory.contacts(),
        "cekat_agents": data.directory.agents(),
        "cekat_inboxes": data.directory.inboxes(),
    }
    for stream in LISTS:
        ids = [r["id"] for r in run.records(stream)]
        assert sorted(ids) == sorted(r["id"] for r in served[stream]), stream
    assert len(served["cekat_contacts"]) == 230  # total_page says 115 pages: not trusted
    pages = requests_to(server, "/api/contacts")
    assert len(pages) == len(set(pages)), "no page asked for twice"
    # Overlapping pages bring at least half a page each (cekat_pages); about 88 % when not capped.
    assert len(pages) <= math.ceil(230 / ((max_limit or 40) / 2)) + 1
    assert run.assert_records_match_schemas() > 230


def test_the_lists_hold_the_ids_the_messages_point_to(serve):
    data = CekatData(n_messages=800, n_conversations=40, seed=62)
    server = serve(cekat=data)
    run = run_tap(cekat_config(server))
    messages = run.records("cekat_messages")
    contacts = {r["id"] for r in run.records("cekat_contacts")}
    agents = {r["id"] for r in run.records("cekat_agents")}
    inboxes = {r["id"] for r in run.records("cekat_inboxes")}
    assert {m["contact"]["id"] for m in messages} == contacts
    assert {m["inbox"]["id"] for m in messages} == inboxes
    assert {m["sent_by"] for m in messages if m["sent_by_type"] == "agent"} <= agents


def test_offset_and_naive_times_all_leave_in_the_one_utc_format(serve):
    data = CekatData(n_messages=50, seed=63)
    server = serve(cekat=data)
    run = run_tap(cekat_config(server))
    agents = {a["id"]: a for a in data.directory.agents()}
    for stream in LISTS:
        for record in run.records(stream):
            assert is_utc(record["created_at"]), (stream, record["created_at"])
    for record in run.records("cekat_agents"):
        naive = agents[record["id"]]["created_at"]  # naive with microseconds: read as UTC
        assert "+" not in naive
        assert record["created_at"] == naive + "+00:00"
    contact = data.directory.contacts()[0]
    [landed] = [r for r in run.records("cekat_contacts") if r["id"] == contact["id"]]
    assert landed["created_at"] == contact["created_at"]  # already UTC with microseconds


def test_every_cekat_stream_is_skipped_in_one_line_without_the_key(serve):
    data = ConvoticData(n_conversations=2, messages_per_conversation=5, seed=64)
    server = serve(convotic=data)
    run = run_tap(convotic_config(server, data.conversation_ids()))
    assert run.returncode == 0, run.stderr[-2000:]
    for stream in ("cekat_messages", "cekat_conversations", *LISTS):
        lines = [line for line in run.stderr.splitlines() if f"Skipping {stream}:" in line]
        assert len(lines) == 1, stream
        assert "cekat.api_key is not set" in lines[0]
        assert not run.records(stream)
    assert {r.vendor for r in server.requests} == {"convotic"}
    assert len(run.records("convotic_contacts")) == 2


def test_one_keys_rate_limit_covers_every_cekat_stream(serve):
    data = CekatData(n_messages=1500, n_conversations=300, seed=65)
    server = serve(cekat=data, rate_limiter=RateLimiter(15, 1.0))
    run = run_tap({**cekat_config(server, page_size=50), "rate_limit_window": 1})
    assert run.returncode == 0, run.stderr[-2000:]
    assert {r.path for r in server.requests} == {
        "/api/messages",
        "/api/conversations",
        "/api/contacts",
        "/api/agents",
        "/api/inboxes",
    }
    assert len(server.requests) > 3 * 15, "several windows' worth: the budget had to be shared"
    assert [r.status for r in server.requests].count(429) == 0
    assert len(run.records("cekat_messages")) == 1500
    assert len(run.records("cekat_conversations")) == len(run.records("cekat_contacts")) == 300


@pytest.mark.parametrize(
    ("path", "status", "says"),
    [
        ("/api/agents", 503, "Cekat /api/agents: gave up after 3 attempts (max_retries=2)"),
        ("/api/conversations", 401, "Cekat rejected the API key (HTTP 401"),
        ("/api/inboxes", 404, "Cekat answered HTTP 404 on /api/inboxes (the resource does not"),
    ],
)
def test_a_bad_answer_on_a_new_endpoint_ends_the_run_in_one_clear_line(serve, path, status, says):
    def refuse(request):
        if request.path != path:
            return None
        body = b'{"success":false,"error":{"message":"no"}}'
        return Response(status, {"Content-Type": "application/json"}, body)

    server = serve(cekat=CekatData(n_messages=50, seed=66), fault=refuse)
    run = run_tap({**cekat_config(server), "max_retries": 2})
    assert run.returncode == 1
    assert says in run.stderr.strip().splitlines()[-1]
    assert "Traceback" not in run.stderr
