"""Scores in [0, 1] with their evidence: observed facts kept apart from inferences."""
