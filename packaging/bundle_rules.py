"""What the PyInstaller bundle leaves out, in one place: the spec applies these rules and
tests/test_packaging.py checks them (no Qt module the code imports or needs may be denied).

PyInstaller's `excludes=` only stops Python imports; Qt libraries and plugins arrive through the
PySide6 hooks and through linking (a plugin pulls its libraries in), so the spec also filters the
analysis' binaries and datas with `keep()` below. Paths are the destination names inside the bundle.
"""

from __future__ import annotations

import importlib.util
import pkgutil
import re
from fnmatch import fnmatch
from pathlib import Path
from typing import Optional

# Qt modules (and every module whose name starts with one of these) that the app never uses.
QT_DENY = (
    "Qt3D",
    "QtBluetooth",
    "QtCharts",
    "QtConcurrent",
    "QtDataVisualization",
    "QtDesigner",
    "QtEglFS",  # embedded full-screen platform (libqeglfs) and its KMS support
    "QtGraphs",
    "QtHelp",
    "QtHttpServer",
    "QtLabs",
    "QtLocation",
    "QtLottie",
    "QtMultimedia",
    "QtNetwork",
    "QtNfc",
    "QtPdf",
    "QtPositioning",
    "QtPrintSupport",
    "QtQml",
    "QtQuick",
    "QtRemoteObjects",
    "QtScxml",
    "QtSensors",
    "QtSerialBus",
    "QtSerialPort",
    "QtShaderTools",
    "QtSpatialAudio",
    "QtSql",
    "QtStateMachine",
    "QtTest",
    "QtTextToSpeech",
    "QtUiTools",
    "QtVirtualKeyboard",
    "QtWaylandCompositor",
    "QtWaylandEglCompositor",  # compositor-side EGL hardware integration
    "QtWebChannel",
    "QtWebEngine",
    "QtWebSockets",
    "QtWebView",
    "QtWlShellIntegration",
    "QtXml",
)

# Needed at run time although no `import PySide6.QtXxx` names them; never deny these.
QT_REQUIRED = {
    "QtCore": "everything",
    "QtGui": "everything",
    "QtWidgets": "the main window",
    "QtSvg": "the SVG icons (iconengines/qsvgicon, imageformats/qsvg) and pyqtgraph",
    "QtOpenGL": "pyqtgraph imports it when imported (pyqtgraph/Qt/OpenGLHelpers.py)",
    "QtOpenGLWidgets": "the same",
    "QtDBus": "linked by QtGui on Linux; input methods and desktop portals",
    "QtXcbQpa": "the X11 platform plugin (libqxcb)",
    "QtWaylandClient": "the Wayland platform plugin (libqwayland)",
}

# Qt plugins (path below the plugins folder) that pull in denied modules or only serve other
# devices: embedded platforms, QML debugging, SQL, printing, network status, the GTK3 theme
# (which would drag the system's GTK, Pango and Cairo into the bundle).
QT_PLUGIN_DENY = (
    "designer/*",
    "egldeviceintegrations/*",
    "generic/*",
    "imageformats/*qpdf*",
    "networkinformation/*",
    "platforminputcontexts/*qtvirtualkeyboard*",
    "platforms/*qeglfs*",
    "platforms/*qlinuxfb*",
    "platforms/*qminimalegl*",
    "platforms/*qvkkhrdisplay*",
    "platforms/*qvnc*",
    "platformthemes/*qgtk3*",
    "printsupport/*",
    "qmltooling/*",
    "sqldrivers/*",
    "tls/*",
    "vectorimageformats/*",
    "wayland-graphics-integration-server/*",
)

# Python packages the app never imports; PyInstaller would otherwise follow optional imports
# (torch -> tensorboard/scipy/pandas, pyqtgraph -> matplotlib/PIL, ...). Pillow: GIFs are written
# with PyAV and image sizes read by core/image_header.py.
# Not here on purpose: torch._dynamo, torch._inductor, sympy, mpmath, torchgen, torch.fx,
# torch.distributed - creating the optimiser imports them (the self-test's training step checks it).
PY_EXCLUDES = (
    "IPython",
    "PIL",
    "_pytest",
    "_tkinter",
    "cupy",
    "docutils",
    "expecttest",
    "hypothesis",
    "ipykernel",
    "jedi",
    "jupyter_client",
    "matplotlib",
    "notebook",
    "numba",
    "pandas",
    "pip",
    "pluggy",
    "pytest",
    "pytest_benchmark",
    "pytestqt",
    "scipy",
    "setuptools",
    "sphinx",
    "tensorboard",
    "tkinter",
    "torch.utils.benchmark",
    "torch.utils.tensorboard",
    # torch.compile's code generators (the app never compiles: torch._inductor itself stays, the
    # optimiser imports it), multi-machine training, GPU kernels and the ROCm/C++-extension tools
    "torch._inductor.codegen",
    "torch._inductor.fx_passes",
    "torch._inductor.kernel",
    "torch._vendor.quack",
    "torch.distributed.checkpoint",
    "torch.distributed.elastic",
    "torch.distributed.pipelining",
    "torch.sparse._triton_ops_meta",
    "torch.utils.cpp_extension",
    "torch.utils.hipify",
    "triton",
    "PyQt5",
    "PyQt6",
    "PySide2",
    # the PySide6 bindings of denied Qt modules (hooks would add their Qt libraries)
    *(f"PySide6.{m}" for m in ("Qt3DCore", "QtCharts", "QtConcurrent", "QtDataVisualization",
                               "QtDesigner", "QtHelp", "QtMultimedia", "QtNetwork", "QtPdf", "QtPrintSupport", "QtQml", "QtQuick",
                               "QtQuickControls2", "QtQuickTest", "QtQuickWidgets", "QtSql",
                               "QtTest", "QtUiTools", "QtWebEngineCore", "QtXml")),
)

# Packages of which only the named submodules go in (PyInstaller's torch hook collects all of
# them): `import torch` itself imports these few modules of torch's internal test suite
# (torch.utils.checkpoint, torch._refs, torch.distributed), the rest (11 MB of sources) is unused.
PY_EXCLUDE_SUBMODULES_BUT = {
    "torch.testing._internal": ("common_dtype", "distributed", "logging_tensor"),
    "torch.testing._internal.distributed": ("fake_pg",),
}

# Other files a CPU build never needs (destination paths, fnmatch patterns, '/' separators).
FILE_DENY = (
    "torch/bin/*",  # C++ test programs and protoc (torch_shm_manager is kept, below)
    "torch/test/*",
    "torch/include/*",
    "torch/share/*",
    "torch/lib/*test*",
    "torch/lib/libaoti_custom_ops*",
    "torch/lib/libbackend_with_compiler*",
    "torch/lib/*.a",
    "torch/lib/*.lib",
    "torch/_inductor/codegen/aoti_runtime/*",
    "torch/utils/benchmark/*",
    "PySide6/Qt/translations/*",  # Qt's own UI translations: the app is not translated
    "PySide6/translations/*",
    "PySide6/Qt/qml/*",
    "PySide6/qml/*",
    "PySide6/Qt/libexec/*",
    "PySide6/Qt/resources/qtwebengine*",
    "*.pyi",
    # Linux: parts of the C library and the compiler's runtime come from the user's system. libmvec
    # belongs to glibc (it uses glibc's private symbols: a copy from another glibc can break it);
    # a bundled libstdc++/libgcc_s would be loaded before a newer system one and break the system
    # libraries that need that one (GPU drivers). Every glibc new enough for the bundle has them.
    "libmvec.so*",
    "libstdc++.so*",
    "libgcc_s.so*",
)
FILE_KEEP = ("torch/bin/torch_shm_manager",)

# A CUDA library in a CPU bundle is a build from the wrong torch wheel (4-5 GB): the spec stops.
CUDA_LIBRARY = re.compile(r"(^|/)(lib)?(cuda|cudart|cublas|cudnn|cufft|curand|cusolver|cusparse|nccl|nvrtc|nvJitLink|"
                          r"nvToolsExt|torch_cuda|c10_cuda|caffe2_nvrtc)[^/]*\.(so|dll|dylib)", re.IGNORECASE)

_QT_LIB = re.compile(r"^(?:lib)?Qt6([A-Za-z0-9]+?)(?:\.so(?:\.[0-9]+)*|\.dll|\.dylib)$")
_QT_FRAMEWORK = re.compile(r"(?:^|/)Qt([A-Za-z0-9]+)\.framework(?:/|$)")
_PYSIDE_BINDING = re.compile(r"^Qt([A-Za-z0-9]+)\.(?:abi3\.so|pyd|cpython-[^.]+\.so|so)$")


def qt_module_of(dest: str) -> Optional[str]:
    """The Qt module a bundled file belongs to ("QtQuick"), or None if it is no Qt module file."""
    dest = dest.replace("\\", "/")
    name = dest.rsplit("/", 1)[-1]
    m = _QT_LIB.match(name)
    if m:
        return "Qt" + m.group(1)
    m = _QT_FRAMEWORK.search(dest)
    if m:
        return "Qt" + m.group(1)
    if "PySide6/" in dest or dest.startswith("PySide6"):
        m = _PYSIDE_BINDING.match(name)
        if m:
            return "Qt" + m.group(1)
    return None


def is_excluded_module(name: str) -> bool:
    """Whether the bundle leaves the Python module `name` out."""
    if any(name == e or name.startswith(e + ".") for e in PY_EXCLUDES):
        return True
    for package, wanted in PY_EXCLUDE_SUBMODULES_BUT.items():
        if name.startswith(package + ".") and name[len(package) + 1 :].split(".")[0] not in wanted:
            return True
    return False


def submodule_names(package: str) -> list[str]:
    """Direct submodules of an installed package, found without importing it."""
    top, *rest = package.split(".")
    spec = importlib.util.find_spec(top)
    if spec is None or not spec.submodule_search_locations:
        return []
    folder = Path(list(spec.submodule_search_locations)[0]).joinpath(*rest)
    return sorted(m.name for m in pkgutil.iter_modules([str(folder)]))


def python_excludes() -> list[str]:
    """PY_EXCLUDES plus the unwanted children of PY_EXCLUDE_SUBMODULES_BUT's packages, as
    PyInstaller's `excludes=` wants them."""
    out = list(PY_EXCLUDES)
    for package, wanted in PY_EXCLUDE_SUBMODULES_BUT.items():
        out += [f"{package}.{child}" for child in submodule_names(package) if child not in wanted]
    return out


def is_denied_qt_module(module: str) -> bool:
    low = module.lower()
    return any(low.startswith(d.lower()) for d in QT_DENY)


def _plugin_path(dest: str) -> Optional[str]:
    """'platforms/libqxcb.so' for a file under a Qt plugins folder, else None."""
    parts = dest.split("/")
    for i, part in enumerate(parts[:-1]):
        if part == "plugins" and i > 0 and parts[i - 1] in ("Qt", "PySide6"):
            return "/".join(parts[i + 1 :])
    return None


def keep(dest: str) -> bool:
    """Whether a file (its destination path in the bundle) belongs in the lean bundle."""
    dest = dest.replace("\\", "/")
    if any(fnmatch(dest, p) for p in FILE_KEEP):
        return True
    if any(fnmatch(dest, p) for p in FILE_DENY):
        return False
    module = qt_module_of(dest)
    if module is not None and is_denied_qt_module(module):
        return False
    plugin = _plugin_path(dest)
    if plugin is not None and any(fnmatch(plugin, p) for p in QT_PLUGIN_DENY):
        return False
    return True
