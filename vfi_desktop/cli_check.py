"""`vfi-desktop check CLIP`: the self-check of a clip with several methods, side by side.

Every method rebuilds the same frames from their neighbours (core/selfcheck.py); the printout has
per method the mean PSNR / SSIM, the worst stretches and which method is best on this clip, and
`--json F` writes the same with the per-frame figures.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Optional, TextIO

from .core.choice import MethodChoice
from .core.errors import VfiError
from .core.selfcheck import PSNR_CAP, TIE_DB, best_method


def parse_methods(items: Optional[list[str]]) -> list[MethodChoice]:
    """`--methods`: built-in names, names of fine-tuned models in the user's library, or
    .safetensors files; default: every method available."""
    from .api import METHODS, available_methods, fine_tuned_models

    if not items:
        return available_methods()
    library: dict[str, MethodChoice] = {}
    if any(i not in METHODS and not i.lower().endswith(".safetensors") for i in items):
        library = {c.label.lower(): c for c in fine_tuned_models()}  # reading the library imports torch
    out = []
    for item in items:
        if item in METHODS:
            out.append(MethodChoice(item, item))
        elif item.lower().endswith(".safetensors"):
            if not Path(item).is_file():
                raise VfiError(f"{item}: no such weights file")
            out.append(MethodChoice(Path(item).stem, "unet", item))
        elif item.lower() in library:
            out.append(library[item.lower()])
        else:
            known = ", ".join([*METHODS, *(c.label for c in library.values())])
            raise VfiError(f"unknown method '{item}' (choose from {known}, or give a .safetensors file)")
    return list(dict.fromkeys(out))


def cmd_check(args: argparse.Namespace) -> int:
    from .api import load_interpolator, method_id
    from .cli import ProgressBar, _parse_range
    from .core.selfcheck import PESSIMISTIC_NOTE, checked_frames, scene_cuts, self_check
    from .core.selfcheck_cache import SelfCheckCache, default_cache
    from .core.video_io import open_source

    choices = parse_methods(args.methods)
    cache = SelfCheckCache(disk=False) if args.no_cache else default_cache()
    opening = ProgressBar("indexing", args.quiet)
    with open_source(args.input, image_fps=args.input_fps, progress=opening) as source:
        opening.finish()
        n = source.info.frame_count
        rng = _parse_range(args.range) or (0, n)
        start, stop = rng[0], (n if rng[1] < 0 else rng[1])
        if not (0 <= start < n) or stop > n:
            raise VfiError(f"frame range {start}:{stop} is not valid for a clip of {n} frames")
        frames = checked_frames(n, (start, stop), args.every)
        cuts = scene_cuts(source, start, stop, cache, progress=ProgressBar("scene cuts", args.quiet))
        results = {}
        for c in choices:  # each loaded only if some frame is not in the cache
            bar = ProgressBar(c.label, args.quiet)
            results[c] = self_check(
                source, lambda c=c: load_interpolator(c.method, weights=c.weights, device=args.device), (start, stop),
                method_id=method_id(c), frames=frames, cuts=cuts, cache=cache, label=c.label, progress=bar,
            )
            bar.finish()
        report = build_report(Path(args.input).name, source.info.describe(), (start, stop), args.every, results)
    print_report(report, sys.stdout, PESSIMISTIC_NOTE)
    if args.json:
        from .core.files import atomic_output_path

        with atomic_output_path(Path(args.json)) as tmp:
            tmp.write_text(json.dumps(report, indent=1), encoding="utf-8")
    return 0


def build_report(clip: str, description: str, frame_range: tuple[int, int], every: int, results: dict) -> dict:
    """The figures of `check`, as printed and as written by --json."""
    methods = {}
    for c, r in results.items():
        methods[c.label] = {
            "method": c.method,
            "weights": c.weights,
            "psnr": r.mean_psnr,
            "ssim": r.mean_ssim,
            "frames": [[s.index, round(s.psnr, 4), None if s.ssim is None else round(s.ssim, 5)] for s in r.scored],
            "worst": [[w.first, w.last, round(w.psnr, 3)] for w in r.worst_stretches()],
            "computed": r.computed,
            "from_cache": r.from_cache,
            "seconds": round(r.elapsed_s, 2),
            "seconds_per_frame": r.seconds_per_frame,
        }
    ranked = sorted((m for m in methods if methods[m]["psnr"] is not None), key=lambda m: -methods[m]["psnr"])
    scored = {m: methods[m]["psnr"] for m in ranked}
    speed = {m: methods[m]["seconds_per_frame"] for m in ranked if methods[m]["seconds_per_frame"]}
    first = next(iter(results.values()))
    return {
        "clip": clip,
        "info": description,
        "range": list(frame_range),
        "every": every,
        "checked": len(first.scores),
        "cut_frames": first.cut_frames,
        "best": best_method(scored, speed) if ranked else None,
        "ranking": ranked,
        "methods": methods,
    }


def print_report(report: dict, out: TextIO, note: str) -> None:
    methods, ranked = report["methods"], report["ranking"]
    start, stop = report["range"]
    every = "every frame" if report["every"] == 1 else f"one frame in {report['every']}"
    cuts = report["cut_frames"]
    print(f"{report['clip']}: {report['info']}", file=out)
    print(
        f"checked frames {start + 1}-{stop - 2} ({every}): {report['checked']}"
        + (f", {len(cuts)} at scene cuts (marked, not scored)" if cuts else ""),
        file=out,
    )
    print(note, file=out)
    print("", file=out)
    width = max(len(m) for m in methods)
    print(f"{'method':<{width}}   PSNR     SSIM  frames  new  ms/frame", file=out)
    for m in ranked + [m for m in methods if m not in ranked]:
        r = methods[m]
        psnr = f"{r['psnr']:6.2f}" if r["psnr"] is not None else "     -"
        ssim = f"{r['ssim']:.4f}" if r["ssim"] is not None else "     -"
        ms = f"{1000 * r['seconds_per_frame']:8.0f}" if r["seconds_per_frame"] else "       -"
        print(f"{m:<{width}} {psnr}  {ssim}  {len(r['frames']):6d} {r['computed']:4d}  {ms}", file=out)
    print(f"(PSNR: the mean over the frames, each counting at most {PSNR_CAP:g} dB: an exact copy of a held frame scores 100)", file=out)
    print("", file=out)
    print("worst stretches (frames, mean PSNR):", file=out)
    for m in ranked:
        worst = methods[m]["worst"]
        text = ", ".join(f"{a}{'' if a == b else f'-{b}'} ({p:.1f} dB)" for a, b, p in worst) or "-"
        print(f"  {m:<{width}} {text}", file=out)
    print("", file=out)
    if not ranked:
        print("no frame could be scored (every one is at a scene cut)", file=out)
    elif len(ranked) == 1:
        print(f"best on this clip: {ranked[0]} (the only method checked)", file=out)
    elif report["best"] != ranked[0]:
        best, top = report["best"], ranked[0]
        gap = methods[top]["psnr"] - methods[best]["psnr"]
        print(f"best on this clip: {best} (within {TIE_DB:g} dB of {top}, {gap:.2f} dB, and quicker)", file=out)
    else:
        gap = methods[ranked[0]]["psnr"] - methods[ranked[1]]["psnr"]
        print(f"best on this clip: {ranked[0]} (+{gap:.2f} dB over {ranked[1]})", file=out)


def add_parser(sub) -> None:
    sp = sub.add_parser("check", help="rebuild real frames from their neighbours: which method suits this clip, where it fails")
    sp.add_argument("input", help="video file or folder of images")
    sp.add_argument("--range", help="frames A:B of the source (B exclusive; either may be empty)")
    sp.add_argument("--methods", nargs="+", help="methods, fine-tuned model names or .safetensors files (default: all)")
    sp.add_argument("--every", type=int, default=1, help="check every K-th frame (long clips)")
    sp.add_argument("--json", help="also write the figures, per frame, to this JSON file")
    sp.add_argument("--no-cache", action="store_true", help="compute everything again (results are cached per clip and method)")
    sp.add_argument("--input-fps", type=float, default=12.0, help="frame rate of an image folder (default 12)")
    sp.add_argument("--device", default="auto", help="auto, cpu or cuda")
    sp.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    sp.set_defaults(func=cmd_check)
