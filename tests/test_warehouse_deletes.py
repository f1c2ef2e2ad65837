"""Deletes reach PostgreSQL through `meltano run` (guarantee 8); a cut-short run deletes nothing.

After a run that read a stream's whole scope, target-postgres marks (`_sdc_deleted_at`) or with
`hard_delete` removes exactly the rows the vendor no longer serves; a run killed, stopped by an
error, short of something, incremental, filtered or one shard of several marks nothing; a row
that comes back is live again. Each test prints `deleted / marked / wrongly marked` per table.
Same database and fixtures as tests/test_warehouse_postgres.py (CI=true: never skipped).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import threading
import time
import typing as t

import pytest

from imitations import CekatData, ConvoticData
from imitations.convotic_contacts import contact_rows
from tap_messages.convotic.messages import shard_of
from tests.meltano_run import MELTANO, ROOT, Pipeline, Postgres, tap_env
from tests.test_no_message_lost import hole_at
from tests.test_warehouse_postgres import DIRECTORY, KEYS, Warehouse

# The database, a schema and a Meltano system database per test, as the warehouse tests have them.

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

TABLES = (*KEYS, *DIRECTORY)
FULL = ("--full-refresh", "tap-messages", "target-postgres")
MESSAGES_FULL = ("--full-refresh", "tap-messages--messages", "target-postgres")
Key = str | tuple[str, str]
Gone = dict[str, set[Key]]


def vendors(seed: int, n_messages: int = 300) -> tuple[CekatData, ConvoticData]:
    """A small workspace at each vendor."""
    cekat = CekatData(n_messages=n_messages, n_conversations=12, n_inboxes=3, seed=seed)
    return cekat, ConvoticData(n_conversations=4, messages_per_conversation=25, seed=seed)


def delete_some(cekat: CekatData, convotic: ConvoticData) -> Gone:
    """What the issue measured the vendors deleting: 14 rows over seven tables."""
    directory = cekat.directory

    def ids(rows: t.Iterable[dict[str, t.Any]], n: int) -> set[Key]:
        return set(sorted(str(row["id"]) for row in rows)[:n])

    gone: Gone = {
        "cekat_agents": ids(directory.agents(), 2),
        "cekat_contacts": ids(directory.contacts(), 2),
        "cekat_conversations": ids(directory.conversations.rows(), 1),
        "cekat_inboxes": ids(directory.inboxes(), 1),
        "convotic_contacts": ids(contact_rows(convotic), 2),
        "cekat_messages": set(sorted(cekat.ids())[7::97][:3]),
        "convotic_messages": {
            (cid, m["id"])
            for cid in convotic.conversation_ids()[:3]
            for m in convotic.messages_of(cid)[5:6]
        },
    }
    directory.delete(str(k) for s in DIRECTORY[:4] for k in gone[s])
    convotic.delete_contacts(str(k) for k in gone["convotic_contacts"])
    assert cekat.delete(str(k) for k in gone["cekat_messages"]) == 3
    assert convotic.delete(t.cast("set[tuple[str, str]]", gone["convotic_messages"])) == 3
    return gone


def restore(cekat: CekatData, convotic: ConvoticData, gone: Gone) -> None:
    """The vendors serve every deleted row again."""
    cekat.directory.restore(str(k) for s in DIRECTORY[:4] for k in gone[s])
    convotic.restore_contacts(str(k) for k in gone["convotic_contacts"])
    assert cekat.restore(str(k) for k in gone["cekat_messages"]) == 3
    assert convotic.restore(t.cast("set[tuple[str, str]]", gone["convotic_messages"])) == 3


def keys_where(wh: Warehouse, stream: str, where: str) -> set[Key]:
    """The primary keys of the table's rows that match `where` (none if there is no table)."""
    if stream not in wh.tables():
        return set()
    keys = '"stream", "record_key"' if stream == "quarantined_records" else wh.keys(stream)
    rows = wh.pg.rows(f"select {keys} from {wh.table(stream)} where {where}")
    return {tuple(row) if len(row) > 1 else row[0] for row in rows}


def marked(wh: Warehouse, stream: str) -> set[Key]:
    """The rows the loader marked deleted."""
    return keys_where(wh, stream, "_sdc_deleted_at is not null")


def assert_marked(wh: Warehouse, expected: Gone, label: str, gone: Gone | None = None) -> None:
    """Exactly `expected` is marked in every table, nothing else; prints the counts per table.

    The counts: rows the vendors deleted (`gone`, by default `expected`), rows marked, rows
    wrongly marked or left unmarked.
    """
    gone = expected if gone is None else gone
    counts, found = {}, {}
    for stream in (*TABLES, "quarantined_records"):
        found[stream], wanted = marked(wh, stream), expected.get(stream, set())
        wrong = len(found[stream] ^ wanted)
        counts[stream] = f"{len(gone.get(stream, ()))}/{len(found[stream])}/{wrong}"
    print(f"\n{label} (deleted/marked/wrongly): {json.dumps(counts)}")
    assert found == {stream: expected.get(stream, set()) for stream in found}


def tap_said(done: subprocess.CompletedProcess[str], stream: str) -> str:
    """What the tap logged about the stream's ACTIVATE_VERSION in a meltano run."""
    said = [
        line for line in done.stderr.splitlines() if f"{stream}: " in line and "ACTIVATE" in line
    ]
    assert len(said) == 1, said
    return said[0]


def test_deletes_are_marked_after_a_whole_read_and_a_row_that_comes_back_lives_again(
    serve, pipeline: Pipeline, postgres: Postgres, schema: str
):
    cekat, convotic = vendors(seed=201)
    bad = {**cekat.messages[0], "id": "bad00000-0000-4000-8000-000000000201", "status": 7}
    cekat.add_raw(bad)  # quarantined on the first run, then gone from the vendor
    server = serve(cekat=cekat, convotic=convotic)
    pipeline.env.update(tap_env(server))
    wh = Warehouse(postgres, schema)

    pipeline.run()
    assert_marked(wh, {}, "first load")
    before = {stream: wh.count(stream) for stream in TABLES}
    assert (before["cekat_messages"], before["convotic_messages"]) == (300, 100)
    assert wh.count("quarantined_records") == 1

    assert cekat.delete([bad["id"]]) == 1
    gone = delete_some(cekat, convotic)
    done = pipeline.run()  # incremental: the directory read whole, the messages from bookmarks
    assert_marked(wh, {s: gone[s] for s in DIRECTORY}, "incremental run", gone)
    assert "incremental run" in tap_said(done, "cekat_messages")
    assert "incremental run" in tap_said(done, "convotic_messages")

    done = pipeline.run(*FULL)  # the weekly job: everything since start_date
    assert_marked(wh, gone, "full refresh")
    assert "read whole" in tap_said(done, "convotic_messages")
    assert {stream: wh.count(stream) for stream in TABLES} == before, "soft: rows stay"
    assert (
        wh.pg.value(
            f"select count(*) from {wh.table('cekat_messages')} "
            "where _sdc_deleted_at is not null and message is not null and status is not null"
        )
        == 3
    ), "a soft-deleted row keeps its data"

    restore(cekat, convotic, gone)
    pipeline.run(*FULL)
    assert_marked(wh, {}, "restored, full refresh")
    assert {stream: wh.count(stream) for stream in TABLES} == before


def test_hard_delete_removes_exactly_the_rows_the_vendors_deleted(
    serve, pipeline: Pipeline, postgres: Postgres, schema: str
):
    cekat, convotic = vendors(seed=202)
    server = serve(cekat=cekat, convotic=convotic)
    pipeline.env.update(tap_env(server))
    wh = Warehouse(postgres, schema)
    pipeline.run()
    kept = {stream: keys_where(wh, stream, "true") for stream in TABLES}

    gone = delete_some(cekat, convotic)
    pipeline.run(*FULL, env={"TARGET_POSTGRES_HARD_DELETE": "true"})
    after = {stream: keys_where(wh, stream, "true") for stream in TABLES}
    removed = {stream: kept[stream] - after[stream] for stream in TABLES}
    counts = {s: f"{len(gone[s])}/{len(removed[s])}" for s in TABLES}
    print(f"\nhard delete (deleted/removed): {json.dumps(counts)}")
    assert removed == gone
    assert all(after[s] == kept[s] - gone[s] for s in TABLES)
    assert_marked(wh, {}, "hard delete")


class Gate:
    """Holds Cekat's message requests after the first three until opened: a run that cannot end."""

    def __init__(self) -> None:
        self.closed = False
        self.opened = threading.Event()
        self.reached = threading.Event()  # a request was held
        self.passed = 0

    def __call__(self, request: t.Any) -> None:
        if self.closed and request.path == "/api/messages":
            self.passed += 1
            if self.passed > 3:
                self.reached.set()
                self.opened.wait(300)


def test_a_full_refresh_killed_part_way_marks_nothing_and_the_next_whole_one_marks_the_deletes(
    serve, pipeline: Pipeline, postgres: Postgres, schema: str
):
    cekat, convotic = vendors(seed=203, n_messages=3000)
    gate = Gate()
    server = serve(cekat=cekat, convotic=convotic, fault=gate)
    pipeline.env.update(tap_env(server))
    wh = Warehouse(postgres, schema)
    pipeline.run("tap-messages--messages", "target-postgres")
    first_version = wh.pg.value(f"select max(_sdc_table_version) from {wh.table('cekat_messages')}")
    gone = delete_some(cekat, convotic)
    gone = {s: gone[s] for s in KEYS}
    newer = f"_sdc_table_version > {first_version}"

    gate.closed = True
    killed = subprocess.Popen(
        [str(MELTANO), "run", *MESSAGES_FULL],
        cwd=ROOT,
        env={**pipeline.env, "TARGET_POSTGRES_BATCH_SIZE_ROWS": "100"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # Meltano, the tap and the target: one process group
    )
    try:
        assert gate.reached.wait(300), "the tap never asked for a fourth page"
        deadline = time.monotonic() + 300
        while not keys_where(wh, "cekat_messages", newer):  # the killed run's rows have landed
            assert killed.poll() is None, "the run ended before rows landed"
            assert time.monotonic() < deadline, "no rows landed"
            time.sleep(0.2)
    finally:
        os.killpg(killed.pid, signal.SIGKILL)
        killed.wait(60)
        gate.opened.set()
    assert killed.returncode == -signal.SIGKILL
    landed = len(keys_where(wh, "cekat_messages", newer))
    print(f"\nkilled after {landed} of {3000 - 3} rows of cekat_messages had landed again")
    assert 0 < landed < 3000 - 3
    assert_marked(wh, {}, "killed full refresh", gone)

    refused = pipeline.meltano("run", *MESSAGES_FULL, check=False)
    assert refused.returncode != 0
    assert "already running" in refused.stderr
    pipeline.run("--force", *MESSAGES_FULL)
    assert_marked(wh, gone, "the next full refresh, --force")


def test_one_shard_of_two_marks_nothing_and_a_whole_read_marks_both_shards_deletes(
    serve, pipeline: Pipeline, postgres: Postgres, schema: str
):
    convotic = ConvoticData(n_conversations=6, messages_per_conversation=20, seed=204)
    server = serve(convotic=convotic)
    pipeline.env.update(tap_env(server))
    wh = Warehouse(postgres, schema)
    pipeline.run()
    shards = {cid: shard_of(cid, 2) for cid in convotic.conversation_ids()}
    assert set(shards.values()) == {0, 1}
    deleted = {
        (cid, m["id"])
        for shard in (0, 1)
        for cid in [next(c for c, s in shards.items() if s == shard)]
        for m in convotic.messages_of(cid)[3:5]
    }
    assert convotic.delete(deleted) == 4
    gone: Gone = {"convotic_messages": set(deleted)}

    for index in ("0", "1"):
        done = pipeline.run(
            *FULL,
            env={
                "TAP_MESSAGES_CONVOTIC_SHARD_COUNT": "2",
                "TAP_MESSAGES_CONVOTIC_SHARD_INDEX": index,
                "MELTANO_RUN_STATE_ID_SUFFIX": f"shard-{index}",
            },
        )
        assert "one shard of 2" in tap_said(done, "convotic_messages")
        assert_marked(wh, {}, f"full refresh of shard {index} of 2", gone)
    pipeline.run(*FULL)
    assert_marked(wh, gone, "unsharded full refresh")


def test_runs_short_of_their_scope_failed_or_filtered_mark_nothing_until_a_whole_read(
    serve, pipeline: Pipeline, postgres: Postgres, schema: str
):
    cekat, convotic = vendors(seed=205, n_messages=1200)
    server = serve(cekat=cekat, convotic=convotic)
    pipeline.env.update(tap_env(server))
    wh = Warehouse(postgres, schema)
    pipeline.run()
    gone = delete_some(cekat, convotic)
    ids = convotic.conversation_ids()

    # Short: a Cekat page that stays empty, a Convotic conversation the API does not know.
    hole = hole_at(cekat, 500, 600)
    server.fault = lambda request: hole(request) if request.path == "/api/messages" else None
    done = pipeline.run(
        *MESSAGES_FULL,
        env={"TAP_MESSAGES_CONVOTIC_CONVERSATION_IDS": json.dumps([*ids, "conv_missing"])},
    )
    assert "shortfalls" in tap_said(done, "cekat_messages")
    assert "shortfalls" in tap_said(done, "convotic_messages")
    assert_marked(wh, {}, "full refresh with shortfalls", gone)

    # Stopped by an error: an invalid record, newest, so served last, with on_invalid_record=fail.
    server.fault = None
    late = dt.datetime(2026, 6, 1, 8, tzinfo=dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
    bad = {**cekat.messages[0], "id": "bad00000-0000-4000-8000-000000000205", "status": 7}
    cekat.add_raw({**bad, "created_at": late, "updated_at": late})
    failed = pipeline.meltano(
        "run", *MESSAGES_FULL, env={"TAP_MESSAGES_ON_INVALID_RECORD": "fail"}, check=False
    )
    assert failed.returncode != 0
    assert "fails the schema" in failed.stderr
    assert_marked(wh, {}, "full refresh stopped by an error", gone)
    cekat.delete([bad["id"]])

    # Filtered: a new inbox_ids filter, a platform filter. Rows outside stay live.
    inbox = cekat.inbox_ids()[0]
    platform = contact_rows(convotic)[0]["platform"]
    done = pipeline.run(
        *FULL,
        env={
            "TAP_MESSAGES_CEKAT_INBOX_IDS": json.dumps([inbox]),
            "TAP_MESSAGES_CONVOTIC_PLATFORM": platform,
        },
    )
    filtered = ("cekat_messages", "cekat_conversations", "convotic_messages", "convotic_contacts")
    for stream in filtered:
        assert "narrows its scope" in tap_said(done, stream)
    unfiltered = ("cekat_agents", "cekat_contacts", "cekat_inboxes")
    assert_marked(wh, {s: gone[s] for s in unfiltered}, "full refresh, filtered", gone)
    outside = f"inbox->>'id' <> '{inbox}' and _sdc_deleted_at is null"
    assert keys_where(wh, "cekat_messages", outside), "rows outside the filter stay live"

    pipeline.run(*FULL)
    assert_marked(wh, gone, "whole full refresh")


def test_convotic_contacts_that_cannot_be_listed_whole_mark_nothing(
    serve, pipeline: Pipeline, postgres: Postgres, schema: str
):
    convotic = ConvoticData(seed=206)
    for i in range(105):  # one platform holds more than the 100 an answer lists
        convotic.add_conversation(f"conv_{i:04d}", 1, platform="line")
    server = serve(convotic=convotic)
    pipeline.env.update(
        {**tap_env(server), "TAP_MESSAGES__SELECT": json.dumps(["convotic_contacts.*"])}
    )
    wh = Warehouse(postgres, schema)
    pipeline.run()
    loaded = keys_where(wh, "convotic_contacts", "true")
    assert len(loaded) == 100
    deleted = set(sorted(t.cast("set[str]", loaded))[:2])
    convotic.delete_contacts(deleted)
    done = pipeline.run()
    assert "shortfalls" in tap_said(done, "convotic_contacts")
    assert_marked(wh, {}, "convotic_contacts listed in part", {"convotic_contacts": deleted})


def test_narrowing_start_date_or_conversation_ids_marks_the_rows_left_outside_until_widened(
    serve, pipeline: Pipeline, postgres: Postgres, schema: str
):
    cekat, convotic = vendors(seed=207)
    server = serve(cekat=cekat, convotic=convotic)
    pipeline.env.update(tap_env(server))
    wh = Warehouse(postgres, schema)
    pipeline.run()
    ids = convotic.conversation_ids()
    times = sorted(cekat.utc_of(m["created_at"]) for m in cekat.messages)
    start = times[60] + dt.timedelta(milliseconds=500)  # between two whole seconds
    outside: Gone = {
        "cekat_messages": {
            m["id"] for m in cekat.messages if cekat.utc_of(m["created_at"]) < start
        },
        "convotic_messages": {
            (cid, m["id"])
            for cid in ids
            for m in convotic.messages_of(cid)
            if cid == ids[-1] or dt.datetime.fromisoformat(m["timestamp"][:-1] + "+00:00") < start
        },
    }
    assert 60 <= len(outside["cekat_messages"]) < 300

    pipeline.run(
        *MESSAGES_FULL,
        env={
            "TAP_MESSAGES_START_DATE": start.isoformat(),
            "TAP_MESSAGES_CONVOTIC_CONVERSATION_IDS": json.dumps(ids[:-1]),
        },
    )
    assert_marked(wh, outside, "start_date later, a conversation removed", {})
    pipeline.run(*MESSAGES_FULL)
    assert_marked(wh, {}, "the scope widened again")
