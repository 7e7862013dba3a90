"""Which grid the U-Net may run on: the same network on 1/4, 1/8 and 1/16 of the frame, on the
same DIS flows, PSNR against the true frames (evenly spread windows at gaps 2, 4, 8).

    python benchmarks/grid_scale.py ../shared/data/clips/sam2_cups.mp4 ../shared/data/clips/cup.mp4

`FusionUNet.grid_scale` picks 1/8 from 1280 px on the long side: there, and on every validation
clip from 432 px up, 1/8 measured within 0.015 dB of 1/4; a 320x240 cartoon lost 2.5 dB
(benchmarks/results/grid_scale.txt).
"""

import argparse
from pathlib import Path

import numpy as np
import torch

from vfi_desktop.api import load_interpolator
from vfi_desktop.core.metrics import psnr
from vfi_desktop.model.data import load_clip
from vfi_desktop.model.interpolator import unpadded_flows

PLAN = {2: (1,), 4: (1, 2, 3), 8: (2, 4, 6)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("clips", nargs="+")
    p.add_argument("--windows", type=int, default=12, help="per clip and gap")
    p.add_argument("--scales", type=int, nargs="+", default=[4, 8, 16])
    args = p.parse_args()
    torch.set_num_threads(1)
    interp = load_interpolator("unet", device="cpu")
    pipe = interp._pipeline()
    model = pipe.model
    print("clip | gap | " + " | ".join(f"1/{s}" for s in args.scales) + " | diff vs 1/4")
    for path in args.clips:
        frames = load_clip(Path(path), max_side=4096).frames
        h, w = frames[0].shape[:2]
        for gap, ks in PLAN.items():
            scores: dict[int, list[float]] = {s: [] for s in args.scales}
            for i in np.linspace(0, len(frames) - gap - 1, args.windows).round().astype(int):
                flows = unpadded_flows(frames[i], frames[i + gap])
                for s in args.scales:
                    model.grid_scale = lambda hh, ww, s=s: s  # this run's grid, whatever the size
                    state = pipe.prepare(frames[i], frames[i + gap], flows)
                    scores[s] += [psnr(pipe.synthesize(state, k / gap), frames[i + k]) for k in ks]
            means = [float(np.mean(scores[s])) for s in args.scales]
            print(f"{Path(path).name} ({w}x{h}) | g{gap} | " + " | ".join(f"{m:.3f}" for m in means)
                  + " | " + " ".join(f"{m - means[0]:+.3f}" for m in means[1:]), flush=True)


if __name__ == "__main__":
    main()
