"""One conformance test every registered finding sink passes."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from distillguard.errors import ConfigError
from distillguard.findings.registry import SINKS, get_sink
from distillguard.findings.sink import FindingSink
from tests.findings.results import sample_run


@pytest.mark.parametrize("sink", SINKS.values(), ids=list(SINKS))
def test_sink_conformance(sink: FindingSink, tmp_path: Path) -> None:
    assert sink.name and sink.description and get_sink(sink.name) is sink
    run = sample_run()
    first = sink.write(run, tmp_path / "a")
    assert first.records > 0 and first.paths
    for path in first.paths:
        assert path.is_file() and path.stat().st_size > 0 and path.parent == tmp_path / "a"
    assert set((tmp_path / "a").iterdir()) == set(first.paths)  # nothing else, nothing partial
    # The same results give the same bytes, and writing again replaces rather than appends.
    again = sink.write(run, tmp_path / "a")
    other = sink.write(run, tmp_path / "b")
    for path, repeat, elsewhere in zip(first.paths, again.paths, other.paths, strict=True):
        assert path.read_bytes() == repeat.read_bytes() == elsewhere.read_bytes()
    # A run that found nothing still writes its (empty) output.
    empty = sink.write(replace(run, accounts=(), clusters=()), tmp_path / "c")
    assert empty.records == 0 and all(p.is_file() for p in empty.paths)


def test_an_unknown_sink_names_the_valid_ones() -> None:
    with pytest.raises(ConfigError, match="ocsf, tables"):
        get_sink("splunk")
