"""Cekat's `cekat_messages` stream: GET /api/messages, paged by number, in any served order."""

from __future__ import annotations

import functools
import itertools
import typing as t
from functools import cached_property

from typing_extensions import override

from tap_messages.cekat.client import CekatStream
from tap_messages.cekat.increments import Scope, rows_in_scope
from tap_messages.cekat.page_walk import Report
from tap_messages.shared.rows import unseen
from tap_messages.shared.timestamps import duration, parse, zone

if t.TYPE_CHECKING:
    import datetime as dt

    from singer_sdk.helpers.types import Context

Row = dict[str, t.Any]
LOOKBACK = "P1D"
# Seeded so the SDK does not warn that an unsorted stream cannot resume: this one can (see below).
RESUMES = "Committed at the end of the sync; a killed run reads again from the last bookmark."


class CekatMessagesStream(CekatStream):
    """Messages, incremental on `updated_at`: unsorted, so the bookmark is committed at the end.

    Capped at the sync's start, and held where a walk fell short; a killed run loses nothing.
    """

    name = "cekat_messages"
    path = "/api/messages"
    primary_keys: t.ClassVar[list[str]] = ["id"]
    replication_key = "updated_at"
    is_sorted = False
    scope_filters = ("inbox_ids", "conversation_ids")
    time_fields = ("created_at", "updated_at", "additional_data.snooze_date")

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

    @property
    @override
    def naive_zone(self) -> dt.tzinfo:
        return zone(self.settings.get("timezone") or "Asia/Jakarta")

    def scope(self, context: Context | None) -> Scope:
        """What this run reads: changed since the bookmark, nothing created before start_date."""
        lookback = duration(self.settings.get("lookback") or LOOKBACK)
        floor = self.config.get("start_date")
        return Scope.since(
            self.get_starting_timestamp(context), lookback, parse(floor) if floor else None
        )

    @override
    def read_partition(self, context: Context | None) -> t.Iterable[Row]:
        self.get_context_state(context).setdefault("progress_markers", {"Note": RESUMES})
        report = Report()
        read = functools.partial(self.read_page, filters=context)
        walks = functools.partial(self.page_walk, read, report)
        new_walk = lambda early: walks(stops_early=early)  # noqa: E731
        rows = rows_in_scope(new_walk, self.scope(context), self.logger)
        yield from unseen(rows, set())
        self.account(context, report)
        if report.shortfalls:
            # The bookmark stays where it was, so that the next run reads these rows again.
            self.get_context_state(context).pop("progress_markers", None)
