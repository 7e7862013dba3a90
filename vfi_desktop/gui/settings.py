"""What the application remembers between runs (QSettings with typed accessors)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

from PySide6.QtCore import QByteArray, QSettings

MAX_RECENT = 8


class AppSettings:
    """Typed access to QSettings. Pass a file path for an isolated .ini (tests, portable use)."""

    def __init__(self, path: Optional[str | Path] = None) -> None:
        if path is None:
            self.qsettings = QSettings("vfi-desktop", "vfi-desktop")
        else:
            self.qsettings = QSettings(str(path), QSettings.Format.IniFormat)

    # -- plain values ------------------------------------------------------------------------------

    def get(self, key: str, default: Any) -> Any:
        """The stored value converted to the type of `default` (QSettings' ini backend returns strings)."""
        value = self.qsettings.value(key, default)
        if value is None:
            return default
        try:
            if isinstance(default, bool):
                return value if isinstance(value, bool) else str(value).lower() in ("true", "1")
            if isinstance(default, (int, float, str)):
                return type(default)(value)
        except (TypeError, ValueError):
            return default
        return value

    def set(self, key: str, value: Any) -> None:
        self.qsettings.setValue(key, value)

    def get_bytes(self, key: str) -> Optional[QByteArray]:
        value = self.qsettings.value(key)
        return value if isinstance(value, QByteArray) else None

    def sync(self) -> None:
        self.qsettings.sync()

    # -- lists ---------------------------------------------------------------------------------------

    def get_list(self, key: str) -> list[str]:
        value = self.qsettings.value(key, [])
        if isinstance(value, str):  # QSettings collapses a one-element list to a string
            return [value] if value else []
        return [str(v) for v in (value or [])]

    def recent_files(self) -> list[str]:
        return self.get_list("recentFiles")

    def add_recent_file(self, path: str | Path) -> list[str]:
        path = str(Path(path))
        files = [path] + [p for p in self.recent_files() if p != path]
        files = files[:MAX_RECENT]
        self.set("recentFiles", files)
        return files

    def extra_models(self) -> list[tuple[str, str]]:
        """Fine-tuned weights the user added: (name, path) pairs."""
        names, paths = self.get_list("models/names"), self.get_list("models/paths")
        return list(zip(names, paths))

    def set_extra_models(self, models: list[tuple[str, str]]) -> None:
        self.set("models/names", [n for n, _ in models])
        self.set("models/paths", [p for _, p in models])
