"""Types shared by the subcommand modules."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    Subparsers = argparse._SubParsersAction[argparse.ArgumentParser]
else:  # argparse's action class is not subscriptable at run time
    Subparsers = Any
