"""singer-sdk's standard tap tests against the Cekat imitation, plus the state check they lack."""

from __future__ import annotations

import atexit

from singer_sdk.testing import get_tap_test_class

from imitations import CekatData, ConvoticData, ImitationServer
from tap_messages.shared.timestamps import format_utc
from tap_messages.tap import TapMessages
from tests.conftest import CEKAT_KEY, CONVOTIC_KEY
from tests.singer_run import run_tap

# The SDK builds its test classes at import time, so the server starts with the module.
DATA = CekatData(n_messages=400, seed=30)
DATA.add_raw({**DATA.messages[0], "id": "not-valid", "status": 3})  # fills quarantined_records
CONVOTIC = ConvoticData(n_conversations=3, messages_per_conversation=50, seed=30)
SERVER = ImitationServer(cekat=DATA, convotic=CONVOTIC).start()
atexit.register(SERVER.stop)
CONFIG = {
    "cekat": {"api_key": CEKAT_KEY, "base_url": SERVER.base_url},
    "convotic": {
        "api_key": CONVOTIC_KEY,
        "base_url": SERVER.base_url,
        "conversation_ids": CONVOTIC.conversation_ids(),
    },
}

TestTapMessages = get_tap_test_class(TapMessages, config=CONFIG)


def test_final_state_holds_the_newest_updated_at_in_utc():
    run = run_tap(CONFIG)
    newest = max(
        format_utc(DATA.utc_of(m["updated_at"])) for m in DATA.messages if m["id"] != "not-valid"
    )
    bookmark = run.bookmark("cekat_messages")
    assert bookmark == {"replication_key": "updated_at", "replication_key_value": newest}
    assert run.final_state["bookmarks"]["quarantined_records"] == {}
