"""What a detect run's main process imports before its workers start.

The signal workers classify text with scikit-learn; the main process only hands them file
names and then links and scores, so importing scikit-learn there only delayed the run
(0.6 s on this machine). A module that starts importing it at the top again fails here.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY_FOR_WORKERS_ONLY = ("sklearn",)


@pytest.mark.parametrize("module", HEAVY_FOR_WORKERS_ONLY)
def test_the_command_line_does_not_import_what_only_workers_need(module: str) -> None:
    probe = f"import sys, distillguard.cli.main; print({module!r} in sys.modules)"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
