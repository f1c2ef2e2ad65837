"""End to end into PostgreSQL: `meltano run tap-messages target-postgres`, full then incremental.

Serves the imitations in this process, loads into a scratch schema of the database named by
TAP_MESSAGES_TEST_PG (default postgresql://postgres@127.0.0.1:5432/test), and prints wall time,
rows the target received and rows/s for: the full load, an incremental run with new and updated
messages, and an incremental run with nothing new. The schema is dropped at the end.

Run: .venv/bin/python benchmarks/meltano_postgres.py [--cekat 40000] [--convotic 100x200]
     [--set TARGET_POSTGRES_USE_COPY=false ...] [--rate-limit 1000] [--cekat-newest-first]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from imitations import CekatData, ConvoticData, ImitationServer  # noqa: E402
from imitations.faults import RateLimiter  # noqa: E402
from tests.meltano_run import DEFAULT_PG, PG_ENV, Pipeline, Postgres, tap_env  # noqa: E402

SCHEMA = "tap_messages_benchmark"
# The vendors allow 1,000 requests a minute (Cekat: less on smaller plans) and say so in headers
# the tap obeys; here the imitation announces no practical limit, to measure the pipeline itself.
UNLIMITED = RateLimiter(10**9, 60.0, enforce=False)
_RECEIVED = re.compile(r'target-postgres.*"metric":"record_count","value":(\d+)')


def timed(pipeline: Pipeline, label: str) -> None:
    """Run the pipeline once and print one line of figures."""
    started = time.perf_counter()
    done = pipeline.run()
    seconds = time.perf_counter() - started
    received = sum(int(n) for n in _RECEIVED.findall(done.stderr))
    rate = received / seconds if seconds else 0.0
    print(f"| {label} | {received:,} | {seconds:.1f} | {rate:,.0f} |", flush=True)


def main() -> None:
    """Full load, incremental with changes, incremental with nothing new."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--cekat", type=int, default=40_000)
    parser.add_argument("--convotic", default="100x200", help="conversations x messages each")
    parser.add_argument("--set", action="append", default=[], help="extra KEY=VALUE env")
    parser.add_argument(
        "--rate-limit", type=int, default=0, help="requests/minute the imitation allows (0: none)"
    )
    parser.add_argument(
        "--cekat-newest-first", action="store_true", help="Cekat serves newest updated_at first"
    )
    args = parser.parse_args()
    conversations, per = (int(x) for x in args.convotic.split("x"))
    order = {"order": "newest_first", "order_by": "updated_at"} if args.cekat_newest_first else {}
    cekat = CekatData(n_messages=args.cekat, seed=7, **order)  # type: ignore[arg-type]
    convotic = ConvoticData(n_conversations=conversations, messages_per_conversation=per, seed=7)
    postgres = Postgres(os.environ.get(PG_ENV) or DEFAULT_PG)
    if (problem := postgres.unreachable()) is not None:
        sys.exit(problem)
    postgres.queries(f'drop schema if exists "{SCHEMA}" cascade')
    extra = dict(item.split("=", 1) for item in args.set)
    limiter = RateLimiter(args.rate_limit, 60.0) if args.rate_limit else UNLIMITED
    total = args.cekat + conversations * per
    print(f"{args.cekat:,} Cekat + {conversations} x {per} Convotic = {total:,} messages")
    print(f"settings: {extra}; rate limit: {args.rate_limit or 'none'}/min; Cekat order: {order}")
    print("| run | rows received by the target | wall s | rows/s |")
    print("| --- | ---: | ---: | ---: |")
    with (
        ImitationServer(cekat=cekat, convotic=convotic, rate_limiter=limiter) as server,
        tempfile.TemporaryDirectory() as tmp,
    ):
        pipeline = Pipeline(
            Path(tmp),
            {
                "TARGET_POSTGRES_SQLALCHEMY_URL": postgres.sqlalchemy_url,
                "TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA": SCHEMA,
                **tap_env(server),
                **extra,
            },
        )
        try:
            timed(pipeline, "full load")
            loaded = postgres.queries(
                f'select count(*) from "{SCHEMA}".cekat_messages',
                f'select count(*) from "{SCHEMA}".convotic_messages',
            )
            assert [rows[0][0] for rows in loaded] == [args.cekat, conversations * per], loaded
            cekat.add_messages(1_000)
            cekat.update_status(sorted(cekat.ids())[:: max(1, args.cekat // 500)], "revoked")
            for cid in convotic.conversation_ids():
                convotic.add_messages(cid, 5)
            timed(pipeline, "incremental: 1,000 + 5/conversation new, ~500 status changes")
            timed(pipeline, "incremental: nothing new")
            state = pipeline.state()
            print(f"state: {len(json.dumps(state)):,} bytes")
        finally:
            postgres.queries(f'drop schema if exists "{SCHEMA}" cascade')


if __name__ == "__main__":
    main()
