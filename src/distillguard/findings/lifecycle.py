"""A finding's life across runs: created once, updated while it holds, closed when it stops.

A run reads the findings the run before wrote (by default from its own output folder,
before replacing them; or from `--previous DIR`). A finding whose uid was written before
is an Update; one never seen is a Create; one that was open and is not found again is
written once more as a Close: Suppressed when an analyst dismissed its account (the
allowlist), else Other ("Cleared", detection stopped). A cluster keeps its uid while it
grows or sheds members: a current cluster takes over the open cluster finding that shares
most members with it, so long as it holds at least half of the members that finding
listed.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from distillguard.errors import UserError

FINDINGS_FILE = "findings.ocsf.jsonl"
CREATE, UPDATE, CLOSE = 1, 2, 3
ACTIVITY_NAMES = {CREATE: "Create", UPDATE: "Update", CLOSE: "Close"}
DETECTION_FINDING = 2004
CLOSED_STATUS = (99, "Cleared")  # status_id Other: no person reviewed it, detection stopped
SUPPRESSED_STATUS = (3, "Suppressed")  # reviewed, judged benign or a false positive


@dataclass(frozen=True)
class Closing:
    """Why an open finding closes: its OCSF status and the sentence put in status_detail."""

    detail: str
    status: tuple[int, str] = CLOSED_STATUS


@dataclass(frozen=True)
class PreviousFindings:
    """The last written version of each finding, by `finding_info.uid`."""

    findings: Mapping[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def read(cls, folder: Path, *, required: bool = False) -> PreviousFindings:
        """The findings in `folder`; none when it has none, unless they are `required`."""
        path = folder / FINDINGS_FILE
        if not path.is_file():
            if required:
                raise UserError(f"no previous findings: {path} does not exist")
            return cls()
        return cls({f["finding_info"]["uid"]: f for f in _read_lines(path)})

    def is_open(self, uid: str) -> bool:
        found = self.findings.get(uid)
        return found is not None and found["activity_id"] != CLOSE

    def activity(self, uid: str) -> int:
        return UPDATE if uid in self.findings else CREATE

    def created_time(self, uid: str) -> int | None:
        found = self.findings.get(uid)
        return None if found is None else found["finding_info"].get("created_time")

    def match_cluster(self, members: set[str], taken: set[str]) -> str | None:
        """The open cluster finding this cluster continues, if any (see the module doc)."""
        best, best_overlap = None, 0
        for uid, found in sorted(self.findings.items()):
            if uid in taken or not self.is_open(uid) or "cluster" not in _types(found):
                continue
            listed = {r["uid"] for r in found.get("resources", [])}
            overlap = len(listed & members)
            if 2 * overlap >= len(listed) > 0 and overlap > best_overlap:
                best, best_overlap = uid, overlap
        return best

    def closes(
        self, current: set[str], time: int, closing: Callable[[dict[str, Any]], Closing]
    ) -> list[dict[str, Any]]:
        """A Close for every open finding this run did not find again."""
        return [
            _closed(found, time, closing(found))
            for uid, found in sorted(self.findings.items())
            if uid not in current and self.is_open(uid)
        ]


def _types(found: dict[str, Any]) -> list[str]:
    types: list[str] = found["finding_info"].get("types", [])
    return types


def _closed(found: dict[str, Any], time: int, closing: Closing) -> dict[str, Any]:
    closed = copy.deepcopy(found)
    closed.update(
        activity_id=CLOSE,
        activity_name=ACTIVITY_NAMES[CLOSE],
        type_uid=DETECTION_FINDING * 100 + CLOSE,
        type_name=f"Detection Finding: {ACTIVITY_NAMES[CLOSE]}",
        time=time,
        status_id=closing.status[0],
        status=closing.status[1],
        status_detail=closing.detail,
        is_alert=False,  # a closure asks nobody to act: a SIEM alerting on is_alert paged
    )
    closed["finding_info"]["modified_time"] = time
    return closed


def _read_lines(path: Path) -> list[dict[str, Any]]:
    findings = []
    for number, line in enumerate(path.read_bytes().splitlines(), 1):
        if not line.strip():
            continue
        try:
            found = orjson.loads(line)
            uid = found["finding_info"]["uid"]
            ok = found["class_uid"] == DETECTION_FINDING and isinstance(uid, str)
        except (orjson.JSONDecodeError, KeyError, TypeError):
            ok = False
        if not ok:
            raise UserError(f"{path}:{number}: not an OCSF Detection Finding with a uid")
        findings.append(found)
    return findings
