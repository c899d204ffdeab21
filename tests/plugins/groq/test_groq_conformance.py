"""The groq provider passes the shared provider conformance suite."""

from chatpipe.testing.conformance import OpenAISimulator, ProviderConformance


class TestGroqConformance(ProviderConformance):
    simulator = OpenAISimulator("groq", "/openai/v1/chat/completions", base_path="/openai/v1")
