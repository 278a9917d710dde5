"""Traffic simulator: benign populations and distillation campaigns as exchange-log v1."""

from distillguard.simulate.run import SimSummary, simulate

__all__ = ["SimSummary", "simulate"]
