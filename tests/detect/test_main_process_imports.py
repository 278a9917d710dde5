"""What a detect run imports: scikit-learn is for training and tests only.

The main process hands the signal workers file names and then links and scores; the
workers hash n-grams with mmh3 and score them with the shipped weights in NumPy. Importing
scikit-learn delayed the main process by 0.6 s and each worker by 1.3 s before its first
batch. A module that starts importing it on the run's path again fails here.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

TRAINING_ONLY = ("sklearn",)

PROBES = {
    # every command's module, as a run's parser imports them (main imports none itself)
    "the command line": "from distillguard.cli.main import build_parser; build_parser()",
    "a batch's signals": (
        "from distillguard.schema import EXCHANGES_SCHEMA; "
        "from distillguard.signals.registry import compute_signals; "
        "compute_signals(EXCHANGES_SCHEMA.empty_table())"
    ),
}


@pytest.mark.parametrize("module", TRAINING_ONLY)
@pytest.mark.parametrize("probe", list(PROBES), ids=list(PROBES))
def test_a_run_does_not_import_what_only_training_needs(probe: str, module: str) -> None:
    code = f"import sys; {PROBES[probe]}; print({module!r} in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
