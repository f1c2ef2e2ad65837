"""GET requests through urllib3 directly, answered as `requests.Response` objects.

requests spends about 1 ms of CPU per request here (cookie jars, hooks, environment merging,
a chunked read of the body); urllib3 beneath it about 0.35 ms. At 100 records an answer that is
most of the tap's per-record cost. Failures are raised as the requests exceptions they would
have been, so the SDK's retry decorator and our messages treat them alike. Redirects are not
followed: a moved API is reported with its new address, and keys are never sent elsewhere.
"""

from __future__ import annotations

import os
import threading
import time
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import certifi
import requests
import urllib3
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers, get_environ_proxies, select_proxy
from urllib3.exceptions import DecodeError, HTTPError, SSLError, TimeoutError

SAMPLE = 3  # answers timed (after the first) to know how long the API keeps the caller waiting


class Transport:
    """A keep-alive connection pool for one API, with its headers and timeout."""

    def __init__(self, base_url: str, headers: dict[str, str], timeout: float, size: int) -> None:
        """Read proxies and CA bundle from the environment once, as requests would per call."""
        proxy = select_proxy(base_url, get_environ_proxies(base_url))
        options: dict[str, Any] = {
            "maxsize": max(size, 1),
            "retries": False,
            "timeout": urllib3.Timeout(connect=timeout, read=timeout),
            "headers": {"Accept-Encoding": "gzip, deflate", "Accept": "*/*", **headers},
            "cert_reqs": "CERT_REQUIRED",
            "ca_certs": os.environ.get("REQUESTS_CA_BUNDLE")
            or os.environ.get("CURL_CA_BUNDLE")
            or certifi.where(),
        }
        self._pool: urllib3.PoolManager = (
            urllib3.ProxyManager(proxy, **options) if proxy else urllib3.PoolManager(**options)
        )
        self.requests, self.seconds = 0, 0.0  # all workers' requests, counted under the lock
        self._lock = threading.Lock()
        self._waits: list[float] = []  # blocked time of the first answers after the first

    def get(self, url: str) -> requests.Response:
        """One GET, its whole body read; connection, timeout and body failures raised typed."""
        started, cpu = time.perf_counter(), time.thread_time()
        try:
            answer = self._pool.request("GET", url, redirect=False)
        except HTTPError as exc:
            raise _as_requests_error(exc, url) from exc
        finally:
            elapsed = time.perf_counter() - started
            waited = max(0.0, elapsed - (time.thread_time() - cpu))
            with self._lock:
                self.requests += 1
                self.seconds += elapsed
                if 1 < self.requests <= 1 + SAMPLE:  # the first one also opens the connection
                    self._waits.append(waited)
        response = requests.Response()
        response.status_code = answer.status
        response.reason = answer.reason or ""
        response.headers = CaseInsensitiveDict(answer.headers)
        response._content = answer.data
        response.url = url
        response.encoding = get_encoding_from_headers(response.headers)
        response.elapsed = timedelta(seconds=elapsed)
        return response

    def typical_wait(self) -> float | None:
        """Seconds an answer keeps the caller blocked, once a few have been timed; else None."""
        return sorted(self._waits)[len(self._waits) // 2] if len(self._waits) >= SAMPLE else None

    def add(self, requests: int, seconds: float) -> None:
        """Count requests made elsewhere (by a worker process) in this pool's totals."""
        with self._lock:
            self.requests += requests
            self.seconds += seconds


def _as_requests_error(error: HTTPError, url: str) -> requests.RequestException:
    where = urlsplit(url)._replace(query="").geturl()
    message = f"{type(error).__name__} on {where}: {error}"
    if isinstance(error, TimeoutError):
        return requests.exceptions.Timeout(message)
    if isinstance(error, DecodeError):
        return requests.exceptions.ContentDecodingError(message)
    if isinstance(error, SSLError):
        return requests.exceptions.SSLError(message)
    return requests.exceptions.ConnectionError(message)
