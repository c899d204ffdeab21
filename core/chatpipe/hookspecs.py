"""Every hook chatpipe calls, grouped by phase. Implement them with ``@chatpipe.hookimpl``.

Plugins are found through entry-point groups: ``chatpipe.providers``, ``chatpipe.converters``,
``chatpipe.plugins`` (observers, loaded only when the config's ``plugins`` list names
them) and ``chatpipe.commands`` (loaded by the CLI). **The entry-point name is the
registered name**: a pipeline that names provider ``openai`` and converter ``strict`` loads
exactly those two entry points and nothing else. The object an entry point names (usually a
module) is registered with pluggy and its hook implementations are called; a ``@hookimpl``
function whose name is not a hook below, or whose arguments are not the hook's, makes loading
that plugin fail with an error naming it. Built-in plugins register through these same hooks.
Core code calls them through :class:`~chatpipe.registry.Registry`'s typed methods.

Registration hooks are *historic*: a plugin registered later still receives the call.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ._markers import hookspec

if TYPE_CHECKING:
    from .converter import Converter
    from .http import HttpRequest
    from .models import ChatResponse
    from .provider import Provider


# --- Registration -----------------------------------------------------------------------


@hookspec(historic=True)
def chatpipe_register_providers(register: Callable[[type[Provider]], None]) -> None:
    """Register provider adapter classes.

    Call ``register(cls)`` once per :class:`~chatpipe.provider.Provider` subclass the plugin
    ships. ``cls.info.name`` must equal the plugin's entry-point name in the
    ``chatpipe.providers`` group so the pipeline can load it by name. A vendor that differs from
    the OpenAI-compatible base by data only needs no hook: its entry point names its
    :class:`~chatpipe.provider.ProviderInfo` (see docs/plugins.md).

    :param register: Adds one provider class. Registering a second, different class under a
        name that is taken raises :class:`~chatpipe.errors.ChatpipeError`.
    """


@hookspec(historic=True)
def chatpipe_register_converters(register: Callable[[Converter], None]) -> None:
    """Register prompt converters.

    Call ``register(converter)`` once per :class:`~chatpipe.converter.Converter`. Its ``name``
    and every alias must be entry-point names in the ``chatpipe.converters`` group pointing at
    the plugin, so any of them loads it.

    :param register: Adds one converter. A name clash with a different converter raises
        :class:`~chatpipe.errors.ChatpipeError`.
    """


# --- Observation --------------------------------------------------------------------------


@hookspec
def chatpipe_before_send(provider: str, request: HttpRequest) -> None:
    """Observe a request just before the transport sends it.

    Called for chat, model-list and status-check requests, once per attempt (retries
    included). ``repr(request)`` redacts the key; use ``request.redacted()`` to log it.
    Exceptions raised here abort the call.

    :param provider: The registered provider name.
    :param request: The request about to be sent.
    """


@hookspec
def chatpipe_after_response(provider: str, response: ChatResponse) -> None:
    """Observe a complete reply: a non-streaming response, or a stream assembled at its end.

    Observation hooks reach plugins registered in the pipeline's registry: in-process ones
    (:meth:`~chatpipe.registry.Registry.register`) and the ``chatpipe.plugins`` entry points the
    config's ``plugins`` list names.

    :param provider: The registered provider name.
    :param response: The parsed reply.
    """


# --- Command line -------------------------------------------------------------------------


@hookspec
def chatpipe_register_commands(cli: object) -> None:
    """Add commands to the ``chatpipe`` command line.

    Called once when the CLI starts, for plugins registered in-process or through the
    ``chatpipe.commands`` entry-point group (loaded only by the CLI).

    :param cli: The root ``click.Group``; call ``cli.add_command(...)`` on it.
    """
