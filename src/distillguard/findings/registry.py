"""The finding sinks, registered explicitly."""

from __future__ import annotations

from distillguard.errors import unknown_name_error
from distillguard.findings.ocsf import OcsfSink
from distillguard.findings.sink import FindingSink
from distillguard.findings.tables import TablesSink

SINKS: dict[str, FindingSink] = {s.name: s for s in (OcsfSink(), TablesSink())}


def get_sink(name: str) -> FindingSink:
    if name not in SINKS:
        raise unknown_name_error("finding sink", name, list(SINKS))
    return SINKS[name]
