"""Reading a Prometheus text exposition in tests: ``Scrape(text).value(name, **labels)``."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families


class Scrape:
    """The samples of one exposition; :meth:`value` sums those matching a name and some labels."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.samples = [
            (sample.name, dict(sample.labels), sample.value)
            for family in text_string_to_metric_families(text)
            for sample in family.samples
        ]

    def value(self, name: str, **labels: str) -> float:
        """The sum of the samples called ``name`` whose labels include ``labels`` (0 when none)."""
        return sum(v for n, got, v in self.samples if n == name and labels.items() <= got.items())

    def labels(self, name: str, label: str) -> set[str]:
        """The values label ``label`` takes in the samples called ``name``."""
        return {got[label] for n, got, _ in self.samples if n == name and label in got}
