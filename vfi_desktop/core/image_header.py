"""The width and height of a still image from its header, without decoding it.

Opening a folder of photos checks that every image has the same size; decoding each one for
that would take seconds per hundred 12-megapixel photos. This reads the few bytes that hold the
size in the formats of `video_io.IMAGE_EXTENSIONS` (PNG, JPEG, TIFF, BMP, WebP) and returns None
for anything it does not recognise, so the caller can decode instead. The size is the stored
one, before any EXIF rotation: the same as `cv2.imdecode(..., IMREAD_UNCHANGED)` gives.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import BinaryIO, Optional

Size = tuple[int, int]  # (width, height)

# JPEG start-of-frame markers (baseline, progressive, lossless, arithmetic); not C4 (DHT), C8, CC (DAC)
_JPEG_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def image_size(path: Path) -> Optional[Size]:
    """(width, height) read from the header, or None when the header is not one this module
    knows or is damaged. OSError when the file cannot be read."""
    with open(path, "rb") as f:
        head = f.read(32)
        try:
            if head.startswith(b"\x89PNG\r\n\x1a\n"):
                return _png(head)
            if head.startswith(b"\xff\xd8"):
                return _jpeg(f)
            if head[:4] in (b"II*\x00", b"MM\x00*"):
                return _tiff(f, "<" if head[:2] == b"II" else ">")
            if head.startswith(b"BM"):
                return _bmp(head)
            if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
                return _webp(head)
        except (struct.error, ValueError):
            return None  # a header cut short
    return None


def _valid(w: int, h: int) -> Optional[Size]:
    return (w, h) if w > 0 and h > 0 else None


def _png(head: bytes) -> Optional[Size]:
    if head[12:16] != b"IHDR":
        return None
    return _valid(*struct.unpack(">II", head[16:24]))


def _jpeg(f: BinaryIO) -> Optional[Size]:
    f.seek(2)
    while True:
        byte = f.read(1)
        if not byte:
            return None
        if byte != b"\xff":
            return None  # lost the segment structure
        marker = f.read(1)
        while marker == b"\xff":  # fill bytes
            marker = f.read(1)
        if not marker:
            return None
        m = marker[0]
        if m == 0x01 or 0xD0 <= m <= 0xD7:  # TEM and restart markers have no length
            continue
        if m in (0xD9, 0xDA):  # end of image, or the compressed data begins: no frame header seen
            return None
        (length,) = struct.unpack(">H", f.read(2))
        if length < 2:
            return None
        if m in _JPEG_SOF:
            _precision, h, w = struct.unpack(">BHH", f.read(5))
            return _valid(w, h)  # height 0 means "defined later" (DNL): the caller decodes
        f.seek(length - 2, 1)


def _tiff(f: BinaryIO, order: str) -> Optional[Size]:
    f.seek(4)
    (ifd,) = struct.unpack(order + "I", f.read(4))
    f.seek(ifd)
    (count,) = struct.unpack(order + "H", f.read(2))
    entries = f.read(12 * count)
    found: dict[int, int] = {}
    for i in range(count):
        tag, kind, _n = struct.unpack(order + "HHI", entries[12 * i : 12 * i + 8])
        if tag in (256, 257):  # ImageWidth, ImageLength: SHORT or LONG, stored in the entry itself
            value = entries[12 * i + 8 : 12 * i + 12]
            if kind == 3:
                found[tag] = struct.unpack(order + "H", value[:2])[0]
            elif kind == 4:
                found[tag] = struct.unpack(order + "I", value)[0]
    if 256 not in found or 257 not in found:
        return None
    return _valid(found[256], found[257])


def _bmp(head: bytes) -> Optional[Size]:
    (dib,) = struct.unpack("<I", head[14:18])
    if dib == 12:  # OS/2 BITMAPCOREHEADER: 16-bit sizes
        return _valid(*struct.unpack("<HH", head[18:22]))
    if dib >= 40:
        w, h = struct.unpack("<ii", head[18:26])
        return _valid(w, abs(h))  # a negative height means rows stored top-down
    return None


def _webp(head: bytes) -> Optional[Size]:
    chunk = head[12:16]
    if chunk == b"VP8 ":  # lossy: a key frame's start code, then 14-bit sizes
        if head[23:26] != b"\x9d\x01\x2a":
            return None
        w, h = struct.unpack("<HH", head[26:30])
        return _valid(w & 0x3FFF, h & 0x3FFF)
    if chunk == b"VP8L":  # lossless: a signature byte, then 14 + 14 bits of size - 1
        if head[20] != 0x2F:
            return None
        (bits,) = struct.unpack("<I", head[21:25])
        return _valid((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
    if chunk == b"VP8X":  # extended: 24-bit canvas size - 1
        w = int.from_bytes(head[24:27], "little") + 1
        h = int.from_bytes(head[27:30], "little") + 1
        return _valid(w, h)
    return None
