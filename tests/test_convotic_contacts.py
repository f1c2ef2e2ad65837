"""convotic_contacts: one answer when it holds all, one per platform when not, loud when capped."""

from __future__ import annotations

from imitations import ConvoticData
from imitations.convotic_contacts import contact_rows
from tap_messages.shared.timestamps import is_utc
from tests.conftest import convotic_config
from tests.singer_run import run_tap

STREAM = "convotic_contacts"


def contact_requests(server) -> list[dict[str, list[str]]]:
    return [r.params for r in server.requests if r.path == "/v1/contacts"]


def run_contacts(server, data: ConvoticData, **settings):
    config = convotic_config(server, data.conversation_ids()[:1], **settings)
    return run_tap(config, streams=[STREAM])


def test_a_workspace_of_up_to_100_contacts_costs_one_request(serve):
    data = ConvoticData(n_conversations=100, messages_per_conversation=2, seed=81)
    server = serve(convotic=data)
    run = run_contacts(server, data)
    assert run.returncode == 0, run.stderr[-2000:]
    assert {r["id"] for r in run.records(STREAM)} == {r["id"] for r in contact_rows(data)}
    assert contact_requests(server) == [{"limit": ["100"]}]
    for record in run.records(STREAM):
        assert is_utc(record["createdAt"])
        assert is_utc(record["lastMessageAt"])  # sent with milliseconds and Z
    assert run.assert_records_match_schemas() == 100


def test_more_than_one_answer_holds_is_read_per_platform_each_contact_once(serve):
    data = ConvoticData(n_conversations=330, messages_per_conversation=1, seed=82)
    server = serve(convotic=data)
    per_platform = {}
    for row in contact_rows(data):
        per_platform[row["platform"]] = per_platform.get(row["platform"], 0) + 1
    assert max(per_platform.values()) <= 100 < len(contact_rows(data))
    run = run_contacts(server, data)
    assert run.returncode == 0, run.stderr[-2000:]
    ids = [r["id"] for r in run.records(STREAM)]
    assert len(ids) == len(set(ids)) == 330
    asked = [params.get("platform", [None])[0] for params in contact_requests(server)]
    assert asked == [None, "instagram", "line", "facebook", "whatsapp"]
    assert all(params["limit"] == ["100"] for params in contact_requests(server))
    assert "cannot be listed" not in run.stderr


def test_contacts_the_api_cannot_list_are_counted_in_a_warning(serve):
    data = ConvoticData(n_conversations=460, seed=83)
    for n in range(7):  # a platform the docs do not name: no filter reaches it
        data.add_conversation(f"conv_tg_{n}", 1, platform="telegram")
    server = serve(convotic=data)
    run = run_contacts(server, data)
    assert run.returncode == 0, run.stderr[-2000:]
    rows = contact_rows(data)
    listable = sum(
        min(100, sum(r["platform"] == p for r in rows))
        for p in ("instagram", "line", "facebook", "whatsapp")
    )
    ids = {r["id"] for r in run.records(STREAM)}
    # The first answer (the 100 most recent, telegram's among them) and 100 per platform.
    first_answer = {r["id"] for r in rows[:100]}
    assert ids == first_answer | {
        r["id"]
        for p in ("instagram", "line", "facebook", "whatsapp")
        for r in [x for x in rows if x["platform"] == p][:100]
    }
    assert listable <= len(ids) < 467
    lines = run.stderr.splitlines()
    [warning] = [line for line in lines if "cannot be listed" in line and "WARNING" in line]
    assert "the workspace has 467 contacts" in warning
    assert f"{len(ids)} were read" in warning
    assert "instagram 100 of " in warning
    assert "convotic_contacts" in warning
    [summary] = [line for line in run.stderr.splitlines() if "records emitted" in line]
    assert "the workspace has 467 contacts" in summary, "and again in the closing line"


def test_the_platform_setting_reads_that_platform_alone(serve):
    data = ConvoticData(n_conversations=60, messages_per_conversation=1, seed=84)
    server = serve(convotic=data)
    run = run_contacts(server, data, platform="line")
    assert run.returncode == 0, run.stderr[-2000:]
    assert {r["platform"] for r in run.records(STREAM)} == {"line"}
    assert len(run.records(STREAM)) == sum(r["platform"] == "line" for r in contact_rows(data))
    assert contact_requests(server) == [{"limit": ["100"], "platform": ["line"]}]
