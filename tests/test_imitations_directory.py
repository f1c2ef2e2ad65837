"""The imitations' new endpoints show the quirks api-facts.md documents (§1.1, §2.1, §2.3, §2.6)."""

from __future__ import annotations

import re

from imitations import CekatData, ConvoticData, ImitationServer
from tests.test_imitations import CK, CV, get_json


def ok(srv: ImitationServer, path: str, headers: dict[str, str]) -> dict:
    status, body = get_json(srv, path, headers)
    assert status == 200, body
    return body


MS_OFFSET = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$")
US_OFFSET = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$")
US_NAIVE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$")
MS_NAIVE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}$")


def test_cekat_conversations_page_by_keyset_cursor_to_a_missing_next_cursor():
    data = CekatData(n_messages=300, n_conversations=25, seed=1)
    with ImitationServer(cekat=data) as srv:
        seen, path = [], "/api/conversations?limit=10"
        while True:
            body = ok(srv, path, CK)
            seen += [row["id"] for row in body["data"]]
            cursor = body["metadata"].get("next_cursor")
            if cursor is None:
                break
            assert MS_NAIVE.match(cursor["cursor_ts"]), cursor
            path = (
                f"/api/conversations?limit=10&cursor_id={cursor['cursor_id']}"
                f"&cursor_ts={cursor['cursor_ts']}"
            )
        row = body["data"][0]
    assert sorted(seen) == sorted(data.conversation_ids())
    assert len(seen) == 25
    assert MS_OFFSET.match(row["created_at"])
    assert MS_OFFSET.match(row["last_message"]["created_at"])
    messages = {m["conversation_id"]: m for m in data.messages}
    contact, inbox = data.parties_of(row["id"])
    assert (row["contact_id"], row["inbox_id"]) == (contact["id"], inbox["id"])
    assert messages[row["id"]]["contact"]["id"] == row["contact_id"]


def test_cekat_lists_totals_do_not_add_up_and_times_mix_forms():
    data = CekatData(n_messages=100, n_conversations=105, seed=2)
    with ImitationServer(cekat=data) as srv:
        contacts = ok(srv, "/api/contacts?limit=10&page=11", CK)
        agents = ok(srv, "/api/agents", CK)
        inboxes = ok(srv, "/api/inboxes", CK)
    assert contacts["metadata"]["pagination"]["total_items"] == 105
    assert contacts["metadata"]["pagination"]["total_page"] == 53  # as the docs' agents example
    assert len(contacts["data"]) == 5
    assert all(US_OFFSET.match(c["created_at"]) for c in contacts["data"])
    assert all(US_NAIVE.match(a["created_at"]) for a in agents["data"])
    assert all(US_OFFSET.match(i["created_at"]) for i in inboxes["data"])


def test_convotic_contacts_cap_at_limit_refuse_more_and_count_all_in_total():
    data = ConvoticData(n_conversations=130, messages_per_conversation=1, seed=3)
    with ImitationServer(convotic=data) as srv:
        everyone = ok(srv, "/v1/contacts?limit=100", CV)
        status, refused = get_json(srv, "/v1/contacts?limit=500", CV)
        line = ok(srv, "/v1/contacts?limit=100&platform=line", CV)
    assert (len(everyone["contacts"]), everyone["total"], everyone["limit"]) == (100, 130, 100)
    assert (status, refused["error"]["code"]) == (400, "INVALID_REQUEST")
    assert {c["platform"] for c in line["contacts"]} == {"line"}
    assert line["total"] == len(line["contacts"])
    senders = {m["sender"]["id"] for cid in data.conversation_ids() for m in data.messages_of(cid)}
    assert {c["id"] for c in everyone["contacts"]} & senders


def test_every_table_deletes_rows_and_restores_them_as_they_were():
    cekat = CekatData(n_messages=60, n_conversations=6, seed=4)
    convotic = ConvoticData(n_conversations=3, messages_per_conversation=10, seed=4)

    def served(srv: ImitationServer) -> dict[str, list]:
        lists = {
            path: ok(srv, f"/api/{path}?limit=100", CK)["data"]
            for path in ("messages", "conversations", "contacts", "agents", "inboxes")
        }
        lists["cv_contacts"] = ok(srv, "/v1/contacts?limit=100", CV)["contacts"]
        cid = convotic.conversation_ids()[0]
        lists["cv_messages"] = ok(srv, f"/v1/messages?conversationId={cid}&limit=100", CV)[
            "messages"
        ]
        return lists

    with ImitationServer(cekat=cekat, convotic=convotic) as srv:
        before = served(srv)
        ids = {name: [row["id"] for row in rows[:2]] for name, rows in before.items()}
        assert cekat.delete(ids["messages"]) == 2
        cekat.directory.delete(ids["conversations"] + ids["contacts"] + ids["agents"])
        cekat.directory.delete(ids["inboxes"][:1])
        convotic.delete_contacts(ids["cv_contacts"])
        cid = convotic.conversation_ids()[0]
        assert convotic.delete([(cid, mid) for mid in ids["cv_messages"]]) == 2
        during = served(srv)
        assert cekat.restore(ids["messages"]) == 2
        cekat.directory.restore(ids["conversations"] + ids["contacts"] + ids["agents"])
        cekat.directory.restore(ids["inboxes"][:1])
        convotic.restore_contacts(ids["cv_contacts"])
        assert convotic.restore([(cid, mid) for mid in ids["cv_messages"]]) == 2
        after = served(srv)
    for name, rows in before.items():
        gone = set(ids[name][:1] if name == "inboxes" else ids[name])
        assert [r for r in rows if r["id"] not in gone] == during[name], name
        assert after[name] == rows, name
