#!/usr/bin/env bash
# Install a built bundle for the current user: the folder to ~/.local/opt/vfi-desktop, a
# `vfi-desktop` command in ~/.local/bin, the desktop entry and the icon (freedesktop locations).
#   packaging/linux/install.sh [dist/vfi-desktop]          install
#   packaging/linux/install.sh --uninstall                  remove all of it
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
data="${XDG_DATA_HOME:-$HOME/.local/share}"
opt="$HOME/.local/opt/vfi-desktop"
bin="$HOME/.local/bin/vfi-desktop"
entry="$data/applications/vfi-desktop.desktop"
icon_svg="$data/icons/hicolor/scalable/apps/vfi-desktop.svg"
icon_png="$data/icons/hicolor/256x256/apps/vfi-desktop.png"

if [[ "${1:-}" == "--uninstall" ]]; then
    rm -rf "$opt" "$bin" "$entry" "$icon_svg" "$icon_png"
    echo "removed vfi-desktop"
    exit 0
fi
bundle="${1:-$root/dist/vfi-desktop}"
[[ -x "$bundle/vfi-desktop" ]] || { echo "install.sh: no bundle at $bundle (run packaging/build.sh)" >&2; exit 2; }

mkdir -p "$(dirname "$opt")" "$(dirname "$bin")" "$(dirname "$entry")" "$(dirname "$icon_svg")" "$(dirname "$icon_png")"
rm -rf "$opt"
cp -a "$bundle" "$opt"
ln -sfn "$opt/vfi-desktop" "$bin"
cp "$root/resources/icons/app.svg" "$icon_svg"
cp "$root/resources/icons/app.png" "$icon_png"
# Exec with the absolute path: ~/.local/bin is not on every desktop session's PATH
sed -e "s|^Exec=vfi-desktop|Exec=$opt/vfi-desktop|" -e "s|^TryExec=vfi-desktop|TryExec=$opt/vfi-desktop|" \
    "$here/vfi-desktop.desktop" > "$entry"
command -v update-desktop-database >/dev/null && update-desktop-database -q "$data/applications" || true
command -v gtk-update-icon-cache >/dev/null && gtk-update-icon-cache -q -t "$data/icons/hicolor" || true
echo "installed: $opt (command: $bin, menu entry: $entry)"
