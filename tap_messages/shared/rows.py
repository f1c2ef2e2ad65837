"""Rows a walk may meet twice (moved down a page, listed by two answers): each id emitted once."""

from __future__ import annotations

import typing as t

Row = dict[str, t.Any]


def unseen(rows: t.Iterable[Row], seen: set[str]) -> t.Iterator[Row]:
    """The rows whose `id` is not in `seen`, adding it; rows without a string id pass on."""
    for row in rows:
        key = row.get("id")
        if isinstance(key, str):
            if key in seen:
                continue
            seen.add(key)
        yield row
