"""Findings: a run's results written for the people and systems that act on them.

Each output is a `FindingSink` (see `sink.py`), registered in `registry.py`: OCSF Detection
Findings for SIEMs, the account and cluster tables. `sigma.py` writes Sigma rules for the
per-request signals a SIEM can evaluate on gateway logs itself.
"""
