"""Writing frames: H.264 video (with the source's audio), PNG sequences and GIFs.

Every writer works under a temporary name and renames on success, so a cancelled or failed
export never leaves a file that looks complete.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from abc import ABC, abstractmethod
from fractions import Fraction
from pathlib import Path
from typing import Optional

import numpy as np

from .errors import VfiError
from .files import check_writable_dir, discard, io_error, temp_path
from .video_io import write_image

VIDEO_FORMATS = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".mkv": "matroska"}


def output_kind(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in VIDEO_FORMATS:
        return "video"
    if suffix == ".gif":
        return "gif"
    if suffix in ("", ".png") or path.is_dir():
        return "png"
    raise VfiError(f"{path.name}: unsupported output type (use .mp4, .mov, .mkv, .gif, or a folder for PNGs)")


class FrameWriter(ABC):
    def __init__(self, path: Path, fps: float) -> None:
        self.path = Path(path)
        self.fps = fps
        self.frames_written = 0

    @abstractmethod
    def write(self, frame: np.ndarray) -> None: ...

    @abstractmethod
    def close(self) -> None:
        """Finish and move the result into place."""

    @abstractmethod
    def abort(self) -> None:
        """Remove everything written so far."""


def fps_fraction(fps: float) -> Fraction:
    """23.976 -> 24000/1001 and friends, so timestamps stay exact."""
    for base in (24, 30, 48, 60, 120, 240):
        ntsc = Fraction(base * 1000, 1001)
        if abs(float(ntsc) - fps) < 1e-3:
            return ntsc
    return Fraction(fps).limit_denominator(1001)


class VideoWriter(FrameWriter):
    """H.264 (libx264, CRF quality, yuv420p) in mp4/mov/mkv, optionally with an audio track."""

    def __init__(self, path: Path, fps: float, quality: int = 18, audio: Optional["AudioClip"] = None) -> None:
        super().__init__(path, fps)
        import av

        check_writable_dir(self.path.parent)
        self.tmp = temp_path(self.path)
        self.quality = int(np.clip(quality, 0, 51))
        self.audio = audio
        self.audio_written = False
        try:
            self.container = av.open(str(self.tmp), mode="w", format=VIDEO_FORMATS[self.path.suffix.lower()])
        except OSError as exc:
            raise io_error(self.path, exc) from None
        except av.error.FFmpegError as exc:
            raise VfiError(f"cannot create {self.path.name}: {exc}") from None
        self.stream = None

    def _open_stream(self, h: int, w: int) -> None:
        self.stream = self.container.add_stream("libx264", rate=fps_fraction(self.fps))
        self.stream.width = w + (w % 2)  # yuv420p needs even sizes; odd ones get one replicated edge
        self.stream.height = h + (h % 2)
        self.stream.pix_fmt = "yuv420p"
        self.stream.options = {"crf": str(self.quality), "preset": "medium"}
        if self.audio is not None:
            self.audio_written = self.audio.write_to(self.container)

    def write(self, frame: np.ndarray) -> None:
        import av

        if self.stream is None:
            self._open_stream(*frame.shape[:2])
        h, w = frame.shape[:2]
        if h % 2 or w % 2:
            frame = np.pad(frame, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")
        vf = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")
        vf.pts = self.frames_written
        try:
            for packet in self.stream.encode(vf):
                self.container.mux(packet)
        except OSError as exc:
            raise io_error(self.path, exc) from None
        self.frames_written += 1

    def close(self) -> None:
        try:
            if self.stream is not None:
                for packet in self.stream.encode():
                    self.container.mux(packet)
            self.container.close()
            os.replace(self.tmp, self.path)
        except OSError as exc:
            self.abort()
            raise io_error(self.path, exc) from None

    def abort(self) -> None:
        with contextlib.suppress(Exception):
            self.container.close()
        discard(self.tmp)


class AudioClip:
    """The part [start_s, end_s) of a file's first audio track, re-encoded to AAC on output."""

    def __init__(self, source_path: Path, start_s: float, end_s: float) -> None:
        self.source_path = Path(source_path)
        self.start_s = start_s
        self.end_s = end_s

    def write_to(self, container) -> bool:
        import av

        try:
            src = av.open(str(self.source_path))
        except av.error.FFmpegError:
            return False
        try:
            if not src.streams.audio:
                return False
            ast = src.streams.audio[0]
            rate = ast.codec_context.sample_rate or 48000
            layout = "stereo" if (ast.codec_context.channels or 2) >= 2 else "mono"
            out = container.add_stream("aac", rate=rate)
            out.layout = layout
            resampler = av.AudioResampler(format="fltp", layout=layout, rate=rate)
            first = int(round(self.start_s * rate))
            last = int(round(self.end_s * rate))
            written = 0
            video_start = src.streams.video[0].start_time if src.streams.video else None
            origin = float(video_start * src.streams.video[0].time_base) if video_start is not None else 0.0
            for frame in src.decode(ast):
                if frame.pts is None:
                    continue
                for rf in resampler.resample(frame):
                    written = self._emit(out, container, rf, rate, layout, first, last, written, origin)
            for rf in resampler.resample(None):
                written = self._emit(out, container, rf, rate, layout, first, last, written, origin)
            for packet in out.encode(None):
                container.mux(packet)
            return written > 0
        except av.error.FFmpegError:
            return False
        finally:
            src.close()

    @staticmethod
    def _emit(out, container, frame, rate, layout, first, last, written, origin) -> int:
        import av

        if frame.pts is None:
            return written
        start = int(round((float(frame.pts * frame.time_base) - origin) * rate))
        data = frame.to_ndarray()
        n = data.shape[1]
        a, b = max(first, start), min(last, start + n)
        if b <= a:
            return written
        piece = np.ascontiguousarray(data[:, a - start : b - start])
        nf = av.AudioFrame.from_ndarray(piece, format="fltp", layout=layout)
        nf.sample_rate = rate
        nf.pts = a - first
        nf.time_base = Fraction(1, rate)
        for packet in out.encode(nf):
            container.mux(packet)
        return written + piece.shape[1]


class PngSequenceWriter(FrameWriter):
    """frame_000000.png ... in a folder, built as `.NAME.part` and renamed when complete."""

    def __init__(self, path: Path, fps: float) -> None:
        super().__init__(path, fps)
        if self.path.suffix.lower() == ".png":
            self.path = self.path.with_suffix("")
        if self.path.exists() and (not self.path.is_dir() or any(self.path.iterdir())):
            raise VfiError(f"{self.path} exists and is not an empty folder; choose a new name")
        check_writable_dir(self.path.parent)
        self.tmp = self.path.with_name(f".{self.path.name}.part")
        shutil.rmtree(self.tmp, ignore_errors=True)
        try:
            self.tmp.mkdir(parents=True)
        except OSError as exc:
            raise io_error(self.path, exc) from None

    def write(self, frame: np.ndarray) -> None:
        try:
            write_image(self.tmp / f"frame_{self.frames_written:06d}.png", frame)
        except OSError as exc:
            raise io_error(self.path, exc) from None
        self.frames_written += 1

    def close(self) -> None:
        try:
            if self.path.exists():
                self.path.rmdir()  # empty (checked at start)
            os.replace(self.tmp, self.path)
        except OSError as exc:
            self.abort()
            raise io_error(self.path, exc) from None

    def abort(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)


class GifWriter(FrameWriter):
    """Animated GIF with an adaptive palette per frame (Pillow). GIF delays are in 1/100 s, so
    delays are dithered in time to keep the average rate right; 50 fps is the practical maximum."""

    MAX_SIDE = 800
    MAX_FPS = 50.0  # delays are whole 1/100 s, and players treat shorter than 2/100 s as 1/10 s

    def __init__(self, path: Path, fps: float) -> None:
        super().__init__(path, fps)
        check_writable_dir(self.path.parent)
        self.tmp = temp_path(self.path)
        self.images = []
        self.delays_cs: list[int] = []
        self._clock_cs = 0.0

    def write(self, frame: np.ndarray) -> None:
        from PIL import Image

        img = Image.fromarray(frame)
        if max(img.size) > self.MAX_SIDE:
            s = self.MAX_SIDE / max(img.size)
            img = img.resize((max(1, round(img.width * s)), max(1, round(img.height * s))), Image.Resampling.LANCZOS)
        self.images.append(img.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.FLOYDSTEINBERG))
        target = (self.frames_written + 1) * 100.0 / self.fps
        delay = max(2, int(round(target - self._clock_cs)))
        self._clock_cs += delay
        self.delays_cs.append(delay)
        self.frames_written += 1

    def close(self) -> None:
        if not self.images:
            raise VfiError("nothing to write: no frames were produced")
        try:
            self.images[0].save(
                self.tmp,
                format="GIF",
                save_all=True,
                append_images=self.images[1:],
                duration=[d * 10 for d in self.delays_cs],
                loop=0,
                optimize=False,
                disposal=1,
            )
            os.replace(self.tmp, self.path)
        except OSError as exc:
            self.abort()
            raise io_error(self.path, exc) from None
        finally:
            self.images = []

    def abort(self) -> None:
        self.images = []
        discard(self.tmp)


def open_writer(path: Path, fps: float, quality: int = 18, audio: Optional[AudioClip] = None) -> FrameWriter:
    kind = output_kind(Path(path))
    if kind == "video":
        return VideoWriter(path, fps, quality=quality, audio=audio)
    if kind == "gif":
        return GifWriter(path, fps)
    return PngSequenceWriter(path, fps)
