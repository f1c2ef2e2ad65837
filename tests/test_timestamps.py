"""Every timestamp leaves in one UTC format, equal to what plain datetime arithmetic gives."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tap_messages.shared.timestamps import UTC, to_utc

ZONES = ["Asia/Jakarta", "Asia/Kolkata", "America/New_York", "Australia/Lord_Howe", "UTC"]
moments = st.datetimes(min_value=dt.datetime(1971, 1, 1), max_value=dt.datetime(2100, 1, 1))


def reference(naive: dt.datetime, zone: dt.tzinfo) -> str:
    return naive.replace(tzinfo=zone).astimezone(UTC).isoformat(timespec="microseconds")


@settings(max_examples=400, deadline=None)
@given(moments, st.sampled_from(ZONES), st.sampled_from([" ", "T"]))
def test_naive_times_convert_like_datetime_in_any_zone(naive, zone_name, sep):
    zone = ZoneInfo(zone_name)
    whole_seconds = naive.replace(microsecond=0)
    assert to_utc(whole_seconds.isoformat(sep=sep), zone) == reference(whole_seconds, zone)
    assert to_utc(naive.isoformat(sep=sep, timespec="microseconds"), zone) == reference(naive, zone)


@settings(max_examples=200, deadline=None)
@given(moments)
def test_zulu_and_offset_forms_keep_their_instant(naive):
    moment = naive.replace(microsecond=0, tzinfo=UTC)
    expected = moment.isoformat(timespec="microseconds")
    assert to_utc(moment.strftime("%Y-%m-%dT%H:%M:%SZ"), ZoneInfo("Asia/Jakarta")) == expected
    shifted = moment.astimezone(dt.timezone(dt.timedelta(hours=5, minutes=30)))
    assert to_utc(shifted.isoformat()) == expected


@pytest.mark.parametrize(
    "value",
    [
        "2026-02-30 07:00:00",
        "2026-01-01 25:00:00",
        "2026-01-01 07:60:00",
        "2026-01-01 07:0a:00",
        "yesterday",
        "",
        None,
        1712345678,
    ],
)
def test_unreadable_values_are_left_for_validation_to_report(value):
    assert to_utc(value, ZoneInfo("Asia/Jakarta")) is None
