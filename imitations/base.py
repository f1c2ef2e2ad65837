"""Shared types and helpers of the vendor imitations."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Literal, Protocol

UTC = timezone.utc
Params = dict[str, list[str]]
Headers = dict[str, str]


@dataclass
class RecordedRequest:
    """One request as the server saw it (header names lower-cased; status 0 if dropped)."""

    vendor: str
    path: str
    params: Params
    headers: Headers
    status: int = 0


@dataclass(frozen=True)
class Response:
    """A canned HTTP response; `action` says whether to keep, close or drop the connection."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    action: Literal["send", "close", "drop"] = "send"


class Vendor(Protocol):
    """What the server needs from a vendor's data object."""

    name: str
    prefix: str

    def handle(self, path: str, params: Params, headers: Headers) -> tuple[int, Any]:
        """Answer a GET below `prefix` with a status and a JSON-able body."""
        ...

    def error_body(self, status: int, message: str) -> Any:
        """Return the vendor's error envelope for a generic error."""
        ...


def dumps(obj: Any) -> bytes:
    """Encode compact JSON as UTF-8 bytes."""
    return json.dumps(obj, separators=(",", ":")).encode()


def first(params: Params, name: str) -> str | None:
    """Return the first value of a query parameter, or None."""
    values = params.get(name)
    return values[0] if values else None


def epoch_of(at: datetime) -> int:
    """Return whole UTC epoch seconds of an aware datetime (naive is an error)."""
    if at.tzinfo is None:
        raise ValueError("datetime must be timezone-aware")
    return int(at.timestamp() // 1)


def utc_iso(epoch: int) -> str:
    """Format epoch seconds as ISO 8601 UTC with a Z suffix."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def positive_int(params: Params, name: str, default: int) -> int | None:
    """Return a positive integer parameter, its default if absent, or None if invalid."""
    raw = first(params, name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        return None
    return value if value >= 1 else None
