"""Streaming output: exchange tables are appended as they are made, so memory stays bounded.

Parquet (the default) or gzip JSON lines; gzip headers carry no time stamp, so the same seed
gives byte-identical files.
"""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from distillguard.errors import ConfigError

FORMATS = ("parquet", "jsonl")


def _json_default(value: Any) -> Any:
    raise TypeError(f"cannot serialise {type(value).__name__}")


class TableWriter:
    """Appends Arrow tables of one schema to DIR/NAME.parquet or DIR/NAME.jsonl.gz."""

    def __init__(self, directory: Path, name: str, schema: pa.Schema, fmt: str) -> None:
        if fmt not in FORMATS:
            raise ConfigError(f"unknown format {fmt!r}; valid names: {', '.join(FORMATS)}")
        self.schema = schema
        self.rows = 0
        self._parquet: pq.ParquetWriter | None = None
        self._jsonl: gzip.GzipFile | None = None
        if fmt == "parquet":
            self.path = directory / f"{name}.parquet"
            self._parquet = pq.ParquetWriter(self.path, schema, compression="zstd")
        else:
            self.path = directory / f"{name}.jsonl.gz"
            raw = self.path.open("wb")
            self._jsonl = gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="")
            self._raw = raw

    def write(self, table: pa.Table) -> None:
        self.rows += table.num_rows
        if self._parquet is not None:
            self._parquet.write_table(table.cast(self.schema), row_group_size=128_000)
            return
        if self._jsonl is not None:
            for row in table.to_pylist():
                self._jsonl.write(
                    orjson.dumps(row, default=_json_default, option=orjson.OPT_UTC_Z) + b"\n"
                )

    def close(self) -> None:
        if self._parquet is not None:
            self._parquet.close()
        if self._jsonl is not None:
            self._jsonl.close()
            self._raw.close()
