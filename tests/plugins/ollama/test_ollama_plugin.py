"""The ollama adapter: base URL, no key, model list with /api/show details, status check, errors, explain."""

from __future__ import annotations

import json
import socket
from typing import Any

import pytest
from chatpipe import Pipeline
from chatpipe.errors import NotFoundError, ProtocolError, ServerError
from chatpipe.http import HttpResponse
from chatpipe.models import ChatRequest, Message, ModelInfo
from chatpipe.provider import ProviderSettings
from chatpipe.registry import default_registry
from chatpipe.testing import FakeServer
from chatpipe.testing.fake_server import FakeResponse, RecordedRequest
from chatpipe_ollama import OllamaProvider, missing_model, parse_show, server_root

HI = [{"role": "user", "content": "Hi"}]
KEY = "ollama-PLANTED-proxy-key-0123456789"

TAGS = {
    "models": [
        {
            "name": "llama3.2:latest",
            "model": "llama3.2:latest",
            "modified_at": "2026-11-02T10:00:00Z",
            "size": 2019393189,
            "digest": "a80c4f17acd5",
            "details": {"format": "gguf", "family": "llama", "parameter_size": "3.2B", "quantization_level": "Q4_K_M"},
        },
        {
            "name": "qwen3:8b",
            "model": "qwen3:8b",
            "size": 5225388164,
            "details": {"family": "qwen3", "parameter_size": "8.2B"},
        },
    ]
}


def show(arch: str, context: int, capabilities: list[str]) -> dict[str, Any]:
    return {
        "modelfile": "# Modelfile",
        "parameters": "stop <|eot_id|>",
        "details": {"family": arch},
        "model_info": {"general.architecture": arch, f"{arch}.context_length": context, f"{arch}.block_count": 28},
        "capabilities": capabilities,
    }


def pipe(server: FakeServer, suffix: str = "", **kwargs: Any) -> Pipeline:
    return Pipeline("ollama", base_url=server.url + suffix, **kwargs)


def test_declaration() -> None:
    info = default_registry().provider("ollama").info
    assert (info.name, info.package, info.default_base_url) == ("ollama", "chatpipe-ollama", "http://127.0.0.1:11434")
    assert info.key_required is False and info.required_converters == ()


@pytest.mark.parametrize(
    "given",
    ["http://127.0.0.1:11434", "http://127.0.0.1:11434/", "http://127.0.0.1:11434/v1", "http://127.0.0.1:11434/api/"],
)
def test_the_base_url_is_the_server_root_with_or_without_v1(given: str) -> None:
    adapter = OllamaProvider(ProviderSettings(base_url=given))
    http = adapter.build_chat(ChatRequest(model="llama3.2", messages=(Message("user", "Hi"),)))
    assert http.url == "http://127.0.0.1:11434/v1/chat/completions"
    models = adapter.build_models()
    assert models is not None and (models.method, models.url) == ("GET", "http://127.0.0.1:11434/api/tags")
    assert server_root("http://h:1/ollama/v1") == "http://h:1/ollama"


def test_no_key_no_authorization_and_a_given_key_is_a_bearer_token(fake_server: FakeServer) -> None:
    fake_server.enqueue("GET /api/tags", FakeResponse.json({"models": []}), FakeResponse.json({"models": []}))
    assert pipe(fake_server).models() == []
    assert pipe(fake_server, api_key=KEY).models() == []
    first, second = fake_server.requests
    assert "authorization" not in first.headers
    assert second.headers["authorization"] == f"Bearer {KEY}"


def test_a_chat_call_without_a_key(fake_server: FakeServer) -> None:
    reply_body = {
        "id": "chatcmpl-9",
        "object": "chat.completion",
        "created": 1,
        "model": "qwen3:8b",
        "system_fingerprint": "fp_ollama",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Hello!", "reasoning": "Greet back."},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 11, "completion_tokens": 3, "total_tokens": 14},
    }
    fake_server.enqueue("POST /v1/chat/completions", FakeResponse.json(reply_body))
    reply = pipe(fake_server, "/v1", model="qwen3:8b").complete(HI, reasoning_effort="low")
    assert (reply.text, reply.reasoning) == ("Hello!", "Greet back.")
    (request,) = fake_server.requests
    assert "authorization" not in request.headers
    assert request.json["model"] == "qwen3:8b" and request.json["reasoning_effort"] == "low"


# --- models -------------------------------------------------------------------------------------


def _show_handler(replies: dict[str, FakeResponse]) -> Any:
    def handler(request: RecordedRequest) -> FakeResponse:
        return replies[request.json["model"]]

    return handler


def test_models_are_the_tags_with_context_lengths_from_show(fake_server: FakeServer) -> None:
    fake_server.enqueue("GET /api/tags", FakeResponse.json(TAGS))
    fake_server.route(
        "POST /api/show",
        _show_handler(
            {
                "llama3.2:latest": FakeResponse.json(show("llama", 131072, ["completion", "tools"])),
                "qwen3:8b": FakeResponse.json(show("qwen3", 40960, ["completion", "tools", "thinking"])),
            }
        ),
    )
    models = pipe(fake_server).models()
    assert [(m.id, m.context_length) for m in models] == [("llama3.2:latest", 131072), ("qwen3:8b", 40960)]
    assert models[1].extra["capabilities"] == ["completion", "tools", "thinking"]
    assert models[0].extra["details"]["parameter_size"] == "3.2B" and models[0].extra["size"] == 2019393189
    shows = [r for r in fake_server.requests if (r.method, r.route) == ("POST", "/api/show")]
    assert [r.json for r in shows] == [{"model": "llama3.2:latest"}, {"model": "qwen3:8b"}]


@pytest.mark.parametrize(
    "failure",
    [
        FakeResponse.json({"error": "model 'qwen3:8b' not found"}, status=404),
        FakeResponse.json({"error": "internal error"}, status=500),
        FakeResponse.text("not json"),
        FakeResponse.reset(),
    ],
    ids=["404", "500", "malformed", "connection-reset"],
)
def test_a_show_failing_for_one_model_keeps_the_list(fake_server: FakeServer, failure: FakeResponse) -> None:
    fake_server.enqueue("GET /api/tags", FakeResponse.json(TAGS))
    fake_server.route(
        "POST /api/show",
        _show_handler({"llama3.2:latest": FakeResponse.json(show("llama", 131072, [])), "qwen3:8b": failure}),
    )
    models = pipe(fake_server, retries=0).models()
    assert [(m.id, m.context_length) for m in models] == [("llama3.2:latest", 131072), ("qwen3:8b", None)]
    assert models[1].extra["details"]["family"] == "qwen3"


def test_parse_show_without_architecture_uses_the_one_context_length_key() -> None:
    model = ModelInfo("m", extra={"size": 1})
    done = parse_show(model, {"model_info": {"gemma3.context_length": 8192}})
    assert done.context_length == 8192 and done.extra == {"size": 1}
    assert parse_show(model, {"model_info": {}}).context_length is None


def test_a_malformed_tag_list_is_a_protocol_error(fake_server: FakeServer) -> None:
    fake_server.enqueue("GET /api/tags", FakeResponse.json({"data": []}))
    with pytest.raises(ProtocolError, match="'models' list"):
        pipe(fake_server).models()


# --- status check -------------------------------------------------------------------------------


def test_status_check_counts_the_local_models(fake_server: FakeServer) -> None:
    fake_server.enqueue("GET /api/tags", FakeResponse.json(TAGS))
    result = pipe(fake_server).check()
    assert result.ok and "2 model(s)" in result.detail
    assert [(r.method, r.route) for r in fake_server.requests] == [("GET", "/api/tags")]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_status_check_without_a_server_says_to_start_ollama() -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    result = Pipeline("ollama", base_url=url + "/v1", retries=0).check()
    assert not result.ok
    assert f"no Ollama server is running at {url}" in result.detail
    assert "ollama serve" in result.detail


def test_status_check_of_a_server_that_is_not_ollama(fake_server: FakeServer) -> None:
    fake_server.enqueue("GET /api/tags", FakeResponse.text("404 page not found", status=404))
    result = pipe(fake_server).check()
    assert not result.ok and result.status == 404
    assert "is not Ollama" in result.detail and "custom" in result.detail


# --- errors -------------------------------------------------------------------------------------


def test_a_model_that_is_not_pulled_says_ollama_pull(fake_server: FakeServer) -> None:
    envelope = {
        "error": {
            "message": 'model "llama3.3" not found, try pulling it first',
            "type": "api_error",
            "param": None,
            "code": None,
        }
    }
    fake_server.enqueue("POST /v1/chat/completions", FakeResponse.json(envelope, status=404))
    with pytest.raises(NotFoundError, match=r"ollama pull llama3\.3"):
        pipe(fake_server, model="llama3.3").complete(HI)


def test_ollama_plain_error_shape() -> None:
    adapter = OllamaProvider(ProviderSettings(base_url="http://127.0.0.1:11434"))
    error = adapter.parse_error(HttpResponse(404, {}, b'{"error": "model \'phi4\' not found"}'))
    assert isinstance(error, NotFoundError) and "ollama pull phi4" in str(error)
    other = adapter.parse_error(HttpResponse(500, {}, b'{"error": "model requires more system memory (9 GiB)"}'))
    assert isinstance(other, ServerError) and "more system memory" in str(other)
    assert missing_model("no such thing") is None


def test_a_stream_error_for_a_missing_model_says_ollama_pull(fake_server: FakeServer) -> None:
    fake_server.enqueue(
        "POST /v1/chat/completions", FakeResponse.json({"error": {"message": 'model "x" not found'}}, status=404)
    )
    with pytest.raises(NotFoundError, match="ollama pull x"):
        list(pipe(fake_server, model="x").stream(HI))


# --- explain ------------------------------------------------------------------------------------


def test_explain_shows_the_real_url_and_body_with_the_key_redacted() -> None:
    explained = Pipeline("ollama", api_key=KEY, model="llava").explain(
        [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What is this?"},
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
                ],
            }
        ],
        stream=True,
    )
    request = explained.request
    assert request["url"] == "http://127.0.0.1:11434/v1/chat/completions"
    assert request["headers"]["Authorization"] == "***"
    assert request["json"]["model"] == "llava" and request["json"]["stream"] is True
    assert request["json"]["messages"][0]["content"][1]["image_url"]["url"].startswith("data:image/png")
    assert KEY not in json.dumps(request)
    assert not any("no API key" in note for note in explained.notes)
