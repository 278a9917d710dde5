"""Real HTTP on loopback: the fake upstream (there is no internet) and a gateway in front."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import msgspec
import pytest

from distillguard.gateway.app import build_app
from distillguard.gateway.identity import Identity
from distillguard.gateway.service import Gateway
from distillguard.gateway.settings import GatewaySettings
from distillguard.verdicts.policy import Timeouts, load_policy
from distillguard.verdicts.store import VerdictStore, open_store
from tests.fake_upstream import FakeUpstream, fake_upstream, serve_in_thread
from tests.redis_server import redis_server


@pytest.fixture(scope="module")
def upstream() -> Iterator[FakeUpstream]:
    with fake_upstream() as fake:
        yield fake


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with redis_server(tmp_path_factory.mktemp("redis")) as server:
        yield server.url


ServeGateway = Callable[..., AbstractContextManager[tuple[str, Gateway]]]


@pytest.fixture
def serve_gateway(upstream: FakeUpstream, tmp_path: Path) -> ServeGateway:
    """Start a gateway: policy changes as keyword arguments, a store or a STATE string."""

    @contextmanager
    def serve(
        store: VerdictStore | str = "memory",
        identity: str | None = None,
        log: bool = True,
        settings: dict[str, Any] | None = None,
        **policy_changes: Any,
    ) -> Iterator[tuple[str, Gateway]]:
        policy = load_policy()
        actions = {**policy.actions, **policy_changes.pop("actions", {})}
        actions["reverify"] = {**actions["reverify"], "webhook": upstream.url + "/webhook"}
        changes: dict[str, Any] = {
            "mode": "enforce",
            "label_responses": True,  # the tests read what was done from the headers
            "actions": actions,
            "timeouts_ms": Timeouts(store=500, classifier=500),  # two shared cores: no flakes
            **policy_changes,
        }
        policy = msgspec.structs.replace(policy, **changes)
        opened = open_store(store) if isinstance(store, str) else store
        given: dict[str, Any] = {
            "upstream": upstream.url,
            "state": "memory",
            "policy": policy,
            "identity": Identity.parse(identity),
            "log_dir": tmp_path / "exchanges" if log else None,
            **(settings or {}),  # an upstream of its own too
        }
        gateway_settings = GatewaySettings(**given)
        gateway = Gateway(gateway_settings, opened)
        with serve_in_thread(build_app(gateway)) as url:
            yield url, gateway

    return serve
