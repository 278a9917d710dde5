"""Compiled kernels still load where Numba has nowhere to keep its cache.

A read-only install with no writable home (or NUMBA_CACHE_DIR) made Numba's cached
compile raise when the module was imported, and every command with it. Numba is told here
that no cache location applies (only zip imports have one), which is what it finds there.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from distillguard.compiled import kernel

RUN = """
import numpy as np
from distillguard.cli.main import build_parser
from distillguard.scoring.combiner import shipped
build_parser()
combiner = shipped()
x = np.random.default_rng(0).random((50, len(combiner.features)))
print(combiner.score({f: x[:, i] for i, f in enumerate(combiner.features)}).round(6).tolist())
"""


@pytest.mark.parametrize("cache", ["found", "nowhere"])
def test_the_command_line_and_the_forest_load_whether_or_not_a_cache_can_be_kept(
    cache: str,
) -> None:
    env = dict(os.environ)
    if cache == "nowhere":
        env["NUMBA_CACHE_LOCATOR_CLASSES"] = "ZipCacheLocator"
    done = subprocess.run(
        [sys.executable, "-c", RUN], capture_output=True, text=True, env=env, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    scores = [float(s) for s in done.stdout.strip()[1:-1].split(",")]
    assert len(scores) == 50 and all(0.0 < s < 1.0 for s in scores)


def test_a_kernel_is_called_as_the_function_it_compiles() -> None:
    @kernel
    def add(a: int, b: int) -> int:
        return a + b

    assert add(2, 3) == 5
