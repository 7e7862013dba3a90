"""Writing frames: video (any codec of core/formats.py, with the source's audio), folders of PNG or
JPEG frames, and GIFs.

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

from .audio import AudioClip
from .errors import VfiError
from .files import check_writable_dir, discard, io_error, temp_path
from .formats import DEFAULT_QUALITY, OutputFormat, jpeg_quality, output_format
from .video_io import write_image

__all__ = ["AudioClip", "FrameSequenceWriter", "FrameWriter", "GifWriter", "VideoWriter", "fps_fraction", "open_writer"]


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
    """One video stream (the format's codec, pixel format and quality) in its container, optionally
    with the source's audio (AAC; Opus in WebM, PCM beside ProRes, FLAC beside FFV1)."""

    def __init__(
        self,
        path: Path,
        fps: float,
        quality: int = DEFAULT_QUALITY,
        audio: Optional[AudioClip] = None,
        fmt: Optional[OutputFormat] = None,
        audio_length_s: Optional[float] = None,
    ) -> None:
        super().__init__(path, fps)
        import av

        self.fmt = fmt or output_format(self.path)
        check_writable_dir(self.path.parent)
        self.tmp = temp_path(self.path)
        self.quality = int(np.clip(quality, 0, 51))
        self.audio = audio
        self.audio_length_s = audio_length_s
        self.audio_written = False
        self._pad = self.fmt.codec.pix_fmt.startswith("yuv")  # chroma subsampling needs even sizes
        os.environ.setdefault("SVT_LOG", "1")  # SVT-AV1 prints a banner at its default log level
        try:
            self.container = av.open(str(self.tmp), mode="w", format=self.fmt.container)
        except OSError as exc:
            raise io_error(self.path, exc) from None
        except av.error.FFmpegError as exc:
            raise VfiError(f"cannot create {self.path.name}: {exc}") from None
        self.stream = None

    def _open_stream(self, h: int, w: int) -> None:
        codec = self.fmt.codec
        self.stream = self.container.add_stream(self.fmt.encoder, rate=fps_fraction(self.fps))
        self.stream.width = w + (w % 2 if self._pad else 0)  # odd sizes get one replicated edge
        self.stream.height = h + (h % 2 if self._pad else 0)
        self.stream.pix_fmt = codec.pix_fmt
        self.stream.options = codec.encoder_options(self.fmt.encoder, self.quality)
        if codec.key == "h265" and self.fmt.container in ("mp4", "mov"):
            self.stream.codec_context.codec_tag = "hvc1"  # the tag Apple's players look for
        if self.audio is not None:
            self.audio_written = self.audio.write_to(self.container, self.fmt.audio_codec, self.audio_length_s)

    def write(self, frame: np.ndarray) -> None:
        import av

        if self.stream is None:
            self._open_stream(*frame.shape[:2])
        h, w = frame.shape[:2]
        if self._pad and (h % 2 or w % 2):
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


class FrameSequenceWriter(FrameWriter):
    """frame_000000.png (or .jpg) ... in a folder, built as `.NAME.part` and renamed when complete."""

    def __init__(self, path: Path, fps: float, frame_type: str = "png", quality: int = DEFAULT_QUALITY) -> None:
        super().__init__(path, fps)
        if self.path.suffix.lower() in (".png", ".jpg"):
            self.path = self.path.with_suffix("")
        self.suffix = f".{frame_type}"
        self._params = {"jpeg_quality": jpeg_quality(quality)} if frame_type == "jpg" else {}
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
            write_image(self.tmp / f"frame_{self.frames_written:06d}{self.suffix}", frame, **self._params)
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
    """Animated GIF (FFmpeg's GIF encoder through PyAV) with an adaptive 256-colour palette per
    frame (palettegen/paletteuse, Floyd-Steinberg dithering), streamed to disk as frames come.
    GIF delays are in 1/100 s, so delays are dithered in time to keep the average rate right;
    50 fps is the practical maximum."""

    MAX_SIDE = 800
    MAX_FPS = 50.0  # delays are whole 1/100 s, and players treat shorter than 2/100 s as 1/10 s
    _CS = Fraction(1, 100)  # the GIF muxer's time base: centiseconds

    def __init__(self, path: Path, fps: float) -> None:
        super().__init__(path, fps)
        import av

        check_writable_dir(self.path.parent)
        self.tmp = temp_path(self.path)
        try:
            self.container = av.open(str(self.tmp), mode="w", format="gif")  # loops forever (muxer default)
        except OSError as exc:
            raise io_error(self.path, exc) from None
        except av.error.FFmpegError as exc:
            raise VfiError(f"cannot create {self.path.name}: {exc}") from None
        self.stream = None
        self.graph = None
        self._size: tuple[int, int] = (0, 0)
        self._delays: dict[int, int] = {}  # pts -> delay (cs): the muxer takes each frame's delay from its packet
        self._clock_cs = 0

    def _open_stream(self, h: int, w: int) -> None:
        import av

        s = min(1.0, self.MAX_SIDE / max(h, w))
        w, h = max(1, round(w * s)), max(1, round(h * s))
        self._size = (w, h)
        self.stream = self.container.add_stream("gif", rate=100)
        self.stream.width, self.stream.height, self.stream.pix_fmt = w, h, "pal8"
        self.stream.codec_context.time_base = self._CS
        # frame -> split -> palettegen (one palette per frame) -> paletteuse <- the same frame
        g = av.filter.Graph()
        src = g.add_buffer(width=w, height=h, format="rgb24", time_base=self._CS)
        split = g.add("split")
        palette = g.add("palettegen", "stats_mode=single:max_colors=256:reserve_transparent=0")
        use = g.add("paletteuse", "new=1:dither=floyd_steinberg")
        sink = g.add("buffersink")
        src.link_to(split)
        split.link_to(use, 0, 0)
        split.link_to(palette, 1, 0)
        palette.link_to(use, 0, 1)
        use.link_to(sink)
        g.configure()
        self.graph = g

    def _mux(self, packets) -> None:
        for packet in packets:
            packet.duration = self._delays.pop(packet.pts)
            self.container.mux(packet)

    def _drain(self) -> None:
        import av

        while True:
            try:
                frame = self.graph.pull()
            except (av.error.BlockingIOError, av.error.EOFError):
                return
            self._mux(self.stream.encode(frame))

    def write(self, frame: np.ndarray) -> None:
        import av
        import cv2

        if self.stream is None:
            self._open_stream(*frame.shape[:2])
        if (frame.shape[1], frame.shape[0]) != self._size:
            frame = cv2.resize(frame, self._size, interpolation=cv2.INTER_AREA)
        target = (self.frames_written + 1) * 100.0 / self.fps
        delay = max(2, int(round(target - self._clock_cs)))
        vf = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")
        vf.pts, vf.time_base = self._clock_cs, self._CS
        self._delays[vf.pts] = delay
        self._clock_cs += delay
        try:
            self.graph.push(vf)
            self._drain()
        except OSError as exc:
            raise io_error(self.path, exc) from None
        self.frames_written += 1

    def close(self) -> None:
        if self.stream is None:
            self.abort()
            raise VfiError("nothing to write: no frames were produced")
        try:
            self.graph.push(None)
            self._drain()
            self._mux(self.stream.encode(None))
            self.container.close()
            os.replace(self.tmp, self.path)
        except OSError as exc:
            self.abort()
            raise io_error(self.path, exc) from None

    def abort(self) -> None:
        with contextlib.suppress(Exception):
            self.container.close()
        discard(self.tmp)


def open_writer(
    fmt: OutputFormat,
    fps: float,
    quality: int = DEFAULT_QUALITY,
    audio: Optional[AudioClip] = None,
    audio_length_s: Optional[float] = None,
) -> FrameWriter:
    """The writer for a checked output format (core/formats.py's `output_format`)."""
    if fmt.kind == "video":
        return VideoWriter(fmt.path, fps, quality=quality, audio=audio, fmt=fmt, audio_length_s=audio_length_s)
    if fmt.kind == "gif":
        return GifWriter(fmt.path, fps)
    return FrameSequenceWriter(fmt.path, fps, frame_type=fmt.frame_type, quality=quality)
