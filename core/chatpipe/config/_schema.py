"""The configuration as frozen attrs classes.

These classes are what :func:`~chatpipe.config.parse_config` returns. Their docstrings are
the reference for every key of ``chatpipe.yaml``; the user documentation is generated from
them. Values are validated by the loader, not by the constructors: build them directly only
from trusted values. Mappings are plain dicts; treat them as read-only.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

import attrs

from ..converter import DEFAULT_PLACEHOLDER, Names
from ..errors import (
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConfigError,
    ContentFilterError,
    ContextLengthError,
    NotFoundError,
    PermissionDeniedError,
    ProtocolError,
    ProviderError,
    RateLimitError,
    ServerError,
)
from ..models import Prices

__all__ = [
    "BROKEN_PROFILE_POLICIES",
    "DEFAULT_FALLBACK_ON",
    "DEFAULT_MAX_BODY_SIZE",
    "FALLBACK_CONDITIONS",
    "ON_STATE_ERROR",
    "ROUTE_STRATEGIES",
    "STATE_BACKENDS",
    "BudgetConfig",
    "Config",
    "CooldownConfig",
    "LimitsConfig",
    "Names",
    "Profile",
    "RouteConfig",
    "RouteTarget",
    "ServeConfig",
    "StateConfig",
    "TimeoutConfig",
    "fallback_condition",
]

DEFAULT_MAX_BODY_SIZE = 16 * 1024 * 1024
"""The gateway's default request body limit: 16 MiB (room for a few inline images)."""


@attrs.frozen
class TimeoutConfig:
    """HTTP timeouts and deadlines, in seconds.

    ``timeout: {connect: 10, read: 600, deadline: 600}`` in the config; a single number
    (``timeout: 30``) sets ``connect`` and ``read``. Each must be a finite number greater than
    zero (or null, where a key's default is null).

    * ``connect`` (default ``10``): how long to wait for the connection to open.
    * ``read`` (default ``600``): how long to wait for the next bytes of a reply (for a
      stream, between two events).
    * ``deadline`` (default null: ``600``, or ``read`` when that is longer): the most a
      non-streaming call may take in all, retries and their waits included — a server that
      trickles bytes cannot hold it longer. A call's ``deadline=`` argument overrides it.
    * ``stream_progress`` (default null: the same as ``read``): the longest a stream may go
      without progress — an event other than a keep-alive (SSE comments, blank lines and
      ``ping`` events are keep-alives) — from its start or its last progress.
    * ``stream_deadline`` (default null: none): the most a stream may take in all. A call's
      ``deadline=`` argument overrides it.

    Each limit ends the call with ``APITimeoutError`` naming it; a stream's error keeps the
    text received (``partial_text``).
    """

    connect: float = 10.0
    read: float = 600.0
    deadline: float | None = None
    stream_progress: float | None = None
    stream_deadline: float | None = None


@attrs.frozen
class LimitsConfig:
    """How big a reply may be, and how many calls a profile may make.

    ``limits: {max_event_bytes: 16MiB, max_body_bytes: 256MiB, rpm: 600, tpm: 200000,
    concurrency: 16}``; every key is optional. A profile's ``limits`` replaces the top-level
    ``limits`` as a whole. Sizes are a number of bytes or text such as ``20MB`` / ``16MiB``.

    * ``max_event_bytes`` (default ``16MiB``): one server-sent event of a stream (its bytes, up
      to the blank line that ends it).
    * ``max_body_bytes`` (default ``256MiB``): one non-streamed reply body, decompressed; a
      declared ``Content-Length`` above it fails before the body is read.

    A reply over a size limit fails with ``ProtocolError`` naming the setting; the defaults
    are far above any real reply (they stop a broken or hostile server from filling the
    memory).

    Rate limits (default: none), counted per profile — the profile's calls from this process,
    or, with ``state: {backend: redis}``, from every process sharing the Redis server:

    * ``rpm``: calls per minute; ``tpm``: tokens per minute (prompt and completion). Both are
      counted over a sliding ``window``: at most ``rpm × window / 60`` calls (and tokens) in
      any ``window`` seconds.
    * ``concurrency``: calls (streams included) in flight at once.
    * ``window`` (default ``60``): the sliding window, in seconds. A shorter window spreads a
      minute's calls out (``rpm: 600, window: 1`` admits at most 10 calls in any second).
    * ``max_wait`` (default ``30``): how long a call waits for room before it fails with
      ``LimitExceededError``; ``0`` fails at once. Inside a router, a target without room is
      skipped at once (the router moves on) and waited for only when no target has room.

    A call's tokens are estimated before it is sent (its request's JSON length / 4, plus its
    ``max_tokens``/``max_completion_tokens``) and corrected to the vendor's reported usage
    after it; a call whose estimate alone exceeds ``tpm`` fails at once. See docs/routing.md.
    """

    max_event_bytes: int = 16 * 1024 * 1024
    max_body_bytes: int = 256 * 1024 * 1024
    rpm: int | None = None
    tpm: int | None = None
    concurrency: int | None = None
    window: float = 60.0
    max_wait: float = 30.0


STATE_BACKENDS = ("local", "redis")
"""The values of ``state.backend`` (see :class:`StateConfig`)."""

ON_STATE_ERROR = ("open", "closed")
"""The values of ``state.on_state_error`` (see :class:`StateConfig`)."""


def _mask_url(url: str | None) -> str:
    from ..http import safe_url

    return "None" if url is None else repr(safe_url(url))


@attrs.frozen
class StateConfig:
    """Where rate limits, cooldowns and in-flight counts live: ``state: {backend: redis, url: ...}``.

    * ``backend`` (default ``local``): ``local`` keeps them in the process (each gateway
      worker, each process counts its own); ``redis`` keeps them in a Redis server, shared by
      every process and machine configured with the same ``url`` and ``prefix`` (``chatpipe
      serve --workers 4``, several machines behind a load balancer). Needs ``pip install
      'chatpipe[redis]'``.
    * ``url``: the Redis server, ``redis://[:password@]host:port/db`` (``rediss://`` for TLS,
      ``unix:///path.sock``); required for ``redis``; normally ``${REDIS_URL}``. Its password
      is never shown.
    * ``prefix`` (default ``chatpipe``): the start of every Redis key (deployments sharing a
      server use different prefixes).
    * ``timeout`` (default ``1``): the longest wait for the server, in seconds, per command
      and to connect.
    * ``on_state_error`` (default ``open``): when the server does not answer, ``open`` keeps
      serving with in-process limits and logs a warning (trying the server again every few
      seconds); ``closed`` refuses each call with ``StateUnavailableError`` (HTTP 503 from
      the gateway) until it answers.
    """

    backend: str = "local"
    url: str | None = attrs.field(default=None, repr=_mask_url)
    prefix: str = "chatpipe"
    timeout: float = 1.0
    on_state_error: str = "open"


def _mask_keys(keys: tuple[str, ...]) -> str:
    return f"<{len(keys)} key(s)>"


@attrs.frozen
class ServeConfig:
    """The gateway (``chatpipe serve``): ``serve: {host: ..., keys: [...], ...}`` in the config.

    Keys (all optional):

    * ``host`` (default ``127.0.0.1``): the address to listen on. A non-loopback address
      (``0.0.0.0``, a LAN address, a host name other than ``localhost``) requires ``keys``
      (or ``allow_unauthenticated``). ``--host`` overrides it.
    * ``port`` (default ``8000``): the TCP port, from 1 to 65535. ``--port`` overrides it.
    * ``keys``: the gateway keys clients must send as ``Authorization: Bearer KEY`` (what
      OpenAI clients do with their ``api_key``). A list, a single string, or a mapping of
      label to key (``{team-a: ${KEY_A}, ci: ${KEY_CI}}``); normally written as
      ``${SOME_ENV_VAR}``. The label names the client in ``budgets`` (keys of a list are
      labelled ``key-1``, ``key-2``... in order); the key itself never appears. Empty entries
      are ignored (so ``${KEY:-}`` makes one optional); each key must be at least 16
      characters. No keys means no authentication: the gateway then answers only clients on
      this machine (see ``allow_unauthenticated``). These are not vendor keys: vendor keys
      stay on the server and never reach clients. Never shown in a repr or an error message.
    * ``allow_unauthenticated`` (default ``false``): serve without ``keys`` to anyone who can
      reach the gateway. While it is false and ``keys`` is empty, ``chatpipe serve`` refuses
      a non-loopback ``host``, and the app (however it is started, ``uvicorn --factory``
      included) answers HTTP 403 to every request from a non-loopback client address, or
      carrying a ``Forwarded`` or ``X-Forwarded-For`` header (a proxy in front means remote
      clients); ``/health`` stays open. Set it only when something else authenticates
      clients (a reverse proxy, a private network you trust).
    * ``max_body_size`` (default ``16MiB``): the largest request body accepted; larger ones
      get HTTP 413. A number of bytes, or a string with a unit: ``B``, ``KB``, ``MB``, ``GB``
      (powers of 1000) or ``KiB``, ``MiB``, ``GiB`` (powers of 1024), e.g. ``20MB``.
    * ``request_timeout`` (default ``600``): the longest a request may take in all, in seconds,
      a streamed reply included; when it runs out the client gets HTTP 504 (or, once a stream
      has started, an error event) and the upstream call is cancelled.
    * ``shutdown_timeout`` (default ``30``): on SIGTERM/Ctrl-C the gateway stops accepting
      connections and lets requests in flight (streams included) finish for up to this many
      seconds before cutting them.
    * ``metrics`` (default ``auto``): ``GET /metrics`` in Prometheus text format (see
      docs/gateway.md, "Metrics"). ``auto``: on when ``prometheus_client`` is installed
      (``pip install 'chatpipe[metrics]'``); ``true``: on, and ``chatpipe serve`` refuses to
      start without it; ``false``: off (``/metrics`` answers 404 and nothing is counted).
    * ``metrics_keys``: keys that may read ``/metrics`` (``Authorization: Bearer KEY``) besides
      the gateway ``keys``, so a scraper needs no key that can spend vendor credits. A key or a
      list, at least 16 characters each, never shown. Without any ``keys`` or ``metrics_keys``,
      ``/metrics`` follows the rule of the rest of the gateway (this machine only unless
      ``allow_unauthenticated``).
    * ``broken_profiles`` (default ``refuse``): every profile is built when the gateway starts,
      the way its first call would be (provider, converters, options, key); ``refuse``: a
      profile that cannot be served stops the start, and the error lists every such profile;
      ``skip``: the gateway serves the others, logs why each broken one is left out, lists
      only the served ones in ``/v1/models`` and answers a request for a broken one with 503
      ``profile_unavailable`` (``chatpipe serve --skip-broken-profiles`` does the same).
    """

    host: str = "127.0.0.1"
    port: int = 8000
    keys: tuple[str, ...] = attrs.field(default=(), repr=_mask_keys)
    allow_unauthenticated: bool = False
    max_body_size: int = DEFAULT_MAX_BODY_SIZE
    request_timeout: float = 600.0
    shutdown_timeout: float = 30.0
    metrics: bool | None = None
    metrics_keys: tuple[str, ...] = attrs.field(default=(), repr=_mask_keys)
    broken_profiles: str = "refuse"
    key_labels: tuple[str, ...] = ()
    """The label of each of ``keys``, in order (from ``keys`` given as a mapping; not a YAML key)."""

    def labelled_keys(self) -> tuple[tuple[str, str], ...]:
        """``(label, key)`` for each gateway key: its label, or ``key-N`` (its place, from 1) when unlabelled."""
        labels = self.key_labels if len(self.key_labels) == len(self.keys) else ()
        return tuple((labels[i] if labels else f"key-{i + 1}", key) for i, key in enumerate(self.keys))


@attrs.frozen
class BudgetConfig:
    """A budget: what the calls it applies to may spend per fixed period (``budgets: {NAME: ...}``).

    ``NAME`` is a gateway key's label (``serve.keys``: the budget counts that client's
    requests) or a profile name (it counts calls to that profile, from any client). Keys:

    * ``tokens``: the most tokens (prompt + completion, as the vendor reports them) per period.
    * ``usd``: the most cost per period, in USD (``response.cost.total``; a call whose cost is
      unknown adds nothing: see docs/cost.md).
    * ``period`` (default ``1d``): ``30s``, ``15m``, ``1h``, ``1d``, ``7d``, ``1w`` or a number of
      seconds. Periods are fixed and aligned to the Unix epoch (a ``1d`` budget resets at
      00:00 UTC), the same for every gateway worker and machine sharing the ``state``.

    At least one of ``tokens`` and ``usd``. The gateway answers HTTP 429 (``code:
    budget_exceeded``) once a budget is spent; a call is checked before it is sent, so the
    call that crosses the limit is answered in full (the budget may be overshot by one call).
    """

    tokens: int | None = None
    usd: float | None = None
    period: float = 86400.0


BROKEN_PROFILE_POLICIES = ("refuse", "skip")
"""The values of ``serve.broken_profiles`` (see :class:`ServeConfig`)."""

ROUTE_STRATEGIES = ("fallback", "weighted", "least-busy", "latency")
"""The values of ``route.strategy`` (see :class:`RouteConfig`)."""

FALLBACK_CONDITIONS: Mapping[str, tuple[type[ProviderError], ...]] = {
    "timeout": (APITimeoutError,),
    "connection": (APIConnectionError,),
    "rate_limit": (RateLimitError,),
    "server": (ServerError,),
    "protocol": (ProtocolError,),
    "not_found": (NotFoundError,),
    "auth": (AuthenticationError, PermissionDeniedError),
    "content_filter": (ContentFilterError,),
    "bad_request": (BadRequestError,),
}
"""The names ``route.fallback_on`` takes, each with the errors it means; the first name
whose classes match an error is that error's condition (so a timeout is ``timeout``, not
``connection``). A :class:`~chatpipe.errors.ContextLengthError` has none of them: it follows
``context_fallbacks``."""

DEFAULT_FALLBACK_ON = ("connection", "timeout", "server", "rate_limit")
"""The failures that move a call on to the next target unless ``fallback_on`` says otherwise."""


def fallback_condition(error: ProviderError) -> str | None:
    """The :data:`FALLBACK_CONDITIONS` name of ``error`` (``None`` for a context-length error or another error)."""
    if isinstance(error, ContextLengthError):
        return None
    for name, classes in FALLBACK_CONDITIONS.items():
        if isinstance(error, classes):
            return name
    return None


@attrs.frozen
class RouteTarget:
    """One target of a router: the ``profile`` it runs and its ``weight`` (for ``weighted``).

    Written as the profile's name, or ``{profile: NAME, weight: 3}`` (weight: a positive
    number, default ``1``).
    """

    profile: str
    weight: float = 1.0


@attrs.frozen
class CooldownConfig:
    """A router's circuit breaker per target: ``cooldown: {failures: 3, window: 60, duration: 30}``.

    A target whose calls fail ``failures`` times within ``window`` seconds (failures that move
    the call on: see ``fallback_on``) is skipped for ``duration`` seconds; then one call — the
    probe — is sent to it: a success makes it healthy again, a failure starts another
    cooldown. A 429 with ``Retry-After`` starts a cooldown of that length at once. Any
    success clears the failures counted. ``cooldown: null`` turns it off.
    """

    failures: int = 3
    window: float = 60.0
    duration: float = 30.0


@attrs.frozen
class RouteConfig:
    """A router profile: ``profiles: {NAME: {route: {strategy: ..., targets: [...]}}}``.

    A router sends each call to one of its targets, moving on to another target when a call
    fails in a way that ``fallback_on`` names. Each target is another profile (a provider
    profile or another router), run with its own provider, converters, key and settings. A
    router profile has no other key than ``route`` (the targets carry the settings). See
    docs/routing.md.

    Keys (only ``targets`` is required):

    * ``targets``: the profiles to send calls to, a non-empty list. Each item is a profile
      name or ``{profile: NAME, weight: N}``; a profile may appear once. A router may name
      other routers but not itself, directly or through others (a loop is an error).
    * ``strategy`` (default ``fallback``): which target is tried first, and then which next.
      ``fallback``: the targets in the order written. ``weighted``: a random target, with a
      chance proportional to its ``weight``; on failure a random one of those left, by
      weight. ``least-busy``: the target with the fewest calls of this router in flight
      (ties: the order written), then the next least busy. ``latency``: the target with the
      lowest recent latency (an average of its last calls' time to answer — for a stream, to
      its first content — measured in this process), a target not measured yet first; with
      chance ``explore`` a random target instead, so a target that was slow gets measured again.
    * ``fallback_on`` (default ``[connection, timeout, server, rate_limit]``): the failures
      that move a call on to the next target; any other failure is raised at once. Names:
      ``connection`` (the connection failed or dropped), ``timeout`` (a timeout or deadline),
      ``server`` (HTTP 5xx, overloaded included), ``rate_limit`` (HTTP 429), ``protocol`` (a
      malformed reply), ``not_found`` (404), ``auth`` (401/403, a missing key included),
      ``content_filter`` (refused by the vendor's filter), ``bad_request`` (any other 400).
      A single name may be given as a string; an empty list means never move on.
    * ``context_fallbacks`` (default none): profiles to try, in order, when a target answers
      that the conversation does not fit its context (``ContextLengthError``); only these are
      tried then (the other targets have no more room), and with none the error is raised.
    * ``cooldown`` (default ``{failures: 3, window: 60, duration: 30}``): skip a failing
      target for a while; see :class:`CooldownConfig`. ``null`` turns it off.
    * ``explore`` (default ``0.1``): for ``latency``, the chance that a call goes to a random
      target; from 0 to 1.

    In-flight counts and cooldowns live where ``state`` says (the process, or Redis, shared).

    A target's own retries (``max_retries``) happen before the router moves on. A stream
    moves on only before its first chunk with content (text, reasoning or a tool call);
    after that its error is raised with the text received (``partial_text``). When every
    target has failed the router raises :class:`~chatpipe.errors.AllTargetsFailedError`
    (a nested router's counts as a failure to move on from); a failure that does not move
    on is raised as it is. The reply's ``route`` names the profile that answered (through
    nested routers, the innermost: a provider profile).
    """

    targets: tuple[RouteTarget, ...]
    strategy: str = "fallback"
    fallback_on: tuple[str, ...] = DEFAULT_FALLBACK_ON
    context_fallbacks: tuple[str, ...] = ()
    cooldown: CooldownConfig | None = attrs.Factory(CooldownConfig)
    explore: float = 0.1


def _mask_headers(headers: Mapping[str, str]) -> str:
    return repr({name: "***" for name in headers})


@attrs.frozen
class Profile:
    """One named way to reach a model: ``profiles: {NAME: {provider: ..., ...}}``.

    Keys (``provider`` or ``route`` is required, never both):

    * ``provider``: the registered provider name (``claude``, ``openai``, ``custom``...).
      Empty (``""``) only in a router profile.
    * ``route``: makes this a router profile, which sends each call to one of other
      profiles and falls back between them (see :class:`RouteConfig`); it then takes no
      other key.
    * ``model``: the model id; unset (or empty) means the provider's default model.
    * ``base_url``: the API root, an ``http://`` or ``https://`` URL with a host (e.g.
      ``http://127.0.0.1:1234/v1``); unset (or empty) means the provider's default.
    * ``api_key``: the key, normally written as ``${SOME_ENV_VAR}``. It has the lowest
      precedence: an explicit argument, a stored key (``chatpipe keys set``) and the vendor's
      environment variable all win over it. Empty means no key. Never shown in a repr.
    * ``converters``: converter names run in order before the provider's own required
      conversion, e.g. ``[strict]``. A single name may be given as a string.
    * ``params``: request parameters sent with every call under their OpenAI names
      (``max_tokens``, ``temperature``, ``stop``...). Values must be JSON values. They are
      sent as written; ``chatpipe config check`` reports a name the provider does not know
      (with a did-you-mean) and a value of the wrong type.
    * ``headers``: extra HTTP headers. Numbers and booleans are sent as strings
      (``true``/``false``). May also be a YAML string holding a mapping. The repr shows
      header names only.
    * ``include_body``: keys merged (shallowly) into the JSON body after the core fields, so
      they can override ``model`` or ``temperature``. A mapping, a list of mappings (merged
      in order; an item that is not a mapping is an error), or a YAML string holding either
      (invalid YAML is an error).
    * ``exclude_body``: top-level body keys removed last, after ``include_body``. A list of
      key names, a mapping (its keys are used, whatever the values), a single key name, or a
      YAML string holding one of these.
    * ``options``: provider-specific settings; each provider documents the ones it reads and
      rejects unknown ones.
    * ``names``: speaker names for this profile (``{user, char, group}``); overrides the
      top-level ``names``.
    * ``prompt_placeholder``: overrides the top-level ``prompt_placeholder``.
    * ``timeout``: overrides the top-level ``timeout`` (a mapping or a number; see
      :class:`TimeoutConfig`).
    * ``limits``: overrides the top-level ``limits`` (see :class:`LimitsConfig`).
    * ``max_retries``: overrides the top-level ``max_retries`` (an integer ``>= 0``).
    * ``bypass_status_check`` (default ``false``): a failing ``chatpipe check`` is reported
      but not treated as a failure (for servers without a model list).
    * ``observers``: observer plugins to load when this profile's pipeline is built, in
      addition to the top-level ``observers`` (see :class:`Config`); the one key a router
      profile takes besides ``route``. Loaded observers see every call of the process's
      registry, not only this profile's: ``CallInfo.profile`` tells them apart.
    * ``prices``: what this profile's calls cost, in USD per million tokens, for custom
      endpoints and negotiated rates; it replaces the bundled price data (``genai-prices``)
      for this profile's replies (``response.cost``, see docs/cost.md).
      ``prices: {input: 0.5, output: 1.5, cached_input: 0.05, cache_write: 0.6, models: {MODEL:
      {input: ..., output: ...}}}``: ``input`` (fresh prompt tokens) and ``output``
      (completion tokens) are set together or not at all; ``cached_input`` (cache reads) and
      ``cache_write`` (cache writes) default to ``input``. ``models`` gives rates per model id
      (each with ``input`` and ``output``), which win over the flat rates for a reply whose
      model — as the vendor names it, else the profile's ``model`` — is listed. A reply no
      configured rate applies to is priced from the bundled data (``None`` when it has none:
      never a guess). Rates are non-negative numbers.

    A null collection (``params:`` with nothing after it) means empty; a null scalar is an
    error unless the key is optional.
    """

    provider: str = ""
    route: RouteConfig | None = None
    model: str | None = None
    base_url: str | None = None
    api_key: str | None = attrs.field(default=None, repr=False)
    converters: tuple[str, ...] = ()
    params: Mapping[str, Any] = attrs.field(factory=dict)
    headers: Mapping[str, str] = attrs.field(factory=dict, repr=_mask_headers)
    include_body: Mapping[str, Any] = attrs.field(factory=dict)
    exclude_body: tuple[str, ...] = ()
    options: Mapping[str, Any] = attrs.field(factory=dict)
    names: Names | None = None
    prompt_placeholder: str | None = None
    timeout: TimeoutConfig | None = None
    limits: LimitsConfig | None = None
    max_retries: int | None = None
    bypass_status_check: bool = False
    observers: tuple[str, ...] = ()
    prices: Prices | None = None


@attrs.frozen
class Config:
    """A whole ``chatpipe.yaml``.

    Top-level keys:

    * ``profiles``: a mapping of profile name (a non-empty string) to :class:`Profile` (a
      provider profile, or a router profile: see :class:`RouteConfig`).
    * ``default``: the profile used when none is named; must name a profile in ``profiles``.
      When unset and there is exactly one profile, that profile is the default.
    * ``prompt_placeholder`` (default ``"[Start a new chat]"``): the user turn strict
      converters insert when a conversation does not start with one.
    * ``names``: speaker names used by converters for ``"Name: "`` prefixes:
      ``{user: Alex, char: Seraphina, group: [Rook, Mina]}`` (``group`` may be a single name).
    * ``timeout`` (default ``{connect: 10, read: 600}``): see :class:`TimeoutConfig`.
    * ``limits`` (default ``{max_event_bytes: 16MiB, max_body_bytes: 256MiB}``): see
      :class:`LimitsConfig`.
    * ``max_retries`` (default ``2``): retries of a failed call (rate limits, overload,
      connection errors), an integer ``>= 0``.
    * ``state`` (default ``{backend: local}``): where rate limits, cooldowns and in-flight
      counts live; see :class:`StateConfig`.
    * ``serve``: settings of the OpenAI-compatible gateway (``chatpipe serve``); see
      :class:`ServeConfig`.
    * ``budgets``: a mapping of gateway key label or profile name to :class:`BudgetConfig`
      (``{team-a: {usd: 50, period: 1d}}``), enforced by the gateway.
    * ``observers``: names of ``chatpipe.plugins`` entry points to load (observers: traces,
      metrics, logs), e.g. ``[otel, prometheus]``; a single name may be given as a string. Only
      the plugins named here (or in a profile's ``observers``) are imported, when a pipeline is
      built from the config (``chatpipe chat``, ``serve``, ``Pipeline.from_config``...); their
      observation hooks then see every call in the process. An unknown name is an error with
      a did-you-mean. Providers and converters are not listed here: the profiles name them.
    * ``plugins``: the former name of ``observers``, still accepted (both lists are loaded).
    * ``log`` (default ``true``): ``chatpipe chat`` keeps each conversation in a local SQLite
      log (``logs.db`` in the user data directory; ``chatpipe logs``); ``false`` keeps none
      (``chatpipe chat --no-log`` for one call).

    Every string value may use ``${ENV_VAR}`` or ``${ENV_VAR:-default}``; ``$${`` is a
    literal ``${``. An unset variable without a default is an error. A value that is entirely
    taken from variables may also fill a number or boolean setting (``max_retries: ${N}``).

    ``source`` is the file the config was read from (``None`` for a string or no file); it
    is not a YAML key.
    """

    profiles: Mapping[str, Profile] = attrs.field(factory=dict)
    default: str | None = None
    prompt_placeholder: str = DEFAULT_PLACEHOLDER
    names: Names = attrs.Factory(Names)
    timeout: TimeoutConfig = attrs.Factory(TimeoutConfig)
    limits: LimitsConfig = attrs.Factory(LimitsConfig)
    max_retries: int = 2
    serve: ServeConfig = attrs.Factory(ServeConfig)
    state: StateConfig = attrs.Factory(StateConfig)
    budgets: Mapping[str, BudgetConfig] = attrs.field(factory=dict)
    observers: tuple[str, ...] = ()
    plugins: tuple[str, ...] = ()
    log: bool = True
    source: str | None = None

    def profile(self, name: str | None = None) -> tuple[str, Profile]:
        """The profile called ``name`` with its name; ``None`` means the default profile.

        The default is ``default`` when set, else the only profile when there is exactly one.
        Raises :class:`~chatpipe.errors.ConfigError` when there are no profiles, when several
        exist and none is named or default, and for an unknown name (with a did-you-mean).
        """
        available = ", ".join(self.profiles) or "(none)"
        if name is None:
            if self.default is not None:
                name = self.default
            elif len(self.profiles) == 1:
                return next(iter(self.profiles.items()))
            elif not self.profiles:
                raise ConfigError(
                    "no profiles are configured; add one under 'profiles' (e.g. profiles: "
                    "{claude: {provider: claude}}) or name a provider directly",
                    path="profiles",
                    file=self.source,
                )
            else:
                raise ConfigError(
                    f"several profiles and no 'default': name one (profiles: {available}) "
                    "or set 'default' in the config",
                    path="default",
                    file=self.source,
                )
        found = self.profiles.get(name)
        if found is None:
            close = difflib.get_close_matches(name, list(self.profiles), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else "."
            raise ConfigError(
                f"unknown profile {name!r}{hint} Profiles: {available}.", path="profiles", file=self.source
            )
        return name, found
