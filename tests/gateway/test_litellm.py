"""distillguard inside a real LiteLLM proxy process, in front of the fake upstream.

The LiteLLM proxy (pinned in the dev dependencies) is started by the test with a config
that routes model "m" to the fake OpenAI-style upstream on loopback (there is no
internet here) and loads both integrations: the `DistillguardGuardrail` CustomGuardrail
and LiteLLM's own Generic Guardrail API client pointed at a distillguard gateway. A
blocked account's request must come back refused, and the upstream must see nothing.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from distillguard.errors import ConfigError
from distillguard.gateway.app import build_app
from distillguard.gateway.identity import Identity
from distillguard.gateway.service import Gateway
from distillguard.gateway.settings import GatewaySettings
from distillguard.verdicts.file_store import FileStore
from distillguard.verdicts.policy import load_policy
from tests.fake_upstream import FakeUpstream, serve_in_thread
from tests.gateway.client import verdict
from tests.redis_server import free_port

MASTER_KEY = "sk-master-test"
GUARDRAIL_KEY = "guardrail-test-key"


def litellm_config(upstream: str, state: Path, guardrail_url: str) -> dict[str, object]:
    return {
        "model_list": [{"model_name": "m", "litellm_params": {
            "model": "openai/m", "api_base": upstream + "/v1", "api_key": "sk-upstream"}}],
        "guardrails": [
            {"guardrail_name": "distillguard", "litellm_params": {
                "guardrail": "distillguard.gateway.litellm_guardrail.DistillguardGuardrail",
                "mode": "pre_call", "default_on": False,
                "distillguard_state": str(state), "distillguard_mode": "enforce",
                "distillguard_identity": "header:x-distillguard-account"}},
            {"guardrail_name": "distillguard-api", "litellm_params": {
                "guardrail": "generic_guardrail_api", "mode": "pre_call", "default_on": False,
                "api_base": guardrail_url, "api_key": GUARDRAIL_KEY}},
        ],
        "general_settings": {"master_key": MASTER_KEY},
    }  # fmt: skip


@pytest.fixture(scope="module")
def litellm_proxy(
    upstream: FakeUpstream, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Path]]:
    work = tmp_path_factory.mktemp("litellm")
    state = work / "verdicts.jsonl"
    FileStore(state)
    policy = load_policy().overridden(mode="enforce")
    settings = GatewaySettings(upstream=None, state=str(state), policy=policy,
                               identity=Identity(), guardrail_key=GUARDRAIL_KEY)  # fmt: skip
    with serve_in_thread(build_app(Gateway(settings))) as guardrail_url:
        config = work / "config.yaml"
        config.write_text(yaml.safe_dump(litellm_config(upstream.url, state, guardrail_url)))
        port = free_port()
        env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True", "LITELLM_LOG": "ERROR"}
        command = [sys.executable, "-m", "litellm.proxy.proxy_cli", "--config", str(config),
                   "--host", "127.0.0.1", "--port", str(port)]  # fmt: skip
        log = (work / "litellm.log").open("wb")
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_ready(url, process, work / "litellm.log")
            yield url, state
        finally:
            process.terminate()
            process.wait(timeout=30)
            log.close()


def _wait_ready(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("LiteLLM proxy exited:\n" + log.read_text()[-3000:])
        try:
            if httpx.get(url + "/health/liveliness", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise RuntimeError("LiteLLM proxy did not start:\n" + log.read_text()[-3000:])


def chat(url: str, account: str, guardrail: str) -> httpx.Response:
    body = {"model": "m", "messages": [{"role": "user", "content": f"[{account}] hello"}],
            "guardrails": [guardrail]}  # fmt: skip
    headers = {"authorization": f"Bearer {MASTER_KEY}", "x-distillguard-account": account}
    return httpx.post(url + "/v1/chat/completions", json=body, headers=headers, timeout=60)


def test_custom_guardrail_blocks_a_blocked_account_inside_litellm(
    litellm_proxy: tuple[str, Path], upstream: FakeUpstream
) -> None:
    url, state = litellm_proxy
    FileStore(state).set(verdict("lt-blocked", "block_account"))
    blocked = chat(url, "lt-blocked", "distillguard")
    allowed = chat(url, "lt-fine", "distillguard")
    assert blocked.status_code == 403, blocked.text
    assert "account_blocked" in blocked.text
    assert upstream.seen("lt-blocked") == []
    assert allowed.status_code == 200, allowed.text
    assert allowed.json()["choices"][0]["message"]["content"] == "The answer is 42."
    assert len(upstream.seen("lt-fine")) == 1


def test_generic_guardrail_api_blocks_the_keys_account(
    litellm_proxy: tuple[str, Path], upstream: FakeUpstream
) -> None:
    url, state = litellm_proxy
    # With only a master key, LiteLLM names its caller user "default_user_id"; with virtual
    # keys it is the key's team or user, which is what distillguard takes as the account.
    store = FileStore(state)
    before = chat(url, "lt-generic-1", "distillguard-api")
    store.set(verdict("default_user_id", "block_cluster"))
    blocked = chat(url, "lt-generic-2", "distillguard-api")
    store.clear("account:default_user_id")
    assert before.status_code == 200 and len(upstream.seen("lt-generic-1")) == 1
    assert blocked.status_code >= 400 and "distillguard block_cluster" in blocked.text
    assert upstream.seen("lt-generic-2") == []


@pytest.mark.parametrize(
    ("spec", "header"),
    [(None, None), ("", None), ("header:x-account", "x-account"), ("keys:/tmp/k.yaml", "error"),
     ("heder:x", "error"), ("header:", "error")],
)  # fmt: skip
def test_the_guardrails_identity_is_a_header_or_refused(spec: str | None, header: str) -> None:
    """keys:FILE (the gateway's) or a typo was ignored without a word inside LiteLLM, and
    accounts came from LiteLLM's team or key instead."""
    from distillguard.gateway.litellm_guardrail import _identity_header

    if header == "error":
        with pytest.raises(ConfigError, match="header:NAME"):
            _identity_header(spec)
    else:
        assert _identity_header(spec) == header
