"""The packaging rules and the self-test, without building a bundle (that takes minutes: it is
`packaging/build.sh --check`, run by hand, see the README's "Packaged app")."""

from __future__ import annotations

import ast
import configparser
import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "vfi_desktop"
PACKAGING = ROOT / "packaging"
SPEC = PACKAGING / "vfi_desktop.spec"


def load_bundle_rules():
    spec = importlib.util.spec_from_file_location("bundle_rules", PACKAGING / "bundle_rules.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


rules = load_bundle_rules()


def imports_of(path: Path) -> set[str]:
    """Absolute module names a file imports (`from PySide6 import QtSvg` gives PySide6.QtSvg)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
    return names


def package_imports() -> set[str]:
    names = set()
    for path in PACKAGE.rglob("*.py"):
        names |= imports_of(path)
    return names


def qt_modules_imported() -> set[str]:
    return {n.split(".")[1] for n in package_imports() if n.startswith("PySide6.Qt")}


# -- the Qt deny-list against the code ------------------------------------------------------------


def test_no_qt_module_the_code_imports_is_denied():
    imported = qt_modules_imported()
    if (PACKAGE / "gui").is_dir():
        assert {"QtCore", "QtGui", "QtWidgets"} <= imported  # the scan itself works
    denied = sorted(m for m in imported | set(rules.QT_REQUIRED) if rules.is_denied_qt_module(m))
    assert denied == [], f"packaging/bundle_rules.py QT_DENY would remove {denied}, which the app needs"


def test_no_qt_file_the_code_needs_is_filtered_out():
    for module in qt_modules_imported() | set(rules.QT_REQUIRED):
        short = module[2:]
        for dest in (
            f"PySide6/Qt/lib/libQt6{short}.so.6",  # Linux
            f"PySide6/Qt6{short}.dll",  # Windows
            f"PySide6/Qt/lib/Qt{short}.framework/Versions/A/Qt{short}",  # macOS
            f"PySide6/Qt{short}.abi3.so",
            f"PySide6/Qt{short}.pyd",
        ):
            assert rules.qt_module_of(dest) == module, dest
            assert rules.keep(dest), dest


@pytest.mark.parametrize(
    "dest",
    [
        "PySide6/Qt/lib/libQt6Quick.so.6",
        "PySide6/Qt/lib/libQt6QmlModels.so.6",
        "PySide6/Qt/lib/libQt6Network.so.6",
        "PySide6/Qt/lib/libQt6EglFsKmsSupport.so.6",
        "PySide6/Qt6WebEngineCore.dll",
        "PySide6/Qt/lib/QtQuick.framework/Versions/A/QtQuick",
        "PySide6/QtQml.abi3.so",
        "PySide6/Qt/plugins/platforminputcontexts/libqtvirtualkeyboardplugin.so",  # links QtQuick
        "PySide6/Qt/plugins/platformthemes/libqgtk3.so",  # drags in GTK
        "PySide6/Qt/plugins/imageformats/libqpdf.so",
        "PySide6/Qt/plugins/sqldrivers/libqsqlite.so",
        "PySide6/Qt/translations/qtbase_de.qm",
        "torch/bin/test_api",
        "torch/lib/libtorchbind_test.so",
        "torch/include/ATen/core/TensorBody.h",
        "libmvec.so.1",  # part of glibc: the user's own
        "libstdc++.so.6",
        "libgcc_s.so.1",
    ],
)
def test_unused_files_are_left_out(dest):
    assert not rules.keep(dest)


@pytest.mark.parametrize(
    "dest",
    [
        "PySide6/Qt/plugins/platforms/libqxcb.so",
        "PySide6/Qt/plugins/platforms/libqwayland.so",
        "PySide6/Qt/plugins/platforms/libqoffscreen.so",
        "PySide6/plugins/platforms/qwindows.dll",
        "PySide6/Qt/plugins/iconengines/libqsvgicon.so",
        "PySide6/Qt/plugins/imageformats/libqsvg.so",
        "PySide6/Qt/plugins/imageformats/libqjpeg.so",
        "PySide6/Qt/plugins/platforminputcontexts/libibusplatforminputcontextplugin.so",
        "PySide6/Qt/lib/libQt6WaylandClient.so.6",
        "torch/lib/libtorch_cpu.so",
        "torch/bin/torch_shm_manager",
        "cv2/cv2.abi3.so",
        "models/unet.safetensors",
        "resources/demo.mp4",
        "resources/icons/app.svg",
    ],
)
def test_needed_files_are_kept(dest):
    assert rules.keep(dest)


def test_python_excludes_spare_what_the_app_and_training_import():
    def excluded(name: str) -> bool:
        return any(name == e or name.startswith(e + ".") for e in rules.PY_EXCLUDES)

    # creating the optimiser in a frozen app needs torch._dynamo (and with it these)
    needed = {"torch._dynamo", "torch._inductor", "torch.fx", "torch.distributed", "sympy", "mpmath", "torchgen"}
    needed |= {n for n in package_imports() if not n.startswith(("vfi_desktop", "__future__"))}
    assert sorted(n for n in needed if excluded(n)) == []


def test_cuda_libraries_are_recognised():
    for dest in ("nvidia/cudnn/lib/libcudnn.so.9", "torch/lib/libtorch_cuda.so", "torch/lib/cudart64_12.dll", "torch/lib/libc10_cuda.so"):
        assert rules.CUDA_LIBRARY.search(dest), dest
    for dest in ("torch/lib/libtorch_cpu.so", "torch/lib/libc10.so", "PySide6/Qt/lib/libQt6Core.so.6"):
        assert not rules.CUDA_LIBRARY.search(dest), dest


# -- the spec, run against stand-ins for PyInstaller's classes -----------------------------------


class Recorder:
    calls: dict[str, list] = {}

    def __init__(self, *args, **kwargs):
        self.args, self.kwargs = args, kwargs
        Recorder.calls.setdefault(type(self).__name__, []).append(self)


class Analysis(Recorder):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.pure, self.scripts = [("vfi_desktop", str(PACKAGE / "__init__.py"), "PYMODULE")], []
        self.datas = [(Path(dest) / Path(src).name, src, "DATA") for src, dest in kwargs.get("datas", [])]
        self.datas = [(str(d).replace(os.sep, "/"), s, t) for d, s, t in self.datas]
        self.datas += [
            ("PySide6/Qt/translations/qtbase_de.qm", "/x/qtbase_de.qm", "DATA"),
            ("torch/include/c10/macros/Macros.h", "/x/Macros.h", "DATA"),
        ]
        self.binaries = [
            ("PySide6/Qt/lib/libQt6Widgets.so.6", "/nonexistent/libQt6Widgets.so.6", "BINARY"),
            ("PySide6/Qt/lib/libQt6Quick.so.6", "/nonexistent/libQt6Quick.so.6", "BINARY"),
            ("PySide6/Qt/plugins/platformthemes/libqgtk3.so", "/nonexistent/libqgtk3.so", "BINARY"),
        ]


class PYZ(Recorder): ...


class EXE(Recorder): ...


class COLLECT(Recorder): ...


class BUNDLE(Recorder): ...


def run_spec(tmp_path: Path, *options: str) -> dict:
    pytest.importorskip("PyInstaller")
    Recorder.calls = {}
    namespace = {
        "__file__": str(SPEC),
        "SPECPATH": str(PACKAGING),
        "workpath": str(tmp_path),
        "Analysis": Analysis,
        "PYZ": PYZ,
        "EXE": EXE,
        "COLLECT": COLLECT,
        "BUNDLE": BUNDLE,
    }
    argv, path = sys.argv, list(sys.path)
    sys.argv = [str(SPEC), *options]
    try:
        exec(compile(SPEC.read_text(encoding="utf-8"), str(SPEC), "exec"), namespace)
    finally:
        sys.argv, sys.path[:] = argv, path
        sys.modules.pop("bundle_rules", None)
    return Recorder.calls


def test_spec_bundles_models_resources_and_launcher(tmp_path):
    calls = run_spec(tmp_path)
    analysis = calls["Analysis"][0]
    assert analysis.args[0] == [str(PACKAGING / "launcher.py")]
    dests = {d for d, _s, _t in analysis.datas}
    assert "models/unet.safetensors" in dests
    for p in (ROOT / "models").glob("*.safetensors"):
        assert f"models/{p.name}" in dests
    if (ROOT / "models" / "MODEL_CARD.md").exists():
        assert "models/MODEL_CARD.md" in dests
    assert {"resources/demo.mp4", "resources/icons/app.svg"} <= dests
    for p in (ROOT / "resources" / "icons").glob("*.svg"):
        assert f"resources/icons/{p.name}" in dests
    assert not any(d.startswith("resources/screenshots/") for d in dests)  # README material only
    # the rules were applied to what the hooks collected
    assert "PySide6/Qt/translations/qtbase_de.qm" not in dests
    binaries = {d for d, _s, _t in analysis.binaries}
    assert binaries == {"PySide6/Qt/lib/libQt6Widgets.so.6"}
    assert "PySide6.QtQuick" in analysis.kwargs["excludes"] and "torch._dynamo" not in analysis.kwargs["excludes"]
    assert (tmp_path / "removed-files.txt").read_text().count("\n") == 4
    # one folder, no UPX
    exe, collect = calls["EXE"][0], calls["COLLECT"][0]
    assert exe.kwargs["name"] == "vfi-desktop" and exe.kwargs["upx"] is False and exe.kwargs["exclude_binaries"]
    assert collect.kwargs["name"] == "vfi-desktop" and collect.kwargs["upx"] is False


def test_spec_onefile_and_untrimmed_variants(tmp_path):
    calls = run_spec(tmp_path, "--onefile")
    assert "COLLECT" not in calls and calls["EXE"][0].kwargs["upx"] is False
    calls = run_spec(tmp_path, "--no-trim")
    assert calls["Analysis"][0].kwargs["excludes"] == []
    assert len(calls["Analysis"][0].binaries) == 3


def test_spec_refuses_cuda_libraries(tmp_path, monkeypatch):
    original = Analysis.__init__

    def with_cuda(self, *args, **kwargs):
        original(self, *args, **kwargs)
        self.binaries.append(("torch/lib/libtorch_cuda.so", "/nonexistent/libtorch_cuda.so", "BINARY"))

    monkeypatch.setattr(Analysis, "__init__", with_cuda)
    with pytest.raises(SystemExit, match="CUDA"):
        run_spec(tmp_path)


def test_spec_refuses_a_package_from_another_tree(tmp_path, monkeypatch):
    original = Analysis.__init__

    def elsewhere(self, *args, **kwargs):
        original(self, *args, **kwargs)
        self.pure = [("vfi_desktop", str(tmp_path / "other" / "vfi_desktop" / "__init__.py"), "PYMODULE")]

    monkeypatch.setattr(Analysis, "__init__", elsewhere)
    with pytest.raises(SystemExit, match="came from"):
        run_spec(tmp_path)


def test_launcher_calls_freeze_support_first():
    tree = ast.parse((PACKAGING / "launcher.py").read_text(encoding="utf-8"))
    main_block = next(n for n in tree.body if isinstance(n, ast.If) and "__main__" in ast.unparse(n.test))
    assert ast.unparse(main_block.body[0]).strip() == "multiprocessing.freeze_support()"
    assert "vfi_desktop.cli" in ast.unparse(main_block)


def test_build_script_is_valid_bash():
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("no bash")
    subprocess.run([bash, "-n", str(PACKAGING / "build.sh")], check=True)


# -- the archive's installer (packaging/linux/install.sh), in a temporary HOME --------------------

INSTALL_SH = PACKAGING / "linux" / "install.sh"
# What install.sh may call: POSIX tools only (no xdg-utils, no Python, no desktop tools).
INSTALL_TOOLS = ("awk", "cat", "cp", "dirname", "grep", "ln", "mkdir", "mktemp", "mv", "readlink", "rm", "rmdir", "sed")
# The MIME type of each extension the app opens (core/video_io.py VIDEO_EXTENSIONS).
MIME_OF = {
    ".mp4": "video/mp4", ".m4v": "video/x-m4v", ".avi": "video/x-msvideo", ".mov": "video/quicktime",
    ".mkv": "video/x-matroska", ".webm": "video/webm", ".mpg": "video/mpeg", ".mpeg": "video/mpeg",
    ".gif": "image/gif", ".wmv": "video/x-ms-wmv", ".flv": "video/x-flv", ".ts": "video/mp2t",
}
OTHER_MIMEAPPS = (
    "[Default Applications]\n"
    "video/mp4=vlc.desktop\n"
    "\n"
    "[Added Associations]\n"
    "video/mp4=vlc.desktop;mpv.desktop\n"
    "text/plain=gedit.desktop;\n"
    "\n"
    "[Removed Associations]\n"
    "video/webm=totem.desktop;\n"
)


@pytest.fixture
def fake_app(tmp_path):
    """A minimal app folder laid out like the unpacked archive: the executable (a shell script
    here), PyInstaller's _internal/ with the icons, and install.sh beside the executable."""
    if shutil.which("bash") is None:
        pytest.skip("no bash")
    app = tmp_path / "vfi-desktop-0.1.0-linux-x86_64"
    icons = app / "_internal" / "resources" / "icons"
    icons.mkdir(parents=True)
    for name in ("app.svg", "app.png"):
        shutil.copy(ROOT / "resources" / "icons" / name, icons / name)
    exe = app / "vfi-desktop"
    exe.write_text('#!/bin/sh\necho "fake vfi-desktop $*"\n')
    exe.chmod(0o755)
    shutil.copy(INSTALL_SH, app / "install.sh")
    return app


def run_install(app_or_script: Path, home: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """install.sh with a clean environment: HOME, and a PATH of only INSTALL_TOOLS."""
    tools = home.parent / "tools"
    if not tools.exists():
        tools.mkdir()
        for name in INSTALL_TOOLS:
            found = shutil.which(name)
            assert found, f"{name} missing on this machine"
            (tools / name).symlink_to(found)
    script = app_or_script if app_or_script.name == "install.sh" else app_or_script / "install.sh"
    environ = {"HOME": str(home), "PATH": str(tools), **(env or {})}
    proc = subprocess.run([shutil.which("bash"), str(script), *args], capture_output=True, text=True, env=environ, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def files_under(home: Path) -> dict[str, str]:
    """Every file and link under home: relative path -> 'file' or 'link -> target'."""
    out = {}
    for p in sorted(home.rglob("*")):
        rel = p.relative_to(home).as_posix()
        if p.is_symlink():
            out[rel] = f"link -> {os.readlink(p)}"
        elif p.is_file():
            out[rel] = "file"
    return out


def read_ini(path: Path) -> configparser.ConfigParser:
    ini = configparser.ConfigParser(interpolation=None, strict=True)
    ini.optionxform = str
    ini.read(path, encoding="utf-8")
    return ini


def test_install_writes_the_entry_icons_command_and_associations_and_uninstall_removes_them(fake_app, tmp_path):
    home = tmp_path / "home"
    (home / ".config").mkdir(parents=True)
    (home / ".config" / "mimeapps.list").write_text(OTHER_MIMEAPPS)
    proc = run_install(fake_app, home)
    assert "installed vfi-desktop" in proc.stdout
    assert ".local/bin is not on your PATH" in proc.stdout  # the PATH here has only the tools

    opt = home / ".local" / "opt" / "vfi-desktop"
    files = files_under(home)
    app_files = {k for k in files if k.startswith(".local/opt/")}
    assert app_files == {f".local/opt/vfi-desktop/{p.relative_to(fake_app).as_posix()}" for p in fake_app.rglob("*") if p.is_file()}
    assert {k: v for k, v in files.items() if k not in app_files} == {
        ".config/mimeapps.list": "file",
        ".local/bin/vfi-desktop": f"link -> {opt}/vfi-desktop",
        ".local/share/applications/vfi-desktop.desktop": "file",
        ".local/share/icons/hicolor/256x256/apps/vfi-desktop.png": "file",
        ".local/share/icons/hicolor/scalable/apps/vfi-desktop.svg": "file",
    }
    # the command runs the installed app
    command = subprocess.run([str(home / ".local" / "bin" / "vfi-desktop"), "x.mp4"], capture_output=True, text=True, timeout=30)
    assert command.stdout.strip() == "fake vfi-desktop x.mp4"
    icons = home / ".local" / "share" / "icons" / "hicolor"
    assert (icons / "scalable/apps/vfi-desktop.svg").read_bytes() == (ROOT / "resources/icons/app.svg").read_bytes()
    assert (icons / "256x256/apps/vfi-desktop.png").read_bytes() == (ROOT / "resources/icons/app.png").read_bytes()

    # the desktop entry: absolute paths to the installed app, the icon by its theme name
    entry = read_ini(home / ".local/share/applications/vfi-desktop.desktop")["Desktop Entry"]
    assert entry["Type"] == "Application" and entry["Name"] == "vfi-desktop" and entry["Terminal"] == "false"
    assert entry["Exec"] == f'"{opt}/vfi-desktop" %f'
    assert entry["TryExec"] == f"{opt}/vfi-desktop"
    assert entry["Icon"] == "vfi-desktop"
    assert entry["Categories"].endswith(";") and entry["MimeType"].endswith(";")
    validator = shutil.which("desktop-file-validate")  # desktop-file-utils, where installed
    if validator:
        check = subprocess.run([validator, str(home / ".local/share/applications/vfi-desktop.desktop")], capture_output=True, text=True)
        assert check.returncode == 0 and not check.stdout.strip(), check.stdout  # no error, warning or hint
    mime_types = entry["MimeType"].rstrip(";").split(";")
    from vfi_desktop.core.video_io import VIDEO_EXTENSIONS

    assert {MIME_OF[ext] for ext in VIDEO_EXTENSIONS} | {"inode/directory"} == set(mime_types)

    # "Open with": our id added to every type's list, after what was there; never the default
    mimeapps = read_ini(home / ".config/mimeapps.list")
    added = mimeapps["Added Associations"]
    for mime in mime_types:
        assert added[mime].rstrip(";").split(";")[-1] == "vfi-desktop.desktop", mime
    assert added["video/mp4"] == "vlc.desktop;mpv.desktop;vfi-desktop.desktop"
    assert added["text/plain"] == "gedit.desktop;"
    assert dict(mimeapps["Default Applications"]) == {"video/mp4": "vlc.desktop"}
    assert dict(mimeapps["Removed Associations"]) == {"video/webm": "totem.desktop;"}

    # uninstall, from the installed copy as the README says: everything goes, the user's
    # mimeapps.list comes back byte for byte
    proc = run_install(opt / "install.sh", home, "--uninstall")
    assert "removed vfi-desktop" in proc.stdout
    assert files_under(home) == {".config/mimeapps.list": "file"}
    assert (home / ".config" / "mimeapps.list").read_text() == OTHER_MIMEAPPS


def test_uninstall_leaves_no_file_in_a_home_that_had_none(fake_app, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    run_install(fake_app, home)
    mimeapps = (home / ".config" / "mimeapps.list").read_text()
    assert mimeapps.startswith("[Added Associations]\n") and "inode/directory=vfi-desktop.desktop;\n" in mimeapps
    run_install(fake_app, home, "--uninstall")
    assert files_under(home) == {}


def test_reinstall_and_install_from_the_installed_copy_change_nothing(fake_app, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    run_install(fake_app, home)
    first = {p: (home / p).read_bytes() for p, kind in files_under(home).items() if kind == "file"}
    run_install(fake_app, home)  # an upgrade over an installed copy
    run_install(home / ".local/opt/vfi-desktop", home)  # the installed copy's own install.sh
    assert {p: (home / p).read_bytes() for p, kind in files_under(home).items() if kind == "file"} == first


def test_install_honours_xdg_folders_and_leaves_a_foreign_command_alone(fake_app, tmp_path):
    home = tmp_path / "home"
    (home / ".local" / "bin").mkdir(parents=True)
    foreign = home / ".local" / "bin" / "vfi-desktop"
    foreign.write_text("#!/bin/sh\n# pip install --user vfi-desktop\n")
    env = {"XDG_DATA_HOME": str(tmp_path / "data"), "XDG_CONFIG_HOME": str(tmp_path / "config")}
    proc = run_install(fake_app, home, env=env)
    assert "left" in proc.stdout and foreign.read_text().startswith("#!/bin/sh\n# pip")
    assert (tmp_path / "data/applications/vfi-desktop.desktop").is_file()
    assert (tmp_path / "data/icons/hicolor/scalable/apps/vfi-desktop.svg").is_file()
    assert "vfi-desktop.desktop" in (tmp_path / "config/mimeapps.list").read_text()
    assert not (home / ".local/share").exists() and not (home / ".config").exists()
    run_install(fake_app, home, "--uninstall", env=env)
    assert files_under(home) == {".local/bin/vfi-desktop": "file"}  # not ours: kept
    assert files_under(tmp_path / "data") == {} and files_under(tmp_path / "config") == {}


def test_install_refuses_a_folder_without_the_app(tmp_path):
    if shutil.which("bash") is None:
        pytest.skip("no bash")
    (tmp_path / "empty").mkdir()
    proc = subprocess.run([shutil.which("bash"), str(INSTALL_SH), str(tmp_path / "empty")], capture_output=True, text=True,
                          env={"HOME": str(tmp_path / "home"), "PATH": os.environ.get("PATH", "")}, timeout=60)
    assert proc.returncode == 2 and "no vfi-desktop app in" in proc.stderr
    assert not (tmp_path / "home").exists()


def test_the_window_names_the_installed_desktop_entry(qapp):
    from vfi_desktop.gui.app import create_application

    assert create_application().desktopFileName() == "vfi-desktop"  # install.sh writes vfi-desktop.desktop


# -- what the bundle is made of -------------------------------------------------------------------


def test_the_app_needs_neither_pillow_nor_opencv_with_a_gui():
    import tomllib

    assert not any(n == "PIL" or n.startswith("PIL.") for n in package_imports())
    assert rules.is_excluded_module("PIL")
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    names = {d.split(">")[0].split("=")[0].split("<")[0].strip().lower() for d in deps}
    assert "pillow" not in names
    assert "opencv-python-headless" in names and "opencv-python" not in names  # no Qt 5 beside PySide6's Qt 6
    pins = dict(line.split("==") for line in (ROOT / "constraints.txt").read_text().split() if "==" in line)
    assert "opencv-python" not in pins and "opencv-python-headless" in pins


def load_strip_bundle():
    spec = importlib.util.spec_from_file_location("strip_bundle", PACKAGING / "strip_bundle.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_strip_rules():
    strip = load_strip_bundle()
    symbols = {".text", ".dynsym", ".symtab", ".strtab"}
    assert strip.should_strip("_internal/torch/lib/libtorch_cpu.so", symbols, "$ORIGIN")
    assert strip.should_strip("_internal/libpython3.11.so.1.0", {".text", ".dynsym", ".debug_info"}, "")
    assert not strip.should_strip("_internal/torch/lib/libc10.so", {".text", ".dynsym"}, "$ORIGIN")  # stripped already
    assert not strip.should_strip("vfi-desktop", symbols, "")  # the archive is appended to it
    assert not strip.should_strip("_internal/av/video/frame.abi3.so", symbols, "$ORIGIN/../../av.libs")
    assert not strip.should_strip("_internal/av.libs/libx265-f5385bb8.so.216", symbols, "$ORIGIN")
    assert not strip.should_strip("_internal/libpng16-529cb57a.so.16.58.0", symbols, "$ORIGIN")


def test_stripping_keeps_a_library_loadable(tmp_path):
    """A real unstripped extension module, stripped by strip_bundle.py: its symbol table goes,
    and Python still loads it (the dynamic symbols stay); the executable is not touched."""
    strip = load_strip_bundle()
    if not sys.platform.startswith("linux") or not (shutil.which("strip") and shutil.which("readelf")):
        pytest.skip("needs Linux and binutils")
    import _bisect
    import _json

    candidates = [Path(m.__file__) for m in (_json, _bisect) if getattr(m, "__file__", None)]
    unstripped = [p for p in candidates if ".symtab" in strip.elf_facts(p)[0]]
    if not unstripped:
        pytest.skip("this Python's extension modules are stripped already")
    source = unstripped[0]
    bundle = tmp_path / "bundle"
    (bundle / "_internal").mkdir(parents=True)
    lib = bundle / "_internal" / source.name
    shutil.copy(source, lib)
    shutil.copy(source, bundle / "vfi-desktop")  # stands in for the executable: an unstripped ELF file
    assert strip.main([str(bundle)]) == 0
    sections, _ = strip.elf_facts(lib)
    assert ".symtab" not in sections and ".dynsym" in sections
    assert lib.stat().st_size < source.stat().st_size
    assert (bundle / "vfi-desktop").read_bytes() == source.read_bytes()
    name = source.name.split(".")[0]
    spec = importlib.util.spec_from_file_location(name, lib)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.__file__ == str(lib)


# -- where the bundle finds its files -----------------------------------------------------------


def test_paths_resolve_the_bundle_layout(tmp_path, monkeypatch):
    from vfi_desktop import paths

    (tmp_path / "models").mkdir()
    (tmp_path / "resources").mkdir()
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert paths.models_dir() == tmp_path / "models"
    assert paths.resources_dir() == tmp_path / "resources"
    assert paths.bundled_weights("unet") == tmp_path / "models" / "unet.safetensors"


def test_paths_fall_back_to_the_source_tree_outside_a_bundle(tmp_path, monkeypatch):
    from vfi_desktop import paths

    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path / "empty"), raising=False)
    assert paths.resources_dir() == ROOT / "resources"
    assert paths.models_dir() == ROOT / "models"


# -- the self-test ------------------------------------------------------------------------------


def run_module(code: str, timeout: float) -> subprocess.CompletedProcess:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT)


# Makes the modules the bundle leaves out unimportable, so that the source-tree self-test also
# proves the exclusions safe (a frozen app fails the same way when one of them is needed). A None
# in sys.modules acts like a missing module: `import` raises ModuleNotFoundError and
# importlib.util.find_spec() returns None. Top-level names not installed here are absent anyway
# (and a None entry would mislead code that looks for Qt bindings in sys.modules, like pyqtgraph).
BLOCK_EXCLUDED = f"""
import importlib.util, sys
_spec = importlib.util.spec_from_file_location("bundle_rules", {str(PACKAGING / "bundle_rules.py")!r})
rules = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(rules)
for _name in rules.python_excludes():
    if "." in _name or importlib.util.find_spec(_name) is not None:
        sys.modules.setdefault(_name, None)
"""


def test_excluded_modules_are_unimportable_under_the_blocker():
    code = BLOCK_EXCLUDED + (
        "import importlib\n"
        "for name in ('tkinter', 'torch.testing._internal.common_utils', 'PySide6.QtQuick'):\n"
        "    try:\n"
        "        importlib.import_module(name)\n"
        "    except ModuleNotFoundError:\n"
        "        continue\n"
        "    sys.exit(f'{name} imported')\n"
        "import torch.testing._internal.logging_tensor, PySide6.QtSvg\n"
    )
    proc = run_module(code, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]


def test_self_test_passes_from_the_source_tree_without_the_excluded_modules():
    proc = run_module(BLOCK_EXCLUDED + "from vfi_desktop.cli import main\nsys.exit(main(['--self-test']))\n", timeout=180)
    out = proc.stdout
    assert proc.returncode == 0, out + proc.stderr[-3000:]
    assert "self-test passed" in out
    for check in ("gui", "icons", "open", "interpolate", "export", "train", "child", "helper"):
        assert any(line.split()[:2] == [check, "ok"] for line in out.splitlines()), f"no '{check} ok' line in\n{out}"
    if (PACKAGE / "gui" / "main_window.py").exists():
        assert "main window shown" in out
    assert "12 frames" in out  # 2x of 6 source frames


def test_self_test_reports_a_missing_demo_clip(tmp_path):
    bundle = tmp_path / "bundle"
    (bundle / "resources").mkdir(parents=True)
    shutil.copytree(ROOT / "models", bundle / "models")
    code = (
        f"import sys; sys._MEIPASS = {str(bundle)!r}\n"
        "from vfi_desktop.selftest import run_self_test\n"
        "sys.exit(run_self_test(['--no-gui']))\n"
    )
    proc = run_module(code, timeout=120)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "self-test FAILED: open: the demo clip is missing" in proc.stdout
