"""Output formats: each codec in its containers decodes with the right frame count, codec, pixel
format and rate; FFV1 is lossless; a codec the container cannot hold, or one the bundled FFmpeg
lacks, is a one-line error before any work."""

from __future__ import annotations

import av
import numpy as np
import pytest
from synthetic import moving_square, write_pngs, write_video

from vfi_desktop.api import load_interpolator
from vfi_desktop.core import formats
from vfi_desktop.core.errors import VfiError
from vfi_desktop.core.export import ExportSettings, export_video
from vfi_desktop.core.formats import CODECS, available_codecs, output_format
from vfi_desktop.core.video_io import open_source, read_image


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return write_video(tmp_path_factory.mktemp("fmt") / "c.mp4", moving_square(6, 32, 48), fps=10, audio_seconds=0.6)


def probe(path):
    with av.open(str(path)) as c:
        v = c.streams.video[0]
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(v)]
        audio = c.streams.audio[0].codec_context.name if c.streams.audio else None
        return frames, v.codec_context.name, v.codec_context.pix_fmt, float(v.average_rate), audio


@pytest.mark.parametrize(
    "name,codec,decoder,pix_fmt,audio",
    [
        ("h264.mp4", "h264", "h264", "yuv420p", "aac"),
        ("h265.mp4", "h265", "hevc", "yuv420p", "aac"),
        ("av1.mp4", "av1", {"libdav1d", "av1"}, "yuv420p", "aac"),
        ("ffv1.mkv", "ffv1", "ffv1", "bgr0", "flac"),
        ("prores.mov", "prores", "prores", "yuv422p10le", "pcm_s16le"),
        ("web.webm", None, "vp9", "yuv420p", "opus"),  # the container's default codec
    ],
)
def test_each_codec_decodes_with_the_right_count_codec_and_rate(clip, tmp_path, name, codec, decoder, pix_fmt, audio):
    out = tmp_path / name
    with open_source(clip) as src:
        result = export_video(src, out, load_interpolator("blend"), ExportSettings(factor=2, codec=codec))
    frames, got_codec, got_pix, fps, got_audio = probe(out)
    assert len(frames) == 12 == result.frames
    assert got_codec in (decoder if isinstance(decoder, set) else {decoder})
    assert got_pix == pix_fmt and fps == pytest.approx(20) and got_audio == audio
    assert [p.name for p in tmp_path.iterdir()] == [name]  # no temporary file left


def test_h265_in_mp4_is_tagged_for_apple_players(clip, tmp_path):
    with open_source(clip) as src:
        export_video(src, tmp_path / "a.mp4", load_interpolator("blend"), ExportSettings(factor=2, codec="h265"))
    with av.open(str(tmp_path / "a.mp4")) as c:
        assert c.streams.video[0].codec_tag == "hvc1"


def test_ffv1_round_trips_the_frames_exactly(tmp_path):
    rng = np.random.default_rng(3)
    noise = [rng.integers(0, 256, (31, 45, 3), dtype=np.uint8) for _ in range(4)]  # odd size: no padding either
    folder = write_pngs(tmp_path / "noise", noise)
    out = tmp_path / "lossless.mkv"
    with open_source(folder, image_fps=8) as src:
        export_video(src, out, load_interpolator("blend"), ExportSettings(factor=1, codec="ffv1", scene_cuts=False))
    frames = probe(out)[0]
    assert len(frames) == 4 and all(np.array_equal(a, b) for a, b in zip(frames, noise))


def test_jpeg_frames_and_quality(clip, tmp_path):
    with open_source(clip) as src:
        export_video(src, tmp_path / "best", load_interpolator("blend"), ExportSettings(factor=1, frames="jpg", quality=0))
        export_video(src, tmp_path / "small", load_interpolator("blend"), ExportSettings(factor=1, frames="jpg", quality=51))
    best, small = sorted((tmp_path / "best").iterdir()), sorted((tmp_path / "small").iterdir())
    assert len(best) == len(small) == 6 and best[0].suffix == ".jpg"
    assert sum(p.stat().st_size for p in small) < sum(p.stat().st_size for p in best)
    assert read_image(best[0]).shape == (32, 48, 3)


def test_quality_maps_per_codec_and_changes_the_size(clip, tmp_path):
    assert CODECS["h264"].quality_value(18) == 18 and CODECS["h265"].quality_value(18) == 22
    assert CODECS["av1"].quality_value(18) == 28 and CODECS["av1"].quality_value(51) == 63
    assert CODECS["vp9"].quality_value(0) < CODECS["vp9"].quality_value(18) < CODECS["vp9"].quality_value(40)
    sizes = []
    for q in (10, 40):
        out = tmp_path / f"q{q}.webm"
        with open_source(clip) as src:
            export_video(src, out, load_interpolator("blend"), ExportSettings(factor=2, quality=q, keep_audio=False))
        sizes.append(out.stat().st_size)
    assert sizes[1] < sizes[0]


@pytest.mark.parametrize(
    "name,codec,frames,needle",
    [
        ("x.webm", "h264", None, "a .webm file cannot hold H.264"),
        ("x.mp4", "prores", None, "a .mp4 file cannot hold ProRes"),
        ("x.mov", "ffv1", None, "a .mov file cannot hold FFV1"),
        ("x.mov", "vp9", None, "a .mov file cannot hold VP9"),
        ("x.gif", "h264", None, "--codec h264 is for video files"),
        ("folder", "av1", None, "--codec av1 is for video files"),
        ("x.mp4", None, "jpg", "--frames jpg is for a folder"),
        ("x.avi", None, None, "unsupported output type"),
    ],
)
def test_mismatches_are_one_line_errors_before_any_work(clip, tmp_path, monkeypatch, name, codec, frames, needle):
    from vfi_desktop.core import video_io

    def no_decoding(*args, **kwargs):
        raise AssertionError("decoded a frame")

    monkeypatch.setattr(video_io.VideoFileSource, "_read_uncached", no_decoding)
    with open_source(clip) as src, pytest.raises(VfiError, match=needle) as err:
        export_video(src, tmp_path / name, load_interpolator("blend"), ExportSettings(factor=2, codec=codec, frames=frames))
    assert "\n" not in str(err.value)
    assert list(tmp_path.iterdir()) == []


def test_a_codec_missing_from_ffmpeg_is_reported_with_what_is_there(clip, tmp_path, monkeypatch):
    monkeypatch.setattr(formats, "encoder_exists", lambda name: name not in ("libsvtav1", "libaom-av1"))
    with pytest.raises(VfiError, match=r"no AV1 encoder \(tried libsvtav1, libaom-av1\); available: h264, h265, vp9"):
        output_format(tmp_path / "x.mkv", "av1")
    monkeypatch.setattr(formats, "encoder_exists", lambda name: name != "libsvtav1")
    assert output_format(tmp_path / "x.mkv", "av1").encoder == "libaom-av1"  # the next encoder on the list


def test_the_bundled_ffmpeg_has_every_codec():
    """What PyAV's FFmpeg holds here (reported in the README): all six codecs can be written."""
    have = available_codecs()
    assert have == {"h264": "libx264", "h265": "libx265", "av1": "libsvtav1", "vp9": "libvpx-vp9", "prores": "prores_ks", "ffv1": "ffv1"}
