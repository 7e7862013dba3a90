"""Pictures the viewer shows besides plain frames: wipe, onion skin, heat maps (numpy in, numpy out).

These only arrange pixels for display; the numbers behind them (error maps, in-betweens) come
from the core.
"""

from __future__ import annotations

import cv2
import numpy as np

HEAT_MAX_ERROR = 64.0  # a mean absolute error of 64/255 or more is drawn at full heat


def heat_map(error: np.ndarray, max_value: float = HEAT_MAX_ERROR) -> np.ndarray:
    """HxW float error (0..255 scale) -> HxWx3 RGB, on a fixed scale so frames can be compared."""
    scaled = np.clip(error * (255.0 / max_value), 0, 255).astype(np.uint8)
    return cv2.applyColorMap(scaled, cv2.COLORMAP_INFERNO)[:, :, ::-1].copy()


def wipe(left: np.ndarray, right: np.ndarray, split: float) -> np.ndarray:
    """`left` up to the fraction `split` of the width, `right` after it."""
    x = int(round(np.clip(split, 0.0, 1.0) * left.shape[1]))
    out = right.copy()
    out[:, :x] = left[:, :x]
    return out


# red where it was, cyan where it goes; the two add up to neutral gray, so only motion shows colour
_PREV_TINT = np.array([1.48, 0.52, 0.52], np.float32)
_NEXT_TINT = np.array([0.52, 1.48, 1.48], np.float32)


def onion_skin(base: np.ndarray, prev: np.ndarray | None, nxt: np.ndarray | None, strength: float = 0.3) -> np.ndarray:
    """`base` with tinted ghosts of the previous and next frames, as animators' light tables show."""
    out = base.astype(np.float32) * (1.0 - strength * ((prev is not None) + (nxt is not None)))
    for ghost, tint in ((prev, _PREV_TINT), (nxt, _NEXT_TINT)):
        if ghost is not None:
            luma = ghost.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
            out += strength * luma[:, :, None] * tint
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)
