"""Messages leave in buffer-sized writes, even unbuffered; a STATE leaves after its records."""

from __future__ import annotations

import io
import json
import sys

from singer_sdk.singerlib import RecordMessage, StateMessage

from tap_messages.shared.output import StdoutWriter


class CountingRaw(io.RawIOBase):
    """An unbuffered stdout (PYTHONUNBUFFERED) that counts the writes reaching it."""

    def __init__(self) -> None:
        self.writes, self.data = 0, bytearray()

    def writable(self) -> bool:
        return True

    def write(self, chunk) -> int:  # type: ignore[override]
        self.writes += 1
        self.data += chunk
        return len(chunk)


class UnbufferedStdout:
    def __init__(self, raw: CountingRaw) -> None:
        self.buffer = raw

    def flush(self) -> None:
        pass


def test_records_are_written_in_few_system_calls_and_a_state_flushes_them(monkeypatch):
    raw = CountingRaw()
    monkeypatch.setattr(sys, "stdout", UnbufferedStdout(raw))
    writer = StdoutWriter()
    for n in range(1000):
        writer.write_message(RecordMessage(stream="s", record={"id": n, "text": "x" * 40}))
    assert raw.writes < 20, "one write per message is one system call per message"
    writer.write_message(StateMessage(value={"bookmarks": {"s": {"id": 999}}}))
    lines = [json.loads(line) for line in raw.data.decode().splitlines()]
    assert len(lines) == 1001, "the STATE flushed every record written before it"
    assert lines[-1]["type"] == "STATE"
    assert [m["record"]["id"] for m in lines[:-1]] == list(range(1000))
