"""The export issue's acceptance checks on a real clip, through the real command line:

    python benchmarks/export_checks.py ../shared/data/clips/cup.mp4 [--method flow] [--out DIR] [--parts ...]

slow motion (4x, 4x with the audio stretched, 2.5x), every codec/container pair, FFV1 against the
source frames, three inputs with one broken, and outputs that cannot be written. Prints markdown
tables; the README quotes them.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import av
import numpy as np


def cli(*args: str) -> tuple[int, float, str]:
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "vfi_desktop", "interpolate", *args], capture_output=True, text=True)
    return proc.returncode, time.perf_counter() - t0, proc.stderr


def probe(path: Path) -> dict:
    with av.open(str(path)) as c:
        v = c.streams.video[0]
        frames = sum(1 for _ in c.decode(v))
        info = {"frames": frames, "codec": v.codec_context.name, "pix_fmt": v.codec_context.pix_fmt, "fps": float(v.average_rate)}
        info["video_s"] = frames / info["fps"]
    with av.open(str(path)) as c:
        if c.streams.audio:
            a = c.streams.audio[0]
            if a.duration:
                info["audio_s"] = float(a.duration * a.time_base)
            else:  # Matroska/WebM keep no per-stream duration: count the samples
                info["audio_s"] = sum(f.samples for f in c.decode(a)) / a.codec_context.sample_rate
            info["audio"] = a.codec_context.name
    info["MB"] = path.stat().st_size / 1e6
    return info


def source_info(clip: Path) -> tuple[int, float]:
    with av.open(str(clip)) as c:
        v = c.streams.video[0]
        return sum(1 for _ in c.decode(v)), float(v.average_rate)


PARTS = ("slowmo", "formats", "ffv1", "many", "errors")


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("clip", type=Path)
    p.add_argument("--method", default="flow")
    p.add_argument("--out", type=Path, help="keep the outputs here (default: a temporary folder)")
    p.add_argument("--parts", nargs="+", choices=PARTS, default=list(PARTS))
    args = p.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="export_checks_"))
    out.mkdir(parents=True, exist_ok=True)
    clip, m = args.clip, ["--method", args.method]
    n, fps = source_info(clip)
    print(f"{clip.name}: {n} frames at {fps:.3f} fps ({n / fps:.2f} s); method {args.method}; outputs in {out}\n")

    if "slowmo" in args.parts:
        slow_motion(clip, n, out, m)
    if "formats" in args.parts:
        formats(clip, n, out, m)
    if "ffv1" in args.parts:
        ffv1_round_trip(clip, n, out, m)
    if "many" in args.parts:
        many_inputs(clip, out, m)
    if "errors" in args.parts:
        unwritable(clip, out, m)


def slow_motion(clip: Path, n: int, out: Path, m: list[str]) -> None:
    print("| run | frames (expected) | fps | video s | audio s | audio - video | wall s |")
    print("|---|---|---|---|---|---|---|")
    for label, extra, k in (("--slowmo 4", [], 4), ("--slowmo 4 --slowmo-audio stretch", ["--slowmo-audio", "stretch"], 4),
                            ("--slowmo 2.5 --slowmo-audio stretch", ["--slowmo-audio", "stretch"], 2.5)):
        target = out / f"slow_{str(k).replace('.', '_')}_{'stretch' if extra else 'drop'}.mp4"
        rc, wall, err = cli(str(clip), "-o", str(target), "--slowmo", str(k), *extra, *m, "-q")
        assert rc == 0, err
        i = probe(target)
        audio = f"{i['audio_s']:.3f}" if "audio_s" in i else "none (dropped)"
        diff = f"{i['audio_s'] - i['video_s']:+.3f}" if "audio_s" in i else "-"
        print(f"| `{label}` | {i['frames']} ({round(k * n)}) | {i['fps']:.3f} | {i['video_s']:.3f} | {audio} | {diff} | {wall:.1f} |")



def formats(clip: Path, n: int, out: Path, m: list[str]) -> None:
    print("\n| output | codec | decoder | pixel format | frames | fps | audio | MB | wall s |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, codec in (("h264.mp4", "h264"), ("h265.mp4", "h265"), ("av1.mp4", "av1"), ("ffv1.mkv", "ffv1"),
                        ("prores.mov", "prores"), ("default.webm", None)):
        target = out / name
        rc, wall, err = cli(str(clip), "-o", str(target), "--factor", "2", *(["--codec", codec] if codec else []), *m, "-q")
        assert rc == 0, err
        i = probe(target)
        print(f"| {name} | {codec or '(default)'} | {i['codec']} | {i['pix_fmt']} | {i['frames']} ({2 * n}) | {i['fps']:.3f} | "
              f"{i.get('audio', '-')} | {i['MB']:.1f} | {wall:.1f} |")



def ffv1_round_trip(clip: Path, n: int, out: Path, m: list[str]) -> None:
    # FFV1 against the source: factor 1 without cut detection copies every source frame
    target = out / "copy.mkv"
    rc, _wall, err = cli(str(clip), "-o", str(target), "--factor", "1", "--codec", "ffv1", "--no-scene-detect", *m, "-q")
    assert rc == 0, err
    from vfi_desktop.core.video_io import open_source

    with open_source(clip) as src, av.open(str(target)) as c:
        got = [f.to_ndarray(format="rgb24") for f in c.decode(c.streams.video[0])]
        same = sum(np.array_equal(g, src.read(k)) for k, g in enumerate(got))
    print(f"\nFFV1 round trip: {same} of {len(got)} frames identical to the decoded source ({n} source frames)")



def many_inputs(clip: Path, out: Path, m: list[str]) -> None:
    broken = out / "broken.mp4"
    broken.write_bytes(b"\x00" * 10_000)
    folder = out / "stills"
    if not folder.exists():
        rc, _wall, err = cli(str(clip), "-o", str(folder), "--factor", "1", "--range", "0:12", "--frames", "jpg", *m, "-q")
        assert rc == 0, err
    many = out / "many"
    rc, wall, err = cli(str(clip), str(broken), str(folder), "-o", f"{many}/", "--factor", "2", *m, "-q")
    print(f"\nthree inputs, one broken: exit {rc} in {wall:.1f} s; outputs {sorted(p.name for p in many.iterdir())}")
    print("\n".join("    " + line for line in err.strip().splitlines()))



def unwritable(clip: Path, out: Path, m: list[str]) -> None:
    print("\n| output | exit | wall s (whole process) | stderr lines | message |")
    print("|---|---|---|---|---|")
    (out / "notes.txt").write_text("a file")
    for target in ("/proc/x.mp4", "/proc/no/such/dir/x.mp4", str(out / "notes.txt" / "x.mp4")):
        rc, wall, err = cli(str(clip), "-o", target, "--slowmo", "4", *m)
        lines = err.strip().splitlines()
        print(f"| `{target}` | {rc} | {wall:.2f} | {len(lines)} | {lines[-1] if lines else ''} |")


if __name__ == "__main__":
    main()
