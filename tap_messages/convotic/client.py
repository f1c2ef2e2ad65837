"""What every Convotic stream shares: the key in `X-API-Key`, one rate limit."""

from __future__ import annotations

from typing_extensions import override

from tap_messages.shared.client import VendorStream


class ConvoticStream(VendorStream):
    """A Convotic endpoint: one key (`X-API-Key`), one rate limit for all its streams."""

    vendor = "Convotic"
    settings_prefix = "convotic"
    scope_filters = ("platform",)

    @override
    def auth_headers(self) -> dict[str, str]:
        return {"X-API-Key": self.settings.get("api_key") or ""}
