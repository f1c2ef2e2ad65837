"""GET requests on kept-alive connections, answered as `requests.Response` objects.

requests spends about 1 ms of CPU per request here (cookie jars, hooks, environment merging, a
chunked read of the body), urllib3 beneath it about 0.5 ms, http.client about 0.3 ms: at 100
records an answer, that is a large share of the tap's cost per record. What the tap needs of a
client is small and kept here: keep-alive connections reused by any thread, the environment's
proxy (`HTTP(S)_PROXY`, `NO_PROXY`) and CA bundle (`REQUESTS_CA_BUNDLE`, `CURL_CA_BUNDLE`),
gzip and deflate bodies, and a fresh connection when the server has closed an idle one.
http.client opens connections (TLS, proxy tunnels); requests and answers go over them as
`http_wire` writes and reads them, at about a third of http.client's cost. Failures are raised as
the requests exceptions they would have been, so the SDK's retry decorator and our messages
treat them alike. Redirects are not followed: a moved API is reported with its new address, and
keys are never sent elsewhere.
"""

from __future__ import annotations

import base64
import http.client
import os
import select
import socket
import ssl
import threading
import time
import typing as t
import zlib
from datetime import timedelta
from functools import cached_property
from urllib.parse import unquote, urlsplit

import certifi
import requests
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers, get_environ_proxies, select_proxy

from tap_messages import http_wire
from tap_messages.errors import TapMessagesError

SAMPLE = 3  # answers timed (after the first) to know how long the API keeps the caller waiting


class Connection(t.NamedTuple):
    """An open connection to the API (perhaps through a proxy) and its buffered reader."""

    sock: socket.socket
    reader: t.BinaryIO

    def close(self) -> None:
        """Close the reader and the socket."""
        self.reader.close()
        self.sock.close()


class Transport:
    """Keep-alive connections to one API, with its headers and timeout; safe to share."""

    def __init__(self, base_url: str, headers: dict[str, str], timeout: float, size: int) -> None:
        """Read proxy and CA bundle from the environment once, as requests would per call."""
        api = urlsplit(base_url)
        self._https = api.scheme == "https"
        self._host, self._port = api.hostname or "", api.port or (443 if self._https else 80)
        self._timeout, self._size = timeout, max(size, 1)
        headers = {"Accept-Encoding": "gzip, deflate", "Accept": "*/*", **headers}
        proxy = select_proxy(base_url, get_environ_proxies(base_url))
        self._proxy = urlsplit(proxy if "://" in proxy else f"http://{proxy}") if proxy else None
        self._proxy_headers: dict[str, str] = {}
        if self._proxy and self._proxy.username:
            login = f"{unquote(self._proxy.username)}:{unquote(self._proxy.password or '')}"
            credentials = base64.b64encode(login.encode()).decode()
            self._proxy_headers["Proxy-Authorization"] = f"Basic {credentials}"
        self._absolute = self._proxy is not None and not self._https  # plain HTTP via a proxy
        if self._proxy is not None and self._https and self._proxy.scheme == "https":
            msg = (
                f"The proxy for {base_url} is an https:// URL, which tap-messages cannot tunnel "
                "through; name it with http:// (the tunnel to the API is TLS end to end anyway)."
            )
            raise TapMessagesError(msg)
        if self._absolute:
            headers.update(self._proxy_headers)
        self._head = http_wire.request_head(api.netloc.rpartition("@")[2], headers)
        self._idle: list[Connection] = []
        self._lock = threading.Lock()
        self.requests, self.seconds = 0, 0.0  # all workers' requests, counted under the lock
        self._waits: list[float] = []  # blocked time of the first answers after the first

    def get(self, url: str) -> requests.Response:
        """One GET, its whole body read; connection, timeout and body failures raised typed."""
        target = url if self._absolute else _path_of(url)
        sampling = len(self._waits) < SAMPLE  # reading a thread's CPU clock is a system call
        started, cpu = time.perf_counter(), time.thread_time() if sampling else 0.0
        try:
            conn, reused = self._take()
            try:
                answer = self._exchange(conn, target)
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                if not reused:
                    raise
                conn = self._connect()  # the server closed it while idle: once more on a new one
                answer = self._exchange(conn, target)
        except (OSError, http.client.HTTPException) as exc:
            raise _as_requests_error(exc, url) from exc
        finally:
            elapsed = time.perf_counter() - started
            waited = max(0.0, elapsed - (time.thread_time() - cpu)) if sampling else 0.0
            with self._lock:
                self.requests += 1
                self.seconds += elapsed
                if sampling and 1 < self.requests <= 1 + SAMPLE:  # the first also connects
                    self._waits.append(waited)
        headers = CaseInsensitiveDict(answer.headers)
        response = requests.Response()
        response.status_code, response.reason = answer.status, answer.reason
        response.headers = headers
        response._content = _decoded(answer.body, headers.get("Content-Encoding", ""), url)
        response.url = url
        response.encoding = get_encoding_from_headers(headers)
        response.elapsed = timedelta(seconds=elapsed)
        return response

    def _exchange(self, conn: Connection, target: str) -> http_wire.Answer:
        """Send one GET on conn and read the whole answer; conn goes back to the pool if it may."""
        try:
            answer = http_wire.get(conn.sock, conn.reader, target, self._head)
        except BaseException:
            conn.close()
            raise
        with self._lock:
            kept = answer.reusable and len(self._idle) < self._size
            if kept:
                self._idle.append(conn)
        if not kept:
            conn.close()
        return answer

    def _take(self) -> tuple[Connection, bool]:
        """An idle connection the server has not closed, or a new one; and whether it is reused."""
        while True:
            with self._lock:
                conn = self._idle.pop() if self._idle else None
            if conn is None:
                return self._connect(), False
            if not select.select([conn.sock], [], [], 0)[0]:
                return conn, True
            conn.close()  # closed by the server (readable means EOF, or bytes nobody asked for)

    def _connect(self) -> Connection:
        """A new connection to the API, through the proxy when the environment names one."""
        if self._proxy is None:
            host, port = self._host, self._port
        else:
            host = self._proxy.hostname or ""
            port = self._proxy.port or (443 if self._proxy.scheme == "https" else 80)
        # TLS to the API (direct, or tunnelled through the proxy), or to an https:// proxy.
        if self._https or (self._proxy is not None and self._proxy.scheme == "https"):
            opener: http.client.HTTPConnection = http.client.HTTPSConnection(
                host, port, timeout=self._timeout, context=self._tls
            )
        else:
            opener = http.client.HTTPConnection(host, port, timeout=self._timeout)
        if self._proxy is not None and self._https:
            opener.set_tunnel(self._host, self._port, headers=self._proxy_headers)
        opener.connect()
        sock = t.cast("socket.socket", opener.sock)
        return Connection(sock, sock.makefile("rb"))

    @cached_property
    def _tls(self) -> ssl.SSLContext:
        """Verification against the environment's CA bundle; made once, for https only."""
        cafile = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
        return ssl.create_default_context(cafile=cafile or certifi.where())

    def typical_wait(self) -> float | None:
        """Seconds an answer keeps the caller blocked, once a few have been timed; else None."""
        return sorted(self._waits)[len(self._waits) // 2] if len(self._waits) >= SAMPLE else None

    def add(self, requests: int, seconds: float) -> None:
        """Count requests made elsewhere (by a worker process) in this pool's totals."""
        with self._lock:
            self.requests += requests
            self.seconds += seconds


def _path_of(url: str) -> str:
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def _without_query(url: str) -> str:
    """The request's address for an error message, without its query string."""
    return urlsplit(url)._replace(query="").geturl()


def _decoded(body: bytes, encoding: str, url: str) -> bytes:
    """The body without its gzip or deflate content coding."""
    coding = encoding.strip().lower()
    if coding in {"", "identity"}:
        return body
    try:
        if coding in {"gzip", "x-gzip"}:
            return zlib.decompress(body, 16 + zlib.MAX_WBITS)
        if coding == "deflate":
            try:
                return zlib.decompress(body)
            except zlib.error:  # some servers send raw deflate without the zlib header
                return zlib.decompress(body, -zlib.MAX_WBITS)
    except zlib.error as exc:
        msg = (
            f"DecodeError on {_without_query(url)}: the {coding} body could not be decoded ({exc})"
        )
        raise requests.exceptions.ContentDecodingError(msg) from exc
    return body  # a coding we did not ask for: handed on as sent, for the JSON check to judge


def _as_requests_error(error: BaseException, url: str) -> requests.RequestException:
    message = f"{type(error).__name__} on {_without_query(url)}: {error}"
    if isinstance(error, TimeoutError):
        return requests.exceptions.Timeout(message)
    if isinstance(error, ssl.SSLError):
        return requests.exceptions.SSLError(message)
    return requests.exceptions.ConnectionError(message)
