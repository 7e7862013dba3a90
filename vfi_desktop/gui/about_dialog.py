"""The About box: version, and the model card of the bundled network (markdown)."""

from __future__ import annotations

from typing import Optional

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QTextBrowser, QVBoxLayout, QWidget

from .. import __version__
from ..paths import models_dir
from .icons import icon


def model_card_markdown() -> str:
    path = models_dir() / "MODEL_CARD.md"
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return f"*No model card yet* (expected at `{path}`)."


class AboutDialog(QDialog):
    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.setObjectName("aboutDialog")
        self.setWindowTitle("About vfi-desktop")
        self.setWindowIcon(icon("app"))
        self.resize(640, 560)
        header = QLabel(
            f"<h2>vfi-desktop {__version__}</h2>"
            "<p>Makes new frames between the frames of a video: inspect them, then export a smoother clip.</p>"
            "<p><b>Model card</b> of the bundled network:</p>",
            self,
        )
        header.setWordWrap(True)
        self.card = QTextBrowser(self)
        self.card.setObjectName("modelCard")
        self.card.setOpenExternalLinks(True)
        self.card.setMarkdown(model_card_markdown())
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(header)
        layout.addWidget(self.card, 1)
        layout.addWidget(buttons)
