"""Checks of the --state and --catalog files before a run: a clear line for each problem."""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import typing as t

from tap_messages.shared import timestamps
from tap_messages.shared.errors import TapMessagesError

LOGGER = logging.getLogger("tap-messages")


def _load(handle: t.IO[str], what: str) -> t.Any:
    try:
        return json.loads(handle.read())
    except ValueError as exc:
        msg = f"{what} file is not JSON ({exc}); pass the file Meltano or the tap wrote."
        raise TapMessagesError(msg) from None


def _bookmark_problem(where: str, entry: t.Any, now: dt.datetime) -> str | None:
    if not isinstance(entry, dict):
        return f"{where} must be an object"
    value = entry.get("replication_key_value")
    if value is None:
        return None
    try:
        moment = timestamps.parse(value) if isinstance(value, str) else None
    except ValueError:
        moment = None
    if moment is None:
        return f"{where}.replication_key_value {value!r} is not a timestamp"
    if moment > now:
        LOGGER.warning(
            "State bookmark %s = %s is in the future: nothing older is read until "
            "then. Remove it to re-read.",
            where,
            value,
        )
    return None


def unwrapped(state: t.Any) -> t.Any:
    """The Singer state inside Meltano's `{"singer_state": ...}` wrapper, or the state as it is."""
    if isinstance(state, dict) and set(state) == {"singer_state"}:
        LOGGER.info("State file: read the Singer state inside Meltano's singer_state wrapper.")
        return state["singer_state"]
    return state


def state_problems(state: t.Any, streams: t.Collection[str]) -> list[str]:
    """What is wrong with a state object, in its own terms (empty when usable)."""
    if not isinstance(state, dict):
        return ['the state must be a JSON object like {"bookmarks": {...}}']
    if state.get("type") == "STATE":
        return ['the file holds a STATE message: pass its "value" object instead']
    bookmarks = state.get("bookmarks", {})
    if not isinstance(bookmarks, dict):
        return ['"bookmarks" must be an object keyed by stream name']
    if bookmarks and not set(bookmarks) & set(streams):
        names = ", ".join(sorted(bookmarks)[:5])
        return [
            f"its bookmarks name {names}, none of tap-messages' streams: it is another tap's "
            "state; pass this tap's state, or none to start from start_date"
        ]
    now, problems = dt.datetime.now(dt.timezone.utc), []
    for stream in streams:
        entry = bookmarks.get(stream)
        if entry is None:
            continue
        if problem := _bookmark_problem(f"bookmarks.{stream}", entry, now):
            problems.append(problem)
            continue
        partitions = entry.get("partitions", [])
        if not isinstance(partitions, list):
            problems.append(f"bookmarks.{stream}.partitions must be a list")
            continue
        for i, partition in enumerate(partitions):
            where = f"bookmarks.{stream}.partitions[{i}]"
            if not isinstance(partition, dict) or not isinstance(partition.get("context"), dict):
                problems.append(f'{where} must be an object with a "context" object')
            elif problem := _bookmark_problem(where, partition, now):
                problems.append(problem)
    return problems


def catalog_problems(catalog: t.Any, streams: t.Collection[str]) -> list[str]:
    """What is wrong with a catalog object (empty when usable)."""
    if not isinstance(catalog, dict) or not isinstance(catalog.get("streams"), list):
        return ['the catalog must be a JSON object with a "streams" list (see --discover)']
    problems = []
    for i, stream in enumerate(catalog["streams"]):
        if not isinstance(stream, dict) or not isinstance(stream.get("tap_stream_id"), str):
            problems.append(f'streams[{i}] needs a "tap_stream_id" string')
        elif not isinstance(stream.get("schema", {}), dict) or not isinstance(
            stream.get("metadata", []), list
        ):
            problems.append(
                f'streams[{i}] ({stream["tap_stream_id"]}): "schema" must be an '
                'object and "metadata" a list'
            )
        elif stream["tap_stream_id"] not in streams:
            LOGGER.warning(
                "Catalog stream %r is not a stream of tap-messages; ignored.",
                stream["tap_stream_id"],
            )
    return problems


def checked(
    handle: t.IO[str] | None, what: str, streams: t.Collection[str]
) -> t.IO[str] | None:
    """The file's content, re-readable, once it passes; else a TapMessagesError naming the fix."""
    if handle is None:
        return None
    content = _load(handle, what)
    if what == "state":
        content = unwrapped(content)
    check = state_problems if what == "state" else catalog_problems
    problems = check(content, streams)
    if problems:
        raise TapMessagesError(f"{what} file: " + "; ".join(problems) + ".")
    return io.StringIO(json.dumps(content))
