"""Shared pieces of the GUI tests (imported by tests/test_gui_*.py; kept out of conftest.py so other
test suites can own that file)."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PySide6.QtWidgets import QMessageBox  # noqa: E402

from vfi_desktop.core.writers import VideoWriter  # noqa: E402
from vfi_desktop.gui.main_window import MainWindow  # noqa: E402
from vfi_desktop.gui.settings import AppSettings  # noqa: E402

CLIP_FRAMES = 24
CLIP_FPS = 12.0


def square_frame(i: float, w: int = 160, h: int = 120) -> np.ndarray:
    """A textured background with a bright square moving 4 px right per frame (i may be fractional:
    frame 9.5 is the true middle of frames 9 and 10)."""
    yy, xx = np.mgrid[0:h, 0:w]
    frame = np.stack([(xx * 2) % 256, (yy * 3) % 256, (xx + yy) % 256], axis=2).astype(np.uint8) // 2
    x = int(round(20 + 4 * i))
    frame[40:72, x : x + 32] = (250, 220, 40)
    return frame


def make_clip(path: Path, n: int = CLIP_FRAMES, fps: float = CLIP_FPS) -> Path:
    writer = VideoWriter(path, fps, quality=12)
    for i in range(n):
        writer.write(square_frame(i))
    writer.close()
    return path


@pytest.fixture(scope="session")
def clip(tmp_path_factory) -> Path:
    return make_clip(tmp_path_factory.mktemp("clips") / "square.mp4")


@pytest.fixture
def dialogs(monkeypatch) -> list[tuple[str, str]]:
    """Message boxes never block: they are recorded as (title, text) instead."""
    shown: list[tuple[str, str]] = []

    def record(_parent, title, text, *args, **kwargs):
        shown.append((title, text))
        return QMessageBox.StandardButton.Yes

    for name in ("critical", "warning", "information", "question"):
        monkeypatch.setattr(QMessageBox, name, staticmethod(record))
    return shown


@pytest.fixture
def settings_path(tmp_path) -> Path:
    return tmp_path / "settings.ini"


@pytest.fixture
def window(qtbot, settings_path, dialogs):
    w = MainWindow(AppSettings(settings_path), training_panel=False)
    w.resize(1100, 700)
    qtbot.addWidget(w)
    w.show()
    yield w
    w.close()


def open_clip(qtbot, window: MainWindow, path: Path) -> None:
    """Open and wait until the first frame is on screen."""
    with qtbot.waitSignal(window.source_opened, timeout=20_000):
        window.open_path(path)
    qtbot.waitUntil(lambda: window.frames.get(window.current_frame) is not None, timeout=10_000)
