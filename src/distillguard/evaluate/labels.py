"""Checks on a labels table before any metric is computed from it.

Labels from another run, or with a value evaluate does not know, would give well-formed
metrics that mean nothing (recall 0.000 against an unrelated population) and overwrite the
last good metrics files; so they are refused with one line, before anything is written.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import duckdb
import orjson

from distillguard.errors import UserError
from distillguard.ingest.lake import fetch_one, sql_path

LABEL_VALUES = ("attack", "benign")
REQUIRED_COLUMNS = ("account_id", "label", "campaign", "population")
# What `simulate --out DIR` names its labels, by --format: a folder is searched for these.
LABEL_FILES = ("labels.parquet", "labels.jsonl.gz", "labels.jsonl")
TEXT_COLUMNS = ("account_id", "campaign", "population")  # read as text, whatever their type


def labels_file(path: Path) -> Path:
    """The labels file `path` names: itself, or in a folder the first of LABEL_FILES."""
    if path.is_dir():
        found = [path / name for name in LABEL_FILES if (path / name).exists()]
        if not found:
            raise UserError(f"labels not found in {path} (looked for {', '.join(LABEL_FILES)})")
        path = found[0]
    if not path.exists():
        raise UserError(f"labels not found: {path}")
    return path


def create_labels_view(con: duckdb.DuckDBPyConnection, labels: Path) -> None:
    """The view `labels` over the labels file `labels` names, with its ids and group names
    as text: a spreadsheet or a JSON writer gives numeric account ids as numbers, and
    comparing them with the run's text ids raised a conversion error. A file that cannot
    be read, lacks the needed columns, or whose labels are not text (true/false), is
    refused in one line."""
    file = labels_file(labels)
    reader = "read_json_auto" if ".jsonl" in file.name else "read_parquet"
    try:
        con.execute(f"CREATE VIEW labels_read AS SELECT * FROM {reader}('{sql_path(file)}')")
        described = con.execute("SELECT column_name, column_type FROM (DESCRIBE labels_read)")
        types = {str(name): str(kind) for name, kind in described.fetchall()}
    except duckdb.Error as exc:
        raise UserError(f"cannot read labels {labels}: {_why(exc, file)}") from None
    missing = [c for c in REQUIRED_COLUMNS if c not in types]
    if missing:
        raise UserError(f"labels {labels} lack the column(s) {', '.join(missing)}")
    if types["label"] != "VARCHAR":
        raise UserError(
            f"labels {labels} hold {types['label']} labels: each must be the text"
            f" {' or '.join(LABEL_VALUES)}"
        )
    as_text = ", ".join(f"CAST({c} AS VARCHAR) AS {c}" for c in TEXT_COLUMNS)
    con.execute(f"CREATE VIEW labels AS SELECT * REPLACE ({as_text}) FROM labels_read")


def _why(exc: duckdb.Error, file: Path) -> str:
    """DuckDB's complaint, or for JSON Lines the first line that is not JSON: DuckDB's
    own count named the line after it when the file had no final newline."""
    said = str(exc).splitlines()[0]
    if ".jsonl" not in file.name or "Malformed JSON" not in said:
        return said
    opener = gzip.open if file.name.endswith(".gz") else open
    with opener(file, "rb") as lines:
        for number, line in enumerate(lines, 1):
            try:
                if line.strip():  # DuckDB passes over blank lines
                    orjson.loads(line)
            except orjson.JSONDecodeError:
                return f"line {number} is not JSON (one object per line is wanted)"
    return said


def check_labels(con: duckdb.DuckDBPyConnection, labels: Path) -> None:
    """Refuse labels with unknown values, naming an account twice, with an attack of no
    campaign or a benign account of no population, or sharing no account with the run
    (views `labels`, from create_labels_view, and `results` must exist)."""
    known = ", ".join(f"'{v}'" for v in LABEL_VALUES)
    unknown = [
        str(value)
        for (value,) in con.execute(
            f"SELECT DISTINCT label FROM labels WHERE label IS NULL OR label NOT IN ({known})"
            " ORDER BY 1 LIMIT 5"
        ).fetchall()
    ]
    if unknown:
        raise UserError(
            f"labels {labels} hold unknown label value(s) {', '.join(unknown)}:"
            f" expected {' or '.join(LABEL_VALUES)}"
        )
    _check_one_row_each(con, labels)
    shared, labelled, run = fetch_one(
        con,
        "SELECT (SELECT count(*) FROM results r SEMI JOIN labels l USING (account_id)),"
        " (SELECT count(DISTINCT account_id) FROM labels), (SELECT count(*) FROM results)",
    )
    if not shared:
        raise UserError(
            f"labels {labels} share no account with this run ({labelled:,} labelled accounts,"
            f" {run:,} in the run): were they made for another traffic set?"
        )


def _check_one_row_each(con: duckdb.DuckDBPyConnection, labels: Path) -> None:
    """An account named twice would be counted twice (in both classes if its labels
    differ), and a group of no name would be reported as 'None': both are refused."""
    twice = con.execute(
        "SELECT account_id, count(*) OVER () FROM labels GROUP BY 1 HAVING count(*) > 1"
        " ORDER BY 1 LIMIT 3"
    ).fetchall()
    if twice:
        named = ", ".join(str(a) for a, _ in twice)
        raise UserError(
            f"labels {labels} name {twice[0][1]:,} account(s) more than once (e.g. {named}):"
            " give one row per account"
        )
    unnamed, nameless = fetch_one(
        con,
        "SELECT count(*) FILTER (label = 'attack' AND campaign IS NULL),"
        " count(*) FILTER (label = 'benign' AND population IS NULL) FROM labels",
    )
    if unnamed or nameless:
        raise UserError(
            f"labels {labels} hold {unnamed:,} attack row(s) without a campaign and"
            f" {nameless:,} benign row(s) without a population: name each one's group"
        )
