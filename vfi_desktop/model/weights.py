"""Saving and loading network weights as safetensors: a stranger's file cannot run code."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from ..core.errors import VfiError
from ..core.files import atomic_output_path
from .network import ARCHITECTURES, RETIRED_ARCHITECTURES, build, config_dict

FORMAT = "vfi-desktop/1"


def save_weights(model: torch.nn.Module, path: str | Path, info: dict[str, Any] | None = None) -> Path:
    """Write atomically (temporary name, then rename) so a crash never leaves a half file."""
    from safetensors.torch import save_file

    path = Path(path)
    metadata = {
        "format": FORMAT,
        "arch": model.arch,
        "config": json.dumps(config_dict(model)),
        "info": json.dumps(info or {}),
    }
    tensors = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
    with atomic_output_path(path) as tmp:
        try:
            save_file(tensors, str(tmp), metadata=metadata)
        except Exception as exc:  # noqa: BLE001 - safetensors wraps I/O errors in its own type
            raise VfiError(f"cannot write {path}: {str(exc).splitlines()[0][:160]}") from None
    return path


def read_metadata(path: str | Path) -> dict[str, Any]:
    """Architecture, config and info of a weights file, without loading the tensors."""
    from safetensors import safe_open

    path = Path(path)
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
    except FileNotFoundError:
        raise VfiError(f"{path}: weights file not found") from None
    except Exception:  # noqa: BLE001 - safetensors raises several types for a damaged header
        raise VfiError(f"{path.name}: not a valid weights file (damaged or not safetensors)") from None
    if meta.get("format") == FORMAT and meta.get("arch") in RETIRED_ARCHITECTURES:
        raise VfiError(f"{path.name}: made for {RETIRED_ARCHITECTURES[meta['arch']]}, which this version replaced; fine-tune again")
    if meta.get("format") != FORMAT or meta.get("arch") not in ARCHITECTURES:
        raise VfiError(f"{path.name}: not a vfi-desktop weights file (unknown format or architecture)")
    try:
        return {"arch": meta["arch"], "config": json.loads(meta["config"]), "info": json.loads(meta.get("info", "{}"))}
    except (KeyError, json.JSONDecodeError):
        raise VfiError(f"{path.name}: the weights file's description is damaged") from None


def load_model(path: str | Path, expect_arch: str | None = None) -> tuple[torch.nn.Module, dict[str, Any]]:
    """Build the network the file describes and load its tensors; a clear VfiError on any mismatch."""
    from safetensors.torch import load_file

    path = Path(path)
    meta = read_metadata(path)
    if expect_arch is not None and meta["arch"] != expect_arch:
        raise VfiError(f"{path.name}: holds a '{meta['arch']}' network, expected '{expect_arch}'")
    try:
        model = build(meta["arch"], meta["config"])
    except (TypeError, ValueError):
        raise VfiError(f"{path.name}: the network configuration in the file is not valid") from None
    try:
        state = load_file(str(path))
    except Exception:  # noqa: BLE001
        raise VfiError(f"{path.name}: weights are damaged (cannot read tensors)") from None
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        first = str(exc).splitlines()[0] if str(exc) else "shape mismatch"
        raise VfiError(f"{path.name}: weights do not match the network ({first[:120]})") from None
    if any(not torch.isfinite(v).all() for v in state.values() if v.is_floating_point()):
        raise VfiError(f"{path.name}: weights contain NaN or infinite values")
    model.eval()
    return model, meta
