"""What the dbt models `messages` and `conversations` must hold, computed in Python from the raw
tables the loaders wrote, independently of the models' SQL; and how to read both back.

The same raw SQL serves PostgreSQL and DuckDB: it selects columns by name (DuckDB matches quoted
names without regard to case, so `"conversationId"` finds target-duckdb's `conversationid`) and
turns JSON into text, which Python parses.
"""

from __future__ import annotations

import datetime as dt
import json
import statistics
import typing as t
from dataclasses import dataclass
from pathlib import Path

from tests.meltano_run import Postgres, duckdb_queries

Key = tuple[str, str]  # (vendor, conversation_id)


@dataclass(frozen=True)
class Message:
    """One raw message row, as the contract maps it."""

    vendor: str
    conversation_id: str
    message_id: str
    sent_at: dt.datetime | None
    direction: str | None
    sender_id: str | None
    sender_name: str | None
    content_type: str | None
    text: str | None
    channel: str | None
    status: str | None
    inbox_id: str | None
    contact_id: str | None
    deleted: bool


@dataclass(frozen=True)
class CekatConversation:
    """One raw Cekat conversation record."""

    conversation_id: str
    platform_type: str | None
    inbox_id: str | None
    contact_id: str | None
    created_at: dt.datetime | None
    resolved_at: dt.datetime | None
    deleted: bool


class Warehouse:
    """A warehouse's raw schema (what the loader wrote) and models schema (what dbt built)."""

    def __init__(self, raw_schema: str, models_schema: str, *, has_deleted_at: bool) -> None:
        self.raw_schema, self.models_schema = raw_schema, models_schema
        self.has_deleted_at = has_deleted_at

    def queries(self, *sql: str) -> list[t.Any]:
        raise NotImplementedError

    def raw(self, table: str) -> str:
        return f'"{self.raw_schema}".{table}'

    def model(self, name: str) -> str:
        return f'"{self.models_schema}".{name}'

    def raw_tables(self) -> set[str]:
        sql = (
            "select table_name from information_schema.tables "
            f"where table_schema = '{self.raw_schema}'"
        )
        return {row[0] for row in self.queries(sql)[0]}

    def deleted(self) -> str:
        return "_sdc_deleted_at is not null" if self.has_deleted_at else "false"


class PostgresWarehouse(Warehouse):
    def __init__(self, postgres: Postgres, raw_schema: str, models_schema: str) -> None:
        super().__init__(raw_schema, models_schema, has_deleted_at=True)
        self.postgres = postgres

    def queries(self, *sql: str) -> list[t.Any]:
        return self.postgres.queries(*sql)


class DuckDBWarehouse(Warehouse):
    """target-duckdb writes no _sdc_* columns: nothing is ever marked deleted there."""

    def __init__(self, path: Path, raw_schema: str = "tap_messages", models: str = "analytics"):
        super().__init__(raw_schema, models, has_deleted_at=False)
        self.path = path

    def queries(self, *sql: str) -> list[t.Any]:
        return duckdb_queries(self.path, *sql)[1]


def moment(value: t.Any) -> dt.datetime | None:
    """A timestamp as the query helpers return it (text), naive UTC."""
    if value is None:
        return None
    parsed = dt.datetime.fromisoformat(str(value))
    return parsed.astimezone(dt.timezone.utc).replace(tzinfo=None) if parsed.tzinfo else parsed


def _object(text: t.Any) -> dict[str, t.Any]:
    value = json.loads(text) if isinstance(text, str) else text
    return value if isinstance(value, dict) else {}


def _blank_is_null(text: t.Any) -> str | None:
    return text if isinstance(text, str) and text != "" else None


CEKAT_DIRECTIONS = {"user": "inbound", "agent": "outbound", "system": "system"}


def raw_messages(wh: Warehouse) -> list[Message]:
    """Every raw message row of both vendors (deleted ones flagged), mapped as product.md says."""
    tables = wh.raw_tables()
    sql = []
    if "cekat_messages" in tables:
        sql.append(
            "select id, conversation_id, created_at, sent_by_type, sent_by, sent_by_name, "
            "media_type, message, status, cast(inbox as varchar), cast(contact as varchar), "
            f"{wh.deleted()} from {wh.raw('cekat_messages')}"
        )
    if "convotic_messages" in tables:
        sql.append(
            'select "conversationId", id, "timestamp", direction, cast(sender as varchar), '
            f"cast(content as varchar), platform, {wh.deleted()} "
            f"from {wh.raw('convotic_messages')}"
        )
    results = wh.queries(*sql)
    cekat_rows = results.pop(0) if "cekat_messages" in tables else []
    convotic_rows = results.pop(0) if "convotic_messages" in tables else []
    messages = []
    for (
        mid,
        cid,
        created,
        by_type,
        by,
        by_name,
        media,
        text,
        status,
        inbox,
        contact,
        gone,
    ) in cekat_rows:
        inbox_object, contact_object = _object(inbox), _object(contact)
        messages.append(
            Message(
                "cekat",
                cid,
                mid,
                moment(created),
                CEKAT_DIRECTIONS.get(by_type),
                by,
                by_name,
                media,
                _blank_is_null(text),
                inbox_object.get("type"),
                status,
                inbox_object.get("id"),
                contact_object.get("id"),
                bool(gone),
            )
        )
    for cid, mid, sent, direction, sender, content, platform, gone in convotic_rows:
        sender_object, content_object = _object(sender), _object(content)
        inbound = direction == "inbound"
        messages.append(
            Message(
                "convotic",
                cid,
                mid,
                moment(sent),
                direction if direction in {"inbound", "outbound"} else None,
                sender_object.get("id"),
                sender_object.get("name"),
                content_object.get("type"),
                _blank_is_null(content_object.get("text"))
                or _blank_is_null(content_object.get("caption")),
                platform,
                None,
                None,
                sender_object.get("id") if inbound else None,
                bool(gone),
            )
        )
    return messages


def raw_cekat_conversations(wh: Warehouse) -> dict[str, CekatConversation]:
    """The raw Cekat conversation records by id (none before the directory job has run)."""
    if "cekat_conversations" not in wh.raw_tables():
        return {}
    rows = wh.queries(
        "select id, platform_type, inbox_id, contact_id, created_at, resolved_at, "
        f"{wh.deleted()} from {wh.raw('cekat_conversations')}"
    )[0]
    return {
        row[0]: CekatConversation(
            row[0], row[1], row[2], row[3], moment(row[4]), moment(row[5]), bool(row[6])
        )
        for row in rows
    }


def whole_seconds(start: dt.datetime | None, end: dt.datetime | None) -> int | None:
    """Seconds between two instants as dbt.datediff counts them: whole-second boundaries."""
    if start is None or end is None:
        return None
    return int((end.replace(microsecond=0) - start.replace(microsecond=0)).total_seconds())


def expected_messages(messages: list[Message]) -> dict[tuple[str, str, str], tuple[t.Any, ...]]:
    """`messages`: every live message by (vendor, conversation_id, message_id)."""
    return {
        (m.vendor, m.conversation_id, m.message_id): (
            m.sent_at,
            m.direction,
            m.sender_id,
            m.sender_name,
            m.content_type,
            m.text,
            m.channel,
            m.status,
        )
        for m in messages
        if not m.deleted
    }


def expected_conversations(
    messages: list[Message], records: dict[str, CekatConversation]
) -> dict[Key, dict[str, t.Any]]:
    """`conversations`: counts, first response, resolution per conversation with live messages."""
    by_conversation: dict[Key, list[Message]] = {}
    for m in messages:
        if not m.deleted:
            by_conversation.setdefault((m.vendor, m.conversation_id), []).append(m)
    expected = {}
    for (vendor, cid), rows in by_conversation.items():
        inbound = [m.sent_at for m in rows if m.direction == "inbound" and m.sent_at]
        asked = min(inbound, default=None)
        answers = [
            m.sent_at
            for m in rows
            if m.direction == "outbound" and m.sent_at and asked is not None and m.sent_at >= asked
        ]
        record = records.get(cid) if vendor == "cekat" else None
        if record is not None and record.deleted:
            record = None
        latest = max(rows, key=lambda m: (m.contact_id is not None, m.sent_at or dt.datetime.min))
        expected[(vendor, cid)] = {
            "channel": (record.platform_type if record else None) or latest.channel,
            "inbox_id": (record.inbox_id if record else None) or latest.inbox_id,
            "contact_id": (record.contact_id if record else None) or latest.contact_id,
            "first_message_at": min((m.sent_at for m in rows if m.sent_at), default=None),
            "last_message_at": max((m.sent_at for m in rows if m.sent_at), default=None),
            "messages": len(rows),
            "inbound_messages": sum(m.direction == "inbound" for m in rows),
            "outbound_messages": sum(m.direction == "outbound" for m in rows),
            "first_response_seconds": whole_seconds(asked, min(answers, default=None)),
            "resolved_at": record.resolved_at if record else None,
            "resolution_seconds": (
                whole_seconds(record.created_at, record.resolved_at) if record else None
            ),
        }
    return expected


CONVERSATION_COLUMNS = (
    "channel",
    "inbox_id",
    "contact_id",
    "first_message_at",
    "last_message_at",
    "messages",
    "inbound_messages",
    "outbound_messages",
    "first_response_seconds",
    "resolved_at",
    "resolution_seconds",
)
TIMES = {"first_message_at", "last_message_at", "resolved_at"}


def built_conversations(wh: Warehouse) -> dict[Key, dict[str, t.Any]]:
    """The `conversations` model as dbt built it."""
    rows = wh.queries(
        f"select vendor, conversation_id, {', '.join(CONVERSATION_COLUMNS)} "
        f"from {wh.model('conversations')}"
    )[0]
    built = {}
    for vendor, cid, *values in rows:
        row = dict(zip(CONVERSATION_COLUMNS, values, strict=True))
        built[(vendor, cid)] = {k: moment(v) if k in TIMES else v for k, v in row.items()}
    return built


def built_messages(wh: Warehouse) -> dict[tuple[str, str, str], tuple[t.Any, ...]]:
    """The `messages` model as dbt built it."""
    rows = wh.queries(
        "select vendor, conversation_id, message_id, sent_at, direction, sender_id, sender_name, "
        f"content_type, text, channel, status from {wh.model('messages')}"
    )[0]
    return {(r[0], r[1], r[2]): (moment(r[3]), *r[4:]) for r in rows}


def per_vendor_and_channel(
    conversations: dict[Key, dict[str, t.Any]],
) -> dict[tuple[str, str | None], tuple[int, int, float | None, int, float | None]]:
    """What the demo prints: conversations, answered, median first response, resolved, median
    resolution, per vendor and channel."""
    groups: dict[tuple[str, str | None], list[dict[str, t.Any]]] = {}
    for (vendor, _), row in conversations.items():
        groups.setdefault((vendor, row["channel"]), []).append(row)
    answer = {}
    for key, rows in groups.items():
        firsts = [r["first_response_seconds"] for r in rows]
        firsts = [value for value in firsts if value is not None]
        resolutions = [r["resolution_seconds"] for r in rows]
        resolutions = [value for value in resolutions if value is not None]
        answer[key] = (
            len(rows),
            len(firsts),
            statistics.median(firsts) if firsts else None,
            len(resolutions),
            statistics.median(resolutions) if resolutions else None,
        )
    return answer
