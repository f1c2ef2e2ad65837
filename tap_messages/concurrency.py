"""Fetching in parallel while records leave in each partition's own order, from one thread.

Workers only fetch (the vendors' latency is what parallelism buys back); the calling thread
checks, writes and bookmarks every record, so output and state need no locks. A bounded queue
keeps memory flat when the writer is slower than the fetchers.
"""

from __future__ import annotations

import queue
import threading
import typing as t
from concurrent.futures import ThreadPoolExecutor

C = t.TypeVar("C")
T = t.TypeVar("T")
_DONE = object()


def fan_in(
    tasks: t.Sequence[C], work: t.Callable[[C], t.Iterable[T]], width: int
) -> t.Iterator[tuple[C, T]]:
    """Run work(task) for all tasks on `width` threads; yield (task, item) in each task's order.

    Items of one task keep their order; tasks interleave. An error in a worker is raised here.
    """
    if width <= 1 or len(tasks) <= 1:
        for task in tasks:
            for item in work(task):
                yield task, item
        return
    results: queue.Queue[tuple[C, t.Any]] = queue.Queue(maxsize=width * 4)
    stop = threading.Event()

    def offer(entry: tuple[C, t.Any]) -> bool:
        while not stop.is_set():
            try:
                results.put(entry, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def run(task: C) -> None:
        try:
            for item in work(task):
                if not offer((task, item)):
                    return
            offer((task, _DONE))
        except BaseException as error:  # handed to the consumer, which raises it
            offer((task, error))

    pool = ThreadPoolExecutor(max_workers=width, thread_name_prefix="fetch")
    try:
        for task in tasks:
            pool.submit(run, task)
        remaining = len(tasks)
        while remaining:
            task, item = results.get()
            if item is _DONE:
                remaining -= 1
            elif isinstance(item, BaseException):
                raise item
            else:
                yield task, item
    finally:
        stop.set()  # workers stop at their next hand-over; wait so none logs after an error
        pool.shutdown(wait=True, cancel_futures=True)
