"""What a clip gives for fine-tuning, and the held-out frames for the before/after view (Qt-free).

Both follow `vfi-desktop train --holdout` exactly: the last part of each clip (time-based) is held
out, so the frames shown and measured are never trained on. Slow (decoding): call from a worker.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
import cv2
import numpy as np

from ...core.video_io import open_source
from ...model.data import Clip, count_triplets, load_clip, split_held_out

ANALYSIS_SIDE = 320  # cut detection and counting need no more than this
PREVIEW_SIDE = 960  # training and validation see frames at most this large (load_clip's default)


@dataclass(frozen=True)
class ClipSummary:
    path: str
    name: str
    frames: int
    cuts: frozenset[int]  # a cut lies between frame i and i+1
    holdout: float
    train: range  # frames trained on
    held_out: range  # frames kept for checking
    triplets: int  # training triplets in the trained part (gaps 2..6, none across a cut)

    def describe(self) -> str:
        return (
            f"{self.name}: {self.frames} frames, {self.triplets} training triplets; "
            f"frames {self.held_out.start}–{self.held_out.stop - 1} held out for checking"
        )

    def with_holdout(self, holdout: float) -> "ClipSummary":
        """The same clip split anew, without decoding it again."""
        return _split(self.path, self.name, self.frames, self.cuts, holdout)


def summarize_clip(path: str | Path, holdout: float) -> ClipSummary:
    clip = load_clip(path, max_side=ANALYSIS_SIDE)
    return _split(str(path), clip.name, len(clip.frames), frozenset(clip.cuts), holdout)


def _split(path: str, name: str, n: int, cuts: frozenset[int], holdout: float) -> ClipSummary:
    train, held = split_held_out(n, holdout)
    # count_triplets looks only at the number of frames and the cuts: no pixels needed.
    trained = Clip(name, [None] * train.stop, {c for c in cuts if c < train.stop - 1})
    return ClipSummary(path, name, n, cuts, holdout, train, held, count_triplets([trained]))


@dataclass(frozen=True)
class HeldOutTriplet:
    frame0: np.ndarray
    truth: np.ndarray
    frame1: np.ndarray
    index: int  # frame number of the truth in the clip


def held_out_triplet(path: str | Path, holdout: float) -> HeldOutTriplet:
    """Neighbours and truth in the middle of the held-out part (t = 1/2), at training resolution."""
    with open_source(path) as src:
        _, held = split_held_out(len(src), holdout)
        mid = held.start + len(held) // 2
        mid = min(max(mid, held.start + 1), held.stop - 2)
        frames = [_shrink(src.read(i)) for i in (mid - 1, mid, mid + 1)]
    return HeldOutTriplet(frames[0], frames[1], frames[2], mid)


def _shrink(frame: np.ndarray, max_side: int = PREVIEW_SIDE) -> np.ndarray:
    h, w = frame.shape[:2]
    if max(h, w) <= max_side:
        return frame
    s = max_side / max(h, w)
    return cv2.resize(frame, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)


def compare_on_held_out(
    path: str | Path, holdout: float, before_weights: str | Path, after_weights: str | Path
) -> dict:
    """In-betweens from the starting and the fine-tuned weights, beside the truth, with PSNR."""
    from ...api import load_interpolator
    from ...core.metrics import psnr

    tri = held_out_triplet(path, holdout)
    out: dict = {"truth": tri.truth, "index": tri.index, "clip": Path(path).name}
    for key, weights in (("before", before_weights), ("after", after_weights)):
        interp = load_interpolator("unet", weights=weights, device="cpu")
        pred = interp.interpolate(tri.frame0, tri.frame1, 0.5)
        out[key] = pred
        out[f"{key}_psnr"] = psnr(pred, tri.truth)
    return out
