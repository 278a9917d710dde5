"""Prompt sources: the built-in grammar, or real third-party corpora read with --corpus.

Both give prompts by task kind. Corpus rows are shared by every population that sends that
kind of task, so which corpus a prompt came from never tells benign from attack.
"""

from __future__ import annotations

import string
from codecs import BOM_UTF8
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Protocol

import numpy as np
import orjson

from distillguard.errors import UserError
from distillguard.simulate.content.grammar import COT_SUFFIXES, SLOTS, TEMPLATES

OPENERS = ("", "", "", "Hi! ", "Quick question: ", "Hey, ", "Please help: ", "So ", "OK. ")
CLOSERS = ("", "", "", " Thanks!", " thx", " Be concise.", " Cite sources if you can.")

# Which corpus `kind`s stand in for which task kinds (see ../shared/data/corpora/SOURCES.md).
CORPUS_KINDS: dict[str, tuple[str, ...]] = {
    "chat": ("benign", "distill", "distill-seed", "human-redteam"),
    "query": ("benign-query",),
    "code": ("task-code", "distill-code"),
    "math": ("task-math",),
    "homework": ("task-math",),
    "tool_use": ("task-agentic", "distill-tooluse"),
    "grading": ("distill-judge",),
}


class PromptSource(Protocol):
    def prompts(self, kind: str, rng: np.random.Generator, n: int) -> list[str]:
        """n prompts of one task kind."""


def _slot_names(template: str) -> tuple[str, ...]:
    return tuple(name for _, name, _, _ in string.Formatter().parse(template) if name)


class GrammarSource:
    """Templates with slots, plus openers and closers, for wide phrasing variety."""

    def __init__(self) -> None:
        self._slots = {kind: [_slot_names(t) for t in ts] for kind, ts in TEMPLATES.items()}
        self._values = {name: np.asarray(values, dtype=object) for name, values in SLOTS.items()}

    def prompts(self, kind: str, rng: np.random.Generator, n: int) -> list[str]:
        """Rows are filled template by template, each slot's values drawn as one array."""
        templates = TEMPLATES[kind]
        chosen = rng.integers(len(templates), size=n)
        out = np.empty(n, dtype=object)
        for t, template in enumerate(templates):
            rows = np.flatnonzero(chosen == t)
            names = self._slots[kind][t]
            columns = [self._values[s][rng.integers(len(SLOTS[s]), size=len(rows))] for s in names]
            out[rows] = (
                [
                    template.format_map(dict(zip(names, fill, strict=True)))
                    for fill in zip(*columns, strict=True)
                ]
                if names
                else [template] * len(rows)
            )
        openers = np.asarray(OPENERS, dtype=object)[rng.integers(len(OPENERS), size=n)]
        closers = np.asarray(CLOSERS, dtype=object)[rng.integers(len(CLOSERS), size=n)]
        return list(openers + out + closers)


class CorpusSource:
    """Prompts drawn from JSONL corpora ({"text", "kind"} rows); kinds with no corpus text
    fall back to the grammar."""

    def __init__(self, directory: Path) -> None:
        if not directory.is_dir():
            what = "a file, not a folder" if directory.exists() else "not found"
            raise UserError(f"corpus directory {directory}: {what} (give the folder of .jsonl)")
        by_kind: dict[str, list[str]] = {}
        for path in sorted(directory.glob("*.jsonl")):
            for kind, text in _corpus_rows(path):
                by_kind.setdefault(kind, []).append(text)
        if not by_kind:
            raise UserError(f"no .jsonl corpora in {directory}")
        known = {k for kinds in CORPUS_KINDS.values() for k in kinds}
        if not known & set(by_kind):  # else every prompt came from the grammar, unsaid
            raise UserError(
                f"no corpus row in {directory} has a kind simulate uses (found "
                f"{', '.join(sorted(by_kind))}); valid kinds: {', '.join(sorted(known))}"
            )
        self._texts: Mapping[str, list[str]] = {
            task: [t for k in kinds for t in by_kind.get(k, [])]
            for task, kinds in CORPUS_KINDS.items()
        }
        self._grammar = GrammarSource()

    def prompts(self, kind: str, rng: np.random.Generator, n: int) -> list[str]:
        texts = self._texts.get(kind)
        if not texts:
            return self._grammar.prompts(kind, rng, n)
        return [texts[i] for i in rng.integers(len(texts), size=n)]


def _corpus_rows(path: Path) -> Iterator[tuple[str, str]]:
    """(kind, text) of each row of one corpus file; a bad row is a UserError naming it."""
    lines = path.read_bytes().removeprefix(BOM_UTF8).splitlines()  # Windows tools write one
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise UserError(f"corpus {path} line {number}: invalid JSON: {exc}") from None
        if not isinstance(row, dict) or not isinstance(row.get("text"), str):
            raise UserError(f'corpus {path} line {number}: not a {{"text", "kind"}} object')
        yield str(row.get("kind")), row["text"]


def with_cot(prompts: list[str], mask: np.ndarray, rng: np.random.Generator) -> list[str]:
    """Append a chain-of-thought request (in one of many phrasings) where mask is set."""
    picks = rng.integers(len(COT_SUFFIXES), size=len(prompts))
    return [f"{p} {COT_SUFFIXES[picks[i]]}" if mask[i] else p for i, p in enumerate(prompts)]
