"""Cekat's `cekat_conversations` stream: GET /api/conversations, walked by keyset cursor."""

from __future__ import annotations

import functools
import typing as t
from functools import cached_property

from typing_extensions import override

from tap_messages.cekat.client import CekatStream
from tap_messages.cekat.keyset_walk import Cursor, KeysetPage, KeysetWalk, next_cursor

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

Row = dict[str, t.Any]


class CekatConversationsStream(CekatStream):
    """Conversations, read whole each run: no `updated_at` says which were resolved since."""

    name = "cekat_conversations"
    path = "/api/conversations"
    primary_keys: t.ClassVar[list[str]] = ["id"]
    scope_filters = ("inbox_ids",)
    time_fields = ("created_at", "resolved_at", "last_message.created_at")

    @cached_property
    @override
    def partitions(self) -> list[dict[str, t.Any]] | None:
        return [{"inbox_id": i} for i in self.settings.get("inbox_ids") or []] or None

    def page(self, cursor: Cursor | None, *, context: Context | None) -> KeysetPage:
        """The conversations after `cursor` (from the start when None), times in UTC."""
        after = {"cursor_id": cursor[0], "cursor_ts": cursor[1]} if cursor else {}
        params = {"limit": self.page_size, **(context or {}), **after}
        payload = self.get_json(params)
        shape = "{success, data: [...], metadata: {next_cursor: {cursor_id, cursor_ts}}}"
        answer = "Cekat's page of conversations"
        rows = self.rows_under(payload, "data", answer=answer, shape=shape)
        return KeysetPage(rows, next_cursor(payload))

    @override
    def read_partition(self, context: Context | None) -> t.Iterable[Row]:
        walk = KeysetWalk(functools.partial(self.page, context=context))
        for rows in walk:
            yield from rows
        self.account(context, walk.report)
