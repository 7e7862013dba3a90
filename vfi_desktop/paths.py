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


# -- per-user folders (Qt-free: the CLI and the core use them too) --------------------------------

APP_NAME = "vfi-desktop"  # organisation and application name, as the GUI gives them to Qt
DATA_DIR_ENV = "VFI_DESKTOP_DATA_DIR"
CACHE_DIR_ENV = "VFI_DESKTOP_CACHE_DIR"


def user_data_dir() -> Path:
    """`$VFI_DESKTOP_DATA_DIR`, else the folder Qt's AppDataLocation names for this app
    (Linux: ~/.local/share/vfi-desktop/vfi-desktop); the fine-tuned models live under it."""
    import os

    override = os.environ.get(DATA_DIR_ENV)
    if override:
        return Path(override)
    home = Path.home()
    if sys.platform == "win32":
        base = Path(os.environ.get("APPDATA") or home / "AppData" / "Roaming")
    elif sys.platform == "darwin":
        base = home / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or home / ".local" / "share")
    return base / APP_NAME / APP_NAME


def user_cache_dir() -> Path:
    """`$VFI_DESKTOP_CACHE_DIR`, else the platform's per-user cache folder for this app (Linux:
    ~/.cache/vfi-desktop): results that can always be computed again, such as self-check scores."""
    import os

    override = os.environ.get(CACHE_DIR_ENV)
    if override:
        return Path(override)
    home = Path.home()
    if sys.platform == "win32":
        return Path(os.environ.get("LOCALAPPDATA") or home / "AppData" / "Local") / APP_NAME / "cache"
    if sys.platform == "darwin":
        return home / "Library" / "Caches" / APP_NAME
    return Path(os.environ.get("XDG_CACHE_HOME") or home / ".cache") / APP_NAME
