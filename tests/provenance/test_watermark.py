from __future__ import annotations

import itertools
import random
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from distillguard.provenance.groups import default_groups
from distillguard.provenance.key import WatermarkKey
from distillguard.provenance.watermark import Watermarker, watermark_many, watermark_text

PROSE = (
    "We often choose a big model. For example, the whole system is large and it seems "
    "fine. Moreover, anyone can obtain it quickly, and everyone frequently assesses it."
)
KEYS = [WatermarkKey.generate(seed=s) for s in range(40)]

# Each protected span sits between two prose sentences full of swappable words; whatever the
# key, the span must come out byte for byte.
PROTECTED = [
    "```python\nbig = large(often=True)  # big often\nwhole = entire\n```",
    "~~~\noften big large\n~~~",
    "    indented code often big large",
    "Use `often big large` here.",
    'He said "the big dog often barks a large bark" and left.',
    "He wrote \u201cthe big dog often barks\u201d and left.",
    "The book 'A Big Whole Often' is old.",
    '{"often": "big", "note": "a large whole"}',
    '[{"name": "search", "arguments": {"query": "big large often"}}]',
    "<tool_call>search often big large</tool_call>",
    "> a quoted line: often big large",
    "| often | big | large |",
    "http://example.com/big/large often_big big.large 3big large2",
    # a capital inside a sentence is a name's; so is one after a heading or bullet mark, a
    # number, a line break or a quotation, none of which opens a sentence
    "We toured the Large Hadron Collider and read on the Big Bang.",
    "## Large Hadron Collider",
    "- Big Bang: the start of it all.",
    "In 2012 Large Hadron Collider results came.",
    "We toured the\nLarge Hadron Collider in May.",
    'She said "hi" Big Ben rang.',
    "Objective: explain it.",  # a field label a template may expect word for word
    "Main: 42 (the rest below).",
]


@pytest.mark.parametrize("span", PROTECTED)
def test_protected_spans_never_change(span: str) -> None:
    text = f"{PROSE}\n\n{span}\n\n{PROSE}"
    for key in KEYS:
        out = watermark_text(text, key).text
        assert span in out, key


def test_only_group_words_change_and_case_is_kept() -> None:
    changed = 0
    for key in KEYS:
        result = watermark_text(PROSE, key)
        before, after = PROSE.split(), result.text.split()
        assert len(before) == len(after)
        for a, b in zip(before, after, strict=True):
            if a != b:
                changed += 1
                assert a[0].isupper() == b[0].isupper()
                assert re.sub(r"\w", "", a) == re.sub(r"\w", "", b)  # punctuation kept
        assert result.changed == sum(a != b for a, b in zip(before, after, strict=True))
    assert changed > 0


def test_result_explains_itself() -> None:
    result = watermark_text(PROSE, KEYS[0])
    assert f"{result.changed} of {result.words} words changed" in result.explanation


def test_a_word_at_a_chunk_boundary_waits_for_the_rest() -> None:
    """A chunk cut by the delta waits for its rest, and each chunk waits for the next,
    which decides whether it may be swapped ("needs to")."""
    marker = Watermarker(KEYS[0])
    assert marker.feed("It is a large") == "It is"
    assert marker.feed("-scale system") == " a"
    assert marker.flush() == " large-scale system"


# (text, the member that must stay: the word after it fits it alone)
GRAMMAR = [
    ("So the whole tire needs to be replaced.", "needs to"),
    ("It seems like a lot of work to me.", "seems like"),
    ("They seem like good people in the end.", "seem like"),
    ("We needed to wait for a long time.", "needed to"),
]


@pytest.mark.parametrize(("text", "kept"), GRAMMAR)
def test_a_member_the_next_word_fits_alone_is_never_swapped(text: str, kept: str) -> None:
    """Served text read "the whole tire requires to be replaced" and "it may appear like a
    lot": the scanner decided from the words before only."""
    for key in KEYS:
        assert kept in watermark_text(text, key).text, key


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=len(PROSE)), max_size=12), st.integers(0, 39))
def test_streaming_equals_whole(cuts: list[int], key_index: int) -> None:
    text = f"{PROSE}\n```\nbig often\n```\n{PROSE} `a big` {{'x': 'big'}} {PROSE}"
    key = KEYS[key_index]
    bounds = sorted({0, len(text), *(c % (len(text) + 1) for c in cuts)})
    marker = Watermarker(key)
    streamed = "".join(marker.feed(text[a:b]) for a, b in itertools.pairwise(bounds))
    streamed += marker.flush()
    assert streamed == watermark_text(text, key).text


def test_many_equals_one_by_one() -> None:
    texts = [PROSE, "A big one.", "", "often often often"]
    assert [r.text for r in watermark_many(texts, KEYS[1])] == [
        watermark_text(t, KEYS[1]).text for t in texts
    ]


def test_same_context_same_choice_and_word_shares_barely_move() -> None:
    rng = random.Random(0)
    words = ["big", "large"]
    firsts = [f"q{a}" for a in "abcdefghijklmnopqrst"]
    seconds = [f"r{a}" for a in "abcdefghijklmno"]
    text = ". ".join(
        f"{rng.choice(firsts)} {rng.choice(seconds)} {rng.choice(words)}" for _ in range(3000)
    )
    out = watermark_text(text, KEYS[2]).text
    triples = re.findall(r"(q[a-z]) (r[a-z]) (big|large)", out)
    assert len(triples) == 3000
    chosen: dict[tuple[str, str], set[str]] = {}
    for first, second, word in triples:
        chosen.setdefault((first, second), set()).add(word)
    assert all(len(v) == 1 for v in chosen.values())  # the key fixes one word per context
    group, _ = default_groups().lookup("big") or pytest.fail("big is a group member")
    big_share = sum(w == "big" for _, _, w in triples) / len(triples)
    assert abs(big_share - group.shares[0]) < 0.1  # over many contexts, the natural share
