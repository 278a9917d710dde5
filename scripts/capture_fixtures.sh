#!/usr/bin/env bash
# Re-capture tests/fixtures/real from real LiteLLM and OpenTelemetry software.
# Installs them into a throwaway virtual environment outside the repository (the tests only
# read the committed files, so `make test` never installs LiteLLM), then runs
# scripts/capture_fixtures.py. Needs no internet beyond the package index.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${CAPTURE_VENV:-/tmp/capture-venv}"
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
# opentelemetry-util-genai is pinned because the instrumentation leaves it open-ended: 1.x
# always takes the latest conventions (so the v1.30 capture would silently be the new one)
# and 1.3 no longer has the module the instrumentation imports.
"$VENV/bin/pip" install --quiet \
  'litellm[proxy]==1.108.0' \
  'openai==3.57.0' \
  'opentelemetry-instrumentation-openai-v2==2.4b0' \
  'opentelemetry-util-genai==0.4b0' \
  'opentelemetry-exporter-otlp-json-file==0.66b1' \
  'opentelemetry-sdk==1.45.2'
exec "$VENV/bin/python" scripts/capture_fixtures.py "${1:-tests/fixtures/real}"
