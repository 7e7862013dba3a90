"""Self-check of a clip: rebuild real frames from their neighbours and score them.

Frame n is made from frames n-1 and n+1 at the time n really sits between them (variable-rate
clips included) and compared with the real frame n (PSNR, SSIM). Triplets with a scene cut inside
are marked, not scored. This is the one implementation behind `vfi-desktop check`, the timeline's
quality strip, the viewer's *Check against real frame* and the Auto method.

Rebuilding across two frame intervals is twice the motion a 2x export interpolates across, so the
figures are a pessimistic guide to how the export will look; they rank methods fairly, since every
method faces the same frames.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Optional, Sequence

import numpy as np

from .errors import VfiError
from .methods.base import Interpolator
from .metrics import psnr, ssim
from .progress import CancelToken, ProgressCallback, ProgressTracker
from .scenes import ClipAnalysis, analyse_range
from .selfcheck_cache import FrameScore, SelfCheckCache, clip_key, method_key
from .video_io import FrameSource

PESSIMISTIC_NOTE = (
    "Each frame is rebuilt from the frames either side of it: twice the motion a 2x export "
    "interpolates across, so the figures are a pessimistic guide (and a fair ranking of methods)."
)
# Means count each frame at most this: an exact copy (a held frame: 100 dB) would otherwise outweigh
# real motion, and above 50 dB (an RMS error under one grey level) no difference is visible.
PSNR_CAP = 50.0
# Means this close are the same quality (no one sees 0.1 dB; papers call smaller gaps noise): the
# quicker method is the better pick. At 0.05, Auto's 12-frame sample and `check`'s whole clip
# split on cup.mp4 (dis 0.06 below the U-Net on the clip, 0.04 on the sample): a coin toss.
TIE_DB = 0.1
COARSE_STEP = 8  # the first pass checks every 8th frame asked for, so the whole clip shows early
REPORT_EVERY_S = 0.25  # how often new scores are handed on
FLUSH_EVERY_S = 5.0  # how often the disk cache is written during a long check

ScoresCallback = Callable[[list[FrameScore]], None]


def frame_time(timestamps: Sequence[float], index: int) -> float:
    """Where frame `index` sits between its neighbours, 0..1 (0.5 for a steady frame rate)."""
    span = timestamps[index + 1] - timestamps[index - 1]
    return float((timestamps[index] - timestamps[index - 1]) / span) if span > 0 else 0.5


@dataclass
class FrameCheck:
    """One rebuilt frame with its truth (what *Check against real frame* shows)."""

    index: int
    t: float
    predicted: np.ndarray
    truth: np.ndarray
    psnr: float
    ssim: Optional[float]
    seconds: float  # the interpolation alone

    def score(self) -> FrameScore:
        return FrameScore(self.index, self.t, self.psnr, self.ssim, self.seconds)


def check_frame(
    source: FrameSource,
    index: int,
    interp: Interpolator,
    with_ssim: bool = True,
    triplet: Optional[tuple[np.ndarray, np.ndarray, np.ndarray]] = None,
) -> FrameCheck:
    """Rebuild frame `index` from index-1 and index+1 and score it against the real one
    (`triplet`: those three frames, when the caller has them already)."""
    n = source.info.frame_count
    if not 0 < index < n - 1:
        raise VfiError(f"frame {index} has no neighbour on both sides (a clip of {n} frames: use 1..{n - 2})")
    t = frame_time(source.info.timestamps, index)
    f0, truth, f1 = triplet or (source.read(index - 1), source.read(index), source.read(index + 1))
    start = time.perf_counter()
    predicted = interp.interpolate(f0, f1, t)
    seconds = time.perf_counter() - start
    return FrameCheck(index, t, predicted, truth, psnr(predicted, truth), ssim(predicted, truth) if with_ssim else None, seconds)


def checked_frames(frame_count: int, frame_range: Optional[tuple[int, int]] = None, every: int = 1) -> list[int]:
    """Frames n of the range (start, stop: stop exclusive, -1 = end) whose neighbours n-1 and n+1
    are in it too, every `every`-th one."""
    if every < 1:
        raise VfiError(f"--every must be 1 or more, got {every}")
    start, stop = frame_range or (0, frame_count)
    stop = frame_count if stop is None or stop < 0 else min(stop, frame_count)
    start = max(0, start)
    if stop - start < 3:
        raise VfiError(f"frames {start}:{stop} hold no frame with a neighbour on both sides (at least 3 frames are needed)")
    return list(range(start + 1, stop - 1, every))


def crosses_cut(index: int, cuts: Iterable[int] | set[int]) -> bool:
    """`cuts` holds i where a cut lies between frames i and i+1."""
    cuts = cuts if isinstance(cuts, (set, frozenset)) else set(cuts)
    return index - 1 in cuts or index in cuts


def scan_range(
    source: FrameSource,
    start: int,
    stop: int,
    keep: Iterable[int] = (),
    progress: Optional[ProgressCallback] = None,
    cancel: Optional[CancelToken] = None,
) -> tuple[list[int], dict[int, np.ndarray], ClipAnalysis]:
    """One decoding pass over frames start..stop-1: the scene cuts (absolute i: a cut between i
    and i+1), the frames listed in `keep` (so a sample needs no second, seeking pass), and the
    analysis itself, also left in `source.memo` where an export of the same range finds it."""
    wanted = set(keep)
    kept: dict[int, np.ndarray] = {}

    def tap(i: int, frame: np.ndarray) -> None:
        if i in wanted:
            kept[i] = frame

    analysis = analyse_range(source, start, stop, progress=progress, cancel=cancel, on_frame=tap)
    # analysed already (no frame was decoded): only the frames to keep, in order (one continuous decode)
    kept.update((i, source.read(i)) for i in sorted(wanted - kept.keys()) if start <= i < stop)
    return [start + i for i in analysis.cuts], kept, analysis


def scene_cuts(
    source: FrameSource,
    start: int,
    stop: int,
    cache: Optional[SelfCheckCache] = None,
    progress: Optional[ProgressCallback] = None,
    cancel: Optional[CancelToken] = None,
) -> list[int]:
    """Scene cuts of a range, from the cache when it has them (the export detects them the same way)."""
    key = clip_key(source.info.path, source.info.frame_count) if cache is not None else ""
    if cache is not None:
        found = cache.cuts(key, start, stop)
        if found is not None:
            return found
    cuts, _, _ = scan_range(source, start, stop, progress=progress, cancel=cancel)
    if cache is not None:
        cache.set_cuts(key, start, stop, cuts)
        cache.flush()
    return cuts


def interpolator_key(interp: Interpolator) -> str:
    """The cache key of a loaded interpolator: its method and the weights file it uses."""
    weights = getattr(interp, "weights_path", None)
    return method_key(interp.name.split(":")[0], Path(weights) if weights is not None else None)


@dataclass(frozen=True)
class Stretch:
    """Consecutive checked frames that all scored low."""

    first: int
    last: int
    psnr: float  # their mean

    def describe(self) -> str:
        frames = f"{self.first}" if self.first == self.last else f"{self.first}-{self.last}"
        return f"{frames} ({self.psnr:.1f} dB)"


@dataclass
class SelfCheckResult:
    label: str
    frame_range: tuple[int, int]
    scores: list[FrameScore]  # one per frame asked for, ascending; cut ones marked
    cuts: list[int]
    computed: int = 0  # frames interpolated in this run
    from_cache: int = 0
    elapsed_s: float = 0.0
    every: int = 1

    @property
    def scored(self) -> list[FrameScore]:
        return [s for s in self.scores if not s.cut]

    @property
    def mean_psnr(self) -> Optional[float]:
        """Mean PSNR, each frame counting at most PSNR_CAP."""
        values = [min(s.psnr, PSNR_CAP) for s in self.scored]
        return float(np.mean(values)) if values else None

    @property
    def mean_ssim(self) -> Optional[float]:
        values = [s.ssim for s in self.scored if s.ssim is not None]
        return float(np.mean(values)) if values else None

    @property
    def seconds_per_frame(self) -> Optional[float]:
        """Mean time of one in-between (the interpolation alone)."""
        values = [s.seconds for s in self.scored if s.seconds > 0]
        return float(np.mean(values)) if values else None

    @property
    def cut_frames(self) -> list[int]:
        return [s.index for s in self.scores if s.cut]

    def worst_stretches(self, count: int = 5, quantile: float = 0.1) -> list[Stretch]:
        """Runs of consecutive checked frames scoring in the clip's lowest `quantile` (a cut ends a
        run), the worst first: where in-betweens are most likely to show."""
        scored = self.scored
        if not scored:
            return []
        limit = float(np.quantile([s.psnr for s in scored], quantile))
        runs: list[list[FrameScore]] = []
        in_run = False
        for s in self.scores:
            low = not s.cut and s.psnr <= limit
            if low and in_run:
                runs[-1].append(s)
            elif low:
                runs.append([s])
            in_run = low
        stretches = [Stretch(r[0].index, r[-1].index, float(np.mean([s.psnr for s in r]))) for r in runs]
        return sorted(stretches, key=lambda st: st.psnr)[:count]


def best_method(means: dict, seconds: dict):
    """The best of several methods by mean PSNR (`means`: key -> dB); of those within TIE_DB of the
    top, the quickest (`seconds`: key -> time per in-between; missing = slowest). `check` and Auto
    both decide this way."""
    top = max(means.values())
    tied = [k for k, v in means.items() if v >= top - TIE_DB]
    return min(tied, key=lambda k: (seconds.get(k, float("inf")), -means[k]))


def coarse_to_fine(frames: Sequence[int], step: int = COARSE_STEP) -> list[int]:
    """Every `step`-th frame first, then the rest, each pass in order (two decoding passes, and the
    strip shows the whole clip after an eighth of the work)."""
    first = list(frames[::step])
    taken = set(first)
    return first + [f for f in frames if f not in taken]


def self_check(
    source: FrameSource,
    interp: Interpolator | Callable[[], Interpolator],
    frame_range: Optional[tuple[int, int]] = None,
    every: int = 1,
    *,
    method_id: Optional[str] = None,
    frames: Optional[Sequence[int]] = None,
    cuts: Optional[Sequence[int]] = None,
    with_ssim: bool = True,
    cache: Optional[SelfCheckCache] = None,
    label: Optional[str] = None,
    progress: Optional[ProgressCallback] = None,
    on_scores: Optional[ScoresCallback] = None,
    cancel: Optional[CancelToken] = None,
    order: str = "coarse-to-fine",
) -> SelfCheckResult:
    """Check frames of a clip with one method: every `every`-th frame of `frame_range`, or the
    given `frames`. Scores already in `cache` are reused, new ones added to it (also when
    cancelled: what was computed is kept). `interp` may be a function that loads it, called only
    if a frame is not cached; `method_id` is then its cache key (`api.method_id`). `on_scores`
    gets the scores in batches as they arrive, cut frames included; `progress` counts frames.
    Raises Cancelled."""
    t_start = time.perf_counter()
    cancel = cancel or CancelToken()
    n = source.info.frame_count
    start, stop = frame_range or (0, n)
    stop = n if stop is None or stop < 0 else stop
    wanted = list(frames) if frames is not None else checked_frames(n, (start, stop), every)
    if frames is not None:
        bad = [f for f in wanted if not 0 < f < n - 1]
        if bad:
            raise VfiError(f"frame {bad[0]} has no neighbour on both sides (a clip of {n} frames)")
        if not wanted:
            raise VfiError("no frame to check")
        start, stop = (min(wanted) - 1, max(wanted) + 2) if frame_range is None else (start, stop)
    tracker = ProgressTracker(len(wanted), progress)
    if cuts is None:
        tracker.update(0, "finding scene cuts", force=True)
        cuts = scene_cuts(source, start, stop, cache, cancel=cancel)
    cut_set = set(cuts)
    loaded = interp if isinstance(interp, Interpolator) else None

    def interpolator() -> Interpolator:
        nonlocal loaded
        if loaded is None:
            loaded = interp()
        return loaded

    clip = clip_key(source.info.path, n) if cache is not None else ""
    method = (method_id or interpolator_key(interpolator())) if cache is not None else ""
    known = cache.scores(clip, method) if cache is not None else {}
    results: dict[int, FrameScore] = {}
    batch: list[FrameScore] = []
    last_report = last_flush = time.perf_counter()
    computed = from_cache = 0
    timestamps = source.info.timestamps

    def hand_on(force: bool = False) -> None:
        nonlocal last_report, batch
        if on_scores is not None and batch and (force or time.perf_counter() - last_report >= REPORT_EVERY_S):
            on_scores(batch)
            batch = []
            last_report = time.perf_counter()

    sequence = coarse_to_fine(wanted) if order == "coarse-to-fine" else list(wanted)
    try:
        for done, index in enumerate(sequence, 1):
            cancel.raise_if_cancelled()
            hit = known.get(index)
            if crosses_cut(index, cut_set):
                score = FrameScore(index, frame_time(timestamps, index), None, None, cut=True)
            elif hit is not None and (hit.ssim is not None or not with_ssim):
                score, from_cache = hit, from_cache + 1
            else:
                score = check_frame(source, index, interpolator(), with_ssim).score()
                computed += 1
                if cache is not None:
                    cache.add(clip, method, [score])
                    if time.perf_counter() - last_flush > FLUSH_EVERY_S:
                        cache.flush()
                        last_flush = time.perf_counter()
            results[index] = score
            batch.append(score)
            hand_on()
            tracker.update(done, "checking frames")
    finally:
        if cache is not None and computed:
            cache.flush()
    hand_on(force=True)
    tracker.update(len(sequence), "done", force=True)
    return SelfCheckResult(
        label=label or (loaded.name if loaded is not None else method),
        frame_range=(start, stop),
        scores=[results[i] for i in sorted(results)],
        cuts=sorted(c for c in cut_set if start <= c < stop - 1),
        computed=computed,
        from_cache=from_cache,
        elapsed_s=time.perf_counter() - t_start,
        every=every,
    )
