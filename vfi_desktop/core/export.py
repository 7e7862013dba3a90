"""Retiming and export: which frame to show at each output time, then decode -> interpolate -> encode.

Output times follow the source's real timestamps (variable-frame-rate and 23.976 sources stay in
sync with their audio). Between two source frames the in-between is made at the exact fraction of
time t; across a scene cut the nearest real frame is repeated instead of morphing two shots.
Slow motion samples the source N times as densely and plays the result at the source's rate.
The three stages run concurrently through bounded queues, so export runs at the speed of the
slowest stage rather than their sum.
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from .errors import Cancelled, VfiError
from .formats import DEFAULT_QUALITY, OutputFormat
from .methods.base import Interpolator
from .preflight import check_export, check_settings, resolve_range
from .progress import CancelToken, ProgressCallback, ProgressTracker
from .scenes import analyse_range
from .video_io import FrameSource, VideoInfo
from .writers import AudioClip, open_writer

__all__ = ["ExportResult", "ExportSettings", "OutputFrame", "RetimePlan", "export_video", "make_plan", "plan_retime", "resolve_range"]

TIME_EPS = 1e-6


@dataclass
class ExportSettings:
    factor: Optional[float] = None  # output fps = factor x source fps
    fps: Optional[float] = None  # or an explicit output frame rate
    frame_range: Optional[tuple[int, int]] = None  # [start, stop) in source frames; stop -1 = end
    scene_cuts: bool = True  # repeat the nearest frame at a cut instead of morphing across it
    dedupe_held: bool = False  # drop repeated pictures (stop motion "on twos") before retiming
    quality: int = DEFAULT_QUALITY  # on the H.264 CRF scale, mapped per codec (core/formats.py)
    keep_audio: bool = True
    slowmo: Optional[float] = None  # or N times as many frames at the source's rate: N times as long
    slowmo_audio: str = "drop"  # slow motion: "drop" the audio, or "stretch" it (pitch kept)
    codec: Optional[str] = None  # video codec (core/formats.py); None: the container's default
    frames: Optional[str] = None  # a folder output: "png" (default) or "jpg"

    @property
    def slowmo_factor(self) -> float:
        return float(self.slowmo) if self.slowmo is not None else 1.0

    def output_fps(self, source_fps: float) -> float:
        """The rate the result plays at."""
        check_settings(self)
        if self.slowmo is not None:
            fps = source_fps
        else:
            fps = source_fps * self.factor if self.factor is not None else self.fps
        if not fps or fps <= 0 or fps > 1000:
            raise VfiError(f"output frame rate must be between 0 and 1000 fps, got {fps}")
        return float(fps)

    def sample_fps(self, source_fps: float) -> float:
        """How densely source time is sampled: the output rate, times the slow-motion factor."""
        return self.output_fps(source_fps) * self.slowmo_factor


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
    slowmo: float = 1.0  # the result lasts `slowmo` x duration_s (the source's span)

    @property
    def output_duration_s(self) -> float:
        return len(self.frames) / self.fps

    @property
    def held_dropped(self) -> int:
        return self.source_frames - len(self.kept)

    @property
    def interpolated(self) -> int:
        return sum(1 for f in self.frames if not f.is_source)


def plan_retime(
    timestamps: Sequence[float],
    source_fps: float,
    out_fps: float,
    start: int,
    stop: int,
    cuts: Sequence[int] = (),
    held: Sequence[int] = (),
    slowmo: float = 1.0,
) -> RetimePlan:
    """Map each output time to source frames. `cuts`: i where a cut lies between i and i+1;
    `held`: frames that repeat their predecessor (dropped, their time given to the motion);
    `slowmo`: sample source time that many times more densely (the output still plays at out_fps)."""
    held_set = set(held)
    kept = [i for i in range(start, stop) if i == start or i not in held_set]
    times = np.asarray([timestamps[i] for i in kept], dtype=np.float64)
    start_s = float(timestamps[start])
    end_s = float(timestamps[stop - 1]) + 1.0 / source_fps
    duration = end_s - start_s
    sample_fps = out_fps * slowmo
    n_out = max(1, int(round(duration * sample_fps)))
    cut_set = set(cuts)
    frames: list[OutputFrame] = []
    cuts_hit = 0
    crossed: set[int] = set()
    for k in range(n_out):
        tau = start_s + k / sample_fps
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
    return RetimePlan(frames, out_fps, start_s, duration, kept, cuts_hit, stop - start, cuts_crossed=len(crossed), slowmo=slowmo)


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
    slowmo: float = 1.0
    format: str = ""  # e.g. "H.265 / HEVC in MP4 (libx265)"
    notes: list[str] = field(default_factory=list)  # what the user should know (e.g. audio dropped)

    def summary(self) -> str:
        parts = [
            f"wrote {self.path}: {self.frames} frames at {self.fps:.3f} fps ({self.duration_s:.2f} s)",
            f"{self.interpolated} interpolated",
        ]
        if self.slowmo != 1.0:
            parts.append(f"slow motion {self.slowmo:g}x")
        if self.format:
            parts.append(self.format)
        if self.cuts:
            parts.append(
                f"{self.cuts} scene cut{'s' if self.cuts > 1 else ''} kept sharp "
                f"({self.cut_frames} frame{'s' if self.cut_frames > 1 else ''} repeated there)"
            )
        if self.held_dropped:
            parts.append(f"{self.held_dropped} held frames removed")
        if self.audio:
            parts.append(f"audio slowed {self.slowmo:g}x (pitch kept)" if self.slowmo != 1.0 else "audio kept")
        elif not self.notes:
            parts.append("no audio")
        parts += self.notes
        parts.append(f"{self.elapsed_s:.1f} s ({self.frames_per_second:.1f} output frames/s)")
        return ", ".join(parts)

    @property
    def frames_per_second(self) -> float:
        """Export throughput: output frames written per second of wall time."""
        return self.frames / self.elapsed_s if self.elapsed_s > 0 else 0.0


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
    return plan_retime(info.timestamps, info.fps, out_fps, start, stop, cuts, held, slowmo=settings.slowmo_factor)


_STOP = object()


def export_video(
    source: FrameSource,
    output: str | Path,
    interpolator: Interpolator,
    settings: ExportSettings,
    progress: Optional[ProgressCallback] = None,
    cancel: Optional[CancelToken] = None,
    plan: Optional[RetimePlan] = None,
) -> ExportResult:
    """Write the retimed clip. Raises Cancelled or VfiError; either way nothing half-written remains.
    Every check that needs no work (core/preflight.py) runs before anything is decoded."""
    t_start = time.perf_counter()
    cancel = cancel or CancelToken()
    fmt = check_export(output, settings, source.info).fmt
    plan = plan or make_plan(source, settings, cancel)
    audio, notes = _audio_for(source.info, settings, plan, fmt)
    writer = open_writer(fmt, plan.fps, quality=settings.quality, audio=audio, audio_length_s=plan.output_duration_s)
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
    interpolator.begin_batch()
    prefetch = _Prefetcher(source, groups)
    motion = _MotionStage(source, groups, interpolator, cancel)
    try:
        for g, group in enumerate(groups):
            cancel.raise_if_cancelled()
            prefetch.advance(g)
            prepared = motion.take(g)
            if group[0].is_source:
                for _ in group:
                    encode_q.put(prepared)
                continue
            for img in interpolator.interpolate_prepared(prepared, [f.t for f in group]):
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
        motion.stop()
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
        slowmo=plan.slowmo,
        format=fmt.describe() if fmt.kind == "video" else "",
        notes=notes,
    )


def _audio_for(info: VideoInfo, settings: ExportSettings, plan: RetimePlan, fmt: OutputFormat) -> tuple[Optional[AudioClip], list[str]]:
    """The source's audio for the exported range, slowed to match for slow motion on request."""
    if fmt.kind != "video" or not settings.keep_audio or not info.has_audio:
        return None, []
    end_s = plan.start_s + plan.duration_s
    if plan.slowmo == 1.0:
        return AudioClip(info.path, plan.start_s, end_s), []
    if settings.slowmo_audio == "stretch":
        return AudioClip(info.path, plan.start_s, end_s, tempo=1.0 / plan.slowmo), []
    return None, ["audio dropped for slow motion (stretch keeps it, slowed with its pitch kept: --slowmo-audio stretch)"]


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


class _MotionStage:
    """Reads each pair and runs the method's per-pair work (motion estimation) one pair ahead on
    its own thread, so DIS for the next pair overlaps the network on this one: on 2 cores the
    stages fill both (decode and encode run on their own threads too). For a group of real frames
    it hands over the frame itself."""

    def __init__(self, source: FrameSource, groups: Sequence[Sequence[OutputFrame]], interpolator: Interpolator,
                 cancel: CancelToken, ahead: int = 1) -> None:
        self._q: "queue.Queue" = queue.Queue(maxsize=ahead)
        self._stop = threading.Event()
        self._source, self._groups, self._interp, self._cancel = source, groups, interpolator, cancel
        self._thread = threading.Thread(target=self._run, name="export-motion", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        for g, group in enumerate(self._groups):
            if self._stop.is_set() or self._cancel.cancelled:
                return
            try:
                first = group[0]
                if first.is_source:
                    item = self._source.read(first.a)
                else:
                    f0, f1 = self._source.read(first.a), self._source.read(first.b)
                    item = self._interp.prepare_pair(f0, f1, [f.t for f in group])
            except BaseException as exc:  # noqa: BLE001 - raised again on the export thread
                item = exc
            while not self._stop.is_set():
                try:
                    self._q.put((g, item), timeout=0.1)
                    break
                except queue.Full:
                    continue
            if isinstance(item, BaseException):
                return

    def take(self, g: int):
        while True:
            self._cancel.raise_if_cancelled()
            try:
                index, item = self._q.get(timeout=0.1)
            except queue.Empty:
                if not self._thread.is_alive() and self._q.empty():
                    raise RuntimeError("the motion stage stopped early") from None
                continue
            assert index == g, (index, g)
            if isinstance(item, BaseException):
                raise item
            return item

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


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
