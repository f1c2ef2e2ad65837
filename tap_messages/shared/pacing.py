"""Client-side pacing from the vendors' X-RateLimit-* headers, shared by every request to a vendor.

Neither vendor documents a reset header, only `X-RateLimit-Limit` per minute and `-Remaining`.
Once a response reports the limit, the pacer keeps the send times of the last `limit` requests
and holds a request back until the oldest of them is a window old: no window-long span ever
holds more than `limit` requests, so a long run settles at the limit instead of meeting 429s,
while a short one runs at full speed. The first response's Remaining also counts what other
clients of the same key have spent: those requests join the log as if sent then. A 429 can
still come (another client, clocks apart); its Retry-After holds every request of the vendor, on
every thread, until it has passed (`hold`), as does a retry's backoff.
"""

from __future__ import annotations

import logging
import threading
import time
import typing as t
from collections import deque

LOGGER = logging.getLogger("tap-messages")
UNPACED_LOG = 1_000
SAFETY = 1.02  # the server's window starts when our first request arrives, a little after send


class RatePacer:
    """One vendor's request budget, shared by every stream and thread of the vendor."""

    def __init__(
        self,
        vendor: str,
        window_s: float,
        clock: t.Callable[[], float] = time.monotonic,
        sleep: t.Callable[[float], None] = time.sleep,
    ) -> None:
        """Start unpaced: the limit is learned from the first response that reports it."""
        self.vendor, self.window_s = vendor, window_s
        self.clock, self.sleep = clock, sleep
        self._lock = threading.Lock()
        self._limit: int | None = None
        self._sent: deque[float] = deque()
        self._held_until = 0.0
        self._announced = False

    def hold(self, seconds: float) -> None:
        """Start no request of the vendor, on any thread, for `seconds` from now."""
        with self._lock:
            self._held_until = max(self._held_until, self.clock() + seconds)

    def wait_turn(self) -> None:
        """Reserve a send time within the budget, sleeping until it comes."""
        with self._lock:
            now = self.clock()
            at = max(now, self._held_until)
            if self._limit is not None and len(self._sent) >= self._limit:
                at = max(at, self._sent[0] + self.window_s * SAFETY)
            self._sent.append(at)
            while len(self._sent) > (self._limit or UNPACED_LOG):
                self._sent.popleft()
            paced = self._limit is not None and at > max(now, self._held_until)
            announce = paced and not self._announced
            self._announced = self._announced or announce
        if announce:
            LOGGER.info(
                "%s rate limit reached (%s per %.0f s): pacing requests to stay within it",
                self.vendor,
                self._limit,
                self.window_s,
            )
        if at > now:
            self.sleep(at - now)

    def observe(self, headers: t.Mapping[str, str]) -> None:
        """Learn the limit from the first response that states it, and others' use of it."""
        if self._limit is not None:
            return
        try:
            limit = int(headers["X-RateLimit-Limit"])
            remaining = int(headers["X-RateLimit-Remaining"])
        except (KeyError, ValueError):
            return
        with self._lock:
            if self._limit is None and limit > 0:
                self._limit = limit
                others = max(0, limit - remaining - len(self._sent))
                self._sent.extend([self.clock()] * min(others, self._limit))
