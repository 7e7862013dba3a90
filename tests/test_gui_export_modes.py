"""The export dialog's slow-motion mode, its formats, the checks that guard Start, and the queue
(add the open clip and files, run, a failure in the middle, cancel the rest); Preview in slow motion."""

from __future__ import annotations

import av
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QListWidget, QPushButton, QRadioButton

from gui_fixtures import CLIP_FPS, clip, dialogs, make_clip, open_clip, settings_path, window  # noqa: F401 - fixtures
from vfi_desktop.core.video_io import open_source
from vfi_desktop.paths import resources_dir


def export_dialog(qtbot, window, clip):
    open_clip(qtbot, window, clip)
    window.show_export()
    dialog = window.export_dialog
    dialog.method_combo.select_key("blend")
    return dialog


def pick(combo: QComboBox, key) -> None:
    i = combo.findData(key)
    assert i >= 0, f"{key} not in {combo.objectName()}"
    combo.setCurrentIndex(i)


def test_slow_motion_mode_exports_n_times_the_frames_at_the_clip_rate(qtbot, window, clip, tmp_path):
    dialog = export_dialog(qtbot, window, clip)
    slowmo = dialog.findChild(QRadioButton, "exportSlowmoRadio")
    qtbot.mouseClick(slowmo, Qt.MouseButton.LeftButton)
    assert slowmo.isChecked() and dialog.slowmo_spin.isEnabled() and not dialog.factor_spin.isEnabled()
    dialog.slowmo_spin.setValue(4.0)
    dialog.start_spin.setValue(2)
    dialog.end_spin.setValue(7)  # 6 source frames
    pick(dialog.format_combo, "mov")
    assert [dialog.codec_combo.itemData(i) for i in range(dialog.codec_combo.count())] == ["h264", "h265", "prores"]
    pick(dialog.codec_combo, "prores")
    assert not dialog.quality_spin.isEnabled()  # ProRes has a fixed quality (HQ profile)
    dialog.path_edit.setText(str(tmp_path / "slow.mov"))
    dialog.refresh_checks()
    assert "12.000 fps → 12.000 fps, 4x slower · 24 frames, 2.00 s" == dialog.result_fps_label.text()
    with qtbot.waitSignal(dialog.export_finished, timeout=60_000) as sig:
        dialog.start_button.click()
    result = sig.args[0]
    assert result.frames == 24 and result.fps == pytest.approx(CLIP_FPS)
    with av.open(str(tmp_path / "slow.mov")) as c:
        v = c.streams.video[0]
        assert sum(1 for _ in c.decode(v)) == 24 and v.codec_context.name == "prores"
        assert float(v.average_rate) == pytest.approx(CLIP_FPS) and v.codec_context.pix_fmt == "yuv422p10le"
    assert "slow motion 4x" in dialog.status_label.text()
    # the choice persists with the other export settings
    dialog._save_settings()
    assert window.settings.get("export/mode", "") == "slowmo" and window.settings.get("export/codec", "") == "prores"


def test_formats_list_what_each_container_holds(qtbot, window, clip):
    dialog = export_dialog(qtbot, window, clip)
    pick(dialog.format_combo, "webm")
    assert dialog.codec_combo.currentData() == "vp9"  # WebM's default
    assert {dialog.codec_combo.itemData(i) for i in range(dialog.codec_combo.count())} == {"av1", "vp9"}
    pick(dialog.format_combo, "mkv")
    assert dialog.codec_combo.findData("ffv1") >= 0 and dialog.codec_combo.findData("prores") >= 0
    pick(dialog.format_combo, "jpg")
    assert not dialog.codec_combo.isEnabled() and dialog.quality_spin.isEnabled()
    assert dialog.path_edit.text().endswith("square_smooth")  # a folder of frames: no extension


def test_start_is_guarded_by_the_checks_with_the_reason_beside_it(qtbot, window, clip, tmp_path):
    dialog = export_dialog(qtbot, window, clip)
    dialog.path_edit.setText("/proc/nope/out.mp4")
    qtbot.waitUntil(lambda: not dialog.start_button.isEnabled(), timeout=5000)  # the checks run as the user types
    assert dialog.check_label.text() == "cannot write to /proc: files cannot be created there"
    dialog.path_edit.setText(str(tmp_path / "fine.mp4"))
    qtbot.waitUntil(lambda: dialog.start_button.isEnabled(), timeout=5000)
    assert dialog.check_label.text() == ""


def test_preview_shows_slow_motion(qtbot, window, clip):
    open_clip(qtbot, window, clip)
    window.timeline.set_current(12)
    window.controls.method_combo.select_key("blend")
    window.preview_action.trigger()
    dialog = window.preview_dialog
    with qtbot.waitSignal(dialog.ready, timeout=30_000):
        pass  # the first (smoother) preview
    mode = dialog.findChild(QComboBox, "previewModeCombo")
    mode.setCurrentIndex(mode.findData(True))
    dialog.factor_combo.setCurrentIndex(dialog.factor_combo.findData(4.0))
    with qtbot.waitSignal(dialog.ready, timeout=30_000) as sig:
        dialog.render_button.click()
    result = sig.args[0]
    assert result.slowmo and result.fps == pytest.approx(CLIP_FPS)  # played at the clip's rate
    assert len(result.frames) == 4 * 13  # ± 6 frames around 12, four times as many
    assert "slow motion, at 12 fps: 52 frames (4.33 s)" in dialog.info_label.text()
    dialog.close()


def test_queue_runs_each_entry_and_goes_on_after_a_failure(qtbot, window, clip, tmp_path):
    dialog = export_dialog(qtbot, window, clip)
    second = make_clip(tmp_path / "second.mp4", n=8)
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00" * 4096)
    window.timeline.set_current(3)
    window.mark_in_action.trigger()
    window.timeline.set_current(8)
    window.mark_out_action.trigger()
    window.show_export()  # the marks become the range
    qtbot.mouseClick(dialog.findChild(QPushButton, "exportQueueAddClipButton"), Qt.MouseButton.LeftButton)
    dialog.add_to_queue([broken, second])  # what "Add files…" does with the chosen files
    queue_list = dialog.findChild(QListWidget, "exportQueueList")
    assert queue_list.count() == 3 and "[3–8]" in queue_list.item(0).text()
    out = tmp_path / "outputs"
    dialog.queue.folder_edit.setText(str(out))
    run = dialog.findChild(QPushButton, "exportQueueRunButton")
    qtbot.waitUntil(run.isEnabled, timeout=5000)
    with qtbot.waitSignal(dialog.queue_finished, timeout=90_000) as sig:
        qtbot.mouseClick(run, Qt.MouseButton.LeftButton)
        assert dialog.running and not dialog.start_button.isEnabled()
    result = sig.args[0]
    assert [o.ok for o in result.outcomes] == [True, False, True]
    assert sorted(p.name for p in out.iterdir()) == ["second_smooth.mp4", "square_smooth.mp4"]
    with open_source(out / "square_smooth.mp4") as a, open_source(out / "second_smooth.mp4") as b:
        assert a.info.frame_count == 12 and b.info.frame_count == 16  # frames 3-8 doubled; 8 doubled
    texts = [queue_list.item(i).text() for i in range(3)]
    assert "done" in texts[0] and "failed" in texts[1] and "broken.mp4" in texts[1] and "done" in texts[2]
    assert dialog.status_label.text().startswith("Queue: 2 done, 1 failed (broken.mp4:")
    # remove the failed one; everything left is done, so Run has nothing to do
    queue_list.item(1).setSelected(True)
    dialog.findChild(QPushButton, "exportQueueRemoveButton").click()
    dialog.refresh_checks()
    assert queue_list.count() == 2 and not run.isEnabled()
    assert dialog.findChild(type(dialog.check_label), "exportQueueCheckLabel").text() == "Everything in the queue is done."


def test_cancel_stops_the_queue_and_skips_the_rest(qtbot, window, tmp_path):
    demo = resources_dir() / "demo.mp4"
    dialog = export_dialog(qtbot, window, demo)
    dialog.method_combo.select_key("flow")
    dialog.factor_spin.setValue(8.0)
    for _ in range(3):
        dialog.add_open_clip_to_queue()
    out = tmp_path / "q"
    out.mkdir()
    dialog.queue.folder_edit.setText(str(out))
    dialog.refresh_checks()
    progressed = []
    with qtbot.waitSignal(dialog.export_cancelled, timeout=60_000):
        dialog.queue.run_button.click()
        dialog.job.progress.connect(
            lambda item: progressed.append(item) or (getattr(item, "progress", None) and item.progress.done > 0 and dialog.cancel_button.click())
        )
    states = [e.state for e in dialog.queue.entries()]
    assert states == ["cancelled", "cancelled", "cancelled"]
    assert list(out.iterdir()) == []  # the running export left nothing, the rest never started
    assert dialog.status_label.text().startswith("Queue cancelled")
    assert dialog.queue.run_button.isEnabled()  # they can run again
