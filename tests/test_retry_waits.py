"""Each retry waits what it should: seen on the vendor pacer's clock, with no cap to hide it.

The tap runs in this process against the imitations over real HTTP. Each vendor's pacer gets a
fake clock that moves only when slept on, so a test reads the waits the tap asked for (and when,
counted in requests the server had seen) without waiting them. These configs keep the default
`max_retry_wait` (300 s), not the suite's 0.01 s cap, except where the cap is what is tested.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import typing as t
from dataclasses import dataclass
from email.utils import formatdate

import pytest

import tap_messages.tap as tap_module
from imitations import CekatData, ConvoticData, ImitationServer
from imitations.base import RecordedRequest, Response
from imitations.faults import error_response
from tap_messages.shared.pacing import RatePacer
from tap_messages.tap import TapMessages
from tests.conftest import cekat_config, convotic_config
from tests.singer_run import selecting

VENDORS = ("cekat", "convotic")
NAME = {"cekat": "Cekat", "convotic": "Convotic"}
MESSAGES = {"cekat": "cekat_messages", "convotic": "convotic_messages"}
PATH = {"cekat": "/api/messages", "convotic": "/v1/messages"}


class FakeTime:
    """A vendor's clock: it moves only when slept on (never, if frozen); each sleep noted.

    A sleep is noted with the number of the vendor's requests the server had seen by then, so
    `(7.0, 2)` reads "waited 7 s after the 2nd request, before the 3rd was sent".
    """

    def __init__(self, server: ImitationServer, vendor: str, *, frozen: bool = False) -> None:
        self.server, self.vendor, self.frozen = server, vendor, frozen
        self.now = 1_000.0
        self.sleeps: list[tuple[float, int]] = []
        self._lock = threading.Lock()

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            seen = sum(r.vendor == self.vendor for r in self.server.requests)
            self.sleeps.append((seconds, seen))
            if not self.frozen:
                self.now += seconds


@dataclass
class Run:
    messages: list[dict[str, t.Any]]
    times: dict[str, FakeTime]
    warnings: list[str]

    def keys(self, vendor: str) -> set[t.Any]:
        rows = [
            m["record"]
            for m in self.messages
            if m["type"] == "RECORD" and m["stream"] == MESSAGES[vendor]
        ]
        if vendor == "cekat":
            return {r["id"] for r in rows}
        return {(r["conversationId"], r["id"]) for r in rows}

    def sleeps(self, vendor: str) -> list[tuple[float, int]]:
        return self.times[vendor].sleeps


@pytest.fixture
def sync(monkeypatch, capsys, caplog) -> t.Callable[..., Run]:
    """Run the tap in-process on the given streams, each vendor's pacer on a fake clock."""

    def run(
        server: ImitationServer, config: dict[str, t.Any], streams: t.Iterable[str], **kw: t.Any
    ) -> Run:
        times = {vendor: FakeTime(server, vendor, **kw) for vendor in VENDORS}

        def pacer(vendor: str, window_s: float) -> RatePacer:
            fake = times[vendor.lower()]
            return RatePacer(vendor, window_s, clock=fake.clock, sleep=fake.sleep)

        monkeypatch.setattr(tap_module, "RatePacer", pacer)
        capsys.readouterr()
        with caplog.at_level(logging.INFO):
            TapMessages(config=config, catalog=selecting(streams)).sync_all()
        out = capsys.readouterr().out
        warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
        return Run([json.loads(line) for line in out.splitlines()], times, warnings)

    return run


def source(serve, vendor: str, **settings: t.Any) -> tuple[ImitationServer, dict[str, t.Any], set]:
    """An imitation of the vendor (a few requests' worth), a config one request at a time."""
    if vendor == "cekat":
        cekat = CekatData(n_messages=250, seed=70)
        server = serve(cekat=cekat)
        config, expected = cekat_config(server), cekat.ids()
    else:
        convotic = ConvoticData(n_conversations=2, messages_per_conversation=120, seed=70)
        server = serve(convotic=convotic)
        config = convotic_config(server, convotic.conversation_ids())
        expected = convotic.keys()
    del config["max_retry_wait"]  # the real default: no cap below what each test asks for
    return server, {**config, "max_concurrency": 1, **settings}, expected


def answering(numbers: set[int], vendor: str, response: t.Callable[[], Response]):
    """A fault: the vendor's requests numbered `numbers` (from 1) get `response()`."""
    lock, count = threading.Lock(), 0

    def fault(request: RecordedRequest) -> Response | None:
        nonlocal count
        if request.vendor != vendor:
            return None
        with lock:
            count += 1
            return response() if count in numbers else None

    return fault


def too_many(vendor: str, retry_after: t.Callable[[], str | None]) -> t.Callable[[], Response]:
    """The vendor's 429, with the Retry-After `retry_after()` gives when it is sent (if any)."""

    def response() -> Response:
        refused = error_response(vendor, 429, "Rate limit exceeded")
        value = retry_after()
        return Response(
            429, {**refused.headers, **({"Retry-After": value} if value else {})}, refused.body
        )

    return response


def of(server: ImitationServer, vendor: str) -> list[RecordedRequest]:
    return [r for r in server.requests if r.vendor == vendor]


def assert_retried_the_same_request(requests: list[RecordedRequest], refused: list[int]) -> None:
    """The requests numbered `refused` got 429 and the next request asked for the same again."""
    for number in refused:
        assert requests[number - 1].status == 429
        assert requests[number].params == requests[number - 1].params
        assert requests[number].path == requests[number - 1].path
    assert [r.status for r in requests].count(429) == len(refused)


@pytest.mark.parametrize("vendor", VENDORS)
def test_a_429_waits_what_retry_after_says(serve, sync, vendor):
    server, config, expected = source(serve, vendor)
    server.fault = answering({2}, vendor, too_many(vendor, lambda: "7"))
    run = sync(server, config, [MESSAGES[vendor]])
    assert run.sleeps(vendor) == [(7.0, 2)], "7 s after the 429, before the retry; no other wait"
    assert_retried_the_same_request(of(server, vendor), [2])
    assert run.keys(vendor) == expected
    assert any(w.endswith("retry 1 of 8 in 7.00 s") for w in run.warnings), run.warnings


@pytest.mark.parametrize("vendor", VENDORS)
def test_a_429_waits_until_the_http_date_retry_after_names(serve, sync, vendor):
    server, config, expected = source(serve, vendor)

    def in_30_s() -> str:
        return formatdate(time.time() + 30, usegmt=True)

    server.fault = answering({2}, vendor, too_many(vendor, in_30_s))
    run = sync(server, config, [MESSAGES[vendor]])
    [(waited, seen)] = run.sleeps(vendor)
    assert 29.0 - 0.5 <= waited <= 30.0, "the date holds whole seconds: up to one less"
    assert seen == 2
    assert_retried_the_same_request(of(server, vendor), [2])
    assert run.keys(vendor) == expected


@pytest.mark.parametrize("vendor", VENDORS)
def test_a_429_without_retry_after_backs_off_from_one_second_with_jitter(serve, sync, vendor):
    server, config, expected = source(serve, vendor)
    server.fault = answering({2, 3, 4}, vendor, too_many(vendor, lambda: None))
    run = sync(server, config, [MESSAGES[vendor]])
    [(first, after_2), (second, after_3), (third, after_4)] = run.sleeps(vendor)
    assert (after_2, after_3, after_4) == (2, 3, 4)
    assert 0.5 <= first <= 1.0
    assert 1.0 <= second <= 2.0
    assert 2.0 <= third <= 4.0
    assert_retried_the_same_request(of(server, vendor), [2, 3, 4])
    assert run.keys(vendor) == expected


@pytest.mark.parametrize("vendor", VENDORS)
def test_max_retry_wait_caps_what_retry_after_asks(serve, sync, vendor):
    server, config, expected = source(serve, vendor, max_retry_wait=20)
    server.fault = answering({2}, vendor, too_many(vendor, lambda: "1000"))
    run = sync(server, config, [MESSAGES[vendor]])
    assert run.sleeps(vendor) == [(20.0, 2)]
    assert run.keys(vendor) == expected


# Another stream of the vendor, sharing its pacer.
ALSO = {
    "cekat": ("cekat_conversations", "/api/conversations"),
    "convotic": ("convotic_contacts", "/v1/contacts"),
}


@pytest.mark.parametrize("width", [1, 4], ids=["serial", "threads"])
@pytest.mark.parametrize("vendor", VENDORS)
def test_a_429_holds_every_request_of_its_vendor_and_none_of_the_others(serve, sync, vendor, width):
    """On a clock that stands still, every request of the vendor after the 429 is within its
    Retry-After, so each must wait it out: the retry, later pages, pages read ahead on other
    threads, and the vendor's other stream.
    """
    other = "convotic" if vendor == "cekat" else "cekat"
    cekat = CekatData(n_messages=250, n_conversations=120, seed=71)
    convotic = ConvoticData(n_conversations=2, messages_per_conversation=120, seed=71)
    server = serve(cekat=cekat, convotic=convotic)
    config = {**cekat_config(server), **convotic_config(server, convotic.conversation_ids())}
    del config["max_retry_wait"]
    config["max_concurrency"] = width
    server.fault = answering({1}, vendor, too_many(vendor, lambda: "7"))
    stream, path = ALSO[vendor]
    run = sync(server, config, [MESSAGES[vendor], stream, MESSAGES[other]], frozen=True)
    after_the_429 = len(of(server, vendor)) - 1
    held = {r.path for r in of(server, vendor)[1:]}
    assert held == {PATH[vendor], path}, "both of the vendor's streams sent requests after it"
    assert [waited for waited, _ in run.sleeps(vendor)] == [7.0] * after_the_429
    if width == 1:  # each before the next request
        assert [seen for _, seen in run.sleeps(vendor)] == list(range(1, after_the_429 + 1))
    assert run.sleeps(other) == []
    assert of(server, other), "the other vendor was read too, without waiting"
    assert run.keys(vendor) == (cekat.ids() if vendor == "cekat" else convotic.keys())


def stalled(seconds: float, vendor: str, number: int):
    """A fault: the vendor's `number`-th request is answered only after `seconds`."""
    lock, count = threading.Lock(), 0

    def fault(request: RecordedRequest) -> None:
        nonlocal count
        if request.vendor != vendor:
            return
        with lock:
            count += 1
            late = count == number
        if late:
            time.sleep(seconds)

    return fault


@pytest.mark.parametrize("vendor", VENDORS)
def test_an_answer_later_than_request_timeout_is_given_up_on_and_the_request_retried(
    serve, sync, vendor
):
    server, config, expected = source(serve, vendor, request_timeout=1)
    server.fault = stalled(1.5, vendor, 2)  # longer than request_timeout
    run = sync(server, config, [MESSAGES[vendor]])
    requests = of(server, vendor)
    assert requests[2].params == requests[1].params, "the request that timed out, sent again"
    retries = [w for w in run.warnings if "; retry " in w]
    assert len(retries) == 1, run.warnings
    assert f"{NAME[vendor]} request to " in retries[0]
    assert "failed (ReadTimeout (" in retries[0]
    assert "Read timed out. (read timeout=1)" in retries[0]
    [(waited, seen)] = run.sleeps(vendor)
    assert seen == 2
    assert 0.5 <= waited <= 1.0, "a timeout backs off like an error without Retry-After"
    assert run.keys(vendor) == expected
