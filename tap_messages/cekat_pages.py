"""Cekat's page-number walk, safe against a wrong `total_page`, any served order and live inserts.

Pages are requested 1, 2, 3, ... once each. A page ends the walk only when it is empty, or when it
is short *and* neither `total_page` nor `total_items` says more exists: a server that silently caps
`limit` returns short pages that are not the last, and the docs' own totals do not add up, so
neither signal is trusted alone. Rows that new messages push from one page onto the next are seen
twice, never skipped (offset paging shifts rows towards later pages); the walk drops the repeat
when it was on the page before. A server that ignores `page` would loop; a run of pages that bring
nothing new stops the walk with an error instead.

When the caller allows it (`read_ahead_until`), the pages up to that number are fetched on
threads ahead of the walk; the walk still checks every page in order.
"""

from __future__ import annotations

import functools
import typing as t
from dataclasses import dataclass, field

from tap_messages.errors import TapMessagesError, objects_under
from tap_messages.read_ahead import ReadAhead

STALLED_PAGES = 3
Row = dict[str, t.Any]


@dataclass
class Page:
    """One served page: its rows (as the stream prepared them) and its paging metadata."""

    number: int
    rows: list[Row]
    total_page: int | None
    total_items: int | None
    repeats: set[int] = field(default_factory=set)  # places of rows on the page before too

    @property
    def keys(self) -> list[tuple[t.Any, t.Any]]:
        """Each row's identity as served: its id and its updated_at."""
        return [(row.get("id"), row.get("updated_at")) for row in self.rows]

    def fresh(self) -> list[Row]:
        """The rows not already on the page before."""
        return [row for place, row in enumerate(self.rows) if place not in self.repeats]


def page_of(number: int, payload: t.Any) -> Page:
    """A list endpoint's body as a Page, if it has the documented shape."""
    rows = objects_under(
        payload,
        "data",
        answer=f"Cekat page {number}",
        shape="{success, data: [...], metadata: {pagination}}",
        setting="cekat.base_url",
    )
    meta = (payload.get("metadata") or {}).get("pagination") or {}
    total_page, total_items = meta.get("total_page"), meta.get("total_items")
    return Page(
        number,
        rows,
        total_page if isinstance(total_page, int) else None,
        total_items if isinstance(total_items, int) else None,
    )


@dataclass
class PageWalk:
    """Yields pages until the API is exhausted; the caller may stop early by breaking out."""

    read: t.Callable[[int], Page]
    limit: int
    ahead: ReadAhead[int, Page]
    read_ahead_until: int = 0  # pages up to this number may be fetched before their turn

    def __iter__(self) -> t.Iterator[Page]:
        """Walk pages 1, 2, ...; each page marks its repeats from the page before."""
        try:
            yield from self._walk()
        finally:
            self.ahead.close()

    def _fetch(self, number: int) -> Page:
        for later in range(number, min(number + self.ahead.width, self.read_ahead_until + 1)):
            if later not in self.ahead:
                self.ahead.start(later, functools.partial(self._read_one, later))
        [page] = self.ahead.take(number, functools.partial(self._read_one, number))
        return page

    def _read_one(self, number: int) -> list[Page]:
        return [self.read(number)]

    def _walk(self) -> t.Iterator[Page]:
        rows_before, stalled, number, previous = 0, 0, 1, set[tuple[t.Any, t.Any]]()
        while True:
            page = self._fetch(number)
            keys = page.keys
            if not keys:
                return
            page.repeats = {i for i, key in enumerate(keys) if key in previous}
            stalled = stalled + 1 if len(page.repeats) == len(keys) else 0
            if stalled >= STALLED_PAGES:
                msg = (
                    f"Cekat served the same rows for {STALLED_PAGES} pages in a row (up to page "
                    f"{number}); the API seems to ignore the `page` parameter."
                )
                raise TapMessagesError(msg)
            previous = set(keys)
            yield page
            says_more = (page.total_page is not None and number < page.total_page) or (
                page.total_items is not None and rows_before + len(keys) < page.total_items
            )
            if len(keys) < self.limit and not says_more:
                return
            rows_before += len(keys)
            number += 1
