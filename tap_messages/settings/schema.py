"""The tap's settings: names, types, defaults and what each is for (`--about` lists them)."""

from __future__ import annotations

from singer_sdk import typing as th

SETTINGS = th.PropertiesList(
    th.Property(
        "start_date",
        th.DateTimeType,
        description="RFC 3339; the earliest message time taken on a first sync. "
        "Without it a first sync takes everything. A full refresh after moving it later "
        "marks the older messages deleted in the warehouse (docs/warehouse.md).",
    ),
    th.Property(
        "cekat",
        th.ObjectType(
            th.Property(
                "api_key",
                th.StringType,
                secret=True,
                description="Cekat API key (Settings > API Keys). Without it "
                "every Cekat stream is skipped.",
            ),
            th.Property(
                "base_url",
                th.StringType,
                default="https://api.cekat.ai",
                description="Cekat API root (the tap calls {base_url}/api/messages, "
                "/api/conversations, /api/contacts, /api/agents and /api/inboxes).",
            ),
            th.Property(
                "page_size",
                th.IntegerType(minimum=1, maximum=1000),
                default=100,
                description="Rows per page requested from each Cekat endpoint.",
            ),
            th.Property(
                "inbox_ids",
                th.ArrayType(th.StringType),
                description="Only messages and conversations of these inboxes.",
            ),
            th.Property(
                "conversation_ids",
                th.ArrayType(th.StringType),
                description="Only messages of these conversations.",
            ),
            th.Property(
                "timezone",
                th.StringType,
                default="Asia/Jakarta",
                description="IANA zone of Cekat's naive message times. The default "
                "is inferred from the vendor docs (a naive 16:24:23 message is "
                "09:24:23 UTC on its conversation); check it against your data.",
            ),
            th.Property(
                "lookback",
                th.StringType,
                default="P1D",
                description="ISO 8601 duration (P1D, PT6H): how long before the bookmark an "
                "incremental run still looks for messages whose status changed. Messages "
                "created longer ago and changed since come with the periodic full refresh. "
                "One day covers delivery and read receipts, which follow a message within "
                "hours; each run reads about a lookback's worth of pages (docs/warehouse.md).",
            ),
        ),
        description="Cekat source.",
    ),
    th.Property(
        "convotic",
        th.ObjectType(
            th.Property(
                "api_key",
                th.StringType,
                secret=True,
                description="Convotic API key (X-API-Key). Without it every Convotic "
                "stream is skipped.",
            ),
            th.Property(
                "base_url",
                th.StringType,
                default="https://api.convotic.com",
                description="Convotic API root (the tap calls {base_url}/v1/messages and "
                "/v1/contacts).",
            ),
            th.Property(
                "conversation_ids",
                th.ArrayType(th.StringType),
                description="Conversations to extract; required with an api_key, "
                "since the API cannot list them. A full refresh marks the messages of a "
                "conversation no longer listed deleted in the warehouse (docs/warehouse.md).",
            ),
            th.Property(
                "shard_count",
                th.IntegerType(minimum=1),
                default=1,
                description="Split conversation_ids across this many tap processes (each "
                "with its own state id); every conversation belongs to exactly one shard.",
            ),
            th.Property(
                "shard_index",
                th.IntegerType(minimum=0),
                default=0,
                description="This process's shard, 0 .. shard_count - 1 (a stable hash of "
                "the conversation id decides).",
            ),
            th.Property(
                "platform",
                th.StringType,
                description="Only messages and contacts of this platform (e.g. whatsapp).",
            ),
        ),
        description="Convotic source.",
    ),
    th.Property(
        "request_timeout",
        th.IntegerType(minimum=1),
        default=60,
        description="Seconds to wait for a vendor's answer before retrying the request.",
    ),
    th.Property(
        "max_retries",
        th.IntegerType(minimum=0, maximum=100),
        default=8,
        description="Retries of one request after a 429, 5xx, timeout, dropped connection or "
        "unreadable body; then the run stops with the vendor, endpoint and last error.",
    ),
    th.Property(
        "max_retry_wait",
        th.NumberType(minimum=0),
        default=300,
        description="Longest single wait in seconds before a retry, whether asked for by "
        "Retry-After or computed by exponential backoff (from 1 s, with jitter).",
    ),
    th.Property(
        "rate_limit_window",
        th.NumberType(exclusive_minimum=0),
        default=60,
        description="Seconds over which X-RateLimit-Limit counts (both vendors document "
        "per minute); requests are paced so that no such span holds more than the limit.",
    ),
    th.Property(
        "max_concurrency",
        th.IntegerType(minimum=1, maximum=64),
        default=4,
        description="Requests in flight at most per stream, on threads: Convotic "
        "conversations read ahead, or Cekat pages once the page count is known and the "
        "order allows; all keep to the vendor's rate limit.",
    ),
    th.Property(
        "on_invalid_record",
        th.StringType,
        allowed_values=["quarantine", "fail"],
        default="quarantine",
        description="What to do with a record that fails its schema: load it into "
        "quarantined_records with its errors, or stop the run.",
    ),
).to_dict()
