"""Convotic's streams: messages by the time-window walk per conversation, and contacts."""
