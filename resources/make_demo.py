"""Re-create resources/demo.mp4, the clip the app opens when no file is given.

    python resources/make_demo.py ../shared/data/stills

A camera pans over a photo while cut-out pieces of other photos move across it, at 12 fps (like
stop motion), so the difference interpolation makes is easy to see. Photos: OpenCV sample data
(BSD/Apache licensed).
"""

import sys
from pathlib import Path

import numpy as np

from vfi_desktop.core.writers import VideoWriter
from vfi_desktop.model.data import load_stills
from vfi_desktop.model.synthetic import random_scene, render

W, H, FPS, FRAMES = 640, 360, 12, 36


def main(stills_dir: str) -> None:
    stills = load_stills(stills_dir)
    rng = np.random.default_rng(7)
    writer = VideoWriter(Path(__file__).with_name("demo.mp4"), FPS, quality=23)
    # Three scenes of 12 frames each: also shows scene-cut handling.
    for scene in range(3):
        layers = random_scene(rng, stills, W, max_motion=140.0)
        for k in range(FRAMES // 3):
            frame = render(layers, W, k / (FRAMES // 3 - 1))
            top = (W - H) // 2
            writer.write(frame[top : top + H])
    writer.close()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "../shared/data/stills")
