"""Traffic simulator: benign populations and distillation campaigns as exchange-log v1."""

from distillguard.simulate.run import SimSummary, simulate

# Bumped whenever the same seed and arguments give another world, so that worlds cached by
# a benchmark are not mistaken for what the simulator draws now. 6: CI agents and eval
# runners rerun suites of prompts, and a randomised world's campaigns may resample theirs
# (simulate/repeats.py); 5: a randomised world
# redraws the tier mix of some populations over every tier, campaigns included
# (simulate/randomize.py `_tiers`); 4: a randomised world
# redraws who declares an organisation for some populations, campaigns included
# (simulate/randomize.py `_declarations`); 3: a randomised world's
# campaigns and tool-running customers may share one pool of instruction templates
# (simulate/randomize.py); 2: accounts of a randomised population lean their own way
# (simulate/individual.py); 1: before.
SIMULATOR_VERSION = 6

__all__ = ["SIMULATOR_VERSION", "SimSummary", "simulate"]
