"""The REST base both vendors' streams share: auth, requests, typed errors, record checks."""

from __future__ import annotations

import threading
import typing as t
from functools import cached_property

import requests
from requests.adapters import HTTPAdapter
from singer_sdk import RESTStream
from singer_sdk.exceptions import RetriableAPIError
from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.schema.source import SchemaDirectory, StreamSchema
from typing_extensions import override

from tap_messages.shared.answers import decoded, objects_under
from tap_messages.shared.errors import TapMessagesError, answer_error, deprecation, last_error
from tap_messages.shared.mirror import Mirror
from tap_messages.shared.retries import no_sleep, wait_before_retry
from tap_messages.shared.timestamps import UTC, UtcTimes
from tap_messages.shared.validation import SCHEMAS, RecordCheck

if t.TYPE_CHECKING:
    import datetime as dt

    from backoff.types import Details
    from singer_sdk import Tap
    from singer_sdk.helpers.types import Context

    from tap_messages.shared.pacing import RatePacer
    from tap_messages.shared.quarantine import QuarantineStream

USER_AGENT = "tap-messages/0.1 (+singer-sdk)"
Row = dict[str, t.Any]


class VendorStream(RESTStream[t.Any]):
    """A vendor endpoint: subclasses name the vendor, its auth headers and how they walk it."""

    vendor: t.ClassVar[str]
    settings_prefix: t.ClassVar[str]
    reread_what: t.ClassVar[str] = "pages"
    time_fields: t.ClassVar[tuple[str, ...]] = ()  # timestamps put in the tap's UTC format
    scope_filters: t.ClassVar[tuple[str, ...]] = ()  # settings that narrow it: no mirror.py delete
    schema = StreamSchema(SchemaDirectory(SCHEMAS))
    allow_redirects = False  # a redirect would carry the key elsewhere: refused, with the address
    # post_process validates every record against the schema, so the SDK's conformance pass
    # would only repeat that work.
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE

    @override
    def __init__(self, tap: Tap, *, pacer: RatePacer, quarantine: QuarantineStream) -> None:
        super().__init__(tap)
        self.pacer, self.quarantine, self.mirror = pacer, quarantine, Mirror(tap, self)
        self.requests_made = self.emitted = self.quarantined = self.reread = 0
        self.shortfalls: list[str] = []
        self.counting = threading.Lock()  # counters that read-ahead threads add to
        self._deprecation_said = False
        # A STATE message repeats every partition's bookmark: space them out as partitions grow.
        self.STATE_MSG_FREQUENCY = max(1_000, 10 * len(self.partitions or ()))
        session, pool = self.requests_session, HTTPAdapter(pool_maxsize=self.max_concurrency)
        for scheme in ("http://", "https://"):
            session.mount(scheme, pool)
        # The environment's proxies and CA bundle, read once rather than on every request; and
        # no ~/.netrc, whose credentials would replace the vendor's Authorization header.
        found = session.merge_environment_settings(self.url_base, {}, None, None, None)
        session.proxies.update(found["proxies"])
        session.verify, session.trust_env = found["verify"], False

    @property
    def settings(self) -> t.Mapping[str, t.Any]:
        """This vendor's block of the config (`cekat` or `convotic`)."""
        return self.config.get(self.settings_prefix) or {}

    @property
    def naive_zone(self) -> dt.tzinfo:
        """The zone of the vendor's timestamps that carry no offset."""
        return UTC

    @cached_property
    def utc_times(self) -> UtcTimes:
        """Puts this stream's `time_fields` in the tap's one UTC format."""
        return UtcTimes(self.time_fields, self.naive_zone)

    @property
    def max_concurrency(self) -> int:
        """Requests this stream may have in flight at once."""
        return int(self.config.get("max_concurrency", 4))

    @property
    @override
    def url_base(self) -> str:
        return str(self.settings.get("base_url") or "").rstrip("/")

    @property
    @override
    def timeout(self) -> int:
        return int(self.config.get("request_timeout", 60))

    @cached_property
    @override
    def http_headers(self) -> dict[str, str]:
        return {"User-Agent": USER_AGENT, **self.auth_headers()}

    def auth_headers(self) -> dict[str, str]:
        """Headers that carry this vendor's key."""
        raise NotImplementedError

    # Requests: paced, retried with Retry-After or backoff, typed when they fail for good.

    @cached_property
    def _get_with_retries(self) -> t.Callable[[dict[str, t.Any]], t.Any]:
        # The SDK types the decorated function as its own _request; backoff wraps any callable.
        retrying = self.request_decorator(t.cast("t.Any", self._get))
        return t.cast("t.Callable[[dict[str, t.Any]], t.Any]", retrying)

    def _get(self, params: dict[str, t.Any]) -> t.Any:
        self.pacer.wait_turn()
        with self.counting:
            self.requests_made += 1
        response = self.requests_session.get(
            self.url_base + self.path,
            params=params,
            headers=self.http_headers,
            timeout=self.timeout,
            allow_redirects=self.allow_redirects,
        )
        self.pacer.observe(response.headers)
        self.validate_response(response)
        if not self._deprecation_said and (notice := deprecation(response, self.vendor)):
            self._deprecation_said = True
            self.logger.warning("%s", notice)
        try:
            payload = decoded(response, self.logger, f"{self.vendor} {self.path}")
        except ValueError as exc:
            msg = f"{self.vendor} sent a body that is not JSON (HTTP {response.status_code})"
            raise RetriableAPIError(msg, response) from exc
        if error := self.refusal(payload):
            raise error
        return payload

    def refusal(self, payload: t.Any) -> Exception | None:
        """The error a successful HTTP answer may still carry in its body (none by default)."""
        return None

    def rows_under(self, payload: t.Any, key: str, *, answer: str, shape: str) -> list[Row]:
        """The answer's rows under `key`, their times in UTC; else stop naming the shape."""
        setting = f"{self.settings_prefix}.base_url"
        rows = objects_under(payload, key, answer=answer, shape=shape, setting=setting)
        return [self.utc_times(row) for row in rows]

    def get_json(self, params: dict[str, t.Any]) -> t.Any:
        """GET this stream's endpoint with params; paced, retried, decoded from JSON."""
        try:
            return self._get_with_retries({k: v for k, v in params.items() if v is not None})
        except (RetriableAPIError, requests.RequestException) as exc:
            tries = self.backoff_max_tries()
            msg = (
                f"{self.vendor} {self.path}: gave up after {tries} attempts "
                f"(max_retries={tries - 1}); last error: {last_error(exc)}"
            )
            raise TapMessagesError(msg) from None

    @override
    def validate_response(self, response: requests.Response) -> None:
        if error := answer_error(response, self.vendor, self.settings_prefix, self.path):
            raise error

    @override
    def backoff_wait_generator(self) -> t.Generator[float, t.Any, None]:
        return no_sleep()  # backoff_handler holds the vendor's pacer for the wait instead

    @override
    def backoff_max_tries(self) -> int:
        return int(self.config.get("max_retries", 8)) + 1

    @override
    def backoff_jitter(self, value: float) -> float:
        return value  # the backoff jitters itself in wait_before_retry; Retry-After is exact

    @override
    def backoff_handler(self, details: Details) -> None:
        """Hold every request of the vendor for Retry-After or the backoff, and say so."""
        error, tries = details.get("exception"), details.get("tries", 0)
        wait = wait_before_retry(error, tries, float(self.config.get("max_retry_wait", 300)))
        self.pacer.hold(wait)
        self.logger.warning(
            "%s request to %s failed (%s); retry %d of %d in %.2f s",
            *(self.vendor, self.path, last_error(error) if error else "no answer"),
            *(tries, self.backoff_max_tries() - 1, wait),
        )

    # Records: each partition read by the subclass's walk, then checked against the schema.

    def read_partition(self, context: Context | None) -> t.Iterable[Row]:
        """The vendor rows of one partition (or of the whole stream), in the order to emit them."""
        raise NotImplementedError

    @override
    def get_records(self, context: Context | None) -> t.Iterable[Row]:
        """The partition's rows; none without a key (`--test` syncs even deselected streams)."""
        if not self.settings.get("api_key"):
            return
        self.mirror.begin(self.settings, self.scope_filters)
        rows = iter(self.read_partition(context))
        limit = self.ABORT_AT_RECORD_COUNT
        try:
            for row in rows:
                if limit is not None and self.emitted >= limit:
                    return  # stopping short of the SDK's limit keeps a dry run free of errors
                yield row
        finally:
            t.cast("t.Generator[t.Any, None, None]", rows).close()
        if not self.partitions or context == self.partitions[-1]:
            self.finish()

    def fall_short(self, shortfall: str) -> None:
        """Something in scope could not be read: a WARNING now, and in the closing line."""
        self.logger.warning("%s: %s.", self.name, shortfall)
        with self.counting:
            self.shortfalls.append(shortfall)

    def finish(self) -> None:
        """After the last partition: close the connections; say what was read and what was not."""
        self.requests_session.close()
        self.logger.info(
            "%s: %d records emitted (%d quarantined), %d requests, %d %s re-read, shortfalls: %s",
            self.name,
            self.emitted,
            self.quarantined,
            self.requests_made,
            self.reread,
            self.reread_what,
            "; ".join(self.shortfalls) or "none",
        )
        self.mirror.end(self.shortfalls, self.quarantined)

    # Records: every one is checked against the schema before the SDK writes it or its bookmark.

    @cached_property
    def record_check(self) -> RecordCheck:
        """The compiled schema check, which also leaves out (and reports) undeclared fields."""
        return RecordCheck(self.name, self.schema, self.logger)

    @override
    def post_process(self, row: Row, context: Context | None = None) -> Row | None:
        """The row, if valid; else quarantined (returns None) or, in fail mode, the run stops."""
        for key, value in (context or {}).items():
            row.setdefault(key, value)
        if not (errors := self.record_check.problems(row)):
            self.emitted += 1
            return row
        self.quarantine.refuse(self, row, errors)
        self.quarantined += 1
        return None
