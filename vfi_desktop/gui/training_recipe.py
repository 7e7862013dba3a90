"""Fine-tuning settings, presets, and the `train` command line the panel runs (Qt-free).

Training runs as a child process (`vfi-desktop train --events`): the window never shares a GIL
with the optimiser, and a crash in training (out of memory, a bad clip) cannot take the window down.
The benchmark script builds the same command, so its figure is what the panel's preset gives.
"""

from __future__ import annotations

import os
import sys
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Optional, Sequence


@dataclass(frozen=True)
class TrainSettings:
    steps: int = 1200
    minutes: float = 0.0  # 0: no time limit
    lr: float = 2e-4
    crop: int = 256  # multiple of 64 (the flow U-Net's 1/4 scale reaches 1/64 of the crop)
    batch: int = 8
    holdout: float = 0.2  # last part of each clip, never trained on
    val_every: int = 100
    val_triplets: int = 6  # per clip and stride (1 and 2): more is steadier but slower
    threads: int = 0  # 0: all cores but one, so the window stays responsive
    seed: int = 0
    # Fine-tuning learns the user's footage as it is (data.TripletSampler "adapt"), with the frame
    # gaps the app interpolates across (2: a 2x export; 4: t = 1/4, 1/2, 3/4 and larger motion).
    augment: str = "adapt"
    max_gap: int = 4

    def as_dict(self) -> dict:
        return asdict(self)


PRESETS: dict[str, TrainSettings] = {
    # A visible gain in a few minutes on a laptop CPU: a short cosine schedule from the bundled
    # weights; small batches (more steps per minute adapt faster); few full-frame validation
    # triplets, since each costs about a second on a CPU; a 10-minute cap for slow machines.
    "Quick": TrainSettings(steps=1500, minutes=10.0, lr=3e-4, crop=192, batch=4, val_every=150, val_triplets=4),
    # Longer and gentler: for an evening's run.
    "Thorough": TrainSettings(steps=6000, minutes=0.0, lr=1e-4, crop=256, batch=8, val_every=500, val_triplets=12),
}
DEFAULT_PRESET = "Quick"


def default_threads() -> int:
    return max(1, (os.cpu_count() or 2) - 1)


def base_command() -> list[str]:
    """How to start the application itself: in a PyInstaller bundle `sys.executable` is the app."""
    if getattr(sys, "frozen", False):
        return [sys.executable]
    return [sys.executable, "-m", "vfi_desktop"]


def train_command(
    settings: TrainSettings,
    clips: Sequence[str | Path],
    init_weights: str | Path,
    out: str | Path,
    checkpoint: str | Path,
    threads: Optional[int] = None,
) -> list[str]:
    """The full command line; `out` receives the best weights by held-out PSNR as training goes."""
    if not clips:
        raise ValueError("no clips to train on")
    n_threads = threads or settings.threads or default_threads()
    cmd = base_command() + ["train", "--data", *map(str, clips), "--holdout", f"{settings.holdout:g}"]
    cmd += ["--init", str(init_weights), "--steps", str(settings.steps)]
    if settings.minutes > 0:
        cmd += ["--minutes", f"{settings.minutes:g}"]
    cmd += [
        "--batch", str(settings.batch), "--crop", str(settings.crop), "--lr", f"{settings.lr:g}",
        "--val-every", str(settings.val_every), "--val-triplets", str(settings.val_triplets),
        "--seed", str(settings.seed), "--threads", str(n_threads),
        "--augment", settings.augment, "--max-gap", str(settings.max_gap),
        "--out", str(out), "--checkpoint", str(checkpoint), "--events",
    ]
    return cmd


def preset(name: str, **changes) -> TrainSettings:
    return replace(PRESETS[name], **changes)
