"""The newcomer's tour: local vendor imitations -> meltano run -> an embedded DuckDB warehouse.

Run through `make demo`. Needs no keys and no database server. The imitation APIs run inside this
process (threads), so nothing outlives it, whether Meltano succeeds, fails or is interrupted.
`meltano run` loads with target-duckdb, then builds the dbt models (transform/) with dbt-duckdb;
the demo ends with what they answer. Set TARGET_DUCKDB_FILEPATH to load somewhere else than
output/warehouse.duckdb.
"""

from __future__ import annotations

import inspect
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from imitations import CekatData, ConvoticData, ImitationServer  # noqa: E402
from imitations.convotic_contacts import contact_rows  # noqa: E402

MELTANO = ROOT / ".venv-meltano" / "bin" / "meltano"
DUCKDB_PYTHON = ROOT / ".meltano" / "loaders" / "target-duckdb" / "venv" / "bin" / "python"
STREAMS = (
    "cekat_messages",
    "cekat_conversations",
    "cekat_contacts",
    "cekat_agents",
    "cekat_inboxes",
    "convotic_messages",
    "convotic_contacts",
    "quarantined_records",
)


def took(seconds: float | None) -> str:
    """A duration as a person reads it: 45s, 59m 31s, 2h 05m 10s, 1d 05h 07m; - for none."""
    if seconds is None:
        return "-"
    days, rest = divmod(round(seconds), 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours:02d}h {minutes:02d}m"
    if hours:
        return f"{hours}h {minutes:02d}m {secs:02d}s"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


ANSWER_HEADER = "Conversations per vendor and channel (dbt model analytics.conversations):"
REPORT = (
    """
import duckdb, json, sys
db = duckdb.connect(sys.argv[1], read_only=True)
served = json.loads(sys.argv[2])
for table in %STREAMS%:
    try:
        count = db.execute(f"select count(*) from tap_messages.{table}").fetchone()[0]
    except duckdb.CatalogException:
        count = 0
    print(f"  {table:22s} {count:6d} rows   (the API served {served[table]})")
print()
print("newest Cekat messages (times in UTC):")
for row in db.execute("select id, sent_by_type, status, updated_at, message "
                      "from tap_messages.cekat_messages order by updated_at desc, id limit 3"
                      ).fetchall():
    print("  ", row)
print("the start of a Convotic conversation:")
for *row, content in db.execute("select conversationid, id, timestamp, direction, content "
                                "from tap_messages.convotic_messages "
                                "order by conversationid, timestamp, id limit 3").fetchall():
    print("  ", (*row, json.loads(content)))
%TOOK%
print()
print(%HEADER%)
print(f"  {'vendor':9s} {'channel':10s} {'conversations':>13s} {'answered':>8s} "
      f"{'median first response':>21s} {'resolved':>8s} {'median resolution':>17s}")
for vendor, channel, n, answered, first, resolved, resolution in db.execute(
        "select vendor, channel, count(*), count(first_response_seconds), "
        "median(first_response_seconds), count(resolution_seconds), median(resolution_seconds) "
        "from analytics.conversations group by vendor, channel order by vendor, channel"
).fetchall():
    print(f"  {vendor:9s} {channel or '-':10s} {n:13d} {answered:8d} {took(first):>21s} "
          f"{resolved:8d} {took(resolution):>17s}")
""".replace("%STREAMS%", repr(STREAMS))
    .replace("%TOOK%", inspect.getsource(took))
    .replace("%HEADER%", repr(ANSWER_HEADER))
)


def _shown(path: Path) -> Path:
    """A path relative to the repository when it is inside it."""
    return path.relative_to(ROOT) if path.is_relative_to(ROOT) else path


def _stop_group(group: int) -> None:
    """Terminate what is left of a process group, then kill what ignores that."""
    for sig, grace in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 0.0)):
        try:
            os.killpg(group, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            try:
                os.killpg(group, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)


def main() -> int:
    """Serve sample data, load it with Meltano, stop the server, print what landed."""
    warehouse = Path(
        os.environ.get("TARGET_DUCKDB_FILEPATH") or ROOT / "output" / "warehouse.duckdb"
    )
    log = warehouse.with_name("demo-meltano.log")
    cekat = CekatData(n_messages=2000, n_conversations=40, seed=0)
    convotic = ConvoticData(n_conversations=20, messages_per_conversation=150, seed=0)
    served = {
        "cekat_messages": len(cekat.messages),
        "cekat_conversations": len(cekat.directory.conversations.rows()),
        "cekat_contacts": len(cekat.directory.contacts()),
        "cekat_agents": len(cekat.directory.agents()),
        "cekat_inboxes": len(cekat.directory.inboxes()),
        "convotic_messages": len(convotic.keys()),
        "convotic_contacts": len(contact_rows(convotic)),
        "quarantined_records": 0,
    }
    server = ImitationServer(cekat=cekat, convotic=convotic).start()
    try:
        env = {
            **os.environ,
            "TARGET_DUCKDB_FILEPATH": str(warehouse),
            "DBT_DUCKDB_PATH": str(warehouse),
            "TAP_MESSAGES_CEKAT_API_KEY": cekat.api_key,
            "TAP_MESSAGES_CEKAT_BASE_URL": server.base_url,
            "TAP_MESSAGES_CONVOTIC_API_KEY": convotic.api_key,
            "TAP_MESSAGES_CONVOTIC_BASE_URL": server.base_url,
            "TAP_MESSAGES_CONVOTIC_CONVERSATION_IDS": json.dumps(convotic.conversation_ids()),
        }
        # A fresh warehouse and --full-refresh: every demo shows the whole load, not an increment.
        warehouse.parent.mkdir(parents=True, exist_ok=True)
        for stale in (warehouse, warehouse.with_name(warehouse.name + ".wal")):
            stale.unlink(missing_ok=True)
        command = ["run", "--full-refresh", "tap-messages", "target-duckdb", "dbt-duckdb:build"]
        print(f"Imitation APIs at {server.base_url}; running: meltano {' '.join(command)}")
        started = time.monotonic()
        with log.open("w") as out:
            # Its own process group: a plugin Meltano leaves behind (on a timeout, say) is
            # stopped with it instead of running on against a stopped server.
            meltano = subprocess.Popen(
                [str(MELTANO), *command],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=out,
                start_new_session=True,
            )
            try:
                returncode = meltano.wait()
            finally:
                _stop_group(meltano.pid)
        seconds = time.monotonic() - started
    finally:
        server.stop()
    if returncode:
        lines = [line for line in log.read_text().splitlines() if "METRIC" not in line]
        print("\n".join(lines[-25:]), file=sys.stderr)
        print(
            f"\nmeltano run failed (exit {returncode}); the end of its log is above, "
            f"all of it in {_shown(log)}.",
            file=sys.stderr,
        )
        return returncode
    print(
        f"\nLoaded into {_shown(warehouse)} and modelled by dbt in {seconds:.1f} s "
        f"(Meltano's log: {log.name}):"
    )
    report = [str(DUCKDB_PYTHON), "-c", REPORT, str(warehouse), json.dumps(served)]
    return subprocess.run(report, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
