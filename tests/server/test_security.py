"""What SECURITY.md promises, checked through real sockets: the static page server serves only its
folder, the default bind is loopback, the message-rate limit holds, tokens compare in constant time."""

from __future__ import annotations

import asyncio
from pathlib import Path

import msgpack
import pytest

from bench.rawws import RawWs
from streamvoice.config import ServerConfig, load_config
from streamvoice.engine.fake import FakeEngine
from streamvoice.server import auth
from streamvoice.server.app import Server


async def _get(port: int, path: str) -> tuple[int, bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode())
    await writer.drain()
    data = await reader.read()
    writer.close()
    status = int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/1.1 ") else 0
    return status, data.split(b"\r\n\r\n", 1)[-1]


@pytest.fixture
async def web_server(tmp_path: Path):  # type: ignore[no-untyped-def]
    root = tmp_path / "web"
    root.mkdir()
    (root / "index.html").write_text("<html>page</html>")
    (root / ".hidden").write_text("hidden")
    (tmp_path / "secret.txt").write_text("SECRET")
    (root / "link.txt").symlink_to(tmp_path / "secret.txt")  # a link leading out of the folder
    server = Server(load_config({}, {"server": {"port": 0, "web_root": str(root)}}), FakeEngine())
    await server.start()
    yield server
    await server.stop(2.0)


@pytest.mark.parametrize("path", [
    "/../secret.txt", "/%2e%2e/secret.txt", "/..%2fsecret.txt", "/%2e%2e%2fsecret.txt", "/web/../../secret.txt",
    "/link.txt", "/.hidden", "/%2ehidden", "/index.html%00.txt", "//etc/passwd", "/%2fetc%2fpasswd",
])
async def test_static_server_refuses_everything_outside_its_folder(web_server: Server, path: str) -> None:
    status, body = await _get(web_server.port, path)
    assert status in (400, 404), (path, status)
    assert b"SECRET" not in body and b"root:" not in body and b"hidden" not in body


async def test_static_server_serves_its_folder(web_server: Server) -> None:
    assert await _get(web_server.port, "/") == (200, b"<html>page</html>")
    assert await _get(web_server.port, "/index.html") == (200, b"<html>page</html>")


def test_default_bind_is_loopback_and_token_compare_is_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    assert ServerConfig().host == "127.0.0.1"
    assert load_config({}, {}).server.host == "127.0.0.1"
    calls: list[tuple[bytes, bytes]] = []
    real = auth.hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(auth.hmac, "compare_digest", spy)
    assert auth.token_ok("s3cret", "s3cret") and not auth.token_ok("s3cret", "s3creT")
    assert len(calls) == 2  # every comparison goes through hmac.compare_digest


async def test_message_rate_limit_over_a_socket(tmp_path: Path) -> None:
    server = Server(load_config({}, {"server": {"port": 0, "max_messages_per_s": 20}}), FakeEngine())
    await server.start()
    try:
        ws = await RawWs.open(server.port)
        await ws.send_msg({"type": "hello"})
        assert (await ws.read_message())["type"] == "ready"  # type: ignore[index]
        burst = b"".join(_ping(i) for i in range(200))
        await ws.write_raw(burst)
        await asyncio.sleep(1.0)
        await ws.send_msg({"type": "ping", "id": 999})
        got = []
        async with asyncio.timeout(5):
            while True:
                msg = await ws.read_message()
                assert isinstance(msg, dict)
                got.append(msg)
                if msg == {"type": "pong", "id": 999}:
                    break
        pongs = [m for m in got if m["type"] == "pong"]
        limited = [m for m in got if m["type"] == "error"]
        assert [m["code"] for m in limited] == ["rate_limited"]  # one error per episode
        assert 15 <= len(pongs) <= 40  # about the bucket (20) plus what refilled during the burst
        await ws.close()
    finally:
        await server.stop(2.0)


def _ping(i: int) -> bytes:
    from bench.rawws import frame

    return frame(msgpack.packb({"type": "ping", "id": i}))
