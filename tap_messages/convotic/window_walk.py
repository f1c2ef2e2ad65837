"""Convotic's time-window walk: every message of [start, end], in time order, whichever end is cut.

`GET /v1/messages` has no cursor: only inclusive `from`/`to` bounds and `limit` (at most 100). When
more than `limit` messages match, the docs do not say whether the earliest or the latest come back.
The walk learns which (once per run, with one probe: re-reading [lo, first] of a cut answer finds
older messages, or more at `first`, only from a latest-kept server) and then moves through:

- **Earliest kept.** A cut answer holds every message of [lo, last) plus some at `last`. Emit it
  and continue from `last` (inclusive; ids already emitted at `last` are skipped).
- **Latest kept.** A cut answer holds every message of (first, hi]. Keep that slice aside and
  continue with [lo, first]; once an answer is whole, emit it and then the slices, oldest first.
  Slices beyond a memory budget keep only their bounds and are re-read when their turn comes.

An answer is cut when it holds `limit` messages: the one signal every reading of the docs allows.
Its `total` ("total number of messages returned") may count the answer, the window or the whole
conversation, or be absent; the walk never decides from it, and trusts it only to size a WARNING,
once the answers have shown it counts the window (`Habits`).

Why nothing is missed: each step splits the remaining range into a part whose messages are all in
hand and a strictly smaller remainder (its bounds move by at least one message's instant), so the
walk ends, and the parts cover [start, end] without gaps. The one case no request can split is
`limit` or more messages sharing one instant (an answer all at one instant says nothing about the
cut end, so the walk reads both sides of it); the walk emits what the API gives there, logs a
WARNING with the count that may be missing, and moves past that instant. Messages come out in time
order (ties in any order), so a per-conversation bookmark can advance with every record. Against an
API whose answers do not narrow as the windows do, a hard bound on requests per message emitted,
and on crowded instants, stops the walk with what the API answered.
"""

from __future__ import annotations

import datetime as dt
import threading
import typing as t
from dataclasses import dataclass, field

from tap_messages.shared.errors import TapMessagesError
from tap_messages.shared.timestamps import parse

TICK = dt.timedelta(microseconds=1)
MAX_BUFFERED = 5_000
MAX_CROWDED = 10_000  # messages at instants of `limit` or more, past which a walk stops
Message = dict[str, t.Any]


@dataclass
class Answer:
    """One /v1/messages answer: its messages (time order), their instants, the server's `total`."""

    messages: list[Message]
    total: int | None
    moments: list[dt.datetime | None] = field(init=False)

    def __post_init__(self) -> None:
        """Read each message's instant once: the walk compares them several times."""
        self.moments = [instant(m) for m in self.messages]

    def span(self, lo: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
        """The first and last readable instants (unreadable ones count as lo)."""
        moments = [m for m in self.moments if m is not None] or [lo]
        return min(moments), max(moments)

    def _pairs(self) -> t.Iterator[tuple[Message, dt.datetime | None]]:
        return zip(self.messages, self.moments, strict=True)

    def outside(self, lo: dt.datetime, hi: dt.datetime) -> list[Message]:
        """Messages with a readable instant outside [lo, hi]: a sign of ignored bounds."""
        return [m for m, when in self._pairs() if when is not None and not lo <= when <= hi]

    def at(self, moment: dt.datetime) -> list[Message]:
        """The messages at exactly `moment`."""
        return [m for m, when in self._pairs() if when == moment]

    def after(self, moment: dt.datetime) -> list[Message]:
        """Messages strictly after moment, or unreadable (kept, for validation to catch)."""
        return [m for m, when in self._pairs() if when is None or when > moment]

    def unseen(self, lo: dt.datetime, done_at_lo: set[t.Any]) -> list[Message]:
        """The messages, without those at lo that an earlier answer already yielded."""
        if not done_at_lo:
            return self.messages
        return [m for m, when in self._pairs() if not (when == lo and m.get("id") in done_at_lo)]

    def is_cut(self, limit: int) -> bool:
        """True when the window may hold more than the answer shows: the answer is full."""
        return len(self.messages) >= limit


Fetch = t.Callable[[dt.datetime, dt.datetime], Answer]
OnBurst = t.Callable[[dt.datetime, int, int | None], None]


def instant(message: Message) -> dt.datetime | None:
    """A message's timestamp as an aware datetime, or None when it is unreadable."""
    value = message.get("timestamp")
    if not isinstance(value, str):
        return None
    try:
        return parse(value)
    except ValueError:
        return None


class Habits:
    """What the server's answers have shown; learned once per run, shared by all walks."""

    def __init__(self) -> None:
        """Start unknown; walks on other threads wait for the one probe."""
        self.keeps_latest: bool | None = None  # which end a cut answer keeps
        self.lock = threading.Lock()
        self._total_is_not_answer = self._total_is_not_conversation = self._total_lied = False

    def learn(self, answer: Answer, limit: int, partial: bool) -> None:
        """Read what `total` counts from an answer; `partial`: other messages lie outside it."""
        total, count = answer.total, len(answer.messages)
        if total is None or (count < limit and total != count):
            self._total_lied = True  # absent, or not the count of a complete window
        elif count >= limit and total > count:
            self._total_is_not_answer = True
        elif count < limit and partial:
            self._total_is_not_conversation = True

    @property
    def total_is_a_bound(self) -> bool:
        """True once `total` has shown it counts more than the answer: the window or more."""
        return self._total_is_not_answer and not self._total_lied

    @property
    def total_counts_window(self) -> bool:
        """True once `total` has shown it counts the messages matching the window."""
        return (
            self._total_is_not_answer and self._total_is_not_conversation and not self._total_lied
        )


class WalkTooLong(TapMessagesError):
    """The API's answers do not narrow as the windows do."""


@dataclass
class WindowWalk:
    """Yields each message of [start, end] once, in time order, in batches; see the module docs."""

    fetch: Fetch
    limit: int
    start: dt.datetime
    end: dt.datetime
    habits: Habits
    on_burst: OnBurst
    requests: int = 0
    reread: int = 0  # requests that only probe or read a range again
    obtained: int = 0  # messages in hand, emitted or set aside
    bursts: int = 0

    def __iter__(self) -> t.Iterator[list[Message]]:
        """Walk the whole range, one batch of messages per answer used."""
        return self._walk(self.start, self.end, set())

    def _get(self, lo: dt.datetime, hi: dt.datetime, *, again: bool = False) -> Answer:
        if self.requests > 10 + 2 * self.obtained or self.bursts * self.limit > MAX_CROWDED:
            msg = (
                f"{self.requests} requests for {self.obtained} messages ({self.bursts} instants "
                f"with {self.limit} or more), more than any walk needs: the API's answers do not "
                f"narrow as the windows do (last window [{lo.isoformat()}, {hi.isoformat()}])"
            )
            raise WalkTooLong(msg)
        self.requests += 1
        self.reread += again
        answer = self.fetch(lo, hi)
        self.habits.learn(answer, self.limit, partial=self.obtained > 0)
        return answer

    def _walk(
        self, lo: dt.datetime, hi: dt.datetime, done_at_lo: set[t.Any]
    ) -> t.Iterator[list[Message]]:
        """Earliest-kept steps forward from lo; a latest-kept server hands over to `_backwards`."""
        while lo <= hi:
            answer = self._get(lo, hi)
            self.obtained += len(answer.messages)
            if not answer.is_cut(self.limit):
                yield answer.unseen(lo, done_at_lo)
                return
            first, last = answer.span(lo)
            if first == last:
                # One crowded instant tells nothing of the cut end: read both sides of it.
                self._burst(last, answer)
                if last > lo:
                    yield from self._walk(lo, last - TICK, done_at_lo)
                    done_at_lo = set()
                yield answer.unseen(last, done_at_lo)
                lo, done_at_lo = last + TICK, set()
                continue
            if self._keeps_latest(lo, first, answer):
                yield from self._backwards(lo, hi, done_at_lo, answer)
                return
            yield answer.unseen(lo, done_at_lo)
            lo, done_at_lo = last, {m.get("id") for m in answer.at(last)}

    def _backwards(
        self, lo: dt.datetime, hi: dt.datetime, done_at_lo: set[t.Any], answer: Answer
    ) -> t.Iterator[list[Message]]:
        """Latest-kept: peel complete slices off the top until the rest fits in one answer."""
        slices: list[tuple[dt.datetime, dt.datetime, list[Message] | None]] = []
        buffered = 0
        while answer.is_cut(self.limit):
            first, last = answer.span(lo)
            if first == last:
                self._burst(last, answer)
                slices.append((last - TICK, last, answer.messages))
                hi = last - TICK
            else:
                slices.append((first, hi, answer.after(first)))
                hi = first
            buffered += len(answer.messages)
            if buffered > MAX_BUFFERED:
                slices = [(floor, top, None) for floor, top, _ in slices[:-1]] + slices[-1:]
                buffered = len(answer.messages)
            if hi < lo:
                break
            answer = self._get(lo, hi)
            self.obtained += len(answer.messages)
        else:
            yield answer.unseen(lo, done_at_lo)
        for floor, top, messages in reversed(slices):
            if messages is None:
                self.reread += 1
                yield from self._walk(floor + TICK, top, set())
            else:
                yield messages

    def _keeps_latest(self, lo: dt.datetime, first: dt.datetime, answer: Answer) -> bool:
        """Learn the cut end with one probe: only a latest-kept server has more in [lo, first]."""
        with self.habits.lock:
            if self.habits.keeps_latest is None:
                probe = self._get(lo, first, again=True)
                earlier = any(when is not None and when < first for when in probe.moments)
                held = len(answer.at(first))
                self.habits.keeps_latest = earlier or len(probe.messages) > held
            return self.habits.keeps_latest

    def _burst(self, moment: dt.datetime, answer: Answer) -> None:
        """`limit` or more share one instant: reported, sized by `total` once it proved a bound."""
        self.bursts += 1
        total = (
            self._get(moment, moment, again=True).total if self.habits.total_is_a_bound else None
        )
        if total is not None and total <= self.limit and self.habits.total_counts_window:
            return  # exactly `limit` at that instant: nothing cut
        self.on_burst(
            moment, self.limit, total if total is not None and total > self.limit else None
        )
