"""Exporting files: one input to one output with every check made first (`export_file`), and many
inputs in turn (`export_many`), going on after an input fails. The CLI (`interpolate A B C -o DIR/`),
the API and the export dialog's queue use these."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Optional, Sequence

from .errors import Cancelled, VfiError
from .export import ExportResult, ExportSettings, export_video
from .formats import CONTAINERS
from .methods.base import Interpolator
from .preflight import check_export
from .progress import CancelToken, Progress, ProgressCallback
from .video_io import DEFAULT_IMAGE_FPS, FrameSource, VideoInfo, open_source

# The interpolator for a clip (loaded once by the caller; the clip is there for methods that choose by it).
InterpolatorFor = Callable[[FrameSource], Interpolator]
OUTPUT_FORMATS = ("mp4", "mkv", "mov", "webm", "gif", "frames")  # --format: a container, or a folder of images


@dataclass(frozen=True)
class ExportJob:
    input: Path
    output: Path
    image_fps: float = DEFAULT_IMAGE_FPS  # for a folder of images
    frame_range: Optional[tuple[int, int]] = None  # None: the settings' range


@dataclass
class JobOutcome:
    index: int
    job: ExportJob
    result: Optional[ExportResult] = None
    error: Optional[str] = None  # one line, when it failed
    cancelled: bool = False

    @property
    def ok(self) -> bool:
        return self.result is not None

    def line(self) -> str:
        name = self.job.input.name or str(self.job.input)
        if self.result is not None:
            r = self.result
            return f"done    {name} -> {r.path} ({r.frames} frames, {r.duration_s:.2f} s, {r.elapsed_s:.1f} s)"
        if self.cancelled:
            return f"cancelled {name}"
        return f"FAILED  {self.reason()}"

    def reason(self) -> str:
        """The error, led by the input's name (most errors about an input already start with it)."""
        name = self.job.input.name or str(self.job.input)
        error = self.error or ""
        return error if error.startswith(name) or error.startswith(str(self.job.input)) else f"{name}: {error}"


@dataclass(frozen=True)
class BatchProgress:
    """Progress of item `index` of `count`; `progress` is None while it opens and analyses."""

    index: int
    count: int
    progress: Optional[Progress] = None


@dataclass
class BatchResult:
    outcomes: list[JobOutcome] = field(default_factory=list)
    elapsed_s: float = 0.0

    @property
    def done(self) -> list[JobOutcome]:
        return [o for o in self.outcomes if o.ok]

    @property
    def failed(self) -> list[JobOutcome]:
        return [o for o in self.outcomes if o.error is not None]

    @property
    def cancelled(self) -> list[JobOutcome]:
        return [o for o in self.outcomes if o.cancelled]

    def summary(self) -> str:
        parts = [f"{len(self.done)} done", f"{len(self.failed)} failed"]
        if self.cancelled:
            parts.append(f"{len(self.cancelled)} cancelled")
        head = f"{len(self.outcomes)} input{'s' if len(self.outcomes) != 1 else ''}: {', '.join(parts)} in {self.elapsed_s:.1f} s"
        return "\n".join([head] + ["  " + o.line() for o in self.outcomes])


def export_file(
    job: ExportJob,
    settings: ExportSettings,
    interpolator_for: InterpolatorFor,
    progress: Optional[ProgressCallback] = None,
    cancel: Optional[CancelToken] = None,
    open_progress: Optional[ProgressCallback] = None,
    on_open: Optional[Callable[[VideoInfo], None]] = None,
) -> ExportResult:
    """Check the output (before the input is even opened), open the input, check the rest, then
    load the method and export. VfiError (one line) or Cancelled; nothing half-written remains."""
    settings = _with_range(settings, job)
    check_export(job.output, settings)
    with open_source(job.input, image_fps=job.image_fps, progress=open_progress, cancel=cancel) as source:
        if on_open is not None:
            on_open(source.info)
        check_export(job.output, settings, source.info)
        interpolator = interpolator_for(source)
        return export_video(source, job.output, interpolator, settings, progress=progress, cancel=cancel)


def export_many(
    jobs: Sequence[ExportJob],
    settings: ExportSettings,
    interpolator_for: InterpolatorFor,
    progress: Optional[Callable[[BatchProgress], None]] = None,
    cancel: Optional[CancelToken] = None,
    on_outcome: Optional[Callable[[JobOutcome], None]] = None,
) -> BatchResult:
    """Export each job in turn. What needs no input (output folder, codec, settings) is checked for
    every job first: a VfiError then, before any work. After that a job that fails is recorded and
    the next one starts; a cancel (or Ctrl+C) stops the current job and skips the rest."""
    cancel = cancel or CancelToken()
    for job in jobs:
        check_export(job.output, _with_range(settings, job))
    t0 = time.perf_counter()
    result = BatchResult()
    stopped = False
    for i, job in enumerate(jobs):
        outcome = JobOutcome(i, job)
        if stopped or cancel.cancelled:
            outcome.cancelled = True
        else:
            if progress is not None:
                progress(BatchProgress(i, len(jobs)))
            report = (lambda p, i=i: progress(BatchProgress(i, len(jobs), p))) if progress is not None else None
            try:
                outcome.result = export_file(job, settings, interpolator_for, progress=report, cancel=cancel)
            except VfiError as exc:
                outcome.error = str(exc)
            except (Cancelled, KeyboardInterrupt):
                outcome.cancelled = stopped = True
        result.outcomes.append(outcome)
        if on_outcome is not None:
            on_outcome(outcome)
    result.elapsed_s = time.perf_counter() - t0
    return result


def _with_range(settings: ExportSettings, job: ExportJob) -> ExportSettings:
    if job.frame_range is None:
        return settings
    return replace(settings, frame_range=job.frame_range)


def suffix_for_format(fmt: str) -> str:
    """--format -> the output's extension ('' for a folder of frames)."""
    if fmt not in OUTPUT_FORMATS:
        raise VfiError(f"--format is one of {', '.join(OUTPUT_FORMATS)}, got '{fmt}'")
    return "" if fmt == "frames" else f".{fmt}"


def format_like(path: Path) -> str:
    """The --format that matches an input: its container if we can write it (a folder of images:
    frames), else mp4."""
    path = Path(path)
    if path.is_dir():
        return "frames"
    suffix = path.suffix.lower()
    if suffix == ".gif":
        return "gif"
    if suffix in CONTAINERS:
        return "mp4" if suffix == ".m4v" else suffix.lstrip(".")
    return "mp4"


def batch_outputs(inputs: Sequence[Path], out_dir: Path, fmt: Optional[str] = None, tag: str = "") -> list[Path]:
    """One output per input in `out_dir`, named from the input (`clip.mov` -> `out_dir/clip.mp4`;
    `tag` goes after the name: `clip_smooth.mp4`), in `fmt` or the first input's format. Names never
    repeat and never replace an input."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise VfiError(f"{out_dir} is a file: with several inputs, -o names the folder for the outputs")
    suffix = suffix_for_format(fmt or format_like(inputs[0]))
    taken = {_key(p) for p in inputs}
    outputs = []
    for path in inputs:
        path = Path(path)
        stem = path.resolve().name if path.is_dir() else path.stem
        candidate = out_dir / f"{stem}{tag}{suffix}"
        k = 2
        while _key(candidate) in taken:
            candidate = out_dir / f"{stem}{tag}_{k}{suffix}"
            k += 1
        taken.add(_key(candidate))
        outputs.append(candidate)
    return outputs


def _key(path: Path) -> str:
    return os.path.normcase(os.path.abspath(path))
