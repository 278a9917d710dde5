"""Row validation with msgspec: typed structs built from the field lists in exchange_log.

msgspec checks types in C while it decodes (a JSON line) or converts (an adapter's dict),
and says where a row is wrong ("Expected `int | null`, got `str` - at `$.asn`"), so every
input path shares one validator and the quarantine gets a precise reason. Unknown keys are
ignored; a bool is never taken for an integer.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec

from distillguard.schema.exchange_log import (
    ACCOUNT_FIELDS,
    EXCHANGE_FIELDS,
    LABEL_FIELDS,
    BlockType,
    Field,
    Role,
)

Row = dict[str, Any]

NON_EMPTY_FIELDS = frozenset({"request_id", "account_id"})
# Counts and durations: a negative one is a broken log, not a value to score. (Not
# thinking_budget: some APIs send -1 for "as much as needed".)
NON_NEGATIVE_FIELDS = frozenset(
    {"max_tokens", "input_tokens", "output_tokens", "reasoning_tokens", "latency_ms"}
)


class RowError(ValueError):
    """Why a row cannot be kept; the message goes to the quarantine file."""


class Block(msgspec.Struct, frozen=True):
    type: BlockType
    text: str | None = None
    name: str | None = None
    media_type: str | None = None


class Message(msgspec.Struct, frozen=True):
    role: Role
    content: str | list[Block] | None = None


# The lake stores integers as int64; a larger one (an asn of 2**70) is a bad row, not a crash.
# What the lake's int64 columns hold (the gateway logs only such counts, apis.py).
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
INT64 = Annotated[int, msgspec.Meta(ge=INT64_MIN, le=INT64_MAX)]

_PYTHON_TYPES: dict[str, Any] = {
    "string": str,
    "int": INT64,
    "float": float,
    "bool": bool,
    "timestamp": datetime,
    "string_list": list[str],
    "messages": Annotated[list[Message], msgspec.Meta(min_length=1)],
}


NESTED_TOO_DEEP = "JSON nested deeper than the decoder allows"


def _struct(name: str, fields: tuple[Field, ...]) -> type[msgspec.Struct]:
    """A msgspec struct type for one table; required fields first, as Python demands."""
    specs: list[tuple[str, Any] | tuple[str, Any, Any]] = []
    for field in sorted(fields, key=lambda f: not f.required):
        kind = _PYTHON_TYPES[field.kind]
        if field.name in NON_EMPTY_FIELDS:
            kind = Annotated[str, msgspec.Meta(min_length=1)]
        if field.name in NON_NEGATIVE_FIELDS:
            kind = Annotated[int, msgspec.Meta(ge=0, le=INT64_MAX)]
        specs.append((field.name, kind) if field.required else (field.name, kind | None, None))
    return msgspec.defstruct(name, specs, frozen=True)


ExchangeRow = _struct("ExchangeRow", EXCHANGE_FIELDS)
AccountRow = _struct("AccountRow", ACCOUNT_FIELDS)
LabelRow = _struct("LabelRow", LABEL_FIELDS)

_TIMESTAMP_FIELDS = {
    ExchangeRow: ("ts",),
    AccountRow: ("created_at",),
    LabelRow: (),
}
_DECODERS = {kind: msgspec.json.Decoder(kind) for kind in _TIMESTAMP_FIELDS}


def _checked(row: Any) -> Any:
    for name in _TIMESTAMP_FIELDS[type(row)]:
        value = getattr(row, name)
        if value is not None and value.tzinfo is None:
            raise RowError(f"field {name!r}: timestamp has no time zone")
    return row


def _convert(value: Any, kind: type[msgspec.Struct]) -> Any:
    if not isinstance(value, dict):
        raise RowError(f"row is a JSON {type(value).__name__}, not an object")
    try:
        return _checked(msgspec.convert(value, kind))
    except msgspec.ValidationError as exc:
        raise RowError(str(exc)) from None
    except RecursionError:
        raise RowError(NESTED_TOO_DEEP) from None


def decode_exchange(line: bytes) -> Any:
    """An ExchangeRow from one JSON line, or RowError saying why not."""
    try:
        return _checked(_DECODERS[ExchangeRow].decode(line))
    except msgspec.ValidationError as exc:
        raise RowError(str(exc)) from None
    except msgspec.DecodeError as exc:
        raise RowError(f"invalid JSON: {exc}") from None
    except UnicodeDecodeError as exc:
        raise RowError(f"not UTF-8 text: {exc}") from None
    except RecursionError:  # a client controls how deep a tool call's input nests
        raise RowError(NESTED_TOO_DEEP) from None


def validate_exchange(row: Any) -> Any:
    """An ExchangeRow from a dict (an adapter's output or a Parquet row), or RowError."""
    return _convert(row, ExchangeRow)


def validate_account(row: Any) -> Any:
    """An AccountRow from a dict, or RowError."""
    return _convert(row, AccountRow)


def validate_label(row: Any) -> Any:
    """A LabelRow from a dict, or RowError."""
    return _convert(row, LabelRow)
