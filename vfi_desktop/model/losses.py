"""Losses that suit frame interpolation; none needs pretrained weights."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..core.flow_ops import linear_intermediate, resize_fields


def laplacian_l1(pred: torch.Tensor, target: torch.Tensor, levels: int = 5) -> torch.Tensor:
    """Mean L1 of each band of a Laplacian pyramid (band = image - upsampled half-size image), all
    bands weighted alike (as RIFE's LapLoss): fine detail counts as much as broad colour."""
    diff = pred - target  # the pyramid is linear: one pyramid of the difference is enough
    loss = pred.new_zeros(())
    for _ in range(levels):
        if min(diff.shape[-2:]) < 4:
            break
        down = F.avg_pool2d(diff, 2)
        up = F.interpolate(down, size=diff.shape[-2:], mode="bilinear", align_corners=False)
        loss = loss + (diff - up).abs().mean()
        diff = down
    return loss + diff.abs().mean()


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


def inside_crop_mask(flow01: torch.Tensor, flow10: torch.Tensor, t: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """(B,1,H,W) True where both frames' content for the in-between lies inside the crop, by the
    linear intermediate flows of the sample's DIS flows (any grid; scaled to `size`).

    A training crop is cut from a larger frame: where the motion brings content in from beyond
    the crop's edge, the truth shows it but no warp of the crop can, while the whole frame at
    inference has it. Supervised there, a network learns to hedge (a cross-fade, a blur) exactly
    where motion is large."""
    h, w = size
    full = resize_fields(torch.cat([flow01, flow10], 1), size)
    lt0, lt1 = linear_intermediate(full[:, 0:2], full[:, 2:4], t.view(-1, 1, 1, 1).to(full.dtype))
    xs = torch.arange(w, dtype=full.dtype, device=full.device).view(1, 1, 1, w)
    ys = torch.arange(h, dtype=full.dtype, device=full.device).view(1, 1, h, 1)

    def inside(f: torch.Tensor) -> torch.Tensor:
        x, y = xs + f[:, 0:1], ys + f[:, 1:2]
        return (x >= -1.0) & (x <= w) & (y >= -1.0) & (y <= h)

    return inside(lt0) & inside(lt1)


def interpolation_loss(pred: torch.Tensor, target: torch.Tensor, kind: str = "log_mse") -> tuple[torch.Tensor, dict[str, float]]:
    """Mean over samples of log(squared error): each sample counts by its PSNR change, exactly what
    the benchmark's mean PSNR measures. A plain mean squared error lets the few samples with large
    errors (fast synthetic motion) drown the subtle ones that real footage is made of; an L1-type
    loss trains several times slower on this CPU budget (errors in an in-between frame are sparse,
    and L1 gradients are dominated by the many pixels that are already right). Laplacian L1 and
    census add edge and structure terms at low weight.

    kind="mse" is the plain mean squared error (x50) the bundled model's first stage trained with;
    "log_mse_lap" leaves out the census term (the FusionUNet's recipe: cheaper steps).
    """
    mse = ((pred - target) ** 2).flatten(1).mean(1)
    parts = {"laplacian": laplacian_l1(pred, target)}
    if kind == "log_mse_lap":  # without the census term: a quarter of a step's time, little effect
        parts["log_mse"] = torch.log(mse + 1e-5).mean()
        total = parts["log_mse"] + 0.1 * parts["laplacian"]
        return total, {k: float(v.detach()) for k, v in parts.items()}
    parts["census"] = census(pred, target)
    if kind == "log_mse":
        parts["log_mse"] = torch.log(mse + 1e-5).mean()  # 1e-5: no sample pushed beyond 50 dB
        main = parts["log_mse"]
    elif kind == "mse":
        parts["mse"] = mse.mean()
        main = 50.0 * parts["mse"]
    else:
        raise ValueError(f"unknown loss {kind!r}")
    total = main + 0.1 * parts["laplacian"] + 0.02 * parts["census"]
    return total, {k: float(v.detach()) for k, v in parts.items()}


def oracle_weight_loss(candidates: torch.Tensor, weights: torch.Tensor, target: torch.Tensor, sharpness: float = 3.0) -> torch.Tensor:
    """Privileged supervision of the FusionUNet's candidate weights: with the truth known, how good
    each candidate is in each cell of the weights' grid gives a target distribution, softmax of
    -sharpness * log(error) (relative errors decide, whatever the contrast); the loss is its KL
    divergence from the predicted weights, each cell counted by how much the choice matters there
    (the spread of the candidates' log-errors). The end-to-end loss alone moves the weights slowly:
    its gradient on a weight is the product of two small differences.

    candidates (B,K,3,H,W), weights (B,K,h,w) with H = s*h, target (B,3,H,W)."""
    b, k, _, h, w = candidates.shape
    s = h // weights.shape[-2]
    err = ((candidates - target[:, None]) ** 2).mean(2)  # B,K,H,W
    err = F.avg_pool2d(err, s) + 1e-6  # B,K,h,w
    log_err = torch.log(err)
    q = torch.softmax(-sharpness * log_err, 1).detach()
    spread = (log_err.max(1).values - log_err.min(1).values).detach()  # B,h,w
    kl = (q * (torch.log(q + 1e-8) - torch.log(weights + 1e-8))).sum(1)
    return (kl * spread).sum() / (spread.sum() + 1e-6)
