"""Render resources/icons/app.svg into the raster icons the platforms want:
app.png (256 px; Linux menus), app.ico (Windows executable) and app.icns (macOS app bundle).

    QT_QPA_PLATFORM=offscreen python packaging/make_icons.py

Needs Pillow (`pip install -c constraints.txt -e ".[icons]"`), for the .ico and .icns writers; the
app itself does not use Pillow (the bundle leaves it out).
"""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

ICONS = Path(__file__).resolve().parents[1] / "resources" / "icons"
SIZES = (16, 24, 32, 48, 64, 128, 256)


def render(size: int):
    from PIL import Image
    from PySide6.QtCore import QBuffer, QIODevice, Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(str(ICONS / "app.svg"))
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    return Image.open(io.BytesIO(bytes(buffer.data()))).convert("RGBA")


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication(sys.argv[:1])  # noqa: F841 - QImage and QPainter want one
    images = {s: render(s) for s in SIZES}
    images[256].save(ICONS / "app.png", optimize=True)
    images[256].save(ICONS / "app.ico", sizes=[(s, s) for s in SIZES])
    render(1024).save(ICONS / "app.icns")
    print(f"wrote {', '.join(p.name for p in sorted(ICONS.glob('app.*')))} in {ICONS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
