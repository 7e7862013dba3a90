#!/usr/bin/env bash
# Build the packaged app with PyInstaller: dist/vfi-desktop/ (one folder; the executable inside is
# dist/vfi-desktop/vfi-desktop), then run its --self-test.
#
#   packaging/build.sh                build from this checkout, self-test the bundle
#   packaging/build.sh --onefile      one self-extracting file dist/vfi-desktop instead (slower start)
#   packaging/build.sh --check        clone HEAD into a temporary folder, build there, self-test the
#                                     bundle, report size and start-up time (what the README quotes)
#   packaging/build.sh --no-trim      leave PyInstaller's defaults alone (to measure what trimming saves)
#   packaging/build.sh --windowed     no console window (for Windows/macOS releases; no self-test run)
#   packaging/build.sh --no-test      skip the self-test
#
# The Python environment: $PYTHON if set, else .venv/bin/python of this checkout, else python3. It
# needs the app's dependencies from constraints.txt (CPU torch) and PyInstaller (`pip install -e
# ".[package]" -c constraints.txt`). On 2 cores a build takes about 2-4 minutes; it runs niced.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
check=0
run_test=1
spec_args=()
for arg in "$@"; do
    case "$arg" in
        --check) check=1 ;;
        --onefile) spec_args+=(--onefile) ;;
        --no-trim) spec_args+=(--no-trim) ;;
        --windowed) spec_args+=(--windowed); run_test=0 ;;
        --no-test) run_test=0 ;;
        -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
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

if [[ " ${spec_args[*]-} " == *" --onefile "* ]]; then
    exe="$src/dist/vfi-desktop"
    [[ -f "$exe.exe" ]] && exe="$exe.exe"
    size=$(du -sm "$exe" | cut -f1)
    echo "build.sh: $exe is $size MiB"
else
    exe="$src/dist/vfi-desktop/vfi-desktop"
    [[ -f "$exe.exe" ]] && exe="$exe.exe"
    size=$(du -sm "$src/dist/vfi-desktop" | cut -f1)
    echo "build.sh: $src/dist/vfi-desktop/ is $size MiB ($(find "$src/dist/vfi-desktop" -type f | wc -l) files)"
    # the spec refuses CUDA libraries already; this checks what really landed in the folder
    "$python" - "$src/dist/vfi-desktop" "$here" <<'PY'
import sys
from pathlib import Path
sys.path.insert(0, sys.argv[2])
import bundle_rules
found = [str(p) for p in Path(sys.argv[1]).rglob("*") if bundle_rules.CUDA_LIBRARY.search(p.as_posix())]
if found:
    sys.exit("build.sh: FAILED: CUDA libraries in the bundle: " + ", ".join(found[:5]))
print("build.sh: no CUDA libraries in the bundle")
PY
fi

if (( run_test )); then
    # From a neutral folder, with nothing of the source tree on the path: the bundle stands alone.
    (cd "${TMPDIR:-/tmp}" && env -u PYTHONPATH QT_QPA_PLATFORM=offscreen nice -n 10 "$exe" --self-test)
fi

if (( check )); then
    mkdir -p "$root/build"
    rm -rf "$root/build/check-dist"
    mv "$src/dist" "$root/build/check-dist"
    echo "build.sh: the checked bundle is kept in $root/build/check-dist/"
fi
