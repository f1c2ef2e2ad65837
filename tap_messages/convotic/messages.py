"""Convotic's `convotic_messages` stream: GET /v1/messages, one partition per conversation."""

from __future__ import annotations

import datetime as dt
import typing as t
import zlib
from functools import cached_property

from typing_extensions import override

from tap_messages.convotic.client import ConvoticStream
from tap_messages.convotic.window_walk import Answer, Habits, WalkTooLong, WindowWalk
from tap_messages.shared.errors import TapMessagesError, VendorAPIError
from tap_messages.shared.partition_state import IndexedStateManager
from tap_messages.shared.read_ahead import ReadAhead
from tap_messages.shared.timestamps import UTC, parse

if t.TYPE_CHECKING:
    from singer_sdk import Tap
    from singer_sdk.helpers.types import Context
    from singer_sdk.streams._state import StreamStateManager

    from tap_messages.shared.pacing import RatePacer
    from tap_messages.shared.quarantine import QuarantineStream

LIMIT = 100
EPOCH = dt.datetime(1970, 1, 1, tzinfo=UTC)
Message = dict[str, t.Any]


def shard_of(conversation: str, count: int) -> int:
    """The shard a conversation belongs to: stable across runs, machines and Python versions."""
    return zlib.crc32(conversation.encode()) % count


def iso_param(moment: dt.datetime) -> str:
    """A `from`/`to` value as the docs show them: UTC with Z, fraction only when there is one."""
    moment = moment.astimezone(UTC)
    fraction = f".{moment.microsecond:06d}" if moment.microsecond else ""
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + fraction + "Z"


class ConvoticMessagesStream(ConvoticStream):
    """Messages of the conversations in `convotic.conversation_ids` (the API cannot list them).

    Each conversation is walked in time order up to the instant the run started (see
    window_walk), so its `timestamp` bookmark advances with every record and a killed run
    resumes where it stopped. The next conversations are read ahead on threads while the SDK
    writes the current one. Conversations missing from the API (404) are skipped with a warning.
    """

    name = "convotic_messages"
    path = "/v1/messages"
    primary_keys: t.ClassVar[list[str]] = ["conversationId", "id"]
    replication_key = "timestamp"
    is_sorted = True
    reread_what = "windows"
    time_fields = ("timestamp",)

    @override
    def __init__(self, tap: Tap, *, pacer: RatePacer, quarantine: QuarantineStream) -> None:
        super().__init__(tap, pacer=pacer, quarantine=quarantine)
        self.run_end = dt.datetime.now(UTC)
        self.habits = Habits()
        self.not_found: list[str] = []
        self.read_ahead: ReadAhead[str, list[Message]] = ReadAhead(self.max_concurrency)
        self._indexed_state: IndexedStateManager | None = None

    @property
    @override
    def state_manager(self) -> StreamStateManager:
        if self._indexed_state is None:
            self._indexed_state = IndexedStateManager(
                tap_name=self.tap_name,
                stream_name=self.name,
                tap_state=self.tap_state,
                is_sorted=self.is_sorted,
                check_sorted=self.check_sorted,
            )
        return self._indexed_state

    @cached_property
    @override
    def partitions(self) -> list[dict[str, t.Any]] | None:
        ids = dict.fromkeys(self.settings.get("conversation_ids") or [])
        count = int(self.settings.get("shard_count", 1))
        index = int(self.settings.get("shard_index", 0))
        mine = [cid for cid in ids if count == 1 or shard_of(cid, count) == index]
        return [{"conversationId": cid} for cid in mine] or None

    @cached_property
    def _place(self) -> dict[str, int]:
        return {p["conversationId"]: i for i, p in enumerate(self.partitions or [])}

    @override
    def read_partition(self, context: Context | None) -> t.Iterable[Message]:
        """The conversation's messages; the next max_concurrency - 1 start on threads meanwhile."""
        if not context:
            return
        conversation = str(context["conversationId"])
        place = self._place.get(conversation, len(self._place))
        for later in (self.partitions or [])[place : place + self.max_concurrency]:
            if later["conversationId"] not in self.read_ahead:
                self.read_ahead.start(later["conversationId"], self._walker(later))
        for batch in self.read_ahead.take(conversation, self._walker(context)):
            yield from batch

    @override
    def finish(self) -> None:
        self.read_ahead.close()
        super().finish()
        read, missing = len(self.partitions or []), self.not_found
        self.logger.info(
            "convotic_messages: %d conversations read, %d skipped as not found%s",
            read - len(missing),
            len(missing),
            f" ({', '.join(missing)})" if missing else "",
        )

    def _walker(self, context: Context) -> t.Callable[[], t.Iterator[list[Message]]]:
        """The conversation's walk, its start read from state here, on the SDK's thread."""
        start = self._start_of(context)
        return lambda: self._walk(str(context["conversationId"]), start)

    def _start_of(self, context: Context) -> dt.datetime:
        """The later of the conversation's bookmark and start_date, as the SDK picks it."""
        state = self.get_context_state(context)
        value = state.get("replication_key_value") if state.get("replication_key") else None
        start_date = self.config.get("start_date")
        if value and start_date:
            value = self.compare_start_date(value, start_date)
        value = value or start_date
        return parse(value) if value else EPOCH

    def _walk(self, conversation: str, start: dt.datetime) -> t.Iterator[list[Message]]:
        """Every message of the conversation from start to the run's start, in time order."""

        def on_burst(moment: dt.datetime, limit: int, total: int | None) -> None:
            missing = f"up to {total - limit}" if total is not None else "an unknown number of"
            shortfall = (
                f"conversation {conversation}: {total or f'{limit} or more'} messages share the "
                f"instant {iso_param(moment)}, more than the API returns at once ({limit}); "
                f"{missing} messages at that instant may be missing"
            )
            self.logger.warning("Convotic %s.", shortfall)
            self.shortfalls.append(shortfall)

        walk = WindowWalk(
            fetch=lambda lo, hi: self.window(conversation, lo, hi),
            limit=LIMIT,
            start=start,
            end=self.run_end,
            habits=self.habits,
            on_burst=on_burst,
        )
        try:
            yield from walk
        except WalkTooLong as exc:
            msg = f"Convotic conversation {conversation}: {exc}; stopped rather than loop."
            raise TapMessagesError(msg) from None
        except VendorAPIError as exc:
            if exc.status != 404:
                raise
            self.not_found.append(conversation)
            self.shortfalls.append(f"conversation {conversation} not found (404)")
            self.logger.warning(
                "Skipping Convotic conversation %s: not found (404). Check "
                "convotic.conversation_ids.",
                conversation,
            )
        finally:
            with self.counting:
                self.reread += walk.reread

    def window(self, conversation: str, lo: dt.datetime, hi: dt.datetime) -> Answer:
        """One request for the conversation's messages in [lo, hi], timestamps in UTC."""
        params = {
            "conversationId": conversation,
            "from": iso_param(lo),
            "to": iso_param(hi),
            "limit": LIMIT,
            "platform": self.settings.get("platform"),
        }
        payload = self.get_json(params)
        messages = self.rows_under(
            payload,
            "messages",
            answer=f"Convotic's answer for conversation {conversation}",
            shape="{messages: [...], conversationId, total, limit}",
        )
        total = payload.get("total")
        answer = Answer(messages, total if isinstance(total, int) else None)
        if outside := answer.outside(lo, hi):
            msg = (
                f"Convotic answered conversation {conversation} with messages outside the "
                f"requested window [{iso_param(lo)}, {iso_param(hi)}] (e.g. at "
                f"{outside[0].get('timestamp')}); without working from/to bounds it cannot be "
                "read completely."
            )
            raise TapMessagesError(msg)
        return answer
