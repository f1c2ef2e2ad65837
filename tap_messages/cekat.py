"""Cekat's `cekat_messages` stream: GET /api/messages, paged by number, in any served order."""

from __future__ import annotations

import functools
import itertools
import typing as t
from functools import cached_property

from typing_extensions import override

from tap_messages.cekat_increments import Scope, duration, rows_in_scope
from tap_messages.cekat_pages import Page, page_of
from tap_messages.cekat_walk import Report
from tap_messages.timestamps import to_utc_or_none, zone
from tap_messages.vendors import CekatStream

if t.TYPE_CHECKING:
    import datetime as dt

    from singer_sdk.helpers.types import Context

Row = dict[str, t.Any]
LOOKBACK = "P1D"


class CekatMessagesStream(CekatStream):
    """Messages of the New Open API; incremental on `updated_at`, which moves on status changes.

    The served order is not documented, so the stream is unsorted: its bookmark is committed at the
    end of a sync, capped at the sync's start so that rows updated meanwhile are read next time,
    and held where a walk could not read everything it should. Where a run starts and stops is
    cekat_increments'; how it pages through a list that changes meanwhile, cekat_pages'.
    """

    name = "cekat_messages"
    path = "/api/messages"
    primary_keys: t.ClassVar[list[str]] = ["id"]
    replication_key = "updated_at"
    is_sorted = False

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

    def page(self, page: int, limit: int, *, context: Context | None) -> Page:
        """One page of the messages in the partition, times in UTC."""
        params = {"limit": limit, "page": page, **(context or {})}
        served = page_of(self.get_json(params), page, limit)
        served.rows = [self.normalised(row) for row in served.rows]
        return served

    @override
    def read_partition(self, context: Context | None) -> t.Iterable[Row]:
        lookback = duration(self.settings.get("lookback") or LOOKBACK)
        scope = Scope.since(self.get_starting_timestamp(context), lookback)
        report = Report()
        read = functools.partial(self.page, context=context)
        yield from rows_in_scope(lambda: self.page_walk(read, report), scope, self.logger)
        self.account(context, report)
        if report.shortfalls:
            # The bookmark stays where it was, so that the next run reads these rows again.
            self.get_context_state(context).pop("progress_markers", None)
