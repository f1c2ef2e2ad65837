"""Per-record cost of the candidate validators on a real cekat_messages record (formats on).

Run: .venv/bin/python benchmarks/validators.py
"""

from __future__ import annotations

import json
import platform
import timeit
from pathlib import Path

import jsonschema
import jsonschema_rs

SCHEMA = json.loads((Path(__file__).parents[1] / "schemas" / "cekat_messages.json").read_text())
RECORD = {
    "id": "0b6f5c1e-8a3d-4e21-9c55-3f1d2e4a7b90",
    "message": "Halo kak, pesanan saya sudah sampai? 🙏",
    "conversation_id": "c2a9e7f0-1111-4a2b-8c3d-222222222222",
    "sent_by": "62812345678",
    "sent_by_name": "Budi",
    "sent_by_type": "user",
    "media_type": "text",
    "media_url": None,
    "status": "read",
    "is_template": False,
    "created_at": "2026-04-10T09:24:23.000000+00:00",
    "updated_at": "2026-04-10T09:30:01.000000+00:00",
    "additional_data": {"is_private_note": False, "snooze_date": None},
    "contact": {"id": "ct-1", "type": "whatsapp", "display_name": "Budi", "phone_number": "628"},
    "inbox": {"id": "in-1", "name": "Sales", "type": "whatsapp", "phone_number": "628"},
}


def candidates() -> dict[str, object]:
    """Each validator's per-record check, compiled once as the tap would."""
    draft7 = jsonschema.Draft7Validator(SCHEMA, format_checker=jsonschema.FormatChecker())
    found = {"jsonschema Draft7 + FormatChecker": draft7.is_valid}
    try:
        import fastjsonschema

        found["fastjsonschema (compiled)"] = fastjsonschema.compile(SCHEMA)
    except ImportError:
        pass
    found["jsonschema-rs (validate_formats)"] = jsonschema_rs.validator_for(
        SCHEMA, validate_formats=True
    ).is_valid
    return found


def main() -> None:
    """Print microseconds per record, best of five rounds."""
    print(f"python {platform.python_version()} on {platform.machine()}")
    for name, check in candidates().items():
        check(RECORD)  # type: ignore[operator]
        rounds = timeit.repeat(lambda c=check: c(RECORD), number=20_000, repeat=5)  # type: ignore[misc]
        print(f"{name:38s} {min(rounds) / 20_000 * 1e6:8.2f} µs/record")


if __name__ == "__main__":
    main()
