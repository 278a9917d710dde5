"""LiteLLM custom auth (general_settings.custom_auth): virtual keys with users, teams and
organisations declared here instead of in LiteLLM's key database. That database needs the
`prisma` client generated first, and `prisma generate` downloads Prisma's query engine from
binaries.prisma.sh, which cannot be reached here (tried: getaddrinfo ENOTFOUND)."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from litellm.proxy._types import UserAPIKeyAuth

KEYS: dict[str, dict[str, Any]] = {
    "sk-alice-research": {"user_id": "alice", "team_id": "team-research", "org_id": "org-acme"},
    "sk-bob-research": {"user_id": "bob", "team_id": "team-research", "org_id": "org-acme"},
    "sk-carol-support": {"user_id": "carol", "team_id": "team-support", "org_id": "org-acme"},
    "sk-batch-service": {"team_id": "team-support", "key_alias": "batch-service"},
}


async def user_api_key_auth(request: Request, api_key: str) -> UserAPIKeyAuth:
    identity = KEYS.get(api_key)
    if identity is None:
        raise Exception("unknown key")  # LiteLLM turns this into a 401
    return UserAPIKeyAuth(api_key=api_key, **identity)
