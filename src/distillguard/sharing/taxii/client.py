"""`share push` / `share pull`: a TAXII 2.1 client for any server (httpx).

Pull pages through a collection by `added_after`, following the server's `next` token
where it gives one and the `X-TAXII-Date-Added-Last` header otherwise, so it works with
servers that implement either. Errors are one line: the status and the server's title.
"""

from __future__ import annotations

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
    status_id: str
    # (object id, the server's reason) for each refused object, as its status lists them
    failures: tuple[tuple[str, str], ...] = ()


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
            raise UserError(f"TAXII {method} {url}: HTTP {response.status_code} {title}".strip())
        return response

    def push(self, objects: list[dict[str, Any]]) -> PushResult:
        response = self._send(
            "POST",
            self.url + "objects/",
            json={"objects": objects},
            headers={"Content-Type": MEDIA_TYPE},
        )
        status = _taxii_json(response, "POST")
        try:
            total = int(status.get("total_count", len(objects)))
            success = int(status.get("success_count", 0))
            failure = int(status.get("failure_count", 0))
        except (TypeError, ValueError):
            raise UserError(f"{_where('POST', response)}: a status without counts") from None
        failures = status.get("failures")
        return PushResult(
            total,
            success,
            failure,
            str(status.get("id", "")),
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
