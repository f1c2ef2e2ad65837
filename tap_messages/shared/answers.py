"""A vendor's answer: JSON read in its declared charset, then the rows under its documented key."""

from __future__ import annotations

import logging
import typing as t

import msgspec
import requests

from tap_messages.shared.errors import TapMessagesError


def decoded(response: requests.Response, logger: logging.Logger, where: str) -> t.Any:
    """The body as JSON (else ValueError); lone UTF-16 surrogates become U+FFFD, with a WARNING."""
    if (response.encoding or "utf-8").lower() in {"utf-8", "utf8"}:
        try:
            return msgspec.json.decode(response.content)
        except msgspec.DecodeError:
            pass  # e.g. an escaped lone surrogate, which the standard parser reads
    payload, replaced = without_lone_surrogates(response.json())
    if replaced:
        logger.warning(
            "%s: %d characters that no UTF-8 text can hold (lone UTF-16 surrogates); each "
            "became U+FFFD so that the records can be written.",
            where,
            replaced,
        )
    return payload


def without_lone_surrogates(value: t.Any) -> tuple[t.Any, int]:
    """The JSON value with each lone UTF-16 surrogate in its strings replaced by U+FFFD."""
    if isinstance(value, str):
        count = sum("\ud800" <= c <= "\udfff" for c in value) if not value.isascii() else 0
        if not count:
            return value, 0
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace"), count
    if isinstance(value, list):
        pairs = [without_lone_surrogates(v) for v in value]
        return [v for v, _ in pairs], sum(n for _, n in pairs)
    if isinstance(value, dict):
        fixed = {k: without_lone_surrogates(v) for k, v in value.items()}
        return {k: v for k, (v, _) in fixed.items()}, sum(n for _, n in fixed.values())
    return value, 0


def objects_under(
    payload: t.Any, key: str, *, answer: str, shape: str, setting: str
) -> list[dict[str, t.Any]]:
    """The JSON objects under `key` (`null` is none); else stop, asking if `setting` is right."""
    rows = payload.get(key, ...) if isinstance(payload, dict) else ...
    if rows is None:
        return []
    if isinstance(rows, list) and all(isinstance(row, dict) for row in rows):
        return rows
    msg = f"{answer} is not the documented shape ({shape}); is {setting} right?"
    raise TapMessagesError(msg)
