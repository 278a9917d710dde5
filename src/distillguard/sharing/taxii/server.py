"""`share serve`: a TAXII 2.1 server (discovery, API root, collections, objects and their
versions, manifest, status) on Starlette, over a DuckDB store. Every route needs HTTP Basic
authentication; requests must accept, and send, the TAXII 2.1 media type."""

from __future__ import annotations

import json
import math
import uuid
from datetime import UTC, datetime
from typing import Any, Literal

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from distillguard.body_deadline import TOO_SLOW, BodyDeadline
from distillguard.body_limit import BodyLimit
from distillguard.login_throttle import LoginThrottle
from distillguard.sharing.taxii import MEDIA_TYPE
from distillguard.sharing.taxii.auth import Users, credentials
from distillguard.sharing.taxii.store import TaxiiStore, parse_time, stamp, version_of

API_ROOT = "api1"
MAX_PAGE = 100
MAX_CONTENT = 10 * 1024 * 1024
# Statuses are kept in memory for a member to look up after a push; a server that runs for
# months forgets the oldest rather than grow without end.
STATUSES_KEPT = 10_000


Shape = Literal["objects", "manifest", "versions"]


MAX_VERSIONS = 100  # values of one match[version]: more is refused, not queried


def _versions(match: str | None) -> tuple[str, ...]:
    """TAXII's match[version]: `last` unless asked (`first`, `all`, timestamps; any of them),
    each value once."""
    asked = dict.fromkeys(v.strip() for v in (match or "").split(",") if v.strip())
    return tuple(asked) or ("last",)


def taxii(
    body: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(json.dumps(body), status, headers, media_type=MEDIA_TYPE)


def error(status: int, title: str) -> Response:
    return taxii({"title": title, "http_status": str(status)}, status)


def _accepts(request: Request) -> bool:
    accept = request.headers.get("accept", "").replace(" ", "")
    return not accept or "application/taxii+json" in accept or "*/*" in accept


class TaxiiApp:
    def __init__(
        self, store: TaxiiStore, users: Users, title: str, max_content: int = MAX_CONTENT
    ) -> None:
        self.store, self.users, self.title = store, users, title
        self.max_content = max_content  # bytes a request may hold, told in the API root
        self.statuses: dict[str, dict[str, Any]] = {}
        self.throttle = LoginThrottle()

    async def guard(self, request: Request) -> Response | None:
        """401 without valid credentials (429 after too many wrong ones from one address),
        406 if the client will not take TAXII JSON."""
        member = await self._member(request)
        if isinstance(member, Response):
            return member
        request.state.user = member  # kept for a POST: the member who pushed
        if member is None:
            response = error(401, "authentication required")
            response.headers["WWW-Authenticate"] = 'Basic realm="distillguard TAXII"'
            return response
        if not _accepts(request):
            return error(406, f"this server answers {MEDIA_TYPE}")
        if request.path_params.get("api_root", API_ROOT) != API_ROOT:
            return error(404, "no such API root")
        return None

    async def _member(self, request: Request) -> str | Response | None:
        """The member the credentials prove, None, or a 429: PBKDF2 runs in a thread (on
        the event loop, fifty wrong passwords stalled every member's requests for
        seconds), and only for credentials not verified before."""
        given = credentials(request.headers.get("authorization"))
        if given is None:
            return None
        if self.users.known(*given):
            return given[0]
        client = request.client.host if request.client else "?"
        wait = self.throttle.attempt(client, given[0])
        if wait:
            response = error(429, "too many failed logins from this address")
            response.headers["Retry-After"] = str(int(wait) + 1)
            return response
        if not await run_in_threadpool(self.users.verify, *given):
            return None
        self.throttle.succeeded(client, given[0])
        return given[0]

    def collection(self, request: Request) -> dict[str, Any] | None:
        cid = request.path_params["collection_id"]
        for c in self.store.collections():
            if c["id"] == cid:
                return {**c, "can_read": True, "can_write": True, "media_types": [MEDIA_TYPE]}
        return None

    async def discovery(self, request: Request) -> Response:
        root = f"{str(request.base_url).rstrip('/')}/{API_ROOT}/"
        body = {"title": self.title, "default": root, "api_roots": [root]}
        return await self.guard(request) or taxii(body)

    async def api_root(self, request: Request) -> Response:
        body = {
            "title": self.title,
            "versions": [MEDIA_TYPE],
            "max_content_length": self.max_content,
        }
        return await self.guard(request) or taxii(body)

    async def collections(self, request: Request) -> Response:
        if (denied := await self.guard(request)) is not None:
            return denied
        cs = [
            {**c, "can_read": True, "can_write": True, "media_types": [MEDIA_TYPE]}
            for c in self.store.collections()
        ]
        return taxii({"collections": cs})

    async def one_collection(self, request: Request) -> Response:
        if (denied := await self.guard(request)) is not None:
            return denied
        found = self.collection(request)
        return taxii(found) if found else error(404, "no such collection")

    def _page(self, request: Request, object_id: str | None, shape: Shape = "objects") -> Response:
        q = request.query_params
        try:
            limit = min(int(q.get("limit", MAX_PAGE)), MAX_PAGE)
            after = [parse_time(v) for v in (q.get("added_after"), q.get("next")) if v]
        except ValueError:
            return error(400, "bad limit, added_after or next")
        if limit < 1:
            return error(400, "limit must be at least 1")
        versions = ("all",) if shape == "versions" else _versions(q.get("match[version]"))
        if len(versions) > MAX_VERSIONS:
            return error(400, f"match[version] takes at most {MAX_VERSIONS} values")
        types = q.get("match[type]", "").split(",") if q.get("match[type]") else None
        page = self.store.page(
            request.path_params["collection_id"],
            added_after=max(after) if after else None,
            limit=limit,
            object_id=object_id or q.get("match[id]"),
            types=types,
            versions=versions,
        )
        if object_id and not page.objects:
            return error(404, "no such object")
        body: dict[str, Any] = {"more": page.more}
        if shape == "versions":
            body["versions"] = [version_of(o) for o in page.objects]
        elif shape == "manifest":
            body["objects"] = [
                {
                    "id": o["id"],
                    "date_added": stamp(added),
                    "version": version_of(o) or stamp(added),
                    "media_type": "application/stix+json;version=2.1",
                }
                for o, added in zip(page.objects, page.added, strict=True)
            ]
        else:
            body["objects"] = page.objects
        headers = {}
        if page.last_added is not None and page.first_added is not None:
            headers["X-TAXII-Date-Added-First"] = stamp(page.first_added)
            headers["X-TAXII-Date-Added-Last"] = stamp(page.last_added)
            if page.more:
                body["next"] = stamp(page.last_added)
        return taxii(body, headers=headers)

    async def objects(self, request: Request) -> Response:
        if (denied := await self.guard(request)) is not None:
            return denied
        if self.collection(request) is None:
            return error(404, "no such collection")
        if request.method == "POST":
            return await self._post(request)
        return self._page(request, None)

    async def manifest(self, request: Request) -> Response:
        if (denied := await self.guard(request)) is not None:
            return denied
        if self.collection(request) is None:
            return error(404, "no such collection")
        return self._page(request, None, "manifest")

    async def one_object(self, request: Request) -> Response:
        if (denied := await self.guard(request)) is not None:
            return denied
        if self.collection(request) is None:
            return error(404, "no such collection")
        return self._page(request, request.path_params["object_id"])

    async def object_versions(self, request: Request) -> Response:
        if (denied := await self.guard(request)) is not None:
            return denied
        if self.collection(request) is None:
            return error(404, "no such collection")
        return self._page(request, request.path_params["object_id"], "versions")

    async def _post(self, request: Request) -> Response:
        content_type = request.headers.get("content-type", "").replace(" ", "")
        if not content_type.startswith("application/taxii+json"):
            return error(415, f"send {MEDIA_TYPE}")
        if int(request.headers.get("content-length", 0)) > self.max_content:
            return error(413, "envelope too large")
        raw = await request.body()
        if len(raw) > self.max_content:
            return error(413, "envelope too large")
        try:
            envelope = json.loads(raw, parse_constant=_not_json, parse_float=_finite)
            objects = envelope["objects"]
            if not isinstance(objects, list):
                raise TypeError
        except _NotJSONError as exc:
            return error(400, str(exc))
        except (ValueError, KeyError, TypeError, RecursionError):  # nesting past Python's
            return error(400, 'expected an envelope: {"objects": [...]}')
        cid, user = request.path_params["collection_id"], request.state.user
        # off the event loop: 1,000 objects take seconds, and every other member waited
        result = await run_in_threadpool(self.store.add, cid, objects, user, self.users.bound())
        status_id = str(uuid.uuid4())
        status: dict[str, Any] = {
            "id": status_id,
            "status": "complete",
            "request_timestamp": stamp(datetime.now(UTC)),
            "total_count": len(objects),
            "success_count": result.added + result.duplicates,
            "failure_count": len(result.failed),
            "pending_count": 0,
            # status-details: id and version required (TAXII 2.1 4.3.1)
            "failures": [{"id": i, "version": v, "message": m} for i, v, m in result.failed],
        }
        self.statuses[status_id] = status
        if len(self.statuses) > STATUSES_KEPT:  # the oldest first: a dict keeps insertion order
            del self.statuses[next(iter(self.statuses))]
        return taxii(status, 202)

    async def status(self, request: Request) -> Response:
        if (denied := await self.guard(request)) is not None:
            return denied
        found = self.statuses.get(request.path_params["status_id"])
        return taxii(found) if found else error(404, "no such status")


class _NotJSONError(Exception):
    pass


def _not_json(constant: str) -> Any:
    """Python reads NaN and Infinity, which JSON has not: held and served again, one
    member's NaN made every other member's pull a file no JSON parser reads."""
    raise _NotJSONError(f"{constant} is not JSON (RFC 8259 has no NaN or Infinity)")


def _finite(text: str) -> float:
    """A JSON number as a float; one past a double's range (1e999) read as inf, served
    back as Infinity, which is not JSON either."""
    value = float(text)
    if not math.isfinite(value):
        raise _NotJSONError(f"{text[:40]} is out of a JSON number's range (a double's)")
    return value


TOO_SLOW_ANSWER = json.dumps({"title": TOO_SLOW, "http_status": "408"}).encode()


def make_app(
    store: TaxiiStore, users: Users, title: str = "distillguard", max_content: int = MAX_CONTENT
) -> Starlette:
    app = TaxiiApp(store, users, title, max_content)
    base = "/{api_root}"
    objects = base + "/collections/{collection_id}/objects/"
    return Starlette(
        middleware=[
            Middleware(BodyDeadline, answer=TOO_SLOW_ANSWER, media_type=MEDIA_TYPE),
            Middleware(BodyLimit, limit=max_content, media_type=MEDIA_TYPE),
        ],
        routes=[
            Route("/taxii2/", app.discovery),
            Route(base + "/", app.api_root),
            Route(base + "/collections/", app.collections),
            Route(base + "/collections/{collection_id}/", app.one_collection),
            Route(objects, app.objects, methods=["GET", "POST"]),
            Route(objects + "{object_id}/", app.one_object),
            Route(objects + "{object_id}/versions/", app.object_versions),
            Route(base + "/collections/{collection_id}/manifest/", app.manifest),
            Route(base + "/status/{status_id}/", app.status),
        ],
    )
