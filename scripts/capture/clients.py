"""Client traffic on the official OpenAI SDK: plain and streamed chats, a tool call and its
result, a system prompt, and a request the upstream fails with HTTP 500."""

from __future__ import annotations

from typing import Any

import openai

WEATHER_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}
SYSTEM = "You are a terse assistant for Acme support."


def chat(client: Any, model: str, text: str, **extra: Any) -> None:
    messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": text}]
    client.chat.completions.create(model=model, messages=messages, max_tokens=64, **extra)


def stream(client: Any, model: str, text: str, **extra: Any) -> None:
    messages = [{"role": "user", "content": text}]
    chunks = client.chat.completions.create(
        model=model,
        messages=messages,
        stream=True,
        stream_options={"include_usage": True},
        temperature=0.3,
        **extra,
    )
    for _ in chunks:
        pass


def tool_round(client: Any, model: str, **extra: Any) -> None:
    """A tool call, then the conversation sent again with the tool's result."""
    messages: list[dict[str, Any]] = [{"role": "user", "content": "Weather in Paris?"}]
    first = client.chat.completions.create(
        model=model, messages=messages, tools=[WEATHER_TOOL], **extra
    )
    call = first.choices[0].message.tool_calls[0]
    messages.append(first.choices[0].message.model_dump(exclude_none=True))
    messages.append({"role": "tool", "tool_call_id": call.id, "content": "rainy, 14C"})
    client.chat.completions.create(model=model, messages=messages, tools=[WEATHER_TOOL], **extra)


def failure(client: Any, model: str, **extra: Any) -> None:
    try:
        chat(client, model, "This one fails upstream.", **extra)
    except openai.APIStatusError as exc:
        print(f"  expected failure: HTTP {exc.status_code}")
    else:
        raise RuntimeError("the failing model did not fail")


def client_for(base_url: str, api_key: str) -> Any:
    return openai.OpenAI(base_url=base_url, api_key=api_key, max_retries=0)
