"""Small synthetic clips for tests: every test makes its own, so the suite passes on any clone."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Optional

import numpy as np


def texture(h: int, w: int, seed: int = 0) -> np.ndarray:
    """A smooth random colour texture (optical flow needs something to lock on to)."""
    import cv2

    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (max(2, h // 8), max(2, w // 8), 3), dtype=np.uint8)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)


def moving_square(n: int, h: int = 96, w: int = 128, step: float = 3.0, seed: int = 0) -> list[np.ndarray]:
    """A textured square sliding right over a textured background: exact frames at any time."""
    bg = texture(h, w, seed)
    fg = texture(h // 3, h // 3, seed + 1)
    frames = []
    for i in range(n):
        frames.append(square_at(bg, fg, 4 + i * step))
    return frames


def square_at(bg: np.ndarray, fg: np.ndarray, x: float) -> np.ndarray:
    import cv2

    h, w = bg.shape[:2]
    s = fg.shape[0]
    frame = bg.copy()
    m = np.float32([[1, 0, x], [0, 1, (h - s) / 2]])
    warped = cv2.warpAffine(fg, m, (w, h))
    mask = cv2.warpAffine(np.ones((s, s), np.float32), m, (w, h))[..., None]
    return (frame * (1 - mask) + warped * mask + 0.5).astype(np.uint8)


def write_video(
    path: Path,
    frames: list[np.ndarray],
    fps: float = 24.0,
    codec: str = "libx264",
    gop: int = 12,
    bframes: int = 2,
    audio_seconds: Optional[float] = None,
) -> Path:
    """Encode frames with PyAV (long GOPs and B-frames make seeking non-trivial)."""
    import av

    container = av.open(str(path), mode="w")
    rate = Fraction(fps).limit_denominator(1001)
    stream = container.add_stream(codec, rate=rate)
    h, w = frames[0].shape[:2]
    stream.width, stream.height = w, h
    stream.pix_fmt = "yuv420p"
    if codec == "libx264":
        stream.options = {"g": str(gop), "bf": str(bframes), "crf": "12", "keyint_min": str(gop), "sc_threshold": "0"}
    else:
        stream.gop_size = gop
        stream.bit_rate = 4_000_000
    audio = None
    if audio_seconds:
        audio = container.add_stream("aac", rate=44100)
        audio.layout = "mono"
    for i, f in enumerate(frames):
        vf = av.VideoFrame.from_ndarray(f, format="rgb24")
        vf.pts = i
        for p in stream.encode(vf):
            container.mux(p)
    for p in stream.encode():
        container.mux(p)
    if audio is not None:
        n = int(44100 * audio_seconds)
        tone = (0.2 * np.sin(2 * np.pi * 440 * np.arange(n) / 44100)).astype(np.float32)
        for start in range(0, n, 1024):
            chunk = tone[start : start + 1024][None]
            af = av.AudioFrame.from_ndarray(chunk, format="flt", layout="mono")
            af.sample_rate = 44100
            af.pts = start
            for p in audio.encode(af):
                container.mux(p)
        for p in audio.encode():
            container.mux(p)
    container.close()
    return path


def write_pngs(folder: Path, frames: list[np.ndarray], pattern: str = "frame{}.png") -> Path:
    import cv2

    folder.mkdir(parents=True, exist_ok=True)
    for i, f in enumerate(frames):
        cv2.imwrite(str(folder / pattern.format(i)), f[:, :, ::-1])
    return folder
