"""Work started on threads before the SDK's record loop asks for it, handed back in its order.

The vendors answer in 50-300 ms, so a stream waits far more than it computes. A stream starts the
work it will need next (the next conversations, the next pages) with `start`, and takes each
piece with `take` when the SDK's loop gets there: the loop, its writer and its state stay on the
main thread, in the order they always had, while up to `width` requests are in flight. Each piece
holds at most `depth` answers it has not handed over, so memory stays flat when the loop is slower
than the API. With a width of 1 nothing runs on threads: `take` does the work itself.
"""

from __future__ import annotations

import queue
import threading
import typing as t
from concurrent.futures import ThreadPoolExecutor

K = t.TypeVar("K")
T = t.TypeVar("T")
_DONE = object()


class _Piece(t.Generic[T]):
    """One piece of work under way on a thread, and what it has produced so far."""

    def __init__(self, depth: int) -> None:
        self.results: queue.Queue[t.Any] = queue.Queue(maxsize=depth)
        self.stop = threading.Event()

    def run(self, work: t.Callable[[], t.Iterable[T]]) -> None:
        try:
            for item in work():
                if not self._offer(item):
                    return
            self._offer(_DONE)
        except BaseException as error:  # handed to the taker, which raises it
            self._offer(error)

    def _offer(self, item: t.Any) -> bool:
        while not self.stop.is_set():
            try:
                self.results.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def items(self) -> t.Iterator[T]:
        while (item := self.results.get()) is not _DONE:
            if isinstance(item, BaseException):
                raise item
            yield item


class ReadAhead(t.Generic[K, T]):
    """Pieces of work keyed by K, started early on `width` threads, taken whole in any order."""

    def __init__(self, width: int, depth: int = 4) -> None:
        """No thread runs until the first piece is started."""
        self.width, self.depth = width, depth
        self._pieces: dict[K, _Piece[T]] = {}
        self._pool: ThreadPoolExecutor | None = None

    def start(self, key: K, work: t.Callable[[], t.Iterable[T]]) -> None:
        """Begin `work` on a thread, unless it is under way or there are no threads to spare."""
        if self.width <= 1 or key in self._pieces:
            return
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.width, thread_name_prefix="read-ahead")
        piece: _Piece[T] = _Piece(self.depth)
        self._pieces[key] = piece
        self._pool.submit(piece.run, work)

    def __contains__(self, key: object) -> bool:
        """True while the piece for `key` is started and not yet taken."""
        return key in self._pieces

    def take(self, key: K, work: t.Callable[[], t.Iterable[T]]) -> t.Iterator[T]:
        """The items of the piece for `key` (else `work`'s, done here); earlier pieces stop."""
        started = list(self._pieces)
        for earlier in started[: started.index(key)] if key in self._pieces else ():
            self._pieces.pop(earlier).stop.set()
        piece = self._pieces.pop(key, None)
        if piece is None:
            yield from work()
            return
        try:
            yield from piece.items()
        except BaseException:
            self.close()
            raise

    def drop(self) -> None:
        """Stop and forget every piece started but not taken (the caller changed its plan)."""
        for piece in self._pieces.values():
            piece.stop.set()
        self._pieces.clear()

    def close(self) -> None:
        """Stop every piece and wait for the threads, so none works or logs after the stream."""
        self.drop()
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
