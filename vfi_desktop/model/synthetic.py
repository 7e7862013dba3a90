"""Synthetic motion with exact ground truth, made from still photos.

Real clips rarely hold large or fast motion; here a virtual camera pans, zooms and rotates over a
photo while pieces cut from other photos move over it with their own motion (and occlude it).
Motion is linear in time, so the frame at any t is exactly known.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass
class Layer:
    texture: np.ndarray  # RGB
    alpha: np.ndarray  # float32 0..1, same size as texture (1 for the background)
    start: np.ndarray  # 2x3 affine at t=0 (texture -> output)
    end: np.ndarray  # 2x3 affine at t=1


def _affine(center: tuple[float, float], angle_deg: float, scale: float, shift: tuple[float, float]) -> np.ndarray:
    m = cv2.getRotationMatrix2D(center, angle_deg, scale)
    m[:, 2] += shift
    return m


def _lerp_affine(a: np.ndarray, b: np.ndarray, t: float) -> np.ndarray:
    return (1.0 - t) * a + t * b


def _random_shape_mask(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    mask = np.zeros((h, w), np.uint8)
    if rng.random() < 0.5:
        axes = (int(w * rng.uniform(0.25, 0.48)), int(h * rng.uniform(0.25, 0.48)))
        cv2.ellipse(mask, (w // 2, h // 2), axes, float(rng.uniform(0, 180)), 0, 360, 255, -1, cv2.LINE_AA)
    else:
        n = int(rng.integers(3, 9))
        angles = np.sort(rng.uniform(0, 2 * np.pi, n))
        radii = rng.uniform(0.25, 0.5, n)
        pts = np.stack([w / 2 + np.cos(angles) * radii * w, h / 2 + np.sin(angles) * radii * h], 1).astype(np.int32)
        cv2.fillPoly(mask, [pts], 255, cv2.LINE_AA)
    return mask.astype(np.float32) / 255.0


def random_scene(rng: np.random.Generator, stills: list[np.ndarray], size: int, max_motion: float) -> list[Layer]:
    """A background with camera motion plus 0-3 moving foreground pieces, for an output of size x size."""
    bg = stills[int(rng.integers(len(stills)))]
    bh, bw = bg.shape[:2]
    # Camera: the output window moves over the background photo.
    zoom0 = rng.uniform(0.6, 1.6) * size / min(bh, bw) * 1.3
    zoom0 = max(zoom0, size * 1.15 / min(bh, bw))  # the window must stay inside the photo
    pan = rng.normal(0, max_motion / 2.5, 2).clip(-max_motion, max_motion)
    angle = float(rng.normal(0, 3.0)) if rng.random() < 0.5 else 0.0
    zoom1 = zoom0 * float(np.exp(rng.normal(0, 0.06))) if rng.random() < 0.5 else zoom0
    cx, cy = bw / 2 + rng.uniform(-0.2, 0.2) * bw, bh / 2 + rng.uniform(-0.2, 0.2) * bh
    shift = (size / 2 - cx, size / 2 - cy)
    start = _affine((cx, cy), 0.0, zoom0, shift)
    end = _affine((cx, cy), angle, zoom1, (shift[0] + pan[0], shift[1] + pan[1]))
    layers = [Layer(bg, np.ones(bg.shape[:2], np.float32), start, end)]
    for _ in range(int(rng.choice([0, 1, 1, 2, 2, 3]))):
        src = stills[int(rng.integers(len(stills)))]
        sh, sw = src.shape[:2]
        ph = int(min(sh, size * rng.uniform(0.2, 0.6)))
        pw = int(min(sw, size * rng.uniform(0.2, 0.6)))
        y, x = int(rng.integers(0, sh - ph + 1)), int(rng.integers(0, sw - pw + 1))
        tex = src[y : y + ph, x : x + pw]
        alpha = _random_shape_mask(rng, ph, pw)
        p0 = rng.uniform(0.1, 0.9, 2) * size
        move = rng.normal(0, max_motion / 1.5, 2).clip(-2 * max_motion, 2 * max_motion)
        rot = float(rng.normal(0, 10.0))
        sc = float(np.exp(rng.normal(0, 0.08)))
        center = (pw / 2, ph / 2)
        s0 = _affine(center, 0.0, 1.0, (p0[0] - pw / 2, p0[1] - ph / 2))
        s1 = _affine(center, rot, sc, (p0[0] + move[0] - pw / 2, p0[1] + move[1] - ph / 2))
        layers.append(Layer(tex, alpha, s0, s1))
    return layers


def render(layers: list[Layer], size: int, t: float) -> np.ndarray:
    out = np.zeros((size, size, 3), np.float32)
    for i, layer in enumerate(layers):
        m = _lerp_affine(layer.start, layer.end, t)
        img = cv2.warpAffine(layer.texture, m, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        if i == 0:
            out = img.astype(np.float32)
            continue
        a = cv2.warpAffine(layer.alpha, m, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
        out = out * (1.0 - a[..., None]) + img.astype(np.float32) * a[..., None]
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def synthetic_triplet(
    rng: np.random.Generator, stills: list[np.ndarray], size: int, t: float, max_motion: float = 48.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(frame0, frame_t, frame1) of a random synthetic scene."""
    layers = random_scene(rng, stills, size, max_motion)
    return render(layers, size, 0.0), render(layers, size, t), render(layers, size, 1.0)
