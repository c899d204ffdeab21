"""The custom provider passes the shared provider conformance suite."""

from chatpipe.testing.conformance import OpenAISimulator, ProviderConformance


class TestCustomConformance(ProviderConformance):
    simulator = OpenAISimulator("custom")


class TestCustomWithoutDoneMarkerConformance(ProviderConformance):
    """Servers that end streams by closing the connection, without data: [DONE]."""

    simulator = OpenAISimulator("custom", done_marker=False)
