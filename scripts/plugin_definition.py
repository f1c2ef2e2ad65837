"""The tap's Meltano plugin definition, written from `tap-messages --about`: what a user copies.

`python scripts/plugin_definition.py > meltano-plugin.yml` regenerates it; a test
(tests/test_meltano_plugin.py) checks that it and meltano.yml still say what --about says.
"""

from __future__ import annotations

import json
import subprocess
import sys
import typing as t

import yaml

PIP_URL = "git+https://github.com/tap-messages/tap-messages.git"
# Meltano 4.4 casts a `decimal` setting given by environment variable to Decimal, then fails to
# write it to the tap's config ("Object of type Decimal is not JSON serializable"): the tap's
# number settings (seconds) are offered to Meltano as whole numbers.
KINDS = {"string": "string", "integer": "integer", "number": "integer", "boolean": "boolean"}
KINDS |= {"array": "array", "object": "object"}


def about() -> dict[str, t.Any]:
    """The tap's --about, as JSON."""
    done = subprocess.run(
        [sys.executable, "-m", "tap_messages.tap", "--about", "--format=json"],
        capture_output=True,
        text=True,
        check=True,
    )
    return t.cast("dict[str, t.Any]", json.loads(done.stdout))


def setting(name: str, node: dict[str, t.Any]) -> dict[str, t.Any]:
    """One Meltano setting from its JSON Schema."""
    kinds = [k for k in node.get("type", []) if k != "null"]
    entry: dict[str, t.Any] = {"name": name, "kind": KINDS[kinds[0]] if kinds else "string"}
    if node.get("format") == "date-time":
        entry["kind"] = "date_iso8601"
    if node.get("enum"):
        entry["kind"] = "options"
        entry["options"] = [{"label": str(v).title(), "value": v} for v in node["enum"]]
    if node.get("secret"):
        entry["sensitive"] = True
    if "default" in node:
        entry["value"] = node["default"]
    entry["description"] = " ".join(str(node.get("description") or name).split())
    return entry


def settings(schema: dict[str, t.Any]) -> list[dict[str, t.Any]]:
    """Every setting, the vendors' blocks as dotted names (as Meltano nests them)."""
    found = []
    for name, node in schema["properties"].items():
        if name in {"cekat", "convotic"}:
            found += [setting(f"{name}.{sub}", n) for sub, n in node["properties"].items()]
        else:
            found.append(setting(name, node))
    return found


def definition(pip_url: str = PIP_URL) -> dict[str, t.Any]:
    """The extractor's definition, as a user pastes it under `plugins: extractors:`."""
    info = about()
    return {
        "name": "tap-messages",
        "namespace": "tap_messages",
        "label": "Chat messages (Cekat, Convotic)",
        "description": info["description"],
        "pip_url": pip_url,
        "executable": "tap-messages",
        "capabilities": info["capabilities"],
        "settings": settings(info["settings"]),
    }


if __name__ == "__main__":
    print(
        "# tap-messages for your own Meltano project: paste this under `plugins: extractors:`.\n"
        "# pip_url may also name a local clone (pip_url: /path/to/tap-messages). Written by\n"
        "# scripts/plugin_definition.py from `tap-messages --about`; see docs/warehouse.md.\n"
        "# Loading with target-postgres? Give the loader `env: {PGTZ: UTC}`: its timestamp\n"
        "# columns have no time zone, and a session in another zone would shift every time.\n"
        + yaml.safe_dump([definition()], sort_keys=False, allow_unicode=True, width=100)
    )
