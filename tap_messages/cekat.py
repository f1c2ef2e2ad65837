"""Cekat's `cekat_messages` stream: GET /api/messages, paged by number, in any served order."""

from __future__ import annotations

import functools
import itertools
import typing as t
from dataclasses import dataclass
from functools import cached_property

from singer_sdk.helpers.types import Context
from typing_extensions import override

from tap_messages.client import Checked, MessagesStream
from tap_messages.concurrency import ahead_in_threads
from tap_messages.page_numbers import Page, PageWalk, ReadAhead, rows_of
from tap_messages.record_output import RecordOutput
from tap_messages.timestamps import format_utc, to_utc_or_none, zone
from tap_messages.worker_processes import in_stripes


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
    def batches(self, context: Context | None, output: RecordOutput | None) -> t.Iterator[Checked]:
        start = self.get_starting_timestamp(context)
        since = format_utc(start) if start else ""
        limit = int(self.settings.get("page_size") or 100)
        params = {"limit": limit, **(context or {})}
        read = functools.partial(
            self.page, params=params, since=since, context=context, output=output
        )
        walk = PageWalk(read, limit)
        newest_first, oldest_first, previous = True, False, "\uffff"
        for page in walk:
            rows = page.content
            for place, updated in enumerate(rows.updated if newest_first else ()):
                if updated is not None and place not in page.repeats:
                    newest_first = newest_first and updated <= previous
                    previous = updated
            yield rows.without(page.repeats)
            if newest_first and previous < since:
                self.log(
                    "Cekat serves newest first: stopped at page %d, older than the bookmark",
                    page.number,
                )
                return
            if page.number == 1:
                oldest_first = rows.rising
            promised = page.total_page or 0
            # New rows land on later pages only, so when served oldest first the pages
            # `total_page` promises can be read side by side. Newest first stays sequential:
            # rows pushed down a page by new messages must be read after the page they left.
            if (
                oldest_first
                and not walk.reading_ahead
                and promised > page.number
                and (reader := self.page_reader(promised - page.number))
            ):
                walk.read_ahead(reader, promised)

    def page(
        self,
        number: int,
        *,
        params: dict[str, t.Any],
        since: str,
        context: Context | None,
        output: RecordOutput | None,
    ) -> Page[CheckedRows]:
        """Fetch page `number` and check its rows not older than `since`; safe in a worker."""
        rows, total_page, total_items = rows_of(number, self.fetch({**params, "page": number}))
        keys = [(row.get("id"), row.get("updated_at")) for row in rows]
        updated, kept, fresh = [], [], []
        for place, row in enumerate(rows):
            when = self.normalised(row)
            updated.append(when)
            if when is None or when >= since:
                kept.append(place)
                fresh.append(row)
        batch = self.sealed(self.checked(fresh, context), output)
        content = CheckedRows(batch, kept, updated, _oldest_first(rows))
        return Page(number, keys, total_page, total_items, content)

    def page_reader(self, pages_left: int) -> ReadAhead[CheckedRows] | None:
        """How to read the promised pages, as the first answers tell: threads, processes, as is."""
        if self.waits_on_answers():
            return functools.partial(ahead_in_threads, width=self.max_concurrency)
        if workers := self.worker_processes(pages_left):
            return functools.partial(in_stripes, width=workers, hooks=self)
        return None

    @override
    def prepare(self, row: dict[str, t.Any], context: Context | None) -> dict[str, t.Any]:
        if context:
            for key, value in context.items():
                row.setdefault(key, value)
        return row


@dataclass
class CheckedRows:
    """A page's rows as checked (and perhaps serialised) records, with each row's place and time."""

    batch: Checked
    kept: list[int]  # the place on the page of each row checked (none older than the bookmark)
    updated: list[str | None]  # each row's UTC updated_at, where readable
    rising: bool  # created_at rises from the first row to the last: served oldest first

    def without(self, repeats: set[int]) -> Checked:
        """The batch without the rows at `repeats` (emitted with the page before)."""
        batch = self.batch
        if not repeats:
            return batch
        invalid_at = set(batch.invalid_at)
        valid = [place for i, place in enumerate(self.kept) if i not in invalid_at]
        batch.invalid = [
            entry
            for entry, i in zip(batch.invalid, batch.invalid_at, strict=True)
            if self.kept[i] not in repeats
        ]
        if batch.records:
            batch.records = [
                r for r, p in zip(batch.records, valid, strict=True) if p not in repeats
            ]
        if batch.lines:
            lines = batch.lines.split(b"\n")[:-1]  # one JSON line per record, each \n-ended
            kept = [line for line, p in zip(lines, valid, strict=True) if p not in repeats]
            batch.lines, batch.count = b"".join(line + b"\n" for line in kept), len(kept)
        return batch


def _oldest_first(rows: list[dict[str, t.Any]]) -> bool:
    """True when a page runs from older to newer messages (by creation, which never moves)."""
    first, last = (
        rows[0].get("created_at") if rows else None,
        rows[-1].get("created_at") if rows else None,
    )
    return isinstance(first, str) and isinstance(last, str) and first < last
