"""Schema validation of every record in the tap, with a compiled validator (jsonschema-rs)."""

from __future__ import annotations

import logging
import typing as t
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Declared:
    """The fields a schema declares at one level, and the levels below that declare theirs."""

    names: frozenset[str]
    nested: tuple[tuple[str, Declared], ...]

    @classmethod
    def of(cls, schema: t.Any) -> Declared | None:
        """None where the schema declares no properties (a free-form object)."""
        properties = schema.get("properties") if isinstance(schema, dict) else None
        if not properties:
            return None
        below = ((name, cls.of(node)) for name, node in properties.items())
        return cls(frozenset(properties), tuple((n, d) for n, d in below if d is not None))


class UndeclaredFields:
    """Schema drift: fields reported once per run and left out, so RECORDs match their SCHEMA."""

    def __init__(self, stream: str, schema: dict[str, t.Any], logger: logging.Logger) -> None:
        """Know the declared fields at every level of the schema that declares them."""
        self.stream, self.logger = stream, logger
        self.declared = Declared.of(schema)
        self.reported: set[str] = set()

    def leave_out(
        self, record: dict[str, t.Any], declared: Declared | None = None, where: str = ""
    ) -> None:
        """Remove undeclared fields from the record (and its nested objects), in place."""
        if (declared := declared or self.declared) is None:
            return
        if not record.keys() <= declared.names:  # the common case costs one set comparison
            for name in record.keys() - declared.names:
                self._report(f"{where}{name}", record.pop(name))
        for name, inner in declared.nested:
            value = record.get(name)
            if isinstance(value, dict) and (inner.nested or not value.keys() <= inner.names):
                self.leave_out(value, inner, f"{where}{name}.")

    def _report(self, path: str, value: t.Any) -> None:
        if path not in self.reported:
            self.reported.add(path)
            self.logger.warning(
                "%s: the vendor sends a field %r (for example %s) that the schema does not "
                "declare; it is left out of the records. Ask for a tap-messages release that "
                "declares it.",
                self.stream,
                path,
                type(value).__name__,
            )


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
