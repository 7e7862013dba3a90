"""The training panel, end to end: a real `train --events` child on a tiny synthetic clip, live curves,
pause/resume/stop, before/after, save, use; crashes and damaged model files handled; the UI thread
never stalls."""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest
from PySide6.QtCore import Qt

from heartbeat import LIMIT_S, Heartbeat

from vfi_desktop.api import load_interpolator
from vfi_desktop.core.finetune import PRESETS, TrainSettings, base_command, default_threads, train_command
from vfi_desktop.gui.training import panel as panel_module
from vfi_desktop.gui.training.panel import TrainingPanel
from vfi_desktop.model.library import ModelCard, ModelLibrary
from vfi_desktop.model.network import build
from vfi_desktop.model.weights import save_weights
from vfi_desktop.paths import bundled_weights

# Tiny but real: crop a multiple of 64, 2 patches, validation every few steps on 128x128 frames.
TINY = TrainSettings(steps=5000, minutes=0.0, lr=1e-3, crop=64, batch=2, holdout=0.25, val_every=4, val_triplets=2, threads=1)


@pytest.fixture
def clip(tmp_path) -> Path:
    """24 PNG frames, 128x128: a textured square moving over a slowly panning textured background."""
    folder = tmp_path / "puppet"
    folder.mkdir()
    rng = np.random.default_rng(1)
    background = cv2.GaussianBlur(rng.integers(0, 256, (128, 160, 3), dtype=np.uint8), (0, 0), 2)
    square = cv2.GaussianBlur(rng.integers(0, 256, (36, 36, 3), dtype=np.uint8), (0, 0), 1)
    for i in range(24):
        frame = background[:, i : i + 128].copy()
        x, y = 8 + 3 * i, 16 + 2 * i
        frame[y : y + 36, x : x + 36] = square
        cv2.imwrite(str(folder / f"frame{i:03d}.png"), frame)
    return folder


@pytest.fixture
def make_panel(qtbot):
    def settle(p: TrainingPanel) -> None:
        # Before pytest-qt deletes the widget: no child process left behind, no worker mid-flight.
        p.shutdown()
        qtbot.waitUntil(lambda: not p.preview.busy and not p._workers, timeout=30000)

    def make(data_dir: Path) -> TrainingPanel:
        p = TrainingPanel(data_dir=data_dir)
        qtbot.addWidget(p, before_close_func=settle)
        p.show()
        return p

    return make


@pytest.fixture
def panel(make_panel, tmp_path):
    return make_panel(tmp_path / "data")


def test_train_stop_save_and_use(qtbot, make_panel, clip, tmp_path):
    """The whole flow under a heartbeat. Over the limit, it runs once more and fails only if it
    stalls again: on a loaded machine a thread can lose the CPU in ways the correction cannot see;
    a stall the panel causes repeats, such bad luck does not (the same rule as the main window's
    responsiveness test). Every functional check must pass on every run."""
    stalls = []
    for attempt in range(2):
        heartbeat = train_stop_save_and_use(qtbot, make_panel(tmp_path / f"data{attempt}"), clip)
        assert heartbeat.worst_gap < 1.0, heartbeat.describe()  # even a busy machine gives a CPU within 1 s
        if heartbeat.worst_stall < LIMIT_S:
            return
        stalls.append(heartbeat.describe())
    pytest.fail("twice: " + "; ".join(stalls))


def train_stop_save_and_use(qtbot, panel: TrainingPanel, clip: Path) -> Heartbeat:
    panel.set_current_source(str(clip))
    assert panel.add_current_button.isEnabled()
    panel.form.set_settings(TINY)
    assert panel.form.settings() == TINY
    heartbeat = Heartbeat()
    heartbeat.start()

    qtbot.mouseClick(panel.add_current_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.ready_clips() == [str(clip)], timeout=20000)
    summary = panel.clips[str(clip)]
    assert summary.held_out == range(18, 24)  # the last quarter, by time
    assert summary.triplets > 100
    assert "frames 18–23 held out" in panel.clip_list.item(0).text()
    assert f"{summary.triplets} training triplets" in panel.triplets_label.text()
    assert not panel.add_current_button.isEnabled()  # already added

    qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    assert panel.running and panel.run is not None
    assert not panel.form.isEnabled()
    charts = panel.charts
    qtbot.waitUntil(lambda: len(charts.psnr_values) >= 3 and len(charts.loss_values) >= 8, timeout=60000)
    qtbot.wait(300)  # one redraw tick
    xs, ys = charts.loss_curve.getData()
    assert len(xs) >= 8 and np.all(np.isfinite(ys))
    assert len(charts.psnr_curve.getData()[0]) >= 3
    assert charts.start_line.isVisible() and charts.start_line.value() == pytest.approx(charts.psnr_values[0])
    assert f"start {charts.psnr_values[0]:.2f} dB" == charts.start_line.label.format
    assert charts.psnr_steps[:3] == [0, 4, 8]
    assert "steps/s" in panel.progress_label.text() and "ETA" in panel.progress_label.text()

    qtbot.mouseClick(panel.pause_button, Qt.MouseButton.LeftButton)
    assert panel.pause_button.text() == "Resume"
    qtbot.wait(1000)  # a step in flight may still finish
    paused_at = panel.run.step
    qtbot.wait(1000)
    assert panel.run.step == paused_at
    qtbot.mouseClick(panel.pause_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.run.step > paused_at, timeout=20000)

    with qtbot.waitSignal(panel.process.finished, timeout=30000):
        qtbot.mouseClick(panel.stop_button, Qt.MouseButton.LeftButton)
    run = panel.run
    assert not panel.running and run.result is not None and run.result["stopped_early"]
    assert panel.status_label.text().startswith("Stopped")
    assert run.checkpoint.exists() and run.weights.exists()  # a stop keeps the work
    assert panel.continue_button.isEnabled() and panel.save_button.isEnabled()

    qtbot.waitUntil(lambda: panel.preview.last is not None, timeout=30000)
    shown = panel.preview.last
    assert shown["truth"].shape == (128, 128, 3) and 18 <= shown["index"] <= 23
    assert np.isfinite(shown["before_psnr"]) and np.isfinite(shown["after_psnr"])
    assert not panel.preview.images["after"].pixmap().isNull()

    panel.name_edit.setText("puppet v1")
    with qtbot.waitSignal(panel.models_changed, timeout=5000):
        qtbot.mouseClick(panel.save_button, Qt.MouseButton.LeftButton)
    heartbeat.stop()

    [model] = ModelLibrary(panel.models_dir).list().models
    assert model.name == "puppet v1"
    assert model.card.source_clips == ["puppet"] and model.card.psnr_before == pytest.approx(run.start_psnr)
    assert model.card.psnr_after == pytest.approx(run.result["best_psnr"])
    assert model.card.settings["steps_run"] == run.result["steps_done"] > 8
    assert panel.form.init.findText("puppet v1") >= 0  # can start the next run from it

    panel.models_view.list.setCurrentRow(0)
    with qtbot.waitSignal(panel.use_model_requested, timeout=2000) as used:
        qtbot.mouseClick(panel.models_view.use_button, Qt.MouseButton.LeftButton)
    path = used.args[0]
    assert Path(path) == model.weights
    interp = load_interpolator("unet", weights=path)
    f0, f1 = (cv2.imread(str(clip / f"frame{i:03d}.png"))[..., ::-1].copy() for i in (18, 20))
    middle = interp.interpolate(f0, f1, 0.5)
    assert middle.shape == f0.shape and middle.dtype == np.uint8

    with qtbot.waitSignal(panel.use_model_requested, timeout=2000) as used:
        qtbot.mouseClick(panel.models_view.bundled_button, Qt.MouseButton.LeftButton)
    assert Path(used.args[0]) == bundled_weights("unet")
    return heartbeat


FAKE_TRAINER = r"""
import json, os, shutil, signal, sys
out, ckpt, weights = sys.argv[1:4]
for ev in ({"event": "validation", "step": 0, "total_steps": 100, "elapsed_s": 0.1, "val_psnr": 30.0},
           {"event": "step", "step": 1, "total_steps": 100, "elapsed_s": 0.2, "loss": 0.1, "steps_per_s": 5.0},
           {"event": "validation", "step": 1, "total_steps": 100, "elapsed_s": 0.3, "val_psnr": 30.5}):
    print(json.dumps(ev), flush=True)
shutil.copyfile(weights, out)
open(ckpt, "wb").write(b"checkpoint")
sys.stderr.write("something went badly wrong\n"); sys.stderr.flush()
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_crash_keeps_best_weights(qtbot, panel, clip, monkeypatch):
    def fake_command(settings, clips, init, out, checkpoint, threads=None):
        return [sys.executable, "-c", FAKE_TRAINER, str(out), str(checkpoint), str(init)]

    monkeypatch.setattr(panel_module, "train_command", fake_command)
    panel.add_clip(clip)
    qtbot.waitUntil(lambda: bool(panel.ready_clips()), timeout=20000)
    with qtbot.waitSignal(panel.process.finished, timeout=20000):
        panel.start()
    text = panel.status_label.text()
    assert "crashed" in text and "best weights so far are kept" in text
    assert panel.run.best_psnr == pytest.approx(30.5) and panel.run.start_psnr == pytest.approx(30.0)
    assert panel.continue_button.isEnabled() and panel.start_button.isEnabled()
    model = panel.save_result("after the crash")
    assert model.card.psnr_after == pytest.approx(30.5) and model.card.steps == 1


def test_a_clip_smaller_than_the_crop_is_said_in_the_status_line(qtbot, panel, clip):
    # 128 px frames, crop 192 asked: the trainer uses 128 px crops and the panel says so.
    panel.add_clip(clip)
    qtbot.waitUntil(lambda: bool(panel.ready_clips()), timeout=20000)
    panel.form.set_settings(replace(TINY, crop=192, steps=400, val_every=200))
    qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.status_label.text().startswith("Training ("), timeout=60000)
    assert "crop 192 is larger than the smallest clip (128 px): using 128" in panel.status_label.text()
    with qtbot.waitSignal(panel.process.finished, timeout=30000):
        qtbot.mouseClick(panel.stop_button, Qt.MouseButton.LeftButton)
    assert panel.status_label.text().startswith("Stopped")


def test_user_error_from_training_is_one_line(qtbot, panel, clip, monkeypatch):
    script = "import sys; sys.stderr.write('\\nvfi-desktop: error: the clip is too short\\n'); sys.exit(2)"
    monkeypatch.setattr(panel_module, "train_command", lambda *a, **k: [sys.executable, "-c", script])
    panel.add_clip(clip)
    qtbot.waitUntil(lambda: bool(panel.ready_clips()), timeout=20000)
    with qtbot.waitSignal(panel.process.finished, timeout=20000):
        panel.start()
    assert panel.status_label.text() == "⚠ the clip is too short."
    assert not panel.save_button.isEnabled()  # nothing was trained


@pytest.fixture
def some_weights(tmp_path) -> Path:
    return save_weights(build("fusion_unet"), tmp_path / "w.safetensors", {"data": ["x.mp4"], "steps": 3})


def test_damaged_file_in_user_folder_is_reported_and_skipped(qtbot, tmp_path, some_weights):
    models = tmp_path / "data" / "models"
    ModelLibrary(models).save(some_weights, ModelCard(name="good one", steps=3))
    (models / "broken.safetensors").write_bytes(b"\x00" * 64)
    p = TrainingPanel(data_dir=tmp_path / "data")
    qtbot.addWidget(p)
    view = p.models_view
    assert [m.name for m in view.models] == ["good one"]
    assert view.list.count() == 2
    warning = view.list.item(1)
    assert "broken.safetensors" in warning.text() and not warning.icon().isNull()
    assert not (warning.flags() & Qt.ItemFlag.ItemIsSelectable)
    assert "1 damaged file" in view.status.text()
    assert p.form.init.count() == 2  # bundled + the good one


def test_rename_in_place_and_delete_active_reverts(qtbot, tmp_path, some_weights, monkeypatch):
    monkeypatch.setenv(panel_module.DATA_DIR_ENV, str(tmp_path / "env-data"))
    p = TrainingPanel()
    qtbot.addWidget(p)
    assert p.models_dir == tmp_path / "env-data" / "models"
    p.library.save(some_weights, ModelCard(name="first"))
    p.library.save(some_weights, ModelCard(name="second"))
    p._refresh_models()
    with qtbot.waitSignal(p.use_model_requested):
        p.use_model("first")
    item = p.models_view.list.item(0)
    with qtbot.waitSignal(p.models_changed):
        item.setText("Renamed")  # what editing the name in the list does
    assert sorted(m.name for m in p.library.list().models) == ["Renamed", "second"]
    p.models_view.list.item(1).setText("renamed")  # clashes (case-insensitive): refused, reverted
    qtbot.waitUntil(lambda: "already exists" in p.models_view.status.text(), timeout=2000)
    assert p.models_view.list.item(1).text() == "second"
    assert sorted(m.name for m in p.library.list().models) == ["Renamed", "second"]
    with qtbot.waitSignal(p.use_model_requested) as used:
        p.delete_model("Renamed")  # the active one: back to bundled
    assert Path(used.args[0]) == bundled_weights("unet")
    assert [m.name for m in p.library.list().models] == ["second"]


def test_unreadable_clip_is_reported(qtbot, panel, tmp_path):
    panel.add_clip(tmp_path / "missing.mp4")
    qtbot.waitUntil(lambda: not panel.clips and bool(panel.clip_errors), timeout=10000)
    assert "missing.mp4" in panel.clip_list.item(0).text()
    assert not panel.start_button.isEnabled()


def test_train_command(monkeypatch, tmp_path):
    cmd = train_command(TINY, ["a.mp4", "b"], "init.safetensors", tmp_path / "o.safetensors", tmp_path / "o.ckpt")
    assert cmd[:4] == [sys.executable, "-m", "vfi_desktop", "train"]
    joined = " ".join(cmd)
    assert "--data a.mp4 b --init init.safetensors" in joined and "--holdout 0.25" in joined and "--crop 64" in joined
    assert "--minutes 0 " in joined and cmd[-1] == "--events"  # 0: no time limit, said explicitly
    assert "--augment adapt --max-gap 4" in joined  # fine-tuning keeps the user's footage as it is
    # what the command line makes of it is exactly the settings (every one given, so no default slips in)
    from vfi_desktop.cli import build_parser, plan_training

    assert plan_training(build_parser().parse_args(cmd[3:])).settings == TINY
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    assert train_command(TINY, ["a.mp4"], "i", "o", "c")[:2] == [sys.executable, "train"]
    args = json.dumps(cmd)  # plain strings only: QProcess takes them as they are
    assert "PosixPath" not in args


# -- one recipe: the panel's presets are `vfi-desktop train --preset` ---------------------------------


def plan_of(command: list[str]):
    """What `vfi-desktop train` makes of a command line (the same parser and resolution it runs)."""
    from vfi_desktop.cli import build_parser, plan_training

    return plan_training(build_parser().parse_args(command))


def panel_plan(qtbot, panel: TrainingPanel, clip: Path, monkeypatch):
    """Press Start on the real panel, catch the command it launches, and resolve it."""
    launched: list[list[str]] = []
    monkeypatch.setattr(panel.process, "start", lambda cmd: launched.append(list(cmd)))
    if str(clip) not in panel.clips:
        panel.add_clip(clip)
    qtbot.waitUntil(lambda: panel.ready_clips() == [str(clip)], timeout=20000)
    qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    assert len(launched) == 1
    command = launched[0]
    assert command[: len(base_command())] == base_command()
    return panel.run, plan_of(command[len(base_command()) :])


def without_threads(plan):
    """The panel leaves a core to the window; from a terminal training takes them all: not the recipe."""
    return replace(plan, settings=replace(plan.settings, threads=0))


@pytest.mark.parametrize("name", list(PRESETS))
def test_cli_preset_is_the_panels_recipe(qtbot, panel, clip, monkeypatch, name):
    panel.form.select_preset(name)
    assert panel.form.settings() == PRESETS[name]
    run, from_panel = panel_plan(qtbot, panel, clip, monkeypatch)
    from_cli = plan_of(["train", "--preset", name, "--data", str(clip), "--out", str(run.weights), "--checkpoint", str(run.checkpoint)])
    # the real objects: the recipe, the engine's TrainConfig, the starting weights, the checkpoint
    assert without_threads(from_cli) == without_threads(from_panel)
    assert from_cli.settings == PRESETS[name] and from_cli.init == bundled_weights("unet")
    assert from_cli.config.steps == PRESETS[name].steps and from_cli.config.augment == "adapt"
    assert from_panel.settings.threads == default_threads() and from_cli.settings.threads == 0


def test_explicit_options_override_the_preset(qtbot, panel, clip, monkeypatch):
    # the panel with Quick, two settings edited, runs what the CLI runs with those two options given
    panel.form.select_preset("quick")
    panel.form.steps.setValue(3000)
    panel.form.lr.setValue(0.0001)
    assert panel.form.preset.currentText() == "Custom"
    run, from_panel = panel_plan(qtbot, panel, clip, monkeypatch)
    from_cli = plan_of([
        "train", "--preset", "quick", "--steps", "3000", "--lr", "1e-4", "--data", str(clip),
        "--out", str(run.weights), "--checkpoint", str(run.checkpoint),
    ])
    assert without_threads(from_cli) == without_threads(from_panel)
    assert from_cli.settings == replace(PRESETS["quick"], steps=3000, lr=1e-4)
    assert from_cli.config.steps == 3000 and from_cli.config.lr == 1e-4
    assert from_cli.config.batch_size == PRESETS["quick"].batch  # the rest is still the preset's
    assert from_cli.config.time_limit_s == PRESETS["quick"].minutes * 60
    # --minutes 0 lifts the preset's time limit; --init replaces the bundled weights
    lifted = plan_of(["train", "--preset", "quick", "--minutes", "0", "--init", "mine.safetensors", "--data", "c", "--out", "o.safetensors"])
    assert lifted.config.time_limit_s is None and lifted.init == Path("mine.safetensors")
