"""The Auto method: per clip, pick the method whose sampled self-check scores best.

About 12 frames spread over the export range are rebuilt from their neighbours by every candidate
(the built-in methods and the user's fine-tuned models) and scored with PSNR; the best mean wins,
and of methods within 0.05 dB of it the quickest (`selfcheck.best_method`, as `check` decides).
Each frame's PSNR counts at most 50 dB (see `selfcheck.PSNR_CAP`).

It is a race. After each frame, a method clearly behind the leader (its paired differences say
so) stops being checked, so methods that lose (a cross-fade on moving footage) cost a frame or
two. Its time stays under a share (10%) of the export it serves: that export is estimated from
the pick-so-far's measured time per in-between (the export uses it if the race ends now) and the
decoding the export does too. Methods are tried cheapest first (the caller orders them; a method
is loaded only when first tried). When the next step would go over the budget: a method not
tried yet is left out; before 3 frames are checked, methods other than the pick-so-far leave,
the costliest first; after that the race ends. The scene scan does not count: the export reuses
it (`FrameSource.memo`).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable, Optional, Sequence

import numpy as np

from .choice import MethodChoice
from .errors import VfiError
from .methods.base import Interpolator
from .progress import CancelToken, Progress, ProgressCallback
from .scenes import ClipAnalysis
from .selfcheck import PSNR_CAP, TIE_DB, best_method, check_frame, crosses_cut, interpolator_key, scan_range
from .selfcheck_cache import SelfCheckCache, clip_key
from .video_io import FrameSource

SAMPLES = 12
BUDGET_FRACTION = 0.10
# An export overlaps decoding, motion and encoding with synthesis (threads), so it takes less than
# the sum of its parts that the self-check measures: cup.mp4's 2x took 0.77x that sum.
EXPORT_OVERLAP = 0.75
MIN_ROUNDS = 3  # frames every method is checked on before the budget may end the race
KEEP_MAX_BYTES = 600 * 1024 * 1024  # sample frames kept from the scanning pass up to this size
# One-sided 97.5% Student t for n-1 degrees of freedom (n = frames compared so far).
_T975 = {1: 12.71, 2: 4.30, 3: 3.18, 4: 2.78, 5: 2.57, 6: 2.45, 7: 2.36, 8: 2.31, 9: 2.26, 10: 2.23, 11: 2.20}

Loader = Callable[[MethodChoice], Interpolator]


@dataclass
class MethodScore:
    choice: MethodChoice
    psnr: Optional[float] = None  # mean over the frames it was checked on
    frames: int = 0
    dropped_after: Optional[int] = None  # out of the race after this many frames
    dropped_for: str = ""  # "behind": clearly behind the leader; "time": too slow for the budget
    seconds: Optional[float] = None  # mean time of one in-between
    error: Optional[str] = None  # it could not be loaded
    values: list[float] = field(default_factory=list, repr=False)

    def describe(self) -> str:
        if self.error:
            return f"{self.choice.label} not available ({self.error})"
        if self.psnr is None:
            return f"{self.choice.label} not tried (over the time budget)" if self.dropped_for == "time" else f"{self.choice.label} -"
        text = f"{self.choice.label} {self.psnr:.2f} dB"
        if self.dropped_after is not None:
            why = ", too slow for the budget" if self.dropped_for == "time" else ""
            text += f" (dropped after {self.dropped_after}{why})"
        return text


@dataclass
class AutoReport:
    picked: MethodChoice
    scores: list[MethodScore]  # the pick first, then by PSNR
    frames: list[int]  # the frames checked, in the order they were
    elapsed_s: float
    stop_reason: str
    budget_s: Optional[float] = None
    estimated_export_s: Optional[float] = None
    scan_s: float = 0.0  # of elapsed_s, the scene scan of the range
    analysis: Optional[ClipAnalysis] = field(default=None, repr=False)  # that scan, for the export to reuse

    @property
    def picked_score(self) -> MethodScore:
        return self.scores[0]

    def summary(self) -> str:
        """One line: which method, its score, the others, the time."""
        best = self.picked_score
        others = ", ".join(s.describe() for s in self.scores[1:])
        head = f"Auto picked {best.choice.label}"
        if best.psnr is not None:
            head += f": {best.psnr:.2f} dB on {best.frames} frame{'s' if best.frames != 1 else ''}"
        top = max((s for s in self.scores if s.psnr is not None), key=lambda s: s.psnr, default=best)
        if top is not best:
            head += f" (within {TIE_DB:g} dB of {top.choice.label}, and quicker)"
        return f"{head}{'; ' + others if others else ''}; {self.stop_reason}; {self.elapsed_s:.1f} s"

    def cost_line(self, export_s: float, settings=None) -> str:
        """What Auto cost beside the export (`settings`: the export's ExportSettings). An export
        that analyses scenes takes Auto's scan of the range (`FrameSource.memo`) instead of its
        own, so that part is not extra."""
        reused = self.analysis is not None and settings is not None and bool(settings.scene_cuts or settings.dedupe_held)
        saved = self.scan_s if reused else 0.0
        extra, alone = self.elapsed_s - saved, export_s + saved
        share = 100.0 * extra / alone if alone > 0 else float("nan")
        text = f"Auto took {self.elapsed_s:.1f} s"
        if saved:
            text += f" (its {saved:.1f} s scene scan served the export too: {extra:.1f} s extra)"
        return f"{text}, {share:.1f}% of the export ({alone:.1f} s)"

    def to_dict(self) -> dict:
        return {
            "picked": self.picked.label,
            "method": self.picked.method,
            "weights": self.picked.weights,
            "frames": self.frames,
            "seconds": round(self.elapsed_s, 3),
            "budget_s": self.budget_s,
            "estimated_export_s": self.estimated_export_s,
            "stop_reason": self.stop_reason,
            "scores": {
                s.choice.label: {"psnr": s.psnr, "frames": s.frames, "dropped_after": s.dropped_after, "seconds": s.seconds, "error": s.error}
                for s in self.scores
            },
        }


def sample_frames(centres: Sequence[int], count: int = SAMPLES) -> list[int]:
    """`count` frames spread evenly over `centres`, away from both ends."""
    if len(centres) <= count:
        return list(centres)
    picks = np.linspace(0, len(centres) - 1, count + 2)[1:-1].round().astype(int)
    return sorted({centres[i] for i in picks})


def spread_order(count: int) -> list[int]:
    """Indices 0..count-1 in an order where every prefix covers the range: the middle, the
    quarters, the eighths... so a race that ends early still saw the whole clip."""
    order: list[int] = []
    denominators = 2
    while len(order) < count and denominators <= 4 * count:
        for k in range(1, denominators, 2):
            i = min(count - 1, int(k * count / denominators))
            if i not in order:
                order.append(i)
        denominators *= 2
    return order + [i for i in range(count) if i not in order]


def planned_pairs(source: FrameSource, settings=None) -> int:
    """How many source pairs the export interpolates between (each costs at least one in-between),
    from its retiming without scene analysis; a 2x export when `settings` is None."""
    from .export import ExportSettings, plan_retime, resolve_range

    settings = settings or ExportSettings(factor=2.0)
    info = source.info
    start, stop = resolve_range(info.frame_count, settings.frame_range)
    plan = plan_retime(info.timestamps, info.fps, settings.output_fps(info.fps), start, stop)
    return len({(f.a, f.b) for f in plan.frames if not f.is_source})


def _clearly_worse(diffs: list[float]) -> bool:
    """Paired PSNR differences against the leader: behind with 97.5% confidence (a floor of
    0.1 dB on their spread), or more than 3 dB behind on every frame so far."""
    d = np.asarray(diffs)
    if len(d) >= 2 and d.max() < -1.0 and d.mean() < -3.0:
        return True
    if len(d) < 3:
        return False
    se = max(float(d.std(ddof=1)), 0.1) / math.sqrt(len(d))
    return float(d.mean()) + _T975.get(len(d) - 1, 2.0) * se < 0.0


def _sample(
    source: FrameSource,
    start: int,
    stop: int,
    samples: int,
    cache: Optional[SelfCheckCache],
    report: Callable[[int, int, str], None],
    cancel: CancelToken,
) -> tuple[list[int], dict[int, np.ndarray], Optional[ClipAnalysis]]:
    """The frames to check, none beside a scene cut, and their triplets decoded: one decoding pass
    finds the cuts (or the cache has them) and keeps the triplets, so no seeking follows."""
    n = source.info.frame_count
    planned = sample_frames(list(range(start + 1, stop - 1)), samples)
    key = clip_key(source.info.path, n) if cache is not None else ""
    cuts = cache.cuts(key, start, stop) if cache is not None else None
    frame_bytes = source.info.width * source.info.height * 3
    keep = {i for c in planned for i in (c - 1, c, c + 1)} if 3 * len(planned) * frame_bytes <= KEEP_MAX_BYTES else set()
    kept: dict[int, np.ndarray] = {}
    analysis = None
    if cuts is None:
        cuts, kept, analysis = scan_range(source, start, stop, keep, lambda p: report(p.done, p.total, "Auto: finding scene cuts"), cancel)
        if cache is not None:
            cache.set_cuts(key, start, stop, cuts)
    else:
        for i in sorted(keep):  # in order: one continuous decode
            kept[i] = source.read(i)
    cut_set = set(cuts)
    frames: list[int] = []
    for c in planned:  # a planned frame beside a cut moves to the nearest one that is not
        for moved in sorted(range(c - 3, c + 4), key=lambda x: abs(x - c)):
            if start < moved < stop - 1 and moved not in frames and not crosses_cut(moved, cut_set):
                frames.append(moved)
                break
    return sorted(frames), kept, analysis


def choose_method(
    source: FrameSource,
    candidates: Sequence[MethodChoice],
    load: Loader,
    frame_range: Optional[tuple[int, int]] = None,
    *,
    export_pairs: Optional[int] = None,
    samples: int = SAMPLES,
    budget_fraction: float = BUDGET_FRACTION,
    cache: Optional[SelfCheckCache] = None,
    progress: Optional[ProgressCallback] = None,
    cancel: Optional[CancelToken] = None,
    started: Optional[float] = None,
) -> tuple[Interpolator, AutoReport]:
    """Race the candidates (cheapest first) on a sample of the range; returns the winner, loaded,
    and the report. `export_pairs` (see `planned_pairs`) sets the time budget; None: no budget,
    every sample. `started`: the perf_counter() time the caller's work for Auto began."""
    t0 = time.perf_counter() if started is None else started
    cancel = cancel or CancelToken()
    candidates = [c for c in dict.fromkeys(candidates) if not c.is_auto]
    if not candidates:
        raise VfiError("Auto has no method to choose from")
    n = source.info.frame_count
    start, stop = frame_range or (0, n)
    stop = n if stop is None or stop < 0 else min(stop, n)

    def report(done: int, total: int, message: str) -> None:
        if progress is not None:
            elapsed = time.perf_counter() - t0
            progress(Progress(done, total, elapsed, None, done / elapsed if elapsed > 0 else 0.0, message))

    t_scan = time.perf_counter()
    frames, kept, analysis = _sample(source, start, stop, samples, cache, report, cancel)
    scan_s = time.perf_counter() - t_scan if analysis is not None else 0.0
    decode_s = scan_s / max(1, stop - start)  # per frame: the export decodes every one too
    scores = {c: MethodScore(c) for c in candidates}
    interps: dict[MethodChoice, Interpolator] = {}
    clip = clip_key(source.info.path, n) if cache is not None else ""
    keys: dict[MethodChoice, str] = {}
    known: dict[MethodChoice, dict] = {}
    alive = list(candidates)
    seconds: dict[MethodChoice, list[float]] = {c: [] for c in candidates}
    checked: list[int] = []
    order = [frames[i] for i in spread_order(len(frames))]
    total_evals = len(order) * len(alive)
    reason = f"all {len(order)} frames checked"

    def loaded(c: MethodChoice) -> Optional[Interpolator]:
        """The method, loaded on first use (a neural one starts torch): None if it cannot load."""
        if c not in interps and scores[c].error is None:
            try:
                interps[c] = load(c)
            except VfiError as exc:  # a damaged fine-tuned file: the others still race
                scores[c].error = str(exc)
                alive.remove(c)
                return None
            if cache is not None:
                keys[c] = interpolator_key(interps[c])
                known[c] = cache.scores(clip, keys[c])
        return interps.get(c)

    def mean(c: MethodChoice) -> float:
        return float(np.mean(scores[c].values))

    def cost(c: MethodChoice) -> float:
        return float(np.mean(seconds[c])) if seconds[c] else float("inf")

    def pick_so_far() -> MethodChoice:
        tried = [c for c in alive if scores[c].values]
        return best_method({c: mean(c) for c in tried}, {c: cost(c) for c in tried})

    def budget() -> Optional[float]:
        if export_pairs is None or not any(scores[c].values for c in alive):
            return None
        return budget_fraction * EXPORT_OVERLAP * (export_pairs * cost(pick_so_far()) + (stop - start) * decode_s)

    def spent() -> float:
        return time.perf_counter() - t0 - scan_s  # the scan is the export's own, reused

    def drop(c: MethodChoice, why: str) -> None:
        nonlocal total_evals
        alive.remove(c)
        scores[c].dropped_after, scores[c].dropped_for = len(checked), why
        total_evals -= len(order) - len(checked)

    try:
        for r, index in enumerate(order):
            if len(alive) <= 1 and checked:
                timed_out = any(s.dropped_for == "time" for s in scores.values())
                reason = f"the others would have cost more than {budget_fraction:.0%} of the export" if timed_out else "the others were behind"
                break
            limit = budget()
            if limit is not None and spent() + sum(cost(c) for c in alive if seconds[c]) > limit:
                if r >= MIN_ROUNDS:
                    reason = f"stopped at {budget_fraction:.0%} of the export's estimated time"
                    break
                pick = pick_so_far()  # before the minimum: the costliest others leave
                for c in sorted((c for c in alive if c != pick), key=cost, reverse=True):
                    if spent() + sum(cost(a) for a in alive if seconds[a]) <= limit:
                        break
                    drop(c, "time")
                if len(alive) == 1:
                    continue  # the loop's first test ends the race
            triplet = (kept[index - 1], kept[index], kept[index + 1]) if index in kept else None
            for c in list(alive):  # cheapest first: the caller's order, then what was measured
                cancel.raise_if_cancelled()
                if not seconds[c] and checked == [] and len(alive) > 1:
                    limit = budget()
                    if limit is not None and spent() > limit:
                        drop(c, "time")  # not tried: the budget is gone before its turn
                        continue
                interp = loaded(c)
                if interp is None:
                    continue
                hit = known.get(c, {}).get(index)
                if hit is None:
                    hit = check_frame(source, index, interp, with_ssim=False, triplet=triplet).score()
                    if cache is not None:
                        cache.add(clip, keys[c], [hit])
                scores[c].values.append(min(hit.psnr, PSNR_CAP))
                seconds[c].append(hit.seconds)
                report(sum(len(v) for v in seconds.values()), total_evals, f"Auto: comparing methods on frame {index}")
            if not alive:
                break
            checked.append(index)
            alive.sort(key=cost)
            leader = max(alive, key=mean)
            for c in list(alive):
                if c != leader and _clearly_worse(list(np.subtract(scores[c].values, scores[leader].values))):
                    drop(c, "behind")
    finally:
        if cache is not None:
            cache.flush()
    if not alive:
        errors = "; ".join(f"{s.choice.label}: {s.error}" for s in scores.values() if s.error)
        raise VfiError(f"Auto: no method could be loaded ({errors})")
    for c, s in scores.items():
        if s.values:
            s.psnr, s.frames, s.seconds = float(np.mean(s.values)), len(s.values), float(np.mean(seconds[c]))
    if not checked:
        pick = alive[0]
        interp = loaded(pick) or interps[alive[0]]
        reason = "no frame with neighbours in one shot to check: the first method"
        estimate = None
    else:
        pick = pick_so_far()
        interp = interps[pick]
        estimate = export_pairs * scores[pick].seconds + (stop - start) * decode_s if export_pairs is not None else None
    limit = budget_fraction * estimate if estimate is not None else None
    rest = sorted((s for c, s in scores.items() if c != pick), key=lambda s: (s.error is not None, s.psnr is None, -(s.psnr or 0)))
    report(total_evals, total_evals, "Auto: done")
    elapsed = time.perf_counter() - t0
    return interp, AutoReport(pick, [scores[pick], *rest], checked, elapsed, reason, limit, estimate, scan_s, analysis)
