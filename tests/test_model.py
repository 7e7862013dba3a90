"""The networks, their weights files, and the training engine."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from synthetic import moving_square, texture

from vfi_desktop.core.errors import VfiError
from vfi_desktop.model.fusion_unet import FusionUNet, FusionUNetConfig
from vfi_desktop.model.network import DirectUNet, count_parameters
from vfi_desktop.model.weights import load_model, save_weights
from vfi_desktop.paths import bundled_weights

TINY = FusionUNetConfig(widths=(8, 8, 8, 8, 8))


def run_unet(model, a, b, t):
    from vfi_desktop.model.interpolator import NeuralInterpolator

    return NeuralInterpolator(model, "test", device="cpu").interpolate(a, b, t)


def test_bundled_models_fit_the_budget():
    for method in ("unet", "unet-direct"):
        path = bundled_weights(method)
        model, meta = load_model(path)
        assert count_parameters(model) <= 2_000_000
        assert path.stat().st_size <= 8 * 1024 * 1024


@pytest.mark.parametrize("h,w", [(37, 53), (64, 64), (100, 61)])
@pytest.mark.parametrize("t", [0.2, 0.5, 0.9])
def test_shapes_for_odd_sizes_and_any_t(h, w, t):
    torch.manual_seed(0)
    model = FusionUNet(TINY)
    out = run_unet(model, texture(h, w, 1), texture(h, w, 2), t)
    assert out.shape == (h, w, 3)


def test_raw_network_at_t0_and_t1_gives_back_the_inputs():
    """Without the API's short-cut: the network itself returns (close to) the inputs at the ends."""
    model, _ = load_model(bundled_weights("unet"))
    from vfi_desktop.model.interpolator import NeuralInterpolator
    from vfi_desktop.core.metrics import psnr

    interp = NeuralInterpolator(model, "bundled", device="cpu")
    frames = moving_square(3, 64, 64)
    state = interp.prepare(frames[0], frames[2])
    assert psnr(interp.synthesize(state, 0.0), frames[0]) > 35
    assert psnr(interp.synthesize(state, 1.0), frames[2]) > 35


def test_corrupt_and_mismatched_weights_fail_clearly(tmp_path):
    good = save_weights(FusionUNet(TINY), tmp_path / "good.safetensors")
    corrupt = tmp_path / "corrupt.safetensors"
    corrupt.write_bytes(good.read_bytes()[:200])
    garbage = tmp_path / "garbage.safetensors"
    garbage.write_bytes(b"\x00" * 1000)
    pickle_file = tmp_path / "evil.safetensors"
    torch.save({"x": torch.zeros(1)}, pickle_file)
    for path in (corrupt, garbage, pickle_file):
        with pytest.raises(VfiError) as exc:
            load_model(path)
        assert "\n" not in str(exc.value)
    # right format, wrong shapes: a file whose tensors don't fit the config it declares
    from safetensors.torch import load_file, save_file
    from safetensors import safe_open

    tensors = load_file(str(good))
    first = next(iter(tensors))
    tensors[first] = torch.zeros(3, 3)
    with safe_open(str(good), "pt") as f:
        meta = f.metadata()
    save_file(tensors, str(tmp_path / "mismatch.safetensors"), metadata=meta)
    with pytest.raises(VfiError, match="do not match"):
        load_model(tmp_path / "mismatch.safetensors")
    with pytest.raises(VfiError, match="not found"):
        load_model(tmp_path / "missing.safetensors")
    from vfi_desktop.api import load_interpolator

    with pytest.raises(VfiError):
        load_interpolator("unet", weights=corrupt)


def test_direct_unet_runs():
    model = DirectUNet()
    a = torch.rand(1, 3, 64, 64)
    out = model(a, a, torch.tensor([0.5]))["pred"]
    assert out.shape == a.shape


def test_a_few_training_steps_lower_the_loss(tmp_path):
    from vfi_desktop.model.data import Clip, TripletSampler, model_inputs, sample_batch
    from vfi_desktop.model.losses import interpolation_loss
    from vfi_desktop.model.train import TrainConfig, Trainer

    # Three 64x64 frames, no augmentation: every step sees the same triplet, so the loss must fall.
    frames = moving_square(3, 64, 64, step=4)
    sampler = TripletSampler([Clip("square", frames)], crop=64, max_gap=2, augment="none")
    cfg = TrainConfig(steps=25, batch_size=2, crop=64, lr=2e-3, warmup_steps=1, val_every=0, checkpoint_every=0, seed=3)
    torch.manual_seed(0)
    trainer = Trainer(cfg, sampler, None, None)
    batches = [sample_batch(sampler, cfg.seed, 0, cfg.batch_size, "flows")]

    def loss() -> float:
        with torch.no_grad():
            return float(np.mean([interpolation_loss(trainer.model(**model_inputs(b))["pred"], b["target"])[0] for b in batches]))

    before = loss()
    trainer.run()
    # the loss is a mean log squared error: -0.1 is a 0.43 dB better fit
    assert loss() < before - 0.1


def test_adapt_samples_are_the_footage_itself_general_ones_are_not():
    """Fine-tuning ("adapt") draws crops of the clip as it is, mirrored at most; the bundled
    model's "general" augmentation changes colours and scale."""
    import cv2

    from vfi_desktop.model.data import Clip, TripletSampler

    frames = [np.roll(texture(96, 128, seed=2), 3 * i, axis=1) for i in range(8)]
    clip = Clip("pan", frames)

    def found_in_clip(img: np.ndarray) -> bool:
        h, w = img.shape[:2]
        for f in frames:
            for cand in (f, np.ascontiguousarray(f[:, ::-1])):
                # the best match's place (float arithmetic), then an exact comparison there
                _, _, (x, y), _ = cv2.minMaxLoc(cv2.matchTemplate(cand, img, cv2.TM_SQDIFF))
                if np.array_equal(cand[y : y + h, x : x + w], img):
                    return True
        return False

    rng = np.random.default_rng(0)
    adapt = TripletSampler([clip], crop=64, max_gap=4, augment="adapt")
    samples = [adapt.sample(rng) for _ in range(12)]
    assert all(found_in_clip(s.target) and found_in_clip(s.frame0) for s in samples)
    general = TripletSampler([clip], crop=64, max_gap=4, augment="general")
    assert not all(found_in_clip(general.sample(rng).target) for _ in range(12))
    with pytest.raises(VfiError, match="unknown augmentation"):
        TripletSampler([clip], augment="bogus")


def test_checkpoint_resumes_exactly(tmp_path):
    from vfi_desktop.model.data import Clip, TripletSampler
    from vfi_desktop.model.train import TrainConfig, Trainer

    frames = moving_square(16, 96, 96, step=3)
    sampler = TripletSampler([Clip("square", frames)], crop=64, max_gap=3)

    def config(steps):
        return TrainConfig(steps=steps, batch_size=2, crop=64, lr=1e-3, warmup_steps=1, val_every=0, checkpoint_every=1, seed=5)

    torch.manual_seed(0)
    straight = Trainer(config(6), sampler, None, None, tmp_path / "a.ckpt")
    straight.run()
    # the same run, interrupted after 3 steps and resumed from its checkpoint
    torch.manual_seed(0)
    first = Trainer(config(6), sampler, None, None, tmp_path / "b.ckpt")
    first.callback = lambda e: first.cancel.cancel() if e.kind == "step" and e.step == 3 else None
    first.run()
    torch.manual_seed(123)  # a different init must not matter: the checkpoint overrides it
    resumed = Trainer(config(6), sampler, None, None, tmp_path / "b.ckpt")
    assert resumed.step == 3
    resumed.run()
    for (k, a), b in zip(straight.model.state_dict().items(), resumed.model.state_dict().values()):
        assert torch.allclose(a, b, atol=1e-6), k


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_checkpoint_from_a_stranger_is_refused(tmp_path):
    from vfi_desktop.model.train import load_checkpoint

    class Payload:
        def __reduce__(self):
            return (print, ("owned",))

    import pickle

    path = tmp_path / "evil.ckpt"
    path.write_bytes(pickle.dumps({"format": "x", "p": Payload()}))
    with pytest.raises(VfiError, match="not a valid checkpoint"):
        load_checkpoint(path)


def test_synthetic_motion_is_exact():
    from vfi_desktop.model.synthetic import Layer, render

    tex = texture(64, 64, 1)
    layer = Layer(tex, np.ones((64, 64), np.float32), np.float32([[1, 0, 0], [0, 1, 0]]), np.float32([[1, 0, 8], [0, 1, 0]]))
    mid = render([layer], 32, 0.5)
    shifted = np.roll(render([layer], 32, 0.0), 4, axis=1)
    assert np.abs(mid[:, 8:].astype(int) - shifted[:, 8:]).max() <= 1


def test_staged_recipe_stop_after_and_init_from_checkpoint(tmp_path):
    from vfi_desktop.model.data import Clip, TripletSampler
    from vfi_desktop.model.train import TrainConfig, Trainer

    sampler = TripletSampler([Clip("square", moving_square(8, 64, 64))], crop=64, max_gap=2)
    first = Trainer(TrainConfig(steps=10, stop_after=2, batch_size=1, crop=64, val_every=0, loss="mse"), sampler, None, None, tmp_path / "s1.ckpt")
    assert first.run().steps_done == 2
    second = Trainer(TrainConfig(steps=1, batch_size=1, crop=64, val_every=0), sampler, None, tmp_path / "s2.safetensors", init_weights=tmp_path / "s1.ckpt")
    for a, b in zip(first.model.state_dict().values(), second.model.state_dict().values()):
        assert torch.equal(a, b)
    second.run()
    assert load_model(tmp_path / "s2.safetensors")[1]["info"]["init"] == "s1.ckpt"


def test_weights_of_the_retired_network_are_a_clear_error(tmp_path):
    """A model fine-tuned with version 0.1 (the earlier U-Net) says what it is and what to do."""
    from safetensors.torch import save_file

    path = tmp_path / "old.safetensors"
    save_file({"x": torch.zeros(1)}, str(path), metadata={"format": "vfi-desktop/1", "arch": "flow_unet", "config": "{}", "info": "{}"})
    with pytest.raises(VfiError, match="vfi-desktop 0.1.*fine-tune again"):
        load_model(path)


def test_a_checkpoint_that_cannot_be_written_is_a_clear_error(tmp_path, monkeypatch):
    from vfi_desktop.model.data import Clip, TripletSampler
    from vfi_desktop.model.train import TrainConfig, Trainer

    def refuse(*_a, **_k):
        raise RuntimeError("[enforce fail at inline_container.cc:747] . open file failed with strerror: No space left on device")

    sampler = TripletSampler([Clip("square", moving_square(8, 64, 64))], crop=64, max_gap=2)
    trainer = Trainer(TrainConfig(steps=1, batch_size=1, crop=64, val_every=0), sampler, None, None, tmp_path / "run.ckpt")
    monkeypatch.setattr(torch, "save", refuse)
    with pytest.raises(VfiError, match="cannot write .*No space left on device"):
        trainer.run()
    assert list(tmp_path.iterdir()) == []  # no half-written checkpoint


def test_moving_average_of_the_weights_is_what_gets_saved(tmp_path):
    from vfi_desktop.model.data import Clip, TripletSampler
    from vfi_desktop.model.train import TrainConfig, Trainer, load_checkpoint

    sampler = TripletSampler([Clip("square", moving_square(8, 64, 64, step=3))], crop=64, max_gap=2, augment="none")
    cfg = TrainConfig(steps=4, batch_size=1, crop=64, lr=1e-3, warmup_steps=1, val_every=0, checkpoint_every=0, ema=0.5)
    torch.manual_seed(0)
    trainer = Trainer(cfg, sampler, None, tmp_path / "w.safetensors", tmp_path / "w.ckpt")
    start = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    trainer.run()
    saved, _ = load_model(tmp_path / "w.safetensors")
    name = "field_head.1.weight"
    avg, last, first = saved.state_dict()[name], trainer.model.state_dict()[name], start[name]
    assert not torch.equal(avg, last) and not torch.equal(avg, first)  # between the start and the last step
    assert torch.equal(avg, trainer.ema_model.state_dict()[name])
    ckpt = load_checkpoint(tmp_path / "w.ckpt")
    assert torch.equal(ckpt["ema"][name], avg) and torch.equal(ckpt["model"][name], last)


def test_inside_crop_mask_leaves_out_content_from_beyond_the_crop():
    """A pan of 10 px to the right: at t = 1/2 the in-between takes frame 0 from 5 px to the left
    and frame 1 from 5 px to the right, so the columns within 5 px (plus the one-pixel margin) of
    either edge have no source in the crop; everything else does."""
    from vfi_desktop.model.losses import inside_crop_mask

    h, w = 24, 40
    f01 = torch.zeros(1, 2, h // 2, w // 2)
    f01[:, 0] = 5.0  # half-resolution grid: 10 px at full size
    keep = inside_crop_mask(f01, -f01, torch.tensor([0.5]), (h, w))[0, 0]
    cols = keep.all(0)
    assert keep.shape == (h, w) and bool((keep == cols).all())  # the same in every row
    assert cols.tolist() == [x - 5 >= -1 and x + 5 <= w for x in range(w)]
    # at t = 0 the in-between is frame 0 itself: frame 1's source (x + 10) decides
    keep0 = inside_crop_mask(f01, -f01, torch.tensor([0.0]), (h, w))[0, 0].all(0)
    assert keep0.tolist() == [x + 10 <= w for x in range(w)]
