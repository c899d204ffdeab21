"""The model list (chatpipe_gemini._models): paging with pageToken, chat models only, ids without
``models/``, context lengths; through a real pipeline against a loopback fake."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from chatpipe import Pipeline
from chatpipe.errors import ProtocolError
from chatpipe.http import HttpResponse
from chatpipe.testing.fake_server import FakeResponse, FakeServer
from chatpipe.testing.openapi import SpecValidator
from chatpipe_gemini import GeminiProvider

KEY = "AIza-PLANTED-gemini-models-0000"

PAGE_1 = {
    "models": [
        {
            "name": "models/gemini-2.5-flash",
            "displayName": "Gemini 2.5 Flash",
            "inputTokenLimit": 1048576,
            "outputTokenLimit": 65536,
            "supportedGenerationMethods": ["generateContent", "countTokens"],
        },
        {"name": "models/text-embedding-004", "inputTokenLimit": 2048, "supportedGenerationMethods": ["embedContent"]},
    ],
    "nextPageToken": "page-2",
}
PAGE_2 = {
    "models": [
        {
            "name": "models/gemini-2.5-pro",
            "inputTokenLimit": 1048576,
            "supportedGenerationMethods": ["generateContent"],
        },
        {"name": "models/aqa", "supportedGenerationMethods": ["generateAnswer"]},
    ]
}


def test_pages_are_followed_and_only_chat_models_listed(fake_server: FakeServer, gemini_spec: SpecValidator) -> None:
    for page in (PAGE_1, PAGE_2):
        gemini_spec.check("ListModelsResponse", page)
    fake_server.enqueue("GET /v1beta/models", FakeResponse.json(PAGE_1), FakeResponse.json(PAGE_2))
    models = Pipeline("gemini", base_url=fake_server.url, api_key=KEY, max_retries=0).models()
    assert [(m.id, m.context_length, m.owned_by) for m in models] == [
        ("gemini-2.5-flash", 1048576, "google"),
        ("gemini-2.5-pro", 1048576, "google"),
    ]
    assert models[0].extra["displayName"] == "Gemini 2.5 Flash"
    paths = [r.path for r in fake_server.requests]
    assert paths == ["/v1beta/models?pageSize=1000", "/v1beta/models?pageSize=1000&pageToken=page-2"]
    assert all(r.headers["x-goog-api-key"] == KEY for r in fake_server.requests)
    assert all(KEY not in r.path for r in fake_server.requests)


def test_malformed_model_lists_are_protocol_errors(adapter_factory: Callable[..., GeminiProvider]) -> None:
    adapter = adapter_factory()
    for body in ({"models": "x"}, {"models": [{"displayName": "no name"}]}, [1]):
        with pytest.raises(ProtocolError):
            adapter.parse_models(HttpResponse(200, {}, json.dumps(body).encode()))
    assert adapter.next_models(HttpResponse(200, {}, b"not json")) is None
