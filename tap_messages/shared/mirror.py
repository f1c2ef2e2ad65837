"""Deletes reach the warehouse: ACTIVATE_VERSION after a stream was read whole, never before it.

The loader marks deleted (or removes) every row of the table with an older `_sdc_table_version`.
The SDK's `emit_activate_version_messages` sends it first, so a run killed after one record would
mark every row not yet re-sent. Here the records carry the run's version and the message follows
the last of them, only if the run read the stream's whole scope (docs/warehouse.md, "Deletes").
"""

from __future__ import annotations

import fnmatch
import typing as t

from singer_sdk.mapper import RemoveRecordTransform
from singer_sdk.singerlib import ActivateVersionMessage

from tap_messages.shared.output import StdoutWriter

if t.TYPE_CHECKING:
    from singer_sdk import Stream, Tap

UNREAD = "not read yet"


class Mirror:
    """One stream's version in this run, activated after its last record if it read it whole."""

    def __init__(self, tap: Tap, stream: Stream) -> None:
        self.tap, self.stream = tap, stream
        self.partial: str | None = UNREAD  # why this run may not activate (None: it may)
        self.aliases: list[str] = []

    def begin(self, settings: t.Mapping[str, t.Any], filters: t.Iterable[str]) -> None:
        """Before the first record: if the run may activate, its records carry the version."""
        if self.partial != UNREAD:
            return
        self.partial = self.narrowed(settings, filters)
        writer = self.tap.message_writer
        if self.partial is None and isinstance(writer, StdoutWriter):
            maps = [m for m in self.stream.stream_maps if not isinstance(m, RemoveRecordTransform)]
            self.aliases = [m.stream_alias for m in maps]
            writer.versions.update(dict.fromkeys(self.aliases, self.tap.initialized_at))
        elif self.partial is None:
            self.partial = "its message writer gives records no version"

    def narrowed(self, settings: t.Mapping[str, t.Any], filters: t.Iterable[str]) -> str | None:
        """Why the run does not read the whole scope (`filters`: the settings that narrow it)."""
        stream, config = self.stream, self.stream.config
        if named := [name for name in filters if settings.get(name)]:
            return f"the filter {named[0]} narrows its scope"
        if (shards := int(settings.get("shard_count") or 1)) > 1:
            return f"one shard of {shards}"
        maps = config.get("stream_maps") or {}
        if any(
            isinstance(rule, dict)
            and "__filter__" in rule
            and fnmatch.fnmatchcase(stream.name, rule.get("__source__", alias))
            for alias, rule in maps.items()
        ):
            return "a stream map filters its records"
        if config.get("batch_config"):
            return "BATCH files carry no record version"
        state = stream.stream_state
        if any("replication_key_value" in s for s in (state, *state.get("partitions", ()))):
            return "an incremental run, from the bookmark in its state"
        return None

    def end(self, shortfalls: t.Sequence[str], quarantined: int) -> None:
        """After the last record: activate the version, unless something in scope went unsent."""
        name, log = self.stream.name, self.stream.logger
        # A quarantined row still exists at the vendor: its older copy must not be marked deleted.
        held = f"{quarantined} records quarantined" if quarantined else None
        if why := self.partial or ("it has shortfalls" if shortfalls else held):
            log.info("%s: no ACTIVATE_VERSION, deletes wait for a whole read (%s).", name, why)
            return
        version = self.tap.initialized_at
        for alias in self.aliases:
            self.tap.write_message(ActivateVersionMessage(stream=alias, version=version))
        log.info("%s: read whole, ACTIVATE_VERSION %d: unsent rows become deleted.", name, version)
