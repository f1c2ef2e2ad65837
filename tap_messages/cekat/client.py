"""What every Cekat stream shares: the key in both headers, `success: false`, the page walk."""

from __future__ import annotations

import re
import typing as t

from singer_sdk.exceptions import RetriableAPIError
from typing_extensions import override

from tap_messages.cekat.page_walk import PageWalk, Report
from tap_messages.cekat.pages import Page, total_items
from tap_messages.shared.client import VendorStream
from tap_messages.shared.errors import VendorAPIError
from tap_messages.shared.read_ahead import ReadAhead
from tap_messages.shared.retries import backoff_wait

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

LIST_SHAPE = "{success, data: [...], metadata: {pagination}}"
_TRANSIENT = re.compile(r"temporar|unavailable|timed? ?out|try again|overload|busy|mainten", re.I)


def cekat_refusal(payload: t.Any, path: str) -> Exception | None:
    """A `success: false` body (even with HTTP 200): the vendor's words, retried if transient."""
    if not (isinstance(payload, dict) and payload.get("success") is False):
        return None
    error = payload.get("error")
    words = str((error.get("message") if isinstance(error, dict) else error) or "no reason given")
    status = payload.get("status_code")
    msg = f"Cekat refused {path} (success: false): {words[:200]}"
    if _TRANSIENT.search(words) or (isinstance(status, int) and (status >= 500 or status == 429)):
        return RetriableAPIError(msg)
    return VendorAPIError(msg, status if isinstance(status, int) else 200)


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

    def read_page(self, page: int, limit: int, filters: Context | None = None) -> Page:
        """One numbered page of the list, its times in UTC."""
        payload = self.get_json({"limit": limit, "page": page, **(filters or {})})
        answer = f"Cekat page {page} of {self.path}"
        rows = self.rows_under(payload, "data", answer=answer, shape=LIST_SHAPE)
        return Page(page, limit, rows, total_items(payload))

    def page_walk(
        self, read: t.Callable[[int, int], Page], report: Report, *, stops_early: bool = False
    ) -> PageWalk:
        """The page walk over `read(page, limit)`, with its guarantees (see page_walk)."""
        max_wait = float(self.config.get("max_retry_wait", 300))
        return PageWalk(
            read=read,
            most=self.page_size,
            ahead=ReadAhead(self.max_concurrency),
            pause=lambda attempt: self.pacer.hold(backoff_wait(attempt + 1, max_wait)),
            report=report,
            stops_early=stops_early,
        )

    def account(self, context: Context | None, report: Report) -> None:
        """Add a walk's figures to the stream's; each shortfall a WARNING, none left unsaid."""
        self.reread += report.reread
        for shortfall in report.shortfalls:
            self.fall_short(f"{shortfall} ({context})" if context else shortfall)
