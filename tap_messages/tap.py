"""tap-messages: the tap, its settings and their checks."""

from __future__ import annotations

import sys
import typing as t
from urllib.parse import urlparse

from singer_sdk import Stream, Tap
from singer_sdk import typing as th
from singer_sdk.contrib.msgspec import MsgSpecWriter
from singer_sdk.exceptions import ConfigValidationError
from typing_extensions import override

from tap_messages import redaction, timestamps
from tap_messages.cekat import CekatMessagesStream
from tap_messages.client import MessagesStream
from tap_messages.convotic import ConvoticMessagesStream
from tap_messages.errors import TapMessagesError
from tap_messages.quarantine import QuarantineStream

VENDORS = ("cekat", "convotic")


class TapMessages(Tap):
    """Chat messages from Cekat and Convotic, validated, with resumable state."""

    name = "tap-messages"
    message_writer_class = MsgSpecWriter

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
                    "platform",
                    th.StringType,
                    description="Only messages of this platform (e.g. whatsapp).",
                ),
            ),
            description="Convotic source.",
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
    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        redaction.install(
            str((self.config.get(vendor) or {}).get("api_key") or "") for vendor in VENDORS
        )

    @override
    def discover_streams(self) -> list[Stream]:
        return [CekatMessagesStream(self), ConvoticMessagesStream(self), QuarantineStream(self)]

    @override
    def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
        errors = super()._validate_config(raise_errors=False) + self._setting_errors()
        if errors and raise_errors:
            raise ConfigValidationError("Config validation failed", errors=errors)
        return errors

    def _setting_errors(self) -> list[str]:
        """Checks JSON Schema cannot express, one line each naming the setting."""
        errors = []
        start = self.config.get("start_date")
        if isinstance(start, str):
            try:
                timestamps.parse(start)
            except ValueError:
                errors.append(f"start_date: {start!r} is not an RFC 3339 timestamp.")
        for vendor in VENDORS:
            block = self.config.get(vendor)
            if not isinstance(block, dict):
                continue
            if "api_key" in block and not str(block["api_key"] or "").strip():
                errors.append(f"{vendor}.api_key is empty: set the key or remove the setting.")
            url = urlparse(str(block.get("base_url", "")))
            if url.scheme not in {"http", "https"} or not url.hostname:
                errors.append(
                    f"{vendor}.base_url: {block.get('base_url')!r} is not an http(s) URL."
                )
        zone = (self.config.get("cekat") or {}).get("timezone")
        if isinstance(zone, str):
            try:
                timestamps.zone(zone)
            except ValueError as exc:
                errors.append(str(exc))
        convotic = self.config.get("convotic") or {}
        if convotic.get("api_key") and not convotic.get("conversation_ids"):
            errors.append(
                "convotic.conversation_ids is empty: list the conversations to extract "
                "(Convotic's API cannot list them)."
            )
        return errors

    @override  # type: ignore[misc]
    def sync_all(self) -> None:
        """Skip each source without a key (one log line); refuse to run with none."""
        sources = [s for s in self.streams.values() if isinstance(s, MessagesStream)]
        keyed = [s for s in sources if s.settings.get("api_key")]
        if not keyed:
            msg = (
                "No source is configured: set cekat.api_key, or convotic.api_key with "
                "convotic.conversation_ids (env TAP_MESSAGES_CEKAT_API_KEY / "
                "TAP_MESSAGES_CONVOTIC_API_KEY under Meltano)."
            )
            raise TapMessagesError(msg)
        for stream in sources:
            if stream not in keyed and stream.selected:
                self.logger.warning(
                    "Skipping %s: %s.api_key is not set.", stream.name, stream.settings_prefix
                )
                stream.selected = False
        super().sync_all()
        convotic = self.streams["convotic_messages"]
        if isinstance(convotic, ConvoticMessagesStream) and convotic.selected:
            read = len(convotic.partitions or [])
            self.logger.info(
                "convotic_messages: %d conversations read, %d skipped as not found%s",
                read - len(convotic.not_found),
                len(convotic.not_found),
                f" ({', '.join(convotic.not_found)})" if convotic.not_found else "",
            )

    @classmethod
    @override
    def invoke(cls, *args: t.Any, **kwargs: t.Any) -> None:
        """Run the tap; an actionable failure ends it with its message alone and exit code 1."""
        try:
            super().invoke(*args, **kwargs)
        except TapMessagesError as exc:
            cls.logger.error("%s", exc)
            sys.exit(1)


if __name__ == "__main__":
    TapMessages.cli()
