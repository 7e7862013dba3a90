"""Reading frames: video files (PyAV) and image-sequence folders, with exact random access.

Frame N means the N-th picture in display order, the same picture a sequential decode gives
as its N-th output. Containers lie about timestamps surprisingly often (B-frames muxed with
pts = dts, packed B-frames in AVI, dropped frames), so the reader checks the container's
timestamps against what the decoder really outputs and, when they disagree, builds its index
with one decode pass instead of trusting them.
"""

from __future__ import annotations

import re
import threading
from abc import ABC, abstractmethod
from collections import OrderedDict
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Iterator, Optional, Sequence

import numpy as np

from .errors import Cancelled, VfiError
from .frames import to_rgb8
from .image_header import image_size
from .progress import CancelToken, ProgressCallback, ProgressTracker

VIDEO_EXTENSIONS = (".mp4", ".m4v", ".avi", ".mov", ".mkv", ".webm", ".mpg", ".mpeg", ".gif", ".wmv", ".flv", ".ts")
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp")
DEFAULT_IMAGE_FPS = 12.0  # stop-motion is usually shot for 12 fps ("on twos" at 24)


@dataclass(frozen=True)
class VideoInfo:
    path: Path
    kind: str  # "video" or "images"
    width: int
    height: int
    frame_count: int
    fps: float  # nominal rate; timestamps below are the truth for variable-rate sources
    duration_s: float
    has_audio: bool
    codec: str
    timestamps: tuple[float, ...] = field(repr=False)  # seconds from the first frame, one per frame

    @property
    def variable_frame_rate(self) -> bool:
        if self.frame_count < 3:
            return False
        steps = np.diff(np.asarray(self.timestamps))
        return bool(steps.max() > 1.5 * steps.min())

    def describe(self) -> str:
        audio = "audio" if self.has_audio else "no audio"
        vfr = ", variable rate" if self.variable_frame_rate else ""
        return (
            f"{self.width}x{self.height}, {self.fps:.3f} fps{vfr}, {self.frame_count} frames, "
            f"{self.duration_s:.2f} s, {audio}, {self.codec}"
        )


def natural_key(name: str) -> list:
    """'frame2' sorts before 'frame10'."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name)]


class FrameCache:
    """A small thread-safe LRU of decoded frames, bounded in bytes."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[int, np.ndarray] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, index: int) -> Optional[np.ndarray]:
        with self._lock:
            frame = self._items.get(index)
            if frame is not None:
                self._items.move_to_end(index)
            return frame

    def put(self, index: int, frame: np.ndarray) -> None:
        with self._lock:
            if index in self._items:
                return
            self._items[index] = frame
            self._bytes += frame.nbytes
            while self._bytes > self.max_bytes and len(self._items) > 1:
                _, old = self._items.popitem(last=False)
                self._bytes -= old.nbytes


class FrameSource(ABC):
    """Random access to the frames of a clip. Thread-safe; frames are read-only RGB uint8."""

    info: VideoInfo

    def __init__(self, cache_mb: int) -> None:
        self._cache = FrameCache(cache_mb * 1024 * 1024)
        self._lock = threading.RLock()
        # What was computed from the frames, for the next job on this source (a range's scene
        # analysis: `scenes.analyse_range`); deterministic results only.
        self.memo: dict = {}

    def __len__(self) -> int:
        return self.info.frame_count

    def __enter__(self) -> "FrameSource":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def read(self, index: int) -> np.ndarray:
        n = self.info.frame_count
        if not 0 <= index < n:
            raise IndexError(f"frame {index} is outside 0..{n - 1}")
        frame = self._cache.get(index)
        if frame is None:
            with self._lock:
                frame = self._cache.get(index)
                if frame is None:
                    frame = self._read_uncached(index)
                    frame.setflags(write=False)
                    self._cache.put(index, frame)
        return frame

    def iter_frames(self, start: int = 0, stop: Optional[int] = None) -> Iterator[tuple[int, np.ndarray]]:
        stop = self.info.frame_count if stop is None else min(stop, self.info.frame_count)
        for i in range(start, stop):
            yield i, self.read(i)

    @abstractmethod
    def _read_uncached(self, index: int) -> np.ndarray: ...

    def close(self) -> None:  # noqa: B027 - optional for subclasses
        pass


# ----------------------------------------------------------------------------------------------
# Image folders


class ImageSequenceSource(FrameSource):
    def __init__(self, folder: Path, fps: float = DEFAULT_IMAGE_FPS, cache_mb: int = 256) -> None:
        super().__init__(cache_mb)
        files = sorted(
            (p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS),
            key=lambda p: natural_key(p.name),
        )
        if not files:
            raise VfiError(f"{folder.name}: the folder has no images ({', '.join(IMAGE_EXTENSIONS)})")
        if len(files) < 2:
            raise VfiError(f"{folder.name}: only one image; at least two frames are needed")
        sizes = [_image_size(p) for p in files]
        if len(set(sizes)) > 1:
            first = sizes[0]
            odd = next(i for i, s in enumerate(sizes) if s != first)
            raise VfiError(
                f"images differ in size: {files[0].name} is {first[0]}x{first[1]} "
                f"but {files[odd].name} is {sizes[odd][0]}x{sizes[odd][1]}"
            )
        if fps <= 0:
            raise VfiError(f"frame rate must be positive, got {fps}")
        self.files = files
        w, h = sizes[0]
        n = len(files)
        self.info = VideoInfo(
            path=folder,
            kind="images",
            width=w,
            height=h,
            frame_count=n,
            fps=float(fps),
            duration_s=n / fps,
            has_audio=False,
            codec=files[0].suffix.lower().lstrip("."),
            timestamps=tuple(i / fps for i in range(n)),
        )

    def _read_uncached(self, index: int) -> np.ndarray:
        frame = read_image(self.files[index])
        if frame.shape[:2] != (self.info.height, self.info.width):  # the header said otherwise
            raise VfiError(
                f"{self.files[index].name} decodes to {frame.shape[1]}x{frame.shape[0]}, "
                f"not the folder's {self.info.width}x{self.info.height}"
            )
        return frame


def _image_size(path: Path) -> tuple[int, int]:
    """(width, height) from the header; an image whose header we do not parse is decoded."""
    try:
        size = image_size(path)
    except OSError as exc:
        raise VfiError(f"{path.name}: cannot read it ({exc.strerror or exc})") from None
    if size is None:
        h, w = read_image(path).shape[:2]  # VfiError if it is no image at all
        size = (w, h)
    return size


def read_image(path: Path) -> np.ndarray:
    """Read any common still (8/16-bit, gray, alpha) as RGB uint8."""
    import cv2

    try:
        data = np.fromfile(str(path), dtype=np.uint8)  # np.fromfile + imdecode: works with non-ASCII paths
    except FileNotFoundError:
        raise VfiError(f"{path}: no such file") from None
    except OSError as exc:
        raise VfiError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    img = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
    if img is None:
        raise VfiError(f"{path.name}: not a readable image")
    if img.ndim == 3 and img.shape[2] >= 3:
        img = img[:, :, [2, 1, 0] + ([3] if img.shape[2] == 4 else [])]  # BGR(A) -> RGB(A)
    return to_rgb8(img)


def image_suffix(path: Path) -> str:
    """The image format a path asks for (PNG when it has no suffix); VfiError if we cannot write it."""
    suffix = path.suffix.lower() or ".png"
    if suffix not in IMAGE_EXTENSIONS:
        raise VfiError(f"{path.name}: unsupported image type (use {', '.join(IMAGE_EXTENSIONS)})")
    return suffix


def write_image(path: Path, frame: np.ndarray, jpeg_quality: int = 95) -> None:
    """Write an RGB frame; the format follows the suffix (PNG when there is none). OSError on I/O."""
    import cv2

    suffix = image_suffix(path)
    params = []
    if suffix == ".png":
        params = [cv2.IMWRITE_PNG_COMPRESSION, 3]  # fast, still lossless
    elif suffix in (".jpg", ".jpeg"):
        params = [cv2.IMWRITE_JPEG_QUALITY, int(jpeg_quality)]
    ok, buf = cv2.imencode(suffix, np.ascontiguousarray(frame[:, :, ::-1]), params)
    if not ok:
        raise VfiError(f"{path.name}: could not encode image as {suffix}")
    buf.tofile(str(path))


# ----------------------------------------------------------------------------------------------
# Video files


@dataclass
class _FrameIndex:
    keys: list  # decoder pts of each frame in display order (used to recognise frames after a seek)
    keyframes: list[int]  # display indices of frames a seek can land on
    times: list[float]  # presentation time of each frame, seconds from the first


class VideoFileSource(FrameSource):
    PROBE_FRAMES = 48

    def __init__(
        self,
        path: Path,
        cache_mb: int = 256,
        progress: Optional[ProgressCallback] = None,
        cancel: Optional[CancelToken] = None,
    ) -> None:
        super().__init__(cache_mb)
        import av

        self.path = path
        try:
            self._container = av.open(str(path), metadata_errors="ignore")
        except av.error.FileNotFoundError:
            raise VfiError(f"{path.name}: file not found") from None
        except (av.error.InvalidDataError, av.error.EOFError):
            raise VfiError(f"{path.name}: not a video, or the file is damaged or truncated") from None
        except av.error.FFmpegError as exc:
            raise VfiError(f"{path.name}: cannot open ({_ffmpeg_reason(exc)})") from None
        if not self._container.streams.video:
            self._container.close()
            raise VfiError(f"{path.name}: the file has no video stream")
        self._stream = self._container.streams.video[0]
        self._stream.thread_type = "AUTO"
        ctx = self._stream.codec_context
        if ctx is None or not ctx.name:
            self._container.close()
            raise VfiError(f"{path.name}: unsupported video codec")
        self._time_base = self._stream.time_base or Fraction(1, 1000)
        self._rotation = 0
        self._decoder: Optional[Iterator] = None
        self._last_index = -10**9  # display index of the frame the decoder produced last
        try:
            self._index = self._build_index(progress, cancel)
        except Cancelled:
            self._container.close()
            raise
        n = len(self._index.keys)
        if n == 0:
            self._container.close()
            raise VfiError(f"{path.name}: no frames could be decoded (damaged file or unsupported codec)")
        if n == 1:
            self._container.close()
            raise VfiError(f"{path.name}: the video has only one frame; at least two are needed")
        self._key_to_index = {k: i for i, k in enumerate(self._index.keys) if k is not None}
        times = self._index.times
        fps = float(self._stream.average_rate or self._stream.guessed_rate or 0) or (
            (n - 1) / (times[-1] - times[0]) if times[-1] > times[0] else 25.0
        )
        frame_step = 1.0 / fps
        width, height = ctx.width, ctx.height
        if self._rotation in (90, 270, -90, -270):
            width, height = height, width
        self.info = VideoInfo(
            path=path,
            kind="video",
            width=width,
            height=height,
            frame_count=n,
            fps=fps,
            duration_s=times[-1] + frame_step,
            has_audio=bool(self._container.streams.audio),
            codec=ctx.name,
            timestamps=tuple(times),
        )

    # -- indexing --------------------------------------------------------------------------------

    def _packets(self) -> list[tuple[Optional[int], bool]]:
        import av

        packets = []
        try:
            for packet in self._container.demux(self._stream):
                if packet.size == 0:
                    continue
                packets.append((packet.pts, packet.is_keyframe))
        except av.error.FFmpegError:
            pass  # truncated: keep what was readable, the decode check below decides
        return packets

    def _build_index(self, progress: Optional[ProgressCallback], cancel: Optional[CancelToken]) -> _FrameIndex:
        """Trust container timestamps when the decoder confirms them; otherwise decode once (with
        progress and cancel: on a long clip that pass takes a while)."""
        packets = self._packets()
        pts = [p for p, _ in packets]
        if packets and None not in pts and len(set(pts)) == len(pts):
            order = sorted(pts)
            keyframe_pts = {p for p, key in packets if key}
            rank = {p: i for i, p in enumerate(order)}
            keyframes = sorted(rank[p] for p in keyframe_pts)
            if keyframes and keyframes[0] == 0 and self._decoder_agrees(order, keyframes):
                return _FrameIndex(order, keyframes, self._times(order))
        return self._index_by_decoding(ProgressTracker(len(packets), progress), cancel or CancelToken())

    def _decoder_agrees(self, order: list[int], keyframes: list[int]) -> bool:
        """Decode the head and the tail of the clip and compare with the packet-derived order."""
        head = self._decode_keys_from(order[0], limit=self.PROBE_FRAMES)
        if head is None or head != order[: len(head)] or len(head) < min(len(order), self.PROBE_FRAMES):
            return False
        last_kf = keyframes[-1]
        tail = self._decode_keys_from(order[last_kf], limit=None)
        return tail is not None and tail == order[last_kf:]

    def _decode_keys_from(self, seek_pts: int, limit: Optional[int]) -> Optional[list]:
        import av

        keys = []
        try:
            self._seek(seek_pts)
            started = False
            for frame in self._container.decode(self._stream):
                if not started:
                    if frame.pts != seek_pts:
                        continue  # leading pictures of an open GOP
                    started = True
                    self._rotation = _frame_rotation(frame)
                keys.append(frame.pts)
                if limit is not None and len(keys) >= limit:
                    break
        except av.error.FFmpegError:
            return None
        return keys

    def _index_by_decoding(self, tracker: ProgressTracker, cancel: CancelToken) -> _FrameIndex:
        import av

        keys, keyframes = [], []
        try:
            self._seek(None)
            for frame in self._container.decode(self._stream):
                if not keys:
                    self._rotation = _frame_rotation(frame)
                if frame.key_frame:
                    keyframes.append(len(keys))
                keys.append(frame.pts)
                if len(keys) % 16 == 0:
                    cancel.raise_if_cancelled()
                    tracker.update(min(len(keys), tracker.total), "indexing frames")
        except av.error.FFmpegError:
            pass  # a damaged tail: the frames before it stay usable
        if not keys:
            return _FrameIndex([], [], [])
        if not keyframes or keyframes[0] != 0:
            keyframes.insert(0, 0)
        if None in keys or len(set(keys)) != len(keys):
            # No usable timestamps: frames are found by counting from the start of the stream.
            self._count_from_start = True
            times = [i / float(self._stream.average_rate or 25) for i in range(len(keys))]
            return _FrameIndex(keys, [0], times)
        # Keys are the decoder's pts (possibly scrambled by the muxer); times come from sorting them.
        return _FrameIndex(keys, keyframes, self._times(sorted(keys)))

    _count_from_start = False

    def _times(self, sorted_pts: Sequence[int]) -> list[float]:
        first = sorted_pts[0]
        return [float((p - first) * self._time_base) for p in sorted_pts]

    # -- decoding --------------------------------------------------------------------------------

    def _seek(self, pts: Optional[int]) -> None:
        if pts is None:
            self._container.seek(0, backward=True, any_frame=False)
        else:
            self._container.seek(int(pts), stream=self._stream, backward=True, any_frame=False)
        self._decoder = None
        self._last_index = -10**9

    def _frames_after_seek(self) -> Iterator:
        if self._decoder is None:
            self._decoder = iter(self._container.decode(self._stream))
        return self._decoder

    def _read_uncached(self, index: int) -> np.ndarray:
        import av

        try:
            return self._decode_index(index)
        except av.error.FFmpegError as exc:
            raise VfiError(f"{self.path.name}: frame {index} cannot be decoded ({_ffmpeg_reason(exc)})") from None

    def _decode_index(self, index: int) -> np.ndarray:
        idx = self._index
        # Continue the running decode when the target is a little ahead; otherwise seek.
        gop_reach = 2 * max(16, self._gop_length())
        candidates: list[Optional[int]] = [k for k in reversed(idx.keyframes) if k <= index]
        if self._decoder is not None and self._last_index < index <= self._last_index + gop_reach:
            candidates.insert(0, None)  # None: keep decoding from where we are
        for kf in candidates:
            if kf is not None:
                self._seek(None if self._count_from_start or kf == 0 else idx.keys[kf])
                self._last_index = -1
            frame = self._decode_until(index)
            if frame is not None:
                return frame
        raise VfiError(f"{self.path.name}: frame {index} cannot be decoded (damaged file?)")

    def _decode_until(self, index: int) -> Optional[np.ndarray]:
        for frame in self._frames_after_seek():
            if self._count_from_start:
                j = self._last_index + 1
            else:
                j = self._key_to_index.get(frame.pts)
                if j is None:
                    continue
            self._last_index = j
            if j == index:
                return self._to_rgb(frame)
            if index - 4 <= j < index:
                # cheap look-behind cache: scrubbing backwards one frame at a time stays fast
                self._cache.put(j, self._to_rgb(frame))
            if j > index:
                return None  # overshot: the seek landed after the target
        self._decoder = None
        return None

    def _gop_length(self) -> int:
        kf = self._index.keyframes
        if len(kf) < 2:
            return len(self._index.keys)
        return int(np.median(np.diff(kf)))

    def _to_rgb(self, frame) -> np.ndarray:
        rgb = frame.to_ndarray(format="rgb24")
        if self._rotation:
            rgb = np.ascontiguousarray(np.rot90(rgb, k=(self._rotation // 90) % 4))
        return rgb

    def close(self) -> None:
        with self._lock:
            try:
                self._container.close()
            except Exception:  # noqa: BLE001 - closing a broken container must not raise
                pass


def _frame_rotation(frame) -> int:
    """Phone clips store portrait video as landscape + a display rotation."""
    try:
        return int(round(frame.rotation or 0)) % 360
    except Exception:  # noqa: BLE001 - older PyAV or no side data
        return 0


def _ffmpeg_reason(exc: Exception) -> str:
    text = getattr(exc, "strerror", None) or str(exc)
    return text.split(":")[-1].strip() or exc.__class__.__name__


# ----------------------------------------------------------------------------------------------


def open_source(
    path: str | Path,
    *,
    image_fps: float = DEFAULT_IMAGE_FPS,
    cache_mb: int = 256,
    progress: Optional[ProgressCallback] = None,
    cancel: Optional[CancelToken] = None,
) -> FrameSource:
    """Open a video file or a folder of images. Raises VfiError with a one-line reason (Cancelled
    if `cancel` fires while a clip with unreliable timestamps is indexed by decoding it)."""
    path = Path(path)
    if not path.exists():
        raise VfiError(f"{path}: no such file or folder")
    if path.is_dir():
        return ImageSequenceSource(path, fps=image_fps, cache_mb=cache_mb)
    if path.suffix.lower() in IMAGE_EXTENSIONS:
        raise VfiError(f"{path.name}: a single image; open the folder that holds the sequence instead")
    if path.stat().st_size == 0:
        raise VfiError(f"{path.name}: the file is empty")
    return VideoFileSource(path, cache_mb=cache_mb, progress=progress, cancel=cancel)
