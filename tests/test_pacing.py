"""The vendor's pacer: the window arithmetic and the holds, on a clock that moves when told."""

from __future__ import annotations

import logging
import threading

import pytest

from tap_messages.shared.pacing import SAFETY, RatePacer

WINDOW = 60.0


class FakeTime:
    """A monotonic clock that moves only when slept on (or moved by the test); sleeps noted."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def time_() -> FakeTime:
    return FakeTime()


@pytest.fixture
def pacer(time_: FakeTime) -> RatePacer:
    return RatePacer("Cekat", WINDOW, clock=time_.clock, sleep=time_.sleep)


def limits(limit: object, remaining: object) -> dict[str, str]:
    return {"X-RateLimit-Limit": str(limit), "X-RateLimit-Remaining": str(remaining)}


def test_requests_go_unpaced_until_a_response_states_the_limit(pacer, time_):
    for _ in range(2_500):  # more than the pacer's unpaced log keeps
        pacer.wait_turn()
    assert time_.sleeps == []


def test_at_the_limit_the_next_request_waits_until_the_oldest_is_a_window_old(pacer, time_):
    pacer.wait_turn()  # at 0 s
    pacer.observe(limits(3, 2))  # this key's first request: nobody else has spent any
    for moment in (1.0, 2.0):
        time_.now = moment
        pacer.wait_turn()
    assert time_.sleeps == [], "the limit itself is not paced: 3 requests in a window are fine"
    time_.now = 2.5
    pacer.wait_turn()  # the 4th: until the 1st (at 0 s) is a window old, with the margin
    assert time_.sleeps == [pytest.approx(WINDOW * SAFETY - 2.5)]
    pacer.wait_turn()  # the 5th, straight after: until the 2nd (at 1 s) is a window old
    assert time_.sleeps[1:] == [pytest.approx(1.0)]
    assert time_.now == pytest.approx(1.0 + WINDOW * SAFETY)


def test_no_window_long_span_holds_more_than_the_limit(pacer, time_):
    pacer.wait_turn()
    pacer.observe(limits(5, 4))
    sent = [0.0]
    for _ in range(40):
        pacer.wait_turn()
        sent.append(time_.now)
    for i in range(len(sent) - 5):
        assert sent[i + 5] - sent[i] >= WINDOW, "6 requests within one window"


def test_others_use_of_the_key_counts_from_the_first_remaining(pacer, time_):
    pacer.wait_turn()  # at 0 s
    pacer.observe(limits(3, 0))  # another client spent the other 2 of this window's 3
    time_.now = 1.0
    pacer.wait_turn()
    assert time_.sleeps == [pytest.approx(WINDOW * SAFETY - 1.0)]


def test_only_the_first_response_stating_the_limit_teaches_it(pacer, time_):
    pacer.wait_turn()
    pacer.observe(limits(3, 2))
    pacer.observe(limits(1000, 999))
    pacer.observe(limits(1, 0))
    pacer.wait_turn()
    pacer.wait_turn()
    assert time_.sleeps == []
    pacer.wait_turn()
    assert time_.sleeps == [pytest.approx(WINDOW * SAFETY)]


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-RateLimit-Limit": "3"},
        {"X-RateLimit-Remaining": "0"},
        limits("three", 0),
        limits(3, ""),
        limits("3.5", 0),
        limits(0, 0),
        limits(-3, 0),
    ],
    ids=[
        "none",
        "no-remaining",
        "no-limit",
        "limit-words",
        "remaining-empty",
        "limit-fraction",
        "limit-zero",
        "limit-negative",
    ],
)
def test_missing_or_garbage_rate_headers_are_ignored(pacer, time_, headers):
    pacer.wait_turn()
    pacer.observe(headers)
    for _ in range(20):
        pacer.wait_turn()
    assert time_.sleeps == []
    pacer.observe(limits(3, 2))  # and a later response that states the limit still teaches it
    pacer.wait_turn()
    assert len(time_.sleeps) == 1


def test_pacing_is_announced_once(pacer, time_, caplog):
    pacer.wait_turn()
    pacer.observe(limits(2, 1))
    with caplog.at_level(logging.INFO, logger="tap-messages"):
        for _ in range(6):
            pacer.wait_turn()
    said = [r.getMessage() for r in caplog.records if "rate limit reached" in r.getMessage()]
    assert said == ["Cekat rate limit reached (2 per 60 s): pacing requests to stay within it"]


def test_a_hold_delays_the_next_request_until_it_has_passed(pacer, time_):
    time_.now = 100.0
    pacer.hold(7.0)
    pacer.wait_turn()
    assert time_.sleeps == [7.0]
    pacer.wait_turn()
    assert time_.sleeps == [7.0], "once the hold has passed, requests go at once"


def test_a_hold_delays_every_request_sent_before_it_ends():
    """Several requests within the hold (threads, or streams of the vendor) all wait it out."""
    frozen: list[float] = []
    pacer = RatePacer("Convotic", WINDOW, clock=lambda: 0.0, sleep=frozen.append)
    pacer.hold(7.0)
    for _ in range(3):
        pacer.wait_turn()
    assert frozen == [7.0, 7.0, 7.0]


def test_a_hold_on_one_thread_holds_the_requests_of_another():
    frozen: list[float] = []
    lock = threading.Lock()

    def sleep(seconds: float) -> None:
        with lock:
            frozen.append(seconds)

    pacer = RatePacer("Cekat", WINDOW, clock=lambda: 0.0, sleep=sleep)
    holder = threading.Thread(target=pacer.hold, args=(30.0,))
    holder.start()
    holder.join()
    others = [threading.Thread(target=pacer.wait_turn) for _ in range(4)]
    for thread in others:
        thread.start()
    for thread in others:
        thread.join()
    assert frozen == [30.0] * 4


def test_a_shorter_hold_never_cuts_a_longer_one_short(pacer, time_):
    pacer.hold(10.0)
    pacer.hold(3.0)
    pacer.wait_turn()
    assert time_.sleeps == [10.0]


def test_a_hold_and_the_limit_together_wait_for_the_later_of_the_two(pacer, time_):
    pacer.wait_turn()
    pacer.observe(limits(1, 0))
    pacer.hold(5.0)
    pacer.wait_turn()  # the window (61.2 s) is later than the hold (5 s)
    assert time_.sleeps == [pytest.approx(WINDOW * SAFETY)]
    pacer.hold(100.0)
    pacer.wait_turn()  # now the hold is the later
    assert time_.sleeps[1:] == [pytest.approx(100.0)]
