"""The main window: wires the timeline, viewer, controls and dialogs to background jobs."""

from __future__ import annotations

import os
import sys
import traceback
from collections import OrderedDict
from pathlib import Path
from typing import Optional

import numpy as np
from PySide6.QtCore import QRect, QSize, QStandardPaths, Qt, Signal
from PySide6.QtGui import QAction, QActionGroup, QCursor, QGuiApplication, QKeySequence
from superqt.utils import signals_blocked
from PySide6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QFileDialog,
    QInputDialog,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from ..core.auto_method import AutoReport
from ..core.choice import MethodChoice
from ..core.progress import Progress, format_eta
from ..core.selfcheck import PESSIMISTIC_NOTE, SelfCheckResult
from ..core.selfcheck_cache import default_cache
from ..core.video_io import VIDEO_EXTENSIONS, FrameSource, open_source
from ..paths import bundled_weights, resources_dir
from .about_dialog import AboutDialog
from .controls import ControlsPanel
from .export_dialog import ExportDialog
from .child_process import run_in_child
from .icons import icon
from .method_combo import choice_key, fine_tuned_choice
from .preview_dialog import PreviewDialog
from .settings import AppSettings
from .tasks import (
    AutoSpec,
    CheckResult,
    ExportJobSpec,
    InterpolationResult,
    InterpolatorCache,
    StripSpec,
    StripUpdate,
    auto_pick,
    check_against_real,
    describe_model,
    export_summary,
    import_engine,
    interpolate_pair,
    make_thumbnails,
    PreviewSpec,
    QueueSpec,
    export_clip,
    export_queue,
    preview_clip,
    quality_strip,
    strip_frames,
)
from .view_modes import VIEW_MODES, ViewState, compose, frames_needed
from .viewer import Pane, Viewer, to_qimage
from .workers import FrameFetcher, Job, JobPool

THUMBNAILS = 40
DEMO_CLIP = "demo.mp4"
SCREEN_SHARE = 0.9  # the first window takes this much of the screen's width and height


def first_window_geometry(available: QRect, minimum: QSize, share: float = SCREEN_SHARE) -> QRect:
    """Where the window opens when no size was saved: most of the screen (its available part,
    without task bars), centred, never below the window's minimum nor beyond the screen."""
    width = min(available.width(), max(minimum.width(), round(available.width() * share)))
    height = min(available.height(), max(minimum.height(), round(available.height() * share)))
    rect = QRect(0, 0, width, height)
    rect.moveCenter(available.center())
    return rect


class MainWindow(QMainWindow):
    source_opened = Signal(str)
    open_failed = Signal(str)
    interpolated = Signal(object)  # InterpolationResult shown
    checked = Signal(object)  # CheckResult shown
    quality_updated = Signal()  # new scores on the quality strip
    quality_finished = Signal(object)  # SelfCheckResult: the strip is complete
    quality_cancelled = Signal()
    auto_picked = Signal(object)  # AutoReport: what Auto chose for the clip (or range)

    def __init__(self, settings: Optional[AppSettings] = None, training_panel: bool = True) -> None:
        super().__init__()
        import_engine()  # before the window shows (see there)
        self.setObjectName("mainWindow")
        self.setWindowTitle("vfi-desktop")
        self.setWindowIcon(icon("app"))
        self.setAcceptDrops(True)
        self.settings = settings or AppSettings()
        self.jobs = JobPool(self)
        self.models = InterpolatorCache()
        self.fetcher = FrameFetcher(self)
        self.fetcher.frame_ready.connect(self._on_frame_ready)
        self.fetcher.failed.connect(self._on_frame_failed)

        self.source: Optional[FrameSource] = None
        self.source_path: Optional[Path] = None
        self.generation = 0  # bumps with every opened clip; results of older clips are dropped
        self._open_serial = 0
        self._open_job: Optional[Job] = None
        self.frames: OrderedDict[int, np.ndarray] = OrderedDict()
        self.inbetween: Optional[InterpolationResult] = None
        self.check: Optional[CheckResult] = None
        self._interp_job: Optional[Job] = None
        self._interp_again = False
        self._check_job: Optional[Job] = None
        self._check_again = False
        self._thumb_job: Optional[Job] = None
        self._preview_job: Optional[Job] = None
        self._quality_job: Optional[Job] = None
        self._quality_key: Optional[tuple] = None  # (generation, MethodChoice) the strip shows
        self._quality_via_auto = False
        self._auto_reports: dict[tuple, AutoReport] = {}  # (generation, range) -> what Auto picked
        self._auto_job: Optional[Job] = None
        self._auto_job_key: Optional[tuple] = None
        self._auto_waiting: list[tuple[tuple, object]] = []
        self.export_dialog: Optional[ExportDialog] = None
        self.preview_dialog: Optional[PreviewDialog] = None
        self.training_panel: Optional[QDockWidget] = None

        self._make_actions()
        self._make_widgets()
        self._make_menus_and_toolbar()
        self._make_status_bar()
        if training_panel:
            self._add_training_panel()
        self._restore_settings()
        self._set_clip_actions_enabled(False)
        self.refresh_view()

    # ==============================================================================================
    # construction

    def _action(self, text: str, shortcut: str = "", tip: str = "", icon_name: str = "", slot=None) -> QAction:
        action = QAction(icon(icon_name), text, self) if icon_name else QAction(text, self)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
        tip = tip or text.replace("…", "")
        action.setToolTip(f"{tip} ({QKeySequence(shortcut).toString(QKeySequence.SequenceFormat.NativeText)})" if shortcut else tip)
        action.setStatusTip(tip)
        if slot is not None:
            action.triggered.connect(slot)
        self.addAction(action)  # shortcuts work without the menu bar too
        return action

    def _make_actions(self) -> None:
        a = self._action
        self.open_action = a("&Open Video…", "Ctrl+O", "Open a video file", "open", self.open_dialog)
        self.open_folder_action = a("Open &Image Folder…", "Ctrl+Shift+O", "Open a folder of images (stop motion)", "folder-images", self.open_folder_dialog)
        self.open_demo_action = a("Open &Demo Clip", "", "Open the bundled demo clip", "", self.open_demo)
        self.image_fps_action = a("Image Folder &Frame Rate…", "", "The frame rate image folders are played at", "", self.ask_image_fps)
        self.export_action = a("&Export…", "Ctrl+E", "Export a smoother video", "export", self.show_export)
        self.quit_action = a("&Quit", "Ctrl+Q", "Quit", "", self.close)
        self.interpolate_action = a("&Interpolate", "Ctrl+Return", "Make the in-between frame(s) of frame N and N+1", "interpolate", self.interpolate)
        self.check_action = a("&Check Against Real Frame", "C", "Predict frame N from N-1 and N+1 and compare with the real one", "check", self.show_check)
        self.preview_action = a("&Preview…", "P", "Play a retimed stretch around this frame in a loop", "preview", self.show_preview)
        self.add_weights_action = a("Add Fine-Tuned &Weights…", "", "Use a .safetensors file made by training", "", self.add_weights_dialog)
        self.play_action = a("&Play / Pause", "Space", "Play or pause", "play", lambda: self.timeline.toggle_play())
        self.prev_action = a("Previous Frame", "Left", "", "step-back", lambda: self.timeline.step(-1))
        self.next_action = a("Next Frame", "Right", "", "step-forward", lambda: self.timeline.step(1))
        self.back10_action = a("Back 10 Frames", "Shift+Left", "", "", lambda: self.timeline.step(-10))
        self.fwd10_action = a("Forward 10 Frames", "Shift+Right", "", "", lambda: self.timeline.step(10))
        self.first_action = a("First Frame", "Home", "", "first", lambda: self.timeline.go_first())
        self.last_action = a("Last Frame", "End", "", "last", lambda: self.timeline.go_last())
        self.mark_in_action = a("Mark &In", "I", "Start the export range here", "mark-in", lambda: self.timeline.mark_in())
        self.mark_out_action = a("Mark &Out", "O", "End the export range here", "mark-out", lambda: self.timeline.mark_out())
        self.clear_marks_action = a("Clear Marks", "X", "Export the whole clip again", "", lambda: self.timeline.clear_marks())
        self.zoom_in_action = a("Zoom In", "Ctrl+=", "", "zoom-in", lambda: self.viewer.zoom_by(1.25))
        self.zoom_out_action = a("Zoom Out", "Ctrl+-", "", "zoom-out", lambda: self.viewer.zoom_by(0.8))
        self.zoom_fit_action = a("&Fit to Window", "F", "", "zoom-fit", lambda: self.viewer.zoom_fit())
        self.zoom_actual_action = a("Actual Pixels (100%)", "Ctrl+0", "", "zoom-actual", lambda: self.viewer.zoom_actual())
        self.about_action = a("&About vfi-desktop", "F1", "Version and model card", "about", self.show_about)
        self.quality_action = a("&Quality Strip", "Q", "Show how well each frame can be rebuilt from its neighbours, under the thumbnails", "", None)
        self.quality_action.setCheckable(True)
        self.mode_group = QActionGroup(self)
        self.mode_actions: dict[str, QAction] = {}
        for key, text, shortcut in VIEW_MODES:
            act = a(text, shortcut, f"View: {text.lower()}", "", lambda _c=False, k=key: self.set_view_mode(k))
            act.setCheckable(True)
            self.mode_group.addAction(act)
            self.mode_actions[key] = act

    def _make_widgets(self) -> None:
        from .timeline import Timeline

        self.viewer = Viewer(self)
        self.wipe_slider = QSlider(Qt.Orientation.Horizontal, self)
        self.wipe_slider.setObjectName("wipeSlider")
        self.wipe_slider.setRange(0, 1000)
        self.wipe_slider.setValue(500)
        self.wipe_slider.setToolTip("Move the wipe: the in-between on the left, the comparison on the right")
        self.wipe_slider.valueChanged.connect(self.refresh_view)
        self.timeline = Timeline(self)
        self.timeline.frame_changed.connect(self._on_frame_changed)
        self.timeline.marks_changed.connect(self._on_marks_changed)
        self.timeline.playing_changed.connect(self._on_playing_changed)
        self.timeline.quality_toggled.connect(self._on_quality_toggled)
        self.timeline.quality_stop_clicked.connect(self._on_quality_stop_clicked)
        self.quality_action.toggled.connect(self.timeline.set_quality_shown)
        self.timeline.play_button.setToolTip(self.play_action.toolTip())
        self.timeline.mark_in_button.setToolTip(self.mark_in_action.toolTip())
        self.timeline.mark_out_button.setToolTip(self.mark_out_action.toolTip())

        central = QWidget(self)
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.viewer, 1)
        layout.addWidget(self.wipe_slider)
        layout.addWidget(self.timeline)
        self.setCentralWidget(central)

        self.controls = ControlsPanel(self.interpolate_action, self.check_action, self.preview_action, self.export_action, self)
        self.controls.settings_changed.connect(self._on_controls_changed)
        self.controls.method_combo.currentIndexChanged.connect(self._preload_model)
        self.controls.method_combo.currentIndexChanged.connect(self.update_quality_strip)
        self.controls_dock = QDockWidget("Interpolate", self)
        self.controls_dock.setObjectName("controlsDock")
        self.controls_dock.setWidget(self.controls)
        self.controls_dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable | QDockWidget.DockWidgetFeature.DockWidgetFloatable | QDockWidget.DockWidgetFeature.DockWidgetClosable)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.controls_dock)

        self.mode_combo = QComboBox(self)
        self.mode_combo.setObjectName("viewModeCombo")
        self.mode_combo.setToolTip("What the viewer shows (Ctrl+1 … Ctrl+6)")
        for key, text, _ in VIEW_MODES:
            self.mode_combo.addItem(text, key)
        self.mode_combo.currentIndexChanged.connect(lambda i: self.set_view_mode(self.mode_combo.itemData(i)))

    def _make_menus_and_toolbar(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addActions([self.open_action, self.open_folder_action])
        self.recent_menu = QMenu("Open &Recent", self)
        self.recent_menu.setObjectName("recentMenu")
        file_menu.addMenu(self.recent_menu)
        file_menu.addAction(self.open_demo_action)
        file_menu.addAction(self.image_fps_action)
        file_menu.addSeparator()
        file_menu.addAction(self.export_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        view_menu = bar.addMenu("&View")
        view_menu.addActions(list(self.mode_actions.values()))
        view_menu.addSeparator()
        view_menu.addActions([self.zoom_in_action, self.zoom_out_action, self.zoom_fit_action, self.zoom_actual_action])
        view_menu.addSeparator()
        view_menu.addAction(self.quality_action)
        view_menu.addAction(self.controls_dock.toggleViewAction())
        self.view_menu = view_menu
        play_menu = bar.addMenu("&Playback")
        play_menu.addActions([self.play_action, self.prev_action, self.next_action, self.back10_action, self.fwd10_action, self.first_action, self.last_action])
        play_menu.addSeparator()
        play_menu.addActions([self.mark_in_action, self.mark_out_action, self.clear_marks_action])
        frames_menu = bar.addMenu("F&rames")
        frames_menu.addActions([self.interpolate_action, self.check_action, self.preview_action])
        frames_menu.addSeparator()
        frames_menu.addAction(self.add_weights_action)
        help_menu = bar.addMenu("&Help")
        help_menu.addAction(self.about_action)

        tb = self.addToolBar("Main")
        tb.setObjectName("mainToolBar")
        tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        for action, name in ((self.open_action, "openButton"), (self.open_folder_action, "openFolderButton"), (self.export_action, "exportButton")):
            tb.addAction(action)
            tb.widgetForAction(action).setObjectName(name)
        tb.addSeparator()
        tb.addWidget(QLabel(" View "))
        tb.addWidget(self.mode_combo)
        tb.addSeparator()
        for action, name in (
            (self.zoom_fit_action, "zoomFitButton"),
            (self.zoom_actual_action, "zoomActualButton"),
            (self.zoom_in_action, "zoomInButton"),
            (self.zoom_out_action, "zoomOutButton"),
        ):
            tb.addAction(action)
            w = tb.widgetForAction(action)
            w.setObjectName(name)
            w.setProperty("toolButtonStyle", Qt.ToolButtonStyle.ToolButtonIconOnly)

    def _make_status_bar(self) -> None:
        self.status_labels: dict[str, QLabel] = {}
        for key, tip in (
            ("Size", "Frame size"),
            ("Fps", "Source frame rate"),
            ("Frames", "Frames in the clip"),
            ("Device", "Where the interpolation runs"),
            ("Model", "The interpolation method in use"),
        ):
            label = QLabel("", self)
            label.setObjectName(f"status{key}")
            label.setToolTip(tip)
            self.statusBar().addPermanentWidget(label)
            self.status_labels[key] = label
        self.status_labels["Device"].setText("CPU/GPU: –")

    def _add_training_panel(self) -> None:
        """The training panel is built separately; add it only if it is there."""
        try:
            from .training.panel import TrainingPanel
        except ModuleNotFoundError as exc:
            if exc.name not in (f"{__package__}.training", f"{__package__}.training.panel"):
                traceback.print_exc()
            return
        except Exception:  # noqa: BLE001 - a broken optional panel must not stop the app
            traceback.print_exc()
            return
        panel = TrainingPanel(self)
        panel.use_model_requested.connect(self.use_model)
        panel.models_changed.connect(self.refresh_models)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, panel)
        self.tabifyDockWidget(self.controls_dock, panel)
        self.controls_dock.raise_()
        self.view_menu.addAction(panel.toggleViewAction())
        self.training_panel = panel

    # ==============================================================================================
    # settings

    def _restore_settings(self) -> None:
        s = self.settings
        geometry, state = s.get_bytes("window/geometry"), s.get_bytes("window/state")
        if geometry is None or not self.restoreGeometry(geometry):
            screen = QGuiApplication.screenAt(QCursor.pos()) or self.screen()  # where the user launched it
            self.setGeometry(first_window_geometry(screen.availableGeometry(), self.minimumSizeHint()))
        if state is None or not self.restoreState(state):
            self.resizeDocks([self.controls_dock], [340], Qt.Orientation.Horizontal)  # the picture gets the room
        self.refresh_models()
        self.controls.method_combo.select_key(s.get("method", "unet"))  # the CLI default too
        self.controls.compare_combo.select_key(s.get("compareMethod", "blend"))
        self.controls.count_spin.setValue(s.get("inbetweens", 1))
        self.controls.t_slider.setValue(s.get("tPercent", 50))
        self.set_view_mode(s.get("viewMode", "side"))
        self.timeline.set_quality_shown(s.get("qualityStrip", False))
        self._update_recent_menu()

    def save_settings(self) -> None:
        s = self.settings
        s.set("window/geometry", self.saveGeometry())
        s.set("window/state", self.saveState())
        s.set("method", choice_key(self.controls.method_combo.current_choice()))
        s.set("compareMethod", choice_key(self.controls.compare_combo.current_choice()))
        s.set("inbetweens", self.controls.count_spin.value())
        s.set("tPercent", self.controls.t_slider.value())
        s.set("viewMode", self.view_mode)
        s.set("qualityStrip", self.timeline.quality_shown)
        s.sync()

    def _update_recent_menu(self) -> None:
        self.recent_menu.clear()
        for path in self.settings.recent_files():
            act = self.recent_menu.addAction(Path(path).name, lambda p=path: self.open_path(p))
            act.setToolTip(path)
        self.recent_menu.setEnabled(bool(self.recent_menu.actions()))

    # ==============================================================================================
    # opening

    def open_dialog(self) -> None:
        exts = " ".join(f"*{e}" for e in VIDEO_EXTENSIONS)
        path, _ = QFileDialog.getOpenFileName(self, "Open video", self._last_folder(), f"Videos ({exts});;All files (*)")
        if path:
            self.open_path(path)

    def open_folder_dialog(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Open a folder of images", self._last_folder())
        if path:
            self.open_path(path)

    def open_demo(self) -> None:
        self.open_path(resources_dir() / DEMO_CLIP)

    def ask_image_fps(self) -> None:
        fps, ok = QInputDialog.getDouble(
            self, "Image folder frame rate", "Frames per second of image folders\n(stop motion is often 12)",
            self.settings.get("imageFps", 12.0), 1.0, 120.0, 3,
        )
        if ok:
            self.set_image_fps(fps)

    def set_image_fps(self, fps: float) -> None:
        """Remember the rate and reopen the current image folder at it."""
        self.settings.set("imageFps", float(fps))
        if self.source is not None and self.source.info.kind == "images":
            self.open_path(self.source_path)

    def _last_folder(self) -> str:
        default = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.MoviesLocation)
        return self.settings.get("lastFolder", default)

    def open_path(self, path: str | Path) -> Job:
        """Open a video or image folder in the background; errors end in a dialog, never a crash."""
        path = Path(path)
        self._open_serial += 1
        serial = self._open_serial
        if self._open_job is not None and self._open_job.running:
            self._open_job.cancel()  # a clip still being indexed: the newer choice wins
        fps = self.settings.get("imageFps", 12.0)
        self.statusBar().showMessage(f"Opening {path.name}…")
        self._open_job = self.jobs.start(
            lambda report, cancel: open_source(path, image_fps=fps, progress=report, cancel=cancel),
            "open",
            succeeded=lambda source: self._on_opened(path, source, serial),
            failed=lambda message: self._on_open_failed(path, message, serial),
            progress=lambda p: self._on_open_progress(path, p, serial),
        )
        return self._open_job

    def _on_open_progress(self, path: Path, p: Progress, serial: int) -> None:
        """Clips without usable timestamps are decoded once to index them: say how far it is."""
        if serial == self._open_serial:
            self.statusBar().showMessage(
                f"Opening {path.name}: indexing frames {p.done} / {p.total} · ETA {format_eta(p.eta_s)}"
            )

    def _on_opened(self, path: Path, source: FrameSource, serial: int) -> None:
        if serial != self._open_serial:
            return  # a newer open replaced this one
        for job in (self._thumb_job, self._interp_job, self._check_job, self._preview_job, self._quality_job, self._auto_job):
            if job is not None:
                job.cancel()
        self._auto_waiting.clear()
        # The old source is not closed here: a worker may still be reading it; it goes with its last user.
        self.source, self.source_path = source, path
        self.generation += 1
        self.frames.clear()
        self.inbetween = self.check = None
        self.fetcher.set_source(source, self.generation)
        info = source.info
        self.setWindowTitle(f"{path.name} — vfi-desktop")
        self.status_labels["Size"].setText(f"{info.width}×{info.height}")
        self.status_labels["Fps"].setText(f"{info.fps:.3f} fps" + (" (variable)" if info.variable_frame_rate else ""))
        self.status_labels["Frames"].setText(f"{info.frame_count} frames")
        self.statusBar().showMessage(f"{path.name}: {info.describe()}", 8000)
        self.controls.time_label.setText("")
        self.controls.check_label.setText("")
        self.timeline.set_clip(info.frame_count, info.fps, info.timestamps)
        self._set_clip_actions_enabled(True)
        self.settings.set("lastFolder", str(path.parent))
        self.settings.add_recent_file(path)
        self._update_recent_menu()
        self._start_thumbnails()
        self._on_frame_changed(0)
        self.update_quality_strip()
        if self.training_panel is not None:
            self.training_panel.set_current_source(str(path))
        self.source_opened.emit(str(path))

    def _on_open_failed(self, path: Path, message: str, serial: int) -> None:
        if serial != self._open_serial:
            return
        self.statusBar().showMessage(f"Could not open {path.name}", 8000)
        self.open_failed.emit(message)
        self.show_error(f"Cannot open {path.name}", message)

    def show_error(self, title: str, message: str) -> None:
        QMessageBox.critical(self, title, message)

    def _set_clip_actions_enabled(self, enabled: bool) -> None:
        for action in (
            self.export_action, self.interpolate_action, self.check_action, self.preview_action, self.play_action,
            self.prev_action, self.next_action, self.back10_action, self.fwd10_action, self.first_action,
            self.last_action, self.mark_in_action, self.mark_out_action, self.clear_marks_action,
        ):
            action.setEnabled(enabled)

    def _start_thumbnails(self) -> None:
        gen, path = self.generation, self.source_path
        height = round(self.timeline.strip.height() * self.devicePixelRatioF())

        def add(item: tuple[int, np.ndarray]) -> None:
            if gen == self.generation:
                self.timeline.add_thumbnail(item[0], to_qimage(item[1]))

        image_fps = self.source.info.fps  # an image folder reopens at its rate (videos ignore it)
        self._thumb_job = self.jobs.start(
            lambda report, cancel: make_thumbnails(path, image_fps, THUMBNAILS, height, report, cancel),
            "thumbnails",
            progress=add,
            failed=lambda message: self.statusBar().showMessage(f"Thumbnails: {message}", 5000),
        )

    # -- drag and drop --------------------------------------------------------------------------------

    def dragEnterEvent(self, event) -> None:  # noqa: N802 - Qt override
        urls = event.mimeData().urls()
        if urls and urls[0].isLocalFile():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802 - Qt override
        urls = event.mimeData().urls()
        if urls and urls[0].isLocalFile():
            event.acceptProposedAction()
            self.open_path(urls[0].toLocalFile())

    # ==============================================================================================
    # frames and views

    @property
    def view_mode(self) -> str:
        return self.mode_combo.currentData()

    @property
    def current_frame(self) -> int:
        return self.timeline.current

    def set_view_mode(self, key: str) -> None:
        i = self.mode_combo.findData(key)
        if i < 0:
            return
        if self.mode_combo.currentIndex() != i:
            self.mode_combo.setCurrentIndex(i)  # comes back here through the signal
            return
        self.mode_actions[key].setChecked(True)
        self.wipe_slider.setVisible(key == "wipe")
        self._request_frames()
        if key == "check":
            self.run_check()
        self.refresh_view()

    def _needed_frames(self) -> list[int]:
        # while playing, n+1 now is n at the next tick: it comes from the cache
        return frames_needed(self.view_mode, self.timeline.current)

    def _request_frames(self) -> None:
        if self.source is not None:
            self.fetcher.request([i for i in self._needed_frames() if i not in self.frames])

    def _on_frame_changed(self, index: int) -> None:
        self._request_frames()
        if self.view_mode == "check" and not self.timeline.playing:
            self.run_check()
        self.refresh_view()

    def _on_playing_changed(self, playing: bool) -> None:
        self.play_action.setIcon(icon("pause" if playing else "play"))
        if not playing:
            self._on_frame_changed(self.timeline.current)

    def _on_frame_ready(self, generation: int, index: int, frame: np.ndarray) -> None:
        if generation != self.generation:
            return
        self.frames[index] = frame
        self.frames.move_to_end(index)
        keep = set(self._needed_frames())
        while len(self.frames) > 8:
            old = next((k for k in self.frames if k not in keep), None)
            if old is None:
                break
            del self.frames[old]
        if index in keep:
            self.refresh_view()

    def _on_frame_failed(self, generation: int, message: str) -> None:
        if generation == self.generation:
            self.statusBar().showMessage(message, 8000)

    def _on_marks_changed(self) -> None:
        rng = self.timeline.export_range()
        if rng is not None:
            self.statusBar().showMessage(f"Export range: frames {rng[0]}–{rng[1] - 1}", 4000)

    def _on_controls_changed(self) -> None:
        if self.view_mode == "check" and self.source is not None:
            self.run_check()

    def refresh_view(self) -> None:
        """Show the current mode with what is at hand; missing pieces show what to do next."""
        if self.source is None:
            self.viewer.set_panes([Pane("", placeholder="Open a video or a folder of images (Ctrl+O), or drop one here")])
            return
        n = self.timeline.current
        state = ViewState(
            n,
            self.source.info.frame_count - 1,
            self.frames,
            self.inbetween if self.inbetween is not None and self.inbetween.index == n else None,
            self.check if self.check is not None and self.check.index == n else None,
            self.wipe_slider.value() / 1000.0,
        )
        self.viewer.set_panes(compose(self.view_mode, state))

    # ==============================================================================================
    # interpolation and checking

    def interpolate(self) -> None:
        """Make the in-between(s) of the current frame and the next in a worker; newest request wins."""
        if self.source is None or self.timeline.current >= self.source.info.frame_count - 1:
            if self.source is not None:  # said beside the button too, where the user is looking
                self.controls.time_label.setText("The last frame has no next frame: step back one to interpolate.")
            self.statusBar().showMessage("Pick a frame that has a next frame to interpolate towards", 5000)
            return
        if self._interp_job is not None and self._interp_job.running:
            self._interp_again = True
            return
        n, gen, source = self.timeline.current, self.generation, self.source
        ts, choice, compare = self.controls.ts(), self.controls.method_combo.current_choice(), self.controls.compare_combo.current_choice()
        if self.view_mode in ("single", "check"):
            self.set_view_mode("side")
        if choice.is_auto or compare.is_auto:
            self.controls.time_label.setText("Auto: comparing the methods on this clip…")
            self.resolve_choice(choice, lambda c: self.resolve_choice(compare, lambda k: self._interpolate_with(n, gen, source, ts, c, k)))
        else:
            self._interpolate_with(n, gen, source, ts, choice, compare)

    def _interpolate_with(self, n: int, gen: int, source: FrameSource, ts: list[float], choice: MethodChoice, compare: MethodChoice) -> None:
        if gen != self.generation or (self._interp_job is not None and self._interp_job.running):
            return
        self.controls.time_label.setText(f"Interpolating frames {n}–{n + 1} with {choice.label}…")
        self._interp_job = self.jobs.start(
            lambda report, cancel: interpolate_pair(source, n, ts, choice, compare, self.models),
            "interpolate",
            succeeded=lambda result: self._on_interpolated(result, gen),
            failed=self._on_job_failed,
            finished=self._after_interpolation,
        )

    def _on_interpolated(self, result: InterpolationResult, generation: int) -> None:
        if generation != self.generation:
            return
        self.inbetween = result
        count = len(result.frames)
        self.controls.time_label.setText(
            f"{result.label}: {result.elapsed_s * 1000:.0f} ms for {count} frame{'s' if count > 1 else ''} "
            f"({result.device.upper()})"
        )
        auto = self.controls.method_combo.current_choice().is_auto
        self._show_model(f"Auto → {result.model}" if auto else result.model, result.device)
        self.refresh_view()
        self.interpolated.emit(result)

    def _after_interpolation(self) -> None:
        if self._interp_again:
            self._interp_again = False
            self.interpolate()

    def show_check(self) -> None:
        self.set_view_mode("check")  # runs the check

    def run_check(self) -> None:
        """Predict frame N from its neighbours in a worker (check mode does this on every frame visited)."""
        if self.source is None:
            return
        n, last = self.timeline.current, self.source.info.frame_count - 1
        if not 0 < n < last:
            self.controls.check_label.setText("Checking needs a frame with neighbours on both sides.")
            return
        choice = self.controls.method_combo.current_choice()
        if choice.is_auto:
            self.resolve_choice(choice, lambda c: self._check_with(n, c))
        else:
            self._check_with(n, choice)

    def _check_with(self, n: int, choice: MethodChoice) -> None:
        if self.source is None or n != self.timeline.current:
            return
        if self.check is not None and (self.check.index, self.check.label) == (n, choice.label):
            return
        if self._check_job is not None and self._check_job.running:
            self._check_again = True
            return
        gen, source = self.generation, self.source
        self.controls.check_label.setText(f"Checking frame {n}…")
        self._check_job = self.jobs.start(
            lambda report, cancel: check_against_real(source, n, choice, self.models),
            "check",
            succeeded=lambda result: self._on_checked(result, gen),
            failed=self._on_job_failed,
            finished=self._after_check,
        )

    def _on_checked(self, result: CheckResult, generation: int) -> None:
        if generation != self.generation:
            return
        self.check = result
        self.controls.check_label.setText(
            f"Frame {result.index} from {result.index - 1} and {result.index + 1} ({result.label}): "
            f"PSNR {result.psnr:.2f} dB, SSIM {result.ssim:.4f}, {result.elapsed_s * 1000:.0f} ms"
        )
        self.refresh_view()
        self.checked.emit(result)

    def _after_check(self) -> None:
        if self._check_again and self.view_mode == "check":
            self._check_again = False
            self.run_check()

    def _on_job_failed(self, message: str) -> None:
        self.statusBar().showMessage(message, 10000)
        self.show_error("Interpolation failed", message)

    def _preload_model(self) -> None:
        """Load the chosen method now (torch import and weights take seconds), off the UI thread."""
        choice = self.controls.method_combo.current_choice()
        if choice.is_auto:  # loaded once Auto has picked, per clip
            self.status_labels["Model"].setText(choice.label)
            return
        self.status_labels["Model"].setText(f"{choice.label} (loading…)")
        self.jobs.start(
            lambda report, cancel: self.models.get(choice),
            "load model",
            succeeded=lambda interp: self._on_model_loaded(choice, interp),
            failed=lambda message: self._on_model_failed(choice, message),
        )

    def _on_model_loaded(self, choice: MethodChoice, interp) -> None:
        if choice == self.controls.method_combo.current_choice():
            self._show_model(describe_model(interp), interp.device)

    def _on_model_failed(self, choice: MethodChoice, message: str) -> None:
        if choice == self.controls.method_combo.current_choice():
            self.status_labels["Model"].setText(f"{choice.label}: failed to load")
            self.show_error(f"Cannot load {choice.label}", message)

    def _show_model(self, model: str, device: str) -> None:
        self.status_labels["Model"].setText(model)
        self.status_labels["Device"].setText("GPU (CUDA)" if device == "cuda" else device.upper())

    # -- fine-tuned models (the training panel's hook) -----------------------------------------------

    def add_model(self, name: str, path: str | Path) -> MethodChoice:
        """Offer a weights file in every method menu (and remember it). Returns its entry."""
        choice = fine_tuned_choice(name, Path(path).resolve())
        self._add_choice(choice)
        models = [(n, p) for n, p in self.settings.extra_models() if p != choice.weights] + [(name, choice.weights)]
        self.settings.set_extra_models(models)
        return choice

    def use_model(self, path: str) -> None:
        """Make a weights file the current method (the training panel's "use this model"); the
        bundled file means the built-in U-Net."""
        path = Path(path).resolve()
        if path == bundled_weights("unet").resolve():
            self.controls.method_combo.select_key("unet")
            return
        known = [c for c in self.controls.method_combo.choices() if c.weights and Path(c.weights).resolve() == path]
        self.controls.method_combo.select(known[0] if known else self.add_model(path.stem, path))

    def refresh_models(self) -> None:
        """Sync the method menus with the fine-tuned models: the training panel's library plus weights
        added by hand. Entries whose files are gone are dropped."""
        added = [(n, p) for n, p in self.settings.extra_models() if Path(p).exists()]
        self.settings.set_extra_models(added)
        wanted = [fine_tuned_choice(n, p) for n, p in added]
        if self.training_panel is not None:
            wanted += [fine_tuned_choice(m.name, m.weights) for m in self.training_panel.library.list().models]
        for combo in (self.controls.method_combo, self.controls.compare_combo):
            for choice in combo.choices():
                if choice.weights is not None and choice not in wanted:
                    combo.remove_choice(choice)
            for choice in wanted:
                combo.add_choice(choice)

    def _add_choice(self, choice: MethodChoice) -> None:
        self.controls.method_combo.add_choice(choice)
        self.controls.compare_combo.add_choice(choice)

    def add_weights_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Fine-tuned weights", self._last_folder(), "Weights (*.safetensors)")
        if path:
            self.use_model(path)

    # ==============================================================================================
    # the Auto method

    def resolve_choice(self, choice: MethodChoice, then) -> None:
        """Call then(method) with `choice`, or, for Auto, with what Auto picks on this clip (the
        export range if marked): a sampled self-check in a child process, once per clip and range."""
        if not choice.is_auto:
            then(choice)
            return
        if self.source is None:
            return
        key = (self.generation, self.timeline.export_range())
        if key in self._auto_reports:
            then(self._auto_reports[key].picked)
            return
        self._auto_waiting.append((key, then))
        if self._auto_job is not None and self._auto_job.running and self._auto_job_key == key:
            return  # already racing for this clip and range
        candidates = [c for c in self.controls.method_combo.choices() if not c.is_auto]
        spec = AutoSpec(self.source_path, self.source.info.fps, key[1], candidates)
        self.status_labels["Model"].setText("Auto: comparing methods…")
        self._auto_job_key = key
        self._auto_job = self.jobs.start(
            lambda report, cancel: run_in_child(auto_pick, spec, report=report, cancel=cancel),
            "auto",
            progress=lambda p: self.statusBar().showMessage(f"{p.message} ({p.done} / {p.total})"),
            succeeded=lambda report: self._on_auto_picked(key, report),
            failed=self._on_auto_failed,
        )

    def _on_auto_picked(self, key: tuple, report: AutoReport) -> None:
        if key[0] != self.generation:
            return
        self._auto_reports[key] = report
        self.status_labels["Model"].setText(f"Auto → {report.picked.label}")
        self.statusBar().showMessage(report.summary(), 30000)
        self.auto_picked.emit(report)
        waiting = [(k, then) for k, then in self._auto_waiting if k == key]
        self._auto_waiting = [(k, then) for k, then in self._auto_waiting if k != key]  # another range: its own race
        for _, then in waiting:
            then(report.picked)

    def _on_auto_failed(self, message: str) -> None:
        self._auto_waiting.clear()
        self.status_labels["Model"].setText("Auto: failed")
        self._on_job_failed(message)

    # ==============================================================================================
    # the quality strip

    def _on_quality_toggled(self, shown: bool) -> None:
        with signals_blocked(self.quality_action):
            self.quality_action.setChecked(shown)
        self.update_quality_strip()

    def update_quality_strip(self) -> None:
        """Show the strip for this clip and the Interpolate dock's method: cached scores at once,
        the rest computed in the background. Hidden, it computes nothing."""
        if not self.timeline.quality_shown or self.source is None:
            self._stop_quality()
            return
        choice = self.controls.method_combo.current_choice()
        self.resolve_choice(choice, lambda picked: self._start_quality(picked, choice.is_auto))

    def _start_quality(self, choice: MethodChoice, via_auto: bool, again: bool = False) -> None:
        if not self.timeline.quality_shown or self.source is None:
            return
        key = (self.generation, choice)
        if key == self._quality_key and not again:
            return  # already showing (or computing) it
        self._stop_quality()
        n = self.source.info.frame_count
        frames = strip_frames(n)
        label = f"Auto → {choice.label}" if via_auto else choice.label
        strip = self.timeline.quality
        if not frames:
            strip.reset(n)
            self.timeline.quality_status.setText("Too short to check: a frame needs a neighbour on both sides")
            self.timeline.quality_stop_button.setEnabled(False)
            return
        if not again:
            strip.reset(n, frames, choice.label)
        self._quality_key, self._quality_via_auto = key, via_auto
        self.timeline.quality_status.setText(f"{label}: starting…")
        self.timeline.quality_status.setToolTip(PESSIMISTIC_NOTE)
        self.timeline.quality_stop_button.setText("Stop")
        self.timeline.quality_stop_button.setEnabled(True)
        spec, cache = StripSpec(self.source_path, self.source.info.fps, n, frames, choice), default_cache()
        self._quality_job = self.jobs.start(
            lambda report, cancel: quality_strip(spec, cache, report, cancel),
            "quality strip",
            progress=lambda update: self._on_quality_update(update, key, label),
            succeeded=lambda result: self._on_quality_done(result, key, label),
            failed=lambda message: self._on_quality_failed(message, key),
            cancelled=lambda: self._on_quality_stopped(key, label),
        )

    def _stop_quality(self) -> None:
        if self._quality_job is not None and self._quality_job.running:
            self._quality_job.cancel()
        self._quality_job = None
        self._quality_key = None

    def _on_quality_stop_clicked(self) -> None:
        if self._quality_job is not None and self._quality_job.running:
            self._quality_job.cancel()
        elif self._quality_key is not None and self._quality_key[0] == self.generation:
            self._start_quality(self._quality_key[1], self._quality_via_auto, again=True)  # continue

    def _on_quality_update(self, update: StripUpdate, key: tuple, label: str) -> None:
        if key != self._quality_key:
            return
        strip = self.timeline.quality
        if update.scores:
            strip.add_scores(update.scores)
            self.quality_updated.emit()
        p = update.progress
        if p is not None and p.message == "analysing scenes":
            self.timeline.quality_status.setText(f"{label}: finding scene cuts {p.done} / {p.total}")
        elif p is not None:
            self.timeline.quality_status.setText(f"{label}: {strip.filled} / {len(strip.frames)} frames · ETA {format_eta(p.eta_s)}")

    def _on_quality_done(self, result: SelfCheckResult, key: tuple, label: str) -> None:
        if key != self._quality_key:
            return
        self.timeline.quality.add_scores(result.scores)
        text = f"{label}: no frame to score"
        if result.mean_psnr is not None:
            text = f"{label}: mean {result.mean_psnr:.1f} dB"
            worst = result.worst_stretches(1)
            if worst:
                text += f" · worst {worst[0].describe()}"
            cuts = f", {len(result.cut_frames)} beside scene cuts (not scored)" if result.cut_frames else ""
            detail = f"{len(result.scored)} frames scored{cuts}"
        else:
            detail = ""
        self.timeline.quality_status.setText(text)
        # short enough to fit beside the legend at the default size; the counts are in the tooltip
        self.timeline.quality_status.setToolTip("\n".join(x for x in (text, detail, PESSIMISTIC_NOTE) if x))
        self.timeline.quality_stop_button.setEnabled(False)
        self.quality_finished.emit(result)

    def _on_quality_stopped(self, key: tuple, label: str) -> None:
        if key != self._quality_key:
            return
        strip = self.timeline.quality
        self.timeline.quality_status.setText(f"{label}: stopped at {strip.filled} / {len(strip.frames)} frames")
        self.timeline.quality_stop_button.setText("Continue")
        self.quality_cancelled.emit()

    def _on_quality_failed(self, message: str, key: tuple) -> None:
        if key == self._quality_key:
            self.timeline.quality_status.setText(f"Quality strip: {message}")
            self.timeline.quality_stop_button.setEnabled(False)

    # ==============================================================================================
    # preview and export

    def show_preview(self) -> None:
        if self.source is None:
            return
        if self.preview_dialog is None:
            self.preview_dialog = PreviewDialog(self)
            self.preview_dialog.render_requested.connect(self._render_preview)
            self.preview_dialog.cancel_requested.connect(lambda: self._preview_job and self._preview_job.cancel())
        self.preview_dialog.show()
        self.preview_dialog.raise_()
        self.preview_dialog.request_render()

    def _render_preview(self, factor: float, span: int, slowmo: bool = False) -> None:
        self.resolve_choice(self.controls.method_combo.current_choice(), lambda c: self._render_preview_with(factor, span, slowmo, c))

    def _render_preview_with(self, factor: float, span: int, slowmo: bool, choice: MethodChoice) -> None:
        if self._preview_job is not None:
            self._preview_job.cancel()
        dialog, gen = self.preview_dialog, self.generation
        spec = PreviewSpec(self.source_path, self.source.info.fps, self.timeline.current, span, factor, choice, slowmo)
        self._preview_job = self.jobs.start(
            lambda report, cancel: run_in_child(preview_clip, spec, report=report, cancel=cancel),
            "preview",
            progress=dialog.show_progress,
            succeeded=lambda result: dialog.show_result(result) if gen == self.generation else None,
            failed=dialog.show_message,
            cancelled=lambda: dialog.show_message("Cancelled"),
        )

    def show_export(self) -> None:
        if self.source is None:
            return
        if self.export_dialog is None:
            self.export_dialog = ExportDialog(self._start_export, self.settings, self)
            self.export_dialog.export_finished.connect(lambda r: self.statusBar().showMessage(export_summary(r), 30000))
            self.export_dialog.queue_finished.connect(lambda r: self.statusBar().showMessage(r.summary().splitlines()[0], 15000))
        folder = self.source_path.parent if os.access(self.source_path.parent, os.W_OK) else Path.home()
        self.export_dialog.prepare(
            self.source_path,
            self.source.info,
            self.source.info.fps,
            self.timeline.export_range(),
            self.controls.method_combo.choices(),
            self.controls.method_combo.current_choice(),
            folder,
        )
        self.export_dialog.show()
        self.export_dialog.raise_()

    def _start_export(self, spec: ExportJobSpec | QueueSpec) -> Job:
        """One export, or the dialog's queue, in a child process."""
        function = export_queue if isinstance(spec, QueueSpec) else export_clip
        return self.jobs.start(lambda report, cancel: run_in_child(function, spec, report=report, cancel=cancel), "export")

    def show_about(self) -> None:
        AboutDialog(self).exec()

    # ==============================================================================================
    # closing

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt override
        export_running = self.export_dialog is not None and self.export_dialog.running
        if export_running:
            answer = QMessageBox.question(self, "Export running", "An export is still running. Cancel it and quit?")
            if answer != QMessageBox.StandardButton.Yes:
                event.ignore()
                return
        self.timeline.set_playing(False)
        self.save_settings()
        for dialog in (self.preview_dialog, self.export_dialog):
            if dialog is not None:
                dialog.close()
        if self.training_panel is not None:
            self.training_panel.shutdown()
        self.fetcher.stop()
        if not self.jobs.shutdown():
            print("vfi-desktop: some background work did not stop in time", file=sys.stderr)
        if self.source is not None:
            self.source.close()
        super().closeEvent(event)
