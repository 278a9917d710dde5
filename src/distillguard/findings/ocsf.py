"""OCSF Detection Findings (class 2004, schema 1.5.0) as JSON lines, for SIEMs.

One finding per flagged cluster, per flagged account outside any cluster, and per account
listed for review (severity Low, so a SIEM can keep or drop them by severity). Observed
facts go in `evidences[].data`; what distillguard infers from them, with its confidence,
goes apart in `unmapped.inferences` (and, as text, `risk_details`). Account ids are
observables of type Resource UID; template fingerprints are keyed hashes (type Hash).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import orjson

from distillguard import __version__
from distillguard.findings.fingerprints import keyed
from distillguard.findings.lifecycle import (
    ACTIVITY_NAMES,
    DETECTION_FINDING,
    FINDINGS_FILE,
    SUPPRESSED_STATUS,
    Closing,
)
from distillguard.findings.responses import GatewayAction, ocsf_fields, strongest
from distillguard.findings.sink import RunResults, SinkOutput
from distillguard.findings.subjects import PEER, PEER_MATCH, REVIEW, Subject, account_uid, subjects
from distillguard.scoring.evidence import Evidence

OCSF_VERSION = "1.5.0"
MAX_LISTED = 250  # members listed per cluster finding: SIEMs cap event size; all are in accounts.*
SEVERITIES = {1: "Informational", 2: "Low", 3: "Medium", 4: "High", 5: "Critical"}
CONFIDENCES = {1: "Low", 2: "Medium", 3: "High"}
RISK_LEVELS = {0: "Info", 1: "Low", 2: "Medium", 3: "High", 4: "Critical"}
ANALYTICS = {
    "account": (
        "distillguard account score: the learned combiner's probability from the account's "
        "own, cohort and content features at its linking ticks (with --decide-by rules, "
        "a noisy-OR of per-account evidence rules)"
    ),
    "cluster": "distillguard cluster score: linked accounts, dense blocks and shared keys",
    PEER_MATCH: (
        "share match: a noisy-OR over the peer indicators this account's traffic matched, "
        "each kind's weight x the producer's confidence x (1 - e^(-n/3)) for n exchanges"
    ),
}


def severity_id(subject: Subject) -> int:
    """Review is Low whatever the score; a flag is Medium, High from 0.9, Critical from 0.97.
    A peer's match is Low under 0.5 (one exit network's, at 0.09, was a Medium alert),
    Medium under 0.8, High above: another provider's evidence, never Critical alone."""
    if subject.tier == REVIEW:
        return 2
    if subject.tier == PEER:
        return 2 if subject.score < 0.5 else 3 if subject.score < 0.8 else 4
    return 5 if subject.score >= 0.97 else 4 if subject.score >= 0.9 else 3


def confidence_id(score: float) -> int:
    return 3 if score >= 0.9 else 2 if score >= 0.75 else 1


def _millis(when: Any) -> int | None:
    return None if when is None else int(when.timestamp() * 1000)


def _evidence(evidence: tuple[Evidence, ...], hashes: list[str]) -> list[dict[str, Any]]:
    """Observed facts only; the keyed template fingerprints are one more observation."""
    items = [{"name": e.code, "data": {"title": e.title, "observed": e.observed}} for e in evidence]
    if hashes:
        items.append({"name": "template_fingerprints", "data": {"hmac_sha256": hashes}})
    return items


def _inferences(evidence: tuple[Evidence, ...]) -> list[dict[str, Any]]:
    return [
        {"evidence": e.code, "inference": e.inference, "confidence": e.confidence} for e in evidence
    ]


def _observables(members: tuple[str, ...], hashes: list[str]) -> list[dict[str, Any]]:
    accounts = [
        {"name": "resources.uid", "type_id": 10, "type": "Resource UID", "value": a}
        for a in members
    ]
    templates = [
        {"name": "evidences.data.hmac_sha256", "type_id": 8, "type": "Hash", "value": h}
        for h in hashes
    ]
    return accounts + templates


def _response(subject: Subject, run: RunResults) -> GatewayAction | None:
    return strongest([run.responses[a] for a in subject.members if a in run.responses])


def _template_hashes(subject: Subject, run: RunResults) -> list[str]:
    key = run.fingerprint_key
    if key is None:
        return []
    return [keyed(key, f) for f in run.fingerprints.get(subject.key, ())]


def _finding_info(subject: Subject, run: RunResults, time: int) -> dict[str, Any]:
    info: dict[str, Any] = {
        "uid": subject.uid,
        "title": subject.title,
        "desc": "; ".join(e.title for e in subject.evidence),
        "types": ["distillation", subject.kind, subject.tier],
        "analytic": {
            "uid": f"distillguard.{subject.kind}",
            "name": f"distillguard {subject.kind} score",
            "desc": ANALYTICS[subject.kind],
            "type_id": 1,
            "type": "Rule",
            "version": __version__,
        },
        "created_time": run.previous.created_time(subject.uid) or time,
        "modified_time": time,
        "data_sources": [
            "exchange-log",
            *(["stix-indicators"] if subject.kind == PEER_MATCH else []),
        ],
    }
    first = _millis(subject.first_seen)
    if first is not None:
        info["first_seen_time"] = first
    return info


def _unmapped(subject: Subject, run: RunResults, action: GatewayAction | None) -> dict[str, Any]:
    exchanges, capabilities = run.cluster_stats.get(subject.key, (None, None))
    extra: dict[str, Any] = {
        "score": subject.score,
        "accounts": len(subject.members),
        "accounts_listed": min(len(subject.members), MAX_LISTED),
        "inferences": _inferences(subject.evidence),
    }
    if subject.kind == "cluster":  # this run's id of it in clusters.* and accounts.*
        extra["cluster_id"] = subject.key
    if exchanges is not None:
        extra |= {"exchanges": exchanges, "capabilities": capabilities}
    if action is not None:
        at = None if action.at is None else action.at.isoformat()
        extra["response"] = {"rung": action.rung, "at": at, "source": action.source}
    return extra


def _classification(activity: int) -> dict[str, Any]:
    name = ACTIVITY_NAMES[activity]
    return {
        "activity_id": activity,
        "activity_name": name,
        "category_uid": 2,
        "category_name": "Findings",
        "class_uid": DETECTION_FINDING,
        "class_name": "Detection Finding",
        "type_uid": DETECTION_FINDING * 100 + activity,
        "type_name": f"Detection Finding: {name}",
    }


def _ratings(subject: Subject) -> dict[str, Any]:
    """Severity, confidence and risk, all from the tier and the score."""
    severity, confidence = severity_id(subject), confidence_id(subject.score)
    return {
        "severity_id": severity,
        "severity": SEVERITIES[severity],
        "status_id": 1,
        "status": "New",
        "confidence_id": confidence,
        "confidence": CONFIDENCES[confidence],
        "confidence_score": round(100 * subject.score),
        "risk_score": round(100 * subject.score),
        "risk_level_id": severity - 1,
        "risk_level": RISK_LEVELS[severity - 1],
        "risk_details": "; ".join(f"{e.inference} ({e.confidence:.2f})" for e in subject.evidence),
        "is_alert": severity >= 3,  # Low (review, a weak peer match) is no alert
    }


def _metadata(action: GatewayAction | None) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "version": OCSF_VERSION,
        "product": {"name": "distillguard", "vendor_name": "distillguard", "version": __version__},
    }
    if action is not None:
        metadata["profiles"] = ["security_control"]
    return metadata


def finding(subject: Subject, run: RunResults) -> dict[str, Any]:
    """One Detection Finding (a dict ready for JSON) for one subject of a run."""
    time = _millis(run.time) or 0
    action = _response(subject, run)
    hashes = _template_hashes(subject, run)
    listed = subject.members[:MAX_LISTED]
    return {
        **_classification(run.previous.activity(subject.uid)),
        "time": time,
        **_ratings(subject),
        "message": subject.title,
        "metadata": _metadata(action),
        "finding_info": _finding_info(subject, run, time),
        "resources": [{"type": "Account", "uid": a} for a in listed],
        "observables": _observables(listed, hashes),
        "evidences": _evidence(subject.evidence, hashes),
        **ocsf_fields(action),
        "unmapped": _unmapped(subject, run, action),
    }


def findings(run: RunResults) -> list[dict[str, Any]]:
    """This run's findings, then a Close for each open one it no longer finds."""
    current = [finding(s, run) for s in subjects(run.accounts, run.clusters, run.previous)]
    in_cluster = {a.account_id: a.cluster_id for a in run.accounts if a.cluster_id}

    def closing(found: dict[str, Any]) -> Closing:
        ids = [r["uid"] for r in found.get("resources", [])]
        dismissed = [run.dismissed[i] for i in ids if i in run.dismissed]
        if ids and len(dismissed) == len(ids):  # every account it listed was dismissed
            return Closing("; ".join(sorted(set(dismissed))), SUPPRESSED_STATUS)
        if "account" in found["finding_info"].get("types", []) and ids and ids[0] in in_cluster:
            return Closing(f"account now reported in cluster {in_cluster[ids[0]]}")
        return Closing("no longer detected")

    uids = {f["finding_info"]["uid"] for f in current}
    return current + run.previous.closes(uids, _millis(run.time) or 0, closing)


class OcsfSink:
    name = "ocsf"
    description = "OCSF 1.5.0 Detection Findings, one JSON object a line"

    def write(self, run: RunResults, out: Path) -> SinkOutput:
        rows = findings(run)
        out.mkdir(parents=True, exist_ok=True)
        path = out / FINDINGS_FILE
        # Written aside and renamed into place: the next run reads this file as its
        # previous findings, so it must never be seen half written.
        partial = path.with_name(f".{path.name}.partial")
        partial.write_bytes(b"".join(orjson.dumps(f) + b"\n" for f in rows))
        os.replace(partial, path)
        return SinkOutput((path,), len(rows))


__all__ = ["OCSF_VERSION", "OcsfSink", "account_uid", "finding", "findings"]
