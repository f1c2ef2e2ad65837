"""Cekat's directory: conversations (keyset), contacts, agents and inboxes (page number).

The same contacts, inboxes and agents the messages carry. Times in the forms api-facts §2.6
names: contacts and inboxes ISO with microseconds and `+00:00`, agents naive ISO with
microseconds. `total_page` does not add up, as in the docs' examples (105 agents in 53 pages of
10): it is half of `total_items`, whatever the limit.
"""

from __future__ import annotations

import math
import random
import time
import typing as t
from typing import Any

from imitations.base import Params, epoch_of, positive_int
from imitations.cekat_conversations import NO_MESSAGES, Conversations

if t.TYPE_CHECKING:
    from imitations.cekat import CekatData

ROUTES = ("/api/conversations", "/api/contacts", "/api/agents", "/api/inboxes")
_ROLES = ("agent", "agent", "supervisor", "bot")


def iso_us(epoch: int, micro: int, *, offset: bool = True) -> str:
    """Epoch seconds and microseconds as ISO with microseconds, with or without `+00:00`."""
    text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch)) + f".{micro:06d}"
    return text + "+00:00" if offset else text


class CekatDirectory:
    """The conversations, contacts, agents and inboxes behind a CekatData's messages."""

    def __init__(self, data: CekatData, seed: int) -> None:
        """Rows are made from the data when asked for, so that they follow its changes."""
        self.data = data
        self.conversations = Conversations(data, seed)
        self.deleted = self.conversations.deleted  # ids of rows no longer served, of any table
        self._seed = seed

    def delete(self, ids: t.Iterable[str]) -> None:
        """Stop serving these conversations, contacts, agents or inboxes (by id)."""
        self.deleted.update(ids)

    def restore(self, ids: t.Iterable[str]) -> None:
        """Serve these rows again."""
        self.deleted.difference_update(ids)

    def _stamp(self, key: str) -> tuple[int, int]:
        """A creation time before the first message, stable for the same key and seed."""
        rng = random.Random(f"{self._seed}:{key}")
        return epoch_of(NO_MESSAGES) - rng.randint(0, 90 * 86400), rng.randrange(1_000_000)

    def contacts(self) -> list[dict[str, Any]]:
        """One contact per conversation, as its messages carry it, in conversation order."""
        rows = []
        for cid in self.data.conversation_ids():
            contact, inbox = self.data.parties_of(cid)
            epoch, micro = self._stamp(str(contact["id"]))
            rows.append({**contact, "inbox_id": inbox["id"], "created_at": iso_us(epoch, micro)})
        return rows

    def agents(self) -> list[dict[str, Any]]:
        """The agents who send messages; `created_at` naive, as Cekat writes it for agents."""
        rows = []
        for i, (aid, name) in enumerate(self.data.agents()):
            epoch, micro = self._stamp(aid)
            handle = name.split()[0].lower()
            rows.append(
                {
                    "id": aid,
                    "name": name,
                    "email": f"{handle}@example.co.id",
                    "role": _ROLES[i % len(_ROLES)],
                    "created_at": iso_us(epoch, micro, offset=False),
                }
            )
        return rows

    def inboxes(self) -> list[dict[str, Any]]:
        """The inboxes messages arrive in."""
        rows = []
        for inbox in self.data.inboxes():
            epoch, micro = self._stamp(str(inbox["id"]))
            rows.append({**inbox, "created_at": iso_us(epoch, micro)})
        return rows

    def handle(self, route: str, params: Params) -> tuple[int, Any]:
        """Answer a GET of one of ROUTES."""
        if route == "/api/conversations":
            return self.conversations.handle(params)
        page, limit = positive_int(params, "page", 1), positive_int(params, "limit", 10)
        if page is None or limit is None:
            return 400, self.data.error_body(400, "page and limit must be positive integers")
        if self.data.max_limit is not None:
            limit = min(limit, self.data.max_limit)
        listed = {"/api/contacts": self.contacts, "/api/agents": self.agents}.get(
            route, self.inboxes
        )()
        rows = [row for row in listed if row["id"] not in self.deleted]
        data = rows[(page - 1) * limit : page * limit]
        pagination = {
            "current_page": page,
            "current_items": len(data),
            "total_page": math.ceil(len(rows) / 2),
            "total_items": len(rows),
        }
        return 200, {"success": True, "data": data, "metadata": {"pagination": pagination}}
