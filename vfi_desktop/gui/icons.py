"""Icons from resources/icons (SVG, so they stay sharp on high-DPI screens)."""

from __future__ import annotations

from functools import lru_cache

from PySide6.QtGui import QIcon

from ..paths import resources_dir


@lru_cache(maxsize=None)
def icon(name: str) -> QIcon:
    """The icon resources/icons/NAME.svg (an empty icon if the file is missing, never an error)."""
    path = resources_dir() / "icons" / f"{name}.svg"
    return QIcon(str(path)) if path.exists() else QIcon()
