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


class TaxiiClient:
    """One TAXII 2.1 collection: its objects URL is `{collection_url}objects/`."""

    def __init__(self, collection_url: str, user: str, password: str, timeout: float = 30) -> None:
        self.url = collection_url.rstrip("/") + "/"
        self._http = httpx.Client(auth=(user, password), headers=HEADERS, timeout=timeout)

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
        status = response.json()
        return PushResult(
            int(status.get("total_count", len(objects))),
            int(status.get("success_count", 0)),
            int(status.get("failure_count", 0)),
            str(status.get("id", "")),
            tuple(
                (str(f.get("id", "")), str(f.get("message", "")))
                for f in status.get("failures") or []
                if isinstance(f, dict)
            ),
        )

    def pages(self, added_after: str | None = None, limit: int = 100) -> Iterator[list[Any]]:
        """Every page of objects added after `added_after`, oldest first."""
        params: dict[str, Any] = {"limit": limit}
        if added_after:
            params["added_after"] = added_after
        while True:
            response = self._send("GET", self.url + "objects/", params=params)
            body = response.json() if response.content else {}
            yield list(body.get("objects") or [])
            last = response.headers.get("X-TAXII-Date-Added-Last")
            if not body.get("more") or not (body.get("next") or last):
                return
            if body.get("next"):
                params = {"limit": limit, "next": body["next"]}
                if added_after:
                    params["added_after"] = added_after
            else:
                params = {"limit": limit, "added_after": last}

    def pull(self, added_after: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        return [o for page in self.pages(added_after, limit) for o in page]
