"""The ``local`` adapter: the OpenAI-compatible adapter pointed at a llama.cpp server it starts.

The adapter itself stays sans-IO for the wire format: requests and replies are exactly the
core OpenAI-compatible adapter's. The one addition is *where* requests go. The server's
address is unknown until it runs, so:

* ``info.default_base_url`` is the placeholder :data:`PLACEHOLDER_BASE_URL` (a profile may not
  set a ``base_url``: for a server you run yourself, use the ``custom`` provider);
* :meth:`LocalProvider.server_base_url` — called from :meth:`~LocalProvider.chat_url` and
  :meth:`~LocalProvider.models_base_url`, i.e. when a chat, model-list or status-check request
  is *built* — starts the shared server on first use (see :mod:`chatpipe_local._server`) and
  returns its URL. This is the provider's only I/O, kept in that one small method. It also runs
  for ``Pipeline.explain``, whose output shows the real URL.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
from chatpipe.plugin import (
    Capabilities,
    ChatRequest,
    ConfigError,
    HttpRequest,
    InvalidRequestError,
    OpenAICompatibleProvider,
    ProviderInfo,
    ProviderSettings,
    check_options,
    join_url,
)

from ._server import LocalServer, get_server
from ._settings import DEFAULT_ALIAS, OPTION_TYPES, ServerSettings, check_option_values, settings_from_options

__all__ = ["PLACEHOLDER_BASE_URL", "LocalProvider"]

#: Stands in for the server's URL until the server runs; never contacted.
PLACEHOLDER_BASE_URL = "http://127.0.0.1:0/v1"


class LocalProvider(OpenAICompatibleProvider):
    """A local model served by llama.cpp (from the ``xllamacpp`` wheel), started on first use.

    Options (profile ``options:``): ``model_path``, ``ctx_size``, ``threads``, ``parallel``,
    ``chat_template`` (a file or ``"tools"``), ``api_key``, ``port``, ``startup_timeout``; see
    :class:`~chatpipe_local._settings.ServerSettings`. The key the server demands is
    ``options.api_key`` if given, else the pipeline's ``api_key``; the client sends the same.
    """

    info = ProviderInfo(
        name="local",
        package="chatpipe-local",
        display_name="Local model (llama.cpp)",
        default_base_url=PLACEHOLDER_BASE_URL,
        api_key_env=(),
        key_required=False,
        capabilities=Capabilities(),
        default_model=DEFAULT_ALIAS,
        extra_params=True,  # llama.cpp's own sampling parameters (top_k, min_p, repeat_penalty...) pass on
        description="A small model on this machine (SmolLM2-135M-Instruct by default), offline, via llama.cpp.",
    )

    def __init__(self, settings: ProviderSettings) -> None:
        if settings.base_url.rstrip("/") != PLACEHOLDER_BASE_URL:
            raise ConfigError(
                f"provider 'local' starts its own server and takes no base_url (got {settings.base_url!r}); "
                "to use a server that is already running, use provider 'custom' with that base_url",
                path="base_url",
            )
        self.validate_options(settings.options)
        options = dict(settings.options)
        self.server_settings: ServerSettings = settings_from_options(options, settings.api_key)
        # The key moves from the options into the Secret-typed slot, so no repr shows it.
        options.pop("api_key", None)
        settings = attrs.evolve(settings, api_key=self.server_settings.api_key, options=options)
        super().__init__(settings)

    @classmethod
    def validate_options(cls, options: Mapping[str, Any]) -> None:
        """Raise :class:`~chatpipe.errors.ConfigError` for unknown options, wrong types or bad values."""
        check_options(cls.info.name, options, OPTION_TYPES)
        check_option_values(options)

    @property
    def server(self) -> LocalServer:
        """The process-wide server for this adapter's settings (not necessarily running)."""
        return get_server(self.server_settings)

    def server_base_url(self) -> str:
        """Start the shared server if it is not running, and return its base URL (``.../v1``).

        The only I/O of this adapter (see the module docstring). Raises
        :class:`~chatpipe.errors.ConfigError` for a missing model or wheel and
        :class:`~chatpipe_local._server.LocalServerError` when the server cannot start.
        """
        url = self.server.ensure()
        self.base_url = url
        return url

    def chat_url(self) -> str:
        """``{server}/chat/completions``, starting the server first if needed."""
        return join_url(self.server_base_url(), self.chat_path)

    def models_base_url(self) -> str:
        """The started server's base URL."""
        return self.server_base_url()

    def build_chat(self, request: ChatRequest) -> HttpRequest:
        """The base adapter's request, refused when tools are asked of a template without tool support.

        llama.cpp silently ignores ``tools`` when the chat template cannot render them (SmolLM2's
        own template cannot); chatpipe makes that a clear error instead.
        """
        self.server_base_url()
        if request.tools and self.server.supports_tools is False:
            raise InvalidRequestError(
                "the local model's chat template does not support tools, so llama.cpp would ignore them; "
                "set the option chat_template: tools (a tools-capable ChatML template shipped with "
                "chatpipe-local) or a template file that renders tools",
                where="tools",
            )
        return super().build_chat(request)

    def auth_hint(self) -> str:
        """The fix for a 401 from the local server."""
        return "The local server demands the key from the option api_key (or the pipeline's api_key); check it"

    def not_found_hint(self) -> str:
        """The fix for a 404 from the local server."""
        return f"The local llama.cpp server at {self.base_url} does not serve this path"
