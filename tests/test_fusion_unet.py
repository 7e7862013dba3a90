"""The FusionUNet (method `unet`): its start, its CPU inference path, and the classical methods
it starts from."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from synthetic import moving_square, texture

from vfi_desktop.api import METHODS, load_interpolator
from vfi_desktop.core.metrics import psnr
from vfi_desktop.model.fusion_unet import FusionUNet, FusionUNetConfig
from vfi_desktop.model.interpolator import NeuralInterpolator, pad_to, padded_flows, to_image, to_tensor, flow_tensor

TINY = FusionUNetConfig(widths=(8, 8, 8, 8, 8))


def trained_like(config: FusionUNetConfig = TINY, seed: int = 0) -> FusionUNet:
    """A network whose heads are far from their near-zero start, so every output path matters."""
    torch.manual_seed(seed)
    model = FusionUNet(config)
    with torch.no_grad():
        for head in (model.field_head, model.rgb_head):
            last = [m for m in head if isinstance(m, torch.nn.Conv2d)][-1]
            last.weight.normal_(0, 0.05)
            last.bias.normal_(0, 0.05)
    return model.eval()


def torch_forward(model: FusionUNet, a: np.ndarray, b: np.ndarray, t: float) -> np.ndarray:
    """The training forward pass on full frames, on the grid inference picks for their size."""
    scale, size = model.inference_grid(*a.shape[:2])
    p0, p1 = pad_to(a, size), pad_to(b, size)
    flows = padded_flows(a, b, p0.shape[:2])
    cpu = torch.device("cpu")
    with torch.inference_mode():
        out = model(to_tensor(p0, cpu), to_tensor(p1, cpu), torch.tensor([t]), *(flow_tensor(f, cpu) for f in flows), scale=scale)
    return to_image(out["pred"])[: a.shape[0], : a.shape[1]]


def panning_pair(h: int, w: int, shift: int = 9) -> tuple[np.ndarray, np.ndarray]:
    bg = texture(h + 64, w + 64, seed=4)
    return np.ascontiguousarray(bg[20 : 20 + h, 10 : 10 + w]), np.ascontiguousarray(bg[20 + shift // 2 : 20 + shift // 2 + h, 10 + shift : 10 + shift + w])


@pytest.mark.parametrize("t,size", [(0.25, (720, 1280)), (0.5, (720, 1280)), (0.5, (480, 640))])
def test_cpu_inference_path_equals_the_training_forward_pass(t, size):
    """The OpenCV full-resolution path (what the app runs on a CPU) against the torch forward
    pass the network trains with, on real-sized pairs (720p: the network on its coarser grid),
    with heads far from zero."""
    a, b = panning_pair(*size)
    model = trained_like(FusionUNetConfig(widths=(8, 8, 8, 8, 8)))
    fast = NeuralInterpolator(model, "fast", device="cpu").interpolate(a, b, t)
    reference = torch_forward(model, a, b, t)
    assert fast.shape == a.shape
    assert psnr(fast, reference) > 45
    # and the network does act: its output is not the untrained (classical) one
    assert psnr(fast, load_interpolator("flow").interpolate(a, b, t)) < 45


def test_untrained_network_is_the_classical_flow_method():
    frames = moving_square(3, 96, 160, step=5)
    torch.manual_seed(0)
    out = NeuralInterpolator(FusionUNet(TINY).eval(), "t", device="cpu").interpolate(frames[0], frames[2])
    assert psnr(out, load_interpolator("flow").interpolate(frames[0], frames[2])) > 38


def test_traced_quarter_is_quiet_and_equals_eager():
    """The CPU path traces the 1/4-resolution network per frame size, in a GUI worker. The trace
    must not emit tracer warnings (the suite and CI turn vfi_desktop warnings into errors, and
    silencing them with catch_warnings races with the UI thread), must really be a graph, and
    must equal the eager code on another input of the same size."""
    import warnings

    from vfi_desktop.model.fusion_inference import _trace_quarter

    model = trained_like(seed=3)
    h, w = 32, 48  # a 1/4-resolution grid of a padded frame
    gen = torch.Generator().manual_seed(1)

    def inputs():
        i0, i1 = torch.rand(1, 3, h, w, generator=gen), torch.rand(1, 3, h, w, generator=gen)
        return i0, i1, torch.full((1, 1, 1, 1), 0.3), 3 * torch.randn(1, 2, h, w, generator=gen), 3 * torch.randn(1, 2, h, w, generator=gen)

    with warnings.catch_warnings(record=True) as caught, torch.inference_mode():
        warnings.simplefilter("always")
        traced = _trace_quarter(model, inputs())
        other = inputs()
        got, want = traced(*other), model.quarter(*other)
    assert isinstance(traced, torch.jit.ScriptModule)
    noisy = [str(c.message)[:80] for c in caught if issubclass(c.category, torch.jit.TracerWarning)]
    assert noisy == []
    for g, e in zip(got, want):
        assert torch.allclose(g, e, atol=1e-5)


@pytest.mark.parametrize("h,w", [(37, 53), (64, 64), (100, 61)])
def test_odd_sizes(h, w):
    out = NeuralInterpolator(trained_like(), "t", device="cpu").interpolate(texture(h, w, 1), texture(h, w, 2), 0.3)
    assert out.shape == (h, w, 3)


@pytest.mark.parametrize("method", METHODS)
def test_identical_inputs_come_back_exactly(method):
    """A held frame in stop motion stays a held frame, with every method, at every t."""
    frame = texture(72, 96, seed=9)
    interp = load_interpolator(method, device="cpu")
    for out in interp.interpolate_many(frame, frame.copy(), [0.2, 0.5, 0.8]):
        assert np.array_equal(out, frame)


def test_flow_beats_the_cross_fade_and_matches_dis_on_a_pan():
    frames = moving_square(5, 240, 320, step=4)  # DIS needs frames of some size to find 16 px
    truth = frames[2]
    scores = {m: psnr(load_interpolator(m).interpolate(frames[0], frames[4], 0.5), truth) for m in ("blend", "dis", "flow")}
    assert scores["flow"] > scores["blend"] + 6
    assert scores["flow"] > scores["dis"] - 0.5


def test_pool_augmentations_keep_flows_true(tmp_path):
    """Mirrors, transposes and time reversal of stored flows must still warp frame 1 onto frame 0."""
    from vfi_desktop.core.flow_ops import backward_warp, resize_fields
    from vfi_desktop.model.data import Clip
    from vfi_desktop.model.pool import Pool, PoolProducer, write_shard

    frames = [np.ascontiguousarray(texture(200, 460, seed=3)[:, 3 * i : 3 * i + 256]) for i in range(10)]
    producer = PoolProducer([Clip("pan", frames)], [], crops_per_window=2)
    gen = producer.samples(np.random.default_rng(1))
    write_shard([next(gen) for _ in range(6)], tmp_path, 0, {})
    pool = Pool(tmp_path)
    assert len(pool) >= 6
    for step in range(4):  # different augmentations each step
        b = pool.batch(0, step, 6, crop=128)
        for key, src, dst in (("flow01", "img1", "img0"), ("flow10", "img0", "img1")):
            warped = backward_warp(b[src], resize_fields(b[key], (128, 128)))
            inner = (slice(None), slice(None), slice(16, -16), slice(16, -16))
            assert (warped - b[dst])[inner].abs().mean() < 0.05 * (b[src] - b[dst])[inner].abs().mean()


def test_oracle_supervision_pulls_the_weights_to_the_right_candidate():
    """Where one candidate is the truth, the privileged loss moves the weights towards it."""
    from vfi_desktop.model.losses import oracle_weight_loss

    torch.manual_seed(0)
    target = torch.rand(1, 3, 32, 32)
    cands = torch.stack([target + 0.2 * torch.randn_like(target) for _ in range(5)], 1)
    cands[:, 2] = target + 0.01 * torch.randn_like(target)  # candidate 2 is (almost) right
    logits = torch.zeros(1, 5, 8, 8, requires_grad=True)
    opt = torch.optim.Adam([logits], lr=0.1)
    for _ in range(40):
        opt.zero_grad()
        oracle_weight_loss(cands, torch.softmax(logits, 1), target).backward()
        opt.step()
    weights = torch.softmax(logits, 1).detach()
    assert (weights[:, 2] > 0.8).all()


def test_single_in_betweens_run_eagerly_an_export_traces():
    """Interpolate, the self-check and Auto run the network eagerly (no ~0.7 s trace; their
    figures agree exactly); after begin_batch (what an export calls) the traced graph runs, with
    the same output to float rounding."""
    a, b = panning_pair(96, 128)
    interp = NeuralInterpolator(trained_like(seed=5), "t", device="cpu")
    first, again = interp.interpolate(a, b, 0.4), interp.interpolate(a, b, 0.4)
    pipe = interp._pipeline()
    assert pipe._traced == {} and np.array_equal(first, again)
    interp.begin_batch()
    batch = [interp.interpolate(a, b, 0.4) for _ in range(2)]
    assert len(pipe._traced) == 1 and isinstance(next(iter(pipe._traced.values())), torch.jit.ScriptModule)
    assert psnr(batch[-1], first) > 50


def test_grid_scale_follows_the_frame_size():
    model = FusionUNet(TINY)
    assert model.grid_scale(480, 640) == model.config.scale
    assert model.grid_scale(720, 1280) == 2 * model.config.scale
    assert model.grid_scale(2160, 3840) == 2 * model.config.scale
    assert model.multiple_at(8) == 2 * model.multiple


def test_cpu_path_leaves_out_only_candidates_without_weight():
    """The untrained network gives the cross-fade a weight of 1e-4 everywhere, so the CPU path
    does not build it: the picture must still be the training forward pass's."""
    a, b = panning_pair(240, 320)
    torch.manual_seed(0)
    model = FusionUNet(TINY).eval()
    fast = NeuralInterpolator(model, "t", device="cpu").interpolate(a, b, 0.4)
    assert psnr(fast, torch_forward(model, a, b, 0.4)) > 50


def test_a_trained_network_grows_wider_without_changing_its_output():
    """`--widths` with `--init` (train._grown): wider levels start from the old weights and
    compute the same pictures; the new channels are live (their weights into the old ones start
    at zero, their own at a random start), and a network cannot shrink."""
    from vfi_desktop.core.errors import VfiError
    from vfi_desktop.model.train import _grown

    a, b = panning_pair(240, 320, shift=13)
    old = trained_like(seed=5)
    wide = _grown(old, "fusion_unet", {"widths": (12, 8, 16, 8, 10)}).eval()
    assert wide.encoder.stem[0][0].weight.shape[0] == 12
    before = NeuralInterpolator(old, "old", device="cpu").interpolate(a, b, 0.4)
    after = NeuralInterpolator(wide, "wide", device="cpu").interpolate(a, b, 0.4)
    assert psnr(after, before) > 60
    with torch.no_grad():  # a weight from a new channel into an old one now matters
        wide.decoder.bodies[3][0][0].weight[:, 8:12].normal_(0, 0.5)
    assert psnr(NeuralInterpolator(wide, "wide", device="cpu").interpolate(a, b, 0.4), before) < 60
    with pytest.raises(VfiError, match="cannot change the network"):
        _grown(old, "fusion_unet", {"widths": (4, 8, 8, 8, 8)})
