"""The interface every interpolation method implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Sequence

import numpy as np

from ..frames import check_frame


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
        check_frame(frame0, "frame0")
        check_frame(frame1, "frame1")
        if frame0.shape != frame1.shape:
            raise ValueError(f"frames differ in size: {frame0.shape[:2]} vs {frame1.shape[:2]}")
        for t in ts:
            if not 0.0 <= float(t) <= 1.0:
                raise ValueError(f"t must lie in [0, 1], got {t}")
        if np.array_equal(frame0, frame1):
            # A held frame stays a held frame, exactly: no method may add noise to a still.
            return [frame0.copy() for _ in ts]
        inner = [t for t in ts if 0.0 < t < 1.0]
        state = self.prepare(frame0, frame1) if inner else None
        out = []
        for t in ts:
            if t <= 0.0:
                out.append(frame0.copy())
            elif t >= 1.0:
                out.append(frame1.copy())
            else:
                out.append(self.synthesize(state, float(t)))
        return out

    @abstractmethod
    def prepare(self, frame0: np.ndarray, frame1: np.ndarray) -> Any:
        """Per-pair work shared by every t (motion estimation)."""

    @abstractmethod
    def synthesize(self, state: Any, t: float) -> np.ndarray:
        """The frame at time t from the prepared pair."""

    def describe(self) -> str:
        return f"{self.name} ({self.device})"
