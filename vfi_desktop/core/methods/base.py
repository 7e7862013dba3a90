"""The interface every interpolation method implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from ..frames import check_frame


@dataclass
class PreparedPair:
    frame0: np.ndarray
    frame1: np.ndarray
    still: bool  # the two frames are identical: every in-between is that frame
    state: Any  # what prepare() returned (None when no in-between needs it)


class Interpolator(ABC):
    """Makes the frame at time t between frame0 (t=0) and frame1 (t=1).

    Methods that estimate motion do it once per pair in ``prepare`` and reuse it for every t,
    so ``interpolate_many`` for 4x export costs little more than one ``interpolate``.
    """

    name: str = "?"
    device: str = "cpu"

    def interpolate(self, frame0: np.ndarray, frame1: np.ndarray, t: float = 0.5) -> np.ndarray:
        return self.interpolate_many(frame0, frame1, [t])[0]

    def interpolate_many(self, frame0: np.ndarray, frame1: np.ndarray, ts: Sequence[float]) -> list[np.ndarray]:
        return self.interpolate_prepared(self.prepare_pair(frame0, frame1, ts), ts)

    def prepare_pair(self, frame0: np.ndarray, frame1: np.ndarray, ts: Sequence[float] = (0.5,)) -> "PreparedPair":
        """Checks and per-pair work (motion) for the in-betweens at `ts`; export runs this for the
        next pair while the current one is synthesised."""
        check_frame(frame0, "frame0")
        check_frame(frame1, "frame1")
        if frame0.shape != frame1.shape:
            raise ValueError(f"frames differ in size: {frame0.shape[:2]} vs {frame1.shape[:2]}")
        for t in ts:
            if not 0.0 <= float(t) <= 1.0:
                raise ValueError(f"t must lie in [0, 1], got {t}")
        # A held frame stays a held frame, exactly: no method may add noise to a still.
        still = bool(np.array_equal(frame0, frame1))
        needed = not still and any(0.0 < t < 1.0 for t in ts)
        return PreparedPair(frame0, frame1, still, self.prepare(frame0, frame1) if needed else None)

    def interpolate_prepared(self, pair: "PreparedPair", ts: Sequence[float]) -> list[np.ndarray]:
        out = []
        for t in ts:
            if pair.still or t <= 0.0:
                out.append(pair.frame0.copy())
            elif t >= 1.0:
                out.append(pair.frame1.copy())
            else:
                out.append(self.synthesize(pair.state, float(t)))
        return out

    def begin_batch(self) -> None:
        """Many in-betweens of one frame size follow (an export): a method may spend a one-off
        cost here or on the next calls (the U-Net traces its graph) to make each one cheaper.
        Single in-betweens (Interpolate, the self-check, Auto) skip it: their figures then agree
        to the last bit with each other."""

    @abstractmethod
    def prepare(self, frame0: np.ndarray, frame1: np.ndarray) -> Any:
        """Per-pair work shared by every t (motion estimation)."""

    @abstractmethod
    def synthesize(self, state: Any, t: float) -> np.ndarray:
        """The frame at time t from the prepared pair."""

    def describe(self) -> str:
        return f"{self.name} ({self.device})"
