"""The keyset walk's rules on answers the imitation does not give: each end, each loop, each lie."""

from __future__ import annotations

import pytest

from tap_messages.cekat.keyset_walk import Cursor, KeysetPage, KeysetWalk, next_cursor
from tap_messages.shared.answers import objects_under
from tap_messages.shared.errors import TapMessagesError


def keyset_page_of(payload: dict) -> KeysetPage:
    rows = objects_under(payload, "data", answer="page", shape="{data}", setting="base_url")
    return KeysetPage(rows, next_cursor(payload))


def scripted(*answers: dict) -> tuple[KeysetWalk, list[Cursor | None]]:
    """A walk over these bodies, in turn; and the cursors it asked with."""
    asked: list[Cursor | None] = []

    def read(cursor: Cursor | None) -> KeysetPage:
        again = cursor is None and bool(asked)  # the look back at the top, after the walk
        asked.append(cursor)
        return keyset_page_of(answers[0 if again else len(asked) - 1])

    return KeysetWalk(read), asked


def body(ids: list[str], cursor: tuple[str, str] | None = None, **metadata) -> dict:
    if cursor is not None:
        metadata["next_cursor"] = {"cursor_id": cursor[0], "cursor_ts": cursor[1]}
    return {"success": True, "data": [{"id": i} for i in ids], "metadata": metadata}


def test_a_missing_or_null_next_cursor_ends_the_walk():
    walk, asked = scripted(body(["a", "b"], ("b", "t1")), body(["c"], next_cursor=None))
    assert [r["id"] for rows in walk for r in rows] == ["a", "b", "c"]
    assert asked == [None, ("b", "t1"), None]  # and the top again, unchanged: the end
    assert not walk.report.shortfalls


def test_null_data_is_an_empty_page_and_an_empty_page_pointing_on_is_a_shortfall():
    walk, asked = scripted(
        body(["a"], ("a", "t1")), {"success": True, "data": None, "metadata": {}}
    )
    assert [r["id"] for rows in walk for r in rows] == ["a"]
    assert not walk.report.shortfalls
    walk, asked = scripted(body(["a"], ("a", "t1")), body([], ("z", "t9")))
    assert [r["id"] for rows in walk for r in rows] == ["a"]
    assert asked == [None, ("a", "t1"), None]
    [shortfall] = walk.report.shortfalls
    assert "an empty page still pointed on to ('z', 't9')" in shortfall


def test_new_cursors_over_rows_read_already_stop_the_run_with_an_error():
    pages = [body(["a", "b"], ("b", f"t{n}")) for n in range(1, 6)]
    walk, asked = scripted(*pages)
    with pytest.raises(TapMessagesError, match="seems to ignore cursor_id and cursor_ts"):
        list(walk)
    assert len(asked) == 4  # the first page, then three that brought nothing new


@pytest.mark.parametrize("cursor", [{"cursor_id": "a"}, "abc", {"cursor_id": "", "cursor_ts": "t"}])
def test_a_next_cursor_of_another_shape_is_a_clear_error(cursor):
    with pytest.raises(TapMessagesError, match="is not the documented"):
        next_cursor({"success": True, "data": [], "metadata": {"next_cursor": cursor}})


def test_conversations_that_moved_to_the_top_while_the_walk_read_are_caught_at_the_end():
    # Newest first by last activity: "x" got a message after page 1 and moved above the cursor.
    top_now = body(["x", "a"], ("a", "t3"))
    answers = iter([body(["a", "b"], ("b", "t2")), body(["c"]), top_now, top_now])
    asked: list[Cursor | None] = []
    walk = KeysetWalk(lambda cursor: asked.append(cursor) or keyset_page_of(next(answers)))
    assert [r["id"] for rows in walk for r in rows] == ["a", "b", "c", "x"]
    # Each look stops at "a", unchanged since page 1; the second brings nothing: the end.
    assert asked == [None, ("b", "t2"), None, None]
    assert walk.report.reread == 2
    assert not walk.report.shortfalls
