"""The UI thread never stalls: a 10 ms heartbeat timer runs while frames are decoded, the U-Net is
loaded and interpolates, a preview is computed, a clip is exported and the quality strip is
computed; the longest gap between two ticks must stay under 100 ms."""

from __future__ import annotations

import sys
import time


from gui_fixtures import dialogs, open_clip, settings_path, window  # noqa: F401 - fixtures
from heartbeat import LIMIT_S, Heartbeat
from vfi_desktop.core.video_io import open_source
from vfi_desktop.paths import resources_dir

def test_ui_thread_never_blocks(qtbot, window, tmp_path, monkeypatch):
    """Each stage runs under a heartbeat. A stage over the limit runs once more and fails only if it
    stalls again: on a loaded machine the OS can preempt a worker while it holds the GIL, which the
    CPU-wait correction cannot see; a stall the app causes repeats, such bad luck does not."""
    open_clip(qtbot, window, resources_dir() / "demo.mp4")  # 640x360 H.264
    outputs: list = []

    def scrub() -> None:
        window.frames.clear()
        for i in range(36):  # a request every 15 ms, faster than decoding
            window.timeline.set_current(i)
            qtbot.wait(15)
        qtbot.waitUntil(lambda: window.frames.get(35) is not None, timeout=10_000)

    def interpolate() -> None:
        window.timeline.set_current(4)
        window.controls.method_combo.select_key("unet")  # loads the weights in a worker (once)
        with qtbot.waitSignal(window.interpolated, timeout=120_000) as sig:
            window.interpolate()
        assert sig.args[0].label.startswith("U-Net")

    def preview() -> None:
        window.controls.method_combo.select_key("flow")
        window.preview_action.trigger()
        with qtbot.waitSignal(window.preview_dialog.ready, timeout=120_000):
            pass
        window.preview_dialog.close()

    def export() -> None:
        window.show_export()
        dialog = window.export_dialog
        dialog.method_combo.select_key("flow")
        outputs.append(tmp_path / f"demo_2x_{len(outputs)}.mp4")
        dialog.path_edit.setText(str(outputs[-1]))
        with qtbot.waitSignal(dialog.export_finished, timeout=180_000):
            dialog.start_button.click()

    def quality_strip() -> None:
        # an empty cache for each attempt: the strip is computed, not read back
        monkeypatch.setenv("VFI_DESKTOP_CACHE_DIR", str(tmp_path / f"cache{len(outputs)}_{time.perf_counter_ns()}"))
        window.controls.method_combo.select_key("flow")
        with qtbot.waitSignal(window.quality_finished, timeout=300_000) as sig:
            window.timeline.set_quality_shown(True)
        result = sig.args[0]  # the demo has two scene cuts: four frames are marked, not scored
        assert result.computed + len(result.cut_frames) == 34 and window.timeline.quality.filled == 34
        window.timeline.set_quality_shown(False)

    results: dict[str, list[Heartbeat]] = {}
    stages = (("scrub", scrub), ("unet interpolate", interpolate), ("preview", preview), ("export", export), ("quality strip", quality_strip))
    for stage, run in stages:
        for _attempt in range(2):
            with Heartbeat() as hb:
                run()
            results.setdefault(stage, []).append(hb)
            if hb.worst_stall < LIMIT_S:
                break
    report = "; ".join(
        f"{stage}: " + ", then ".join(
            f"{hb.worst_stall * 1000:.0f} ms ({hb.busy_in_worst * 1000:.0f} busy; {hb.worst_gap * 1000:.0f} ms raw)" for hb in hbs
        )
        for stage, hbs in results.items()
    )
    print(f"\nworst UI-thread stall (of which computing; raw gap): {report}", file=sys.stderr)
    for out in outputs:  # checked here: opening a clip on the test's UI thread is not the app's doing
        with open_source(out) as clip:
            assert clip.info.frame_count == 72
    for stage, hbs in results.items():
        assert hbs[-1].worst_stall < LIMIT_S, f"the UI thread stalled twice during {stage}: {report}"
        assert hbs[-1].worst_gap < 1.0, f"no tick for a second during {stage}: {report}"


def test_heartbeat_detects_a_stall(qtbot):
    """The measurement can fail: 150 ms of sleeping, or of computing, on the UI thread is seen."""

    def compute() -> None:
        start = time.thread_time()
        while time.thread_time() - start < 0.15:
            sum(range(10_000))

    for block in (lambda: time.sleep(0.15), compute):
        with Heartbeat() as hb:
            qtbot.wait(30)
            block()
            qtbot.wait(30)
        assert hb.worst_stall >= 0.14
