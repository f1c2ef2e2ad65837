"""One UTC format for every timestamp the tap emits, so bookmarks compare correctly as strings."""

from __future__ import annotations

import datetime as dt
import typing as t
from zoneinfo import ZoneInfo

UTC = dt.timezone.utc


def parse(value: str, naive_zone: dt.tzinfo = UTC) -> dt.datetime:
    """Parse ISO 8601 (space or T, optional Z or offset); naive values are in naive_zone."""
    if value.endswith(("Z", "z")):  # Python 3.10's fromisoformat does not read Z
        value = value[:-1] + "+00:00"
    parsed = dt.datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=naive_zone)


def format_utc(moment: dt.datetime) -> str:
    """Render an aware datetime in the tap's single output format, always with microseconds."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def is_utc(value: t.Any) -> t.TypeGuard[str]:
    """True for a string in the tap's own output format (what `to_utc` returns)."""
    return isinstance(value, str) and len(value) == 32 and value.endswith("+00:00")


def to_utc(value: str, naive_zone: dt.tzinfo = UTC) -> str:
    """Normalise a vendor timestamp string to the tap's UTC format."""
    return format_utc(parse(value, naive_zone))


def to_utc_or_none(value: t.Any, naive_zone: dt.tzinfo = UTC) -> str | None:
    """Normalise a timestamp, or None when it is not one (left for validation to report)."""
    if not isinstance(value, str):
        return None
    try:
        return to_utc(value, naive_zone)
    except ValueError:
        return None


def zone(name: str) -> ZoneInfo:
    """Load an IANA zone, with an error that names the setting to fix."""
    try:
        return ZoneInfo(name)
    except (ValueError, KeyError, OSError) as exc:
        msg = f"cekat.timezone: {name!r} is not an IANA time zone (for example 'Asia/Jakarta')."
        raise ValueError(msg) from exc


def normalised(
    row: dict[str, t.Any], fields: t.Iterable[str], naive_zone: dt.tzinfo = UTC
) -> dict[str, t.Any]:
    """The row with the named times (dotted names reach into objects) in the tap's UTC format.

    Vendors mix naive, millisecond and offset forms across endpoints; a value that is not a
    timestamp stays as sent, for validation to report.
    """
    for name in fields:
        *parents, leaf = name.split(".")
        holder: t.Any = row
        for parent in parents:
            holder = holder.get(parent) if isinstance(holder, dict) else None
        if isinstance(holder, dict) and (utc := to_utc_or_none(holder.get(leaf), naive_zone)):
            holder[leaf] = utc
    return row
