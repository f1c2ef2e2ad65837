"""Singer messages to standard output, in buffer-sized writes, flushed at each STATE."""

from __future__ import annotations

import sys

from singer_sdk.contrib.msgspec import MsgSpecWriter
from singer_sdk.singerlib import Message, RecordMessage, SingerMessageType
from typing_extensions import override


class StdoutWriter(MsgSpecWriter):
    """The SDK's msgspec writer; a STATE still reaches the target after every record it covers."""

    @override
    def __init__(self) -> None:
        self.versions: dict[str, int] = {}  # the version each stream's RECORDs carry (mirror.py)

    @override
    def write_message(self, message: Message) -> None:
        if isinstance(message, RecordMessage) and message.stream in self.versions:
            message.version = self.versions[message.stream]
        sys.stdout.buffer.write(self.format_message(message))
        if message.type == SingerMessageType.STATE:
            sys.stdout.flush()
