"""Checks made before an export starts: a problem is one line at once, not an error after minutes
of work. `check_export` is the one function for them; the CLI, the API, the export pipeline and the
export dialog's Start button all call it.

Without the source's `VideoInfo` it checks what needs no input (output type, codec, folder); with
it, the rest (range, frame rate, output onto the input, disk room). It changes nothing on disk (the
write probe removes its file at once), so the dialog can run it as the user types.
"""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Optional

from .errors import VfiError
from .formats import QUALITY_RANGE, OutputFormat, output_format
from .video_io import VideoInfo

if TYPE_CHECKING:
    from .export import ExportSettings

SLOWMO_AUDIO = ("drop", "stretch")
MAX_SLOWMO = 64.0


@dataclass(frozen=True)
class Preflight:
    """What passed the checks: the output format, and with a known source the output's frame count,
    frame rate, length and a rough size."""

    fmt: OutputFormat
    frames: Optional[int] = None
    fps: Optional[float] = None
    duration_s: Optional[float] = None
    estimated_bytes: Optional[int] = None


def resolve_range(n_frames: int, frame_range: Optional[tuple[int, int]]) -> tuple[int, int]:
    start, stop = frame_range or (0, n_frames)
    if stop is None or stop < 0:
        stop = n_frames
    if not (0 <= start < n_frames) or stop > n_frames or stop - start < 2:
        raise VfiError(f"frame range {start}:{stop} is not valid for a clip of {n_frames} frames (need at least 2 frames)")
    return start, stop


def check_settings(settings: "ExportSettings") -> None:
    """The settings on their own: one way to retime, values in range."""
    chosen = [name for name in ("factor", "fps", "slowmo") if getattr(settings, name) is not None]
    if len(chosen) != 1:
        raise VfiError("choose either a factor, a target frame rate or a slow-motion factor (one of them)")
    if settings.slowmo is not None and not 1.0 < settings.slowmo <= MAX_SLOWMO:
        raise VfiError(f"slow motion must be more than 1x and at most {MAX_SLOWMO:g}x, got {settings.slowmo:g}")
    if settings.factor is not None and settings.factor <= 0:
        raise VfiError(f"the factor must be positive, got {settings.factor:g}")
    if settings.slowmo_audio not in SLOWMO_AUDIO:
        raise VfiError(f"slow-motion audio is '{' or '.join(SLOWMO_AUDIO)}', got '{settings.slowmo_audio}'")
    lo, hi = QUALITY_RANGE
    if not lo <= settings.quality <= hi:
        raise VfiError(f"quality is {lo} (best) .. {hi} (smallest) on the H.264 CRF scale, got {settings.quality}")


def check_output_location(fmt: OutputFormat) -> None:
    """The output can be created: its folder exists or can be made, and files can be written there."""
    path = fmt.path
    if fmt.kind == "frames":
        if path.exists() and (not path.is_dir() or any(path.iterdir())):
            raise VfiError(f"{path} exists and is not an empty folder; choose a new name")
    elif path.is_dir():
        raise VfiError(f"{path} is a folder; give a file name (e.g. {path / 'out'}{path.suffix or '.mp4'})")
    existing = _nearest_existing(path.parent)
    if not existing.is_dir():
        raise VfiError(f"cannot write to {path.parent}: {existing} is a file, not a folder")
    _probe_write(existing)


def check_disk_room(folder: Path, needed: int) -> None:
    existing = _nearest_existing(folder)
    try:
        free = shutil.disk_usage(existing).free
    except OSError:
        return  # nothing to measure (an unusual file system): the write itself reports a full disk
    if needed > free:
        raise VfiError(
            f"not enough room in {existing}: the export needs about {_size(needed)}, {_size(free)} free "
            "(free some space, or choose another folder or a smaller format)"
        )


def check_export(output: str | Path, settings: "ExportSettings", info: Optional[VideoInfo] = None) -> Preflight:
    """Every check that can be made before work starts; VfiError (one line) on the first problem."""
    from .writers import GifWriter

    check_settings(settings)
    fmt = output_format(output, settings.codec, settings.frames)
    check_output_location(fmt)
    if info is None:
        return Preflight(fmt)
    if _same_file(fmt.path, info.path):
        raise VfiError(f"{fmt.path.name}: the output would replace the clip being read; choose another name")
    start, stop = resolve_range(info.frame_count, settings.frame_range)
    fps = settings.output_fps(info.fps)
    if fmt.kind == "gif" and fps > GifWriter.MAX_FPS + 1e-6:
        raise VfiError(
            f"a GIF cannot play faster than {GifWriter.MAX_FPS:g} fps (this export is {fps:g} fps): lower the rate, or export mp4"
        )
    span_s = info.timestamps[stop - 1] - info.timestamps[start] + 1.0 / info.fps
    frames = max(1, int(round(span_s * settings.sample_fps(info.fps))))  # what the retiming plan makes
    size = fmt.estimated_bytes(info.width, info.height, frames, settings.quality)
    check_disk_room(fmt.path.parent, size)
    return Preflight(fmt, frames, fps, frames / fps, size)


def _nearest_existing(folder: Path) -> Path:
    folder = Path(os.path.abspath(folder))
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return folder


def _probe_write(folder: Path) -> None:
    """Create and remove a file in `folder`: permission bits do not tell (root, read-only mounts,
    /proc), and a muxer only opens its file when the first packet is ready, late in the export."""
    try:
        fd, name = tempfile.mkstemp(dir=folder, prefix=".vfi-desktop-probe-")
    except OSError as exc:
        reasons = {errno.EACCES: "permission denied", errno.EPERM: "permission denied", errno.EROFS: "read-only file system",
                   errno.ENOSPC: "disk full", errno.EDQUOT: "disk quota exceeded", errno.ENOENT: "files cannot be created there"}
        raise VfiError(f"cannot write to {folder}: {reasons.get(exc.errno, exc.strerror or str(exc))}") from None
    os.close(fd)
    os.unlink(name)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and Path(b).exists() and os.path.samefile(a, b)
    except OSError:
        return False


def _size(n: int) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} bytes"
