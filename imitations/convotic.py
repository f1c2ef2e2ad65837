"""Convotic API imitation: `GET /v1/messages` (time windows, no paging) and `GET /v1/info`."""

from __future__ import annotations

import random
import re
import string
import threading
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Literal

from imitations.base import UTC, Headers, Params, epoch_of, first, utc_iso
from imitations.convotic_contacts import contacts_answer, limit_of

DEFAULT_CONVOTIC_KEY = "cvtk_live_test0123456789abcdef"
PLATFORMS = ("instagram", "line", "facebook", "whatsapp")
INFO = {"version": "1.0.0", "blocks": ["inbox"], "docsUrl": "https://convotic-docs.pages.dev"}

_NAMES = ("Yuki Tanaka", "Somchai P.", "Maria Santos", "Ken Sato", "Aiko", "Nguyen Van A")
_AGENTS = (
    ("usr_agent01", "Support Team"),
    ("usr_agent02", "Haruka (Sales)"),
    ("usr_bot", "Convotic Bot"),
)
_TEXTS = (
    "Hi! Is this still available?",
    "Thanks, got it 👍",
    "予約の変更をお願いします",
    "What time do you open?",
    "ok",
)
_MEDIA = (("image", "jpg"), ("video", "mp4"), ("file", "pdf"))


def _error(code: str, message: str) -> dict[str, Any]:
    """Return Convotic's error envelope."""
    return {"error": {"code": code, "message": message}}


_ISO = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)(?:[T ](\d\d):(\d\d)(?::(\d\d)(?:\.(\d+))?)?"
    r"(Z|z|[+-]\d\d:?\d\d)?)?"
)


def _instant(raw: str | None) -> float | None:
    """Parse an ISO 8601 bound (Z, offset or naive=UTC; any fraction) to epoch seconds."""
    if raw is None:
        return None
    match = _ISO.fullmatch(raw)
    if match is None:
        raise ValueError(raw)
    y, mo, d, h, mi, s, frac, off = match.groups()
    tz = UTC
    if off and off not in "Zz":
        sign, digits = (-1 if off[0] == "-" else 1), off[1:].replace(":", "")
        tz = timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
    parts = (int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0))
    return datetime(*parts, tzinfo=tz).timestamp() + (float("0." + frac) if frac else 0.0)


@dataclass
class _Conversation:
    """One conversation's messages, kept sorted by (timestamp, id)."""

    platform: str | None
    contact: dict[str, str]
    keys: list[tuple[float, str]] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    msgs: list[dict[str, Any]] = field(default_factory=list)
    counter: int = 0
    mixed: bool = False

    def insert(self, epoch: float, msg: dict[str, Any]) -> None:
        """Insert a message at its chronological position (ties by id)."""
        mid = msg.get("id")
        key = (epoch, str(mid if mid is not None else ""))
        pos = bisect_right(self.keys, key)
        self.keys.insert(pos, key)
        self.times.insert(pos, epoch)
        self.msgs.insert(pos, msg)
        self.mixed = self.mixed or msg.get("platform") != self.platform


class ConvoticData:
    """Conversations served by the imitated Convotic API, generated from `seed`."""

    name = "convotic"
    prefix = "/v1"

    def __init__(
        self,
        conversations: dict[str, int] | None = None,
        n_conversations: int = 0,
        messages_per_conversation: int = 0,
        seed: int = 0,
        start: datetime = datetime(2026, 1, 1, tzinfo=UTC),
        burst_probability: float = 0.1,
        max_burst: int = 30,
        *,
        api_key: str = DEFAULT_CONVOTIC_KEY,
        auth_body: Literal["errors_page", "auth_page"] = "errors_page",
        truncate: Literal["keep_earliest", "keep_latest"] = "keep_earliest",
        total_means: Literal["window", "returned", "conversation", "absent"] = "window",
    ) -> None:
        """Generate `conv_0001`... (`messages_per_conversation` each) plus `conversations`."""
        self.api_key, self.auth_body, self.truncate = api_key, auth_body, truncate
        # What `total` counts: the docs say only "total number of messages returned".
        self.total_means = total_means
        self.burst_probability, self.max_burst = burst_probability, max_burst
        self._start = epoch_of(start)
        self._rng = random.Random(seed)
        self._lock = threading.RLock()
        self._convs: dict[str, _Conversation] = {}
        self._deleted: dict[tuple[str, str], tuple[float, dict[str, Any]]] = {}  # for `restore`
        self.deleted_contacts: set[str] = set()  # contact ids no longer served
        for i in range(n_conversations):
            self.add_conversation(f"conv_{i + 1:04d}", messages_per_conversation)
        for cid, n in (conversations or {}).items():
            self.add_conversation(cid, n)

    # ---- generation -------------------------------------------------------------------------
    def _new(self, cid: str, platform: str | None = None) -> _Conversation:
        """Register an empty conversation with its contact."""
        rng = self._rng
        contact_id = "ct_" + "".join(rng.choices(string.ascii_lowercase + string.digits, k=8))
        conv = _Conversation(
            platform or rng.choice(PLATFORMS), {"id": contact_id, "name": rng.choice(_NAMES)}
        )
        self._convs[cid] = conv
        return conv

    def _timeline(self, n: int, t: int) -> list[int]:
        """Return `n` non-decreasing epochs: gaps of 0-600 s and bursts sharing one second."""
        rng = self._rng
        out: list[int] = []
        while len(out) < n:
            burst = self.max_burst >= 2 and rng.random() < self.burst_probability
            out.extend([t] * min(n - len(out), rng.randint(2, self.max_burst) if burst else 1))
            t += rng.randint(0, 600)
        return out

    def _make(self, cid: str, conv: _Conversation, epoch: int) -> dict[str, Any]:
        """Build the conversation's next message with the documented fields."""
        rng = self._rng
        conv.counter += 1
        inbound = rng.random() < 0.55
        if inbound:
            sender = conv.contact
        else:
            agent_id, agent_name = rng.choice(_AGENTS)
            sender = {"id": agent_id, "name": agent_name}
        if rng.random() < 0.8:
            content: dict[str, str] = {"type": "text", "text": rng.choice(_TEXTS)}
        else:
            kind, ext = rng.choice(_MEDIA)
            content = {
                "type": kind,
                "url": f"https://media.convotic.com/{cid}/{conv.counter}.{ext}",
            }
            if rng.random() < 0.5:
                content["caption"] = rng.choice(_TEXTS)
        return {
            "id": f"msg_{conv.counter:03d}",
            "conversationId": cid,
            "platform": conv.platform,
            "direction": "inbound" if inbound else "outbound",
            "sender": sender,
            "content": content,
            "timestamp": utc_iso(epoch),
        }

    # ---- mutators ---------------------------------------------------------------------------
    def add_conversation(
        self, conversation_id: str, n: int, at: datetime | None = None, platform: str | None = None
    ) -> list[dict[str, Any]]:
        """Create a conversation of `n` messages from `at` (default: start + up to 1 h)."""
        with self._lock:
            if conversation_id in self._convs:
                raise ValueError(f"conversation {conversation_id!r} exists")
            conv = self._new(conversation_id, platform)
            t0 = epoch_of(at) if at is not None else self._start + self._rng.randint(0, 3600)
            added = [(t, self._make(conversation_id, conv, t)) for t in self._timeline(n, t0)]
            added.sort(key=lambda pair: (pair[0], pair[1]["id"]))
            conv.keys = [(t, m["id"]) for t, m in added]
            conv.times = [float(t) for t, _ in added]
            conv.msgs = [m for _, m in added]
            return conv.msgs[:]

    def add_messages(
        self, conversation_id: str, n: int, at: datetime | None = None, spacing_s: int = 1
    ) -> list[dict[str, Any]]:
        """Append `n` messages `spacing_s` apart from `at` (default: 1 s after its newest)."""
        with self._lock:
            conv = self._convs.get(conversation_id) or self._new(conversation_id)
            newest = int(conv.times[-1]) + 1 if conv.times else self._start
            base = epoch_of(at) if at is not None else newest
            added = []
            for i in range(n):
                msg = self._make(conversation_id, conv, base + i * spacing_s)
                conv.insert(base + i * spacing_s, msg)
                added.append(msg)
            return added

    def add_raw(
        self, conversation_id: str, message: dict[str, Any], at: datetime | None = None
    ) -> dict[str, Any]:
        """Insert any dict as-is, sorted by its own timestamp, else `at`, else as the newest."""
        with self._lock:
            conv = self._convs.get(conversation_id)
            if conv is None:
                platform = message.get("platform")
                conv = self._new(conversation_id, platform if isinstance(platform, str) else None)
            try:
                epoch = _instant(message["timestamp"])
            except (KeyError, TypeError, ValueError):
                epoch = None
            if epoch is None:
                newest = conv.times[-1] + 1 if conv.times else float(self._start)
                epoch = float(epoch_of(at)) if at is not None else newest
            conv.insert(epoch, message)
            return message

    def delete(self, keys: Iterable[tuple[str, str]]) -> int:
        """Remove these (conversationId, id) messages; return the count."""
        with self._lock:
            count = 0
            for cid, mid in keys:
                conv = self._convs[cid]
                pos = next((i for i, m in enumerate(conv.msgs) if m.get("id") == mid), None)
                if pos is not None:
                    self._deleted[(cid, mid)] = (conv.times[pos], conv.msgs[pos])
                    del conv.keys[pos], conv.times[pos], conv.msgs[pos]
                    count += 1
            return count

    def restore(self, keys: Iterable[tuple[str, str]]) -> int:
        """Serve deleted messages again, at their own times (the vendor undid a delete)."""
        with self._lock:
            back = [(key, self._deleted.pop(key)) for key in set(keys) if key in self._deleted]
            for (cid, _), (epoch, msg) in back:
                self._convs[cid].insert(epoch, msg)
            return len(back)

    def delete_contacts(self, ids: Iterable[str]) -> None:
        """Stop listing these contacts in `/v1/contacts`."""
        self.deleted_contacts.update(ids)

    def restore_contacts(self, ids: Iterable[str]) -> None:
        """List these contacts again."""
        self.deleted_contacts.difference_update(ids)

    # ---- queries ----------------------------------------------------------------------------
    def conversation_ids(self) -> list[str]:
        """Return all conversation ids."""
        with self._lock:
            return list(self._convs)

    def messages_of(self, conversation_id: str) -> list[dict[str, Any]]:
        """Return a conversation's messages in chronological order (ties by id)."""
        with self._lock:
            return self._convs[conversation_id].msgs[:]

    def parties(self) -> list[tuple[str | None, dict[str, str], list[float]]]:
        """(platform, contact, message times) of every conversation, in creation order."""
        with self._lock:
            return [(c.platform, c.contact, c.times[:]) for c in self._convs.values()]

    def keys(self) -> set[tuple[str, str]]:
        """Return (conversationId, id) for every message whose id is a string."""
        with self._lock:
            pairs = ((cid, m.get("id")) for cid, c in self._convs.items() for m in c.msgs)
            return {(cid, mid) for cid, mid in pairs if isinstance(mid, str)}

    # ---- HTTP -------------------------------------------------------------------------------
    def error_body(self, status: int, message: str) -> dict[str, Any]:
        """Return Convotic's error envelope for a generic status."""
        codes = {400: "INVALID_REQUEST", 401: "UNAUTHORIZED", 404: "NOT_FOUND", 429: "RATE_LIMITED"}
        return _error(codes.get(status, "INTERNAL_ERROR"), message)

    def _unauthorized(self, missing: bool) -> dict[str, Any]:
        """Return the 401 body of the configured documentation page."""
        if self.auth_body == "auth_page":
            return {"error": "missing_api_key" if missing else "invalid_api_key"}
        return _error("UNAUTHORIZED", "Invalid API key")

    def handle(self, path: str, params: Params, headers: Headers) -> tuple[int, Any]:
        """Answer a GET below /v1."""
        key = headers.get("x-api-key")
        if key != self.api_key:
            return 401, self._unauthorized(not key)
        route = path.rstrip("/")
        if route == "/v1/info":
            return 200, INFO
        if route == "/v1/contacts":
            return contacts_answer(self, params)
        if route != "/v1/messages":
            return 404, _error("NOT_FOUND", f"Route '{path}' not found")
        return self._messages(params)

    def _messages(self, params: Params) -> tuple[int, Any]:
        """Answer `/v1/messages` with validation, window, platform filter and truncation."""
        cid = first(params, "conversationId")
        if not cid:
            return 400, _error("INVALID_REQUEST", "conversationId is required")
        limit = limit_of(params, 50)
        if limit is None:
            return 400, _error("INVALID_REQUEST", "limit must be between 1 and 100")
        try:
            lo_t, hi_t = _instant(first(params, "from")), _instant(first(params, "to"))
        except ValueError:
            return 400, _error("INVALID_REQUEST", "from and to must be ISO 8601 date-times")
        platform = first(params, "platform")
        with self._lock:
            conv = self._convs.get(cid)
            if conv is None:
                return 404, _error("NOT_FOUND", f"Conversation '{cid}' not found")
            lo = 0 if lo_t is None else bisect_left(conv.times, lo_t)
            hi = len(conv.times) if hi_t is None else bisect_right(conv.times, hi_t)
            if platform and (conv.mixed or platform != conv.platform):
                window = conv.msgs[lo:hi] if conv.mixed else []
                source = [m for m in window if m.get("platform") == platform]
                lo, hi = 0, len(source)
            else:
                hi, source = max(lo, hi), conv.msgs
            if self.truncate == "keep_earliest":
                chosen = source[lo : min(hi, lo + limit)]
            else:
                chosen = source[max(lo, hi - limit) : hi]
            total = {
                "window": hi - lo,
                "returned": len(chosen),
                "conversation": len(conv.msgs),
                "absent": None,
            }[self.total_means]
        body = {"messages": chosen, "conversationId": cid, "total": total, "limit": limit}
        if total is None:
            del body["total"]
        return 200, body
