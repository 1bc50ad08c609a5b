"""Where installed models live, and checking that what is there is whole.

A model folder only ever appears complete: installs build ``<name>.partial`` and rename it into
place, and ``MANIFEST.json`` is written last, so a folder without it is never taken as good.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from streamvoice.models.catalog import HubModel, RegistryModel, find
from streamvoice.models.errors import ModelError
from streamvoice.models.hashing import file_sha256, folder_digest

MANIFEST = "MANIFEST.json"


@dataclass(frozen=True, slots=True)
class FileCheck:
    name: str
    size: int
    sha256: str
    ok: bool
    problem: str = ""


@dataclass(frozen=True, slots=True)
class ModelStatus:
    name: str
    path: Path
    installed: bool
    checks: tuple[FileCheck, ...] = ()

    @property
    def ok(self) -> bool:
        return self.installed and all(c.ok for c in self.checks)


def model_path(models_dir: Path, name: str) -> Path:
    return models_dir / name


def is_installed(models_dir: Path, name: str) -> bool:
    return (model_path(models_dir, name) / MANIFEST).is_file()


def require(models_dir: Path, name: str) -> Path:
    """The folder of an installed model, or a ModelError that says how to install it."""
    try:
        find(name)
    except KeyError as exc:
        raise ModelError(str(exc.args[0])) from None
    path = model_path(models_dir, name)
    if not (path / MANIFEST).is_file():
        raise ModelError(
            f"model {name!r} is not installed in {models_dir}; run `streamvoice models install {name}` "
            "(or set STREAMVOICE_MODELS to the folder that holds it)"
        )
    return path


def verify(models_dir: Path, name: str) -> ModelStatus:
    """Recompute every hash of an installed model against the catalog pins."""
    model = find(name)
    path = model_path(models_dir, name)
    if not (path / MANIFEST).is_file():
        return ModelStatus(name, path, installed=False)
    if isinstance(model, HubModel):
        recorded = json.loads((path / MANIFEST).read_text())
        checks = []
        for entry in recorded.get("files", []):
            target = path / entry["name"]
            actual = file_sha256(target) if target.is_file() else ""
            checks.append(FileCheck(entry["name"], entry["size"], actual, actual == entry["sha256"],
                                    "" if actual == entry["sha256"] else "changed since install"))
        return ModelStatus(name, path, True, tuple(checks))
    return ModelStatus(name, path, True, tuple(_registry_checks(model, path) + _converted_checks(path)))


def _converted_checks(path: Path) -> list[FileCheck]:
    """Files converted for another engine (``<model>/<engine>/MANIFEST.json``), checked against
    the hashes recorded when they were written."""
    checks: list[FileCheck] = []
    for manifest in sorted(path.glob(f"*/{MANIFEST}")):
        folder = manifest.parent
        for entry in json.loads(manifest.read_text()).get("files", []):
            target = folder / entry["name"]
            actual = file_sha256(target) if target.is_file() else ""
            ok = actual == entry["sha256"]
            fix = f"streamvoice models convert {path.name} --to {folder.name}"
            problem = "" if ok else f"changed since conversion; run `{fix}`"
            checks.append(FileCheck(f"{folder.name}/{entry['name']}", entry["size"], actual, ok, problem))
    return checks


def _registry_checks(model: RegistryModel, path: Path) -> list[FileCheck]:
    checks: list[FileCheck] = []
    for spec in model.files:
        target = path / spec.name
        if not target.is_file():
            checks.append(FileCheck(spec.name, 0, "", False, "missing"))
            continue
        actual = file_sha256(target)
        size = target.stat().st_size
        ok = actual == spec.sha256 and size == spec.size
        checks.append(FileCheck(spec.name, size, actual, ok, "" if ok else f"expected sha256 {spec.sha256}"))
    for folder in model.folders:
        target = path / folder.name
        digest, count = folder_digest(target, folder.suffix) if target.is_dir() else ("", 0)
        ok = digest == folder.digest and count == folder.count
        size = sum(p.stat().st_size for p in target.iterdir()) if target.is_dir() else 0
        problem = "" if ok else f"expected {folder.count} files with digest {folder.digest}, found {count}"
        checks.append(FileCheck(f"{folder.name}/ ({count} files)", size, digest, ok, problem))
    for pkg in model.python_packages:
        import importlib.util

        found = importlib.util.find_spec(pkg.module) is not None
        checks.append(FileCheck(f"python:{pkg.module}", 0, "", found,
                                "" if found else f"run `streamvoice models install {model.name}`"))
    return checks
