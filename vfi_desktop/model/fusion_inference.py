"""FusionUNet inference on a CPU: the network where it is a network, OpenCV everywhere else.

The training forward pass (fusion_unet.FusionUNet.forward) does everything in torch at full
resolution: resizing flows, five grid_sample warps, the weighted sum. On a CPU without AVX-512
that full-resolution part cost more than the convolutions. Here the U-Net runs in torch on its
coarse grid (`FusionUNet.quarter`, the same code as in training; 1/4 of the frame, 1/8 from 720p:
`FusionUNet.grid_scale`), and the full-resolution part is
OpenCV: `remap` on the float frames, `resize` for the fields, one pass per candidate for the weighted sum.
`tests/test_fusion_unet.py` checks that the two give the same picture (PSNR > 45 dB).
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
import torch

from ..core.motion import backward_warp
from .fusion_unet import FusionUNet
from .interpolator import pad_to


def _to_hwc(t: torch.Tensor) -> np.ndarray:
    return np.ascontiguousarray(t[0].permute(1, 2, 0).numpy())


def _upsample(field: np.ndarray, size: tuple[int, int], scale: float = 1.0) -> np.ndarray:
    """Bilinear resize of an (h,w,c) field (the same as F.interpolate, align_corners=False),
    values multiplied by `scale` (flow vectors grow with the grid)."""
    out = cv2.resize(field, (size[1], size[0]), interpolation=cv2.INTER_LINEAR)
    if scale != 1.0:
        out *= scale
    return out


def _area(field: np.ndarray, size: tuple[int, int], scale: float) -> np.ndarray:
    """Box-filtered downsizing (cv2.INTER_AREA), values times `scale`."""
    out = cv2.resize(field, (size[1], size[0]), interpolation=cv2.INTER_AREA)
    out *= scale
    return out


class _Quarter(torch.nn.Module):
    def __init__(self, model: FusionUNet) -> None:
        super().__init__()
        self.model = model

    def forward(self, i0, i1, t4, f01, f10):  # noqa: ANN001 - traced
        return self.model.quarter(i0, i1, t4, f01, f10)


def _trace_quarter(model: FusionUNet, args: tuple[torch.Tensor, ...]):
    """The coarse-grid part (1/4 or 1/8) as a traced graph for these shapes; eager if tracing fails
    (tracing is only a speed-up, the eager code is the reference). The traced code is kept free
    of tracer warnings (flow_ops.backward_warp) rather than silenced: warnings.catch_warnings is
    not thread-safe, and the GUI traces in workers while pyqtgraph paints on the UI thread."""
    try:
        return torch.jit.trace(_Quarter(model).eval(), args, check_trace=False)
    except Exception:  # pragma: no cover - eager is always there
        return model.quarter


class FusionPipeline:
    """prepare() once per pair, then synthesize() for each t. Frames are padded to the network's
    multiple (edges replicated); flows are computed on the unpadded frames and padded alike.

    In an export (`use_traced_graph`) the coarse-grid part runs as a traced TorchScript graph
    (one per frame size, made in ~0.7 s on first use): the same ops, but executed without
    holding Python's GIL between them. In an export, where decoding, motion estimation and
    encoding run on other threads, the eager network waited for the GIL between its ~200 small
    ops: 576 ms instead of 220 for its 720p part while a Python thread ran, 355 ms traced (182
    alone)."""

    def __init__(self, model: FusionUNet) -> None:
        self.model = model
        # Off for single in-betweens (Interpolate, the self-check, Auto: no ~0.7 s trace, and the
        # figures agree to the last bit); on for exports and the benchmark (`begin_batch`).
        self.use_traced_graph = False
        self._traced: dict[tuple, Any] = {}

    def _quarter(self, *args: torch.Tensor):
        if not self.use_traced_graph:
            return self.model.quarter(*args)
        key = tuple(args[0].shape)
        fn = self._traced.get(key)
        if fn is None:
            fn = _trace_quarter(self.model, args)
            if len(self._traced) > 4:
                self._traced.clear()
            self._traced[key] = fn
        return fn(*args)

    def prepare(self, frame0: np.ndarray, frame1: np.ndarray, flows: tuple[np.ndarray, np.ndarray]) -> dict[str, Any]:
        h, w = frame0.shape[:2]
        s, (H, W) = self.model.inference_grid(h, w)
        # The frames as float32 (remapping floats keeps the result within 90 dB of grid_sample's).
        p0f, p1f = (np.float32(pad_to(f, (H, W))) for f in (frame0, frame1))
        f01, f10 = (pad_to(f, (H, W)) for f in flows)
        q = (H // s, W // s)

        def pooled(img: np.ndarray) -> torch.Tensor:  # box filter = avg_pool2d
            small = cv2.resize(img, (q[1], q[0]), interpolation=cv2.INTER_AREA) * (1.0 / 255.0)
            return torch.from_numpy(np.ascontiguousarray(small.transpose(2, 0, 1)))[None]

        # The flows box-filtered to the U-Net's grid (INTER_AREA = the network's quarter_flows).
        fq = np.concatenate([_area(f, q, 1.0 / s) for f in (f01, f10)], 2)
        return {"size": (h, w), "padded": (H, W), "scale": s, "p0f": p0f, "p1f": p1f, "f01": f01, "f10": f10,
                "i0": pooled(p0f), "i1": pooled(p1f),
                "fq": torch.from_numpy(np.ascontiguousarray(fq.transpose(2, 0, 1)))[None]}

    @torch.inference_mode()
    def synthesize(self, st: dict[str, Any], t: float) -> np.ndarray:
        (h, w), (H, W), s = st["size"], st["padded"], st["scale"]
        r = self.model.config.scale  # the residual's pixel shuffle
        q = (H // s, W // s)
        t4 = torch.tensor([[[[t]]]], dtype=torch.float32)
        fq = st["fq"]
        delta, weights, rgb, splat = self._quarter(st["i0"], st["i1"], t4, fq[:, 0:2], fq[:, 2:4])
        # Full resolution: up to four remaps of the float frames
        # (OpenCV), then the weighted sum in place (torch.addcmul_: one multi-threaded pass each).
        # All in float: rounding to 8 bits on the way cost 0.27 dB on clean 10 fps footage.
        p0, p1 = st["p0f"], st["p1f"]
        d = _to_hwc(delta)
        sp = _to_hwc(splat)
        f01, f10 = st["f01"], st["f10"]

        def warp(image: np.ndarray, flow: np.ndarray, extra: np.ndarray | None = None) -> np.ndarray:
            move = _upsample(np.ascontiguousarray(flow), (H, W), s)
            return backward_warp(image, move if extra is None else cv2.add(move, extra))

        candidates = (
            lambda: warp(p0, d[..., 0:2], cv2.addWeighted(f01, -(1.0 - t) * t, f10, t * t, 0.0)),
            lambda: warp(p1, d[..., 2:4], cv2.addWeighted(f01, (1.0 - t) ** 2, f10, -t * (1.0 - t), 0.0)),
            lambda: warp(p0, sp[..., 0:2]),
            lambda: warp(p1, sp[..., 2:4]),
            lambda: cv2.addWeighted(p0, 1.0 - t, p1, t, 0.0),
        )
        wq = _to_hwc(weights)
        # A candidate whose weight stays below 1/1024 everywhere changes no pixel by more than a
        # quarter of a grey level: it is not built (the cross-fade, nearly always; 5 ms at 720p).
        used = [k for k in range(len(candidates)) if wq[..., k].max() >= 1.0 / 1024]
        # The RGB residual's pixel shuffle as a reshape: channel c*r*r + i*r + j -> pixel (r*y+i, r*x+j).
        res = rgb[0].numpy().reshape(3, r, r, q[0], q[1]).transpose(3, 1, 4, 2, 0).reshape(q[0] * r, q[1] * r, 3)
        if s != r:  # on a coarser grid the shuffled residual is coarser too: resized like the fields
            res = _upsample(np.ascontiguousarray(res), (H, W))
        acc = torch.from_numpy(np.ascontiguousarray(res)).mul_(255.0)
        wts = torch.from_numpy(_upsample(np.ascontiguousarray(wq[..., used]), (H, W)))  # one resize
        for j, k in enumerate(used):
            acc.addcmul_(torch.from_numpy(candidates[k]()), wts[..., j : j + 1])
        out = acc.add_(0.5).clamp_(0.0, 255.0).to(torch.uint8).numpy()
        return out[:h, :w] if (H, W) != (h, w) else out
