"""Throughput, concurrency, rate-limit and scale figures of tap-messages, against the imitations.

One command: `make benchmark` (or `.venv/bin/python benchmarks/throughput.py [--quick]`).
Each figure is the median of several runs; the tap's output goes to a file, read afterwards.
At zero latency the answers of a warm-up run are replayed by a server in a process of its own.
The bare loop replays the same requests with requests + json and writes each record as a JSON
line: the reference for what the machine and the loopback server allow.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from imitations import CekatData, ConvoticData, ImitationServer  # noqa: E402
from imitations.faults import RateLimiter  # noqa: E402
from imitations.prepared import in_subprocess  # noqa: E402

CEKAT_KEY, CONVOTIC_KEY = "cekat-test-key-0123456789", "cvtk_live_test0123456789abcdef"
UNLIMITED = RateLimiter(10**9, 60.0, enforce=False)


TAP = ["-m", "tap_messages.tap"]
READ_BY = {"processes": "in worker processes", "threads": "on threads", "": "in one thread"}
PLAIN_SDK_TAP = [str(ROOT / "benchmarks" / "plain_sdk_tap.py")]


def run_tap(config: dict, tap: list[str] = TAP) -> dict:
    """One tap run; its records, wall and CPU seconds, peak memory and final STATE size.

    Memory is the peak of the proportional set size (PSS) summed over the tap and its worker
    processes, so that pages a forked worker still shares with the tap count once. It is sampled
    every 0.25 s: reading it every 20 ms slowed a two-core run by 15-20 %.
    """
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "config.json").write_text(json.dumps(config))
        out = Path(tmp) / "out.jsonl"
        command = ["/usr/bin/time", "-f", "%U %S", sys.executable, *tap, "--config"]
        started = time.perf_counter()
        with out.open("wb") as sink:
            process = subprocess.Popen(
                [*command, f"{tmp}/config.json"], stdout=sink, stderr=subprocess.PIPE, cwd=ROOT
            )
            peak = PeakMemory(process.pid)
            _, stderr_bytes = process.communicate()
            peak.stop()
        seconds = time.perf_counter() - started
        stderr = stderr_bytes.decode()
        if process.returncode:
            raise RuntimeError(f"the tap failed:\n{stderr[-2000:]}")
        records = int(
            subprocess.run(
                ["grep", "-c", '"type":"RECORD"', str(out)], capture_output=True, text=True
            ).stdout
            or 0
        )
        last_state = subprocess.run(
            f'grep \'"type":"STATE"\' {out} | tail -n 1', shell=True, capture_output=True, text=True
        ).stdout.strip()
    value = json.loads(last_state)["value"] if last_state else {}
    state_bytes = len(json.dumps(value, separators=(",", ":")))
    user, system = stderr.strip().splitlines()[-1].split()
    how = "processes" if "worker processes" in stderr else "threads" if "at once" in stderr else ""
    return {
        "records": records,
        "seconds": seconds,
        "memory_mb": peak.mb,
        "cpu_s": float(user) + float(system),
        "state_bytes": state_bytes,
        "parallel": how,
    }


class PeakMemory:
    """Samples the summed PSS of a process and all its descendants until stopped."""

    def __init__(self, pid: int) -> None:
        self.pid, self.mb, self._done = pid, 0.0, threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._done.wait(0.25):
            self.mb = max(self.mb, sum(_pss_kb(pid) for pid in _tree(self.pid)) / 1024)

    def stop(self) -> None:
        self._done.set()
        self._thread.join()


def _tree(pid: int) -> list[int]:
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*"):
            try:
                pending += [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                continue
    return found


def _pss_kb(pid: int) -> int:
    try:
        rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0
    return next(
        (int(line.split()[1]) for line in rollup.splitlines() if line.startswith("Pss:")), 0
    )


def bare_loop(urls: list[tuple[str, dict]]) -> tuple[int, float]:
    """Replay the tap's requests with requests + json; records written as lines to /dev/null."""
    session, count = requests.Session(), 0
    started = time.perf_counter()
    with open(os.devnull, "w") as sink:
        for url, headers in urls:
            body = session.get(url, headers=headers, timeout=60).json()
            for record in body.get("data") or body.get("messages") or []:
                sink.write(json.dumps(record) + "\n")
                count += 1
    return count, time.perf_counter() - started


def conversations_of(conversations: int, per: int, seed: int) -> ConvoticData:
    """Convotic test data: `conversations` x `per` messages, bursts of at most 5 per instant."""
    return ConvoticData(
        n_conversations=conversations, messages_per_conversation=per, seed=seed, max_burst=5
    )


def config_for(stream: str, base_url: str, convotic: ConvoticData | None, **extra: object) -> dict:
    if stream == "cekat_messages":
        return {"cekat": {"api_key": CEKAT_KEY, "base_url": base_url}, **extra}
    assert convotic is not None
    return {
        "convotic": {
            "api_key": CONVOTIC_KEY,
            "base_url": base_url,
            "conversation_ids": convotic.conversation_ids(),
        },
        **extra,
    }


def zero_latency(runs: int, cekat_n: int, conversations: int, per: int) -> None:
    print(f"\n## Zero latency, prepared pages, validation on (median of {runs} runs)\n")
    columns = (
        "stream",
        "records",
        "requests",
        "req/record",
        "tap rec/s",
        "tap CPU µs/record",
        "bare rec/s",
        "ratio",
        "peak memory MB",
        "runs in worker processes",
        "one process rec/s",
    )
    print("| " + " | ".join(columns) + " |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    cekat = CekatData(n_messages=cekat_n, seed=1)
    convotic = conversations_of(conversations, per, seed=1)
    for stream in ("cekat_messages", "convotic_messages"):
        with ImitationServer(cekat=cekat, convotic=convotic, rate_limiter=UNLIMITED) as server:
            server.prepared = {}
            run_tap(config_for(stream, server.base_url, convotic))  # warm-up: records every answer
            recorded = server.requests.snapshot()
            targets = [(r.path, r.params) for r in recorded]
            headers = recorded[0].headers
            with in_subprocess(
                dict(server.prepared), functools.partial(server.respond_to, headers=headers)
            ) as base_url:
                config = config_for(stream, base_url, convotic)
                key = (
                    {"x-api-key": CONVOTIC_KEY}
                    if stream == "convotic_messages"
                    else {"api_key": CEKAT_KEY}
                )
                urls = [
                    (base_url + path + "?" + urlencode([(k, v[0]) for k, v in params.items()]), key)
                    for path, params in targets
                ]
                taps, ones, bares = [], [], []
                for _ in range(runs):  # interleaved, so that a slower spell hits each alike
                    taps.append(run_tap(config))
                    ones.append(run_tap({**config, "max_concurrency": 1}))
                    bares.append(bare_loop(urls))
                if stream == "cekat_messages":
                    plain_config = {"base_url": base_url, "api_key": CEKAT_KEY}
                    plain = run_tap(plain_config, PLAIN_SDK_TAP)
        tap_rate = statistics.median(t["records"] / t["seconds"] for t in taps)
        one_rate = statistics.median(t["records"] / t["seconds"] for t in ones)
        bare_rate = statistics.median(n / s for n, s in bares)
        records = taps[0]["records"]
        cpu_us = statistics.median(t["cpu_s"] for t in taps) / records * 1e6
        print(
            f"| {stream} | {records} | {len(targets)} | {len(targets) / records:.4f} | "
            f"{tap_rate:,.0f} | {cpu_us:.1f} | {bare_rate:,.0f} | {tap_rate / bare_rate:.2f} | "
            f"{statistics.median(t['memory_mb'] for t in taps):.0f} | "
            f"{sum(t['parallel'] == 'processes' for t in taps)} of {runs} | {one_rate:,.0f} |"
        )
    print(
        f"\nFor calibration, a plain singer-sdk REST tap with the cookiecutter's defaults "
        f"(`benchmarks/plain_sdk_tap.py`) read the same Cekat pages at "
        f"{plain['records'] / plain['seconds']:,.0f} records/s (one run)."
    )


def latency(runs: int, conversations: int, per: int, latency_ms: float, width: int) -> None:
    print(
        f"\n## {latency_ms:.0f} ms latency, {conversations} conversations x {per}, "
        f"max_concurrency {width} (median of {runs} runs)\n"
    )
    convotic = conversations_of(conversations, per, seed=2)
    with ImitationServer(
        convotic=convotic, latency_s=latency_ms / 1000, rate_limiter=UNLIMITED
    ) as server:
        config = config_for("convotic_messages", server.base_url, convotic, max_concurrency=width)
        results = []
        for _ in range(runs):
            server.requests.clear()
            results.append((run_tap(config), len(server.requests)))
        seconds = statistics.median(r["seconds"] for r, _ in results)
        requests_made = results[0][1]
        bound = requests_made * latency_ms / 1000 / width
        print(
            f"records {results[0][0]['records']}, requests {requests_made}, wall {seconds:.2f} s, "
            f"bound requests x latency / {width} = {bound:.2f} s, ratio {seconds / bound:.2f}"
        )


def rate_limited(limit: int, window: float, conversations: int, per: int, width: int) -> None:
    print(
        f"\n## Rate limit {limit} per {window:.0f} s enforced by the server, "
        f"max_concurrency {width}\n"
    )
    convotic = conversations_of(conversations, per, seed=3)
    limiter = RateLimiter(limit, window, enforce=True)
    with ImitationServer(convotic=convotic, rate_limiter=limiter) as server:
        config = config_for(
            "convotic_messages",
            server.base_url,
            convotic,
            max_concurrency=width,
            rate_limit_window=window,
        )
        result = run_tap(config)
        statuses = [r.status for r in server.requests]
        ideal = len(statuses) / (limit / window)
        print(
            f"records {result['records']}, requests {len(statuses)}, 429s {statuses.count(429)} "
            f"({statuses.count(429) / len(statuses):.2%}), wall {result['seconds']:.1f} s, "
            f"requests / R = {ideal:.1f} s, ratio {result['seconds'] / ideal:.2f}"
        )


def scale(conversations: int, per: int, width: int) -> None:
    print(f"\n## Scale: {conversations} conversations x {per} messages, max_concurrency {width}\n")
    convotic = conversations_of(conversations, per, seed=4)
    with ImitationServer(convotic=convotic, rate_limiter=UNLIMITED) as server:
        result = run_tap(
            config_for("convotic_messages", server.base_url, convotic, max_concurrency=width)
        )
        print(
            f"records {result['records']}, wall {result['seconds']:.1f} s, "
            f"{result['records'] / result['seconds']:,.0f} rec/s, "
            f"peak memory {result['memory_mb']:.0f} MB (PSS, with any workers), "
            f"read {READ_BY[result['parallel']]}, "
            f"final STATE {result['state_bytes']:,} bytes = "
            f"{result['state_bytes'] / conversations:.0f} bytes per conversation"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="smaller sizes, one run each")
    args = parser.parse_args()
    runs = 1 if args.quick else 3
    # Bytecode, as an installed wheel has it (an editable install under PYTHONDONTWRITEBYTECODE
    # would recompile the package at every start).
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(ROOT / "tap_messages")], check=True
    )
    print(
        f"# tap-messages benchmark ({platform.python_version()}, {os.cpu_count()} cores, "
        f"{platform.machine()})"
    )
    if args.quick:
        zero_latency(runs, 20_000, 80, 250)
        latency(runs, 40, 250, 50, 8)
        rate_limited(20, 1.0, 30, 400, 8)
        scale(1000, 100, 8)
    else:
        zero_latency(runs, 150_000, 600, 250)
        latency(runs, 200, 250, 50, 8)
        rate_limited(20, 1.0, 60, 1000, 8)
        scale(10_000, 100, 8)


if __name__ == "__main__":
    main()
