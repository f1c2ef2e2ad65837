"""SIGKILL at random points of a sync of both streams; resuming from the last STATE loses none."""

from __future__ import annotations

import random

import pytest

from imitations import CekatData, ConvoticData
from imitations.faults import RateLimiter
from tests.conftest import cekat_config, convotic_config
from tests.singer_run import kill_after, run_messages

KILLS = 14


def keys(messages):
    found = set()
    for m in messages:
        if m["type"] == "RECORD" and m["stream"] == "cekat_messages":
            found.add(("cekat", m["record"]["id"]))
        elif m["type"] == "RECORD" and m["stream"] == "convotic_messages":
            found.add((m["record"]["conversationId"], m["record"]["id"]))
    return found


@pytest.mark.parametrize(
    ("order", "order_by"),
    [("newest_first", "updated_at"), ("oldest_first", "created_at")],
    ids=["cekat-newest-first", "cekat-oldest-first"],
)
def test_union_of_killed_and_resumed_runs_holds_every_message(serve, order, order_by):
    # Newest first by the key the walk may stop at; oldest first, which Cekat pages read ahead.
    cekat = CekatData(n_messages=2500, seed=70, order=order, order_by=order_by)
    convotic = ConvoticData(
        n_conversations=15,
        messages_per_conversation=200,
        seed=70,
        truncate="keep_latest",
        max_burst=40,
    )
    unlimited = RateLimiter(10**9, 60.0, enforce=False)
    server = serve(cekat=cekat, convotic=convotic, latency_s=0.005, rate_limiter=unlimited)
    config = {
        **cekat_config(server),
        **convotic_config(server, convotic.conversation_ids()),
        "max_concurrency": 4,
    }
    expected = {("cekat", i) for i in cekat.ids()} | convotic.keys()
    whole = run_messages(config)
    assert keys(whole.messages) == expected
    rng = random.Random(70)
    state, emitted = None, set()
    for _ in range(KILLS):
        messages = kill_after(config, state, rng.randint(1, 5400))
        emitted |= keys(messages)
        state = next((m["value"] for m in reversed(messages) if m["type"] == "STATE"), state)
    final = run_messages(config, state)
    assert final.returncode == 0, final.stderr[-2000:]
    assert emitted | keys(final.messages) == expected
    resumed = {k for k in keys(final.messages) if k[0] != "cekat"}
    assert len(resumed) < len(convotic.keys()), "Convotic resumed mid-way, not from the start"
    assert server.most_in_flight > 1, "the runs read in parallel"
