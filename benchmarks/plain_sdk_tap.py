"""Plain singer-sdk REST taps over the same two endpoints, with the cookiecutter's defaults.

Every figure of `benchmarks/throughput.py` is reported beside one of these, run against the same
imitation in the same benchmark run. They use the SDK's own session, paginator, record loop and
state, with nothing tuned: no validation, no read-ahead, no pacing, the SDK's default retries.
The Convotic one walks each conversation naively (next window from the last timestamp + 1 s), so
it can miss messages a careful walk reads; it is a yardstick for speed, not a tap to use.
Usage: python benchmarks/plain_sdk_tap.py --config CONFIG
(config: base_url, api_key, and conversation_ids for Convotic).
"""

from __future__ import annotations

import datetime as dt
import json
import typing as t
from pathlib import Path

from singer_sdk import RESTStream, Tap
from singer_sdk import typing as th
from singer_sdk.pagination import BaseAPIPaginator, PageNumberPaginator

SCHEMAS = Path(__file__).resolve().parents[1] / "schemas"
NOW = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class UntilEmpty(PageNumberPaginator):
    """Page numbers until a page comes back empty."""

    def has_more(self, response: t.Any) -> bool:
        return bool(response.json()["data"])


class CekatMessages(RESTStream[int]):
    """GET /api/messages, every record through the SDK's own path."""

    name = "cekat_messages"
    path = "/api/messages"
    records_jsonpath = "$.data[*]"
    primary_keys: t.ClassVar[list[str]] = ["id"]
    schema = json.loads((SCHEMAS / "cekat_messages.json").read_text())

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


class NextWindow(BaseAPIPaginator[str]):
    """The next window starts a second after the last message of a full answer."""

    def get_next(self, response: t.Any) -> str | None:
        messages = response.json()["messages"]
        if len(messages) < 100:
            return None
        last = dt.datetime.fromisoformat(messages[-1]["timestamp"].replace("Z", "+00:00"))
        return (last + dt.timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")


class ConvoticMessages(RESTStream[str]):
    """GET /v1/messages per conversation, one partition each."""

    name = "convotic_messages"
    path = "/v1/messages"
    records_jsonpath = "$.messages[*]"
    primary_keys: t.ClassVar[list[str]] = ["conversationId", "id"]
    replication_key = "timestamp"
    is_sorted = True
    schema = json.loads((SCHEMAS / "convotic_messages.json").read_text())

    @property
    def url_base(self) -> str:
        return str(self.config["base_url"])

    @property
    def http_headers(self) -> dict[str, str]:
        return {"X-API-Key": self.config["api_key"]}

    @property
    def partitions(self) -> list[dict[str, str]]:
        return [{"conversationId": c} for c in self.config["conversation_ids"]]

    def get_new_paginator(self) -> NextWindow:
        return NextWindow("1970-01-01T00:00:00Z")

    def get_url_params(self, context: t.Any, next_page_token: str | None) -> dict[str, t.Any]:
        return {
            "conversationId": context["conversationId"],
            "from": next_page_token or "1970-01-01T00:00:00Z",
            "to": NOW,
            "limit": 100,
        }


class PlainTap(Tap):
    """One stream, chosen by whether conversation_ids are given; nothing tuned."""

    name = "tap-plain-sdk"
    config_jsonschema = th.PropertiesList(
        th.Property("base_url", th.StringType, required=True),
        th.Property("api_key", th.StringType, required=True, secret=True),
        th.Property("conversation_ids", th.ArrayType(th.StringType)),
    ).to_dict()

    def discover_streams(self) -> list[RESTStream[t.Any]]:
        if self.config.get("conversation_ids"):
            return [ConvoticMessages(self)]
        return [CekatMessages(self)]


if __name__ == "__main__":
    PlainTap.cli()
