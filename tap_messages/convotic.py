"""Convotic's `convotic_messages` stream: GET /v1/messages, one partition per conversation."""

from __future__ import annotations

import datetime as dt
import typing as t
import zlib

from singer_sdk.helpers.types import Context
from singer_sdk.streams._state import StreamStateManager
from typing_extensions import override

from tap_messages.client import MessagesStream, objects_under
from tap_messages.errors import TapMessagesError, VendorAPIError
from tap_messages.partition_state import IndexedStateManager
from tap_messages.time_windows import Answer, TruncationEnd, WindowWalk
from tap_messages.timestamps import UTC, to_utc_or_none

LIMIT = 100
EPOCH = dt.datetime(1970, 1, 1, tzinfo=UTC)


def shard_of(conversation: str, count: int) -> int:
    """The shard a conversation belongs to: stable across runs, machines and Python versions."""
    return zlib.crc32(conversation.encode()) % count


def iso_param(moment: dt.datetime) -> str:
    """A `from`/`to` value as the docs show them: UTC with Z, fraction only when there is one."""
    moment = moment.astimezone(UTC)
    fraction = f".{moment.microsecond:06d}" if moment.microsecond else ""
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + fraction + "Z"


class ConvoticMessagesStream(MessagesStream):
    """Messages of the conversations in `convotic.conversation_ids` (the API cannot list them).

    Each conversation is walked in time order up to the instant the run started (see
    time_windows), so its `timestamp` bookmark advances with every record and a killed run
    resumes where it stopped. Conversations missing from the API (404) are skipped with a warning.
    """

    name = "convotic_messages"
    path = "/v1/messages"
    primary_keys: t.ClassVar[list[str]] = ["conversationId", "id"]
    replication_key = "timestamp"
    is_sorted = True
    vendor = "Convotic"
    settings_prefix = "convotic"

    @override
    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self.run_end = dt.datetime.now(UTC)
        self.truncation = TruncationEnd()
        self.not_found: list[str] = []

    @override
    def auth_headers(self) -> dict[str, str]:
        return {"X-API-Key": self.settings.get("api_key") or ""}

    @property
    @override
    def state_manager(self) -> StreamStateManager:
        if self._state_manager is None:
            self._state_manager = IndexedStateManager(
                tap_name=self.tap_name,
                stream_name=self.name,
                tap_state=self._tap_state,
                is_sorted=self.is_sorted,
                check_sorted=self.check_sorted,
            )
        return self._state_manager

    @property
    @override
    def partitions(self) -> list[dict[str, t.Any]] | None:
        ids = dict.fromkeys(self.settings.get("conversation_ids") or [])
        count, index = (
            int(self.settings.get("shard_count", 1)),
            int(self.settings.get("shard_index", 0)),
        )
        mine = [cid for cid in ids if count == 1 or shard_of(cid, count) == index]
        return [{"conversationId": cid} for cid in mine] or None

    def window(self, conversation: str, lo: dt.datetime, hi: dt.datetime) -> Answer:
        """One request for the conversation's messages in [lo, hi]."""
        params = {
            "conversationId": conversation,
            "from": iso_param(lo),
            "to": iso_param(hi),
            "limit": LIMIT,
        }
        if platform := self.settings.get("platform"):
            params["platform"] = platform
        payload = self.fetch(params)
        messages = objects_under(
            payload,
            "messages",
            answer=f"Convotic's answer for conversation {conversation}",
            shape="{messages: [...], conversationId, total, limit}",
            setting="convotic.base_url",
        )
        total = payload.get("total")
        answer = Answer(messages, total if isinstance(total, int) else None)
        outside = answer.outside(lo, hi)
        if outside:
            msg = (
                f"Convotic answered conversation {conversation} with messages outside the "
                f"requested window [{iso_param(lo)}, {iso_param(hi)}] (e.g. at "
                f"{outside[0].get('timestamp')}); without working from/to bounds it cannot be "
                "read completely."
            )
            raise TapMessagesError(msg)
        return answer

    @override
    def raw_batches(self, context: Context | None) -> t.Iterator[list[dict[str, t.Any]]]:
        if not context:
            return
        conversation = str(context["conversationId"])

        def on_burst(moment: dt.datetime, limit: int, total: int | None) -> None:
            self.logger.warning(
                "Convotic conversation %s: %s messages share the instant %s, more than the "
                "API returns at once (%d); %s messages at that instant may be missing.",
                conversation,
                total if total is not None else f"more than {limit}",
                iso_param(moment),
                limit,
                f"up to {total - limit}" if total is not None else "an unknown number of",
            )

        walk = WindowWalk(
            fetch=lambda lo, hi: self.window(conversation, lo, hi),
            limit=LIMIT,
            start=self.get_starting_timestamp(context) or EPOCH,
            end=self.run_end,
            truncation=self.truncation,
            on_burst=on_burst,
        )
        try:
            yield from walk
        except VendorAPIError as exc:
            if exc.status != 404:
                raise
            self.not_found.append(conversation)
            self.logger.warning(
                "Skipping Convotic conversation %s: not found (404). Check "
                "convotic.conversation_ids.",
                conversation,
            )

    @override
    def worker_report(self) -> dict[str, t.Any]:
        return {**super().worker_report(), "not_found": self.not_found}

    @override
    def absorb_report(self, report: dict[str, t.Any]) -> None:
        super().absorb_report(report)
        self.not_found += report["not_found"]

    @override
    def prepare(self, row: dict[str, t.Any], context: Context | None) -> dict[str, t.Any]:
        if (stamp := to_utc_or_none(row.get("timestamp"))) is not None:
            row["timestamp"] = stamp
        if context:
            row.setdefault("conversationId", context["conversationId"])
        return row
