"""End to end into the embedded warehouse: `meltano run tap-messages target-duckdb`; `make demo`.

target-duckdb 0.8.0 exits 0 and loads nothing with duckdb 2.x, so these tests count rows.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from imitations import CekatData, ConvoticData
from tests.meltano_run import (
    DUCKDB_PYTHON,
    MELTANO,
    ROOT,
    Pipeline,
    duckdb_queries,
    own_system_dir,
    tap_env,
)
from tests.singer_run import tap_cli

pytestmark = pytest.mark.slow

STATE_ID = "dev:tap-messages-to-target-duckdb"


@pytest.fixture(autouse=True)
def _installed() -> None:
    """Meltano and target-duckdb come from `make setup`; CI must have run it."""
    if MELTANO.exists() and DUCKDB_PYTHON.exists():
        return
    problem = "Meltano or target-duckdb is not installed: run `make setup`."
    if os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}:
        pytest.fail(problem)
    pytest.skip(problem)


def test_meltano_run_into_duckdb_lands_every_row_and_merges_the_next_run(serve, tmp_path):
    cekat = CekatData(n_messages=1000, seed=61)
    convotic = ConvoticData(n_conversations=6, messages_per_conversation=100, seed=62)
    cekat.add_raw(
        {
            **cekat.messages[0],
            "id": "d0c0ffee-0000-4000-8000-000000000001",
            "created_at": "2026-01-01 07:00:05",
            "updated_at": "2026-01-01 07:00:05",
        }
    )
    server = serve(cekat=cekat, convotic=convotic)
    warehouse = tmp_path / "warehouse.duckdb"
    pipeline = Pipeline(tmp_path, {"TARGET_DUCKDB_FILEPATH": str(warehouse), **tap_env(server)})
    counts = (
        "select count(*), count(distinct id) from tap_messages.cekat_messages",
        "select count(*), count(distinct (conversationid, id)) from tap_messages.convotic_messages",
    )

    done = pipeline.run("tap-messages", "target-duckdb")

    # The first run reads every stream whole: each ends with ACTIVATE_VERSION, which
    # target-duckdb ignores (its rows all load, none is deleted).
    assert done.stderr.count("read whole, ACTIVATE_VERSION") == 7
    version, results = duckdb_queries(
        warehouse,
        *counts,
        "select cast(updated_at as varchar) from tap_messages.cekat_messages "
        "where id = 'd0c0ffee-0000-4000-8000-000000000001'",
        "select count(*) from tap_messages.cekat_agents",
        "select count(*) from tap_messages.convotic_contacts",
    )
    assert version == "1.1.3"  # the pin in meltano.yml: duckdb 2.x loads no rows
    assert results[0] == [[1001, 1001]]
    assert results[1] == [[600, 600]]
    assert results[2] == [["2026-01-01 00:00:05"]]
    assert results[3:] == [[[len(cekat.directory.agents())]], [[6]]]
    assert pipeline.state(STATE_ID)["bookmarks"]["cekat_messages"]["replication_key_value"]

    cekat.add_messages(25)
    revoked = sorted(cekat.ids())[::100]
    cekat.update_status(revoked, "revoked")
    convotic.add_messages("conv_0002", 12)
    pipeline.run("tap-messages", "target-duckdb")

    ids = ", ".join(f"'{i}'" for i in revoked)
    _, results = duckdb_queries(
        warehouse,
        *counts,
        f"select distinct status from tap_messages.cekat_messages where id in ({ids})",
    )
    assert results[0] == [[1026, 1026]]
    assert results[1] == [[612, 612]]
    assert results[2] == [["revoked"]]


def _processes_with(marker: str) -> list[int]:
    """Processes (other than this one) whose environment carries `marker`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if marker.encode() in (entry / "environ").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


FAILURES = {
    "loads": ({}, ""),
    "tap-refuses-its-config": ({"TAP_MESSAGES_START_DATE": "not a date"}, "start_date"),
    "meltano-kills-the-run": ({"MELTANO_RUN_TIMEOUT": "1"}, "timed out"),
}


@pytest.mark.parametrize("failure", list(FAILURES))
def test_demo_prints_what_landed_and_leaves_no_process_behind(tmp_path, failure):
    extra, says = FAILURES[failure]
    marker, tag = "TAP_MESSAGES_DEMO_TEST", uuid.uuid4().hex
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("TAP_MESSAGES_", "MELTANO_"))},
        marker: tag,
        "MELTANO_DATABASE_URI": f"sqlite:///{tmp_path / 'meltano.db'}",
        "TARGET_DUCKDB_FILEPATH": str(tmp_path / "demo.duckdb"),
        **own_system_dir(tmp_path),
        **extra,
    }

    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "demo.py")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert _processes_with(f"{marker}={tag}") == []
    if extra:
        assert done.returncode != 0
        assert "meltano run failed" in done.stderr
        assert says in done.stderr
        return
    assert done.returncode == 0, done.stderr[-3000:]
    assert "cekat_messages           2000 rows" in done.stdout
    assert "convotic_messages        3000 rows" in done.stdout
    landed = {
        name: (int(rows), int(served))
        for name, rows, served in re.findall(
            r"^  (\w+) +(\d+) rows +\(the API served (\d+)\)$", done.stdout, re.MULTILINE
        )
    }
    assert set(landed) == {s["tap_stream_id"] for s in tap_cli("--discover")["streams"]}
    assert all(rows == served for rows, served in landed.values()), landed
    assert landed["cekat_conversations"] == (40, 40)
    assert landed["convotic_contacts"] == (20, 20)
    assert "newest Cekat messages" in done.stdout
