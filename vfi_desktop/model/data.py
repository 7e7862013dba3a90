"""Training triplets from clips, image folders and still photos.

A triplet is (frame0, frame_t, frame1, t): inputs i and i+gap, target i+k, t = k/gap. Gaps of 2-6
give larger motion and t other than 1/2. Triplets across scene cuts and static triplets are left out.

Augmentation (`augment`):
- "general" (the bundled model): random crops, flips, 90-degree turns, temporal reversal (swap
  inputs, t -> 1-t), colour jitter, channel shuffles, rescaling, and synthetic motion from stills
  for motion the clips lack: footage of every kind.
- "adapt" (fine-tuning on a user's own clips): crops at the clip's own scale, left-right flips and
  temporal reversal only. The scale is what matters: enlarged crops change the motion in pixels
  that inference sees (newtonscradle.gif, Quick preset: +0.52 dB held out at its own scale, +0.25
  with enlarged crops; MODEL_CARD.md, "What was tried"). One user's footage has one look, so colour and
  orientation changes are left out (equal there).
- "none": crops only (tests).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Sequence

import cv2
import numpy as np
import torch

from ..core import motion
from ..core.errors import VfiError
from ..core.scenes import analyse_frames
from ..core.video_io import IMAGE_EXTENSIONS, open_source, read_image
from .synthetic import synthetic_triplet

AUGMENT_MODES = ("general", "adapt", "none")
STATIC_LIMIT = 0.6  # mean |frame1 - frame0| (0..255) below which a triplet teaches nothing


@dataclass
class Clip:
    name: str
    frames: list[np.ndarray]
    cuts: set[int] = field(default_factory=set)  # a cut lies between i and i+1

    def window_ok(self, start: int, gap: int) -> bool:
        return not any(c in self.cuts for c in range(start, start + gap))


@dataclass
class Sample:
    frame0: np.ndarray
    target: np.ndarray
    frame1: np.ndarray
    t: float
    # The size of the frame the crop comes from, at the crop's scale: DIS refines to a level that
    # depends on the frame size (core.motion.finest_scale_for), and training must match inference.
    source_size: Optional[tuple[int, int]] = None


def load_clip(path: str | Path, max_side: int = 960, frames: Optional[range] = None) -> Clip:
    """Decode a clip (or image folder) into memory, shrinking very large frames; find its cuts."""
    with open_source(path) as src:
        indices = frames if frames is not None else range(len(src))
        out = []
        for i in indices:
            f = src.read(i)
            h, w = f.shape[:2]
            if max(h, w) > max_side:
                s = max_side / max(h, w)
                f = cv2.resize(f, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)
            out.append(np.ascontiguousarray(f))
    analysis = analyse_frames(out, len(out))
    return Clip(Path(path).name, out, set(analysis.cuts))


def load_stills(folder: str | Path, max_side: int = 768) -> list[np.ndarray]:
    folder = Path(folder)
    stills = []
    for p in sorted(folder.iterdir()):
        if p.suffix.lower() in IMAGE_EXTENSIONS:
            img = read_image(p)
            h, w = img.shape[:2]
            if max(h, w) > max_side:
                s = max_side / max(h, w)
                img = cv2.resize(img, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)
            if min(img.shape[:2]) >= 128:
                stills.append(img)
    return stills


def split_held_out(n_frames: int, held_out_fraction: float) -> tuple[range, range]:
    """Time-based split: the last part of a clip is held out, so its frames are never trained on."""
    n_val = max(3, int(round(n_frames * held_out_fraction)))
    if n_frames - n_val < 3:
        raise VfiError(f"the clip is too short to hold out frames for checking ({n_frames} frames)")
    return range(0, n_frames - n_val), range(n_frames - n_val, n_frames)


def count_triplets(clips: Sequence[Clip], max_gap: int = 6) -> int:
    total = 0
    for clip in clips:
        for gap in range(2, max_gap + 1):
            total += sum(clip.window_ok(i, gap) for i in range(len(clip.frames) - gap)) * (gap - 1)
    return total


class TripletSampler:
    """Random augmented training samples; the same (seed, step) always gives the same batch."""

    def __init__(
        self,
        clips: Sequence[Clip],
        stills: Sequence[np.ndarray] = (),
        crop: int = 256,
        synthetic_fraction: float = 0.3,
        max_gap: int = 6,
        augment: str = "general",
    ) -> None:
        if augment not in AUGMENT_MODES:
            raise VfiError(f"unknown augmentation '{augment}' (use {', '.join(AUGMENT_MODES)})")
        self.augment = augment
        self.clips = [c for c in clips if len(c.frames) >= 3]
        self.stills = list(stills)
        if not self.clips and not self.stills:
            raise VfiError("no training data: add clips with at least 3 frames, or photos")
        self.crop = crop
        self.synthetic_fraction = synthetic_fraction if self.stills else 0.0
        if not self.clips:
            self.synthetic_fraction = 1.0
        self.max_gap = max_gap
        weights = np.array([len(c.frames) for c in self.clips], dtype=np.float64)
        self.clip_p = weights / weights.sum() if len(weights) else None

    def sample(self, rng: np.random.Generator) -> Sample:
        if rng.random() < self.synthetic_fraction:
            s = self._synthetic(rng)
        else:
            s = self._from_clip(rng)
        if self.augment == "general":
            s = self._augment(s, rng)
        elif self.augment == "adapt":
            s = self._augment_light(s, rng)
        return s

    def _synthetic(self, rng: np.random.Generator) -> Sample:
        t = float(rng.choice([0.25, 0.5, 0.5, 0.75]) if rng.random() < 0.7 else rng.uniform(0.1, 0.9))
        f0, ft, f1 = synthetic_triplet(rng, self.stills, self.crop, t, max_motion=float(rng.choice([8, 16, 32, 48])))
        if rng.random() < 0.5:  # compression like real footage, the same for all three frames
            q = int(rng.integers(40, 95))
            f0, ft, f1 = (_jpeg(x, q) for x in (f0, ft, f1))
        return Sample(f0, ft, f1, t)

    def _from_clip(self, rng: np.random.Generator) -> Sample:
        for _ in range(50):
            clip = self.clips[int(rng.choice(len(self.clips), p=self.clip_p))]
            n = len(clip.frames)
            max_gap = min(self.max_gap, n - 1)
            if max_gap < 2:
                continue
            # Gap 2 (t = 1/2, the commonest use) half the time; otherwise larger motion and other t.
            gap = 2 if rng.random() < 0.5 else int(rng.integers(2, max_gap + 1))
            i = int(rng.integers(0, n - gap))
            if not clip.window_ok(i, gap):
                continue
            k = int(rng.integers(1, gap))
            f0, ft, f1 = clip.frames[i], clip.frames[i + k], clip.frames[i + gap]
            y, x, size = self._crop_box(rng, f0.shape[:2])
            f0, ft, f1 = (a[y : y + size, x : x + size] for a in (f0, ft, f1))
            if np.abs(f0.astype(np.int16) - f1.astype(np.int16)).mean() < STATIC_LIMIT:
                continue
            scale = 1.0
            if size != self.crop:
                scale = self.crop / size
                f0, ft, f1 = (cv2.resize(a, (self.crop, self.crop), interpolation=cv2.INTER_AREA) for a in (f0, ft, f1))
            source = (round(clip.frames[0].shape[0] * scale), round(clip.frames[0].shape[1] * scale))
            return Sample(np.ascontiguousarray(f0), np.ascontiguousarray(ft), np.ascontiguousarray(f1), k / gap, source)
        if self.stills:
            return self._synthetic(rng)
        raise VfiError("could not find a usable training triplet (clips static or cut everywhere?)")

    def _crop_box(self, rng: np.random.Generator, shape: tuple[int, int]) -> tuple[int, int, int]:
        """A square window; sometimes larger than the crop and shrunk (more motion per pixel)."""
        h, w = shape
        largest = min(h, w)
        size = self.crop
        if self.augment == "general" and rng.random() < 0.3:
            size = int(self.crop * rng.uniform(1.0, 1.6))
        size = min(size, largest)
        y = int(rng.integers(0, h - size + 1))
        x = int(rng.integers(0, w - size + 1))
        return y, x, size

    def _augment(self, s: Sample, rng: np.random.Generator) -> Sample:
        f0, ft, f1, t = s.frame0, s.target, s.frame1, s.t
        if rng.random() < 0.5:
            f0, ft, f1 = (a[:, ::-1] for a in (f0, ft, f1))
        if rng.random() < 0.25:
            f0, ft, f1 = (a[::-1] for a in (f0, ft, f1))
        if rng.random() < 0.25:
            f0, ft, f1 = (np.rot90(a) for a in (f0, ft, f1))
        if rng.random() < 0.5:  # temporal reversal
            f0, f1, t = f1, f0, 1.0 - t
        if rng.random() < 0.5:  # colour jitter, identical on all three
            gain = rng.uniform(0.8, 1.2, 3).astype(np.float32) * rng.uniform(0.85, 1.15)
            bias = rng.uniform(-12, 12)
            f0, ft, f1 = (np.clip(a.astype(np.float32) * gain + bias, 0, 255).astype(np.uint8) for a in (f0, ft, f1))
        if rng.random() < 0.3:  # channel order
            perm = rng.permutation(3)
            f0, ft, f1 = (a[..., perm] for a in (f0, ft, f1))
        return Sample(*(np.ascontiguousarray(a) for a in (f0, ft, f1)), float(t), s.source_size)


    @staticmethod
    def _augment_light(s: Sample, rng: np.random.Generator) -> Sample:
        """Changes the footage itself could show: its mirror image and its motion played backwards."""
        f0, ft, f1, t = s.frame0, s.target, s.frame1, s.t
        if rng.random() < 0.5:
            f0, ft, f1 = (a[:, ::-1] for a in (f0, ft, f1))
        if rng.random() < 0.5:
            f0, f1, t = f1, f0, 1.0 - t
        return Sample(*(np.ascontiguousarray(a) for a in (f0, ft, f1)), float(t), s.source_size)


def _jpeg(img: np.ndarray, quality: int) -> np.ndarray:
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, quality])
    return cv2.imdecode(buf, cv2.IMREAD_UNCHANGED) if ok else img


def to_batch(samples: Sequence[Sample], motion_kind: Optional[str]) -> dict[str, torch.Tensor]:
    """Stack samples into tensors, adding the motion the network starts from: "flows" (DIS both
    ways, FusionUNet) or None (DirectUNet)."""

    def stack(key: str) -> torch.Tensor:
        arr = np.stack([getattr(s, key) for s in samples]).astype(np.float32) / 255.0
        return torch.from_numpy(arr).permute(0, 3, 1, 2).contiguous()

    batch = {
        "img0": stack("frame0"),
        "img1": stack("frame1"),
        "target": stack("target"),
        "t": torch.tensor([s.t for s in samples], dtype=torch.float32),
    }
    if motion_kind == "flows":
        pairs = [motion.motion_flows(s.frame0, s.frame1, s.source_size) for s in samples]
        for k, key in enumerate(("flow01", "flow10")):
            batch[key] = torch.from_numpy(np.stack([p[k] for p in pairs])).permute(0, 3, 1, 2).contiguous()
    return batch


def model_inputs(batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {k: v for k, v in batch.items() if k != "target"}


def sample_batch(
    sampler: TripletSampler, seed: int, step: int, batch_size: int, motion_kind: Optional[str]
) -> dict[str, torch.Tensor]:
    rng = np.random.default_rng([seed, step])  # per-step generator: resuming needs no RNG state
    return to_batch([sampler.sample(rng) for _ in range(batch_size)], motion_kind)


def motion_kind(model: torch.nn.Module) -> Optional[str]:
    """Which motion input a network takes (see to_batch)."""
    return {"fusion_unet": "flows"}.get(getattr(model, "arch", ""))

