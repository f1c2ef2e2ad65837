"""What an answer that is no success means: retried, or one line saying what to fix."""

from __future__ import annotations

import json
import typing as t

import pytest
import requests
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError

from tap_messages.cekat.client import cekat_refusal
from tap_messages.shared.errors import VendorAPIError, answer_error, deprecation, vendor_message

MESSAGES = "https://api.example/v1/messages"


def answer(
    status: int,
    body: t.Any = None,
    headers: dict[str, str] | None = None,
    url: str = MESSAGES,
) -> requests.Response:
    response = requests.Response()
    response.status_code, response.url = status, url
    response.headers.update(headers or {})
    text = body if isinstance(body, str) else json.dumps(body) if body is not None else ""
    response._content = text.encode()
    return response


# The vendor's own words, from each documented envelope.


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"error": {"code": "UNAUTHORIZED", "message": "Invalid API key"}}, "Invalid API key"),
        ({"error": {"code": "RATE_LIMITED"}}, "RATE_LIMITED"),
        ({"error": "invalid_api_key"}, "invalid_api_key"),
        (
            {"success": False, "status_code": 401, "error": {"message": "Not authenticated"}},
            "Not authenticated",
        ),
        ({"message": "limit must be at most 100"}, "limit must be at most 100"),
    ],
    ids=["convotic-code-and-message", "convotic-code-only", "convotic-string", "cekat", "bare"],
)
def test_the_vendors_words_are_read_from_its_error_envelope(body, words):
    assert vendor_message(answer(400, body)) == words


def test_a_body_that_is_not_json_is_quoted_from_its_start():
    page = "  <html><body><h1>502 Bad Gateway</h1>" + "x" * 500 + "</body></html>"
    said = vendor_message(answer(502, page))
    assert said.startswith("<html><body><h1>502 Bad Gateway</h1>")
    assert len(said) <= 200


def test_the_vendors_words_are_cut_to_a_line():
    assert len(vendor_message(answer(400, {"error": {"message": "y" * 5000}}))) == 200


# Retried, or fatal naming the setting to fix.


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_rate_limits_and_server_errors_are_retried(status):
    error = answer_error(
        answer(status, {"error": {"message": "busy"}}), "Convotic", "convotic", "/v1/messages"
    )
    assert isinstance(error, RetriableAPIError)
    assert str(error) == f"Convotic answered HTTP {status} on /v1/messages: busy"
    assert error.response is not None, "kept: its Retry-After decides the wait"


@pytest.mark.parametrize(("vendor", "prefix"), [("Cekat", "cekat"), ("Convotic", "convotic")])
@pytest.mark.parametrize("status", [401, 403])
def test_a_rejected_key_stops_the_run_naming_the_key_setting(vendor, prefix, status):
    body = {"error": {"message": "Not authenticated"}}
    error = answer_error(answer(status, body), vendor, prefix, "/x")
    assert isinstance(error, VendorAPIError)
    assert isinstance(error, FatalAPIError)
    assert error.status == status
    assert str(error) == (
        f"{vendor} rejected the API key (HTTP {status}: Not authenticated). Check {prefix}.api_key."
    )


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_a_redirect_stops_the_run_naming_where_it_points_and_the_base_url_setting(status):
    moved = answer(status, headers={"Location": "https://moved.example/api"})
    error = answer_error(moved, "Cekat", "cekat", "/api/messages")
    assert isinstance(error, VendorAPIError)
    assert str(error) == (
        f"Cekat answered HTTP {status} on /api/messages, redirecting to "
        "https://moved.example/api; set cekat.base_url to the API's current address."
    )


def test_a_redirect_without_an_address_says_so():
    error = answer_error(answer(302), "Cekat", "cekat", "/api/messages")
    assert "redirecting to no address; set cekat.base_url" in str(error)


@pytest.mark.parametrize(
    ("status", "hint"),
    [
        (400, "the API rejected a request parameter"),
        (404, "the resource does not exist"),
        (410, "this API version has been retired (see its Sunset date); upgrade tap-messages"),
        (422, "the request was refused"),
    ],
)
def test_a_refused_request_stops_the_run_with_its_hint_words_and_parameters(status, hint):
    url = MESSAGES + "?conversationId=c%201&from=2026-01-01T00%3A00%3A00Z"
    refused = answer(status, {"error": {"code": "X", "message": "no such thing"}}, url=url)
    error = answer_error(refused, "Convotic", "convotic", "/v1/messages")
    assert isinstance(error, VendorAPIError)
    assert error.status == status
    assert str(error) == (
        f"Convotic answered HTTP {status} on /v1/messages ({hint}): no such thing "
        "[request: conversationId=c 1&from=2026-01-01T00:00:00Z]"
    )


def test_a_refused_request_without_parameters_names_none():
    error = answer_error(answer(404, {"error": "not found"}), "Cekat", "cekat", "/api/inboxes")
    assert str(error) == (
        "Cekat answered HTTP 404 on /api/inboxes (the resource does not exist): not found"
    )


@pytest.mark.parametrize("status", [200, 201, 204])
def test_a_success_is_no_error(status):
    assert answer_error(answer(status, {"success": True}), "Cekat", "cekat", "/api/x") is None


# Cekat's `success: false`, even with HTTP 200.


@pytest.mark.parametrize(
    "words",
    [
        "Service temporarily unavailable",
        "Upstream timed out",
        "Request timeout",
        "Please try again later",
        "Server overloaded",
        "Database busy",
        "Down for maintenance",
    ],
)
def test_a_cekat_refusal_in_transient_words_is_retried(words):
    error = cekat_refusal({"success": False, "error": {"message": words}}, "/api/messages")
    assert isinstance(error, RetriableAPIError)
    assert str(error) == f"Cekat refused /api/messages (success: false): {words}"


@pytest.mark.parametrize("status", [429, 500, 503])
def test_a_cekat_refusal_with_a_retriable_status_code_is_retried(status):
    payload = {"success": False, "status_code": status, "error": {"message": "Oops"}}
    assert isinstance(cekat_refusal(payload, "/api/messages"), RetriableAPIError)


@pytest.mark.parametrize(
    ("payload", "status", "words"),
    [
        (
            {"success": False, "status_code": 401, "error": {"message": "Invalid key"}},
            401,
            "Invalid key",
        ),
        ({"success": False, "status_code": 400, "error": "bad inbox_id"}, 400, "bad inbox_id"),
        ({"success": False, "error": {"message": "Plan limit"}}, 200, "Plan limit"),
        ({"success": False, "status_code": "500"}, 200, "no reason given"),
        ({"success": False}, 200, "no reason given"),
    ],
)
def test_any_other_cekat_refusal_stops_the_run_in_the_vendors_words(payload, status, words):
    error = cekat_refusal(payload, "/api/conversations")
    assert isinstance(error, VendorAPIError)
    assert error.status == status
    assert str(error) == f"Cekat refused /api/conversations (success: false): {words}"


def test_a_cekat_refusal_quotes_no_more_than_a_line():
    error = cekat_refusal({"success": False, "error": "z" * 1000}, "/api/messages")
    assert str(error).endswith(": " + "z" * 200)


@pytest.mark.parametrize(
    "payload",
    [{"success": True, "data": []}, {"data": []}, {"success": 0}, [], None, "false"],
)
def test_anything_but_success_false_is_no_cekat_refusal(payload):
    assert cekat_refusal(payload, "/api/messages") is None


# Deprecation notices.


def test_a_deprecated_api_is_named_with_its_sunset_and_what_to_do():
    headers = {"Deprecation": "true", "Sunset": "Sat, 01 May 2027 00:00:00 GMT"}
    notice = deprecation(answer(200, {}, headers, url=MESSAGES + "?limit=100"), "Convotic")
    assert notice == (
        "Convotic marks /v1/messages as deprecated (Sunset: Sat, 01 May 2027 00:00:00 GMT); "
        "after that date it answers 410 Gone. Upgrade tap-messages before then."
    )


def test_a_deprecation_without_a_sunset_says_none_was_given():
    notice = deprecation(answer(200, {}, {"Deprecation": "@1767225600"}), "Cekat")
    assert notice is not None
    assert "(Sunset: not given)" in notice


@pytest.mark.parametrize("headers", [{}, {"Deprecation": ""}, {"Sunset": "Sat, 01 May 2027"}])
def test_an_answer_not_marked_deprecated_says_nothing(headers):
    assert deprecation(answer(200, {}, headers), "Cekat") is None
