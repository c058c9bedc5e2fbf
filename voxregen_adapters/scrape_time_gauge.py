"""``ScrapeTimeGauge``: a Prometheus gauge family read from its source (the database, Redis)
at every scrape, which never fails the scrape.

When the source cannot be read, the family is left out of that scrape, its ``<name>_up`` gauge
says 0 and the reason goes to the log (``metrics_source_unavailable``): the process's other
metrics are still reported, and an alert on ``<name>_up == 0`` tells a dead source from a
count of zero.
"""

from collections.abc import Callable, Iterator, Mapping

import structlog
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector


class ScrapeTimeGauge(Collector):
    """The gauge ``name`` with one sample per label value ``read()`` returns (label ``label``),
    and ``<name>_up``: 1 if ``read()`` answered at this scrape, else 0. ``source`` names what
    ``read`` reads, in the log."""

    def __init__(
        self,
        name: str,
        documentation: str,
        *,
        label: str,
        source: str,
        read: Callable[[], Mapping[str, float]],
    ) -> None:
        self._name = name
        self._documentation = documentation
        self._label = label
        self._source = source
        self._read = read

    def describe(self) -> list[Metric]:
        """The families without samples, so that registering does not read the source."""
        return [self._family(), self._up()]

    def collect(self) -> Iterator[Metric]:
        up = self._up()
        try:
            values = self._read()
        except Exception as error:  # a scrape reports any failure of its source, never raises
            structlog.get_logger().warning(
                "metrics_source_unavailable",
                metric=self._name,
                source=self._source,
                error=f"{type(error).__name__}: {error}",
            )
            up.add_metric([], 0)
            yield up
            return
        family = self._family()
        for value, sample in values.items():
            family.add_metric([value], sample)
        up.add_metric([], 1)
        yield family
        yield up

    def _family(self) -> GaugeMetricFamily:
        return GaugeMetricFamily(self._name, self._documentation, labels=[self._label])

    def _up(self) -> GaugeMetricFamily:
        return GaugeMetricFamily(
            f"{self._name}_up",
            f"1 if {self._source} answered for {self._name} at this scrape, else 0",
        )
