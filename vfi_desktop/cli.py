"""Command line: `vfi-desktop interpolate | pair | train | bench | info`, and with no arguments the GUI.

User errors print one line (`vfi-desktop: error: ...`) and exit with status 2; Ctrl+C exits 130.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Optional, Sequence

from .core.errors import Cancelled, VfiError
from .core.finetune import GENERAL, OPTIONS, PRESETS, TrainSettings, find_preset
from .core.progress import Progress, format_eta
from .paths import bundled_weights

if TYPE_CHECKING:
    from .model.train import TrainConfig

EXIT_USER_ERROR = 2


class ProgressBar:
    """A one-line text progress bar on stderr (plain lines when stderr is not a terminal)."""

    def __init__(self, label: str, quiet: bool = False) -> None:
        self.label = label
        self.quiet = quiet
        self.tty = sys.stderr.isatty()
        self._last_plain = -1.0
        self._line_open = False  # a terminal line drawn without its newline yet

    def __call__(self, p: Progress) -> None:
        if self.quiet:
            return
        width = 30
        filled = int(width * p.fraction)
        extra = f" {p.message}" if p.message else ""
        line = (
            f"{self.label} [{'#' * filled}{'.' * (width - filled)}] {p.done}/{p.total} "
            f"{p.rate:5.1f}/s ETA {format_eta(p.eta_s)}{extra}"
        )
        if self.tty:
            sys.stderr.write("\r" + line[:150].ljust(100))
            self._line_open = p.done < p.total
            if not self._line_open:
                sys.stderr.write("\n")
        elif p.done >= p.total or time.perf_counter() - self._last_plain > 5.0:
            self._last_plain = time.perf_counter()
            sys.stderr.write(line + "\n")
        sys.stderr.flush()

    def finish(self) -> None:
        """End the line of a job that stopped short of its estimated total."""
        if self._line_open:
            sys.stderr.write("\n")
            self._line_open = False


def _parse_range(text: Optional[str]) -> Optional[tuple[int, int]]:
    if not text:
        return None
    try:
        a, b = text.split(":")
        return (int(a) if a else 0, int(b) if b else -1)
    except ValueError:
        raise VfiError(f"--range must look like A:B (frame numbers), got '{text}'") from None


def cmd_interpolate(args: argparse.Namespace) -> int:
    from .api import load_interpolator
    from .core.export import ExportSettings, export_video
    from .core.video_io import open_source

    if (args.factor is None) == (args.fps is None):
        raise VfiError("give exactly one of --factor N or --fps F")
    opening = ProgressBar("indexing", args.quiet)  # only clips without usable timestamps need it
    with open_source(args.input, image_fps=args.input_fps, progress=opening) as source:
        opening.finish()
        if not args.quiet:
            print(f"{Path(args.input).name}: {source.info.describe()}", file=sys.stderr)
        interp = load_interpolator(args.method, weights=args.weights, device=args.device)
        settings = ExportSettings(
            factor=args.factor,
            fps=args.fps,
            frame_range=_parse_range(args.range),
            scene_cuts=not args.no_scene_detect,
            dedupe_held=args.dedupe,
            quality=args.quality,
            keep_audio=not args.no_audio,
        )
        result = export_video(source, args.output, interp, settings, progress=ProgressBar("export", args.quiet))
    if not args.quiet:
        print(result.summary(), file=sys.stderr)
    return 0


def cmd_pair(args: argparse.Namespace) -> int:
    from .api import load_interpolator
    from .core.video_io import image_suffix, read_image, write_image

    image_suffix(Path(args.output))  # an output we cannot write fails before any work
    a, b = read_image(Path(args.frame0)), read_image(Path(args.frame1))
    if a.shape != b.shape:
        raise VfiError(f"the images differ in size: {a.shape[1]}x{a.shape[0]} vs {b.shape[1]}x{b.shape[0]}")
    if not 0.0 < args.t < 1.0:
        raise VfiError(f"--t must lie between 0 and 1, got {args.t}")
    interp = load_interpolator(args.method, weights=args.weights, device=args.device)
    t0 = time.perf_counter()
    mid = interp.interpolate(a, b, args.t)
    ms = (time.perf_counter() - t0) * 1000
    out = Path(args.output)
    from .core.files import atomic_output_path

    with atomic_output_path(out) as tmp:
        write_image(tmp, mid)
    if not args.quiet:
        print(f"wrote {out} ({interp.describe()}, {ms:.0f} ms)", file=sys.stderr)
    return 0


@dataclass(frozen=True)
class TrainPlan:
    """What `train` runs, resolved from its arguments before any clip is read: the recipe (a
    preset, or the general defaults, with the options given explicitly applied) and the engine's
    configuration (its crop may still shrink to fit small clips)."""

    settings: TrainSettings
    config: TrainConfig
    init: Optional[Path]
    checkpoint: Path


def plan_training(args: argparse.Namespace) -> TrainPlan:
    from .model.train import TrainConfig

    base = find_preset(args.preset) if args.preset else GENERAL
    if args.holdout is not None and not 0.0 < args.holdout < 1.0:
        raise VfiError(f"--holdout is a fraction of each clip, between 0 and 1 (e.g. 0.2), got {args.holdout}")
    if args.detail is not None and args.arch != "flow_unet":
        raise VfiError("--detail applies to the flow_unet network only")
    given = {name: getattr(args, name) for name in OPTIONS if getattr(args, name) is not None}
    settings = replace(base, **given)
    init = args.init if args.init is not None else (bundled_weights("unet") if args.preset else None)
    config = TrainConfig(
        arch=args.arch,
        steps=settings.steps,
        batch_size=settings.batch,
        crop=settings.crop,
        lr=settings.lr,
        seed=settings.seed,
        val_every=settings.val_every,
        warmup_steps=min(200, max(1, settings.steps // 10)),
        synthetic_fraction=args.synthetic if args.stills else 0.0,
        time_limit_s=settings.minutes * 60 if settings.minutes else None,  # 0: no limit; below 0 an error
        stop_after=args.stop_after,
        loss=args.loss,
        model_config={"detail": args.detail} if args.detail is not None else None,
        max_gap=settings.max_gap,
        augment=settings.augment,
    )
    checkpoint = Path(args.checkpoint) if args.checkpoint else Path(args.out).with_suffix(".ckpt")
    return TrainPlan(settings, config, Path(init) if init is not None else None, checkpoint)


def cmd_train(args: argparse.Namespace) -> int:
    import torch

    from .model.data import TripletSampler, load_clip, load_stills, split_held_out
    from .model.train import Trainer, ValidationSet

    plan = plan_training(args)  # wrong settings fail before any clip is read
    settings, cfg = plan.settings, plan.config
    if settings.threads:
        torch.set_num_threads(settings.threads)
    events = EventStream() if args.events else None
    log = (lambda *a: None) if (args.quiet or events) else (lambda *a: print(*a, file=sys.stderr))
    if args.preset:
        log(f"preset {args.preset.lower()}: {settings.describe()}")
    clips, held_out = [], []
    for p in args.data:
        clip = load_clip(p)
        if settings.holdout:
            train_part, val_part = split_held_out(len(clip.frames), settings.holdout)
            held_out.append(type(clip)(f"{clip.name} (held out)", clip.frames[val_part.start :], {c - val_part.start for c in clip.cuts if c >= val_part.start}))
            clip = type(clip)(clip.name, clip.frames[: train_part.stop], {c for c in clip.cuts if c < train_part.stop - 1})
        clips.append(clip)
    stills = []
    for folder in args.stills or []:
        stills += load_stills(folder)
    if not stills:
        cfg = replace(cfg, synthetic_fraction=0.0)
    val_clips = held_out + [load_clip(p) for p in args.val or []]
    log(f"training on {', '.join(f'{c.name} ({len(c.frames)} frames)' for c in clips)}; {len(stills)} stills")
    if val_clips:
        log(f"validating on {', '.join(f'{c.name} ({len(c.frames)} frames)' for c in val_clips)}")
    if cfg.augment == "adapt" and clips:
        # Crops at the clip's own scale: a clip smaller than the crop would otherwise be enlarged.
        smallest = min(min(c.frames[0].shape[:2]) for c in clips)
        fits = max(64, smallest // 64 * 64)
        if fits < cfg.crop:
            note = f"crop {cfg.crop} is larger than the smallest clip ({smallest} px): using {fits}"
            if events:
                events.note(note)
            else:
                log(note)
            cfg = replace(cfg, crop=fits)
    sampler = TripletSampler(
        clips, stills, crop=cfg.crop, synthetic_fraction=cfg.synthetic_fraction, max_gap=cfg.max_gap, augment=cfg.augment
    )
    val = ValidationSet.from_clips(val_clips, per_group=settings.val_triplets) if val_clips else None
    checkpoint = plan.checkpoint
    bar = ProgressBar("train", args.quiet or bool(events))
    last_val = {"text": ""}

    def report(e) -> None:
        if events:
            events.emit(e)
        if e.kind == "validation":
            last_val["text"] = f"val {e.val_psnr:.2f} dB"
            log(f"\nstep {e.step}: validation PSNR {e.val_psnr:.3f} dB, SSIM {e.val_ssim:.4f}")
        elif e.kind == "step":
            msg = f"loss {e.loss:.4f} {last_val['text']}"
            bar(Progress(e.step, e.total_steps, e.elapsed_s, e.eta_s, e.steps_per_s, msg))

    info = {"data": [Path(p).name for p in args.data], "stills": len(stills), "val": [c.name for c in val_clips]}
    if settings.holdout:
        info["holdout"] = settings.holdout
    if args.preset:
        info["preset"] = args.preset.lower()
    trainer = Trainer(cfg, sampler, val, args.out, checkpoint, init_weights=plan.init, callback=report, info=info)
    if events:
        events.listen(trainer)
    if trainer.step:
        log(f"resuming from {checkpoint} at step {trainer.step}")
    result = trainer.run()
    log(
        f"\n{result.steps_done} steps in {result.elapsed_s / 60:.1f} min; "
        + (f"best validation PSNR {result.best_psnr:.3f} dB at step {result.best_step} (start {result.start_psnr:.3f})" if result.best_psnr else "no validation")
        + f"; weights: {result.out_path}"
    )
    if events:
        events.result(result)
    return 0


class EventStream:
    """`train --events`: JSON lines on stdout for a supervising process (the GUI's training panel),
    and commands on stdin: `pause`, `resume`, `stop`."""

    def emit(self, e) -> None:
        import dataclasses
        import json

        sys.stdout.write(json.dumps({"event": e.kind, **{k: v for k, v in dataclasses.asdict(e).items() if k != "kind"}}) + "\n")
        sys.stdout.flush()

    def note(self, message: str) -> None:
        """Something the user should know about the run (shown in the panel's status line)."""
        import json

        sys.stdout.write(json.dumps({"event": "note", "message": message}) + "\n")
        sys.stdout.flush()

    def result(self, r) -> None:
        import json

        sys.stdout.write(json.dumps({
            "event": "result", "steps_done": r.steps_done, "elapsed_s": r.elapsed_s, "start_psnr": r.start_psnr,
            "best_psnr": r.best_psnr, "best_ssim": r.best_ssim, "best_step": r.best_step,
            "out_path": str(r.out_path) if r.out_path else None, "stopped_early": r.stopped_early,
        }) + "\n")
        sys.stdout.flush()

    def listen(self, trainer) -> None:
        import threading

        def run() -> None:
            for line in sys.stdin:
                cmd = line.strip().lower()
                if cmd == "pause":
                    trainer.paused.set()
                elif cmd == "resume":
                    trainer.paused.clear()
                elif cmd == "stop":
                    trainer.paused.clear()
                    trainer.cancel.cancel()
            # stdin closed: the supervisor is gone, so stop cleanly (the checkpoint is kept)
            trainer.cancel.cancel()

        threading.Thread(target=run, name="train-control", daemon=True).start()


def cmd_bench(args: argparse.Namespace) -> int:
    from .core.bench import run_benchmark

    run_benchmark(
        args.clips,
        methods=args.methods,
        strides=args.strides,
        max_triplets=args.max_triplets,
        speed_repeats=args.repeats,
        weights=parse_weight_overrides(args.weights or []),
        out=sys.stdout,
        json_path=args.json,
        threads=args.threads,
    )
    return 0


def parse_weight_overrides(items: list[str]) -> dict[str, str]:
    """`unet=my.safetensors` pairs of `bench --weights`."""
    from .api import METHODS

    out = {}
    for item in items:
        method, sep, path = item.partition("=")
        if not sep or not path or method not in METHODS:
            raise VfiError(f"--weights takes METHOD=FILE with METHOD one of {', '.join(METHODS)}, got '{item}'")
        out[method] = path
    return out


def cmd_info(args: argparse.Namespace) -> int:
    from .core.video_io import open_source

    with open_source(args.input, image_fps=args.input_fps) as src:
        print(f"{Path(args.input).name}: {src.info.describe()}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    from . import __version__
    from .api import METHODS

    p = argparse.ArgumentParser(prog="vfi-desktop", description="Make in-between frames for smoother video.")
    p.add_argument("--version", action="version", version=f"vfi-desktop {__version__}")
    sub = p.add_subparsers(dest="command")

    def common(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--method", choices=METHODS, default="unet", help="interpolation method (default: unet)")
        sp.add_argument("--weights", help="a .safetensors file for the neural methods (default: bundled)")
        sp.add_argument("--device", default="auto", help="auto, cpu or cuda")
        sp.add_argument("-q", "--quiet", action="store_true")

    sp = sub.add_parser("interpolate", help="export a smoother video")
    sp.add_argument("input", help="video file or folder of images")
    sp.add_argument("-o", "--output", required=True, help=".mp4, .gif, or a folder name for PNGs")
    g = sp.add_mutually_exclusive_group()
    g.add_argument("--factor", type=float, help="frame-rate multiplier: 2, 4, 8, or a decimal like 2.5")
    g.add_argument("--fps", type=float, help="target frame rate, e.g. 60")
    sp.add_argument("--range", help="frames A:B of the source (B exclusive; either may be empty)")
    sp.add_argument("--input-fps", type=float, default=12.0, help="frame rate of an image folder (default 12)")
    sp.add_argument("--dedupe", action="store_true", help="drop held frames (stop motion on twos) before retiming")
    sp.add_argument("--no-scene-detect", action="store_true", help="interpolate across scene cuts too")
    sp.add_argument("--quality", type=int, default=18, help="H.264 CRF, 0 (lossless) .. 51 (worst); default 18")
    sp.add_argument("--no-audio", action="store_true", help="drop the audio track")
    common(sp)
    sp.set_defaults(func=cmd_interpolate)

    sp = sub.add_parser("pair", help="make the frame between two images")
    sp.add_argument("frame0")
    sp.add_argument("frame1")
    sp.add_argument("-o", "--output", required=True)
    sp.add_argument("--t", type=float, default=0.5, help="time between the frames, 0..1 (default 0.5)")
    common(sp)
    sp.set_defaults(func=cmd_pair)

    g = GENERAL
    presets = "\n".join(
        textwrap.fill(
            settings.describe().replace(" ", "\xa0").replace("\xa0--", " --"), 96, break_on_hyphens=False,
            initial_indent=f"  {name:<10}", subsequent_indent=" " * 12,
        ).replace("\xa0", " ")  # an option stays on one line with its value
        for name, settings in PRESETS.items()
    )
    sp = sub.add_parser(
        "train", help="train or fine-tune the network", formatter_class=argparse.RawDescriptionHelpFormatter,
        description=(
            "Train the network, or fine-tune it on your own clips.\n\n"
            "--preset runs the Fine-tune panel's recipe: it starts from the bundled weights (or --init),\n"
            "trains on the first part of each --data clip and checks on the held-out rest:\n"
            f"{presets}\n"
            "Options given explicitly override the preset's values, e.g.\n"
            "  vfi-desktop train --preset quick --data CLIP --out mine.safetensors --steps 3000 --minutes 0\n"
            "Without --preset, the defaults below are those of general training."
        ),
    )
    sp.add_argument("--preset", metavar="{" + ",".join(PRESETS) + "}",
                    help="the Fine-tune panel's recipe (options given explicitly override its values)")
    sp.add_argument("--data", nargs="+", required=True, help="clips or image folders to train on")
    sp.add_argument("--stills", nargs="*", help="folders of photos for synthetic motion")
    sp.add_argument("--val", nargs="*", help="held-out clips for validation (never trained on)")
    sp.add_argument("--init", help="start from these weights (.safetensors) or a checkpoint's latest (.ckpt); "
                    "with --preset the bundled weights by default")
    sp.add_argument("--arch", default="flow_unet", choices=["flow_unet", "direct_unet"])
    sp.add_argument("--detail", type=int, help="flow_unet: width of the full-resolution detail branch (0: none)")
    # The recipe's options default to None: "not given", so a preset's value stays unless overridden.
    sp.add_argument("--steps", type=int, help=f"training steps (default {g.steps})")
    sp.add_argument("--minutes", type=float, help="stop after this many minutes (0: no limit; the default)")
    sp.add_argument("--stop-after", type=int, help="stop at this step, keeping the learning-rate schedule of --steps")
    sp.add_argument("--loss", default="log_mse", choices=["log_mse", "mse"], help="main loss term (default log_mse)")
    sp.add_argument("--batch", type=int, help=f"patches per step (default {g.batch})")
    sp.add_argument("--crop", type=int, help=f"side of the square training patches, a multiple of 64 (default {g.crop})")
    sp.add_argument("--lr", type=float, help=f"peak learning rate (default {g.lr:g})")
    sp.add_argument("--seed", type=int, help=f"random seed (default {g.seed})")
    sp.add_argument("--synthetic", type=float, default=0.3, help="share of synthetic samples from --stills")
    sp.add_argument(
        "--augment", choices=["general", "adapt"],
        help="general: footage of every kind (default); adapt: fine-tuning on your own clips (keeps their look)",
    )
    sp.add_argument("--max-gap", type=int, help=f"largest frame gap of a training triplet (2..; default {g.max_gap})")
    sp.add_argument("--val-every", type=int, help=f"validate every this many steps (default {g.val_every})")
    sp.add_argument("--val-triplets", type=int, help=f"validation triplets per clip and stride (default {g.val_triplets})")
    sp.add_argument("--holdout", type=float, help="hold out this last fraction of each --data clip for validation")
    sp.add_argument("--events", action="store_true", help="JSON-lines events on stdout; pause/resume/stop on stdin")
    sp.add_argument("--checkpoint", help="checkpoint path (default: OUT with .ckpt); resumes if it exists")
    sp.add_argument("--threads", type=int, help="CPU threads for torch (default: all)")
    sp.add_argument("--out", required=True, help="where to write the best weights (.safetensors)")
    sp.add_argument("-q", "--quiet", action="store_true")
    sp.set_defaults(func=cmd_train)

    sp = sub.add_parser("bench", help="quality and speed of every method side by side")
    sp.add_argument("clips", nargs="+", help="clips (or image folders) with real frames")
    sp.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    sp.add_argument("--weights", nargs="*", help="METHOD=FILE overrides, e.g. unet=my.safetensors")
    sp.add_argument("--strides", nargs="+", type=int, default=[1, 2])
    sp.add_argument("--max-triplets", type=int, default=0, help="per clip and stride (0: all)")
    sp.add_argument("--repeats", type=int, default=7, help="timed runs at 1280x720 per method")
    sp.add_argument("--threads", type=int, default=2, help="CPU threads for the speed test (default 2)")
    sp.add_argument("--json", help="also write the figures to this JSON file")
    sp.set_defaults(func=cmd_bench)

    sp = sub.add_parser("info", help="describe a clip")
    sp.add_argument("input")
    sp.add_argument("--input-fps", type=float, default=12.0)
    sp.set_defaults(func=cmd_info)

    sp = sub.add_parser("gui", help="open the application (the default with no command)")
    sp.add_argument("input", nargs="?", help="a video or image folder to open")
    sp.set_defaults(func=None)
    return p


def main(argv: Optional[Sequence[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if argv and argv[0] == "--self-test":
        from .selftest import run_self_test

        return run_self_test(argv[1:])
    if not argv or argv[0] == "gui" or (len(argv) == 1 and Path(argv[0]).exists()):
        from .gui.app import run_gui

        return run_gui(argv[1:] if argv and argv[0] == "gui" else argv)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_USER_ERROR
    try:
        return args.func(args)
    except VfiError as exc:
        print(f"\nvfi-desktop: error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except Cancelled:
        print("\nvfi-desktop: cancelled", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("\nvfi-desktop: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
