"""The gateway's work for one request: who, what to do, call upstream, log the exchange."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from distillguard.gateway import apis
from distillguard.gateway.actions.base import Action, RequestContext
from distillguard.gateway.actions.refuse import Reverify
from distillguard.gateway.actions.registry import build_ladder
from distillguard.gateway.actions.throttle import TokenBuckets
from distillguard.gateway.apis import ApiName, Refusal
from distillguard.gateway.classify import ClassifierWorker
from distillguard.gateway.decide import NO_ACTION, Decision, decide
from distillguard.gateway.exchange_log import ExchangeLog
from distillguard.gateway.records import bare_row, finished, for_log, request_row
from distillguard.gateway.settings import GatewaySettings
from distillguard.gateway.upstream import StreamRecord, forward_headers, relay_events
from distillguard.verdicts.file_store import FileStore
from distillguard.verdicts.memory import MemoryStore
from distillguard.verdicts.model import Verdict, now, subject_key
from distillguard.verdicts.store import VerdictStore, open_store

log = logging.getLogger("distillguard.gateway")


class TooLargeError(Exception):
    pass


@dataclass
class Call:
    """One request on its way through: the parts every later step reads."""

    request: Request
    ctx: RequestContext
    action: Action | None
    row: dict[str, Any]
    started: float
    headers: dict[str, str]


class Gateway:
    def __init__(self, settings: GatewaySettings, store: VerdictStore | None = None) -> None:
        self.settings, self.policy = settings, settings.policy
        self.store = store or open_store(settings.state)
        self.inline_store = isinstance(self.store, MemoryStore | FileStore)
        self.ladder: dict[str, Action] = build_ladder(self.policy)
        self.classifier = ClassifierWorker(tuple(r.signal for r in self.policy.request.classifiers))
        rate = self.policy.request.rate
        self.rate = TokenBuckets(rate.per_minute, rate.burst) if rate else None
        self.log = (
            ExchangeLog(settings.log_dir, settings.log_rotate_rows, settings.log_rotate_s)
            if settings.log_dir
            else None
        )
        self.client: httpx.AsyncClient | None = None
        self.failures = 0

    async def start(self) -> None:
        timeout = httpx.Timeout(self.settings.upstream_timeout_s, connect=5.0)
        limits = httpx.Limits(max_connections=512, max_keepalive_connections=256)
        self.client = httpx.AsyncClient(
            base_url=self.settings.upstream, timeout=timeout, limits=limits
        )
        try:  # connect to the store and start the reader threads before the first request
            await asyncio.to_thread(self._lookup, "")
        except Exception as exc:
            log.warning("verdict store not answering at start (%s): fail %s", exc, self.policy.fail)

    async def stop(self) -> None:
        if self.client is not None:
            await self.client.aclose()
        reverify = self.ladder["reverify"]
        if isinstance(reverify, Reverify):
            await reverify.drain()
        if self.log is not None:
            self.log.close()
        self.store.close()

    # -- the verdict and the evidence, within the policy's timeouts ----------------------

    def _lookup(self, account: str) -> Verdict | None:
        verdict = self.store.get(subject_key(account))
        if verdict is not None and verdict.cluster:
            group = self.store.get(subject_key(verdict.cluster, "cluster"))
            if group is not None and group.outranks(verdict):
                return group
        return verdict

    async def verdict(self, account: str) -> Verdict | None:
        if self.inline_store:
            return self._lookup(account)
        timeout = self.policy.timeouts_ms.store / 1000
        return await asyncio.wait_for(asyncio.to_thread(self._lookup, account), timeout)

    async def decide(self, account: str, row: dict[str, Any]) -> Decision:
        failures: list[str] = []
        verdict, scores = None, {}
        try:
            verdict = await self.verdict(account)
        except Exception as exc:  # timeout, connection refused, corrupt data: the fail mode
            failures.append(f"store: {type(exc).__name__}")
        try:
            timeout = self.policy.timeouts_ms.classifier / 1000
            scores = await asyncio.wait_for(self.classifier.score(row), timeout)
        except Exception as exc:
            failures.append(f"classifier: {type(exc).__name__}")
        wait = self.rate.take_one(account) if self.rate else 0.0
        if failures:
            self.failures += 1
            log.warning("fail %s for %s: %s", self.policy.fail, account, "; ".join(failures))
        return decide(self.policy, verdict, scores, wait, tuple(failures))

    # -- one request ---------------------------------------------------------------------

    async def handle(self, request: Request) -> Response:
        api: ApiName = apis.PATHS[request.url.path]
        started, request_id, ts = time.perf_counter(), uuid.uuid4().hex, self._clock(request)
        caller = self.settings.identity.caller(request.headers)
        meta = {
            "api_key_id": caller.api_key_id,
            "access_path": self.settings.access_path,
            "ip": self._client_ip(request),
            "user_agent": request.headers.get("user-agent"),
        }
        account = caller.account or f"unauthenticated:{caller.api_key_id or 'none'}"
        try:
            body = await self._body(request)
        except TooLargeError:
            row = bare_row(request_id, ts, account, meta)
            return self._refuse(api, row, started, Refusal(413, "request_too_large", "Too large."))
        if not isinstance(body, dict):
            row = bare_row(request_id, ts, account, meta)
            refusal = Refusal(400, "invalid_request_error", "The body must be a JSON object.")
            return self._refuse(api, row, started, refusal)
        row = request_row(request_id, ts, account, api, body, meta)
        if caller.account is None:
            refusal = Refusal(401, "authentication_error", "Unknown API key or no account.")
            return self._refuse(api, row, started, refusal)
        decision = await self.decide(caller.account, row)
        return await self._serve(api, request, body, row, decision, started)

    def _clock(self, request: Request) -> datetime:
        stamp = request.headers.get("x-distillguard-replay-ts")
        if self.settings.replay_clock and stamp:
            with contextlib.suppress(ValueError):
                return datetime.fromisoformat(stamp.replace("Z", "+00:00")).astimezone(UTC)
        return now()

    def _client_ip(self, request: Request) -> str | None:
        forwarded = request.headers.get("x-forwarded-for")
        if self.settings.trust_forwarded and forwarded:
            return forwarded.split(",")[0].strip()
        return request.client.host if request.client else None

    async def _body(self, request: Request) -> Any:
        limit, chunks, size = self.settings.max_body_bytes, [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise TooLargeError
            chunks.append(chunk)
        try:
            return orjson.loads(b"".join(chunks))
        except orjson.JSONDecodeError:
            return None

    def _headers(self, decision: Decision | None, request_id: str) -> dict[str, str]:
        headers = {"x-distillguard-request-id": request_id, "x-distillguard-mode": self.policy.mode}
        headers["x-distillguard-action"] = decision.action if decision else NO_ACTION
        if decision and decision.failures:
            headers["x-distillguard-fail"] = f"{self.policy.fail}: {'; '.join(decision.failures)}"
        return headers

    def _record(self, row: dict[str, Any], status: int | None, started: float, **out: Any) -> None:
        if self.log is not None:
            latency = round((time.perf_counter() - started) * 1000)
            self.log.write_one(for_log(finished(row, status, latency, out)))

    def _refuse(
        self,
        api: ApiName,
        row: dict[str, Any],
        started: float,
        refusal: Refusal,
        decision: Decision | None = None,
    ) -> Response:
        self._record(row, refusal.status, started)
        headers = {**self._headers(decision, row["request_id"]), **dict(refusal.headers)}
        return JSONResponse(refusal.body(api), refusal.status, headers=headers)

    async def _serve(  # noqa: PLR0917
        self,
        api: ApiName,
        request: Request,
        body: dict[str, Any],
        row: dict[str, Any],
        decision: Decision,
        started: float,
    ) -> Response:
        if decision.failures and self.policy.fail == "closed" and decision.enforced:
            refusal = Refusal(503, "distillguard_unavailable", "Please retry shortly.")
            return self._refuse(api, row, started, refusal, decision)
        ctx = RequestContext(api, row["account_id"], body, decision.verdict, decision.retry_after)
        action = self.ladder[decision.action] if decision.acts else None
        if decision.action != NO_ACTION:
            log.info("%s %s: %s", "enforce" if decision.enforced else "would", decision.action,
                     "; ".join(decision.because))  # fmt: skip
        refused = await action.on_request(ctx) if action is not None else None
        if refused is not None:
            return self._refuse(api, row, started, refused, decision)
        call = Call(request, ctx, action, row, started, self._headers(decision, row["request_id"]))
        return await (self._stream(call) if body.get("stream") is True else self._call(call))

    async def _send(self, request: Request, ctx: RequestContext, stream: bool) -> httpx.Response:
        assert self.client is not None, "the gateway was not started"
        upstream = self.client.build_request(
            "POST",
            request.url.path,
            content=orjson.dumps(ctx.body),
            headers=forward_headers(request.headers),
        )
        return await self.client.send(upstream, stream=stream)

    def _upstream_error(self, exc: httpx.HTTPError) -> Refusal:
        if isinstance(exc, httpx.TimeoutException):
            return Refusal(504, "upstream_timeout", "The model API did not answer in time.")
        return Refusal(502, "upstream_error", "The model API could not be reached.")

    async def _call(self, call: Call) -> Response:
        ctx, action, row, started, headers = (
            call.ctx,
            call.action,
            call.row,
            call.started,
            call.headers,
        )
        try:
            upstream = await self._send(call.request, ctx, stream=False)
        except httpx.HTTPError as exc:
            return self._refuse(ctx.api, row, started, self._upstream_error(exc))
        try:
            payload = orjson.loads(upstream.content) if upstream.status_code == 200 else None
        except orjson.JSONDecodeError:
            payload = None
        if not isinstance(payload, dict):
            self._record(row, upstream.status_code, started)
            kind = upstream.headers.get("content-type", "application/json")
            return Response(upstream.content, upstream.status_code, headers, media_type=kind)
        if action is not None:
            payload = action.on_response(ctx, payload)
        self._record(row, 200, started, **apis.usage(ctx.api, payload))
        return JSONResponse(payload, 200, headers=headers)

    async def _stream(self, call: Call) -> Response:
        ctx, action, row, started, headers = (
            call.ctx,
            call.action,
            call.row,
            call.started,
            call.headers,
        )
        try:
            upstream = await self._send(call.request, ctx, stream=True)
        except httpx.HTTPError as exc:
            return self._refuse(ctx.api, row, started, self._upstream_error(exc))
        if upstream.status_code != 200:
            content = await upstream.aread()
            await upstream.aclose()
            self._record(row, upstream.status_code, started)
            return Response(content, upstream.status_code, headers, media_type="application/json")
        flt = action.stream_filter(ctx) if action else self.ladder["monitor"].stream_filter(ctx)
        record = StreamRecord()

        def done(status: int | None) -> None:
            self._record(row, status, started, output_text="".join(record.text),
                         stop_reason=record.stop_reason, input_tokens=record.input_tokens,
                         output_tokens=record.output_tokens)  # fmt: skip

        events = relay_events(upstream, flt, record, done)
        return StreamingResponse(events, 200, headers, media_type="text/event-stream")
