"""The README's picture: a crop of a hard in-between frame made by each method, beside the truth.

    python benchmarks/method_crops.py ../shared/data/clips/cup.mp4 --frame 48 --stride 2 \
        --box 160 40 320 240 -o resources/screenshots/methods_crop.png

Frames `frame` and `frame + 2*stride` go in; frame `frame + stride` is the truth. One row: the
two inputs, the truth, then each method labelled with its PSNR on the crop.
"""

import argparse
from pathlib import Path

import cv2
import numpy as np

from vfi_desktop.api import load_interpolator
from vfi_desktop.core.metrics import psnr
from vfi_desktop.core.video_io import open_source, write_image


def label(img: np.ndarray, text: str) -> np.ndarray:
    out = img.copy()
    cv2.rectangle(out, (0, 0), (out.shape[1], 22), (0, 0, 0), -1)
    cv2.putText(out, text, (5, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1, cv2.LINE_AA)
    return out


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("clip")
    p.add_argument("--frame", type=int, required=True)
    p.add_argument("--stride", type=int, default=1)
    p.add_argument("--box", type=int, nargs=4, metavar=("X", "Y", "W", "H"), required=True)
    p.add_argument("--scale", type=float, default=1.5)
    p.add_argument("--methods", nargs="+", default=["blend", "dis", "flow", "unet-direct", "unet"])
    p.add_argument("--weights", help="weights for unet (default: the bundled ones)")
    p.add_argument("-o", "--output", required=True)
    a = p.parse_args()
    with open_source(a.clip) as src:
        f0, truth, f1 = (src.read(a.frame + k * a.stride) for k in (0, 1, 2))
    x, y, w, h = a.box

    def crop(img: np.ndarray) -> np.ndarray:
        c = img[y : y + h, x : x + w]
        return cv2.resize(c, None, fx=a.scale, fy=a.scale, interpolation=cv2.INTER_NEAREST)

    tiles = [label(crop(truth), "truth")]
    for m in a.methods:
        pred = load_interpolator(m, weights=a.weights if m == "unet" else None, device="cpu").interpolate(f0, f1, 0.5)
        tiles.append(label(crop(pred), f"{m}  {psnr(pred[y:y + h, x:x + w], truth[y:y + h, x:x + w]):.2f} dB"))
    inputs = [label(crop(f0), "input: frame 0"), label(crop(f1), "input: frame 1")]
    write_image(Path(a.output), np.concatenate(inputs + tiles, axis=1))
    print(f"wrote {a.output}")


if __name__ == "__main__":
    main()
