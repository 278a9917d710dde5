"""Prompt text for simulated traffic: built-in phrase grammars, or real corpora with --corpus."""
