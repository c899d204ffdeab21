"""Everything a provider or converter plugin needs, from one module: ``from chatpipe.plugin import ...``.

Plugins import chatpipe only from here (tests may also use :mod:`chatpipe.testing`); lint
rejects any ``chatpipe._*`` import under ``plugins/`` and ``examples/``. docs/plugins.md
walks through writing each kind. The names, by what they are for:

Registering
    :data:`hookimpl` — the marker of the plugin's hook functions (``chatpipe.hookspecs``);
    :func:`lazy_attributes` — a package's ``__getattr__``/``__dir__`` importing names on first
    use, so importing a plugin (which ``chatpipe --help`` does for command plugins) stays cheap.

Providers
    :class:`Provider` (the sans-IO adapter contract), :class:`ProviderInfo` (its declaration, as
    data), :class:`Capabilities`, :class:`ProviderSettings` (what an instance is bound to),
    :data:`DEFAULT_RETRYABLE_STATUSES`, :data:`OPENAI_PARAMS` (the default ``ProviderInfo.params``)
    and :data:`ParamType`; a vendor's batch API: :class:`VendorBatchAPI` (what
    ``Provider.batch_api()`` returns), :class:`BatchStatus`, :data:`BatchState`,
    :func:`batch_item_not_processed`.

Stream parsing
    :class:`StreamParser` (SSE events to chunks, one per stream) and :class:`StreamAccumulator`
    (chunks to the complete reply, as the pipeline assembles a stream).

Converters
    :class:`Converter`, :data:`ConverterFn`, :class:`ConvertContext`, :class:`Names`,
    :data:`DEFAULT_PLACEHOLDER`.

HTTP, as plain data
    :class:`HttpRequest` (what ``build_*`` returns), :class:`HttpResponse`, :class:`SSEEvent`,
    :func:`merge_headers` (profile headers over the adapter's, with the secret names),
    :func:`safe_url` (a URL fit for a message, a log or a repr: no password, no key in the query).

Observers
    :class:`CallInfo`, what every event of one call's life carries (the hooks
    ``chatpipe_call_*``, ``chatpipe_router_hop``, ``chatpipe_first_token``).

Secrets
    :class:`Secret` (an API key that never shows itself) and :func:`scrub` (remove secrets
    from text before it goes into an error or a log).

Errors
    :class:`ChatpipeError` and its tree: :class:`ConfigError`, :class:`PluginNotFoundError`,
    :class:`InvalidRequestError`, :class:`ProviderError` with :class:`ProtocolError`,
    :class:`APIConnectionError`, :class:`APITimeoutError` and :class:`APIStatusError`
    (:class:`AuthenticationError`, :class:`PermissionDeniedError`, :class:`NotFoundError`,
    :class:`RateLimitError`, :class:`BadRequestError`, :class:`ContextLengthError`,
    :class:`ContentFilterError`, :class:`ServerError`, :class:`OverloadedError`);
    :class:`ChatpipeWarning`.

Data model (frozen attrs classes)
    :class:`Message`, the parts :data:`Part` (:class:`TextPart`, :class:`ImagePart` with
    :class:`ImageURL`, :class:`AudioPart` with :class:`InputAudio`, :class:`OtherPart`),
    :class:`ToolCall`, :class:`FunctionCall`, :class:`Tool`, :class:`FunctionDef`,
    :class:`ChatRequest`, :class:`ChatResponse`, :class:`Choice`, :data:`FinishReason`,
    :class:`ChatChunk`, :class:`ToolCallDelta`, :class:`Usage`, :class:`ModelInfo`; and
    :mod:`wire <chatpipe.wire>`, the OpenAI dicts ⇄ model conversions.

The OpenAI-compatible base (:mod:`chatpipe.openai_compat`)
    :class:`OpenAICompatibleProvider` (subclass it and declare only the differences),
    :class:`OpenAIBatchAPI` (OpenAI's files + batches API, for adapters of OpenAI itself),
    :class:`OpenAIStreamParser`, :class:`ThinkStreamParser`, :class:`ThinkSplitter`,
    :func:`split_choice`, :func:`split_think` (a leading ``<think>`` block to reasoning),
    :func:`audio_url_to_input_audio`; :func:`is_text_completion_model` and
    :data:`TEXT_COMPLETION_MODELS` (legacy models served by ``/completions``).

Vendor helpers, for adapters of any API (:mod:`chatpipe.vendor`)
    :func:`decode_json`, :func:`json_or_none`, :func:`loads_json`, :class:`MalformedPayload`,
    :class:`ErrorInBody`;
    :class:`ErrorDetails`,
    :func:`error_details`, :func:`details_from_json`, :func:`make_error`,
    :func:`protocol_error`, :func:`auth_hint`, :func:`retry_after`, :func:`truncate`,
    :data:`MAX_BODY`; :func:`normalise_base_url`, :func:`join_url`,
    :func:`has_version_segment`; :func:`check_options`; :func:`json_schema_as_message` with
    :data:`SCHEMA_MESSAGE_PREFIX`; :func:`normalise_finish_reason`,
    :data:`FINISH_REASONS`.

Post-processing helpers, for a vendor's forced conversion (:mod:`chatpipe.postprocess`)
    :func:`merge_messages`, :func:`check_messages`, :func:`fold_tool_call`,
    :func:`name_prefix`, :func:`prefix_as_user`, :func:`prefix_as_char`,
    :func:`example_prefixed`; content as pieces:
    :data:`Piece`, :data:`Pieces`, :func:`to_pieces`, :func:`first_text`, :func:`join`,
    :func:`prepend`, :func:`render`.

Only :data:`hookimpl` is imported with this module; every other name is imported on first
use, so a plugin that registers only CLI commands loads no adapter code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._lazy import lazy_attributes
from ._markers import hookimpl

_EXPORTS: dict[str, tuple[str, ...]] = {
    "chatpipe.provider": (
        "DEFAULT_RETRYABLE_STATUSES",
        "OPENAI_PARAMS",
        "BatchState",
        "ParamType",
        "BatchStatus",
        "Capabilities",
        "Provider",
        "ProviderInfo",
        "ProviderSettings",
        "StreamParser",
        "VendorBatchAPI",
        "batch_item_not_processed",
    ),
    "chatpipe._accumulate": ("StreamAccumulator",),
    "chatpipe._callinfo": ("CallInfo",),
    "chatpipe.converter": ("DEFAULT_PLACEHOLDER", "ConvertContext", "Converter", "ConverterFn", "Names"),
    "chatpipe.http": ("HttpRequest", "HttpResponse", "SSEEvent", "merge_headers", "safe_url"),
    "chatpipe.secrets": ("Secret", "scrub"),
    "chatpipe.errors": (
        "APIConnectionError",
        "APIStatusError",
        "APITimeoutError",
        "AuthenticationError",
        "BadRequestError",
        "ChatpipeError",
        "ChatpipeWarning",
        "ConfigError",
        "ContentFilterError",
        "ContextLengthError",
        "InvalidRequestError",
        "NotFoundError",
        "OverloadedError",
        "PermissionDeniedError",
        "PluginNotFoundError",
        "ProtocolError",
        "ProviderError",
        "RateLimitError",
        "ServerError",
    ),
    "chatpipe.models": (
        "AudioPart",
        "ChatChunk",
        "ChatRequest",
        "ChatResponse",
        "Choice",
        "FinishReason",
        "FunctionCall",
        "FunctionDef",
        "ImagePart",
        "ImageURL",
        "InputAudio",
        "Message",
        "ModelInfo",
        "OtherPart",
        "Part",
        "TextPart",
        "Tool",
        "ToolCall",
        "ToolCallDelta",
        "Usage",
    ),
    "chatpipe.openai_compat": (
        "TEXT_COMPLETION_MODELS",
        "OpenAIBatchAPI",
        "OpenAICompatibleProvider",
        "OpenAIStreamParser",
        "ThinkSplitter",
        "ThinkStreamParser",
        "audio_url_to_input_audio",
        "is_text_completion_model",
        "split_choice",
        "split_think",
    ),
    "chatpipe.vendor": (
        "FINISH_REASONS",
        "MAX_BODY",
        "SCHEMA_MESSAGE_PREFIX",
        "ErrorDetails",
        "ErrorInBody",
        "MalformedPayload",
        "arguments_object",
        "auth_hint",
        "check_options",
        "decode_json",
        "details_from_json",
        "error_details",
        "json_or_none",
        "loads_json",
        "has_version_segment",
        "join_url",
        "json_schema_as_message",
        "make_error",
        "normalise_base_url",
        "normalise_finish_reason",
        "protocol_error",
        "retry_after",
        "truncate",
    ),
    "chatpipe.postprocess": (
        "Piece",
        "Pieces",
        "check_messages",
        "example_prefixed",
        "first_text",
        "fold_tool_call",
        "join",
        "merge_messages",
        "name_prefix",
        "prefix_as_char",
        "prefix_as_user",
        "prepend",
        "render",
        "to_pieces",
    ),
}
"""Where each lazily imported name lives."""

_LAZY = {name: f"{module}:{name}" for module, names in _EXPORTS.items() for name in names}
_LAZY["wire"] = "chatpipe.wire"  # the module itself

__all__ = [
    "DEFAULT_PLACEHOLDER",
    "DEFAULT_RETRYABLE_STATUSES",
    "FINISH_REASONS",
    "MAX_BODY",
    "OPENAI_PARAMS",
    "SCHEMA_MESSAGE_PREFIX",
    "TEXT_COMPLETION_MODELS",
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AudioPart",
    "AuthenticationError",
    "BadRequestError",
    "BatchState",
    "BatchStatus",
    "CallInfo",
    "Capabilities",
    "ChatChunk",
    "ChatRequest",
    "ChatResponse",
    "ChatpipeError",
    "ChatpipeWarning",
    "Choice",
    "ConfigError",
    "ContentFilterError",
    "ContextLengthError",
    "ConvertContext",
    "Converter",
    "ConverterFn",
    "ErrorDetails",
    "ErrorInBody",
    "FinishReason",
    "FunctionCall",
    "FunctionDef",
    "HttpRequest",
    "HttpResponse",
    "ImagePart",
    "ImageURL",
    "InputAudio",
    "InvalidRequestError",
    "MalformedPayload",
    "Message",
    "ModelInfo",
    "Names",
    "NotFoundError",
    "OpenAIBatchAPI",
    "OpenAICompatibleProvider",
    "OpenAIStreamParser",
    "OtherPart",
    "OverloadedError",
    "ParamType",
    "Part",
    "PermissionDeniedError",
    "Piece",
    "Pieces",
    "PluginNotFoundError",
    "ProtocolError",
    "Provider",
    "ProviderError",
    "ProviderInfo",
    "ProviderSettings",
    "RateLimitError",
    "SSEEvent",
    "Secret",
    "ServerError",
    "StreamAccumulator",
    "StreamParser",
    "TextPart",
    "ThinkSplitter",
    "ThinkStreamParser",
    "Tool",
    "ToolCall",
    "ToolCallDelta",
    "Usage",
    "VendorBatchAPI",
    "arguments_object",
    "audio_url_to_input_audio",
    "auth_hint",
    "batch_item_not_processed",
    "check_messages",
    "check_options",
    "decode_json",
    "details_from_json",
    "error_details",
    "example_prefixed",
    "first_text",
    "fold_tool_call",
    "has_version_segment",
    "hookimpl",
    "is_text_completion_model",
    "join",
    "join_url",
    "json_or_none",
    "json_schema_as_message",
    "lazy_attributes",
    "loads_json",
    "make_error",
    "merge_headers",
    "merge_messages",
    "name_prefix",
    "normalise_base_url",
    "normalise_finish_reason",
    "prefix_as_char",
    "prefix_as_user",
    "prepend",
    "protocol_error",
    "render",
    "retry_after",
    "safe_url",
    "scrub",
    "split_choice",
    "split_think",
    "to_pieces",
    "truncate",
    "wire",
]

if TYPE_CHECKING:
    from . import wire
    from ._accumulate import StreamAccumulator
    from ._callinfo import CallInfo
    from .converter import DEFAULT_PLACEHOLDER, ConvertContext, Converter, ConverterFn, Names
    from .errors import (
        APIConnectionError,
        APIStatusError,
        APITimeoutError,
        AuthenticationError,
        BadRequestError,
        ChatpipeError,
        ChatpipeWarning,
        ConfigError,
        ContentFilterError,
        ContextLengthError,
        InvalidRequestError,
        NotFoundError,
        OverloadedError,
        PermissionDeniedError,
        PluginNotFoundError,
        ProtocolError,
        ProviderError,
        RateLimitError,
        ServerError,
    )
    from .http import HttpRequest, HttpResponse, SSEEvent, merge_headers, safe_url
    from .models import (
        AudioPart,
        ChatChunk,
        ChatRequest,
        ChatResponse,
        Choice,
        FinishReason,
        FunctionCall,
        FunctionDef,
        ImagePart,
        ImageURL,
        InputAudio,
        Message,
        ModelInfo,
        OtherPart,
        Part,
        TextPart,
        Tool,
        ToolCall,
        ToolCallDelta,
        Usage,
    )
    from .openai_compat import (
        TEXT_COMPLETION_MODELS,
        OpenAIBatchAPI,
        OpenAICompatibleProvider,
        OpenAIStreamParser,
        ThinkSplitter,
        ThinkStreamParser,
        audio_url_to_input_audio,
        is_text_completion_model,
        split_choice,
        split_think,
    )
    from .postprocess import (
        Piece,
        Pieces,
        check_messages,
        example_prefixed,
        first_text,
        fold_tool_call,
        join,
        merge_messages,
        name_prefix,
        prefix_as_char,
        prefix_as_user,
        prepend,
        render,
        to_pieces,
    )
    from .provider import (
        DEFAULT_RETRYABLE_STATUSES,
        OPENAI_PARAMS,
        BatchState,
        BatchStatus,
        Capabilities,
        ParamType,
        Provider,
        ProviderInfo,
        ProviderSettings,
        StreamParser,
        VendorBatchAPI,
        batch_item_not_processed,
    )
    from .secrets import Secret, scrub
    from .vendor import (
        FINISH_REASONS,
        MAX_BODY,
        SCHEMA_MESSAGE_PREFIX,
        ErrorDetails,
        ErrorInBody,
        MalformedPayload,
        arguments_object,
        auth_hint,
        check_options,
        decode_json,
        details_from_json,
        error_details,
        has_version_segment,
        join_url,
        json_or_none,
        json_schema_as_message,
        loads_json,
        make_error,
        normalise_base_url,
        normalise_finish_reason,
        protocol_error,
        retry_after,
        truncate,
    )


__getattr__, __dir__ = lazy_attributes(globals(), _LAZY, __all__)
