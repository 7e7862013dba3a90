"""Peak memory and time for one in-between frame at 3840x2160, per method (each in its own process).

    python benchmarks/memory_4k.py            # prints a table; the README quotes it
"""

import subprocess
import sys

CHILD = r"""
import resource, sys, time
import numpy as np, cv2, torch
torch.set_num_threads(2)
from vfi_desktop.api import load_interpolator
rng = np.random.default_rng(0)
base = cv2.resize(rng.integers(0, 256, (270, 480, 3), dtype=np.uint8), (3900, 2200), interpolation=cv2.INTER_CUBIC)
a, b = base[:2160, :3840].copy(), base[6:2166, 12:3852].copy()
interp = load_interpolator(sys.argv[1], device="cpu")
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
t0 = time.perf_counter()
out = interp.interpolate(a, b, 0.5)
dt = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(f"{sys.argv[1]}|{peak:.0f}|{peak - before:.0f}|{dt:.2f}|{out.shape}")
"""


def main() -> None:
    print("| method | peak RSS (MB) | of which the interpolation (MB) | seconds | output |")
    print("|---|---|---|---|---|")
    for method in ("blend", "dis", "flow", "unet", "unet-direct"):
        res = subprocess.run([sys.executable, "-c", CHILD, method], capture_output=True, text=True)
        if res.returncode != 0:
            print(f"| {method} | failed: {res.stderr.strip().splitlines()[-1]} | | | |")
            continue
        m, peak, grown, secs, shape = res.stdout.strip().split("|")
        print(f"| {m} | {peak} | {grown} | {secs} | {shape} |")


if __name__ == "__main__":
    main()
