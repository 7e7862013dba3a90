"""Cross-fade: the baseline every other method must beat."""

from __future__ import annotations

import numpy as np

from .base import Interpolator


class BlendInterpolator(Interpolator):
    name = "blend"

    def prepare(self, frame0: np.ndarray, frame1: np.ndarray):
        return frame0.astype(np.float32), frame1.astype(np.float32)

    def synthesize(self, state, t: float) -> np.ndarray:
        f0, f1 = state
        return np.clip((1.0 - t) * f0 + t * f1 + 0.5, 0, 255).astype(np.uint8)
