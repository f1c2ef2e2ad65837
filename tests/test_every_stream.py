"""Every stream of the registry, alone or together: resumes from its state, each id once, quiet."""

from __future__ import annotations

import collections
import re
from pathlib import Path

import pytest
import yaml

from imitations import CekatData, ConvoticData, ImitationServer
from tap_messages.streams import NAMES
from tests.conftest import cekat_config, convotic_config
from tests.singer_run import TapRun, run_tap, selecting

ROOT = Path(__file__).resolve().parents[1]
KEYS = {"convotic_messages": ("conversationId", "id")}
MESSAGES = ("cekat_messages", "convotic_messages")


@pytest.fixture(
    scope="module", params=[("oldest_first", "created_at"), ("newest_first", "updated_at")]
)
def both(request):
    """Both vendors' imitations, every endpoint, no quirk switched on; and a config for them."""
    order, order_by = request.param
    cekat = CekatData(
        n_messages=700, n_conversations=60, n_inboxes=3, seed=190, order=order, order_by=order_by
    )
    convotic = ConvoticData(n_conversations=6, messages_per_conversation=130, seed=190)
    server = ImitationServer(cekat=cekat, convotic=convotic).start()
    yield server, {**cekat_config(server), **convotic_config(server, convotic.conversation_ids())}
    server.stop()


def warnings_in(run: TapRun) -> list[str]:
    return [line for line in run.stderr.splitlines() if re.search(r"\bWARNING\b|\bwarning\b", line)]


@pytest.mark.parametrize("stream", NAMES)
def test_each_stream_alone_runs_again_from_the_state_it_wrote(both, stream):
    _, config = both
    first = run_tap(config, streams=[stream])
    assert first.returncode == 0, first.stderr[-2000:]
    again = run_tap(config, first.final_state, streams=[stream])
    assert again.returncode == 0, again.stderr[-2000:]
    assert set(first.final_state.get("bookmarks", {})) <= set(NAMES)


def test_a_full_run_of_every_stream_emits_each_key_once_and_warns_of_nothing(both):
    _, config = both
    run = run_tap(config, catalog=selecting(NAMES))
    assert run.returncode == 0, run.stderr[-2000:]
    emitted = {stream: run.records(stream) for stream in NAMES}
    for stream, records in emitted.items():
        if stream == "quarantined_records":
            continue
        assert records, f"{stream} emitted nothing"
        keys = collections.Counter(
            tuple(r[k] for k in KEYS.get(stream, ("id",))) for r in records
        )
        assert [k for k, n in keys.items() if n > 1] == [], f"{stream}: ids emitted twice"
    assert warnings_in(run) == []
    assert run.assert_records_match_schemas() == sum(map(len, emitted.values()))


def test_a_start_date_after_every_message_emits_none_and_says_why_once(both):
    _, config = both
    run = run_tap({**config, "start_date": "2031-01-01T00:00:00Z"}, streams=MESSAGES)
    assert run.returncode == 0, run.stderr[-2000:]
    assert [len(run.records(s)) for s in MESSAGES] == [0, 0]
    [warning] = warnings_in(run)
    assert "start_date" in warning
    assert "future" in warning


def test_a_start_date_bounds_a_first_sync_by_creation_time(both):
    _, config = both
    everything = run_tap(config, streams=MESSAGES)
    times = sorted(r["created_at"] for r in everything.records("cekat_messages"))
    start = times[len(times) // 2]
    run = run_tap({**config, "start_date": start}, streams=MESSAGES)
    cekat = run.records("cekat_messages")
    assert cekat
    assert all(r["created_at"] >= start for r in cekat)
    expected = {r["id"] for r in everything.records("cekat_messages") if r["created_at"] >= start}
    assert {r["id"] for r in cekat} == expected
    convotic = run.records("convotic_messages")
    assert convotic
    assert all(r["timestamp"] >= start for r in convotic)


def test_every_name_the_docs_and_meltano_use_is_a_stream_of_the_registry():
    project = yaml.safe_load((ROOT / "meltano.yml").read_text())
    selected = {
        pattern.split(".")[0].lstrip("!")
        for plugin in project["plugins"]["extractors"]
        for pattern in plugin.get("select", [])
    }
    assert selected
    assert selected <= set(NAMES)
    readme = (ROOT / "README.md").read_text()
    first_cells = re.findall(r"^\| (`[a-z_]+`(?:, `[a-z_]+`)*) \|", readme, flags=re.MULTILINE)
    documented = {name for cell in first_cells for name in re.findall(r"`([a-z_]+)`", cell)}
    assert documented == set(NAMES)
    demo = (ROOT / "scripts" / "demo.py").read_text()
    assert set(re.findall(r'^    "([a-z_]+)",$', demo, flags=re.MULTILINE)) == set(NAMES)
