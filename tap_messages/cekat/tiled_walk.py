"""Cekat's tiled walk: a full read of a list in order of age, each page read once, none overlapping.

Served oldest or newest first, a list changes at one end only: new rows (and, sorted by
`updated_at`, changed ones) join its newest end, while rows may leave anywhere (deletes, and the
changed ones). So a row's *age rank*, the number of rows older than it, can only fall while the
list is read: oldest first it is the row's place, newest first `total_items` - 1 - its place.
Pages that tile the ranks from the top down then read every row present throughout:

- **One at a time**, each page read after the one above it and reaching up to where that one
  began in rank (newest first: `total_items` did not fall between the two answers). A row can
  only sink, so it sinks into a page still to come.
- **Several at once**, in rounds: after each round the rank of one row at the newest end (the
  anchor, read at the start) is read again. If it held, no row left during the round, so its
  pages read ranks that did not move, in whatever order they were answered; ranks they missed
  (new rows between two answers) are read in the next. If it fell, the rest is read one at a time.

A `total_items` that is not the row count, or a page short of it or against the served order,
hands the rest to the overlapping walk (page_walk). What each case costs: docs/performance.md.
"""

from __future__ import annotations

import functools
import math
import typing as t
from dataclasses import dataclass

from tap_messages.cekat.age_ranks import AgeRanks, Ranks, below, size, without
from tap_messages.cekat.page_walk import RETRIES, PageWalk
from tap_messages.cekat.pages import Page, Request, covering, overlapping, overlapping_reads

ROUND = 32  # pages read at once between two looks at the anchor
AT_ONCE = 20  # fewer pages left than this are read one at a time: a look would cost too much
STUCK = 3  # rounds in a row that prove no new rank
SHORT = 20  # pages in a list short enough that overlapping may read it in fewer requests


@dataclass(frozen=True)
class Anchor:
    """A row at the newest end of the list, where it was, and the request that shows it."""

    request: Request
    key: t.Any
    rank: int


class TiledWalk:
    """Pages of a list known to be sorted by age, read without overlap; see the module's words."""

    def __init__(self, walk: PageWalk, first: Page) -> None:
        """Go on from page 1, already read by `walk`."""
        self.walk, self.first = walk, first
        self.newest_first = walk.newest_first
        self.ranks = AgeRanks(self.newest_first, walk.most)
        self.total = first.total_items or 0
        self.unread: list[Ranks] = [(0, math.inf)]  # ranks not proven read, highest first
        self.anchor: Anchor | None = None
        self.last: Page = first  # the page whose lowest rank is the frontier
        self.bottom: Page | None = None  # the page that read rank 0
        self.moved = False  # rows moved during a round: the rest is read one page at a time
        self.margin = 0  # rows each page read at once starts early by, newest first

    @property
    def frontier(self) -> float:
        """Every row not yet read has a rank below it: the top of the highest unread ranks."""
        return self.unread[0][1] if self.unread else 0

    def pages(self) -> t.Iterator[Page]:
        """Every page read after page 1, with all its rows fresh; falls back when a proof fails."""
        if not self._tileable():
            yield from self.walk.walk(self.first)
            return
        try:
            yield from self._tiles()
        except _Unproven as why:
            self.walk.ahead.drop()
            yield from self._overlapping(from_start=why.from_start)
        finally:
            self.walk.ahead.close()

    def _tileable(self) -> bool:
        """A list in order of age, longer than page 1, whose total says where it ends."""
        first, total = self.first, self.total
        if not (
            (self.newest_first or self.walk.order.oldest_first)
            and len(first.rows) == first.limit
            and total > first.end
        ):
            return False
        if self.newest_first:
            return True  # oldest first, page 1 is read again: on a few pages overlapping is cheaper
        tiles = math.ceil(total / first.limit) + (total % first.limit == 0)
        return tiles > SHORT or overlapping_reads(first.end, total, self.walk.most, tiles) >= tiles

    def _tiles(self) -> t.Iterator[Page]:
        """Round after round from the newest end down, until no rank is left unread."""
        yield from self._newest_end()
        stuck = 0
        while self.unread:
            before = size(self.unread)
            yield from self._round()
            stuck = 0 if size(self.unread) < before else stuck + 1
            if stuck >= STUCK:
                raise _Unproven(from_start=False)
        if self.newest_first and self.bottom and len(self.bottom.rows) == self.bottom.limit:
            yield from self._closing_page()

    def _newest_end(self) -> t.Iterator[Page]:
        """The anchor and the first frontier: page 1 newest first, else the end of the list."""
        first = self.first
        if self.newest_first:
            self.anchor = Anchor((1, first.limit), first.keys[0][0], self.total - 1)
            self.unread = below(self.total - first.end)
            return
        limit, total = first.limit, self.total
        end = self._fresh(self._checked((total // limit + 1, limit)))
        yield end
        if len(end.rows) == end.limit or end.end != end.total_items:
            raise _Unproven(from_start=True)  # total_items does not say where the list ends
        self.unread = below(end.offset)
        if not end.rows:  # total_items is a multiple of the limit: the page below is the last
            end = self._fresh(self._checked(covering(end.offset - 1, limit)))
            yield end
            self.unread = below(end.offset) if end.rows else self.unread
        if not end.rows:
            raise _Unproven(from_start=True)
        self.anchor = Anchor((end.page, end.limit), end.keys[-1][0], end.end - 1)
        self.last = end

    def _round(self) -> t.Iterator[Page]:
        """The next pages of unread ranks: at once and then proven by the anchor, or one."""
        ahead, total = self.walk.ahead, self.total
        wide = ahead.width > 1 and not self.moved
        plan, rest = self.ranks.plan(self.unread, total, ROUND if wide else 1, self.margin)
        at_once = wide and (len(plan) >= AT_ONCE or len(self.unread) > 1)
        plan = plan if at_once else plan[:1]
        if plan and plan[0] not in ahead:
            ahead.drop()  # what was started followed another plan
        for request in plan:
            self._start(request)
        read: list[Page] = []
        for request in plan:
            page = self._fresh(self._checked(self._take(request)))
            yield page
            read.append(page)
        if not at_once:  # one at a time, each page answered after the one above it
            self._reach(read, joined=True)
            return
        self._start(anchor_request := self._look())
        if self.total == total:  # no row came: the next round is as planned, read meanwhile
            upcoming, _ = self.ranks.plan(rest, total, ROUND, self.margin)
            for request in upcoming if len(upcoming) >= AT_ONCE else ():
                self._start(request)  # proven by the next look at the anchor, not this one
        self.moved = not (yield from self._witness(anchor_request))
        if self.moved:
            ahead.drop()
            self.unread = below(self.frontier)  # rows may have sunk below
            return
        self._reach(read, joined=False)
        # Newest first, rows that came between answers out of order leave gaps: overlap by them
        # while rows keep coming.
        gaps = [int(high - low) for low, high in self.unread[:-1]]
        calm = self.margin // 2 if self.total == total else self.margin
        self.margin = min(self.ranks.most // 2, max([calm, *gaps]))

    def _look(self) -> Request:
        """The request that shows the anchor if its rank held (new rows push it down)."""
        anchor = t.cast(Anchor, self.anchor)
        if not self.newest_first:
            return anchor.request
        return overlapping(max(1, self.total - anchor.rank), self.ranks.most)

    def _start(self, request: Request) -> None:
        self.walk.ahead.start(request, functools.partial(self._read_one, request))

    def _take(self, request: Request) -> Page:
        [page] = self.walk.ahead.take(request, functools.partial(self._read_one, request))
        return page

    def _reach(self, pages: list[Page], *, joined: bool) -> None:
        """Take the pages' ranks off the unread ones; `joined`: only a page reaching the top."""
        for page in pages:
            low, high = self.ranks.of(page)
            if joined and high < self.frontier:
                return  # rows left above it: the next page starts higher
            if low <= self.frontier <= high:
                self.last = page
            if low == 0:
                self.bottom = page
            self.unread = without(self.unread, low, high)

    def _checked(self, request: Request | Page) -> Page:
        """The page, asked again while short of what it promises; in the served order."""
        page = self._read(request) if isinstance(request, tuple) else request
        for attempt in range(RETRIES):
            if not (len(page.rows) < page.limit and page.promises_more()):
                break
            self.walk.pause(attempt)
            self.walk.report.reread += 1
            page = self._read((page.page, page.limit))
        short = len(page.rows) < page.limit
        if (short and page.total_items != page.end) or (
            self.newest_first and page.total_items is None
        ):
            raise _Unproven(from_start=self.newest_first)  # a hole, or total_items is no count
        self.walk.order.see(page.rows)
        if not (self.walk.newest_first if self.newest_first else self.walk.order.oldest_first):
            raise _Unproven(from_start=True)
        self.total = page.total_items if page.total_items is not None else self.total
        return page

    def _witness(self, request: Request) -> t.Generator[Page, None, bool]:
        """Read the anchor again: True if its rank held, so the round's pages prove their ranks."""
        anchor = t.cast(Anchor, self.anchor)
        page = self._fresh(self._take(request))
        self.walk.report.reread += 1
        yield page
        keys = [key for key, _ in page.keys]
        if anchor.key not in keys or page.total_items is None:
            return False
        place = page.offset + keys.index(anchor.key)
        return (page.total_items - 1 - place if self.newest_first else place) == anchor.rank

    def _closing_page(self) -> t.Iterator[Page]:
        """Newest first, the walk ended on a full page: the next must be where the list ends."""
        last = t.cast(Page, self.bottom)
        page = self._fresh(self._checked((last.page + 1, last.limit)))
        yield page
        if len(page.rows) == page.limit:
            raise _Unproven(from_start=True)

    def _overlapping(self, *, from_start: bool) -> t.Iterator[Page]:
        """The rest by the overlapping walk: from page 1, or on from the last proven page."""
        if self.newest_first and not from_start:
            yield from self.walk.walk(self.last)
            return
        frontier = math.inf if from_start else self.frontier
        for page in self.walk.walk():
            yield page
            if page.end >= frontier:  # oldest first, rows only sink: none is left above
                return

    @staticmethod
    def _fresh(page: Page) -> Page:
        page.fresh = list(page.rows)
        return page

    def _read(self, request: Request) -> Page:
        return self.walk.read(*request)

    def _read_one(self, request: Request) -> list[Page]:
        return [self._read(request)]


class _Unproven(Exception):
    """A proof of the tiled walk failed: the overlapping walk reads the rest."""

    def __init__(self, *, from_start: bool) -> None:
        super().__init__()
        self.from_start = from_start
