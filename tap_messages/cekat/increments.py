"""Where a Cekat incremental run may start and stop, from what the pages show of the served order.

Cekat documents neither a sort nor a date filter, so a run decides from the rows themselves:

- **Scope.** A run reads messages changed since the bookmark. A message created more than
  `cekat.lookback` before the bookmark and unchanged since is out of scope; one created that long
  ago and changed since is the periodic full refresh's to bring (docs/warehouse.md).
- **Newest first** (every page so far descends by `created_at` or by `updated_at`): the walk may
  stop at a page all of whose rows are out of scope on both counts, older than the bookmark by
  `updated_at` and created more than the lookback before it. That is safe in either order:
  sorted by `created_at`, later rows were created even earlier; sorted by `updated_at`, they
  changed even earlier.
- **Oldest first** (every page so far ascends): the rows in scope are at the end. A binary search
  over page numbers finds the last page that starts with a row older than the bookmark minus the
  lookback by `updated_at` (which is never before `created_at`, so in either ascending order every
  later row in scope comes after it), and the walk reads on from there.
- **Anything else** (no evidence, or evidence both ways): every page is read.
- **A full sync** (no bookmark) reads each page once where the order is known (tiled_walk).
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import typing as t
from dataclasses import dataclass

from tap_messages.cekat.page_walk import PageWalk
from tap_messages.cekat.pages import Page
from tap_messages.cekat.served_order import ServedOrder
from tap_messages.cekat.tiled_walk import TiledWalk
from tap_messages.shared.timestamps import format_utc, is_utc

Row = dict[str, t.Any]


@dataclass(frozen=True)
class Scope:
    """Which rows a run must emit: changed since `bookmark`, created at `floor` or later."""

    bookmark: str
    threshold: str  # rows created before it and unchanged since the bookmark are out of scope
    floor: str = ""  # start_date: rows created before it are never emitted

    @classmethod
    def since(
        cls, start: dt.datetime | None, lookback: dt.timedelta, floor: dt.datetime | None
    ) -> Scope:
        """The scope of a run from `start`, the later of the bookmark and `floor` (start_date)."""
        if start is None:
            return cls("", "")
        threshold = start - lookback if floor is None else max(start - lookback, floor)
        return cls(format_utc(start), format_utc(threshold), format_utc(floor) if floor else "")

    def wants(self, row: Row) -> bool:
        """True unless the row is known to be unchanged since the bookmark or older than floor."""
        updated, created = row.get("updated_at"), row.get("created_at")
        return not (
            (is_utc(updated) and updated < self.bookmark)
            or (is_utc(created) and created < self.floor)
        )

    def past(self, rows: list[Row]) -> bool:
        """True when every row is older than the bookmark and created before the threshold."""
        return bool(rows) and all(
            is_utc(u := row.get("updated_at"))
            and u < self.bookmark
            and is_utc(c := row.get("created_at"))
            and c < self.threshold
            for row in rows
        )

    def starts_before(self, page: Page) -> bool:
        """True when the page's first row is known to lie before every row in scope."""
        updated = page.rows[0].get("updated_at") if page.rows else None
        return is_utc(updated) and updated < self.threshold


def start_of_increment(
    read: t.Callable[[int, int], Page], first: Page, scope: Scope, limit: int
) -> Page:
    """The page an oldest-first incremental walk starts at: found by halving the page numbers."""
    if not (scope.bookmark and first.total_items and scope.starts_before(first)):
        return first
    low, high, start = 1, math.ceil(first.total_items / limit) + 1, first
    while high - low > 1:
        middle = (low + high) // 2
        page = read(middle, limit)
        order = ServedOrder()
        order.see([start.rows[0], *page.rows])
        if page.rows and not order.oldest_first and len(page.rows) > 1:
            return first  # not ascending after all: walk every page
        if page.rows and scope.starts_before(page):
            low, start = middle, page
        else:
            high = middle
    start.fresh = list(start.rows)
    return start


def rows_in_scope(
    new_walk: t.Callable[[bool], PageWalk], scope: Scope, logger: logging.Logger
) -> t.Iterator[Row]:
    """Every row of the list in scope: where to start, where to stop, as the served order allows."""
    walk = new_walk(bool(scope.bookmark))
    first = walk.first()
    yield from filter(scope.wants, first.fresh)
    pages = TiledWalk(walk, first).pages() if not scope.bookmark else walk.walk(first)
    if scope.bookmark and walk.order.oldest_first:
        start = start_of_increment(walk.read, first, scope, walk.most)
        if start is not first:
            yield from filter(scope.wants, start.fresh)
            pages = walk.walk(start)
    for page in pages:
        yield from filter(scope.wants, page.fresh)
        if scope.bookmark and walk.newest_first and scope.past(page.rows):
            logger.info(
                "Cekat serves newest first: stopped at page %d (limit %d), older than the "
                "bookmark less the lookback",
                page.page,
                page.limit,
            )
            break
    if scope.bookmark and walk.newest_first and not walk.by_creation:
        yield from filter(scope.wants, moved_to_the_top(new_walk(True), first))


def moved_to_the_top(walk: PageWalk, first: Page) -> t.Iterator[Row]:
    """Rows that moved to the top of a newest-first list while it was read (by update time)."""
    mark = max((u for row in first.rows if is_utc(u := row.get("updated_at"))), default="")
    if not mark:
        return
    moved = Scope(mark, mark)
    for page in walk.walk():
        walk.report.reread += 1
        yield from filter(moved.wants, page.fresh)
        if moved.past(page.rows):
            break
