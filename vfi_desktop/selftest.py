"""`vfi-desktop --self-test`: prove that an installation (above all a PyInstaller bundle) works.

Runs headless (offscreen Qt) and checks, in order:

  gui          the real main window is built, shown and opens the demo clip (skipped when the GUI
               package is absent); reports the time from process start to the window being shown
  icons        the SVG icons render (the Qt SVG plugins made it into the bundle)
  open         the bundled demo clip decodes
  interpolate  the bundled U-Net makes an in-between frame
  export       a 2x clip of the first 6 frames is written and, reopened, has the planned frame count
  train        one optimiser step of the training engine (a frozen app can break optimiser creation)
  child        a spawned child process (how export and preview run) interpolates a pair
  helper       the app starts a second copy of itself as the training panel does (`train --help`)

One line per check with its time; then `self-test passed` and exit status 0. On the first failure:
`self-test FAILED: <reason>` and exit status 1. Nothing is written outside a temporary folder.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Callable, Optional, Sequence

EXPORT_RANGE = (0, 6)
EXPORT_FACTOR = 2
GUI_TIMEOUT_S = 60.0


class SelfTestFailure(Exception):
    """A check failed; the message is the one-line reason."""


def process_start_time() -> Optional[float]:
    """Wall-clock time (time.time()) at which this process — or, in a one-file bundle, the
    bootloader that unpacked it — was started; None where the platform does not say."""
    pid = os.getpid()
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle and Path(bundle).name.startswith("_MEI"):
        pid = os.getppid()  # one-file: the parent bootloader extracted the archive first
    try:  # Linux: /proc/PID/stat field 22 is the start time in clock ticks after boot
        stat = Path(f"/proc/{pid}/stat").read_text()
        ticks = int(stat.rsplit(")", 1)[1].split()[19])
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        return time.time() - uptime + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        pass
    try:
        import psutil  # optional, not a dependency

        return psutil.Process(pid).create_time()
    except Exception:  # noqa: BLE001 - any failure just means "unknown"
        return None


class SelfTest:
    def __init__(self, workdir: Path, with_gui: bool = True, out=sys.stdout) -> None:
        self.workdir = workdir
        self.with_gui = with_gui
        self.out = out
        self.started = process_start_time()
        self.demo = None  # the demo clip's FrameSource
        self.interpolator = None

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def run(self) -> None:
        from . import __version__

        frozen = "bundle" if getattr(sys, "frozen", False) else "source"
        self.say(f"vfi-desktop {__version__} self-test ({frozen}, Python {sys.version.split()[0]}, {sys.platform})")
        checks: list[tuple[str, Callable[[], str]]] = [
            ("gui", self.check_gui),
            ("icons", self.check_icons),
            ("open", self.check_open),
            ("interpolate", self.check_interpolate),
            ("export", self.check_export),
            ("train", self.check_train),
            ("child", self.check_child_process),
            ("helper", self.check_helper_process),
        ]
        t_all = time.perf_counter()
        try:
            for name, check in checks:
                t0 = time.perf_counter()
                try:
                    detail = check()
                except SelfTestFailure:
                    raise
                except Exception as exc:  # noqa: BLE001 - every failure becomes one reason line
                    traceback.print_exc()
                    raise SelfTestFailure(f"{name}: {type(exc).__name__}: {exc}") from exc
                self.say(f"  {name:<12} ok  {time.perf_counter() - t0:6.2f} s  {detail}")
        finally:
            if self.demo is not None:
                self.demo.close()
        self.say(f"self-test passed ({len(checks)} checks, {time.perf_counter() - t_all:.1f} s)")

    # -- checks -------------------------------------------------------------------------------

    def _gui_modules(self):
        """(app module, main_window module), or None when the GUI is not part of this build."""
        if not self.with_gui:
            return None
        t0 = time.perf_counter()
        try:
            from .gui import app as gui_app
            from .gui import main_window
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.startswith("vfi_desktop.gui"):
                return None
            raise
        self.gui_import_s = getattr(self, "gui_import_s", time.perf_counter() - t0)
        return gui_app, main_window

    def check_gui(self) -> str:
        modules = self._gui_modules()
        if modules is None:
            return "skipped (no GUI in this build)"
        gui_app, main_window = modules
        from PySide6.QtCore import QCoreApplication, QEventLoop, QTimer

        from .gui.settings import AppSettings
        from .paths import resources_dir

        app = gui_app.create_application()
        qt_up = time.time()  # the earliest a splash screen can show
        torch_before = "torch" in sys.modules
        t0 = time.perf_counter()
        window = main_window.MainWindow(AppSettings(self.workdir / "settings.ini"))
        build_s = time.perf_counter() - t0
        torch_on_the_way = not torch_before and "torch" in sys.modules
        try:
            window.show()
            QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
            shown = time.time()
            if not window.isVisible():
                raise SelfTestFailure("gui: the main window did not show")
            # the window leaves out a training panel that fails to load (and prints why)
            if importlib.util.find_spec("vfi_desktop.gui.training") is not None and getattr(window, "training_panel", True) is None:
                raise SelfTestFailure("gui: the training panel did not load (the traceback is above)")
            outcome: dict[str, str] = {}
            loop = QEventLoop()
            window.source_opened.connect(lambda p: (outcome.setdefault("ok", str(p)), loop.quit()))
            window.open_failed.connect(lambda m: (outcome.setdefault("error", str(m)), loop.quit()))
            QTimer.singleShot(int(GUI_TIMEOUT_S * 1000), loop.quit)
            window.open_path(resources_dir() / main_window.DEMO_CLIP)
            if not outcome:
                loop.exec()
            opened = time.time()
            if "error" in outcome:
                raise SelfTestFailure(f"gui: the window could not open the demo clip: {outcome['error']}")
            if "ok" not in outcome:
                raise SelfTestFailure(f"gui: the window did not open the demo clip within {GUI_TIMEOUT_S:.0f} s")
            for _ in range(5):  # let the first frame and thumbnails arrive
                app.processEvents()
        finally:
            window.close()
            window.deleteLater()
            QCoreApplication.processEvents()
        parts = f"Qt+GUI modules {self.gui_import_s:.2f} s, window {build_s:.2f} s" + (" incl. importing torch" if torch_on_the_way else "")
        if self.started is None:
            return f"main window shown ({app.platformName()}; {parts}); process start time unknown"
        return (
            f"main window shown {shown - self.started:.2f} s after launch ({parts}; Qt up for a splash "
            f"at {qt_up - self.started:.2f} s), demo clip open at {opened - self.started:.2f} s ({app.platformName()})"
        )

    def check_icons(self) -> str:
        if self._gui_modules() is None:
            return "skipped (no GUI in this build)"
        from PySide6.QtGui import QIcon, QImageReader

        from .paths import resources_dir

        if b"svg" not in [bytes(f) for f in QImageReader.supportedImageFormats()]:
            raise SelfTestFailure("icons: Qt has no SVG image plugin (imageformats/qsvg missing from the bundle)")
        path = resources_dir() / "icons" / "app.svg"
        if not path.exists():
            raise SelfTestFailure(f"icons: {path} is missing")
        image = QIcon(str(path)).pixmap(64, 64).toImage()
        if image.isNull() or image.width() == 0:
            raise SelfTestFailure("icons: app.svg does not render")
        n = len(list(path.parent.glob("*.svg")))
        return f"{n} SVG icons, app.svg renders at 64 px"

    def check_open(self) -> str:
        from .core.video_io import open_source
        from .paths import resources_dir

        path = resources_dir() / "demo.mp4"
        if not path.exists():
            raise SelfTestFailure(f"open: the demo clip is missing ({path})")
        self.demo = open_source(path)
        first, second = self.demo.read(0), self.demo.read(1)
        if first.shape != second.shape or first.ndim != 3:
            raise SelfTestFailure(f"open: odd frames {first.shape} / {second.shape}")
        return f"{path.name}: {self.demo.info.describe()}"

    def check_interpolate(self) -> str:
        import numpy as np

        from .api import load_interpolator

        t0 = time.perf_counter()
        self.interpolator = load_interpolator("unet", device="cpu")
        load_s = time.perf_counter() - t0
        a, b = self.demo.read(0), self.demo.read(1)
        t0 = time.perf_counter()
        mid = self.interpolator.interpolate(a, b, 0.5)
        run_s = time.perf_counter() - t0
        if mid.shape != a.shape or mid.dtype != np.uint8:
            raise SelfTestFailure(f"interpolate: got {mid.shape} {mid.dtype} for {a.shape} uint8 frames")
        # an in-between frame lies close to its neighbours: a broken network gives noise or black
        err = float(np.abs(mid.astype(np.int16) - ((a.astype(np.int16) + b) // 2)).mean())
        if not err < 40.0:
            raise SelfTestFailure(f"interpolate: the in-between frame is far from its neighbours (mean error {err:.1f})")
        return f"{self.interpolator.describe()}: load {load_s * 1000:.0f} ms, one {a.shape[1]}x{a.shape[0]} frame {run_s * 1000:.0f} ms"

    def check_export(self) -> str:
        from .core.export import ExportSettings, export_video, make_plan
        from .core.video_io import open_source

        settings = ExportSettings(factor=EXPORT_FACTOR, frame_range=EXPORT_RANGE)
        expected = len(make_plan(self.demo, settings).frames)
        out = self.workdir / "selftest_2x.mp4"
        result = export_video(self.demo, out, self.interpolator, settings)
        with open_source(out) as written:
            count = written.info.frame_count
            last = written.read(count - 1)  # decodes to the end: the file is complete
        if count != expected or result.frames != expected:
            raise SelfTestFailure(f"export: expected {expected} frames, the file has {count} (export said {result.frames})")
        if last.shape[:2] != (self.demo.info.height, self.demo.info.width):
            raise SelfTestFailure(f"export: frame size {last.shape[1]}x{last.shape[0]} differs from the source")
        return f"{EXPORT_FACTOR}x of frames {EXPORT_RANGE[0]}..{EXPORT_RANGE[1] - 1}: {count} frames at {result.fps:.0f} fps, reopened"

    def check_train(self) -> str:
        import math

        from .model.data import TripletSampler, load_clip
        from .model.train import TrainConfig, Trainer
        from .paths import resources_dir

        clip = load_clip(resources_dir() / "demo.mp4", max_side=256, frames=range(0, 8))
        sampler = TripletSampler([clip], crop=64)
        config = TrainConfig(steps=1, batch_size=1, crop=64, val_every=0, checkpoint_every=0, warmup_steps=1)
        losses: list[float] = []
        trainer = Trainer(
            config,
            sampler,
            val=None,
            out_path=self.workdir / "selftest_weights.safetensors",
            callback=lambda e: losses.append(e.loss) if e.kind == "step" else None,
        )
        result = trainer.run()
        if result.steps_done != 1 or not losses:
            raise SelfTestFailure(f"train: {result.steps_done} steps done, expected 1")
        if not math.isfinite(losses[0]):
            raise SelfTestFailure(f"train: the loss is {losses[0]}")
        if result.out_path is None or not result.out_path.exists():
            raise SelfTestFailure("train: the trained weights were not saved")
        return f"1 AdamW step on a {config.crop}px crop of {clip.name} ({config.arch}), loss {losses[0]:.4f}, weights saved"

    def check_child_process(self) -> str:
        """Export and preview run in a spawned child process (multiprocessing): in a bundle that
        needs freeze_support() in the entry script and the bundle's own executable as the child."""
        from .core.progress import CancelToken

        try:
            from .gui.child_process import run_in_child
        except ImportError:
            run_in_child = _run_in_spawned_child
        reports: list = []
        result = run_in_child(_interpolate_in_child, str(self.demo.info.path), report=reports.append, cancel=CancelToken())
        if result.get("shape") != list(self.demo.read(0).shape) or not reports:
            raise SelfTestFailure(f"child: unexpected answer {result} (progress reports: {len(reports)})")
        return f"spawned child (pid {result['pid']}) interpolated a pair with {result['method']} in {result['ms']:.0f} ms"

    def check_helper_process(self) -> str:
        """The training panel runs training in a second copy of the app (`vfi-desktop train ...`):
        in a bundle that is the executable itself, which must answer as the command line."""
        from .core.finetune import base_command

        command = [*base_command(), "train", "--help"]
        env = dict(os.environ)
        if not getattr(sys, "frozen", False):
            root = str(Path(__file__).resolve().parents[1])
            env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
        proc = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env, cwd=self.workdir)
        if proc.returncode != 0 or "usage" not in proc.stdout:
            tail = (proc.stdout + proc.stderr).strip().splitlines()[-1:] or ["no output"]
            raise SelfTestFailure(f"helper: '{' '.join(command[-3:])}' exited with {proc.returncode}: {tail[0]}")
        return f"'{Path(command[0]).name} {' '.join(command[1:])}' answers"


def _interpolate_in_child(clip: str, report, cancel) -> dict:
    """Runs in the child process: the bundled U-Net on the clip's first pair."""
    from .api import load_interpolator
    from .core.video_io import open_source

    report("started")
    with open_source(clip) as source:
        a, b = source.read(0), source.read(1)
    interp = load_interpolator("unet", device="cpu")
    t0 = time.perf_counter()
    mid = interp.interpolate(a, b, 0.5)
    return {"pid": os.getpid(), "shape": list(mid.shape), "method": interp.describe(), "ms": (time.perf_counter() - t0) * 1000}


def _child_main(function, args, conn) -> None:
    try:
        conn.send(("done", function(*args, report=lambda p: conn.send(("progress", p)), cancel=None)))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent
        conn.send(("error", f"{type(exc).__name__}: {exc}"))


def _run_in_spawned_child(function, *args, report, cancel):
    """Without the GUI package: the same spawn mechanism, minimal."""
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    receive, send = ctx.Pipe(duplex=False)
    process = ctx.Process(target=_child_main, args=(function, args, send), daemon=True)
    process.start()
    send.close()
    try:
        while True:
            if not receive.poll(120):
                raise SelfTestFailure("child: no answer from the child process in 120 s")
            kind, payload = receive.recv()
            if kind == "progress":
                report(payload)
            elif kind == "done":
                return payload
            else:
                raise SelfTestFailure(f"child: {payload}")
    except EOFError:
        raise SelfTestFailure(f"child: the child process died (exit code {process.exitcode})") from None
    finally:
        process.join(timeout=10)
        if process.is_alive():
            process.kill()


def run_self_test(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="vfi-desktop --self-test", description="Check that this installation works, headless.")
    parser.add_argument("--no-gui", action="store_true", help="skip the main-window and icon checks")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (its path is printed)")
    args = parser.parse_args(list(argv))

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    workdir = Path(tempfile.mkdtemp(prefix="vfi-selftest-"))
    # The training panel keeps its model library here: leave the user's own one alone.
    saved_data_dir = os.environ.get("VFI_DESKTOP_DATA_DIR")
    os.environ["VFI_DESKTOP_DATA_DIR"] = str(workdir / "user-data")
    try:
        SelfTest(workdir, with_gui=not args.no_gui).run()
        return 0
    except SelfTestFailure as exc:
        print(f"self-test FAILED: {exc}", flush=True)
        return 1
    except Exception as exc:  # noqa: BLE001 - never a bare traceback as the only outcome
        traceback.print_exc()
        print(f"self-test FAILED: {type(exc).__name__}: {exc}", flush=True)
        return 1
    finally:
        if saved_data_dir is None:
            os.environ.pop("VFI_DESKTOP_DATA_DIR", None)
        else:
            os.environ["VFI_DESKTOP_DATA_DIR"] = saved_data_dir
        if args.keep:
            print(f"self-test files kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
