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
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import math
import re
import typing as t
from dataclasses import dataclass

from tap_messages.cekat_pages import Page
from tap_messages.cekat_walk import PageWalk
from tap_messages.timestamps import format_utc, is_utc

Row = dict[str, t.Any]
_DURATION = re.compile(
    r"P(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?"
)


def duration(text: str) -> dt.timedelta:
    """An ISO 8601 duration of weeks, days, hours, minutes and seconds (P1D, PT6H, P1DT12H)."""
    match = _DURATION.fullmatch(text.strip().upper())
    if not match or text.strip().upper() in {"P", "PT"}:
        msg = (
            f"cekat.lookback: {text!r} is not an ISO 8601 duration in weeks, days, hours, minutes "
            "or seconds (for example P1D or PT6H; years and months have no fixed length)."
        )
        raise ValueError(msg)
    return dt.timedelta(**{k: int(v) for k, v in match.groupdict().items() if v})


class ServedOrder:
    """What the rows read so far say about the order the API serves them in."""

    KEYS = ("created_at", "updated_at")

    def __init__(self) -> None:
        """No evidence yet."""
        self.rises = dict.fromkeys(self.KEYS, 0)
        self.falls = dict.fromkeys(self.KEYS, 0)

    def see(self, rows: list[Row]) -> None:
        """Take one page's rows, in the order served."""
        for key in self.KEYS:
            values = [row.get(key) for row in rows]
            readable = [v for v in values if is_utc(v)]
            for before, after in itertools.pairwise(readable):
                self.rises[key] += after > before
                self.falls[key] += after < before

    def _only(self, moves: dict[str, int], other: dict[str, int], key: str) -> bool:
        return moves[key] > 0 and other[key] == 0

    @property
    def newest_first(self) -> bool:
        """Descending by created_at or updated_at, and ascending by neither."""
        down = any(self._only(self.falls, self.rises, k) for k in self.KEYS)
        return down and not any(self._only(self.rises, self.falls, k) for k in self.KEYS)

    @property
    def oldest_first(self) -> bool:
        """Ascending by created_at or updated_at, and descending by neither."""
        up = any(self._only(self.rises, self.falls, k) for k in self.KEYS)
        return up and not any(self._only(self.falls, self.rises, k) for k in self.KEYS)

    @property
    def by_creation(self) -> bool:
        """Proven sorted by created_at: updated_at moves both ways where created_at does not."""
        return (
            self.rises["updated_at"] > 0
            and self.falls["updated_at"] > 0
            and not (self.rises["created_at"] and self.falls["created_at"])
        )


@dataclass(frozen=True)
class Scope:
    """Which rows a run must emit: changed since `bookmark`; '' means every row."""

    bookmark: str
    threshold: str  # rows created before it and unchanged since the bookmark are out of scope

    @classmethod
    def since(cls, bookmark: dt.datetime | None, lookback: dt.timedelta) -> Scope:
        """The scope of a run from `bookmark` (None: the first run without start_date)."""
        if bookmark is None:
            return cls("", "")
        return cls(format_utc(bookmark), format_utc(bookmark - lookback))

    def wants(self, row: Row) -> bool:
        """True unless the row is known to be unchanged since the bookmark."""
        updated = row.get("updated_at")
        return not (is_utc(updated) and updated < self.bookmark)

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
    new_walk: t.Callable[[], PageWalk], scope: Scope, logger: logging.Logger
) -> t.Iterator[Row]:
    """Every row of the list in scope: where to start, where to stop, as the served order allows."""
    walk, order = new_walk(), ServedOrder()
    first = walk.first()
    order.see(first.rows)
    walk.newest_first = order.newest_first
    yield from filter(scope.wants, first.fresh)
    start = first
    if scope.bookmark and order.oldest_first:
        start = start_of_increment(walk.read, first, scope, walk.most)
        if start is not first:
            yield from filter(scope.wants, start.fresh)
    # Pages are read ahead wherever the walk reads on to the end anyway.
    walk.read_ahead = not (scope.bookmark and order.newest_first)
    for page in walk.walk(start):
        order.see(page.rows)
        walk.by_creation, walk.newest_first = order.by_creation, order.newest_first
        yield from filter(scope.wants, page.fresh)
        if scope.bookmark and order.newest_first and scope.past(page.rows):
            logger.info(
                "Cekat serves newest first: stopped at page %d (limit %d), older than the "
                "bookmark less the lookback",
                page.page,
                page.limit,
            )
            break
    if order.newest_first and not order.by_creation:
        yield from moved_to_the_top(new_walk(), first)


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
