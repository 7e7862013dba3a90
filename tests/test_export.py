"""Writers and the export pipeline: frame counts, durations, audio, cuts, cancellation, bad outputs."""

from __future__ import annotations

import os
import threading
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from synthetic import moving_square, write_pngs, write_video

from vfi_desktop.api import load_interpolator
from vfi_desktop.core.errors import Cancelled, VfiError
from vfi_desktop.core.export import ExportSettings, export_video
from vfi_desktop.core.progress import CancelToken
from vfi_desktop.core.video_io import open_source


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return write_video(tmp_path_factory.mktemp("src") / "clip.mp4", moving_square(24, 72, 96), fps=12, audio_seconds=2.0)


def leftovers(folder):
    return [p.name for p in folder.iterdir() if ".part" in p.name]


def test_factor_two_to_mp4_keeps_duration_and_audio(clip, tmp_path):
    out = tmp_path / "out.mp4"
    seen = []
    with open_source(clip) as src:
        result = export_video(src, out, load_interpolator("flow"), ExportSettings(factor=2), progress=seen.append)
    with open_source(out) as res:
        assert res.info.frame_count == 48
        assert res.info.fps == pytest.approx(24)
        assert res.info.duration_s == pytest.approx(2.0, abs=0.01)
        assert res.info.has_audio
    with av.open(str(out)) as c:
        audio = c.streams.audio[0]
        assert float(audio.duration * audio.time_base) == pytest.approx(2.0, abs=0.06)
    assert result.frames == 48 and result.interpolated == 23 and result.audio
    assert seen[-1].done == seen[-1].total == 48 and seen[-1].eta_s == pytest.approx(0, abs=1e-6)
    assert leftovers(tmp_path) == []


def test_in_between_frames_are_plausible(tmp_path):
    """Export 2x of frames 0,2,4,...: the made frames should match the dropped odd frames."""
    frames = moving_square(21, 72, 96, step=2)
    src_path = write_pngs(tmp_path / "even", frames[::2])
    out = tmp_path / "png_out"
    with open_source(src_path) as src:
        export_video(src, out, load_interpolator("flow"), ExportSettings(factor=2, scene_cuts=False))
    made = sorted(out.iterdir())
    assert len(made) == 22
    from vfi_desktop.core.metrics import psnr
    from vfi_desktop.core.video_io import read_image

    odd = [psnr(read_image(made[k]), frames[k]) for k in range(1, 20, 2)]
    blend = [psnr(((frames[k - 1].astype(float) + frames[k + 1]) / 2 + 0.5).astype(np.uint8), frames[k]) for k in range(1, 20, 2)]
    assert np.mean(odd) > np.mean(blend) + 3


def test_target_fps_from_image_folder_and_range(tmp_path):
    folder = write_pngs(tmp_path / "stopmo", moving_square(12, 48, 64))
    out = tmp_path / "s.mp4"
    with open_source(folder, image_fps=12) as src:
        export_video(src, out, load_interpolator("blend"), ExportSettings(fps=30, frame_range=(2, 10)))
    with open_source(out) as res:
        assert res.info.frame_count == 20  # 8 source frames = 0.667 s at 30 fps
        assert res.info.fps == pytest.approx(30)


def gif_frames(path: Path) -> tuple[list[np.ndarray], list[int], int]:
    """Decoded frames (RGB), per-frame delays in 1/100 s and the loop count of a GIF (FFmpeg's
    GIF demuxer, through PyAV)."""
    with av.open(str(path)) as c:
        stream = c.streams.video[0]
        assert stream.time_base == Fraction(1, 100)
        delays = [p.duration for p in c.demux(stream) if p.size]
    with av.open(str(path)) as c:  # the demuxer ignores the loop count by default: one pass
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    return frames, delays, loop_count(path)


def loop_count(path: Path) -> int:
    """The NETSCAPE2.0 loop count (0: forever); -1 when the GIF has none (plays once)."""
    data = path.read_bytes()
    at = data.find(b"NETSCAPE2.0")
    return -1 if at < 0 else int.from_bytes(data[at + 13 : at + 15], "little")


def dithered_error(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference of two frames, blurred first (dithering keeps local averages)."""
    blur = lambda x: cv2.GaussianBlur(x.astype(np.float32), (0, 0), 1.5)  # noqa: E731
    return float(np.abs(blur(a) - blur(b)).mean())


def test_gif_output(clip, tmp_path):
    out = tmp_path / "a.gif"
    with open_source(clip) as src:
        export_video(src, out, load_interpolator("blend"), ExportSettings(factor=2, frame_range=(0, 6)))
        originals = [src.read(i) for i in range(6)]
    frames, delays, loops = gif_frames(out)
    assert len(frames) == len(delays) == 12
    assert sum(delays) == 50  # 6 frames at 12 fps, to the centisecond
    assert set(delays) <= {4, 5}  # 1/24 s = 4.17 cs, dithered in time
    assert loops == 0
    # every source frame comes back close to itself, and not to its neighbour (the next source
    # frame differs by about 6 levels); compared blurred, since dithering moves single pixels
    for k, original in enumerate(originals):
        assert frames[2 * k].shape == original.shape
        assert dithered_error(frames[2 * k], original) < 4, k
    assert leftovers(tmp_path) == []


def test_gif_delays_keep_the_average_rate_and_large_frames_shrink(tmp_path):
    from vfi_desktop.core.writers import GifWriter

    big = [cv2.resize(f, (1000, 750), interpolation=cv2.INTER_CUBIC) for f in moving_square(7, 72, 96)]
    writer = GifWriter(tmp_path / "b.gif", fps=7)  # 14.29 cs per frame
    for frame in big:
        writer.write(frame)
    writer.close()
    frames, delays, _ = gif_frames(tmp_path / "b.gif")
    assert [f.shape for f in frames] == [(600, 800, 3)] * 7  # MAX_SIDE on the long side
    assert set(delays) == {14, 15} and sum(delays) == 100
    # the clock never drifts more than half a centisecond from where frame k should end
    assert all(abs(sum(delays[: k + 1]) - (k + 1) * 100 / 7) <= 0.5 for k in range(7))
    small = cv2.resize(big[3], (800, 600), interpolation=cv2.INTER_AREA)
    assert dithered_error(frames[3], small) < 5  # 388k distinct colours in 256: harder than the small clip


def test_gif_with_no_frames_leaves_nothing(tmp_path):
    from vfi_desktop.core.writers import GifWriter

    writer = GifWriter(tmp_path / "empty.gif", fps=10)
    with pytest.raises(VfiError, match="no frames"):
        writer.close()
    assert list(tmp_path.iterdir()) == []


def test_odd_sizes_are_written(tmp_path):
    frames = [f[:45, :61] for f in moving_square(6, 72, 96)]
    folder = write_pngs(tmp_path / "odd", frames)
    with open_source(folder) as src:
        export_video(src, tmp_path / "odd.mp4", load_interpolator("blend"), ExportSettings(factor=2))
    with open_source(tmp_path / "odd.mp4") as res:
        assert res.info.frame_count == 12 and (res.info.width, res.info.height) == (62, 46)


def test_scene_cut_is_never_morphed(tmp_path):
    a = moving_square(6, 48, 64, seed=0)
    b = moving_square(6, 48, 64, seed=20)
    folder = write_pngs(tmp_path / "cut", a + b)
    out = tmp_path / "cut_out"
    with open_source(folder) as src:
        result = export_video(src, out, load_interpolator("blend"), ExportSettings(factor=2))
    from vfi_desktop.core.video_io import read_image

    made = [read_image(p) for p in sorted(out.iterdir())]
    assert result.cuts == 1 and result.cut_frames == 1
    assert "1 scene cut kept sharp (1 frame repeated there)" in result.summary()
    assert np.array_equal(made[11], a[5]) or np.array_equal(made[11], b[0])  # the frame at the cut is a real one
    assert np.array_equal(made[10], a[5]) and np.array_equal(made[12], b[0])


def test_held_frames_removed_on_request(tmp_path):
    base = moving_square(6, 48, 64, step=4)
    folder = write_pngs(tmp_path / "twos", [f for f in base for _ in range(2)])
    with open_source(folder) as src:
        res = export_video(src, tmp_path / "t.mp4", load_interpolator("blend"), ExportSettings(factor=1, dedupe_held=True))
    assert res.held_dropped == 6 and res.frames == 12 and res.interpolated == 5


def test_cancel_leaves_no_output(clip, tmp_path):
    token = CancelToken()
    out = tmp_path / "cancelled.mp4"

    def progress(p):
        if p.done >= 5:
            token.cancel()

    with open_source(clip) as src, pytest.raises(Cancelled):
        export_video(src, out, load_interpolator("flow"), ExportSettings(factor=4), progress=progress, cancel=token)
    assert not out.exists() and leftovers(tmp_path) == []
    png = tmp_path / "cancelled_png"
    token2 = CancelToken()
    timer = threading.Timer(0.05, token2.cancel)
    timer.start()
    with open_source(clip) as src, pytest.raises(Cancelled):
        export_video(src, png, load_interpolator("flow"), ExportSettings(factor=8), cancel=token2)
    assert not png.exists() and leftovers(tmp_path) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_unwritable_folder(clip, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    with open_source(clip) as src, pytest.raises(VfiError, match="cannot write"):
        export_video(src, locked / "x.mp4", load_interpolator("blend"), ExportSettings(factor=2))


@pytest.mark.parametrize("name", ["x.mp4", "x.gif", "frames"])
def test_output_under_a_file_is_a_clear_error(clip, tmp_path, name):
    """A path whose 'folder' is a file (a typo, or a name clash) cannot be written by anyone,
    root included: a one-line VfiError, no traceback from the clean-up, nothing left behind."""
    (tmp_path / "notes.txt").write_text("the user's file")
    with open_source(clip) as src, pytest.raises(VfiError, match="cannot write"):
        export_video(src, tmp_path / "notes.txt" / name, load_interpolator("blend"), ExportSettings(factor=2))
    assert (tmp_path / "notes.txt").read_text() == "the user's file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_output_onto_the_input_is_refused(clip, tmp_path):
    before = Path(clip).read_bytes()
    with open_source(clip) as src, pytest.raises(VfiError, match="would replace"):
        export_video(src, Path(clip), load_interpolator("blend"), ExportSettings(factor=2))
    assert Path(clip).read_bytes() == before


def test_output_errors(clip, tmp_path):
    full = tmp_path / "full"
    full.mkdir()
    (full / "keep.txt").write_text("the user's file")
    with open_source(clip) as src:
        with pytest.raises(VfiError, match="not an empty folder"):
            export_video(src, full, load_interpolator("blend"), ExportSettings(factor=2))
        with pytest.raises(VfiError, match="unsupported output"):
            export_video(src, tmp_path / "x.doc", load_interpolator("blend"), ExportSettings(factor=2))
        with pytest.raises(VfiError, match="GIF cannot play faster than 50 fps"):
            export_video(src, tmp_path / "fast.gif", load_interpolator("blend"), ExportSettings(fps=60))
        with pytest.raises(VfiError, match="either a factor"):
            export_video(src, tmp_path / "y.mp4", load_interpolator("blend"), ExportSettings())
    assert (full / "keep.txt").exists()


def test_full_disk_is_reported_and_cleaned_up(clip, tmp_path, monkeypatch):
    import errno

    from vfi_desktop.core import writers

    calls = []

    def no_space(path, frame):
        calls.append(path)
        if len(calls) > 3:
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(writers, "write_image", no_space)
    out = tmp_path / "pngs"
    with open_source(clip) as src, pytest.raises(VfiError, match="disk full"):
        export_video(src, out, load_interpolator("blend"), ExportSettings(factor=2))
    assert not out.exists() and leftovers(tmp_path) == []


def test_motion_for_the_next_pair_overlaps_the_current_in_between(clip, tmp_path):
    """Export runs each pair's motion estimation one pair ahead on its own thread: while the
    network works on pair k, DIS runs on pair k+1 (on 2 cores the two fill both)."""
    import time

    from vfi_desktop.core.methods.blend import BlendInterpolator

    spans: dict[str, list[tuple[float, float, str]]] = {"prepare": [], "synthesize": []}

    class Slow(BlendInterpolator):
        def prepare(self, frame0, frame1):
            t0 = time.perf_counter()
            time.sleep(0.02)
            spans["prepare"].append((t0, time.perf_counter(), threading.current_thread().name))
            return super().prepare(frame0, frame1)

        def synthesize(self, state, t):
            t0 = time.perf_counter()
            time.sleep(0.02)
            spans["synthesize"].append((t0, time.perf_counter(), threading.current_thread().name))
            return super().synthesize(state, t)

    with open_source(clip) as src:
        result = export_video(src, tmp_path / "o.mp4", Slow(), ExportSettings(factor=2, keep_audio=False))
    assert result.frames == 48 and result.frames_per_second > 0
    assert {name for *_, name in spans["prepare"]} == {"export-motion"}
    overlaps = sum(1 for a0, a1, _ in spans["prepare"] for b0, b1, _ in spans["synthesize"] if a0 < b1 and b0 < a1)
    assert overlaps >= len(spans["prepare"]) // 2
    assert "output frames/s" in result.summary()
