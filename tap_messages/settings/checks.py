"""Checks of the settings that JSON Schema cannot express; each error names the setting to fix."""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
import typing as t
from urllib.parse import urlparse

from tap_messages.shared import timestamps

LOGGER = logging.getLogger("tap-messages")
VENDORS = ("cekat", "convotic")
_FILTERS = {
    "cekat": ("inbox_ids", "conversation_ids"),
    "convotic": ("conversation_ids", "platform"),
}


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _is_plain(text: str) -> bool:
    """Printable ASCII only: what may go into a request line or header as it is."""
    return text.isascii() and text.isprintable()


def _url_error(vendor: str, value: t.Any) -> str | None:
    url = urlparse(str(value))
    if url.scheme not in {"http", "https"} or not url.hostname:
        return f"{vendor}.base_url: {value!r} is not an http(s) URL."
    if not _is_plain(str(value)) or " " in str(value):
        return (
            f"{vendor}.base_url: {value!r} holds spaces, control or non-ASCII characters; "
            "percent-encode them (and write the host name in its xn-- form)."
        )
    if url.scheme == "http" and not _is_loopback(url.hostname):
        return f"{vendor}.base_url: {value!r} would send the API key unencrypted; use https://."
    return None


def _check_start(start: str) -> None:
    """Say how a start_date without an offset was read, and warn of one in the future."""
    moment = timestamps.parse(start)
    if dt.datetime.fromisoformat(start.replace("Z", "+00:00")).tzinfo is None:
        LOGGER.warning(
            "start_date %r has no UTC offset; read as UTC (%s); add an offset for another zone.",
            start,
            timestamps.format_utc(moment),
        )
    if moment > dt.datetime.now(dt.timezone.utc):
        LOGGER.warning(
            "start_date %s is in the future: a first sync reads nothing until then.", start
        )


def setting_errors(config: t.Mapping[str, t.Any]) -> list[str]:
    """Every problem found, one line each; empty when the settings can be used."""
    errors = []
    start = config.get("start_date")
    if isinstance(start, str):
        try:
            _check_start(start)
        except ValueError:
            errors.append(f"start_date: {start!r} is not an RFC 3339 timestamp.")
    for vendor in VENDORS:
        block = config.get(vendor)
        if not isinstance(block, dict):
            continue
        key = block.get("api_key")
        if "api_key" in block and not str(key or "").strip():
            errors.append(f"{vendor}.api_key is empty: set the key or remove the setting.")
        elif key is not None and not _is_plain(str(key)):
            errors.append(
                f"{vendor}.api_key holds a line break, a control or a non-ASCII character, which "
                "no API key has: copy the key again."
            )
        elif key is None and any(block.get(name) for name in _FILTERS[vendor]):
            errors.append(f"{vendor}.api_key is missing while other {vendor} settings are set.")
        if "base_url" in block and (error := _url_error(vendor, block["base_url"])):
            errors.append(error)
    cekat = config.get("cekat") or {}
    for name, read in (("lookback", timestamps.duration), ("timezone", timestamps.zone)):
        try:
            _ = read(cekat[name]) if isinstance(cekat.get(name), str) else None
        except ValueError as exc:
            errors.append(str(exc))
    if config.get("emit_activate_version_messages"):
        errors.append(
            "emit_activate_version_messages: remove it; the tap sends ACTIVATE_VERSION itself, "
            "after a whole read (the SDK's, sent first, deletes rows when a run is cut short)."
        )
    convotic = config.get("convotic") or {}
    if int(convotic.get("shard_index", 0)) >= int(convotic.get("shard_count", 1)):
        errors.append(
            f"convotic.shard_index {convotic.get('shard_index')} must be below "
            f"convotic.shard_count {convotic.get('shard_count', 1)}."
        )
    if convotic.get("api_key") and not convotic.get("conversation_ids"):
        errors.append(
            "convotic.conversation_ids is empty: list the conversations to extract "
            "(Convotic's API cannot list them)."
        )
    return errors
