"""How long to wait before retrying: the server's Retry-After when given, else capped backoff.

The wait is spent in the vendor's pacer (`RatePacer.hold`), not in backoff's sleep, so that a
429 holds every thread of the vendor and a test can observe the wait on an injected clock.
"""

from __future__ import annotations

import datetime as dt
import random
import typing as t
from email.utils import parsedate_to_datetime

import requests
from singer_sdk.exceptions import RetriableAPIError

BACKOFF_BASE_S = 1.0  # Convotic's docs: exponential backoff starting at 1 s without Retry-After


def retry_after(response: requests.Response | None) -> float | None:
    """Seconds the server asked to wait, from `Retry-After` as seconds or an HTTP-date."""
    value = response.headers.get("Retry-After") if response is not None else None
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    return max(0.0, (when - dt.datetime.now(dt.timezone.utc)).total_seconds())


def backoff_wait(attempt: int, max_wait: float) -> float:
    """Jittered exponential backoff from 1 s for the attempt-th retry; never more than max_wait."""
    ceiling = min(max_wait, BACKOFF_BASE_S * 2 ** (attempt - 1))
    return random.uniform(ceiling / 2, ceiling)


def wait_before_retry(error: BaseException | None, attempt: int, max_wait: float) -> float:
    """Retry-After when given, else jittered exponential backoff; never more than max_wait."""
    asked = retry_after(error.response if isinstance(error, RetriableAPIError) else None)
    return min(asked, max_wait) if asked is not None else backoff_wait(attempt, max_wait)


def no_sleep() -> t.Generator[float, t.Any, None]:
    """Backoff's own waits, all zero: the retry's wait is held in the vendor's pacer instead."""
    while True:
        yield 0.0
