"""The REST base both vendors' streams share: auth, timeouts, typed errors, record checks."""

from __future__ import annotations

import functools
import json
import logging
import operator
import threading
import typing as t
from dataclasses import dataclass, field
from functools import cached_property
from urllib.parse import unquote, urlencode, urlparse

import msgspec
import requests
from singer_sdk import RESTStream
from singer_sdk.exceptions import RetriableAPIError
from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.helpers.types import Context
from singer_sdk.schema.source import SchemaDirectory, StreamSchema
from typing_extensions import override

from tap_messages.concurrency import Runner, fan_in, in_threads
from tap_messages.errors import InvalidRecordError, TapMessagesError, VendorAPIError
from tap_messages.rate_limits import RatePacer
from tap_messages.record_output import RecordOutput
from tap_messages.retries import wait_before_retry
from tap_messages.schema_files import SCHEMAS
from tap_messages.transport import Transport
from tap_messages.validation import RecordValidator
from tap_messages.worker_processes import available_cores, in_processes

if t.TYPE_CHECKING:
    from backoff.types import Details

    from tap_messages.quarantine import QuarantineStream

USER_AGENT = "tap-messages/0.1 (+singer-sdk)"
# Threads pay once an answer keeps the caller waiting this long: a hand-over between threads
# costs about 0.1 ms of CPU under the interpreter lock (benchmarks/thread_handover.py). Faster
# answers leave the tap CPU-bound: then worker processes pay, where there are cores for them.
PARALLEL_AFTER_WAIT = 0.002
_HINTS = {
    400: "the API rejected a request parameter",
    404: "the resource does not exist",
    410: "this API version has been retired (see its Sunset date); upgrade tap-messages",
}


def error_detail(response: requests.Response, limit: int = 200) -> str:
    """Pull the vendor's own message out of either documented error envelope."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:limit].strip()
    error = body.get("error", body) if isinstance(body, dict) else body
    if isinstance(error, dict):
        error = error.get("message") or error.get("code") or error
    return str(error)[:limit]


def objects_under(
    payload: t.Any, key: str, *, answer: str, shape: str, setting: str
) -> list[dict[str, t.Any]]:
    """The list of JSON objects under `key`; else stop, naming the answer and its documented shape.

    A body of another shape usually means `setting` (a base_url) points at something else.
    """
    rows = payload.get(key) if isinstance(payload, dict) else None
    if isinstance(rows, list) and all(isinstance(row, dict) for row in rows):
        return rows
    msg = f"{answer} is not the documented shape ({shape}); is {setting} right?"
    raise TapMessagesError(msg)


@dataclass
class Checked:
    """One answer's records after validation; once serialised, their lines, count and newest."""

    records: list[dict[str, t.Any]] = field(default_factory=list)
    invalid: list[tuple[dict[str, t.Any], list[str]]] = field(default_factory=list)
    invalid_at: list[int] = field(default_factory=list)  # their places among the rows checked
    lines: bytes = b""
    count: int = 0
    newest: dict[str, t.Any] = field(default_factory=dict)  # the bookmark's field alone


def describe(error: BaseException) -> str:
    """One line for the last failure of a request, without URLs' query strings."""
    if isinstance(error, RetriableAPIError):
        return str(error)
    return f"{type(error).__name__} ({str(error).split('?')[0][:160]})"


class MessagesStream(RESTStream[t.Any]):
    """A vendor's messages endpoint: subclasses name the vendor, its auth and its walk."""

    vendor: t.ClassVar[str]
    settings_prefix: t.ClassVar[str]
    schema = StreamSchema(SchemaDirectory(SCHEMAS))
    # Records are validated against the schema in the tap (`checked`), so the SDK's per-record
    # type conformance would only repeat that work, at about a third of the time per record.
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE
    # One METRIC log line per request costs ~10% of a fast sync (a logging lock shared by the
    # fetch threads); the stream logs its request count and time once at the end instead.
    _LOG_REQUEST_METRICS = False

    @override
    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        # A STATE message repeats every partition's bookmark: space them out as partitions grow,
        # so STATE output per record stays constant however many conversations there are.
        self.STATE_MSG_FREQUENCY = max(1_000, 10 * len(self.partitions or ()))
        self._deprecation_logged = self._parallel_logged = False
        self._in_worker = False

    @property
    def settings(self) -> t.Mapping[str, t.Any]:
        """This vendor's block of the config (`cekat` or `convotic`)."""
        return self.config.get(self.settings_prefix) or {}

    @property
    @override
    def url_base(self) -> str:
        return str(self.settings["base_url"]).rstrip("/")

    @property
    @override
    def timeout(self) -> int:
        return int(self.config.get("request_timeout", 60))

    @cached_property
    @override
    def user_agent(self) -> str:
        return USER_AGENT

    def auth_headers(self) -> dict[str, str]:
        """Headers that carry this vendor's key."""
        raise NotImplementedError

    @cached_property
    def transport(self) -> Transport:
        """This stream's connection pool, one connection per worker."""
        headers = {"User-Agent": self.user_agent, **self.auth_headers()}
        return Transport(self.url_base, headers, self.timeout, self.max_concurrency)

    @cached_property
    def pacer(self) -> RatePacer:
        """The vendor's request budget, shared with every other stream of the vendor."""
        return t.cast("RatePacer", self._tap.pacer(self.vendor))  # type: ignore[attr-defined]

    # Requests: paced, retried with Retry-After or backoff, typed when they fail for good.

    @cached_property
    def _send(self) -> t.Callable[[str], t.Any]:
        return t.cast("t.Callable[[str], t.Any]", self.request_decorator(self._send_once))  # type: ignore[arg-type]

    def _send_once(self, url: str) -> t.Any:
        self.pacer.wait_turn()
        response = self.transport.get(url)
        self.pacer.observe(response.headers)
        self.validate_response(response)
        self._note_deprecation(response)
        try:
            return msgspec.json.decode(response.content)
        except msgspec.DecodeError as exc:
            msg = f"{self.vendor} sent a body that is not JSON (HTTP {response.status_code})"
            raise RetriableAPIError(msg, response) from exc

    def fetch(self, params: dict[str, t.Any]) -> t.Any:
        """GET this stream's endpoint with params; paced, retried, decoded from JSON."""
        query = urlencode([(k, v) for k, v in params.items() if v is not None], doseq=True)
        try:
            return self._send(f"{self.url_base}{self.path}?{query}")
        except (RetriableAPIError, requests.RequestException) as exc:
            msg = (
                f"{self.vendor} {self.path}: gave up after {self.backoff_max_tries()} attempts "
                f"(max_retries={self.backoff_max_tries() - 1}); last error: {describe(exc)}"
            )
            raise TapMessagesError(msg) from None

    @override
    def validate_response(self, response: requests.Response) -> None:
        status = response.status_code
        if status == 429 or status >= 500:
            msg = f"{self.vendor} answered HTTP {status} on {self.path}: {error_detail(response)}"
            raise RetriableAPIError(msg, response)
        if status in {401, 403}:
            msg = (
                f"{self.vendor} rejected the API key (HTTP {status}: {error_detail(response)}). "
                f"Check {self.settings_prefix}.api_key."
            )
            raise VendorAPIError(msg, status)
        if 300 <= status < 400:
            msg = (
                f"{self.vendor} answered HTTP {status} on {self.path}, redirecting to "
                f"{response.headers.get('Location', 'no address')}; set "
                f"{self.settings_prefix}.base_url to the API's current address."
            )
            raise VendorAPIError(msg, status)
        if status >= 400:
            hint = _HINTS.get(status, "the request was refused")
            query = urlparse(response.url or "").query
            msg = (
                f"{self.vendor} answered HTTP {status} on {self.path} ({hint}): "
                f"{error_detail(response)}" + (f" [request: {unquote(query)}]" if query else "")
            )
            raise VendorAPIError(msg, status)

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
        error = yield 0.0
        attempt = 0
        while True:
            attempt += 1
            max_wait = float(self.config.get("max_retry_wait", 300))
            error = yield wait_before_retry(error, attempt, max_wait)

    @override
    def backoff_max_tries(self) -> int:
        return int(self.config.get("max_retries", 8)) + 1

    @override
    def backoff_jitter(self, value: float) -> float:
        return value  # the wait generator already jitters its own backoff, not Retry-After

    @override
    def backoff_handler(self, details: Details) -> None:
        error = details.get("exception")
        self.logger.warning(
            "%s request to %s failed (%s); retry %d of %d in %.2f s",
            self.vendor,
            self.path,
            describe(error) if error else "no answer",
            details.get("tries", 0),
            self.backoff_max_tries() - 1,
            details.get("wait") or 0.0,
        )

    # Record checks, on the per-record path.

    @cached_property
    def validator(self) -> RecordValidator:
        """The compiled validator for this stream's schema."""
        return RecordValidator(self.schema)

    @cached_property
    def is_valid(self) -> t.Callable[[t.Any], bool]:
        """The compiled check itself, looked up once: it runs for every record."""
        return self.validator.is_valid

    @property
    def quarantine(self) -> QuarantineStream:
        """Where records that fail validation go."""
        return t.cast("QuarantineStream", self._tap.streams["quarantined_records"])

    def checked(self, rows: list[dict[str, t.Any]], context: Context | None) -> Checked:
        """One answer's rows as records, sorted into valid and invalid; safe in a worker.

        With on_invalid_record 'fail' the first invalid record stops the run here.
        """
        batch, is_valid = Checked(), self.is_valid
        for place, row in enumerate(rows):
            record = self.prepare(row, context)
            if is_valid(record):
                batch.records.append(record)
                continue
            errors = self.validator.errors(record)
            if self.config.get("on_invalid_record", "quarantine") == "fail":
                key = {name: record.get(name) for name in self.primary_keys}
                msg = (
                    f"{self.name}: record {json.dumps(key, default=str)} fails the schema: "
                    f"{'; '.join(errors)}. Set on_invalid_record to 'quarantine' to load such "
                    "records into quarantined_records instead."
                )
                raise InvalidRecordError(msg)
            batch.invalid.append((record, errors))
            batch.invalid_at.append(place)
        return batch

    def sealed(self, batch: Checked, output: RecordOutput | None) -> Checked:
        """The batch's records as RECORD lines, with their count and newest bookmark value.

        Without an output (the SDK's own loop) the records stay as they are.
        """
        records, key = batch.records, str(self.replication_key)
        if output is None or not records:
            return batch
        newest = records[-1] if self.is_sorted else max(records, key=operator.itemgetter(key))
        batch.lines, batch.count, batch.newest = (
            output.encode(records),
            len(records),
            {key: newest[key]},
        )
        batch.records = []
        return batch

    def set_aside(self, batch: Checked) -> None:
        """Write a batch's invalid records to quarantined_records, each with a WARNING."""
        for record, errors in batch.invalid:
            self.quarantine.put(self, record, errors)
            self.log(
                "Quarantined an invalid %s record: %s",
                self.name,
                "; ".join(errors),
                level=logging.WARNING,
            )

    # Reading: each stream says how to fetch a partition's rows in order and how to check a row.

    def batches(self, context: Context | None, output: RecordOutput | None) -> t.Iterator[Checked]:
        """A partition's answers, in order, checked and sealed by `output`; safe in a worker."""
        for rows in self.raw_batches(context):
            yield self.sealed(self.checked(rows, context), output)

    def raw_batches(self, context: Context | None) -> t.Iterator[list[dict[str, t.Any]]]:
        """A partition's vendor rows, in order, a batch per answer; safe to run in a worker."""
        raise NotImplementedError

    def prepare(self, row: dict[str, t.Any], context: Context | None) -> dict[str, t.Any]:
        """The row as this stream's record, before validation; safe to run in a worker."""
        raise NotImplementedError

    @property
    def max_concurrency(self) -> int:
        """Requests in flight at once for this stream."""
        return int(self.config.get("max_concurrency", 4))

    def waits_on_answers(self) -> bool:
        """True once answers keep the tap waiting 2 ms or more each: then threads pay."""
        wait = self.transport.typical_wait()
        if wait is None or wait < PARALLEL_AFTER_WAIT:
            return False
        self._log_parallel(
            "each answer keeps the tap waiting about %.1f ms; fetching with up to %d requests "
            "at once (max_concurrency)",
            1000 * wait,
            self.max_concurrency,
        )
        return True

    def worker_processes(self, tasks_left: int) -> int:
        """How many processes pay once answers come back fast: the tap itself is then the limit.

        One per core, up to max_concurrency and the tasks left; 0 while threads or one process
        will do, or the vendor's rate limit leaves no room for more.
        """
        wait = self.transport.typical_wait()
        workers = min(self.max_concurrency, available_cores(), tasks_left)
        if wait is None or wait >= PARALLEL_AFTER_WAIT or workers < 2:
            return 0
        # Fork only from the main thread of the tap itself: not inside threads or workers.
        if self._in_worker or threading.current_thread() is not threading.main_thread():
            return 0
        if not self.pacer.splits(workers):
            return 0
        self._log_parallel(
            "answers come back within %.1f ms, so the tap itself is the bottleneck; reading on "
            "in %d worker processes (one per core, up to max_concurrency)",
            1000 * wait,
            workers,
        )
        return workers

    def parallel(self, partitions_left: int) -> Runner[t.Any, Checked] | None:
        """How to read the partitions left, as the first answers tell: threads, processes, as is."""
        if self.waits_on_answers():
            return functools.partial(in_threads, width=self.max_concurrency)
        if workers := self.worker_processes(partitions_left):
            return functools.partial(in_processes, width=workers, hooks=self)
        return None

    def _log_parallel(self, message: str, *args: t.Any) -> None:
        if not self._parallel_logged:
            self._parallel_logged = True
            self.logger.info("%s: " + message, self.name, *args)

    # Worker processes: what each takes along, and what the parent adds up after.

    def become_worker(self, workers: int) -> None:
        """In a fresh worker: connections of its own, and a 1/workers share of the rate limit."""
        self._in_worker = True
        self._parents_transport = self.__dict__.pop("transport", None)  # kept, never used
        self.pacer.split(workers)

    def worker_report(self) -> dict[str, t.Any]:
        """A worker's request count and time, for the parent's summary."""
        return {"requests": self.transport.requests, "seconds": self.transport.seconds}

    def absorb_report(self, report: dict[str, t.Any]) -> None:
        """Add a worker's counts to this process's."""
        self.transport.add(report["requests"], report["seconds"])

    @override
    def get_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        """Checked records of one partition (the SDK's own loop; see `_sync_records`)."""
        if not self.settings.get("api_key"):
            return
        for batch in self.batches(context, None):
            self.set_aside(batch)
            yield from batch.records

    @override
    def _sync_records(
        self, context: Context | None = None, *, write_messages: bool = True
    ) -> t.Generator[dict[str, t.Any], t.Any, t.Any]:
        """The per-record path, batched: partitions fetched concurrently, one writer thread.

        Bookmarks advance once per batch, from its newest record, through the SDK's own state
        manager, so STATE means what it always meant. Stream maps, flattening and record limits
        (dry runs) take the SDK's own loop instead.
        """
        if (
            not write_messages
            or self.ABORT_AT_RECORD_COUNT is not None
            or self.config.get("stream_maps")
            or self.config.get("flattening_enabled")
            or not self.settings.get("api_key")
        ):
            yield from super()._sync_records(context, write_messages=write_messages)
            return
        partitions: list[Context | None] = list(self.partitions or [])
        contexts = [context] if context else (partitions or [None])
        self._starts = {_key(c): self._bookmark_or_start_date(c) for c in contexts}
        if not self.is_sorted:
            for partition in contexts:
                if partition:
                    signpost = self.get_replication_key_signpost(partition)
                    self._write_replication_key_signpost(partition, signpost)
        output, key = RecordOutput(self), str(self.replication_key)

        unsaved = 0
        with self.get_record_counter() as counter, self.get_sync_timer():
            try:
                # Each record is handled by the worker that fetched it, start to finish; this
                # thread only writes bytes, quarantines and bookmarks, in order.
                ready = functools.partial(self.batches, output=output)
                for partition, batch in fan_in(contexts, ready, self.parallel):
                    self.set_aside(batch)
                    if not batch.count:
                        continue
                    output.write(batch.lines)
                    self.state_manager.increment_state(
                        batch.newest, context=partition, replication_key=key
                    )
                    self.state_manager.is_flushed = False
                    counter.increment(batch.count)
                    unsaved += batch.count
                    if unsaved >= self.STATE_MSG_FREQUENCY:
                        output.flush()
                        self._write_state_message()
                        unsaved = 0
            finally:
                output.flush()
            for partition in contexts:
                if partition:
                    self._finalize_state(self.get_context_state(partition))
        if not context:
            self._finalize_state(self.stream_state)
        self._write_state_message()
        made, seconds = self.transport.requests, self.transport.seconds
        self.logger.info(
            "%s: %d requests, %.1f ms each on average",
            self.name,
            made,
            1000 * seconds / max(made, 1),
        )

    def _bookmark_or_start_date(self, context: Context | None) -> t.Any | None:
        """The later of the partition's bookmark and start_date, as the SDK would pick."""
        state = self.get_context_state(context)
        ours = state.get("replication_key") == self.replication_key
        value = state.get("replication_key_value") if ours else None
        start_date = self.config.get("start_date")
        if value and start_date:
            return self.compare_start_date(value, start_date)
        return value or start_date

    @override
    def get_starting_replication_key_value(self, context: Context | None) -> t.Any | None:
        """The partition's start, computed once per sync before workers read it."""
        starts = getattr(self, "_starts", None)
        if starts is not None and _key(context) in starts:
            return starts[_key(context)]
        return super().get_starting_replication_key_value(context)


def _key(context: Context | None) -> tuple[tuple[str, t.Any], ...]:
    return tuple(sorted((context or {}).items()))
