"""Speed, requests, rate limits, memory and state size of tap-messages, beside a plain SDK tap.

One command: `make benchmark` (or `.venv/bin/python benchmarks/throughput.py [--quick]`).
Every figure of tap-messages is printed beside the same figure of a plain singer-sdk tap
(`benchmarks/plain_sdk_tap.py`), run in the same benchmark run against the same imitation.
Zero-latency answers are replayed from a warm-up run by a server in a process of its own, so the
tap's own CPU is what is measured; CPU and peak RSS come from /usr/bin/time.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import typing as t
from dataclasses import replace
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from imitations import CekatData, ConvoticData, ImitationServer  # noqa: E402
from imitations.base import Response  # noqa: E402
from imitations.faults import RateLimiter  # noqa: E402
from imitations.prepared import in_subprocess  # noqa: E402
from tests.singer_run import MESSAGE_STREAMS, selecting  # noqa: E402

CEKAT_KEY, CONVOTIC_KEY = "cekat-test-key-0123456789", "cvtk_live_test0123456789abcdef"
UNLIMITED = RateLimiter(10**9, 60.0, enforce=False)
TAP = ["-m", "tap_messages.tap"]
PLAIN = [str(ROOT / "benchmarks" / "plain_sdk_tap.py")]


def run(config: dict[str, t.Any], tap: list[str] = TAP, *, ids: bool = False) -> dict[str, t.Any]:
    """One tap process: records (and their ids), wall and CPU seconds, peak RSS, STATE, log."""
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "config.json").write_text(json.dumps(config))
        out, log = Path(tmp) / "out.jsonl", Path(tmp) / "log"
        command = ["/usr/bin/time", "-o", str(log), "-f", "%U %S %M", sys.executable, *tap]
        if tap == TAP:  # the message streams only, as the plain tap reads
            (Path(tmp) / "catalog.json").write_text(json.dumps(selecting(MESSAGE_STREAMS)))
            command += ["--catalog", f"{tmp}/catalog.json"]
        started = time.perf_counter()
        with out.open("wb") as sink:
            done = subprocess.run(
                [*command, "--config", f"{tmp}/config.json"],
                stdout=sink,
                stderr=subprocess.PIPE,
                cwd=ROOT,
                check=False,
            )
        seconds = time.perf_counter() - started
        records, last_state, seen = 0, b"", set()
        with out.open("rb") as lines:
            for line in lines:
                record = b'"type":"RECORD"' in line or b'"type": "RECORD"' in line
                records += record
                if record and ids:
                    seen.add(json.loads(line)["record"].get("id"))
                if b'"type":"STATE"' in line or b'"type": "STATE"' in line:
                    last_state = line
        user, system, rss_kb = log.read_text().split()[-3:]
    state = json.loads(last_state)["value"] if last_state else {}
    return {
        "ok": done.returncode == 0,
        "records": records,
        "seconds": seconds,
        "cpu_s": float(user) + float(system),
        "rss_mb": int(rss_kb) / 1024,
        "state_bytes": len(json.dumps(state, separators=(",", ":"))),
        "stderr": done.stderr.decode(errors="replace"),
        "ids": seen,
    }


def cekat_config(base_url: str, **extra: t.Any) -> dict[str, t.Any]:
    return {"cekat": {"api_key": CEKAT_KEY, "base_url": base_url}, **extra}


def convotic_config(base_url: str, data: ConvoticData, **extra: t.Any) -> dict[str, t.Any]:
    block = {"api_key": CONVOTIC_KEY, "base_url": base_url}
    return {"convotic": {**block, "conversation_ids": data.conversation_ids()}, **extra}


def plain_config(base_url: str, data: ConvoticData | None) -> dict[str, t.Any]:
    if data is None:
        return {"base_url": base_url, "api_key": CEKAT_KEY}
    ids = data.conversation_ids()
    return {"base_url": base_url, "api_key": CONVOTIC_KEY, "conversation_ids": ids}


def conversations(count: int, per: int, seed: int) -> ConvoticData:
    """Convotic test data: `count` x `per` messages, at most 5 sharing an instant."""
    return ConvoticData(
        n_conversations=count, messages_per_conversation=per, seed=seed, max_burst=5
    )


def lower_bound(data: ConvoticData) -> int:
    """Fewest requests that can read every message: each answer holds at most 100."""
    return sum(math.ceil((len(data.messages_of(c)) + 1) / 100) for c in data.conversation_ids())


def row(*cells: object) -> None:
    print("| " + " | ".join(str(c) for c in cells) + " |")


def with_undeclared(answers: dict[str, Response]) -> dict[str, Response]:
    """The same answers, each row carrying one field the schemas do not declare, as vendors do."""
    changed = {}
    for target, response in answers.items():
        body = json.loads(response.body)
        for key in ("data", "messages"):
            for item in body.get(key) or () if isinstance(body, dict) else ():
                item["reaction_summary"] = "👍 2"
        changed[target] = replace(response, body=json.dumps(body).encode())
    return changed


def zero_latency(runs: int, cekat_n: int, count: int, per: int) -> None:
    print(f"\n## CPU per record, zero latency, one process, validation on (median of {runs})\n")
    row(
        "stream",
        "undeclared field",
        "tap",
        "records",
        "requests",
        "CPU µs/record",
        "ratio",
        "rec/s",
        "peak RSS MB",
    )
    row(*["---"] * 3, *["---:"] * 6)
    cekat, convotic = CekatData(n_messages=cekat_n, seed=1), conversations(count, per, seed=1)
    for stream, data in (("cekat_messages", None), ("convotic_messages", convotic)):
        with ImitationServer(cekat=cekat, convotic=convotic, rate_limiter=UNLIMITED) as server:
            server.prepared = {}
            config = partial(cekat_config) if data is None else partial(convotic_config, data=data)
            run(config(server.base_url))  # warm-up: records every answer
            requests = len(server.requests)
            fallback = partial(server.respond_to, headers=server.requests[0].headers)
            for undeclared in (False, True):
                answers = dict(server.prepared)
                answers = with_undeclared(answers) if undeclared else answers
                with in_subprocess(answers, fallback) as base_url:
                    pairs = [
                        (
                            run(config(base_url, max_concurrency=1)),
                            run(plain_config(base_url, data), PLAIN),
                        )
                        for _ in range(runs)
                    ]
                cpu = {
                    name: statistics.median(r["cpu_s"] for r in results) / results[0]["records"]
                    for name, results in (
                        ("tap", [p[0] for p in pairs]),
                        ("plain", [p[1] for p in pairs]),
                    )
                }
                for name, results in (
                    ("tap-messages", [p[0] for p in pairs]),
                    ("plain SDK", [p[1] for p in pairs]),
                ):
                    row(
                        stream,
                        "yes" if undeclared else "no",
                        name,
                        results[0]["records"],
                        requests if name == "tap-messages" else "",
                        f"{cpu['tap' if name == 'tap-messages' else 'plain'] * 1e6:.1f}",
                        f"{cpu['tap'] / cpu['plain']:.2f}" if name == "tap-messages" else "",
                        f"{statistics.median(r['records'] / r['seconds'] for r in results):,.0f}",
                        f"{statistics.median(r['rss_mb'] for r in results):.0f}",
                    )


def latency(count: int, per: int, latency_ms: float, width: int) -> None:
    print(f"\n## {latency_ms:.0f} ms latency, Convotic {count} x {per}, max_concurrency {width}\n")
    data = conversations(count, per, seed=2)
    row(
        "tap", "records", "requests", "lower bound", "wall s", "requests x latency / width", "ratio"
    )
    row("---", *["---:"] * 6)
    with ImitationServer(convotic=data, latency_s=latency_ms / 1000, rate_limiter=UNLIMITED) as srv:
        for name, config, tap in (
            ("tap-messages", convotic_config(srv.base_url, data, max_concurrency=width), TAP),
            ("plain SDK", plain_config(srv.base_url, data), PLAIN),
        ):
            srv.requests.clear()
            result = run(config, tap)
            made = len(srv.requests)
            bound = made * latency_ms / 1000 / width
            row(
                name,
                result["records"],
                made,
                f"{lower_bound(data)} ({made / lower_bound(data):.3f} x)",
                f"{result['seconds']:.2f}",
                f"{bound:.2f}",
                f"{result['seconds'] / bound:.2f}",
            )


def rate_limited(limit: int, window: float, cekat_n: int, count: int, per: int) -> None:
    print(f"\n## Rate limit {limit} per {window:.0f} s enforced by the imitation\n")
    row("stream", "tap", "records", "requests", "429s", "wall s", "requests / R", "ratio")
    row(*["---"] * 2, *["---:"] * 6)
    cekat, convotic = CekatData(n_messages=cekat_n, seed=3), conversations(count, per, seed=3)
    for stream, data in (("cekat_messages", None), ("convotic_messages", convotic)):
        for name, tap in (("tap-messages", TAP), ("plain SDK", PLAIN)):
            limiter = RateLimiter(limit, window, enforce=True)
            with ImitationServer(cekat=cekat, convotic=convotic, rate_limiter=limiter) as server:
                extra = {"rate_limit_window": window, "max_concurrency": 8}
                if tap is PLAIN:
                    config = plain_config(server.base_url, data)
                elif data is None:
                    config = cekat_config(server.base_url, **extra)
                else:
                    config = convotic_config(server.base_url, data, **extra)
                result = run(config, tap)
                statuses = [r.status for r in server.requests]
            ideal = len(statuses) / (limit / window)
            row(
                stream,
                name + ("" if result["ok"] else " (failed)"),
                result["records"],
                len(statuses),
                statuses.count(429),
                f"{result['seconds']:.1f}",
                f"{ideal:.1f}",
                f"{result['seconds'] / ideal:.2f}",
            )


def scale(count: int, per: int, width: int, plain_count: int) -> None:
    print(f"\n## Scale: Convotic {count} conversations x {per} messages, max_concurrency {width}\n")
    row("tap", "conversations", "records", "wall s", "rec/s", "peak RSS MB", "STATE B/conversation")
    row("---", *["---:"] * 6)
    data = conversations(count, per, seed=4)
    small = conversations(plain_count, per, seed=4)
    with ImitationServer(convotic=data, rate_limiter=UNLIMITED) as server:
        for name, config, tap, n in (
            (
                "tap-messages",
                convotic_config(server.base_url, data, max_concurrency=width),
                TAP,
                count,
            ),
            ("plain SDK", plain_config(server.base_url, small), PLAIN, plain_count),
        ):
            result = run(config, tap)
            row(
                name,
                n,
                result["records"],
                f"{result['seconds']:.1f}",
                f"{result['records'] / result['seconds']:,.0f}",
                f"{result['rss_mb']:.0f}",
                f"{result['state_bytes'] / n:.0f}",
            )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="smaller sizes, one run each")
    args = parser.parse_args()
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(ROOT / "tap_messages")], check=True
    )
    print(f"# tap-messages benchmark ({platform.python_version()}, {os.cpu_count()} cores)")
    if args.quick:
        zero_latency(1, 20_000, 80, 250)
        latency(40, 250, 100, 8)
        rate_limited(20, 1.0, 6_000, 20, 300)
        scale(1_000, 100, 8, 100)
    else:
        zero_latency(3, 150_000, 600, 250)
        latency(200, 250, 100, 8)
        rate_limited(20, 1.0, 60_000, 60, 1_000)
        scale(10_000, 100, 8, 1_000)


if __name__ == "__main__":
    main()
