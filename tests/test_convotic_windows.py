"""The Convotic window walk returns every message exactly once, in order, whichever end is cut."""

from __future__ import annotations

import datetime as dt
import math
from bisect import bisect_left, bisect_right
from collections import Counter
from unittest.mock import patch

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tap_messages.convotic.window_walk import Answer, Habits, WalkTooLong, WindowWalk

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)


class Timeline:
    """The server's semantics in memory: inclusive bounds, `limit`, one end kept when cut."""

    def __init__(self, gaps: list[int], keeps_latest: bool, limit: int, total_means: str) -> None:
        self.moments, moment = [], T0
        for gap in gaps:
            moment += dt.timedelta(seconds=gap)
            self.moments.append(moment)
        self.ids = [f"msg_{i:04d}" for i in range(len(self.moments))]
        self.keeps_latest, self.limit, self.total_means = keeps_latest, limit, total_means
        self.requests = 0

    def fetch(self, lo: dt.datetime, hi: dt.datetime) -> Answer:
        self.requests += 1
        a, b = bisect_left(self.moments, lo), bisect_right(self.moments, hi)
        chosen = (
            range(max(a, b - self.limit), b)
            if self.keeps_latest
            else range(a, min(b, a + self.limit))
        )
        messages = [
            {"id": self.ids[i], "timestamp": self.moments[i].strftime("%Y-%m-%dT%H:%M:%SZ")}
            for i in chosen
        ]
        total = {
            "window": b - a,
            "returned": len(messages),
            "conversation": len(self.moments),
            "absent": None,
        }[self.total_means]
        return Answer(messages, total)


timelines = st.tuples(
    st.lists(
        st.one_of(st.integers(0, 0), st.integers(1, 3), st.integers(60, 86_400)),
        min_size=0,
        max_size=400,
    ),
    st.booleans(),
    st.integers(2, 12),
    st.sampled_from(["window", "returned", "conversation", "absent"]),
)


def walk(timeline: Timeline, bursts: list) -> tuple[list[dict], WindowWalk]:
    walker = WindowWalk(
        fetch=timeline.fetch,
        limit=timeline.limit,
        start=T0,
        end=T0 + dt.timedelta(days=400),
        habits=Habits(),
        on_burst=lambda moment, limit, total: bursts.append((moment, total)),
    )
    return [message for batch in walker for message in batch], walker


@settings(max_examples=400, deadline=None)
@given(timelines)
def test_every_message_once_in_time_order_with_few_requests(case):
    check_walk(case, budget_slack=0)


@settings(max_examples=200, deadline=None)
@given(timelines)
def test_latest_kept_slices_beyond_the_memory_budget_are_reread_not_lost(case):
    with patch("tap_messages.convotic.window_walk.MAX_BUFFERED", 3):
        check_walk((case[0], True, *case[2:]), budget_slack=len(case[0]))


def check_walk(case, budget_slack):
    gaps, keeps_latest, limit, total_means = case
    timeline = Timeline(gaps, keeps_latest, limit, total_means)
    bursts: list = []
    out, walker = walk(timeline, bursts)
    per_instant = Counter(timeline.moments)
    crowded = {m for m, count in per_instant.items() if count > limit}
    got = [m["id"] for m in out]
    assert len(got) == len(set(got)), "no message is emitted twice in one walk"
    expected = {i for i, m in zip(timeline.ids, timeline.moments, strict=True) if m not in crowded}
    assert expected <= set(got), "every message at an instant the API can serve whole arrives"
    reported = {m for m, _ in bursts}
    full = {m for m, count in per_instant.items() if count >= limit}
    assert crowded <= reported <= full, "each over-full instant is reported, whatever total means"
    if total_means == "window":
        assert all(total in (None, per_instant[m]) for m, total in bursts), "the count, if said"
    elif total_means == "conversation":
        assert all(total is None or total >= per_instant[m] for m, total in bursts), "a bound"
    else:
        assert all(total is None for _, total in bursts), "no count it cannot know"
    stamps = [m["timestamp"] for m in out]
    assert stamps == sorted(stamps), "time order, so a bookmark can follow every record"
    assert walker.requests == timeline.requests
    n, widest = len(gaps), max([c for c in per_instant.values() if c <= limit] or [0])
    usable = max(1, limit - widest)
    bound = math.ceil((n + 1) / usable) + 2 * len(full) + 2 + budget_slack
    assert walker.requests <= bound, f"{walker.requests} requests for {n} messages (bound {bound})"


def test_lower_bound_is_met_when_nothing_is_cut_mid_instant():
    timeline = Timeline([1] * 1000, keeps_latest=False, limit=100, total_means="window")
    out, walker = walk(timeline, [])
    assert len(out) == 1000
    assert walker.requests <= math.ceil(1001 / 99) + 1


class Stubborn:
    """An API whose answers never narrow: `limit` messages at the window's own start, each time."""

    def __init__(self) -> None:
        self.requests = 0

    def fetch(self, lo: dt.datetime, hi: dt.datetime) -> Answer:
        self.requests += 1
        stamp = lo.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        return Answer(
            [{"id": f"m{self.requests}-{i}", "timestamp": stamp} for i in range(100)], 100
        )


def test_an_api_whose_answers_never_narrow_stops_the_walk_with_what_it_answered():
    api = Stubborn()
    walker = WindowWalk(
        fetch=api.fetch,
        limit=100,
        start=T0,
        end=T0 + dt.timedelta(days=1),
        habits=Habits(),
        on_burst=lambda moment, limit, total: None,
    )
    with pytest.raises(WalkTooLong, match="more than any walk needs"):
        for _ in walker:
            pass
    assert api.requests <= 101, "the bound holds the requests to the messages the API gave"
