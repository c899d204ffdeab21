"""Error bodies real servers send, through error_details + make_error: which ones mean "context too long".

Each row is (server, status, body, expected class). The bodies are the shapes the servers
send (OpenAI, vLLM, llama.cpp server, LiteLLM proxy, Ollama, LM Studio, Claude, Gemini); the
negative rows are ordinary 400s that must stay ordinary.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from chatpipe.errors import APIStatusError, BadRequestError, ContentFilterError, ContextLengthError
from chatpipe.http import HttpResponse
from chatpipe.vendor import error_details, make_error
from chatpipe.vendor._errors import _CONTEXT_SIGNS

LLAMA_CPP = {
    "error": {
        "code": 400,
        "message": "request (6031 tokens) exceeds the available context size (2048 tokens), try increasing it",
        "type": "exceed_context_size_error",
    }
}
LITELLM = {
    "error": {
        "message": "litellm.ContextWindowExceededError: litellm.BadRequestError: OpenAIException - Error code: 400 - "
        "This model's maximum context length is 8192 tokens. However, your messages resulted in 9000 tokens.",
        "type": None,
        "param": None,
        "code": "400",
    }
}
OPENAI = {
    "error": {
        "message": "This model's maximum context length is 128000 tokens. However, your messages resulted in "
        "130000 tokens. Please reduce the length of the messages.",
        "type": "invalid_request_error",
        "param": "messages",
        "code": "context_length_exceeded",
    }
}
VLLM = {
    "object": "error",
    "message": "This model's maximum context length is 4096 tokens. However, you requested 5000 tokens "
    "(4000 in the messages, 1000 in the completion). Please reduce the length of the messages or completion.",
    "type": "BadRequestError",
    "param": None,
    "code": 400,
}
OLLAMA_OPENAI = {
    "error": {
        "message": "prompt too long; exceeded max context length by 123 tokens",
        "type": "invalid_request_error",
        "param": None,
        "code": None,
    }
}
OLLAMA_NATIVE = {"error": "input length exceeds the context length"}
LM_STUDIO = {
    "error": "Trying to keep the first 5000 tokens when context the overflows. However, the model is loaded with "
    "context length of only 4096 tokens, which is not enough. Try to load the model with a larger context length, "
    "or provide a shorter input"
}
LM_STUDIO_KEEP = {
    "error": "The number of tokens to keep from the initial prompt is greater than the context length. "
    "Try to load the model with a larger context length, or provide a shorter input"
}
GEMINI = {
    "error": {
        "code": 400,
        "message": "The input token count (1048577) exceeds the maximum number of tokens allowed (1048576).",
        "status": "INVALID_ARGUMENT",
    }
}
LLAMA_CPP_OLD = {
    "error": {
        "code": 400,
        "message": "the request exceeds the available context size. try increasing the context size or enable "
        "context shift",
        "type": "invalid_request_error",
    }
}
CLAUDE = {
    "type": "error",
    "error": {"type": "invalid_request_error", "message": "prompt is too long: 210000 tokens > 200000 maximum"},
}

SHAPES: list[tuple[str, int, Any, type[APIStatusError]]] = [
    ("llama.cpp server", 400, LLAMA_CPP, ContextLengthError),
    ("llama.cpp server (older wording)", 400, LLAMA_CPP_OLD, ContextLengthError),
    ("LiteLLM proxy", 400, LITELLM, ContextLengthError),
    ("OpenAI", 400, OPENAI, ContextLengthError),
    ("vLLM", 400, VLLM, ContextLengthError),
    ("Ollama, OpenAI-compatible endpoint", 400, OLLAMA_OPENAI, ContextLengthError),
    ("Ollama, native error", 400, OLLAMA_NATIVE, ContextLengthError),
    ("LM Studio, context overflow", 400, LM_STUDIO, ContextLengthError),
    ("LM Studio, tokens to keep", 400, LM_STUDIO_KEEP, ContextLengthError),
    ("Claude", 400, CLAUDE, ContextLengthError),
    ("Gemini", 400, GEMINI, ContextLengthError),
    # ordinary 400s stay ordinary
    (
        "OpenAI, max_tokens below 1",
        400,
        {
            "error": {
                "message": "max_tokens must be at least 1, got 0.",
                "type": "invalid_request_error",
                "param": "max_tokens",
                "code": "integer_below_min_value",
            }
        },
        BadRequestError,
    ),
    (
        "OpenAI, max_tokens over the completion limit",
        400,
        {
            "error": {
                "message": "max_tokens is too large: 200000. This model supports at most 16384 completion tokens, "
                "whereas you provided 200000.",
                "type": "invalid_request_error",
                "param": "max_tokens",
                "code": "invalid_value",
            }
        },
        BadRequestError,
    ),
    (
        "vLLM, missing field",
        400,
        {
            "object": "error",
            "message": "messages: field required",
            "type": "BadRequestError",
            "param": None,
            "code": 400,
        },
        BadRequestError,
    ),
    (
        "FastAPI, missing field",
        422,
        {"detail": [{"loc": ["body", "messages"], "msg": "field required", "type": "value_error.missing"}]},
        BadRequestError,
    ),
    (
        "llama.cpp server, bad messages",
        400,
        {"error": {"code": 400, "message": "'messages' must be an array", "type": "invalid_request_error"}},
        BadRequestError,
    ),
    ("Ollama, native bad request", 400, {"error": "model is required"}, BadRequestError),
    (
        "Azure OpenAI, content filter",
        400,
        {
            "error": {
                "message": "The response was filtered due to the prompt triggering Azure OpenAI's content management "
                "policy. Please modify your prompt and retry.",
                "type": None,
                "param": "prompt",
                "code": "content_filter",
                "status": 400,
            }
        },
        ContentFilterError,
    ),
]


def _error(status: int, body: Any) -> APIStatusError:
    response = HttpResponse(status, {"content-type": "application/json"}, json.dumps(body).encode())
    return make_error(
        error_details(response),
        provider="custom",
        status=status,
        headers=response.headers,
        body=response.text,
        secrets=(),
    )


@pytest.mark.parametrize(("server", "status", "body", "expected"), SHAPES, ids=[row[0] for row in SHAPES])
def test_error_shape_maps_to_its_class(server: str, status: int, body: Any, expected: type[APIStatusError]) -> None:
    error = _error(status, body)
    assert type(error) is expected, f"{server}: {type(error).__name__}: {error}"
    assert error.status == status


@pytest.mark.parametrize("body", [LLAMA_CPP, VLLM, LITELLM], ids=["llama.cpp", "vLLM", "LiteLLM"])
def test_a_status_in_code_is_the_status_not_a_vendor_code(body: Any) -> None:
    response = HttpResponse(400, {}, json.dumps(body).encode())
    details = error_details(response)
    assert (details.code, details.status) == (None, 400)
    assert "context" in details.message
    error = make_error(details, provider="custom", status=None, headers={}, body=response.text, secrets=())
    assert isinstance(error, ContextLengthError)  # the body's own status classifies it
    assert error.status == 400


def test_the_vendor_type_survives_an_integer_code() -> None:
    assert _error(400, LLAMA_CPP).vendor_type == "exceed_context_size_error"
    assert _error(400, OPENAI).vendor_type == "context_length_exceeded"


def test_every_context_sign_is_seen_in_a_real_shape() -> None:
    texts = [json.dumps(body) for _, _, body, expected in SHAPES if expected is ContextLengthError]
    unused = [sign for sign, _ in _CONTEXT_SIGNS if not any(re.search(sign, t, re.IGNORECASE) for t in texts)]
    assert unused == []
