"""The public engine API: load_interpolator(...).interpolate(frame0, frame1, t)."""

from __future__ import annotations

import numpy as np
import pytest
from synthetic import moving_square, square_at, texture

from vfi_desktop.api import METHODS, load_interpolator
from vfi_desktop.core.errors import VfiError
from vfi_desktop.core.metrics import psnr, ssim


@pytest.fixture(scope="module")
def random_unet(tmp_path_factory):
    """Until trained weights exist the loading path is tested with a tiny random-weight model."""
    import torch

    from vfi_desktop.model.fusion_unet import FusionUNet, FusionUNetConfig
    from vfi_desktop.model.weights import save_weights

    torch.manual_seed(0)
    model = FusionUNet(FusionUNetConfig(widths=(8, 8, 8, 8, 8)))
    for p in model.parameters():
        p.data.normal_(0, 0.05)
    return save_weights(model, tmp_path_factory.mktemp("w") / "tiny.safetensors")


@pytest.mark.parametrize("method", ["blend", "dis", "flow", "unet", "unet-direct"])
@pytest.mark.parametrize("size", [(64, 96), (61, 97), (33, 2000 // 40)])
def test_any_size_and_t(method, size):
    interp = load_interpolator(method, device="cpu")
    h, w = size
    a, b = texture(h, w, 1), texture(h, w, 2)
    for t in (0.1, 0.5, 0.77):
        out = interp.interpolate(a, b, t)
        assert out.shape == (h, w, 3) and out.dtype == np.uint8


@pytest.mark.parametrize("method", METHODS)
def test_t_zero_and_one_return_the_inputs(method):
    interp = load_interpolator(method, device="cpu")
    a, b = texture(40, 56, 3), texture(40, 56, 4)
    zero, one = interp.interpolate_many(a, b, [0.0, 1.0])
    assert np.array_equal(zero, a) and np.array_equal(one, b)


def test_random_weight_model_loads_and_runs(random_unet):
    interp = load_interpolator("unet", weights=random_unet, device="cpu")
    a, b = texture(50, 70, 5), texture(50, 70, 6)
    out = interp.interpolate(a, b, 0.3)
    assert out.shape == a.shape
    assert interp.device == "cpu" and "tiny" in interp.name


def test_motion_methods_beat_blend_on_moving_square():
    bg, fg = texture(96, 128, 0), texture(32, 32, 1)
    a, mid, b = square_at(bg, fg, 20), square_at(bg, fg, 26), square_at(bg, fg, 32)
    scores = {m: psnr(load_interpolator(m, device="cpu").interpolate(a, b, 0.5), mid) for m in ("blend", "flow", "unet")}
    assert scores["flow"] > scores["blend"] + 3
    assert scores["unet"] > scores["blend"] + 3


def test_t_other_than_half_lands_in_the_right_place():
    bg, fg = texture(96, 128, 0), texture(32, 32, 1)
    a, b = square_at(bg, fg, 20), square_at(bg, fg, 36)
    interp = load_interpolator("flow")
    for t in (0.25, 0.75):
        truth = square_at(bg, fg, 20 + 16 * t)
        out = interp.interpolate(a, b, t)
        wrong = square_at(bg, fg, 20 + 16 * (1 - t))
        assert psnr(out, truth) > psnr(out, wrong) + 3


def test_interpolate_many_equals_single_calls():
    frames = moving_square(3)
    interp = load_interpolator("flow")
    many = interp.interpolate_many(frames[0], frames[2], [0.25, 0.5, 0.75])
    for t, img in zip((0.25, 0.5, 0.75), many):
        assert np.array_equal(img, interp.interpolate(frames[0], frames[2], t))


def test_bad_arguments():
    interp = load_interpolator("blend")
    a = texture(10, 10)
    with pytest.raises(ValueError, match="uint8"):
        interp.interpolate(a.astype(np.float32), a)
    with pytest.raises(ValueError, match="differ in size"):
        interp.interpolate(a, texture(12, 10))
    with pytest.raises(ValueError, match="t must"):
        interp.interpolate(a, a, 1.5)
    with pytest.raises(VfiError, match="unknown method"):
        load_interpolator("rife")


def test_large_frames_run_without_huge_memory():
    """Motion is estimated at reduced scale, so big frames cost little beyond the pixels."""
    import resource

    a, b = texture(1080, 1920, 1), texture(1080, 1920, 2)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    out = load_interpolator("flow").interpolate(a, b)
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert out.shape == a.shape
    assert grown_mb < 1500
    assert ssim(out, out) == pytest.approx(1.0)


def test_a_device_that_is_not_there_is_a_clear_error():
    import torch

    with pytest.raises(VfiError, match="unknown device"):
        load_interpolator("unet", device="tpu")
    if not torch.cuda.is_available():
        with pytest.raises(VfiError, match="no CUDA GPU"):
            load_interpolator("unet", device="cuda")
    assert load_interpolator("unet", device="cpu").device == "cpu"
