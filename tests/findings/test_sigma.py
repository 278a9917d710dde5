from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pytest
import yaml
from sigma.collection import SigmaCollection
from sigma.rule import SigmaRule
from sigma.validation import SigmaValidator
from sigma.validators.core import validators

from distillguard.findings.sigma import firing_sets, sigma_rule, sigma_rules, write_sigma
from distillguard.ingest import Lake, ingest
from distillguard.profiles.hourly import ELICITED
from distillguard.signals.lexicon import CLASSIFIERS, LexiconClassifier
from distillguard.signals.text import last_user_text
from tests.findings.sigma_convert import duckdb_query, matched_ids, splunk_query
from tests.signals import lexicon_cases

CASES = {
    "cot_elicitation": lexicon_cases.COT,
    "trace_extraction": lexicon_cases.TRACE,
    "rubric_grading": lexicon_cases.RUBRIC,
    "censorship_rewrite": lexicon_cases.REWRITE,
}
# Validators that need no download (the ATT&CK, D3FEND and CAR ones fetch their data).
OFFLINE = [v for k, v in validators.items() if not k.startswith(("attack", "d3_fend", "car"))]


@pytest.fixture(scope="module")
def rules(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("sigma")
    paths = write_sigma(out)
    return {p.stem.removeprefix("distillguard_"): p for p in paths if p.suffix == ".yml"}


def _exchange(i: int, text: str, *, image: bool = False) -> dict[str, object]:
    content: object = text
    if image:  # a text block, an image, another text block: the prompt joins them
        half = len(text) // 2
        content = [
            {"type": "text", "text": text[:half]},
            {"type": "image", "media_type": "image/png"},
            {"type": "text", "text": text[half:]},
        ]
    return {
        "request_id": f"r{i}",
        "ts": (datetime(2026, 2, 1, tzinfo=UTC) + timedelta(minutes=i)).isoformat(),
        "account_id": f"a{i % 5}",
        "model": "m",
        "messages": [
            {"role": "user", "content": "Earlier question, step by step please."},
            {"role": "assistant", "content": "An answer."},
            {"role": "user", "content": content},
        ],
    }


@pytest.fixture(scope="module")
def labelled_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every labelled prompt of every classifier, in upper case too and split around an
    image, ingested into a real lake."""
    texts = [text for cases in CASES.values() for text, _ in cases]
    rows = [_exchange(i, t) for i, t in enumerate(texts)]
    rows += [_exchange(len(rows) + i, t.upper()) for i, t in enumerate(texts)]
    rows += [_exchange(len(rows) + i, t, image=True) for i, t in enumerate(texts)]
    folder = tmp_path_factory.mktemp("labelled")
    (folder / "exchanges.jsonl").write_bytes(b"\n".join(orjson.dumps(r) for r in rows))
    ingest([folder / "exchanges.jsonl"], folder / "lake")
    return folder / "lake"


def _classifier_matches(lake: Path, classifier: LexiconClassifier) -> set[str]:
    files = [str(f) for f in Lake(lake).exchange_files()]
    table = ds.dataset(files, format="parquet").to_table(columns=["request_id", "messages"])
    scores = classifier.score(pc.utf8_lower(last_user_text(table["messages"].combine_chunks())))
    ids = table["request_id"].to_pylist()
    return {ids[i] for i, s in enumerate(scores) if s >= ELICITED}


def test_one_rule_per_classifier_with_stable_ids() -> None:
    rules = sigma_rules()
    assert list(rules) == [c.name for c in CLASSIFIERS]
    assert len({r["id"] for r in rules.values()}) == len(rules)
    assert sigma_rules() == rules


def test_rules_pass_pysigmas_validators_and_convert_for_duckdb_and_splunk(
    rules: dict[str, Path],
) -> None:
    for path in rules.values():
        collection = SigmaCollection.from_yaml(path.read_text())
        assert collection.errors == []
        [rule] = collection.rules
        assert isinstance(rule, SigmaRule)
        assert SigmaValidator(OFFLINE).validate_rules(iter([rule])) == []
        assert duckdb_query(path).startswith("SELECT * FROM logs WHERE ")
        assert "| regex" in splunk_query(path) or "| rex" in splunk_query(path)


@pytest.mark.parametrize("name", list(CASES))
def test_the_duckdb_rule_matches_what_the_classifier_matches(
    name: str, rules: dict[str, Path], labelled_lake: Path
) -> None:
    classifier = next(c for c in CLASSIFIERS if c.name == name)
    expected = _classifier_matches(labelled_lake, classifier)
    assert matched_ids(labelled_lake, rules[name]) == expected
    positives = sum(label for _, label in CASES[name])
    assert len(expected) >= 3 * positives * 0.8  # the rule catches the labelled positives


@pytest.mark.parametrize(
    ("patterns", "sets"),
    [
        ((("a", 0.9), ("b", 0.45)), [["a"]]),
        ((("a", 0.3), ("b", 0.3)), [["a", "b"]]),
        ((("a", 0.35), ("b", 0.25), ("c", 0.6)), [["c"], ["a", "b"]]),
        ((("a", 0.3), ("b", 0.2), ("c", 0.6)), [["c"]]),  # 1 - 0.7 * 0.8 = 0.44
        ((("a", 0.21), ("b", 0.21), ("c", 0.21)), [["a", "b", "c"]]),
        ((("a", 0.1), ("b", 0.1), ("c", 0.1)), []),
        ((("a", 0.3), ("b", 0.3), ("c", 0.3)), [["a", "b"], ["a", "c"], ["b", "c"]]),
    ],
)
def test_firing_sets_are_the_smallest_sets_reaching_the_threshold(
    patterns: tuple[tuple[str, float], ...], sets: list[list[str]]
) -> None:
    assert firing_sets(LexiconClassifier("x", patterns)) == sets


def test_a_rule_with_weak_patterns_and_requirements_matches_like_its_classifier(
    tmp_path: Path,
) -> None:
    """No shipped classifier needs two weak patterns together; this one does."""
    classifier = LexiconClassifier(
        "toy", (("alpha", 0.3), ("beta", 0.3), ("it's gamma", 0.9)), requires=(r"\bgo\b",)
    )
    rule = tmp_path / "toy.yml"
    rule.write_text(yaml.safe_dump(sigma_rule(classifier, ("Toy", "low", "plays", []))))
    prompts = [
        "Alpha beta, GO",
        "alpha only, go",
        "IT'S GAMMA go",
        "it's gamma",
        "beta go alpha",
        "gamma go",
        "alphabeta go",
        "",
    ]
    con = duckdb.connect()
    con.register(
        "logs", pa.table({"request_id": [str(i) for i in range(len(prompts))], "prompt": prompts})
    )
    matched = {
        r[0] for r in con.execute(f"SELECT request_id FROM ({duckdb_query(rule)})").fetchall()
    }
    scores = classifier.score(pc.utf8_lower(pa.array(prompts)))
    assert (
        matched == {str(i) for i, s in enumerate(scores) if s >= ELICITED} == {"0", "2", "4", "6"}
    )
