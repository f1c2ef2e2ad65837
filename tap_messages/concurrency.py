"""Fetching in parallel, once it pays, while records leave in each partition's own order.

Threads buy back the vendors' latency, but under one interpreter lock they cost CPU for every
hand-over (about 0.1 ms on a 2-core machine): against a fast API a single thread is quicker. So
tasks run in the calling thread until the stream, from its first answers, names a runner: `width`
threads when answers keep it waiting, worker processes (worker_processes) when the tap itself is
the bottleneck. The task under way and the rest then move to it. Workers only produce items; the
calling thread consumes them all, so output and state need no locks. A bounded queue keeps
memory flat when the consumer is slower than the producers.
"""

from __future__ import annotations

import queue
import threading
import typing as t
from concurrent.futures import ThreadPoolExecutor

C = t.TypeVar("C")
T = t.TypeVar("T")
_DONE = object()
Started = list[tuple[C, t.Iterator[T] | None]]  # tasks, the first perhaps under way
Runner = t.Callable[[Started[C, T], t.Callable[[C], t.Iterable[T]]], t.Iterator[tuple[C, T]]]


def fan_in(
    tasks: t.Sequence[C],
    work: t.Callable[[C], t.Iterable[T]],
    parallel: t.Callable[[int], Runner[C, T] | None] = lambda remaining: None,
) -> t.Iterator[tuple[C, T]]:
    """Yield (task, item) for every item of work(task), each task's items in their order.

    After each item, `parallel(tasks left)` may name a runner (threads, processes) for the task
    under way and the rest; once parallel, tasks interleave. An error in a worker is raised here.
    """
    for index, task in enumerate(tasks):
        items = iter(work(task))
        for item in items:
            yield task, item
            if index + 1 < len(tasks) and (runner := parallel(len(tasks) - index)) is not None:
                handed: Started[C, T] = [(task, items)]
                handed += [(later, None) for later in tasks[index + 1 :]]
                yield from runner(handed, work)
                return


def in_threads(
    tasks: Started[C, T], work: t.Callable[[C], t.Iterable[T]], width: int
) -> t.Iterator[tuple[C, T]]:
    """Run each task (or finish its started iterator) on `width` threads."""
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

    def run(task: C, started: t.Iterator[T] | None) -> None:
        try:
            for item in started if started is not None else work(task):
                if not offer((task, item)):
                    return
            offer((task, _DONE))
        except BaseException as error:  # handed to the consumer, which raises it
            offer((task, error))

    pool = ThreadPoolExecutor(max_workers=width, thread_name_prefix="fetch")
    try:
        for task, started in tasks:
            pool.submit(run, task, started)
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


def ahead_in_threads(items: t.Sequence[C], work: t.Callable[[C], T], width: int) -> t.Iterator[T]:
    """work(item) for every item on `width` threads, at most `width` ahead; yielded in order."""
    with ThreadPoolExecutor(max_workers=width, thread_name_prefix="ahead") as pool:
        queued = [pool.submit(work, item) for item in items[:width]]
        try:
            for index in range(len(items)):
                result = queued.pop(0).result()
                if index + width < len(items):
                    queued.append(pool.submit(work, items[index + width]))
                yield result
        finally:
            for future in queued:
                future.cancel()
