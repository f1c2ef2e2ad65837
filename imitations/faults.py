"""Fault hooks and canned bad responses for `ImitationServer.fault`."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from email.utils import formatdate
from typing import Any, Literal

from imitations.base import RecordedRequest, Response, dumps

Fault = Callable[[RecordedRequest], Response | None]

DROP_CONNECTION = Response(0, action="drop")
"""Close the socket without answering."""

_CONVOTIC_CODES = {
    400: "INVALID_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    410: "GONE",
    429: "RATE_LIMITED",
    500: "INTERNAL_ERROR",
}


def drop_connection() -> Response:
    """Return the marker that closes the socket without answering."""
    return DROP_CONNECTION


def truncated_body(status: int = 200, body: bytes = b'{"success":true,"data":[{"id":"') -> Response:
    """Announce a longer Content-Length than the body sent, then close."""
    headers = {"Content-Type": "application/json", "Content-Length": str(len(body) + 512)}
    return Response(status, headers, body, action="close")


_HTML = b"<html><body><h1>502 Bad Gateway</h1></body></html>"


def non_json_body(status: int = 200, body: bytes = _HTML) -> Response:
    """Return an HTML body where JSON is expected (as a proxy or CDN might)."""
    return Response(status, {"Content-Type": "text/html"}, body)


def error_response(vendor: str, status: int, message: str = "Internal server error") -> Response:
    """Return an error in the vendor's documented envelope."""
    body: dict[str, Any]
    if vendor == "convotic":
        code = _CONVOTIC_CODES.get(status, "INTERNAL_ERROR")
        body = {"error": {"code": code, "message": message}}
    else:
        body = {"success": False, "status_code": status, "error": {"message": message}}
    return Response(status, {"Content-Type": "application/json"}, dumps(body))


def every_nth(n: int, response: Response, vendor: str | None = None) -> Fault:
    """Answer the n-th, 2n-th, ... request (of `vendor`, if given) with `response`."""
    if n < 1:
        raise ValueError("n must be >= 1")
    lock = threading.Lock()
    count = 0

    def fault(req: RecordedRequest) -> Response | None:
        nonlocal count
        if vendor is not None and req.vendor != vendor:
            return None
        with lock:
            count += 1
            return response if count % n == 0 else None

    return fault


def first_n(n: int, response: Response, vendor: str | None = None) -> Fault:
    """Answer the first n requests (of `vendor`, if given) with `response`, then recover."""
    lock = threading.Lock()
    count = 0

    def fault(req: RecordedRequest) -> Response | None:
        nonlocal count
        if vendor is not None and req.vendor != vendor:
            return None
        with lock:
            count += 1
            return response if count <= n else None

    return fault


def chain(*faults: Fault) -> Fault:
    """Combine faults: the first one that answers wins (every fault sees every request)."""

    def fault(req: RecordedRequest) -> Response | None:
        answers = [f(req) for f in faults]
        return next((a for a in answers if a is not None), None)

    return fault


def api_key_of(req: RecordedRequest) -> str:
    """Return the API key a request presents, as the vendor would read it."""
    h = req.headers
    if req.vendor == "convotic":
        return h.get("x-api-key", "")
    auth = h.get("authorization", "")
    return auth[7:] if auth.lower().startswith("bearer ") else h.get("api_key", "")


RetryAfter = Literal["seconds", "http-date", "none"]


class RateLimiter:
    """Fixed-window request counter per (vendor, API key); enforces only if `enforce`."""

    def __init__(
        self,
        limit: int,
        window_s: float,
        *,
        enforce: bool = True,
        retry_after: RetryAfter = "seconds",
    ) -> None:
        """Count `limit` requests per `window_s` seconds per key."""
        self.limit, self.window_s = limit, window_s
        self.enforce, self.retry_after = enforce, retry_after
        self._lock = threading.Lock()
        self._windows: dict[tuple[str, str], tuple[float, int]] = {}

    def check(self, req: RecordedRequest) -> tuple[Response | None, dict[str, str]]:
        """Count one request; return a 429 (or None) and the X-RateLimit headers."""
        key, now = (req.vendor, api_key_of(req)), time.monotonic()
        with self._lock:
            start, count = self._windows.get(key, (now, 0))
            if now - start >= self.window_s:
                start, count = now, 0
            count += 1
            self._windows[key] = (start, count)
        remaining = str(max(0, self.limit - count))
        headers = {"X-RateLimit-Limit": str(self.limit), "X-RateLimit-Remaining": remaining}
        if not self.enforce or count <= self.limit:
            return None, headers
        wait = max(1, math.ceil(start + self.window_s - now))
        return self._reject(req.vendor, wait, headers), headers

    def _reject(self, vendor: str, wait: int, headers: dict[str, str]) -> Response:
        """Build the vendor's 429 response."""
        body: dict[str, Any]
        if vendor == "convotic":
            message = f"Rate limit exceeded. Retry after {wait} seconds."
            body = {"error": {"code": "RATE_LIMITED", "message": message}}
        else:
            body = {"success": False, "status_code": 429, "error": {"message": "Too Many Requests"}}
        extra = {"Content-Type": "application/json", **headers}
        if self.retry_after == "seconds":
            extra["Retry-After"] = str(wait)
        elif self.retry_after == "http-date":
            extra["Retry-After"] = formatdate(math.ceil(time.time()) + wait, usegmt=True)
        return Response(429, extra, dumps(body))

    def __call__(self, req: RecordedRequest) -> Response | None:
        """Act as a fault hook: answer 429 when the key is over its limit."""
        return self.check(req)[0]


def rate_limited(limit: int, window_s: float, retry_after: RetryAfter = "seconds") -> RateLimiter:
    """Return an enforcing limiter: `limit` requests per `window_s` seconds per API key."""
    return RateLimiter(limit, window_s, enforce=True, retry_after=retry_after)
