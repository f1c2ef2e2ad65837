"""Cekat's pages: which page to ask for next, and whether the answer continues the rows read.

`GET /api/messages` pages by number (`page`, `limit`) over a list that changes while it is read.
Each request after the first is chosen to overlap the page accepted before it: its `limit` (at most
`page_size`) and `page` are picked so that the page starts at or before the last row read, and
brings as many new rows as such a page can (about 88 of 100: a walk costs about 1.14 requests per
100 rows). A page that holds again a row of the page before, in the same version, continues it
(see cekat_walk for why that is enough).
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass, field

Row = dict[str, t.Any]
Request = tuple[int, int]  # (page, limit)


@dataclass
class Page:
    """One served page: where it starts in the list, its rows as prepared, the list's totals."""

    page: int
    limit: int
    rows: list[Row]
    total_items: int | None = None
    fresh: list[Row] = field(default_factory=list)  # rows not on the page accepted before

    @property
    def offset(self) -> int:
        """Where the page starts in the list (rows before it)."""
        return (self.page - 1) * self.limit

    @property
    def end(self) -> int:
        """Where the rows read so far end, once this page is accepted."""
        return self.offset + len(self.rows)

    @property
    def keys(self) -> list[tuple[t.Any, t.Any]]:
        """Each row's version: its id and its updated_at."""
        return [(row.get("id"), row.get("updated_at")) for row in self.rows]

    def promises_more(self) -> bool:
        """True when `total_items` says rows exist past this page's end."""
        return self.total_items is not None and self.end < self.total_items


def total_items(payload: t.Any) -> int | None:
    """`metadata.pagination.total_items` of a list endpoint's body, when it is a number."""
    metadata = payload.get("metadata") if isinstance(payload, dict) else None
    pagination = metadata.get("pagination") if isinstance(metadata, dict) else None
    total = pagination.get("total_items") if isinstance(pagination, dict) else None
    return total if isinstance(total, int) else None


def overlapping(frontier: int, most: int, overlap: int = 1) -> Request:
    """The request whose page holds the last `overlap` rows read again and the most after them.

    Only where `frontier` is a multiple of every limit from most / 2 to most (for 10, every
    2,520th row) does none bring a new row: then the page starting at `frontier` is asked for.
    """
    for rows_again in range(min(overlap, frontier), 0, -1):
        best = (0, 0, 0)
        for limit in range(max(2, most // 2), most + 1):
            start = limit * ((frontier - rows_again) // limit)
            best = max(best, (start + limit - frontier, limit, start))
        gain, limit, start = best
        if gain > 0:
            return start // limit + 1, limit
    limit = max(m for m in range(1, most + 1) if frontier % m == 0)
    return frontier // limit + 1, limit


def overlapping_reads(frontier: int, total: int, most: int, at_most: int) -> int:
    """Requests an overlapping walk takes from `frontier` to the end of `total` rows at rest."""
    reads = 0
    while reads < at_most:
        page, limit = overlapping(frontier, most)
        reads += 1
        if page * limit > total:  # a short page: the end
            break
        frontier = page * limit
    return reads


def covering(offset: int, most: int) -> Request:
    """The request whose page holds row `offset` and the most rows before it."""
    best = max((offset % limit, limit) for limit in range(max(1, most // 2), most + 1))
    return offset // best[1] + 1, best[1]


def anchored(page: Page, before: Page, *, by_id: bool = False) -> bool:
    """True when `page` holds again a row of `before`, in the same version unless `by_id`."""
    seen = {key[0] if by_id else key for key in before.keys if key[0] is not None}
    return not seen or any((key[0] if by_id else key) in seen for key in page.keys)


def short_of_totals(page: Page) -> bool:
    """An empty or short page where the totals promise more rows."""
    return len(page.rows) < page.limit and page.promises_more()
