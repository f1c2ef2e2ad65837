"""Convotic's `convotic_contacts` stream: GET /v1/contacts, which cannot page.

One answer holds at most 100 contacts and nothing pages. When `total` says the answer was not
all, each documented platform is asked for on its own; what still cannot be listed is a shortfall.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass

from typing_extensions import override

from tap_messages.convotic.client import ConvoticStream
from tap_messages.shared.rows import unseen

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

Row = dict[str, t.Any]
LIMIT = 100
PLATFORMS = ("instagram", "line", "facebook", "whatsapp")  # the `platform` values documented


@dataclass
class Listing:
    """One answer: the contacts it holds and how many matched (`total`, None if not sent)."""

    contacts: list[Row]
    total: int | None

    @property
    def complete(self) -> bool:
        """True when the answer says it holds every contact that matched."""
        if self.total is None:
            return len(self.contacts) < LIMIT
        return self.total <= len(self.contacts)

    def counts(self) -> str:
        """'N of M' read; M is 'at least N' where `total` is missing."""
        total = self.total if self.total is not None else f"{len(self.contacts)} or more"
        return f"{len(self.contacts)} of {total}"


class ConvoticContactsStream(ConvoticStream):
    """Contacts, full table each run; inbound messages' `sender.id` is a contact's `id`."""

    name = "convotic_contacts"
    path = "/v1/contacts"
    primary_keys: t.ClassVar[list[str]] = ["id"]
    time_fields = ("createdAt", "lastMessageAt")

    def listing(self, platform: str | None) -> Listing:
        """The first LIMIT contacts of a platform (of all when None), times in UTC."""
        payload = self.get_json({"limit": LIMIT, "platform": platform})
        contacts = self.rows_under(
            payload,
            "contacts",
            answer=f"Convotic's contacts{f' of {platform}' if platform else ''}",
            shape="{contacts: [...], total, limit}",
        )
        total = payload.get("total")
        return Listing(contacts, total if isinstance(total, int) else None)

    @override
    def read_partition(self, context: Context | None) -> t.Iterable[Row]:
        chosen = self.settings.get("platform")
        everyone = self.listing(chosen)
        seen: set[str] = set()
        yield from unseen(everyone.contacts, seen)
        if everyone.complete or chosen:
            if not everyone.complete:
                self._short(f"{chosen}: {everyone.counts()} read", everyone, len(seen))
            return
        per_platform = {}
        for platform in PLATFORMS:
            listing = self.listing(platform)
            per_platform[platform] = listing
            yield from unseen(listing.contacts, seen)
        if (
            everyone.total is None
            or len(seen) < everyone.total
            or not all(p.complete for p in per_platform.values())
        ):
            detail = ", ".join(f"{name} {p.counts()}" for name, p in per_platform.items())
            self._short(detail, everyone, len(seen))

    def _short(self, detail: str, everyone: Listing, read: int) -> None:
        total = everyone.total if everyone.total is not None else "an unknown number of"
        self.fall_short(
            f"the workspace has {total} contacts and Convotic lists at most {LIMIT} per answer "
            f"with no way to page; {read} were read ({detail}), the rest cannot be listed "
            "through the API"
        )
