"""Cekat's page-numbered lists, read whole each run: contacts, agents and inboxes.

Each is walked by the messages' page walk, with its guarantees. No change time is documented
for these rows, so no bookmark can say which changed: every run reads the whole list.
"""

from __future__ import annotations

import itertools
import typing as t

from typing_extensions import override

from tap_messages.cekat.client import CekatStream
from tap_messages.cekat.page_walk import Report
from tap_messages.cekat.tiled_walk import TiledWalk
from tap_messages.shared.rows import unseen

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

Row = dict[str, t.Any]


class CekatListStream(CekatStream):
    """A page-numbered Cekat list, full table: rows deduplicated by `id` within a run."""

    primary_keys: t.ClassVar[list[str]] = ["id"]
    time_fields = ("created_at",)

    @override
    def read_partition(self, context: Context | None) -> t.Iterable[Row]:
        report, seen = Report(), set[str]()
        walk = self.page_walk(self.read_page, report)
        first = walk.first()
        for page in itertools.chain([first], TiledWalk(walk, first).pages()):
            yield from unseen(page.fresh, seen)  # a row pushed down a page comes again
        self.account(context, report)


class CekatContactsStream(CekatListStream):
    """Contacts (`GET /api/contacts`): who wrote in; messages' `contact.id` points here."""

    name = "cekat_contacts"
    path = "/api/contacts"


class CekatAgentsStream(CekatListStream):
    """Agents (`GET /api/agents`); naive `created_at` is UTC, as the docs' `cursor_ts` shows."""

    name = "cekat_agents"
    path = "/api/agents"


class CekatInboxesStream(CekatListStream):
    """Inboxes (`GET /api/inboxes`): the channels conversations arrive in."""

    name = "cekat_inboxes"
    path = "/api/inboxes"
