"""Cekat's page-number walk, safe against a wrong `total_page`, any served order and live inserts.

Pages are requested 1, 2, 3, ... once each. A page ends the walk only when it is empty, or when it
is short *and* neither `total_page` nor `total_items` says more exists: a server that silently caps
`limit` returns short pages that are not the last, and the docs' own totals do not add up, so
neither signal is trusted alone. Rows that new messages push from one page onto the next are seen
twice, never skipped (offset paging shifts rows towards later pages); the walk marks the repeat
when it was on the page before. A server that ignores `page` would loop; a run of pages that bring
nothing new stops the walk with an error instead.

The walk decides from each page's row keys alone, so what the stream makes of the rows (checked,
serialised) can be made wherever the page was fetched: in the walk's thread, on threads reading
ahead, or in worker processes.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass, field

from tap_messages.client import objects_under
from tap_messages.errors import TapMessagesError

R = t.TypeVar("R")
STALLED_PAGES = 3
# Reads pages `numbers` with `read`, yielding them in order (threads or worker processes).
ReadAhead = t.Callable[[t.Sequence[int], t.Callable[[int], "Page[R]"]], t.Iterator["Page[R]"]]


@dataclass
class Page(t.Generic[R]):
    """One served page: its rows' keys and paging metadata, and what the stream made of the rows."""

    number: int
    keys: list[tuple[t.Any, t.Any]]  # (id, updated_at) of each row, as served
    total_page: int | None
    total_items: int | None
    content: R
    repeats: set[int] = field(default_factory=set)  # rows already on the page before (the walk's)


def rows_of(number: int, payload: t.Any) -> tuple[list[dict[str, t.Any]], int | None, int | None]:
    """A /api/messages body's rows, `total_page` and `total_items`, in the documented shape."""
    rows = objects_under(
        payload,
        "data",
        answer=f"Cekat page {number}",
        shape="{success, data: [...], metadata: {pagination}}",
        setting="cekat.base_url",
    )
    meta = (payload.get("metadata") or {}).get("pagination") or {}
    total_page, total_items = meta.get("total_page"), meta.get("total_items")
    return (
        rows,
        total_page if isinstance(total_page, int) else None,
        total_items if isinstance(total_items, int) else None,
    )


@dataclass
class PageWalk(t.Generic[R]):
    """Yields pages until the API is exhausted; the caller may stop early by breaking out.

    `read_ahead` has pages up to a promised number read by other workers, in order; past it the
    walk reads one page at a time again.
    """

    read: t.Callable[[int], Page[R]]
    limit: int
    _ahead: t.Iterator[Page[R]] | None = None
    _ahead_until: int = 0
    _next: int = 1

    def read_ahead(self, reader: ReadAhead[R], until: int) -> None:
        """Read the pages after the current one, up to `until`, with `reader`."""
        numbers = range(self._next, until + 1)
        if self._ahead is None and numbers:
            self._ahead, self._ahead_until = reader(numbers, self.read), until

    @property
    def reading_ahead(self) -> bool:
        """True while pages come from a read-ahead."""
        return self._ahead is not None

    def __iter__(self) -> t.Iterator[Page[R]]:
        """Walk pages 1, 2, ...; each page marks its repeats from the page before."""
        try:
            yield from self._walk()
        finally:
            self._stop_reading_ahead()

    def _stop_reading_ahead(self) -> None:
        if self._ahead is not None:
            t.cast("t.Generator[Page[R], None, None]", self._ahead).close()
            self._ahead = None

    def _walk(self) -> t.Iterator[Page[R]]:
        rows_before, stalled, previous = 0, 0, set[tuple[t.Any, t.Any]]()
        while True:
            number = self._next
            if self._ahead is not None and number <= self._ahead_until:
                page = next(self._ahead)
                if number == self._ahead_until:
                    for _ in self._ahead:  # nothing left: lets the reader's workers finish
                        pass
                    self._ahead = None
            else:
                page = self.read(number)
            if not page.keys:
                return
            page.repeats = {i for i, key in enumerate(page.keys) if key in previous}
            stalled = stalled + 1 if len(page.repeats) == len(page.keys) else 0
            if stalled >= STALLED_PAGES:
                msg = (
                    f"Cekat served the same rows for {STALLED_PAGES} pages in a row (up to page "
                    f"{number}); the API seems to ignore the `page` parameter."
                )
                raise TapMessagesError(msg)
            previous = set(page.keys)
            self._next = number + 1
            yield page
            says_more = (page.total_page is not None and number < page.total_page) or (
                page.total_items is not None and rows_before + len(page.keys) < page.total_items
            )
            if len(page.keys) < self.limit and not says_more:
                return
            rows_before += len(page.keys)
