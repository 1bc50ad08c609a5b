"""Metrics registry, auth and static files."""

from __future__ import annotations

from pathlib import Path

from streamvoice.server.auth import bearer, origin_ok, token_ok
from streamvoice.server.http import static_file
from streamvoice.server.metrics import ServerMetrics


def test_metrics_render_prometheus_text_per_server_registry() -> None:
    a, b = ServerMetrics(queue_depths=lambda: {"asr:final": 2}), ServerMetrics()
    a.error("slow_consumer")
    a.error("slow_consumer")
    for s in (0.05, 0.5, 5.0):
        a.final_latency(s)
    text = a.render()
    assert 'streamvoice_errors_total{code="slow_consumer"} 2.0' in text
    assert 'streamvoice_final_latency_seconds_bucket{le="0.1"} 1.0' in text
    assert 'streamvoice_final_latency_seconds_bucket{le="1.0"} 2.0' in text
    assert 'streamvoice_final_latency_seconds_bucket{le="+Inf"} 3.0' in text
    assert "# TYPE streamvoice_final_latency_seconds histogram" in text
    assert 'streamvoice_engine_queue_depth{queue="asr:final"} 2.0' in text
    assert a.value("streamvoice_errors_total", code="slow_consumer") == 2
    assert b.value("streamvoice_errors_total", code="slow_consumer") == 0  # servers share nothing


def test_token_checks() -> None:
    assert token_ok(None, None)
    assert token_ok("s3cret", "s3cret")
    assert not token_ok("s3cret", "s3cre")
    assert not token_ok("s3cret", None)
    assert bearer("Bearer abc") == "abc"
    assert bearer("Basic abc") is None


def test_origin_rules() -> None:
    assert origin_ok(None, "h:1", ())
    assert origin_ok("http://h:1", "h:1", ())
    assert not origin_ok("http://evil.example", "h:1", ())
    assert origin_ok("https://app.example", "h:1", ("https://app.example",))
    assert not origin_ok("https://other.example", "h:1", ("https://app.example",))


def test_static_files_stay_inside_the_root(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<h1>hi</h1>")
    (tmp_path / "app.js").write_text("1")
    (tmp_path / ".secret").write_text("no")
    outside = tmp_path.parent / "outside.txt"
    outside.write_text("no")
    ok = static_file(tmp_path, "/")
    assert ok.status_code == 200 and ok.headers["Content-Type"].startswith("text/html")
    assert static_file(tmp_path, "/app.js").headers["Content-Type"].startswith("text/javascript")
    assert static_file(tmp_path, "/../outside.txt").status_code == 404
    assert static_file(tmp_path, "/%2e%2e/outside.txt").status_code == 404
    assert static_file(tmp_path, "/.secret").status_code == 404
    assert static_file(tmp_path, "/missing.css").status_code == 404
