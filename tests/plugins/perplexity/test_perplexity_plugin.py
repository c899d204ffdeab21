"""The perplexity plugin: static models, no stream_options, <think> splitting, citations, path option."""

from __future__ import annotations

import json
from importlib.metadata import entry_points
from typing import Any

import pytest
from chatpipe.errors import ConfigError
from chatpipe.http import HttpResponse, SSEEvent
from chatpipe.models import ChatRequest, Message
from chatpipe.plugin import StreamAccumulator
from chatpipe.provider import ProviderSettings
from chatpipe.registry import Registry
from chatpipe.secrets import Secret
from chatpipe_perplexity import SONAR_MODELS, PerplexityProvider

KEY = "pplx-PLANTED-0123456789abcdef0123"
REQUEST = ChatRequest(model="sonar-reasoning-pro", messages=(Message("user", "Capital of France?"),), stream=True)


def make(**kwargs: Any) -> PerplexityProvider:
    return PerplexityProvider(ProviderSettings(base_url="https://api.perplexity.ai", api_key=Secret(KEY), **kwargs))


def test_declaration() -> None:
    info = PerplexityProvider.info
    assert (info.name, info.package, info.default_base_url) == (
        "perplexity",
        "chatpipe-perplexity",
        "https://api.perplexity.ai",
    )
    assert info.api_key_env == ("PERPLEXITY_API_KEY",) and info.default_model == "sonar"
    assert info.required_converters == ("strict",)
    assert not info.capabilities.model_listing and not info.capabilities.status_check


def test_entry_point_registers_the_class() -> None:
    (ep,) = [e for e in entry_points(group="chatpipe.providers") if e.name == "perplexity"]
    registry = Registry(entry_points=[])
    registry.register(ep.load())
    assert registry.provider("perplexity") is PerplexityProvider


def test_no_model_endpoint_a_static_list_and_no_check() -> None:
    adapter = make()
    assert adapter.build_models() is None and adapter.build_check() is None
    assert [m.id for m in adapter.static_models()] == list(SONAR_MODELS)
    assert set(SONAR_MODELS) == {"sonar", "sonar-pro", "sonar-reasoning-pro", "sonar-deep-research"}


def test_request_without_v1_and_without_stream_options() -> None:
    http = make().build_chat(REQUEST)
    assert http.url == "https://api.perplexity.ai/chat/completions"
    assert http.json["stream"] is True and "stream_options" not in http.json


def test_path_option_moves_the_endpoint() -> None:
    PerplexityProvider.validate_options({"path": "/v1/sonar"})
    assert make(options={"path": "/v1/sonar"}).build_chat(REQUEST).url == "https://api.perplexity.ai/v1/sonar"


@pytest.mark.parametrize("options", [{"path": "v1/sonar"}, {"path": 3}, {"search": True}])
def test_bad_options_are_config_errors(options: dict[str, Any]) -> None:
    with pytest.raises(ConfigError, match="path"):
        PerplexityProvider.validate_options(options)


def test_reply_splits_think_and_keeps_citations() -> None:
    body = {
        "id": "p1",
        "model": "sonar-reasoning-pro",
        "created": 1,
        "object": "chat.completion",
        "choices": [
            {
                "index": 0,
                "finish_reason": "stop",
                "message": {"role": "assistant", "content": "<think>\nThe user asks...\n</think>\n\nParis [1]."},
            }
        ],
        "usage": {
            "prompt_tokens": 8,
            "completion_tokens": 20,
            "total_tokens": 28,
            "citation_tokens": 300,
            "num_search_queries": 1,
            "cost": {"total_cost": 0.006},
        },
        "citations": ["https://en.wikipedia.org/wiki/Paris"],
        "search_results": [{"title": "Paris", "url": "https://en.wikipedia.org/wiki/Paris", "date": None}],
    }
    reply = make().parse_chat(HttpResponse(200, {}, json.dumps(body).encode()))
    assert reply.text == "Paris [1]." and reply.reasoning == "The user asks..."
    assert reply.extra["citations"] == ["https://en.wikipedia.org/wiki/Paris"]
    assert reply.extra["search_results"][0]["title"] == "Paris"
    assert reply.usage is not None and reply.usage.extra["cost"] == {"total_cost": 0.006}


def stream_events(pieces: list[str]) -> list[SSEEvent]:
    events = []
    text = ""
    for i, piece in enumerate(pieces):
        text += piece
        last = i == len(pieces) - 1
        data = {
            "id": "p2",
            "model": "sonar-reasoning-pro",
            "created": 1,
            "object": "chat.completion",
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "stop" if last else None,
                    "delta": {"role": "assistant", "content": piece},
                    "message": {"role": "assistant", "content": text},
                }
            ],
            "usage": {"prompt_tokens": 8, "completion_tokens": i + 1, "total_tokens": 9 + i},
            "citations": ["https://a.test"],
        }
        events.append(SSEEvent(json.dumps(data)))
    return events


def test_stream_routes_think_text_to_reasoning_across_split_tags_and_ends_without_done() -> None:
    parser = make().stream_parser(REQUEST)
    acc = StreamAccumulator(provider="perplexity")
    pieces = ["<thi", "nk>Look", "ing up.</th", "ink>\n\n", "Par", "is."]
    chunks = []
    for event in stream_events(pieces):
        for c in parser.feed(event):
            chunks.append(c)
            acc.add(c)
    for c in parser.finish():
        chunks.append(c)
        acc.add(c)
    assert not parser.done
    assert "".join(c.text for c in chunks) == "Paris."
    assert "".join(c.reasoning for c in chunks) == "Looking up."
    reply = acc.response()
    assert reply.text == "Paris." and reply.reasoning == "Looking up." and reply.finish_reason == "stop"
    assert reply.usage is not None and reply.usage.completion_tokens == len(pieces)
    assert reply.extra["citations"] == ["https://a.test"]


def test_stream_without_think_passes_text_through() -> None:
    parser = make().stream_parser(REQUEST)
    text = "".join(c.text for e in stream_events(["Hello", " world"]) for c in parser.feed(e))
    text += "".join(c.text for c in parser.finish())
    assert text == "Hello world"
