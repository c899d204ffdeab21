"""The attribute and event names chatpipe-otel records, and the mapping of chatpipe names to them.

The ``gen_ai.*``, ``server.*``, ``error.type`` and ``http.response.status_code`` names are the
OpenTelemetry semantic conventions' (GenAI spans, v1.37 or later: ``gen_ai.provider.name``
replaces the deprecated ``gen_ai.system``). What the conventions do not name is under
``chatpipe.``.
"""

from __future__ import annotations

OPERATION = "gen_ai.operation.name"
PROVIDER = "gen_ai.provider.name"
REQUEST_MODEL = "gen_ai.request.model"
RESPONSE_MODEL = "gen_ai.response.model"
RESPONSE_ID = "gen_ai.response.id"
FINISH_REASONS = "gen_ai.response.finish_reasons"
INPUT_TOKENS = "gen_ai.usage.input_tokens"
OUTPUT_TOKENS = "gen_ai.usage.output_tokens"
CACHE_READ_TOKENS = "gen_ai.usage.cache_read.input_tokens"
CACHE_CREATION_TOKENS = "gen_ai.usage.cache_creation.input_tokens"
INPUT_MESSAGES = "gen_ai.input.messages"
OUTPUT_MESSAGES = "gen_ai.output.messages"
SYSTEM_INSTRUCTIONS = "gen_ai.system_instructions"
SERVER_ADDRESS = "server.address"
SERVER_PORT = "server.port"
ERROR_TYPE = "error.type"
HTTP_STATUS = "http.response.status_code"

CALL_ID = "chatpipe.call.id"
CHATPIPE_PROVIDER = "chatpipe.provider"
PROFILE = "chatpipe.profile"
ROUTE = "chatpipe.route"
ROUTER = "chatpipe.router"
REASONING_TOKENS = "chatpipe.usage.reasoning_tokens"
STREAM = "chatpipe.stream"
TIME_TO_FIRST_TOKEN = "chatpipe.time_to_first_token"
ABANDONED = "chatpipe.abandoned"

RETRY_EVENT = "chatpipe.retry"
RETRY_ATTEMPT = "chatpipe.retry.attempt"
RETRY_REASON = "chatpipe.retry.reason"
RETRY_WAIT = "chatpipe.retry.wait"
HOP_EVENT = "chatpipe.router.hop"
HOP_FROM = "chatpipe.router.from"
HOP_TO = "chatpipe.router.to"
FIRST_TOKEN_EVENT = "chatpipe.first_token"
WAIT_EVENT = "chatpipe.rate_limit.wait"
WAIT_LIMIT = "chatpipe.rate_limit.limit"
WAIT_SECONDS = "chatpipe.rate_limit.seconds"
WAIT_ADMITTED = "chatpipe.rate_limit.admitted"

# chatpipe's registered provider names whose vendor has a well-known gen_ai.provider.name value
# of its own; every other name is reported as it is, as the conventions ask of a provider they
# do not list (ai21, fireworks, custom, local...).
WELL_KNOWN_PROVIDERS = {
    "claude": "anthropic",
    "mistral": "mistral_ai",
    "openai": "openai",
    "cohere": "cohere",
    "deepseek": "deepseek",
    "perplexity": "perplexity",
    "gemini": "gcp.gemini",
    "xai": "x_ai",
}


def provider_name(registered: str) -> str:
    """The ``gen_ai.provider.name`` of chatpipe's provider ``registered``."""
    return WELL_KNOWN_PROVIDERS.get(registered, registered)
