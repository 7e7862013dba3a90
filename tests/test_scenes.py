"""Scene cuts and held frames."""

from __future__ import annotations

import numpy as np
from synthetic import moving_square, texture

from vfi_desktop.core.scenes import analyse_frames


def test_cut_between_two_shots_is_found_and_motion_is_not_a_cut():
    shot1 = moving_square(10, 72, 96, step=4, seed=0)
    shot2 = moving_square(10, 72, 96, step=4, seed=10)
    analysis = analyse_frames(shot1 + shot2)
    assert analysis.cuts == [9]


def test_fast_pan_is_not_a_cut():
    big = texture(120, 400, 3)
    frames = [np.ascontiguousarray(big[:, 8 * i : 8 * i + 160]) for i in range(25)]
    assert analyse_frames(frames).cuts == []


def test_held_frames_on_twos():
    base = moving_square(5, 48, 64, step=5)
    on_twos = [f for f in base for _ in range(2)]
    noisy = [np.clip(f.astype(int) + np.random.default_rng(i).integers(-1, 2, f.shape), 0, 255).astype(np.uint8) for i, f in enumerate(on_twos)]
    analysis = analyse_frames(noisy)
    assert analysis.held_frames() == [1, 3, 5, 7, 9]
