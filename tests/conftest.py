"""Shared fixtures: the vendor imitations over real HTTP, and tap configs pointing at them."""

from __future__ import annotations

import typing as t

import pytest

from imitations import CekatData, ImitationServer

CEKAT_KEY = "cekat-test-key-0123456789"
CONVOTIC_KEY = "cvtk_live_test0123456789abcdef"


def cekat_config(server: ImitationServer, **cekat: t.Any) -> dict[str, t.Any]:
    """A tap config reading Cekat from the imitation."""
    return {"cekat": {"api_key": CEKAT_KEY, "base_url": server.base_url, **cekat}}


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
