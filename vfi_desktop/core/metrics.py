"""Image quality figures against a ground-truth frame (uint8 RGB in, higher is better)."""

from __future__ import annotations

import cv2
import numpy as np


def psnr(pred: np.ndarray, truth: np.ndarray) -> float:
    """Peak signal-to-noise ratio in dB over all pixels and channels (capped at 100 for identical images)."""
    mse = np.mean((pred.astype(np.float64) - truth.astype(np.float64)) ** 2)
    return 100.0 if mse == 0 else float(10.0 * np.log10(255.0**2 / mse))


def ssim(pred: np.ndarray, truth: np.ndarray) -> float:
    """Structural similarity (Wang et al. 2004: 11x11 Gaussian window, sigma 1.5), mean over RGB."""
    return float(np.mean(ssim_map(pred, truth)))


def ssim_map(pred: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Per-pixel SSIM (HxW, mean over channels); useful as an error heat map."""
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    x = pred.astype(np.float64)
    y = truth.astype(np.float64)

    def blur(a: np.ndarray) -> np.ndarray:
        return cv2.GaussianBlur(a, (11, 11), 1.5, borderType=cv2.BORDER_REFLECT)

    mx, my = blur(x), blur(y)
    sxx = blur(x * x) - mx * mx
    syy = blur(y * y) - my * my
    sxy = blur(x * y) - mx * my
    num = (2 * mx * my + c1) * (2 * sxy + c2)
    den = (mx * mx + my * my + c1) * (sxx + syy + c2)
    m = num / den
    return m.mean(axis=2) if m.ndim == 3 else m


def error_map(pred: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Mean absolute error per pixel, 0..255 float32 (HxW)."""
    return np.abs(pred.astype(np.float32) - truth.astype(np.float32)).mean(axis=2)
