"""Scene cuts (never morph across them) and held frames (stop-motion "on twos": one picture twice).

Both work on small thumbnails, so analysing a whole clip costs a fraction of decoding it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Iterable, Optional

import cv2
import numpy as np

from .progress import CancelToken, ProgressCallback, ProgressTracker

if TYPE_CHECKING:
    from .video_io import FrameSource

THUMB_WIDTH = 96


def thumbnail(frame: np.ndarray) -> np.ndarray:
    """HSV thumbnail (float32) used for both tests."""
    h, w = frame.shape[:2]
    size = (THUMB_WIDTH, max(2, round(h * THUMB_WIDTH / w)))
    small = cv2.resize(frame, size, interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(small, cv2.COLOR_RGB2HSV_FULL).astype(np.float32)


def content_change(a: np.ndarray, b: np.ndarray) -> float:
    """Mean change of hue (circular), saturation and value between two HSV thumbnails, 0..255."""
    dh = np.abs(a[..., 0] - b[..., 0])
    dh = np.minimum(dh, 256.0 - dh)
    ds = np.abs(a[..., 1] - b[..., 1])
    dv = np.abs(a[..., 2] - b[..., 2])
    return float((dh.mean() + ds.mean() + dv.mean()) / 3.0)


def held_difference(a: np.ndarray, b: np.ndarray) -> float:
    """A high percentile of the brightness change: near 0 only when the picture did not change."""
    return float(np.percentile(np.abs(a[..., 2] - b[..., 2]), 99.0))


@dataclass
class SceneCutDetector:
    """A cut is a change far above both an absolute level and the clip's local motion level
    (adaptive, so fast action is not mistaken for cuts and quiet clips still find theirs)."""

    threshold: float = 30.0  # a change this large is a cut if it also stands out a little
    min_change: float = 12.0  # below this, never a cut
    ratio: float = 3.0  # ... otherwise a cut when this many times the local median change
    window: int = 4

    def cuts(self, changes: np.ndarray) -> list[int]:
        """Indices i such that a cut lies between frame i and frame i+1."""
        out = []
        n = len(changes)
        for i, c in enumerate(changes):
            if c < self.min_change:
                continue
            lo, hi = max(0, i - self.window), min(n, i + self.window + 1)
            neighbours = np.concatenate([changes[lo:i], changes[i + 1 : hi]])
            local = float(np.median(neighbours)) if neighbours.size else 0.0
            # A steady pan changes every frame about as much: a cut stands out from its neighbours.
            if c >= self.ratio * max(local, 1.0) or (c >= self.threshold and c >= 1.5 * local):
                out.append(i)
        return out


@dataclass
class ClipAnalysis:
    changes: np.ndarray  # content change between frame i and i+1
    held: np.ndarray  # held[i]: brightness change between frame i and i+1 (percentile)
    cuts: list[int]

    HELD_LIMIT = 3.0  # 99th-percentile change (0..255) at or below which frame i+1 repeats frame i

    def is_cut(self, i: int) -> bool:
        return i in self._cut_set

    def __post_init__(self) -> None:
        self._cut_set = set(self.cuts)

    def held_frames(self) -> list[int]:
        """Indices of frames that repeat their predecessor."""
        return [i + 1 for i, d in enumerate(self.held) if d <= self.HELD_LIMIT]


def analyse_frames(
    frames: Iterable[np.ndarray],
    total: Optional[int] = None,
    detector: SceneCutDetector = SceneCutDetector(),
    progress: Optional[ProgressCallback] = None,
    cancel: Optional[CancelToken] = None,
) -> ClipAnalysis:
    tracker = ProgressTracker(total or 0, progress)
    changes, held = [], []
    prev = None
    for n, frame in enumerate(frames):
        if cancel is not None:
            cancel.raise_if_cancelled()
        thumb = thumbnail(frame)
        if prev is not None:
            changes.append(content_change(prev, thumb))
            held.append(held_difference(prev, thumb))
        prev = thumb
        tracker.update(n + 1, "analysing scenes")
    changes_arr = np.asarray(changes, dtype=np.float32)
    return ClipAnalysis(changes_arr, np.asarray(held, dtype=np.float32), detector.cuts(changes_arr))


def analyse_range(
    source: "FrameSource",
    start: int,
    stop: int,
    progress: Optional[ProgressCallback] = None,
    cancel: Optional[CancelToken] = None,
    on_frame: Optional[Callable[[int, np.ndarray], None]] = None,
) -> ClipAnalysis:
    """Scene cuts and held frames of frames start..stop-1 (indices in the analysis are relative).
    Kept in `source.memo`: a second look at the same range (the Auto method's scan, then the
    export's plan) costs nothing. `on_frame(i, frame)` sees each frame decoded for it (none when
    the analysis was there already), so a caller can keep some without a second pass."""
    key = ("scenes", start, stop)
    if key not in source.memo:
        def frames():
            for i in range(start, stop):
                frame = source.read(i)
                if on_frame is not None:
                    on_frame(i, frame)
                yield frame

        source.memo[key] = analyse_frames(frames(), stop - start, progress=progress, cancel=cancel)
    return source.memo[key]
