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

from ..core.auto_method import AutoReport
from ..core.batch import BatchResult, ExportJob, export_file, export_many
from ..core.choice import MethodChoice
from ..core.export import ExportResult, ExportSettings, make_plan
from ..core.methods.base import Interpolator
from ..core.metrics import error_map
from ..core.progress import CancelToken, Progress, ProgressTracker
from ..core.selfcheck import SelfCheckResult, check_frame, scene_cuts, self_check
from ..core.selfcheck_cache import FrameScore, SelfCheckCache, clip_key, default_cache
from ..core.video_io import FrameSource, open_source

Report = Callable[[Any], None]


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
    """Predict frame N from N-1 and N+1 (at the time N really sits between them) and score it:
    the self-check's own function, so the figures are those of `vfi-desktop check` and the strip."""
    c = check_frame(source, index, cache.get(choice))
    return CheckResult(c.index, c.t, c.predicted, c.truth, error_map(c.predicted, c.truth), c.psnr, c.ssim, c.seconds, choice.label)


# -- the quality strip and the Auto method -------------------------------------------------------

STRIP_MAX_CELLS = 300  # frames checked for the strip at most (every k-th on long clips)


def strip_frames(frame_count: int, max_cells: int = STRIP_MAX_CELLS) -> list[int]:
    """The frames the strip checks: every one on short clips, every k-th on long ones."""
    if frame_count < 3:
        return []
    every = max(1, -(-(frame_count - 2) // max_cells))
    return list(range(1, frame_count - 1, every))


@dataclass
class StripSpec:
    source_path: Path
    image_fps: float
    frame_count: int
    frames: list[int]
    choice: MethodChoice


@dataclass
class StripUpdate:
    """What the strip's job reports: new scores (cut frames included), and/or progress."""

    scores: list[FrameScore] = field(default_factory=list)
    progress: Optional[Progress] = None


def quality_strip(spec: StripSpec, cache: SelfCheckCache, report: Report, cancel: CancelToken) -> SelfCheckResult:
    """The strip's scores: what the cache has at once, the rest computed in a child process (a
    long check in the window's process would compete with the UI thread for the GIL)."""
    from ..api import method_id
    from .child_process import run_in_child

    start = time.perf_counter()
    n = spec.frame_count
    clip, method = clip_key(spec.source_path, n), method_id(spec.choice)
    cuts, known = cache.cuts(clip, 0, n), cache.scores(clip, method)
    if cuts is not None:
        cut_set = set(cuts)
        ready = [
            FrameScore(i, 0.5, None, None, cut=True) if (i - 1 in cut_set or i in cut_set) else known[i]
            for i in spec.frames
            if (i - 1 in cut_set or i in cut_set) or (i in known and known[i].ssim is not None)
        ]
        report(StripUpdate(ready))
        if len(ready) == len(spec.frames):  # a second visit costs nothing
            return SelfCheckResult(spec.choice.label, (0, n), ready, sorted(cuts), 0, len(ready), time.perf_counter() - start)

    def forward(update: StripUpdate) -> None:
        cache.add(clip, method, update.scores, persist=False)  # the child writes the disk cache
        report(update)

    result = run_in_child(compute_quality_strip, spec, report=forward, cancel=cancel)
    cache.set_cuts(clip, 0, n, result.cuts, persist=False)
    return result


def compute_quality_strip(spec: StripSpec, report: Report, cancel: CancelToken) -> SelfCheckResult:
    """`self_check` of the strip's frames (run in a child process, at low priority)."""
    from ..api import method_id

    if hasattr(os, "nice"):
        os.nice(10)  # background work: the user's own interpolations and the UI come first
    import_engine()
    models = InterpolatorCache()
    cache = default_cache()
    with open_source(spec.source_path, image_fps=spec.image_fps) as source:
        n = source.info.frame_count
        cuts = scene_cuts(source, 0, n, cache, progress=lambda p: report(StripUpdate(progress=p)), cancel=cancel)
        return self_check(
            source,
            lambda: models.get(spec.choice),
            (0, n),
            method_id=method_id(spec.choice),
            frames=spec.frames,
            cuts=cuts,
            cache=cache,
            label=spec.choice.label,
            progress=lambda p: report(StripUpdate(progress=p)),
            on_scores=lambda scores: report(StripUpdate(scores)),
            cancel=cancel,
        )


@dataclass
class AutoSpec:
    source_path: Path
    image_fps: float
    frame_range: Optional[tuple[int, int]]
    candidates: list[MethodChoice]


def auto_pick(spec: AutoSpec, report: Report, cancel: CancelToken) -> AutoReport:
    """Which method Auto picks on a range (for the window: a 2x export of it sets the budget)."""
    from ..api import resolve_auto_method

    import_engine()
    models = InterpolatorCache()
    with open_source(spec.source_path, image_fps=spec.image_fps) as source:
        settings = ExportSettings(factor=2.0, frame_range=spec.frame_range)
        _, auto = resolve_auto_method(source, settings=settings, candidates=spec.candidates, load=models.get, progress=report, cancel=cancel)
    return auto


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
    candidates: list[MethodChoice] = field(default_factory=list)  # what Auto chooses from (empty: all)


def _interpolators(choice: MethodChoice, candidates: list[MethodChoice], settings: ExportSettings, progress, cancel):
    """What export_file / export_many take (the interpolator for each clip; Auto races the methods
    on each), and `note(result, settings)`, which adds what Auto picked and cost to a result."""
    from ..api import interpolator_for

    models = InterpolatorCache()
    picks: list[AutoReport] = []
    for_clip = interpolator_for(
        choice.method, choice.weights, settings=settings, candidates=candidates or None, load=models.get,
        on_auto=picks.append, progress=progress, cancel=cancel,
    )

    def note(result: Optional[ExportResult], job_settings: ExportSettings) -> None:
        if picks and result is not None:
            auto = picks[-1]
            result.extra["auto"] = auto
            result.extra["auto_cost"] = auto.cost_line(result.elapsed_s, job_settings)
        picks.clear()

    return for_clip, note


def export_clip(spec: ExportJobSpec, report: Report, cancel: CancelToken) -> ExportResult:
    """Export with a decoder of its own (for a child process): the core's checks, then the work.
    With Auto, the method is picked on the clip first (its report in `result.extra["auto"]`)."""
    for_clip, note = _interpolators(spec.choice, spec.candidates, spec.settings, report, cancel)
    job = ExportJob(spec.source_path, spec.output, image_fps=spec.image_fps)
    result = export_file(job, spec.settings, for_clip, progress=report, cancel=cancel)
    note(result, spec.settings)
    return result


def export_summary(result: ExportResult) -> str:
    """The export's summary, with what Auto picked and what that cost."""
    auto = result.extra.get("auto")
    if auto is None:
        return result.summary()
    return f"{result.summary()}. {auto.summary()}. {result.extra.get('auto_cost', '')}"


@dataclass
class QueueSpec:
    """The export dialog's queue: every job with the same settings and method, one after another."""

    jobs: list[ExportJob]
    choice: MethodChoice
    settings: ExportSettings = field(default_factory=ExportSettings)
    candidates: list[MethodChoice] = field(default_factory=list)  # what Auto chooses from (empty: all)


def export_queue(spec: QueueSpec, report: Report, cancel: CancelToken) -> BatchResult:
    """The queue in one child process: `report` gets BatchProgress and JobOutcome objects; a cancel
    stops the current export and skips the rest. With Auto, each clip gets its own pick."""
    for_clip, note = _interpolators(spec.choice, spec.candidates, spec.settings, None, cancel)

    def outcome(o) -> None:
        note(o.result, spec.settings)
        report(o)

    return export_many(spec.jobs, spec.settings, for_clip, progress=report, cancel=cancel, on_outcome=outcome)
