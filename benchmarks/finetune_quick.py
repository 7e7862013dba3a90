"""Fine-tune with the training panel's Quick preset on one clip; held-out PSNR before and after.

    python benchmarks/finetune_quick.py ../shared/data/clips/newtonscradle.gif

Runs exactly what the panel runs (the same `vfi-desktop train --events` command, built by
core.finetune.train_command) on the first 80% of the clip, then measures the starting weights,
the fine-tuned weights of the last step (no choice made on held-out frames: the unbiased figure)
and the best step's weights (the ones the panel saves) on the held-out last 20% (time-based split:
never trained on). The best step is picked on a few held-out triplets; where the clip has more,
the figure is repeated on the others alone, so the pick does not flatter it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vfi_desktop.api import load_interpolator  # noqa: E402
from vfi_desktop.core.finetune import PRESETS, train_command  # noqa: E402
from vfi_desktop.model.interpolator import NeuralInterpolator  # noqa: E402
from vfi_desktop.core.metrics import psnr  # noqa: E402
from vfi_desktop.model.data import Clip, load_clip, split_held_out  # noqa: E402
from vfi_desktop.model.train import initial_model  # noqa: E402
from vfi_desktop.paths import bundled_weights  # noqa: E402

STRIDES = (1, 2)  # as the engine's ValidationSet


def held_out_triplets(clip: Clip, per_group_used: int) -> tuple[list[tuple[int, int]], int]:
    """(start, stride) of every held-out triplet at t=1/2 that validation did NOT use to pick the
    best step (the engine picks `per_group_used` evenly spaced ones per stride), and how many it used."""
    keep, used = [], 0
    for s in STRIDES:
        starts = [i for i in range(len(clip.frames) - 2 * s) if clip.window_ok(i, 2 * s)]
        if not starts:
            continue
        pick = set(np.unique(np.linspace(0, len(starts) - 1, min(per_group_used, len(starts))).round().astype(int)).tolist())
        used += len(pick)
        keep += [(starts[j], s) for j in range(len(starts)) if j not in pick]
    return keep, used


def evaluate(weights: Path, clip: Clip, triplets: list[tuple[int, int]]) -> float:
    """Mean PSNR of a .safetensors file, or of a checkpoint's latest weights (the last step)."""
    if weights.suffix == ".ckpt":
        model, _arch = initial_model(weights)
        interp = NeuralInterpolator(model, name="unet", device="cpu")
    else:
        interp = load_interpolator("unet", weights=weights, device="cpu")
    f = clip.frames
    return float(np.mean([psnr(interp.interpolate(f[i], f[i + 2 * s], 0.5), f[i + s]) for i, s in triplets]))


def train(cmd: list[str]) -> tuple[dict, float]:
    t0 = time.perf_counter()
    # stdin stays open: the trainer stops when its stdin closes (the panel's "supervisor gone").
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    result = None
    for line in proc.stdout:
        try:
            ev = json.loads(line)
        except ValueError:
            continue
        if ev.get("event") == "validation":
            print(f"  step {ev['step']:5d}  {ev['elapsed_s'] / 60:5.1f} min  held-out (pick set) {ev['val_psnr']:.3f} dB", flush=True)
        elif ev.get("event") == "result":
            result = ev
    proc.stdin.close()
    if proc.wait() != 0 or result is None:
        raise SystemExit(f"training failed (exit status {proc.returncode})")
    return result, time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("clip")
    ap.add_argument("--init", default=str(bundled_weights("unet")), help="starting weights (default: bundled)")
    ap.add_argument("--preset", default="quick", type=str.lower, choices=list(PRESETS))
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 2, help="torch threads for training (default: all)")
    ap.add_argument("--workdir", help="where the run's files go (default: a temporary folder)")
    ap.add_argument("--steps", type=int, help="override the preset (for a quick smoke run)")
    ap.add_argument("--minutes", type=float, help="override the preset's time limit")
    ap.add_argument("--augment", choices=["general", "adapt"], help="override the preset's augmentation (for comparisons)")
    args = ap.parse_args()

    settings = PRESETS[args.preset]
    overrides = {k: v for k, v in (("steps", args.steps), ("minutes", args.minutes), ("augment", args.augment)) if v is not None}
    settings = replace(settings, **overrides)
    work = Path(args.workdir or tempfile.mkdtemp(prefix="finetune-quick-"))
    work.mkdir(parents=True, exist_ok=True)
    out, ckpt = work / "best.safetensors", work / "run.ckpt"
    if ckpt.exists():
        raise SystemExit(f"{ckpt} exists: the run would resume; choose an empty --workdir")

    clip = load_clip(args.clip)  # the same decode and size limit as training
    train_part, held = split_held_out(len(clip.frames), settings.holdout)
    held_clip = Clip(clip.name, clip.frames[held.start :], {c - held.start for c in clip.cuts if c >= held.start})
    triplets, used = held_out_triplets(held_clip, settings.val_triplets)
    print(f"{clip.name}: {len(clip.frames)} frames; training on 0-{train_part.stop - 1}, held out {held.start}-{held.stop - 1} (time-based)")
    print(
        f"preset {args.preset}: up to {settings.steps} steps, {settings.minutes:g} min limit, crop {settings.crop}, "
        f"batch {settings.batch}, lr {settings.lr:g}, augment {settings.augment}, gaps up to {settings.max_gap}; {args.threads} threads; start from {Path(args.init).name}; "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    cmd = train_command(settings, [args.clip], args.init, out, ckpt, threads=args.threads)
    result, wall = train(cmd)
    how = "stopped at the time limit" if result["stopped_early"] else "all steps done"
    print(
        f"training: {result['steps_done']} steps in {result['elapsed_s'] / 60:.1f} min ({how}; "
        f"{wall / 60:.1f} min with start-up); best at step {result['best_step']}; load average {os.getloadavg()[0]:.1f}"
    )

    minutes = f"{result['elapsed_s'] / 60:.1f} min of training"
    every = [(i, s) for s in STRIDES for i in range(len(held_clip.frames) - 2 * s) if held_clip.window_ok(i, 2 * s)]
    start_all = evaluate(Path(args.init), held_clip, every)
    print(f"held-out PSNR on all {len(every)} held-out triplets (t=1/2, strides {STRIDES}):")
    print(f"  starting weights              {start_all:.3f} dB")
    last = evaluate(ckpt, held_clip, every)  # no choice made on held-out frames: an unbiased figure
    print(f"  fine-tuned, last step         {last:.3f} dB   ({last - start_all:+.3f} dB in {minutes})")
    best_all = evaluate(out, held_clip, every)
    print(f"  fine-tuned, best step         {best_all:.3f} dB   ({best_all - start_all:+.3f} dB; step picked on {used} of these)")
    if triplets:  # a short clip may have none: every held-out triplet took part in the pick
        before = evaluate(Path(args.init), held_clip, triplets)
        after = evaluate(out, held_clip, triplets)
        print(f"held-out PSNR on the {len(triplets)} held-out triplets not used to pick the step:")
        print(f"  starting weights              {before:.3f} dB")
        print(f"  fine-tuned, best step         {after:.3f} dB   ({after - before:+.3f} dB in {minutes})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
