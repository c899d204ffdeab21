"""Fixtures for the gemini plugin tests: adapters, requests, bodies and the (patched) Gemini spec.

The spec (``specs/gemini.json``, revision 2024-10-16, see SOURCES.md) predates thinking, so a
copy is patched in memory (the file is never edited): the newer fields the adapter sends or
reads are declared (``thinkingConfig``, ``seed``, ``thought``/``thoughtSignature`` parts,
``thoughtsTokenCount``, newer Schema keywords and finish reasons), integer ``minItems`` /
``maxItems`` are allowed (the discovery document types int64 as strings), and the request
objects are closed (``additionalProperties: false``) so that a field Gemini does not know
fails the check instead of passing silently.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from chatpipe import wire
from chatpipe.converter import ConvertContext, Names
from chatpipe.models import ChatRequest
from chatpipe.provider import ProviderSettings
from chatpipe.secrets import Secret
from chatpipe.testing.openapi import SpecValidator
from chatpipe_gemini import GeminiProvider

KEY = "AIza-PLANTED-gemini-0123456789abcdef"

CLOSED = (
    "GenerateContentRequest",
    "Content",
    "Part",
    "Blob",
    "FileData",
    "FunctionCall",
    "FunctionResponse",
    "Tool",
    "FunctionDeclaration",
    "Schema",
    "ToolConfig",
    "FunctionCallingConfig",
    "SafetySetting",
    "GenerationConfig",
)
"""Request objects that reject keys they do not declare (after the patch)."""


def make_adapter(**settings: Any) -> GeminiProvider:
    """A GeminiProvider with the planted key and the given settings."""
    base = settings.pop("base_url", GeminiProvider.info.default_base_url)
    return GeminiProvider(ProviderSettings(base_url=base, api_key=Secret(KEY), **settings))


def make_request(messages: list[dict[str, Any]], **kwargs: Any) -> ChatRequest:
    """A ChatRequest for ``messages``; ``tools`` as dicts, other keywords are ChatRequest fields or params."""
    tools = wire.tools_from_dicts(kwargs.pop("tools")) if "tools" in kwargs else None
    fields = {k: kwargs.pop(k) for k in ("tool_choice", "stream", "model") if k in kwargs}
    fields.setdefault("model", "gemini-2.5-flash")
    return ChatRequest(messages=wire.messages_from_dicts(messages), tools=tools, params=kwargs, **fields)


@pytest.fixture
def gemini_key() -> str:
    """The API key planted in every test adapter (it must never show up anywhere)."""
    return KEY


@pytest.fixture
def adapter_factory() -> Callable[..., GeminiProvider]:
    """``adapter_factory(**settings)``: a GeminiProvider holding the planted key."""
    return make_adapter


@pytest.fixture
def request_factory() -> Callable[..., ChatRequest]:
    """``request_factory(messages, **kwargs)``: a ChatRequest (see make_request)."""
    return make_request


@pytest.fixture
def build() -> Callable[..., dict[str, Any]]:
    """``build(messages, options=..., names=..., **request_kwargs)``: the JSON body the adapter sends
    (``names``: the profile's speaker names, ``{"user", "char", "group"}``)."""

    def run(
        messages: list[dict[str, Any]],
        *,
        options: dict[str, Any] | None = None,
        names: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        adapter = make_adapter(options=options or {}, context=ConvertContext(names=Names(**(names or {}))))
        body: dict[str, Any] = adapter.build_chat(adapter.prepare(make_request(messages, **kwargs))).json
        return body

    return run


def _patched(document: dict[str, Any]) -> dict[str, Any]:
    doc = copy.deepcopy(document)
    schemas = doc["components"]["schemas"]
    ref = {"$ref": "#/components/schemas/Schema"}
    schemas["Schema"]["properties"].update(
        {
            "minItems": {"type": "integer"},
            "maxItems": {"type": "integer"},
            "nullable": {"type": "boolean"},
            "title": {"type": "string"},
            "minimum": {"type": "number"},
            "maximum": {"type": "number"},
            "minLength": {"type": "integer"},
            "maxLength": {"type": "integer"},
            "pattern": {"type": "string"},
            "minProperties": {"type": "integer"},
            "maxProperties": {"type": "integer"},
            "anyOf": {"type": "array", "items": ref},
            "propertyOrdering": {"type": "array", "items": {"type": "string"}},
        }
    )
    schemas["Part"]["properties"].update({"thought": {"type": "boolean"}, "thoughtSignature": {"type": "string"}})
    schemas["GenerationConfig"]["properties"].update(
        {
            "seed": {"type": "integer"},
            "thinkingConfig": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "thinkingBudget": {"type": "integer"},
                    "thinkingLevel": {"enum": ["minimal", "low", "medium", "high"]},
                    "includeThoughts": {"type": "boolean"},
                },
            },
        }
    )
    schemas["UsageMetadata"]["properties"]["thoughtsTokenCount"] = {"type": "integer"}
    schemas["GenerateContentResponse"]["properties"]["responseId"] = {"type": "string"}
    schemas["Candidate"]["properties"]["finishReason"]["enum"] += ["IMAGE_SAFETY", "UNEXPECTED_TOOL_CALL"]
    for name in CLOSED:
        schemas[name]["additionalProperties"] = False
    return doc


@pytest.fixture(scope="session")
def gemini_spec(shared_dir: Path) -> SpecValidator:
    """The patched Gemini spec as a SpecValidator; skips when the shared specs are absent."""
    path = shared_dir / "specs" / "gemini.json"
    if not path.is_file():
        pytest.skip(f"vendor spec not found at {path} (set CHATPIPE_SHARED_DIR)")
    return SpecValidator.from_document(_patched(json.loads(path.read_text(encoding="utf-8"))))
