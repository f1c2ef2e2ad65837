"""Run the imitation server: `python -m imitations --cekat-messages 3000 ...`."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from types import FrameType

from imitations.cekat import CekatData
from imitations.convotic import ConvoticData
from imitations.faults import rate_limited
from imitations.server import ImitationServer


def _parser() -> argparse.ArgumentParser:
    """Describe the command line."""
    p = argparse.ArgumentParser(prog="python -m imitations", description=__doc__)
    p.add_argument("--cekat-messages", type=int, default=1000)
    p.add_argument("--cekat-conversations", type=int, default=10)
    p.add_argument("--cekat-inboxes", type=int, default=2)
    p.add_argument(
        "--cekat-order", choices=["oldest_first", "newest_first"], default="oldest_first"
    )
    p.add_argument("--cekat-order-by", choices=["created_at", "updated_at"], default="created_at")
    p.add_argument("--cekat-max-limit", type=int, default=None)
    p.add_argument("--convotic-conversations", type=int, default=5)
    p.add_argument("--convotic-messages", type=int, default=100, help="messages per conversation")
    p.add_argument("--convotic-max-burst", type=int, default=30)
    p.add_argument(
        "--convotic-truncate", choices=["keep_earliest", "keep_latest"], default="keep_earliest"
    )
    p.add_argument("--latency-ms", type=float, default=0.0)
    p.add_argument("--rate-limit", type=int, default=None, help="requests per window per API key")
    p.add_argument("--rate-window", type=float, default=60.0, help="rate-limit window in seconds")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--seed", type=int, default=0)
    return p


def main(argv: list[str] | None = None) -> int:
    """Build the data, serve until SIGTERM/SIGINT, print one JSON line describing the server."""
    args = _parser().parse_args(argv)
    cekat = CekatData(
        n_messages=args.cekat_messages,
        n_conversations=args.cekat_conversations,
        n_inboxes=args.cekat_inboxes,
        seed=args.seed,
        order=args.cekat_order,
        order_by=args.cekat_order_by,
        max_limit=args.cekat_max_limit,
    )
    convotic = ConvoticData(
        n_conversations=args.convotic_conversations,
        messages_per_conversation=args.convotic_messages,
        seed=args.seed,
        max_burst=args.convotic_max_burst,
        truncate=args.convotic_truncate,
    )
    limiter = rate_limited(args.rate_limit, args.rate_window) if args.rate_limit else None
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    server = ImitationServer(
        cekat,
        convotic,
        host=args.host,
        port=args.port,
        latency_s=args.latency_ms / 1000,
        rate_limiter=limiter,
    )
    with server:
        info = {
            "base_url": server.base_url,
            "cekat_api_key": cekat.api_key,
            "convotic_api_key": convotic.api_key,
            "convotic_conversation_ids": convotic.conversation_ids(),
        }
        sys.stdout.write(json.dumps(info) + "\n")
        sys.stdout.flush()
        while not stop.wait(0.5):
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
