"""Regenerate main_window.png: the app on a real clip, side by side, after Interpolate.

    QT_QPA_PLATFORM=offscreen python resources/screenshots/take_screenshot.py [CLIP] [FRAME] [METHOD]
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QEventLoop, QTimer

from vfi_desktop.gui.app import create_application
from vfi_desktop.gui.main_window import MainWindow
from vfi_desktop.gui.settings import AppSettings


def wait_for(signal, timeout_ms: int = 120_000) -> list:
    """Run the event loop until `signal` fires (or the timeout); its arguments."""
    got: list = []
    loop = QEventLoop()
    signal.connect(lambda *args: (got.extend(args), loop.quit()))
    QTimer.singleShot(timeout_ms, loop.quit)
    loop.exec()
    return got


def grab_after_settling(window, name: str) -> Path:
    """Let the thumbnails and frames arrive, then save the window as `name` beside this script."""
    loop = QEventLoop()
    QTimer.singleShot(2000, loop.quit)
    loop.exec()
    out = Path(__file__).with_name(name)
    window.grab().save(str(out))
    return out


def main() -> int:
    clip = sys.argv[1] if len(sys.argv) > 1 else "/work/shared/data/clips/cup.mp4"
    frame = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    method = sys.argv[3] if len(sys.argv) > 3 else "unet"
    scratch = Path(tempfile.mkdtemp())
    os.environ.setdefault("VFI_DESKTOP_DATA_DIR", str(scratch / "data"))  # the training panel's library
    app = create_application()
    window = MainWindow(AppSettings(scratch / "settings.ini"))
    window.resize(1440, 840)
    window.show()
    window.open_path(clip)
    wait_for(window.source_opened)
    window.controls.method_combo.select_key(method)
    window.set_view_mode("side")
    window.timeline.set_current(frame)
    window.timeline.mark_in()
    window.timeline.set_current(frame + 40)
    window.timeline.mark_out()
    window.timeline.set_current(frame)
    window.interpolate()
    wait_for(window.interpolated)
    out = grab_after_settling(window, "main_window.png")
    print(f"saved {out}")
    window.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
