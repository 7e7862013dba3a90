"""The networks and their registry.

``FusionUNet`` (method ``unet``, model/fusion_unet.py) is the bundled model. ``DirectUNet`` (method
``unet-direct``): the original project's flow-free design (after the U-Net GLOW paper): the frame
is synthesised directly from both inputs and t, no warping. Kept as the comparison that shows what
motion guidance buys.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn as nn

from .fusion_unet import FusionUNet, FusionUNetConfig


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
class DirectUNetConfig:
    widths: tuple[int, ...] = (32, 64, 96, 128)
    scale: int = 2  # pixel-unshuffle: the U-Net runs at half resolution


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


ARCHITECTURES = {FusionUNet.arch: (FusionUNet, FusionUNetConfig), DirectUNet.arch: (DirectUNet, DirectUNetConfig)}
# Files made by version 0.1 hold this network (the U-Net on splatted classical maps), since replaced.
RETIRED_ARCHITECTURES = {"flow_unet": "the U-Net of vfi-desktop 0.1"}


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
