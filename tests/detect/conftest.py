from __future__ import annotations

from pathlib import Path

import pytest

from distillguard.detect.run import detect
from distillguard.detect.summary import DetectSummary
from distillguard.ingest import ingest
from distillguard.simulate import SimSummary, simulate
from tests.simulate.conftest import TINY


@pytest.fixture(scope="session")
def tiny_sim(tmp_path_factory: pytest.TempPathFactory) -> SimSummary:
    preset = tmp_path_factory.mktemp("preset") / "tiny.yaml"
    preset.write_text(TINY)
    return simulate(str(preset), tmp_path_factory.mktemp("sim"), seed=11)


@pytest.fixture(scope="session")
def tiny_lake(tiny_sim: SimSummary, tmp_path_factory: pytest.TempPathFactory) -> Path:
    lake = tmp_path_factory.mktemp("lake")
    ingest([tiny_sim.files[0]], lake, [tiny_sim.files[1]])
    return lake


@pytest.fixture(scope="session")
def tiny_detect(tiny_lake: Path, tmp_path_factory: pytest.TempPathFactory) -> DetectSummary:
    return detect([tiny_lake], tmp_path_factory.mktemp("detect"))
