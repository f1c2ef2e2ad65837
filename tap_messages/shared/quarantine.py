"""The quarantine stream: records failing their schema are kept with their errors, not dropped."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import typing as t

from singer_sdk import Stream, Tap
from singer_sdk.schema.source import SchemaDirectory, StreamSchema
from singer_sdk.singerlib import RecordMessage, SchemaMessage
from typing_extensions import override

from tap_messages.shared.errors import InvalidRecordError
from tap_messages.shared.timestamps import format_utc
from tap_messages.shared.validation import SCHEMAS

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context


def record_key(record: dict[str, t.Any], key_properties: t.Sequence[str]) -> str:
    """Identify a record by its primary key, or by its content when the key is missing."""
    values = [record.get(name) for name in key_properties]
    if all(isinstance(value, (str, int)) and value != "" for value in values):
        return json.dumps(values, ensure_ascii=False)
    content = json.dumps(record, sort_keys=True, default=str).encode()
    return "sha256:" + hashlib.sha256(content).hexdigest()


class QuarantineStream(Stream):
    """Discoverable home of invalid records; written to by the other streams as they sync."""

    name = "quarantined_records"
    primary_keys: t.ClassVar[list[str]] = ["stream", "record_key"]
    schema = StreamSchema(SchemaDirectory(SCHEMAS))

    @override
    def __init__(self, tap: Tap) -> None:
        super().__init__(tap)
        self.tap = tap
        self._schema_written = False

    @override
    def get_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        """Yield nothing: records arrive through `put` while the message streams sync."""
        return ()

    def refuse(self, stream: Stream, record: dict[str, t.Any], errors: list[str]) -> None:
        """An invalid record: quarantined with a WARNING, or, in fail mode, the end of the run."""
        if self.config.get("on_invalid_record", "quarantine") == "fail":
            identity = {name: record.get(name) for name in stream.primary_keys}
            msg = (
                f"{stream.name}: record {json.dumps(identity, default=str)} fails the schema: "
                f"{'; '.join(errors)}. Set on_invalid_record to 'quarantine' to load such "
                "records into quarantined_records instead."
            )
            raise InvalidRecordError(msg)
        self.put(stream, record, errors)
        stream.logger.warning(
            "Quarantined an invalid %s record: %s", stream.name, "; ".join(errors)
        )

    def put(self, stream: Stream, record: dict[str, t.Any], errors: list[str]) -> None:
        """Emit one quarantined record, preceded once by this stream's SCHEMA."""
        if not self._schema_written:
            self.tap.write_message(SchemaMessage(self.name, self.schema, self.primary_keys))
            self._schema_written = True
        row = {
            "stream": stream.name,
            "record_key": record_key(record, stream.primary_keys),
            "errors": errors,
            "record": record,
            "quarantined_at": format_utc(dt.datetime.now(dt.timezone.utc)),
        }
        self.tap.write_message(RecordMessage(stream=self.name, record=row))
