"""Client profiles: the one table of SDKs, agents and apps every population draws from.

A profile fixes the user agent and access path and the shape of request parameters. Attack
accounts use the same popular clients as everyone else; nothing here is theirs alone.
"""

from __future__ import annotations

from dataclasses import dataclass

AGENT_SYSTEM_PROMPT = (
    "You are an autonomous coding agent working in the user's repository. You can read and "
    "edit files, run shell commands and tests, and search the codebase. Follow the repo's "
    "conventions, keep changes minimal, run the tests before finishing, and explain what you "
    "changed. Never commit secrets. Ask before destructive operations. " * 6
).strip()
AGENT_TOOLS = ("bash", "read_file", "edit_file", "write_file", "grep", "glob", "run_tests", "task")
COMPUTER_TOOLS = ("computer", "screenshot", "bash")
APP_TOOLS = ("search", "get_weather", "book_table", "send_email", "calendar")


@dataclass(frozen=True)
class ClientProfile:
    name: str
    user_agents: tuple[str, ...]
    access_paths: tuple[str, ...]
    max_tokens: tuple[int, ...]
    temperatures: tuple[float, ...]
    agent: bool = False


CLIENTS: dict[str, ClientProfile] = {
    p.name: p
    for p in (
        ClientProfile(
            "python-sdk",
            ("anthropic-python/0.71.0", "anthropic-python/0.72.0", "anthropic-python/0.69.1"),
            ("api", "api", "api", "cloud:aws-bedrock", "cloud:gcp-vertex"),
            (1024, 2048, 4096, 8192, 16000),
            (0.0, 0.2, 0.7, 1.0),
        ),
        ClientProfile(
            "ts-sdk",
            ("anthropic-typescript/0.65.0", "anthropic-typescript/0.66.2"),
            ("api", "api", "cloud:aws-bedrock"),
            (1024, 4096, 8192),
            (0.3, 0.7, 1.0),
        ),
        ClientProfile(
            "openai-compat",
            ("OpenAI/Python 1.99.0", "litellm/1.77.0", "langchain-anthropic/0.3.4"),
            ("api", "reseller:openrouter", "reseller:litellm-gw"),
            (512, 1024, 4096),
            (0.0, 0.7, 1.0),
        ),
        ClientProfile(
            "coding-agent",
            ("claude-cli/2.1.4 (external, cli)", "claude-cli/2.1.7 (external, cli)"),
            ("api", "api", "cloud:aws-bedrock"),
            (16000, 32000),
            (1.0,),
            agent=True,
        ),
        ClientProfile(
            "ide-agent",
            ("cursor/1.7.2", "cline/3.30.1", "continue/1.2.0"),
            ("api", "reseller:openrouter"),
            (8192, 16000),
            (0.0, 1.0),
            agent=True,
        ),
        ClientProfile(
            "web-app",
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64)",
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5)",
                "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X)",
            ),
            ("console",),
            (4096, 8192),
            (1.0,),
        ),
        ClientProfile(
            "http",
            ("curl/8.5.0", "python-requests/2.32.3", "Go-http-client/2.0", "axios/1.7.7"),
            ("api",),
            (256, 1024, 4096),
            (0.0, 0.5),
        ),
    )
}
