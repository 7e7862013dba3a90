"""Slow motion: N times the frames at the source's rate (N times as long), with ranges, scene cuts and
held frames; the audio dropped (with a note) or stretched to the video's length with its pitch kept."""

from __future__ import annotations

import av
import numpy as np
import pytest
from synthetic import moving_square, write_pngs, write_video

from vfi_desktop.api import load_interpolator
from vfi_desktop.core.audio import atempo_stages
from vfi_desktop.core.errors import VfiError
from vfi_desktop.core.export import ExportSettings, export_video, plan_retime
from vfi_desktop.core.video_io import open_source

N, FPS = 12, 12.0


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    """1 s at 12 fps with a 1 s 440 Hz tone."""
    return write_video(tmp_path_factory.mktemp("slow") / "tone.mp4", moving_square(N, 32, 48), fps=FPS, audio_seconds=N / FPS)


def decoded(path):
    """(frame count, codec, average fps) of the first video stream, decoding every frame."""
    with av.open(str(path)) as c:
        v = c.streams.video[0]
        count = sum(1 for _ in c.decode(v))
        return count, v.codec_context.name, float(v.average_rate)


def audio_of(path) -> tuple[np.ndarray, int, float]:
    """Mono samples, the rate, and the track's length from the container (mp4: the stream's duration)."""
    with av.open(str(path)) as c:
        a = c.streams.audio[0]
        length = float(a.duration * a.time_base)
        samples = np.concatenate([f.to_ndarray()[0] for f in c.decode(a)])
        return samples, a.codec_context.sample_rate, length


def dominant_hz(samples: np.ndarray, rate: int) -> float:
    mid = samples[len(samples) // 4 : len(samples) // 4 + rate // 2]
    spectrum = np.abs(np.fft.rfft(mid * np.hanning(len(mid))))
    return float(np.fft.rfftfreq(len(mid), 1 / rate)[np.argmax(spectrum)])


def test_plan_samples_n_times_as_densely_and_plays_at_the_source_rate():
    times = [i / 10 for i in range(10)]
    plan = plan_retime(times, 10, 10, 0, 10, slowmo=4)
    assert len(plan.frames) == 40 and plan.fps == 10 and plan.output_duration_s == pytest.approx(4.0)
    assert [round(f.t, 3) for f in plan.frames[:5]] == [0, 0.25, 0.5, 0.75, 0]
    assert plan.interpolated == 27  # 9 pairs x 3; the last source frame is held for its 4 frames
    plan = plan_retime(times, 10, 10, 0, 10, slowmo=2.5)
    assert len(plan.frames) == 25
    assert sorted({round(f.t, 3) for f in plan.frames if not f.is_source}) == [0.2, 0.4, 0.6, 0.8]


def test_slowmo_4_gives_4x_frames_at_source_fps_and_drops_audio_with_a_note(clip, tmp_path):
    out = tmp_path / "slow.mp4"
    with open_source(clip) as src:
        result = export_video(src, out, load_interpolator("blend"), ExportSettings(slowmo=4))
    count, codec, fps = decoded(out)
    assert 4 * N - 3 <= count <= 4 * N and count == result.frames
    assert fps == pytest.approx(FPS) and codec == "h264"
    with open_source(out) as res:
        assert res.info.duration_s == pytest.approx(4 * N / FPS, abs=0.01)
        assert not res.info.has_audio
    assert not result.audio and "audio dropped for slow motion" in result.summary()
    assert "slow motion 4x" in result.summary()


def test_slowmo_audio_stretch_lasts_as_long_as_the_video_with_the_pitch_kept(clip, tmp_path):
    out = tmp_path / "stretched.mp4"
    with open_source(clip) as src:
        result = export_video(src, out, load_interpolator("blend"), ExportSettings(slowmo=4, slowmo_audio="stretch"))
    samples, rate, length = audio_of(out)
    video_s = decoded(out)[0] / FPS
    assert result.audio and "audio slowed 4x (pitch kept)" in result.summary()
    assert length == pytest.approx(video_s, abs=0.1) and video_s == pytest.approx(4.0, abs=0.01)
    assert dominant_hz(samples, rate) == pytest.approx(440, abs=10)  # slowed 4x, not 110 Hz


def test_slowmo_2_5_counts_follow_and_audio_matches(clip, tmp_path):
    out = tmp_path / "s25.mp4"
    with open_source(clip) as src:
        export_video(src, out, load_interpolator("blend"), ExportSettings(slowmo=2.5, slowmo_audio="stretch"))
    count, _codec, fps = decoded(out)
    assert count == 30 and fps == pytest.approx(FPS)  # round(2.5 x 12)
    _samples, _rate, length = audio_of(out)
    assert length == pytest.approx(count / FPS, abs=0.1)


def test_slowmo_with_range_cuts_and_held_frames(tmp_path):
    a = moving_square(5, 32, 48, seed=0, step=4)
    b = moving_square(5, 32, 48, seed=20, step=4)
    held = [f for f in a for _ in range(2)] + b  # shot 1 on twos, then a cut
    folder = write_pngs(tmp_path / "shots", held)
    with open_source(folder, image_fps=12) as src:
        ranged = export_video(src, tmp_path / "r.mp4", load_interpolator("blend"), ExportSettings(slowmo=3, frame_range=(10, 15)))
        both = export_video(src, tmp_path / "c", load_interpolator("blend"), ExportSettings(slowmo=2, dedupe_held=True))
    assert ranged.frames == 15 and ranged.fps == pytest.approx(12) and ranged.cuts == 0
    assert both.held_dropped == 5 and both.cuts == 1 and both.frames == 30
    from vfi_desktop.core.video_io import read_image

    made = [read_image(p) for p in sorted((tmp_path / "c").iterdir())]
    cut_at = 20  # 10 source frames of shot 1 (on twos), x2
    assert any(np.array_equal(made[cut_at], f) for f in (a[-1], b[0]))  # the cut stays a real frame


def test_slowmo_settings_are_checked():
    with pytest.raises(VfiError, match="more than 1x"):
        ExportSettings(slowmo=1.0).output_fps(24)
    with pytest.raises(VfiError, match="one of them"):
        ExportSettings(slowmo=2, factor=2).output_fps(24)
    with pytest.raises(VfiError, match="slow-motion audio"):
        ExportSettings(slowmo=2, slowmo_audio="loud").output_fps(24)
    assert ExportSettings(slowmo=2).sample_fps(24) == 48 and ExportSettings(slowmo=2).output_fps(24) == 24


@pytest.mark.parametrize("tempo,stages", [(0.25, [0.5, 0.5]), (0.4, [0.5, 0.8]), (1 / 3, [0.5, 2 / 3]), (0.8, [0.8]), (3.0, [2.0, 1.5])])
def test_atempo_stages_stay_in_range_and_multiply_to_the_tempo(tempo, stages):
    got = atempo_stages(tempo)
    assert got == pytest.approx(stages) and np.prod(got) == pytest.approx(tempo)
    assert all(0.5 <= s <= 2.0 for s in got)


def write_clip_with_late_audio(path, delay_s: float):
    """1 s of video at 12 fps whose 440 Hz tone starts `delay_s` after the first frame."""
    from fractions import Fraction

    c = av.open(str(path), "w")
    v = c.add_stream("libx264", rate=Fraction(12))
    v.width, v.height, v.pix_fmt = 48, 32, "yuv420p"
    a = c.add_stream("aac", rate=44100)
    a.layout = "mono"
    for i, f in enumerate(moving_square(12, 32, 48)):
        vf = av.VideoFrame.from_ndarray(f, format="rgb24")
        vf.pts = i
        for p in v.encode(vf):
            c.mux(p)
    for p in v.encode():
        c.mux(p)
    n, offset = int(44100 * (1 - delay_s)), int(44100 * delay_s)
    tone = (0.3 * np.sin(2 * np.pi * 440 * np.arange(n) / 44100)).astype(np.float32)
    for s in range(0, n, 1024):
        af = av.AudioFrame.from_ndarray(tone[None, s : s + 1024].copy(), format="flt", layout="mono")
        af.sample_rate, af.pts = 44100, offset + s
        for p in a.encode(af):
            c.mux(p)
    for p in a.encode():
        c.mux(p)
    c.close()
    return path


@pytest.mark.parametrize("settings,silent_s", [(ExportSettings(factor=2), 0.5), (ExportSettings(slowmo=2, slowmo_audio="stretch"), 1.0)])
def test_audio_that_starts_late_stays_in_sync(tmp_path, settings, silent_s):
    src_path = write_clip_with_late_audio(tmp_path / "late.mp4", 0.5)
    out = tmp_path / "out.mkv"  # Matroska: no mp4 edit list between the samples and their times
    with open_source(src_path) as src:
        export_video(src, out, load_interpolator("blend"), settings)
    samples, rate, _ = audio_of_any(out)
    rms = lambda a, b: float(np.sqrt(np.mean(samples[int(a * rate) : int(b * rate)] ** 2)))  # noqa: E731
    assert rms(0.05, silent_s - 0.1) < 0.01  # silence where the source had no sound yet
    assert rms(silent_s + 0.1, silent_s + 0.4) > 0.1  # the tone where it starts, slowed or not


def audio_of_any(path) -> tuple[np.ndarray, int, float]:
    with av.open(str(path)) as c:
        a = c.streams.audio[0]
        samples = np.concatenate([f.to_ndarray()[0] for f in c.decode(a)])
        rate = a.codec_context.sample_rate
        return samples, rate, len(samples) / rate
