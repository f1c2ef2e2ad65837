"""Reading in forked worker processes, once the tap itself is what a sync waits for.

Against an API that answers within a couple of milliseconds the tap is CPU-bound, and one
interpreter runs on one core: threads cannot help. Workers are forked after start-up (the
imports, the config and the task under way come with them), one per core up to
`max_concurrency`. Each fetches, validates and serialises, and pipes its batches to the parent,
which writes, quarantines and bookmarks in order, as for threads: STATE still covers exactly the
records before it. Two ways to share the work: whole partitions handed out one at a time
(`in_processes`), or numbered pages dealt round-robin and read back in order (`in_stripes`),
each worker at most UNSEEN + 1 pages ahead of the parent. A worker's stdout is /dev/null, so
only the parent writes Singer messages; a worker whose parent is gone stops at its next
hand-over. Linux only: fork is unsafe on macOS.
"""

from __future__ import annotations

import contextlib
import gc
import os
import pickle
import signal
import sys
import typing as t
from multiprocessing import connection

from tap_messages.errors import TapMessagesError

if t.TYPE_CHECKING:
    from tap_messages.concurrency import Started

C = t.TypeVar("C")
T = t.TypeVar("T")
Conn = connection.Connection
UNSEEN = 2  # items a worker may have sent ahead of the parent in `in_stripes`


class Workers(t.Protocol):
    """What a stream does around forking: in the worker, then with its report in the parent."""

    def become_worker(self, workers: int) -> None:
        """In a fresh worker: own connections, a 1/workers share of the rate limit."""

    def worker_report(self) -> t.Any:
        """In a worker at its end: what the parent must add up (request counts, ...)."""

    def absorb_report(self, report: t.Any) -> None:
        """In the parent: add one worker's report."""


def available_cores() -> int:
    """Cores this process may run on: forking past them only adds hand-overs."""
    if not sys.platform.startswith("linux"):
        return 1
    return len(os.sched_getaffinity(0))


def in_processes(
    tasks: Started[C, T], work: t.Callable[[C], t.Iterable[T]], width: int, hooks: Workers
) -> t.Iterator[tuple[C, T]]:
    """Run each task (or finish its started iterator) on `width` workers, in order per task.

    An error in a worker is raised here; stopping this generator stops the workers.
    """

    def serve(conn: Conn, _: int) -> None:
        while (index := conn.recv()) is not None:
            task, started = tasks[index]
            for item in started if started is not None else work(task):
                conn.send(("item", index, item))
            conn.send(("done", index, None))

    pending = list(range(len(tasks)))
    with _forked(min(width, len(tasks)), serve, hooks) as conns:
        for conn in conns:
            _tell(conn, pending.pop(0), hooks)
        live = list(conns)
        while live:
            for ready in connection.wait(live):
                conn = t.cast("Conn", ready)
                kind, index, payload = _receive(conn, hooks)
                if kind == "item":
                    yield tasks[index][0], payload
                elif kind == "done":
                    _tell(conn, pending.pop(0) if pending else None, hooks)
                else:
                    live.remove(conn)


def in_stripes(
    items: t.Sequence[C], work: t.Callable[[C], T], width: int, hooks: Workers
) -> t.Iterator[T]:
    """work(item) for every item, worker k taking items k, k + width, ...; yielded in order."""

    def serve(conn: Conn, k: int) -> None:
        unseen = 0  # items sent that the parent has not taken yet
        for index in range(k, len(items), width):
            item = work(items[index])
            if unseen == UNSEEN:
                conn.recv()  # the parent took one: a worker is at most UNSEEN + 1 items ahead
                unseen -= 1
            conn.send(("item", index, item))
            unseen += 1
        for _ in range(unseen):
            conn.recv()

    width = min(width, len(items))
    with _forked(width, serve, hooks) as conns:
        for index in range(len(items)):
            conn = conns[index % width]
            item = _receive(conn, hooks)[2]
            _tell(conn, True, hooks)
            yield item
        for conn in conns:
            _receive(conn, hooks)  # its report


def _receive(conn: Conn, hooks: Workers) -> tuple[str, int, t.Any]:
    """The next message from a worker; its error raised, its report absorbed."""
    try:
        kind, index, payload = conn.recv()
    except (EOFError, OSError):
        raise _ended() from None
    if kind == "error":
        raise payload
    if kind == "report":
        hooks.absorb_report(payload)
    return kind, index, payload


def _tell(conn: Conn, message: t.Any, hooks: Workers) -> None:
    """Send a worker its next task, or a go-ahead; if it has ended, raise why."""
    try:
        conn.send(message)
    except OSError:
        _receive(conn, hooks)  # raises the error it left, if any
        raise _ended() from None


def _ended() -> TapMessagesError:
    return TapMessagesError("a worker process ended before finishing its work (was it killed?)")


@contextlib.contextmanager
def _forked(
    width: int, serve: t.Callable[[Conn, int], None], hooks: Workers
) -> t.Iterator[list[Conn]]:
    """`width` workers, each running serve(pipe, k) and then sending its report.

    On leaving, every pipe is closed and every worker reaped; one still busy is killed.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    gc.freeze()  # the inherited heap stays shared: a collection in a worker would copy it
    conns: list[Conn] = []
    pids: list[int] = []
    finished = False
    try:
        for k in range(width):
            ours, theirs = connection.Pipe()
            pid = os.fork()
            if pid == 0:
                ours.close()
                for other in conns:
                    other.close()
                _work_and_exit(theirs, k, width, serve, hooks)
            theirs.close()
            conns.append(ours)
            pids.append(pid)
        yield conns
        finished = True
    finally:
        for conn in conns:
            conn.close()
        for pid in pids:
            if not finished:
                os.kill(pid, signal.SIGKILL)  # still busy after an error or an early stop
            os.waitpid(pid, 0)
        gc.unfreeze()


def _work_and_exit(
    conn: Conn, k: int, width: int, serve: t.Callable[[Conn, int], None], hooks: Workers
) -> t.NoReturn:
    """A worker's whole life: serve, report, exit without running the parent's cleanup."""
    status = 0
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)  # the Singer stream: the parent's alone
        hooks.become_worker(width)
        serve(conn, k)
        conn.send(("report", -1, hooks.worker_report()))
    except (EOFError, BrokenPipeError, ConnectionResetError):
        status = 1  # the parent is gone: nothing is left to hand over to
    except BaseException as error:  # handed to the parent, which raises it
        status = 1
        with contextlib.suppress(OSError, EOFError):  # the parent may be gone too
            conn.send(("error", -1, _picklable(error)))
            while True:  # until the parent, having read it, closes the pipe
                conn.recv()
    finally:
        sys.stderr.flush()
        os._exit(status)


def _picklable(error: BaseException) -> BaseException:
    try:
        pickle.loads(pickle.dumps(error))
    except Exception:  # any error must reach the parent in some form
        return TapMessagesError(f"{type(error).__name__}: {error}")
    return error
