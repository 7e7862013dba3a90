"""Readers: frame-accurate random access, image folders, conversions, and every bad input."""

from __future__ import annotations

import random

import av
import cv2
import numpy as np
import pytest
from synthetic import moving_square, write_pngs, write_video

from vfi_desktop.core.errors import VfiError
from vfi_desktop.core.video_io import natural_key, open_source


def sequential_decode(path) -> list[np.ndarray]:
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]


@pytest.mark.parametrize(
    "codec,suffix,gop,bframes",
    [("libx264", ".mp4", 48, 3), ("libx264", ".mkv", 10, 0), ("mpeg4", ".avi", 15, 0)],
)
def test_random_access_matches_sequential_decode(tmp_path, codec, suffix, gop, bframes):
    frames = moving_square(90, step=1.5)
    path = write_video(tmp_path / f"clip{suffix}", frames, fps=25, codec=codec, gop=gop, bframes=bframes)
    truth = sequential_decode(path)
    with open_source(path, cache_mb=0) as src:  # no cache: every read really seeks and decodes
        assert len(src) == len(truth) == 90
        order = list(range(len(src)))
        random.Random(1).shuffle(order)
        for i in order[:40] + [89, 0, 88, 1, 45, 44, 43]:
            assert np.array_equal(src.read(i), truth[i]), f"frame {i} differs from sequential decode"


def test_sequential_reads_are_fast_and_cached(tmp_path):
    import time

    frames = moving_square(60)
    path = write_video(tmp_path / "c.mp4", frames, gop=60)
    with open_source(path) as src:
        t0 = time.perf_counter()
        for i in range(len(src)):
            src.read(i)
        seq = time.perf_counter() - t0
        t0 = time.perf_counter()
        src.read(30)
        cached = time.perf_counter() - t0
    assert cached < 0.005
    assert seq / len(frames) < 0.05  # sequential reads continue the decoder instead of seeking


def test_video_info(tmp_path):
    path = write_video(tmp_path / "a.mp4", moving_square(48, 64, 80), fps=24, audio_seconds=2.0)
    with open_source(path) as src:
        info = src.info
    assert (info.width, info.height, info.frame_count) == (80, 64, 48)
    assert info.fps == pytest.approx(24.0, rel=1e-3)
    assert info.duration_s == pytest.approx(2.0, abs=0.05)
    assert info.has_audio
    assert info.timestamps[1] == pytest.approx(1 / 24, abs=1e-3)
    assert not info.variable_frame_rate
    assert "80x64" in info.describe()


def test_image_folder_natural_order_and_fps(tmp_path):
    frames = moving_square(12, 40, 48)
    folder = write_pngs(tmp_path / "shots", frames, pattern="frame{}.png")  # frame2 ... frame10
    with open_source(folder, image_fps=8) as src:
        assert src.info.frame_count == 12
        assert src.info.fps == 8
        assert src.info.duration_s == pytest.approx(1.5)
        for i in (0, 2, 9, 10, 11):
            assert np.array_equal(src.read(i), frames[i])
    assert sorted(["f10", "f2", "f1"], key=natural_key) == ["f1", "f2", "f10"]


def test_grayscale_16bit_and_alpha_images_are_converted(tmp_path):
    folder = tmp_path / "mixed_kinds"
    folder.mkdir()
    gray = np.full((20, 30), 100, np.uint8)
    deep = np.full((20, 30, 3), 65535, np.uint16)
    rgba = np.zeros((20, 30, 4), np.uint8)
    rgba[..., 2] = 200  # red in BGRA
    rgba[..., 3] = 255
    cv2.imwrite(str(folder / "a1.png"), gray)
    cv2.imwrite(str(folder / "a2.png"), deep)
    cv2.imwrite(str(folder / "a3.png"), rgba)
    with open_source(folder) as src:
        a, b, c = (src.read(i) for i in range(3))
    assert a.shape == b.shape == c.shape == (20, 30, 3) and a.dtype == np.uint8
    assert (a == 100).all()
    assert (b == 255).all()
    assert c[0, 0].tolist() == [200, 0, 0]


def test_mixed_size_folder_is_rejected(tmp_path):
    folder = tmp_path / "sizes"
    write_pngs(folder, [np.zeros((20, 30, 3), np.uint8)] * 2, pattern="a{}.png")
    cv2.imwrite(str(folder / "a2.png"), np.zeros((10, 30, 3), np.uint8))
    with pytest.raises(VfiError, match="differ in size.*a2.png"):
        open_source(folder)


def _one_line(exc: pytest.ExceptionInfo) -> str:
    text = str(exc.value)
    assert "\n" not in text and text
    return text


def test_bad_inputs_give_one_line_errors(tmp_path):
    cases = {}
    cases["missing"] = tmp_path / "nope.mp4"
    (tmp_path / "text.mp4").write_text("this is not a video\n" * 20)
    cases["not a video"] = tmp_path / "text.mp4"
    (tmp_path / "empty.mp4").write_bytes(b"")
    cases["empty"] = tmp_path / "empty.mp4"
    good = write_video(tmp_path / "good.mp4", moving_square(30))
    data = good.read_bytes()
    (tmp_path / "truncated.mp4").write_bytes(data[: len(data) // 2])
    cases["truncated"] = tmp_path / "truncated.mp4"
    (tmp_path / "garbage.avi").write_bytes(np.random.default_rng(0).integers(0, 256, 50_000, dtype=np.uint8).tobytes())
    cases["garbage"] = tmp_path / "garbage.avi"
    (tmp_path / "nothing").mkdir()
    cases["empty folder"] = tmp_path / "nothing"
    write_pngs(tmp_path / "single", [np.zeros((8, 8, 3), np.uint8)])
    cases["one image"] = tmp_path / "single"
    cases["one frame video"] = write_video(tmp_path / "one.mp4", moving_square(1))
    messages = {}
    for name, path in cases.items():
        with pytest.raises(VfiError) as exc:
            with open_source(path) as src:
                for i in range(len(src)):
                    src.read(i)
        messages[name] = _one_line(exc)
    assert "no such file" in messages["missing"]
    assert "only one" in messages["one frame video"] and "only one" in messages["one image"]
    assert "empty" in messages["empty"]
    assert "no images" in messages["empty folder"]


def test_image_file_instead_of_folder(tmp_path):
    write_pngs(tmp_path / "f", moving_square(2, 16, 16))
    with pytest.raises(VfiError, match="folder"):
        open_source(tmp_path / "f" / "frame0.png")


@pytest.mark.parametrize("suffix,codec", [(".webm", "libvpx-vp9"), (".mpg", "mpeg2video"), (".mov", "libx264")])
def test_other_containers_read_exactly(tmp_path, suffix, codec):
    frames = moving_square(30, step=2)
    path = write_video(tmp_path / f"clip{suffix}", frames, fps=24, codec=codec, gop=10)
    truth = sequential_decode(path)
    with open_source(path, cache_mb=0) as src:
        assert len(src) == len(truth) == 30 and src.info.fps == pytest.approx(24.0, rel=1e-3)
        for i in (29, 3, 17, 0, 16):
            assert np.array_equal(src.read(i), truth[i])


def test_a_phone_clip_filmed_upright_is_read_upright(tmp_path):
    """Phones store portrait video as landscape pictures plus a display rotation. PyAV cannot
    write one, so the test sets the rotation in the mp4 track header (tkhd) itself."""
    import struct

    frames = moving_square(12, 64, 96, step=2)
    frames = [f.copy() for f in frames]
    for f in frames:
        f[:4, :4] = (0, 255, 0)  # a marker in the stored top-left corner
    path = write_video(tmp_path / "phone.mp4", frames, fps=30)
    data = bytearray(path.read_bytes())
    identity = struct.pack(">9i", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
    at = data.find(identity, data.find(b"tkhd"))
    assert at > 0
    data[at : at + 36] = struct.pack(">9i", 0, 0x10000, 0, -0x10000, 0, 0, 0, 0, 0x40000000)  # 90 deg clockwise
    path.write_bytes(bytes(data))
    with open_source(path) as src:
        assert (src.info.width, src.info.height) == (64, 96)
        frame = src.read(5)
    assert frame.shape == (96, 64, 3)
    assert frame[1, 62, 1] > 200 and frame[1, 1, 1] < 100  # the marker is now top-right


def test_indexing_by_decoding_reports_progress_and_can_be_cancelled(tmp_path):
    """H.264 with B-frames in AVI carries no usable timestamps: the reader decodes the clip once
    to index it. That pass reports progress and stops on cancel (a long clip takes a while)."""
    from vfi_desktop.core.errors import Cancelled
    from vfi_desktop.core.progress import CancelToken

    path = write_video(tmp_path / "bframes.avi", moving_square(120, step=1), fps=25, codec="libx264", gop=12, bframes=2)
    seen = []
    with open_source(path, progress=seen.append) as src:
        assert len(src) == 120
    assert seen and all(0 < p.done <= p.total == 120 for p in seen)
    token = CancelToken()
    with pytest.raises(Cancelled):
        open_source(path, progress=lambda p: token.cancel(), cancel=token)


def test_an_unknown_video_codec_is_a_clear_error(tmp_path):
    """A codec FFmpeg has no decoder for (here: an AVI whose FourCC names none) is one line."""
    path = write_video(tmp_path / "clip.avi", moving_square(10), fps=25, codec="mpeg4", gop=5)
    data = path.read_bytes()
    assert data.count(b"FMP4") == 2  # stream header and bitmap header
    (tmp_path / "unknown.avi").write_bytes(data.replace(b"FMP4", b"QQQQ"))
    with pytest.raises(VfiError, match="unknown.avi: unsupported video codec"):
        open_source(tmp_path / "unknown.avi")
