"""Where the tap's CPU goes: cProfile of one Cekat sync in-process, from recorded answers.

Run: .venv/bin/python benchmarks/profile_cekat.py [records] [--undeclared] (default 30,000). The
answers are recorded in a warm-up run and replayed by a server in a process of its own, as in
throughput.py, so the profile is the tap's; the top 25 functions by own time are printed. With
`--undeclared` every row carries one field the schema does not declare, as vendors' rows do.
"""

from __future__ import annotations

import contextlib
import cProfile
import io
import pstats
import sys
import time
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.throughput import with_undeclared  # noqa: E402
from imitations import CekatData, ImitationServer  # noqa: E402
from imitations.faults import RateLimiter  # noqa: E402
from imitations.prepared import in_subprocess  # noqa: E402
from tap_messages.tap import TapMessages  # noqa: E402
from tests.singer_run import selecting  # noqa: E402


def sync(config: dict, catalog: dict) -> None:
    with contextlib.redirect_stdout(io.TextIOWrapper(open("/dev/null", "wb"))):
        TapMessages(config=config, catalog=catalog).sync_all()


def main() -> None:
    numbers = [arg for arg in sys.argv[1:] if arg.isdigit()]
    records = int(numbers[0]) if numbers else 30_000
    data, catalog = CekatData(n_messages=records, seed=1), selecting(["cekat_messages"])
    with ImitationServer(cekat=data, rate_limiter=RateLimiter(10**9, 60.0, enforce=False)) as srv:
        srv.prepared = {}
        config = {"cekat": {"api_key": data.api_key, "base_url": srv.base_url}}
        config["max_concurrency"] = 1
        sync(config, catalog)  # warm-up: records every answer
        fallback = partial(srv.respond_to, headers=srv.requests[0].headers)
        answers = dict(srv.prepared)
        if "--undeclared" in sys.argv:
            answers = with_undeclared(answers)
        with in_subprocess(answers, fallback) as base_url:
            config["cekat"]["base_url"] = base_url
            profile, started = cProfile.Profile(), time.process_time()
            profile.enable()
            sync(config, catalog)
            profile.disable()
            cpu = time.process_time() - started
    print(f"{records} records, {cpu / records * 1e6:.1f} µs of CPU a record under the profiler")
    pstats.Stats(profile).sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    main()
