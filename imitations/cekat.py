"""Cekat New Open API imitation: `GET /api/messages` (page-number pagination, naive local times)."""

from __future__ import annotations

import math
import random
import threading
import time
from bisect import bisect_left, insort
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from typing import Any, Literal

from imitations.base import UTC, Headers, Params, epoch_of, first, positive_int
from imitations.cekat_directory import ROUTES, CekatDirectory

WIB = timezone(timedelta(hours=7), "WIB")
NAIVE_FORMAT = "%Y-%m-%d %H:%M:%S"
DEFAULT_CEKAT_KEY = "cekat-test-key-0123456789"
UNAUTHORIZED = {"success": False, "status_code": 401, "error": {"message": "Not authenticated"}}

_INBOX_TYPES = ("whatsapp", "livechat", "instagram", "messenger")
_NAMES = (
    "Budi Santoso",
    "Siti Rahayu",
    "Andi Wijaya",
    "Dewi Lestari",
    "Rudi Hartono",
    "Putri Ayu",
    "Agus Salim",
)
_AGENTS = ("Rina (CS)", "Fajar (CS)", "Maya (Sales)", "Bot Cekat")
_TEXTS = (
    "Halo, pesanan saya sudah dikirim?",
    "Terima kasih sudah menghubungi kami 🙏",
    "Boleh minta nomor resinya?",
    "Baik kak, kami cek dulu ya.",
    "Apakah produk ini masih tersedia?",
    "Pembayaran sudah saya transfer.",
    "Selamat pagi! Ada yang bisa kami bantu?",
    "Ok",
)
_STATUSES = ("sent", "delivered", "read", "read", "read", "failed")
_MEDIA = ("image", "video", "document", "audio")

_UUID_MASK = ~((0xF000 << 64) | (0xC000 << 48)) & ((1 << 128) - 1)
_UUID_BITS = (0x4000 << 64) | (0x8000 << 48)
_PLAIN = {"is_private_note": False, "snooze_date": None}
"""Shared by most messages to save memory: treat served dicts as read-only (use `add_raw`)."""

Entry = tuple[int, str, int, dict[str, Any]]
"""(sort epoch, id, insertion sequence, message): sorts by time, then id."""


class CekatData:
    """Messages served by the imitated Cekat API, generated deterministically from `seed`."""

    name = "cekat"
    prefix = "/api"

    def __init__(
        self,
        n_messages: int = 0,
        n_conversations: int = 10,
        n_inboxes: int = 2,
        seed: int = 0,
        start: datetime = datetime(2026, 1, 1, tzinfo=UTC),
        *,
        api_key: str = DEFAULT_CEKAT_KEY,
        auth_header: Literal["either", "bearer", "api_key"] = "either",
        max_limit: int | None = None,
        order: Literal["newest_first", "oldest_first"] = "oldest_first",
        order_by: Literal["created_at", "updated_at"] = "created_at",
        total_page_skew: int = 0,
        total_items_means: Literal["rows", "page", "absent"] = "rows",
        tz: timezone = WIB,
        null_when_empty: bool = False,
    ) -> None:
        """Generate `n_messages` spread over conversations and inboxes, starting at `start`."""
        self.api_key, self.auth_header, self.max_limit = api_key, auth_header, max_limit
        self.order, self._order_by, self.total_page_skew = order, order_by, total_page_skew
        self.null_when_empty = null_when_empty  # an empty page's `data` is null, not []
        # What `total_items` counts: the list's rows (documented), the rows of this page, or
        # nothing (the key left out).
        self.total_items_means = total_items_means
        self._tz, self._offset = tz, int(tz.utcoffset(None).total_seconds())
        self._rng = random.Random(seed)
        self._lock = threading.RLock()
        self._index: dict[tuple[str, ...], list[Entry]] = {(): []}
        self._deleted: dict[str, Entry] = {}  # what `delete` took away, for `restore`
        self._seq = 0
        self._newest = epoch_of(start) - 1
        self._inboxes = [self._make_inbox(i) for i in range(max(1, n_inboxes))]
        self._agents = [(self._uuid(), name) for name in _AGENTS]
        self._convs: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
        for _ in range(max(1, n_conversations)):
            self._new_conversation(self._uuid())
        self._generate(n_messages)
        self.directory = CekatDirectory(self, seed)  # conversations, contacts, agents, inboxes

    @property
    def order_by(self) -> str:
        """Return the sort field (fixed at construction: the indexes depend on it)."""
        return self._order_by

    # ---- generation -------------------------------------------------------------------------
    def _uuid(self) -> str:
        """Return a deterministic random UUID4 string."""
        h = f"{self._rng.getrandbits(128) & _UUID_MASK | _UUID_BITS:032x}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def _make_inbox(self, i: int) -> dict[str, Any]:
        """Build an inbox object."""
        kind = _INBOX_TYPES[i % len(_INBOX_TYPES)]
        phone = f"62811{self._rng.randrange(10**7):07d}" if kind == "whatsapp" else None
        return {
            "id": self._uuid(),
            "name": f"{kind.title()} Inbox {i + 1}",
            "type": kind,
            "phone_number": phone,
        }

    def _new_conversation(self, cid: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """Register a conversation with its own contact in a random inbox."""
        inbox = self._rng.choice(self._inboxes)
        phone = f"628{self._rng.randrange(10**10):010d}" if inbox["type"] == "whatsapp" else None
        contact = {
            "id": self._uuid(),
            "type": inbox["type"],
            "display_name": self._rng.choice(_NAMES),
            "phone_number": phone,
        }
        self._convs[cid] = (contact, inbox)
        return contact, inbox

    def _naive(self, epoch: int) -> str:
        """Format a UTC epoch as the vendor's naive local time string."""
        return time.strftime(NAIVE_FORMAT, time.gmtime(epoch + self._offset))

    def _make(self, cid: str, created: int, updated: int) -> dict[str, Any]:
        """Build one message with exactly the documented fields."""
        rng = self._rng
        contact, inbox = self._convs[cid]
        roll = rng.random()
        if roll < 0.5:
            kind, by, by_name = "user", contact["id"], contact["display_name"]
        elif roll < 0.93:
            kind, (by, by_name) = "agent", rng.choice(self._agents)
        else:
            kind, by, by_name = "system", "system", "System"
        media = "text" if rng.random() < 0.8 else rng.choice(_MEDIA)
        url = None if media == "text" else f"https://cdn.cekat.ai/media/{self._uuid()}"
        private = kind == "agent" and rng.random() < 0.02
        snooze = self._naive(created + 86400) if rng.random() < 0.01 else None
        extra = {"is_private_note": private, "snooze_date": snooze} if private or snooze else _PLAIN
        created_at = self._naive(created)
        return {
            "id": self._uuid(),
            "message": rng.choice(_TEXTS) if media == "text" or rng.random() < 0.3 else "",
            "conversation_id": cid,
            "sent_by": by,
            "sent_by_name": by_name,
            "sent_by_type": kind,
            "media_type": media,
            "media_url": url,
            "status": "read" if updated > created else rng.choice(_STATUSES),
            "is_template": kind == "agent" and rng.random() < 0.05,
            "created_at": created_at,
            "updated_at": created_at if updated == created else self._naive(updated),
            "additional_data": extra,
            "contact": contact,
            "inbox": inbox,
        }

    def _generate(self, n: int) -> None:
        """Append `n` messages with increasing times and build the indexes by one sort."""
        rng, cids, t = self._rng, list(self._convs), self._newest + 1
        entries: list[Entry] = []
        for _ in range(n):
            updated = t if rng.random() < 0.75 else t + rng.randint(60, 1800)
            msg = self._make(rng.choice(cids), t, updated)
            self._newest = max(self._newest, updated)
            entries.append(self._register(msg, updated if self.order_by == "updated_at" else t))
            t += 0 if rng.random() < 0.15 else rng.randint(1, 120)
        entries.sort(key=lambda e: e[:3])
        for entry in entries:
            for key in self._keys(entry[3]):
                self._index.setdefault(key, []).append(entry)

    # ---- indexes ----------------------------------------------------------------------------
    def _register(self, msg: dict[str, Any], sort_epoch: int) -> Entry:
        """Give a message its sequence number and entry (not yet indexed)."""
        self._seq += 1
        mid = msg.get("id")
        return (sort_epoch, str(mid if mid is not None else ""), self._seq, msg)

    @staticmethod
    def _keys(msg: dict[str, Any]) -> list[tuple[str, ...]]:
        """Return the index keys (all, conversation, inbox, both) a message belongs to."""
        cid, inbox = msg.get("conversation_id"), msg.get("inbox")
        iid = inbox.get("id") if isinstance(inbox, dict) else None
        keys: list[tuple[str, ...]] = [()]
        if cid is not None:
            keys.append(("c", str(cid)))
        if iid is not None:
            keys.append(("i", str(iid)))
        if cid is not None and iid is not None:
            keys.append(("ci", str(cid), str(iid)))
        return keys

    def _insert(self, entry: Entry) -> None:
        """Insert an entry into every index it belongs to."""
        for key in self._keys(entry[3]):
            insort(self._index.setdefault(key, []), entry)

    def _remove(self, entry: Entry) -> None:
        """Remove an entry from every index it belongs to."""
        for key in self._keys(entry[3]):
            entries = self._index[key]
            del entries[bisect_left(entries, entry[:3])]

    # ---- mutators ---------------------------------------------------------------------------
    def add_messages(
        self, n: int, at: datetime | None = None, conversation_id: str | None = None
    ) -> list[dict[str, Any]]:
        """Add `n` messages one second apart from `at` (default: just after the newest time)."""
        with self._lock:
            base = epoch_of(at) if at is not None else self._newest + 1
            if conversation_id is not None and conversation_id not in self._convs:
                self._new_conversation(conversation_id)
            added = []
            for i in range(n):
                cid = conversation_id or self._rng.choice(list(self._convs))
                msg = self._make(cid, base + i, base + i)
                self._insert(self._register(msg, base + i))
                added.append(msg)
            self._newest = max(self._newest, base + n - 1)
            return added

    def update_status(self, ids: Iterable[str], status: str, at: datetime | None = None) -> int:
        """Set `status`, move `updated_at` to `at` (default: after the newest); return the count."""
        with self._lock:
            epoch = epoch_of(at) if at is not None else self._newest + 1
            wanted = set(ids)
            hits = [e for e in self._index[()] if e[1] in wanted]
            for entry in hits:
                entry[3].update(status=status, updated_at=self._naive(epoch))
                if self.order_by == "updated_at":
                    self._remove(entry)
                    self._insert((epoch, entry[1], entry[2], entry[3]))
            self._newest = max(self._newest, epoch)
            return len(hits)

    def delete(self, ids: Iterable[str]) -> int:
        """Remove the messages with these ids (later rows move up); return the count."""
        with self._lock:
            wanted = set(ids)
            hits = [e for e in self._index[()] if e[1] in wanted]
            for entry in hits:
                self._remove(entry)
                self._deleted[entry[1]] = entry
            return len(hits)

    def restore(self, ids: Iterable[str]) -> int:
        """Serve deleted messages again, where they were (the vendor undid a delete)."""
        with self._lock:
            back = [self._deleted.pop(i) for i in set(ids) if i in self._deleted]
            for entry in back:
                self._insert(entry)
            return len(back)

    def add_raw(self, message: dict[str, Any], at: datetime | None = None) -> dict[str, Any]:
        """Insert any dict as-is; it sorts by its own time, else `at`, else as the newest."""
        with self._lock:
            try:
                epoch = epoch_of(self.utc_of(message[self.order_by]))
            except (KeyError, TypeError, ValueError):
                epoch = epoch_of(at) if at is not None else self._newest + 1
            self._newest = max(self._newest, epoch)
            self._insert(self._register(message, epoch))
            return message

    # ---- queries ----------------------------------------------------------------------------
    @property
    def messages(self) -> list[dict[str, Any]]:
        """Return all messages, oldest first by `order_by` (ties by id)."""
        with self._lock:
            return [e[3] for e in self._index[()]]

    def ids(self) -> set[str]:
        """Return the ids of all messages whose id is a string."""
        with self._lock:
            return {e[3]["id"] for e in self._index[()] if isinstance(e[3].get("id"), str)}

    def conversation_ids(self) -> list[str]:
        """Return the generated conversation ids."""
        return list(self._convs)

    def parties_of(self, conversation_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """Return the contact and the inbox of a conversation (as its messages carry them)."""
        return self._convs[conversation_id]

    def messages_of(self, conversation_id: str) -> list[dict[str, Any]]:
        """Return a conversation's messages in served order (oldest first by `order_by`)."""
        with self._lock:
            return [e[3] for e in self._index.get(("c", conversation_id), [])]

    def agents(self) -> list[tuple[str, str]]:
        """Return (id, name) of the agents who send messages."""
        return list(self._agents)

    def inboxes(self) -> list[dict[str, Any]]:
        """Return the inboxes (as messages carry them)."""
        return list(self._inboxes)

    def inbox_ids(self) -> list[str]:
        """Return the inbox ids."""
        return [inbox["id"] for inbox in self._inboxes]

    def utc_of(self, naive: str) -> datetime:
        """Read a naive `YYYY-MM-DD HH:MM:SS` string in the vendor zone; return it in UTC."""
        return datetime.strptime(naive, NAIVE_FORMAT).replace(tzinfo=self._tz).astimezone(UTC)

    # ---- HTTP -------------------------------------------------------------------------------
    def error_body(self, status: int, message: str) -> dict[str, Any]:
        """Return Cekat's error envelope."""
        return {"success": False, "status_code": status, "error": {"message": message}}

    def _authorized(self, headers: Headers) -> bool:
        """Check `Authorization: Bearer` and/or the `api_key` header, as configured."""
        auth = headers.get("authorization", "")
        bearer = auth[:7].lower() == "bearer " and auth[7:] == self.api_key
        header = headers.get("api_key") == self.api_key
        return {"either": bearer or header, "bearer": bearer, "api_key": header}[self.auth_header]

    def handle(self, path: str, params: Params, headers: Headers) -> tuple[int, Any]:
        """Answer a GET below /api."""
        if not self._authorized(headers):
            return 401, UNAUTHORIZED
        if path.rstrip("/") in ROUTES:
            return self.directory.handle(path.rstrip("/"), params)
        if path.rstrip("/") != "/api/messages":
            return 404, self.error_body(404, "Not Found")
        page, limit = positive_int(params, "page", 1), positive_int(params, "limit", 10)
        if page is None or limit is None:
            return 400, self.error_body(400, "page and limit must be positive integers")
        if self.max_limit is not None:
            limit = min(limit, self.max_limit)
        cid, iid = first(params, "conversation_id"), first(params, "inbox_id")
        key = ("ci", cid, iid) if cid and iid else ("c", cid) if cid else ("i", iid) if iid else ()
        with self._lock:
            entries = self._index.get(key, [])
            total = len(entries)
            if self.order == "oldest_first":
                chunk = entries[(page - 1) * limit : page * limit]
            else:
                end = total - (page - 1) * limit
                chunk = entries[max(0, end - limit) : end][::-1] if end > 0 else []
            data = [e[3] for e in chunk]
        pages = max(0, math.ceil(total / limit) + self.total_page_skew)
        pagination = {
            "current_page": page,
            "current_items": len(data),
            "total_page": pages,
            "total_items": len(data) if self.total_items_means == "page" else total,
        }
        if self.total_items_means == "absent":
            del pagination["total_items"]
        body = data if data or not self.null_when_empty else None
        return 200, {"success": True, "data": body, "metadata": {"pagination": pagination}}
