"""Each fault of docs/faults.md, for each vendor: every message arrives, or one clear error."""

from __future__ import annotations

import json
import re
import time
import typing as t
from email.utils import formatdate
from pathlib import Path

import pytest

from imitations import CekatData, ConvoticData
from imitations.base import Response
from imitations.faults import (
    DROP_CONNECTION,
    error_response,
    every_nth,
    non_json_body,
    rate_limited,
    truncated_body,
)
from tests.conftest import CEKAT_KEY, CONVOTIC_KEY, cekat_config, convotic_config
from tests.singer_run import run_messages

VENDORS = ("cekat", "convotic")


def slow_every(n: int, seconds: float) -> t.Callable[[t.Any], None]:
    count = 0

    def fault(request: t.Any) -> None:
        nonlocal count
        count += 1
        if count % n == 0:
            time.sleep(seconds)

    return fault


def too_many(vendor: str, retry_after: str | None) -> Response:
    response = error_response(vendor, 429, "Rate limit exceeded. Retry after 1 seconds.")
    headers = {**response.headers, **({"Retry-After": retry_after} if retry_after else {})}
    return Response(429, headers, response.body)


def deprecated(vendor: str) -> t.Callable[[t.Any], Response | None]:
    def fault(request: t.Any) -> None:
        return None

    fault.extra_headers = {"Deprecation": "true", "Sunset": "Sat, 01 May 2027 00:00:00 GMT"}  # type: ignore[attr-defined]
    return fault


def ignores_paging(vendor: str) -> t.Callable[[t.Any], Response]:
    """Cekat: page 1 for every page. Convotic: the same answer whatever the window."""
    if vendor == "cekat":
        data = CekatData(n_messages=100, seed=61)
        body = {
            "success": True,
            "data": data.messages,
            "metadata": {"pagination": {"current_page": 1, "total_page": 9, "total_items": 900}},
        }
    else:
        stamp = "2999-01-01T00:00:00Z"
        body = {
            "messages": [
                {"id": f"m{i}", "conversationId": "c", "timestamp": stamp} for i in range(100)
            ],
            "total": 500,
            "limit": 100,
        }
    answer = Response(200, {"Content-Type": "application/json"}, json.dumps(body).encode())
    return lambda request: answer


def wrong_shape(vendor: str) -> Response:
    return Response(200, {"Content-Type": "application/json"}, b'{"items": [], "next": null}')


# id -> (fault for a vendor, expected: None for "every message arrives", else error text)
FAULTS: dict[str, tuple[t.Callable[[str], t.Any], str | dict[str, str] | None]] = {
    "429-retry-after-seconds": (lambda v: every_nth(3, too_many(v, "1")), None),
    "429-retry-after-date": (
        lambda v: every_nth(3, too_many(v, formatdate(time.time() + 1, usegmt=True))),
        None,
    ),
    "429-no-header": (lambda v: every_nth(3, too_many(v, None)), None),
    "500": (lambda v: every_nth(4, error_response(v, 500)), None),
    "503-html": (lambda v: every_nth(4, non_json_body(503)), None),
    "dropped-connection": (lambda v: every_nth(5, DROP_CONNECTION), None),
    "truncated-body": (lambda v: every_nth(5, truncated_body()), None),
    "non-json-body": (lambda v: every_nth(5, non_json_body(200)), None),
    "timeout": (lambda v: slow_every(5, 1.6), None),
    "rate-limit-headers": (lambda v: rate_limited(12, 1.0), None),
    "deprecation-header": (deprecated, None),
    "500-forever": (
        lambda v: every_nth(1, error_response(v, 500)),
        "gave up after 9 attempts (max_retries=8); last error: {Vendor} answered HTTP 500",
    ),
    "401": (
        lambda v: every_nth(1, error_response(v, 401, "Not authenticated")),
        "{Vendor} rejected the API key (HTTP 401: Not authenticated). Check {vendor}.api_key.",
    ),
    "403": (
        lambda v: every_nth(1, error_response(v, 403, "insufficient_permissions")),
        "{Vendor} rejected the API key (HTTP 403: insufficient_permissions)",
    ),
    "410": (
        lambda v: every_nth(1, error_response(v, 410, "API version v1 is retired")),
        "HTTP 410 on {path} (this API version has been retired",
    ),
    "400": (
        lambda v: every_nth(1, error_response(v, 400, "limit must be between 1 and 100")),
        "HTTP 400 on {path} (the API rejected a request parameter): limit must be between 1 and "
        "100 [request: ",
    ),
    "redirect": (
        lambda v: every_nth(1, Response(301, {"Location": "https://moved.example/api"})),
        "answered HTTP 301 on {path}, redirecting to https://moved.example/api; set "
        "{vendor}.base_url to the API's current address.",
    ),
    "wrong-shape": (lambda v: every_nth(1, wrong_shape(v)), "is not the documented shape"),
    "paging-ignored": (
        ignores_paging,
        {
            "cekat": "Cekat served the same rows for 3 requests in a row",
            "convotic": "with messages outside the requested window",
        },
    ),
}


def test_every_documented_fault_is_tested():
    table = (Path(__file__).parents[1] / "docs" / "faults.md").read_text()
    documented = re.findall(r"^\| `([^`]+)` \|", table, flags=re.MULTILINE)
    assert documented == list(FAULTS)


def scenario(serve, vendor: str, fault: t.Any):
    if vendor == "cekat":
        data = CekatData(n_messages=1500, seed=60)
        server = serve(cekat=data)
        config, expected = cekat_config(server), data.ids()

        def keys(run):
            return {r["id"] for r in run.records("cekat_messages")}
    else:
        data = ConvoticData(n_conversations=6, messages_per_conversation=250, seed=60)
        server = serve(convotic=data)
        config, expected = convotic_config(server, data.conversation_ids()), data.keys()

        def keys(run):
            return {(r["conversationId"], r["id"]) for r in run.records("convotic_messages")}

    if isinstance(fault, type(rate_limited(1, 1))):
        server.rate_limiter = fault
        config["rate_limit_window"] = 1.0
    elif hasattr(fault, "extra_headers"):
        server.extra_headers = fault.extra_headers
    else:
        server.fault = fault
    return server, config, expected, keys


@pytest.mark.parametrize("vendor", VENDORS)
@pytest.mark.parametrize("fault_id", list(FAULTS))
def test_fault(serve, vendor, fault_id):
    make_fault, error = FAULTS[fault_id]
    server, config, expected, keys = scenario(serve, vendor, make_fault(vendor))
    config = {**config, "request_timeout": 1}
    if fault_id == "rate-limit-headers":
        config["max_retry_wait"] = 2.0
    run = run_messages(config)
    output = run.stdout + run.stderr
    assert CEKAT_KEY not in output
    assert CONVOTIC_KEY not in output
    if error is None:
        assert run.returncode == 0, run.stderr[-2000:]
        assert keys(run) == expected
        if fault_id == "rate-limit-headers":
            rejected = sum(r.status == 429 for r in server.requests)
            assert rejected <= 3, f"{rejected} of {len(server.requests)} requests got 429"
            print(f"\n{vendor}: {rejected} 429s in {len(server.requests)} requests")
        if fault_id == "timeout":  # each answer held past request_timeout was given up on
            stalled = len(server.requests) // 5
            assert stalled >= 3
            assert run.stderr.count("failed (ReadTimeout (") == stalled, run.stderr[-2000:]
        if fault_id == "deprecation-header":
            assert "Sunset: Sat, 01 May 2027" in run.stderr
        return
    path = "/api/messages" if vendor == "cekat" else "/v1/messages"
    text = error[vendor] if isinstance(error, dict) else error
    text = text.format(Vendor=vendor.capitalize(), vendor=vendor, path=path)
    assert run.returncode == 1
    last_line = run.stderr.strip().splitlines()[-1]
    assert text in last_line
    assert "Traceback" not in run.stderr


def test_requests_go_through_the_proxy_the_environment_names(serve):
    data = CekatData(n_messages=250, seed=62)
    proxy = serve(cekat=data)  # answers absolute-URI requests as a forward proxy would pass them
    config = {**cekat_config(proxy), "max_retries": 1}
    config["cekat"]["base_url"] = "http://127.0.0.2:9"  # nothing listens there
    proxied = {"HTTP_PROXY": proxy.base_url, "NO_PROXY": "", "no_proxy": ""}
    run = run_messages(config, env=proxied)
    assert run.returncode == 0, run.stderr[-2000:]
    assert {r["id"] for r in run.records("cekat_messages")} == data.ids()
    assert len(proxy.requests) >= 3


@pytest.mark.parametrize(
    ("coding", "framing"),
    [("gzip", "length"), ("deflate", "length"), ("gzip", "chunked"), ("deflate", "close")],
)
def test_answers_arrive_whole_however_compressed_and_framed(serve, coding, framing):
    cekat, convotic = CekatData(n_messages=450, seed=63), ConvoticData(n_conversations=3, seed=63)
    server = serve(cekat=cekat, convotic=convotic)
    server.compress, server.framing = coding, framing
    config = {**cekat_config(server), **convotic_config(server, convotic.conversation_ids())}
    run = run_messages(config)
    assert run.returncode == 0, run.stderr[-2000:]
    assert {r["id"] for r in run.records("cekat_messages")} == cekat.ids()
    assert {(r["conversationId"], r["id"]) for r in run.records("convotic_messages")} == (
        convotic.keys()
    )
    assert all(coding in r.headers["accept-encoding"] for r in server.requests)
