"""Errors that end a run with one line saying what to fix (no traceback, no secrets)."""

from __future__ import annotations

from urllib.parse import unquote, urlparse

import requests
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError


class TapMessagesError(Exception):
    """A failure the user can act on; its message is the whole story."""


class VendorAPIError(FatalAPIError, TapMessagesError):
    """The vendor answered in a way that retrying cannot fix (auth, bad request, retired API)."""

    def __init__(self, message: str, status: int) -> None:
        """Keep the HTTP status so callers can tell a missing resource from a refusal."""
        super().__init__(message)
        self.status = status


_HINTS = {
    400: "the API rejected a request parameter",
    404: "the resource does not exist",
    410: "this API version has been retired (see its Sunset date); upgrade tap-messages",
}


class InvalidRecordError(TapMessagesError):
    """A record failed its schema while on_invalid_record is 'fail'."""


def vendor_message(response: requests.Response, limit: int = 200) -> str:
    """The vendor's own words from either documented error envelope, else the body's start."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:limit].strip()
    error = body.get("error", body) if isinstance(body, dict) else body
    if isinstance(error, dict):
        error = error.get("message") or error.get("code") or error
    return str(error)[:limit]


def last_error(error: BaseException) -> str:
    """One line for the last failure of a request, without URLs' query strings."""
    if isinstance(error, RetriableAPIError):
        return str(error)
    # requests wraps urllib3's MaxRetryError, whose `reason` is what actually went wrong.
    reason = getattr(error.args[0], "reason", None) if error.args else None
    return f"{type(error).__name__} ({str(reason or error).split('?')[0][:200]})"


def answer_error(
    response: requests.Response, vendor: str, prefix: str, path: str
) -> Exception | None:
    """What an answer means when it is no success: retriable, or fatal with what to fix."""
    status, where = response.status_code, f"{vendor} answered HTTP {response.status_code}"
    if status == 429 or status >= 500:
        return RetriableAPIError(f"{where} on {path}: {vendor_message(response)}", response)
    if status in {401, 403}:
        msg = (
            f"{vendor} rejected the API key (HTTP {status}: {vendor_message(response)}). "
            f"Check {prefix}.api_key."
        )
        return VendorAPIError(msg, status)
    if 300 <= status < 400:
        msg = (
            f"{where} on {path}, redirecting to {response.headers.get('Location', 'no address')}"
            f"; set {prefix}.base_url to the API's current address."
        )
        return VendorAPIError(msg, status)
    if status >= 400:
        query = urlparse(response.url or "").query
        msg = (
            f"{where} on {path} ({_HINTS.get(status, 'the request was refused')}): "
            f"{vendor_message(response)}" + (f" [request: {unquote(query)}]" if query else "")
        )
        return VendorAPIError(msg, status)
    return None


def deprecation(response: requests.Response, vendor: str) -> str | None:
    """What to do about an answer that marks its API version deprecated (none if it does not)."""
    if not response.headers.get("Deprecation"):
        return None
    return (
        f"{vendor} marks {urlparse(response.url or '').path or 'its API'} as deprecated (Sunset: "
        f"{response.headers.get('Sunset', 'not given')}); after that date it answers 410 Gone. "
        "Upgrade tap-messages before then."
    )
