"""Sigma rules for the per-request signals a SIEM can evaluate on gateway logs itself.

One rule per content classifier (chain-of-thought elicitation, reasoning-trace extraction,
rubric grading, censorship-safe rewrite), generated from the classifier's own patterns in
`signals/lexicon.py`. A rule matches exactly when the classifier would count the prompt as
eliciting (probability >= ELICITED): any pattern strong enough on its own, or a smallest
set of weaker ones whose noisy-OR gets there; and every `requires` pattern. Patterns run
case-insensitively (the classifier lower-cases the prompt first).

The logsource is our own: `product: distillguard`, `service: exchange_log`, with the
exchange-log fields and `prompt`, the text of the exchange's last message (what the
classifiers read). `EXCHANGES_VIEW` is that logsource over a Parquet lake, for DuckDB.
"""

from __future__ import annotations

import itertools
import uuid
from pathlib import Path
from typing import Any

import yaml

from distillguard.profiles.hourly import ELICITED
from distillguard.signals.lexicon import CLASSIFIERS, LexiconClassifier

FIELD = "prompt"
LOGSOURCE = {
    "product": "distillguard",
    "service": "exchange_log",
    "definition": (
        "distillguard exchange-log v1 rows (one per API request and its response) with "
        "`prompt`: the text blocks of the last message, joined by single spaces"
    ),
}
NAMESPACE = uuid.UUID("8c6b4a57-4d0e-5f0b-a1f9-2f4b8d6c3e10")
RULE_DATE = "2026-11-29"  # when these rules were first written; rule ids never change
ABOUT: dict[str, tuple[str, str, str, list[str]]] = {
    "cot_elicitation": (
        "Chain-of-thought elicitation",
        "low",
        "asks the model to show its step-by-step reasoning",
        ["students and evaluation runs ask for step-by-step working too"],
    ),
    "trace_extraction": (
        "Reasoning-trace extraction",
        "medium",
        "asks the model to reveal, repeat or reconstruct its hidden reasoning",
        ["prompt-engineering and interpretability research"],
    ),
    "rubric_grading": (
        "Rubric grading (LLM-as-judge)",
        "low",
        "asks the model to grade or compare responses against a rubric or scale",
        ["evaluation pipelines and teachers grading work"],
    ),
    "censorship_rewrite": (
        "Censorship-safe rewrite",
        "medium",
        "asks for a rewrite that avoids politically sensitive content",
        ["editors localising content for a market"],
    ),
}


def firing_sets(classifier: LexiconClassifier, threshold: float = ELICITED) -> list[list[str]]:
    """The smallest sets of patterns whose noisy-OR reaches `threshold`, strongest first."""
    strong = [[p] for p, w in classifier.patterns if w >= threshold]
    weak = [(p, w) for p, w in classifier.patterns if w < threshold]
    found: list[tuple[str, ...]] = []
    for size in range(2, len(weak) + 1):
        for combo in itertools.combinations(weak, size):
            names = tuple(p for p, _ in combo)
            miss = 1.0
            for _, w in combo:
                miss *= 1.0 - w
            if 1.0 - miss >= threshold and not any(set(f) <= set(names) for f in found):
                found.append(names)
    return strong + [list(f) for f in found]


def portable(pattern: str) -> str:
    """The pattern with quote characters as hex escapes, so that no backend's string
    quoting (SQL's '...', SPL's "...") can break it; RE2, PCRE and Python read them alike."""
    return pattern.replace("'", r"\x27").replace('"', r"\x22")


def _detection(classifier: LexiconClassifier) -> dict[str, Any]:
    sets = firing_sets(classifier)
    detection: dict[str, Any] = {
        "phrase_alone": {f"{FIELD}|re|i": [portable(s[0]) for s in sets if len(s) == 1]}
    }
    for i, combo in enumerate((s for s in sets if len(s) > 1), 1):
        detection[f"phrase_together_{i}"] = {f"{FIELD}|re|i|all": [portable(p) for p in combo]}
    for i, pattern in enumerate(classifier.requires, 1):
        detection[f"required_{i}"] = {f"{FIELD}|re|i": portable(pattern)}
    condition = "1 of phrase_*"
    if classifier.requires:
        condition += " and all of required_*"
    detection["condition"] = condition
    return detection


About = tuple[str, str, str, list[str]]  # title, level, what it asks for, false positives


def sigma_rule(classifier: LexiconClassifier, about: About | None = None) -> dict[str, Any]:
    title, level, what, false_positives = about or ABOUT[classifier.name]
    return {
        "title": f"LLM prompt: {title}",
        "id": str(uuid.uuid5(NAMESPACE, f"sigma:{classifier.name}")),
        "status": "experimental",
        "description": (
            f"A prompt that {what}, as distillguard's {classifier.name} classifier counts it "
            f"(probability >= {ELICITED}). One such request is no attack; many across an "
            "account or a cluster of accounts are how model distillation harvests outputs."
        ),
        "author": "distillguard",
        "date": RULE_DATE,
        "tags": ["detection.threat-hunting"],
        "logsource": LOGSOURCE,
        "detection": _detection(classifier),
        "fields": ["request_id", "ts", "account_id", "api_key_id", "ip", "model"],
        "falsepositives": false_positives,
        "level": level,
    }


def sigma_rules() -> dict[str, dict[str, Any]]:
    """One rule per classifier, by the classifier's name."""
    return {c.name: sigma_rule(c) for c in CLASSIFIERS}


def write_sigma(out: Path) -> list[Path]:
    """Each rule as `OUT/distillguard_<name>.yml`, and the DuckDB view of the logsource."""
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, rule in sigma_rules().items():
        path = out / f"distillguard_{name}.yml"
        path.write_text(yaml.safe_dump(rule, sort_keys=False, allow_unicode=True, width=1000))
        paths.append(path)
    view = out / "exchange_log_view.sql"
    view.write_text(EXCHANGES_VIEW.format(exchanges="LAKE/exchanges/*/*.parquet") + ";\n")
    return [*paths, view]


# The logsource over a lake: exchange-log fields plus `prompt`, built exactly as the
# classifiers build it (signals/text.py: the last message's blocks, text ones by their
# text, others as empty strings, joined by single spaces).
EXCHANGES_VIEW = """CREATE OR REPLACE VIEW logs AS
SELECT request_id, ts, account_id, api_key_id, access_path, ip, asn, country, user_agent,
       model, status,
       coalesce(array_to_string(list_transform(messages[-1].content,
           lambda b: CASE WHEN b.type = 'text' THEN coalesce(b.text, '') ELSE '' END), ' '), '')
         AS prompt
FROM read_parquet('{exchanges}', hive_partitioning = true)"""
