"""singer-sdk's standard tap tests against the Cekat imitation, plus the state check they lack."""

from __future__ import annotations

import atexit

from singer_sdk.testing import get_tap_test_class
from singer_sdk.testing.config import SuiteConfig

from imitations import CekatData, ImitationServer
from tap_messages.tap import TapMessages
from tap_messages.timestamps import format_utc
from tests.conftest import CEKAT_KEY
from tests.singer_run import run_tap

# The SDK builds its test classes at import time, so the server starts with the module.
DATA = CekatData(n_messages=400, seed=30)
SERVER = ImitationServer(cekat=DATA).start()
atexit.register(SERVER.stop)
CONFIG = {"cekat": {"api_key": CEKAT_KEY, "base_url": SERVER.base_url}}

TestTapMessages = get_tap_test_class(
    TapMessages,
    config=CONFIG,
    suite_config=SuiteConfig(ignore_no_records_for_streams=["convotic_messages",
                                                             "quarantined_records"]),
)


def test_final_state_holds_the_newest_updated_at_in_utc():
    run = run_tap(CONFIG)
    newest = max(format_utc(DATA.utc_of(m["updated_at"])) for m in DATA.messages)
    bookmark = run.bookmark("cekat_messages")
    assert bookmark == {"replication_key": "updated_at", "replication_key_value": newest}
    assert run.final_state["bookmarks"]["quarantined_records"] == {}
