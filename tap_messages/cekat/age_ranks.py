"""Age ranks: how many rows of a list are older than a row, which a page read, which are left.

Served oldest first a row's rank is its place; newest first it is `total_items` - 1 - its place,
so that new rows, which join the newest end, change no rank (tiled_walk says why that matters).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from tap_messages.cekat.pages import Page, Request, covering, overlapping

Ranks = tuple[float, float]  # [low, high); high is unbounded above a list's end


@dataclass(frozen=True)
class AgeRanks:
    """The ranks of one list, served newest or oldest first, `most` rows a page at most."""

    newest_first: bool
    most: int

    def of(self, page: Page) -> Ranks:
        """The ranks the page read; unbounded above on an oldest-first page that ends the list."""
        if self.newest_first:
            total = page.total_items or 0
            return max(0, total - page.end), total - page.offset
        return page.offset, page.end if len(page.rows) == page.limit else math.inf

    def plan(
        self, unread: list[Ranks], total: int, pages: int, margin: int = 0
    ) -> tuple[list[Request], list[Ranks]]:
        """Up to `pages` requests that read `unread` from the top if nothing moves; what is left.

        Newest first, each starts `margin` rows above the ranks it is for, if the limits allow.
        """
        plan: list[Request] = []
        rest = list(unread)
        while rest and len(plan) < pages:
            low, top = rest[0][0], int(rest[0][1])
            if self.newest_first:  # the row of rank top - 1 stands at total - top, if any
                request = overlapping(max(0, total - top) + 1, self.most, margin + 1)
                top = total - request[0] * request[1]
            else:
                request = covering(top - 1, self.most)
                top = (request[0] - 1) * request[1]
            plan.append(request)
            rest[0] = (low, top)
            if top <= low:
                rest.pop(0)
        return plan, rest


def below(rank: float) -> list[Ranks]:
    """Every rank below `rank`, as unread ranks."""
    return [(0, rank)] if rank > 0 else []


def without(unread: list[Ranks], low: float, high: float) -> list[Ranks]:
    """The unread ranks less [low, high), highest first."""
    left: list[Ranks] = []
    for a, b in unread:
        left += [(max(a, high), b)] if b > high else []
        left += [(a, min(b, low))] if a < low else []
    return [(a, b) for a, b in left if b > a]


def size(unread: list[Ranks]) -> float:
    """How many ranks are left unread."""
    return sum(b - a for a, b in unread)
