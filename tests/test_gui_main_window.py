"""The main window driven through the golden path: open, seek, interpolate, every view mode,
check against the real frame, preview, export (mp4, PNG), cancel, a broken file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QComboBox, QSlider, QSpinBox, QToolButton

from gui_fixtures import clip, dialogs, open_clip, settings_path, square_frame, window  # noqa: F401 - fixtures
from vfi_desktop.core.metrics import psnr
from vfi_desktop.core.video_io import open_source
from vfi_desktop.gui.main_window import MainWindow
from vfi_desktop.gui.view_modes import VIEW_MODES
from vfi_desktop.gui.settings import AppSettings
from vfi_desktop.paths import bundled_weights, resources_dir

OBJECT_NAMES = {
    QToolButton: ["openButton", "exportButton", "playButton", "interpolateButton", "checkButton", "previewButton", "zoomFitButton"],
    QSpinBox: ["frameIndex", "inbetweenCount"],
    QSlider: ["frameSlider", "tSlider", "wipeSlider"],
    QComboBox: ["methodCombo", "viewModeCombo", "compareCombo"],
}


def child(window, cls, name):
    widget = window.findChild(cls, name)
    assert widget is not None, f"no {cls.__name__} named {name}"
    return widget


def pane_titles(window) -> list[str]:
    return [p.content.title for p in window.viewer.panes]


def test_object_names_are_stable(window):
    for cls, names in OBJECT_NAMES.items():
        for name in names:
            child(window, cls, name)


def test_golden_path(qtbot, window, clip, tmp_path, dialogs):
    open_clip(qtbot, window, clip)
    assert window.findChild(type(window.status_labels["Size"]), "statusSize").text() == "160×120"
    assert "24 frames" in window.status_labels["Frames"].text()

    # -- seek with the keyboard, the spin box and the slider
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    qtbot.keyClick(window, Qt.Key.Key_Right)
    assert window.current_frame == 1
    qtbot.keyClick(window, Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier)
    assert window.current_frame == 11
    qtbot.keyClick(window, Qt.Key.Key_End)
    assert window.current_frame == 23
    qtbot.keyClick(window, Qt.Key.Key_Home)
    assert window.current_frame == 0
    child(window, QSpinBox, "frameIndex").setValue(9)
    assert window.current_frame == 9 and child(window, QSlider, "frameSlider").value() == 9
    assert window.timeline.timecode_label.text() == "00:00:00.750"  # frame 9 at 12 fps
    qtbot.waitUntil(lambda: window.viewer.panes[0].content.image is not None and window.frames.get(10) is not None)

    # -- interpolate with the flow method: the square lands half way
    window.controls.method_combo.select_key("flow")
    window.set_view_mode("side")
    with qtbot.waitSignal(window.interpolated, timeout=20_000) as sig:
        qtbot.mouseClick(child(window, QToolButton, "interpolateButton"), Qt.MouseButton.LeftButton)
    result = sig.args[0]
    assert result.index == 9 and result.ts == [0.5]
    qtbot.waitUntil(lambda: all(p.content.image is not None for p in window.viewer.panes))
    assert len(window.viewer.panes) == 3
    assert pane_titles(window)[0] == "Frame 9" and pane_titles(window)[2] == "Frame 10"
    assert "ms" in child(window, type(window.controls.time_label), "interpolateTimeLabel").text()
    middle, crossfade, truth = window.viewer.panes[1].content.image, result.compare[0], square_frame(9.5)
    assert psnr(middle, truth) > psnr(crossfade, truth) + 6, "the flow in-between should beat a cross-fade"

    # -- three in-betweens: five panes
    child(window, QSpinBox, "inbetweenCount").setValue(3)
    with qtbot.waitSignal(window.interpolated, timeout=20_000):
        window.interpolate_action.trigger()
    assert pane_titles(window)[1:4] == [f"t = {t:.2f} · Optical flow" for t in (0.25, 0.5, 0.75)]

    # -- every view mode
    combo = child(window, QComboBox, "viewModeCombo")
    seen = {}
    for key, text, _ in VIEW_MODES:
        combo.setCurrentIndex(combo.findData(key))
        if key == "check":
            qtbot.waitUntil(lambda: window.check is not None and window.check.index == 9, timeout=20_000)
        qtbot.waitUntil(lambda: all(p.content.image is not None for p in window.viewer.panes), timeout=10_000)
        assert window.mode_actions[key].isChecked()
        seen[key] = [p.content for p in window.viewer.panes]
    assert len(seen["single"]) == 1 and seen["single"][0].title == "Frame 9"
    assert len(seen["side"]) == 5
    wipe_pane = seen["wipe"][0]
    assert wipe_pane.split == pytest.approx(0.5)
    ib, cf = window.inbetween.frames[1], window.inbetween.compare[1]
    np.testing.assert_array_equal(wipe_pane.image[:, :80], ib[:, :80])
    np.testing.assert_array_equal(wipe_pane.image[:, 80:], cf[:, 80:])
    assert len(seen["difference"]) == 2 and all(c.image.shape == (120, 160, 3) for c in seen["difference"])
    assert len(seen["onion"]) == 1 and "red: frame 9" in seen["onion"][0].title
    assert [c.title.split(" ·")[0] for c in seen["check"]] == ["Predicted frame 9", "Real frame 9", "Error"]

    # -- check against the real frame: flow predicts a rigidly moving square well
    check = window.check
    assert check.psnr > 28 and 0.9 < check.ssim <= 1.0
    assert f"{check.psnr:.2f} dB" in window.controls.check_label.text()
    np.testing.assert_array_equal(check.truth, window.frames[9])
    # moving in check mode checks the new frame by itself
    with qtbot.waitSignal(window.checked, timeout=20_000) as sig:
        window.timeline.step(1)
    assert sig.args[0].index == 10

    # -- wipe follows the slider
    window.timeline.step(-1)
    window.set_view_mode("wipe")
    window.wipe_slider.setValue(250)
    assert window.viewer.panes[0].content.split == pytest.approx(0.25)
    assert not dialogs, dialogs


def test_zoom_and_pan_are_shared(qtbot, window, clip):
    open_clip(qtbot, window, clip)
    window.set_view_mode("side")
    qtbot.waitUntil(lambda: len(window.viewer.panes) == 3)
    viewer = window.viewer
    viewer.zoom_actual()
    assert viewer.scale == pytest.approx(1.0)
    viewer.zoom_by(8.0)
    assert all(p.transform().m11() == pytest.approx(8.0) for p in viewer.panes)
    # magnified: nearest neighbour (the pixels stay square)
    assert all(p._item.transformationMode() == Qt.TransformationMode.FastTransformation for p in viewer.panes)
    viewer.panes[1].horizontalScrollBar().setValue(37)
    viewer.panes[1].verticalScrollBar().setValue(21)
    assert [p.horizontalScrollBar().value() for p in viewer.panes] == [37] * 3
    assert [p.verticalScrollBar().value() for p in viewer.panes] == [21] * 3
    viewer.zoom_fit()
    assert viewer.fit and viewer.scale == pytest.approx(min(p.fit_scale() for p in viewer.panes))


def test_play_pause_loops_within_marks(qtbot, window, clip):
    open_clip(qtbot, window, clip)
    window.timeline.set_current(5)
    window.mark_in_action.trigger()
    window.timeline.set_current(8)
    window.mark_out_action.trigger()
    assert window.timeline.export_range() == (5, 9)
    assert window.timeline.range_label.text() == "In 5 – Out 8"
    visited = set()
    window.timeline.frame_changed.connect(visited.add)
    window.play_action.trigger()
    assert window.timeline.playing and window.timeline.play_button.isChecked()
    qtbot.waitUntil(lambda: {5, 6, 7, 8} <= visited, timeout=5000)  # 12 fps: about a third of a second a loop
    window.play_action.trigger()
    assert not window.timeline.playing
    assert visited <= {5, 6, 7, 8}


def test_preview_plays_the_retimed_stretch(qtbot, window, clip):
    open_clip(qtbot, window, clip)
    window.timeline.set_current(12)
    window.controls.method_combo.select_key("blend")
    window.preview_action.trigger()
    dialog = window.preview_dialog
    with qtbot.waitSignal(dialog.ready, timeout=20_000) as sig:
        pass
    result = sig.args[0]
    assert (result.start, result.stop) == (6, 19)  # ± 6 frames
    assert len(result.frames) == 26 and result.fps == pytest.approx(24.0)
    assert result.interpolated == 12  # the last frame has no next one inside the stretch
    assert dialog.progress.value() == dialog.progress.maximum()
    shown = set()
    qtbot.waitUntil(lambda: shown.add(dialog.position) or len(shown) > 3, timeout=5000)  # it loops
    dialog.close()


def test_export_mp4_and_png(qtbot, window, clip, tmp_path):
    open_clip(qtbot, window, clip)
    window.controls.method_combo.select_key("flow")  # the dialog starts with the window's method
    qtbot.mouseClick(window.findChild(QToolButton, "exportButton"), Qt.MouseButton.LeftButton)
    dialog = window.export_dialog
    assert dialog.isVisible() and dialog.factor_radio.isChecked() and dialog.factor_spin.value() == 2.0
    assert dialog.method_combo.current_choice().method == "flow"
    dialog.path_edit.setText(str(tmp_path / "out.mp4"))
    with qtbot.waitSignal(dialog.export_finished, timeout=30_000) as sig:
        qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
        assert dialog.running and dialog.cancel_button.isEnabled()
        assert window.timeline.isEnabled()  # the window stays usable
    assert sig.args[0].path == tmp_path / "out.mp4"
    assert dialog.show_folder_button.isEnabled() and dialog.status_label.text().startswith("Done")
    with open_source(tmp_path / "out.mp4") as out:
        assert out.info.frame_count == 48 and out.info.fps == pytest.approx(24.0)

    # PNG sequence of the in/out range
    dialog.close()
    window.timeline.set_current(4)
    window.mark_in_action.trigger()
    window.timeline.set_current(15)
    window.mark_out_action.trigger()
    window.show_export()
    assert (dialog.start_spin.value(), dialog.end_spin.value()) == (4, 15)
    dialog.format_combo.setCurrentIndex(dialog.format_combo.findData("png"))
    dialog.path_edit.setText(str(tmp_path / "frames.mp4"))
    dialog._on_format()
    assert dialog.path_edit.text() == str(tmp_path / "frames")
    with qtbot.waitSignal(dialog.export_finished, timeout=30_000):
        dialog.start_button.click()
    with open_source(tmp_path / "frames") as out:
        assert out.info.frame_count == 24  # 12 source frames, doubled
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []  # no temp files left

    # the PNG folder opens as an image sequence, at the image-folder rate (12 fps unless set)
    dialog.close()
    open_clip(qtbot, window, tmp_path / "frames")
    assert window.status_labels["Frames"].text() == "24 frames" and window.status_labels["Fps"].text() == "12.000 fps"
    with qtbot.waitSignal(window.source_opened, timeout=10_000):
        window.set_image_fps(8)
    assert window.status_labels["Fps"].text() == "8.000 fps"


def test_cancel_export_leaves_nothing(qtbot, window, tmp_path):
    open_clip(qtbot, window, resources_dir() / "demo.mp4")
    window.show_export()
    dialog = window.export_dialog
    dialog.method_combo.select_key("flow")
    dialog.factor_spin.setValue(8.0)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    dialog.path_edit.setText(str(out_dir / "cancelled.mp4"))
    progressed = []
    with qtbot.waitSignal(dialog.export_cancelled, timeout=30_000):
        dialog.start_button.click()
        dialog.job.progress.connect(lambda p: progressed.append(p) or (p.done > 0 and dialog.cancel_button.click()))
    assert progressed and progressed[-1].done < progressed[-1].total  # stopped part way
    assert dialog.status_label.text() == "Cancelled; nothing was written."
    assert list(out_dir.iterdir()) == []  # not even a temporary file
    assert dialog.start_button.isEnabled()


def test_export_onto_the_open_clip_is_refused(qtbot, window, clip, tmp_path, dialogs):
    own = tmp_path / "mine.mp4"
    own.write_bytes(clip.read_bytes())
    open_clip(qtbot, window, own)
    window.show_export()
    dialog = window.export_dialog
    dialog.method_combo.select_key("blend")
    dialog.path_edit.setText(str(own))
    # the core's checks guard Start: the reason shows beside it before anything runs
    qtbot.waitUntil(lambda: "would replace the clip being read" in dialog.check_label.text(), timeout=5000)
    assert not dialog.start_button.isEnabled()
    dialog.start()  # even called directly, nothing starts
    assert dialog.job is None and not dialog.running
    dialog.path_edit.setText(str(tmp_path / "other.mp4"))
    qtbot.waitUntil(lambda: dialog.start_button.isEnabled(), timeout=5000)
    assert dialog.check_label.text() == ""
    assert own.read_bytes() == clip.read_bytes()


def test_broken_file_shows_an_error_and_keeps_going(qtbot, window, clip, tmp_path, dialogs):
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 20)
    with qtbot.waitSignal(window.open_failed, timeout=10_000) as sig:
        window.open_path(broken)
    assert dialogs and dialogs[0][0] == "Cannot open broken.mp4"
    assert dialogs[0][1] == sig.args[0] and "broken.mp4" in dialogs[0][1]
    assert window.source is None
    with qtbot.waitSignal(window.open_failed, timeout=10_000):
        window.open_path(tmp_path / "missing.mov")
    assert "no such file" in dialogs[1][1]
    open_clip(qtbot, window, clip)  # and the window still works
    assert window.source is not None


def test_drop_a_file_opens_it(qtbot, window, clip):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(clip))])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    with qtbot.waitSignal(window.source_opened, timeout=10_000) as sig:
        window.dropEvent(event)
    assert sig.args[0] == str(clip)


def test_settings_and_models_persist(qtbot, window, clip, settings_path):
    open_clip(qtbot, window, clip)
    window.controls.method_combo.select_key("blend")
    window.set_view_mode("onion")
    window.controls.count_spin.setValue(2)
    weights = bundled_weights("unet")
    window.add_model("my puppet", weights)
    window.close()

    again = MainWindow(AppSettings(settings_path), training_panel=False)
    qtbot.addWidget(again)
    try:
        assert again.view_mode == "onion"
        assert again.controls.method_combo.current_choice().method == "blend"
        assert again.controls.count_spin.value() == 2
        assert str(clip) in [a.toolTip() for a in again.recent_menu.actions()]
        labels = [c.label for c in again.controls.method_combo.choices()]
        assert "my puppet (fine-tuned)" in labels
    finally:
        again.close()


def test_fine_tuned_weights_interpolate(qtbot, window, clip, tmp_path):
    """The training panel's hook: use_model(path) selects the weights; the U-Net runs with them."""
    weights = tmp_path / "puppet.safetensors"
    weights.write_bytes(bundled_weights("unet").read_bytes())
    open_clip(qtbot, window, clip)
    window.use_model(str(weights))
    choice = window.controls.method_combo.current_choice()
    assert choice.weights == str(weights.resolve()) and choice.label == "puppet (fine-tuned)"
    assert window.controls.compare_combo.findText("puppet (fine-tuned)") >= 0
    window.timeline.set_current(3)
    with qtbot.waitSignal(window.interpolated, timeout=60_000) as sig:
        window.interpolate()
    assert sig.args[0].label == "puppet (fine-tuned)"
    qtbot.waitUntil(lambda: "params" in window.status_labels["Model"].text(), timeout=10_000)
    window.use_model(str(bundled_weights("unet")))  # the bundled file means the built-in U-Net
    assert window.controls.method_combo.current_choice().weights is None
    weights.unlink()
    window.refresh_models()
    assert window.controls.method_combo.findText("puppet (fine-tuned)") < 0


def test_about_shows_the_model_card(qtbot, window, monkeypatch):
    from vfi_desktop.gui.about_dialog import AboutDialog

    dialog = AboutDialog(window)
    qtbot.addWidget(dialog)
    card = (Path(bundled_weights("unet")).parent / "MODEL_CARD.md")
    text = dialog.card.toPlainText()
    assert text.strip()
    if not card.exists():
        assert "No model card yet" in text
