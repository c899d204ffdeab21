"""The semi-strict and semi-strict-tools converters pass the shared converter conformance suite."""

from chatpipe.testing.conformance import ConverterConformance


class TestSemiStrictConformance(ConverterConformance):
    converter = "semi-strict"
    idempotent = True


class TestSemiStrictToolsConformance(ConverterConformance):
    converter = "semi-strict-tools"
    idempotent = True
