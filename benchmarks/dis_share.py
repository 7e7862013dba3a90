"""How much of the `dis` baseline's time its motion estimate is: the floor under any method that
starts from the same DIS (the U-Net does), at one 1280x720 pair.

    python benchmarks/dis_share.py ../shared/data/clips/sam2_cups.mp4

Interleaved repeats after a warm-up, median (benchmarks/results/dis_share_720p.txt).
"""

import argparse
import time

import cv2
import numpy as np
import torch

from vfi_desktop.api import load_interpolator
from vfi_desktop.bench import cpu_description
from vfi_desktop.core import motion
from vfi_desktop.model.data import load_clip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("clip")
    ap.add_argument("--frame", type=int, default=10)
    ap.add_argument("--repeats", type=int, default=13)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    cv2.setNumThreads(args.threads)
    frames = load_clip(args.clip, max_side=1280).frames
    f0, f1 = frames[args.frame], frames[args.frame + 2]
    dis, unet = load_interpolator("dis"), load_interpolator("unet")
    runs = {
        "dis (whole method)": lambda: dis.interpolate(f0, f1, 0.5),
        "DIS both ways (motion_flows, what unet uses)": lambda: motion.motion_flows(f0, f1),
        "unet (whole method)": lambda: unet.interpolate(f0, f1, 0.5),
    }
    for fn in runs.values():
        fn()
    times: dict[str, list[float]] = {k: [] for k in runs}
    for _ in range(args.repeats):
        for name, fn in runs.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    med = {k: float(np.median(v)) * 1000 for k, v in times.items()}
    print(f"{f0.shape[1]}x{f0.shape[0]}, {args.threads} threads, {args.repeats} repeats, {cpu_description()}")
    for name, ms in med.items():
        print(f"{name:48s} {ms:6.1f} ms  {ms / med['dis (whole method)']:.2f}x dis")


if __name__ == "__main__":
    main()
