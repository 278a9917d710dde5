"""An application instrumented with the official OpenTelemetry OpenAI instrumentation,
exporting spans and log records with the OTLP JSON file exporter.

Run with the conventions chosen by the environment (OTEL_SEMCONV_STABILITY_OPT_IN,
OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT); argv: upstream base URL, spans file,
logs file. The resource names the tenant (OTEL_RESOURCE_ATTRIBUTES=tenant.id=...), the
standard way an application says whose traffic it serves.
"""

from __future__ import annotations

import sys

import clients
from opentelemetry import trace
from opentelemetry._logs import set_logger_provider
from opentelemetry.exporter.otlp.json.file import FileSpanExporter
from opentelemetry.exporter.otlp.json.file._log_exporter import FileLogExporter
from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor


def main(base_url: str, spans_path: str, logs_path: str) -> None:
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(FileSpanExporter(spans_path)))
    trace.set_tracer_provider(tracer_provider)
    logger_provider = LoggerProvider()
    logger_provider.add_log_record_processor(SimpleLogRecordProcessor(FileLogExporter(logs_path)))
    set_logger_provider(logger_provider)
    OpenAIInstrumentor().instrument()
    client = clients.client_for(base_url, "sk-upstream")
    clients.chat(client, "gpt-4o-mini", "What is OpenTelemetry?")
    clients.stream(client, "gpt-4o-mini", "Stream me a haiku.")
    clients.tool_round(client, "gpt-4o-mini")
    clients.failure(client, "fail-model")
    tracer_provider.shutdown()
    logger_provider.shutdown()


if __name__ == "__main__":
    main(*sys.argv[1:4])
