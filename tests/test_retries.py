"""How long a retry waits: Retry-After read as seconds or as an HTTP-date, else capped backoff."""

from __future__ import annotations

import time
from email.utils import formatdate

import pytest
import requests
from singer_sdk.exceptions import RetriableAPIError

from tap_messages.shared import retries
from tap_messages.shared.retries import backoff_wait, retry_after, wait_before_retry


def answer(retry_after_value: str | None = None, status: int = 429) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    if retry_after_value is not None:
        response.headers["Retry-After"] = retry_after_value
    return response


def in_(seconds: float) -> str:
    """An HTTP-date `seconds` from now, as a server writes it (whole seconds, GMT)."""
    return formatdate(time.time() + seconds, usegmt=True)


@pytest.mark.parametrize(("value", "seconds"), [("7", 7.0), ("0", 0.0), ("120", 120.0)])
def test_retry_after_in_seconds_is_that_many_seconds(value, seconds):
    assert retry_after(answer(value)) == seconds


def test_retry_after_as_an_http_date_is_the_time_until_then():
    waited = retry_after(answer(in_(30)))
    assert waited is not None
    assert 29.0 <= waited <= 30.0  # the date holds whole seconds


def test_an_http_date_without_a_zone_is_read_as_utc():
    # RFC 5322's "-0000": a UTC time whose zone is not known; Python reads it as naive.
    value = in_(30).replace("GMT", "-0000")
    waited = retry_after(answer(value))
    assert waited is not None
    assert 29.0 <= waited <= 30.0


# Fixed values: parameters are collected by each xdist worker and must be the same in each.
@pytest.mark.parametrize(
    "value", ["Wed, 21 Oct 2015 07:28:00 GMT", "Thu, 01 Jan 1970 00:00:00 GMT", "-5"]
)
def test_a_retry_after_already_past_means_retry_at_once(value):
    assert retry_after(answer(value)) == 0.0
    assert retry_after(answer(in_(-30))) == 0.0


@pytest.mark.parametrize("value", ["soon", "Fri, 99 Foo 2026 25:61:00 GMT", "7 seconds", "", " "])
def test_a_retry_after_that_says_nothing_readable_is_no_answer(value):
    assert retry_after(answer(value)) is None


def test_without_retry_after_or_without_an_answer_there_is_no_answer():
    assert retry_after(answer()) is None
    assert retry_after(None) is None


@pytest.mark.parametrize(
    ("attempt", "low", "high"), [(1, 0.5, 1), (2, 1, 2), (3, 2, 4), (6, 16, 32)]
)
def test_backoff_starts_at_one_second_and_doubles_with_jitter(attempt, low, high):
    waits = [backoff_wait(attempt, 300) for _ in range(200)]
    assert all(low <= w <= high for w in waits)
    assert len(set(waits)) > 1, "jittered: retries that failed together do not retry together"


def test_backoff_jitter_spans_half_to_all_of_its_ceiling(monkeypatch):
    monkeypatch.setattr(retries.random, "uniform", lambda a, b: (a, b))
    assert backoff_wait(1, 300) == (0.5, 1.0)
    assert backoff_wait(4, 300) == (4.0, 8.0)
    assert backoff_wait(20, 300) == (150.0, 300.0)


def test_backoff_never_waits_more_than_max_retry_wait():
    assert all(backoff_wait(attempt, 5.0) <= 5.0 for attempt in range(1, 40) for _ in range(20))


def test_a_retry_waits_what_retry_after_says_capped_by_max_retry_wait():
    error = RetriableAPIError("429", answer("7"))
    assert wait_before_retry(error, 1, 300) == 7.0
    assert wait_before_retry(RetriableAPIError("429", answer("1000")), 1, 300) == 300.0
    assert wait_before_retry(RetriableAPIError("429", answer(in_(1000))), 1, 20) == 20.0


def test_a_retry_backs_off_when_no_retry_after_was_given():
    for error in (
        RetriableAPIError("500", answer(status=500)),
        RetriableAPIError("not JSON"),  # no answer attached
        requests.ReadTimeout("read timed out"),
        requests.ConnectionError("connection reset"),
        None,
    ):
        assert 1.0 <= wait_before_retry(error, 2, 300) <= 2.0
        assert wait_before_retry(error, 9, 3.0) <= 3.0
