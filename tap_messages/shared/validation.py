"""Schema validation of every record in the tap, with a compiled validator (jsonschema-rs)."""

from __future__ import annotations

import logging
import typing as t
from importlib.resources import files

import jsonschema_rs

SCHEMAS = files("tap_messages.schemas")  # top-level schemas/, installed inside the package


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


class UndeclaredFields:
    """Schema drift: fields reported once per run and left out, so RECORDs match their SCHEMA."""

    def __init__(self, stream: str, schema: dict[str, t.Any], logger: logging.Logger) -> None:
        """Know the declared fields at every level of the schema that declares them."""
        self.stream, self.schema, self.logger = stream, schema, logger
        self.reported: set[str] = set()

    def leave_out(self, record: dict[str, t.Any], schema: t.Any = None, where: str = "") -> None:
        """Remove undeclared fields from the record (and its nested objects), in place."""
        properties = (schema or self.schema).get("properties")
        if not properties:
            return
        for name in record.keys() - properties.keys():
            path = f"{where}{name}"
            if path not in self.reported:
                self.reported.add(path)
                self.logger.warning(
                    "%s: the vendor sends a field %r (for example %s) that the schema does not "
                    "declare; it is left out of the records. Ask for a tap-messages release that "
                    "declares it.",
                    self.stream,
                    path,
                    type(record[name]).__name__,
                )
            del record[name]
        for name, value in record.items():
            if isinstance(value, dict) and isinstance(properties.get(name), dict):
                self.leave_out(value, properties[name], f"{where}{name}.")


class RecordCheck:
    """A stream's check of each record: undeclared fields left out, then the schema's verdict."""

    def __init__(self, stream: str, schema: dict[str, t.Any], logger: logging.Logger) -> None:
        """Compile the schema once for the run."""
        self.validator = RecordValidator(schema)
        self.undeclared = UndeclaredFields(stream, schema, logger)

    def problems(self, record: dict[str, t.Any]) -> list[str]:
        """What is wrong with the record (empty when it is valid); undeclared fields are dropped."""
        self.undeclared.leave_out(record)
        return [] if self.validator.is_valid(record) else self.validator.errors(record)
