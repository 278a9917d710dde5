"""`watch`: ingest new exchange-log files as they land, detect, and publish verdicts.

This closes the loop: the gateway writes rotated exchange-log files into an inbox; each
tick ingests the completed files it has not seen, or that have grown since (a gateway's
`*.partial` file is still being written and waits), runs detection over the lake's moving
window, and publishes the verdicts, so a campaign that started after the gateway is acted
on while it runs.
Which files were ingested is kept in the lake, so a restarted watch carries on.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import orjson

from distillguard.detect.allowlist import load_allowlist
from distillguard.detect.config import DetectConfig
from distillguard.detect.run import detect
from distillguard.detect.summary import NO_ACCOUNTS_TABLE
from distillguard.ingest.lake import Lake
from distillguard.ingest.pipeline import ingest
from distillguard.ingest.sources import is_supported
from distillguard.verdicts.policy import Policy
from distillguard.verdicts.publish import PublishSummary, publish
from distillguard.verdicts.store import VerdictStore


@dataclass(frozen=True)
class TickSummary:
    files: int
    kept: int
    quarantined: int
    flagged: int
    published: PublishSummary
    accounts_table: bool = True  # as in DetectSummary

    def line(self) -> str:
        return (
            f"watch: {self.files} new file(s), {self.kept} exchanges kept, "
            f"{self.quarantined} quarantined, {self.flagged} accounts flagged; "
            f"{self.published.line()}"
            f"{'' if self.accounts_table else '; ' + NO_ACCOUNTS_TABLE}"
        )


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

    def _seen(self) -> dict[str, str | None]:
        """Each file ingested, with its size and time then. A version that kept names only
        left a list: its files are taken as they are now, and recorded so, so that rows
        they gain from here on are read."""
        if not self._seen_path.exists():
            return {}
        seen = orjson.loads(self._seen_path.read_bytes())
        if not isinstance(seen, list):
            return dict(seen)
        stamps = {name: _stamp(Path(name)) if Path(name).is_file() else None for name in seen}
        self._write_seen(stamps)
        return stamps

    def new_files(self) -> list[Path]:
        """Files not ingested yet, and files that have grown since (a log shipper's
        daily file: the rows appended to it were never read). Ingest drops the rows it
        holds already, so a grown file is read again whole."""
        seen = self._seen()
        lake = Lake(self.lake)
        found = (p for p in sorted(self.inbox.rglob("*")) if p.is_file() and is_supported(p))
        # a lake kept inside the inbox (or the inbox inside the lake): its own files are not logs
        return [p for p in found if _changed(seen, p) and not lake.owns(p)]

    def tick(self) -> TickSummary | None:
        """One round: None when no new file has landed and the last round's verdicts were
        published."""
        files = self.new_files()
        if not files and not self._unpublished.exists():
            return None
        kept = quarantined = 0
        if files:
            # stamped before the ingest: rows that land during it make the file new again
            stamps: dict[str, str | None] = {str(p.resolve()): _stamp(p) for p in files}
            self.lake.mkdir(parents=True, exist_ok=True)
            ingested = ingest(files, self.lake, self.accounts)
            kept, quarantined = ingested.kept, ingested.quarantined
            self._unpublished.touch()  # before the files count as seen
            self._mark_seen(stamps)
        dismissed = load_allowlist(self.allowlist) if self.allowlist else None
        summary = detect([self.lake], self.out, config=self.config, allowlist=dismissed)
        published = publish(self.out, self.store, self.policy, self.lake, dismissed)
        self._unpublished.unlink(missing_ok=True)
        flagged = sum(a.flagged for a in summary.accounts)
        return TickSummary(
            len(files), kept, quarantined, flagged, published, summary.accounts_table
        )

    def _mark_seen(self, stamps: dict[str, str | None]) -> None:
        self._write_seen(self._seen() | stamps)

    def _write_seen(self, seen: dict[str, str | None]) -> None:
        # Written aside and renamed: a reader (or a crash) never sees half a file.
        staging = self._seen_path.with_name(self._seen_path.name + ".tmp")
        staging.write_bytes(orjson.dumps(dict(sorted(seen.items()))))
        staging.replace(self._seen_path)


def _stamp(path: Path) -> str:
    st = path.stat()
    return f"{st.st_size}:{st.st_mtime_ns}"


def _changed(seen: dict[str, str | None], path: Path) -> bool:
    key = str(path.resolve())
    if key not in seen:
        return True
    stamp = seen[key]
    return stamp is not None and stamp != _stamp(path)
