"""Where stream schemas live: top-level `schemas/`, installed as package tap_messages.schemas."""

from __future__ import annotations

from importlib.resources import files

SCHEMAS = files("tap_messages.schemas")
