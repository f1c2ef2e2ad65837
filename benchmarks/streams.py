"""Rows and requests per stream for a demo-sized workspace and for one of 10,000 conversations.

Run: .venv/bin/python benchmarks/streams.py (a full run of every stream, `page_size` 100).
"""

from __future__ import annotations

import collections
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from imitations import CekatData, ConvoticData, ImitationServer  # noqa: E402
from tests.conftest import cekat_config, convotic_config  # noqa: E402
from tests.singer_run import run_tap  # noqa: E402

STREAM_OF_PATH = {
    "/api/messages": "cekat_messages",
    "/api/conversations": "cekat_conversations",
    "/api/contacts": "cekat_contacts",
    "/api/agents": "cekat_agents",
    "/api/inboxes": "cekat_inboxes",
    "/v1/messages": "convotic_messages",
    "/v1/contacts": "convotic_contacts",
}
WORKSPACES = {
    "demo-sized": (
        {"n_messages": 2000, "n_conversations": 40},
        {"n_conversations": 20, "messages_per_conversation": 150},
    ),
    "10,000 Cekat conversations": (
        {"n_messages": 50_000, "n_conversations": 10_000, "n_inboxes": 8},
        {"n_conversations": 20, "messages_per_conversation": 150},
    ),
}


def measure(name: str, cekat_size: dict[str, int], convotic_size: dict[str, int]) -> None:
    cekat = CekatData(seed=0, **cekat_size)
    convotic = ConvoticData(seed=0, **convotic_size)
    with ImitationServer(cekat=cekat, convotic=convotic) as server:
        config = {
            **cekat_config(server, page_size=100),
            "convotic": convotic_config(server, convotic.conversation_ids())["convotic"],
        }
        started = time.monotonic()
        run = run_tap(config)
        seconds = time.monotonic() - started
        assert run.returncode == 0, run.stderr[-2000:]
        requests = collections.Counter(STREAM_OF_PATH.get(r.path, r.path) for r in server.requests)
    print(f"\n## {name}: one full run in {seconds:.1f} s\n")
    print("| stream | rows | requests |")
    print("| --- | ---: | ---: |")
    for stream in STREAM_OF_PATH.values():
        print(f"| {stream} | {len(run.records(stream)):,} | {requests[stream]:,} |")


def main() -> None:
    for name, (cekat_size, convotic_size) in WORKSPACES.items():
        measure(name, cekat_size, convotic_size)


if __name__ == "__main__":
    main()
