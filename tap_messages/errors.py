"""Errors that end a run with one line saying what to fix (no traceback, no secrets)."""

from __future__ import annotations

from singer_sdk.exceptions import FatalAPIError


class TapMessagesError(Exception):
    """A failure the user can act on; its message is the whole story."""


class VendorAPIError(FatalAPIError, TapMessagesError):
    """The vendor answered in a way that retrying cannot fix (auth, bad request, retired API)."""

    def __init__(self, message: str, status: int) -> None:
        """Keep the HTTP status so callers can tell a missing resource from a refusal."""
        super().__init__(message)
        self.status = status

    def __reduce__(self) -> tuple[type[VendorAPIError], tuple[str, int]]:
        """Rebuilt with its status when a worker process hands it over."""
        return type(self), (str(self), self.status)


class InvalidRecordError(TapMessagesError):
    """A record failed its schema while on_invalid_record is 'fail'."""
