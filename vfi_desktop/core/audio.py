"""The source's audio in a video output: the exported time range of its first track, re-encoded, and
for slow motion optionally slowed down with the pitch kept (FFmpeg's `atempo` in a PyAV filter
graph). The track is cut or padded with silence to exactly the video's length."""

from __future__ import annotations

import itertools
from fractions import Fraction
from pathlib import Path
from typing import Optional

import numpy as np

ATEMPO_MIN, ATEMPO_MAX = 0.5, 2.0  # what one atempo stage takes


def atempo_stages(tempo: float) -> list[float]:
    """Split a tempo change into atempo stages of 0.5..2.0 whose product is `tempo` (0.25 -> 0.5, 0.5)."""
    if tempo <= 0:
        raise ValueError(f"tempo must be positive, got {tempo}")
    stages = []
    while tempo < ATEMPO_MIN - 1e-12:
        stages.append(ATEMPO_MIN)
        tempo /= ATEMPO_MIN
    while tempo > ATEMPO_MAX + 1e-12:
        stages.append(ATEMPO_MAX)
        tempo /= ATEMPO_MAX
    if abs(tempo - 1.0) > 1e-9 or not stages:
        stages.append(tempo)
    return stages


class AudioClip:
    """The part [start_s, end_s) of a file's first audio track; `tempo` < 1 slows it down (pitch kept)."""

    def __init__(self, source_path: Path, start_s: float, end_s: float, tempo: float = 1.0) -> None:
        self.source_path = Path(source_path)
        self.start_s = start_s
        self.end_s = end_s
        self.tempo = tempo

    def write_to(self, container, codec: str = "aac", length_s: Optional[float] = None) -> bool:
        """Add an audio stream to `container` and write the clip, `length_s` long (default: the
        range divided by the tempo). False if the source has no usable audio."""
        import av

        try:
            src = av.open(str(self.source_path))
        except av.error.FFmpegError:
            return False
        try:
            if not src.streams.audio:
                return False
            ast = src.streams.audio[0]
            in_rate = ast.codec_context.sample_rate or 48000
            rate = _AUDIO_RATE.get(codec, in_rate)
            layout = "stereo" if (ast.codec_context.channels or 2) >= 2 else "mono"
            length_s = (self.end_s - self.start_s) / self.tempo if length_s is None else length_s
            out = container.add_stream(codec, rate=rate)
            out.layout = layout
            sink = _Sink(out, container, layout, rate, int(round(length_s * rate)))
            stretch = _Stretch(self.tempo, rate, layout) if abs(self.tempo - 1.0) > 1e-9 else None
            resampler = av.AudioResampler(format="fltp", layout=layout, rate=rate)
            first = int(round(self.start_s * rate))
            last = int(round(self.end_s * rate))
            video_start = src.streams.video[0].start_time if src.streams.video else None
            origin = float(video_start * src.streams.video[0].time_base) if video_start is not None else 0.0
            fed = 0  # samples of the range passed on so far: gaps in the track become silence
            for frame in itertools.chain(src.decode(ast), [None]):  # None flushes the resampler
                if frame is not None and frame.pts is None:
                    continue
                for rf in resampler.resample(frame):
                    cut = _cut(rf, origin, rate, first, last)
                    if cut is None:
                        continue
                    offset, piece = cut
                    if offset > fed:  # the track starts late or has a hole: keep it in sync
                        piece = np.concatenate([np.zeros((piece.shape[0], offset - fed), np.float32), piece], axis=1)
                    elif offset < fed:  # overlapping timestamps: keep what is new
                        piece = piece[:, fed - offset :]
                    if piece.shape[1] == 0:
                        continue
                    fed += piece.shape[1]
                    sink.add_many(stretch.push(np.ascontiguousarray(piece)) if stretch else [piece])
            if stretch:
                sink.add_many(stretch.flush())
            return sink.finish()
        except av.error.FFmpegError:
            return False
        finally:
            src.close()


_AUDIO_RATE = {"libopus": 48000}  # encoders that take only some rates (Opus: 48 kHz)


def _cut(frame, origin: float, rate: int, first: int, last: int) -> Optional[tuple[int, np.ndarray]]:
    """(offset from `first`, samples) of the part of `frame` in [first, last) (sample numbers from
    the video's start)."""
    if frame.pts is None:
        return None
    start = int(round((float(frame.pts * frame.time_base) - origin) * rate))
    data = frame.to_ndarray()
    a, b = max(first, start), min(last, start + data.shape[1])
    if b <= a:
        return None
    return a - first, np.ascontiguousarray(data[:, a - start : b - start], dtype=np.float32)


class _Stretch:
    """atempo stages in a PyAV filter graph: planar float in, planar float out."""

    def __init__(self, tempo: float, rate: int, layout: str) -> None:
        import av.filter

        self.rate, self.layout = rate, layout
        self.graph = av.filter.Graph()
        nodes = [self.graph.add_abuffer(format="fltp", sample_rate=rate, layout=layout, time_base=Fraction(1, rate))]
        nodes += [self.graph.add("atempo", f"{s:.6f}") for s in atempo_stages(tempo)]
        nodes += [self.graph.add("aformat", f"sample_fmts=fltp:channel_layouts={layout}"), self.graph.add("abuffersink")]
        self.graph.link_nodes(*nodes).configure()
        self.pts = 0

    def push(self, piece: np.ndarray) -> list[np.ndarray]:
        import av

        frame = av.AudioFrame.from_ndarray(piece, format="fltp", layout=self.layout)
        frame.sample_rate = self.rate
        frame.time_base = Fraction(1, self.rate)
        frame.pts = self.pts
        self.pts += piece.shape[1]
        self.graph.push(frame)
        return self._pull()

    def flush(self) -> list[np.ndarray]:
        self.graph.push(None)
        return self._pull()

    def _pull(self) -> list[np.ndarray]:
        import av

        out = []
        while True:
            try:
                out.append(self.graph.pull().to_ndarray())
            except (BlockingIOError, av.error.EOFError):
                return out


class _Sink:
    """Encodes planar float chunks, stopping at `total` samples and padding with silence up to it."""

    def __init__(self, stream, container, layout: str, rate: int, total: int) -> None:
        self.stream, self.container, self.layout, self.rate, self.total = stream, container, layout, rate, total
        self.written = 0
        self.channels = 2 if layout == "stereo" else 1

    def add_many(self, pieces: list[np.ndarray]) -> None:
        for piece in pieces:
            self.add(piece)

    def add(self, piece: np.ndarray) -> None:
        import av

        piece = piece[:, : max(0, self.total - self.written)]
        if piece.shape[1] == 0:
            return
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(piece, dtype=np.float32), format="fltp", layout=self.layout)
        frame.sample_rate = self.rate
        frame.time_base = Fraction(1, self.rate)
        frame.pts = self.written
        for packet in self.stream.encode(frame):
            self.container.mux(packet)
        self.written += piece.shape[1]

    def finish(self) -> bool:
        if self.written == 0:
            return False
        while self.written < self.total:  # the stretch filter ends a little early; match the video
            self.add(np.zeros((self.channels, min(4096, self.total - self.written)), np.float32))
        for packet in self.stream.encode(None):
            self.container.mux(packet)
        return True
