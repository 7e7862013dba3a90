"""The long calls the GUI makes into the core, as plain functions run by workers (no Qt here).

Each takes the inputs it needs and returns a result object; the ones that take a while also take
`report` (called with progress, from the worker thread) and a `CancelToken`.
"""

from __future__ import annotations

import itertools
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

import numpy as np

from ..core.batch import BatchResult, ExportJob, export_file, export_many
from ..core.export import ExportResult, ExportSettings, make_plan
from ..core.methods.base import Interpolator
from ..core.metrics import error_map, psnr, ssim
from ..core.progress import CancelToken, ProgressTracker
from ..core.video_io import FrameSource, open_source

Report = Callable[[Any], None]


@dataclass(frozen=True)
class MethodChoice:
    """One entry of the method menus: a core method name, plus a weights file for fine-tuned models."""

    label: str
    method: str
    weights: Optional[str] = None


def import_engine() -> None:
    """Import torch now. Importing it holds the GIL for hundreds of milliseconds, so it happens
    before the window shows; a worker doing it later would freeze a visible window. Inference in
    the window's process leaves one core to the UI thread (idle OpenMP threads spin on theirs)."""
    try:
        import torch
    except ImportError:  # the neural methods then report the problem when chosen
        return
    torch.set_num_threads(max(1, (os.cpu_count() or 2) - 1))


class InterpolatorCache:
    """Loads each interpolator once (the neural ones import torch and read weights: seconds)."""

    def __init__(self, device: str = "auto") -> None:
        self.device = device
        self._items: dict[tuple[str, Optional[str]], Interpolator] = {}
        self._lock = threading.Lock()

    def get(self, choice: MethodChoice) -> Interpolator:
        from ..api import load_interpolator

        key = (choice.method, choice.weights)
        with self._lock:
            if key not in self._items:
                self._items[key] = load_interpolator(choice.method, weights=choice.weights, device=self.device)
            return self._items[key]


def describe_model(interp: Interpolator) -> str:
    """'unet (cpu)' plus the parameter count for networks."""
    model = getattr(interp, "model", None)
    if model is None:
        return interp.describe()
    params = sum(p.numel() for p in model.parameters())
    return f"{interp.describe()}, {params / 1e6:.2f} M params"


# -- single in-betweens ------------------------------------------------------------------------


@dataclass
class InterpolationResult:
    index: int  # the pair is (index, index + 1)
    ts: list[float]
    frames: list[np.ndarray]
    compare: list[np.ndarray]  # the same ts made by the comparison method (wipe mode)
    label: str
    compare_label: str
    elapsed_s: float  # the interpolation itself, model loading excluded
    model: str
    device: str


def interpolate_pair(
    source: FrameSource,
    index: int,
    ts: list[float],
    choice: MethodChoice,
    compare: MethodChoice,
    cache: InterpolatorCache,
) -> InterpolationResult:
    interp = cache.get(choice)
    f0, f1 = source.read(index), source.read(index + 1)
    start = time.perf_counter()
    frames = interp.interpolate_many(f0, f1, ts)
    elapsed = time.perf_counter() - start
    other = frames if compare == choice else cache.get(compare).interpolate_many(f0, f1, ts)
    return InterpolationResult(index, list(ts), frames, other, choice.label, compare.label, elapsed, describe_model(interp), interp.device)


@dataclass
class CheckResult:
    """Frame `index` predicted from its neighbours, against the real one."""

    index: int
    t: float
    predicted: np.ndarray
    truth: np.ndarray
    error: np.ndarray  # HxW mean absolute error, 0..255
    psnr: float
    ssim: float
    elapsed_s: float
    label: str


def check_against_real(source: FrameSource, index: int, choice: MethodChoice, cache: InterpolatorCache) -> CheckResult:
    """Predict frame N from N-1 and N+1 (at the time N really sits between them) and score it."""
    interp = cache.get(choice)
    times = source.info.timestamps
    t = (times[index] - times[index - 1]) / (times[index + 1] - times[index - 1])
    f0, truth, f1 = source.read(index - 1), source.read(index), source.read(index + 1)
    start = time.perf_counter()
    predicted = interp.interpolate(f0, f1, float(t))
    elapsed = time.perf_counter() - start
    return CheckResult(
        index, float(t), predicted, truth, error_map(predicted, truth), psnr(predicted, truth), ssim(predicted, truth), elapsed, choice.label
    )


# -- preview -------------------------------------------------------------------------------------


@dataclass
class PreviewResult:
    frames: list[np.ndarray]
    fps: float
    start: int  # source frames start..stop-1
    stop: int
    interpolated: int
    elapsed_s: float
    label: str
    slowmo: bool = False  # N times the frames at the source's rate, rather than N times the rate


def preview_range(frame_count: int, center: int, span: int) -> tuple[int, int]:
    """[start, stop) of about 2*span+1 source frames around `center`, shifted to fit the clip."""
    length = min(frame_count, 2 * span + 1)
    start = min(max(0, center - span), frame_count - length)
    return start, start + length


def render_preview(
    source: FrameSource,
    center: int,
    span: int,
    factor: float,
    choice: MethodChoice,
    cache: InterpolatorCache,
    report: Optional[Report] = None,
    cancel: Optional[CancelToken] = None,
    slowmo: bool = False,
) -> PreviewResult:
    """The retimed frames of a short stretch, kept in memory for looped playback: `factor` times
    the frame rate, or with `slowmo` slow motion (`factor` times the frames at the source's rate)."""
    t0 = time.perf_counter()
    cancel = cancel or CancelToken()
    start, stop = preview_range(source.info.frame_count, center, span)
    rate = {"slowmo": factor} if slowmo else {"factor": factor}
    plan = make_plan(source, ExportSettings(frame_range=(start, stop), **rate), cancel)
    interp = cache.get(choice)
    tracker = ProgressTracker(len(plan.frames), report)
    frames: list[np.ndarray] = []
    # consecutive output frames of one source pair share their motion estimate
    for (a, b, is_source), group in itertools.groupby(plan.frames, key=lambda f: (f.a, f.b, f.is_source)):
        cancel.raise_if_cancelled()
        group = list(group)
        if is_source:
            frames += [source.read(a)] * len(group)
        else:
            frames += interp.interpolate_many(source.read(a), source.read(b), [f.t for f in group])
        tracker.update(len(frames))
    return PreviewResult(frames, plan.fps, start, stop, plan.interpolated, time.perf_counter() - t0, choice.label, slowmo)


@dataclass
class PreviewSpec:
    source_path: Path
    image_fps: float
    center: int
    span: int
    factor: float
    choice: MethodChoice
    slowmo: bool = False


PREVIEW_MAX_SIDE = 960  # the preview window is small; this keeps the frames sent back light


def preview_clip(spec: PreviewSpec, report: Report, cancel: CancelToken) -> PreviewResult:
    """`render_preview` with a decoder of its own (for a child process), frames at most
    PREVIEW_MAX_SIDE px on their long side."""
    import cv2

    with open_source(spec.source_path, image_fps=spec.image_fps) as source:
        result = render_preview(
            source, spec.center, spec.span, spec.factor, spec.choice, InterpolatorCache(), report, cancel, slowmo=spec.slowmo
        )
    h, w = result.frames[0].shape[:2]
    scale = PREVIEW_MAX_SIDE / max(h, w)
    if scale < 1:
        size = (round(w * scale), round(h * scale))
        result.frames = [cv2.resize(f, size, interpolation=cv2.INTER_AREA) for f in result.frames]
    return result


# -- thumbnails and export -----------------------------------------------------------------------


def make_thumbnails(
    path: Path, image_fps: float, count: int, height: int, report: Report, cancel: CancelToken
) -> int:
    """Report (frame index, small RGB image) for `count` evenly spaced frames. Uses its own decoder,
    so scrubbing in the viewer never waits behind it."""
    import cv2

    with open_source(path, image_fps=image_fps, cache_mb=16) as source:
        n = source.info.frame_count
        picks = sorted({int(round(i * (n - 1) / max(1, count - 1))) for i in range(min(count, n))})
        for i in picks:
            cancel.raise_if_cancelled()
            frame = source.read(i)
            width = max(1, round(frame.shape[1] * height / frame.shape[0]))
            report((i, cv2.resize(frame, (width, height), interpolation=cv2.INTER_AREA)))
        return len(picks)


@dataclass
class ExportJobSpec:
    source_path: Path
    image_fps: float
    output: Path
    choice: MethodChoice
    settings: ExportSettings = field(default_factory=ExportSettings)


def export_clip(spec: ExportJobSpec, report: Report, cancel: CancelToken) -> ExportResult:
    """Export with a decoder of its own (for a child process): the core's checks, then the work."""
    cache = InterpolatorCache()
    job = ExportJob(spec.source_path, spec.output, image_fps=spec.image_fps)
    return export_file(job, spec.settings, lambda source: cache.get(spec.choice), progress=report, cancel=cancel)


@dataclass
class QueueSpec:
    """The export dialog's queue: every job with the same settings and method, one after another."""

    jobs: list[ExportJob]
    choice: MethodChoice
    settings: ExportSettings = field(default_factory=ExportSettings)


def export_queue(spec: QueueSpec, report: Report, cancel: CancelToken) -> BatchResult:
    """The queue in one child process: `report` gets BatchProgress and JobOutcome objects; a cancel
    stops the current export and skips the rest."""
    cache = InterpolatorCache()
    return export_many(spec.jobs, spec.settings, lambda source: cache.get(spec.choice), progress=report, cancel=cancel, on_outcome=report)
