"""The Cekat walk emits every message present for the whole run, while the list changes under it.

A list in memory stands for the API: page-number paging over rows sorted newest or oldest first by
created_at or updated_at, with random inserts, updates (which move rows in an updated_at order)
and deletes between any two requests. Over real HTTP, tests/test_cekat_messages.py.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import logging
import math
import random
from collections.abc import Iterator
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tap_messages.cekat import tiled_walk
from tap_messages.cekat.age_ranks import AgeRanks, below, without
from tap_messages.cekat.increments import Scope, rows_in_scope
from tap_messages.cekat.page_walk import PageWalk, Report
from tap_messages.cekat.pages import Page, covering, overlapping
from tap_messages.shared.read_ahead import ReadAhead

LOGGER = logging.getLogger("test")
T0 = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)


def stamp(seconds: int) -> str:
    return (T0 + dt.timedelta(seconds=seconds)).isoformat(timespec="microseconds")


class LiveList:
    """Cekat's /api/messages in memory; `changes` are applied before each request, in turn."""

    def __init__(self, n, order, key, changes, seed, total_lies=0):
        self.rng, self.clock, self.seq = random.Random(seed), 0, 0
        self.order, self.key, self.changes, self.total_lies = order, key, list(changes), total_lies
        self.rows = [self._new() for _ in range(n)]
        self.requests, self.sorted = 0, None

    def _new(self) -> dict:
        self.clock += self.rng.choice([0, 1, 1, 60])
        self.seq += 1
        return {
            "id": f"m{self.seq:05d}",
            "created_at": stamp(self.clock),
            "updated_at": stamp(self.clock),
        }

    def served(self) -> list[dict]:
        if self.sorted is None:
            ordered = sorted(self.rows, key=lambda r: (r[self.key], r["id"]))
            self.sorted = ordered[::-1] if self.order == "newest_first" else ordered
        return self.sorted

    def change(self) -> None:
        for kind, amount in self.changes.pop(0) if self.changes else ():
            self.sorted = None
            if kind == "insert":
                self.rows += [self._new() for _ in range(amount)]
            elif kind == "delete" and self.rows:
                for _ in range(min(amount, len(self.rows))):
                    self.rows.pop(self.rng.randrange(len(self.rows)))
            elif kind == "update" and self.rows:
                self.clock += 1
                for _ in range(amount):
                    self.rng.choice(self.rows)["updated_at"] = stamp(self.clock)

    def read(self, page: int, limit: int) -> Page:
        assert min(page, limit) >= 1, "the API answers 400"
        self.requests += 1
        self.change()
        rows = self.served()
        chunk = [dict(r) for r in rows[(page - 1) * limit : page * limit]]
        return Page(page, limit, chunk, len(rows) + self.total_lies)


class ShuffledAhead:
    """Stands for ReadAhead(width > 1): the requests started together are answered shuffled."""

    def __init__(self, width: int, seed: int) -> None:
        self.width, self.rng = width, random.Random(seed)
        self.pending: dict = {}
        self.done: dict = {}

    def start(self, key, work) -> None:
        if key not in self:
            self.pending[key] = work

    def __contains__(self, key) -> bool:
        return key in self.pending or key in self.done

    def take(self, key, work):
        if key in self.pending:
            keys = list(self.pending)
            self.rng.shuffle(keys)
            for other in keys:
                self.done[other] = list(self.pending.pop(other)())
        yield from self.done.pop(key) if key in self.done else work()

    def drop(self) -> None:
        self.pending.clear()
        self.done.clear()

    close = drop


@contextlib.contextmanager
def small_rounds() -> Iterator[None]:
    with (
        mock.patch.object(tiled_walk, "ROUND", 4),
        mock.patch.object(tiled_walk, "AT_ONCE", 2),
        mock.patch.object(tiled_walk, "SHORT", 0),
    ):
        yield


def walk_factory(api: LiveList, limit: int, reports: list[Report], width: int = 1):
    def new_walk(stops_early: bool) -> PageWalk:
        report = Report()
        reports.append(report)
        return PageWalk(
            api.read,
            limit,
            ReadAhead(1) if width == 1 else ShuffledAhead(width, len(reports)),  # type: ignore[arg-type]
            pause=lambda attempt: None,
            report=report,
            stops_early=stops_early,
        )

    return new_walk


change = st.tuples(st.sampled_from(["insert", "delete", "update"]), st.integers(1, 7))
cases = st.tuples(
    st.integers(0, 300),
    st.sampled_from(["newest_first", "oldest_first"]),
    st.sampled_from(["created_at", "updated_at"]),
    st.integers(10, 30),
    st.lists(st.lists(change, max_size=3), max_size=80),
    st.integers(0, 10**6),
)


def emitted(
    api: LiveList, limit: int, scope: Scope, reports: list[Report], width: int = 1
) -> Iterator[dict]:
    return rows_in_scope(walk_factory(api, limit, reports, width), scope, LOGGER)


@settings(max_examples=400, deadline=None)
@given(cases, st.sampled_from([1, 4]))
def test_every_message_present_for_the_whole_run_is_emitted(case, width):
    n, order, key, limit, changes, seed = case
    api = LiveList(n, order, key, changes, seed)
    before = {r["id"]: r["updated_at"] for r in api.rows}
    reports: list[Report] = []
    with small_rounds():  # several rounds at once, and looks at the anchor, on a list this short
        got = {r["id"] for r in emitted(api, limit, Scope("", ""), reports, width)}
    survivors = before.keys() & {r["id"] for r in api.rows}
    # Sorted by updated_at, a row updated during the run may dodge the walk by moving; its new
    # updated_at is after the run's start, so the next run (bookmark capped there) brings it.
    moved = {
        r["id"] for r in api.rows if key == "updated_at" and r["updated_at"] != before.get(r["id"])
    }
    shortfalls = [s for report in reports for s in report.shortfalls]
    missing = survivors - got - moved
    assert not missing or shortfalls, f"{len(missing)} missing without a word"
    deletes = any(kind == "delete" for batch in changes for kind, _ in batch)
    # A walk keeps its place while fewer rows change between two requests than half a page.
    calm = all(sum(amount for _, amount in batch) < limit // 2 for batch in changes)
    if calm and not deletes:
        assert not missing, "without deletes nothing is ever missing"
        assert not shortfalls, "nor is a shortfall claimed"
    pages = math.ceil((n + 1) / limit)
    if not changes:
        assert api.requests <= 2 * pages + 3, "an unchanging list costs about a page per page"


@settings(max_examples=200, deadline=None)
@given(cases, st.integers(0, 60))
def test_an_incremental_run_emits_every_message_changed_since_the_bookmark(case, age):
    n, order, key, limit, changes, seed = case
    api = LiveList(n, order, key, [], seed)
    bookmark = stamp(api.clock)
    lookback = dt.timedelta(seconds=age)
    api.clock += 1
    api.changes = changes
    for row in random.Random(seed).sample(api.rows, min(5, len(api.rows))):
        if row["created_at"] >= stamp(api.clock - 1 - age):
            row["updated_at"] = stamp(api.clock)  # a status change inside the lookback
    changed = {r["id"] for r in api.rows if r["updated_at"] >= bookmark}
    scope = Scope.since(dt.datetime.fromisoformat(bookmark), lookback, None)
    reports: list[Report] = []
    got = {r["id"] for r in emitted(api, limit, scope, reports)}
    survivors = changed & {r["id"] for r in api.rows}
    shortfalls = [s for report in reports for s in report.shortfalls]
    assert survivors <= got or shortfalls


@pytest.mark.parametrize("width", [1, 4])
@pytest.mark.parametrize("order", ["oldest_first", "newest_first"])
@pytest.mark.parametrize("key", ["created_at", "updated_at"])
def test_a_list_at_rest_costs_at_most_a_tenth_more_than_its_pages_plus_one(order, key, width):
    for n in [*range(0, 4000, 37), 3000, 15000, 150_000]:
        api = LiveList(n, order, key, [], n)
        reports: list[Report] = []
        got = {r["id"] for r in emitted(api, 100, Scope("", ""), reports, width)}
        assert got == {r["id"] for r in api.rows}
        assert not [s for report in reports for s in report.shortfalls]
        bound = 1.10 * (math.ceil(n / 100) + 1)
        assert api.requests <= bound, f"{n} rows: {api.requests} requests, bound {bound:.1f}"


def test_each_request_overlaps_the_last_row_read_and_reads_on_as_far_as_it_can():
    for frontier in range(1, 2000):
        page, limit = overlapping(frontier, 100)
        start = (page - 1) * limit
        assert start <= frontier - 1 < start + limit - 1, "one row again, and at least one new"
        assert limit >= 50
    for offset in range(0, 2000):
        page, limit = covering(offset, 100)
        assert (page - 1) * limit <= offset < page * limit


def test_a_total_that_promises_more_than_the_list_holds_is_named_not_trusted():
    api = LiveList(250, "oldest_first", "created_at", [], 2, total_lies=40)
    reports: list[Report] = []
    got = list(emitted(api, 100, Scope("", ""), reports))
    assert len({r["id"] for r in got}) == 250
    assert any("total_items said 290" in s for r in reports for s in r.shortfalls)


def test_the_ranks_left_unread_are_those_no_page_has_read():
    assert without([(0, 100)], 40, 60) == [(60, 100), (0, 40)]
    assert without([(60, 100), (0, 40)], 30, 70) == [(70, 100), (0, 30)]
    assert without([(0, 100)], 0, math.inf) == []
    assert below(0) == []


@pytest.mark.parametrize("newest_first", [True, False])
def test_pages_planned_for_a_list_that_holds_still_tile_its_ranks_once(newest_first):
    ranks, total = AgeRanks(newest_first, 100), 1234
    top = total - 100 if newest_first else 1200  # what page 1, or the page at the end, read
    plan, rest = ranks.plan(below(top), total, 1000)
    assert rest == []
    read = sorted(
        ranks.of(Page(page, limit, [{}] * max(0, min(limit, total - (page - 1) * limit)), total))
        for page, limit in plan
    )
    assert read[0][0] == 0
    joins = [high == low for (_, high), (low, _) in itertools.pairwise(read)]
    assert all(joins), "no gap, no overlap"
    assert read[-1][1] == top
    assert len(plan) == math.ceil(top / 100)
