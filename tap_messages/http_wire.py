"""HTTP/1.1 on the wire: a GET written on a connected socket, its answer read and framed.

http.client parses every answer's headers with the email package: about 0.2 ms of CPU per
request here, which at 100 records an answer is more than validating them. What the tap needs is
small: the status, the headers, a body framed by Content-Length, by chunks or by the end of the
connection, and whether the connection may carry another request. Failures are raised as
http.client's own exceptions, so callers treat them as before.
"""

from __future__ import annotations

import socket
import typing as t
from http.client import (
    BadStatusLine,
    HTTPException,
    IncompleteRead,
    LineTooLong,
    RemoteDisconnected,
)

MAX_LINE = 65536
MAX_HEADERS = 100
_BLANK = (b"\r\n", b"\n", b"")
_HEX = b"0123456789abcdefABCDEF"


class Answer(t.NamedTuple):
    """One HTTP answer, its body read whole."""

    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes
    reusable: bool  # the connection may carry another request


def request_head(host: str, headers: dict[str, str]) -> bytes:
    """The header block shared by every request to one API, ending the request."""
    lines = [f"Host: {host}", *(f"{name}: {value}" for name, value in headers.items())]
    if any(ch in line for line in lines for ch in "\r\n\0"):
        msg = "an HTTP header holds a line break or a NUL character"
        raise ValueError(msg)
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def get(sock: socket.socket, reader: t.BinaryIO, target: str, head: bytes) -> Answer:
    """Send `GET target` with the shared header block and read the final answer."""
    sock.sendall(b"GET " + target.encode("ascii") + b" HTTP/1.1\r\n" + head)
    return read_answer(reader)


def read_answer(reader: t.BinaryIO) -> Answer:
    """Read one final answer (interim 1xx answers skipped) and its whole body."""
    while True:
        line = _line(reader)
        if not line:
            msg = "Remote end closed connection without response"
            raise RemoteDisconnected(msg)
        version, _, rest = line.rstrip(b"\r\n").partition(b" ")
        code, _, reason = rest.partition(b" ")
        if not version.startswith(b"HTTP/1.") or len(code) != 3 or not code.isdigit():
            raise BadStatusLine(repr(line[:100]))
        status, headers = int(code), _headers(reader)
        if status >= 200:
            break
    fields = {name.lower(): value for name, value in headers}
    connection = fields.get("connection", "").lower()
    reusable = "close" not in connection if version == b"HTTP/1.1" else "keep-alive" in connection
    if status in (204, 304):
        body = b""
    elif "chunked" in fields.get("transfer-encoding", "").lower():
        body = _chunked(reader)
    elif "content-length" in fields:
        body = _exactly(reader, _length(fields["content-length"]))
    else:  # framed by the end of the connection
        body, reusable = reader.read(), False
    return Answer(status, reason.decode("latin-1"), headers, body, reusable)


def _line(reader: t.BinaryIO) -> bytes:
    line = reader.readline(MAX_LINE + 1)
    if len(line) > MAX_LINE:
        msg = "an answer line longer than 64 KiB"
        raise LineTooLong(msg)
    return line


def _headers(reader: t.BinaryIO) -> list[tuple[str, str]]:
    headers: list[tuple[str, str]] = []
    while (line := _line(reader)) not in (b"\r\n", b"\n"):
        if not line.endswith(b"\n"):
            raise IncompleteRead(line)  # the connection ended inside the headers
        if len(headers) >= MAX_HEADERS:
            msg = f"got more than {MAX_HEADERS} headers"
            raise HTTPException(msg)
        text = line.decode("latin-1")
        if text[:1] in " \t" and headers:  # an obsolete folded continuation line
            name, value = headers.pop()
            headers.append((name, f"{value} {text.strip()}"))
            continue
        name, _, value = text.partition(":")
        headers.append((name.strip(), value.strip()))
    return headers


def _length(text: str) -> int:
    if not text.strip().isdigit():
        msg = f"invalid Content-Length {text[:40]!r}"
        raise HTTPException(msg)
    return int(text)


def _exactly(reader: t.BinaryIO, size: int) -> bytes:
    data = reader.read(size)
    if len(data) < size:
        raise IncompleteRead(data, size - len(data))
    return data


def _chunked(reader: t.BinaryIO) -> bytes:
    parts: list[bytes] = []
    while True:
        size_text = _line(reader).split(b";", 1)[0].strip()
        if not size_text or size_text.lstrip(_HEX):
            raise IncompleteRead(b"".join(parts))
        size = int(size_text, 16)
        if size == 0:
            break
        parts.append(_exactly(reader, size))
        if _line(reader) not in (b"\r\n", b"\n"):
            raise IncompleteRead(b"".join(parts))
    while _line(reader) not in _BLANK:  # trailer fields, unused
        pass
    return b"".join(parts)
