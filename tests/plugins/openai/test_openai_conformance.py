"""The openai provider passes the shared provider conformance suite."""

from chatpipe.testing.conformance import OpenAISimulator, ProviderConformance


class TestOpenAIConformance(ProviderConformance):
    simulator = OpenAISimulator("openai")
