"""Exchange-log v1: the tables distillguard reads natively, as Arrow schemas and validators."""

from distillguard.schema.exchange_log import (
    ACCOUNT_FIELDS,
    ACCOUNTS_SCHEMA,
    EXCHANGE_FIELDS,
    EXCHANGES_SCHEMA,
    LABEL_FIELDS,
    LABELS_SCHEMA,
    Field,
)
from distillguard.schema.validate import (
    RowError,
    decode_exchange,
    validate_account,
    validate_exchange,
    validate_label,
)

__all__ = [
    "ACCOUNTS_SCHEMA",
    "ACCOUNT_FIELDS",
    "EXCHANGES_SCHEMA",
    "EXCHANGE_FIELDS",
    "LABELS_SCHEMA",
    "LABEL_FIELDS",
    "Field",
    "RowError",
    "decode_exchange",
    "validate_account",
    "validate_exchange",
    "validate_label",
]
