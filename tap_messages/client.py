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

from tap_messages.answers import decoded
from tap_messages.errors import TapMessagesError, answer_error, last_error
from tap_messages.retries import retry_waits
from tap_messages.schema_files import SCHEMAS
from tap_messages.validation import RecordValidator, UndeclaredFields

if t.TYPE_CHECKING:
    from backoff.types import Details
    from singer_sdk.helpers.types import Context

    from tap_messages.quarantine import QuarantineStream
    from tap_messages.rate_limits import RatePacer
    from tap_messages.tap import TapMessages

USER_AGENT = "tap-messages/0.1 (+singer-sdk)"


class VendorStream(RESTStream[t.Any]):
    """A vendor endpoint: subclasses name the vendor, its auth headers and how they walk it."""

    vendor: t.ClassVar[str]
    settings_prefix: t.ClassVar[str]
    reread_what: t.ClassVar[str] = "pages"
    schema = StreamSchema(SchemaDirectory(SCHEMAS))
    allow_redirects = False  # a redirect would carry the key elsewhere: refused, with the address
    # post_process validates every record against the schema, so the SDK's conformance pass
    # would only repeat that work.
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE

    @override
    def __init__(self, tap: TapMessages) -> None:
        super().__init__(tap)
        self.tap = tap
        self.requests_made = self.emitted = self.quarantined = self.reread = 0
        self.shortfalls: list[str] = []
        self.counting = threading.Lock()  # counters that read-ahead threads add to
        self._deprecation_logged = False
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
    def user_agent(self) -> str:
        return USER_AGENT

    @cached_property
    @override
    def http_headers(self) -> dict[str, str]:
        return {"User-Agent": self.user_agent, **self.auth_headers()}

    def auth_headers(self) -> dict[str, str]:
        """Headers that carry this vendor's key."""
        raise NotImplementedError

    @cached_property
    def pacer(self) -> RatePacer:
        """The vendor's request budget, shared with every other stream of the vendor."""
        return self.tap.pacer(self.vendor)

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
        self._note_deprecation(response)
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

    def _note_deprecation(self, response: requests.Response) -> None:
        if response.headers.get("Deprecation") and not self._deprecation_logged:
            self._deprecation_logged = True
            self.logger.warning(
                "%s marks %s as deprecated (Sunset: %s); after that date it answers 410 Gone. "
                "Upgrade tap-messages before then.",
                self.vendor,
                self.path,
                response.headers.get("Sunset", "not given"),
            )

    @override
    def backoff_wait_generator(self) -> t.Generator[float, t.Any, None]:
        return retry_waits(float(self.config.get("max_retry_wait", 300)))

    @override
    def backoff_max_tries(self) -> int:
        return int(self.config.get("max_retries", 8)) + 1

    @override
    def backoff_jitter(self, value: float) -> float:
        return value  # the wait generator already jitters its own backoff, not Retry-After

    @override
    def backoff_handler(self, details: Details) -> None:
        error, tries = details.get("exception"), self.backoff_max_tries() - 1
        self.logger.warning(
            "%s request to %s failed (%s); retry %d of %d in %.2f s",
            *(self.vendor, self.path, last_error(error) if error else "no answer"),
            *(details.get("tries", 0), tries, details.get("wait") or 0.0),
        )

    # Records: each partition read by the subclass's walk, then checked against the schema.

    def read_partition(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        """The vendor rows of one partition (or of the whole stream), in the order to emit them."""
        raise NotImplementedError

    @override
    def get_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        """The partition's rows; in a dry run (`--test`) no more than the SDK's record limit.

        None without the vendor's key: `--test` syncs even the streams deselected for lack of it.
        """
        if not self.settings.get("api_key"):
            return
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

    # Records: every one is checked against the schema before the SDK writes it or its bookmark.

    @cached_property
    def validator(self) -> RecordValidator:
        """The compiled validator for this stream's schema."""
        return RecordValidator(self.schema)

    @cached_property
    def undeclared(self) -> UndeclaredFields:
        """Fields the vendor sends that the schema does not declare: reported, left out."""
        return UndeclaredFields(self.name, self.schema, self.logger)

    @property
    def quarantine(self) -> QuarantineStream:
        """Where records that fail validation go."""
        return t.cast("QuarantineStream", self.tap.streams["quarantined_records"])

    @override
    def post_process(
        self, row: dict[str, t.Any], context: Context | None = None
    ) -> dict[str, t.Any] | None:
        """The row, if valid; else quarantined (returns None) or, in fail mode, the run stops."""
        for key, value in (context or {}).items():
            row.setdefault(key, value)
        self.undeclared.leave_out(row)
        if self.validator.is_valid(row):
            self.emitted += 1
            return row
        self.quarantine.refuse(self, row, self.validator.errors(row))
        self.quarantined += 1
        return None
