"""Each vendor's part shared by all its streams: the key's headers, refusals, Cekat's page walk."""

from __future__ import annotations

import time
import typing as t

from typing_extensions import override

from tap_messages.cekat_walk import PageWalk, Report
from tap_messages.client import VendorStream
from tap_messages.errors import cekat_refusal
from tap_messages.read_ahead import ReadAhead
from tap_messages.retries import backoff_wait

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

    from tap_messages.cekat_pages import Page


class CekatStream(VendorStream):
    """A Cekat endpoint: one key (both headers), one rate limit, one page walk for its lists."""

    vendor = "Cekat"
    settings_prefix = "cekat"

    @override
    def auth_headers(self) -> dict[str, str]:
        key = self.settings.get("api_key") or ""
        return {"Authorization": f"Bearer {key}", "api_key": key}

    @override
    def refusal(self, payload: t.Any) -> Exception | None:
        return cekat_refusal(payload, self.path)

    @property
    def page_size(self) -> int:
        """Rows asked for per request (`cekat.page_size`)."""
        return int(self.settings.get("page_size") or 100)

    def page_walk(self, read: t.Callable[[int, int], Page], report: Report) -> PageWalk:
        """The page walk (cekat_walk) over `read(page, limit)`, with its guarantees."""
        max_wait = float(self.config.get("max_retry_wait", 300))
        return PageWalk(
            read=read,
            most=self.page_size,
            ahead=ReadAhead(self.max_concurrency),
            pause=lambda attempt: time.sleep(backoff_wait(attempt + 1, max_wait)),
            report=report,
        )

    def account(self, context: Context | None, report: Report) -> None:
        """Add a walk's figures to the stream's; each shortfall a WARNING, none left unsaid."""
        self.reread += report.reread
        for shortfall in report.shortfalls:
            where = f" ({context})" if context else ""
            self.logger.warning("%s%s: %s", self.name, where, shortfall)
            self.shortfalls.append(shortfall)


class ConvoticStream(VendorStream):
    """A Convotic endpoint: one key (`X-API-Key`), one rate limit for all its streams."""

    vendor = "Convotic"
    settings_prefix = "convotic"

    @override
    def auth_headers(self) -> dict[str, str]:
        return {"X-API-Key": self.settings.get("api_key") or ""}
