"""Validating findings against the real OCSF models: py-ocsf-models (the OCSF project's
Pydantic models) and the JSON Schema of the OCSF version a finding declares, generated
from the schema files ocsf-json-schema ships (with the profiles the finding names)."""

from __future__ import annotations

import functools
from typing import Any

import pydantic
from jsonschema import Draft202012Validator
from ocsf_json_schema import OcsfJsonSchemaEmbedded, get_ocsf_schema
from py_ocsf_models.events.findings.detection_finding import DetectionFinding


@functools.cache
def _validator(version: str, profiles: tuple[str, ...]) -> Draft202012Validator:
    schema = OcsfJsonSchemaEmbedded(get_ocsf_schema(version=version))
    return Draft202012Validator(schema.get_class_schema("detection_finding", list(profiles)))


def ocsf_errors(finding: dict[str, Any]) -> list[str]:
    """Every reason the finding is not a valid Detection Finding; empty when it is."""
    errors = []
    try:
        DetectionFinding.model_validate(finding)
    except pydantic.ValidationError as exc:
        errors += [f"py-ocsf-models: {e['loc']}: {e['msg']}" for e in exc.errors()]
    metadata = finding.get("metadata", {})
    profiles = tuple(sorted(metadata.get("profiles", [])))
    validator = _validator(metadata.get("version", "missing"), profiles)
    errors += [f"schema: {list(e.path)}: {e.message}" for e in validator.iter_errors(finding)]
    return errors
