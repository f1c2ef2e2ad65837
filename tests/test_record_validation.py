"""Every record is checked in the tap: invalid ones are quarantined with reasons or stop the run."""

from __future__ import annotations

import copy
import json

from imitations import CekatData
from tests.conftest import cekat_config
from tests.singer_run import run_tap

STREAM = "cekat_messages"


def hostile_rows(data: CekatData) -> list[dict]:
    """Three records that break the schema in different ways, plus one that is odd but valid."""
    template = copy.deepcopy(data.messages[0])
    wrong_type = {**copy.deepcopy(template), "id": "bad-type", "is_template": "yes"}
    no_id = {k: v for k, v in copy.deepcopy(template).items() if k != "id"}
    bad_time = {**copy.deepcopy(template), "id": "bad-time", "updated_at": "yesterday-ish"}
    odd_but_valid = {
        **copy.deepcopy(template),
        "id": "odd-valid",
        "message": "สวัสดี 👋 Halo\u0000kak " + "x" * 20000,
    }
    return [wrong_type, no_id, bad_time, odd_but_valid]


def test_invalid_records_are_quarantined_with_their_errors_and_none_is_lost(serve):
    data = CekatData(n_messages=300, seed=20)
    for row in hostile_rows(data):
        data.add_raw(row)
    server = serve(cekat=data)
    run = run_tap(cekat_config(server))
    assert run.returncode == 0, run.stderr
    run.assert_records_match_schemas()
    loaded = {r["id"] for r in run.records(STREAM)}
    quarantined = run.records("quarantined_records")
    assert "odd-valid" in loaded
    assert data.ids() - {"bad-type", "bad-time"} <= loaded
    by_key = {q["record_key"]: q for q in quarantined}
    assert set(by_key) >= {'["bad-type"]', '["bad-time"]'}
    assert any(k.startswith("sha256:") for k in by_key), "the id-less record keeps a content key"
    assert len(quarantined) == 3
    assert any("is_template" in e for e in by_key['["bad-type"]']["errors"])
    assert any("updated_at" in e for e in by_key['["bad-time"]']["errors"])
    assert all(q["stream"] == STREAM for q in quarantined)
    assert "Quarantined an invalid cekat_messages record" in run.stderr


def test_fail_mode_stops_with_the_stream_key_and_field_and_keeps_state(serve):
    data = CekatData(n_messages=200, seed=21)
    server = serve(cekat=data)
    first = run_tap(cekat_config(server))
    bookmark = first.bookmark(STREAM)["replication_key_value"]
    newer = copy.deepcopy(data.add_messages(20)[-1])
    data.add_raw({**newer, "id": "bad-type", "is_template": "yes"})
    data.add_messages(20)
    run = run_tap({**cekat_config(server), "on_invalid_record": "fail"}, first.final_state)
    assert run.returncode == 1
    last_line = run.stderr.strip().splitlines()[-1]
    assert 'cekat_messages: record {"id": "bad-type"} fails the schema: is_template' in last_line
    assert "Traceback" not in run.stderr
    assert not run.records("quarantined_records")
    for state in run.states():
        assert state["bookmarks"][STREAM]["replication_key_value"] == bookmark
    assert json.dumps(run.states()).count("bad-type") == 0


def test_undeclared_fields_are_left_out_at_every_declared_level_and_free_form_objects_kept():
    import logging

    from tap_messages.shared.validation import UndeclaredFields

    schema = {
        "properties": {
            "id": {"type": "string"},
            "contact": {"properties": {"id": {}, "meta": {"properties": {"a": {}}}}},
            "ads_data": {"type": ["object", "null"]},
        }
    }
    fields = UndeclaredFields("s", schema, logging.getLogger("test"))
    only_nested = {"id": "1", "contact": {"id": "c", "tier": 2}, "ads_data": {"anything": 1}}
    fields.leave_out(only_nested)
    assert only_nested == {"id": "1", "contact": {"id": "c"}, "ads_data": {"anything": 1}}
    deep = {"id": "2", "contact": {"id": "c", "meta": {"a": 1, "b": 2}}, "extra": True}
    fields.leave_out(deep)
    assert deep == {"id": "2", "contact": {"id": "c", "meta": {"a": 1}}}
    assert fields.reported == {"contact.tier", "contact.meta.b", "extra"}
