"""Command line: `vfi-desktop interpolate | pair | train | bench | check | info`, and with no arguments the GUI.

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
    settings = export_settings_from_args(args)
    interpolator_for = _interpolator_loader(args, settings)
    if len(args.inputs) > 1 or args.format:
        return _interpolate_many(args, settings, interpolator_for)
    return _interpolate_one(args, settings, interpolator_for)


def export_settings_from_args(args: argparse.Namespace):
    """`interpolate`'s flags as ExportSettings (what they mean is checked by the core's preflight)."""
    from .core.export import ExportSettings
    from .core.formats import DEFAULT_QUALITY

    if sum(x is not None for x in (args.factor, args.fps, args.slowmo)) != 1:
        raise VfiError("give exactly one of --factor N, --fps F or --slowmo N")
    if args.slowmo_audio and args.slowmo is None:
        raise VfiError("--slowmo-audio goes with --slowmo N")
    return ExportSettings(
        factor=args.factor,
        fps=args.fps,
        slowmo=args.slowmo,
        slowmo_audio=args.slowmo_audio or "drop",
        frame_range=_parse_range(args.range),
        scene_cuts=not args.no_scene_detect,
        dedupe_held=args.dedupe,
        quality=DEFAULT_QUALITY if args.quality is None else args.quality,
        keep_audio=not args.no_audio,
        codec=args.codec,
        frames=args.frames,
    )


def _interpolator_loader(args: argparse.Namespace, settings=None):
    """The method for each clip, loaded once (the neural ones read weights and start torch);
    `--method auto` races the methods on each clip first and says what it picked."""
    from .api import available_methods, interpolator_for
    from .core.choice import MethodChoice

    candidates = None
    if args.method == "auto" and args.weights:  # a weights file given with auto is one more candidate
        candidates = available_methods() + [MethodChoice(Path(args.weights).stem, "unet", args.weights)]
    bar = ProgressBar("auto", args.quiet)

    def picked(report) -> None:
        bar.finish()
        args.auto_reports.append(report)
        if not args.quiet:
            print(report.summary(), file=sys.stderr)

    args.auto_reports = []
    return interpolator_for(
        args.method, args.weights, args.device, settings=settings, candidates=candidates, on_auto=picked, progress=bar
    )


def _print_auto_cost(args: argparse.Namespace, result, settings) -> None:
    """After an export with `--method auto`: what the choice cost beside it."""
    if args.auto_reports and not args.quiet:
        print(args.auto_reports.pop(0).cost_line(result.elapsed_s, settings), file=sys.stderr)


def _note_ignored_quality(args: argparse.Namespace, fmt) -> None:
    if args.quality is not None and not fmt.uses_quality() and not args.quiet:
        print(f"vfi-desktop: note: --quality does not apply to {fmt.describe()}", file=sys.stderr)


def _interpolate_one(args: argparse.Namespace, settings, interpolator_for) -> int:
    from .core.batch import ExportJob, export_file
    from .core.preflight import check_export

    job = ExportJob(Path(args.inputs[0]), Path(args.output), image_fps=args.input_fps)
    _note_ignored_quality(args, check_export(job.output, settings).fmt)
    opening = ProgressBar("indexing", args.quiet)  # only clips without usable timestamps need it

    def opened(info) -> None:
        opening.finish()
        if not args.quiet:
            print(f"{job.input.name}: {info.describe()}", file=sys.stderr)

    result = export_file(
        job, settings, interpolator_for, progress=ProgressBar("export", args.quiet), open_progress=opening, on_open=opened
    )
    if not args.quiet:
        print(result.summary(), file=sys.stderr)
    _print_auto_cost(args, result, settings)
    return 0


def _interpolate_many(args: argparse.Namespace, settings, interpolator_for) -> int:
    """Several inputs (or --format): one output each in the -o folder; goes on after a failure."""
    from .core.batch import ExportJob, batch_outputs, export_many
    from .core.preflight import check_export

    inputs = [Path(p) for p in args.inputs]
    out_dir = Path(args.output)
    if out_dir.suffix.lower() in (".mp4", ".m4v", ".mkv", ".mov", ".webm", ".gif") and not out_dir.is_dir():
        raise VfiError(f"with several inputs (or --format), -o names a folder for the outputs, not a {out_dir.suffix} file")
    jobs = [ExportJob(i, o, image_fps=args.input_fps) for i, o in zip(inputs, batch_outputs(inputs, out_dir, args.format))]
    fmt = check_export(jobs[0].output, settings).fmt
    _note_ignored_quality(args, fmt)
    if not args.quiet:
        print(f"{len(jobs)} input{'s' if len(jobs) > 1 else ''} -> {out_dir}{'/' if not str(out_dir).endswith('/') else ''} "
              f"({fmt.describe()})", file=sys.stderr)
    bars: dict[int, ProgressBar] = {}

    def progress(bp) -> None:
        if bp.progress is None:
            if not args.quiet:
                print(f"[{bp.index + 1}/{bp.count}] {jobs[bp.index].input}", file=sys.stderr)
            return
        bars.setdefault(bp.index, ProgressBar(f"[{bp.index + 1}/{bp.count}] export", args.quiet))(bp.progress)

    def outcome(o) -> None:
        if o.index in bars:
            bars[o.index].finish()
        if not args.quiet and o.error:
            print(f"[{o.index + 1}/{len(jobs)}] failed: {o.reason()}", file=sys.stderr)
        if o.result is not None:
            _print_auto_cost(args, o.result, settings)
        else:
            args.auto_reports.clear()  # Auto ran, the export did not

    result = export_many(jobs, settings, interpolator_for, progress=progress, on_outcome=outcome)
    print(result.summary(), file=sys.stderr)
    if result.cancelled:
        print("vfi-desktop: cancelled", file=sys.stderr)
        return 130
    if result.failed:
        names = ", ".join(o.job.input.name for o in result.failed)
        print(f"vfi-desktop: error: {len(result.failed)} of {len(jobs)} inputs failed: {names}", file=sys.stderr)
        return EXIT_USER_ERROR
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
    from .bench import run_benchmark

    run_benchmark(
        args.clips,
        methods=args.methods,
        gaps=args.gaps,
        max_windows=args.max_windows,
        speed_repeats=args.repeats,
        speed=not args.no_speed,
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


def add_interpolate_arguments(sp: argparse.ArgumentParser) -> None:
    from .core.batch import OUTPUT_FORMATS
    from .core.formats import CODECS, FRAME_TYPES

    sp.add_argument("inputs", nargs="+", metavar="input", help="video files or folders of images (several: one output each)")
    sp.add_argument(
        "-o", "--output", required=True,
        help=".mp4 .mkv .mov .webm .gif, or a folder name for image frames; with several inputs, the folder for the outputs",
    )
    g = sp.add_mutually_exclusive_group()
    g.add_argument("--factor", type=float, metavar="N", help="frame-rate multiplier: 2, 4, 8, or a decimal like 2.5")
    g.add_argument("--fps", type=float, metavar="F", help="target frame rate, e.g. 60")
    g.add_argument("--slowmo", type=float, metavar="N", help="slow motion: N times the frames at the source's rate (lasts N times as long)")
    sp.add_argument(
        "--slowmo-audio", choices=["drop", "stretch"],
        help="slow motion: drop the audio (default) or stretch it to match, pitch kept",
    )
    sp.add_argument("--range", metavar="A:B", help="frames A:B of the source (B exclusive; either may be empty)")
    sp.add_argument("--input-fps", type=float, default=12.0, help="frame rate of an image folder (default 12)")
    sp.add_argument("--dedupe", action="store_true", help="drop held frames (stop motion on twos) before retiming")
    sp.add_argument("--no-scene-detect", action="store_true", help="interpolate across scene cuts too")
    sp.add_argument(
        "--codec", choices=list(CODECS),
        help="video codec: h264 (default; .mp4 .mkv .mov), h265, av1, vp9 (default for .webm), prores (.mov .mkv), ffv1 (.mkv)",
    )
    sp.add_argument("--frames", choices=list(FRAME_TYPES), help="image type of a folder output (default png)")
    sp.add_argument(
        "--format", choices=list(OUTPUT_FORMATS),
        help="several inputs: the output format (default: the first input's; frames = a folder of images each)",
    )
    sp.add_argument(
        "--quality", type=int,
        help="0 (best) .. 51 (smallest) on the H.264 CRF scale, mapped per codec (default 18, looks lossless); also JPEG frames",
    )
    sp.add_argument("--no-audio", action="store_true", help="drop the audio track")


def build_parser() -> argparse.ArgumentParser:
    from . import __version__
    from .api import METHODS
    from .cli_check import add_parser as add_check_parser
    from .core.choice import AUTO

    p = argparse.ArgumentParser(prog="vfi-desktop", description="Make in-between frames for smoother video.")
    p.add_argument("--version", action="version", version=f"vfi-desktop {__version__}")
    sub = p.add_subparsers(dest="command")

    def common(sp: argparse.ArgumentParser, auto: bool = False) -> None:
        if auto:
            sp.add_argument("--method", choices=(AUTO, *METHODS), default="unet",
                            help="interpolation method (default: unet); auto: the best on a sample of each clip")
        else:
            sp.add_argument("--method", choices=METHODS, default="unet", help="interpolation method (default: unet)")
        sp.add_argument("--weights", help="a .safetensors file for the neural methods (default: bundled)")
        sp.add_argument("--device", default="auto", help="auto, cpu or cuda")
        sp.add_argument("-q", "--quiet", action="store_true")

    sp = sub.add_parser("interpolate", help="export a smoother or slower video")
    add_interpolate_arguments(sp)
    common(sp, auto=True)
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
    sp.add_argument("--arch", default="fusion_unet", choices=["fusion_unet", "direct_unet"])
    # The recipe's options default to None: "not given", so a preset's value stays unless overridden.
    sp.add_argument("--steps", type=int, help=f"training steps (default {g.steps})")
    sp.add_argument("--minutes", type=float, help="stop after this many minutes (0: no limit; the default)")
    sp.add_argument("--stop-after", type=int, help="stop at this step, keeping the learning-rate schedule of --steps")
    sp.add_argument("--loss", default="log_mse_lap", choices=["log_mse_lap", "log_mse", "mse"],
                    help="loss (default log_mse_lap: mean log squared error + Laplacian L1, the bundled model's)")
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
    sp.add_argument("--gaps", nargs="+", type=int, default=[2, 4, 8],
                    help="frames i and i+GAP in, every frame between them the truth (default 2 4 8)")
    sp.add_argument("--max-windows", type=int, default=0, help="per clip and gap, evenly spread (0: every window)")
    sp.add_argument("--repeats", type=int, default=11, help="timed runs at 1280x720 per method (median)")
    sp.add_argument("--no-speed", action="store_true", help="quality only")
    sp.add_argument("--threads", type=int, default=2, help="CPU threads for the speed test (default 2)")
    sp.add_argument("--json", help="also write the figures to this JSON file")
    sp.set_defaults(func=cmd_bench)

    add_check_parser(sub)

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
