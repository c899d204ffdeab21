"""The gateway's Prometheus metrics (``GET /metrics``, ``serve.metrics``; needs ``chatpipe[metrics]``).

Two sources feed them. The request handler records each ``/v1/chat/completions`` request
(:meth:`GatewayMetrics.request`: its HTTP status, error code and duration); the observer
hooks of a call's life (this object is registered as a plugin in the gateway's own pipeline
registry) record what happened upstream: tokens, time to first token, vendor errors and
retries, router hops, the profiles' own rate limits refusing a call.

Labels are bounded: profile names, provider names, router target names, HTTP statuses, the
gateway's error codes and chatpipe's error class names, and the model a vendor *answered*
with (a model a client merely asked for is never a label). Never a key, a prompt or a reply.

Several worker processes (``chatpipe serve --workers N``) share one set of metrics through
prometheus_client's multiprocess mode: :func:`~._run.run` points ``PROMETHEUS_MULTIPROC_DIR``
at a fresh directory before the workers start, every worker writes its values there, and a
scrape of any worker sums them all (:meth:`GatewayMetrics.exposition`). Counters and
histograms, so the files of a worker that died still count (a counter never goes back) and no
``mark_process_dead`` is needed; the one gauge, a router target's health, reads the value
written most recently by any worker (``mostrecent``), which a dead worker's file may still be.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from .._markers import hookimpl
from ..errors import ConfigError, LimitExceededError
from ._routing import Router

if TYPE_CHECKING:
    from .._observe import CallInfo
    from ..config import Config
    from ..errors import ProviderError
    from ..models import ChatResponse
    from ..pipeline import Pipeline

__all__ = [
    "LATENCY_BUCKETS",
    "MULTIPROC_ENV",
    "WAIT_BUCKETS",
    "GatewayMetrics",
    "metrics_available",
    "metrics_enabled",
    "observed_router",
]

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
"""The environment variable of prometheus_client's multiprocess mode (set for ``--workers N``)."""

LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0)
"""Histogram buckets in seconds (LLM calls take from tens of milliseconds to minutes)."""

WAIT_BUCKETS = (0.0, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
"""Buckets of rate-limit waits in seconds (``0``: refused at once, as inside a router)."""


def metrics_available() -> bool:
    """Whether prometheus_client is installed (``pip install 'chatpipe[metrics]'``)."""
    import importlib.util

    return importlib.util.find_spec("prometheus_client") is not None


def metrics_enabled(config: Config) -> bool:
    """Whether ``serve.metrics`` turns metrics on (``auto``: when prometheus_client is installed).

    Raises :class:`~chatpipe.errors.ConfigError` for ``metrics: true`` without prometheus_client.
    """
    wanted = config.serve.metrics
    if wanted is False:
        return False
    available = metrics_available()
    if wanted and not available:
        raise ConfigError(
            "serve.metrics is true but prometheus_client is not installed: pip install 'chatpipe[metrics]', "
            "or set serve.metrics: auto (or false)",
            path="serve.metrics",
            file=config.source,
        )
    return available


def observed_router(config: Config, metrics: GatewayMetrics) -> Router:
    """A gateway :class:`~._routing.Router` whose pipelines live in a registry of their own that
    ``metrics`` observes (the config's ``observers`` are loaded into it as usual)."""
    from ..pipeline import Pipeline
    from ..registry import Registry

    registry = Registry()
    registry.register(metrics, name="chatpipe-gateway-metrics")

    def build(cfg: Config, profile: str) -> Pipeline:
        return Pipeline.from_config(profile, config=cfg, registry=registry)

    return Router(config, factory=build)


class GatewayMetrics:
    """The metrics of one gateway app, in a registry of their own (several apps may share a process).

    Also an observer plugin: register it in the registry of the pipelines it should watch.
    """

    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.registry = CollectorRegistry(auto_describe=True)
        self._children: dict[tuple[int, tuple[str, ...]], Any] = {}
        reg = self.registry
        self.requests = Counter(
            "chatpipe_requests_total",
            "Chat completion requests answered, by profile, client (the gateway key's label) and HTTP status.",
            ["profile", "client", "status"],
            registry=reg,
        )
        self.errors = Counter(
            "chatpipe_request_errors_total",
            "Chat completion requests that ended in an error (an error reply, or an error event in a started "
            "stream, whose status stays 200), by profile, client, HTTP status and error code.",
            ["profile", "client", "status", "code"],
            registry=reg,
        )
        self.client_tokens = Counter(
            "chatpipe_client_tokens_total",
            "Tokens of the replies sent to each client (the gateway key's label; '' without keys), by kind.",
            ["client", "kind"],
            registry=reg,
        )
        self.client_cost = Counter(
            "chatpipe_client_cost_usd_total",
            "What the replies sent to each client cost, in USD (replies whose cost is known).",
            ["client"],
            registry=reg,
        )
        self.duration = Histogram(
            "chatpipe_request_duration_seconds",
            "Time from a chat completion request's arrival to the end of its reply (a stream's last event).",
            ["profile", "stream"],
            buckets=LATENCY_BUCKETS,
            registry=reg,
        )
        self.first_token = Histogram(
            "chatpipe_time_to_first_token_seconds",
            "Time from the start of an upstream streaming call to its first content (retries included).",
            ["profile", "provider"],
            buckets=LATENCY_BUCKETS,
            registry=reg,
        )
        self.tokens = Counter(
            "chatpipe_tokens_total",
            "Tokens of the upstream calls that answered, as the vendor reported them (kind: input or output).",
            ["profile", "provider", "model", "kind"],
            registry=reg,
        )
        self.cost = Counter(
            "chatpipe_cost_usd_total",
            "What the upstream calls that answered cost, in USD, where the cost is known (docs/cost.md).",
            ["profile", "provider", "model"],
            registry=reg,
        )
        self.upstream_errors = Counter(
            "chatpipe_upstream_errors_total",
            "Upstream calls that failed after their retries, by profile, provider and chatpipe error class.",
            ["profile", "provider", "error"],
            registry=reg,
        )
        self.retries = Counter(
            "chatpipe_upstream_retries_total",
            "Retries of upstream calls by the transport, by profile, provider and the status that caused "
            "them ('' for a connection failure).",
            ["profile", "provider", "status"],
            registry=reg,
        )
        self.hops = Counter(
            "chatpipe_router_hops_total",
            "A router profile moving on from a target that failed (error: the failure's class; "
            "CoolingDownError: the target was skipped while cooling down).",
            ["profile", "from_target", "to_target", "error"],
            registry=reg,
        )
        self.rate_limited = Counter(
            "chatpipe_rate_limited_total",
            "Calls a profile's own rate limit (limits.rpm/tpm/concurrency) refused after limits.max_wait.",
            ["profile", "limit"],
            registry=reg,
        )
        self.rate_limit_wait = Histogram(
            "chatpipe_rate_limit_wait_seconds",
            "Time upstream calls waited for room in their profile's own rate limit (only calls that found it "
            "full), by profile, the limit that was full and the outcome (admitted or refused).",
            ["profile", "limit", "outcome"],
            buckets=WAIT_BUCKETS,
            registry=reg,
        )
        self.target_up = Gauge(
            "chatpipe_router_target_up",
            "Whether a router's target answered its last call (1) or failed it (0: an error that moves the "
            "router on; the target's own rate limit does not count).",
            ["router", "target"],
            multiprocess_mode="mostrecent",
            registry=reg,
        )

    # --- the request handler --------------------------------------------------------------

    def request(
        self, profile: str, client: str, status: int, code: str | None, seconds: float, *, stream: bool
    ) -> None:
        """One chat request of ``client`` ended with ``status``; ``code`` is its error code (``None``: no error)."""
        self._child(self.requests, profile, client, str(status)).inc()
        if code is not None:
            self._child(self.errors, profile, client, str(status), code).inc()
        self._child(self.duration, profile, "true" if stream else "false").observe(seconds)

    def spent(self, client: str, response: ChatResponse) -> None:
        """A reply sent whole to ``client``: its tokens and its cost, when known."""
        usage = response.usage
        if usage is not None:
            if usage.prompt_tokens:
                self._child(self.client_tokens, client, "input").inc(usage.prompt_tokens)
            if usage.completion_tokens:
                self._child(self.client_tokens, client, "output").inc(usage.completion_tokens)
        cost = response.cost
        if cost is not None and cost.currency == "USD":
            self._child(self.client_cost, client).inc(float(cost.total))

    def _child(self, metric: Any, *labels: str) -> Any:
        """``metric.labels(*labels)``, kept: a label lookup costs ~1 µs, a kept child ~0.05 µs.

        Label values are bounded (profiles, providers, models vendors answer with, statuses,
        codes), so the cache is too.
        """
        key = (id(metric), labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*labels)
        return child

    def exposition(self) -> tuple[bytes, str]:
        """The Prometheus text exposition and its content type (summed over the workers in multiprocess mode)."""
        from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

        if os.environ.get(MULTIPROC_ENV):
            from prometheus_client.multiprocess import MultiProcessCollector

            collected = CollectorRegistry()
            MultiProcessCollector(collected)  # type: ignore[no-untyped-call]
            return generate_latest(collected), CONTENT_TYPE_LATEST
        return generate_latest(self.registry), CONTENT_TYPE_LATEST

    # --- observer hooks -------------------------------------------------------------------

    @hookimpl
    def chatpipe_first_token(self, call: CallInfo, seconds: float) -> None:
        self._child(self.first_token, call.profile or "", call.provider).observe(seconds)

    @hookimpl
    def chatpipe_call_finished(self, call: CallInfo, response: ChatResponse, seconds: float) -> None:
        if call.route is not None:
            self._child(self.target_up, call.router or "", call.route).set(1)
        usage = response.usage
        if usage is None:
            return
        model = response.model or call.model
        profile = call.profile or ""
        if usage.prompt_tokens:
            self._child(self.tokens, profile, call.provider, model, "input").inc(usage.prompt_tokens)
        if usage.completion_tokens:
            self._child(self.tokens, profile, call.provider, model, "output").inc(usage.completion_tokens)
        cost = response.cost
        if cost is not None:
            self._child(self.cost, profile, call.provider, model).inc(float(cost.total))

    @hookimpl
    def chatpipe_call_failed(self, call: CallInfo, error: ProviderError, seconds: float) -> None:
        profile = call.profile or ""
        self._child(self.upstream_errors, profile, call.provider, type(error).__name__).inc()
        if isinstance(error, LimitExceededError):
            self._child(self.rate_limited, profile, error.limit).inc()
        elif call.route is not None:
            self._child(self.target_up, call.router or "", call.route).set(0)

    @hookimpl
    def chatpipe_rate_limit_wait(self, call: CallInfo, limit: str, seconds: float, admitted: bool) -> None:
        outcome = "admitted" if admitted else "refused"
        self._child(self.rate_limit_wait, call.profile or "", limit, outcome).observe(seconds)

    @hookimpl
    def chatpipe_call_retry(self, call: CallInfo, attempt: int, reason: str, status: int | None, wait: float) -> None:
        self._child(self.retries, call.profile or "", call.provider, "" if status is None else str(status)).inc()

    @hookimpl
    def chatpipe_router_hop(
        self, call_id: str, profile: str | None, from_target: str, to_target: str, error: ProviderError
    ) -> None:
        self._child(self.hops, profile or "", from_target, to_target, type(error).__name__).inc()
