"""Output formats: which containers hold which codecs, which FFmpeg encoder makes each, with what
pixel format and what quality settings. The extension of the output picks the container, `codec`
the encoder; everything is resolved (and rejected) here, before any work starts.

The encoders are those of the FFmpeg bundled with PyAV; `encoder_for` asks it which it has.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import numpy as np

from .errors import VfiError

# extension -> FFmpeg muxer
CONTAINERS = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".mkv": "matroska", ".webm": "webm"}
FRAME_TYPES = ("png", "jpg")  # image types of a frame-sequence folder
QUALITY_RANGE = (0, 51)  # --quality is on the H.264 CRF scale whatever the codec; 18 looks lossless
DEFAULT_QUALITY = 18


@dataclass(frozen=True)
class VideoCodec:
    key: str  # the name users give: --codec h264
    label: str
    encoders: tuple[str, ...]  # FFmpeg encoders that make it, preferred first
    pix_fmt: str
    containers: tuple[str, ...]  # extensions that can hold it
    # --quality (H.264 CRF scale) -> the encoder's own quality scale: anchors for 0, 18 and 51
    crf_anchors: Optional[tuple[float, float, float]] = None
    options: dict = field(default_factory=dict)
    bits_per_pixel: float = 0.25  # rough size at the default quality, for the disk-space check
    note: str = ""  # what a user should know (shown in the dialog's tooltip)

    @property
    def has_quality(self) -> bool:
        return self.crf_anchors is not None

    def quality_value(self, quality: int) -> int:
        """The encoder's CRF for a --quality on the H.264 scale (roughly the same look)."""
        lo, mid, hi = self.crf_anchors or (0, 0, 0)
        return int(round(np.interp(quality, [0, DEFAULT_QUALITY, QUALITY_RANGE[1]], [lo, mid, hi])))

    def encoder_options(self, encoder: str, quality: int) -> dict[str, str]:
        opts = dict(self.options.get(encoder, {}))
        if self.has_quality:
            opts["crf"] = str(self.quality_value(quality))
        return opts


# Which container holds what was checked by writing and decoding each pair with PyAV (mov cannot hold
# AV1 or VP9, mp4 not ProRes, webm only VP9 and AV1; FFV1 belongs in Matroska).
CODECS: dict[str, VideoCodec] = {
    c.key: c
    for c in (
        VideoCodec(
            "h264", "H.264", ("libx264",), "yuv420p", (".mp4", ".m4v", ".mov", ".mkv"), (0, 18, 51),
            {"libx264": {"preset": "medium"}}, 0.25, "plays everywhere; 4:2:0 8-bit",
        ),
        VideoCodec(
            "h265", "H.265 / HEVC", ("libx265",), "yuv420p", (".mp4", ".m4v", ".mov", ".mkv"), (0, 22, 51),
            {"libx265": {"preset": "medium", "x265-params": "log-level=error"}}, 0.15,
            "about half the size of H.264 at the same look; slower to encode; 4:2:0 8-bit",
        ),
        VideoCodec(
            "av1", "AV1", ("libsvtav1", "libaom-av1"), "yuv420p", (".mp4", ".m4v", ".mkv", ".webm"), (4, 28, 63),
            {"libsvtav1": {"preset": "8"}, "libaom-av1": {"cpu-used": "6", "row-mt": "1", "b": "0"}}, 0.12,
            "the smallest files; modern browsers and players",
        ),
        VideoCodec(
            "vp9", "VP9", ("libvpx-vp9",), "yuv420p", (".mp4", ".m4v", ".mkv", ".webm"), (4, 30, 63),
            {"libvpx-vp9": {"b": "0", "deadline": "good", "cpu-used": "4", "row-mt": "1"}}, 0.15,
            "the web's open codec (WebM)",
        ),
        VideoCodec(
            "prores", "ProRes 422 HQ", ("prores_ks",), "yuv422p10le", (".mov", ".mkv"), None,
            {"prores_ks": {"profile": "3", "vendor": "apl0"}}, 3.6,
            "for editing: 4:2:2 10-bit, large files; fixed quality (HQ profile)",
        ),
        VideoCodec(
            "ffv1", "FFV1 (lossless)", ("ffv1",), "bgr0", (".mkv",), None,
            {"ffv1": {"level": "3", "g": "1", "slicecrc": "1"}}, 12.0,
            "lossless RGB: every pixel as computed; large files",
        ),
    )
}
DEFAULT_CODEC = {".webm": "vp9"}  # every other container: h264

# the audio track per output: what each container (and the codec's typical workflow) expects
_AUDIO = {"webm": "libopus", "prores": "pcm_s16le", "ffv1": "flac"}


@functools.lru_cache(maxsize=None)
def encoder_exists(name: str) -> bool:
    import av

    if name not in av.codecs_available:
        return False
    try:
        av.Codec(name, "w")
    except Exception:  # noqa: BLE001 - a decoder-only name, or unknown to this build
        return False
    return True


def encoder_for(codec: VideoCodec) -> Optional[str]:
    """The first of the codec's encoders that the bundled FFmpeg has, or None."""
    return next((e for e in codec.encoders if encoder_exists(e)), None)


def available_codecs() -> dict[str, Optional[str]]:
    """codec key -> the encoder that will make it (None: not in this FFmpeg)."""
    return {key: encoder_for(c) for key, c in CODECS.items()}


@dataclass(frozen=True)
class OutputFormat:
    """What an output path (plus --codec / --frames) asks for, checked."""

    kind: str  # "video", "gif" or "frames" (a folder of images)
    path: Path  # the output as it will be written (a frames folder has no suffix)
    codec: Optional[VideoCodec] = None  # video only
    encoder: str = ""  # the FFmpeg encoder (video only)
    frame_type: str = "png"  # frames only

    @property
    def container(self) -> str:
        return CONTAINERS.get(self.path.suffix.lower(), "")

    @property
    def audio_codec(self) -> Optional[str]:
        if self.kind != "video":
            return None
        if self.path.suffix.lower() == ".webm":
            return _AUDIO["webm"]
        return _AUDIO.get(self.codec.key, "aac")

    def describe(self) -> str:
        if self.kind == "video":
            container = {".webm": "WebM"}.get(self.path.suffix.lower(), self.path.suffix.lstrip(".").upper())
            return f"{self.codec.label} in {container} ({self.encoder})"
        if self.kind == "gif":
            return "animated GIF"
        return f"{self.frame_type.upper()} frames in a folder"

    def uses_quality(self) -> bool:
        return (self.kind == "video" and self.codec.has_quality) or (self.kind == "frames" and self.frame_type == "jpg")

    def estimated_bytes(self, width: int, height: int, frames: int, quality: int = DEFAULT_QUALITY) -> int:
        """A rough size, for the disk-space check (real files of smooth footage are often smaller)."""
        if self.kind == "video":
            bpp = self.codec.bits_per_pixel
            if self.codec.has_quality:
                bpp *= 2.0 ** ((DEFAULT_QUALITY - quality) / 6.0)  # +6 CRF halves the size
        elif self.kind == "gif":
            scale = min(1.0, 800 / max(width, height))  # GifWriter.MAX_SIDE
            width, height = int(width * scale), int(height * scale)
            bpp = 4.0
        else:
            bpp = 12.0 if self.frame_type == "png" else 2.0
        return int(width * height * frames * bpp / 8) + 64 * 1024


def jpeg_quality(quality: int) -> int:
    """--quality (H.264 CRF scale: 0 best, 18 default) -> JPEG quality (100 best)."""
    return int(round(np.interp(quality, [0, DEFAULT_QUALITY, QUALITY_RANGE[1]], [100, 92, 30])))


def output_format(path: str | Path, codec: Optional[str] = None, frame_type: Optional[str] = None) -> OutputFormat:
    """Resolve and check what `path` (its extension), `codec` and `frame_type` ask for. VfiError
    with one line if the container cannot hold the codec or the bundled FFmpeg lacks it."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in CONTAINERS:
        if frame_type:
            raise VfiError(f"--frames {frame_type} is for a folder of images, not a {suffix} file")
        key = (codec or DEFAULT_CODEC.get(suffix, "h264")).lower()
        if key not in CODECS:
            raise VfiError(f"unknown codec '{codec}' (choose from {', '.join(CODECS)})")
        spec = CODECS[key]
        if suffix not in spec.containers:
            holders = ", ".join(s for s in CONTAINERS if key in _codecs_of(s))
            raise VfiError(
                f"a {suffix} file cannot hold {spec.label} (choose {', '.join(_codecs_of(suffix))} for {suffix}, "
                f"or {holders} for {key})"
            )
        encoder = encoder_for(spec)
        if encoder is None:
            have = ", ".join(k for k, e in available_codecs().items() if e)
            raise VfiError(
                f"the bundled FFmpeg has no {spec.label} encoder (tried {', '.join(spec.encoders)}); available: {have}"
            )
        return OutputFormat("video", path, spec, encoder)
    if codec:
        what = "a GIF" if suffix == ".gif" else "a folder of images" if suffix in ("", ".png", ".jpg") else f"'{suffix}'"
        if suffix in ("", ".png", ".jpg", ".gif"):
            raise VfiError(f"--codec {codec} is for video files (.mp4, .mkv, .mov, .webm), not {what}")
    if suffix == ".gif":
        if frame_type:
            raise VfiError(f"--frames {frame_type} is for a folder of images, not a GIF")
        return OutputFormat("gif", path)
    if suffix in ("", ".png", ".jpg") or path.is_dir():
        kind = (frame_type or ("jpg" if suffix == ".jpg" else "png")).lower()
        if kind not in FRAME_TYPES:
            raise VfiError(f"--frames takes {' or '.join(FRAME_TYPES)}, got '{frame_type}'")
        folder = path.with_suffix("") if suffix in (".png", ".jpg") else path
        return OutputFormat("frames", folder, frame_type=kind)
    raise VfiError(
        f"{path.name}: unsupported output type (use {', '.join(CONTAINERS)}, .gif, or a folder name for image frames)"
    )


def _codecs_of(suffix: str) -> list[str]:
    return [k for k, c in CODECS.items() if suffix in c.containers]


def codecs_for_container(suffix: str) -> list[VideoCodec]:
    """The codecs a container can hold (whether or not this FFmpeg has them), in menu order."""
    return [CODECS[k] for k in _codecs_of(suffix.lower())]
