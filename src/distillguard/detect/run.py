"""`detect`: a lake (or exchange-log files) in, flagged accounts and clusters out.

Everything is written into a private staging folder and swapped in for the output folder
at the end (detect/folder.py), so a run killed at any point leaves the previous results
whole."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
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
from distillguard.detect.replay import replay
from distillguard.detect.report import write_report
from distillguard.detect.results import AccountResult, ClusterResult, build_results
from distillguard.engine.base import Engine, SignalSource
from distillguard.engine.duckdb_engine import DuckDBEngine
from distillguard.errors import UserError
from distillguard.faults import crash_point
from distillguard.findings.collect import FindingsOptions, collect
from distillguard.findings.lifecycle import PreviousFindings
from distillguard.findings.ocsf import OcsfSink
from distillguard.ingest import IngestSummary, Lake, ingest
from distillguard.ingest.lake import connect, set_aside_text, sql_path
from distillguard.ingest.pipeline import UnreadableFilesError, finish_interrupted
from distillguard.ingest.remote import LakeLike, RemoteLake

SIGNUP_EVIDENCE = ("payment_fingerprint", "signup_ip", "created_at", "tier")
NO_ACCOUNTS_TABLE = (
    "no payment, sign-up or tier data (no accounts table, or one without them), so that "
    "evidence went unused (give --accounts with log files, or ingest the lake with one)"
)


@dataclass(frozen=True)
class TickShortfall:
    """The log held fewer linking ticks than a combiner flag waits for (--flag-ticks)."""

    held: int
    needed: int
    peer: bool  # a peer's indicators were given: a strong match stands in for the ticks

    def text(self) -> str:
        who = "only an account with a strong peer indicator match" if self.peer else "no account"
        return (
            f"the log held {self.held} linking tick(s), fewer than the {self.needed} a flag "
            f"waits for (--flag-ticks): {who} could be flagged on its own evidence"
        )


@dataclass(frozen=True)
class DetectSummary:
    out: Path
    exchanges: int
    accounts: list[AccountResult]
    clusters: list[ClusterResult]
    findings: int
    seconds: dict[str, float] = field(default_factory=dict)
    suppressed: tuple[Suppression, ...] = ()
    ingested: IngestSummary | None = None  # when detect read log files, not a lake
    # when the log held fewer linking ticks than a combiner flag waits for: the user
    # should hear that the quiet result is the log's length, not its traffic
    short_of_ticks: TickShortfall | None = None
    # False when the input had no accounts table, or one with no payment, sign-up or tier
    # data: the result stands without them, which the user should hear rather than guess
    accounts_table: bool = True
    set_aside: str = ""  # damaged parts of the lake set aside, unread (set_aside_text)

    def line(self) -> str:
        flagged = sum(a.flagged for a in self.accounts)
        review = sum(a.review for a in self.accounts)
        return (
            f"detect: {self.exchanges:,} exchanges, {len(self.accounts):,} accounts, "
            f"{flagged:,} flagged, {review:,} for review, "
            f"{sum(c.flagged for c in self.clusters)} flagged clusters, "
            f"{self.findings} findings{self._suppressed()} -> {self.out}{self._quarantined()}"
            f"{self.ingested.skipped_text() if self.ingested else ''}{self._short()}"
            f"{'' if self.accounts_table else '; ' + NO_ACCOUNTS_TABLE}"
            f"{'; ' + self.set_aside if self.set_aside else ''}"
        )

    def _short(self) -> str:
        return "" if self.short_of_ticks is None else f"; {self.short_of_ticks.text()}"

    def _suppressed(self) -> str:
        n = len(self.suppressed)
        return f", {n} held back by the allowlist" if n else ""

    def _quarantined(self) -> str:
        if self.ingested is None or not self.ingested.quarantined:
            return ""
        where = self.out / "lake" / "quarantine.jsonl"
        return f"; {self.ingested.quarantined:,} input rows quarantined, see {where}"


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
    if ingested.kept == 0 and ingested.quarantined > 0:  # else every open finding closes
        raise UserError(
            f"detect did not run: none of the {ingested.quarantined:,} rows in "
            f"{', '.join(map(str, paths))} is an exchange (give a lake or request logs)"
        )
    return lake, ingested


def _refuse_outputs(paths: list[Path]) -> None:
    """A detect output given as input would be read as logs, every row quarantined."""
    for path in paths:
        if (path / "run.json").is_file() and (path / "accounts.parquet").is_file():
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
    check_target(out, [*([] if isinstance(paths, RemoteLake) else paths), *(accounts or [])])
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


def _detect_into(
    out: Path, paths: list[Path] | RemoteLake, accounts: list[Path], run: _Run
) -> DetectSummary:
    config, progress, on_tick, engine = run.config, run.progress, run.on_tick, run.engine
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    lake, ingested = _lake(paths, accounts, out)
    seconds["ingest"] = time.perf_counter() - started
    con = connect(out)
    signals_dir = out / "signals"
    started = time.perf_counter()
    exchanges = engine.signals(lake, signals_dir, progress)
    seconds["signals"] = time.perf_counter() - started
    started = time.perf_counter()
    signals = engine.attach(con, signals_dir)
    account_table = _accounts(con, engine, lake, out / "accounts.scratch.parquet")
    signups = _has_signups(con, account_table)
    if run.boost is not None:  # outside evidence (a peer's indicators), off by default
        run.boost.prepare(con, signals, account_table)
    source = SignalSource(engine, signals_dir)
    result = replay(con, source, account_table, config, on_tick=on_tick, boost=run.boost)
    seconds["profiles_linking_scoring"] = time.perf_counter() - started
    started = time.perf_counter()
    account_results, clusters = build_results(result, (run.boost.rule,) if run.boost else ())
    allowed = apply_allowlist(account_results, clusters, run.allowlist)
    account_results, clusters, suppressed = allowed.accounts, allowed.clusters, allowed.suppressed
    stats = cluster_stats(con, signals, clusters)
    write_tables(out, account_rows(account_results), cluster_rows(clusters, stats))
    crash_point("detect.tables")
    results = collect(
        con,
        signals,
        account_results,
        clusters,
        cluster_stats=stats,
        previous=run.previous,
        options=run.findings,
        dismissed={s.account_id: s.detail() for s in suppressed},
    )
    findings = OcsfSink().write(results, out).records
    write_report(
        out / "report.html",
        con,
        signals,
        exchanges=exchanges,
        accounts=account_results,
        clusters=clusters,
        window_hours=config.window_hours,
    )
    write_evidence(out, account_results, clusters)
    write_run(out, lake.root if isinstance(lake, Lake) else lake.uri, suppressed)
    seconds["outputs"] = time.perf_counter() - started
    con.close()
    return DetectSummary(
        out,
        exchanges,
        account_results,
        clusters,
        findings,
        seconds,
        tuple(suppressed),
        ingested=ingested,
        short_of_ticks=ticks_shortfall(result.state.ticks, config, peer=run.boost is not None),
        accounts_table=signups,
        set_aside=set_aside_text(lake) if isinstance(lake, Lake) else "",
    )


def ticks_shortfall(held: int, config: DetectConfig, *, peer: bool) -> TickShortfall | None:
    """What the summary says when the log held fewer linking ticks than a flag waits for
    (the rules decide each hour and wait for none)."""
    needed = config.combiner_flag_ticks
    short = config.decide_by == "combiner" and held < needed
    return TickShortfall(held, needed, peer) if short else None


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
