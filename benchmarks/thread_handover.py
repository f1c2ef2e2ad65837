"""What a thread hand-over costs under the interpreter lock: why fetching starts in one thread.

Decodes the same JSON answers through `fan_in`, once in the calling thread and once on worker
threads, with no network at all, and reports CPU seconds per answer. Run:
`.venv/bin/python benchmarks/thread_handover.py`.
"""

from __future__ import annotations

import functools
import os
import statistics
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import msgspec

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from imitations import ConvoticData
from tap_messages.concurrency import fan_in, in_threads

ANSWERS, TASKS = 1_800, 600


def main() -> None:
    data = ConvoticData(n_conversations=1, messages_per_conversation=100, seed=5)
    body = msgspec.json.encode({"messages": data.messages_of(data.conversation_ids()[0])})
    tasks = [[body] * (ANSWERS // TASKS) for _ in range(TASKS)]

    def work(task: list[bytes]) -> Iterator[object]:
        for answer in task:
            yield msgspec.json.decode(answer)

    print(f"# {ANSWERS} answers of 100 messages, {os.cpu_count()} cores; median of 5\n")
    print("| threads | CPU ms per answer |\n| ---: | ---: |")
    for width, parallel in ((1, False), (2, True), (4, True), (8, True)):
        costs = []
        for _ in range(5):
            started = time.process_time()
            runner = functools.partial(in_threads, width=width) if parallel else None
            for _ in fan_in(tasks, work, lambda left, runner=runner: runner):
                pass
            costs.append((time.process_time() - started) / ANSWERS * 1000)
        print(
            f"| {width if parallel else 'none (calling thread)'} | {statistics.median(costs):.3f} |"
        )


if __name__ == "__main__":
    main()
