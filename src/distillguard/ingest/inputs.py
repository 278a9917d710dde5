"""Which files an ingest reads: given files as they are, folders walked, and what is
skipped with why (other kinds, JSON documents, lakes, a simulation's accounts and labels)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import orjson

from distillguard.errors import UserError
from distillguard.ingest.lake import Lake
from distillguard.ingest.sources import first_line, is_supported


def is_json_document(path: Path) -> bool:
    """A .json file whose first line is not a JSON value of its own: a pretty-printed
    document (or a JSON array of records), not JSON Lines."""
    if not path.name.lower().endswith((".json", ".json.gz")):
        return False
    line = first_line(path)
    if not line:
        return False
    try:
        return not isinstance(orjson.loads(line), dict)
    except orjson.JSONDecodeError:
        return True


def skip_reason(path: Path) -> str | None:
    """Why a file found in a directory is not read, or None if it is."""
    if not is_supported(path):
        return "not .jsonl, .jsonl.gz or .parquet"
    if is_json_document(path):
        return "a JSON document, not JSON Lines"
    return None


@dataclass(frozen=True)
class Inputs:
    """The files to read, those found in directories that are not read (with why), and the
    account tables found beside a simulated log (see `simulated_parts`)."""

    files: list[Path]
    skipped: list[str]
    accounts: list[Path] = field(default_factory=list)


SIMULATED_EXTENSIONS = (".parquet", ".jsonl.gz")  # what `distillguard simulate` writes


def simulated_parts(directory: Path) -> dict[str, Path]:
    """The accounts and labels tables of a folder `distillguard simulate` wrote, by name
    ("accounts", "labels"): beside its exchanges.parquet (or .jsonl.gz) an accounts.* and
    a labels.* of the same kind. Empty for any other folder."""
    found = [
        ext
        for ext in SIMULATED_EXTENSIONS
        if (directory / f"exchanges{ext}").is_file() and (directory / f"accounts{ext}").is_file()
    ]
    if len(found) > 1:  # two worlds in one folder: read together, they would mix
        raise UserError(
            f"{directory} holds two simulated worlds ({' and '.join(found)}): simulate each "
            "into a folder of its own"
        )
    if not found:
        return {}
    parts = {name: directory / f"{name}{found[0]}" for name in ("accounts", "labels")}
    return {name: path for name, path in parts.items() if path.is_file()}


def is_detect_output(directory: Path) -> bool:
    """A folder `detect` wrote: its record, or (before the record) its run file beside its
    accounts table. Detect replaces such a folder whole."""
    run = (directory / "run.json").is_file() and (directory / "accounts.parquet").is_file()
    return (directory / "detect.json").is_file() or run


def is_lake(directory: Path) -> bool:
    """A folder `ingest` wrote: its files are a lake's, not logs to read."""
    return Lake(directory).is_one()


def expand_inputs(paths: list[Path]) -> Inputs:
    """Given files as they are, directories walked in sorted order. A directory's files of
    other kinds are skipped and named; a given file of another kind is an error. In a
    folder `simulate` wrote, the accounts table is read as accounts (never as exchanges)
    and the labels are never read: a detector must not see them."""
    files: list[Path] = []
    skipped: list[str] = []
    accounts: list[Path] = []
    for path in paths:
        if not path.exists():
            raise UserError(f"no such file or directory: {path}")
        _refuse_inside_a_lake(path)
        if path.is_dir():
            if is_lake(path):
                raise UserError(f"{path} is a lake, not logs: read it with detect or lake")
            if is_detect_output(path):  # its tables were read as exchanges, all quarantined
                raise UserError(f"{path} is a detect output, not logs: give the logs or lake")
            parts = simulated_parts(path)
            accounts.extend([parts["accounts"]] if "accounts" in parts else [])
            entries = sorted(path.rglob("*"))  # walked once: a log folder can be large
            lakes = [d for d in entries if d.is_dir() and is_lake(d)]
            skipped.extend(f"{d}/ (a lake, not logs)" for d in lakes)
            for child in (p for p in entries if p.is_file()):
                if any(d in child.parents for d in lakes):
                    continue  # a lake's files (its quarantine too): named once, above
                reason = _simulated_reason(child, parts) or skip_reason(child)
                files.extend([child] if reason is None else [])
                skipped.extend([f"{child} ({reason})"] if reason else [])
        elif not is_supported(path):
            raise UserError(
                f"unsupported file type: {path} (expected .jsonl, .jsonl.gz or .parquet)"
            )
        elif is_json_document(path):
            raise UserError(f"{path} is a JSON document, not JSON Lines (one record per line)")
        else:
            files.append(path)
    return Inputs(files, skipped, accounts)


def _refuse_inside_a_lake(path: Path) -> None:
    """A lake's own files read as logs: `detect lake/exchanges` ran with exit 0 on the
    exchanges alone, without the accounts table (no payment, sign-up or tier evidence),
    and flagged a quarter of what `detect lake` flags. A folder of logs kept in a lake's
    folder (watch's inbox may be) is not the lake's own."""
    holder = next((d for d in path.resolve().parents if is_lake(d)), None)
    if holder is not None and Lake(holder).owns(path):
        raise UserError(f"{path} is inside the lake {holder}, not logs: give the lake itself")


def _simulated_reason(child: Path, parts: dict[str, Path]) -> str | None:
    if child == parts.get("accounts"):
        return "the simulated accounts: read as the accounts table, not as exchanges"
    if child == parts.get("labels"):
        return "the simulated labels: never read"
    return None


def check_account_files(paths: list[Path]) -> list[Path]:
    """The files --accounts names (see account_files), or a refusal before anything is
    read of a table that is not one: a detect run's own tables or the simulator's labels
    were taken with exit 0, their rows accounts with no sign-up, payment or tier, and
    detect lost that evidence without a word."""
    for path in paths:
        if path.is_file() and is_detect_output(path.parent):
            raise UserError(f"{path} is a detect output's table, not an accounts table")
        if path.is_file() and path == simulated_parts(path.parent).get("labels"):
            raise UserError(f"{path} is the simulator's labels, not an accounts table")
    return account_files(paths)  # missing paths, lakes and detect folders: refused as for logs


def account_files(paths: list[Path]) -> list[Path]:
    """The files --accounts names: files as given, a folder's files, and of a folder
    `simulate` wrote its accounts table alone (its exchanges were read as accounts, every
    row quarantined, after the logs were already in the lake)."""
    files: list[Path] = []
    for path in paths:
        parts = simulated_parts(path) if path.is_dir() else {}
        files.extend([parts["accounts"]] if "accounts" in parts else expand_paths([path]))
    return files


def expand_paths(paths: list[Path]) -> list[Path]:
    """The files to read (see expand_inputs)."""
    return expand_inputs(paths).files
