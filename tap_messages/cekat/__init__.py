"""Cekat's streams: messages by the page walk, conversations by the keyset walk, the directory."""
