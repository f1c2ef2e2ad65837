"""Cekat's `GET /api/conversations`: keyset pages on (created_at, id), cursors as the docs show.

Each conversation of the messages served is one row, with the same contact, inbox and agents.
`metadata.next_cursor` is `{cursor_id, cursor_ts}` of the page's last row, `cursor_ts` naive ISO
with milliseconds (UTC); times in rows are ISO with milliseconds and `+00:00` (api-facts §2.6).
Quirks on request: the last page still carrying a cursor (`cursor_on_last_page`), a server that
stops moving after some pages (`stuck_after`), newest first (`order`).
"""

from __future__ import annotations

import random
import threading
import time
import typing as t
from bisect import bisect_right
from datetime import datetime
from typing import Any, Literal

from imitations.base import UTC, Params, epoch_of, first, positive_int

if t.TYPE_CHECKING:
    from imitations.cekat import CekatData

STAGES = ("resolved", "resolved", "assigned", "assigned", "pending")
LABELS = ({"id": 1, "name": "complaint"}, {"id": 2, "name": "order"}, {"id": 3, "name": "vip"})
NO_MESSAGES = datetime(2025, 12, 1, tzinfo=UTC)  # where conversations without messages start
Key = tuple[int, str]  # (created_at in epoch milliseconds, id)


def iso_ms(ms: int) -> str:
    """Epoch milliseconds as Cekat writes conversation times: `...T09:24:23.237+00:00`."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + f".{ms % 1000:03d}+00:00"


def cursor_ts(ms: int) -> str:
    """Epoch milliseconds as Cekat writes `cursor_ts`: naive, with milliseconds."""
    return iso_ms(ms).removesuffix("+00:00")


def cursor_ms(text: str) -> int:
    """A naive `cursor_ts` (UTC) back to epoch milliseconds."""
    moment = datetime.fromisoformat(text)
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
    return round(moment.timestamp() * 1000)


class Conversations:
    """The conversations of a CekatData, served by keyset cursor; resolvable between runs."""

    def __init__(self, data: CekatData, seed: int) -> None:
        """Rows are made on first sight of each conversation id, deterministically."""
        self.data, self._rng = data, random.Random(seed * 7919 + 1)
        # By creation either way, or newest first by last activity (the docs state no order).
        self.order: Literal["oldest_first", "newest_first", "latest_activity"] = "oldest_first"
        self.active_per_page = 0  # conversations that get a new message after each page served
        self._activity: dict[str, int] = {}  # epoch ms of a message added while a walk reads
        self.cursor_on_last_page = False  # a short last page still carries next_cursor
        self.stuck_after: int | None = None  # after this many pages, the cursor is ignored
        self._rows: dict[str, dict[str, Any]] = {}
        self.deleted: set[str] = set()  # conversation ids no longer served
        self._keys: list[Key] = []
        self._lock = threading.RLock()
        self._cursor_pages = 0
        self._stuck: tuple[str, str] | None = None

    def _make(self, cid: str, index: int) -> dict[str, Any]:
        contact, inbox = self.data.parties_of(cid)
        messages = self.data.messages_of(cid)
        rng, agents = self._rng, self.data.agents()
        times = self._times_ms(messages)
        start = min(times) if times else epoch_of(NO_MESSAGES) * 1000 + 60_000 * index
        created = start - rng.randint(0, 300_000)
        stage = rng.choice(STAGES)
        handler = rng.choice(agents) if stage != "pending" else (None, None)
        row: dict[str, Any] = {
            "id": cid,
            "inbox_id": inbox["id"],
            "inbox_name": inbox["name"],
            "contact_id": contact["id"],
            "contact_name": contact["display_name"],
            "contact_phone": contact["phone_number"],
            "platform_type": inbox["type"],
            "stage_status": stage,
            "handled_by_id": handler[0],
            "handled_by_name": handler[1],
            "notes": None,
            "labels": [dict(label) for label in rng.sample(LABELS, rng.randint(0, 2))],
            "additional_data": {},
            "created_at": iso_ms(created),
            "resolved_at": None,
            "resolved_by_id": None,
            "resolved_by_name": None,
        }
        if stage == "resolved":
            last = self._last_ms(cid) or created
            self._resolve(row, last + rng.randint(60_000, 7_200_000), handler)
        self._keys.insert(bisect_right(self._keys, (created, cid)), (created, cid))
        return row

    def _last_ms(self, cid: str) -> int | None:
        return max(self._times_ms(self.data.messages_of(cid)), default=None)

    def _times_ms(self, messages: list[dict[str, Any]]) -> list[int]:
        """The creation times of the messages that have a readable one, in epoch ms."""
        times = []
        for message in messages:
            try:
                times.append(epoch_of(self.data.utc_of(message["created_at"])) * 1000)
            except (KeyError, TypeError, ValueError):
                continue
        return times

    @staticmethod
    def _resolve(row: dict[str, Any], at_ms: int, agent: tuple[str | None, str | None]) -> None:
        row.update(stage_status="resolved", resolved_at=iso_ms(at_ms))
        row.update(resolved_by_id=agent[0], resolved_by_name=agent[1])

    def rows(self) -> list[dict[str, Any]]:
        """Every conversation, in keyset order (oldest first), as served without last_message."""
        with self._lock:
            self._refresh()
            return [self._rows[cid] for _, cid in self._keys if cid not in self.deleted]

    def resolve(self, cid: str, at: datetime) -> dict[str, Any]:
        """Mark a conversation resolved at `at` by its handler (or the first agent)."""
        with self._lock:
            self._refresh()
            row = self._rows[cid]
            agent = (row["handled_by_id"], row["handled_by_name"])
            if agent[0] is None:
                agent = self.data.agents()[0]
            self._resolve(row, epoch_of(at) * 1000 + at.microsecond // 1000, agent)
            return row

    def _refresh(self) -> None:
        for cid in self.data.conversation_ids():
            if cid not in self._rows:
                self._rows[cid] = self._make(cid, len(self._rows))

    def _served(self, cid: str) -> dict[str, Any]:
        """The row with its first and last message as they are now."""
        messages = self.data.messages_of(cid)
        row = dict(self._rows[cid])
        row["first_message"] = {"message": messages[0].get("message")} if messages else None
        row["last_message"] = None
        if (last := self._last_ms(cid)) is not None:
            text = messages[-1].get("message")
            row["last_message"] = {"message": text, "created_at": iso_ms(last + 237)}
        if cid in self._activity:
            row["last_message"] = {"message": "(new)", "created_at": iso_ms(self._activity[cid])}
        return row

    def _ordered(self) -> list[Key]:
        """The keys as served: by (created, id), or newest first by (last activity, id)."""
        if self.order == "oldest_first":
            return self._keys
        if self.order == "newest_first":
            return self._keys[::-1]
        latest = [
            (self._activity.get(cid) or self._last_ms(cid) or c, cid) for c, cid in self._keys
        ]
        return sorted(latest, reverse=True)

    def _new_activity(self) -> None:
        """A message arrives in a few conversations: by activity, they move to the top."""
        for _, cid in self._rng.sample(self._keys, min(self.active_per_page, len(self._keys))):
            newest = max([*self._activity.values(), *(k for k, _ in self._ordered()[:1])])
            self._activity[cid] = newest + 1000

    def handle(self, params: Params) -> tuple[int, Any]:
        """Answer one keyset page: rows after the cursor, in the served order."""
        limit = positive_int(params, "limit", 10)
        if limit is None:
            return 400, {"success": False, "status_code": 400, "error": {"message": "bad limit"}}
        limit = min(limit, 100)
        cursor_id, ts = first(params, "cursor_id"), first(params, "cursor_ts")
        inbox, stage = first(params, "inbox_id"), first(params, "stage_status")
        with self._lock:
            self._refresh()
            if cursor_id is not None and ts is not None:
                self._cursor_pages += 1
                if self.stuck_after is not None and self._cursor_pages >= self.stuck_after:
                    self._stuck = self._stuck or (cursor_id, ts)
                    cursor_id, ts = self._stuck
            rising = self.order == "oldest_first"
            keys = self._ordered()
            if cursor_id is not None and ts is not None:
                after = (cursor_ms(ts), cursor_id)
                keys = [k for k in keys if (k > after if rising else k < after)]
            keys = [k for k in keys if k[1] not in self.deleted]
            keys = [k for k in keys if self._matches(self._rows[k[1]], inbox, stage)]
            chosen = [self._served(cid) for _, cid in keys[:limit]]
            self._new_activity()
        metadata: dict[str, Any] = {}
        if chosen and (len(keys) > limit or self.cursor_on_last_page):
            created, cid = keys[len(chosen) - 1]
            metadata["next_cursor"] = {"cursor_id": cid, "cursor_ts": cursor_ts(created)}
        elif self.cursor_on_last_page and cursor_id is not None and ts is not None:
            metadata["next_cursor"] = {"cursor_id": cursor_id, "cursor_ts": ts}  # echoed
        return 200, {"success": True, "data": chosen, "metadata": metadata}

    @staticmethod
    def _matches(row: dict[str, Any], inbox: str | None, stage: str | None) -> bool:
        return (inbox is None or row["inbox_id"] == inbox) and (
            stage is None or row["stage_status"] == stage
        )
