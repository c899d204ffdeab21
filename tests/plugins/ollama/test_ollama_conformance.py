"""The ollama provider passes the shared provider conformance suite (chat at the server root's /v1)."""

from chatpipe.testing.conformance import OpenAISimulator, ProviderConformance


class TestOllamaConformance(ProviderConformance):
    simulator = OpenAISimulator("ollama", "/v1/chat/completions", base_path="")


class TestOllamaConformanceWithV1InTheBaseURL(ProviderConformance):
    """A base URL given the OpenAI way, ending in /v1, reaches the same endpoint."""

    simulator = OpenAISimulator("ollama", "/v1/chat/completions", base_path="/v1")
