"""Retiming and export: which frame to show at each output time, then decode -> interpolate -> encode.

Output times follow the source's real timestamps (variable-frame-rate and 23.976 sources stay in
sync with their audio). Between two source frames the in-between is made at the exact fraction of
time t; across a scene cut the nearest real frame is repeated instead of morphing two shots.
The three stages run concurrently through bounded queues, so export runs at the speed of the
slowest stage rather than their sum.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from .errors import Cancelled, VfiError
from .methods.base import Interpolator
from .progress import CancelToken, ProgressCallback, ProgressTracker
from .scenes import ClipAnalysis, analyse_frames
from .video_io import FrameSource
from .writers import AudioClip, GifWriter, open_writer, output_kind

TIME_EPS = 1e-6


@dataclass
class ExportSettings:
    factor: Optional[float] = None  # output fps = factor x source fps
    fps: Optional[float] = None  # or an explicit output frame rate
    frame_range: Optional[tuple[int, int]] = None  # [start, stop) in source frames; stop -1 = end
    scene_cuts: bool = True  # repeat the nearest frame at a cut instead of morphing across it
    dedupe_held: bool = False  # drop repeated pictures (stop motion "on twos") before retiming
    quality: int = 18  # H.264 CRF
    keep_audio: bool = True

    def output_fps(self, source_fps: float) -> float:
        if (self.factor is None) == (self.fps is None):
            raise VfiError("choose either a factor or a target frame rate")
        fps = source_fps * self.factor if self.factor is not None else self.fps
        if not fps or fps <= 0 or fps > 1000:
            raise VfiError(f"output frame rate must be between 0 and 1000 fps, got {fps}")
        return float(fps)


@dataclass(frozen=True)
class OutputFrame:
    """Output frame = source frame `a` (t == 0), or the in-between of `a` and `b` at time t."""

    a: int
    b: int
    t: float

    @property
    def is_source(self) -> bool:
        return self.t <= 0.0


@dataclass
class RetimePlan:
    frames: list[OutputFrame]
    fps: float
    start_s: float
    duration_s: float
    kept: list[int]  # source frames used (held repeats removed)
    cuts_hit: int  # output frames where a cut forced a repeat
    source_frames: int  # frames in the range, before held repeats were removed
    cuts_crossed: int = 0  # distinct scene cuts those repeats are at

    @property
    def held_dropped(self) -> int:
        return self.source_frames - len(self.kept)

    @property
    def interpolated(self) -> int:
        return sum(1 for f in self.frames if not f.is_source)


def resolve_range(n_frames: int, frame_range: Optional[tuple[int, int]]) -> tuple[int, int]:
    start, stop = frame_range or (0, n_frames)
    if stop is None or stop < 0:
        stop = n_frames
    if not (0 <= start < n_frames) or stop > n_frames or stop - start < 2:
        raise VfiError(f"frame range {start}:{stop} is not valid for a clip of {n_frames} frames (need at least 2 frames)")
    return start, stop


def plan_retime(
    timestamps: Sequence[float],
    source_fps: float,
    out_fps: float,
    start: int,
    stop: int,
    cuts: Sequence[int] = (),
    held: Sequence[int] = (),
) -> RetimePlan:
    """Map each output time to source frames. `cuts`: i where a cut lies between i and i+1;
    `held`: frames that repeat their predecessor (dropped, their time given to the motion)."""
    held_set = set(held)
    kept = [i for i in range(start, stop) if i == start or i not in held_set]
    times = np.asarray([timestamps[i] for i in kept], dtype=np.float64)
    start_s = float(timestamps[start])
    end_s = float(timestamps[stop - 1]) + 1.0 / source_fps
    duration = end_s - start_s
    n_out = max(1, int(round(duration * out_fps)))
    cut_set = set(cuts)
    frames: list[OutputFrame] = []
    cuts_hit = 0
    crossed: set[int] = set()
    for k in range(n_out):
        tau = start_s + k / out_fps
        j = int(np.searchsorted(times, tau + TIME_EPS, side="right")) - 1
        j = max(0, j)
        if j >= len(kept) - 1:
            frames.append(OutputFrame(kept[-1], kept[-1], 0.0))
            continue
        a, b = kept[j], kept[j + 1]
        t = (tau - times[j]) / (times[j + 1] - times[j])
        if t <= TIME_EPS:
            frames.append(OutputFrame(a, a, 0.0))
        elif t >= 1.0 - TIME_EPS:
            frames.append(OutputFrame(b, b, 0.0))
        elif any(c in cut_set for c in range(a, b)):
            cuts_hit += 1
            crossed.add(a)
            nearest = a if t < 0.5 else b
            frames.append(OutputFrame(nearest, nearest, 0.0))
        else:
            frames.append(OutputFrame(a, b, float(t)))
    return RetimePlan(frames, out_fps, start_s, duration, kept, cuts_hit, stop - start, cuts_crossed=len(crossed))


@dataclass
class ExportResult:
    path: Path
    frames: int
    fps: float
    duration_s: float
    interpolated: int
    cuts: int  # scene cuts in the output, each kept sharp
    held_dropped: int
    audio: bool
    elapsed_s: float
    cut_frames: int = 0  # output frames that repeat a real frame at those cuts
    extra: dict = field(default_factory=dict)

    def summary(self) -> str:
        parts = [
            f"wrote {self.path}: {self.frames} frames at {self.fps:.3f} fps ({self.duration_s:.2f} s)",
            f"{self.interpolated} interpolated",
        ]
        if self.cuts:
            parts.append(
                f"{self.cuts} scene cut{'s' if self.cuts > 1 else ''} kept sharp "
                f"({self.cut_frames} frame{'s' if self.cut_frames > 1 else ''} repeated there)"
            )
        if self.held_dropped:
            parts.append(f"{self.held_dropped} held frames removed")
        parts.append("audio kept" if self.audio else "no audio")
        parts.append(f"{self.elapsed_s:.1f} s")
        return ", ".join(parts)


def analyse_range(
    source: FrameSource,
    start: int,
    stop: int,
    progress: Optional[ProgressCallback] = None,
    cancel: Optional[CancelToken] = None,
) -> ClipAnalysis:
    """Scene cuts and held frames of frames start..stop-1 (indices in the analysis are relative)."""
    frames = (source.read(i) for i in range(start, stop))
    return analyse_frames(frames, stop - start, progress=progress, cancel=cancel)


def make_plan(source: FrameSource, settings: ExportSettings, cancel: Optional[CancelToken] = None) -> RetimePlan:
    info = source.info
    start, stop = resolve_range(info.frame_count, settings.frame_range)
    out_fps = settings.output_fps(info.fps)
    cuts: list[int] = []
    held: list[int] = []
    if settings.scene_cuts or settings.dedupe_held:
        analysis = analyse_range(source, start, stop, cancel=cancel)
        if settings.scene_cuts:
            cuts = [start + i for i in analysis.cuts]
        if settings.dedupe_held:
            held = [start + i for i in analysis.held_frames()]
    return plan_retime(info.timestamps, info.fps, out_fps, start, stop, cuts, held)


_STOP = object()


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def export_video(
    source: FrameSource,
    output: str | Path,
    interpolator: Interpolator,
    settings: ExportSettings,
    progress: Optional[ProgressCallback] = None,
    cancel: Optional[CancelToken] = None,
    plan: Optional[RetimePlan] = None,
) -> ExportResult:
    """Write the retimed clip. Raises Cancelled or VfiError; either way nothing half-written remains."""
    t_start = time.perf_counter()
    output = Path(output)
    cancel = cancel or CancelToken()
    output_kind(output)  # reject unsupported outputs before any work
    if _same_file(output, source.info.path):
        raise VfiError(f"{output.name}: the output would replace the clip being read; choose another name")
    plan = plan or make_plan(source, settings, cancel)
    if output_kind(output) == "gif" and plan.fps > GifWriter.MAX_FPS + 1e-6:
        raise VfiError(f"a GIF cannot play faster than {GifWriter.MAX_FPS:g} fps (this export is {plan.fps:g} fps): "
                       "lower the rate, or export mp4")
    audio = None
    if settings.keep_audio and source.info.has_audio and output_kind(output) == "video":
        audio = AudioClip(source.info.path, plan.start_s, plan.start_s + plan.duration_s)
    writer = open_writer(output, plan.fps, quality=settings.quality, audio=audio)
    tracker = ProgressTracker(len(plan.frames), progress)
    tracker.update(0, "starting", force=True)

    # Stage queues: groups of output frames sharing a source pair -> frames to encode.
    encode_q: "queue.Queue" = queue.Queue(maxsize=16)
    errors: list[BaseException] = []

    def encode() -> None:
        try:
            while True:
                item = encode_q.get()
                if item is _STOP:
                    return
                writer.write(item)
                tracker.update(writer.frames_written)
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread
            errors.append(exc)
            cancel.cancel()
            while encode_q.get() is not _STOP:  # drain so the producer never blocks
                pass

    encoder = threading.Thread(target=encode, name="export-encode", daemon=True)
    encoder.start()
    groups = _pair_groups(plan.frames)
    prefetch = _Prefetcher(source, groups)
    try:
        for g, group in enumerate(groups):
            cancel.raise_if_cancelled()
            prefetch.advance(g)
            first = group[0]
            if first.is_source:
                frame = source.read(first.a)
                for _ in group:
                    encode_q.put(frame)
                continue
            f0, f1 = source.read(first.a), source.read(first.b)
            for img in interpolator.interpolate_many(f0, f1, [f.t for f in group]):
                encode_q.put(img)
        encode_q.put(_STOP)
        encoder.join()
        if errors:
            raise errors[0]
        cancel.raise_if_cancelled()
        writer.close()
    except BaseException:
        if encoder.is_alive():
            encode_q.put(_STOP)
            encoder.join()
        writer.abort()
        if errors and not isinstance(errors[0], Cancelled):
            raise errors[0] from None
        raise
    finally:
        prefetch.stop()
    tracker.update(len(plan.frames), "done", force=True)
    return ExportResult(
        path=writer.path,
        frames=writer.frames_written,
        fps=plan.fps,
        duration_s=writer.frames_written / plan.fps,
        interpolated=plan.interpolated,
        cuts=plan.cuts_crossed,
        cut_frames=plan.cuts_hit,
        held_dropped=plan.held_dropped,
        audio=bool(getattr(writer, "audio_written", False)),
        elapsed_s=time.perf_counter() - t_start,
    )


def _pair_groups(frames: Sequence[OutputFrame]) -> list[list[OutputFrame]]:
    """Consecutive output frames that share their source pair: their motion is estimated once."""
    groups: list[list[OutputFrame]] = []
    for f in frames:
        if groups:
            last = groups[-1][0]
            if (f.a, f.b, f.is_source) == (last.a, last.b, last.is_source):
                groups[-1].append(f)
                continue
        groups.append([f])
    return groups


class _Prefetcher:
    """Decodes the source frames of the next few pair groups ahead of the interpolator (into the
    source's cache), so decoding overlaps interpolation."""

    def __init__(self, source: FrameSource, groups: Sequence[Sequence[OutputFrame]], ahead: int = 4) -> None:
        self.source = source
        self._groups = groups
        self._ahead = ahead
        self._position = 0
        self._cond = threading.Condition()
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="export-decode", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        for g, group in enumerate(self._groups):
            with self._cond:
                while not self._stopped and g > self._position + self._ahead:
                    self._cond.wait()
                if self._stopped:
                    return
            try:
                self.source.read(group[0].a)
                self.source.read(group[0].b)
            except Exception:  # noqa: BLE001 - the consumer's own read reports it
                return

    def advance(self, position: int) -> None:
        with self._cond:
            self._position = position
            self._cond.notify_all()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
        self._thread.join(timeout=5)
