"""Shared fixtures: the vendor imitations over real HTTP, and tap configs pointing at them."""

from __future__ import annotations

import os
import typing as t
import uuid

import pytest

from imitations import CekatData, ImitationServer
from tests.meltano_run import DEFAULT_PG, PG_ENV, Pipeline, Postgres

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


@pytest.fixture(scope="session")
def postgres() -> Postgres:
    """The test database (TAP_MESSAGES_TEST_PG): under CI=true it must be there, else skip."""
    database = Postgres(os.environ.get(PG_ENV) or DEFAULT_PG)
    problem = database.unreachable()
    if problem is not None:
        if os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}:
            pytest.fail(f"CI=true and the PostgreSQL tests cannot run: {problem}")
        pytest.skip(problem)
    return database


@pytest.fixture
def schema(postgres: Postgres) -> t.Iterator[str]:
    """A target schema of this test's own (and `<it>_models` for dbt's), dropped afterwards."""
    name = f"tap_messages_test_{uuid.uuid4().hex[:10]}"
    yield name
    postgres.queries(
        f'drop schema if exists "{name}" cascade', f'drop schema if exists "{name}_models" cascade'
    )


@pytest.fixture
def pipeline(tmp_path: t.Any, postgres: Postgres, schema: str) -> Pipeline:
    """`meltano run` into the test schema, with a system database (state) of its own."""
    return Pipeline(
        tmp_path,
        {
            "TARGET_POSTGRES_SQLALCHEMY_URL": postgres.sqlalchemy_url,
            "TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA": schema,
            # The scheduled jobs end with dbt-postgres:build (transform/).
            **postgres.dbt_env(source_schema=schema, schema=f"{schema}_models"),
        },
    )
