#!/usr/bin/env bash
# Build the packaged app with PyInstaller: dist/vfi-desktop/ (one folder; the executable inside is
# dist/vfi-desktop/vfi-desktop), run its --self-test, and pack the download beside it:
# dist/vfi-desktop-VERSION-linux-x86_64.tar.xz (Windows: dist/vfi-desktop-VERSION-windows-x86_64.zip)
# and its .sha256. On Linux the folder's libraries are stripped of symbols first and install.sh
# goes into it (the archive's installer: menu entry, "Open with", the command).
#
#   packaging/build.sh                build from this checkout, self-test the folder, pack the archive
#   packaging/build.sh --check        clone HEAD into a temporary folder and build there; unpack the
#                                     archive elsewhere and run its --self-test in a clean environment
#                                     (env -i: empty HOME, no Python on PATH); keep the archive and
#                                     the unpacked folder in build/check-dist/
#   packaging/build.sh --onefile      one self-extracting file dist/vfi-desktop instead (slower start;
#                                     not stripped, no archive)
#   packaging/build.sh --no-trim      leave PyInstaller's defaults alone (no exclusions, no strip: to
#                                     measure what trimming saves)
#   packaging/build.sh --windowed     no console window (for Windows/macOS releases; no self-test run)
#   packaging/build.sh --no-test      skip the self-test
#   packaging/build.sh --no-archive   skip the archive
#
# The Python environment: $PYTHON if set, else .venv/bin/python of this checkout, else python3. It
# needs the app's dependencies from constraints.txt (CPU torch) and PyInstaller (`pip install -e
# ".[package]" -c constraints.txt`). On 2 cores a build takes about 4-6 minutes and the xz
# compression about 9 CPU-minutes more (-3: 5, for a 9% larger archive); everything runs niced.
# XZ_PRESET (default 6) and XZ_THREADS (default 2) tune the compression.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
check=0
run_test=1
archive=1
strip=1
spec_args=()
# xz preset: see the README ("Packaged app") for what -3 and -6 cost on 2 cores
xz_preset="${XZ_PRESET:-6}"
xz_threads="${XZ_THREADS:-2}"
# the download's budget (MiB): a build over it fails
max_folder_mib=900
max_archive_mib=300
for arg in "$@"; do
    case "$arg" in
        --check) check=1 ;;
        --onefile) spec_args+=(--onefile); archive=0; strip=0 ;;
        --no-trim) spec_args+=(--no-trim); strip=0 ;;
        --windowed) spec_args+=(--windowed); run_test=0 ;;
        --no-test) run_test=0 ;;
        --no-archive) archive=0 ;;
        -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
        *) echo "build.sh: unknown option $arg" >&2; exit 2 ;;
    esac
done

python="${PYTHON:-}"
if [[ -z "$python" ]]; then
    if [[ -x "$root/.venv/bin/python" ]]; then python="$root/.venv/bin/python"
    elif [[ -x "$root/.venv/Scripts/python.exe" ]]; then python="$root/.venv/Scripts/python.exe"
    else python="python3"; fi
fi
"$python" -c "import PyInstaller" 2>/dev/null || {
    echo "build.sh: PyInstaller is missing; run: $python -m pip install -c constraints.txt -e \".[package]\"" >&2
    exit 2
}

src="$root"
if (( check )); then
    tmp="$(mktemp -d "${TMPDIR:-/tmp}/vfi-desktop-build.XXXXXX")"
    trap 'rm -rf "$tmp"' EXIT
    git -C "$root" clone --quiet --no-hardlinks "$root" "$tmp/src"
    src="$tmp/src"
    echo "build.sh: clean clone of $(git -C "$src" rev-parse --short HEAD) in $src"
fi

cd "$src"
start=$(date +%s)
nice -n 10 "$python" -m PyInstaller --noconfirm --log-level WARN \
    --distpath "$src/dist" --workpath "$src/build/pyinstaller" \
    packaging/vfi_desktop.spec ${spec_args[@]+-- "${spec_args[@]}"}
echo "build.sh: built in $(( $(date +%s) - start )) s"

case "$(uname -s)" in
    Linux) os=linux ;;
    Darwin) os=macos ;;
    MINGW*|MSYS*|CYGWIN*) os=windows ;;
    *) os="$(uname -s | tr '[:upper:]' '[:lower:]')" ;;
esac
arch="$(uname -m)"
[[ "$arch" == "amd64" ]] && arch=x86_64
version="$("$python" -c 'import sys, tomllib; print(tomllib.load(open(sys.argv[1], "rb"))["project"]["version"])' "$src/pyproject.toml")"
name="vfi-desktop-$version-$os-$arch"
folder="$src/dist/vfi-desktop"

if [[ " ${spec_args[*]-} " == *" --onefile "* ]]; then
    exe="$src/dist/vfi-desktop"
    [[ -f "$exe.exe" ]] && exe="$exe.exe"
    size=$(du -sm "$exe" | cut -f1)
    echo "build.sh: $exe is $size MiB"
else
    exe="$folder/vfi-desktop"
    [[ -f "$exe.exe" ]] && exe="$exe.exe"
    if (( strip )) && [[ "$os" == linux ]]; then
        nice -n 10 "$python" "$here/strip_bundle.py" "$folder"
    fi
    if [[ "$os" == linux ]]; then
        install -m 755 "$here/linux/install.sh" "$folder/install.sh"
        install -m 644 "$here/linux/README.txt" "$folder/README.txt"
    fi
    size=$(du -sm "$folder" | cut -f1)
    echo "build.sh: $folder/ is $size MiB ($(find "$folder" -type f | wc -l) files)"
    # the spec refuses CUDA libraries already; this checks what really landed in the folder
    "$python" - "$folder" "$here" <<'PY'
import sys
from pathlib import Path
sys.path.insert(0, sys.argv[2])
import bundle_rules
found = [str(p) for p in Path(sys.argv[1]).rglob("*") if bundle_rules.CUDA_LIBRARY.search(p.as_posix())]
if found:
    sys.exit("build.sh: FAILED: CUDA libraries in the bundle: " + ", ".join(found[:5]))
print("build.sh: no CUDA libraries in the bundle")
PY
    if (( strip )) && (( size > max_folder_mib )); then
        echo "build.sh: FAILED: the folder is $size MiB, over the budget of $max_folder_mib MiB" >&2
        exit 1
    fi
fi

if (( run_test && !(check && archive) )); then
    # From a neutral folder, with nothing of the source tree on the path: the bundle stands alone.
    (cd "${TMPDIR:-/tmp}" && env -u PYTHONPATH QT_QPA_PLATFORM=offscreen nice -n 10 "$exe" --self-test)
fi

if (( archive )); then
    # The archive's top folder carries the version: rename the folder for the packing only.
    mv "$folder" "$src/dist/$name"
    trap 'mv "$src/dist/$name" "$folder" 2>/dev/null || true' ERR
    TIMEFORMAT="build.sh: packed in %0R s (%0U s of CPU)"
    time if [[ "$os" == windows ]]; then
        out="$src/dist/$name.zip"
        nice -n 10 "$python" - "$src/dist" "$name" "$out.part" <<'PY'
import os, sys, zipfile
root, name, out = sys.argv[1:]
with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
    for folder, _dirs, files in os.walk(os.path.join(root, name)):
        for f in sorted(files):
            path = os.path.join(folder, f)
            zf.write(path, os.path.relpath(path, root))
PY
    else
        out="$src/dist/$name.tar.xz"
        (cd "$src/dist" && tar --owner=0 --group=0 --numeric-owner -cf - "$name") |
            nice -n 10 xz -T"$xz_threads" -"$xz_preset" > "$out.part"
    fi
    mv "$out.part" "$out"
    trap - ERR
    mv "$src/dist/$name" "$folder"
    "$python" - "$out" <<'PY'
import hashlib, os, sys
path = sys.argv[1]
h = hashlib.sha256()
with open(path, "rb") as f:
    for block in iter(lambda: f.read(1 << 20), b""):
        h.update(block)
with open(path + ".sha256", "w", encoding="ascii", newline="\n") as f:
    f.write(f"{h.hexdigest()}  {os.path.basename(path)}\n")  # `sha256sum -c` reads this
PY
    archive_mib=$(( $(wc -c < "$out") / 1048576 ))
    echo "build.sh: $out is $archive_mib MiB ($(wc -c < "$out") bytes), checksum in $(basename "$out").sha256"
    if (( archive_mib > max_archive_mib )); then
        echo "build.sh: FAILED: the archive is $archive_mib MiB, over the budget of $max_archive_mib MiB" >&2
        exit 1
    fi
fi

if (( check )); then
    mkdir -p "$root/build"
    rm -rf "$root/build/check-dist"
    mkdir -p "$root/build/check-dist"
    if (( archive )); then
        # What a user downloads, unpacked elsewhere and run with nothing of this machine's setup:
        # no variables but an empty HOME and a PATH without Python (an empty folder).
        mv "$out" "$out.sha256" "$root/build/check-dist/"
        out="$root/build/check-dist/$(basename "$out")"
        (cd "$root/build/check-dist" && sha256sum -c "$(basename "$out").sha256")
        mkdir -p "$tmp/home" "$tmp/no-python" "$root/build/check-dist/unpacked"
        case "$out" in
            *.zip) "$python" -m zipfile -e "$out" "$root/build/check-dist/unpacked" ;;
            *) tar -xJf "$out" -C "$root/build/check-dist/unpacked" ;;
        esac
        unpacked="$root/build/check-dist/unpacked/$name"
        exe="$unpacked/vfi-desktop"
        [[ -f "$exe.exe" ]] && exe="$exe.exe"
        if (( run_test )); then
            echo "build.sh: self-test of the unpacked archive in a clean environment (env -i)"
            (cd "$tmp/home" && nice -n 10 env -i HOME="$tmp/home" PATH="$tmp/no-python" "$exe" --self-test)
        fi
        echo "build.sh: the checked archive and its unpacked folder are in $root/build/check-dist/"
        echo "build.sh: start-up from it: $python packaging/measure.py $unpacked --runs 5"
    else
        mv "$src/dist" "$root/build/check-dist/dist"
        echo "build.sh: the checked bundle is kept in $root/build/check-dist/dist/"
    fi
fi
