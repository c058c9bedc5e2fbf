"""A Prometheus scrape parsed with prometheus_client's own parser, for the tests that read a
process's metrics (``GET /metrics``, a worker's metrics port)."""

import attrs
from prometheus_client.parser import text_string_to_metric_families


@attrs.frozen
class Scrape:
    """Every sample of one scrape: ``(name, labels) -> value``, and each family's type."""

    samples: dict[tuple[str, frozenset[tuple[str, str]]], float]
    types: dict[str, str]

    @classmethod
    def parse(cls, text: str) -> "Scrape":
        samples, types = {}, {}
        for family in text_string_to_metric_families(text):
            types[family.name] = family.type
            for sample in family.samples:
                key = (sample.name, frozenset(sample.labels.items()))
                assert key not in samples, f"sample {key} twice in one scrape"
                samples[key] = sample.value
        return cls(samples=samples, types=types)

    def value(self, name: str, **labels: str) -> float:
        """The sample ``name`` with exactly ``labels``; 0 if the scrape has none (a counter
        not yet incremented for those labels)."""
        return self.samples.get((name, frozenset(labels.items())), 0.0)

    def labelled(self, name: str) -> list[dict[str, str]]:
        """The label sets of every sample called ``name``."""
        return [dict(labels) for sample, labels in self.samples if sample == name]

    def buckets(self, name: str, **labels: str) -> list[tuple[float, float]]:
        """The histogram's ``(le, cumulative count)`` pairs, in bound order."""
        return sorted(
            (float(dict(sample_labels)["le"]), value)
            for (sample, sample_labels), value in self.samples.items()
            if sample == f"{name}_bucket"
            and {k: v for k, v in sample_labels if k != "le"} == labels
        )
