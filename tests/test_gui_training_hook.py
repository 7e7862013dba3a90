"""The main window and the training panel (built separately): docked when present, told which clip
is open, and its models appear in (and are picked from) the method menus."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from gui_fixtures import clip, dialogs, open_clip  # noqa: F401 - fixtures
from vfi_desktop.gui.main_window import MainWindow
from vfi_desktop.gui.settings import AppSettings
from vfi_desktop.paths import bundled_weights

panel_module = pytest.importorskip("vfi_desktop.gui.training.panel")


def test_training_panel_is_docked_and_wired(qtbot, tmp_path, monkeypatch, clip, dialogs):
    monkeypatch.setenv(panel_module.DATA_DIR_ENV, str(tmp_path / "data"))
    window = MainWindow(AppSettings(tmp_path / "settings.ini"))
    qtbot.addWidget(window)
    window.show()
    try:
        panel = window.training_panel
        assert isinstance(panel, panel_module.TrainingPanel)
        assert window.dockWidgetArea(panel) == Qt.DockWidgetArea.RightDockWidgetArea
        assert panel.toggleViewAction() in window.view_menu.actions()

        open_clip(qtbot, window, clip)
        assert panel.current_source == str(clip)

        # a model saved to the panel's library appears in both method menus
        panel.library.save(bundled_weights("unet"), panel_module.ModelCard(name="Puppet v1"))
        panel.models_changed.emit()
        labels = [c.label for c in window.controls.method_combo.choices()]
        assert "Puppet v1 (fine-tuned)" in labels
        assert window.controls.compare_combo.findText("Puppet v1 (fine-tuned)") >= 0

        # "use this model" picks it; the bundled file means the built-in U-Net
        saved = panel.library.get("Puppet v1").weights
        panel.use_model_requested.emit(str(saved))
        assert window.controls.method_combo.current_choice().label == "Puppet v1 (fine-tuned)"
        panel.use_model_requested.emit(str(bundled_weights("unet")))
        assert window.controls.method_combo.current_choice().method == "unet"
        assert window.controls.method_combo.current_choice().weights is None

        # deleted from the library: gone from the menus
        panel.library.delete("Puppet v1")
        panel.models_changed.emit()
        assert window.controls.method_combo.findText("Puppet v1 (fine-tuned)") < 0
    finally:
        window.close()
