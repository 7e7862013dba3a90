"""The Qt-free core stays Qt-free (an import contract in the spirit of napari's import-linter rules)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "vfi_desktop"
FORBIDDEN = ("PySide6", "PyQt5", "PyQt6", "superqt", "pyqtgraph", "vfi_desktop.gui", "qtpy")


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against the file's package
                parts = path.relative_to(PACKAGE.parent).with_suffix("").parts[: -node.level]
                base = ".".join(parts + ((base,) if base else ()))
            names.add(base)
            names.update(f"{base}.{a.name}" for a in node.names)
    return names


def test_core_and_model_never_import_qt():
    offenders = []
    for sub in ("core", "model"):
        for path in (PACKAGE / sub).rglob("*.py"):
            for name in imported_modules(path):
                if any(name == f or name.startswith(f + ".") for f in FORBIDDEN):
                    offenders.append(f"{path.relative_to(PACKAGE)} imports {name}")
    for path in (PACKAGE / "api.py", PACKAGE / "paths.py"):
        offenders += [f"{path.name} imports {n}" for n in imported_modules(path) if n.startswith(FORBIDDEN)]
    assert offenders == []


def test_engine_runs_without_loading_qt():
    code = (
        "import sys, numpy as np\n"
        "from vfi_desktop.api import load_interpolator\n"
        "import vfi_desktop.core.export, vfi_desktop.model.train\n"
        "a = np.zeros((32, 32, 3), np.uint8)\n"
        "load_interpolator('unet', device='cpu').interpolate(a, a)\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('PySide6', 'pyqtgraph', 'superqt') or m.startswith('vfi_desktop.gui')]\n"
        "print(bad)\n"
        "sys.exit(1 if bad else 0)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_layers_point_one_way():
    """gui/cli -> api -> model -> core: the core never imports the model or the api, the model
    never imports the api or the command line."""
    rules = {"core": ("vfi_desktop.model", "vfi_desktop.api", "vfi_desktop.cli"),
             "model": ("vfi_desktop.api", "vfi_desktop.cli")}
    offenders = []
    for sub, forbidden in rules.items():
        for path in (PACKAGE / sub).rglob("*.py"):
            for name in imported_modules(path):
                if any(name == f or name.startswith(f + ".") for f in forbidden):
                    offenders.append(f"{path.relative_to(PACKAGE)} imports {name}")
    assert offenders == []
