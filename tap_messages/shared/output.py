"""Singer messages to standard output, in buffer-sized writes, flushed at each STATE."""

from __future__ import annotations

import sys

from singer_sdk.contrib.msgspec import MsgSpecWriter
from singer_sdk.singerlib import Message, SingerMessageType
from typing_extensions import override


class StdoutWriter(MsgSpecWriter):
    """The SDK's msgspec writer; a STATE still reaches the target after every record it covers."""

    @override
    def write_message(self, message: Message) -> None:
        sys.stdout.buffer.write(self.format_message(message))
        if message.type == SingerMessageType.STATE:
            sys.stdout.flush()
