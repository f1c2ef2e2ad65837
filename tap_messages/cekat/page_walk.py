"""Cekat's overlapping page walk: every row of a list that changes while it is read, in any order.

Incremental runs, lists of unknown order, and whatever a tiled walk (tiled_walk) cannot prove
walk this way; a full sync of a list in order of age reads each page once instead.

A plain walk of pages 1, 2, 3 skips a row whenever rows before it disappear between two requests
(deletes, or updates that move rows in a list sorted by `updated_at`). This walk asks for pages that
overlap the page before (cekat_pages) and checks that they do.

Why nothing is missed: the surviving rows keep their order (a row whose `updated_at` changed is
never taken as the anchor, since it may have moved). If the new page holds again a row of the page
before (the anchor), the two pages are contiguous: every row between the anchor and the new page's
end is on the new page, so, page by page, every surviving row up to the last page's end has been
read, whatever happened between the requests and in whichever order they were answered. The walk
ends on a short page that overlaps the one before: the end of the list at that moment. Rows that
move to the top of a newest-first list while it is read are the caller's to catch.

When a page does not overlap, rows moved up past the overlap (deletes), were pushed down past
the page (new or updated rows, newest first), or the answer was wrong: the walk steps back, or on
by what the list grew, until it finds the rows it read last, reads on from there, and overlaps
more while rows keep moving. If it cannot, it goes on and records a shortfall, loudly.
A page that is empty or short while `total_items` promises more is asked again; if it stays so,
the walk goes on to the rows promised and records what it could not read. Pages that bring
nothing new three times running mean the API ignores `page`: the walk stops with an error.
"""

from __future__ import annotations

import functools
import typing as t
from dataclasses import dataclass, field

from tap_messages.cekat.pages import Page, Request, anchored, covering, overlapping, short_of_totals
from tap_messages.cekat.served_order import ServedOrder
from tap_messages.shared.errors import TapMessagesError
from tap_messages.shared.read_ahead import ReadAhead
from tap_messages.shared.timestamps import is_utc

STALLED = 3  # accepted pages in a row that bring nothing new
RETRIES = 3  # fresh looks at a page that contradicts the totals
STEPS = 4  # pages to step back or on looking for the rows read last
CALM_PAGES = 8  # pages without a recovery after which the overlap shrinks again
MAX_RECOVERIES = 50  # walks that keep losing their place go on loudly instead


@dataclass
class Report:
    """What a walk had to read again, and what it could not read."""

    reread: int = 0
    shortfalls: list[str] = field(default_factory=list)


@dataclass
class PageWalk:
    """Yields accepted pages, each with its fresh rows; the caller may stop by breaking out."""

    read: t.Callable[[int, int], Page]
    most: int  # the largest limit: page_size, or what the server caps it at
    ahead: ReadAhead[Request, Page]
    pause: t.Callable[[int], None]
    report: Report
    stops_early: bool = False  # will the caller stop at the first page out of its scope
    order: ServedOrder = field(default_factory=ServedOrder)  # learnt from every page accepted
    _recoveries: int = 0
    _overlap: int = 1  # rows each page must hold again; grows while rows keep moving up
    _calm: int = 0  # pages accepted since the last recovery

    @property
    def by_creation(self) -> bool:
        """Is the list known to be sorted by created_at (a changed row keeps its place)."""
        return self.order.by_creation

    @property
    def newest_first(self) -> bool:
        """Is the list known to be served newest first."""
        return self.order.newest_first

    @property
    def read_ahead(self) -> bool:
        """May pages be fetched before their turn: yes, unless the caller may stop soon."""
        return not (self.stops_early and self.order.newest_first)

    def walk(self, start: Page | None = None) -> t.Iterator[Page]:
        """Walk on from an accepted page (or from page 1) to the end of the list."""
        try:
            yield from self._walk(start)
        finally:
            self.ahead.close()

    def first(self) -> Page:
        """Page 1, which also tells whether the server caps `limit` below page_size."""
        page = self.read(1, self.most)
        if 0 < len(page.rows) < self.most and page.promises_more():
            self.most = len(page.rows)
        page.fresh = list(page.rows)
        self.order.see(page.rows)
        return page

    def _walk(self, start: Page | None) -> t.Iterator[Page]:
        tail = start or self.first()
        if start is None:
            yield tail
        stalled = 0
        while len(tail.rows) >= tail.limit or tail.promises_more():
            plan = self._plan(tail)
            request = plan[0] if plan else overlapping(tail.end, self.most, self._overlap)
            page: Page | None = self._fetch(request, plan)
            if (request[0] - 1) * request[1] >= tail.end and tail.rows:  # no page could overlap
                self._gap(tail, "no page could overlap the rows read: rows moved there are unseen")
            elif page is not None and not self._continues(page, tail):
                self.ahead.drop()
                self._overlap, self._calm = min(self.most // 2, 2 * self._overlap + 2), 0
                page = self._recover(request, page, tail)
            else:
                self._calm += 1
                if self._calm >= CALM_PAGES:
                    self._overlap, self._calm = max(1, self._overlap // 2), 0
            if page is None:
                return
            seen = set(tail.keys)
            page.fresh = [r for r, key in zip(page.rows, page.keys, strict=True) if key not in seen]
            stalled = 0 if page.fresh or len(page.rows) < page.limit else stalled + 1
            if stalled >= STALLED:
                msg = (
                    f"Cekat served the same rows for {STALLED} requests in a row (up to page "
                    f"{page.page}, limit {page.limit}); the API seems to ignore the `page` "
                    "parameter."
                )
                raise TapMessagesError(msg)
            self.order.see(page.rows)
            yield page
            if len(page.rows) < page.limit and page.end <= tail.end:  # no further: the end
                if page.promises_more():
                    self.report.shortfalls.append(
                        f"the list ended at row {page.end} after {RETRIES} more attempts while "
                        f"its total_items said {page.total_items}"
                    )
                return
            tail = page

    def _plan(self, tail: Page) -> list[Request]:
        """The requests that follow `tail` if every page comes back full and in place."""
        plan: list[Request] = []
        frontier = tail.end
        while len(plan) < max(1, self.ahead.width):
            page, limit = overlapping(frontier, self.most, self._overlap)
            if plan and tail.total_items is not None and page * limit > tail.total_items + limit:
                break
            plan.append((page, limit))
            frontier = page * limit
        return plan

    def _fetch(self, request: Request, plan: list[Request]) -> Page:
        if request not in self.ahead:
            self.ahead.drop()  # what was read ahead followed another plan
        for later in plan if self.read_ahead else ():
            if later not in self.ahead:
                self.ahead.start(later, functools.partial(self._read_one, later))
        [page] = self.ahead.take(request, functools.partial(self._read_one, request))
        return page

    def _read_one(self, request: Request) -> list[Page]:
        return [self.read(*request)]

    def _continues(self, page: Page, tail: Page) -> bool:
        """True for a page that overlaps `tail` and, if short, ends where the totals say."""
        return anchored(page, tail, by_id=self.by_creation) and not short_of_totals(page)

    def _recover(self, request: Request, page: Page, tail: Page) -> Page | None:
        """A page to go on from: asked again, or found stepping back or on; else a gap (or None)."""
        for attempt in range(RETRIES if short_of_totals(page) else 0):
            self.pause(attempt)  # short of what the totals promise: perhaps a passing fault
            self.report.reread += 1
            page = self.read(*request)
            if self._continues(page, tail):
                return page
        if page.rows and anchored(page, tail, by_id=self.by_creation):
            return page  # contiguous, only shorter than the totals say: the walk goes on from it
        if not page.rows and page.promises_more():  # a hole: go on to the rows promised after it
            self._gap(tail, f"page {page.page} stayed empty: up to {page.limit} rows are unread")
            return Page(page.page + 1, page.limit, [], page.total_items)
        self._recoveries += 1
        key = "created_at" if self.by_creation else "updated_at"
        for _ in range(STEPS if self._recoveries <= MAX_RECOVERIES else 0):
            if _before(page, tail, key, newest_first=self.newest_first):
                # New or updated rows pushed the rows read last down, by at least the growth.
                near = overlapping(max(page.end, tail.offset + _growth(page, tail) + 1), self.most)
            elif page.offset > 0:  # rows moved up past the overlap (deletes): look back
                near = covering(page.offset - 1, self.most)
            else:
                break
            self.report.reread += 1
            page = self.read(*near)
            if page.rows and anchored(page, tail, by_id=self.by_creation):
                return page  # read on from here
        self._gap(
            tail, f"the rows read last were not found again: up to {tail.limit} may be missed"
        )
        again = self.read(*request)
        return again if again.rows else None

    def _gap(self, tail: Page, why: str) -> None:
        last = tail.rows[-1].get("id") if tail.rows else None
        self.report.shortfalls.append(f"after row {tail.end} of the list (id {last}) {why}")


def _growth(page: Page, tail: Page) -> int:
    """Rows the list gained between the two pages, by their totals (0 when unknown)."""
    if page.total_items is None or tail.total_items is None:
        return 0
    return max(0, page.total_items - tail.total_items)


def _before(page: Page, tail: Page, key: str, *, newest_first: bool) -> bool:
    """True when every row of `page` sorts, by `key` in the served order, before all of `tail`."""
    page_times = [c for row in page.rows if is_utc(c := row.get(key))]
    tail_times = [c for row in tail.rows if is_utc(c := row.get(key))]
    if not (page_times and tail_times):
        return False
    if newest_first:
        return min(page_times) > max(tail_times)
    return max(page_times) < min(tail_times)
