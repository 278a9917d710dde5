"""Capture real logs from LiteLLM and the OpenTelemetry OpenAI instrumentation into
tests/fixtures/real, for the ingest tests. Run it through scripts/capture_fixtures.sh,
which builds the throwaway virtual environment (outside the repository) it needs.

Everything is real except the model API behind it (scripts/capture/fake_upstream.py):
a LiteLLM proxy on loopback, with a logging callback that dumps its StandardLoggingPayload,
once with the master key only and once with virtual keys of users in teams; clients on the
official OpenAI SDK; and an application instrumented with opentelemetry-instrumentation-
openai-v2 writing OTLP JSON files, once on the latest experimental GenAI conventions and
once on the default v1.30 ones (content in log records).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).resolve().parent / "capture"
sys.path.insert(0, str(HERE))

import clients  # noqa: E402, I001  (sorted differently depending on what is importable)
import fake_upstream  # noqa: E402

PACKAGES = (
    "litellm",
    "openai",
    "opentelemetry-instrumentation-openai-v2",
    "opentelemetry-util-genai",
    "opentelemetry-exporter-otlp-json-file",
    "opentelemetry-sdk",
    "opentelemetry-api",
    "opentelemetry-semantic-conventions",
)
MASTER_KEY = "sk-master-capture"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def proxy_config(upstream: str, virtual_keys: bool, store_prompts: bool = False) -> str:
    models = [("gpt-4o-mini", "openai/gpt-4o-mini-2024-07-18"), ("broken-model", "openai/fail")]
    lines = ["model_list:"]
    for name, deployment in models:
        lines += [
            f"  - model_name: {name}",
            "    litellm_params:",
            f"      model: {deployment}",
            f"      api_base: {upstream}",
            "      api_key: sk-upstream",
        ]
    lines += [
        "litellm_settings:",
        "  callbacks: litellm_logger.proxy_handler_instance",
        "  num_retries: 0",
        "general_settings:",
        f"  master_key: {MASTER_KEY}",
    ]
    if virtual_keys:
        lines.append("  custom_auth: litellm_auth.user_api_key_auth")
    if store_prompts:  # spend logs hold the request and response only with this
        lines.append("  store_prompts_in_spend_logs: true")
    return "\n".join(lines) + "\n"


def wait_ready(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"litellm exited early; see {log}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"litellm did not come up; see {log}")


def run_proxy(
    upstream: str, virtual_keys: bool, out: Path, work: Path, spend_logs: bool = False
) -> None:
    """Start a LiteLLM proxy, send the scenario's traffic through it, stop it. With
    spend_logs, `out` gets the proxy's spend-log rows instead of its logging payloads."""
    for module in ("litellm_logger.py", "litellm_auth.py"):
        shutil.copy(HERE / module, work / module)
    config = work / "config.yaml"
    config.write_text(proxy_config(upstream, virtual_keys, store_prompts=spend_logs))
    port = free_port()
    target = "CAPTURE_SPEND_OUT" if spend_logs else "CAPTURE_LITELLM_OUT"
    env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True", target: str(out.resolve())}
    log = work / f"proxy-{'keys' if virtual_keys else 'master'}.log"
    command = [str(Path(sys.executable).parent / "litellm"), "--config", str(config)]
    command += ["--host", "127.0.0.1", "--port", str(port), "--telemetry", "False"]
    with log.open("wb") as sink:
        process = subprocess.Popen(command, env=env, cwd=work, stdout=sink, stderr=sink)
    try:
        wait_ready(f"http://127.0.0.1:{port}/health/liveliness", process, log)
        base = f"http://127.0.0.1:{port}/v1"
        (virtual_key_traffic if virtual_keys else master_key_traffic)(base)
        time.sleep(3)  # the callback runs after the response is sent
    finally:
        process.terminate()
        process.wait(30)


def master_key_traffic(base: str) -> None:
    """Four end users behind one master key (the OpenAI `user` field), and one request
    that names no user."""
    client = clients.client_for(base, MASTER_KEY)
    clients.chat(client, "gpt-4o-mini", "Summarise our refund policy.", user="alice@example.com")
    clients.stream(client, "gpt-4o-mini", "Write a limerick.", user="bob@example.com")
    clients.tool_round(client, "gpt-4o-mini", user="carol@example.com")
    clients.chat(client, "gpt-4o-mini", "Translate 'hello' to French.", user="dave@example.com")
    clients.chat(client, "gpt-4o-mini", "A request that names no user.")
    clients.failure(client, "broken-model", user="dave@example.com")


def virtual_key_traffic(base: str) -> None:
    """Three users in two teams, each on a key of their own, and a team's service key
    (once on behalf of an end customer)."""
    alice = clients.client_for(base, "sk-alice-research")
    clients.chat(alice, "gpt-4o-mini", "Outline a study plan.")
    clients.stream(alice, "gpt-4o-mini", "Stream a proof sketch.")
    clients.tool_round(clients.client_for(base, "sk-bob-research"), "gpt-4o-mini")
    carol = clients.client_for(base, "sk-carol-support")
    clients.chat(carol, "gpt-4o-mini", "Draft a reply to a customer.")
    clients.failure(carol, "broken-model")
    service = clients.client_for(base, "sk-batch-service")
    clients.stream(service, "gpt-4o-mini", "Classify this ticket.")
    clients.chat(service, "gpt-4o-mini", "Classify this other ticket.", user="customer-77")


def run_otel(upstream: str, spans: Path, logs: Path, latest: bool) -> None:
    env = {**os.environ, "OTEL_RESOURCE_ATTRIBUTES": "service.name=support-bot,tenant.id=acme"}
    env.pop("OTEL_SEMCONV_STABILITY_OPT_IN", None)
    env["OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"] = "span_only" if latest else "true"
    if latest:
        env["OTEL_SEMCONV_STABILITY_OPT_IN"] = "gen_ai_latest_experimental"
    command = [sys.executable, str(HERE / "otel_app.py"), upstream, str(spans), str(logs)]
    subprocess.run(command, env=env, check=True)
    if logs.exists() and not logs.stat().st_size:
        logs.unlink()


def capture_spend_logs(upstream: str, out: Path, work: Path) -> None:
    """Both scenarios again, the proxy storing prompts, as LiteLLM_SpendLogs rows."""
    print("litellm spend logs, master key only, then virtual keys and teams")
    spend = out / "litellm-spend-logs.jsonl"
    spend.unlink(missing_ok=True)
    run_proxy(upstream, False, spend, work, spend_logs=True)
    run_proxy(upstream, True, spend, work, spend_logs=True)


def write_versions(out: Path) -> None:
    lines = [f"python {sys.version.split()[0]}"]
    lines += [f"{name} {metadata.version(name)}" for name in PACKAGES]
    (out / "VERSIONS").write_text("\n".join(lines) + "\n")


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for stale in out.glob("*.jsonl"):
        stale.unlink()
    server = fake_upstream.start()
    upstream = f"http://127.0.0.1:{server.server_address[1]}/v1"
    with tempfile.TemporaryDirectory(prefix="capture-") as tmp:
        print("litellm, master key only")
        run_proxy(upstream, False, out / "litellm-master-key.jsonl", Path(tmp))
        print("litellm, virtual keys and teams")
        run_proxy(upstream, True, out / "litellm-virtual-keys.jsonl", Path(tmp))
        capture_spend_logs(upstream, out, Path(tmp))
    print("opentelemetry, latest experimental conventions")
    run_otel(upstream, out / "otel-latest-spans.jsonl", out / "otel-latest-logs.jsonl", True)
    print("opentelemetry, v1.30 conventions")
    run_otel(upstream, out / "otel-v1.30-spans.jsonl", out / "otel-v1.30-logs.jsonl", False)
    server.shutdown()
    write_versions(out)
    for path in sorted(out.iterdir()):
        print(f"  {path.name}: {path.stat().st_size} bytes")


def spend_logs_only(out: Path) -> None:
    """`--spend-logs OUT`: the spend-log capture alone, the other fixtures left as they are."""
    server = fake_upstream.start()
    with tempfile.TemporaryDirectory(prefix="capture-") as tmp:
        capture_spend_logs(f"http://127.0.0.1:{server.server_address[1]}/v1", out, Path(tmp))
    server.shutdown()
    versions = out / "VERSIONS"
    kept = [v for v in versions.read_text().splitlines() if not v.startswith("litellm-spend")]
    note = f"litellm-spend-logs.jsonl: litellm {metadata.version('litellm')} (--spend-logs)"
    versions.write_text("\n".join([*kept, note]) + "\n")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--spend-logs"]:
        spend_logs_only(Path(sys.argv[2]) if len(sys.argv) > 2 else Path("tests/fixtures/real"))
    else:
        main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("tests/fixtures/real"))
