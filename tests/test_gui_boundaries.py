"""The GUI's worker functions stay Qt-free, so the child processes (export, preview) never load Qt.
(That the engine never imports Qt is tests/test_architecture.py's contract.)"""

from __future__ import annotations

import subprocess
import sys


def test_export_child_modules_load_without_qt():
    code = (
        "import sys\n"
        "import vfi_desktop.gui.child_process, vfi_desktop.gui.tasks\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6', 'superqt', 'pyqtgraph')]\n"
        "print(bad)\n"
        "sys.exit(1 if bad else 0)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
