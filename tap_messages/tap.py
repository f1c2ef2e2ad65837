"""tap-messages: the tap, composing the streams and what they share (pacers, quarantine)."""

from __future__ import annotations

import sys
import typing as t

from singer_sdk import Stream, Tap
from typing_extensions import override

from tap_messages.settings import config_files, input_files
from tap_messages.settings.checks import VENDORS, setting_errors
from tap_messages.settings.schema import SETTINGS
from tap_messages.shared import redaction
from tap_messages.shared.errors import TapMessagesError
from tap_messages.shared.output import StdoutWriter
from tap_messages.shared.pacing import RatePacer
from tap_messages.streams import NAMES, QUARANTINE, VENDOR_STREAMS


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
        sources = [s for s in self.streams.values() if isinstance(s, VENDOR_STREAMS)]
        if not any(s.settings.get("api_key") for s in sources):
            msg = (
                "No source is configured: set cekat.api_key, or convotic.api_key with "
                "convotic.conversation_ids (env TAP_MESSAGES_CEKAT_API_KEY / "
                "TAP_MESSAGES_CONVOTIC_API_KEY under Meltano)."
            )
            raise TapMessagesError(msg)
        for stream in sources:
            if stream.selected and not stream.settings.get("api_key"):
                self.logger.info(
                    "Skipping %s: %s.api_key is not set.", stream.name, stream.settings_prefix
                )
                stream.selected = False

    @override
    def discover_streams(self) -> list[Stream]:
        """Every stream of the registry, each vendor's sharing one pacer, all one quarantine."""
        window = float(self.config.get("rate_limit_window", 60))
        pacers = {kind.vendor: RatePacer(kind.vendor, window) for kind in VENDOR_STREAMS}
        quarantine = QUARANTINE(self)
        streams: list[Stream] = [
            kind(self, pacer=pacers[kind.vendor], quarantine=quarantine)
            for kind in VENDOR_STREAMS
        ]
        return [*streams, quarantine]

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
        state = input_files.checked(state, "state", NAMES)
        catalog = input_files.checked(catalog, "catalog", NAMES)
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
