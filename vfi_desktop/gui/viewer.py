"""Image panes with one shared zoom and pan: wheel to zoom, drag to pan, fit or 100%."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np
from PySide6.QtCore import QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPen, QPixmap, QTransform
from PySide6.QtWidgets import QGraphicsPixmapItem, QGraphicsScene, QGraphicsView, QHBoxLayout, QWidget

ZOOM_STEP = 1.25
MIN_SCALE, MAX_SCALE = 0.02, 64.0


def to_qimage(frame: np.ndarray) -> QImage:
    """HxWx3 uint8 RGB (or HxW gray) -> a QImage that owns its pixels."""
    frame = np.ascontiguousarray(frame)
    h, w = frame.shape[:2]
    if frame.ndim == 2:
        return QImage(frame.data, w, h, w, QImage.Format.Format_Grayscale8).copy()
    return QImage(frame.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


@dataclass
class Pane:
    """What one pane shows: an image with a title, or a placeholder message."""

    title: str
    image: Optional[np.ndarray] = None
    placeholder: str = ""
    split: Optional[float] = None  # wipe divider, as a fraction of the width


class ImagePane(QGraphicsView):
    """One image. Zoom requests go to the owning Viewer (as signals), which applies them to all panes."""

    zoom_requested = Signal(float, QPoint)  # factor, viewport position to keep fixed
    resized = Signal()

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self._item = QGraphicsPixmapItem()
        self.scene().addItem(self._item)
        self.content = Pane("")
        self._shown_image: Optional[np.ndarray] = None
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setBackgroundBrush(QColor("#1b1e23"))
        self.setFrameShape(QGraphicsView.Shape.NoFrame)
        self.setMinimumSize(80, 60)

    def set_content(self, pane: Pane, scene_size: tuple[int, int]) -> None:
        self.content = pane
        if pane.image is None:
            self._item.setPixmap(QPixmap())
            self._shown_image = None
        elif pane.image is not self._shown_image:  # the same frame again: keep the pixmap
            self._item.setPixmap(QPixmap.fromImage(to_qimage(pane.image)))
            self._shown_image = pane.image
        self.setSceneRect(QRectF(0, 0, *scene_size))
        self.viewport().update()

    def set_scale(self, scale: float) -> None:
        self.setTransform(QTransform.fromScale(scale, scale))
        # magnified: show the pixels as they are (nearest neighbour); reduced: smooth
        magnified = scale * self.devicePixelRatioF() >= 1.0
        mode = Qt.TransformationMode.FastTransformation if magnified else Qt.TransformationMode.SmoothTransformation
        self._item.setTransformationMode(mode)

    def fit_scale(self) -> float:
        rect = self.sceneRect()
        if rect.width() <= 0 or rect.height() <= 0:
            return 1.0
        view = self.viewport().size()
        return min(view.width() / rect.width(), view.height() / rect.height())

    def wheelEvent(self, event) -> None:  # noqa: N802 - Qt override
        steps = event.angleDelta().y() / 120.0
        if steps:
            self.zoom_requested.emit(ZOOM_STEP**steps, event.position().toPoint())
        event.accept()

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        self.resized.emit()

    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:  # noqa: N802 - Qt override
        content = self.content
        if content.split is not None and content.image is not None:
            x = content.split * content.image.shape[1]
            painter.setPen(QPen(QColor(255, 255, 255, 200), 0))
            painter.drawLine(QPointF(x, 0), QPointF(x, content.image.shape[0]))
        painter.save()
        painter.resetTransform()  # from here on: viewport pixels
        if content.image is None and content.placeholder:
            painter.setPen(QColor("#9aa4b2"))
            painter.drawText(self.viewport().rect(), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, content.placeholder)
        if content.title:
            metrics = painter.fontMetrics()
            box = metrics.boundingRect(content.title).adjusted(-6, -3, 6, 3)
            box.moveTopLeft(QPoint(6, 6))
            painter.fillRect(box, QColor(0, 0, 0, 150))
            painter.setPen(QColor("#e8ecf1"))
            painter.drawText(box, Qt.AlignmentFlag.AlignCenter, content.title)
        painter.restore()


class Viewer(QWidget):
    """A row of ImagePanes that always share scale and scroll position."""

    scale_changed = Signal(float)

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.setObjectName("viewer")
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(2)
        self.panes: list[ImagePane] = []
        self.scale = 1.0
        self.fit = True  # re-fit when the window or the image size changes
        self._scene_size = (0, 0)
        self._syncing = False

    # -- content -----------------------------------------------------------------------------------

    def set_panes(self, contents: list[Pane]) -> None:
        while len(self.panes) < len(contents):
            self._add_pane()
        while len(self.panes) > len(contents):
            pane = self.panes.pop()
            pane.setParent(None)
            pane.deleteLater()
        sizes = [c.image.shape[1::-1] for c in contents if c.image is not None]
        new_size = tuple(int(v) for v in sizes[0]) if sizes else self._scene_size
        size_changed = new_size != self._scene_size
        self._scene_size = new_size
        for pane, content in zip(self.panes, contents):
            pane.set_content(content, self._scene_size)
        if self.fit and size_changed:
            self.zoom_fit()
        else:
            self._apply_scale(self.scale)

    def _add_pane(self) -> None:
        pane = ImagePane(self)
        pane.setObjectName(f"viewerPane{len(self.panes)}")
        pane.zoom_requested.connect(lambda f, pos, p=pane: self.zoom_by(f, p, pos))
        pane.resized.connect(self._on_resized)
        pane.horizontalScrollBar().valueChanged.connect(lambda _v, p=pane: self._sync_scroll(p))
        pane.verticalScrollBar().valueChanged.connect(lambda _v, p=pane: self._sync_scroll(p))
        self._layout.addWidget(pane, 1)
        self.panes.append(pane)
        pane.set_scale(self.scale)

    # -- zoom --------------------------------------------------------------------------------------

    def zoom_fit(self) -> None:
        self.fit = True
        if self.panes:
            self._apply_scale(min(p.fit_scale() for p in self.panes))

    def zoom_actual(self) -> None:
        """One image pixel on one screen pixel (on a 2x screen that is a scale of 0.5)."""
        self.fit = False
        self._apply_scale(1.0 / self.devicePixelRatioF())

    def zoom_by(self, factor: float, pane: Optional[ImagePane] = None, pos: Optional[QPoint] = None) -> None:
        """Zoom every pane; the scene point under `pos` in `pane` stays put (the centre by default)."""
        self.fit = False
        if not self.panes:
            return
        pane = pane or self.panes[0]
        pos = pos if pos is not None else pane.viewport().rect().center()
        anchor = pane.mapToScene(pos)
        self._apply_scale(self.scale * factor)
        moved = pane.mapFromScene(anchor) - pos
        pane.horizontalScrollBar().setValue(pane.horizontalScrollBar().value() + moved.x())
        pane.verticalScrollBar().setValue(pane.verticalScrollBar().value() + moved.y())
        self._sync_scroll(pane)

    def _apply_scale(self, scale: float) -> None:
        scale = float(np.clip(scale, MIN_SCALE, MAX_SCALE))
        changed = abs(scale - self.scale) > 1e-9
        self.scale = scale
        for pane in self.panes:
            pane.set_scale(scale)
        if self.panes:
            self._sync_scroll(self.panes[0])
        if changed:
            self.scale_changed.emit(scale)

    def _on_resized(self) -> None:
        if self.fit:
            self.zoom_fit()

    def _sync_scroll(self, source: ImagePane) -> None:
        if self._syncing:
            return
        self._syncing = True
        try:
            h, v = source.horizontalScrollBar().value(), source.verticalScrollBar().value()
            for pane in self.panes:
                if pane is not source:
                    pane.horizontalScrollBar().setValue(h)
                    pane.verticalScrollBar().setValue(v)
        finally:
            self._syncing = False

    def center_scene_point(self) -> QPointF:
        """The image point at the centre of the first pane (tests check that panes agree)."""
        pane = self.panes[0]
        return pane.mapToScene(pane.viewport().rect().center())
