"""Fine-tuning recipes: the presets of the Fine-tune panel and of `vfi-desktop train --preset`, and
the `train` command line the panel runs (Qt-free).

One definition for both: `train --preset NAME` starts from `PRESETS[NAME]`, and the panel runs
`vfi-desktop train` with the form's settings (a preset, perhaps edited) written out in full as
options. It runs as a child process: the window never shares a GIL with the optimiser, and a crash
in training (out of memory, a bad clip) cannot take the window down. The benchmark script builds
the same command, so its figure is what the panel's preset gives.
"""

from __future__ import annotations

import os
import sys
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Optional, Sequence

from .errors import VfiError


@dataclass(frozen=True)
class TrainSettings:
    steps: int = 1200
    minutes: float = 0.0  # 0: no time limit
    lr: float = 2e-4
    crop: int = 256  # multiple of 64 (the flow U-Net's 1/4 scale reaches 1/64 of the crop)
    batch: int = 8
    holdout: float = 0.2  # last part of each clip, never trained on (0: none)
    val_every: int = 100
    val_triplets: int = 6  # per clip and stride (1 and 2): more is steadier but slower
    threads: int = 0  # 0: the panel leaves one core to the window; the command line uses all
    seed: int = 0
    # Fine-tuning learns the user's footage as it is (data.TripletSampler "adapt"), with the frame
    # gaps the app interpolates across (2: a 2x export; 4: t = 1/4, 1/2, 3/4 and larger motion).
    augment: str = "adapt"
    max_gap: int = 4

    def as_dict(self) -> dict:
        return asdict(self)

    def describe(self) -> str:
        """The recipe as `train` options, `--steps 1500 --minutes 10 ...`; threads are left out: they
        depend on the machine, not on the recipe."""
        return " ".join(settings_arguments(self, skip=("threads",)))


PRESETS: dict[str, TrainSettings] = {
    # A visible gain in a few minutes on a laptop CPU: a short cosine schedule from the bundled
    # weights; small batches (more steps per minute adapt faster); few full-frame validation
    # triplets, since each costs about a second on a CPU; a 10-minute cap for slow machines.
    "quick": TrainSettings(steps=1500, minutes=10.0, lr=3e-4, crop=192, batch=4, val_every=150, val_triplets=4),
    # Longer and gentler: for an evening's run.
    "thorough": TrainSettings(steps=6000, minutes=0.0, lr=1e-4, crop=256, batch=8, val_every=500, val_triplets=12),
}
DEFAULT_PRESET = "quick"

# `vfi-desktop train` without --preset: training of the kind that made the bundled model (footage
# of every kind, from scratch unless --init, validation only on --val clips or with --holdout).
GENERAL = TrainSettings(
    steps=20000, minutes=0.0, lr=3e-4, crop=256, batch=8, holdout=0.0, val_every=500, val_triplets=12,
    augment="general", max_gap=6,
)

# The `train` option of each setting; argparse's dest is the field name itself.
OPTIONS: dict[str, str] = {f.name: "--" + f.name.replace("_", "-") for f in fields(TrainSettings)}


def preset_label(name: str) -> str:
    """How the panel shows a preset: `quick` -> `Quick`."""
    return name.capitalize()


def find_preset(name: str) -> TrainSettings:
    """The preset of that name (any case); an unknown name is a one-line user error."""
    key = name.strip().lower()
    if key not in PRESETS:
        raise VfiError(f"unknown preset '{name}': choose {' or '.join(PRESETS)}")
    return PRESETS[key]


def preset(name: str, **changes) -> TrainSettings:
    return replace(find_preset(name), **changes)


def default_threads() -> int:
    return max(1, (os.cpu_count() or 2) - 1)


def base_command() -> list[str]:
    """How to start the application itself: in a PyInstaller bundle `sys.executable` is the app."""
    if getattr(sys, "frozen", False):
        return [sys.executable]
    return [sys.executable, "-m", "vfi_desktop"]


def settings_arguments(settings: TrainSettings, skip: Sequence[str] = ()) -> list[str]:
    """Every setting as its `train` option (given explicitly, each overrides any preset)."""
    args: list[str] = []
    for name, option in OPTIONS.items():
        if name in skip:
            continue
        value = getattr(settings, name)
        args += [option, f"{value:g}" if isinstance(value, float) else str(value)]
    return args


def train_command(
    settings: TrainSettings,
    clips: Sequence[str | Path],
    init_weights: str | Path,
    out: str | Path,
    checkpoint: str | Path,
    threads: Optional[int] = None,
) -> list[str]:
    """The panel's full command line; `out` receives the best weights by held-out PSNR as training goes."""
    if not clips:
        raise ValueError("no clips to train on")
    settings = replace(settings, threads=threads or settings.threads or default_threads())
    return [
        *base_command(), "train", "--data", *map(str, clips), "--init", str(init_weights),
        *settings_arguments(settings), "--out", str(out), "--checkpoint", str(checkpoint), "--events",
    ]
