"""`vfi-desktop bench`: quality and speed of every method, side by side, in one run.

Quality: each method predicts frame i+s from frames i and i+2s (stride s), compared with the real
frame (PSNR, SSIM); triplets across scene cuts are skipped. Speed: median milliseconds for one
in-between frame at 1280x720 after warm-up, with a fixed number of CPU threads, measured in the
same run for every method, so ratios between methods are meaningful on a noisy machine.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Optional, Sequence, TextIO

import cv2
import numpy as np

from .errors import VfiError
from .metrics import psnr, ssim
from .scenes import analyse_frames
from .video_io import open_source


def load_frames(path: str | Path) -> list[np.ndarray]:
    with open_source(path) as src:
        return [src.read(i) for i in range(len(src))]


def triplets(frames: Sequence[np.ndarray], stride: int, cuts: set[int], limit: int = 0) -> list[int]:
    starts = [i for i in range(len(frames) - 2 * stride) if not any(c in cuts for c in range(i, i + 2 * stride))]
    if limit and len(starts) > limit:
        starts = [starts[int(k)] for k in np.linspace(0, len(starts) - 1, limit).round()]
    return starts


def time_method(interp, f0: np.ndarray, f1: np.ndarray, repeats: int) -> float:
    for _ in range(2):
        interp.interpolate(f0, f1, 0.5)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        interp.interpolate(f0, f1, 0.5)
        times.append(time.perf_counter() - t0)
    return float(np.median(times) * 1000.0)


def unet_time_split(interp, f0: np.ndarray, f1: np.ndarray, repeats: int) -> dict[str, float]:
    """Where the U-Net's time goes: motion estimation (DIS both ways), splatting the classical
    intermediate flow, the U-Net's convolutions, and warping + fusion at full resolution."""
    import torch

    from ..model.inputs import classical_maps

    model = interp.model
    spans: dict[str, list[float]] = {"unet": []}
    start = {}

    def pre(_m, _i):
        start["t"] = time.perf_counter()

    def post(_m, _i, _o):
        spans["unet"].append(time.perf_counter() - start["t"])

    hooks = [model.unet.register_forward_pre_hook(pre), model.unet.register_forward_hook(post)]
    rows = {"motion estimation (DIS, both ways)": [], "intermediate flow (splatting)": [], "network total": []}
    try:
        for k in range(repeats + 1):
            t0 = time.perf_counter()
            state = interp.prepare(f0, f1)
            t1 = time.perf_counter()
            maps = torch.from_numpy(classical_maps(state[3], 0.5))[None]
            t2 = time.perf_counter()
            with torch.inference_mode():
                model(state[1], state[2], torch.tensor([0.5]), maps[:, 0:2], maps[:, 2:4], maps[:, 4:5], maps[:, 5:6])
            t3 = time.perf_counter()
            if k:
                rows["motion estimation (DIS, both ways)"].append(t1 - t0)
                rows["intermediate flow (splatting)"].append(t2 - t1)
                rows["network total"].append(t3 - t2)
    finally:
        for h in hooks:
            h.remove()
    out = {k: float(np.median(v) * 1000) for k, v in rows.items()}
    unet = float(np.median(spans["unet"][1:]) * 1000)
    out["  U-Net convolutions (1/4 res and below)"] = unet
    out["  warping, fusion, heads (full res)"] = out["network total"] - unet
    return out


def run_benchmark(
    clips: Sequence[str],
    methods: Sequence[str],
    strides: Sequence[int] = (1, 2),
    max_triplets: int = 0,
    speed_repeats: int = 7,
    weights: Optional[dict[str, str]] = None,
    out: TextIO = sys.stdout,
    json_path: Optional[str] = None,
    threads: int = 2,
) -> dict:
    import torch

    from ..api import load_interpolator
    from ..model.network import count_parameters

    torch.set_num_threads(threads)
    cv2.setNumThreads(threads)
    weights = weights or {}
    if not strides or any(s < 1 for s in strides):
        raise VfiError(f"strides must be 1 or more, got {' '.join(map(str, strides))}")
    interps = {m: load_interpolator(m, weights=weights.get(m), device="cpu") for m in methods}
    data = {}
    for clip in clips:
        frames = load_frames(clip)
        analysis = analyse_frames(frames, len(frames))
        data[Path(clip).name] = (frames, set(analysis.cuts))
    for st in strides:
        if not any(triplets(frames, st, cuts) for frames, cuts in data.values()):
            raise VfiError(f"no clip has a triplet at stride {st} (it needs {2 * st + 1} frames in one shot)")
    results: dict = {"clips": list(data), "methods": {}, "threads": threads}
    print(f"vfi-desktop bench: {', '.join(f'{k} ({len(v[0])} frames)' for k, v in data.items())}; "
          f"{threads} CPU threads", file=out)
    for m, interp in interps.items():
        r: dict = {"per_clip": {}}
        for s in strides:
            ps_all, ss_all = [], []
            for name, (frames, cuts) in data.items():
                ps, ss = [], []
                for i in triplets(frames, s, cuts, max_triplets):
                    pred = interp.interpolate(frames[i], frames[i + 2 * s], 0.5)
                    ps.append(psnr(pred, frames[i + s]))
                    ss.append(ssim(pred, frames[i + s]))
                if not ps:  # too short for this stride: left out of the mean, shown with n=0
                    r["per_clip"].setdefault(name, {})[f"s{s}"] = {"psnr": float("nan"), "ssim": float("nan"), "n": 0}
                    continue
                r["per_clip"].setdefault(name, {})[f"s{s}"] = {"psnr": float(np.mean(ps)), "ssim": float(np.mean(ss)), "n": len(ps)}
                ps_all.append(np.mean(ps))
                ss_all.append(np.mean(ss))
            # mean over clips: a long clip does not outweigh a short one
            r[f"s{s}"] = {"psnr": float(np.mean(ps_all)), "ssim": float(np.mean(ss_all))}
        if hasattr(interp, "model"):
            r["params"] = count_parameters(interp.model)
        results["methods"][m] = r
        print(f"  {m}: quality done", file=out)
    # Speed at 1280x720 on a real pair from the first clip.
    frames = next(iter(data.values()))[0]
    i = min(len(frames) - 3, len(frames) // 2)
    f0 = cv2.resize(frames[i], (1280, 720), interpolation=cv2.INTER_CUBIC)
    f1 = cv2.resize(frames[i + 2], (1280, 720), interpolation=cv2.INTER_CUBIC)
    # Interleave the methods over several rounds so machine noise hits them alike.
    speed = {m: [] for m in interps}
    for _ in range(3):
        for m, interp in interps.items():
            speed[m].append(time_method(interp, f0, f1, max(1, speed_repeats // 3 + 1)))
    for m in interps:
        results["methods"][m]["ms_720p"] = float(np.median(speed[m]))
    if "unet" in interps and hasattr(interps["unet"], "model") and interps["unet"].uses_motion:
        results["unet_time_split_ms"] = unet_time_split(interps["unet"], f0, f1, speed_repeats)
    print_table(results, strides, out)
    if json_path:
        Path(json_path).write_text(json.dumps(results, indent=2))
    return results


def print_table(results: dict, strides: Sequence[int], out: TextIO) -> None:
    methods = results["methods"]
    flow_ms = methods.get("flow", {}).get("ms_720p")
    head = ["method", "params"]
    for s in strides:
        head += [f"PSNR s{s}", f"SSIM s{s}"]
    head += ["ms @720p", "x flow"]
    print("", file=out)
    print("| " + " | ".join(head) + " |", file=out)
    print("|" + "---|" * len(head), file=out)
    for m, r in methods.items():
        row = [m, f"{r['params'] / 1e6:.2f} M" if "params" in r else "-"]
        for s in strides:
            row += [f"{r[f's{s}']['psnr']:.2f}", f"{r[f's{s}']['ssim']:.4f}"]
        row += [f"{r['ms_720p']:.0f}", f"{r['ms_720p'] / flow_ms:.2f}" if flow_ms else "-"]
        print("| " + " | ".join(row) + " |", file=out)
    print("", file=out)
    print("Per clip (PSNR / SSIM):", file=out)
    for m, r in methods.items():
        cells = []
        for clip, per in r["per_clip"].items():
            cells.append(clip + " " + ", ".join(f"s{k[1:]} {v['psnr']:.2f}/{v['ssim']:.4f} (n={v['n']})" for k, v in per.items()))
        print(f"  {m}: " + "; ".join(cells), file=out)
    split = results.get("unet_time_split_ms")
    if split:
        print("", file=out)
        print("unet time split at 1280x720 (median ms):", file=out)
        for k, v in split.items():
            print(f"  {k}: {v:.1f}", file=out)
