#!/usr/bin/env bash
# Install vfi-desktop for the current user: no root, no Python, no xdg-utils needed.
#
#   ./install.sh                 install the app folder this script is in (the unpacked download)
#   ./install.sh FOLDER          install another app folder (e.g. dist/vfi-desktop of a build)
#   ./install.sh --uninstall     remove everything install.sh put in place
#
# What it writes (the freedesktop.org locations; XDG_DATA_HOME and XDG_CONFIG_HOME are honoured):
#   ~/.local/opt/vfi-desktop/                          the app (a copy of the folder)
#   ~/.local/bin/vfi-desktop                           the command (a link to the app's executable)
#   ~/.local/share/applications/vfi-desktop.desktop    the menu entry, which opens videos and folders
#   ~/.local/share/icons/hicolor/{scalable,256x256}/apps/vfi-desktop.{svg,png}
#   ~/.config/mimeapps.list                            "Open with vfi-desktop" for videos and folders
#                                                      ([Added Associations]: never the default app)
# Desktops read the entry and mimeapps.list directly; caches (update-desktop-database,
# gtk-update-icon-cache) are refreshed only where they already exist.
set -euo pipefail

APP_ID="vfi-desktop"
DESKTOP_ID="$APP_ID.desktop"
# Video files the app opens (core/video_io.py VIDEO_EXTENSIONS), and folders (image sequences).
MIME_TYPES="video/mp4 video/x-m4v video/quicktime video/x-matroska video/webm video/x-msvideo video/mpeg
video/x-ms-wmv video/x-flv video/mp2t image/gif inode/directory"

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
data="${XDG_DATA_HOME:-$HOME/.local/share}"
config="${XDG_CONFIG_HOME:-$HOME/.config}"
opt="$HOME/.local/opt/$APP_ID"
bin="$HOME/.local/bin/$APP_ID"
entry="$data/applications/$DESKTOP_ID"
icon_svg="$data/icons/hicolor/scalable/apps/$APP_ID.svg"
icon_png="$data/icons/hicolor/256x256/apps/$APP_ID.png"
mimeapps="$config/mimeapps.list"

say() { printf 'install.sh: %s\n' "$*"; }
fail() { printf 'install.sh: error: %s\n' "$*" >&2; exit 2; }

# mimeapps.list, edited with awk (POSIX; mawk and busybox are enough): add or remove our desktop
# id in the [Added Associations] lists of MIME_TYPES, and leave every other line as it was.
edit_mimeapps() {  # add|remove
    local tmp src="$mimeapps"
    mkdir -p "$config"
    [[ -f "$src" ]] || src=/dev/null
    tmp="$(mktemp "$mimeapps.XXXXXX")"
    awk -v mode="$1" -v id="$DESKTOP_ID" -v types="$(echo $MIME_TYPES)" '
        function listed(list,   n, i, items) {
            n = split(list, items, ";")
            for (i = 1; i <= n; i++) if (items[i] == id) return 1
            return 0
        }
        function without(list,   n, i, items, out) {  # keeps whether the list ended with ";"
            n = split(list, items, ";")
            out = ""
            for (i = 1; i <= n; i++) if (items[i] != "" && items[i] != id) out = out (out == "" ? "" : ";") items[i]
            return (out != "" && list ~ /;[ \t]*$/) ? out ";" : out
        }
        function flush(   i) {  # at the end of a section: what it still owes, then its held lines
            if (section == "[Added Associations]") {
                if (mode == "add") {
                    for (i = 1; i <= ntypes; i++) if (!(T[i] in seen)) print T[i] "=" id ";"
                    added = 1
                } else if (!kept) {
                    header = ""  # nothing of the section was kept: drop its header too
                }
            }
            printf "%s%s", header, blanks
            header = ""; blanks = ""
        }
        BEGIN { ntypes = split(types, T, " "); for (i = 1; i <= ntypes; i++) wanted[T[i]] = 1 }
        /^[ \t]*\[/ {
            flush()
            section = $0
            sub(/^[ \t]+/, "", section); sub(/[ \t]+$/, "", section)
            kept = 0
            if (section == "[Added Associations]") { header = $0 "\n"; if (mode == "add") { printf "%s", header; header = "" }; next }
            print; next
        }
        section == "[Added Associations]" && /^[ \t]*$/ { blanks = blanks $0 "\n"; next }  # held: new keys go before them
        section == "[Added Associations]" && index($0, "=") > 0 {
            key = substr($0, 1, index($0, "=") - 1); value = substr($0, index($0, "=") + 1)
            sub(/[ \t]+$/, "", key); sub(/^[ \t]+/, "", value)
            if (mode == "add" && (key in wanted)) {
                seen[key] = 1
                if (!listed(value)) $0 = key "=" value (value == "" || value ~ /;[ \t]*$/ ? "" : ";") id (value == "" ? ";" : (value ~ /;[ \t]*$/ ? ";" : ""))
            }
            if (mode == "remove" && listed(value)) {
                value = without(value)
                if (value == "") next
                $0 = key "=" value
            }
        }
        {
            printf "%s%s", header, blanks; header = ""; blanks = ""
            kept = 1
            print
        }
        END {
            flush()
            if (mode == "add" && !added) { print "[Added Associations]"; section = "[Added Associations]"; flush() }
        }
    ' "$src" > "$tmp" || { rm -f "$tmp"; fail "could not update $mimeapps"; }
    if grep -q "=" "$tmp"; then
        mv "$tmp" "$mimeapps"
    else
        rm -f "$tmp" "$mimeapps"  # nothing but our associations were in it
    fi
}

# Caches that already exist are brought up to date (a stale one would hide the entry or icon);
# none is created: desktops read the files themselves, and uninstall leaves nothing behind.
refresh_caches() {
    if [[ -f "$data/applications/mimeinfo.cache" ]] && command -v update-desktop-database >/dev/null 2>&1; then
        update-desktop-database -q "$data/applications" 2>/dev/null || true
    fi
    if [[ -f "$data/icons/hicolor/icon-theme.cache" ]] && command -v gtk-update-icon-cache >/dev/null 2>&1; then
        gtk-update-icon-cache -q -t -f "$data/icons/hicolor" 2>/dev/null || true
    fi
}

write_entry() {  # the menu entry, with absolute paths: ~/.local/bin is not on every session's PATH
    cat > "$entry.part" <<EOF
[Desktop Entry]
Type=Application
Version=1.4
Name=vfi-desktop
GenericName=Video Frame Interpolation
Comment=Make smoother video: in-between frames from a small neural network you can inspect and retrain
Exec="$opt/$APP_ID" %f
TryExec=$opt/$APP_ID
Icon=$APP_ID
Terminal=false
Categories=AudioVideo;Video;AudioVideoEditing;
Keywords=interpolation;frame rate;slow motion;stop motion;retime;
MimeType=$(printf '%s;' $MIME_TYPES)
StartupNotify=true
StartupWMClass=$APP_ID
EOF
    mv "$entry.part" "$entry"
}

uninstall() {
    [[ -f "$mimeapps" ]] && edit_mimeapps remove
    rm -f "$entry" "$icon_svg" "$icon_png"
    if [[ -L "$bin" && "$(readlink "$bin")" == "$opt/$APP_ID" ]]; then
        rm -f "$bin"
    elif [[ -e "$bin" || -L "$bin" ]]; then
        say "left $bin alone: it is not the link install.sh made"
    fi
    if [[ -d "$opt" ]]; then
        [[ -x "$opt/$APP_ID" ]] || fail "$opt does not look like a vfi-desktop folder; remove it yourself"
        rm -rf "$opt"
    fi
    local d
    for d in "$(dirname "$icon_svg")" "$(dirname "$(dirname "$icon_svg")")" "$(dirname "$icon_png")" \
             "$(dirname "$(dirname "$icon_png")")" "$HOME/.local/opt"; do
        rmdir "$d" 2>/dev/null || true  # only if empty: other apps' icons and folders stay
    done
    refresh_caches
    say "removed vfi-desktop (your settings in ~/.config/vfi-desktop and trained models in ~/.local/share/vfi-desktop stay)"
}

install() {
    local bundle="$1" contents icons
    [[ -x "$bundle/$APP_ID" ]] || fail "no vfi-desktop app in $bundle (give the unpacked folder, or run packaging/build.sh first)"
    bundle="$(cd "$bundle" && pwd -P)"
    contents="$bundle/_internal"  # PyInstaller's folder beside the executable
    [[ -d "$contents" ]] || contents="$bundle"
    icons="$contents/resources/icons"
    [[ -f "$icons/app.svg" && -f "$icons/app.png" ]] || fail "no icons in $icons"

    mkdir -p "$(dirname "$opt")" "$(dirname "$bin")" "$(dirname "$entry")" "$(dirname "$icon_svg")" "$(dirname "$icon_png")"
    if [[ "$bundle" != "$(cd "$(dirname "$opt")" && pwd -P)/$APP_ID" ]]; then  # not run from the installed copy
        rm -rf "$opt.part"
        cp -R "$bundle" "$opt.part" || { rm -rf "$opt.part"; fail "could not copy the app to $opt"; }
        rm -rf "$opt"
        mv "$opt.part" "$opt"
    fi
    cp "$icons/app.svg" "$icon_svg"
    cp "$icons/app.png" "$icon_png"
    write_entry
    edit_mimeapps add
    if [[ ! -e "$bin" || ( -L "$bin" && "$(readlink "$bin")" == "$opt/$APP_ID" ) ]]; then
        ln -sfn "$opt/$APP_ID" "$bin"
    else
        say "left $bin alone (another vfi-desktop is there); the menu entry uses $opt/$APP_ID"
    fi
    refresh_caches
    say "installed vfi-desktop in $opt"
    say "menu entry: $entry; 'Open with vfi-desktop' for videos and folders; command: $bin"
    case ":${PATH:-}:" in
        *":$HOME/.local/bin:"*) ;;
        *) say "$HOME/.local/bin is not on your PATH yet: log out and in again, or add it in ~/.profile" ;;
    esac
}

main() {
    case "${1:-}" in
        --uninstall) uninstall ;;
        -h|--help) sed -n '2,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' ;;
        -*) fail "unknown option $1 (use --uninstall, or give an app folder)" ;;
        "")  # the folder this script is in; from a source checkout, its dist/vfi-desktop
            if [[ -x "$here/$APP_ID" ]]; then install "$here"; else install "$here/../../dist/$APP_ID"; fi ;;
        *) install "$1" ;;
    esac
}

main "$@"
exit
