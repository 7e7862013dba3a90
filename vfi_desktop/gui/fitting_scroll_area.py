"""A scroll area that scrolls vertically only: it asks for the width its contents need.

A plain QScrollArea's minimum width is a few pixels, so a dock holding one can be made narrower
than its buttons and grows a horizontal scroll bar that hides them. This one's minimum width is its
contents' minimum plus the vertical scroll bar, and it follows the contents when they change (a
button's text, say), so whatever holds it never cuts them off.
"""

from __future__ import annotations

from typing import Optional

from PySide6.QtCore import QEvent, QObject, QSize, Qt
from PySide6.QtWidgets import QScrollArea, QWidget


class VerticalScrollArea(QScrollArea):
    def __init__(self, contents: QWidget, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)  # never needed, but honest if it is
        self.setWidget(contents)
        contents.installEventFilter(self)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt override
        hint = super().minimumSizeHint()
        contents = self.widget()
        if contents is None:
            return hint
        width = contents.minimumSizeHint().width() + self.verticalScrollBar().sizeHint().width() + 2 * self.frameWidth()
        return QSize(max(hint.width(), width), hint.height())

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        hint = super().sizeHint()
        return QSize(max(hint.width(), self.minimumSizeHint().width()), hint.height())

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if watched is self.widget() and event.type() == QEvent.Type.LayoutRequest:
            self.updateGeometry()  # the contents' minimum may have changed: tell our layout
        return super().eventFilter(watched, event)
