"""Meltano as a new user meets it: the README's command as written, and a copied plugin definition.

Needs the local PostgreSQL the README documents (127.0.0.1:5432, user postgres, trust auth);
with CI=true these tests fail rather than skip when it is missing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest
import yaml

from imitations import CekatData, ConvoticData
from tests.meltano_run import MELTANO, ROOT, Pipeline, Postgres, tap_env

sys.path.insert(0, str(ROOT / "scripts"))
from plugin_definition import definition

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
DOCUMENTED = Postgres("postgresql://postgres@127.0.0.1:5432/postgres")  # the README's dev target


@pytest.fixture(scope="module")
def documented_postgres() -> Postgres:
    problem = DOCUMENTED.unreachable()
    if problem is not None:
        if os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}:
            pytest.fail(f"CI=true and the PostgreSQL tests cannot run: {problem}")
        pytest.skip(problem)
    return DOCUMENTED


@pytest.fixture
def schema(documented_postgres: Postgres):
    name = f"tap_messages_readme_{uuid.uuid4().hex[:8]}"
    yield name
    documented_postgres.queries(f'drop schema if exists "{name}" cascade')


def test_the_plugin_definition_to_copy_and_meltano_yml_say_what_the_tap_says():
    shipped = yaml.safe_load((ROOT / "meltano-plugin.yml").read_text())
    assert shipped == [definition()], (
        "regenerate: python scripts/plugin_definition.py > meltano-plugin.yml"
    )
    project = yaml.safe_load((ROOT / "meltano.yml").read_text())
    ours = next(p for p in project["plugins"]["extractors"] if p["name"] == "tap-messages")
    assert ours == definition("-e ."), "meltano.yml defines the tap as meltano-plugin.yml does"
    about_settings = {s["name"] for s in ours["settings"]}
    assert {"stream_maps", "cekat.lookback", "convotic.api_key"} <= about_settings
    assert next(s for s in ours["settings"] if s["name"] == "stream_maps")["kind"] == "object"
    assert all(s.get("description") for s in ours["settings"]), "every setting is described"
    assert {"schema-flattening", "batch", "activate-version"} <= set(ours["capabilities"])


def test_the_readmes_meltano_run_loads_the_documented_local_postgres(
    serve, tmp_path, documented_postgres: Postgres, schema: str
):
    server = serve(
        cekat=CekatData(n_messages=300, seed=130),
        convotic=ConvoticData(n_conversations=2, messages_per_conversation=50, seed=130),
    )
    pipeline = Pipeline(
        tmp_path, {**tap_env(server), "TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA": schema}
    )
    pipeline.run()  # exactly `meltano run tap-messages target-postgres`, in the dev environment
    assert documented_postgres.value(f'select count(*) from "{schema}".cekat_messages') == 300
    assert documented_postgres.value(f'select count(*) from "{schema}".convotic_messages') == 100


def new_project(where: Path, tap: dict, postgres: Postgres, schema: str) -> Path:
    """A brand-new Meltano project holding the copied tap definition and two loaders."""
    project = {
        "version": 1,
        "send_anonymous_usage_stats": False,
        "project_id": str(uuid.uuid4()),
        "default_environment": "dev",
        "environments": [{"name": "dev"}],
        "plugins": {
            "extractors": [tap],
            "loaders": [
                {
                    "name": "target-jsonl",
                    "namespace": "target_jsonl",
                    "pip_url": "target-jsonl==0.1.4",
                    "executable": "target-jsonl",
                    "settings": [{"name": "destination_path"}],
                    "config": {"destination_path": str(where / "out")},
                },
                {
                    "name": "target-postgres",
                    "namespace": "target_postgres",
                    "pip_url": "meltanolabs-target-postgres==0.8.1",
                    "executable": "target-postgres",
                    "settings": [
                        {"name": "sqlalchemy_url", "sensitive": True},
                        {"name": "default_target_schema"},
                    ],
                    "config": {
                        "sqlalchemy_url": postgres.sqlalchemy_url,
                        "default_target_schema": schema,
                    },
                },
            ],
        },
    }
    (where / "out").mkdir(parents=True)
    (where / "meltano.yml").write_text(yaml.safe_dump(project, sort_keys=False))
    return where


def test_a_new_meltano_project_with_only_the_copied_definition_runs_into_jsonl_and_postgres(
    serve, tmp_path, documented_postgres: Postgres, schema: str
):
    tap = yaml.safe_load((ROOT / "meltano-plugin.yml").read_text())[0]
    tap["pip_url"] = str(ROOT)  # the definition's git URL, here this clone (as its comment says)
    project = new_project(tmp_path / "project", tap, documented_postgres, schema)
    server = serve(cekat=CekatData(n_messages=250, seed=131))
    env = {
        **{
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("TAP_MESSAGES_", "MELTANO_", "TARGET_"))
        },
        **tap_env(server),
        "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
    }

    def meltano(*args: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [str(MELTANO), *args],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=900,
        )
        assert done.returncode == 0, textwrap.shorten(done.stderr[-3000:], 3000)
        assert server.cekat.api_key not in done.stdout + done.stderr
        return done

    meltano("install")
    done = meltano("run", "tap-messages", "target-jsonl")  # target-jsonl ignores ACTIVATE_VERSION
    assert "cekat_messages: read whole, ACTIVATE_VERSION" in done.stderr
    [written] = (project / "out").glob("cekat_messages*.jsonl")  # target-jsonl adds a timestamp
    lines = written.read_text().splitlines()
    assert len({json.loads(line)["id"] for line in lines}) == 250
    meltano("run", "tap-messages", "target-postgres")
    assert documented_postgres.value(f'select count(*) from "{schema}".cekat_messages') == 250


def test_number_settings_given_through_the_environment_reach_the_tap(serve, tmp_path):
    """Meltano 4.4 cannot write a `decimal` setting from the environment; ours are integers."""
    server = serve(cekat=CekatData(n_messages=5, seed=131))
    pipeline = Pipeline(
        tmp_path,
        {
            **tap_env(server),
            "TAP_MESSAGES_MAX_RETRY_WAIT": "7",
            "TAP_MESSAGES_RATE_LIMIT_WINDOW": "30",
        },
    )
    listed = pipeline.meltano("config", "list", "tap-messages").stdout
    assert "current value: 7 (from the TAP_MESSAGES_MAX_RETRY_WAIT variable" in listed
    done = pipeline.meltano("invoke", "tap-messages", "--discover")
    assert "cekat_messages" in {s["tap_stream_id"] for s in json.loads(done.stdout)["streams"]}
