"""What the rows read so far say about the order Cekat serves a list in (it documents none)."""

from __future__ import annotations

import itertools
import typing as t

from tap_messages.shared.timestamps import is_utc

Row = dict[str, t.Any]


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
