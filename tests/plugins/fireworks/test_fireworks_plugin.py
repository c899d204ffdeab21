"""The fireworks plugin (a data provider): declaration, URLs and the model list's extra flags."""

from __future__ import annotations

import json
from importlib.metadata import entry_points

from chatpipe.errors import OverloadedError
from chatpipe.http import HttpResponse
from chatpipe.models import ChatRequest, Message
from chatpipe.provider import ProviderSettings
from chatpipe.registry import Registry, data_provider
from chatpipe.secrets import Secret
from chatpipe_fireworks import INFO

FireworksProvider = data_provider(INFO)

KEY = "fw-PLANTED-key-0123456789abcdef"


def make() -> FireworksProvider:
    return FireworksProvider(
        ProviderSettings(base_url=FireworksProvider.info.default_base_url or "", api_key=Secret(KEY))
    )


def test_declaration() -> None:
    info = FireworksProvider.info
    assert (info.name, info.package) == ("fireworks", "chatpipe-fireworks")
    assert info.default_base_url == "https://api.fireworks.ai/inference/v1"
    assert info.api_key_env == ("FIREWORKS_API_KEY",)
    assert info.default_model == "accounts/fireworks/models/llama-v3p1-8b-instruct"
    assert info.required_converters == ()


def test_entry_point_registers_the_class() -> None:
    (ep,) = [e for e in entry_points(group="chatpipe.providers") if e.name == "fireworks"]
    registry = Registry(entry_points=[])
    registry.register(ep.load())
    assert registry.provider("fireworks") is FireworksProvider


def test_urls() -> None:
    adapter = make()
    request = ChatRequest(
        model=FireworksProvider.info.default_model or "",
        messages=(Message("user", "Hi"),),
        params={"top_k": 40, "min_p": 0.05},
    )
    http = adapter.build_chat(request)
    assert http.url == "https://api.fireworks.ai/inference/v1/chat/completions"
    assert http.json["top_k"] == 40 and http.json["min_p"] == 0.05
    assert adapter.build_models().url == "https://api.fireworks.ai/inference/v1/models"


def test_model_list_keeps_supports_chat_and_supports_tools() -> None:
    body = {
        "object": "list",
        "data": [
            {
                "id": "accounts/fireworks/models/llama-v3p1-8b-instruct",
                "object": "model",
                "owned_by": "fireworks",
                "created": 1721692800,
                "kind": "HF_BASE_MODEL",
                "supports_chat": True,
                "supports_image_input": False,
                "supports_tools": True,
                "context_length": 131072,
            },
            {
                "id": "accounts/fireworks/models/nomic-embed",
                "object": "model",
                "owned_by": "fireworks",
                "supports_chat": False,
                "supports_tools": False,
            },
        ],
    }
    models = make().parse_models(HttpResponse(200, {}, json.dumps(body).encode()))
    assert [(m.id, m.extra["supports_chat"], m.extra["supports_tools"]) for m in models] == [
        ("accounts/fireworks/models/llama-v3p1-8b-instruct", True, True),
        ("accounts/fireworks/models/nomic-embed", False, False),
    ]
    assert models[0].context_length == 131072


def test_503_service_overloaded() -> None:
    error = make().parse_error(
        HttpResponse(
            503, {}, b'{"error": {"object": "error", "type": "internal_server_error", "message": "Service Overloaded"}}'
        )
    )
    assert isinstance(error, OverloadedError) and "Service Overloaded" in str(error)


def test_reasoning_content_is_read() -> None:
    body = {
        "id": "x",
        "object": "chat.completion",
        "created": 1,
        "model": "m",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Yes.", "reasoning_content": "Check."},
                "finish_reason": "stop",
            }
        ],
    }
    reply = make().parse_chat(HttpResponse(200, {}, json.dumps(body).encode()))
    assert reply.reasoning == "Check." and reply.text == "Yes."
