"""Evaluation of detection output against a labels table."""
