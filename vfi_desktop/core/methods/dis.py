"""The plainest strong classical interpolator, the baseline every table is measured against.

OpenCV DIS "medium" at full resolution both ways, the linear-motion approximation of the
intermediate flows (Super SloMo, Jiang et al. 2018: F_t0 = -(1-t)t F_01 + t^2 F_10,
F_t1 = (1-t)^2 F_01 - t(1-t) F_10), both frames warped with `remap` and blended with weights 1-t
and t. No occlusion handling, no reduced working resolution.
"""

from __future__ import annotations

import cv2
import numpy as np

from .. import motion
from .base import Interpolator


def dis_flows(frame0: np.ndarray, frame1: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """DIS "medium" flow 0->1 and 1->0 at full resolution."""
    return motion.estimate_flows(frame0, frame1)


class DisInterpolator(Interpolator):
    name = "dis"

    def prepare(self, frame0: np.ndarray, frame1: np.ndarray):
        return frame0, frame1, dis_flows(frame0, frame1)

    def synthesize(self, state, t: float) -> np.ndarray:
        frame0, frame1, (f01, f10) = state
        ft0, ft1 = motion.linear_intermediate(f01, f10, t)
        w0 = motion.backward_warp(frame0, ft0)
        w1 = motion.backward_warp(frame1, ft1)
        return cv2.addWeighted(w0, 1.0 - t, w1, t, 0.0)
