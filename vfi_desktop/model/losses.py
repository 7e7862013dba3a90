"""Losses that suit frame interpolation; none needs pretrained weights."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def charbonnier(pred: torch.Tensor, target: torch.Tensor, eps: float = 1e-3) -> torch.Tensor:
    return torch.sqrt((pred - target) ** 2 + eps * eps).mean()


def laplacian_l1(pred: torch.Tensor, target: torch.Tensor, levels: int = 5) -> torch.Tensor:
    """L1 over a Laplacian pyramid (band = image - upsampled half-size image): every band of detail
    counts, so edges stay sharp. Coarser bands weigh more, as their pixels stand for more area."""
    loss = pred.new_zeros(())
    diff = pred - target  # the pyramid is linear: one pyramid of the difference is enough
    for level in range(levels):
        if min(diff.shape[-2:]) < 4:
            break
        down = F.avg_pool2d(diff, 2)
        up = F.interpolate(down, size=diff.shape[-2:], mode="bilinear", align_corners=False)
        loss = loss + (2.0**level) * (diff - up).abs().mean()
        diff = down
    return loss + (2.0**levels) * diff.abs().mean()


def census(pred: torch.Tensor, target: torch.Tensor, patch: int = 5) -> torch.Tensor:
    """Soft ternary census at half resolution: compares local structure, robust to brightness
    changes (half resolution keeps its cost a fraction of a training step)."""

    def transform(img: torch.Tensor) -> torch.Tensor:
        gray = F.avg_pool2d(0.299 * img[:, 0:1] + 0.587 * img[:, 1:2] + 0.114 * img[:, 2:3], 2) * 255.0
        eye = torch.eye(patch * patch, device=img.device, dtype=img.dtype).view(patch * patch, 1, patch, patch)
        diff = F.conv2d(gray, eye, padding=patch // 2) - gray
        return diff * torch.rsqrt(0.81 + diff * diff)

    d = (transform(pred) - transform(target)) ** 2
    return (d / (0.1 + d)).mean()


def interpolation_loss(pred: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
    parts = {
        "charbonnier": charbonnier(pred, target),
        "laplacian": laplacian_l1(pred, target),
        "census": census(pred, target),
    }
    total = parts["charbonnier"] + 0.5 * parts["laplacian"] + 0.1 * parts["census"]
    return total, {k: float(v.detach()) for k, v in parts.items()}
