"""The config as the user gave it (files, TAP_MESSAGES_* variables), checked before the SDK sees it.

Every problem is one line naming the setting (`cekat.api_key`), never showing a secret's value; a
misspelt key inside a vendor's block is refused with the nearest valid name, an unknown top-level
one warned about. Environment variables follow Meltano's convention, nested settings included:
`TAP_MESSAGES_CEKAT_API_KEY` is `cekat.api_key`.
"""

from __future__ import annotations

import difflib
import json
import logging
import os
import typing as t
from pathlib import PurePath

import jsonschema
from dotenv import dotenv_values, find_dotenv

from tap_messages.shared.errors import TapMessagesError

LOGGER = logging.getLogger("tap-messages")
PREFIX = "TAP_MESSAGES_"
Config = dict[str, t.Any]


def read(config: t.Any, schema: dict[str, t.Any], *, from_environment: bool) -> Config:
    """The config dict from a dict or JSON files, with the environment's settings over it."""
    if isinstance(config, dict):
        merged = dict(config)
    else:
        merged = {}
        for path in [config] if isinstance(config, (str, PurePath)) else config or []:
            try:
                with open(path, encoding="utf-8") as handle:
                    content = json.load(handle)
            except (OSError, ValueError) as exc:
                msg = f"config file {path}: cannot be read as JSON ({exc}); pass a JSON object."
                raise TapMessagesError(msg) from None
            if not isinstance(content, dict):
                msg = f"config file {path}: must hold a JSON object of settings."
                raise TapMessagesError(msg)
            merged.update(content)
    if from_environment:
        for path, value in environment(schema).items():
            block = merged.setdefault(path[0], {}) if len(path) == 2 else merged
            if isinstance(block, dict):
                block[path[-1]] = value
    return merged


def environment(schema: dict[str, t.Any]) -> dict[tuple[str, ...], t.Any]:
    """Settings named by TAP_MESSAGES_* variables (or a .env file), nested ones included."""
    found = {**dotenv_values(find_dotenv(usecwd=True)), **os.environ}
    settings: dict[tuple[str, ...], t.Any] = {}
    for name, node in schema.get("properties", {}).items():
        children = node.get("properties") if "object" in _types(node) else None
        paths: list[tuple[tuple[str, ...], dict[str, t.Any]]] = [
            ((name, sub), n) for sub, n in (children or {}).items()
        ] or [((name,), node)]
        for path, child in paths:
            variable = PREFIX + "_".join(path).upper().replace("-", "_")
            if (raw := found.get(variable)) is not None:
                settings[path] = _parsed(raw, child, variable)
    return settings


def _types(node: dict[str, t.Any]) -> list[str]:
    kind = node.get("type", [])
    return [kind] if isinstance(kind, str) else list(kind)


def _parsed(raw: str, node: dict[str, t.Any], variable: str) -> t.Any:
    kinds = _types(node)
    try:
        if "integer" in kinds:
            return int(raw)
        if "number" in kinds:
            return float(raw)
        if "boolean" in kinds:
            return raw.strip().lower() in {"1", "true", "yes", "on"}
        if "array" in kinds or "object" in kinds:
            if "array" in kinds and not raw.lstrip().startswith("["):
                return [part.strip() for part in raw.split(",") if part.strip()]
            return json.loads(raw)
    except ValueError:
        shown = "" if node.get("secret") else f" ({raw[:40]!r})"
        msg = f"{variable}: not {' or '.join(kinds)}{shown}; write it as Meltano would."
        raise TapMessagesError(msg) from None
    return raw


def problems(config: Config, schema: dict[str, t.Any]) -> list[str]:
    """What is wrong with the config's shape, one line each, no secret shown."""
    found = []
    for error in jsonschema.Draft7Validator(schema).iter_errors(config):
        where = list(error.absolute_path)
        path = ".".join(str(p) for p in where) or "config"
        node: dict[str, t.Any] = error.schema if isinstance(error.schema, dict) else {}
        secret = any(_at(schema, where[: i + 1]).get("secret") for i in range(len(where)))
        if error.validator == "type":
            wanted = " or ".join(k for k in _types(node) if k != "null")
            found.append(f"{path}: must be {wanted} (it is {_kind(error.instance)}).")
        elif secret:
            found.append(f"{path}: not a valid value ({error.validator}); the value is not shown.")
        else:
            found.append(f"{path}: {error.message}.")
    for name in ("cekat", "convotic"):  # the tap's own blocks; the SDK's take any keys
        node, block = schema["properties"][name], config.get(name)
        if isinstance(block, dict):
            for key in block.keys() - node["properties"].keys():
                found.append(f"{name}.{key} is not a setting of tap-messages{_near(key, node)}.")
    for key in config.keys() - schema.get("properties", {}).keys():
        LOGGER.warning(
            "Setting %r is not one of tap-messages'%s; ignored.", key, _near(key, schema)
        )
    return found


def _at(schema: dict[str, t.Any], path: t.Sequence[t.Any]) -> dict[str, t.Any]:
    node = schema
    for part in path:
        node = node.get("properties", {}).get(part, {}) if isinstance(part, str) else {}
    return node


def _kind(value: t.Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "true or false"}.get(
        type(value), "a number" if isinstance(value, (int, float)) else "null"
    )


def _near(key: str, node: dict[str, t.Any]) -> str:
    close = difflib.get_close_matches(key, list(node.get("properties", {})), n=1, cutoff=0.6)
    return f" (did you mean {close[0]}?)" if close else ""
