"""Bad settings, state and catalog files are refused before any request, naming what to fix."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from imitations import CekatData
from tests.conftest import cekat_config
from tests.singer_run import run_tap, tap_cli


def run_with_files(config: dict, **files: str):
    """Run the tap with raw (possibly broken) file contents."""
    with tempfile.TemporaryDirectory() as tmp:
        command = [sys.executable, "-m", "tap_messages.tap", "--config", f"{tmp}/config.json"]
        Path(tmp, "config.json").write_text(json.dumps(config))
        for name, text in files.items():
            Path(tmp, name).write_text(text)
            command += [f"--{name}", f"{tmp}/{name}"]
        return subprocess.run(command, capture_output=True, text=True, check=False)


@pytest.mark.parametrize(
    ("state", "message"),
    [
        ("{not json", "state file is not JSON"),
        ("[1, 2]", "the state must be a JSON object"),
        ('{"type": "STATE", "value": {}}', 'the file holds a STATE message: pass its "value"'),
        ('{"bookmarks": []}', '"bookmarks" must be an object keyed by stream name'),
        (
            '{"bookmarks": {"cekat_messages": {"replication_key_value": "soon"}}}',
            "bookmarks.cekat_messages.replication_key_value 'soon' is not a timestamp",
        ),
        (
            '{"bookmarks": {"convotic_messages": {"partitions": {}}}}',
            "bookmarks.convotic_messages.partitions must be a list",
        ),
        (
            '{"bookmarks": {"convotic_messages": {"partitions": [{"context": {"conversationId": '
            '"c"}, "replication_key_value": 17}]}}}',
            "bookmarks.convotic_messages.partitions[0].replication_key_value 17 is not a timestamp",
        ),
    ],
)
def test_bad_state_is_refused_with_the_fix(serve, state, message):
    server = serve(cekat=CekatData(n_messages=10, seed=95))
    done = run_with_files(cekat_config(server), state=state)
    assert done.returncode == 1
    assert message in done.stderr.strip().splitlines()[-1]
    assert "Traceback" not in done.stderr
    assert not server.requests, "refused before any request"


@pytest.mark.parametrize(
    ("catalog", "message"),
    [
        ("not json", "catalog file is not JSON"),
        ('{"streams": {}}', 'the catalog must be a JSON object with a "streams" list'),
        ('{"streams": [{"schema": {}}]}', 'streams[0] needs a "tap_stream_id" string'),
    ],
)
def test_bad_catalog_is_refused_with_the_fix(serve, catalog, message):
    server = serve(cekat=CekatData(n_messages=10, seed=96))
    done = run_with_files(cekat_config(server), catalog=catalog)
    assert done.returncode == 1
    assert message in done.stderr.strip().splitlines()[-1]
    assert not server.requests


def test_unknown_catalog_stream_is_ignored_with_a_warning(serve):
    server = serve(cekat=CekatData(n_messages=10, seed=97))
    catalog = tap_cli("--discover")
    catalog["streams"].append({"tap_stream_id": "whatsapp_calls", "schema": {}, "metadata": []})
    run = run_tap(cekat_config(server), None, catalog=catalog)
    assert run.returncode == 0, run.stderr[-1500:]
    assert "Catalog stream 'whatsapp_calls' is not a stream of tap-messages; ignored." in run.stderr
    assert len(run.records("cekat_messages")) == 10


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            {"cekat": {"api_key": "k" * 20, "base_url": "http://api.cekat.ai"}},
            "cekat.base_url: 'http://api.cekat.ai' would send the API key unencrypted; use https://.",
        ),
        (
            {"convotic": {"conversation_ids": ["conv_1"]}},
            "convotic.api_key is missing while other convotic settings are set.",
        ),
        ({"cekat": {"api_key": "k" * 20}, "max_retries": -1}, "-1 is less than the minimum of 0"),
    ],
)
def test_unsafe_or_incomplete_settings_are_refused(config, message):
    run = run_tap(config)
    assert run.returncode == 1
    assert message in run.stderr
