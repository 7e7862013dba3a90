"""FusionUNet inference on a CPU: the network where it is a network, OpenCV everywhere else.

The training forward pass (fusion_unet.FusionUNet.forward) does everything in torch at full
resolution: resizing flows, five grid_sample warps, the weighted sum. On a CPU without AVX-512
that full-resolution part cost more than the convolutions. Here the U-Net runs in torch at 1/4
resolution (`FusionUNet.quarter`, the same code as in training), and the full-resolution part is
OpenCV: `remap` on the uint8 frames, `resize` for the fields, one pass for the weighted sum.
`tests/test_fusion_inference.py` checks that the two give the same picture (PSNR > 45 dB).
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from ..core import flow_ops, motion
from .fusion_unet import FusionUNet


def _to_hwc(t: torch.Tensor) -> np.ndarray:
    return np.ascontiguousarray(t[0].permute(1, 2, 0).numpy())


def _upsample(field: np.ndarray, size: tuple[int, int], vectors: bool) -> np.ndarray:
    """Bilinear resize of an (h,w,c) field (the same as F.interpolate, align_corners=False); flow
    vectors (pairs of channels) are scaled with the grid."""
    h, w = field.shape[:2]
    out = cv2.resize(field, (size[1], size[0]), interpolation=cv2.INTER_LINEAR)
    if out.ndim == 2:
        out = out[..., None]
    if vectors:
        out[..., 0::2] *= size[1] / w
        out[..., 1::2] *= size[0] / h
    return out


class FusionPipeline:
    """prepare() once per pair, then synthesize() for each t. Frames are padded to the network's
    multiple (edges replicated); flows are computed on the unpadded frames and padded alike."""

    def __init__(self, model: FusionUNet) -> None:
        self.model = model

    def prepare(self, frame0: np.ndarray, frame1: np.ndarray, flows: tuple[np.ndarray, np.ndarray]) -> dict[str, Any]:
        h, w = frame0.shape[:2]
        m = self.model.multiple
        H, W = h + (-h) % m, w + (-w) % m
        pad = ((0, H - h), (0, W - w), (0, 0))
        p0 = np.pad(frame0, pad, mode="edge") if (H, W) != (h, w) else frame0
        p1 = np.pad(frame1, pad, mode="edge") if (H, W) != (h, w) else frame1
        f01, f10 = (np.pad(f, pad, mode="edge") for f in flows)
        s = self.model.config.scale
        q = (H // s, W // s)

        def pooled(img: np.ndarray) -> torch.Tensor:  # box filter = avg_pool2d
            small = cv2.resize(img.astype(np.float32) * (1.0 / 255.0), (q[1], q[0]), interpolation=cv2.INTER_AREA)
            return torch.from_numpy(np.ascontiguousarray(small.transpose(2, 0, 1)))[None]

        full = torch.from_numpy(np.ascontiguousarray(np.concatenate([f01, f10], 2).transpose(2, 0, 1)))[None]
        half = flow_ops.resize_fields(full, (H // 2, W // 2))
        return {"size": (h, w), "padded": (H, W), "p0": p0, "p1": p1, "f01": f01, "f10": f10,
                "i0": pooled(p0), "i1": pooled(p1), "half": half}

    @torch.inference_mode()
    def synthesize(self, st: dict[str, Any], t: float) -> np.ndarray:
        (h, w), (H, W) = st["size"], st["padded"]
        s = self.model.config.scale
        q = (H // s, W // s)
        t4 = torch.tensor([[[[t]]]], dtype=torch.float32)
        half = st["half"]
        hl0, hl1 = flow_ops.linear_intermediate(half[:, 0:2], half[:, 2:4], t4)
        hs0, hs1, k0, k1 = flow_ops.splat_candidates(half[:, 0:2], half[:, 2:4], hl0, hl1, t4)
        quarter = flow_ops.resize_fields(torch.cat([half, hs0, hs1], 1), q)
        kq = F.interpolate(torch.cat([k0, k1], 1), size=q, mode="bilinear", align_corners=False)
        delta, weights, rgb = self.model.quarter(
            st["i0"], st["i1"], t4, quarter[:, 0:2], quarter[:, 2:4], quarter[:, 4:6], quarter[:, 6:8], kq[:, 0:1], kq[:, 1:2]
        )
        # Full resolution, in OpenCV.
        lt0, lt1 = motion.linear_intermediate(st["f01"], st["f10"], t)
        d = _upsample(_to_hwc(delta), (H, W), vectors=True)
        sp = _upsample(_to_hwc(torch.cat([hs0, hs1], 1)), (H, W), vectors=True)
        p0, p1 = st["p0"], st["p1"]
        cands = (
            motion.backward_warp(p0, lt0 + d[..., 0:2]),
            motion.backward_warp(p1, lt1 + d[..., 2:4]),
            motion.backward_warp(p0, np.ascontiguousarray(sp[..., 0:2])),
            motion.backward_warp(p1, np.ascontiguousarray(sp[..., 2:4])),
            cv2.addWeighted(p0, 1.0 - t, p1, t, 0.0),
        )
        wts = _upsample(_to_hwc(weights), (H, W), vectors=False)
        # The RGB residual's pixel shuffle as a reshape: channel c*s*s + i*s + j -> pixel (s*y+i, s*x+j).
        res = rgb[0].numpy().reshape(3, s, s, q[0], q[1]).transpose(3, 1, 4, 2, 0).reshape(H, W, 3)
        out = res * 255.0
        for k, c in enumerate(cands):
            out += wts[..., k : k + 1] * c
        return np.clip(out[:h, :w] + 0.5, 0, 255).astype(np.uint8)
