"""Starting the application: `run_gui(argv)` (called by `vfi-desktop` with no command, `gui [PATH]`,
or a single existing path)."""

from __future__ import annotations

import gc
import sys
import traceback
from typing import Optional, Sequence

from PySide6.QtCore import QCoreApplication, QSize, Qt, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QMessageBox, QSplashScreen

from .icons import icon


def create_application(argv: Optional[Sequence[str]] = None) -> QApplication:
    """The QApplication (the existing one if any), with the names QSettings uses."""
    app = QApplication.instance()
    if app is None:
        # fractional scale factors (150%) stay fractional: sharp SVG icons and exact 100% zoom
        QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
        app = QApplication([sys.argv[0] if sys.argv else "vfi-desktop", *(argv or [])])
    QCoreApplication.setOrganizationName("vfi-desktop")
    QCoreApplication.setApplicationName("vfi-desktop")
    # the installed desktop entry's name (packaging/linux/install.sh): on Wayland the window is
    # matched to its menu entry and icon through it
    QGuiApplication.setDesktopFileName("vfi-desktop")
    app.setWindowIcon(icon("app"))
    return app


def install_excepthook() -> None:
    """An unexpected error in a slot shows a dialog instead of killing the app (never a crash)."""
    showing = []

    def hook(exc_type, exc, tb) -> None:
        traceback.print_exception(exc_type, exc, tb, file=sys.stderr)
        if showing or QApplication.instance() is None:
            return
        showing.append(True)
        try:
            QMessageBox.critical(None, "Unexpected error", f"{exc_type.__name__}: {exc}\n\nThe details are on the console.")
        finally:
            showing.clear()

    sys.excepthook = hook


def run_gui(argv: Sequence[str]) -> int:
    """Open the main window on argv[0] (a video or image folder), or on the demo clip."""
    from ..paths import resources_dir
    from .main_window import DEMO_CLIP, MainWindow

    argv = list(argv)
    app = create_application()
    install_excepthook()
    splash = QSplashScreen(icon("app").pixmap(QSize(160, 120)))
    splash.show()
    splash.showMessage("Loading…", Qt.AlignmentFlag.AlignBottom | Qt.AlignmentFlag.AlignHCenter)
    app.processEvents()
    window = MainWindow()  # imports torch: seconds, so behind the splash
    window.show()
    splash.finish(window)
    # The start-up objects (torch, Qt wrappers) live for the whole run: moved out of the garbage
    # collector's sight, a full collection drops from ~150 ms to ~0 and can no longer stall the UI.
    gc.freeze()
    path = argv[0] if argv else resources_dir() / DEMO_CLIP
    QTimer.singleShot(0, lambda: window.open_path(path))
    return app.exec()
