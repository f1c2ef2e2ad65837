"""Worker processes: every item arrives once, in order where it must; no worker outlives its use."""

from __future__ import annotations

import functools
import os
import signal
import typing as t

import pytest

from tap_messages.concurrency import fan_in
from tap_messages.errors import TapMessagesError, VendorAPIError
from tap_messages.worker_processes import in_processes, in_stripes

TASKS = {f"task{n}": [f"task{n}-item{i}" for i in range(6)] for n in range(7)}


class Hooks:
    """Records what each worker was told and what the parent got back."""

    def __init__(self) -> None:
        self.workers = 0
        self.reports: list[dict[str, int]] = []

    def become_worker(self, workers: int) -> None:
        self.workers = workers

    def worker_report(self) -> dict[str, int]:
        return {"pid": os.getpid(), "workers": self.workers}

    def absorb_report(self, report: dict[str, int]) -> None:
        self.reports.append(report)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def made_by(task: str) -> t.Iterator[tuple[str, int]]:
    for item in TASKS[task]:
        yield item, os.getpid()


def test_partitions_move_to_worker_processes_each_in_its_own_order():
    hooks, calls = Hooks(), iter(range(10**6))
    processes = functools.partial(in_processes, width=2, hooks=hooks)
    got = list(fan_in(list(TASKS), made_by, lambda left: processes if next(calls) >= 2 else None))
    for task, items in TASKS.items():
        assert [item for owner, (item, _) in got if owner == task] == items
    made_in = {item: pid for _, (item, pid) in got}
    assert [made_in[i] for i in TASKS["task0"][:3]] == [os.getpid()] * 3, "started here"
    assert made_in["task0-item3"] != os.getpid(), "the task under way moved to a worker"
    workers = {report["pid"] for report in hooks.reports}
    assert len(workers) == 2
    assert {r["workers"] for r in hooks.reports} == {2}
    assert set(made_in.values()) == workers | {os.getpid()}
    assert not any(alive(pid) for pid in workers), "every worker was reaped"


def test_stripes_come_back_in_order_from_every_worker():
    hooks = Hooks()
    got = list(in_stripes(range(50), lambda n: (n * n, os.getpid()), 3, hooks))
    assert [value for value, _ in got] == [n * n for n in range(50)]
    assert {pid for _, pid in got} == {report["pid"] for report in hooks.reports}
    assert len(hooks.reports) == 3


def test_an_error_in_a_worker_reaches_the_parent_with_its_type_and_details():
    def read(number: int) -> int:
        if number == 7:
            raise VendorAPIError("Cekat answered HTTP 404", 404)
        return number

    with pytest.raises(VendorAPIError, match="HTTP 404") as caught:
        list(in_stripes(range(20), read, 2, Hooks()))
    assert caught.value.status == 404


def test_an_error_that_cannot_be_pickled_still_arrives_as_its_message():
    class Local(Exception):
        pass

    def read(number: int) -> int:
        raise Local("made in a worker")

    with pytest.raises(TapMessagesError, match="Local: made in a worker"):
        list(in_stripes(range(4), read, 2, Hooks()))


def test_stopping_early_stops_every_worker():
    pids = set()
    stripes = in_stripes(range(10_000), lambda n: os.getpid(), 2, Hooks())
    for _ in range(5):
        pids.add(next(stripes))
    stripes.close()
    assert len(pids) == 2
    assert not any(alive(pid) for pid in pids)


def test_a_killed_worker_fails_the_run_instead_of_hanging_it():
    def read(number: int) -> int:
        if number == 5:
            os.kill(os.getpid(), signal.SIGKILL)
        return number

    with pytest.raises(TapMessagesError, match="worker process ended"):
        list(in_stripes(range(20), read, 2, Hooks()))


def test_only_the_parent_writes_to_stdout(capfd):
    def read(number: int) -> int:
        os.write(1, b"a worker wrote this\n")
        return number

    assert list(in_stripes(range(4), read, 2, Hooks())) == [0, 1, 2, 3]
    assert "a worker wrote this" not in capfd.readouterr().out
