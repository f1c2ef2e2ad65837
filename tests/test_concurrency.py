"""Requests go parallel only once waiting for answers pays, and no record is lost on the way."""

from __future__ import annotations

import copy
import functools
import threading

import pytest

from imitations import CekatData, ConvoticData
from imitations.faults import RateLimiter
from tap_messages.concurrency import ahead_in_threads, fan_in, in_threads
from tests.conftest import cekat_config, convotic_config
from tests.singer_run import answers_from_memory, run_tap
from tests.test_record_validation import hostile_rows

TASKS = {f"task{n}": [f"task{n}-item{i}" for i in range(6)] for n in range(5)}
THREADS = functools.partial(in_threads, width=4)


def produce(made_in: dict[str, int]):
    def work(task: str):
        for item in TASKS[task]:
            made_in[item] = threading.get_ident()
            yield item

    return work


def test_fast_answers_keep_every_task_in_the_calling_thread_in_order():
    made_in: dict[str, int] = {}
    got = [item for _, item in fan_in(list(TASKS), produce(made_in))]
    assert got == [item for items in TASKS.values() for item in items]
    assert set(made_in.values()) == {threading.get_ident()}


def test_slow_answers_move_the_rest_to_threads_and_each_task_keeps_its_order():
    made_in: dict[str, int] = {}
    calls = iter(range(10**6))
    slow_after_three = lambda left: THREADS if next(calls) >= 2 else None  # noqa: E731
    got = list(fan_in(list(TASKS), produce(made_in), slow_after_three))
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
        list(fan_in(list(TASKS), work, lambda left: THREADS))


def test_pages_read_ahead_come_back_in_order_and_never_more_than_width_ahead():
    started: list[int] = []
    taken: list[int] = []

    def read(number: int) -> int:
        started.append(number)
        # the read of `number` is queued once the one `width` before it is taken or being taken
        assert number <= (taken[-1] if taken else -1) + 3 + 1, "read too far ahead"
        return number

    for number in ahead_in_threads(range(40), read, 3):
        taken.append(number)
    assert taken == list(range(40))
    assert sorted(started) == list(range(40))


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


PROCESSES = "worker processes"
# The imitations announce 1,000 requests a minute, which one process fills: no room to split.
UNLIMITED = RateLimiter(10**9, 60.0, enforce=False)


def requests_logged(stderr: str, stream: str) -> int:
    line = next(
        line for line in stderr.splitlines() if f"{stream}: " in line and " requests, " in line
    )
    return int(line.split(f"{stream}: ")[1].split(" requests")[0])


def test_a_fast_api_moves_conversations_to_worker_processes_and_state_follows_records(serve):
    data = ConvoticData(n_conversations=24, messages_per_conversation=150, seed=91)
    ids = data.conversation_ids()
    server = serve(convotic=data, rate_limiter=UNLIMITED)
    config = {
        **convotic_config(server, [*ids[:20], "conv_missing", *ids[20:]]),
        "max_concurrency": 4,
    }
    run = run_tap(config)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "the tap itself is the bottleneck; reading on in 2 worker processes" in run.stderr
    records = run.records("convotic_messages")
    assert {(r["conversationId"], r["id"]) for r in records} == data.keys()
    assert len(records) == len(data.keys()), "no message twice"
    run.assert_records_match_schemas()
    newest: dict[str, str] = {}
    for record in records:
        newest[record["conversationId"]] = max(
            newest.get(record["conversationId"], ""), record["timestamp"]
        )
    partitions = run.final_state["bookmarks"]["convotic_messages"]["partitions"]
    bookmarks = {p["context"]["conversationId"]: p.get("replication_key_value") for p in partitions}
    assert {cid: bookmarks[cid] for cid in ids} == newest, "each bookmark is its newest record"
    assert "24 conversations read, 1 skipped as not found (conv_missing)" in run.stderr
    assert requests_logged(run.stderr, "convotic_messages") == len(server.requests)


@pytest.mark.parametrize("order", ["oldest_first", "newest_first"])
def test_a_fast_api_has_cekat_pages_read_by_worker_processes_only_when_served_oldest_first(
    serve, order
):
    data = CekatData(n_messages=3000, seed=92, order=order)
    late = copy.deepcopy(data.messages[-1])
    for row in hostile_rows(data):
        data.add_raw({**row, "created_at": late["created_at"]})  # on the last page
    server = serve(cekat=data, rate_limiter=UNLIMITED)
    config = {**cekat_config(server), "max_concurrency": 4}
    answers_from_memory(server, config)
    run = run_tap(config)
    assert run.returncode == 0, run.stderr[-2000:]
    assert (PROCESSES in run.stderr) == (order == "oldest_first")
    assert {r["id"] for r in run.records("cekat_messages")} >= data.ids() - {"bad-type", "bad-time"}
    assert len(run.records("quarantined_records")) == 3, "invalid rows of a worker's page set aside"
    pages = [int(r.params["page"][0]) for r in server.requests]
    assert sorted(pages) == list(range(1, 32)), "each page once; the short 31st ends the walk"
    assert requests_logged(run.stderr, "cekat_messages") == len(server.requests)


def test_an_invalid_record_in_a_worker_stops_the_run_in_fail_mode(serve):
    data = CekatData(n_messages=3000, seed=93)
    late = copy.deepcopy(data.messages[-1])
    data.add_raw({**late, "id": "bad-type", "is_template": "yes"})
    server = serve(cekat=data, rate_limiter=UNLIMITED)
    config = {**cekat_config(server), "on_invalid_record": "fail"}
    answers_from_memory(server, config)
    run = run_tap(config)
    assert PROCESSES in run.stderr
    assert run.returncode == 1
    last_line = run.stderr.strip().splitlines()[-1]
    assert 'cekat_messages: record {"id": "bad-type"} fails the schema: is_template' in last_line
    assert "Traceback" not in run.stderr


def test_a_rate_limit_one_process_already_fills_keeps_the_tap_in_one_process(serve):
    data = ConvoticData(n_conversations=20, messages_per_conversation=60, seed=94)
    server = serve(convotic=data, rate_limiter=RateLimiter(100, 1.0))
    config = {**convotic_config(server, data.conversation_ids()), "rate_limit_window": 1}
    run = run_tap(config)
    assert run.returncode == 0, run.stderr[-2000:]
    assert PROCESSES not in run.stderr
    assert [r.status for r in server.requests].count(429) == 0
    assert {(r["conversationId"], r["id"]) for r in run.records("convotic_messages")} == data.keys()
