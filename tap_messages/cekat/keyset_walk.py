"""Cekat's keyset walk: `GET /api/conversations`, each page asked for after the cursor of the last.

The API passes back `metadata.next_cursor = {cursor_id, cursor_ts}`: the id and the creation time
of the page's last row. A request with that cursor gets the rows after it in the served order.

Why nothing is missed: a cursor names a place by the row's own values, not by a count of rows
before it, so rows deleted or added before it do not shift what comes after (the page walk's
problem does not arise). Conversations change while a run reads them (stage, handler,
last message, resolved_at) but not their `created_at` or `id`, the values the cursor is made of:
a conversation that changes keeps its place and is read once, as it was when its page was served.
Every conversation that exists from the first request to the last lies after the first cursor and,
page by page, before or after each next one, so it is on exactly one page. One created during the
run is read now if the list is served oldest first (it lands after the cursor), else by the next
run, which reads the whole list again (there is no change time to read less by).

The docs do not say what `cursor_ts` is. If it is the last activity, newest first (an inbox's
order), a conversation that gets a message while the walk reads moves above the cursor and could
be passed over. So a walk of more than one page reads the list again from the start, emitting what
it did not see, until it meets a conversation unchanged since the first page: everything that
moved lies above it. While such a look brings conversations, the next may find more that moved
meanwhile; after LOOKS_BACK the walk says so, loudly. Served by creation, it costs one request.

Where the walk stops:
- `next_cursor` missing or null: the end of the list.
- An empty page: the end (nothing lies after the cursor). If it still points to a cursor other
  than the one sent, that is recorded as a shortfall, loudly.
- A cursor that was sent before: following it would loop. The walk stops and records what it
  could not read, unless the page was empty (a server that echoes the cursor at the end).
- Pages that bring no new conversation three times running: the API ignores the cursor;
  the run stops with an error.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass, field

from tap_messages.cekat.page_walk import STALLED, Report
from tap_messages.shared.errors import TapMessagesError
from tap_messages.shared.rows import unseen

LOOKS_BACK = 4  # passes from the top for conversations that moved there, while they bring any

Row = dict[str, t.Any]
Cursor = tuple[str, str]  # (cursor_id, cursor_ts), as served


@dataclass
class KeysetPage:
    """One served page: its rows and the cursor to ask for the next (None at the end)."""

    rows: list[Row]
    next_cursor: Cursor | None


def next_cursor(payload: t.Any) -> Cursor | None:
    """`metadata.next_cursor` of a keyset endpoint's body; None at the end of the list."""
    metadata = payload.get("metadata") if isinstance(payload, dict) else None
    cursor = metadata.get("next_cursor") if isinstance(metadata, dict) else None
    if cursor is None:
        return None
    parts = (cursor.get("cursor_id"), cursor.get("cursor_ts")) if isinstance(cursor, dict) else ()
    if len(parts) != 2 or not all(isinstance(p, (str, int)) and p != "" for p in parts):
        msg = (
            f"Cekat's next_cursor {str(cursor)[:200]} is not the documented "
            "{cursor_id, cursor_ts}; the conversations after it cannot be asked for."
        )
        raise TapMessagesError(msg)
    return str(parts[0]), str(parts[1])


@dataclass
class KeysetWalk:
    """Yields each page's conversations not yet read; its shortfalls go to `report`."""

    read: t.Callable[[Cursor | None], KeysetPage]
    report: Report = field(default_factory=Report)
    pages: int = 0

    def __iter__(self) -> t.Iterator[list[Row]]:
        """Walk the list to its end, then catch what moved to its top meanwhile."""
        seen: set[str] = set()
        first: list[Row] = []
        yield from self._walk(seen, first)
        for _ in range(LOOKS_BACK if self.pages > 1 else 0):
            before = len(seen)
            yield from self._walk(seen, [], until_one_of=first)
            if len(seen) == before:
                return
        if self.pages > 1:
            self._shortfall(None, f"conversations still moved to the top after {LOOKS_BACK} looks")

    def _walk(
        self, seen: set[str], first: list[Row], until_one_of: list[Row] | None = None
    ) -> t.Iterator[list[Row]]:
        """From the start to the end, or to a page holding a row of `until_one_of` as it was."""
        cursor: Cursor | None = None
        sent: set[Cursor] = set()
        stalled = 0
        while True:
            page = self.read(cursor)
            self.pages += 1
            if not first:
                first.extend(page.rows)
            if until_one_of is not None:
                self.report.reread += 1
            fresh = list(unseen(page.rows, seen))
            stalled = 0 if fresh or not page.rows or until_one_of else stalled + 1
            if stalled >= STALLED:
                msg = (
                    f"Cekat served only conversations read already for {STALLED} pages in a row "
                    f"(cursor {cursor}); the API seems to ignore cursor_id and cursor_ts."
                )
                raise TapMessagesError(msg)
            if fresh:
                yield fresh
            if until_one_of is not None and any(row in until_one_of for row in page.rows):
                return  # back where the list stood when the walk began
            following = page.next_cursor
            if following is None:
                return
            if not page.rows:
                if following != cursor:
                    self._shortfall(cursor, f"an empty page still pointed on to {following}")
                return
            if following in sent:
                self._shortfall(following, "the cursor came again: the walk stopped, not loop")
                return
            sent.add(following)
            cursor = following

    def _shortfall(self, cursor: Cursor | None, why: str) -> None:
        where = f"after cursor_id {cursor[0]}, cursor_ts {cursor[1]}" if cursor else "at the start"
        self.report.shortfalls.append(
            f"{why} ({where}, page {self.pages}): conversations after it may be unread"
        )
