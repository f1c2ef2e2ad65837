"""tap-messages: the tap, its settings and their checks."""

from __future__ import annotations

import sys
import typing as t

from singer_sdk import Stream, Tap
from singer_sdk.contrib.msgspec import MsgSpecWriter
from singer_sdk.singerlib import Message, SingerMessageType
from typing_extensions import override

from tap_messages import config_files, input_files, redaction
from tap_messages.cekat import CekatMessagesStream
from tap_messages.cekat_conversations import CekatConversationsStream
from tap_messages.cekat_lists import CekatAgentsStream, CekatContactsStream, CekatInboxesStream
from tap_messages.client import VendorStream
from tap_messages.convotic import ConvoticMessagesStream
from tap_messages.convotic_contacts import ConvoticContactsStream
from tap_messages.errors import TapMessagesError
from tap_messages.quarantine import QuarantineStream
from tap_messages.rate_limits import RatePacer
from tap_messages.setting_checks import VENDORS, setting_errors
from tap_messages.settings import SETTINGS


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

    config_jsonschema = SETTINGS

    @override
    def __init__(
        self,
        *,
        config: t.Any = None,
        parse_env_config: bool = False,
        validate_config: bool = True,
        **kwargs: t.Any,
    ) -> None:
        self._pacers: dict[str, RatePacer] = {}
        schema = self.config_jsonschema
        self.append_builtin_config(schema)
        settings = config_files.read(config, schema, from_environment=parse_env_config)
        if errors := config_files.problems(settings, schema):
            raise TapMessagesError("Config: " + " ".join(errors))
        super().__init__(config=settings, validate_config=validate_config, **kwargs)
        redaction.install(
            str((self.config.get(vendor) or {}).get("api_key") or "") for vendor in VENDORS
        )
        if validate_config:
            if errors := setting_errors(self.config):
                raise TapMessagesError("Config: " + " ".join(errors))
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
        return [
            CekatMessagesStream(self),
            ConvoticMessagesStream(self),
            CekatConversationsStream(self),
            CekatContactsStream(self),
            CekatAgentsStream(self),
            CekatInboxesStream(self),
            ConvoticContactsStream(self),
            QuarantineStream(self),
        ]

    @classmethod
    @override
    def invoke(
        cls,
        *,
        state: t.IO[str] | None = None,
        catalog: t.IO[str] | None = None,
        **kwargs: t.Any,
    ) -> None:
        """Run the tap once its state and catalog files pass their checks."""
        state, catalog = (
            input_files.checked(state, "state"),
            input_files.checked(catalog, "catalog"),
        )
        super().invoke(state=state, catalog=catalog, **kwargs)


def main() -> None:
    """The command line: an actionable failure ends it with its message alone and exit code 1."""
    try:
        TapMessages.cli()
    except TapMessagesError as exc:
        TapMessages.logger.error("%s", exc)
        sys.exit(1)


if __name__ == "__main__":
    main()
