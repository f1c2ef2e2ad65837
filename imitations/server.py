"""One threaded HTTP/1.1 server hosting both vendor imitations on a loopback port."""

from __future__ import annotations

import contextlib
import gzip
import json
import socket
import socketserver
import ssl
import sys
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, overload
from urllib.parse import parse_qs, urlsplit

from imitations.base import RecordedRequest, Response, Vendor, dumps
from imitations.cekat import CekatData
from imitations.convotic import ConvoticData
from imitations.faults import RateLimiter

Fault = Callable[[RecordedRequest], Response | None]
_REASONS = {code: phrase for code, (phrase, _) in BaseHTTPRequestHandler.responses.items()}


class RequestLog:
    """A thread-safe, append-only list of recorded requests."""

    def __init__(self) -> None:
        """Start empty."""
        self._lock = threading.Lock()
        self._items: list[RecordedRequest] = []

    def append(self, item: RecordedRequest) -> None:
        """Record one request."""
        with self._lock:
            self._items.append(item)

    def clear(self) -> None:
        """Forget all recorded requests."""
        with self._lock:
            self._items.clear()

    def snapshot(self) -> list[RecordedRequest]:
        """Return a copy of the requests recorded so far."""
        with self._lock:
            return self._items[:]

    def __len__(self) -> int:
        """Return the number of recorded requests."""
        return len(self._items)

    def __iter__(self) -> Iterator[RecordedRequest]:
        """Iterate over a snapshot."""
        return iter(self.snapshot())

    @overload
    def __getitem__(self, index: int) -> RecordedRequest: ...
    @overload
    def __getitem__(self, index: slice) -> list[RecordedRequest]: ...
    def __getitem__(self, index: int | slice) -> RecordedRequest | list[RecordedRequest]:
        """Return one recorded request, or a list for a slice."""
        with self._lock:
            return self._items[index]


class _Handler(BaseHTTPRequestHandler):
    """Routes every request to `ImitationServer.answer` and writes each response in one write."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: ImitationServer

    def log_message(self, format: str, *args: Any) -> None:
        """Log nothing."""

    def do_GET(self) -> None:
        """Answer a GET."""
        self.server.answer(self, "GET")

    def do_other(self) -> None:
        """Answer any other method with 405."""
        self.server.answer(self, self.command)

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_other

    def send(self, response: Response) -> None:
        """Write status line, headers and body as one buffer (or drop the connection)."""
        if response.action == "drop":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        framing = self.server.framing if response.action == "send" else "length"
        if response.action == "close" or framing == "close":
            self.close_connection = True
        headers = {"Content-Length": str(len(response.body)), **response.headers}
        body = b"" if self.command == "HEAD" else response.body
        if framing != "length":
            del headers["Content-Length"]
        if framing == "chunked":  # as a CDN might: chunks with extensions and a trailer
            headers["Transfer-Encoding"] = "chunked"
            pieces = [body[i : i + 4000] for i in range(0, len(body), 4000)]
            body = b"".join(b"%x;piece=%d\r\n%s\r\n" % (len(p), n, p) for n, p in enumerate(pieces))
            body += b"0\r\nX-Checksum: none\r\n\r\n"
        if self.close_connection:
            headers["Connection"] = "close"
        reason = _REASONS.get(response.status, "Unknown")
        lines = [f"HTTP/1.1 {response.status} {reason}", f"Date: {self.date_time_string()}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        self.wfile.write(head + body)


class ImitationServer(ThreadingHTTPServer):
    """Loopback server for Cekat (`/api/...`) and Convotic (`/v1/...`); use as a context manager."""

    daemon_threads = True

    def __init__(
        self,
        cekat: CekatData | None = None,
        convotic: ConvoticData | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        latency_s: float = 0.0,
        fault: Fault | None = None,
        after_request: Callable[[RecordedRequest], None] | None = None,
        rate_limiter: RateLimiter | None = None,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        """Bind to `host:port` (0 picks a free port); serving starts on `start()` or `with`.

        With a server-side `tls` context it speaks HTTPS.
        """
        self.cekat, self.convotic, self.tls = cekat, convotic, tls
        self.latency_s, self.fault, self.after_request = latency_s, fault, after_request
        self.rate_limiter = rate_limiter or RateLimiter(1000, 60.0, enforce=False)
        self.requests = RequestLog()
        self.extra_headers: dict[str, str] = {}  # sent on every normal answer (e.g. Deprecation)
        self.compress: str | None = None  # "gzip" or "deflate": bodies coded so when asked for
        self.charset: str | None = None  # bodies written in this charset, declared in the header
        # How bodies are delimited: "length" (Content-Length), "chunked", or "close" (no
        # length, the connection closed after each answer).
        self.framing = "length"
        self.prepared: dict[str, Response] | None = None  # set to {} to serve repeats from memory
        self.in_flight = self.most_in_flight = 0  # requests being answered at once
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        super().__init__((host, port), _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay quiet when a client goes away mid-answer (a killed tap, a refused certificate)."""
        if not isinstance(sys.exc_info()[1], (ConnectionError, ssl.SSLError)):
            super().handle_error(request, client_address)

    def server_bind(self) -> None:
        """Bind without the reverse-DNS lookup HTTPServer does."""
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    @property
    def base_url(self) -> str:
        """Return `http://host:port`."""
        scheme = "https" if self.tls else "http"
        return f"{scheme}://{self.server_name}:{self.server_port}"

    def get_request(self) -> tuple[socket.socket, Any]:
        """Accept a connection; over TLS, its handshake happens in the handler's thread."""
        conn, address = super().get_request()
        if self.tls is not None:
            conn = self.tls.wrap_socket(conn, server_side=True, do_handshake_on_connect=False)
        return conn, address

    # ---- lifecycle --------------------------------------------------------------------------
    def start(self) -> ImitationServer:
        """Serve in a daemon thread."""
        self._thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, close open keep-alive connections and the listening socket."""
        if self._thread is not None:
            self.shutdown()
            self._thread.join()
            self._thread = None
        with self._open_lock:
            for conn in self._open:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
        self.server_close()

    def __enter__(self) -> ImitationServer:
        """Start serving."""
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop serving."""
        self.stop()

    def process_request(self, request: Any, client_address: Any) -> None:
        """Track the connection so `stop()` can close it."""
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        """Forget a finished connection."""
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    # ---- requests ---------------------------------------------------------------------------
    def _vendor(self, path: str) -> tuple[str, Vendor | None]:
        """Return the vendor name owning `path` and its data object (None if absent)."""
        if path == "/api" or path.startswith("/api/"):
            return "cekat", self.cekat
        if path == "/v1" or path.startswith("/v1/"):
            return "convotic", self.convotic
        return "", None

    def answer(self, handler: _Handler, method: str) -> None:
        """Record, rate-limit, apply the fault hook, handle and send one request."""
        url = urlsplit(handler.path)
        name, vendor = self._vendor(url.path)
        headers = {key.lower(): value for key, value in handler.headers.items()}
        req = RecordedRequest(name, url.path, parse_qs(url.query, keep_blank_values=True), headers)
        self.requests.append(req)
        with self._open_lock:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            self._answer(handler, req, vendor, method)
        finally:
            with self._open_lock:
                self.in_flight -= 1

    def _answer(
        self, handler: _Handler, req: RecordedRequest, vendor: Vendor | None, method: str
    ) -> None:
        headers = req.headers
        length = int(headers.get("content-length") or 0)
        if length:
            handler.rfile.read(length)
        if self.latency_s:
            time.sleep(self.latency_s)
        if self.prepared is not None and handler.path in self.prepared:
            response = self.prepared[handler.path]
        else:
            response = self._respond(req, vendor, method)
            if self.prepared is not None and response.status == 200:
                self.prepared[handler.path] = response
        req.status = response.status
        handler.send(response)
        if self.after_request is not None:
            self.after_request(req)

    def respond_to(self, target: str, headers: dict[str, str]) -> Response:
        """The answer a GET of `target` would get, without a connection or a log entry."""
        url = urlsplit(target)
        name, vendor = self._vendor(url.path)
        params = parse_qs(url.query, keep_blank_values=True)
        return self._respond(RecordedRequest(name, url.path, params, headers), vendor, "GET")

    def _respond(self, req: RecordedRequest, vendor: Vendor | None, method: str) -> Response:
        """Decide the response: rate limiter, then fault hook, then the vendor (500 if it fails)."""
        fault = self.fault
        limiter = fault if isinstance(fault, RateLimiter) else self.rate_limiter
        rejected, rate_headers = limiter.check(req) if vendor is not None else (None, {})
        if rejected is not None:
            return rejected
        if fault is not None and fault is not limiter and (canned := fault(req)) is not None:
            return canned
        if vendor is None:
            return Response(404, {"Content-Type": "application/json"}, b'{"error":"not found"}')
        try:
            if method == "GET":
                status, body = vendor.handle(req.path, req.params, req.headers)
            else:
                status, body = 405, vendor.error_body(405, "Method Not Allowed")
            payload = dumps(body)
            if self.charset:  # non-ASCII text written as that charset's bytes
                payload = json.dumps(body, ensure_ascii=False).encode(self.charset, "replace")
        except Exception as exc:  # a hostile record or a bug: answer like a real server would
            message = f"Internal server error ({type(exc).__name__})"
            status, payload = 500, dumps(vendor.error_body(500, message))
        headers = {"Content-Type": "application/json", **rate_headers, **self.extra_headers}
        if self.charset:
            headers["Content-Type"] = f"application/json; charset={self.charset}"
        if self.compress and self.compress in req.headers.get("accept-encoding", ""):
            payload = gzip.compress(payload) if self.compress == "gzip" else zlib.compress(payload)
            headers["Content-Encoding"] = self.compress
        return Response(status, headers, payload)
