"""RECORD messages written in batches, without singer-sdk's per-record message objects.

The SDK builds a message object per record, prunes and conforms it, and flushes stdout after
each; here a batch of checked records is serialised with msgspec into one write. The bytes are
the same Singer RECORD messages. Writes go to the same buffer the SDK's writer flushes, so
SCHEMA, RECORD and STATE keep their order.
"""

from __future__ import annotations

import datetime as dt
import sys
import typing as t

import msgspec
from singer_sdk.helpers._catalog import pop_deselected_record_properties
from singer_sdk.helpers._state import StateWriter
from typing_extensions import override

if t.TYPE_CHECKING:
    from singer_sdk import Stream
    from singer_sdk.helpers import types


CHUNK = 1 << 20  # bytes held before a write: fewer writes, fewer GIL hand-offs to fetchers


class RecordOutput:
    """Writes one stream's records; prunes deselected properties only when there are some."""

    def __init__(self, stream: Stream) -> None:
        """Precompute what every record of the stream shares."""
        self.stream = stream
        self._encode_lines = msgspec.json.Encoder().encode_lines
        properties = stream.schema.get("properties", {})
        self._prune = any(not stream.mask.get(("properties", name), True) for name in properties)
        self._pending = bytearray()

    def encode(self, records: list[dict[str, t.Any]]) -> bytes:
        """A batch as RECORD messages; `time_extracted` is now. Safe to run in a worker."""
        now = dt.datetime.now(dt.timezone.utc).isoformat().replace("+00:00", "Z")
        if self._prune:
            for record in records:
                pop_deselected_record_properties(record, self.stream.schema, self.stream.mask)
        name = self.stream.name
        return self._encode_lines(
            [
                {"type": "RECORD", "stream": name, "record": r, "time_extracted": now}
                for r in records
            ]
        )

    def write(self, lines: bytes) -> None:
        """Hold serialised records, handing them to stdout a chunk at a time."""
        self._pending += lines
        if len(self._pending) >= CHUNK:
            self.flush()

    def flush(self) -> None:
        """Hand everything held to stdout's buffer (before any STATE that covers it)."""
        if self._pending:
            sys.stdout.buffer.write(self._pending)
            self._pending = bytearray()


class StateOutput(StateWriter):
    """STATE messages serialised once and compared as bytes, instead of deep-copied per write.

    singer-sdk copies and re-walks the whole state for every STATE message, which at thousands
    of conversations costs more than the records between two of them.
    """

    def __init__(self) -> None:
        """Nothing written yet."""
        self._encode = msgspec.json.Encoder().encode
        self._last: bytes | None = None

    @override
    def write_state(self, state: types.TapState) -> None:
        line = b'{"type":"STATE","value":' + self._encode(state) + b"}\n"
        if line != self._last:
            sys.stdout.buffer.write(line)
            sys.stdout.flush()
            self._last = line
