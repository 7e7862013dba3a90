"""The main window opens at a size that suits the screen (or the size it was left at), and the
Fine-tune dock fits its contents there: no horizontal scroll bar, no button cut off."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QRect, QSize
from PySide6.QtWidgets import QPushButton

from gui_fixtures import clip, dialogs, open_clip  # noqa: F401 - fixtures
from vfi_desktop.gui.main_window import SCREEN_SHARE, MainWindow, first_window_geometry
from vfi_desktop.gui.settings import AppSettings
from vfi_desktop.paths import bundled_weights

panel_module = pytest.importorskip("vfi_desktop.gui.training.panel")

LONG_NAME = "holiday_2024-05-01_phone_camera_slow_pan_over_the_harbour_at_dusk.mp4"


@pytest.fixture
def make_window(qtbot, tmp_path, monkeypatch, dialogs):
    monkeypatch.setenv(panel_module.DATA_DIR_ENV, str(tmp_path / "data"))
    windows = []

    def make() -> MainWindow:
        w = MainWindow(AppSettings(tmp_path / "settings.ini"))
        qtbot.addWidget(w)
        windows.append(w)
        return w

    yield make
    for w in windows:
        w.close()


@pytest.mark.parametrize(
    "screen,minimum",
    [
        (QRect(0, 0, 1920, 1040), QSize(600, 400)),  # full HD less a task bar
        (QRect(0, 0, 1366, 728), QSize(600, 400)),  # a small laptop
        (QRect(1920, 0, 2560, 1400), QSize(600, 400)),  # a second monitor, right of the first
        (QRect(0, 0, 3840, 2120), QSize(600, 400)),  # 4K at 100%
        (QRect(0, 0, 640, 480), QSize(600, 460)),  # the window's minimum beats the share
        (QRect(0, 0, 500, 400), QSize(600, 460)),  # never beyond the screen, though
    ],
)
def test_first_window_geometry_follows_the_screen(screen, minimum):
    rect = first_window_geometry(screen, minimum)
    assert screen.contains(rect)
    for got, avail, least in ((rect.width(), screen.width(), minimum.width()), (rect.height(), screen.height(), minimum.height())):
        assert got == min(avail, max(least, round(avail * SCREEN_SHARE)))
    assert abs(rect.center().x() - screen.center().x()) <= 1 and abs(rect.center().y() - screen.center().y()) <= 1


def test_window_first_opens_on_most_of_the_screen(qtbot, make_window):
    window = make_window()
    window.show()
    qtbot.waitExposed(window)
    available = window.screen().availableGeometry()
    assert available.contains(window.geometry())
    assert window.width() >= 0.85 * available.width() and window.height() >= 0.85 * available.height()
    assert abs(window.geometry().center().x() - available.center().x()) <= 1


def test_saved_geometry_is_restored(qtbot, make_window):
    window = make_window()
    window.show()
    qtbot.waitExposed(window)
    saved = QRect(30, 40, max(640, window.minimumSizeHint().width()), max(480, window.minimumSizeHint().height()))
    assert saved.size() != window.size()
    window.setGeometry(saved)
    qtbot.waitUntil(lambda: window.geometry() == saved)
    window.close()  # saves the layout

    again = make_window()
    assert again.geometry() == saved  # restored before it shows
    again.show()
    qtbot.waitExposed(again)
    assert again.geometry() == saved


def test_fine_tune_dock_fits_at_the_default_size(qtbot, make_window, tmp_path):
    window = make_window()
    panel = window.training_panel
    window.show()
    qtbot.waitExposed(window)
    panel.raise_()
    # long names in every place a name appears: the open clip, the library
    panel.set_current_source(str(tmp_path / LONG_NAME))
    panel.library.save(bundled_weights("unet"), panel_module.ModelCard(name="puppet " + LONG_NAME[:40]))
    panel.models_view.changed.emit()  # as after a save: the list and the form's "Start from" refresh
    assert panel.form.init.findText("puppet " + LONG_NAME[:40]) >= 0
    qtbot.wait(50)

    scroll = window.findChild(panel_module.VerticalScrollArea, "trainingScrollArea")
    assert scroll is not None and scroll.isVisible()
    assert not scroll.horizontalScrollBar().isVisible() and scroll.horizontalScrollBar().maximum() == 0
    assert scroll.widget().width() >= scroll.widget().minimumSizeHint().width()
    buttons = [b for b in panel.findChildren(QPushButton) if b.isVisibleTo(panel)]
    assert {"trainingAddFolderButton", "trainingAddOpenClipButton", "trainingContinueButton", "trainingUseBundledButton"} <= {
        b.objectName() for b in buttons
    }
    for b in buttons:
        scroll.ensureWidgetVisible(b)  # below the fold: scroll down to it, as a user would
        qtbot.wait(10)
        assert b.visibleRegion().boundingRect() == b.rect(), f"{b.text()!r} is cut off"
        assert b.width() >= b.sizeHint().width(), f"{b.text()!r} is narrower than its text"
    # a long clip name is shortened in the middle on purpose; the tooltip has it whole
    text = panel.add_current_button.text()
    assert text.startswith("Add holiday") and text.endswith("usk.mp4") and "…" in text
    assert LONG_NAME in panel.add_current_button.toolTip()


def test_dock_grows_with_its_contents(qtbot, make_window):
    """The dock follows a change of its contents (a longer button text) instead of hiding it."""
    window = make_window()
    panel = window.training_panel
    window.show()
    qtbot.waitExposed(window)
    panel.raise_()
    before = panel.width()
    panel.add_folder_button.setText("Add a folder of stop-motion photographs…")
    qtbot.waitUntil(lambda: panel.add_folder_button.width() >= panel.add_folder_button.sizeHint().width())
    assert panel.width() > before
    assert not panel.scroll_area.horizontalScrollBar().isVisible()


def test_quality_legend_and_status_fit_beside_each_other(qtbot, make_window, clip):
    """At a laptop-sized window (1440x860, the README's screenshot) the strip's whole colour scale
    and its summary line show, neither cut off."""
    from PySide6.QtWidgets import QLabel

    window = make_window()
    window.resize(1440, 860)
    window.show()
    qtbot.waitExposed(window)
    open_clip(qtbot, window, clip)
    window.controls.method_combo.select_key("blend")
    with qtbot.waitSignal(window.quality_finished, timeout=120_000):
        window.timeline.set_quality_shown(True)
    qtbot.wait(50)
    legend = window.findChild(QLabel, "qualityLegend")
    status = window.findChild(QLabel, "qualityStatusLabel")
    assert "cut" in legend.text() and "mean" in status.text()
    assert legend.width() >= legend.sizeHint().width() - 1
    assert status.fontMetrics().horizontalAdvance(status.text()) <= status.width()
