"""`detect`: a lake (or exchange-log files) in, flagged accounts and clusters out.

Everything is written into a private staging folder and swapped in for the output folder
at the end (detect/folder.py), so a run killed at any point leaves the previous results
whole."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from distillguard import __version__
from distillguard.detect.allowlist import AllowEntry, Suppression, apply_allowlist
from distillguard.detect.boost import AccountBoost
from distillguard.detect.case_files import write_evidence, write_run
from distillguard.detect.config import DetectConfig
from distillguard.detect.folder import OutputFolder, check_target
from distillguard.detect.outputs import (
    account_rows,
    cluster_rows,
    cluster_stats,
    write_tables,
)
from distillguard.detect.replay import Replay, replay
from distillguard.detect.report import write_report
from distillguard.detect.results import AccountResult, ClusterResult, build_results
from distillguard.detect.summary import DetectSummary, ticks_shortfall
from distillguard.engine.base import Engine, SignalSource
from distillguard.engine.duckdb_engine import DuckDBEngine
from distillguard.errors import UserError
from distillguard.faults import crash_point
from distillguard.findings.collect import FindingsOptions, collect
from distillguard.findings.lifecycle import PreviousFindings
from distillguard.findings.ocsf import OcsfSink
from distillguard.ingest import IngestSummary, Lake, ingest
from distillguard.ingest.damaged import set_aside_text
from distillguard.ingest.inputs import is_detect_output
from distillguard.ingest.lake import connect, sql_path
from distillguard.ingest.outcome import UnreadableFilesError
from distillguard.ingest.pipeline import finish_interrupted
from distillguard.ingest.remote import LakeLike, RemoteLake

SIGNUP_EVIDENCE = ("payment_fingerprint", "signup_ip", "created_at", "tier")


def _is_lake(paths: list[Path]) -> bool:
    return len(paths) == 1 and Lake(paths[0]).is_one()


def _has_signups(con: duckdb.DuckDBPyConnection, table: str | None) -> bool:
    """Whether the accounts table says anything of payment, sign-up or tier: LiteLLM's
    adapter declares accounts with an org id only, which is no such evidence."""
    if table is None:
        return False
    said = " OR ".join(f"{c} IS NOT NULL" for c in SIGNUP_EVIDENCE)
    # fetchall, not fetchone: a result left unfinished blocks the connection's next call
    [(found,)] = con.execute(f"SELECT count(*) FROM {table} WHERE {said}").fetchall()
    return bool(found)


def _lake(
    paths: list[Path] | RemoteLake, accounts: list[Path], out: Path
) -> tuple[LakeLike, IngestSummary | None]:
    lake_given = isinstance(paths, RemoteLake) or _is_lake(paths)
    if lake_given and accounts:  # else the table given would be ignored without a word
        raise UserError(
            "--accounts is for log files: a lake has its own accounts table (add one with "
            "'distillguard ingest --accounts FILE --out LAKE')"
        )
    if isinstance(paths, RemoteLake):  # read where it lies, by the engine
        return paths, None
    if _is_lake(paths):
        finish_interrupted(Lake(paths[0]))
        return Lake(paths[0]), None
    _refuse_outputs(paths)
    lake = Lake(out / "lake")
    try:
        ingested = ingest(paths, lake.root, accounts)
    except UnreadableFilesError as exc:  # its lake is the unpublished one: say what to fix
        unreadable = "; ".join(exc.summary.unreadable)
        message = f"detect did not run, input file(s) could not be read: {unreadable}"
        raise UserError(message) from None
    if ingested.files == 0:  # an empty folder, or a lake's path mistyped one level off
        raise UserError(
            f"detect did not run: {', '.join(map(str, paths))} holds no log file and is not "
            "a lake (give a lake or request logs)"
        )
    if ingested.kept == 0 and ingested.quarantined > 0:  # else every open finding closes
        raise UserError(
            f"detect did not run: none of the {ingested.quarantined:,} rows in "
            f"{', '.join(map(str, paths))} is an exchange (give a lake or request logs)"
        )
    return lake, ingested


def _refuse_outputs(paths: list[Path]) -> None:
    """A detect output given as input would be read as logs, every row quarantined."""
    for path in paths:
        if is_detect_output(path):
            raise UserError(f"{path} is a detect output, not a lake: give the lake it ran on")


def detect(
    paths: list[Path] | RemoteLake,
    out: Path,
    accounts: list[Path] | None = None,
    config: DetectConfig | None = None,
    progress: Callable[[int], None] | None = None,
    *,
    findings_options: FindingsOptions | None = None,
    on_tick: Callable[[int, int], None] | None = None,
    allowlist: list[AllowEntry] | None = None,
    engine: Engine | None = None,
    boost: AccountBoost | None = None,
) -> DetectSummary:
    """Detect over a lake (or log files, ingested into OUT/lake; or a lake's URI, which the
    engine reads) and write the results to `out`, which is replaced whole when the run
    completes and untouched if it does not."""
    config = config or DetectConfig()
    check_target(out, [*_local_inputs(paths), *(accounts or [])])
    findings_options = findings_options or FindingsOptions()
    run = _Run(
        config,
        progress,
        on_tick,
        allowlist or [],
        findings_options,
        findings_options.read_previous(out),  # before this run replaces them
        engine or DuckDBEngine(),
        boost,
    )
    folder = OutputFolder(out)
    try:
        summary = _detect_into(folder.staging, paths, accounts or [], run)
        folder.publish(
            {
                "version": __version__,
                "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "exchanges": summary.exchanges,
                "accounts": len(summary.accounts),
                "findings": summary.findings,
            }
        )
    finally:
        folder.close()
    return replace(summary, out=out)


def _local_inputs(paths: list[Path] | RemoteLake) -> list[Path]:
    """The inputs on this machine, a file:// lake's folder included: --out must not hold
    any of them, since it is replaced whole."""
    if not isinstance(paths, RemoteLake):
        return paths
    local = paths.local()
    return [] if local is None else [local.root]


@dataclass(frozen=True)
class _Run:
    """What a run was asked for, passed whole to the stage that does the work."""

    config: DetectConfig
    progress: Callable[[int], None] | None
    on_tick: Callable[[int, int], None] | None
    allowlist: list[AllowEntry]
    findings: FindingsOptions
    previous: PreviousFindings
    engine: Engine
    boost: AccountBoost | None


def _settings(run: _Run) -> dict[str, object]:
    """What the run decided by, for run.json: the configuration, the engine, and whether
    an allowlist or a peer's indicators took part."""
    return {
        **asdict(run.config),
        "engine": run.engine.name,
        "allowlist_entries": len(run.allowlist),
        "peer_indicators": run.boost is not None,
    }


def _detect_into(
    out: Path, paths: list[Path] | RemoteLake, accounts: list[Path], run: _Run
) -> DetectSummary:
    seconds: dict[str, float] = {}
    with _timed(seconds, "ingest"):
        lake, ingested = _lake(paths, accounts, out)
    con = connect(out)
    with _timed(seconds, "signals"):
        exchanges = run.engine.signals(lake, out / "signals", run.progress)
    with _timed(seconds, "profiles_linking_scoring"):
        scored = _score(con, lake, out, run)
    with _timed(seconds, "outputs"):
        written = _write_outputs(con, out, scored, run, exchanges)
        where = lake.root if isinstance(lake, Lake) else lake.uri
        write_run(out, where, written.suppressed, _settings(run))
    con.close()
    return DetectSummary(
        out,
        exchanges,
        written.accounts,
        written.clusters,
        written.findings,
        seconds,
        written.suppressed,
        ingested=ingested,
        short_of_ticks=ticks_shortfall(
            scored.replay.state.ticks, run.config, peer=run.boost is not None
        ),
        accounts_table=scored.signups,
        set_aside=set_aside_text(lake) if isinstance(lake, Lake) else "",
    )


@contextmanager
def _timed(seconds: dict[str, float], stage: str) -> Iterator[None]:
    started = time.perf_counter()
    yield
    seconds[stage] = time.perf_counter() - started


@dataclass(frozen=True)
class _Scored:
    """The replay's result, with the signals table it read and whether sign-up data was
    there to link on."""

    replay: Replay
    signals: str
    signups: bool


def _score(con: duckdb.DuckDBPyConnection, lake: LakeLike, out: Path, run: _Run) -> _Scored:
    signals = run.engine.attach(con, out / "signals")
    account_table = _accounts(con, run.engine, lake, out / "accounts.scratch.parquet")
    signups = _has_signups(con, account_table)
    if run.boost is not None:  # outside evidence (a peer's indicators), off by default
        run.boost.prepare(con, signals, account_table)
    source = SignalSource(run.engine, out / "signals")
    result = replay(con, source, account_table, run.config, on_tick=run.on_tick, boost=run.boost)
    return _Scored(result, signals, signups)


@dataclass(frozen=True)
class _Written:
    accounts: list[AccountResult]
    clusters: list[ClusterResult]
    suppressed: tuple[Suppression, ...]
    findings: int


def _write_outputs(
    con: duckdb.DuckDBPyConnection, out: Path, scored: _Scored, run: _Run, exchanges: int
) -> _Written:
    """Tables, findings, the report and the case files, with the allowlist applied."""
    rules = (run.boost.rule,) if run.boost else ()
    accounts, clusters = build_results(scored.replay, rules)
    allowed = apply_allowlist(accounts, clusters, run.allowlist)
    stats = cluster_stats(con, scored.signals, allowed.clusters)
    write_tables(out, account_rows(allowed.accounts), cluster_rows(allowed.clusters, stats))
    crash_point("detect.tables")
    results = collect(
        con,
        scored.signals,
        allowed.accounts,
        allowed.clusters,
        cluster_stats=stats,
        previous=run.previous,
        options=run.findings,
        dismissed={s.account_id: s.detail() for s in allowed.suppressed},
    )
    findings = OcsfSink().write(results, out).records
    write_report(
        out / "report.html",
        con,
        scored.signals,
        exchanges=exchanges,
        accounts=allowed.accounts,
        clusters=allowed.clusters,
        window_hours=run.config.window_hours,
    )
    write_evidence(out, allowed.accounts, allowed.clusters)
    return _Written(allowed.accounts, allowed.clusters, tuple(allowed.suppressed), findings)


def _accounts(
    con: duckdb.DuckDBPyConnection, engine: Engine, lake: LakeLike, scratch: Path
) -> str | None:
    """The lake's accounts as the temp table `accounts` (a remote lake's copy removed once
    read: it holds sign-up data, which has no place in the outputs); its name, or None."""
    found = engine.accounts(lake, scratch)
    if found is None:
        return None
    try:
        con.execute(
            f"CREATE TEMP TABLE accounts AS SELECT * FROM read_parquet('{sql_path(found)}')"
        )
    finally:
        scratch.unlink(missing_ok=True)
    return "accounts"
