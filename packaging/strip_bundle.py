"""Strip the symbol tables and debug information off the shared libraries of a built bundle.

    python packaging/strip_bundle.py dist/vfi-desktop        (Linux; build.sh runs it)

The dynamic linker only reads `.dynsym`, which `strip --strip-unneeded` keeps (the same call
Debian uses for shared libraries); what goes is `.symtab` and `.debug_*`, about 85 MiB of
libtorch_cpu.so alone and the debug information of a self-built Python. Left alone:
- the executable: PyInstaller appends its archive to it, and strip would cut that off;
- libraries repaired by auditwheel (an RPATH into a `*.libs` folder, inside one, or named
  `libfoo-1a2b3c4d.so` as auditwheel names the libraries it copies into a wheel): patchelf
  rewrote their layout, and stripping such files afterwards is known to corrupt them (they come
  stripped anyway);
- anything that is not an ELF shared object, and files already without symbols.
The bundle's --self-test runs after this step.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ELF_MAGIC = b"\x7fELF"
SECTION = re.compile(r"^\s*\[\s*\d+\]\s+(\S+)", re.MULTILINE)
GRAFTED = re.compile(r"-[0-9a-f]{8}\.so(\.|$)")  # auditwheel's name for a library it copied into a wheel
RPATH = re.compile(r"\((?:RPATH|RUNPATH)\)\s+Library (?:rpath|runpath): \[([^\]]*)\]")


def is_elf(path: Path) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read(4) == ELF_MAGIC
    except OSError:
        return False


def should_strip(rel: str, sections: set[str], rpath: str) -> bool:
    """Whether a bundled ELF file (its path inside the bundle, '/' separators; its section names;
    its RPATH/RUNPATH) gets stripped."""
    if "/" not in rel:  # the executable (and nothing else lives at the top)
        return False
    if any(part.endswith(".libs") for part in rel.split("/")[:-1]) or ".libs" in rpath or GRAFTED.search(rel):
        return False  # auditwheel-repaired: patchelf'ed
    return ".symtab" in sections or any(s.startswith(".debug") for s in sections)


def elf_facts(path: Path) -> tuple[set[str], str]:
    sections = subprocess.run(["readelf", "-S", "-W", str(path)], capture_output=True, text=True).stdout
    dynamic = subprocess.run(["readelf", "-d", "-W", str(path)], capture_output=True, text=True).stdout
    return set(SECTION.findall(sections)), ":".join(RPATH.findall(dynamic))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("bundle", type=Path)
    parser.add_argument("--dry-run", action="store_true", help="list what would be stripped")
    args = parser.parse_args(argv)
    if not sys.platform.startswith("linux"):
        print("strip_bundle.py: only for Linux builds; nothing stripped")
        return 0
    if not (shutil.which("strip") and shutil.which("readelf")):
        print("strip_bundle.py: no strip/readelf (binutils); nothing stripped")
        return 0
    before = after = 0
    stripped = []
    for path in sorted(args.bundle.rglob("*")):
        if path.is_symlink() or not path.is_file() or not is_elf(path):
            continue
        rel = path.relative_to(args.bundle).as_posix()
        if not should_strip(rel, *elf_facts(path)):
            continue
        size = path.stat().st_size
        before += size
        if not args.dry_run:
            mode = path.stat().st_mode
            subprocess.run(["strip", "--strip-unneeded", str(path)], check=True)
            os.chmod(path, mode)
        after += path.stat().st_size
        stripped.append(rel)
    verb = "would strip" if args.dry_run else "stripped"
    print(f"strip_bundle.py: {verb} {len(stripped)} libraries: {before / 2**20:.0f} -> {after / 2**20:.0f} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
