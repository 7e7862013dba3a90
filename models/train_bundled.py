"""The campaign that makes models/unet.safetensors (FusionUNet): a sample pool, then a long run.

    python models/train_bundled.py produce --run RUN [--samples 9000]      # fills RUN/pool (DIS once)
    python models/train_bundled.py train --run RUN [--steps 30000]          # trains, resumes from RUN/fusion.ckpt

Both run niced with one thread each, side by side; training starts as soon as the pool holds a
few shards and picks up new ones as they are written. Stop either at any time: `train` resumes
from its checkpoint exactly (every batch is a function of seed, step and the pool's contents).
The split is the one in ../shared/data/README.md: the validation clips are never trained on.
Validation: every gap 2 / 4 / 8 window picked below, DIS computed once on the padded frames (what
inference sees), PSNR per clip and gap against the `dis` baseline on the same triplets.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from vfi_desktop.core.metrics import psnr, ssim  # noqa: E402
from vfi_desktop.core.methods.dis import DisInterpolator  # noqa: E402
from vfi_desktop.model.data import load_clip, load_stills  # noqa: E402
from vfi_desktop.model.fusion_inference import FusionPipeline  # noqa: E402
from vfi_desktop.model.interpolator import pad_to_multiple, padded_flows  # noqa: E402
from vfi_desktop.model.pool import Pool, PoolProducer, write_shard  # noqa: E402

TRAIN = ["Megamind.avi", "vtest.avi", "box.mp4", "realshort.mp4", "newtonscradle.gif", "sam2_dog.mp4", "sam2_blocks.mp4",
         "sam2_coffee.mp4", "mdn_flower.mp4", "blupi_play103.mkv", "openboard_ccanim.mp4", "intel_aslwalk.mkv",
         "nbsphinx_calais1906.ogv", "freecol_opening.mp4", "renpy_launch.webm", "mecav_ballthrow.mp4", "nodecv_coinpen.mov",
         "dlc_mouse.mp4", "visp_mbtcube.mkv", "visp_cube.mkv"]
VAL = ["cup.mp4", "tree.avi", "sam2_cups.mp4", "fillets_intro.mp4", "intel_persons.mp4", "blupi_win129.mkv", "mdn_water.mp4"]
# Validation windows per clip: gap -> (windows, which k of each window)
VAL_PLAN = {2: (6, (1,)), 4: (4, (1, 2, 3)), 8: (3, (2, 4, 6))}


def produce(args: argparse.Namespace) -> None:
    cv2.setNumThreads(1)
    data = Path(args.data)
    pool_dir = Path(args.run) / "pool"
    clips = [load_clip(data / "clips" / name, max_side=1280) for name in TRAIN]
    stills = load_stills(data / "stills")
    producer = PoolProducer(clips, stills)
    print(f"producer: {len(producer.clips)} clips usable of {len(clips)}, {len(stills)} stills", flush=True)
    index = len(list(pool_dir.glob("shard_*.json"))) if pool_dir.exists() else 0
    total = index * args.shard
    while total < args.samples:
        rng = np.random.default_rng([args.seed, index])  # shard k is the same on every machine
        gen = producer.samples(rng)
        t0 = time.time()
        samples = [next(gen) for _ in range(args.shard)]
        write_shard(samples, pool_dir, index, {"seed": args.seed, "index": index})
        index += 1
        total += len(samples)
        print(f"shard {index}: {total} samples, {time.time() - t0:.0f} s", flush=True)


class CachedValidation:
    """Validation triplets with their DIS flows computed once; scores the network directly."""

    def __init__(self, data: Path, cache: Path) -> None:
        self.items = []  # (clip, gap, padded f0, padded f1, flows, [(t, truth)], (h, w))
        if cache.exists():
            self.items = torch.load(cache, weights_only=False)
        else:
            for name in VAL:
                clip = load_clip(data / "clips" / name, max_side=4096)
                f = clip.frames
                for gap, (count, ks) in VAL_PLAN.items():
                    starts = [i for i in range(len(f) - gap) if clip.window_ok(i, gap) and not np.array_equal(f[i], f[i + gap])]
                    for j in np.unique(np.linspace(0, len(starts) - 1, count).round().astype(int)):
                        i = starts[j]
                        p0, p1 = pad_to_multiple(f[i], 64), pad_to_multiple(f[i + gap], 64)
                        flows = padded_flows(f[i], f[i + gap], p0.shape[:2])
                        self.items.append((name, gap, p0, p1, [x.astype(np.float16) for x in flows],
                                           [(k / gap, f[i + k]) for k in ks], f[i].shape[:2]))
                print(f"validation: {name} cached", flush=True)
            torch.save(self.items, cache)
        self.triplets = self.items  # the Trainer only checks that there are some
        dis = DisInterpolator()
        h_w = lambda it: (slice(0, it[6][0]), slice(0, it[6][1]))  # noqa: E731
        self.baseline = self._score(lambda it, t: dis.interpolate(it[2][h_w(it)], it[3][h_w(it)], t))

    def _score(self, predict) -> dict:
        per: dict = {}
        for it in self.items:
            for t, truth in it[5]:
                pred = predict(it, t)
                per.setdefault(f"{it[0]}/g{it[1]}", []).append((psnr(pred, truth), ssim(pred, truth)))
        return {k: (float(np.mean([a for a, _ in v])), float(np.mean([b for _, b in v]))) for k, v in per.items()}

    def evaluate(self, model: torch.nn.Module) -> dict:
        was = model.training
        model.eval()

        pipeline = FusionPipeline(model)  # the CPU inference path, on the cached flows
        states: dict = {}

        def predict(it, t):
            key = id(it)
            if key not in states:
                states.clear()
                h, w = it[6]
                states[key] = pipeline.prepare(it[2][:h, :w], it[3][:h, :w], tuple(f[:h, :w].astype(np.float32) for f in it[4]))
            return pipeline.synthesize(states[key], t)

        res = self._score(predict)
        model.train(was)
        detail = {k: {"psnr": v[0], "ssim": v[1], "dis": self.baseline[k][0], "dis_ssim": self.baseline[k][1]} for k, v in res.items()}
        gains = {g: np.mean([d["psnr"] - d["dis"] for k, d in detail.items() if k.endswith(f"/g{g}")]) for g in VAL_PLAN}
        worst = min(d["psnr"] - d["dis"] for d in detail.values())
        print("  validation: mean gain over dis " + " ".join(f"g{g} {v:+.3f}" for g, v in gains.items())
              + f"; worst clip/gap {worst:+.3f}", flush=True)
        return {"psnr": float(np.mean([v[0] for v in res.values()])), "ssim": float(np.mean([v[1] for v in res.values()])),
                "detail": detail}


def train(args: argparse.Namespace) -> None:
    from vfi_desktop.model.train import TrainConfig, Trainer

    torch.set_num_threads(args.threads)
    cv2.setNumThreads(1)
    run = Path(args.run)
    pool = Pool(Path(args.pool) if args.pool else run / "pool")
    while len(pool) < args.min_samples:
        print(f"waiting for the pool: {len(pool)} samples", flush=True)
        time.sleep(30)
        pool.refresh()
    val = CachedValidation(Path(args.data), Path(args.val_cache) if args.val_cache else run / "val_cache.pt")
    print("dis baseline:", json.dumps({k: round(v[0], 3) for k, v in val.baseline.items()}), flush=True)
    cfg = TrainConfig(arch="fusion_unet", steps=args.steps, batch_size=args.batch, crop=args.crop, lr=args.lr,
                      warmup_steps=300, val_every=args.val_every, checkpoint_every=100, loss="log_mse_lap",
                      seed=args.seed, stop_after=args.stop_after, ema=args.ema or None,
                      oracle_weights=args.oracle_weights,
                      model_config={"widths": args.widths} if args.widths else None,
                      inside_crop_only=args.inside_crop_only)
    log = open(run / "log.jsonl", "a")

    def report(e) -> None:
        if e.kind == "step" and e.step % 10 == 0:
            if e.step % 100 == 0:
                pool.refresh()
            log.write(json.dumps({"step": e.step, "loss": e.loss, "lr": e.lr, "sps": e.steps_per_s, "pool": len(pool)}) + "\n")
            log.flush()
            if e.step % 50 == 0:
                print(f"step {e.step} loss {e.loss:.4f} lr {e.lr:.2e} {e.steps_per_s:.2f} steps/s pool {len(pool)}", flush=True)
        elif e.kind == "validation":
            print(f"step {e.step} validation psnr {e.val_psnr:.4f}", flush=True)

    trainer = Trainer(cfg, pool, val, out_path=run / "fusion_best.safetensors", checkpoint_path=run / "fusion.ckpt",
                      init_weights=args.init, callback=report, info={"recipe": "models/train_bundled.py", "train_clips": TRAIN, "val_clips": VAL})
    if args.fade_start and trainer.step == 0:
        # Experiment: the cross-fade's weight starts at FADE_START (1e-4), where the softmax hardly
        # moves it (its gradient scales with the weight); start it at --fade-start instead.
        import math

        from vfi_desktop.model.fusion_unet import FADE_START
        for m in filter(None, (trainer.model, trainer.ema_model)):
            with torch.no_grad():
                m.field_head[-1].bias[4 + 4] += math.log(args.fade_start / FADE_START)
    trainer.model.to(memory_format=torch.channels_last)
    if trainer.ema_model is not None:
        trainer.ema_model.to(memory_format=torch.channels_last)
    trainer.run()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=["produce", "train"])
    ap.add_argument("--run", default="train_runs/fusion")
    ap.add_argument("--val-cache", help="validation triplets with their flows (default: RUN/val_cache.pt)")
    ap.add_argument("--pool", help="the sample pool (default: RUN/pool)")
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--samples", type=int, default=9000)
    ap.add_argument("--shard", type=int, default=240)
    ap.add_argument("--steps", type=int, default=30000)
    ap.add_argument("--stop-after", type=int)
    ap.add_argument("--batch", type=int, default=12)
    ap.add_argument("--crop", type=int, default=192)
    ap.add_argument("--lr", type=float, default=2e-4)
    ap.add_argument("--val-every", type=int, default=500)
    ap.add_argument("--min-samples", type=int, default=960)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--oracle-weights", type=float, default=0.0, help="privileged supervision of the candidate weights")
    ap.add_argument("--fade-start", type=float, default=0.0, help="a new run's cross-fade weight at the start (experiment)")
    ap.add_argument("--widths", type=lambda v: [int(x) for x in v.split(",")],
                    help="the U-Net's widths, e.g. 24,48,96,128,192; with --init the weights are widened (function-preserving)")
    ap.add_argument("--inside-crop-only", action="store_true",
                    help="leave out of the loss the pixels whose content comes from beyond the crop")
    ap.add_argument("--init", help="start from these weights (a .safetensors of the same network)")
    ap.add_argument("--ema", type=float, default=0.999, help="moving average of the weights (0: none)")
    args = ap.parse_args()
    if hasattr(os, "nice"):
        os.nice(10)
    produce(args) if args.mode == "produce" else train(args)


if __name__ == "__main__":
    main()
