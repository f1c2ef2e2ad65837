"""Singer messages to standard output, in buffer-sized writes, flushed at each STATE."""

from __future__ import annotations

import atexit
import io
import sys
import typing as t

from singer_sdk.contrib.msgspec import MsgSpecWriter
from singer_sdk.singerlib import Message, RecordMessage, SingerMessageType
from typing_extensions import override


class StdoutWriter(MsgSpecWriter):
    """The SDK's msgspec writer; a STATE still reaches the target after every record it covers."""

    @override
    def __init__(self) -> None:
        self.versions: dict[str, int] = {}  # the version each stream's RECORDs carry (mirror.py)
        self._stdout: t.Any = None
        self._sink: t.Any = None

    def sink(self) -> t.Any:
        """The bytes of stdout, buffered even where PYTHONUNBUFFERED (container images) is on."""
        if sys.stdout.buffer is not self._stdout:
            self._stdout = raw = sys.stdout.buffer
            self._sink = raw
            if not isinstance(raw, io.BufferedIOBase):
                self._sink = io.BufferedWriter(raw)
                atexit.register(_flush, self._sink)
        return self._sink

    @override
    def write_message(self, message: Message) -> None:
        if isinstance(message, RecordMessage) and message.stream in self.versions:
            message.version = self.versions[message.stream]
        sink = self.sink()
        sink.write(self.format_message(message))
        if message.type == SingerMessageType.STATE:
            sink.flush()
            sys.stdout.flush()


def _flush(sink: io.BufferedWriter) -> None:
    """What is left in the buffer at exit, unless its stream was closed first."""
    if not sink.closed:
        sink.flush()
