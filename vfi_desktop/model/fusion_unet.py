"""FusionUNet (method ``unet``): a small U-Net that starts from the classical `flow` method and
learns where to depart from it.

Input: both frames, t, and DIS optical flow both ways (at any working resolution). The network
builds the two classical candidates for the intermediate flows: the linear-motion approximation
(Super SloMo's F_t0 = -(1-t)t F_01 + t^2 F_10, what `dis` uses) and forward splatting on the
U-Net's 1/4-resolution grid (better at motion boundaries, worse elsewhere). Both frames warped with both give four
candidate pictures; with the cross-fade of the inputs, five. At 1/4 resolution and below (down to
1/64, for large motion) the U-Net sees the candidates, the flows, how densely the splatting landed
and how consistent the flows are forward-backward, and predicts:

- corrections of the linear intermediate flows (the candidates it warps again at full resolution),
- the weights of the five candidates (softmax at 1/4 resolution, upsampled: which frame to trust
  where, occlusion, and a ghost where every warp fails),
- an RGB residual, lifted to full resolution by a learned pixel shuffle.

The heads start near zero and the weights start at the classical rule (the two flows' results
averaged, each fused by 1-t and t), so the untrained network is the classical `flow` method:
training starts from the classical answer. All convolutions run at 1/4 resolution and below
(trained at 1/4; inference on frames from 1280 px runs the same network on a 1/8 grid, see
`grid_scale`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..core.flow_ops import backward_warp, consistency, linear_intermediate, resize_fields, splat_candidates

FADE_START = 1e-4  # the cross-fade's share at the start: the output is the classical one


def conv(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    # LeakyReLU instead of PReLU: the same quality in short tests, and no per-channel weight
    # gradient to compute (PReLU was 8% of a training step).
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1), nn.LeakyReLU(0.1, inplace=True))


class Encoder(nn.Module):
    def __init__(self, cin: int, widths: tuple[int, ...]) -> None:
        super().__init__()
        self.stem = nn.Sequential(conv(cin, widths[0]), conv(widths[0], widths[0]))
        self.downs = nn.ModuleList(
            nn.Sequential(conv(a, b, stride=2), conv(b, b)) for a, b in zip(widths[:-1], widths[1:])
        )

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        feats = [self.stem(x)]
        for down in self.downs:
            feats.append(down(feats[-1]))
        return feats


class Decoder(nn.Module):
    def __init__(self, widths: tuple[int, ...]) -> None:
        super().__init__()
        pairs = list(zip(widths[:-1], widths[1:]))[::-1]
        self.ups = nn.ModuleList(
            nn.Sequential(nn.ConvTranspose2d(b, a, 2, 2), nn.LeakyReLU(0.1, inplace=True)) for a, b in pairs
        )
        self.bodies = nn.ModuleList(nn.Sequential(conv(2 * a, a), conv(a, a)) for a, _ in pairs)

    def forward(self, feats: list[torch.Tensor]) -> torch.Tensor:
        x = feats[-1]
        for up, body, skip in zip(self.ups, self.bodies, feats[-2::-1]):
            x = body(torch.cat([up(x), skip], 1))
        return x


@dataclass(frozen=True)
class FusionUNetConfig:
    widths: tuple[int, ...] = (16, 32, 64, 96, 128)
    scale: int = 4  # the U-Net runs at 1/scale of the frame


def start_logits(t4: torch.Tensor) -> torch.Tensor:
    """Log-weights of the candidates [linear w0, linear w1, splat w0, splat w1, cross-fade] in the
    classical rule: each flow's pair fused by 1-t and t, the two pairs averaged."""
    one = torch.ones_like(t4)
    return torch.cat([torch.log((1 - t4) / 2), torch.log(t4 / 2), torch.log((1 - t4) / 2), torch.log(t4 / 2),
                      math.log(FADE_START) * one], 1)


class FusionUNet(nn.Module):
    arch = "fusion_unet"
    # 2 frames, 2 linear warps, 2 splat warps (3 each); 2 linear flows, 2 splat-minus-linear (2 each);
    # 2 densities, 2 consistencies, 2 warp disagreements, t
    IN_CHANNELS = 33
    CANDIDATES = 5

    def __init__(self, config: FusionUNetConfig = FusionUNetConfig()) -> None:
        super().__init__()
        self.config = config
        c0, s = config.widths[0], config.scale
        self.encoder = Encoder(self.IN_CHANNELS, config.widths)
        self.decoder = Decoder(config.widths)
        # flow corrections (4) and candidate weights (5) at the U-Net's resolution (they are smooth);
        # the RGB residual gets full-resolution detail through a pixel shuffle.
        self.field_head = nn.Sequential(conv(c0, c0), nn.Conv2d(c0, 4 + self.CANDIDATES, 3, 1, 1))
        self.rgb_head = nn.Sequential(conv(c0, c0), nn.Conv2d(c0, 3 * s * s, 1), nn.PixelShuffle(s))
        for head in (self.field_head, self.rgb_head):
            # Near zero, not zero: the output starts at the classical result, yet gradients reach
            # the whole U-Net from the first step.
            last = [m for m in head if isinstance(m, nn.Conv2d)][-1]
            nn.init.normal_(last.weight, std=1e-3)
            nn.init.zeros_(last.bias)

    @property
    def multiple(self) -> int:
        """Frame sizes must be multiples of this at the network's own grid (callers pad)."""
        return self.multiple_at(self.config.scale)

    def multiple_at(self, scale: int) -> int:
        """Frame sizes must be multiples of this with the network on a 1/scale grid."""
        return scale * 2 ** (len(self.config.widths) - 1)

    def grid_scale(self, height: int, width: int) -> int:
        """The grid the network runs on for a frame of this size: its own (1/4) below 1280 px on
        the long side, twice as coarse from 1280 px (720p and up). The network's part then costs
        a quarter, and the picture stays the same: 1/8 instead of 1/4 measured -0.014..+0.013 dB on
        the validation clips from 432 px up at gaps 2, 4 and 8 (sam2_cups, 1280x720: +0.001 /
        +0.012 / +0.013; benchmarks/grid_scale.py). Small frames need the fine grid: a 320x240
        cartoon lost 2.5 dB at 1/8. The fine detail comes from the full-resolution warps."""
        return self.config.scale * (2 if max(height, width) >= 1280 else 1)

    def inference_grid(self, height: int, width: int) -> tuple[int, tuple[int, int]]:
        """`grid_scale` for this frame size and the padded frame size it needs."""
        s = self.grid_scale(height, width)
        m = self.multiple_at(s)
        return s, (height + (-height) % m, width + (-width) % m)

    def state_grown_from(self, old: "FusionUNet") -> dict[str, torch.Tensor]:
        """This network's state with `old`'s weights in it, for wider levels (or more input
        channels): every old weight keeps its place, weights from a new channel into an old one
        are zero, and new channels keep this network's random start. The result computes exactly
        what `old` did, and its new channels learn from the first step (function-preserving
        growth; train._grown, `--widths` with `--init`)."""
        ow, nw = old.config.widths, self.config.widths
        if len(ow) != len(nw) or any(a > b for a, b in zip(ow, nw)):
            raise ValueError("a network can only grow: the same number of levels, none narrower")
        # The first conv of decoder level k takes cat([up, skip]) of width a each: the skip half
        # starts at the new width.
        skip_at = {f"decoder.bodies.{k}.0.0": (a_old, a_new) for k, (a_old, a_new) in
                   enumerate(zip(ow[-2::-1], nw[-2::-1]))}
        state = {k: v.clone() for k, v in self.state_dict().items()}
        for name, layer in old.named_modules():
            if not isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d)):
                continue
            w_old, w = layer.weight.detach(), state[f"{name}.weight"]
            out_dim, in_dim = (1, 0) if isinstance(layer, nn.ConvTranspose2d) else (0, 1)
            n_out, n_in = w_old.shape[out_dim], w_old.shape[in_dim]
            ins = torch.arange(n_in)
            if name in skip_at:
                a_old, a_new = skip_at[name]
                ins = torch.cat([torch.arange(a_old), a_new + torch.arange(a_old)])
            kept = w.narrow(out_dim, 0, n_out)  # the old outputs (a view): zero, then the old weights
            kept.zero_()
            kept.index_copy_(in_dim, ins, w_old)
            if layer.bias is not None:
                state[f"{name}.bias"][:n_out] = layer.bias.detach()
        return state

    def quarter(
        self, i0: torch.Tensor, i1: torch.Tensor, t4: torch.Tensor, f01: torch.Tensor, f10: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """The 1/4-resolution part. In: the frames and the DIS flows box-filtered to 1/4 (vectors in
        1/4-resolution pixels). Out: flow corrections (B,4,h/4,w/4, in 1/4-resolution pixels), the
        candidate weights (B,5,h/4,w/4), the RGB residual before its pixel shuffle (B,3*16,h/4,w/4)
        and the splatted intermediate flows (B,4,h/4,w/4)."""
        b, _, hq, wq = i0.shape
        l0, l1 = linear_intermediate(f01, f10, t4)
        s0, s1, k0, k1 = splat_candidates(f01, f10, l0, l1, t4)
        wl0, wl1 = backward_warp(i0, l0), backward_warp(i1, l1)
        ws0, ws1 = backward_warp(i0, s0), backward_warp(i1, s1)
        x = torch.cat(
            [
                i0, i1, wl0, wl1, ws0, ws1,
                torch.cat([l0, l1, s0 - l0, s1 - l1], 1) / 2.0,  # O(1) for typical motion
                k0, k1, consistency(f01, f10), consistency(f10, f01),
                (wl0 - wl1).abs().mean(1, keepdim=True), (ws0 - ws1).abs().mean(1, keepdim=True),
                t4.expand(b, 1, hq, wq),
            ],
            1,
        )
        feat = self.decoder(self.encoder(x))
        fields = self.field_head(feat)
        weights = torch.softmax(start_logits(t4) + fields[:, 4:], 1)
        return fields[:, 0:4] * 2.0, weights, self.rgb_head[:-1](feat), torch.cat([s0, s1], 1)

    def forward(
        self, img0: torch.Tensor, img1: torch.Tensor, t: torch.Tensor, flow01: torch.Tensor, flow10: torch.Tensor,
        scale: int | None = None,
    ) -> dict[str, torch.Tensor]:
        """img0/img1: (B,3,H,W) in [0,1]; t: (B,); DIS flows (B,2,h,w) in pixels of their own grid,
        at any resolution h x w covering the whole frame (training passes them at half size).
        `scale`: the network's grid, 1/scale of the frame (default its own; inference passes
        `grid_scale`), the frame a multiple of `multiple_at(scale)`."""
        b, _, h, w = img0.shape
        s = scale or self.config.scale
        t4 = t.view(b, 1, 1, 1).to(img0.dtype)
        flows = torch.cat([flow01, flow10], 1)
        fq = quarter_flows(flows, (h // s, w // s))
        delta, weights, rgb, splat = self.quarter(F.avg_pool2d(img0, s), F.avg_pool2d(img1, s), t4, fq[:, 0:2], fq[:, 2:4])
        full = resize_fields(flows, (h, w))
        lt0, lt1 = linear_intermediate(full[:, 0:2], full[:, 2:4], t4)
        dfull = resize_fields(delta, (h, w))
        st = resize_fields(splat, (h, w))
        cands = [
            backward_warp(img0, lt0 + dfull[:, 0:2]), backward_warp(img1, lt1 + dfull[:, 2:4]),
            backward_warp(img0, st[:, 0:2]), backward_warp(img1, st[:, 2:4]),
            torch.lerp(img1, img0, 1.0 - t4),
        ]
        wfull = F.interpolate(weights, size=(h, w), mode="bilinear", align_corners=False)
        merged = sum(wfull[:, k : k + 1] * c for k, c in enumerate(cands))
        residual = self.rgb_head[-1](rgb)  # its pixel shuffle lifts the grid by the network's own scale
        if residual.shape[-2:] != (h, w):
            residual = F.interpolate(residual, size=(h, w), mode="bilinear", align_corners=False)
        pred = (merged + residual).clamp(0.0, 1.0)
        return {"pred": pred, "merged": merged, "weights": weights, "candidates": torch.stack(cands, 1)}


def quarter_flows(flows: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Flows box-filtered down to the U-Net's grid (an area average, like cv2.INTER_AREA), vectors
    scaled with it."""
    h, w = flows.shape[-2:]
    scale = torch.tensor([size[1] / w, size[0] / h] * (flows.shape[1] // 2), dtype=flows.dtype, device=flows.device)
    return F.interpolate(flows, size=size, mode="area") * scale.view(1, -1, 1, 1)

