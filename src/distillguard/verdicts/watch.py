"""`watch`: ingest new exchange-log files as they land, detect, and publish verdicts.

This closes the loop: the gateway writes rotated exchange-log files into an inbox; each
tick ingests the completed files it has not seen and the rows files gained since
(watch_files: a grown JSONL file is read from where the last tick stopped; a gateway's
`*.partial` file is still being written and waits), runs detection over the lake's moving
window, and publishes the verdicts, so a campaign that started after the gateway is acted
on while it runs. Which files were ingested, and how far, is kept in the lake, so a
restarted watch carries on.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import orjson

from distillguard.detect.allowlist import load_allowlist
from distillguard.detect.config import DetectConfig
from distillguard.detect.run import detect
from distillguard.detect.summary import NO_ACCOUNTS_TABLE
from distillguard.ingest.inputs import is_detect_output
from distillguard.ingest.lake import Lake
from distillguard.ingest.otel_join import logs_without_spans
from distillguard.ingest.outcome import IngestSummary
from distillguard.ingest.pipeline import ingest
from distillguard.ingest.sources import is_supported
from distillguard.verdicts.policy import Policy
from distillguard.verdicts.publish import PublishSummary, publish
from distillguard.verdicts.store import VerdictStore
from distillguard.verdicts.watch_files import Reading, Seen, plan, stamp

HOLD_TICKS = 3  # how many ticks an OTel logs file waits for a spans file to join


QUARANTINE_FILES_SHOWN = 3  # a tick line names this many files with quarantined rows


@dataclass(frozen=True)
class TickSummary:
    files: int
    kept: int
    quarantined: int
    flagged: int | None  # None: the tick changed nothing detect reads, so it did not run
    published: PublishSummary | None
    accounts_table: bool = True  # as in DetectSummary
    quarantined_from: tuple[str, ...] = ()  # "FILE (N)", as IngestSummary has them
    quarantine: Path | None = None  # the lake's quarantine file

    def line(self) -> str:
        head = f"watch: {self.files} new file(s), {self.kept} exchanges kept, "
        head += f"{self.quarantined} quarantined{self._where_quarantined()}"
        if self.published is None:
            return head + "; nothing new for detection, verdicts as they were"
        return (
            f"{head}, {self.flagged} accounts flagged; {self.published.line()}"
            f"{'' if self.accounts_table else '; ' + NO_ACCOUNTS_TABLE}"
        )

    def _where_quarantined(self) -> str:
        """Which files the quarantined rows came from and where they are kept: the tick
        line is all a person watching sees of them."""
        if not self.quarantined or self.quarantine is None:
            return ""
        shown = list(self.quarantined_from[:QUARANTINE_FILES_SHOWN])
        more = len(self.quarantined_from) - len(shown)
        shown += [f"{more} more file(s)"] if more > 0 else []
        source = f"from {', '.join(shown)} " if shown else ""
        return f" ({source}into {self.quarantine})"


class Watcher:
    def __init__(
        self,
        lake: Path,
        inbox: Path,
        store: VerdictStore,
        policy: Policy,
        *,
        accounts: list[Path] | None = None,
        config: DetectConfig | None = None,
        allowlist: Path | None = None,
    ) -> None:
        self.lake, self.inbox, self.store, self.policy = lake, inbox, store, policy
        self.accounts = accounts or []
        self.allowlist = allowlist  # read at every tick: the console adds to it
        self.config = config or DetectConfig()
        self.out = lake / "watch-detect"
        self._seen_path = lake / "watch-ingested.json"
        # Present from a tick's ingest until its verdicts are published: a tick whose
        # detect or publish failed (the store down, the process killed) is run again by
        # the next, even if no new file has landed by then.
        self._unpublished = lake / "watch-unpublished"
        self.waiting = 0  # OTel logs files the last tick held back for their spans
        self.set_aside: list[str] = []  # those it stopped waiting for (see _hold_unjoined)
        # ticks in a row each has been held, kept in the lake: cron runs one tick a process
        self._held_path = lake / "watch-held.json"

    def _seen(self) -> dict[str, Seen]:
        """Each file ingested, with its size and time then and how far it was read. A
        version that kept names only left a list: its files are taken as they are now,
        and recorded so, so that rows they gain from here on are read."""
        if not self._seen_path.exists():
            return {}
        seen = orjson.loads(self._seen_path.read_bytes())
        if not isinstance(seen, list):
            return {name: Seen.of(value) for name, value in seen.items()}
        found = {name: Seen(stamp(Path(name)) if Path(name).is_file() else None) for name in seen}
        self._write_seen(found)
        return found

    def _plan(self, counting: bool = False) -> tuple[list[Reading], dict[str, Seen]]:
        """What this tick reads (new files, and what files gained since: see watch_files)
        and what to remember of the files after."""
        seen = self._seen()
        lake = Lake(self.lake)
        found = (p for p in sorted(self.inbox.rglob("*")) if p.is_file() and is_supported(p))
        readings, remember = [], {}
        # a lake kept inside the inbox (or the inbox inside the lake): its own files are not logs
        for path in (p for p in found if not lake.owns(p)):
            key = str(path.resolve())
            try:
                reading, after = plan(path, seen.get(key))
            except FileNotFoundError:  # removed since it was listed (a shipper's clean-up)
                continue
            readings += [reading] if reading is not None else []
            remember.update({key: after} if after is not None else {})
        return self._hold_unjoined(readings, remember, counting)

    def _hold_unjoined(
        self, readings: list[Reading], remember: dict[str, Seen], counting: bool
    ) -> tuple[list[Reading], dict[str, Seen]]:
        """Leave out OpenTelemetry logs files that no spans file comes with this tick (an
        exporter flushes its logs and its spans on their own schedules): ingest refuses
        them alone, and their content joins spans. Not remembered, they are read again
        with the next tick that brings spans. After HOLD_TICKS ticks (`counting`: a tick's
        plan) one is set aside, remembered as read and said: its spans came before it,
        whose rows are in the lake already, or never came."""
        held = {str(p.resolve()): p for p in logs_without_spans([r.path for r in readings])}
        ticks = self._held_ticks()
        if counting:
            ticks = {k: ticks.get(k, 0) + 1 for k in held}
            if ticks or self._held_path.exists():
                self._held_path.parent.mkdir(parents=True, exist_ok=True)
                self._held_path.write_bytes(orjson.dumps(ticks))
        late = {k for k in held if ticks.get(k, 0) > HOLD_TICKS}
        self.waiting, self.set_aside = len(held) - len(late), sorted(str(held[k]) for k in late)
        waits = {held[k] for k in held if k not in late}
        kept = [reading for reading in readings if reading.path not in held.values()]
        return kept, {key: after for key, after in remember.items() if held.get(key) not in waits}

    def _held_ticks(self) -> dict[str, int]:
        try:
            ticks = orjson.loads(self._held_path.read_bytes())
            return {str(k): int(v) for k, v in ticks.items()}
        except (OSError, ValueError, TypeError, AttributeError):  # none yet, or mangled:
            return {}  # count afresh

    def new_files(self) -> list[Path]:
        """Files not ingested yet, and files that have grown since (a log shipper's daily
        file: the rows appended to it were never read)."""
        return [reading.path for reading in self._plan()[0]]

    def tick(self) -> TickSummary | None:
        """One round: None when no new file has landed and the last round's verdicts were
        published."""
        # Planned before the ingest: rows that land during it are read by the next tick.
        readings, remember = self._plan(counting=True)
        files = [reading.path for reading in readings]
        if not files and not self._unpublished.exists():
            if remember:  # a file that grew by half a line: its stamp, to see it unchanged
                self._mark_seen(remember)
            return None
        ingested = self._ingest(readings) if files else None
        self._mark_seen(remember)
        read = TickSummary(len(files), 0, 0, None, None)
        if ingested is not None:
            read = replace(
                read,
                kept=ingested.kept,
                quarantined=ingested.quarantined,
                quarantined_from=ingested.quarantined_from,
                quarantine=Lake(self.lake).quarantine_path,
            )
        if not self._unpublished.exists():
            # Only quarantined rows (a cut line, a bad row) or duplicates: the lake holds
            # what the last published detection read, so running it again changes nothing.
            return read
        dismissed = load_allowlist(self.allowlist) if self.allowlist else None
        summary = detect([self.lake], self.out, config=self.config, allowlist=dismissed)
        published = publish(self.out, self.store, self.policy, self.lake, dismissed)
        self._unpublished.unlink(missing_ok=True)
        flagged = sum(a.flagged for a in summary.accounts)
        return replace(
            read, flagged=flagged, published=published, accounts_table=summary.accounts_table
        )

    def _ingest(self, readings: list[Reading]) -> IngestSummary:
        """Ingest this tick's files, the tick marked unpublished before (see __init__): an
        ingest that fails or is killed may have committed rows, which come back as
        duplicates at the next tick. The mark is taken back only where this tick set it, the
        ingest changed nothing detect reads, and detect has run over this lake before."""
        self.lake.mkdir(parents=True, exist_ok=True)
        pending = self._unpublished.exists()
        self._unpublished.touch()
        tails = {r.path: r.tail for r in readings if r.tail is not None}
        ingested = ingest([r.path for r in readings], self.lake, self.accounts, tails=tails)
        if not (pending or ingested.changed_lake() or self._never_detected()):
            self._unpublished.unlink()
        return ingested

    def _never_detected(self) -> bool:
        """No detect run of this watch is on record: a lake filled by `ingest` before the
        first tick, whose rows all come back as duplicates, has had no verdict yet."""
        return not is_detect_output(self.out)

    def _mark_seen(self, remember: dict[str, Seen]) -> None:
        if remember:
            self._write_seen(self._seen() | remember)

    def _write_seen(self, seen: dict[str, Seen]) -> None:
        # Written aside and renamed: a reader (or a crash) never sees half a file.
        staging = self._seen_path.with_name(self._seen_path.name + ".tmp")
        doc = {name: seen[name].to_json() for name in sorted(seen)}
        self._seen_path.parent.mkdir(parents=True, exist_ok=True)
        staging.write_bytes(orjson.dumps(doc))
        staging.replace(self._seen_path)
