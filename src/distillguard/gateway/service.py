"""The gateway's work for one request: who, what to do, call upstream, log the exchange."""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiohttp
import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from distillguard.body_deadline import BodyTooSlowError
from distillguard.gateway import apis
from distillguard.gateway.actions.base import Action, RequestContext
from distillguard.gateway.apis import ApiName, Refusal
from distillguard.gateway.decide import NO_ACTION, Decision
from distillguard.gateway.enforcer import Enforcer
from distillguard.gateway.exchange_log import ExchangeLog
from distillguard.gateway.records import bare_row, finished, for_log, request_row
from distillguard.gateway.settings import GatewaySettings
from distillguard.gateway.upstream import (
    StreamRecord,
    UpstreamClient,
    UpstreamError,
    forward_headers,
    relay_events,
    relayed_headers,
)
from distillguard.shown_url import masked
from distillguard.verdicts.model import now
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
        self.enforcer = Enforcer(self.policy, store or open_store(settings.state))
        self.store, self.ladder = self.enforcer.store, self.enforcer.ladder
        self.log = (
            ExchangeLog(settings.log_dir, settings.log_rotate_rows, settings.log_rotate_s)
            if settings.log_dir
            else None
        )
        self.client: UpstreamClient | None = None

    @property
    def failures(self) -> int:
        return self.enforcer.failures

    async def start(self) -> None:
        if self.settings.upstream:
            self.client = UpstreamClient(self.settings.upstream, self.settings.upstream_timeout_s)
        await self.enforcer.warm()

    async def stop(self) -> None:
        if self.client is not None:
            await self.client.close()
        if self.log is not None:
            self.log.close()
        await self.enforcer.close()

    async def decide(self, account: str, row: dict[str, Any]) -> Decision:
        return await self.enforcer.decide(account, row)

    # -- one request ---------------------------------------------------------------------

    async def handle(self, request: Request) -> Response:
        api: ApiName = apis.PATHS[request.url.path]
        started, request_id, ts = time.perf_counter(), uuid.uuid4().hex, self._clock(request)
        caller = self.settings.identity.caller(request.headers, request.query_params.keys())
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
            return self._refuse(api, row, started, self._too_large())
        except BodyTooSlowError:  # the middleware answers 408; the log keeps the attempt
            self._record(bare_row(request_id, ts, account, meta), 408, started)
            raise
        if not isinstance(body, dict) or not isinstance(body.get("stream", False), bool):
            # a stream of 1 or "true", which a lenient upstream streams, would pass the
            # gateway's non-streamed path and its degradations
            row = bare_row(request_id, ts, account, meta)
            return self._refuse(api, row, started, _unreadable(request))
        row = request_row(request_id, ts, account, api, body, meta)
        if caller.account is None:
            why = caller.refused or "Unknown API key or no account."
            refusal = Refusal(401, "authentication_error", why)
            return self._refuse(api, row, started, refusal)
        decision = await self.decide(caller.account, row)
        return await self._serve(api, request, body, row, decision, started)

    def _clock(self, request: Request) -> datetime:
        stamp = request.headers.get("x-distillguard-replay-ts")
        if self.settings.replay_clock and stamp:
            with contextlib.suppress(ValueError, OverflowError):
                return datetime.fromisoformat(stamp.replace("Z", "+00:00")).astimezone(UTC)
        return now()

    def _client_ip(self, request: Request) -> str | None:
        """The peer, or behind a trusted load balancer the address it appended to
        X-Forwarded-For: the last entry (those before it are whatever the client sent)."""
        peer = request.client.host if request.client else None
        forwarded = request.headers.get("x-forwarded-for")
        if not (self.settings.trust_forwarded and forwarded):
            return peer
        last = forwarded.rsplit(",", 1)[-1].strip()
        try:
            return str(ipaddress.ip_address(last))
        except ValueError:  # not an address: the balancer did not write it
            return peer

    def _too_large(self) -> Refusal:
        mb = self.settings.max_body_bytes / 2**20
        why = f"The request body is over the gateway's limit of {mb:g} MB (its --max-body-mb)."
        return Refusal(413, "request_too_large", why)

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
        headers = {"x-distillguard-request-id": request_id}
        if not self.policy.label_responses:  # the log says what was done; the client, nothing
            return headers
        headers["x-distillguard-mode"] = self.policy.mode
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
        ctx = RequestContext(api, row["account_id"], body, decision.verdict, decision.retry_after)
        ctx.seal, ctx.request_id = self.settings.seal, row["request_id"]
        action = self.enforcer.action_for(decision)
        refused = await self.enforcer.on_request(decision, action, ctx)
        if refused is not None:  # a refused request's sealed blocks are never opened
            return self._refuse(api, row, started, refused, decision)
        if api == "anthropic":  # withheld thinking a client sends back: the original again
            restored = self.settings.seal.restore_many(body, ctx.account)
            ctx.notes += restored.notes()
            if restored.dropped:  # after a restart without --seal-key, say, a loop breaks
                log.info("%s: %s", ctx.account, "; ".join(restored.notes()))
        call = Call(request, ctx, action, row, started, self._headers(decision, row["request_id"]))
        return await (self._stream(call) if body.get("stream") is True else self._call(call))

    def _upstream(self) -> UpstreamClient:
        if self.client is None:
            raise RuntimeError("the gateway was not started (or has no upstream)")
        return self.client

    def _upstream_error(self, exc: UpstreamError) -> Refusal:
        # The operator's side of it: the client's answer names neither the API nor the cause
        cause = exc.__cause__ or exc
        log.warning("the model API at %s %s: %s", masked(self.settings.upstream or ""),
                    "timed out" if exc.timed_out else "could not be reached",
                    str(cause) or type(cause).__name__)  # fmt: skip
        if exc.timed_out:
            return Refusal(504, "upstream_timeout", "The model API did not answer in time.")
        return Refusal(502, "upstream_error", "The model API could not be reached.")

    def _forwarded(self, call: Call) -> dict[str, str]:
        return forward_headers(call.request.headers, self.settings.upstream_key, call.ctx.api)

    async def _call(self, call: Call) -> Response:
        ctx, action, row, started, headers = (
            call.ctx,
            call.action,
            call.row,
            call.started,
            call.headers,
        )
        sent = orjson.dumps(ctx.body)
        try:
            answer = await self._upstream().post(
                _upstream_path(call.request), sent, self._forwarded(call)
            )
        except UpstreamError as exc:
            return self._refuse(ctx.api, row, started, self._upstream_error(exc))
        headers = {**answer.headers, **headers}  # the upstream's, then the gateway's own
        try:
            payload = orjson.loads(answer.content) if answer.status == 200 else None
        except orjson.JSONDecodeError:
            payload = None
        if not isinstance(payload, dict):
            self._record(row, answer.status, started)
            return Response(answer.content, answer.status, headers, media_type=answer.content_type)
        if action is None:  # served as the upstream wrote it, byte for byte
            self._record(row, 200, started, **apis.usage(ctx.api, payload))
            return Response(answer.content, 200, headers, media_type=answer.content_type)
        payload = action.on_response(ctx, payload)
        self._record(row, 200, started, **apis.usage(ctx.api, payload))
        return Response(orjson.dumps(payload), 200, headers, media_type="application/json")

    async def _stream(self, call: Call) -> Response:
        ctx, action, row, started, headers = (
            call.ctx,
            call.action,
            call.row,
            call.started,
            call.headers,
        )
        try:
            upstream = await self._upstream().open_stream(
                _upstream_path(call.request),
                orjson.dumps(ctx.body),
                self._forwarded(call),
            )
        except UpstreamError as exc:
            return self._refuse(ctx.api, row, started, self._upstream_error(exc))
        headers = {**relayed_headers(upstream.headers), **headers}
        if upstream.status != 200:
            try:
                content = await upstream.read()
            except (aiohttp.ClientError, TimeoutError):
                content = b""
            finally:
                upstream.release()
            self._record(row, upstream.status, started)
            return Response(content, upstream.status, headers, media_type="application/json")
        flt = action.stream_filter(ctx) if action else None  # None: relayed byte for byte
        record = StreamRecord()

        def done(status: int | None) -> None:
            self._record(row, status, started, output_text="".join(record.text),
                         stop_reason=record.stop_reason, input_tokens=record.input_tokens,
                         output_tokens=record.output_tokens,
                         reasoning_tokens=record.reasoning_tokens)  # fmt: skip

        broken = Refusal(502, "upstream_error", "The model API broke off this answer.")
        events = relay_events(upstream, flt, record, done, broken.event(ctx.api))
        return StreamingResponse(events, 200, headers, media_type="text/event-stream")


def _upstream_path(request: Request) -> str:
    """The path the client asked for, with its query (Azure's api-version rides there)."""
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def _unreadable(request: Request) -> Refusal:
    """Why a body was not read as a request: compressed (the SDKs never compress, a
    proxy may), or not a JSON object."""
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("", "identity"):
        why = (
            f"The body is sent with Content-Encoding {encoding[:40]!r}; the gateway reads "
            "uncompressed JSON only: send it without Content-Encoding."
        )
        return Refusal(415, "invalid_request_error", why)
    why = "The body must be a JSON object, with 'stream' true or false if given."
    return Refusal(400, "invalid_request_error", why)
