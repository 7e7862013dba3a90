"""A pool of training samples whose optical flow is computed once, stored as shards on disk.

DIS on the full frame (what inference does) costs 0.1-0.7 s per pair on a 2-core CPU, more than a
training step; computed on the fly it would set the pace of training, and computed on a crop it
would differ from what the network sees at inference (less context, borders). So a producer
computes DIS once per window of frames on the whole frame, cuts a few crops from it, and writes
shards; training draws from every shard written so far, with augmentations that transform the
stored flows exactly (mirror, transpose, time reversal) or leave them valid (sub-crop, colour).

Shard layout (``shard_NNNN.*.npy``, memory-mapped on read):
- ``frames``: uint8 (N, 2 + MIDS, S, S, 3): frame 0, frame 1, then up to MIDS frames between them
- ``flows``: float16 (N, 4, S/2, S/2): DIS 0->1 and 1->0 at half resolution, vectors in pixels of
  that half-resolution grid, as the networks take them (DIS "medium" refines at half resolution
  anyway: storing it there loses nothing)
- ``ts``: float32 (N, MIDS): the time of each stored middle frame (NaN where none)
- ``size``: int16 (N,): the valid square side (crops from small clips are smaller than S)
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

import cv2
import numpy as np
import torch

from ..core import motion
from .data import STATIC_LIMIT, Clip, _jpeg
from .synthetic import random_scene, render

STORE = 256  # stored crop side
MIDS = 3  # middle frames kept per window
GAP_WEIGHTS = {2: 0.3, 3: 0.1, 4: 0.2, 5: 0.08, 6: 0.12, 7: 0.08, 8: 0.12}


@dataclass
class PoolSample:
    frames: np.ndarray  # (2 + MIDS, S, S, 3)
    flows: np.ndarray  # (4, S/2, S/2) float16
    ts: np.ndarray  # (MIDS,)
    size: int


class PoolProducer:
    """Draws windows from clips (and synthetic scenes from stills) and turns them into samples."""

    def __init__(self, clips: Sequence[Clip], stills: Sequence[np.ndarray], synthetic_fraction: float = 0.25,
                 crops_per_window: int = 3, min_side: int = 192) -> None:
        self.clips = [c for c in clips if len(c.frames) >= 3 and min(c.frames[0].shape[:2]) >= min_side]
        self.stills = list(stills)
        self.synthetic_fraction = synthetic_fraction if self.stills else 0.0
        self.crops_per_window = crops_per_window
        self.min_side = min_side
        # Clips weigh by the square root of their length: long clips do not drown the short ones.
        w = np.sqrt([len(c.frames) for c in self.clips])
        self.clip_p = w / w.sum()

    def samples(self, rng: np.random.Generator) -> Iterator[PoolSample]:
        while True:
            if rng.random() < self.synthetic_fraction:
                yield self._synthetic(rng)
            else:
                yield from self._from_clip(rng)

    def _from_clip(self, rng: np.random.Generator) -> list[PoolSample]:
        for _ in range(100):
            clip = self.clips[int(rng.choice(len(self.clips), p=self.clip_p))]
            gaps = [g for g in GAP_WEIGHTS if g < len(clip.frames)]
            p = np.array([GAP_WEIGHTS[g] for g in gaps])
            gap = int(rng.choice(gaps, p=p / p.sum()))
            i = int(rng.integers(0, len(clip.frames) - gap))
            if not clip.window_ok(i, gap):
                continue
            window = clip.frames[i : i + gap + 1]
            if np.abs(window[0].astype(np.int16) - window[-1]).mean() < STATIC_LIMIT:
                continue
            h, w = window[0].shape[:2]
            # Large frames also train at a smaller scale: more motion per pixel, like a fast pan.
            scale = float(rng.choice([1.0, 1.0, 0.75, 0.5])) if min(h, w) * 0.5 >= self.min_side else 1.0
            if scale != 1.0:
                size = (round(w * scale), round(h * scale))
                window = [cv2.resize(f, size, interpolation=cv2.INTER_AREA) for f in window]
                h, w = window[0].shape[:2]
            f01, f10 = motion.motion_flows(window[0], window[-1])  # on the whole frame, as inference
            mids = sorted(rng.choice(np.arange(1, gap), size=min(MIDS, gap - 1), replace=False).tolist())
            side = min(STORE, (min(h, w) // 64) * 64)
            out = []
            for _ in range(self.crops_per_window):
                y = int(rng.integers(0, h - side + 1)) // 2 * 2
                x = int(rng.integers(0, w - side + 1)) // 2 * 2
                frames = [window[0], window[-1]] + [window[k] for k in mids]
                crops = [f[y : y + side, x : x + side] for f in frames]
                if np.abs(crops[0].astype(np.int16) - crops[1]).mean() < STATIC_LIMIT:
                    continue
                flows = np.stack([f[y : y + side, x : x + side] for f in (f01, f10)])  # (2, side, side, 2)
                out.append(_pack(crops, flows, [k / gap for k in mids], side))
            if out:
                return out
        raise RuntimeError("no usable window found in 100 tries (static or cut clips?)")

    def _synthetic(self, rng: np.random.Generator) -> PoolSample:
        max_motion = float(rng.choice([8, 16, 32, 48, 64, 96]))
        layers = random_scene(rng, self.stills, STORE, max_motion)
        ts = sorted(rng.uniform(0.08, 0.92, MIDS).tolist())
        frames = [render(layers, STORE, t) for t in [0.0, 1.0] + ts]
        if rng.random() < 0.5:  # compression like real footage, the same for all frames
            q = int(rng.integers(40, 95))
            frames = [_jpeg(f, q) for f in frames]
        f01, f10 = motion.motion_flows(frames[0], frames[1])
        return _pack(frames, np.stack([f01, f10]), ts, STORE)


def _pack(crops: list[np.ndarray], flows: np.ndarray, ts: list[float], side: int) -> PoolSample:
    frames = np.zeros((2 + MIDS, STORE, STORE, 3), np.uint8)
    for k, c in enumerate(crops):
        frames[k, :side, :side] = c
    half = np.zeros((4, STORE // 2, STORE // 2), np.float16)
    for d in range(2):  # half resolution, vectors in half-resolution pixels
        small = cv2.resize(flows[d], (side // 2, side // 2), interpolation=cv2.INTER_AREA) * 0.5
        half[2 * d : 2 * d + 2, : side // 2, : side // 2] = small.transpose(2, 0, 1)
    tt = np.full(MIDS, np.nan, np.float32)
    tt[: len(ts)] = ts
    return PoolSample(frames, half, tt, side)


def write_shard(samples: Sequence[PoolSample], folder: str | Path, index: int, info: dict) -> Path:
    """Write atomically: a reader never sees half a shard."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    stem = folder / f"shard_{index:04d}"
    parts = {
        "frames": np.stack([s.frames for s in samples]),
        "flows": np.stack([s.flows for s in samples]),
        "ts": np.stack([s.ts for s in samples]),
        "size": np.array([s.size for s in samples], np.int16),
    }
    for key, arr in parts.items():
        tmp = folder / f".{stem.name}.{key}.tmp.npy"
        np.save(tmp, arr)
        os.replace(tmp, f"{stem}.{key}.npy")
    tmp = folder / f".{stem.name}.json.tmp"
    tmp.write_text(json.dumps({**info, "samples": len(samples)}))
    os.replace(tmp, f"{stem}.json")  # written last: marks the shard complete
    return stem


class Pool:
    """Every complete shard in a folder, memory-mapped; `refresh()` picks up new ones."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.shards: list[dict[str, np.ndarray]] = []
        self._names: list[str] = []
        self.refresh()

    def refresh(self) -> int:
        for meta in sorted(self.folder.glob("shard_*.json")):
            stem = meta.with_suffix("")
            if stem.name in self._names:
                continue
            self.shards.append({k: np.load(f"{stem}.{k}.npy", mmap_mode="r") for k in ("frames", "flows", "ts", "size")})
            self._names.append(stem.name)
        self._index = [(s, j) for s, shard in enumerate(self.shards) for j in range(len(shard["size"]))]
        return len(self._index)

    def __len__(self) -> int:
        return len(self._index)

    def batch(self, seed: int, step: int, batch_size: int, crop: int = 192) -> dict[str, torch.Tensor]:
        """A training batch; the same (seed, step, pool contents) always gives the same batch."""
        rng = np.random.default_rng([seed, step])
        items = [self._item(rng, crop) for _ in range(batch_size)]
        stack = lambda k: torch.from_numpy(np.stack([it[k] for it in items]))  # noqa: E731
        return {
            "img0": stack("img0"), "img1": stack("img1"), "target": stack("target"),
            "t": torch.tensor([it["t"] for it in items], dtype=torch.float32),
            "flow01": stack("flow01"), "flow10": stack("flow10"),
        }

    def _item(self, rng: np.random.Generator, crop: int) -> dict:
        s, j = self._index[int(rng.integers(len(self._index)))]
        shard = self.shards[s]
        side = int(shard["size"][j])
        ts = np.asarray(shard["ts"][j])
        valid = np.flatnonzero(~np.isnan(ts))
        m = int(rng.choice(valid))
        c = min(crop, side)
        y = int(rng.integers(0, side - c + 1)) // 2 * 2
        x = int(rng.integers(0, side - c + 1)) // 2 * 2
        fr = np.asarray(shard["frames"][j, [0, 1, 2 + m], y : y + c, x : x + c], dtype=np.float32) / 255.0
        fl = np.asarray(shard["flows"][j, :, y // 2 : (y + c) // 2, x // 2 : (x + c) // 2], dtype=np.float32)
        f0, f1, ft = fr[0], fr[1], fr[2]
        u01, v01, u10, v10 = fl
        t = float(ts[m])
        if rng.random() < 0.5:  # mirror left-right
            f0, f1, ft = f0[:, ::-1], f1[:, ::-1], ft[:, ::-1]
            u01, v01, u10, v10 = -u01[:, ::-1], v01[:, ::-1], -u10[:, ::-1], v10[:, ::-1]
        if rng.random() < 0.25:  # upside down
            f0, f1, ft = f0[::-1], f1[::-1], ft[::-1]
            u01, v01, u10, v10 = u01[::-1], -v01[::-1], u10[::-1], -v10[::-1]
        if rng.random() < 0.25:  # transpose: with the mirrors, all eight orientations
            f0, f1, ft = (a.transpose(1, 0, 2) for a in (f0, f1, ft))
            u01, v01, u10, v10 = v01.T, u01.T, v10.T, u10.T
        if rng.random() < 0.5:  # play it backwards
            f0, f1, t = f1, f0, 1.0 - t
            u01, v01, u10, v10 = u10, v10, u01, v01
        if rng.random() < 0.4:  # colour: gain per channel and brightness, the same on all frames
            gain = (rng.uniform(0.85, 1.15, 3) * rng.uniform(0.85, 1.15)).astype(np.float32)
            bias = np.float32(rng.uniform(-0.04, 0.04))
            f0, f1, ft = (np.clip(a * gain + bias, 0, 1) for a in (f0, f1, ft))
        if rng.random() < 0.2:
            perm = rng.permutation(3)
            f0, f1, ft = (a[..., perm] for a in (f0, f1, ft))
        chw = lambda a: np.ascontiguousarray(a.transpose(2, 0, 1))  # noqa: E731
        return {
            "img0": chw(f0), "img1": chw(f1), "target": chw(ft), "t": t,
            "flow01": np.ascontiguousarray(np.stack([u01, v01])), "flow10": np.ascontiguousarray(np.stack([u10, v10])),
        }
