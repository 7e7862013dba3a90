"""The classical reference: DIS optical flow both ways, splatted intermediate flow, occlusion-aware blend."""

from __future__ import annotations

import numpy as np

from .. import motion
from .base import Interpolator


class FlowInterpolator(Interpolator):
    name = "flow"

    def __init__(self, max_side: int = motion.FLOW_MAX_SIDE) -> None:
        self.max_side = max_side

    def prepare(self, frame0: np.ndarray, frame1: np.ndarray):
        return frame0, frame1, motion.estimate_motion(frame0, frame1, self.max_side)

    def synthesize(self, state, t: float) -> np.ndarray:
        frame0, frame1, pair_motion = state
        return motion.flow_interpolate(frame0, frame1, pair_motion, t)
