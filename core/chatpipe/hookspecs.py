"""Every hook chatpipe calls, grouped by phase. Implement them with ``@chatpipe.hookimpl``.

Plugins are found through entry-point groups: ``chatpipe.providers``, ``chatpipe.converters``,
``chatpipe.plugins`` (observers, loaded only when the config's ``observers`` list names
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
    from ._observe import CallInfo
    from .converter import Converter
    from .errors import ProviderError
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
    config's ``observers`` list names.

    :param provider: The registered provider name.
    :param response: The parsed reply.
    """


# --- A call's life (observers) ------------------------------------------------------------
#
# Called for chat calls (complete, acomplete, stream, astream and what a router or a batch
# makes of them) through the built-in transport or any other. An exception raised by one of
# these is logged on ``chatpipe.observe`` and never breaks the call. ``call.id`` is shared by
# every event of one call.


@hookspec
def chatpipe_call_started(call: CallInfo) -> None:
    """A chat call starts: once per call, and through a router once per target tried.

    Never breaks the call: an exception is logged (``chatpipe.observe``) and ignored.

    :param call: The call: ``id`` (shared by all its events), ``provider``, ``model``,
        ``profile``, ``route`` (the router target tried, ``None`` outside a router), ``router``
        (that router's profile), ``stream``, ``server_address`` and ``server_port`` (of the
        base URL: host and port only).
    """


@hookspec
def chatpipe_call_retry(call: CallInfo, attempt: int, reason: str, status: int | None, wait: float) -> None:
    """The transport retries the call (built-in transport only; a stream only before its head).

    Never breaks the call: an exception is logged and ignored.

    :param call: The call being retried.
    :param attempt: The number of the attempt about to be sent (2 is the first retry).
    :param reason: Why, e.g. ``"status 429"`` or ``"APIConnectionError"``.
    :param status: The error status that caused it, ``None`` for a connection-level failure.
    :param wait: Seconds waited before the attempt (backoff or the vendor's ``Retry-After``).
    """


@hookspec
def chatpipe_router_hop(
    call_id: str, profile: str | None, from_target: str, to_target: str, error: ProviderError
) -> None:
    """A router moves on from a target that failed to the next one.

    The failed target's own ``chatpipe_call_failed`` comes first, the next target's
    ``chatpipe_call_started`` after. Never breaks the call: an exception is logged and ignored.

    :param call_id: The ``CallInfo.id`` shared by the targets' events.
    :param profile: The router's profile (``None`` for a router built in code without one).
    :param from_target: The name of the target that failed.
    :param to_target: The name of the target tried next.
    :param error: The error that moved the router on (already scrubbed of keys).
    """


@hookspec
def chatpipe_rate_limit_wait(call: CallInfo, limit: str, seconds: float, admitted: bool) -> None:
    """The call found its profile's rate limits full and waited for room (only such calls).

    Reported once the wait is over: when room came (``admitted``) or when the call gave up —
    after ``limits.max_wait``, or at once inside a router, which moves on — and then
    ``chatpipe_call_failed`` follows with a ``LimitExceededError``. Never breaks the call: an
    exception is logged and ignored.

    :param call: The waiting call.
    :param limit: The setting that was full when it first asked: ``"rpm"``, ``"tpm"`` or ``"concurrency"``.
    :param seconds: How long it waited.
    :param admitted: Whether it got its place and went on to the vendor.
    """


@hookspec
def chatpipe_first_token(call: CallInfo, seconds: float) -> None:
    """A stream's first content (text, reasoning or a tool call) arrived.

    Never breaks the call: an exception is logged and ignored.

    :param call: The streaming call.
    :param seconds: Time to first token, from ``chatpipe_call_started`` (retries included).
    """


@hookspec
def chatpipe_call_finished(call: CallInfo, response: ChatResponse, seconds: float) -> None:
    """The call answered: a reply, or a stream consumed to its end (one closed early emits neither
    this nor ``chatpipe_call_failed``).

    Never breaks the call: an exception is logged and ignored.

    :param call: The call.
    :param response: The reply: ``usage``, ``cost`` (computed when first read; docs/cost.md),
        ``finish_reason``, ``model`` (``route`` is set by a router after its target's event).
    :param seconds: Latency from ``chatpipe_call_started`` to the end of the reply.
    """


@hookspec
def chatpipe_call_failed(call: CallInfo, error: ProviderError, seconds: float) -> None:
    """The call ended with a typed error (after the transport's retries).

    Never breaks the call (the error is raised to the caller as usual): an exception here is
    logged and ignored.

    :param call: The call.
    :param error: The :class:`~chatpipe.errors.ProviderError` raised to the caller (scrubbed).
    :param seconds: Time from ``chatpipe_call_started`` to the failure.
    """


# --- Command line -------------------------------------------------------------------------


@hookspec
def chatpipe_register_commands(cli: object) -> None:
    """Add commands to the ``chatpipe`` command line.

    Called once when the CLI starts, for plugins registered in-process or through the
    ``chatpipe.commands`` entry-point group (loaded only by the CLI).

    :param cli: The root ``click.Group``; call ``cli.add_command(...)`` on it.
    """
