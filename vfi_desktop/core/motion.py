"""Classical motion: DIS optical flow both ways, intermediate flows by forward splatting, warping.

This is the whole `flow` method, and the starting point the neural model refines: the network
gets these intermediate flows and visibility maps as input and learns what to correct.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import cv2
import numpy as np

# DIS runs on a copy whose long side is at most this: motion estimated at reduced scale is both
# faster and more robust to large displacements; vectors are scaled back up for warping.
FLOW_MAX_SIDE = 640
# `flow` and the U-Net: DIS "medium" on the whole frame up to this long side (on 720p footage a
# 640 px copy loses 0.1-0.25 dB), on a copy this wide above it.
MOTION_MAX_SIDE = 1280


def linear_intermediate(flow01: np.ndarray, flow10: np.ndarray, t: float) -> tuple[np.ndarray, np.ndarray]:
    """Backward flows from time t to frame 0 and to frame 1, assuming straight, even motion
    (Super SloMo: F_t0 = -(1-t)t F_01 + t^2 F_10, F_t1 = (1-t)^2 F_01 - t(1-t) F_10)."""
    ft0 = (-(1.0 - t) * t) * flow01 + (t * t) * flow10
    ft1 = ((1.0 - t) ** 2) * flow01 + (-t * (1.0 - t)) * flow10
    return ft0, ft1


@dataclass
class PairMotion:
    """Optical flow between a pair at working resolution (vectors in working-resolution pixels)."""

    flow01: np.ndarray  # h x w x 2, frame0 -> frame1
    flow10: np.ndarray  # h x w x 2, frame1 -> frame0
    conf0: np.ndarray  # h x w, 1 where flow01 is confirmed by flow10 (forward-backward check)
    conf1: np.ndarray
    full_size: tuple[int, int]  # (H, W) of the frames

    @property
    def work_size(self) -> tuple[int, int]:
        return self.flow01.shape[:2]


def working_size(height: int, width: int, max_side: int = FLOW_MAX_SIDE) -> tuple[int, int]:
    scale = min(1.0, max_side / max(height, width))
    return max(8, round(height * scale)), max(8, round(width * scale))


def to_gray(frame: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    gray = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
    if gray.shape != size:
        gray = cv2.resize(gray, (size[1], size[0]), interpolation=cv2.INTER_AREA)
    return gray


# DIS quality presets. "fast" is ~4x quicker and within 0.1 dB of "medium" as an interpolator on
# the validation clips; the neural model, which corrects the flow anyway, uses it.
DIS_PRESETS = {"fast": cv2.DISOPTICAL_FLOW_PRESET_FAST, "medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM}


def estimate_motion(
    frame0: np.ndarray, frame1: np.ndarray, max_side: int = FLOW_MAX_SIDE, preset: str = "medium"
) -> PairMotion:
    size = working_size(*frame0.shape[:2], max_side=max_side)
    g0, g1 = to_gray(frame0, size), to_gray(frame1, size)

    def dis(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return cv2.DISOpticalFlow_create(DIS_PRESETS[preset]).calc(a, b, None)

    flow01, flow10 = both_ways(dis, (g0, g1), (g1, g0))
    conf0, conf1 = both_ways(_consistency, (flow01, flow10), (flow10, flow01))
    return PairMotion(flow01, flow10, conf0, conf1, frame0.shape[:2])


def estimate_flows(
    frame0: np.ndarray, frame1: np.ndarray, max_side: int | None = None, preset: str = "medium"
) -> tuple[np.ndarray, np.ndarray]:
    """DIS flow 0->1 and 1->0 on the whole frame, or on a copy at most `max_side` wide (vectors in
    pixels of the grid they are computed on)."""
    h, w = frame0.shape[:2]
    size = working_size(h, w, max_side) if max_side else (h, w)
    g0, g1 = to_gray(frame0, size), to_gray(frame1, size)

    def dis(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return cv2.DISOpticalFlow_create(DIS_PRESETS[preset]).calc(a, b, None)

    return both_ways(dis, (g0, g1), (g1, g0))


_POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="motion")


def both_ways(fn, args_a: tuple, args_b: tuple) -> tuple:
    """Run the two directions side by side: OpenCV and NumPy release the GIL in the heavy parts."""
    if threading.current_thread().name.startswith("motion"):
        return fn(*args_a), fn(*args_b)
    future = _POOL.submit(fn, *args_b)
    return fn(*args_a), future.result()


_GRIDS: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}


def _grid(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel coordinate maps (cached: they are rebuilt for every frame otherwise)."""
    grid = _GRIDS.get((h, w))
    if grid is None:
        if len(_GRIDS) > 8:
            _GRIDS.clear()
        ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
        grid = _GRIDS[(h, w)] = (xs, ys)
    return grid


def _consistency(fwd: np.ndarray, bwd: np.ndarray) -> np.ndarray:
    """Soft forward-backward check (Sundaram et al. 2010): ~1 where following fwd then bwd returns home."""
    h, w = fwd.shape[:2]
    xs, ys = _grid(h, w)
    bwd_at = cv2.remap(bwd, xs + fwd[..., 0], ys + fwd[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    s = fwd + bwd_at
    err = s[..., 0] ** 2 + s[..., 1] ** 2
    tol = 0.01 * (fwd[..., 0] ** 2 + fwd[..., 1] ** 2 + bwd_at[..., 0] ** 2 + bwd_at[..., 1] ** 2) + 0.5
    return np.exp(-err / tol).astype(np.float32)


def _splat(flow: np.ndarray, weight: np.ndarray, t: float) -> tuple[np.ndarray, np.ndarray]:
    """Forward-splat -t*flow to where each pixel is at time t. Returns (flow_t, density).

    Nearest-pixel splatting followed by a 3x3 box filter: as smooth as bilinear splatting, at a
    quarter of the cost.
    """
    h, w = flow.shape[:2]
    xs, ys = _grid(h, w)
    xi = np.rint(xs + t * flow[..., 0]).astype(np.int32)
    yi = np.rint(ys + t * flow[..., 1]).astype(np.int32)
    ok = (xi >= 0) & (xi < w) & (yi >= 0) & (yi < h)
    idx = (yi[ok] * w + xi[ok]).astype(np.intp)
    wsrc = weight[ok]
    n = h * w
    den = np.bincount(idx, weights=wsrc, minlength=n).astype(np.float32).reshape(h, w)
    num_x = np.bincount(idx, weights=wsrc * flow[..., 0][ok], minlength=n).astype(np.float32).reshape(h, w)
    num_y = np.bincount(idx, weights=wsrc * flow[..., 1][ok], minlength=n).astype(np.float32).reshape(h, w)
    den = cv2.blur(den, (3, 3))
    num = cv2.blur(np.dstack([num_x, num_y]), (3, 3))
    flow_t = (-t) * num / np.maximum(den, 1e-6)[..., None]
    return flow_t.astype(np.float32), den


def _fill_holes(flow: np.ndarray, known: np.ndarray) -> np.ndarray:
    """Fill where `known` < 1 with the average known flow around, taken from ever coarser grids
    (a three-level push-pull: cheap, and no hole is too large to fill)."""
    h, w = known.shape
    weighted = flow * known[..., None]
    estimate = None
    for factor in (32, 8, 2):
        size = (max(1, w // factor), max(1, h // factor))
        small_f = cv2.resize(weighted, size, interpolation=cv2.INTER_AREA)
        small_m = cv2.resize(known, size, interpolation=cv2.INTER_AREA)
        if small_f.ndim == 2:  # cv2 drops the channel axis of 1-pixel-wide images
            small_f = small_f.reshape(size[1], size[0], 2)
        current = small_f / np.maximum(small_m, 1e-6)[..., None]
        if estimate is not None:
            up = cv2.resize(estimate, size, interpolation=cv2.INTER_LINEAR).reshape(size[1], size[0], 2)
            confidence = np.clip(small_m * 4.0, 0.0, 1.0)[..., None]
            current = current * confidence + up * (1.0 - confidence)
        elif np.all(small_m < 1e-6):
            current = np.zeros_like(current)
        estimate = current
    up = cv2.resize(estimate, (w, h), interpolation=cv2.INTER_LINEAR).reshape(h, w, 2)
    k = known[..., None]
    return (flow * k + up * (1.0 - k)).astype(np.float32)


@dataclass
class IntermediateFlow:
    """Backward flows from time t to each frame, and how visible each frame is there (working res)."""

    flow_t0: np.ndarray  # h x w x 2
    flow_t1: np.ndarray
    vis0: np.ndarray  # h x w in [0, 1]
    vis1: np.ndarray


def intermediate_flow(motion: PairMotion, t: float) -> IntermediateFlow:
    # Unreliable source pixels (those about to be occluded) still splat, but lose to reliable ones.
    (flow_t0, den0), (flow_t1, den1) = both_ways(
        _splat_and_fill, (motion.flow01, motion.conf0, t), (motion.flow10, motion.conf1, 1.0 - t)
    )
    # Visibility: how much reliable content from each frame lands here. A blur closes the cracks
    # that splatting leaves in stretched regions.
    vis0 = np.clip(den0, 0, 1)
    vis1 = np.clip(den1, 0, 1)
    return IntermediateFlow(flow_t0, flow_t1, vis0, vis1)


def _splat_and_fill(flow: np.ndarray, conf: np.ndarray, t: float) -> tuple[np.ndarray, np.ndarray]:
    flow_t, den = _splat(flow, 0.05 + conf, t)
    return _fill_holes(flow_t, np.clip(den / 0.3, 0, 1)), den


def resize_flow(flow: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize a flow field to (H, W), scaling its vectors with it."""
    h, w = flow.shape[:2]
    if (h, w) == tuple(size):
        return flow
    out = cv2.resize(flow, (size[1], size[0]), interpolation=cv2.INTER_LINEAR)
    out[..., 0] *= size[1] / w
    out[..., 1] *= size[0] / h
    return out


def resize_map(m: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    if m.shape[:2] == tuple(size):
        return m
    return cv2.resize(m, (size[1], size[0]), interpolation=cv2.INTER_LINEAR)


def backward_warp(image: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """Sample image at x + flow(x) (bilinear, edges replicated). Works for uint8 and float32."""
    h, w = flow.shape[:2]
    xs, ys = _grid(h, w)
    return cv2.remap(image, xs + flow[..., 0], ys + flow[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def fuse(warped0: np.ndarray, warped1: np.ndarray, vis0: np.ndarray, vis1: np.ndarray, t: float) -> np.ndarray:
    """Blend the two warped frames: closer in time weighs more, invisible content weighs nothing."""
    a = (1.0 - t) * vis0 + 1e-3 * (1.0 - t)
    b = t * vis1 + 1e-3 * t
    wsum = a + b
    out = (warped0.astype(np.float32) * (a / wsum)[..., None]) + (warped1.astype(np.float32) * (b / wsum)[..., None])
    return out


def flow_interpolate(frame0: np.ndarray, frame1: np.ndarray, motion: PairMotion, t: float) -> np.ndarray:
    """The classical in-between frame from precomputed motion."""
    full = motion.full_size
    mid = intermediate_flow(motion, t)
    ft0 = resize_flow(mid.flow_t0, full)
    ft1 = resize_flow(mid.flow_t1, full)
    w0 = backward_warp(frame0, ft0)
    w1 = backward_warp(frame1, ft1)
    out = fuse(w0, w1, resize_map(mid.vis0, full), resize_map(mid.vis1, full), t)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)
