"""The training engine: used by `vfi-desktop train`, the recipe that makes the bundled weights, and
the GUI's training panel. Qt-free; reports through a callback and stops on a CancelToken.

Checkpoints hold model, optimiser and step and are written atomically; every batch is drawn from
a generator seeded by (seed, step), so a resumed run continues exactly as if never stopped.
"""

from __future__ import annotations

import copy
import math
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Optional, Sequence

import numpy as np
import torch

from ..core.errors import Cancelled, VfiError
from ..core.files import atomic_output_path, check_writable_dir
from ..core.metrics import psnr, ssim
from ..core.progress import CancelToken
from .data import Clip, TripletSampler, model_inputs, motion_kind, sample_batch
from .losses import inside_crop_mask, interpolation_loss, oracle_weight_loss
from .network import build, config_dict, count_parameters
from .weights import load_model, save_weights

CHECKPOINT_FORMAT = "vfi-desktop-checkpoint/1"


@dataclass
class TrainConfig:
    arch: str = "fusion_unet"
    steps: int = 20000
    batch_size: int = 8
    crop: int = 256
    lr: float = 3e-4
    lr_min_ratio: float = 0.05  # cosine decay down to lr * this
    warmup_steps: int = 200
    weight_decay: float = 1e-4
    seed: int = 0
    val_every: int = 500
    checkpoint_every: int = 200
    synthetic_fraction: float = 0.3
    max_gap: int = 6
    augment: str = "general"  # see data.TripletSampler: "adapt" for fine-tuning on the user's clips
    time_limit_s: Optional[float] = None  # stop after this long (the training panel's "minutes")
    stop_after: Optional[int] = None  # stop at this step, keeping the schedule of `steps` (staged recipes)
    loss: str = "log_mse_lap"  # see losses.interpolation_loss
    model_config: Optional[dict] = None  # network options; grows --init weights
    # Exponential moving average of the weights (e.g. 0.999): validation and the saved weights use
    # the average, which smooths out the step-to-step noise of a small batch on a CPU.
    ema: Optional[float] = None
    # Weight of the privileged supervision of the FusionUNet's candidate weights (losses.oracle_weight_loss).
    oracle_weights: float = 0.0
    # Leave out of the loss the pixels whose content comes from beyond the crop (losses.inside_crop_mask).
    inside_crop_only: bool = False

    def lr_at(self, step: int) -> float:
        if step < self.warmup_steps:
            return self.lr * (step + 1) / self.warmup_steps
        p = min(1.0, (step - self.warmup_steps) / max(1, self.steps - self.warmup_steps))
        return self.lr * (self.lr_min_ratio + (1 - self.lr_min_ratio) * 0.5 * (1 + math.cos(math.pi * p)))


@dataclass
class TrainEvent:
    kind: str  # "step", "validation", "checkpoint", "done"
    step: int
    total_steps: int
    elapsed_s: float
    eta_s: Optional[float]
    steps_per_s: float
    loss: Optional[float] = None
    lr: Optional[float] = None
    val_psnr: Optional[float] = None
    val_ssim: Optional[float] = None
    message: str = ""


@dataclass
class TrainResult:
    steps_done: int
    elapsed_s: float
    start_psnr: Optional[float]
    best_psnr: Optional[float]
    best_ssim: Optional[float]
    best_step: int
    out_path: Optional[Path]
    history: list[dict] = field(default_factory=list)
    stopped_early: bool = False


@dataclass
class ValTriplet:
    frame0: np.ndarray
    target: np.ndarray
    frame1: np.ndarray
    t: float
    group: str


class ValidationSet:
    """Full frames the model never trains on; PSNR/SSIM measured through the real inference path."""

    def __init__(self, triplets: Sequence[ValTriplet]) -> None:
        self.triplets = list(triplets)

    @classmethod
    def from_clips(cls, clips: Sequence[Clip], strides: Sequence[int] = (1, 2), per_group: int = 12) -> "ValidationSet":
        out = []
        for clip in clips:
            for s in strides:
                starts = [i for i in range(len(clip.frames) - 2 * s) if clip.window_ok(i, 2 * s)]
                if not starts:
                    continue
                pick = np.unique(np.linspace(0, len(starts) - 1, min(per_group, len(starts))).round().astype(int))
                for j in pick:
                    i = starts[j]
                    f = clip.frames
                    out.append(ValTriplet(f[i], f[i + s], f[i + 2 * s], 0.5, f"{clip.name}/s{s}"))
        return cls(out)

    def evaluate(self, model: torch.nn.Module) -> dict[str, float]:
        from .interpolator import NeuralInterpolator

        if not self.triplets:
            return {}
        was_training = model.training
        interp = NeuralInterpolator(model, name="validation", device=str(next(model.parameters()).device))
        ps, ss = [], []
        for tr in self.triplets:
            pred = interp.interpolate(tr.frame0, tr.frame1, tr.t)
            ps.append(psnr(pred, tr.target))
            ss.append(ssim(pred, tr.target))
        model.train(was_training)
        return {"psnr": float(np.mean(ps)), "ssim": float(np.mean(ss))}


def load_checkpoint(path: str | Path) -> dict:
    """Safe load (weights_only=True): a checkpoint from a stranger cannot run code."""
    path = Path(path)
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise VfiError(f"{path}: checkpoint not found") from None
    except Exception:  # noqa: BLE001 - unpickling errors come in many types
        raise VfiError(f"{path.name}: not a valid checkpoint (damaged or unsafe)") from None
    if not isinstance(ckpt, dict) or ckpt.get("format") != CHECKPOINT_FORMAT:
        raise VfiError(f"{path.name}: not a vfi-desktop checkpoint")
    return ckpt


class Trainer:
    """One training run. `run()` blocks; call it from a worker thread in a GUI."""

    def __init__(
        self,
        config: TrainConfig,
        sampler: TripletSampler,
        val: Optional[ValidationSet],
        out_path: Optional[str | Path],
        checkpoint_path: Optional[str | Path] = None,
        init_weights: Optional[str | Path] = None,
        callback: Optional[Callable[[TrainEvent], None]] = None,
        cancel: Optional[CancelToken] = None,
        info: Optional[dict] = None,
    ) -> None:
        self.config = config
        self.sampler = sampler
        self.val = val
        self.out_path = Path(out_path) if out_path else None
        self.checkpoint_path = Path(checkpoint_path) if checkpoint_path else None
        for target in (self.out_path, self.checkpoint_path):
            if target is not None:
                check_writable_dir(target.parent)  # fail now, not after minutes of training
        self.callback = callback
        self.cancel = cancel or CancelToken()
        self.paused = threading.Event()
        self.info = dict(info or {})
        torch.manual_seed(config.seed)
        if init_weights is not None:
            self.model, arch = initial_model(Path(init_weights))
            if arch != config.arch:
                raise VfiError(f"--init holds a '{arch}' network but the run trains '{config.arch}'")
            if config.model_config:
                self.model = _grown(self.model, arch, config.model_config)
            self.info.setdefault("init", str(Path(init_weights).name))
        else:
            self.model = build(config.arch, config.model_config)
        _check_config(config, self.model)
        self.model.train()
        self.motion_kind = motion_kind(self.model)
        self.optimizer = torch.optim.AdamW(self.model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
        self.ema_model = copy.deepcopy(self.model).eval() if config.ema else None
        self.step = 0
        self.elapsed_before = 0.0
        self.history: list[dict] = []
        self.best = {"psnr": None, "ssim": None, "step": 0}
        self.start_psnr: Optional[float] = None
        if self.checkpoint_path is not None and self.checkpoint_path.exists():
            self._resume(load_checkpoint(self.checkpoint_path))

    @property
    def weights_model(self) -> torch.nn.Module:
        """The weights that are validated and saved: the moving average when the run keeps one."""
        return self.ema_model if self.ema_model is not None else self.model

    # -- checkpoints -------------------------------------------------------------------------------

    def _resume(self, ckpt: dict) -> None:
        if ckpt["arch"] != self.config.arch or ckpt["model_config"] != config_dict_json(self.model):
            raise VfiError("the checkpoint belongs to a different network; delete it or choose another path")
        self.model.load_state_dict(ckpt["model"])
        if self.ema_model is not None:  # a run that had no average starts one from its weights
            self.ema_model.load_state_dict(ckpt.get("ema") or ckpt["model"])
        self.optimizer.load_state_dict(ckpt["optimizer"])
        self.step = int(ckpt["step"])
        self.elapsed_before = float(ckpt.get("elapsed_s", 0.0))
        self.history = list(ckpt.get("history", []))
        self.best = dict(ckpt.get("best", self.best))
        self.start_psnr = ckpt.get("start_psnr")

    def save_checkpoint(self) -> None:
        if self.checkpoint_path is None:
            return
        with atomic_output_path(self.checkpoint_path) as tmp:
            try:
                torch.save(
                    {
                        "format": CHECKPOINT_FORMAT,
                        "arch": self.config.arch,
                        "model_config": config_dict_json(self.model),
                        "model": self.model.state_dict(),
                        "ema": self.ema_model.state_dict() if self.ema_model is not None else None,
                        "optimizer": self.optimizer.state_dict(),
                        "step": self.step,
                        "elapsed_s": self.elapsed_before + (time.perf_counter() - self._t0),
                        "history": self.history,
                        "best": self.best,
                        "start_psnr": self.start_psnr,
                        "train_config": {k: v for k, v in asdict(self.config).items() if v is not None},
                    },
                    tmp,
                )
            except RuntimeError as exc:  # torch reports a file it cannot open this way
                reason = str(exc).split("strerror:")[-1].strip() if "strerror:" in str(exc) else "cannot open the file"
                raise VfiError(f"cannot write {self.checkpoint_path}: {reason}") from None

    # -- the loop ----------------------------------------------------------------------------------

    def _emit(self, kind: str, **kw) -> None:
        if self.callback is None:
            return
        elapsed = self.elapsed_before + (time.perf_counter() - self._t0)
        done_here = self.step - self._step0
        rate = done_here / max(1e-6, time.perf_counter() - self._t0) if done_here else 0.0
        eta = None
        if rate > 0:
            eta = (self.config.steps - self.step) / rate
        if self.config.time_limit_s is not None:
            left = max(0.0, self.config.time_limit_s - (time.perf_counter() - self._t0))
            eta = left if eta is None else min(eta, left)
        self.callback(TrainEvent(kind, self.step, self.config.steps, elapsed, eta, rate, **kw))

    def _validate(self) -> Optional[dict]:
        if self.val is None or not self.val.triplets:
            return None
        with torch.no_grad():
            res = self.val.evaluate(self.weights_model)
        entry = {"step": self.step, "val_psnr": res["psnr"], "val_ssim": res["ssim"]}
        if "detail" in res:  # per clip and gap, where the validation set gives them
            entry["val_detail"] = res["detail"]
        self.history.append(entry)
        if self.start_psnr is None:
            self.start_psnr = res["psnr"]
        if self.best["psnr"] is None or res["psnr"] > self.best["psnr"]:
            self.best = {"psnr": res["psnr"], "ssim": res["ssim"], "step": self.step}
            self._save_best()
        self._emit("validation", val_psnr=res["psnr"], val_ssim=res["ssim"])
        return res

    def _save_best(self) -> None:
        if self.out_path is None:
            return
        info = dict(self.info)
        info.update(
            steps=self.step,
            val_psnr=self.best["psnr"],
            val_ssim=self.best["ssim"],
            start_psnr=self.start_psnr,
            parameters=count_parameters(self.model),
            ema=self.config.ema,
            train_seconds=round(self.elapsed_before + (time.perf_counter() - self._t0), 1),
        )
        save_weights(self.weights_model, self.out_path, info)

    def run(self) -> TrainResult:
        cfg = self.config
        self._t0 = time.perf_counter()
        self._step0 = self.step
        stopped_early = False
        if self.step == 0 or not self.history:
            self._validate()  # the starting point: the baseline line in the panel's chart
        running = None
        interrupted = False
        # Build the next batch on a helper thread while this one trains (OpenCV/NumPy release the GIL).
        prefetch = ThreadPoolExecutor(max_workers=1, thread_name_prefix="batches")

        def batch_for(step: int):
            if hasattr(self.sampler, "batch"):  # a pool of samples with their motion (model/pool.py)
                return prefetch.submit(self.sampler.batch, cfg.seed, step, cfg.batch_size, cfg.crop)
            return prefetch.submit(sample_batch, self.sampler, cfg.seed, step, cfg.batch_size, self.motion_kind)

        upcoming = batch_for(self.step)
        try:
            while self.step < cfg.steps:
                while self.paused.is_set() and not self.cancel.cancelled:
                    time.sleep(0.05)
                self.cancel.raise_if_cancelled()
                if cfg.time_limit_s is not None and time.perf_counter() - self._t0 >= cfg.time_limit_s:
                    stopped_early = True
                    break
                if cfg.stop_after is not None and self.step >= cfg.stop_after:
                    stopped_early = True
                    break
                lr = cfg.lr_at(self.step)
                for g in self.optimizer.param_groups:
                    g["lr"] = lr
                batch = upcoming.result()
                if self.step + 1 < cfg.steps:
                    upcoming = batch_for(self.step + 1)
                out = self.model(**model_inputs(batch))
                pred = out["pred"]
                if cfg.inside_crop_only and "flow01" in batch:
                    keep = inside_crop_mask(batch["flow01"], batch["flow10"], batch["t"], pred.shape[-2:])
                    pred = torch.where(keep, pred, batch["target"])  # no error, no gradient there
                loss, _parts = interpolation_loss(pred, batch["target"], cfg.loss)
                if cfg.oracle_weights and "candidates" in out:
                    loss = loss + cfg.oracle_weights * oracle_weight_loss(out["candidates"], out["weights"], batch["target"])
                if not torch.isfinite(loss):
                    raise VfiError(f"training diverged at step {self.step} (loss is {float(loss)}); lower the learning rate")
                self.optimizer.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
                self.optimizer.step()
                if self.ema_model is not None:
                    with torch.no_grad():
                        for avg, cur in zip(self.ema_model.parameters(), self.model.parameters()):
                            avg.lerp_(cur, 1.0 - cfg.ema)
                self.step += 1
                value = float(loss.detach())
                running = value if running is None else 0.9 * running + 0.1 * value
                if self.step % 10 == 0 or self.step == cfg.steps:
                    self.history.append({"step": self.step, "loss": running, "lr": lr})
                self._emit("step", loss=value, lr=lr)
                if cfg.val_every and self.step % cfg.val_every == 0:
                    self._validate()
                if cfg.checkpoint_every and self.step % cfg.checkpoint_every == 0:
                    self.save_checkpoint()
                    self._emit("checkpoint")
        except (Cancelled, KeyboardInterrupt) as exc:
            stopped_early = True
            interrupted = isinstance(exc, KeyboardInterrupt)
        finally:
            prefetch.shutdown(wait=True, cancel_futures=True)
        # Keep the last good state: a stop or cancel is not a loss of work.
        if self.step != self._step0 and (not self.history or self.history[-1].get("val_psnr") is None):
            if self.val is not None and not self.cancel.cancelled and not interrupted:
                self._validate()
        if self.val is None and self.out_path is not None and self.step != self._step0:
            self.best = {"psnr": None, "ssim": None, "step": self.step}
            self._save_best()
        self.save_checkpoint()
        if interrupted:  # Ctrl+C: the checkpoint is safe; let the caller report the interruption
            raise KeyboardInterrupt
        elapsed = self.elapsed_before + (time.perf_counter() - self._t0)
        self._emit("done", message="stopped" if stopped_early else "finished")
        return TrainResult(
            steps_done=self.step,
            elapsed_s=elapsed,
            start_psnr=self.start_psnr,
            best_psnr=self.best["psnr"],
            best_ssim=self.best["ssim"],
            best_step=self.best["step"],
            out_path=self.out_path if self.out_path and self.out_path.exists() else None,
            history=self.history,
            stopped_early=stopped_early,
        )


def initial_model(path: Path) -> tuple[torch.nn.Module, str]:
    """Weights to start from: a .safetensors file, or a checkpoint's latest weights (staged recipes)."""
    if path.suffix == ".ckpt":
        ckpt = load_checkpoint(path)
        model = build(ckpt["arch"], ckpt["model_config"])
        model.load_state_dict(ckpt["model"])
        return model, ckpt["arch"]
    model, meta = load_model(path)
    return model, meta["arch"]


def _check_config(cfg: TrainConfig, model: torch.nn.Module) -> None:
    """Settings a user can get wrong, as one-line errors before any work (CLI and panel alike)."""
    m = model.multiple
    if cfg.steps < 1:
        raise VfiError("the number of steps must be at least 1")
    if cfg.batch_size < 1:
        raise VfiError("the batch size must be at least 1")
    if not cfg.lr > 0:
        raise VfiError(f"the learning rate must be above 0, got {cfg.lr}")
    if cfg.crop < m or cfg.crop % m or cfg.crop > 1024:
        raise VfiError(f"the crop size must be a multiple of {m} from {m} to 1024, got {cfg.crop}")
    if not 0.0 <= cfg.synthetic_fraction <= 1.0:
        raise VfiError(f"the synthetic share must lie between 0 and 1, got {cfg.synthetic_fraction}")
    if cfg.max_gap < 2:
        raise VfiError(f"the largest frame gap must be at least 2 (a frame between two others), got {cfg.max_gap}")
    if cfg.time_limit_s is not None and cfg.time_limit_s <= 0:
        raise VfiError("the time limit must be above 0 minutes")


def _grown(model: torch.nn.Module, arch: str, overrides: dict) -> torch.nn.Module:
    """The same network with options changed (wider levels, for example): a network that knows how
    to grow (FusionUNet.state_grown_from) computes what `model` did; otherwise every tensor the two
    share is copied and new parts keep their start. Training begins where `model` is."""
    grown = build(arch, {**config_dict(model), **overrides})
    try:
        if hasattr(grown, "state_grown_from"):
            grown.load_state_dict(grown.state_grown_from(model))
            return grown
        unexpected = grown.load_state_dict(model.state_dict(), strict=False).unexpected_keys
    except (RuntimeError, ValueError) as exc:
        raise VfiError(f"cannot change the network that way: {str(exc).splitlines()[0][:120]}") from None
    if unexpected:
        raise VfiError(f"cannot change the network that way: {', '.join(unexpected[:3])} would be dropped")
    return grown


def config_dict_json(model: torch.nn.Module) -> dict:
    """The model config with tuples as lists (what a checkpoint round-trip gives back)."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in config_dict(model).items()}
