"""The one registry of streams: discovery, the input checks and the docs take their names here."""

from __future__ import annotations

import typing as t

from tap_messages.cekat.conversations import CekatConversationsStream
from tap_messages.cekat.directory import CekatAgentsStream, CekatContactsStream, CekatInboxesStream
from tap_messages.cekat.messages import CekatMessagesStream
from tap_messages.convotic.contacts import ConvoticContactsStream
from tap_messages.convotic.messages import ConvoticMessagesStream
from tap_messages.shared.client import VendorStream
from tap_messages.shared.quarantine import QuarantineStream

VENDOR_STREAMS: tuple[type[VendorStream], ...] = (
    CekatMessagesStream,
    ConvoticMessagesStream,
    CekatConversationsStream,
    CekatContactsStream,
    CekatAgentsStream,
    CekatInboxesStream,
    ConvoticContactsStream,
)
QUARANTINE = QuarantineStream
# The SDK declares `name` as an instance attribute; each of these classes sets it on the class.
NAMES: tuple[str, ...] = tuple(t.cast("t.Any", kind).name for kind in (*VENDOR_STREAMS, QUARANTINE))
