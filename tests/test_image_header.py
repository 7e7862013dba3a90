"""Image sizes read from headers (core/image_header.py) agree with what OpenCV decodes, and an
image folder opens without decoding its images."""

from __future__ import annotations

import struct

import cv2
import numpy as np
import pytest
from synthetic import texture

from vfi_desktop.core import video_io
from vfi_desktop.core.errors import VfiError
from vfi_desktop.core.image_header import image_size
from vfi_desktop.core.video_io import open_source

W, H = 301, 517  # odd, and both above 255 so that byte order matters


def encoded(suffix: str, img: np.ndarray, params=()) -> bytes:
    ok, buf = cv2.imencode(suffix, img, list(params))
    assert ok
    return buf.tobytes()


def decoded_size(data: bytes) -> tuple[int, int]:
    img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    return img.shape[1], img.shape[0]


RGB = texture(H, W)
CASES = {
    "png": (".png", RGB, ()),
    "png-gray": (".png", RGB[:, :, 0], ()),
    "png-16bit": (".png", RGB.astype(np.uint16) * 257, ()),
    "png-alpha": (".png", np.dstack([RGB, RGB[:, :, :1]]), ()),
    "jpeg": (".jpg", RGB, (cv2.IMWRITE_JPEG_QUALITY, 90)),
    "jpeg-progressive": (".jpg", RGB, (cv2.IMWRITE_JPEG_PROGRESSIVE, 1)),
    "jpeg-gray": (".jpg", RGB[:, :, 0], ()),
    "tiff": (".tif", RGB, ()),
    "tiff-16bit": (".tif", RGB.astype(np.uint16) * 257, ()),
    "bmp": (".bmp", RGB, ()),
    "webp-lossy": (".webp", RGB, (cv2.IMWRITE_WEBP_QUALITY, 80)),
    "webp-lossless": (".webp", RGB, (cv2.IMWRITE_WEBP_QUALITY, 101)),
    "webp-alpha": (".webp", np.dstack([RGB, RGB[:, :, :1]]), (cv2.IMWRITE_WEBP_QUALITY, 80)),
}


@pytest.mark.parametrize("case", list(CASES))
def test_header_size_matches_the_decoded_size(tmp_path, case):
    suffix, img, params = CASES[case]
    path = tmp_path / f"x{suffix}"
    data = encoded(suffix, img, params)
    path.write_bytes(data)
    assert image_size(path) == decoded_size(data) == (W, H)


def test_webp_variants_cover_the_three_chunk_kinds(tmp_path):
    kinds = {encoded(s, img, p)[12:16] for s, img, p in (CASES[c] for c in CASES if c.startswith("webp"))}
    assert kinds == {b"VP8 ", b"VP8L", b"VP8X"}


def test_jpeg_with_exif_and_fill_bytes_before_the_frame_header(tmp_path):
    data = encoded(".jpg", RGB)
    exif = b"Exif\x00\x00" + bytes(5000)  # a large APP1 segment, like a camera's thumbnail
    app1 = b"\xff\xe1" + struct.pack(">H", len(exif) + 2) + exif
    data = data[:2] + app1 + b"\xff\xff" + data[2:]  # fill bytes before the next marker
    path = tmp_path / "camera.jpg"
    path.write_bytes(data)
    assert decoded_size(data) == (W, H)
    assert image_size(path) == (W, H)


def test_big_endian_tiff_and_top_down_bmp(tmp_path):
    entries = struct.pack(">HHIHH", 256, 3, 1, W, 0) + struct.pack(">HHII", 257, 4, 1, H)
    (tmp_path / "mm.tif").write_bytes(b"MM\x00*" + struct.pack(">IH", 8, 2) + entries + struct.pack(">I", 0))
    assert image_size(tmp_path / "mm.tif") == (W, H)
    data = bytearray(encoded(".bmp", RGB))
    data[22:26] = struct.pack("<i", -H)  # rows stored top-down
    (tmp_path / "down.bmp").write_bytes(bytes(data))
    assert image_size(tmp_path / "down.bmp") == (W, H)


@pytest.mark.parametrize(
    "content",
    [b"", b"\x89PNG\r\n\x1a\n\x00\x00", b"\xff\xd8\xff\xe0\x00\x10JFIF", b"\xff\xd8\xff\xda", b"II*\x00\xff\xff\xff\x7f", b"BM\x00", b"hello, not an image" * 10],
)
def test_damaged_or_unknown_headers_give_none(tmp_path, content):
    path = tmp_path / "bad.png"
    path.write_bytes(content)
    assert image_size(path) is None


def test_a_folder_opens_from_headers_alone(tmp_path, monkeypatch):
    folder = tmp_path / "photos"
    folder.mkdir()
    for i in range(4):
        (folder / f"p{i}.jpg").write_bytes(encoded(".jpg", np.roll(RGB, 5 * i, axis=1)))
    decoded = []
    real = video_io.read_image
    monkeypatch.setattr(video_io, "read_image", lambda p: decoded.append(p.name) or real(p))
    with open_source(folder) as src:
        assert decoded == []  # sizes came from the headers
        assert (src.info.width, src.info.height, src.info.frame_count) == (W, H, 4)
        assert src.read(2).shape == (H, W, 3)
    assert decoded == ["p2.jpg"]


def test_an_unparsed_header_falls_back_to_decoding(tmp_path, monkeypatch):
    folder = tmp_path / "frames"
    folder.mkdir()
    for i in range(2):
        (folder / f"f{i}.png").write_bytes(encoded(".png", RGB))
    monkeypatch.setattr(video_io, "image_size", lambda p: None)
    with open_source(folder) as src:
        assert (src.info.width, src.info.height) == (W, H)
    (folder / "f2.png").write_bytes(b"not a png at all" * 4)
    with pytest.raises(VfiError, match="f2.png: not a readable image"):
        open_source(folder)


def test_a_header_that_disagrees_with_the_pixels_is_a_clear_error(tmp_path, monkeypatch):
    folder = tmp_path / "frames"
    folder.mkdir()
    for i in range(2):
        (folder / f"f{i}.png").write_bytes(encoded(".png", RGB))
    monkeypatch.setattr(video_io, "image_size", lambda p: (W + 1, H))
    with open_source(folder) as src, pytest.raises(VfiError, match=f"f0.png decodes to {W}x{H}, not the folder's {W + 1}x{H}"):
        src.read(0)
