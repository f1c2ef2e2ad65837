"""Run `meltano run` against the local imitations and read what landed in the warehouse.

Each `Pipeline` has its own Meltano system database (so its own state) in a temporary directory,
and talks to the project's real `meltano.yml`: the tests check the shipped configuration.
"""

from __future__ import annotations

import json
import os
import subprocess
import typing as t
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from imitations import ImitationServer

ROOT = Path(__file__).resolve().parents[1]
MELTANO = ROOT / ".venv-meltano" / "bin" / "meltano"
PG_PYTHON = ROOT / ".meltano" / "loaders" / "target-postgres" / "venv" / "bin" / "python"
DUCKDB_PYTHON = ROOT / ".meltano" / "loaders" / "target-duckdb" / "venv" / "bin" / "python"
PG_ENV = "TAP_MESSAGES_TEST_PG"
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"
STATE_ID = "dev:tap-messages-to-target-postgres"
_OWN_PREFIXES = ("TAP_MESSAGES_", "TARGET_POSTGRES_", "TARGET_DUCKDB_", "MELTANO_", "DBT_")

_PG_QUERY = """
import json, sys
import psycopg
url, queries = sys.argv[1], json.load(sys.stdin)
out = []
with psycopg.connect(url, connect_timeout=5, autocommit=True) as conn:
    for sql in queries:
        cur = conn.execute(sql)
        out.append([list(row) for row in cur.fetchall()] if cur.description else None)
json.dump(out, sys.stdout, default=str)
"""

_DUCKDB_QUERY = """
import json, sys
import duckdb
db = duckdb.connect(sys.argv[1], read_only=True)
out = [[list(row) for row in db.execute(sql).fetchall()] for sql in json.load(sys.stdin)]
json.dump({"duckdb": duckdb.__version__, "results": out}, sys.stdout, default=str)
"""


def tap_env(server: ImitationServer) -> dict[str, str]:
    """The tap's settings, as Meltano reads them from the environment, for an imitation."""
    env = {}
    if server.cekat is not None:
        env["TAP_MESSAGES_CEKAT_API_KEY"] = server.cekat.api_key
        env["TAP_MESSAGES_CEKAT_BASE_URL"] = server.base_url
    if server.convotic is not None:
        env["TAP_MESSAGES_CONVOTIC_API_KEY"] = server.convotic.api_key
        env["TAP_MESSAGES_CONVOTIC_BASE_URL"] = server.base_url
        ids = server.convotic.conversation_ids()
        env["TAP_MESSAGES_CONVOTIC_CONVERSATION_IDS"] = json.dumps(ids)
    return env


def own_system_dir(workdir: Path) -> dict[str, str]:
    """Meltano's system directory for one test: installed plugins shared, run files its own.

    Meltano writes each plugin's config, catalog and state under `.meltano/run`, and dbt its
    compiled project and logs under `transform/`; tests running at once (pytest -n) in one project
    would overwrite each other's there.
    """
    sys_dir = workdir / "meltano-system"
    sys_dir.mkdir(parents=True, exist_ok=True)
    for kind in ("extractors", "loaders", "utilities"):
        if not (sys_dir / kind).exists():
            (sys_dir / kind).symlink_to(ROOT / ".meltano" / kind, target_is_directory=True)
    return {
        "MELTANO_SYS_DIR_ROOT": str(sys_dir),
        "DBT_TARGET_PATH": str(workdir / "dbt-target"),
        "DBT_LOG_PATH": str(workdir / "dbt-logs"),
    }


def _tail(text: str, lines: int = 40, chars: int = 6000) -> str:
    """The end of a log, short enough to read in a failure message."""
    return "\n".join(line[:400] for line in text.splitlines()[-lines:])[-chars:]


class Postgres:
    """A PostgreSQL database named by a libpq URL, queried through the loader's own psycopg."""

    def __init__(self, url: str) -> None:
        self.url = url

    @property
    def sqlalchemy_url(self) -> str:
        """The same database as target-postgres wants it (psycopg 3 driver)."""
        scheme, rest = self.url.split("://", 1)
        if scheme in {"postgres", "postgresql"}:
            scheme = "postgresql+psycopg"
        return f"{scheme}://{rest}"

    def dbt_env(self, source_schema: str, schema: str) -> dict[str, str]:
        """The dbt-postgres utility's settings: this database, raw tables and models' schemas."""
        parts = urlsplit(self.url)
        return {
            "DBT_POSTGRES_HOST": parts.hostname or "127.0.0.1",
            "DBT_POSTGRES_PORT": str(parts.port or 5432),
            "DBT_POSTGRES_USER": parts.username or "postgres",
            "DBT_POSTGRES_PASSWORD": parts.password or "",
            "DBT_POSTGRES_DBNAME": parts.path.lstrip("/") or "postgres",
            "DBT_POSTGRES_SOURCE_SCHEMA": source_schema,
            "DBT_POSTGRES_SCHEMA": schema,
        }

    @property
    def display(self) -> str:
        """The URL without its password."""
        parts = urlsplit(self.url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
        user = f"{parts.username}@" if parts.username else ""
        return f"{parts.scheme}://{user}{host}{port}{parts.path}"

    def queries(self, *sql: str) -> list[t.Any]:
        """Run statements in one connection; each SELECT gives a list of rows (lists)."""
        done = subprocess.run(
            [str(PG_PYTHON), "-c", _PG_QUERY, self.url],
            input=json.dumps(list(sql)),
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        if done.returncode:
            raise RuntimeError(f"query failed on {self.display}:\n{_tail(done.stderr, 5)}")
        return t.cast("list[t.Any]", json.loads(done.stdout))

    def rows(self, sql: str) -> list[list[t.Any]]:
        """Rows of one query."""
        return t.cast("list[list[t.Any]]", self.queries(sql)[0])

    def value(self, sql: str) -> t.Any:
        """The single value of a one-row, one-column query."""
        return self.rows(sql)[0][0]

    def unreachable(self) -> str | None:
        """None when the database answers; otherwise why not, and how to provide one."""
        if not (MELTANO.exists() and PG_PYTHON.exists()):
            return "Meltano and its plugins are not installed: run `make setup`."
        try:
            self.value("select 1")
        except (RuntimeError, subprocess.TimeoutExpired) as exc:
            return (
                f"No PostgreSQL at {self.display} ({str(exc).splitlines()[-1].strip()}). Start one "
                f"(trust auth or a password in the URL) or point {PG_ENV} at one, e.g. "
                f"{PG_ENV}=postgresql://postgres@127.0.0.1:5432/test."
            )
        return None


def duckdb_queries(path: Path, *sql: str) -> tuple[str, list[t.Any]]:
    """The duckdb version target-duckdb runs with, and the rows of each query on `path`."""
    done = subprocess.run(
        [str(DUCKDB_PYTHON), "-c", _DUCKDB_QUERY, str(path)],
        input=json.dumps(list(sql)),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    answer = json.loads(done.stdout)
    return answer["duckdb"], answer["results"]


@dataclass
class Pipeline:
    """`meltano run` from the repository, with its own system database and environment."""

    workdir: Path
    env: dict[str, str] = field(default_factory=dict)
    runs: list[subprocess.CompletedProcess[str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        base = {k: v for k, v in os.environ.items() if not k.startswith(_OWN_PREFIXES)}
        self.env = {
            **base,
            "MELTANO_DATABASE_URI": f"sqlite:///{self.workdir / 'meltano.db'}",
            "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
            **own_system_dir(self.workdir),
            **self.env,
        }

    def meltano(
        self, *args: str, env: dict[str, str] | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """Run a meltano command in the repository; on failure show the end of its log."""
        done = subprocess.run(
            [str(MELTANO), *args],
            cwd=ROOT,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            check=False,
            timeout=900,
        )
        for name, value in {**self.env, **(env or {})}.items():
            if name.endswith("_API_KEY") and len(value) >= 6:
                assert value not in done.stdout + done.stderr, f"{name} leaked into the log"
        if check and done.returncode:
            raise AssertionError(
                f"meltano {' '.join(args)} exited {done.returncode}:\n{_tail(done.stderr)}"
            )
        return done

    def run(
        self, *blocks: str, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """`meltano run <blocks>` (default: tap-messages target-postgres), checked."""
        done = self.meltano("run", *(blocks or ("tap-messages", "target-postgres")), env=env)
        self.runs.append(done)
        return done

    def state(self, state_id: str = STATE_ID) -> dict[str, t.Any]:
        """The Singer state Meltano stored for `state_id`."""
        done = self.meltano("state", "get", state_id)
        return t.cast("dict[str, t.Any]", json.loads(done.stdout)["singer_state"])
