"""Requests go parallel only once waiting for answers pays, and no record is lost on the way."""

from __future__ import annotations

import threading

import pytest

from imitations import ConvoticData
from tap_messages.concurrency import fan_in
from tests.conftest import convotic_config
from tests.singer_run import run_tap

TASKS = {f"task{n}": [f"task{n}-item{i}" for i in range(6)] for n in range(5)}


def produce(made_in: dict[str, int]):
    def work(task: str):
        for item in TASKS[task]:
            made_in[item] = threading.get_ident()
            yield item

    return work


def test_fast_answers_keep_every_task_in_the_calling_thread_in_order():
    made_in: dict[str, int] = {}
    got = [item for _, item in fan_in(list(TASKS), produce(made_in), 4, lambda: False)]
    assert got == [item for items in TASKS.values() for item in items]
    assert set(made_in.values()) == {threading.get_ident()}


def test_slow_answers_move_the_rest_to_threads_and_each_task_keeps_its_order():
    made_in: dict[str, int] = {}
    calls = iter(range(10**6))
    slow_after_three = lambda: next(calls) >= 2  # noqa: E731
    got = list(fan_in(list(TASKS), produce(made_in), 4, slow_after_three))
    assert sorted(item for _, item in got) == sorted(i for items in TASKS.values() for i in items)
    for task, items in TASKS.items():
        assert [item for owner, item in got if owner == task] == items
    here = threading.get_ident()
    assert [made_in[i] for i in TASKS["task0"][:3]] == [here] * 3, "started in the caller"
    assert made_in["task0-item3"] != here, "the task under way moved to a worker"
    assert all(made_in[i] != here for items in list(TASKS.values())[1:] for i in items)


def test_an_error_in_a_worker_reaches_the_caller():
    def work(task: str):
        yield task
        if task == "task3":
            raise RuntimeError("boom in task3")
        yield task

    with pytest.raises(RuntimeError, match="boom in task3"):
        list(fan_in(list(TASKS), work, 4, lambda: True))


@pytest.mark.parametrize("width", [4, 1])
def test_a_slow_api_is_read_up_to_max_concurrency_at_once_and_every_message_arrives(serve, width):
    data = ConvoticData(n_conversations=12, messages_per_conversation=150, seed=90)
    server = serve(convotic=data, latency_s=0.02)
    run = run_tap({**convotic_config(server, data.conversation_ids()), "max_concurrency": width})
    assert run.returncode == 0, run.stderr[-2000:]
    assert {(r["conversationId"], r["id"]) for r in run.records("convotic_messages")} == data.keys()
    assert server.most_in_flight <= width
    assert (server.most_in_flight > 1) == (width > 1)
    assert ("fetching with up to 4 requests at once" in run.stderr) == (width > 1)
