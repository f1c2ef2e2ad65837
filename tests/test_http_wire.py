"""The tap's HTTP framing: every body read whole by its own framing, or an error, never less."""

from __future__ import annotations

import io
from http.client import BadStatusLine, HTTPException, IncompleteRead, RemoteDisconnected

import pytest

from tap_messages.http_wire import read_answer, request_head

BODY = b'{"data": [1, 2, 3]}'


def answer(raw: bytes):
    return read_answer(io.BufferedReader(io.BytesIO(raw)))  # type: ignore[arg-type]


def test_a_body_with_a_length_is_read_to_that_length_and_the_connection_kept():
    raw = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%sHTTP/1.1 200" % (len(BODY), BODY)
    got = answer(raw)
    assert (got.status, got.reason, got.body, got.reusable) == (200, "OK", BODY, True)


def test_chunks_are_joined_past_interim_answers_extensions_and_trailers():
    raw = (
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5;x=1\r\n" + BODY[:5] + b"\r\nE\r\n" + BODY[5:] + b"\r\n0\r\nX-Sum: 1\r\n\r\n"
    )
    got = answer(raw)
    assert (got.status, got.body, got.reusable) == (200, BODY, True)


def test_a_body_without_length_ends_with_the_connection_which_is_not_reused():
    got = answer(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n" + BODY)
    assert (got.body, got.reusable) == (BODY, False)


@pytest.mark.parametrize(
    ("version", "connection", "reusable"),
    [("1.1", "", True), ("1.1", "close", False), ("1.0", "", False), ("1.0", "keep-alive", True)],
)
def test_a_connection_is_reused_only_where_the_http_version_and_header_allow(
    version, connection, reusable
):
    header = f"Connection: {connection}\r\n".encode() if connection else b""
    raw = b"HTTP/%s 204 No Content\r\n%s\r\n" % (version.encode(), header)
    assert answer(raw).reusable is reusable


def test_headers_keep_their_names_and_join_folded_lines():
    raw = (
        b"HTTP/1.1 200 OK\r\nX-RateLimit-Limit: 100\r\nX-Note: a\r\n  b\r\n"
        b"Content-Length: 0\r\n\r\n"
    )
    assert answer(raw).headers == [
        ("X-RateLimit-Limit", "100"),
        ("X-Note", "a b"),
        ("Content-Length", "0"),
    ]


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        (b"", RemoteDisconnected),
        (b"<html>502</html>\r\n", BadStatusLine),
        (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Le", IncompleteRead),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n" + BODY, IncompleteRead),
        (b"HTTP/1.1 200 OK\r\nContent-Length: many\r\n\r\n" + BODY, HTTPException),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{\"da", IncompleteRead),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\n", IncompleteRead),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcd\r\n", IncompleteRead),
        (b"HTTP/1.1 200 OK\r\n" + b"X-A: 1\r\n" * 101 + b"\r\n", HTTPException),
        (b"HTTP/1.1 200 OK\r\nX-Long: " + b"a" * 70_000 + b"\r\n\r\n", HTTPException),
    ],
    ids=[
        "closed-before-answering",
        "not-http",
        "closed-inside-the-headers",
        "shorter-than-its-length",
        "length-not-a-number",
        "chunk-cut-short",
        "negative-chunk-size",
        "chunk-longer-than-its-size",
        "too-many-headers",
        "header-line-too-long",
    ],
)
def test_a_malformed_or_cut_answer_is_an_error_never_a_short_body(raw, error):
    with pytest.raises(error):
        answer(raw)


def test_a_header_cannot_smuggle_a_line_break_into_the_request():
    with pytest.raises(ValueError, match="line break"):
        request_head("api.example", {"api_key": "abc\r\nX-Evil: 1"})
    assert request_head("api.example", {"api_key": "abc"}) == (
        b"Host: api.example\r\napi_key: abc\r\n\r\n"
    )
