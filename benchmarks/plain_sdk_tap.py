"""A plain singer-sdk REST tap over Cekat's pages: the cookiecutter's defaults, for calibration.

The issue's baselines were measured with such a tap; running it against the same prepared
server in the same benchmark run tells how fast this machine is today compared with then.
Usage: python benchmarks/plain_sdk_tap.py --config CONFIG (base_url and api_key at top level).
"""

from __future__ import annotations

import json
import typing as t
from pathlib import Path

from singer_sdk import RESTStream, Tap
from singer_sdk import typing as th
from singer_sdk.pagination import BasePageNumberPaginator

SCHEMA = json.loads(
    (Path(__file__).resolve().parents[1] / "schemas" / "cekat_messages.json").read_text()
)


class UntilEmpty(BasePageNumberPaginator):
    """Page numbers until a page comes back empty."""

    def has_more(self, response: t.Any) -> bool:
        return bool(response.json()["data"])


class Messages(RESTStream[int]):
    """GET /api/messages, every record through the SDK's own path."""

    name = "cekat_messages"
    path = "/api/messages"
    records_jsonpath = "$.data[*]"
    primary_keys: t.ClassVar[list[str]] = ["id"]
    schema = SCHEMA

    @property
    def url_base(self) -> str:
        return str(self.config["base_url"])

    @property
    def http_headers(self) -> dict[str, str]:
        return {"api_key": self.config["api_key"]}

    def get_new_paginator(self) -> UntilEmpty:
        return UntilEmpty(1)

    def get_url_params(self, context: t.Any, next_page_token: int | None) -> dict[str, t.Any]:
        return {"limit": 100, "page": next_page_token or 1}


class PlainTap(Tap):
    """One stream, nothing tuned."""

    name = "tap-plain-sdk"
    config_jsonschema = th.PropertiesList(
        th.Property("base_url", th.StringType, required=True),
        th.Property("api_key", th.StringType, required=True, secret=True),
    ).to_dict()

    def discover_streams(self) -> list[Messages]:
        return [Messages(self)]


if __name__ == "__main__":
    PlainTap.cli()
