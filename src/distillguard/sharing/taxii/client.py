"""`share push` / `share pull`: a TAXII 2.1 client for any server (httpx).

Pull pages through a collection by `added_after`, following the server's `next` token
where it gives one and the `X-TAXII-Date-Added-Last` header otherwise, so it works with
servers that implement either. Errors are one line: the status and the server's title.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from distillguard.errors import UserError
from distillguard.sharing.taxii import MEDIA_TYPE

HEADERS = {"Accept": MEDIA_TYPE}


@dataclass(frozen=True)
class PushResult:
    total: int
    success: int
    failure: int
    # one status per envelope sent: a bundle over the server's max_content_length goes in several
    status_ids: tuple[str, ...]
    # (object id, the server's reason) for each refused object, as its status lists them
    failures: tuple[tuple[str, str], ...] = ()

    @staticmethod
    def merged(parts: list[PushResult]) -> PushResult:
        return PushResult(
            sum(p.total for p in parts),
            sum(p.success for p in parts),
            sum(p.failure for p in parts),
            tuple(i for p in parts for i in p.status_ids),
            tuple(f for p in parts for f in p.failures),
        )


@dataclass(frozen=True)
class Envelope:
    """A TAXII envelope as sent, and how many objects it holds."""

    content: bytes
    count: int


_HEAD, _TAIL = b'{"objects":[', b"]}"


def _packed(parts: list[bytes]) -> Envelope:
    return Envelope(_HEAD + b",".join(parts) + _TAIL, len(parts))


# Objects an envelope holds at most: a server stores each on its own (two reads and a
# write in ours), so 6,000 objects in one 10 MB envelope ran past the client's timeout
# with 4,681 stored and the push said "unreachable".
ENVELOPE_OBJECTS = 500
POST_TIMEOUT_S = 300.0


def envelopes(objects: list[dict[str, Any]], limit: int | None) -> Iterator[Envelope]:
    """The objects in their order, as envelopes of at most `limit` bytes (no limit: any
    size) and ENVELOPE_OBJECTS objects each. An object too big for any envelope is one
    line naming it."""
    parts: list[bytes] = []
    size = len(_HEAD) + len(_TAIL)
    for obj in objects:
        encoded = json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()
        if limit is not None and len(_HEAD) + len(encoded) + len(_TAIL) > limit:
            raise UserError(
                f"object {str(obj.get('id'))[:80]} takes {len(encoded):,} bytes, over the "
                f"server's max_content_length of {limit:,} for a whole envelope"
            )
        over = limit is not None and size + 1 + len(encoded) > limit
        if parts and (over or len(parts) >= ENVELOPE_OBJECTS):
            yield _packed(parts)
            parts, size = [], len(_HEAD) + len(_TAIL)
        size += len(encoded) + (1 if parts else 0)
        parts.append(encoded)
    if parts or not objects:
        yield _packed(parts)


def _where(method: str, response: httpx.Response) -> str:
    return f"TAXII {method} {response.request.url}"


def _taxii_json(response: httpx.Response, method: str) -> dict[str, Any]:
    """The answer as a JSON object, or one line (a proxy's login page, a wrong URL behind
    single sign-on: 200 with HTML)."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        kind = response.headers.get("content-type", "no content type")
        raise UserError(
            f"{_where(method, response)}: the server did not answer with TAXII JSON "
            f"(HTTP {response.status_code}, {kind}): is the URL a collection's?"
        )
    return body


class TaxiiClient:
    """One TAXII 2.1 collection: its objects URL is `{collection_url}objects/`."""

    def __init__(self, collection_url: str, user: str, password: str, timeout: float = 30) -> None:
        self.url = collection_url.rstrip("/") + "/"
        self._http = httpx.Client(auth=(user, password), headers=HEADERS, timeout=timeout)
        self.incomplete = False  # the last pull stopped where the server said more followed

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> TaxiiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._http.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            raise UserError(f"TAXII server unreachable at {url}: {exc}") from None
        if response.status_code >= 400:
            try:
                title = response.json().get("title", "")
            except ValueError:
                title = response.text[:200]
            hint = _hint(url, response.status_code)
            raise UserError(
                f"TAXII {method} {url}: HTTP {response.status_code} {title}".strip() + hint
            )
        return response

    def max_content_length(self) -> int | None:
        """The API root's limit on a request's size, when the collection URL names its API
        root (`.../collections/ID/`) and the root says; None leaves a push in one envelope,
        as before servers had to say (a root this user may not read is not a reason to fail)."""
        root, found, _ = self.url.rpartition("/collections/")
        if not found:
            return None
        try:
            limit = _taxii_json(self._send("GET", root + "/"), "GET").get("max_content_length")
        except UserError:
            return None
        return limit if isinstance(limit, int) and limit > 0 else None

    def push(self, objects: list[dict[str, Any]]) -> PushResult:
        """Every object, in as many envelopes as the server's max_content_length needs: all
        packed before the first is sent (an object too big for any stops the push before
        it starts), and an envelope refused after others were taken says what they were."""
        packed = list(envelopes(objects, self.max_content_length()))
        done: list[PushResult] = []
        for envelope in packed:
            try:
                done.append(self._post(envelope))
            except UserError as exc:
                if not done:
                    raise
                so_far = PushResult.merged(done)
                raise UserError(
                    f"{exc} (envelope {len(done) + 1} of {len(packed)}; the {len(done)} "
                    f"before it were taken: {so_far.success} of {so_far.total} objects "
                    "accepted)"
                ) from None
        return PushResult.merged(done)

    def _post(self, envelope: Envelope) -> PushResult:
        response = self._send(
            "POST",
            self.url + "objects/",
            content=envelope.content,
            headers={"Content-Type": MEDIA_TYPE},
            timeout=httpx.Timeout(self._http.timeout.connect, read=POST_TIMEOUT_S),
        )
        status = _taxii_json(response, "POST")
        try:
            total = int(status.get("total_count", envelope.count))
            success = int(status.get("success_count", 0))
            failure = int(status.get("failure_count", 0))
        except (TypeError, ValueError):
            raise UserError(f"{_where('POST', response)}: a status without counts") from None
        failures = status.get("failures")
        return PushResult(
            total,
            success,
            failure,
            (str(status.get("id", "")),),
            tuple(
                (str(f.get("id", "")), str(f.get("message", "")))
                for f in (failures if isinstance(failures, list) else [])
                if isinstance(f, dict)
            ),
        )

    def pages(self, added_after: str | None = None, limit: int = 100) -> Iterator[list[Any]]:
        """Every page of objects added after `added_after`, oldest first."""
        params: dict[str, Any] = {"limit": limit}
        if added_after:
            params["added_after"] = added_after
        self.incomplete = False
        while True:
            response = self._send("GET", self.url + "objects/", params=params)
            body = _taxii_json(response, "GET") if response.content else {}
            objects = body.get("objects") or []
            if not (isinstance(objects, list) and all(isinstance(o, dict) for o in objects)):
                raise UserError(f"{_where('GET', response)}: its objects are not STIX objects")
            yield objects
            last = response.headers.get("X-TAXII-Date-Added-Last")
            if not body.get("more"):
                return
            if not (body.get("next") or last):  # more, and no way to ask for it
                self.incomplete = True
                return
            if body.get("next"):
                params = {"limit": limit, "next": body["next"]}
                if added_after:
                    params["added_after"] = added_after
            else:
                params = {"limit": limit, "added_after": last}

    def pull(self, added_after: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        return [o for page in self.pages(added_after, limit) for o in page]


def _hint(url: str, status: int) -> str:
    """A 404 where no collection is named: the discovery or API root URL was given."""
    if status == 404 and "/collections/" not in url:
        return " (give a collection's URL, .../collections/ID/, as 'share serve' prints it)"
    return ""
