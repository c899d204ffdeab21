"""The Ollama adapter: a local Ollama server through its OpenAI-compatible API (docs/vendors/ollama.md).

* Base URL: the server's root, default ``http://127.0.0.1:11434``. A base URL ending in
  ``/v1`` (how OpenAI clients are told to reach Ollama) or ``/api`` is accepted and cut back
  to the root (:func:`server_root`): chat goes to ``{root}/v1/chat/completions`` (streaming,
  tools, images, ``reasoning`` of thinking models, all as the OpenAI-compatible base reads
  them), the model list to ``GET {root}/api/tags``.
* Model details: ``POST {root}/api/show`` with ``{"model": name}`` per listed model; the
  ``model_info["<general.architecture>.context_length"]`` becomes ``ModelInfo.context_length``
  and the ``capabilities`` list goes into ``extra`` (:func:`parse_show`). A failed show keeps
  the entry as listed (the pipeline's rule).
* No key: ``api_key`` is optional and sent as ``Authorization: Bearer`` when given (a server
  behind an authenticating proxy, or ollama.com).
* Errors: Ollama's ``{"error": "..."}`` and its /v1 envelope are read by the base; a 404
  naming a model that is not pulled says to ``ollama pull`` it (:func:`missing_model`). A
  status check that cannot connect says no Ollama is running there and to start it with
  ``ollama serve``; one whose ``/api/tags`` is 404 says the server is not Ollama.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import attrs
from chatpipe.plugin import (
    APIStatusError,
    Capabilities,
    HttpRequest,
    HttpResponse,
    MalformedPayload,
    ModelInfo,
    NotFoundError,
    OpenAICompatibleProvider,
    ProviderInfo,
    ProviderSettings,
    decode_json,
    error_details,
    join_url,
    make_error,
    safe_url,
    scrub,
)

__all__ = ["DEFAULT_BASE_URL", "OllamaProvider", "missing_model", "parse_show", "parse_tags", "server_root"]

DEFAULT_BASE_URL = "http://127.0.0.1:11434"
"""Where ``ollama serve`` listens unless ``OLLAMA_HOST`` says otherwise."""

SHOW_PATH = "/api/show"
_API_SUFFIXES = ("/v1", "/api")
_MISSING_MODEL = re.compile(r"""model ['"`]?([^'"`\s]+)['"`]? not found""", re.IGNORECASE)


class OllamaProvider(OpenAICompatibleProvider):
    """A local Ollama server: OpenAI-compatible chat at ``/v1``, Ollama's own model list and details."""

    info = ProviderInfo(
        name="ollama",
        package="chatpipe-ollama",
        display_name="Ollama",
        default_base_url=DEFAULT_BASE_URL,
        api_key_env=("OLLAMA_API_KEY",),
        key_required=False,
        capabilities=Capabilities(tools=True, vision=True, reasoning=True),
        default_model="llama3.2",
        description="A local Ollama server: its OpenAI-compatible chat, its model list with context lengths.",
    )
    chat_path = "/v1/chat/completions"
    models_path = "/api/tags"

    def __init__(self, settings: ProviderSettings) -> None:
        super().__init__(settings)
        self.base_url = server_root(self.base_url)

    def not_found_hint(self) -> str:
        """The fix for a 404 whose model is not named: pull it, or check the URL."""
        return (
            f"Pull the model with 'ollama pull MODEL' ('ollama list' shows those you have), "
            f"and check that {safe_url(self.base_url)} is an Ollama server"
        )

    def parse_error(self, response: HttpResponse) -> APIStatusError:
        """The base mapping; a 404 for a model that is not pulled names ``ollama pull <model>``."""
        scrubbed = HttpResponse(response.status, response.headers, scrub(response.text, self.secrets()).encode())
        details = error_details(scrubbed)
        model = missing_model(details.message) if response.status == 404 else None
        if model is None:
            return super().parse_error(response)
        hint = f"Pull it with 'ollama pull {model}' ('ollama list' shows the models you have)"
        return make_error(
            details,
            provider=self.info.name,
            status=response.status,
            headers=response.headers,
            body=scrubbed.text,
            secrets=self.secrets(),
            hints={**self.status_hints(), NotFoundError: hint},
            request_id=response.request_id,
        )

    def parse_models(self, response: HttpResponse) -> list[ModelInfo]:
        """``GET /api/tags``: one entry per local model (see :func:`parse_tags`)."""
        try:
            return parse_tags(decode_json(response.content))
        except MalformedPayload as exc:
            raise self._protocol_error(str(exc), response.content, response.status, response.request_id) from None

    def build_model_details(self, model: ModelInfo) -> HttpRequest:
        """``POST {root}/api/show`` with ``{"model": id}``."""
        headers, secret = self.headers()
        return HttpRequest(
            "POST",
            join_url(self.base_url, SHOW_PATH),
            headers=headers,
            json={"model": model.id},
            secret_headers=secret,
        )

    def parse_model_details(self, model: ModelInfo, response: HttpResponse) -> ModelInfo:
        """``model`` with the context length and capabilities of its ``/api/show`` reply."""
        try:
            return parse_show(model, decode_json(response.content))
        except MalformedPayload as exc:
            raise self._protocol_error(str(exc), response.content, response.status, response.request_id) from None

    def check_hint(self, response: HttpResponse) -> str | None:
        """For a 404 from ``/api/tags``: the server at the URL is not Ollama."""
        if response.status != 404:
            return None
        return (
            f"GET {safe_url(join_url(self.base_url, self.models_path))} is not found: the server there is not "
            "Ollama (for another OpenAI-compatible server use provider 'custom')"
        )

    def unreachable_hint(self) -> str:
        """No server answered: say how to start Ollama, or where to point ``base_url``."""
        return (
            f"no Ollama server is running at {safe_url(self.base_url)}; start it with 'ollama serve', "
            "or set base_url to where it listens"
        )


def server_root(base_url: str) -> str:
    """``base_url`` without a trailing ``/v1`` or ``/api`` (either suffix names the same server)."""
    for suffix in _API_SUFFIXES:
        if base_url.lower().endswith(suffix):
            return base_url[: -len(suffix)].rstrip("/")
    return base_url


def missing_model(message: str) -> str | None:
    """The model an Ollama "model ... not found" message names, or ``None``."""
    found = _MISSING_MODEL.search(message)
    return found.group(1) if found else None


def parse_tags(data: Any) -> list[ModelInfo]:
    """The ``models`` list of ``GET /api/tags``: id from ``model`` (else ``name``); ``details``,
    ``size``, ``digest`` and ``modified_at`` kept in ``extra``. :class:`MalformedPayload` for other shapes."""
    entries = data.get("models") if isinstance(data, Mapping) else None
    if not isinstance(entries, list):
        raise MalformedPayload("an Ollama model list should be an object with a 'models' list (GET /api/tags)")
    out = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, Mapping):
            raise MalformedPayload(f"models[{i}] should be an object, got {type(entry).__name__}")
        name = entry.get("model") or entry.get("name")
        if not isinstance(name, str) or not name:
            raise MalformedPayload(f"models[{i}] has no 'model' or 'name' string")
        extra = {k: v for k, v in entry.items() if k not in ("model", "name")}
        out.append(ModelInfo(name, extra=extra))
    return out


def parse_show(model: ModelInfo, data: Any) -> ModelInfo:
    """``model`` completed from a ``POST /api/show`` body.

    ``context_length`` is ``model_info["<arch>.context_length"]`` where ``<arch>`` is
    ``model_info["general.architecture"]`` (else the one ``*.context_length`` key present);
    ``capabilities`` (``completion``, ``tools``, ``vision``, ``thinking``...) goes into ``extra``.
    """
    if not isinstance(data, Mapping):
        raise MalformedPayload("an /api/show reply should be a JSON object")
    info = data.get("model_info")
    context = None
    if isinstance(info, Mapping):
        arch = info.get("general.architecture")
        context = info.get(f"{arch}.context_length") if isinstance(arch, str) else None
        if context is None:
            found = [v for k, v in info.items() if isinstance(k, str) and k.endswith(".context_length")]
            context = found[0] if len(found) == 1 else None
    extra = dict(model.extra)
    capabilities = data.get("capabilities")
    if isinstance(capabilities, list):
        extra["capabilities"] = capabilities
    length = context if type(context) is int else model.context_length
    return attrs.evolve(model, context_length=length, extra=extra)
