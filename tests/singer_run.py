"""Run the tap as a real process and read its Singer output; no run may print an API key."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import typing as t
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import jsonschema


@dataclass
class TapRun:
    """What one tap process wrote, parsed."""

    returncode: int
    stdout: str
    stderr: str
    messages: list[dict[str, t.Any]] = field(default_factory=list)

    def records(self, stream: str) -> list[dict[str, t.Any]]:
        """RECORD payloads of one stream, in emitted order."""
        return [
            m["record"] for m in self.messages if m["type"] == "RECORD" and m["stream"] == stream
        ]

    def states(self) -> list[dict[str, t.Any]]:
        """Every STATE value, in emitted order."""
        return [m["value"] for m in self.messages if m["type"] == "STATE"]

    @property
    def final_state(self) -> dict[str, t.Any]:
        """The last STATE the tap emitted."""
        states = self.states()
        assert states, "the tap emitted no STATE"
        return states[-1]

    def bookmark(self, stream: str) -> dict[str, t.Any]:
        """The stream's entry in the final STATE."""
        return t.cast("dict[str, t.Any]", self.final_state["bookmarks"][stream])

    def assert_records_match_schemas(self) -> int:
        """Every RECORD validates (formats included) against the SCHEMA emitted before it."""
        checkers: dict[str, jsonschema.Draft7Validator] = {}
        count = 0
        for message in self.messages:
            if message["type"] == "SCHEMA":
                checkers[message["stream"]] = jsonschema.Draft7Validator(
                    message["schema"], format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER
                )
            elif message["type"] == "RECORD":
                assert message["stream"] in checkers, f"RECORD before SCHEMA: {message['stream']}"
                errors = list(checkers[message["stream"]].iter_errors(message["record"]))
                assert not errors, f"{message['stream']} record invalid: {errors[0].message}"
                count += 1
        return count


def tap_cli(*args: str, cwd: Path | None = None) -> t.Any:
    """JSON printed by a tap command that needs no config (`--discover`, `--about`)."""
    done = subprocess.run(
        [sys.executable, "-m", "tap_messages.tap", *args],
        capture_output=True,
        text=True,
        check=True,
        cwd=cwd,
    )
    return json.loads(done.stdout)


MESSAGE_STREAMS = ("cekat_messages", "convotic_messages", "quarantined_records")


@cache
def _discovered() -> str:
    return json.dumps(tap_cli("--discover"))


def selecting(streams: t.Iterable[str]) -> dict[str, t.Any]:
    """The discovered catalog with only `streams` selected."""
    wanted, catalog = set(streams), json.loads(_discovered())
    for stream in catalog["streams"]:
        for entry in stream["metadata"]:
            if not entry["breadcrumb"]:
                entry["metadata"]["selected"] = stream["tap_stream_id"] in wanted
    return t.cast("dict[str, t.Any]", catalog)


def secrets_of(config: dict[str, t.Any]) -> set[str]:
    """The API keys in a config (the ones no output may contain), wherever they are nested."""

    def strings(value: t.Any) -> set[str]:
        if isinstance(value, str):
            return {value}
        if isinstance(value, dict):
            value = list(value.values())
        return set().union(*map(strings, value)) if isinstance(value, list) else set()

    blocks = [config.get(v) for v in ("cekat", "convotic")]
    keys = set().union(*(strings(b.get("api_key")) for b in blocks if isinstance(b, dict)))
    return {k for k in keys if len(k) >= 6}


def assert_no_secret(text: str, config: dict[str, t.Any]) -> None:
    """Fail the test if any key of the config appears in the text."""
    for secret in secrets_of(config):
        assert secret not in text, "an API key appeared in the tap's output"


def run_tap(
    config: dict[str, t.Any],
    state: dict[str, t.Any] | None = None,
    *args: str,
    catalog: dict[str, t.Any] | None = None,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    streams: t.Iterable[str] | None = None,
) -> TapRun:
    """Run `python -m tap_messages.tap` with the given config, state and catalog files.

    With `streams` (and no catalog), only those streams are selected.
    """
    if streams is not None and catalog is None:
        catalog = selecting(streams)
    with tempfile.TemporaryDirectory() as tmp:
        command = [sys.executable, "-m", "tap_messages.tap", *args]
        for flag, content in (("--config", config), ("--state", state), ("--catalog", catalog)):
            if content is not None:
                path = Path(tmp) / f"{flag[2:]}.json"
                path.write_text(json.dumps(content))
                command += [flag, str(path)]
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            cwd=cwd,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
            check=False,
            timeout=600,
        )
    assert_no_secret(done.stdout + done.stderr, config)
    messages = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    return TapRun(done.returncode, done.stdout, done.stderr, messages)


def run_messages(
    config: dict[str, t.Any], state: dict[str, t.Any] | None = None, *args: str, **kwargs: t.Any
) -> TapRun:
    """`run_tap` with only the message streams selected: for tests of their own guarantees."""
    return run_tap(config, state, *args, streams=MESSAGE_STREAMS, **kwargs)


def kill_after(
    config: dict[str, t.Any], state: dict[str, t.Any] | None, records: int
) -> list[dict[str, t.Any]]:
    """Run the message streams, SIGKILL once `records` RECORDs are out; return what was written."""
    catalog = selecting(MESSAGE_STREAMS)
    with tempfile.TemporaryDirectory() as tmp:
        command = [sys.executable, "-m", "tap_messages.tap"]
        for name, content in (("config", config), ("state", state), ("catalog", catalog)):
            if content is not None:
                (Path(tmp) / name).write_text(json.dumps(content))
                command += [f"--{name}", str(Path(tmp) / name)]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env
        )
        messages: list[dict[str, t.Any]] = []
        seen = 0
        assert process.stdout is not None
        for line in process.stdout:
            messages.append(json.loads(line))
            seen += messages[-1]["type"] == "RECORD"
            if seen >= records:
                process.send_signal(signal.SIGKILL)
                break
        process.wait()
        assert_no_secret(json.dumps(messages), config)
        return messages
