"""Regenerate quality_strip.png: the app with the quality strip computed on a real clip, the viewer
in *Check against real frame* mode at the strip's worst frame.

    QT_QPA_PLATFORM=offscreen python resources/screenshots/take_quality_screenshot.py [CLIP] [METHOD]
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from take_screenshot import grab_after_settling, wait_for  # noqa: E402 - the script's own folder
from vfi_desktop.gui.app import create_application
from vfi_desktop.gui.main_window import MainWindow
from vfi_desktop.gui.settings import AppSettings

QUALITY_TIMEOUT_MS = 1_800_000  # the strip over a whole clip


def main() -> int:
    clip = sys.argv[1] if len(sys.argv) > 1 else "/work/shared/data/clips/Megamind.avi"
    method = sys.argv[2] if len(sys.argv) > 2 else "flow"
    scratch = Path(tempfile.mkdtemp())
    os.environ.setdefault("VFI_DESKTOP_DATA_DIR", str(scratch / "data"))
    app = create_application()
    window = MainWindow(AppSettings(scratch / "settings.ini"))
    window.resize(1440, 860)
    window.show()
    window.controls.method_combo.select_key(method)
    window.open_path(clip)
    wait_for(window.source_opened)
    window.timeline.set_quality_shown(True)
    (result,) = wait_for(window.quality_finished, QUALITY_TIMEOUT_MS)
    worst = result.worst_stretches(1)[0]
    window.timeline.set_current((worst.first + worst.last) // 2)
    window.set_view_mode("check")
    wait_for(window.checked)
    out = grab_after_settling(window, "quality_strip.png")
    print(f"saved {out}; {window.timeline.quality_status.text()}")
    window.close()
    app.processEvents()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
