"""Shared pieces of the fault tests: the CLI in a subprocess, crash points, lake checks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson

from distillguard.faults import ENV
from distillguard.ingest import Lake
from tests.conftest import query

KILLED = -9  # a subprocess's return code after SIGKILL


def run_cli(
    *argv: str | Path, crash_at: str | None = None, timeout: float = 240
) -> subprocess.CompletedProcess[str]:
    """`distillguard ARGV...` in a new process (and session), optionally killed at a crash point."""
    env = dict(os.environ)
    env.pop(ENV, None)
    if crash_at:
        env[ENV] = crash_at
    return subprocess.run(
        [sys.executable, "-m", "distillguard.cli.main", *map(str, argv)],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        check=False,
        start_new_session=True,
    )


def run_python(
    code: str, crash_at: str | None = None, timeout: float = 240
) -> subprocess.CompletedProcess[str]:
    """A Python snippet in a new session, so its descendants can be found by session id."""
    env = dict(os.environ)
    env.pop(ENV, None)
    if crash_at:
        env[ENV] = crash_at
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        check=False,
        start_new_session=True,
        cwd=Path(__file__).resolve().parents[2],
    )


def lake_ids(lake: Path) -> list[str]:
    """Every request id the lake holds, once per row."""
    if not Lake(lake).exchange_files():
        return []
    return [str(r) for (r,) in query(f"SELECT request_id FROM {Lake(lake).exchanges_sql()}")]


def quarantine_entries(lake: Path) -> list[dict[str, object]]:
    path = Lake(lake).quarantine_path
    if not path.exists():
        return []
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    """The error line of a failed run, after checking it is one line, exit 2, no traceback."""
    assert result.returncode == 2, (result.returncode, result.stderr[-2000:])
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("distillguard: error: ")
    return result.stderr


def processes_in_session(session: int) -> list[int]:
    """Live processes (not zombies) whose session id is `session` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        state, sid = fields[0], int(fields[3])
        if sid == session and state != "Z":
            found.append(int(entry.name))
    return found
