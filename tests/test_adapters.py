"""Each adapter on realistic sample records, with optional fields missing, through ingest."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from distillguard.errors import ConfigError, UserError
from distillguard.ingest import Lake, ingest
from distillguard.ingest.adapters import FieldMapping, detect_adapter, get_adapter, load_mapping
from distillguard.schema import validate_exchange
from distillguard.schema.validate import RowError
from tests.conftest import query, write_jsonl
from tests.samples import (
    SAMPLES,
    anthropic_pair,
    exchange_row,
    litellm_payload,
    openai_pair,
    otel_chat_span,
    otel_request,
    otel_tool_span,
)


def _rows(name: str, record: Any, mapping: FieldMapping | None = None) -> list[Any]:
    return [validate_exchange(r) for r in get_adapter(name, mapping).rows(record)]


def test_otel_chat_span_with_content() -> None:
    [row] = _rows("otel-genai", otel_request([otel_chat_span(), otel_tool_span()]))
    assert row.request_id == "chatcmpl-AbC123"
    assert row.account_id == "acct-42"
    assert row.ts == datetime(2026, 2, 10, 13, 26, 40, tzinfo=UTC)
    assert row.latency_ms == 1250
    assert (row.model, row.max_tokens, row.temperature) == ("gpt-4o", 512, 0.2)
    assert (row.input_tokens, row.output_tokens, row.stop_reason) == (97, 52, "end_turn")
    assert row.system == "You are a weather bot."
    assert row.tools == ["get_weather"]
    assert row.ip == "203.0.113.7"
    assert [m.role for m in row.messages] == ["user", "assistant", "tool"]
    assert row.messages[1].content[0].type == "tool_use"
    assert row.messages[2].content[0].text == "rainy, 57F"
    assert row.output_text == "It is rainy, 57F."


def test_a_mapping_moves_body_fields_too(tmp_path: Path) -> None:
    """model, system, token counts and a max_tokens default were accepted by --mapping and
    never applied by the pair-log adapters (a request without model was quarantined)."""
    record = openai_pair()
    record["request"].pop("model")
    record["request"].pop("max_tokens", None)
    record["request"].pop("max_completion_tokens", None)
    record["response"].pop("model", None)
    record["meta"] = {"model": "m-7", "sys": "Be brief.", "tokens_in": 11}
    mapping_file = tmp_path / "mapping.yaml"
    mapping_file.write_text(
        "fields:\n  model: meta.model\n  system: meta.sys\n  input_tokens: meta.tokens_in\n"
        "defaults:\n  max_tokens: 100\n"
    )
    source = write_jsonl(tmp_path / "pairs.jsonl", [record])
    summary = ingest([source], tmp_path / "lake", mapping=load_mapping(mapping_file))
    assert (summary.kept, summary.quarantined) == (1, 0)
    table = Lake(tmp_path / "lake").exchanges_sql()
    sql = f"SELECT model, system, input_tokens, max_tokens FROM {table}"
    assert query(sql) == [("m-7", "Be brief.", 11, 100)]


@pytest.mark.parametrize(
    "record", [{"request_id": "r1", "messages": []}, {"resourceSpans": None}, {}]
)
def test_a_record_that_is_not_an_otlp_export_is_a_bad_row(record: dict[str, Any]) -> None:
    """It read as an export with no span: nothing counted, nothing quarantined."""
    with pytest.raises(RowError, match="not an OTLP trace export"):
        _rows("otel-genai", record)


def test_otel_without_content_capture_keeps_metadata() -> None:
    [row] = _rows("otel-genai", otel_request([otel_chat_span(content=False)]))
    assert row.messages[0].content == []
    assert row.system is None and row.output_text is None
    assert row.output_tokens == 52


def test_otel_account_from_mapping() -> None:
    mapping = FieldMapping({"account_id": ("tenant.id",)})
    [row] = _rows("otel-genai", otel_request([otel_chat_span()]), mapping)
    assert row.account_id == "t-9"


def test_litellm_full_and_minimal() -> None:
    [full] = _rows("litellm", litellm_payload())
    assert (full.request_id, full.account_id) == ("chatcmpl-9f3c2a", "user-7")
    assert full.model == "claude-sonnet"  # the model group the client asked for
    assert full.api_key_id.startswith("88dc28d0")
    assert (full.ip, full.user_agent) == ("198.51.100.23", "litellm/1.77.0")
    assert full.system == "You are a coding assistant."
    assert full.messages[0].content == "Write a function that merges two sorted lists." or (
        full.messages[0].content[0].text.startswith("Write a function")
    )
    assert (full.max_tokens, full.temperature, full.status, full.latency_ms) == (
        2048,
        0.0,
        200,
        3500,
    )
    assert (full.input_tokens, full.output_tokens) == (120, 860)
    assert full.output_text == "def merge(a, b): ..."
    [minimal] = _rows("litellm", litellm_payload(minimal=True))
    assert minimal.account_id == "k-hash-only"
    assert minimal.output_text is None and minimal.latency_ms is None


def test_openai_pair_full_and_minimal() -> None:
    [full] = _rows("openai-chat", openai_pair())
    assert full.request_id == "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT"
    assert (full.account_id, full.api_key_id, full.status, full.latency_ms) == (
        "org-123",
        "key-abc",
        200,
        812,
    )
    assert full.system == "Answer briefly."
    assert [b.type for b in full.messages[0].content] == ["text", "image"]
    assert full.messages[0].content[1].media_type == "image/png"
    assert (full.max_tokens, full.tools, full.reasoning_tokens) == (300, ["lookup"], 0)
    assert (full.output_text, full.stop_reason) == ("A cat on a sofa.", "end_turn")
    [minimal] = _rows("openai-chat", openai_pair(minimal=True))
    assert minimal.tools is None and minimal.input_tokens is None and minimal.ip is None


def test_anthropic_pair_full_and_minimal() -> None:
    [full] = _rows("anthropic-messages", anthropic_pair())
    assert full.request_id == "msg_01XFDUDYJgAACzvnptvVoYEL"
    assert full.ts == datetime(2026, 2, 10, 13, 26, 40, 500000, tzinfo=UTC)
    assert (full.thinking_budget, full.max_tokens, full.tools) == (10000, 16000, ["calculator"])
    assert full.system == "You are a careful mathematician."
    assert full.ip == "2001:db8::1"
    assert full.output_text.startswith("Assume p1..pn")
    assert (full.input_tokens, full.output_tokens, full.stop_reason) == (30, 420, "end_turn")
    [minimal] = _rows("anthropic-messages", anthropic_pair(minimal=True))
    assert minimal.output_text is None and minimal.thinking_budget is None


def test_mapping_file_moves_metadata(tmp_path: Path) -> None:
    record = openai_pair()
    record["meta"] = {"tenant": "org-999", "at": "2026-02-11T00:00:00Z"}
    mapping_file = tmp_path / "mapping.yaml"
    mapping_file.write_text(
        "fields:\n  account_id: meta.tenant\n  ts: [meta.at]\n"
        "defaults:\n  access_path: reseller:acme\n"
    )
    [row] = _rows("openai-chat", record, load_mapping(mapping_file))
    assert (row.account_id, row.access_path) == ("org-999", "reseller:acme")
    assert row.ts == datetime(2026, 2, 11, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("fields: [1, 2]", "must be mappings"),
        ("fields:\n  account_id: 5", "path or a list"),
        ("colour: blue", "unknown keys"),
        ("- just a list", "expected a YAML mapping"),
        # a misspelt field never applied, without a word
        ("fields:\n  acount_id: meta.tenant", r"unknown field\(s\) \['acount_id'\]"),
        ("defaults:\n  acess_path: x", r"\['acess_path'\]; valid: access_path"),
    ],
)
def test_bad_mapping_files(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_mapping(path)


def test_auto_detection_picks_each_shape() -> None:
    for name, records in SAMPLES.items():
        for record in records:
            adapter = detect_adapter(record)
            assert adapter is not None and adapter.name == name


def test_unknown_format_lists_valid_names() -> None:
    with pytest.raises(UserError, match="valid names: anthropic-messages, auto, exchange-log"):
        get_adapter("splunk")


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_each_shape_ingests_with_auto_format(tmp_path: Path, name: str) -> None:
    source = write_jsonl(tmp_path / f"{name}.jsonl", SAMPLES[name])
    summary = ingest([source], tmp_path / "lake")
    assert summary.quarantined == 0
    assert summary.kept == 2
    [(count,)] = query(f"SELECT count(*) FROM {Lake(tmp_path / 'lake').exchanges_sql()}")
    assert count == 2


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_one_odd_first_record_does_not_decide_a_files_format(tmp_path: Path, name: str) -> None:
    """The format is what most of the first records are: an odd first one was enough to
    read a whole LiteLLM file as exchange-log rows, every one quarantined."""
    source = write_jsonl(tmp_path / f"{name}.jsonl", [{"hello": 1}, *SAMPLES[name]])
    summary = ingest([source], tmp_path / "lake")
    assert (summary.kept, summary.quarantined) == (2, 1)


def test_a_forced_format_refuses_records_of_another_known_shape(tmp_path: Path) -> None:
    """An Anthropic log forced as openai-chat was kept with its system prompt and output
    null; a record the forced adapter does not know, and no other does, is still read."""
    written = json.dumps(anthropic_pair()).encode()  # spaced, its keys in its own order
    source = write_jsonl(tmp_path / "pairs.jsonl", [written, openai_pair()])
    summary = ingest([source], tmp_path / "lake", fmt="openai-chat")
    assert (summary.kept, summary.quarantined) == (1, 1)
    quarantined = (tmp_path / "lake" / "quarantine.jsonl").read_bytes().splitlines()
    [entry] = [orjson.loads(line) for line in quarantined]
    assert "looks like anthropic-messages, not openai-chat" in entry["reason"]
    # the raw text as the line was written, not JSON written again with its keys sorted
    assert entry["raw"] == source.read_text().splitlines()[0]


def test_a_file_of_two_shapes_reads_each_record_as_its_own(tmp_path: Path) -> None:
    """A gateway logging OpenAI and Anthropic calls to one file: the Anthropic records
    were kept as openai-chat rows with system, output and token counts null."""
    pairs = [openai_pair() for _ in range(3)] + [anthropic_pair()]
    for n, pair in enumerate(pairs):
        pair["response"]["id"] = f"mixed-{n}"
    source = write_jsonl(tmp_path / "pairs.jsonl", pairs)
    alone = write_jsonl(tmp_path / "anthropic.jsonl", [pairs[-1]])
    summary = ingest([source], tmp_path / "lake")
    assert (summary.kept, summary.quarantined) == (4, 0)
    ingest([alone], tmp_path / "alone")
    columns = "system, output_text, stop_reason, input_tokens, output_tokens"
    sql = "SELECT {c} FROM {t} WHERE request_id = 'mixed-3'"
    mixed = query(sql.format(c=columns, t=Lake(tmp_path / "lake").exchanges_sql()))
    assert mixed == query(sql.format(c=columns, t=Lake(tmp_path / "alone").exchanges_sql()))
    assert all(value is not None for value in mixed[0])


def test_records_an_adapter_cannot_use_are_quarantined(tmp_path: Path) -> None:
    broken = openai_pair()
    broken["metadata"].pop("account_id")
    source = write_jsonl(tmp_path / "pairs.jsonl", [openai_pair(), broken, b"{oops"])
    summary = ingest([source], tmp_path / "lake", fmt="openai-chat")
    assert (summary.read, summary.kept, summary.quarantined) == (3, 1, 2)


def test_a_mapping_may_name_what_the_adapters_read_as_well_as_fields(tmp_path: Path) -> None:
    """A pair log's request and response, LiteLLM's org_id: moved by --mapping as the
    README and the adapters' docs say."""
    path = tmp_path / "m.yaml"
    path.write_text("fields:\n  request: body.req\n  response: body.resp\n  org_id: meta.team")
    assert set(load_mapping(path).paths) == {"request", "response", "org_id"}


def _span(n: int, **changes: Any) -> dict[str, Any]:
    span = otel_chat_span(response_id=f"span-{n}")
    span["spanId"] = f"{n:016x}"
    return {**span, **changes}


def test_one_span_it_cannot_read_costs_only_itself(tmp_path: Path) -> None:
    """An exporter's line of three spans, the middle one with a start time that is no
    number: all three were quarantined as one, and 'read' counted one."""
    spans = [_span(1), _span(2, startTimeUnixNano="yesterday"), _span(3)]
    source = write_jsonl(tmp_path / "spans.jsonl", [otel_request(spans)])
    summary = ingest([source], tmp_path / "lake")
    assert (summary.read, summary.kept, summary.quarantined) == (3, 2, 1)
    lines = (tmp_path / "lake" / "quarantine.jsonl").read_bytes().splitlines()
    [entry] = [orjson.loads(line) for line in lines]
    assert entry["reason"].startswith(f"span {2:016x}: ValueError")


def test_odd_otel_attributes_are_read_as_the_convention_means() -> None:
    """finish_reasons given as one string was stored as its first letter ('l'); a system
    message without parts was a KeyError that cost the span."""
    span = _span(1)
    dropped = ("gen_ai.response.finish_reasons", "gen_ai.system_instructions",
               "gen_ai.input.messages")  # fmt: skip
    attrs = [a for a in span["attributes"] if a["key"] not in dropped]
    sent = [{"role": "system"}, {"role": "user", "parts": [{"type": "text", "content": "hi"}]}]
    attrs += [
        {"key": "gen_ai.response.finish_reasons", "value": {"stringValue": "length"}},
        {"key": "gen_ai.input.messages", "value": {"stringValue": orjson.dumps(sent).decode()}},
    ]
    [row] = _rows("otel-genai", otel_request([{**span, "attributes": attrs}]))
    assert (row.stop_reason, row.system) == ("max_tokens", None)


def test_two_calls_answered_from_one_cache_entry_are_two_exchanges(tmp_path: Path) -> None:
    """LiteLLM's `id` is the response's, which a cached answer repeats: another customer's
    call was dropped as a duplicate of the first."""
    first = {**litellm_payload(), "litellm_call_id": "call-1"}
    later = {"startTime": first["startTime"] + 60, "endTime": first["endTime"] + 60}
    cached = {**first, **later, "litellm_call_id": "call-2", "cache_hit": True, "end_user": "other"}
    source = write_jsonl(tmp_path / "litellm.jsonl", [first, cached])
    summary = ingest([source], tmp_path / "lake")
    assert (summary.kept, summary.duplicates) == (2, 0)
    rows = query(f"SELECT request_id FROM {Lake(tmp_path / 'lake').exchanges_sql()} ORDER BY 1")
    assert rows == [("call-1",), ("call-2",)]
    older = {k: v for k, v in litellm_payload().items() if k != "litellm_call_id"}
    assert _rows("litellm", older)[0].request_id == "chatcmpl-9f3c2a"  # payloads without it


def test_an_empty_string_gives_way_to_a_later_path() -> None:
    """model_group "" was stored as the model, an empty model name, where model named it."""
    [row] = _rows("litellm", {**litellm_payload(), "model_group": ""})
    assert row.model == "claude-sonnet-4-5"


def _chunk(text: str | None, finish: str | None = None, **extra: Any) -> dict[str, Any]:
    delta = {"content": text} if text is not None else {}
    choice = {"index": 0, "delta": delta, "finish_reason": finish}
    return {"id": "chatcmpl-s", "object": "chat.completion.chunk", "model": "gpt-4o",
            "choices": [choice], **extra}  # fmt: skip


# (case, the logged response, output, stop reason, output tokens): each was kept with its
# output, stop reason and tokens null, nothing said
STREAMED: list[tuple[str, Any, str | None, str | None, int | None]] = [
    ("its chunks", [_chunk("It is "), _chunk("rainy."), _chunk(None, "stop")],
     "It is rainy.", "end_turn", None),
    ("chunks with usage", [_chunk("Hi"), _chunk(None, "length"),
                           {**_chunk(None), "choices": [], "usage": {"completion_tokens": 7}}],
     "Hi", "max_tokens", 7),
    ("one chunk", _chunk("All of it.", "stop"), "All of it.", "end_turn", None),
]  # fmt: skip


@pytest.mark.parametrize("case", STREAMED, ids=[c[0] for c in STREAMED])
def test_a_streamed_openai_response_is_put_together(
    case: tuple[str, Any, str | None, str | None, int | None],
) -> None:
    _, response, text, stop, tokens = case
    pair = {**openai_pair(), "response": response}
    found = detect_adapter(pair)
    assert found is not None and found.name == "openai-chat"
    [row] = _rows("openai-chat", pair)
    assert (row.output_text, row.stop_reason, row.output_tokens) == (text, stop, tokens)


def test_another_apis_stream_events_are_not_read_as_openai_chunks() -> None:
    """Any list was put together as OpenAI chunks: an Anthropic stream logged as its events
    was kept as openai-chat with its output null."""
    delta = {"type": "text_delta", "text": "Hi"}
    events = [{"type": "message_start", "message": {"id": "msg_1"}},
              {"type": "content_block_delta", "delta": delta}]  # fmt: skip
    found = detect_adapter({**openai_pair(), "response": events})
    assert found is None or found.name != "openai-chat"


def _without(record: dict[str, Any], *path: str) -> dict[str, Any]:
    copy = json.loads(json.dumps(record))
    inner = copy
    for key in path[:-1]:
        inner = inner[key]
    del inner[path[-1]]
    return dict(copy)


def _with_value(record: dict[str, Any], value: Any, *path: str) -> dict[str, Any]:
    copy = json.loads(json.dumps(record))
    inner = copy
    for key in path[:-1]:
        inner = inner[key]
    inner[path[-1]] = value
    return dict(copy)


@pytest.mark.parametrize(
    ("record", "where"),
    [  # a quarantine reason names the lake's field; an adapted log's user looks up its own
        (
            _with_value(openai_pair(), "yesterday", "metadata", "timestamp"),
            "at `$.ts` (in this log: `metadata.timestamp`)",
        ),
        (
            _without(openai_pair(), "metadata", "account_id"),
            "at `$.account_id` (in this log: none of `metadata.account_id`, "
            "`metadata.organization_id`, `account_id` has a value)",
        ),
        (
            _with_value(openai_pair(), -3, "response", "usage", "prompt_tokens"),
            "at `$.input_tokens` (in this log: `usage.prompt_tokens` of the response)",
        ),
        (
            _with_value(anthropic_pair(), -3, "response", "usage", "output_tokens"),
            "at `$.output_tokens` (in this log: `usage.output_tokens` of the response)",
        ),
        (
            _with_value(anthropic_pair(), "ten", "metadata", "latency_ms"),
            "at `$.latency_ms` (in this log: `metadata.latency_ms`)",
        ),
    ],
)
def test_a_quarantine_reason_names_the_field_as_the_log_has_it(
    tmp_path: Path, record: dict[str, Any], where: str
) -> None:
    lake = tmp_path / "lake"
    ingest([write_jsonl(tmp_path / "pairs.jsonl", [record])], lake)
    [entry] = [orjson.loads(line) for line in Lake(lake).quarantine_path.read_bytes().splitlines()]
    assert str(entry["reason"]).endswith(where)


@pytest.mark.parametrize(
    ("record", "mapping", "where"),
    [
        (  # the user's path wins over the body, in the row and in the reason
            _with_value(openai_pair(), -5, "metadata", "tokens_in"),
            FieldMapping({"input_tokens": ("metadata.tokens_in",)}),
            "at `$.input_tokens` (in this log: `metadata.tokens_in`)",
        ),
        (  # a default the mapping gives, not the paths that held nothing
            openai_pair(),
            FieldMapping({}, {"asn": "AS64500"}),
            "at `$.asn` (in this log: the field mapping's default, 'AS64500')",
        ),
        (  # an empty string is passed over for a later path's value, as the row reads it
            _with_value(
                _with_value(openai_pair(), "", "metadata", "account_id"),
                7,
                "metadata",
                "organization_id",
            ),
            None,
            "at `$.account_id` (in this log: `metadata.organization_id`)",
        ),
        (  # a time without a zone: the validator's other phrasing
            _with_value(openai_pair(), "2026-02-10T13:45:12", "metadata", "timestamp"),
            None,
            "timestamp has no time zone (in this log: `metadata.timestamp`)",
        ),
    ],
)
def test_a_reason_follows_the_mapping_the_row_was_read_with(
    tmp_path: Path, record: dict[str, Any], mapping: FieldMapping | None, where: str
) -> None:
    lake = tmp_path / "lake"
    ingest([write_jsonl(tmp_path / "pairs.jsonl", [record])], lake, mapping=mapping)
    [entry] = [orjson.loads(line) for line in Lake(lake).quarantine_path.read_bytes().splitlines()]
    assert str(entry["reason"]).endswith(where)


def test_a_native_rows_reason_is_left_as_it_is(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    ingest([write_jsonl(tmp_path / "log.jsonl", [exchange_row(1, ts="yesterday")])], lake)
    [entry] = [orjson.loads(line) for line in Lake(lake).quarantine_path.read_bytes().splitlines()]
    assert str(entry["reason"]).endswith("at `$.ts`")
