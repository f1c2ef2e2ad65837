"""One UTC format for every timestamp the tap emits, so bookmarks compare correctly as strings."""

from __future__ import annotations

import datetime as dt
import re
import typing as t
from zoneinfo import ZoneInfo

UTC = dt.timezone.utc
_DURATION = re.compile(
    r"P(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?"
)


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


def to_utc(value: t.Any, naive_zone: dt.tzinfo = UTC) -> str | None:
    """A vendor timestamp in the tap's UTC format, or None when it is not one.

    Equal to `format_utc(parse(value))`, in a third of the time: every record pays for it.
    """
    if not isinstance(value, str):
        return None
    zulu = value.endswith(("Z", "z"))
    try:
        moment = dt.datetime.fromisoformat(value[:-1] if zulu else value)
    except ValueError:
        return None
    if zulu and moment.tzinfo:
        return None  # an offset and a Z: not one instant
    offset = None if zulu else (moment.tzinfo or naive_zone).utcoffset(moment)
    if offset:
        moment -= offset  # the wall time in UTC, whatever zone it still names
    return moment.isoformat(timespec="microseconds")[:26] + "+00:00"


def zone(name: str) -> ZoneInfo:
    """Load an IANA zone, with an error that names the setting to fix."""
    try:
        return ZoneInfo(name)
    except (ValueError, KeyError, OSError) as exc:
        msg = f"cekat.timezone: {name!r} is not an IANA time zone (for example 'Asia/Jakarta')."
        raise ValueError(msg) from exc


def duration(text: str) -> dt.timedelta:
    """An ISO 8601 duration of weeks, days, hours, minutes and seconds (P1D, PT6H, P1DT12H)."""
    match = _DURATION.fullmatch(text.strip().upper())
    if not match or text.strip().upper() in {"P", "PT"}:
        msg = (
            f"cekat.lookback: {text!r} is not an ISO 8601 duration in weeks, days, hours, minutes "
            "or seconds (for example P1D or PT6H; years and months have no fixed length)."
        )
        raise ValueError(msg)
    return dt.timedelta(**{k: int(v) for k, v in match.groupdict().items() if v})


class UtcTimes:
    """Puts a stream's time fields (dotted: nested) in the tap's format; others stay as sent."""

    def __init__(self, fields: t.Iterable[str], naive_zone: dt.tzinfo = UTC) -> None:
        """Split the dotted names once; every record uses them."""
        self.paths = [tuple(name.split(".")) for name in fields]
        self.naive_zone = naive_zone

    def __call__(self, row: dict[str, t.Any]) -> dict[str, t.Any]:
        """The row, its times in UTC (in place)."""
        done: dict[str, str] = {}  # most rows repeat one time (updated_at = created_at)
        for *parents, leaf in self.paths:
            holder: t.Any = row
            for parent in parents:
                holder = holder.get(parent) if isinstance(holder, dict) else None
            if not isinstance(holder, dict):
                continue
            value = holder.get(leaf)
            if not isinstance(value, str):
                continue
            utc = done.get(value) or to_utc(value, self.naive_zone)
            if utc is not None:
                holder[leaf] = done[value] = utc
        return row
