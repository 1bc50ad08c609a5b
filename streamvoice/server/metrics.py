"""A tiny Prometheus text-format registry (counters, gauges, histograms), injected, never global."""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable

LabelKey = tuple[tuple[str, str], ...]


def _fmt_labels(key: LabelKey, extra: tuple[tuple[str, str], ...] = ()) -> str:
    items = key + extra
    if not items:
        return ""
    body = ",".join(f'{k}="{_escape(v)}"' for k, v in items)
    return "{" + body + "}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _num(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value)) if not float(value).is_integer() else str(int(value))


class _Metric:
    kind = ""

    def __init__(self, name: str, help_text: str) -> None:
        self.name = name
        self.help = help_text

    def render(self) -> list[str]:
        return [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} {self.kind}"]


class Counter(_Metric):
    kind = "counter"

    def __init__(self, name: str, help_text: str) -> None:
        super().__init__(name, help_text)
        self._values: dict[LabelKey, float] = {}

    def inc(self, amount: float = 1.0, **labels: str) -> None:
        if amount < 0:
            raise ValueError("a counter only goes up")
        key = tuple(sorted(labels.items()))
        self._values[key] = self._values.get(key, 0.0) + amount

    def value(self, **labels: str) -> float:
        return self._values.get(tuple(sorted(labels.items())), 0.0)

    def render(self) -> list[str]:
        lines = super().render()
        for key, v in sorted(self._values.items()):
            lines.append(f"{self.name}{_fmt_labels(key)} {_num(v)}")
        return lines


class Gauge(_Metric):
    kind = "gauge"

    def __init__(self, name: str, help_text: str, fn: Callable[[], dict[LabelKey, float]] | None = None) -> None:
        super().__init__(name, help_text)
        self._values: dict[LabelKey, float] = {}
        self._fn = fn

    def set(self, value: float, **labels: str) -> None:
        self._values[tuple(sorted(labels.items()))] = value

    def inc(self, amount: float = 1.0, **labels: str) -> None:
        key = tuple(sorted(labels.items()))
        self._values[key] = self._values.get(key, 0.0) + amount

    def value(self, **labels: str) -> float:
        return self._values.get(tuple(sorted(labels.items())), 0.0)

    def render(self) -> list[str]:
        lines = super().render()
        values = dict(self._values)
        if self._fn is not None:
            values.update(self._fn())
        for key, v in sorted(values.items()):
            lines.append(f"{self.name}{_fmt_labels(key)} {_num(v)}")
        return lines


class Histogram(_Metric):
    kind = "histogram"

    def __init__(self, name: str, help_text: str, buckets: tuple[float, ...]) -> None:
        super().__init__(name, help_text)
        self.buckets = tuple(sorted(buckets))
        self._counts = [0] * len(self.buckets)
        self._sum = 0.0
        self._n = 0

    def observe(self, value: float) -> None:
        i = bisect.bisect_left(self.buckets, value)
        if i < len(self._counts):
            self._counts[i] += 1
        self._sum += value
        self._n += 1

    @property
    def count(self) -> int:
        return self._n

    def render(self) -> list[str]:
        lines = super().render()
        running = 0
        for bound, c in zip(self.buckets, self._counts, strict=True):
            running += c
            lines.append(f'{self.name}_bucket{{le="{_num(bound)}"}} {running}')
        lines.append(f'{self.name}_bucket{{le="+Inf"}} {self._n}')
        lines.append(f"{self.name}_sum {_num(self._sum)}")
        lines.append(f"{self.name}_count {self._n}")
        return lines


class Registry:
    def __init__(self) -> None:
        self._metrics: dict[str, _Metric] = {}

    def _add(self, metric: _Metric) -> _Metric:
        if metric.name in self._metrics:
            raise ValueError(f"metric {metric.name} registered twice")
        self._metrics[metric.name] = metric
        return metric

    def counter(self, name: str, help_text: str) -> Counter:
        m = self._add(Counter(name, help_text))
        assert isinstance(m, Counter)
        return m

    def gauge(self, name: str, help_text: str, fn: Callable[[], dict[LabelKey, float]] | None = None) -> Gauge:
        m = self._add(Gauge(name, help_text, fn))
        assert isinstance(m, Gauge)
        return m

    def histogram(self, name: str, help_text: str, buckets: tuple[float, ...]) -> Histogram:
        m = self._add(Histogram(name, help_text, buckets))
        assert isinstance(m, Histogram)
        return m

    def render(self) -> str:
        lines: list[str] = []
        for metric in self._metrics.values():
            lines.extend(metric.render())
        return "\n".join(lines) + "\n"


LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
LAG_BUCKETS_MS = (50.0, 100.0, 250.0, 500.0, 1000.0, 2000.0, 4000.0, 8000.0, 16000.0)
FAST_BUCKETS = (1e-5, 5e-5, 1e-4, 5e-4, 1e-3, 5e-3, 1e-2, 5e-2)


class ServerMetrics:
    """Every metric the server exports; also the runtime's :class:`Observer`."""

    def __init__(self, registry: Registry, queue_depths: Callable[[], dict[str, int]] | None = None) -> None:
        self.registry = registry
        r = registry
        self.sessions = r.gauge("streamvoice_sessions", "open sessions")
        self.sessions_total = r.counter("streamvoice_sessions_total", "sessions accepted")
        self.refused = r.counter("streamvoice_connections_refused_total", "connections refused, by reason")
        self.frames_in = r.counter("streamvoice_frames_in_total", "frames received, by kind")
        self.frames_out = r.counter("streamvoice_frames_out_total", "frames sent, by message type")
        self.lag = r.histogram("streamvoice_asr_lag_ms", "ASR lag behind received audio, ms", LAG_BUCKETS_MS)
        self.partial = r.histogram("streamvoice_partial_latency_seconds", "decode wait+compute per partial",
                                   LATENCY_BUCKETS)
        self.final = r.histogram("streamvoice_final_latency_seconds", "end of speech to final", LATENCY_BUCKETS)
        self.ttfa = r.histogram("streamvoice_tts_first_audio_seconds", "first text to first audio of a turn",
                                LATENCY_BUCKETS)
        self.routing = r.histogram("streamvoice_routing_seconds", "frame in -> routed", FAST_BUCKETS)
        self.drops = r.counter("streamvoice_dropped_total", "dropped things, by what (units in the name)")
        self.errors = r.counter("streamvoice_errors_total", "errors sent or hit, by code")
        depth_fn = queue_depths
        r.gauge("streamvoice_engine_queue_depth", "engine work queued, by worker:priority",
                (lambda: {(("queue", k),): float(v) for k, v in depth_fn().items()}) if depth_fn else None)

    # Observer
    def frame_in(self, kind: str) -> None:
        self.frames_in.inc(kind=kind)

    def frame_out(self, kind: str) -> None:
        self.frames_out.inc(type=kind)

    def asr_lag(self, ms: float) -> None:
        self.lag.observe(ms)

    def partial_latency(self, s: float) -> None:
        self.partial.observe(s)

    def final_latency(self, s: float) -> None:
        self.final.observe(s)

    def tts_first_audio(self, s: float) -> None:
        self.ttfa.observe(s)

    def dropped(self, what: str, amount: float) -> None:
        self.drops.inc(amount, what=what)

    def error(self, code: str) -> None:
        self.errors.inc(code=code)

    def routing_delay(self, s: float) -> None:
        self.routing.observe(s)
