"""Where bundled files live, the same way from the source tree, an installed wheel or a PyInstaller bundle."""

from __future__ import annotations

import sys
from pathlib import Path

_PACKAGE_ROOT = Path(__file__).resolve().parent


def _candidates(name: str) -> list[Path]:
    roots = []
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:  # PyInstaller one-folder / one-file
        roots.append(Path(bundle))
    roots.append(_PACKAGE_ROOT.parent)  # source tree or editable install
    roots.append(Path(sys.prefix) / "share" / "vfi-desktop")  # wheel: [tool.setuptools.data-files]
    return [r / name for r in roots]


def data_dir(name: str) -> Path:
    """The first existing `models` or `resources` folder (the source-tree path if none exists)."""
    candidates = _candidates(name)
    for c in candidates:
        if c.is_dir():
            return c
    return candidates[-2] if len(candidates) > 1 else candidates[0]


def models_dir() -> Path:
    return data_dir("models")


def resources_dir() -> Path:
    return data_dir("resources")


def bundled_weights(method: str) -> Path:
    return models_dir() / BUNDLED_WEIGHTS[method]


BUNDLED_WEIGHTS = {"unet": "unet.safetensors", "unet-direct": "unet_direct.safetensors"}
