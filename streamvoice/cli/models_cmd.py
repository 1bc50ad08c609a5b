"""`streamvoice models list|install|verify|convert`."""

from __future__ import annotations

import argparse
import sys

from streamvoice.config import Config
from streamvoice.models.catalog import DEFAULT_MODELS, HUB_MODELS, REGISTRY_MODELS, HubModel, find
from streamvoice.models.errors import ModelError
from streamvoice.models.hub import install_hub_model
from streamvoice.models.install import install_registry_model
from streamvoice.models.store import is_installed, verify


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("models", help="list, install and verify models")
    actions = parser.add_subparsers(dest="action", required=True)
    actions.add_parser("list", help="known models and whether they are installed")
    install = actions.add_parser("install", help="install models (default: the server's default models)")
    install.add_argument("names", nargs="*", help=f"model names (default: {' '.join(DEFAULT_MODELS)})")
    verify_p = actions.add_parser("verify", help="recompute the hashes of installed models")
    verify_p.add_argument("names", nargs="*", help="model names (default: every installed model)")
    convert = actions.add_parser("convert", help="convert installed models for another engine")
    convert.add_argument("names", nargs="+", help="installed model names, e.g. whisper-base kokoro-82m")
    convert.add_argument("--to", choices=["mlx"], required=True, help="target engine")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, config: Config) -> int:
    models_dir = config.models.dir
    if args.action == "list":
        print(f"models folder: {models_dir}")
        for model in (*REGISTRY_MODELS, *HUB_MODELS):
            source = "hub" if isinstance(model, HubModel) else "registry"
            state = "installed" if is_installed(models_dir, model.name) else "-"
            print(f"  {model.name:22} {model.kind:4} {source:8} {state:10} {model.description} [{model.licence}]")
        return 0
    if args.action == "install":
        failures = 0
        for name in args.names or DEFAULT_MODELS:
            try:
                model = find(name)
                if isinstance(model, HubModel):
                    install_hub_model(model, models_dir, config.models.hub_timeout_s)
                else:
                    install_registry_model(model, models_dir, progress=lambda m: print(m, flush=True))
            except (ModelError, KeyError) as exc:
                print(f"error: {exc.args[0] if isinstance(exc, KeyError) else exc}", file=sys.stderr)
                failures += 1
        return 1 if failures else 0
    if args.action == "convert":
        return _convert(args.names, config)
    names = args.names or [m.name for m in (*REGISTRY_MODELS, *HUB_MODELS) if is_installed(models_dir, m.name)]
    if not names:
        print(f"no models installed in {models_dir}; run `streamvoice models install`", file=sys.stderr)
        return 1
    bad = 0
    for name in names:
        try:
            status = verify(models_dir, name)
        except KeyError as exc:
            print(f"error: {exc.args[0]}", file=sys.stderr)
            bad += 1
            continue
        if not status.installed:
            print(f"{name}: NOT INSTALLED (run `streamvoice models install {name}`)")
            bad += 1
            continue
        print(f"{name}: {'OK' if status.ok else 'DAMAGED'} ({status.path})")
        for check in status.checks:
            mark = "ok " if check.ok else "BAD"
            print(f"  {mark} {check.name:34} {check.size:>11,} B  {check.sha256[:16] or '-':16} {check.problem}")
        bad += 0 if status.ok else 1
    return 1 if bad else 0


def _convert(names: list[str], config: Config) -> int:
    """Write ``<model>/mlx/`` from each installed model: Whisper from its CTranslate2 file, Kokoro
    from its int8 ONNX graph (the MLX backends also do this on first load)."""
    from streamvoice.models.mlx_whisper_convert import convert_whisper
    from streamvoice.models.store import require
    from streamvoice.tts.mlx_kokoro_convert import convert_kokoro_to_mlx

    failures = 0
    for name in names:
        try:
            folder = require(config.models.dir, name)
            out = convert_whisper(folder) if find(name).kind == "asr" else convert_kokoro_to_mlx(folder)
            print(f"{name}: MLX weights at {out}")
        except (ModelError, KeyError) as exc:
            print(f"error: {exc.args[0] if isinstance(exc, KeyError) else exc}", file=sys.stderr)
            failures += 1
    return 1 if failures else 0
