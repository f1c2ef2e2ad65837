"""The tap's side of deletes (shared/mirror.py): ACTIVATE_VERSION last, records versioned, or none.

The loader's side, over `meltano run` into PostgreSQL: tests/test_warehouse_deletes.py.
"""

from __future__ import annotations

import typing as t

from imitations import CekatData, ConvoticData
from tests.conftest import cekat_config, convotic_config
from tests.singer_run import TapRun, run_tap

VENDOR_STREAMS = {
    "cekat_messages",
    "convotic_messages",
    "cekat_conversations",
    "cekat_contacts",
    "cekat_agents",
    "cekat_inboxes",
    "convotic_contacts",
}


def activated(run: TapRun) -> dict[str, int]:
    """The version each stream's ACTIVATE_VERSION named."""
    return {m["stream"]: m["version"] for m in run.messages if m["type"] == "ACTIVATE_VERSION"}


def versions(run: TapRun, stream: str) -> set[int | None]:
    """The versions the stream's RECORDs carried."""
    return {
        m.get("version") for m in run.messages if m["type"] == "RECORD" and m["stream"] == stream
    }


def last_record_before_activation(run: TapRun, stream: str) -> bool:
    """True when the stream's ACTIVATE_VERSION follows every RECORD of it."""
    kinds = [m["type"] for m in run.messages if m.get("stream") == stream]
    return "ACTIVATE_VERSION" not in kinds[: max(i for i, k in enumerate(kinds) if k == "RECORD")]


def config(serve: t.Callable[..., t.Any], **extra: t.Any) -> dict[str, t.Any]:
    """Both vendors, one invalid Cekat record among them (for the quarantine)."""
    cekat = CekatData(n_messages=250, seed=301)
    cekat.add_raw({**cekat.messages[0], "id": "bad00000-0000-4000-8000-000000000301", "status": 7})
    convotic = ConvoticData(n_conversations=3, messages_per_conversation=20, seed=301)
    server = serve(cekat=cekat, convotic=convotic)
    return {
        **cekat_config(server),
        **convotic_config(server, convotic.conversation_ids()),
        **extra,
    }


def test_a_whole_read_activates_every_vendor_stream_after_its_last_record_not_one_quarantining(
    serve,
):
    settings = config(serve)
    run = run_tap(settings)
    assert run.returncode == 0, run.stderr[-2000:]
    found = activated(run)
    # The quarantined row still exists at Cekat: its older copy in the warehouse must stay live.
    assert set(found) == VENDOR_STREAMS - {"cekat_messages"}
    assert "cekat_messages: no ACTIVATE_VERSION" in run.stderr
    assert "(1 records quarantined)" in run.stderr
    [version] = set(found.values())
    for stream in VENDOR_STREAMS:
        assert versions(run, stream) == {version}, stream
        assert stream not in found or last_record_before_activation(run, stream), stream
    assert versions(run, "quarantined_records") == {None}

    again = run_tap(settings, run.final_state)  # incremental: the messages continue from bookmarks
    assert set(activated(again)) == VENDOR_STREAMS - {"cekat_messages", "convotic_messages"}
    assert versions(again, "cekat_messages") == versions(again, "convotic_messages") == {None}
    assert min(activated(again).values()) > version, "a later run activates a higher version"


def test_a_stream_map_alias_is_activated_too_and_a_filtering_map_activates_nothing(serve):
    maps = {
        "agents_copy": {"__source__": "cekat_agents"},
        "cekat_inbox*": {"__filter__": "record['type'] == 'whatsapp'"},
    }
    run = run_tap(config(serve, stream_maps=maps))
    assert run.returncode == 0, run.stderr[-2000:]
    found = activated(run)
    assert found["agents_copy"] == found["cekat_agents"]
    assert versions(run, "agents_copy") == {found["agents_copy"]}
    assert last_record_before_activation(run, "agents_copy")
    assert "cekat_inboxes" not in found
    assert "a stream map filters its records" in run.stderr


def test_batch_files_carry_no_version_so_nothing_is_activated(serve, tmp_path):
    batch = {
        "encoding": {"format": "jsonl", "compression": "gzip"},
        "storage": {"root": tmp_path.as_uri(), "prefix": "batch-"},
    }
    run = run_tap(config(serve, batch_config=batch))
    assert run.returncode == 0, run.stderr[-2000:]
    assert any(m["type"] == "BATCH" for m in run.messages)
    assert activated(run) == {}
    assert "BATCH files carry no record version" in run.stderr


def test_the_sdks_activate_version_at_the_start_is_refused(serve):
    run = run_tap(config(serve, emit_activate_version_messages=True))
    assert run.returncode == 1
    assert "emit_activate_version_messages: remove it" in run.stderr
    assert not [m for m in run.messages if m["type"] in {"RECORD", "ACTIVATE_VERSION"}]
