"""Cekat's `cekat_messages` stream: GET /api/messages, paged by number, in any served order."""

from __future__ import annotations

import itertools
import typing as t
from functools import cached_property

from typing_extensions import override

from tap_messages.cekat_pages import Page, PageWalk, page_of
from tap_messages.client import VendorStream
from tap_messages.read_ahead import ReadAhead
from tap_messages.timestamps import format_utc, is_utc, to_utc_or_none, zone

if t.TYPE_CHECKING:
    import datetime as dt

    from singer_sdk.helpers.types import Context

Row = dict[str, t.Any]


class CekatMessagesStream(VendorStream):
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

    @cached_property
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
    def naive_zone(self) -> dt.tzinfo:
        """The zone Cekat's naive message times are in."""
        return zone(self.settings.get("timezone") or "Asia/Jakarta")

    def normalised(self, row: Row) -> Row:
        """The row with its naive times in UTC; unreadable ones stay as sent, for validation."""
        sent, changed = row.get("created_at"), row.get("updated_at")
        if (created := to_utc_or_none(sent, self.naive_zone)) is not None:
            row["created_at"] = created
        # Most messages were never updated: both times are the same text.
        updated = created if changed == sent else to_utc_or_none(changed, self.naive_zone)
        if updated is not None:
            row["updated_at"] = updated
        extra = row.get("additional_data")
        if isinstance(extra, dict):
            snooze = to_utc_or_none(extra.get("snooze_date"), self.naive_zone)
            if snooze is not None:
                extra["snooze_date"] = snooze
        return row

    def page(self, number: int, context: Context | None) -> Page:
        """Page `number` of the messages in the partition, times in UTC."""
        limit = int(self.settings.get("page_size") or 100)
        page = page_of(number, self.get_json({"limit": limit, "page": number, **(context or {})}))
        page.rows = [self.normalised(row) for row in page.rows]
        return page

    @override
    def read_partition(self, context: Context | None) -> t.Iterable[Row]:
        start = self.get_starting_timestamp(context)
        since = format_utc(start) if start else ""
        limit = int(self.settings.get("page_size") or 100)
        walk = PageWalk(
            lambda number: self.page(number, context), limit, ReadAhead(self.max_concurrency)
        )
        newest_first, oldest_first, previous = True, False, "\uffff"
        for page in walk:
            fresh = page.fresh()
            for row in fresh if newest_first else ():
                updated = row.get("updated_at")
                if isinstance(updated, str):
                    newest_first = newest_first and updated <= previous
                    previous = updated
            yield from (row for row in fresh if not _older(row, since))
            if newest_first and previous < since:
                self.logger.info(
                    "Cekat serves newest first: stopped at page %d, older than the bookmark",
                    page.number,
                )
                return
            if page.number == 1:
                oldest_first = _rising(page.rows)
            # New rows land on later pages only, so when served oldest first the pages
            # `total_page` promises can be read ahead. Newest first stays sequential:
            # rows pushed down a page by new messages must be read after the page they left.
            if oldest_first and page.total_page:
                walk.read_ahead_until = page.total_page


def _older(row: Row, since: str) -> bool:
    """True when the row's updated_at is readable and before `since` (unreadable ones are kept)."""
    updated = row.get("updated_at")
    return is_utc(updated) and t.cast("str", updated) < since


def _rising(rows: list[Row]) -> bool:
    """True when a page runs from older to newer messages (by creation, which never moves)."""
    first, last = (rows[0].get("created_at"), rows[-1].get("created_at")) if rows else (None, None)
    return isinstance(first, str) and isinstance(last, str) and first < last
