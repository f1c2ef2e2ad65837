"""Schema validation of every record in the tap, with a compiled validator (jsonschema-rs)."""

from __future__ import annotations

import typing as t

import jsonschema_rs


class RecordValidator:
    """Checks records against one stream's JSON schema, formats included."""

    def __init__(self, schema: dict[str, t.Any]) -> None:
        """Compile once; validation runs on every record."""
        self._validator = jsonschema_rs.validator_for(schema, validate_formats=True)
        self.is_valid: t.Callable[[t.Any], bool] = self._validator.is_valid

    def errors(self, record: t.Any) -> list[str]:
        """Describe each violation as 'path: message', the path pointing at the field."""
        return [
            f"{'/'.join(map(str, error.instance_path)) or '<record>'}: {error.message}"
            for error in self._validator.iter_errors(record)
        ]
