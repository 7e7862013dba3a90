"""Starting the application: `run_gui(argv)` (called by `vfi-desktop` with no command, `gui [PATH]`,
or a single existing path)."""

from __future__ import annotations

import shutil
import sys
import tempfile
import traceback
from pathlib import Path
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


def import_engine() -> None:
    """Import torch before the window shows. Importing it holds the GIL for hundreds of
    milliseconds; done later by a worker, that would freeze a visible window."""
    try:
        import torch  # noqa: F401
    except ImportError:  # the neural methods then report the problem when chosen
        pass


def run_gui(argv: Sequence[str]) -> int:
    """Open the main window on argv[0] (a video or image folder), or on the demo clip."""
    from ..paths import resources_dir
    from .main_window import DEMO_CLIP, MainWindow

    argv = list(argv)
    app = create_application()
    if "--self-test" in argv:
        import_engine()
        return run_self_test(app)
    install_excepthook()
    splash = QSplashScreen(icon("app").pixmap(QSize(160, 120)))
    splash.show()
    splash.showMessage("Loading…", Qt.AlignmentFlag.AlignBottom | Qt.AlignmentFlag.AlignHCenter)
    app.processEvents()
    import_engine()
    window = MainWindow()
    window.show()
    splash.finish(window)
    path = argv[0] if argv else resources_dir() / DEMO_CLIP
    QTimer.singleShot(0, lambda: window.open_path(path))
    return app.exec()


def run_self_test(app: QApplication, timeout_s: float = 120.0) -> int:
    """For a packaged app: open the demo clip, interpolate it with the bundled network, export 2x,
    then quit. Prints one line and returns 0 on success."""
    from ..core.export import ExportSettings
    from ..paths import resources_dir
    from .main_window import DEMO_CLIP, MainWindow
    from .settings import AppSettings
    from .tasks import ExportJobSpec, MethodChoice

    tmp = Path(tempfile.mkdtemp(prefix="vfi-selftest-"))
    window = MainWindow(AppSettings(tmp / "settings.ini"), training_panel=False)
    outcome: dict[str, str] = {}

    def fail(message: str) -> None:
        outcome.setdefault("error", message)
        app.quit()

    def export() -> None:
        spec = ExportJobSpec(window.source_path, 12.0, tmp / "selftest.mp4", MethodChoice("unet", "unet"), ExportSettings(factor=2.0))
        job = window._start_export(spec)
        job.succeeded.connect(lambda r: (outcome.setdefault("ok", r.summary()), app.quit()))
        job.failed.connect(fail)

    window.open_failed.connect(fail)
    window.source_opened.connect(lambda _p: (window.controls.method_combo.select_key("unet"), window.interpolate()))
    window.interpolated.connect(lambda _r: export())
    QTimer.singleShot(0, lambda: window.open_path(resources_dir() / DEMO_CLIP))
    QTimer.singleShot(int(timeout_s * 1000), lambda: fail(f"timed out after {timeout_s:.0f} s"))
    app.exec()
    window.close()
    shutil.rmtree(tmp, ignore_errors=True)
    if "error" in outcome or "ok" not in outcome:
        print(f"vfi-desktop self-test FAILED: {outcome.get('error', 'no result')}", file=sys.stderr)
        return 1
    print(f"vfi-desktop self-test ok: {outcome['ok']}")
    return 0
