"""tap-messages: the tap, its settings and their checks."""

from __future__ import annotations

import sys
import typing as t

from singer_sdk import Stream, Tap
from singer_sdk import typing as th
from singer_sdk.contrib.msgspec import MsgSpecWriter
from singer_sdk.exceptions import ConfigValidationError
from singer_sdk.singerlib import Message, SingerMessageType
from typing_extensions import override

from tap_messages import input_files, redaction
from tap_messages.cekat import CekatMessagesStream
from tap_messages.client import VendorStream
from tap_messages.convotic import ConvoticMessagesStream
from tap_messages.errors import TapMessagesError
from tap_messages.quarantine import QuarantineStream
from tap_messages.rate_limits import RatePacer
from tap_messages.setting_checks import VENDORS, setting_errors


class StdoutWriter(MsgSpecWriter):
    """The SDK's msgspec writer, flushing at each STATE rather than after every message.

    A STATE still reaches the target only after every record it covers, which is what resuming
    needs; records between two STATEs leave in buffer-sized writes.
    """

    @override
    def write_message(self, message: Message) -> None:
        sys.stdout.buffer.write(self.format_message(message))
        if message.type == SingerMessageType.STATE:
            sys.stdout.flush()


class TapMessages(Tap):
    """Chat messages from Cekat and Convotic, validated, with resumable state."""

    name = "tap-messages"
    message_writer_class = StdoutWriter

    config_jsonschema = th.PropertiesList(
        th.Property(
            "start_date",
            th.DateTimeType,
            description="RFC 3339; the earliest message time taken on a first sync. "
            "Without it a first sync takes everything.",
        ),
        th.Property(
            "cekat",
            th.ObjectType(
                th.Property(
                    "api_key",
                    th.StringType,
                    secret=True,
                    description="Cekat API key (Settings > API Keys). Without it "
                    "cekat_messages is skipped.",
                ),
                th.Property(
                    "base_url",
                    th.StringType,
                    default="https://api.cekat.ai",
                    description="Cekat API root (the tap calls {base_url}/api/messages).",
                ),
                th.Property(
                    "page_size",
                    th.IntegerType(minimum=1, maximum=1000),
                    default=100,
                    description="Rows per page requested from /api/messages.",
                ),
                th.Property(
                    "inbox_ids",
                    th.ArrayType(th.StringType),
                    description="Only messages of these inboxes.",
                ),
                th.Property(
                    "conversation_ids",
                    th.ArrayType(th.StringType),
                    description="Only messages of these conversations.",
                ),
                th.Property(
                    "timezone",
                    th.StringType,
                    default="Asia/Jakarta",
                    description="IANA zone of Cekat's naive message times. The default "
                    "is inferred from the vendor docs (a naive 16:24:23 message is "
                    "09:24:23 UTC on its conversation); check it against your data.",
                ),
                th.Property(
                    "lookback",
                    th.StringType,
                    default="P1D",
                    description="ISO 8601 duration (P1D, PT6H): how long before the bookmark an "
                    "incremental run still looks for messages whose status changed. Messages "
                    "created longer ago and changed since come with the periodic full refresh. "
                    "One day covers delivery and read receipts, which follow a message within "
                    "hours; each run reads about a lookback's worth of pages (docs/warehouse.md).",
                ),
            ),
            description="Cekat source.",
        ),
        th.Property(
            "convotic",
            th.ObjectType(
                th.Property(
                    "api_key",
                    th.StringType,
                    secret=True,
                    description="Convotic API key (X-API-Key). Without it "
                    "convotic_messages is skipped.",
                ),
                th.Property(
                    "base_url",
                    th.StringType,
                    default="https://api.convotic.com",
                    description="Convotic API root (the tap calls {base_url}/v1/messages).",
                ),
                th.Property(
                    "conversation_ids",
                    th.ArrayType(th.StringType),
                    description="Conversations to extract; required with an api_key, "
                    "since the API cannot list them.",
                ),
                th.Property(
                    "shard_count",
                    th.IntegerType(minimum=1),
                    default=1,
                    description="Split conversation_ids across this many tap processes (each "
                    "with its own state id); every conversation belongs to exactly one shard.",
                ),
                th.Property(
                    "shard_index",
                    th.IntegerType(minimum=0),
                    default=0,
                    description="This process's shard, 0 .. shard_count - 1 (a stable hash of "
                    "the conversation id decides).",
                ),
                th.Property(
                    "platform",
                    th.StringType,
                    description="Only messages of this platform (e.g. whatsapp).",
                ),
            ),
            description="Convotic source.",
        ),
        th.Property(
            "request_timeout",
            th.IntegerType(minimum=1),
            default=60,
            description="Seconds to wait for a vendor's answer before retrying the request.",
        ),
        th.Property(
            "max_retries",
            th.IntegerType(minimum=0, maximum=100),
            default=8,
            description="Retries of one request after a 429, 5xx, timeout, dropped connection or "
            "unreadable body; then the run stops with the vendor, endpoint and last error.",
        ),
        th.Property(
            "max_retry_wait",
            th.NumberType(minimum=0),
            default=300,
            description="Longest single wait in seconds before a retry, whether asked for by "
            "Retry-After or computed by exponential backoff (from 1 s, with jitter).",
        ),
        th.Property(
            "rate_limit_window",
            th.NumberType(exclusive_minimum=0),
            default=60,
            description="Seconds over which X-RateLimit-Limit counts (both vendors document "
            "per minute); requests are paced so that no such span holds more than the limit.",
        ),
        th.Property(
            "max_concurrency",
            th.IntegerType(minimum=1, maximum=64),
            default=4,
            description="Requests in flight at most per stream, on threads: Convotic "
            "conversations read ahead, or Cekat pages once the page count is known and the "
            "order allows; all keep to the vendor's rate limit.",
        ),
        th.Property(
            "on_invalid_record",
            th.StringType,
            allowed_values=["quarantine", "fail"],
            default="quarantine",
            description="What to do with a record that fails its schema: load it into "
            "quarantined_records with its errors, or stop the run.",
        ),
    ).to_dict()

    @override
    def __init__(self, *args: t.Any, validate_config: bool = True, **kwargs: t.Any) -> None:
        self._pacers: dict[str, RatePacer] = {}
        super().__init__(*args, validate_config=validate_config, **kwargs)
        redaction.install(
            str((self.config.get(vendor) or {}).get("api_key") or "") for vendor in VENDORS
        )
        if validate_config:
            if errors := setting_errors(self.config):
                raise ConfigValidationError("Config validation failed", errors=errors)
            self._skip_sources_without_a_key()

    def _skip_sources_without_a_key(self) -> None:
        """Deselect each stream whose vendor has no key (one log line); refuse if none has one."""
        sources = [s for s in self.streams.values() if isinstance(s, VendorStream)]
        if not any(s.settings.get("api_key") for s in sources):
            msg = (
                "No source is configured: set cekat.api_key, or convotic.api_key with "
                "convotic.conversation_ids (env TAP_MESSAGES_CEKAT_API_KEY / "
                "TAP_MESSAGES_CONVOTIC_API_KEY under Meltano)."
            )
            raise TapMessagesError(msg)
        for stream in sources:
            if stream.selected and not stream.settings.get("api_key"):
                self.logger.warning(
                    "Skipping %s: %s.api_key is not set.", stream.name, stream.settings_prefix
                )
                stream.selected = False

    def pacer(self, vendor: str) -> RatePacer:
        """The one request budget per vendor that all its streams and threads share."""
        if vendor not in self._pacers:
            window = float(self.config.get("rate_limit_window", 60))
            self._pacers[vendor] = RatePacer(vendor, window)
        return self._pacers[vendor]

    @override
    def discover_streams(self) -> list[Stream]:
        return [CekatMessagesStream(self), ConvoticMessagesStream(self), QuarantineStream(self)]

    @classmethod
    @override
    def invoke(
        cls,
        *,
        state: t.IO[str] | None = None,
        catalog: t.IO[str] | None = None,
        **kwargs: t.Any,
    ) -> None:
        """Run the tap; an actionable failure ends it with its message alone and exit code 1."""
        try:
            state, catalog = (
                input_files.checked(state, "state"),
                input_files.checked(catalog, "catalog"),
            )
            super().invoke(state=state, catalog=catalog, **kwargs)
        except TapMessagesError as exc:
            cls.logger.error("%s", exc)
            sys.exit(1)


if __name__ == "__main__":
    TapMessages.cli()
