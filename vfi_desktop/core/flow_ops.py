"""Motion arithmetic on torch tensors (B,C,H,W), shared by the classical `flow` method and the
networks, so both build the same candidates: backward warping, resizing flow fields, the
linear-motion intermediate flows, forward splatting, the forward-backward check.

Flows are in pixels of their own grid; (B,2,H,W) with x then y.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


_GRID_CACHE: dict = {}


def _unit_grid(flow: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """grid_sample's positions in [-1, 1] for flow's grid, (1,H,W,2) as x, y, and the size of one
    pixel in those units, (2,). Tensor ops only: under torch.jit.trace the sizes are tensors, and
    Python arithmetic on them would be baked in with tracer warnings."""
    ones = torch.ones_like(flow[:1, :, :, :1].permute(0, 2, 3, 1).expand(1, -1, flow.shape[-1], 2))
    pos = torch.cat([ones[..., :1].cumsum(2), ones[..., 1:].cumsum(1)], dim=3) - 1.0  # x, y
    unit = 2.0 / pos[0, -1, -1].clamp(min=1.0)  # 2 / (w-1, h-1)
    return pos * unit - 1.0, unit


def backward_warp(image: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    """Sample image at x + flow(x); flow in pixels (B,2,H,W). Borders replicate, like cv2.remap."""
    if torch.jit.is_tracing():  # the sizes are traced: nothing may be keyed by them
        base, unit = _unit_grid(flow)
    else:
        key = (*flow.shape[-2:], flow.device, flow.dtype)
        cached = _GRID_CACHE.get(key)
        if cached is None:
            # Built as normal tensors even under inference_mode: training reuses the cache.
            with torch.inference_mode(False):
                cached = _unit_grid(flow.detach())
            if len(_GRID_CACHE) > 16:
                _GRID_CACHE.clear()
            _GRID_CACHE[key] = cached
        base, unit = cached
    # each warp is one fused multiply-add over the flow
    grid = torch.addcmul(base, flow.permute(0, 2, 3, 1), unit)
    return F.grid_sample(image, grid, mode="bilinear", padding_mode="border", align_corners=True)


def resize_fields(fields: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Resize stacked [flow (2), flow (2), extra...] maps, scaling the flow vectors with the grid."""
    h, w = fields.shape[-2:]
    if (h, w) == tuple(size):
        return fields
    sx, sy = size[1] / w, size[0] / h
    scale = torch.ones(fields.shape[1], dtype=fields.dtype, device=fields.device)
    scale[0:4:2] = sx
    scale[1:4:2] = sy
    scale = scale.view(1, -1, 1, 1)
    # Scaling commutes with bilinear resizing: do it on the smaller grid.
    if size[0] * size[1] > h * w:
        return F.interpolate(fields * scale, size=size, mode="bilinear", align_corners=False)
    return F.interpolate(fields, size=size, mode="bilinear", align_corners=False) * scale


def linear_intermediate(flow01: torch.Tensor, flow10: torch.Tensor, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Backward flows from time t to frame 0 and frame 1 under straight, even motion (t: B,1,1,1)."""
    ft0 = -(1.0 - t) * t * flow01 + t * t * flow10
    ft1 = (1.0 - t) * (1.0 - t) * flow01 - t * (1.0 - t) * flow10
    return ft0, ft1


def splat_flow(flow: torch.Tensor, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Forward-splat each source pixel by t*flow (bilinear weights). Returns the backward flow from
    time t to the source (-t*flow at where each pixel lands) and the splatting density."""
    b, _, h, w = flow.shape
    ys, xs = torch.meshgrid(
        torch.arange(h, device=flow.device, dtype=flow.dtype),
        torch.arange(w, device=flow.device, dtype=flow.dtype),
        indexing="ij",
    )
    x = xs + t[:, 0] * flow[:, 0]
    y = ys + t[:, 0] * flow[:, 1]
    x0, y0 = torch.floor(x), torch.floor(y)
    value = torch.cat([-t * flow, torch.ones_like(flow[:, :1])], 1).flatten(2)  # B,3,HW
    acc = flow.new_zeros(b, 3, h * w)
    for dx in (0, 1):
        for dy in (0, 1):
            xi, yi = x0 + dx, y0 + dy
            wgt = (1.0 - (x - xi).abs()) * (1.0 - (y - yi).abs())
            ok = (xi >= 0) & (xi < w) & (yi >= 0) & (yi < h)
            wgt = torch.where(ok, wgt, torch.zeros_like(wgt)).flatten(1)
            idx = (yi.clamp(0, h - 1) * w + xi.clamp(0, w - 1)).long().flatten(1)
            acc.scatter_add_(2, idx[:, None].expand(b, 3, h * w), value * wgt[:, None])
    acc = acc.view(b, 3, h, w)
    density = acc[:, 2:3]
    return acc[:, 0:2] / density.clamp_min(1e-3), density


def consistency(fwd: torch.Tensor, bwd: torch.Tensor) -> torch.Tensor:
    """~1 where following fwd then bwd returns home (Sundaram et al. 2010), (B,1,h,w)."""
    back = backward_warp(bwd, fwd)
    err = ((fwd + back) ** 2).sum(1, keepdim=True)
    tol = 0.01 * ((fwd**2).sum(1, keepdim=True) + (back**2).sum(1, keepdim=True)) + 0.5
    return torch.exp(-err / tol)


def splat_candidates(flow01: torch.Tensor, flow10: torch.Tensor, lin0: torch.Tensor, lin1: torch.Tensor, t4: torch.Tensor):
    """Splatted intermediate flows (at the flows' grid), falling back to the linear ones where
    little lands; and the clamped densities."""
    s0, d0 = splat_flow(flow01, t4)
    s1, d1 = splat_flow(flow10, 1.0 - t4)
    k0, k1 = d0.clamp(0, 1), d1.clamp(0, 1)
    return k0 * s0 + (1 - k0) * lin0, k1 * s1 + (1 - k1) * lin1, k0, k1
