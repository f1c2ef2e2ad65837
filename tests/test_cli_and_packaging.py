"""The installed tap: wheel contents, CLI modes, configuration errors, and no secret in output."""

from __future__ import annotations

import json
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

from imitations import CekatData, ConvoticData
from tests.conftest import CEKAT_KEY, CONVOTIC_KEY, cekat_config
from tests.singer_run import run_tap, tap_cli

ROOT = Path(__file__).parents[1]
UV = ROOT / ".venv-meltano" / "bin" / "uv"  # Meltano's own installer, set up by `make setup`
NEW_STREAMS = {
    "cekat_conversations",
    "cekat_contacts",
    "cekat_agents",
    "cekat_inboxes",
    "convotic_contacts",
}
STREAMS = {"cekat_messages", "convotic_messages", "quarantined_records", *NEW_STREAMS}


@pytest.mark.slow
def test_wheel_carries_the_schemas_and_discovers_from_anywhere(tmp_path):
    subprocess.run(
        [str(UV), "build", "-q", "--wheel", "-o", str(tmp_path / "dist"), str(ROOT)], check=True
    )
    wheel = next((tmp_path / "dist").glob("tap_messages-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert {f"tap_messages/schemas/{s}.json" for s in STREAMS} <= set(names)
    venv.create(tmp_path / "env", with_pip=False)
    python = tmp_path / "env" / "bin" / "python"
    subprocess.run(
        [str(UV), "pip", "install", "-q", "--python", str(python), str(wheel)], check=True
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    done = subprocess.run(
        [str(tmp_path / "env" / "bin" / "tap-messages"), "--discover"],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        check=True,
    )
    catalog = json.loads(done.stdout)
    assert {s["tap_stream_id"] for s in catalog["streams"]} == STREAMS
    assert all(s["schema"]["properties"] for s in catalog["streams"])


def test_discovery_needs_no_credentials_and_declares_keys(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "tap_messages.tap", "--discover"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    streams = {s["tap_stream_id"]: s for s in json.loads(done.stdout)["streams"]}
    assert streams["cekat_messages"]["key_properties"] == ["id"]
    assert streams["convotic_messages"]["key_properties"] == ["conversationId", "id"]
    assert streams["convotic_messages"]["replication_key"] == "timestamp"
    for name in NEW_STREAMS:  # full table: no change time is documented for them
        assert streams[name]["key_properties"] == ["id"]
        assert not streams[name].get("replication_key")
        assert streams[name]["schema"]["properties"]["id"]["type"] == "string"
        top = next(m["metadata"] for m in streams[name]["metadata"] if not m["breadcrumb"])
        assert top["selected-by-default"] is True


def test_about_marks_both_keys_secret():
    done = subprocess.run(
        [sys.executable, "-m", "tap_messages.tap", "--about", "--format=json"],
        capture_output=True,
        text=True,
        check=True,
    )
    settings = json.loads(done.stdout)["settings"]["properties"]
    assert settings["cekat"]["properties"]["api_key"]["secret"] is True
    assert settings["convotic"]["properties"]["api_key"]["secret"] is True


def test_catalog_and_test_modes_work(serve, tmp_path):
    server = serve(cekat=CekatData(n_messages=120, seed=50))
    catalog = tap_cli("--discover")
    for stream in catalog["streams"]:
        for entry in stream["metadata"]:
            if not entry["breadcrumb"]:
                entry["metadata"]["selected"] = stream["tap_stream_id"] == "cekat_messages"
    run = run_tap(cekat_config(server), None, catalog=catalog)
    assert run.returncode == 0, run.stderr
    assert {m["stream"] for m in run.messages if m["type"] == "SCHEMA"} == {"cekat_messages"}
    assert len(run.records("cekat_messages")) == 120
    tested = run_tap(cekat_config(server), None, "--test")
    assert tested.returncode == 0, tested.stderr


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({}, "No source is configured: set cekat.api_key, or convotic.api_key"),
        ({"cekat": {"api_key": ""}}, "cekat.api_key is empty"),
        ({"cekat": {"api_key": "k", "timezone": "Mars/Olympus"}}, "cekat.timezone: 'Mars/Olympus'"),
        ({"cekat": {"api_key": "k", "base_url": "api.cekat.ai"}}, "cekat.base_url: 'api.cekat.ai'"),
        (
            {"cekat": {"api_key": "k", "base_url": "https://api.cekat.ai/v 2"}},
            "cekat.base_url: 'https://api.cekat.ai/v 2' holds spaces",
        ),
        (
            {"convotic": {"api_key": "cvtk_secret\nX-Admin: 1", "conversation_ids": ["c"]}},
            "convotic.api_key holds a line break",
        ),
        ({"cekat": {"api_key": "k", "page_size": 0}}, "0 is less than the minimum of 1"),
        ({"cekat": {"api_key": "k"}, "start_date": "last tuesday"}, "start_date"),
        ({"convotic": {"api_key": "k"}}, "convotic.conversation_ids is empty"),
        ({"cekat": {"api_key": "k"}, "on_invalid_record": "drop"}, "'drop' is not one of"),
    ],
)
def test_bad_config_is_refused_with_the_setting_named(config, message):
    run = run_tap(config)
    assert run.returncode != 0
    assert message in run.stderr
    assert "Traceback" not in run.stderr
    assert "cvtk_secret" not in run.stderr


def test_no_key_appears_in_any_output_of_good_or_failing_runs(serve):
    data = CekatData(n_messages=200, seed=51)
    data.add_raw({**data.messages[0], "id": "bad", "status": 7})
    convotic = ConvoticData(n_conversations=2, messages_per_conversation=30, seed=51)
    server = serve(cekat=data, convotic=convotic)
    both = {
        **cekat_config(server),
        "convotic": {
            "api_key": CONVOTIC_KEY,
            "base_url": server.base_url,
            "conversation_ids": [*convotic.conversation_ids(), "conv_missing"],
        },
    }
    runs = [
        run_tap(both),
        run_tap({**both, "on_invalid_record": "fail"}),
        run_tap({**both, "cekat": {**both["cekat"], "api_key": CEKAT_KEY + "-revoked"}}),
        run_tap({**both, "convotic": {**both["convotic"], "api_key": CONVOTIC_KEY + "-x"}}),
        run_tap({**both, "cekat": {**both["cekat"], "base_url": "http://127.0.0.1:9"}}),
    ]
    assert [r.returncode == 0 for r in runs] == [True, False, False, False, False]
    for run in runs:
        for secret in (CEKAT_KEY, CONVOTIC_KEY):
            assert secret not in run.stdout
            assert secret not in run.stderr


def test_stream_maps_and_flattening_still_apply(serve):
    server = serve(cekat=CekatData(n_messages=150, seed=52))
    flat = run_tap({**cekat_config(server), "flattening_enabled": True, "flattening_max_depth": 1})
    assert flat.returncode == 0, flat.stderr[-1500:]
    assert "contact__display_name" in flat.records("cekat_messages")[0]
    mapped = run_tap({**cekat_config(server), "stream_maps": {"cekat_messages": {"message": None}}})
    assert len(mapped.records("cekat_messages")) == 150
    assert all("message" not in r for r in mapped.records("cekat_messages"))
