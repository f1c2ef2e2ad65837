"""Cekat's `cekat_messages` stream: GET /api/messages, paged by number, in any served order."""

from __future__ import annotations

import itertools
import typing as t
from functools import cached_property

from singer_sdk.helpers.types import Context
from typing_extensions import override

from tap_messages.client import MessagesStream
from tap_messages.page_numbers import PageWalk
from tap_messages.timestamps import format_utc, to_utc_or_none, zone


class CekatMessagesStream(MessagesStream):
    """Messages of the New Open API; incremental on `updated_at`, which moves on status changes.

    The served order is not documented, so the stream is unsorted: its bookmark is committed at the
    end of a sync, capped at the sync's start so that rows updated meanwhile are read next time.
    When the rows arrive newest-first by `updated_at`, the walk stops at the first page wholly
    older than the bookmark; in any other order an incremental run reads every page.
    """

    name = "cekat_messages"
    path = "/api/messages"
    primary_keys: t.ClassVar[list[str]] = ["id"]
    replication_key = "updated_at"
    is_sorted = False
    vendor = "Cekat"
    settings_prefix = "cekat"

    @override
    def auth_headers(self) -> dict[str, str]:
        key = self.settings.get("api_key") or ""
        return {"Authorization": f"Bearer {key}", "api_key": key}

    @property
    @override
    def partitions(self) -> list[dict[str, t.Any]] | None:
        inboxes = self.settings.get("inbox_ids") or [None]
        conversations = self.settings.get("conversation_ids") or [None]
        contexts = [
            {k: v for k, v in (("inbox_id", i), ("conversation_id", c)) if v is not None}
            for i, c in itertools.product(inboxes, conversations)
        ]
        return contexts if contexts != [{}] else None

    @cached_property
    def naive_zone(self) -> t.Any:
        """The zone Cekat's naive message times are in."""
        return zone(self.settings.get("timezone") or "Asia/Jakarta")

    def normalised(self, row: dict[str, t.Any]) -> str | None:
        """Convert the row's naive times to UTC in place; return its UTC `updated_at`, if readable.

        Unreadable values stay as sent, for validation to quarantine with a reason.
        """
        zone, sent, changed = self.naive_zone, row.get("created_at"), row.get("updated_at")
        if (created := to_utc_or_none(sent, zone)) is not None:
            row["created_at"] = created
        # Most messages were never updated: both times are the same text.
        updated = created if changed == sent else to_utc_or_none(changed, zone)
        if updated is not None:
            row["updated_at"] = updated
        extra = row.get("additional_data")
        if isinstance(extra, dict):
            snooze = to_utc_or_none(extra.get("snooze_date"), zone)
            if snooze is not None:
                extra["snooze_date"] = snooze
        return updated

    @override
    def raw_batches(self, context: Context | None) -> t.Iterator[list[dict[str, t.Any]]]:
        start = self.get_starting_timestamp(context)
        since = format_utc(start) if start else ""
        limit = int(self.settings.get("page_size") or 100)
        params = {"limit": limit, **(context or {})}
        newest_first, oldest_first, previous = True, False, "\uffff"
        walk = PageWalk(lambda number: self.fetch({**params, "page": number}), limit)
        for page in walk:
            fresh = []
            for row in page.rows:
                updated = self.normalised(row)
                if updated is not None:
                    newest_first = newest_first and updated <= previous
                    previous = updated
                    if updated < since:
                        continue
                fresh.append(row)
            yield fresh
            if newest_first and previous < since:
                self.log(
                    "Cekat serves newest first: stopped at page %d, older than the bookmark",
                    page.number,
                )
                return
            if page.number == 1:
                oldest_first = _oldest_first(page.rows)
            if oldest_first and walk.ahead == 1 and self.waits_on_answers():
                # New rows land on later pages only, so the pages `total_page` promises can be
                # read side by side. Newest first stays sequential: rows pushed down a page by
                # new messages must be read after, never before, the page they left.
                walk.ahead = self.max_concurrency

    @override
    def prepare(self, row: dict[str, t.Any], context: Context | None) -> dict[str, t.Any]:
        if context:
            for key, value in context.items():
                row.setdefault(key, value)
        return row


def _oldest_first(rows: list[dict[str, t.Any]]) -> bool:
    """True when a page runs from older to newer messages (by creation, which never moves)."""
    first, last = (
        rows[0].get("created_at") if rows else None,
        rows[-1].get("created_at") if rows else None,
    )
    return isinstance(first, str) and isinstance(last, str) and first < last
