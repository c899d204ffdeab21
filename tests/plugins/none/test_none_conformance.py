"""The none converter passes the shared converter conformance suite."""

from chatpipe.testing.conformance import ConverterConformance


class TestNoneConformance(ConverterConformance):
    converter = "none"
    idempotent = True
