"""Size and start-up time of built bundles, from their own --self-test output.

    python packaging/measure.py dist/vfi-desktop [OTHER_BUNDLE ...] [--runs 5] [--clean-env]

Runs each bundle's `--self-test` RUNS times (interleaved when several bundles are given, so a
busy machine slows them alike) and prints the folder size and the median time from launch to the
main window being shown. Any failed self-test makes the exit status 1. --clean-env runs it as
`build.sh --check` does: no environment variables but an empty HOME and a PATH without Python.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SHOWN = re.compile(r"main window shown ([0-9.]+) s after launch")
OPENED = re.compile(r"demo clip open at ([0-9.]+) s")
QT_UP = re.compile(r"Qt up for a splash at ([0-9.]+) s")


def folder_size(path: Path) -> tuple[float, int]:
    """(MiB, files) of a bundle folder (or a one-file executable); symbolic links count nothing."""
    if path.is_file():
        return path.stat().st_size / 2**20, 1
    total, files = 0, 0
    for p in path.rglob("*"):
        if p.is_file() and not p.is_symlink():
            total += p.stat().st_size
            files += 1
    return total / 2**20, files


def executable(bundle: Path) -> Path:
    if bundle.is_file():
        return bundle
    for name in ("vfi-desktop", "vfi-desktop.exe"):
        if (bundle / name).is_file():
            return bundle / name
    raise SystemExit(f"measure.py: no vfi-desktop executable in {bundle}")


def run_once(exe: Path, clean_env: bool = False) -> dict:
    with tempfile.TemporaryDirectory(prefix="vfi-measure-") as tmp:
        if clean_env:
            (Path(tmp) / "home").mkdir()
            (Path(tmp) / "no-python").mkdir()
            env = {"HOME": str(Path(tmp) / "home"), "PATH": str(Path(tmp) / "no-python")}
        else:
            env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
            env["QT_QPA_PLATFORM"] = "offscreen"
        t0 = time.perf_counter()
        proc = subprocess.run([str(exe), "--self-test"], capture_output=True, text=True, env=env, cwd=tmp, timeout=600)
        wall = time.perf_counter() - t0
    shown, opened, qt_up = SHOWN.search(proc.stdout), OPENED.search(proc.stdout), QT_UP.search(proc.stdout)
    return {
        "ok": proc.returncode == 0,
        "wall": wall,
        "shown": float(shown.group(1)) if shown else None,
        "opened": float(opened.group(1)) if opened else None,
        "qt_up": float(qt_up.group(1)) if qt_up else None,
        "tail": (proc.stdout + proc.stderr)[-2000:],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("bundles", nargs="+", type=lambda p: Path(p).resolve())
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--clean-env", action="store_true", help="empty HOME, no Python on PATH, no other variables")
    args = parser.parse_args(argv)
    results: dict[Path, list[dict]] = {b: [] for b in args.bundles}
    for _ in range(args.runs):
        for bundle in args.bundles:
            results[bundle].append(run_once(executable(bundle), args.clean_env))
    failed = False
    for bundle, runs in results.items():
        mb, files = folder_size(bundle)
        bad = [r for r in runs if not r["ok"]]
        failed |= bool(bad)
        shown = [r["shown"] for r in runs if r["shown"] is not None]
        opened = [r["opened"] for r in runs if r["opened"] is not None]
        qt_up = [r["qt_up"] for r in runs if r["qt_up"] is not None]
        line = f"{bundle}: {mb:.0f} MiB in {files} files; self-test {len(runs) - len(bad)}/{len(runs)} passed"
        if qt_up:
            line += f"; Qt up (splash) after {statistics.median(qt_up):.2f} s"
        if shown:
            line += f"; main window shown after {statistics.median(shown):.2f} s (median of {len(shown)}, {min(shown):.2f}-{max(shown):.2f})"
        if opened:
            line += f", demo clip open after {statistics.median(opened):.2f} s"
        line += f"; whole self-test {statistics.median(r['wall'] for r in runs):.1f} s"
        print(line)
        for r in bad[:1]:
            print(r["tail"], file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
