"""The dbt models (transform/) built by Meltano's jobs on demo-like data, checked against Python.

For every conversation, `first_response_seconds`, the message counts, the channel, contact,
inbox and resolution that dbt built must equal what tests/dbt_models.py computes in Python from
the raw tables; every live raw message must be in `messages`, mapped as the contract says. DuckDB
always; PostgreSQL at TAP_MESSAGES_TEST_PG (default postgresql://postgres@127.0.0.1:5432/test),
failing rather than skipping under CI=true, one schema per test (and one for its models).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys

import pytest

from imitations import CekatData, ConvoticData
from tests.dbt_models import (
    DuckDBWarehouse,
    PostgresWarehouse,
    Warehouse,
    built_conversations,
    built_messages,
    expected_conversations,
    expected_messages,
    per_vendor_and_channel,
    raw_cekat_conversations,
    raw_messages,
)
from tests.meltano_run import MELTANO, ROOT, Pipeline, Postgres, tap_env

pytestmark = pytest.mark.slow

DBT = {
    kind: ROOT / ".meltano" / "utilities" / kind / "venv" / "bin" / "dbt"
    for kind in ("dbt-duckdb", "dbt-postgres")
}
ORPHAN = "0ff1ce00-0000-4000-8000-000000000021"  # a Cekat conversation with no record
T0 = dt.datetime(2026, 1, 3, 8, 0, tzinfo=dt.timezone.utc)


def _ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def _require(*paths) -> None:
    missing = [str(p.relative_to(ROOT)) for p in (MELTANO, *paths) if not p.exists()]
    if missing:
        problem = f"not installed: {', '.join(missing)}; run `make setup`."
        if _ci():
            pytest.fail(problem)
        pytest.skip(problem)


def _convotic_message(cid: str, n: int, direction: str, at: dt.datetime, **content) -> dict:
    sender = (
        {"id": f"ct_{cid[-6:]}", "name": "Yuki"}
        if direction == "inbound"
        else {
            "id": "usr_agent01",
            "name": "Support Team",
        }
    )
    return {
        "id": f"msg_{n:03d}",
        "conversationId": cid,
        "platform": "line",
        "direction": direction,
        "sender": sender,
        "content": content or {"type": "text", "text": f"{direction} {n}"},
        "timestamp": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def demo_like(seed: int) -> tuple[CekatData, ConvoticData]:
    """The demo's sizes, plus the cases a first response is easy to get wrong in."""
    cekat = CekatData(n_messages=2000, n_conversations=40, seed=seed)
    convotic = ConvoticData(n_conversations=20, messages_per_conversation=150, seed=seed + 1)
    s = dt.timedelta(seconds=1)
    cases = {
        # answered before the customer wrote, then never again: no first response
        "conv_answer_came_first": [("outbound", 0), ("inbound", 60)],
        # an answer in the very second of the question counts (0 s); the earlier one does not
        "conv_same_second": [("outbound", 0), ("inbound", 30), ("outbound", 30), ("inbound", 90)],
        "conv_outbound_only": [("outbound", 0), ("outbound", 10)],
        "conv_inbound_only": [("inbound", 0), ("inbound", 5)],
        # the first response is measured from the first inbound message, not a later one
        "conv_two_questions": [("inbound", 0), ("inbound", 100), ("outbound", 250)],
    }
    for cid, steps in cases.items():
        for n, (direction, offset) in enumerate(steps, start=1):
            convotic.add_raw(cid, _convotic_message(cid, n, direction, T0 + offset * s))
    # media with a caption only: `text` is the caption
    convotic.add_raw(
        "conv_two_questions",
        _convotic_message(
            "conv_two_questions",
            4,
            "inbound",
            T0 + 300 * s,
            type="image",
            url="https://media.convotic.com/x.jpg",
            caption="this one 🙏",
        ),
    )
    # A Cekat conversation whose record the API does not list (its messages still count).
    template = cekat.messages[0]
    for n, (kind, offset) in enumerate([("user", 0), ("system", 5), ("agent", 42)]):
        local = (T0 + offset * s).astimezone(dt.timezone(dt.timedelta(hours=7)))
        naive = local.strftime("%Y-%m-%d %H:%M:%S")
        cekat.add_raw(
            {
                **template,
                "id": f"0ff1ce00-0000-4000-8000-0000000000{n:02d}",
                "conversation_id": ORPHAN,
                "sent_by_type": kind,
                "created_at": naive,
                "updated_at": naive,
            }
        )
    return cekat, convotic


def assert_models_match_python(wh: Warehouse) -> dict:
    """The models equal the Python computation from the raw tables; returns the expectation."""
    messages = raw_messages(wh)
    records = raw_cekat_conversations(wh)
    want_messages = expected_messages(messages)
    got_messages = built_messages(wh)
    assert got_messages.keys() == want_messages.keys()
    assert got_messages == want_messages
    want = expected_conversations(messages, records)
    got = built_conversations(wh)
    assert got.keys() == want.keys()
    differing = {key: (got[key], want[key]) for key in want if got[key] != want[key]}
    example = next(iter(differing.items()), None)
    assert not differing, (
        f"{len(differing)} conversations differ, e.g. (built, expected): {example}"
    )
    return want


# The public models' columns, in order, as docs/product.md names them.
CONTRACT = {
    "messages": [
        "vendor", "conversation_id", "message_id", "sent_at", "direction", "sender_id",
        "sender_name", "content_type", "text", "channel", "status",
    ],
    "conversations": [
        "vendor", "conversation_id", "channel", "inbox_id", "contact_id", "first_message_at",
        "last_message_at", "messages", "inbound_messages", "outbound_messages",
        "first_response_seconds", "resolved_at", "resolution_seconds",
    ],
}  # fmt: skip


def public_columns(wh: Warehouse) -> dict[str, list[str]]:
    sql = (
        "select column_name from information_schema.columns "
        f"where table_schema = '{wh.models_schema}' and table_name = '{{}}' "
        "order by ordinal_position"
    )
    results = wh.queries(*(sql.format(model) for model in CONTRACT))
    return {model: [row[0] for row in rows] for model, rows in zip(CONTRACT, results, strict=True)}


def _checks_the_cases(want: dict, cekat: CekatData, convotic: ConvoticData) -> None:
    """The expectation itself covers the cases (so that matching it means something)."""
    frs = {cid: row["first_response_seconds"] for (v, cid), row in want.items() if v == "convotic"}
    assert frs["conv_answer_came_first"] is None
    assert frs["conv_same_second"] == 0
    assert frs["conv_outbound_only"] is None
    assert frs["conv_inbound_only"] is None
    assert frs["conv_two_questions"] == 250
    assert sum(row["messages"] for row in want.values()) == len(cekat.messages) + len(
        convotic.keys()
    )
    answered = [row for row in want.values() if row["first_response_seconds"]]
    assert len(answered) > 40
    assert want[("cekat", ORPHAN)]["messages"] == 3
    assert want[("cekat", ORPHAN)]["first_response_seconds"] == 42


# ---- DuckDB ---------------------------------------------------------------------------------


def test_duckdb_jobs_build_the_models_and_they_match_python(serve, tmp_path):
    _require(DBT["dbt-duckdb"])
    cekat, convotic = demo_like(seed=210)
    server = serve(cekat=cekat, convotic=convotic)
    warehouse = tmp_path / "warehouse.duckdb"
    pipeline = Pipeline(
        tmp_path,
        {
            "TARGET_DUCKDB_FILEPATH": str(warehouse),
            "DBT_DUCKDB_PATH": str(warehouse),
            **tap_env(server),
        },
    )
    wh = DuckDBWarehouse(warehouse)

    # The message streams alone: the directory tables are not loaded, the models still build.
    done = pipeline.run("tap-messages--messages", "target-duckdb", "dbt-duckdb:build")
    assert 'cekat_conversations" is not loaded yet' in done.stderr
    assert "cekat_conversations" not in wh.raw_tables()
    want = assert_models_match_python(wh)
    _checks_the_cases(want, cekat, convotic)
    assert all(row["resolved_at"] is None for row in want.values())

    # The demo's job: every stream, then the models.
    done = pipeline.run("messages-to-duckdb")
    assert re.search(r"Done\. PASS=\d+ WARN=1 ERROR=0", done.stderr), done.stderr[-3000:]
    # The one warning: the conversation Cekat lists no record for (severity warn).
    assert re.search(r"WARN 3 relationships_stg_cekat_messages_conversation_id", done.stderr)
    want = assert_models_match_python(wh)
    _checks_the_cases(want, cekat, convotic)
    assert public_columns(wh) == CONTRACT
    records = {r["id"]: r for r in cekat.directory.conversations.rows()}
    cekat_rows = {cid: row for (v, cid), row in want.items() if v == "cekat"}
    assert {cid: row["channel"] for cid, row in cekat_rows.items() if cid in records} == {
        cid: records[cid]["platform_type"] for cid in cekat_rows if cid in records
    }
    resolved = [row for row in cekat_rows.values() if row["resolution_seconds"] is not None]
    assert len(resolved) == sum(r["resolved_at"] is not None for r in records.values())


def test_demo_prints_what_the_models_answer_per_vendor_and_channel(tmp_path):
    _require(DBT["dbt-duckdb"])
    sys.path.insert(0, str(ROOT / "scripts"))
    from demo import ANSWER_HEADER, took

    warehouse = tmp_path / "demo.duckdb"
    env = Pipeline(tmp_path, {"TARGET_DUCKDB_FILEPATH": str(warehouse)}).env
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "demo.py")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    printed = done.stdout.split(ANSWER_HEADER, 1)[1].strip().splitlines()[1:]

    want = per_vendor_and_channel(assert_models_match_python(DuckDBWarehouse(warehouse)))
    expected = [
        f"{vendor} {channel} {n} {answered} {took(first)} {resolved} {took(resolution)}"
        for (vendor, channel), (n, answered, first, resolved, resolution) in sorted(want.items())
    ]
    assert [" ".join(line.split()) for line in printed] == [" ".join(e.split()) for e in expected]
    assert {vendor for vendor, _ in want} == {"cekat", "convotic"}
    assert len(expected) >= 4


# ---- PostgreSQL -----------------------------------------------------------------------------


@pytest.fixture
def dbt_postgres() -> None:
    """dbt-postgres installed (`make setup`): under CI=true it must be, else skip."""
    _require(DBT["dbt-postgres"])


pg = pytest.mark.postgres


@pg
def test_postgres_hourly_then_daily_jobs_build_the_models_and_they_match_python(
    serve, pipeline: Pipeline, postgres: Postgres, schema: str, dbt_postgres: None
):
    cekat, convotic = demo_like(seed=211)
    server = serve(cekat=cekat, convotic=convotic)
    pipeline.env.update(tap_env(server))
    wh = PostgresWarehouse(postgres, schema, f"{schema}_models")

    done = pipeline.run("messages-to-postgres")  # tap-messages--messages target-postgres dbt build
    assert "dbt build" in done.stderr
    assert "cekat_conversations" not in wh.raw_tables()
    want = assert_models_match_python(wh)
    _checks_the_cases(want, cekat, convotic)
    # Before the conversation records load, a Cekat conversation's channel is its inbox type.
    assert {row["channel"] for (v, _), row in want.items() if v == "cekat"} <= {
        "whatsapp",
        "livechat",
        "instagram",
        "messenger",
    }

    done = pipeline.run("directory-to-postgres")
    assert re.search(r"Done\. PASS=\d+ WARN=1 ERROR=0", done.stderr), done.stderr[-3000:]
    assert public_columns(wh) == CONTRACT
    want = assert_models_match_python(wh)
    _checks_the_cases(want, cekat, convotic)
    resolved = [row for (v, _), row in want.items() if v == "cekat" and row["resolved_at"]]
    assert resolved
    assert all(row["resolution_seconds"] > 0 for row in resolved)


@pg
def test_postgres_rows_the_loader_marked_deleted_leave_the_models(
    serve, pipeline: Pipeline, postgres: Postgres, schema: str, dbt_postgres: None
):
    cekat, convotic = demo_like(seed=212)
    server = serve(cekat=cekat, convotic=convotic)
    pipeline.env.update(tap_env(server))
    wh = PostgresWarehouse(postgres, schema, f"{schema}_models")
    pipeline.run("tap-messages", "target-postgres", "dbt-postgres:build")
    before = assert_models_match_python(wh)

    # What an ACTIVATE_VERSION soft delete leaves: _sdc_deleted_at set on rows no longer served.
    gone_conversation = cekat.conversation_ids()[0]
    record_gone = next(
        r["id"]
        for r in cekat.directory.conversations.rows()
        if r["resolved_at"] and r["id"] != gone_conversation
    )
    some_messages = sorted(m["id"] for m in cekat.messages)[::50]
    postgres.queries(
        f"update {wh.raw('cekat_messages')} set _sdc_deleted_at = now() "
        f"where conversation_id = '{gone_conversation}' "
        f"or id in ({', '.join(repr(i) for i in some_messages)})",
        # the first response of conv_two_questions: it now has none
        f"update {wh.raw('convotic_messages')} set _sdc_deleted_at = now() "
        "where \"conversationId\" = 'conv_two_questions' and direction = 'outbound'",
        f"update {wh.raw('cekat_conversations')} set _sdc_deleted_at = now() "
        f"where id = '{record_gone}'",
    )
    pipeline.run("dbt-postgres:build")

    after = assert_models_match_python(wh)
    assert ("cekat", gone_conversation) in before
    assert ("cekat", gone_conversation) not in after
    assert after[("convotic", "conv_two_questions")]["first_response_seconds"] is None
    assert after[("convotic", "conv_two_questions")]["outbound_messages"] == 0
    assert before[("cekat", record_gone)]["resolved_at"] is not None
    assert after[("cekat", record_gone)]["resolved_at"] is None
    live = postgres.value(
        f"select count(*) from {wh.raw('cekat_messages')} where _sdc_deleted_at is null"
    ) + postgres.value(
        f"select count(*) from {wh.raw('convotic_messages')} where _sdc_deleted_at is null"
    )
    assert postgres.value(f"select count(*) from {wh.model('messages')}") == live
    assert live < sum(row["messages"] for row in before.values())


@pg
def test_postgres_source_freshness_warns_then_fails_as_the_load_ages(
    serve, pipeline: Pipeline, postgres: Postgres, schema: str, dbt_postgres: None
):
    server = serve(
        cekat=CekatData(n_messages=200, n_conversations=10, seed=213),
        convotic=ConvoticData(n_conversations=2, messages_per_conversation=20, seed=214),
    )
    pipeline.env.update(tap_env(server))
    pipeline.run("tap-messages", "target-postgres")
    table = f'"{schema}".cekat_messages'

    fresh = pipeline.meltano("invoke", "dbt-postgres:freshness")
    assert re.search(r"PASS freshness of tap_messages\.cekat_messages", fresh.stderr)
    assert "quarantined_records" not in fresh.stderr  # no freshness expected there

    hours_ago = "update {} set _sdc_batched_at = now() at time zone 'UTC' - interval '{} hours'"
    postgres.queries(hours_ago.format(table, 5))
    stale = pipeline.meltano("invoke", "dbt-postgres:freshness")
    assert re.search(r"WARN freshness of tap_messages\.cekat_messages", stale.stderr)

    postgres.queries(hours_ago.format(table, 13))
    failed = pipeline.meltano("invoke", "dbt-postgres:freshness", check=False)
    assert failed.returncode != 0
    assert re.search(r"ERROR STALE freshness of tap_messages\.cekat_messages", failed.stderr)
