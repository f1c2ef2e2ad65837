"""One UTC format for every timestamp the tap emits, so bookmarks compare correctly as strings."""

from __future__ import annotations

import datetime as dt
import typing as t
from zoneinfo import ZoneInfo

UTC = dt.timezone.utc


def _read(value: str) -> dt.datetime:
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    return dt.datetime.fromisoformat(value)


def parse(value: str, naive_zone: dt.tzinfo = UTC) -> dt.datetime:
    """Parse ISO 8601 (space or T, optional Z or offset); naive values are in naive_zone."""
    parsed = _read(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=naive_zone)


def format_utc(moment: dt.datetime) -> str:
    """Render an aware datetime in the tap's single output format, always with microseconds."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def to_utc(value: str, naive_zone: dt.tzinfo = UTC) -> str:
    """Normalise a vendor timestamp string to the tap's UTC format (per record: kept cheap)."""
    if (  # Convotic's own form, 2026-03-30T14:20:00Z, needs no date arithmetic
        len(value) == 20
        and value[19] == "Z"
        and value[:19].replace("-", "").replace(":", "").replace("T", "").isdigit()
    ):
        return value[:19] + ".000000+00:00"
    if (  # Cekat's naive 2026-04-10 16:24:23: in a whole-hour zone only the hour text moves
        len(value) == 19
        and value[13] == value[16] == ":"
        and value[14:16] < "60"
        and value[17:19] < "60"
        and (value[14:16] + value[17:19]).isdigit()
        and (hour := _HOURS.get((naive_zone, value[:13])) or _utc_hour(value[:13], naive_zone))
    ):
        return f"{hour}{value[13:]}.000000+00:00"
    moment = _read(value)
    if moment.tzinfo is None:
        offset = _offset(naive_zone, moment)
        return (moment - offset).isoformat(timespec="microseconds") + "+00:00"
    return format_utc(moment)


_HOURS: dict[tuple[dt.tzinfo, str], str] = {}


def _utc_hour(local_hour: str, zone: dt.tzinfo) -> str | None:
    """'YYYY-MM-DDTHH' in UTC for a naive 'YYYY-MM-DD HH' in zone; None unless whole hours apart.

    Raises ValueError for a date or hour that does not exist.
    """
    if len(_HOURS) > 100_000:
        _HOURS.clear()
    moment = _read(local_hour + ":00:00")
    offset = _offset(zone, moment)
    if offset % dt.timedelta(hours=1):
        return None
    hour = _HOURS[(zone, local_hour)] = (moment - offset).isoformat()[:13]
    return hour


_OFFSETS: dict[tuple[dt.tzinfo, int, int, int, int], dt.timedelta] = {}


def _offset(zone: dt.tzinfo, moment: dt.datetime) -> dt.timedelta:
    """The zone's UTC offset for the hour of a naive time; zones change offset on the hour."""
    key = (zone, moment.year, moment.month, moment.day, moment.hour)
    found = _OFFSETS.get(key)
    if found is None:
        if len(_OFFSETS) > 100_000:
            _OFFSETS.clear()
        found = _OFFSETS[key] = moment.replace(tzinfo=zone).utcoffset() or dt.timedelta(0)
    return found


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
