"""Frame conversions: everything inside the engine is HxWx3 uint8 RGB."""

from __future__ import annotations

import numpy as np


def to_rgb8(image: np.ndarray) -> np.ndarray:
    """Convert grayscale / 16-bit / float / alpha images to HxWx3 uint8 RGB (channel order kept).

    Alpha is composited over black, which is how a video player would show it.
    """
    img = np.asarray(image)
    if img.dtype == np.uint16:
        img = (img.astype(np.uint32) * 255 + 32767) // 65535
    elif img.dtype.kind == "f":
        img = np.clip(img, 0.0, 1.0) * 255.0 + 0.5
    elif img.dtype == np.bool_:
        img = img.astype(np.uint8) * 255
    img = img.astype(np.uint8, copy=False)
    if img.ndim == 2:
        img = img[:, :, None]
    if img.ndim != 3:
        raise ValueError(f"expected an image, got an array of shape {image.shape}")
    channels = img.shape[2]
    if channels == 1:
        img = np.repeat(img, 3, axis=2)
    elif channels == 2:  # gray + alpha
        alpha = img[:, :, 1:2].astype(np.uint16)
        img = np.repeat(((img[:, :, :1] * alpha + 127) // 255).astype(np.uint8), 3, axis=2)
    elif channels == 4:
        alpha = img[:, :, 3:4].astype(np.uint16)
        img = ((img[:, :, :3] * alpha + 127) // 255).astype(np.uint8)
    elif channels != 3:
        raise ValueError(f"unsupported number of channels: {channels}")
    return np.ascontiguousarray(img)


def check_frame(frame: np.ndarray, name: str = "frame") -> np.ndarray:
    """Validate an API input: HxWx3 uint8."""
    if not isinstance(frame, np.ndarray) or frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
        shape = getattr(frame, "shape", None)
        dtype = getattr(frame, "dtype", None)
        raise ValueError(f"{name} must be an HxWx3 uint8 RGB array, got shape={shape} dtype={dtype}")
    if frame.shape[0] < 2 or frame.shape[1] < 2:
        raise ValueError(f"{name} is too small: {frame.shape[1]}x{frame.shape[0]}")
    return frame


def resize_to_fit(frame: np.ndarray, max_side: int) -> np.ndarray:
    import cv2

    h, w = frame.shape[:2]
    scale = max_side / max(h, w)
    if scale >= 1:
        return frame
    return cv2.resize(frame, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
