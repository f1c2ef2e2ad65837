"""Cekat's page-number walk, safe against a wrong `total_page`, any served order and live inserts.

Pages are requested 1, 2, 3, ... once each. A page ends the walk only when it is empty, or when it
is short *and* neither `total_page` nor `total_items` says more exists: a server that silently caps
`limit` returns short pages that are not the last, and the docs' own totals do not add up, so
neither signal is trusted alone. Rows that new messages push from one page onto the next are seen
twice, never skipped (offset paging shifts rows towards later pages); the repeat is dropped here
when it was on the page before. A server that ignores `page` would loop; a run of pages that bring
nothing new stops the walk with an error instead.
"""

from __future__ import annotations

import typing as t
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from tap_messages.client import objects_under
from tap_messages.errors import TapMessagesError

Fetch = t.Callable[[int], t.Any]
STALLED_PAGES = 3


@dataclass
class Page:
    """One served page: its number, its rows, and whether the metadata says more follow."""

    number: int
    rows: list[dict[str, t.Any]]
    says_more: bool
    total_page: int | None = None


def read_page(number: int, payload: t.Any, rows_before: int) -> Page:
    """Check one /api/messages body against the documented shape and read its paging metadata."""
    rows = objects_under(
        payload,
        "data",
        answer=f"Cekat page {number}",
        shape="{success, data: [...], metadata: {pagination}}",
        setting="cekat.base_url",
    )
    meta = (payload.get("metadata") or {}).get("pagination") or {}
    total_page, total_items = meta.get("total_page"), meta.get("total_items")
    says_more = (isinstance(total_page, int) and number < total_page) or (
        isinstance(total_items, int) and rows_before + len(rows) < total_items
    )
    return Page(number, rows, says_more, total_page if isinstance(total_page, int) else None)


@dataclass
class PageWalk:
    """Yields pages until the API is exhausted; the caller may stop early by breaking out.

    With `ahead` above 1 (the caller's call, once it knows the served order allows it), pages up
    to `total_page` are requested that many at a time; past it the walk goes one page at a time.
    """

    fetch: Fetch
    limit: int
    ahead: int = 1
    _previous: set[t.Any] = field(default_factory=set)

    def __iter__(self) -> t.Iterator[Page]:
        """Walk pages 1, 2, ...; each page's rows exclude repeats from the page before."""
        with ThreadPoolExecutor(max_workers=8, thread_name_prefix="cekat-page") as pool:
            queued: dict[int, Future[t.Any]] = {}
            try:
                yield from self._walk(pool, queued)
            finally:
                for future in queued.values():
                    future.cancel()

    def _walk(self, pool: ThreadPoolExecutor, queued: dict[int, Future[t.Any]]) -> t.Iterator[Page]:
        number, rows_before, stalled = 1, 0, 0
        while True:
            payload = queued.pop(number).result() if number in queued else self.fetch(number)
            page = read_page(number, payload, rows_before)
            promised = page.total_page or 0
            for later in range(number + 1, min(promised, number + self.ahead - 1) + 1):
                if later not in queued:
                    queued[later] = pool.submit(self.fetch, later)
            if not page.rows:
                return
            seen = {(row.get("id"), row.get("updated_at")) for row in page.rows}
            fresh = [
                r for r in page.rows if (r.get("id"), r.get("updated_at")) not in self._previous
            ]
            stalled = 0 if fresh else stalled + 1
            if stalled >= STALLED_PAGES:
                msg = (
                    f"Cekat served the same rows for {STALLED_PAGES} pages in a row (up to page "
                    f"{number}); the API seems to ignore the `page` parameter."
                )
                raise TapMessagesError(msg)
            self._previous = seen
            yield Page(number, fresh, page.says_more, page.total_page)
            if len(page.rows) < self.limit and not page.says_more:
                return
            number, rows_before = number + 1, rows_before + len(page.rows)
