"""Content classifiers for elicitation behaviour, from weighted phrase patterns.

Each pattern carries the share of prompts matching it that were true positives in our own
labelled set (tests/signals/lexicon_cases.py, written apart from the simulator's grammar);
several hits combine as a noisy-OR, which keeps the output a probability. Patterns run as
RE2 regular expressions over whole Arrow columns (`signals/regex.py`: Arrow's kernel, or for
a batch of a few rows, such as the gateway's one request, RE2 with the patterns compiled once).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from distillguard.signals.regex import SMALL_BATCH, compiled, matches

Pattern = tuple[str, float]

_REASONING = (
    r"(reasoning|thinking|thoughts?|thought process|chain[- ]of[- ]thought|scratchpad|"
    r"deliberation|rationale)"
)


@dataclass(frozen=True)
class LexiconClassifier:
    """A named set of patterns; `requires` patterns must all hit for any weight to count."""

    name: str
    patterns: tuple[Pattern, ...]
    requires: tuple[str, ...] = ()

    def score(self, lowered: pa.Array) -> np.ndarray:
        """P(positive) per text; `lowered` must already be lower-case."""
        if len(lowered) <= SMALL_BATCH:
            texts = lowered.to_pylist()
            return np.array([self.score_text(t or "") for t in texts], dtype=np.float64)
        out = np.zeros(len(lowered))
        # One pass of all patterns together finds the few texts any of them matches (RE2
        # runs an alternation about as fast as one pattern); only those are scored in full.
        candidates = np.flatnonzero(matches(lowered, self.any_pattern))
        if len(candidates):
            out[candidates] = self._score_all(lowered.take(pa.array(candidates)))
        return out

    def score_text(self, lowered: str) -> float:
        """P(positive) of one lower-case text: what `score` gives its row, without Arrow."""
        data = lowered.encode()
        if compiled(self.any_pattern).search(data) is None:
            return 0.0
        if any(compiled(p).search(data) is None for p in self.requires):
            return 0.0
        miss = 1.0
        for pattern, weight in self.patterns:
            if compiled(pattern).search(data) is not None:
                miss *= 1.0 - weight
        return 1.0 - miss

    @functools.cached_property
    def any_pattern(self) -> str:
        return "|".join(f"(?:{pattern})" for pattern, _ in self.patterns)

    def _score_all(self, lowered: pa.Array) -> np.ndarray:
        miss = np.ones(len(lowered))
        for pattern, weight in self.patterns:
            miss *= np.where(matches(lowered, pattern), 1.0 - weight, 1.0)
        gate = np.ones(len(lowered), dtype=bool)
        for pattern in self.requires:
            gate &= matches(lowered, pattern)
        return np.where(gate, 1.0 - miss, 0.0)


COT_ELICITATION = LexiconClassifier(
    "cot_elicitation",
    (
        (r"step[- ]by[- ]step", 0.85),
        (
            r"\b(show|explain|walk (me )?through|lay out|spell out|detail|write out)\b.{0,30}"
            r"\b(your|the|all|each|every)\b.{0,20}\b(reasoning|thinking|thought process|steps|"
            r"working|derivation|logic)\b",
            0.85,
        ),
        (r"\bchain[- ]of[- ]thought\b", 0.9),
        (r"\bthink (carefully|hard|it through|through|aloud|out loud)\b", 0.7),
        (r"\breason(ing)? (it |this )?(through|carefully|out)\b", 0.75),
        (r"\bintermediate (steps|results|calculations|reasoning)\b", 0.75),
        (r"\bshow (your|all|the|me the) work(ing)?\b", 0.8),
        (r"\blet'?s work (this|it) out\b", 0.7),
        (r"\bjustify (each|every) step\b", 0.8),
        (
            r"\b(before|prior to) (giving|stating|writing|you give)\b.{0,30}"
            r"\b(answer|conclusion)\b",
            0.55,
        ),
    ),
)

TRACE_EXTRACTION = LexiconClassifier(
    "trace_extraction",
    (
        (r"<\s*/?\s*(thinking|reasoning|thought|thoughts|scratchpad)\s*>", 0.85),
        (
            r"\b(output|print|repeat|reveal|show|dump|give me|write out|copy|reproduce|share)\b"
            r".{0,40}\b(prior|previous|earlier|internal|hidden|full|complete|entire|raw|original)\b"
            rf".{{0,30}}\b{_REASONING}",
            0.9,
        ),
        (r"\b(verbatim|word for word|word-for-word)\b", 0.45),
        (
            r"\b(reconstruct|imagine|infer|recreate|write out|reverse[- ]engineer)\b"
            rf".{{0,60}}\b{_REASONING}"
            r".{0,60}\b(led to|behind|produced|resulted in|for (this|the|that))\b",
            0.85,
        ),
        (r"\binternal (monologue|reasoning|thoughts?)\b", 0.75),
        (r"\beverything you (thought|were thinking|considered)\b", 0.85),
    ),
)

RUBRIC_GRADING = LexiconClassifier(
    "rubric_grading",
    (
        (r"\brubric\b", 0.7),
        (
            r"\b(score|rate|grade|evaluate|judge|assess)\b.{0,120}\b(from|scale of|between|out of)"
            r"\s*\d+\s*(to|-|and|/)\s*\d+",
            0.85,
        ),
        (
            r"\b(which|whether)\b.{0,40}\b(response|answer|reply|assistant|output)\b.{0,30}\bbetter\b",
            0.8,
        ),
        (r"\[result\]|\bfinal verdict\b|\[\[a\]\]|\bverdict\b", 0.7),
        (r"\b(evaluation|scoring|grading) criteria\b|\bcriteria:", 0.6),
        (r"\b(response|answer|reply|output) to (evaluate|grade|judge|score)\b", 0.85),
        (r"\breference answer\b", 0.6),
    ),
)

CENSORSHIP_REWRITE = LexiconClassifier(
    "censorship_rewrite",
    (
        (r"\b(politically|political)\b.{0,40}\b(sensitive|acceptable|safe|neutral)\b", 0.8),
        (
            r"\b(censor\w*|content reviewer|authorities would|official (position|narrative|line)|"
            r"party line)\b",
            0.8,
        ),
        (
            r"\b(acceptable|safe|allowed) (to publish )?in (any|every|all|mainland|that) "
            r"(country|countries|market)",
            0.85,
        ),
        (r"\b(avoid|without|remove)\b.{0,30}\b(sensitive|controversial|political)\b", 0.6),
        (
            r"\b(neutral|sanitized|sanitised|toned[- ]down)\b.{0,40}"
            r"\b(version|wording|phrasing|answer)\b",
            0.5,
        ),
    ),
    requires=(
        r"\b(rewrite|re-write|rephrase|reword|revise|paraphrase|version|edit|answer|respond)",
    ),
)

CLASSIFIERS = (COT_ELICITATION, TRACE_EXTRACTION, RUBRIC_GRADING, CENSORSHIP_REWRITE)
