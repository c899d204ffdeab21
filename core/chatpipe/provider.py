"""The provider contract: what a vendor plugin declares and the sans-IO adapter it implements.

A provider plugin registers a :class:`Provider` subclass through
:func:`~chatpipe.hookspecs.chatpipe_register_providers`. The class carries its declaration as
data (:class:`ProviderInfo`); an instance is bound to one :class:`ProviderSettings` (base URL,
key, extra headers/body) and translates between chatpipe's model and the vendor's HTTP API
without doing any I/O. The transport performs every call, so one adapter serves sync, async,
streaming and non-streaming use.

Every ``parse_*`` method must turn malformed vendor data into a
:class:`~chatpipe.errors.ProtocolError`, never a ``KeyError``/``TypeError``/``ValueError``.

A vendor with a batch API (requests processed asynchronously within a day, at about half the
price) also returns a :class:`VendorBatchAPI` from :meth:`Provider.batch_api`: the same
sans-IO split, for uploading, creating, polling and downloading a batch. The core runner
(``chatpipe.batch``) does the I/O.
"""

from __future__ import annotations

import abc
import types
import urllib.parse
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import attrs

from ._lazy import lazy_attributes
from .converter import ConvertContext
from .errors import APIStatusError, ProviderError
from .http import HttpRequest, HttpResponse, SSEEvent, safe_url
from .models import ChatChunk, ChatRequest, ChatResponse, ModelInfo
from .secrets import Secret

if TYPE_CHECKING:
    from ._batch_status import BatchStatus

__all__ = [
    "DEFAULT_RETRYABLE_STATUSES",
    "OPENAI_PARAMS",
    "BatchState",
    "BatchStatus",
    "Capabilities",
    "ParamType",
    "Provider",
    "ProviderInfo",
    "ProviderSettings",
    "StreamParser",
    "VendorBatchAPI",
    "batch_item_not_processed",
]

DEFAULT_RETRYABLE_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504})

ParamType = str | tuple[str, ...]
"""The JSON type(s) a request parameter takes: ``"integer"``, ``"number"`` (integers too),
``"string"``, ``"boolean"``, ``"object"``, ``"array"``, or ``"any"``; a tuple for several
(``("string", "array")``). ``null`` is always accepted: it means "not set"."""

OPENAI_PARAMS: Mapping[str, ParamType] = types.MappingProxyType(
    {
        "audio": "object",
        "frequency_penalty": "number",
        "logit_bias": "object",
        "logprobs": "boolean",
        "max_completion_tokens": "integer",
        "max_tokens": "integer",
        "metadata": "object",
        "modalities": "array",
        "n": "integer",
        "parallel_tool_calls": "boolean",
        "prediction": "object",
        "presence_penalty": "number",
        "prompt_cache_key": "string",
        "reasoning_effort": "string",
        "response_format": "object",
        "safety_identifier": "string",
        "seed": "integer",
        "service_tier": "string",
        "stop": ("string", "array"),
        "store": "boolean",
        "stream_options": "object",
        "temperature": "number",
        "top_logprobs": "integer",
        "top_p": "number",
        "user": "string",
        "verbosity": "string",
        "web_search_options": "object",
    }
)
"""OpenAI's Chat Completions request parameters with their types: the default
:attr:`ProviderInfo.params` (an OpenAI-compatible vendor adds its extras:
``{**OPENAI_PARAMS, "top_k": "integer"}``)."""

_JSON_TYPES: Mapping[str, tuple[type, ...]] = {
    "integer": (int,),
    "number": (int, float),
    "string": (str,),
    "boolean": (bool,),
    "object": (Mapping,),
    "array": (list, tuple),
}
_ARTICLES = {
    "integer": "an integer",
    "number": "a number",
    "string": "a string",
    "boolean": "a boolean",
    "object": "an object",
    "array": "an array",
}


@attrs.frozen
class Capabilities:
    """What the vendor's API can do; the pipeline checks requests against it before sending."""

    streaming: bool = True
    tools: bool = True
    vision: bool = False
    reasoning: bool = False
    model_listing: bool = True
    status_check: bool = True


@attrs.frozen
class ProviderInfo:
    """A provider's declaration, as data.

    * ``name``: the registered name, equal to the plugin's entry-point name.
    * ``package``: the distribution to ``pip install`` for it.
    * ``default_base_url``: used when the config gives none (``None``: a base URL is required).
    * ``api_key_env``: environment variables consulted for the key, in order.
    * ``key_required``: ``False`` when the API works without a key (local servers). Even when
      true, a key is needed only at the vendor's own host (:meth:`key_needed`).
    * ``required_converters``: the minimum post-processing the API needs; the pipeline runs it
      after the user's chain ("none unless strictly required by the API").
    * ``retryable_statuses``: HTTP statuses worth retrying with backoff.
    * ``default_model``: used when the config names no model.
    * ``params``: the request parameters the vendor knows (chatpipe's OpenAI names it maps, and
      its own names it passes on), each with its JSON type (:data:`ParamType`); default
      :data:`OPENAI_PARAMS`. ``chatpipe config check`` reports a profile's ``params`` key that
      is not listed (with a did-you-mean) or has another type (:meth:`param_problems`); calls
      send what they are given either way.
    * ``extra_params``: ``True`` when the vendor takes parameters beyond :attr:`params` (a
      generic endpoint such as ``custom``, or a vendor with many of its own): unknown names
      are then not reported, only the types of known ones.
    """

    name: str
    package: str
    display_name: str
    default_base_url: str | None
    api_key_env: tuple[str, ...] = ()
    key_required: bool = True
    capabilities: Capabilities = Capabilities()
    required_converters: tuple[str, ...] = ()
    retryable_statuses: frozenset[int] = DEFAULT_RETRYABLE_STATUSES
    default_model: str | None = None
    description: str = ""
    params: Mapping[str, ParamType] = attrs.field(default=OPENAI_PARAMS, hash=False)
    extra_params: bool = False

    def param_problems(self, params: Mapping[str, Any]) -> list[tuple[str, str]]:
        """``(name, problem)`` for each of ``params`` this vendor does not know, or whose
        value has another type than :attr:`params` declares (a ``None`` value is never one).

        An unknown name gets a did-you-mean from :attr:`params`, or none when
        :attr:`extra_params` is set. Values are described, not shown, when they may be secret.
        """
        from .config._problems import describe

        problems: list[tuple[str, str]] = []
        for name, value in params.items():
            declared = self.params.get(name)
            if declared is None:
                if not self.extra_params:
                    import difflib  # ~1.5 ms to import: only for a did-you-mean

                    close = difflib.get_close_matches(name, list(self.params), n=1)
                    hint = (
                        f"; did you mean {close[0]!r}?" if close else f" (it knows: {', '.join(sorted(self.params))})"
                    )
                    problems.append(
                        (name, f"not a parameter of provider {self.name!r}{hint} (include_body sends a field as it is)")
                    )
                continue
            kinds = (declared,) if isinstance(declared, str) else declared
            if value is None or "any" in kinds or any(_has_type(value, kind) for kind in kinds):
                continue
            expected = " or ".join(_ARTICLES.get(kind, kind) for kind in kinds)
            problems.append((name, f"expected {expected}, got {describe(value)}"))
        return problems

    def key_needed(self, base_url: str) -> bool:
        """Whether a call to ``base_url`` must carry a key (a missing one fails before sending).

        True when the provider requires a key and ``base_url`` is on the host of
        :attr:`default_base_url` (the vendor's own API, any path). A base URL on another host is
        a reverse proxy, which often needs no key: the call goes out without one (no
        authentication header), as the reference does for OpenAI and DeepSeek proxies.
        """
        return self.key_required and self.is_vendor_url(base_url)

    def is_vendor_url(self, base_url: str) -> bool:
        """Whether ``base_url`` is the vendor's own API (the host of :attr:`default_base_url`), not a proxy.

        A provider without a default base URL (custom, local) has no other host: always True.
        """
        if self.default_base_url is None:
            return True
        return _host(base_url) == _host(self.default_base_url)


def _has_type(value: Any, kind: str) -> bool:
    """Whether ``value`` (from JSON or YAML) is of JSON type ``kind`` (a boolean is no number)."""
    if isinstance(value, bool):
        return kind == "boolean"
    return isinstance(value, _JSON_TYPES.get(kind, ()))


def _host(url: str) -> str | None:
    try:
        return urllib.parse.urlsplit(url.strip()).hostname
    except ValueError:
        return None


def _names_only(mapping: Mapping[str, Any]) -> str:
    """Reprs show header/option names only: values may hold credentials."""
    return repr(sorted(mapping))


@attrs.frozen
class ProviderSettings:
    """Everything an adapter instance needs, resolved from arguments, config and keys.

    ``options`` holds provider-specific settings from the profile (for example DeepSeek's
    ``prefix`` switch); each provider documents the ones it reads and rejects unknown ones in
    :meth:`Provider.validate_options`. ``context`` carries the pipeline's placeholder and
    speaker names, for the vendor's own forced conversion (the same values the user's
    converters get). The repr shows only the names of headers, body fields and options, never
    their values, and the base URL through :func:`~chatpipe.http.safe_url`. ``api_key_source``
    says where ``api_key`` came from (see :func:`chatpipe.keys.find_api_key`), for the hint
    given with a refused key; ``None`` when unknown.
    """

    base_url: str = attrs.field(repr=lambda url: repr(safe_url(url)))
    api_key: Secret | None = None
    headers: Mapping[str, str] = attrs.field(factory=dict, repr=_names_only)
    include_body: Mapping[str, Any] = attrs.field(factory=dict, repr=_names_only)
    exclude_body: tuple[str, ...] = ()
    options: Mapping[str, Any] = attrs.field(factory=dict, repr=_names_only)
    context: ConvertContext = attrs.field(factory=ConvertContext, repr=False)
    api_key_source: str | None = attrs.field(default=None, kw_only=True)


class StreamParser(abc.ABC):
    """Turns one response's SSE events into chunks. One instance per stream.

    :meth:`feed` returns the chunks an event yields (possibly none); :attr:`done` becomes true
    when the vendor signalled the logical end. :meth:`finish` is called once when the byte
    stream ends, and returns any chunks still pending (it raises
    :class:`~chatpipe.errors.ProtocolError` only if the stream ended in an impossible state).
    An error event inside the stream is raised as an :class:`~chatpipe.errors.APIStatusError`.
    """

    done: bool = False

    @abc.abstractmethod
    def feed(self, event: SSEEvent) -> Iterable[ChatChunk]:
        """Parse one event."""

    def finish(self) -> Iterable[ChatChunk]:
        """The byte stream ended; return what is pending."""
        return ()


BatchState = Literal["in_progress", "ended", "failed", "expired", "cancelled"]
"""Where a vendor batch stands, in chatpipe's words:

* ``in_progress``: still validating, running, finalizing or cancelling: poll again;
* ``ended``: every request has a result to download (successes and per-request errors);
* ``failed``: the vendor refused the batch as a whole (``detail`` says why); no results;
* ``expired`` / ``cancelled``: processing stopped; the results of the requests that finished
  can be downloaded, the others have none.
"""


def batch_item_not_processed(
    reason: str, *, provider: str, batch_id: str | None = None, detail: str | None = None
) -> ProviderError:
    """The error of a request a batch never ran: ``reason`` ``"expired"`` gives an
    :class:`~chatpipe.errors.APITimeoutError` (the vendor's 24-hour window ran out), anything
    else (``"cancelled"``, ``"failed"``, ``"missing"``) a :class:`~chatpipe.errors.ProviderError`
    saying so. ``detail`` (e.g. why a batch failed) is appended; submitting the request again
    is the fix in every case.
    """
    from .errors import APITimeoutError, BadRequestError

    where = f"batch {batch_id}" if batch_id else "the batch"
    texts = {
        "expired": f"{where} expired (the vendor's 24-hour window ended) before this request was processed",
        "cancelled": f"{where} was cancelled before this request was processed",
        "failed": f"{where} failed as a whole, so this request was not processed",
        "missing": f"{where} ended without a result for this request",
    }
    message = texts.get(reason, f"{where} did not process this request ({reason})")
    if detail:
        message += f": {detail}"
    message += "; submit it again"
    if reason == "expired":
        return APITimeoutError(message, provider=provider)
    if reason == "failed":
        return BadRequestError(message, provider=provider)
    return ProviderError(message, provider=provider)


class VendorBatchAPI(abc.ABC):
    """A vendor's batch API, sans-IO: requests to build and responses to parse, never a socket.

    One instance serves one adapter (it reuses the adapter's headers, key and error parsing).
    The runner calls, in order: :meth:`batch_line` for every request (the adapter's own
    ``build_chat`` request: its body *is* the line's body), then :meth:`upload` (``None`` when
    the vendor takes the requests inline) and :meth:`parse_upload`, :meth:`create`,
    :meth:`parse_batch`; then :meth:`poll` and :meth:`parse_batch` until the status is
    :attr:`~BatchStatus.done`; then every request of :meth:`results` and
    :meth:`parse_results` on each response. An error status of any of these calls is parsed
    by the adapter's ``parse_error``.

    ``max_requests`` and ``max_bytes`` are the vendor's limits for one batch (requests, and
    bytes of the serialised lines); the runner splits larger inputs into several batches, and
    never puts lines of different :meth:`batch_group` values in the same one.
    ``custom_id`` values are 1 to 64 characters of ``[A-Za-z0-9_-]`` (the strictest vendor's
    rule); the runner maps its items' ids to such values.
    """

    max_requests: ClassVar[int]
    max_bytes: ClassVar[int]

    @abc.abstractmethod
    def _protocol(self, problem: str, response: HttpResponse) -> ProviderError:
        """The adapter's :class:`~chatpipe.errors.ProtocolError` for a malformed answer ``response``."""

    def _json(self, response: HttpResponse) -> Any:
        """``response``'s body decoded as JSON; a body that is not (or too deeply nested) is a protocol error."""
        from .vendor._json import loads_json

        try:
            return loads_json(response.content)
        except ValueError:
            raise self._protocol("the answer is not JSON", response) from None

    @abc.abstractmethod
    def batch_line(self, custom_id: str, request: HttpRequest) -> dict[str, Any]:
        """The batch entry (a JSON object) for one chat request built by the adapter's ``build_chat``.

        Raises :class:`~chatpipe.errors.InvalidRequestError` for a request the batch API cannot
        take (the runner turns it into that item's error).
        """

    def batch_group(self, line: Mapping[str, Any]) -> str:
        """Lines of different groups never share a batch (OpenAI: one model per batch). Default: one group."""
        return ""

    @abc.abstractmethod
    def upload(self, lines: Sequence[Mapping[str, Any]]) -> HttpRequest | None:
        """The request uploading ``lines`` as the batch's input file, or ``None`` when :meth:`create`
        carries them itself."""

    def parse_upload(self, response: HttpResponse) -> str:
        """The uploaded file's id from a 2xx answer to :meth:`upload`."""
        raise NotImplementedError

    @abc.abstractmethod
    def create(self, lines: Sequence[Mapping[str, Any]], file_id: str | None) -> HttpRequest:
        """The request creating the batch (``file_id``: what :meth:`parse_upload` returned, if any)."""

    @abc.abstractmethod
    def parse_batch(self, response: HttpResponse) -> BatchStatus:
        """The status in a 2xx batch object (the answer to :meth:`create` or :meth:`poll`)."""

    @abc.abstractmethod
    def poll(self, batch_id: str) -> HttpRequest:
        """The request retrieving batch ``batch_id``."""

    @abc.abstractmethod
    def results(self, status: BatchStatus) -> list[HttpRequest]:
        """The requests downloading the results of a finished batch (none when there are none)."""

    @abc.abstractmethod
    def parse_results(self, response: HttpResponse) -> Iterator[tuple[str, ChatResponse | ProviderError]]:
        """Each ``(custom_id, result)`` of a 2xx results download (JSON lines).

        A success is parsed with the adapter's ``parse_chat``, a per-request error becomes the
        typed error the adapter's ``parse_error`` gives for it. A malformed line raises
        :class:`~chatpipe.errors.ProtocolError`.
        """


class Provider(abc.ABC):
    """A sans-IO adapter for one vendor API, bound to one :class:`ProviderSettings`."""

    info: ClassVar[ProviderInfo]

    def __init__(self, settings: ProviderSettings) -> None:
        self.settings = settings

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.info.name} {safe_url(self.settings.base_url)}>"

    @classmethod
    def validate_options(cls, options: Mapping[str, Any]) -> None:
        """Raise :class:`~chatpipe.errors.ConfigError` for options this provider does not know."""
        if options:
            from .errors import ConfigError

            raise ConfigError(
                f"unknown option(s) {sorted(options)} for provider {cls.info.name!r}; it takes none",
                path="options",
            )

    def prepare(self, request: ChatRequest) -> ChatRequest:
        """Apply the vendor's forced adjustments that are not a converter (pure). Default: none."""
        return request

    @abc.abstractmethod
    def build_chat(self, request: ChatRequest) -> HttpRequest:
        """The HTTP request for a chat completion (``request.stream`` selects streaming)."""

    @abc.abstractmethod
    def parse_chat(self, response: HttpResponse) -> ChatResponse:
        """A successful (2xx) non-streaming response."""

    @abc.abstractmethod
    def stream_parser(self, request: ChatRequest) -> StreamParser:
        """A fresh parser for one streamed response to ``request``."""

    @abc.abstractmethod
    def parse_error(self, response: HttpResponse) -> APIStatusError:
        """The typed error for a non-2xx response (the pipeline raises it)."""

    def should_retry(self, response: HttpResponse) -> bool:
        """Whether an error response with a retryable status is worth retrying (default: yes).

        Override to veto retries the status alone cannot rule out, such as a 429 whose body
        says the quota or spend limit is exhausted.
        """
        return True

    def build_models(self) -> HttpRequest | None:
        """The model-list request, or ``None`` when the vendor has no list endpoint."""
        return None

    def parse_models(self, response: HttpResponse) -> list[ModelInfo]:
        """A successful model-list response (one page of it, for paged lists)."""
        raise NotImplementedError

    def next_models(self, response: HttpResponse) -> HttpRequest | None:
        """The request for the page after ``response`` of a paged model list, or ``None``
        when it was the last page (the default: lists are not paged)."""
        return None

    def static_models(self) -> list[ModelInfo]:
        """The known models for vendors without a list endpoint."""
        return []

    def build_model_details(self, model: ModelInfo) -> HttpRequest | None:
        """A request for more about one listed ``model`` (its context length...), or ``None``
        when the list says enough (the default). :meth:`Pipeline.models` sends one per listed
        model; a detail request that fails keeps the entry as listed."""
        return None

    def parse_model_details(self, model: ModelInfo, response: HttpResponse) -> ModelInfo:
        """``model`` completed from a successful :meth:`build_model_details` response (default: unchanged).

        May raise :class:`~chatpipe.errors.ProviderError` for a malformed body: the entry is then kept as listed.
        """
        return model

    def build_check(self) -> HttpRequest | None:
        """The status-check request (default: the model list), or ``None`` if there is none."""
        return self.build_models()

    def check_hint(self, response: HttpResponse) -> str | None:
        """An extra hint for a failed status check (e.g. "try adding /v1"); default none."""
        return None

    def unreachable_hint(self) -> str | None:
        """An extra hint for a status check that could not connect at all (e.g. "start the
        server with ..."); default none."""
        return None

    def batch_api(self) -> VendorBatchAPI | None:
        """The vendor's batch API (:class:`VendorBatchAPI`), or ``None`` when it has none (the default)."""
        return None

    def secrets(self) -> tuple[Secret, ...]:
        """Secrets to scrub from anything this adapter's traffic produces."""
        return (self.settings.api_key,) if self.settings.api_key else ()

    def auth_hint(self) -> str:
        """The fix suggested with a 401: which key was sent, where it came from, which env var to set."""
        from .vendor import auth_hint

        settings = self.settings
        return auth_hint(
            self.info.name, self.info.api_key_env, key_sent=bool(settings.api_key), key_source=settings.api_key_source
        )

    def not_found_hint(self) -> str:
        """The fix suggested with a 404."""
        return (
            f"Check the model id ('chatpipe models -p {self.info.name}' lists them) "
            f"and the base URL ({safe_url(self.settings.base_url)})"
        )

    def status_hints(self) -> dict[type[APIStatusError], str]:
        """The hints an error status gets (:meth:`auth_hint` for a 401, :meth:`not_found_hint` for a 404)."""
        from .errors import AuthenticationError, NotFoundError

        return {AuthenticationError: self.auth_hint(), NotFoundError: self.not_found_hint()}


# BatchStatus is defined in chatpipe._batch_status and created with the first batch (an attrs
# class costs ~0.5 ms to create; a pipeline that never runs a vendor batch never needs it).
# Importable here. Hidden from type checkers, which would otherwise accept any name from here.
if not TYPE_CHECKING:
    __getattr__, __dir__ = lazy_attributes(
        globals(), {"BatchStatus": "chatpipe._batch_status:BatchStatus"}, {*globals(), *__all__}
    )
