"""Detection settings. Invalid values raise ConfigError, never assert."""

from __future__ import annotations

from dataclasses import dataclass, fields

from distillguard.errors import ConfigError
from distillguard.scoring.followers import FollowRule

# Settings that are shares or scores: each must lie in (0, 1].
FRACTIONS = (
    "account_threshold",
    "cluster_threshold",
    "review_threshold",
    "member_floor",
    "min_link",
    "combiner_flag",
    "combiner_review",
    "combiner_follow_share",
    "combiner_follow_floor",
)
# Settings that count something (hours among them): each a whole number of at least 1.
COUNTS = (
    "tick_hours",
    "window_hours",
    "cluster_every_hours",
    "run_windows",
    "cluster_min_accounts",
    "max_key_degree",
    "combiner_flag_ticks",
)
# Who decides flags and reviews: the learned combiner of relative and cohort features
# (scoring/combiner.py), or the hand-set rules and thresholds alone.
DECIDERS = ("combiner", "rules")


@dataclass(frozen=True)
class DetectConfig:
    """How detection replays the log and where it draws its lines."""

    tick_hours: int = 1  # account scores are evaluated at every hourly tick
    window_hours: int = 168  # the moving window profiles and links are built over
    cluster_every_hours: int = 6  # linking and cluster scores are recomputed this often
    # An account scoring this alone is flagged. 0.85 rather than 0.8: over 56 days 0.8 flagged
    # 2% of heavy benign users (8 of 400) for one week that looked like extraction; 0.85
    # flags 3 of them and flags the reported campaigns' accounts a few active hours later.
    account_threshold: float = 0.85
    cluster_threshold: float = 0.85  # a cluster scoring this is flagged
    # An account whose own score reaches this, and is not flagged, is listed for review (a
    # person's look, re-verification): graded below a flag. 0.65 is above any one generic
    # automation rule at full strength (at most 0.6) and just below a full thin harvest
    # (0.7). On 56 days 0.6 listed 1.1% of benign accounts; 0.65 listed 0.8%.
    review_threshold: float = 0.65
    cluster_min_accounts: int = 3
    member_floor: float = 0.25  # members of a flagged cluster need this much of their own
    max_key_degree: int = 200  # keys shared by more accounts link nothing
    min_link: float = 0.5  # pairs whose shared keys weigh less stay apart
    # Replay in runs this many windows long (see detect.schedule.runs): longer runs re-score
    # less of the log and hold more of it. On 56 days, 4 ran 20,400 exchanges/s at 4.1 GB
    # peak; 2 ran 18,600/s at 2.9 GB, with every account's results the same.
    run_windows: int = 2
    seed: int = 0
    decide_by: str = "combiner"
    # With decide_by="combiner": an account whose combiner probability reaches this at
    # combiner_flag_ticks linking ticks (each cluster_every_hours apart) is flagged, or
    # listed for review: its score is the k-th highest of its tick probabilities, so one
    # odd window flags nobody, while a campaign's account stays high as it harvests. Frozen
    # by `benchmarks/robustness fit` at two ticks on randomised worlds the combiner was not
    # trained on (seeds 1-4 and 21-40, simulator version 4), 7 and 14 days long, each with
    # the grammar's prompts and with real ones: the lowest probabilities at which their
    # benign accounts stayed within 0.4% pooled and 0.5% in every population (flag), and
    # within 0.8% and 2% (review), on all four; rounded up to four places (fit again on
    # 2026-12-03 for the model trained on worlds where campaigns hold any tier). Two ticks
    # rather than one caught more adaptive attackers with fewer benign populations over
    # 1% on worlds judged before (README, "Robustness"); three did about as well, four
    # flagged fewer benign populations and caught fewer attackers, each tick six more
    # hours of harvest before the flag.
    combiner_flag: float = 0.9890
    combiner_review: float = 0.9732
    combiner_flag_ticks: int = 2
    # A linked group with cluster_min_accounts members flagged on their own, making up this
    # share of it, takes along members whose probability reaches the floor (see
    # scoring/followers.py; with flag ticks above one a floor may sit above combiner_flag:
    # it takes members still short of their ticks). Chosen on 60
    # randomised worlds the combiner was not trained on (judged before, so validation
    # only), then judged on fresh ones (README, "Robustness"): half rather than a tenth
    # kept the same recall with 3 benign followers in 60 worlds instead of 7.
    combiner_follow_share: float = 0.5
    combiner_follow_floor: float = 0.9
    # With decide_by="combiner": an account is flagged on its own once its probability
    # reaches combiner_flag at combiner_flag_ticks ticks where it sat in a linked group, or
    # this line at as many ticks of any kind; one over combiner_flag alone, linked to no
    # other account, is listed for review (see decide.learned_tick). At or under
    # combiner_flag: every tick counts alike, as before cf67580; above 1: an account
    # linked to none is never flagged on its own. Frozen by `benchmarks.robustness.lone` on
    # the 7-day fit worlds (seeds 1-4 and 21-40, scale 0.6), with the grammar's prompts and
    # with real ones: the lowest line on a 0.0005 grid at which detect's flag tier kept
    # every benign population within 0.25% pooled (0.9935 on both).
    combiner_flag_lone: float = 0.9935

    @property
    def lone_line(self) -> float:
        """The line for ticks linked to no other account: never under the flag line."""
        return max(self.combiner_flag, self.combiner_flag_lone)

    @property
    def follow_rule(self) -> FollowRule:
        return FollowRule(
            self.cluster_min_accounts, self.combiner_follow_share, self.combiner_follow_floor
        )

    def __post_init__(self) -> None:
        if self.decide_by not in DECIDERS:
            raise ConfigError(
                f"unknown decide_by {self.decide_by!r}; valid names: {', '.join(DECIDERS)}"
            )
        self._check_kinds()
        if self.review_threshold > self.account_threshold:
            raise ConfigError("review_threshold must not be above account_threshold")
        if self.combiner_review > self.combiner_flag:
            raise ConfigError("combiner_review must not be above combiner_flag")
        if self.window_hours < self.tick_hours:
            raise ConfigError(
                f"window_hours ({self.window_hours}) must be at least tick_hours "
                f"({self.tick_hours})"
            )
        if self.cluster_every_hours % self.tick_hours:
            raise ConfigError(
                f"cluster_every_hours ({self.cluster_every_hours}) must be a multiple of "
                f"tick_hours ({self.tick_hours})"
            )

    def _check_kinds(self) -> None:
        """Shares in (0, 1]; counts whole, from 1; every other setting a number from 0 up."""
        for f in fields(self):
            if f.name != "decide_by":
                _check_kind(f.name, getattr(self, f.name))


def _check_kind(name: str, value: object) -> None:
    """One setting's kind, in words that say which values are good, and the value given."""
    number = _as_number(value)
    if name in FRACTIONS and not (number is not None and 0 < number <= 1):
        raise ConfigError(f"{name} must be a number in (0, 1], got {value!r}")
    if name in COUNTS and not (isinstance(value, int) and number is not None and number >= 1):
        raise ConfigError(f"{name} must be a whole number of at least 1, got {value!r}")
    if number is None or not number >= 0:  # NaN too
        raise ConfigError(f"{name} must be a number from 0 up, got {value!r}")


def _as_number(value: object) -> float | None:
    """The value as a float, when it is a number (YAML and JSON give bools as readily)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)
