"""Shared fixtures: the vendor imitations over real HTTP, and tap configs pointing at them."""

from __future__ import annotations

import typing as t

import pytest

from imitations import CekatData, ImitationServer

CEKAT_KEY = "cekat-test-key-0123456789"
CONVOTIC_KEY = "cvtk_live_test0123456789abcdef"


# Retries keep their count but not their real waits: the product waits, the suite need not.
# The cap would hide what a retry waits, so tests of the waits (test_retry_waits.py) drop it
# and read the waits on a fake clock instead.
FAST_RETRIES = {"max_retry_wait": 0.01}


def cekat_config(server: ImitationServer, **cekat: t.Any) -> dict[str, t.Any]:
    """A tap config reading Cekat from the imitation."""
    return {"cekat": {"api_key": CEKAT_KEY, "base_url": server.base_url, **cekat}, **FAST_RETRIES}


def convotic_config(server: ImitationServer, ids: list[str], **convotic: t.Any) -> dict[str, t.Any]:
    """A tap config reading the given Convotic conversations from the imitation."""
    block = {"api_key": CONVOTIC_KEY, "base_url": server.base_url, "conversation_ids": ids}
    return {"convotic": {**block, **convotic}, **FAST_RETRIES}


@pytest.fixture
def serve() -> t.Iterator[t.Callable[..., ImitationServer]]:
    """Start imitation servers for a test and stop them after it."""
    started: list[ImitationServer] = []

    def start(**kwargs: t.Any) -> ImitationServer:
        server = ImitationServer(**kwargs).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def cekat_server(serve: t.Callable[..., ImitationServer]) -> ImitationServer:
    """A Cekat imitation with 3,000 messages served oldest first."""
    return serve(cekat=CekatData(n_messages=3000, seed=1))
