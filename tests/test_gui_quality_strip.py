"""The quality strip in the real timeline, and the Auto method in the window's menus and export."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QLabel, QToolButton, QWidget

from gui_fixtures import clip, dialogs, make_clip, open_clip, settings_path, square_frame, window  # noqa: F401 - fixtures
from vfi_desktop.cli import main
from vfi_desktop.core import selfcheck_cache
from vfi_desktop.core.video_io import open_source
from vfi_desktop.core.writers import VideoWriter


def strip_widgets(window):
    names = {"strip": (QWidget, "qualityStrip"), "toggle": (QToolButton, "qualityStripToggle"), "legend": (QLabel, "qualityLegend"),
             "status": (QLabel, "qualityStatusLabel"), "stop": (QToolButton, "qualityStopButton")}
    found = {k: window.findChild(cls, name) for k, (cls, name) in names.items()}
    assert all(found.values()), found
    return found


def test_strip_fills_in_seeks_and_matches_check(qtbot, window, clip, tmp_path):
    open_clip(qtbot, window, clip)
    window.controls.method_combo.select_key("unet")
    w = strip_widgets(window)
    strip = w["strip"]
    assert not strip.isVisible()  # off by default: nothing is computed
    fills: list[int] = []
    window.quality_updated.connect(lambda: fills.append(strip.filled))
    with qtbot.waitSignal(window.quality_finished, timeout=180_000) as sig:
        qtbot.mouseClick(w["toggle"], Qt.MouseButton.LeftButton)
    result = sig.args[0]
    assert strip.isVisible() and w["legend"].isVisible() and "40+" in w["legend"].text()
    total = len(strip.frames)
    assert total == 22 and strip.filled == total and result.computed == 22
    assert any(0 < f < total for f in fills), f"the strip should fill in while the job runs: {fills}"
    assert "mean" in w["status"].text() and "dB" in w["status"].text()

    # hover: the figures; click: go there
    rect = strip.cell_rect(15)
    tip = strip.tooltip_at(rect.center().x())
    assert "Frame 15 rebuilt from 14 and 16" in tip and f"PSNR {strip.scores[15].psnr:.2f} dB" in tip
    qtbot.mouseClick(strip, Qt.MouseButton.LeftButton, pos=rect.center().toPoint())
    assert window.current_frame == 15

    # Check against real frame, and `vfi-desktop check`, give the same figure for the same frames
    with qtbot.waitSignal(window.checked, timeout=60_000) as checked:
        window.set_view_mode("check")
    gui = checked.args[0]
    assert gui.index == 15 and gui.psnr == pytest.approx(strip.scores[15].psnr, abs=1e-9)
    out = tmp_path / "check.json"
    assert main(["check", str(clip), "--methods", "unet", "--no-cache", "-q", "--json", str(out)]) == 0
    cli = {n: p for n, p, _ in json.loads(out.read_text())["methods"]["unet"]["frames"]}
    assert cli[15] == pytest.approx(gui.psnr, abs=1e-4)
    for n, s in strip.scores.items():
        assert cli[n] == pytest.approx(s.psnr, abs=1e-4)


def test_strip_stop_continue_and_the_cache(qtbot, window, tmp_path):
    clip = make_clip(tmp_path / "long.mp4", n=60)  # long enough to stop half way on a fast machine
    open_clip(qtbot, window, clip)
    window.controls.method_combo.select_key("unet")
    w = strip_widgets(window)
    strip = w["strip"]
    with qtbot.waitSignal(window.quality_updated, timeout=180_000):
        window.timeline.set_quality_shown(True)
    qtbot.waitUntil(lambda: strip.filled > 0, timeout=60_000)
    with qtbot.waitSignal(window.quality_cancelled, timeout=60_000):
        qtbot.mouseClick(w["stop"], Qt.MouseButton.LeftButton)
    job = window._quality_job
    qtbot.waitUntil(lambda: not job.running, timeout=30_000)
    stopped_at = strip.filled
    assert 0 < stopped_at < len(strip.frames), "Stop should end the job before the strip is complete"
    qtbot.wait(1500)
    assert strip.filled == stopped_at  # nothing runs any more
    assert w["stop"].text() == "Continue" and "stopped" in w["status"].text()

    with qtbot.waitSignal(window.quality_finished, timeout=180_000) as sig:
        qtbot.mouseClick(w["stop"], Qt.MouseButton.LeftButton)
    result = sig.args[0]
    assert result.from_cache >= stopped_at and result.computed == len(strip.frames) - result.from_cache

    # a second visit costs nothing: switch the strip off and on, change the method and back
    window.timeline.set_quality_shown(False)
    assert not strip.isVisible()
    for key in (None, "blend", "unet"):
        if key is not None:
            window.controls.method_combo.select_key(key)
        start = time.perf_counter()
        with qtbot.waitSignal(window.quality_finished, timeout=180_000) as sig:
            if key is None:
                window.timeline.set_quality_shown(True)
        if key != "blend":
            assert sig.args[0].computed == 0 and time.perf_counter() - start < 1.0
            assert strip.filled == len(strip.frames)

    # ... also after a restart: the scores come from the disk cache
    selfcheck_cache._default = None
    start = time.perf_counter()
    with qtbot.waitSignal(window.quality_finished, timeout=60_000) as sig:
        window.open_path(clip)
    assert sig.args[0].computed == 0 and time.perf_counter() - start < 5.0


def test_strip_shows_cuts_and_follows_the_method(qtbot, window, tmp_path):
    path = tmp_path / "cut.mp4"
    writer = VideoWriter(path, 12.0, quality=12)
    for i in range(16):
        writer.write(square_frame(i) if i < 8 else 255 - square_frame(i))
    writer.close()
    open_clip(qtbot, window, path)
    window.controls.method_combo.select_key("flow")
    with qtbot.waitSignal(window.quality_finished, timeout=180_000) as sig:
        window.timeline.set_quality_shown(True)
    strip = window.timeline.quality
    assert sig.args[0].cut_frames == [7, 8]
    assert strip.scores[7].cut and strip.scores[8].cut and not strip.scores[6].cut
    assert "scene cut" in strip.tooltip_at(strip.cell_rect(7).center().x())
    assert strip.label.startswith("Optical flow")
    with qtbot.waitSignal(window.quality_finished, timeout=180_000):
        window.controls.method_combo.select_key("blend")  # the strip follows the Interpolate dock
    assert strip.label.startswith("Cross-fade")
    flow_psnr = sig.args[0].mean_psnr
    assert window.timeline.quality.scores[5].psnr < flow_psnr  # a cross-fade of a moving square scores lower


def test_auto_is_first_in_every_method_menu_and_default_stays(qtbot, window, clip, settings_path):
    open_clip(qtbot, window, clip)
    window.show_export()
    for combo in (window.controls.method_combo, window.controls.compare_combo, window.export_dialog.method_combo):
        assert combo.itemData(0).is_auto and combo.itemText(0).startswith("Auto")
    window.export_dialog.close()
    assert not window.controls.method_combo.current_choice().is_auto  # the default stays unet
    window.controls.method_combo.select_key("auto")
    window.save_settings()
    from vfi_desktop.gui.main_window import MainWindow
    from vfi_desktop.gui.settings import AppSettings

    again = MainWindow(AppSettings(settings_path), training_panel=False)
    qtbot.addWidget(again)
    assert again.controls.method_combo.current_choice().is_auto  # what the user chose last


def test_interpolate_and_export_with_auto(qtbot, window, clip, tmp_path):
    open_clip(qtbot, window, clip)
    window.controls.method_combo.select_key("auto")
    window.timeline.set_current(9)
    with qtbot.waitSignal(window.interpolated, timeout=300_000) as sig:
        window.interpolate()
    picked = window._auto_reports[(window.generation, None)].picked
    assert sig.args[0].label == picked.label and picked.method in ("unet", "flow", "dis")  # a motion method, not a cross-fade
    assert window.status_labels["Model"].text().startswith("Auto → ")
    assert "Auto picked" in window.statusBar().currentMessage()

    window.show_export()
    dialog = window.export_dialog
    assert dialog.method_combo.current_choice().is_auto
    out = tmp_path / "auto.mp4"
    dialog.path_edit.setText(str(out))
    with qtbot.waitSignal(dialog.export_finished, timeout=300_000) as done:
        dialog.start_button.click()
    result = done.args[0]
    auto = result.extra["auto"]
    assert auto.picked.method in ("unet", "flow", "dis")
    text = dialog.status_label.text()
    assert "Auto picked" in text and "% of the export" in text and auto.picked.label in text
    assert "Auto picked" in window.statusBar().currentMessage()
    with open_source(out) as clip_out:
        assert clip_out.info.frame_count == 48
