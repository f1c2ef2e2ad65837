"""A last line of defence: configured keys are masked in every log line, whatever logged them."""

from __future__ import annotations

import logging
import typing as t


class RedactSecrets(logging.Filter):
    """Replaces each secret in a log record's final text with ***."""

    def __init__(self, secrets: t.Iterable[str]) -> None:
        """Remember the secrets (6+ characters), longest first so overlapping ones mask fully."""
        super().__init__()
        self.secrets = sorted({s for s in secrets if len(s) >= 6}, key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's message (args merged) and its exception text without secrets."""
        text = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if any(s in text or s in (record.exc_text or "") for s in self.secrets):
            for secret in self.secrets:
                text = text.replace(secret, "***")
                record.exc_text = (record.exc_text or "").replace(secret, "***") or None
            record.msg, record.args = text, None
        return True


def install(secrets: t.Iterable[str]) -> None:
    """Attach the filter to every handler of the root logger (where singer-sdk logs go)."""
    redactor = RedactSecrets(secrets)
    if not redactor.secrets:
        return
    for handler in logging.getLogger().handlers:
        handler.addFilter(redactor)
