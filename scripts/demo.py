"""The newcomer's tour: local vendor imitations -> meltano run -> an embedded DuckDB warehouse.

Run through `make demo`. Needs no keys and no database server; leaves no process behind.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MELTANO = ROOT / ".venv-meltano" / "bin" / "meltano"
WAREHOUSE = ROOT / "output" / "warehouse.duckdb"
REPORT = """
import duckdb, sys
db = duckdb.connect(sys.argv[1], read_only=True)
for table in ("cekat_messages", "convotic_messages", "quarantined_records"):
    try:
        count = db.execute(f"select count(*) from tap_messages.{table}").fetchone()[0]
    except duckdb.CatalogException:
        count = 0
    print(f"{table:22s} {count:6d} rows")
print()
print("newest Cekat messages:")
for row in db.execute("select id, status, updated_at, message from tap_messages.cekat_messages "
                      "order by updated_at desc limit 3").fetchall():
    print("  ", row)
print("a Convotic conversation:")
for row in db.execute("select conversationid, id, timestamp, direction from "
                      "tap_messages.convotic_messages order by conversationid, timestamp limit 3"
                      ).fetchall():
    print("  ", row)
"""


def main() -> int:
    """Serve sample data, load it with Meltano, print what landed, stop the server."""
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "imitations",
            "--cekat-messages",
            "2000",
            "--convotic-conversations",
            "20",
            "--convotic-messages",
            "150",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        info = json.loads(server.stdout.readline())
        env = {
            **os.environ,
            "TAP_MESSAGES_CEKAT_API_KEY": info["cekat_api_key"],
            "TAP_MESSAGES_CEKAT_BASE_URL": info["base_url"],
            "TAP_MESSAGES_CONVOTIC_API_KEY": info["convotic_api_key"],
            "TAP_MESSAGES_CONVOTIC_BASE_URL": info["base_url"],
            "TAP_MESSAGES_CONVOTIC_CONVERSATION_IDS": json.dumps(info["convotic_conversation_ids"]),
        }
        WAREHOUSE.parent.mkdir(exist_ok=True)
        print(
            f"Imitation APIs at {info['base_url']}; running meltano run tap-messages target-duckdb"
        )
        subprocess.run(
            [str(MELTANO), "run", "tap-messages", "target-duckdb"], cwd=ROOT, env=env, check=True
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
    loader_python = ROOT / ".meltano" / "loaders" / "target-duckdb" / "venv" / "bin" / "python"
    print(f"\nLanded in {WAREHOUSE.relative_to(ROOT)}:")
    subprocess.run([str(loader_python), "-c", REPORT, str(WAREHOUSE)], check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
