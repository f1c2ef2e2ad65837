"""Records per second of a full sync against the local imitations (tap output read and counted).

Run: .venv/bin/python benchmarks/full_sync.py [--cekat 150000] [--convotic 200x250] [--latency-ms 0]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from imitations import CekatData, ConvoticData, ImitationServer  # noqa: E402
from tests.conftest import CEKAT_KEY, CONVOTIC_KEY  # noqa: E402


def timed_run(config: dict) -> tuple[float, int, int]:
    """Run the tap once; return wall seconds, RECORD count and peak RSS (MB) of the tap."""
    with tempfile.NamedTemporaryFile("w", suffix=".json") as handle:
        json.dump(config, handle)
        handle.flush()
        started = time.perf_counter()
        done = subprocess.run(
            [
                "/usr/bin/time",
                "-f",
                "%M",
                sys.executable,
                "-m",
                "tap_messages.tap",
                "--config",
                handle.name,
            ],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
        elapsed = time.perf_counter() - started
    records = done.stdout.count('"type":"RECORD"')
    peak_mb = int(done.stderr.strip().splitlines()[-1]) // 1024
    return elapsed, records, peak_mb


def main() -> None:
    """Print one line per stream: records, requests, seconds, records/s, peak RSS."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--cekat", type=int, default=150_000)
    parser.add_argument("--convotic", default="200x250", help="conversations x messages each")
    parser.add_argument("--latency-ms", type=float, default=0.0)
    args = parser.parse_args()
    conversations, per = (int(x) for x in args.convotic.split("x"))
    cekat = CekatData(n_messages=args.cekat, seed=1)
    convotic = ConvoticData(n_conversations=conversations, messages_per_conversation=per, seed=1)
    with ImitationServer(
        cekat=cekat, convotic=convotic, latency_s=args.latency_ms / 1000
    ) as server:
        runs = {
            "cekat_messages": {"cekat": {"api_key": CEKAT_KEY, "base_url": server.base_url}},
            "convotic_messages": {
                "convotic": {
                    "api_key": CONVOTIC_KEY,
                    "base_url": server.base_url,
                    "conversation_ids": convotic.conversation_ids(),
                }
            },
        }
        for stream, config in runs.items():
            server.requests.clear()
            seconds, records, peak = timed_run(config)
            print(
                f"{stream:18s} {records:8d} records {len(server.requests):6d} requests "
                f"{seconds:7.2f} s {records / seconds:9.0f} rec/s  peak RSS {peak} MB"
            )


if __name__ == "__main__":
    main()
