"""What every log adapter is, and the field mapping that says where metadata lives.

An adapter turns one raw record of some real log shape into zero or more exchange-log v1
rows. It does not validate: the rows it yields go through the same validator as native rows,
so every adapter gets the same quarantine behaviour for free.
"""

from __future__ import annotations

import abc
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import yaml

from distillguard.errors import ConfigError
from distillguard.schema.exchange_log import EXCHANGE_FIELDS
from distillguard.schema.validate import Row, RowError
from distillguard.unique_yaml import load_unique

Paths = tuple[str, ...]


def lookup(obj: Any, path: str) -> Any:
    """The value at a dotted path. An exact key wins, so flat attribute keys such as
    'gen_ai.request.model' are found as they are."""
    if not isinstance(obj, Mapping):
        return None
    if path in obj:
        return obj[path]
    for i, char in enumerate(path):
        if char == "." and path[:i] in obj:
            found = lookup(obj[path[:i]], path[i + 1 :])
            if found is not None:
                return found
    return None


def first_of(obj: Any, paths: Paths) -> Any:
    """The first non-null value among several candidate paths; an empty string only when
    no later path has more (LiteLLM's `model_group: ""` was kept as the model, where its
    `model` named it)."""
    empty = None
    for path in paths:
        value = lookup(obj, path)
        if isinstance(value, str) and not value:
            empty = value
        elif value is not None:
            return value
    return empty


def holder(obj: Any, paths: Paths) -> str | None:
    """The path `first_of` takes its value from, quoted; None where none holds one."""
    empty = None
    for path in paths:
        value = lookup(obj, path)
        if isinstance(value, str) and not value:
            empty = empty or f"`{path}`"
        elif value is not None:
            return f"`{path}`"
    return empty


def epoch_or_text_timestamp(value: Any) -> Any:
    """Epoch seconds (or ms/us/ns, told apart by size) as a UTC datetime; text passes through."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    seconds = float(value)
    while seconds > 1e11:  # milliseconds, microseconds or nanoseconds since the epoch
        seconds /= 1000.0
    return datetime.fromtimestamp(seconds, tz=UTC)


@dataclass(frozen=True)
class FieldMapping:
    """Where each exchange-log field lives in a record (candidate dotted paths, first hit wins),
    plus constant defaults for fields the log does not carry (such as access_path)."""

    paths: Mapping[str, Paths]
    defaults: Mapping[str, Any] = field(default_factory=dict)

    def get(self, record: Any, name: str) -> Any:
        value = first_of(record, self.paths.get(name, ()))
        return self.defaults.get(name) if value is None else value

    def merged(self, override: FieldMapping | None) -> FieldMapping:
        if override is None:
            return self
        return FieldMapping(
            {**self.paths, **override.paths}, {**self.defaults, **override.defaults}
        )


def read_mapping(path: Path) -> FieldMapping:
    """A mapping config: YAML with `fields: {name: path or [paths]}` and optional `defaults`
    (the names are checked against the adapters by `registry.load_mapping`)."""
    if path.is_dir():
        raise ConfigError(f"mapping {path} is a folder: give the mapping's YAML file")
    try:
        doc = load_unique(path.read_text(encoding="utf-8-sig"))  # a field mapped twice: refused
    except OSError as exc:  # its strerror: "No such file or directory", not "[Errno 2] ..."
        raise ConfigError(f"cannot read mapping {path}: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read mapping {path}: {exc}") from None
    if not isinstance(doc, dict):
        raise ConfigError(f"mapping {path}: expected a YAML mapping with 'fields' and 'defaults'")
    unknown = set(doc) - {"fields", "defaults"}
    if unknown:
        raise ConfigError(
            f"mapping {path}: unknown keys {sorted(unknown)}; valid: defaults, fields"
        )
    fields_doc = doc.get("fields") or {}
    defaults = doc.get("defaults") or {}
    if not isinstance(fields_doc, dict) or not isinstance(defaults, dict):
        raise ConfigError(f"mapping {path}: 'fields' and 'defaults' must be mappings")
    paths: dict[str, Paths] = {}
    for name, spec in fields_doc.items():
        candidates = [spec] if isinstance(spec, str) else spec
        if not isinstance(candidates, list) or not all(isinstance(c, str) for c in candidates):
            raise ConfigError(f"mapping {path}: field {name!r} needs a path or a list of paths")
        paths[str(name)] = tuple(candidates)
    return FieldMapping(paths, defaults)


class Adapter(abc.ABC):
    """Turns records of one log shape into exchange-log v1 rows."""

    name: str
    description: str
    default_mapping: FieldMapping = FieldMapping({})
    # whether mapping paths start at the record (False: at each exchange inside it, as an
    # OTLP export's spans, which the adapter applies the mapping to itself)
    paths_from_record = True
    # Fields the adapter reads from a request or response body, in the log's own words, so
    # a quarantine reason can say where a bad value came from.
    body_fields: ClassVar[Mapping[str, str]] = {}

    def __init__(self, mapping: FieldMapping | None = None) -> None:
        self.mapping = self.default_mapping.merged(mapping)
        self.given = mapping  # the user's --mapping: what it names wins

    def rows(self, record: Any) -> Iterator[Row | RowError]:
        """`convert`'s rows with what the user's --mapping names: a mapped path that finds
        a value replaces what the adapter read, a default fills a field left empty. The
        pair-log adapters read model, system and token counts from their bodies, so a
        mapping naming them was accepted and never applied."""
        given = self.given if self.paths_from_record else None
        for row in self.convert(record):
            yield row if isinstance(row, RowError) or given is None else _with(given, record, row)

    def source_of(self, name: str, record: Any) -> str | None:
        """Where this record's exchange field `name` was read, in the log's words, in the
        order rows() takes them: the user's --mapping path, a body field, a mapping path,
        the mapping's default, or the paths tried where none held a value; None where the
        adapter does not say (an OTLP export's spans map their own attributes)."""
        if not self.paths_from_record:
            return None
        given = self.given.paths.get(name, ()) if self.given else ()
        paths = self.mapping.paths.get(name, ())  # the user's, where --mapping names it
        found = (  # rows() applies the user's paths to the record as it came (_with)
            holder(record, given)
            or self.body_fields.get(name)
            or holder(self.located(record), paths)
        )
        if found:
            return found
        if name in self.mapping.defaults:
            return f"the field mapping's default, {self.mapping.defaults[name]!r}"
        tried = ", ".join(f"`{p}`" for p in paths)
        return f"none of {tried} has a value" if tried else None

    def located(self, record: Any) -> Any:
        """The record as the mapping's paths read it (an adapter that decodes JSON text
        columns first says so here)."""
        return record

    @abc.abstractmethod
    def matches(self, record: Any) -> bool:
        """Whether a record looks like this adapter's shape (used by --format auto)."""

    @abc.abstractmethod
    def convert(self, record: Any) -> Iterator[Row | RowError]:
        """Exchange-log rows from one record; RowError if the record cannot be converted.
        A record of many exchanges (an OTLP export) yields a RowError in the place of one
        it cannot read, so the others are kept and that one alone is quarantined."""

    def account(self, record: Any) -> Row | None:
        """An accounts-table row the record declares (say, the account's organisation), or
        None. Ingest adds it to the accounts table without overwriting what is there."""
        return None

    def require_object(self, record: Any) -> Mapping[str, Any]:
        if not isinstance(record, Mapping):
            raise RowError(f"{self.name}: record is a JSON {type(record).__name__}, not an object")
        return record


_EXCHANGE_NAMES = frozenset(f.name for f in EXCHANGE_FIELDS)


def _with(given: FieldMapping, record: Any, row: Row) -> Row:
    for name, paths in given.paths.items():
        value = first_of(record, paths) if name in _EXCHANGE_NAMES else None
        if value is not None:
            row[name] = epoch_or_text_timestamp(value) if name == "ts" else value
    for name, value in given.defaults.items():
        if name in _EXCHANGE_NAMES and row.get(name) is None:
            row[name] = value
    return row
