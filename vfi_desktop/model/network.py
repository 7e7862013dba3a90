"""The bundled networks.

``FlowUNet`` (method ``unet``): a small time-conditioned U-Net that starts from the classical
motion (DIS flow splatted to time t, see core/motion.py) and learns what to correct: residual
intermediate flows towards both frames, a fusion (occlusion) mask and an RGB residual. All
convolutions run at 1/4 resolution and below (the U-Net reaches 1/32 for large motion); its
outputs are lifted to full resolution with a learned pixel shuffle, then both frames are warped
at full resolution and fused. Its output layer starts near zero, so an untrained FlowUNet
reproduces the classical result: training starts from it and adds to it.

``DirectUNet`` (method ``unet-direct``): the original project's flow-free design (after the U-Net
GLOW paper): the frame is synthesised directly from both inputs and t, no warping. Kept as the
comparison that shows what motion guidance buys.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..core.flow_ops import backward_warp, resize_fields


def conv(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1), nn.PReLU(cout))


class Down(nn.Sequential):
    def __init__(self, cin: int, cout: int) -> None:
        super().__init__(conv(cin, cout, stride=2), conv(cout, cout))


class Up(nn.Module):
    """Upsample, concatenate the skip, two convs."""

    def __init__(self, cin: int, cskip: int, cout: int) -> None:
        super().__init__()
        self.up = nn.Sequential(nn.ConvTranspose2d(cin, cout, 2, 2), nn.PReLU(cout))
        self.body = nn.Sequential(conv(cout + cskip, cout), conv(cout, cout))

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        return self.body(torch.cat([self.up(x), skip], dim=1))


class UNet(nn.Module):
    """Encoder-decoder with skips; widths[i] channels at 1/2**i of the input resolution."""

    def __init__(self, cin: int, widths: tuple[int, ...]) -> None:
        super().__init__()
        self.stem = nn.Sequential(conv(cin, widths[0]), conv(widths[0], widths[0]))
        self.downs = nn.ModuleList(Down(a, b) for a, b in zip(widths[:-1], widths[1:]))
        self.ups = nn.ModuleList(Up(b, a, a) for a, b in reversed(list(zip(widths[:-1], widths[1:]))))

    @property
    def multiple(self) -> int:
        return 2 ** len(self.downs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = [self.stem(x)]
        for down in self.downs:
            skips.append(down(skips[-1]))
        x = skips.pop()
        for up in self.ups:
            x = up(x, skips.pop())
        return x


@dataclass(frozen=True)
class FlowUNetConfig:
    widths: tuple[int, ...] = (16, 32, 64, 96, 128)
    scale: int = 4  # the U-Net runs at 1/scale of the frame
    detail: int = 0  # width of the full-resolution detail branch (0: none; files before it have none)


class FlowUNet(nn.Module):
    arch = "flow_unet"
    # 3+3 frames, 3+3 warped frames, 2+2 flows, 1+1 visibility, |w0 - w1|, t
    IN_CHANNELS = 20

    def __init__(self, config: FlowUNetConfig = FlowUNetConfig()) -> None:
        super().__init__()
        self.config = config
        c0 = config.widths[0]
        s = config.scale
        self.unet = UNet(self.IN_CHANNELS, config.widths)
        # Flow and mask corrections at the U-Net's resolution (they are smooth); the RGB residual
        # gets full-resolution detail through a learned pixel shuffle.
        self.field_head = nn.Sequential(conv(c0, c0), nn.Conv2d(c0, 5, 3, 1, 1))
        self.rgb_head = nn.Sequential(conv(c0, c0), nn.Conv2d(c0, 3 * s * s, 1), nn.PixelShuffle(s))
        # The U-Net sees the frames at 1/4 resolution only, but where one warped frame is right and
        # the other wrong (occlusion edges) is decided pixel by pixel. This branch sees both warped
        # frames at full resolution (space-to-depth, so it still runs at 1/4 resolution) and
        # corrects the fusion mask and the residual per full-resolution pixel.
        self.detail = None
        heads = [self.field_head, self.rgb_head]
        if config.detail:
            d = config.detail
            self.detail = nn.Sequential(
                nn.Conv2d(6 * s * s + c0, d, 1), nn.PReLU(d), conv(d, d), nn.Conv2d(d, 4 * s * s, 1), nn.PixelShuffle(s)
            )
            heads.append(self.detail)
        for head in heads:
            # Near-zero, not zero: the output starts at the classical result, yet gradients reach
            # the whole U-Net from the first step (an all-zero last layer would block them).
            last = [m for m in head if isinstance(m, nn.Conv2d)][-1]
            nn.init.normal_(last.weight, std=1e-3)
            nn.init.zeros_(last.bias)

    @property
    def multiple(self) -> int:
        """Frame sizes must be multiples of this (callers pad)."""
        return self.config.scale * self.unet.multiple

    def forward(
        self,
        img0: torch.Tensor,
        img1: torch.Tensor,
        t: torch.Tensor,
        flow_t0: torch.Tensor,
        flow_t1: torch.Tensor,
        vis0: torch.Tensor,
        vis1: torch.Tensor,
    ) -> dict[str, torch.Tensor]:
        """img0/img1: (B,3,H,W) in [0,1]; t: (B,); classical flows (B,2,h,w) in pixels of their own
        grid and visibilities (B,1,h,w), at any resolution h x w covering the whole frame."""
        b, _, h, w = img0.shape
        s = self.config.scale
        hq, wq = h // s, w // s
        hw, ww = flow_t0.shape[-2:]
        t4 = t.view(b, 1, 1, 1).to(img0.dtype)
        # The classical fusion weights as a logit (same rule as core.motion.fuse).
        logit = torch.log((1.0 - t4) * (vis0 + 1e-3)) - torch.log(t4 * (vis1 + 1e-3))
        classical = torch.cat([flow_t0, flow_t1, logit], 1)  # at the classical grid
        fields_q = resize_fields(classical, (hq, wq))
        i0_q = F.avg_pool2d(img0, s)
        i1_q = F.avg_pool2d(img1, s)
        w0_q = backward_warp(i0_q, fields_q[:, 0:2])
        w1_q = backward_warp(i1_q, fields_q[:, 2:4])
        x = torch.cat(
            [
                i0_q, i1_q, w0_q, w1_q,
                fields_q[:, 0:4] / 8.0,  # keep inputs O(1) for typical motion
                F.interpolate(torch.cat([vis0, vis1], 1), size=(hq, wq), mode="bilinear", align_corners=False),
                (w0_q - w1_q).abs().mean(1, keepdim=True),
                t4.expand(b, 1, hq, wq),
            ],
            dim=1,
        )
        feat = self.unet(x)
        delta = self.field_head(feat)  # flow corrections in U-Net pixels (x8), mask logit correction
        delta = torch.cat([delta[:, 0:4] * 8.0, delta[:, 4:5]], 1)
        fields = classical + resize_fields(delta, (hw, ww))
        fields = resize_fields(fields, (h, w))
        ft0, ft1 = fields[:, 0:2], fields[:, 2:4]
        warped0 = backward_warp(img0, ft0)
        warped1 = backward_warp(img1, ft1)
        logit = fields[:, 4:5]
        rgb = self.rgb_head[:-1](feat)  # before its pixel shuffle: (B, 3*s*s, h/s, w/s)
        if self.detail is None:
            residual = self.rgb_head[-1](rgb)
        else:
            d = self._detail(warped0, warped1, feat)
            # One shuffle for both: the branch's channels are [mask (s*s), rgb (3*s*s)].
            d = self.detail[-1](torch.cat([d[:, : s * s], d[:, s * s :] + rgb], 1))
            logit = logit + d[:, 0:1]
            residual = d[:, 1:4]
        mask = torch.sigmoid(logit)
        merged = torch.lerp(warped1, warped0, mask)
        pred = (merged + residual).clamp(0.0, 1.0)
        return {"pred": pred, "merged": merged, "flow_t0": ft0, "flow_t1": ft1, "mask": mask}

    def _detail(self, warped0: torch.Tensor, warped1: torch.Tensor, feat: torch.Tensor) -> torch.Tensor:
        """The detail branch up to its pixel shuffle. Its first layer is a 1x1 conv over
        [space-to-depth(warped0), space-to-depth(warped1), feat]; it runs as the equivalent stride-s
        s x s conv on the full-resolution frames (no space-to-depth copies: 3x quicker on a CPU)."""
        s = self.config.scale
        first = self.detail[0]
        n = 6 * s * s
        w = first.weight
        x = F.conv2d(torch.cat([warped0, warped1], 1), w[:, :n].reshape(w.shape[0], 6, s, s), first.bias, stride=s)
        x = x + F.conv2d(feat, w[:, n:])
        for layer in self.detail[1:-1]:
            x = layer(x)
        return x


@dataclass(frozen=True)
class DirectUNetConfig:
    widths: tuple[int, ...] = (32, 64, 96, 128)
    scale: int = 2  # pixel-unshuffle: the U-Net runs at half resolution, like FlowUNet's budget


class DirectUNet(nn.Module):
    """Flow-free: both frames + t in, the frame out (as a correction of their average)."""

    arch = "direct_unet"

    def __init__(self, config: DirectUNetConfig = DirectUNetConfig()) -> None:
        super().__init__()
        self.config = config
        s = config.scale
        self.unshuffle = nn.PixelUnshuffle(s)
        self.unet = UNet(6 * s * s + 1, config.widths)
        self.head = nn.Conv2d(config.widths[0], 3 * s * s, 3, 1, 1)
        self.shuffle = nn.PixelShuffle(s)
        nn.init.normal_(self.head.weight, std=1e-3)
        nn.init.zeros_(self.head.bias)

    @property
    def multiple(self) -> int:
        return self.config.scale * self.unet.multiple

    def forward(self, img0: torch.Tensor, img1: torch.Tensor, t: torch.Tensor, **_unused) -> dict[str, torch.Tensor]:
        b, _, h, w = img0.shape
        s = self.config.scale
        t4 = t.view(b, 1, 1, 1).to(img0.dtype)
        x = torch.cat([self.unshuffle(torch.cat([img0, img1], 1)), t4.expand(b, 1, h // s, w // s)], 1)
        base = (1.0 - t4) * img0 + t4 * img1
        pred = (base + self.shuffle(self.head(self.unet(x)))).clamp(0.0, 1.0)
        return {"pred": pred, "merged": base}


ARCHITECTURES = {FlowUNet.arch: (FlowUNet, FlowUNetConfig), DirectUNet.arch: (DirectUNet, DirectUNetConfig)}


def _register_fusion() -> None:
    from .fusion_unet import FusionUNet, FusionUNetConfig

    ARCHITECTURES[FusionUNet.arch] = (FusionUNet, FusionUNetConfig)


_register_fusion()


def build(arch: str, config: dict | None = None) -> nn.Module:
    if arch not in ARCHITECTURES:
        raise KeyError(arch)
    cls, cfg_cls = ARCHITECTURES[arch]
    cfg = cfg_cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in (config or {}).items()})
    return cls(cfg)


def config_dict(model: nn.Module) -> dict:
    return asdict(model.config)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
