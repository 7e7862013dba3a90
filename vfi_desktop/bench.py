"""`vfi-desktop bench` (beside the CLI: it loads methods by name through the api): quality and speed of every method, side by side, in one run.

Quality (drop and restore): for gap g, frames i and i+g go in and every frame between them is the
truth (t = k/g, k = 1..g-1); windows across a scene cut are skipped. PSNR and SSIM are averaged per
clip and gap, then over the clips (a long clip does not outweigh a short one). `dis` (DIS "medium"
at full resolution, linear-motion intermediate flows, no occlusion handling) is the baseline every
margin is measured against.

Speed: median milliseconds for one in-between at 1280x720 after warm-up, with a fixed number of
CPU threads, the methods interleaved over several rounds in the same run, so their ratios are
meaningful on a noisy machine. The CPU model and its vector extensions are printed beside them.
"""

from __future__ import annotations

import contextlib
import json
import platform
import sys
import time
from pathlib import Path
from typing import Iterator, Optional, Sequence, TextIO

import cv2
import numpy as np

from .core import motion
from .core.errors import VfiError
from .core.metrics import TruthStats, psnr
from .core.scenes import analyse_frames
from .core.video_io import open_source

DEFAULT_METHODS = ("blend", "dis", "flow", "unet", "unet-direct")


def load_frames(path: str | Path) -> list[np.ndarray]:
    with open_source(path) as src:
        return [src.read(i) for i in range(len(src))]


def windows(n_frames: int, gap: int, cuts: set[int], limit: int = 0) -> list[int]:
    """Starts i of windows [i, i+gap] that cross no cut (evenly thinned to `limit` if given)."""
    starts = [i for i in range(n_frames - gap) if not any(c in cuts for c in range(i, i + gap))]
    if limit and len(starts) > limit:
        starts = [starts[int(k)] for k in np.linspace(0, len(starts) - 1, limit).round()]
    return starts


def cpu_description() -> str:
    """The CPU model and the widest vector extension torch uses on it (AVX-512 matters: without
    it the same code runs much slower)."""
    name = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                name = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        import torch

        capability = torch.backends.cpu.get_cpu_capability()
    except (ImportError, AttributeError):
        capability = "?"
    flags = ""
    with contextlib.suppress(OSError):
        text = Path("/proc/cpuinfo").read_text()
        flags = ", AVX-512: " + ("yes" if " avx512f" in text else "no") + ", AVX2: " + ("yes" if " avx2" in text else "no")
    return f"{name} (torch kernels: {capability}{flags})"


@contextlib.contextmanager
def shared_motion() -> Iterator[None]:
    """While measuring quality, methods that estimate the same DIS flows on the same pair share
    one computation (bench runs every method on each window in turn). Never used for timing."""
    original = motion.estimate_flows
    memo: dict = {}

    def cached(frame0, frame1, finest_scale=None, preset="medium"):
        level = finest_scale if finest_scale is not None or preset != "medium" else 1  # medium's own level
        key = (id(frame0), id(frame1), level, preset)
        if key not in memo:
            if len(memo) > 8:
                memo.clear()
            memo[key] = original(frame0, frame1, finest_scale, preset)
        return memo[key]

    motion.estimate_flows = cached
    try:
        yield
    finally:
        motion.estimate_flows = original


def time_method(interp, f0: np.ndarray, f1: np.ndarray, repeats: int) -> list[float]:
    interp.begin_batch()  # timed as an export runs it (the U-Net: its traced graph)
    for _ in range(2):
        interp.interpolate(f0, f1, 0.5)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        interp.interpolate(f0, f1, 0.5)
        times.append((time.perf_counter() - t0) * 1000.0)
    return times


def unet_time_split(interp, f0: np.ndarray, f1: np.ndarray, repeats: int) -> dict[str, float]:
    """Where the U-Net's time goes: DIS both ways, the network on its grid (1/4, or 1/8 from 720p; including the
    candidates it is fed), and the full-resolution warps and fusion."""
    from .model.interpolator import unpadded_flows

    pipe = interp._pipeline()
    rows: dict[str, list[float]] = {"motion estimation (DIS both ways)": [], "padding, pooling": [],
                                    "network (1/4 or 1/8 res: candidates, U-Net)": [], "warps and fusion (full res)": []}
    quarter = pipe._quarter
    spent = {}

    def timed_quarter(*a):
        t0 = time.perf_counter()
        out = quarter(*a)
        spent["q"] = time.perf_counter() - t0
        return out

    pipe._quarter = timed_quarter
    try:
        for k in range(repeats + 1):
            t0 = time.perf_counter()
            flows = unpadded_flows(f0, f1)
            t1 = time.perf_counter()
            state = pipe.prepare(f0, f1, flows)
            t2 = time.perf_counter()
            pipe.synthesize(state, 0.5)
            t3 = time.perf_counter()
            if k:
                rows["motion estimation (DIS both ways)"].append(t1 - t0)
                rows["padding, pooling"].append(t2 - t1)
                rows["network (1/4 or 1/8 res: candidates, U-Net)"].append(spent["q"])
                rows["warps and fusion (full res)"].append(t3 - t2 - spent["q"])
    finally:
        del pipe._quarter  # back to the class's method
    return {k: float(np.median(v) * 1000) for k, v in rows.items()}


def run_benchmark(
    clips: Sequence[str],
    methods: Sequence[str] = DEFAULT_METHODS,
    gaps: Sequence[int] = (2, 4, 8),
    max_windows: int = 0,
    speed_repeats: int = 11,
    weights: Optional[dict[str, str]] = None,
    out: TextIO = sys.stdout,
    json_path: Optional[str] = None,
    threads: int = 2,
    speed: bool = True,
) -> dict:
    import torch

    from .api import load_interpolator
    from .model.network import count_parameters

    torch.set_num_threads(threads)
    cv2.setNumThreads(threads)
    weights = weights or {}
    if not gaps or any(g < 2 for g in gaps):
        raise VfiError(f"gaps must be 2 or more (a frame between the two inputs), got {' '.join(map(str, gaps))}")
    interps = {m: load_interpolator(m, weights=weights.get(m), device="cpu") for m in methods}
    data = {}
    for clip in clips:
        frames = load_frames(clip)
        data[Path(clip).name] = (frames, set(analyse_frames(frames, len(frames)).cuts))
    for g in gaps:
        if not any(windows(len(f), g, cuts) for f, cuts in data.values()):
            raise VfiError(f"no clip has a window at gap {g} (it needs {g + 1} frames in one shot)")
    cpu = cpu_description()
    results: dict = {"clips": list(data), "gaps": list(gaps), "methods": {m: {"per_clip": {}} for m in methods},
                     "threads": threads, "cpu": cpu}
    print(f"vfi-desktop bench: {', '.join(f'{k} ({len(v[0])} frames)' for k, v in data.items())}; gaps "
          f"{', '.join(map(str, gaps))}; {threads} CPU threads; {cpu}", file=out)
    t_start = time.perf_counter()
    with shared_motion():
        for name, (frames, cuts) in data.items():
            for g in gaps:
                ts = [k / g for k in range(1, g)]
                scores: dict[str, list[tuple[float, float]]] = {m: [] for m in methods}
                for i in windows(len(frames), g, cuts, max_windows):
                    preds = {m: interp.interpolate_many(frames[i], frames[i + g], ts) for m, interp in interps.items()}
                    for k in range(1, g):
                        truth = frames[i + k]
                        stats = TruthStats(truth)  # shared by every method's prediction of this frame
                        for m in methods:
                            scores[m].append((psnr(preds[m][k - 1], truth), stats.ssim(preds[m][k - 1])))
                for m in methods:
                    s = scores[m]
                    cell = {"psnr": float(np.mean([a for a, _ in s])) if s else float("nan"),
                            "ssim": float(np.mean([b for _, b in s])) if s else float("nan"), "n": len(s)}
                    results["methods"][m]["per_clip"].setdefault(name, {})[f"g{g}"] = cell
            print(f"  {name}: quality done ({time.perf_counter() - t_start:.0f} s)", file=out, flush=True)
    for m, interp in interps.items():
        r = results["methods"][m]
        for g in gaps:
            cells = [pc[f"g{g}"] for pc in r["per_clip"].values() if pc[f"g{g}"]["n"]]
            r[f"g{g}"] = {"psnr": float(np.mean([c["psnr"] for c in cells])), "ssim": float(np.mean([c["ssim"] for c in cells]))}
        if hasattr(interp, "model"):
            r["params"] = count_parameters(interp.model)
    if speed:
        measure_speed(results, interps, next(iter(data.values()))[0], speed_repeats)
    print_table(results, out)
    if json_path:
        Path(json_path).write_text(json.dumps(results, indent=2))
    return results


def measure_speed(results: dict, interps: dict, frames: list[np.ndarray], repeats: int) -> None:
    """Speed at 1280x720 on a real pair from the first clip, the methods interleaved over rounds
    so machine noise hits them alike."""
    i = min(len(frames) - 3, len(frames) // 2)
    f0 = cv2.resize(frames[i], (1280, 720), interpolation=cv2.INTER_CUBIC)
    f1 = cv2.resize(frames[i + 2], (1280, 720), interpolation=cv2.INTER_CUBIC)
    rounds = 3
    per_round = max(1, -(-repeats // rounds))
    times: dict[str, list[float]] = {m: [] for m in interps}
    for _ in range(rounds):
        for m, interp in interps.items():
            times[m] += time_method(interp, f0, f1, per_round)
    for m in interps:
        results["methods"][m]["ms_720p"] = float(np.median(times[m]))
        results["methods"][m]["ms_720p_runs"] = len(times[m])
    unet = interps.get("unet")
    if unet is not None and getattr(unet, "uses_flows", False):
        results["unet_time_split_ms"] = unet_time_split(unet, f0, f1, repeats)


def print_table(results: dict, out: TextIO) -> None:
    methods, gaps = results["methods"], results["gaps"]
    base = methods.get("dis")
    ref_ms = {k: methods.get(k, {}).get("ms_720p") for k in ("dis", "flow")}
    head = ["method", "params"]
    for g in gaps:
        head += [f"PSNR g{g}", f"SSIM g{g}"] + ([f"vs dis g{g}"] if base else [])
    head += ["ms @720p"] + [f"x {k}" for k, v in ref_ms.items() if v]
    print("", file=out)
    print("| " + " | ".join(head) + " |", file=out)
    print("|" + "---|" * len(head), file=out)
    for m, r in methods.items():
        row = [m, f"{r['params'] / 1e6:.2f} M" if "params" in r else "-"]
        for g in gaps:
            row += [f"{r[f'g{g}']['psnr']:.2f}", f"{r[f'g{g}']['ssim']:.4f}"]
            if base:
                row.append(f"{r[f'g{g}']['psnr'] - base[f'g{g}']['psnr']:+.2f}")
        if "ms_720p" in r:
            row += [f"{r['ms_720p']:.0f}"] + [f"{r['ms_720p'] / v:.2f}" for v in ref_ms.values() if v]
        print("| " + " | ".join(row) + " |", file=out)
    print("", file=out)
    print("Per clip: PSNR / SSIM (n in-betweens)" + (", and the margin over dis" if base else "") + ":", file=out)
    for m, r in methods.items():
        print(f"  {m}:", file=out)
        for clip, per in r["per_clip"].items():
            cells = []
            for g in gaps:
                c = per[f"g{g}"]
                margin = f" {c['psnr'] - base['per_clip'][clip][f'g{g}']['psnr']:+.2f}" if base and m != "dis" and c["n"] else ""
                cells.append(f"g{g} {c['psnr']:.2f}/{c['ssim']:.4f} (n={c['n']}){margin}")
            print(f"    {clip}: " + "; ".join(cells), file=out)
    split = results.get("unet_time_split_ms")
    if split:
        print("", file=out)
        print("unet time split at 1280x720 (median ms):", file=out)
        for k, v in split.items():
            print(f"  {k}: {v:.1f}", file=out)
    if "cpu" in results:
        print(f"\nCPU: {results['cpu']}, {results['threads']} threads", file=out)
