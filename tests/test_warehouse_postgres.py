"""End to end: `meltano run tap-messages target-postgres` from the imitations into PostgreSQL.

Needs the PostgreSQL named by TAP_MESSAGES_TEST_PG (default postgresql://postgres@127.0.0.1:5432/test)
and `make setup`. With CI=true a missing database fails these tests; elsewhere they skip, saying
how to provide one. Each test loads into its own schema with its own Meltano system database.
"""

from __future__ import annotations

import datetime as dt
import json
import typing as t

import pytest

from imitations import CekatData, ConvoticData, ImitationServer
from imitations.convotic_contacts import contact_rows
from tests.meltano_run import Pipeline, Postgres, tap_env
from tests.singer_run import run_tap

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

UTC = dt.timezone.utc
BOOKMARK_FORMAT = 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"'
KEYS = {"cekat_messages": '"id"', "convotic_messages": '"conversationId", "id"'}
DIRECTORY = (
    "cekat_conversations",
    "cekat_contacts",
    "cekat_agents",
    "cekat_inboxes",
    "convotic_contacts",
)


class Warehouse:
    """SQL checks on one test schema."""

    def __init__(self, postgres: Postgres, schema: str) -> None:
        self.pg, self.schema = postgres, schema

    def table(self, name: str) -> str:
        return f'"{self.schema}"."{name}"'

    @staticmethod
    def keys(stream: str) -> str:
        """The stream's primary key columns, quoted."""
        return KEYS.get(stream, '"id"')

    def count(self, stream: str) -> int:
        return int(self.pg.value(f"select count(*) from {self.table(stream)}"))

    def tables(self) -> set[str]:
        """The tables the loads made in the schema."""
        sql = (
            f"select table_name from information_schema.tables where table_schema = '{self.schema}'"
        )
        return {row[0] for row in self.pg.rows(sql)}

    def duplicate_keys(self, stream: str) -> int:
        keys = self.keys(stream)
        return int(
            self.pg.value(f"select count(*) - count(distinct ({keys})) from {self.table(stream)}")
        )

    def checksum(self, stream: str, where: str = "true") -> str:
        """md5 over every row's vendor columns (the target's _sdc_* columns left out), by key."""
        return str(
            self.pg.value(
                f"select md5(coalesce(string_agg(("
                f"to_jsonb(r) - array(select column_name::text from information_schema.columns "
                f"where table_schema = '{self.schema}' and table_name = '{stream}' "
                f"and column_name like '\\_sdc\\_%'))::text, E'\\n' "
                f"order by {self.keys(stream)}), ''))"
                f" from {self.table(stream)} r where {where}"
            )
        )


def _ids(values: t.Iterable[str]) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


def _utc_text(moment: dt.datetime) -> str:
    """How a TIMESTAMP (without time zone) column holding a UTC instant prints."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _tap_config(server: ImitationServer) -> dict[str, t.Any]:
    env = tap_env(server)
    return {
        "cekat": {
            "api_key": env["TAP_MESSAGES_CEKAT_API_KEY"],
            "base_url": env["TAP_MESSAGES_CEKAT_BASE_URL"],
        },
        "convotic": {
            "api_key": env["TAP_MESSAGES_CONVOTIC_API_KEY"],
            "base_url": env["TAP_MESSAGES_CONVOTIC_BASE_URL"],
            "conversation_ids": json.loads(env["TAP_MESSAGES_CONVOTIC_CONVERSATION_IDS"]),
        },
    }


def _partitions_sorted(state: dict[str, t.Any]) -> dict[str, t.Any]:
    """The state with its partitions in one order (conversations may be read concurrently)."""
    bookmarks = {
        stream: (
            {**entry, "partitions": sorted(entry["partitions"], key=json.dumps)}
            if isinstance(entry, dict) and "partitions" in entry
            else entry
        )
        for stream, entry in state.get("bookmarks", {}).items()
    }
    return {**state, "bookmarks": bookmarks}


def test_first_load_lands_every_message_once_and_meltano_keeps_the_taps_state(
    serve, pipeline: Pipeline, postgres: Postgres, schema: str
):
    cekat = CekatData(n_messages=1500, seed=21)
    convotic = ConvoticData(n_conversations=10, messages_per_conversation=100, seed=22)
    server = serve(cekat=cekat, convotic=convotic)
    pipeline.env.update(tap_env(server))

    done = pipeline.run(env={"PYTHONWARNINGS": "always::ResourceWarning"})
    tap_log = [line for line in done.stderr.splitlines() if "tap-messages" in line]
    assert not [line for line in tap_log if "ResourceWarning" in line], "connections left open"

    wh = Warehouse(postgres, schema)
    assert wh.count("cekat_messages") == len(cekat.ids()) == 1500
    assert wh.count("convotic_messages") == len(convotic.keys()) == 1000
    assert wh.duplicate_keys("cekat_messages") == wh.duplicate_keys("convotic_messages") == 0
    loaded = {row[0] for row in postgres.rows(f"select id from {wh.table('cekat_messages')}")}
    assert loaded == cekat.ids()
    pairs = postgres.rows(f'select "conversationId", id from {wh.table("convotic_messages")}')
    assert {(c, i) for c, i in pairs} == convotic.keys()

    # Meltano stored exactly the STATE the tap ends with on this data...
    stored = pipeline.state()
    tap = run_tap(_tap_config(server))
    assert tap.returncode == 0, tap.stderr[-2000:]
    assert _partitions_sorted(stored) == _partitions_sorted(tap.final_state)

    # ...and its bookmarks are the newest times that landed.
    bookmarks = stored["bookmarks"]
    newest_cekat = postgres.value(
        f"select to_char(max(updated_at), '{BOOKMARK_FORMAT}') from {wh.table('cekat_messages')}"
    )
    assert bookmarks["cekat_messages"]["replication_key_value"] == newest_cekat
    newest_per_conversation = dict(
        postgres.rows(
            f'select "conversationId", to_char(max("timestamp"), \'{BOOKMARK_FORMAT}\') '
            f"from {wh.table('convotic_messages')} group by 1"
        )
    )
    partitions = {
        p["context"]["conversationId"]: p["replication_key_value"]
        for p in bookmarks["convotic_messages"]["partitions"]
    }
    assert partitions == newest_per_conversation
    assert len(partitions) == 10


@pytest.mark.parametrize(
    ("order", "order_by"),
    [("oldest_first", "created_at"), ("newest_first", "updated_at")],
    ids=["cekat-oldest-first-by-created", "cekat-newest-first-by-updated"],
)
def test_reruns_change_nothing_until_news_arrive_then_add_and_update(
    serve, pipeline: Pipeline, postgres: Postgres, schema: str, order: t.Any, order_by: t.Any
):
    cekat = CekatData(n_messages=1200, seed=31, order=order, order_by=order_by)
    convotic = ConvoticData(n_conversations=8, messages_per_conversation=100, seed=32)
    server = serve(cekat=cekat, convotic=convotic)
    pipeline.env.update(tap_env(server))
    wh = Warehouse(postgres, schema)
    to_update = sorted(cekat.ids())[::40]  # 30 messages spread over the history
    untouched = f"id not in ({_ids(to_update)})"

    pipeline.run()
    first = {s: (wh.count(s), wh.checksum(s)) for s in KEYS}
    untouched_before = wh.checksum("cekat_messages", untouched)
    assert first["cekat_messages"][0] == 1200
    assert first["convotic_messages"][0] == 800

    pipeline.run()
    assert {s: (wh.count(s), wh.checksum(s)) for s in KEYS} == first

    added_cekat = cekat.add_messages(40)
    assert cekat.update_status(to_update, "revoked") == len(to_update)
    added_convotic = convotic.add_messages("conv_0001", 10) + convotic.add_messages("conv_0005", 5)
    added_convotic += convotic.add_conversation("conv_late", 30)
    pipeline.run(env=tap_env(server))  # conversation ids now include conv_late

    assert wh.count("cekat_messages") == 1200 + 40
    assert wh.count("convotic_messages") == 800 + len(added_convotic) == 845
    assert wh.duplicate_keys("cekat_messages") == wh.duplicate_keys("convotic_messages") == 0
    updated = {
        row[0]: (row[1], row[2])
        for row in postgres.rows(
            f"select id, status, updated_at::text from {wh.table('cekat_messages')} "
            f"where id in ({_ids(to_update)})"
        )
    }
    by_id = {m["id"]: m for m in cekat.messages}
    assert updated == {
        mid: ("revoked", _utc_text(cekat.utc_of(by_id[mid]["updated_at"]))) for mid in to_update
    }
    new_ids = {m["id"] for m in added_cekat}
    assert wh.checksum("cekat_messages", f"{untouched} and id not in ({_ids(new_ids)})") == (
        untouched_before
    )
    landed = postgres.rows(
        f'select "conversationId", id from {wh.table("convotic_messages")} '
        f"where \"conversationId\" in ('conv_0001', 'conv_0005', 'conv_late')"
    )
    assert {(m["conversationId"], m["id"]) for m in added_convotic} <= {(c, i) for c, i in landed}


def test_times_land_as_utc_instants_whatever_the_session_time_zone(
    serve, pipeline: Pipeline, postgres: Postgres, schema: str
):
    cekat = CekatData(n_messages=300, seed=41)
    convotic = ConvoticData(n_conversations=3, messages_per_conversation=50, seed=42)
    template = dict(cekat.messages[0])
    cekat.add_raw(
        {
            **template,
            "id": "5c0b5e1e-0000-4000-8000-000000000001",
            "created_at": "2026-01-01 07:00:05",  # naive, Asia/Jakarta
            "updated_at": "2026-01-01 07:00:05",
        }
    )
    convotic.add_raw(
        "conv_0001",
        {
            "id": "msg_offset",
            "conversationId": "conv_0001",
            "platform": "line",
            "direction": "inbound",
            "sender": {"id": "ct_1", "name": "Somchai"},
            "content": {"type": "text", "text": "offset"},
            "timestamp": "2026-01-01T07:00:05+07:00",
        },
    )
    server = serve(cekat=cekat, convotic=convotic)
    pipeline.env.update(tap_env(server))

    # A server, database or role whose TimeZone is not UTC must not shift the instants.
    pipeline.run(env={"PGOPTIONS": "-c timezone=Asia/Tokyo"})

    wh = Warehouse(postgres, schema)
    assert postgres.value(
        f"select updated_at::text from {wh.table('cekat_messages')} "
        "where id = '5c0b5e1e-0000-4000-8000-000000000001'"
    ) == ("2026-01-01 00:00:05")
    assert postgres.value(
        f'select "timestamp"::text from {wh.table("convotic_messages")} '
        "where \"conversationId\" = 'conv_0001' and id = 'msg_offset'"
    ) == ("2026-01-01 00:00:05")
    cekat_times = {
        row[0]: (row[1], row[2])
        for row in postgres.rows(
            f"select id, created_at::text, updated_at::text from {wh.table('cekat_messages')}"
        )
    }
    utc = cekat.utc_of
    assert cekat_times == {
        m["id"]: (_utc_text(utc(m["created_at"])), _utc_text(utc(m["updated_at"])))
        for m in cekat.messages
    }
    convotic_times = {
        (row[0], row[1]): row[2]
        for row in postgres.rows(
            f'select "conversationId", id, "timestamp"::text from {wh.table("convotic_messages")}'
        )
    }
    assert convotic_times == {
        (cid, m["id"]): _utc_text(dt.datetime.fromisoformat(m["timestamp"].replace("Z", "+00:00")))
        for cid in convotic.conversation_ids()
        for m in convotic.messages_of(cid)
    }


NUL_TEXTS = [
    "before\u0000after",
    "Terima kasih sudah menunggu 🙏, pesanan Kakak sudah dikirim",
    "สวัสดีครับ ขอบคุณมากครับ",
    "emoji 👍🏽 family 👨\u200d👩\u200d👧 flag 🇮🇩",
    "mixed \u0000 สวัสดี 🙏 \u0000",
]


def _sanitized(value: t.Any) -> t.Any:
    """What PostgreSQL holds: NUL replaced by U+FFFD, everything else as sent."""
    if isinstance(value, str):
        return value.replace("\u0000", "\ufffd")
    if isinstance(value, dict):
        return {k: _sanitized(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_sanitized(v) for v in value]
    return value


def test_nul_emoji_and_thai_text_load_and_invalid_records_land_in_quarantine(
    serve, pipeline: Pipeline, postgres: Postgres, schema: str
):
    cekat = CekatData(n_messages=100, seed=51)
    convotic = ConvoticData(n_conversations=2, messages_per_conversation=30, seed=52)
    template = dict(cekat.messages[0])
    contact = {"id": "c-1", "type": "whatsapp", "display_name": "Budi\u0000 🙏", "phone_number": ""}
    for i, text in enumerate(NUL_TEXTS):
        cekat.add_raw(
            {
                **template,
                "id": f"7e3f0000-0000-4000-8000-00000000000{i}",
                "message": text,
                "sent_by_name": text,
                "contact": contact,
                "interactive": {"type": "button", "body": {"text": text}, "buttons": [text]},
                "field_added_by_vendor": {"new": True},  # undeclared: loads, the field is dropped
            }
        )
        convotic.add_raw(
            "conv_0001",
            {
                "id": f"msg_text_{i}",
                "conversationId": "conv_0001",
                "platform": "line",
                "direction": "inbound",
                "sender": {"id": "ct_x", "name": text},
                "content": {"type": "text", "text": text, "caption": text},
                "timestamp": f"2026-01-01T05:00:0{i}Z",
            },
        )
    bad_cekat = {
        **template,
        "id": "bad00000-0000-4000-8000-000000000007",
        "status": 7,
        "message": "bad\u0000status",
        "contact": {**contact, "display_name": "deep\u0000inside"},
    }
    cekat.add_raw(bad_cekat)
    bad_convotic = {
        "id": "msg_bad",
        "conversationId": "conv_0002",
        "platform": "line",
        "direction": 5,
        "sender": {"id": "ct_y", "name": "ok"},
        "content": {"type": "text", "text": "deep\u0000inside 🙏"},
        "timestamp": "2026-01-01T05:00:00Z",
    }
    convotic.add_raw("conv_0002", bad_convotic)
    server = serve(cekat=cekat, convotic=convotic)
    pipeline.env.update(tap_env(server))

    pipeline.run()

    wh = Warehouse(postgres, schema)
    assert wh.count("cekat_messages") == 100 + len(NUL_TEXTS)
    assert wh.count("convotic_messages") == 60 + len(NUL_TEXTS)
    cekat_rows = postgres.rows(
        "select message, sent_by_name, contact, interactive "
        f"from {wh.table('cekat_messages')} where id like '7e3f0000-%' order by id"
    )
    assert cekat_rows == [
        _sanitized(
            [
                text,
                text,
                contact,
                {"type": "button", "body": {"text": text}, "buttons": [text]},
            ]
        )
        for text in NUL_TEXTS
    ]
    convotic_rows = postgres.rows(
        f"select sender->>'name', content from {wh.table('convotic_messages')} "
        "where id like 'msg_text_%' order by id"
    )
    assert convotic_rows == [
        _sanitized([text, {"type": "text", "text": text, "caption": text}]) for text in NUL_TEXTS
    ]

    quarantined = postgres.rows(
        f"select stream, record_key, errors, record from {wh.table('quarantined_records')} "
        "order by stream"
    )
    assert [(row[0], row[1]) for row in quarantined] == [
        ("cekat_messages", json.dumps(["bad00000-0000-4000-8000-000000000007"])),
        ("convotic_messages", json.dumps(["conv_0002", "msg_bad"])),
    ]
    (_, _, cekat_errors, cekat_record), (_, _, convotic_errors, convotic_record) = quarantined
    assert any("status" in error for error in cekat_errors)
    assert any("direction" in error for error in convotic_errors)
    assert cekat_record["status"] == 7
    assert cekat_record["message"] == "bad\ufffdstatus"
    assert cekat_record["contact"]["display_name"] == "deep\ufffdinside"
    assert convotic_record["content"]["text"] == "deep\ufffdinside 🙏"
    assert (
        postgres.value(
            f"select count(*) from {wh.table('cekat_messages')} "
            "where id = 'bad00000-0000-4000-8000-000000000007'"
        )
        == 0
    )


def test_weekly_full_refresh_schedule_reconciles_what_the_hourly_one_cannot_see(
    serve, tmp_path, pipeline: Pipeline, postgres: Postgres, schema: str
):
    cekat = CekatData(n_messages=600, seed=71)
    convotic = ConvoticData(n_conversations=4, messages_per_conversation=50, seed=72)
    server = serve(cekat=cekat, convotic=convotic)
    # As in production: the prod environment, everything from the environment, state in a backend.
    backend = tmp_path / "state-backend"
    pipeline.env.update(
        {
            **tap_env(server),
            "MELTANO_ENVIRONMENT": "prod",
            "MELTANO_STATE_BACKEND_URI": backend.as_uri(),
        }
    )
    state_id = "prod:tap-messages--messages-to-target-postgres"
    wh = Warehouse(postgres, schema)
    hourly = ("schedule", "run", "messages-hourly")

    pipeline.meltano(*hourly)
    state = pipeline.state(state_id)
    assert list(backend.rglob("state.json")), "no state in the file backend"
    assert set(state["bookmarks"]) <= {"cekat_messages", "convotic_messages", "quarantined_records"}
    assert wh.tables() >= {"cekat_messages", "convotic_messages"}
    assert not wh.tables() & {"cekat_conversations", "cekat_contacts", "convotic_contacts"}, (
        "the hourly job reads the messages only"
    )
    pipeline.meltano("schedule", "run", "directory-daily")
    assert wh.count("cekat_conversations") == len(cekat.conversation_ids())
    assert wh.count("cekat_contacts") == len(cekat.directory.contacts())
    assert wh.count("convotic_contacts") == len(contact_rows(convotic))
    # Late edits the API makes without moving the replication key, and a row lost downstream.
    edited = cekat.messages[10:13]
    for message in edited:
        message["message"] = "edited later 🙏"
    convotic.messages_of("conv_0002")[0]["content"] = {"type": "text", "text": "edited later"}
    lost = cekat.messages[20]["id"]
    postgres.queries(f"delete from {wh.table('cekat_messages')} where id = '{lost}'")

    done = pipeline.meltano(*hourly)
    assert "Performing full refresh" not in done.stderr
    assert wh.count("cekat_messages") == 599
    assert (
        postgres.value(
            f"select count(*) from {wh.table('cekat_messages')} where message = 'edited later 🙏'"
        )
        == 0
    )

    done = pipeline.meltano("schedule", "run", "messages-weekly-full-refresh")
    assert "Performing full refresh" in done.stderr
    assert wh.count("cekat_messages") == 600
    assert wh.duplicate_keys("cekat_messages") == 0
    fixed = postgres.rows(
        f"select id from {wh.table('cekat_messages')} where message = 'edited later 🙏'"
    )
    assert sorted(row[0] for row in fixed) == sorted(m["id"] for m in edited)
    assert (
        postgres.value(
            f"select content->>'text' from {wh.table('convotic_messages')} "
            "where \"conversationId\" = 'conv_0002' and id = 'msg_001'"
        )
        == "edited later"
    )
    assert pipeline.state(state_id) == state  # the hourly schedule continues from where it was


def test_the_directory_tables_land_whole_reruns_change_nothing_and_a_resolution_updates(
    serve, pipeline: Pipeline, postgres: Postgres, schema: str
):
    cekat = CekatData(n_messages=900, n_conversations=230, n_inboxes=3, seed=91)
    convotic = ConvoticData(n_conversations=140, messages_per_conversation=5, seed=92)
    server = serve(cekat=cekat, convotic=convotic)
    pipeline.env.update(tap_env(server))
    wh = Warehouse(postgres, schema)
    conversations = cekat.directory.conversations
    served = {
        "cekat_conversations": {r["id"] for r in conversations.rows()},
        "cekat_contacts": {r["id"] for r in cekat.directory.contacts()},
        "cekat_agents": {r["id"] for r in cekat.directory.agents()},
        "cekat_inboxes": {r["id"] for r in cekat.directory.inboxes()},
        "convotic_contacts": {r["id"] for r in contact_rows(convotic)},
    }
    assert [len(served[s]) for s in DIRECTORY] == [230, 230, 4, 3, 140]

    pipeline.run()
    for stream in DIRECTORY:
        assert wh.count(stream) == len(served[stream]), stream
        assert wh.duplicate_keys(stream) == 0, stream
        assert {row[0] for row in postgres.rows(f"select id from {wh.table(stream)}")} == (
            served[stream]
        )
    first = {s: (wh.count(s), wh.checksum(s)) for s in DIRECTORY}

    pipeline.run()
    assert {s: (wh.count(s), wh.checksum(s)) for s in DIRECTORY} == first

    still_open = next(r["id"] for r in conversations.rows() if r["stage_status"] != "resolved")
    others = f"id <> '{still_open}'"
    others_before = wh.checksum("cekat_conversations", others)
    at = dt.datetime(2026, 2, 3, 4, 5, 6, 789000, tzinfo=UTC)
    resolver = conversations.resolve(still_open, at)["resolved_by_name"]
    pipeline.run()
    assert wh.count("cekat_conversations") == 230
    assert wh.duplicate_keys("cekat_conversations") == 0
    assert postgres.rows(
        f"select stage_status, resolved_at::text, resolved_by_name "
        f"from {wh.table('cekat_conversations')} where id = '{still_open}'"
    ) == [["resolved", "2026-02-03 04:05:06.789", resolver]]
    assert wh.checksum("cekat_conversations", others) == others_before


def test_meltano_select_loads_only_the_streams_chosen(
    serve, pipeline: Pipeline, postgres: Postgres, schema: str
):
    cekat = CekatData(n_messages=200, n_conversations=30, seed=93)
    server = serve(cekat=cekat)
    pipeline.env.update(tap_env(server))
    pipeline.run(env={"TAP_MESSAGES__SELECT": json.dumps(["cekat_agents.*", "cekat_inboxes.*"])})
    tables = {
        row[0]
        for row in postgres.rows(
            f"select table_name from information_schema.tables where table_schema = '{schema}'"
        )
    }
    assert tables == {"cekat_agents", "cekat_inboxes"}
    assert {r.path for r in server.requests} == {"/api/agents", "/api/inboxes"}
