"""The per-exchange signals, registered explicitly, and the function that runs them."""

from __future__ import annotations

import pyarrow as pa

from distillguard.errors import unknown_name_error
from distillguard.signals.base import BatchContext, Signal
from distillguard.signals.content import Capability, LexiconSignal
from distillguard.signals.fingerprint import TemplateFingerprint
from distillguard.signals.lexicon import CLASSIFIERS
from distillguard.signals.network import Network
from distillguard.signals.sketch import PromptSketch
from distillguard.signals.structure import Structure

SIGNALS: dict[str, Signal] = {
    s.name: s
    for s in (
        *(LexiconSignal(c) for c in CLASSIFIERS),
        Capability(),
        TemplateFingerprint(),
        PromptSketch(),
        Structure(),
        Network(),
    )
}
# Carried from the exchange itself so later stages need not read the lake again.
KEY_COLUMNS = ("request_id", "account_id", "ts", "model", "ip", "asn", "user_agent", "access_path")


def get_signal(name: str) -> Signal:
    if name not in SIGNALS:
        raise unknown_name_error("signal", name, list(SIGNALS))
    return SIGNALS[name]


def compute_signals(batch: pa.Table, names: list[str] | None = None) -> pa.Table:
    """Key columns plus every (or every named) signal's columns for a batch of exchanges."""
    ctx = BatchContext(batch)
    columns: dict[str, pa.Array] = {k: ctx.column(k) for k in KEY_COLUMNS}
    for signal in (get_signal(n) for n in names) if names else SIGNALS.values():
        produced = signal.compute(ctx)
        for name in signal.columns:
            value = produced[name]
            columns[name] = value if isinstance(value, pa.Array) else pa.array(value)
    return pa.table(columns)
