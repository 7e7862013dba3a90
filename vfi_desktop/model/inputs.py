"""What the networks get besides the two frames: the classical motion at time t.

Shared by inference (model/interpolator.py) and training (model/data.py) so both see the same.
"""

from __future__ import annotations

import numpy as np

from ..core import motion


def classical_maps(pair_motion: motion.PairMotion, t: float) -> np.ndarray:
    """(6, h, w) float32 at motion working resolution: flow_t0 (2), flow_t1 (2), vis0, vis1.

    Flow vectors are in pixels of the working grid; the network rescales them to its own grids.
    """
    mid = motion.intermediate_flow(pair_motion, t)
    return np.concatenate(
        [mid.flow_t0.transpose(2, 0, 1), mid.flow_t1.transpose(2, 0, 1), mid.vis0[None], mid.vis1[None]], axis=0
    ).astype(np.float32)
