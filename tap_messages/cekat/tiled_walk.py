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
  anchor, read at the start) is read again. If it held, no row left during the round, and the
  round's pages read ranks that did not move, whatever order they were answered in. If it fell,
  the round proves nothing, and the rest of the list is read one page at a time.

A `total_items` that is not the row count, a page short of what it promises or against the
served order hands the rest to the overlapping walk (page_walk), which proves every page by
overlap instead. The price of each case: docs/performance.md.
"""

from __future__ import annotations

import functools
import math
import typing as t
from dataclasses import dataclass

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
        self.total = first.total_items or 0
        self.frontier: float = math.inf  # every row not yet read has a rank below it
        self.anchor: Anchor | None = None
        self.last: Page = first  # the page whose lowest rank is the frontier
        self.moved = False  # rows moved during a round: the rest is read one page at a time

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
            return True
        # Oldest first, page 1 is read again at the end: on a few pages, overlapping may cost less.
        tiles = math.ceil(total / first.limit) + (total % first.limit == 0)
        return tiles > SHORT or overlapping_reads(first.end, total, self.walk.most, tiles) >= tiles

    def _tiles(self) -> t.Iterator[Page]:
        """Round after round from the newest end down, until no rank is left unread."""
        yield from self._newest_end()
        stuck = 0
        while self.frontier > 0:
            before = self.frontier
            yield from self._round()
            stuck = 0 if self.frontier < before else stuck + 1
            if stuck >= STUCK:
                raise _Unproven(from_start=False)
        if self.newest_first and len(self.last.rows) == self.last.limit:
            yield from self._closing_page()

    def _newest_end(self) -> t.Iterator[Page]:
        """The anchor and the first frontier: page 1 newest first, else the end of the list."""
        first = self.first
        if self.newest_first:
            self.anchor = Anchor((1, first.limit), first.keys[0][0], self.total - 1)
            self.frontier = self.total - first.end
            return
        limit, total = first.limit, self.total
        end = self._fresh(self._checked((total // limit + 1, limit)))
        yield end
        if len(end.rows) == end.limit or end.end != end.total_items:
            raise _Unproven(from_start=True)  # total_items does not say where the list ends
        self.frontier = end.offset
        if not end.rows:  # total_items is a multiple of the limit: the page below is the last
            end = self._fresh(self._checked(covering(end.offset - 1, limit)))
            yield end
            self.frontier = end.offset if end.rows else self.frontier
        if not end.rows:
            raise _Unproven(from_start=True)
        self.anchor = Anchor((end.page, end.limit), end.keys[-1][0], end.end - 1)
        self.last = end

    def _round(self) -> t.Iterator[Page]:
        """The next pages below the frontier: at once and then proven by the anchor, or one."""
        ahead = self.walk.ahead
        plan = self._plan(ROUND if ahead.width > 1 and not self.moved else 1)
        at_once = len(plan) >= AT_ONCE
        plan = plan if at_once else plan[:1]
        for request in plan:
            ahead.start(request, functools.partial(self._read_one, request))
        read: list[Page] = []
        for request in plan:
            [page] = ahead.take(request, functools.partial(self._read_one, request))
            page = self._fresh(self._checked(page))
            yield page
            read.append(page)
        if not at_once:
            self._reach(read)  # one at a time: each page answered after the one above it
            return
        self.moved = not (yield from self._witness())
        if not self.moved:
            self._reach(sorted(read, key=lambda page: -self._ranks(page)[1]))

    def _plan(self, most_pages: int) -> list[Request]:
        """The requests that tile the ranks below the frontier, if the list holds still."""
        plan: list[Request] = []
        top, most = int(self.frontier), self.walk.most  # finite once the newest end is read
        while top > 0 and len(plan) < most_pages:
            if self.newest_first:  # the row of rank top - 1 stands at total - top
                request = overlapping(self.total - top + 1, most)
                top = self.total - request[0] * request[1]
            else:
                request = covering(top - 1, most)
                top = (request[0] - 1) * request[1]
            plan.append(request)
        return plan

    def _reach(self, pages: list[Page]) -> None:
        """Lower the frontier through the pages, in rank order, as far as they join up."""
        for page in pages:
            low, high = self._ranks(page)
            if high < self.frontier:
                return
            if low < self.frontier:
                self.frontier, self.last = low, page

    def _ranks(self, page: Page) -> tuple[int, float]:
        """The ranks [low, high) the page read; high is unbounded on a page that ends the list."""
        if self.newest_first:
            total = page.total_items or 0
            return max(0, total - page.end), total - page.offset
        return page.offset, page.end if len(page.rows) == page.limit else math.inf

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

    def _witness(self) -> t.Generator[Page, None, bool]:
        """Read the anchor again: True if its rank held, so the round's pages prove their ranks."""
        anchor = self.anchor
        assert anchor is not None
        page = self._fresh(self._read(anchor.request))
        self.walk.report.reread += 1
        yield page
        keys = [key for key, _ in page.keys]
        if anchor.key not in keys or page.total_items is None:
            return False
        place = page.offset + keys.index(anchor.key)
        return (page.total_items - 1 - place if self.newest_first else place) == anchor.rank

    def _closing_page(self) -> t.Iterator[Page]:
        """Newest first, the walk ended on a full page: the next must be where the list ends."""
        last = self.last
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


def every_page(walk: PageWalk) -> t.Iterator[Page]:
    """Page 1, then the rest of a full read: tiled where the served order allows."""
    first = walk.first()
    yield first
    yield from TiledWalk(walk, first).pages()


class _Unproven(Exception):
    """A proof of the tiled walk failed: the overlapping walk reads the rest."""

    def __init__(self, *, from_start: bool) -> None:
        super().__init__()
        self.from_start = from_start
