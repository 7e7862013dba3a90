"""The main window at the edges a user reaches: the last and the first frame, a folder of photos
that do not match."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt

from gui_fixtures import clip, dialogs, open_clip, settings_path, window  # noqa: F401 - fixtures
from synthetic import moving_square, write_video
from vfi_desktop.core.video_io import write_image


def test_interpolate_at_the_last_frame_and_check_at_the_first_say_why_not(qtbot, window, clip, dialogs):
    open_clip(qtbot, window, clip)
    window.controls.method_combo.select_key("blend")
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    qtbot.keyClick(window, Qt.Key.Key_End)
    assert window.current_frame == 23
    window.interpolate_action.trigger()
    assert "last frame has no next frame" in window.controls.time_label.text()
    assert window.inbetween is None and window._interp_job is None  # nothing started
    qtbot.keyClick(window, Qt.Key.Key_Home)
    window.set_view_mode("check")
    assert window.check is None and "neighbours on both sides" in window.controls.check_label.text()
    # one step in, both work
    qtbot.keyClick(window, Qt.Key.Key_Right)
    qtbot.waitUntil(lambda: window.check is not None and window.check.index == 1, timeout=20_000)
    window.timeline.set_current(22)
    with qtbot.waitSignal(window.interpolated, timeout=20_000) as sig:
        window.interpolate_action.trigger()
    assert sig.args[0].index == 22
    assert not dialogs, dialogs


def test_photos_of_different_sizes_are_reported(qtbot, window, tmp_path, dialogs):
    folder = tmp_path / "shots"
    folder.mkdir()
    write_image(folder / "a1.png", np.zeros((40, 60, 3), np.uint8))
    write_image(folder / "a2.png", np.zeros((50, 60, 3), np.uint8))
    with qtbot.waitSignal(window.open_failed, timeout=10_000) as sig:
        window.open_path(folder)
    assert "differ in size" in sig.args[0] and "a2.png" in sig.args[0]
    assert dialogs == [("Cannot open shots", sig.args[0])]
    assert window.source is None


def test_a_gif_too_fast_to_play_is_caught_before_starting(qtbot, window, clip, tmp_path):
    open_clip(qtbot, window, clip)  # 12 fps
    window.show_export()
    dialog = window.export_dialog
    dialog.format_combo.setCurrentIndex(dialog.format_combo.findData("gif"))
    dialog.factor_radio.setChecked(True)
    dialog.factor_spin.setValue(8.0)  # 96 fps
    assert "a GIF plays at most 50 fps" in dialog.result_fps_label.text()
    dialog.path_edit.setText(str(tmp_path / "fast.gif"))
    dialog.refresh_checks()
    assert not dialog.start_button.isEnabled()
    assert dialog.check_label.text().startswith("a GIF cannot play faster than 50 fps")
    dialog.start_button.click()
    assert not dialog.running and dialog.job is None
    dialog.factor_spin.setValue(4.0)  # 48 fps: fine
    dialog.refresh_checks()
    assert "at most" not in dialog.result_fps_label.text()
    assert dialog.start_button.isEnabled() and dialog.check_label.text() == ""
    assert not any(p.suffix == ".gif" for p in tmp_path.iterdir())


def test_a_clip_indexed_by_decoding_shows_progress_and_a_newer_open_wins(qtbot, window, clip, tmp_path):
    avi = write_video(tmp_path / "bframes.avi", moving_square(400, 96, 128, step=1), fps=25, codec="libx264", gop=12, bframes=2)
    messages = []
    window.statusBar().messageChanged.connect(messages.append)
    open_clip(qtbot, window, avi)
    assert any("indexing frames" in m and "/ 400" in m for m in messages), messages
    assert window.source.info.frame_count == 400
    # a newer open replaces one still indexing
    window.open_path(avi)
    open_clip(qtbot, window, clip)
    qtbot.wait(300)
    assert window.source_path == clip
