"""Every bad input is answered in one line that names what to fix, through the real command line.

Each case checks the last line, the exit code, and (through run_tap) that no key appears anywhere.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from imitations import CekatData
from tests.conftest import CEKAT_KEY, CONVOTIC_KEY, cekat_config
from tests.singer_run import assert_no_secret, run_messages, selecting

STREAM = "cekat_messages"


def last_line(run) -> str:
    return run.stderr.strip().splitlines()[-1]


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        (
            {
                "convotic": {
                    "api_key": CONVOTIC_KEY,
                    "conversation_ids": ["c"],
                    "shard_count": "two",
                }
            },
            "convotic.shard_count: must be integer (it is a string).",
        ),
        ({"convotic": "conv_1,conv_2"}, "convotic: must be object (it is a string)."),
        (
            {"cekat": {"api_key": CEKAT_KEY, "conversation_id": ["c1"]}},
            "cekat.conversation_id is not a setting of tap-messages "
            "(did you mean conversation_ids?)",
        ),
        ({"cekat": {"api_key": [CEKAT_KEY]}}, "cekat.api_key: must be string (it is a list)."),
        (
            {"cekat": {"api_key": {"value": CEKAT_KEY}}},
            "cekat.api_key: must be string (it is an object).",
        ),
        (
            {"cekat": {"api_key": CEKAT_KEY, "lookback": "1 day"}},
            "cekat.lookback: '1 day' is not an ISO 8601 duration",
        ),
    ],
)
def test_bad_settings_end_in_one_line_naming_the_setting(config, expected):
    run = run_messages(config)
    assert run.returncode == 1
    assert expected in last_line(run)
    assert "Traceback" not in run.stderr
    assert CEKAT_KEY not in run.stderr
    if "lookback" not in expected:  # discovery checks the shape of the settings, not their sense
        discovered = run_messages(config, None, "--discover")
        assert discovered.returncode == 1, "discovery refuses a config it cannot read, in one line"
        assert expected in last_line(discovered)


def test_an_unknown_top_level_setting_is_warned_with_the_nearest_name_and_the_run_goes_on(serve):
    server = serve(cekat=CekatData(n_messages=20, seed=120))
    run = run_messages({**cekat_config(server), "strat_date": "2026-01-01T00:00:00Z"})
    assert run.returncode == 0, run.stderr[-1500:]
    assert (
        "Setting 'strat_date' is not one of tap-messages' (did you mean start_date?); ignored."
        in run.stderr
    )
    assert len(run.records(STREAM)) == 20


def test_meltanos_state_wrapper_is_read_and_another_taps_state_refused(serve):
    data = CekatData(n_messages=300, seed=121, order="newest_first", order_by="updated_at")
    server = serve(cekat=data)
    first = run_messages(cekat_config(server, lookback="PT0S"))
    server.requests.clear()
    wrapped = run_messages(
        cekat_config(server, lookback="PT0S"), {"singer_state": first.final_state}
    )
    assert wrapped.returncode == 0, wrapped.stderr[-1500:]
    assert "singer_state wrapper" in wrapped.stderr
    assert len(server.requests) <= 4, "read as this tap's bookmarks: an increment, not a full sync"
    foreign = {"bookmarks": {"orders": {"replication_key_value": "2026-01-01T00:00:00Z"}}}
    refused = run_messages(cekat_config(server), foreign)
    assert refused.returncode == 1
    assert "none of tap-messages' streams: it is another tap's state" in last_line(refused)


@pytest.mark.parametrize(
    ("start_date", "warning"),
    [
        (
            "2999-01-01T00:00:00Z",
            "start_date 2999-01-01T00:00:00Z is in the future: a first sync reads nothing until "
            "then.",
        ),
        (
            "2026-03-01",
            "start_date '2026-03-01' has no UTC offset; read as UTC "
            "(2026-03-01T00:00:00.000000+00:00)",
        ),
        (
            "2026-03-01T00:00:00",
            "has no UTC offset; read as UTC (2026-03-01T00:00:00.000000+00:00)",
        ),
    ],
)
def test_a_start_date_in_the_future_or_without_an_offset_is_said_how_it_was_read(
    serve, start_date, warning
):
    server = serve(cekat=CekatData(n_messages=20, seed=122))
    run = run_messages({**cekat_config(server), "start_date": start_date})
    assert run.returncode == 0, run.stderr[-1500:]
    assert warning in run.stderr
    assert "WARNING" in next(line for line in run.stderr.splitlines() if "start_date" in line)


def test_a_body_in_a_declared_charset_is_read_and_a_lone_surrogate_replaced_loudly(serve):
    data = CekatData(n_messages=150, seed=123)
    data.add_raw({**data.messages[0], "id": "latin", "message": "Café à la crème, ¡olé!"})
    server = serve(cekat=data)
    server.charset = "iso-8859-1"
    run = run_messages(cekat_config(server))
    assert run.returncode == 0, run.stderr[-1500:]
    assert {r["id"]: r for r in run.records(STREAM)}["latin"]["message"] == "Café à la crème, ¡olé!"
    assert len(run.records(STREAM)) == 151
    server.charset = None
    data.add_raw({**data.messages[1], "id": "lone", "message": "half an emoji: \ud83d"})
    broken = run_messages(cekat_config(server))
    assert broken.returncode == 0, broken.stderr[-1500:]
    assert {r["id"]: r for r in broken.records(STREAM)}["lone"][
        "message"
    ] == "half an emoji: \ufffd"
    assert "lone UTF-16 surrogates); each became U+FFFD" in broken.stderr
    assert len(broken.records(STREAM)) == 152


def test_a_field_the_schema_does_not_declare_is_reported_once_and_left_out(serve):
    data = CekatData(n_messages=150, seed=124)
    for n in range(3):
        data.add_raw(
            {
                **data.messages[n],
                "id": f"drift-{n}",
                "reaction": "👍",
                "contact": {**data.messages[n]["contact"], "tier": 2},
            }
        )
    server = serve(cekat=data)
    run = run_messages(cekat_config(server), None, catalog=selecting(["cekat_messages"]))
    assert run.returncode == 0, run.stderr[-1500:]
    warnings = [line for line in run.stderr.splitlines() if "does not declare" in line]
    assert len(warnings) == 2, "each new field once per run"
    assert (
        "'reaction' (for example str)" in warnings[0]
        or "'reaction' (for example str)" in warnings[1]
    )
    assert any("'contact.tier' (for example int)" in w for w in warnings)
    assert all(
        "reaction" not in r and "tier" not in (r.get("contact") or {}) for r in run.records(STREAM)
    )
    assert run.assert_records_match_schemas() == 153


def test_a_passing_connection_test_prints_no_error(serve):
    server = serve(cekat=CekatData(n_messages=500, seed=125))
    tested = run_messages(cekat_config(server), None, "--test")
    assert tested.returncode == 0, tested.stderr[-1500:]
    assert " ERROR " not in tested.stderr
    assert len(tested.records(STREAM)) == 1


def test_config_env_reads_tap_messages_variables_nested_ones_included(serve):
    server = serve(cekat=CekatData(n_messages=40, seed=126))
    env = {
        **os.environ,
        "TAP_MESSAGES_CEKAT_API_KEY": CEKAT_KEY,
        "TAP_MESSAGES_CEKAT_BASE_URL": server.base_url,
        "TAP_MESSAGES_CEKAT_PAGE_SIZE": "25",
        "TAP_MESSAGES_MAX_RETRY_WAIT": "0.01",
    }
    done = subprocess.run(
        [sys.executable, "-m", "tap_messages.tap", "--config", "ENV"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-1500:]
    records = [json.loads(line) for line in done.stdout.splitlines() if '"RECORD"' in line]
    assert len([r for r in records if r["stream"] == "cekat_messages"]) == 40
    assert {r.params["limit"][0] for r in server.requests} <= {str(n) for n in range(12, 26)}
    assert_no_secret(done.stdout + done.stderr, {"cekat": {"api_key": CEKAT_KEY}})
