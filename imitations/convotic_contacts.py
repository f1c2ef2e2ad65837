"""Convotic's `GET /v1/contacts`: at most `limit` (≤ 100) contacts per answer, no way to page.

One contact per conversation, the one its inbound messages come from, most recently active
first. `total` counts every contact that matches, so that a client sees what it could not get.
Times are ISO UTC; `lastMessageAt` with milliseconds, as webhook envelopes write them.
"""

from __future__ import annotations

import time
import typing as t
from typing import Any

from imitations.base import Params, first, utc_iso

if t.TYPE_CHECKING:
    from imitations.convotic import ConvoticData

CREATED_BEFORE = 86_400 * 30  # contacts exist a while before their first message


def contact_rows(data: ConvoticData) -> list[dict[str, Any]]:
    """Every contact, most recently active first (ties by id)."""
    rows: list[dict[str, Any]] = []
    for platform, contact, times in data.parties():
        first_at = int(times[0]) if times else 1_767_225_600
        last = times[-1] if times else None
        rows.append(
            {
                "id": contact["id"],
                "name": contact["name"],
                "platform": platform,
                "platformUserId": f"{platform}-{contact['id'][3:]}",
                "avatarUrl": None if len(rows) % 3 else f"https://cdn.convotic.com/{contact['id']}",
                "lastMessageAt": None if last is None else _millis(last),
                "createdAt": utc_iso(first_at - CREATED_BEFORE),
            }
        )
    rows = [row for row in rows if row["id"] not in data.deleted_contacts]
    return sorted(rows, key=lambda r: (r["lastMessageAt"] or "", r["id"]), reverse=True)


def _millis(epoch: float) -> str:
    whole = int(epoch)
    return (
        time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole))
        + f".{round((epoch - whole) * 1000):03d}Z"
    )


def limit_of(params: Params, default: int) -> int | None:
    """The `limit` asked for, or None when it is outside 1..100 (refused, not clamped)."""
    raw = first(params, "limit")
    try:
        limit = default if raw is None else int(raw)
    except ValueError:
        return None
    return limit if 1 <= limit <= 100 else None


def contacts_answer(data: ConvoticData, params: Params) -> tuple[int, Any]:
    """Answer `/v1/contacts`: the platform filter, then the first `limit` contacts."""
    limit = limit_of(params, 20)
    if limit is None:
        return 400, data.error_body(400, "limit must be between 1 and 100")
    platform = first(params, "platform")
    rows = [r for r in contact_rows(data) if platform is None or r["platform"] == platform]
    return 200, {"contacts": rows[:limit], "total": len(rows), "limit": limit}
