"""What a Cekat incremental run costs against the pages its lookback covers, in every served order.

Run: .venv/bin/python benchmarks/increments.py. A day of messages (about 1,650, one every ~50 s,
a quarter updated within half an hour), a full sync, 30 new messages, then one increment per
lookback. The bound (issue 22): newest first, the pages down to the first one wholly older than
bookmark - lookback, plus 3; oldest first, the same plus log2(page count) for the search.
"""

from __future__ import annotations

import math
import sys
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from imitations import CekatData, ImitationServer  # noqa: E402
from tests.conftest import cekat_config  # noqa: E402
from tests.singer_run import run_messages  # noqa: E402

ORDERS = [(o, k) for o in ("newest_first", "oldest_first") for k in ("created_at", "updated_at")]
PAGE = 100


def row(*cells: object) -> None:
    print("| " + " | ".join(str(c) for c in cells) + " |")


def main() -> None:
    print("\n## Cekat increments: requests against the pages the lookback covers\n")
    row("served", "lookback", "rows in lookback", "increment requests", "bound", "full sync")
    row(*["---"] * 2, *["---:"] * 4)
    for order, key in ORDERS:
        for hours in (1, 2, 6):
            data = CekatData(n_messages=1650, seed=220, order=order, order_by=key)
            with ImitationServer(cekat=data) as server:
                first = run_messages(cekat_config(server))
                full = len(server.requests)
                data.add_messages(30)
                bookmark = data.utc_of(max(m["updated_at"] for m in data.messages[:1650]))
                floor = bookmark - timedelta(hours=hours)
                covered = sum(data.utc_of(m["created_at"]) >= floor for m in data.messages)
                pages = math.ceil(len(data.messages) / PAGE)
                search = math.ceil(math.log2(pages)) if order == "oldest_first" else 0
                bound = math.ceil(covered / PAGE) + 1 + search + 3
                server.requests.clear()
                config = cekat_config(server, lookback=f"PT{hours}H")
                second = run_messages(config, first.final_state)
                assert second.returncode == 0, second.stderr[-2000:]
                row(f"{order} by {key}", f"{hours} h", covered, len(server.requests), bound, full)


if __name__ == "__main__":
    main()
