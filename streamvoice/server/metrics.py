"""Every metric the server exports, on prometheus_client, in one registry per server (never global).

:class:`ServerMetrics` is also the runtime's :class:`~streamvoice.runtime.observe.Observer`, so the
runtime reports without knowing Prometheus. ``/metrics`` renders :meth:`ServerMetrics.render`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
LAG_BUCKETS_MS = (50.0, 100.0, 250.0, 500.0, 1000.0, 2000.0, 4000.0, 8000.0, 16000.0)
FAST_BUCKETS = (1e-5, 5e-5, 1e-4, 5e-4, 1e-3, 5e-3, 1e-2, 5e-2)


class _QueueDepths(Collector):
    """The engine's queued work by worker:priority, read at scrape time."""

    def __init__(self, depths: Callable[[], dict[str, int]]) -> None:
        self._depths = depths

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily("streamvoice_engine_queue_depth", "engine work queued, by worker:priority",
                                   labels=["queue"])
        for name, n in sorted(self._depths().items()):
            family.add_metric([name], float(n))
        yield family


class ServerMetrics:
    """The server's metrics; also the runtime's ``Observer``."""

    def __init__(self, registry: CollectorRegistry | None = None,
                 queue_depths: Callable[[], dict[str, int]] | None = None) -> None:
        self.registry = r = registry if registry is not None else CollectorRegistry(auto_describe=True)
        self.sessions = Gauge("streamvoice_sessions", "open sessions", registry=r)
        self.sessions_total = Counter("streamvoice_sessions_accepted", "sessions accepted", registry=r)
        self.refused = Counter("streamvoice_connections_refused", "connections refused, by reason", ["reason"],
                               registry=r)
        self.frames_in = Counter("streamvoice_frames_in", "frames received, by kind", ["kind"], registry=r)
        self.frames_out = Counter("streamvoice_frames_out", "frames sent, by message type", ["type"], registry=r)
        self.lag = Histogram("streamvoice_asr_lag_ms", "ASR lag behind received audio, ms", buckets=LAG_BUCKETS_MS,
                             registry=r)
        self.partial = Histogram("streamvoice_partial_latency_seconds", "decode wait+compute per partial",
                                 buckets=LATENCY_BUCKETS, registry=r)
        self.final = Histogram("streamvoice_final_latency_seconds", "end of speech to final", buckets=LATENCY_BUCKETS,
                               registry=r)
        self.ttfa = Histogram("streamvoice_tts_first_audio_seconds", "first text to first audio of a turn",
                              buckets=LATENCY_BUCKETS, registry=r)
        self.routing = Histogram("streamvoice_routing_seconds", "frame in -> routed", buckets=FAST_BUCKETS, registry=r)
        self.drops = Counter("streamvoice_dropped", "dropped things, by what (units in the name)", ["what"],
                             registry=r)
        self.errors = Counter("streamvoice_errors", "errors sent or hit, by code", ["code"], registry=r)
        if queue_depths is not None:
            r.register(_QueueDepths(queue_depths))

    def render(self) -> str:
        """The Prometheus text exposition of this server's registry."""
        return generate_latest(self.registry).decode()

    def value(self, name: str, **labels: str) -> float:
        """A sample's current value (0 when never set): for tests and benchmarks."""
        return self.registry.get_sample_value(name, labels) or 0.0

    # Observer
    def frame_in(self, kind: str) -> None:
        self.frames_in.labels(kind=kind).inc()

    def frame_out(self, kind: str) -> None:
        self.frames_out.labels(type=kind).inc()

    def asr_lag(self, ms: float) -> None:
        self.lag.observe(ms)

    def partial_latency(self, s: float) -> None:
        self.partial.observe(s)

    def final_latency(self, s: float) -> None:
        self.final.observe(s)

    def tts_first_audio(self, s: float) -> None:
        self.ttfa.observe(s)

    def dropped(self, what: str, amount: float) -> None:
        self.drops.labels(what=what).inc(amount)

    def error(self, code: str) -> None:
        self.errors.labels(code=code).inc()

    def routing_delay(self, s: float) -> None:
        self.routing.observe(s)
