"""Writing files safely: under a temporary name, renamed into place only when complete."""

from __future__ import annotations

import contextlib
import errno
import os
from pathlib import Path
from typing import Iterator

from .errors import VfiError


def io_error(path: Path, exc: OSError) -> VfiError:
    reason = "disk full" if exc.errno == errno.ENOSPC else (exc.strerror or str(exc))
    return VfiError(f"cannot write {path}: {reason}")


def temp_path(final: Path) -> Path:
    """A sibling name that no one mistakes for the result (and that keeps the suffix for muxers)."""
    return final.with_name(f".{final.stem}.part{final.suffix}")


@contextlib.contextmanager
def atomic_output_path(final: Path) -> Iterator[Path]:
    """Yield a temporary path next to `final`; rename to `final` only if the block succeeds."""
    final = Path(final)
    check_writable_dir(final.parent)
    tmp = temp_path(final)
    try:
        yield tmp
        os.replace(tmp, final)
    except OSError as exc:
        discard(tmp)
        raise io_error(final, exc) from None
    except BaseException:
        discard(tmp)
        raise


def discard(tmp: Path) -> None:
    """Remove a temporary file if it is there; never raise: the error that led here is the one
    to report."""
    with contextlib.suppress(OSError):
        tmp.unlink(missing_ok=True)


def check_writable_dir(folder: Path) -> None:
    folder = Path(folder) if str(folder) else Path(".")
    if folder.exists() and not folder.is_dir():
        raise VfiError(f"cannot write to {folder}: it is a file, not a folder")
    if not folder.exists():
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise io_error(folder, exc) from None
    if not os.access(folder, os.W_OK):
        raise VfiError(f"cannot write to {folder}: permission denied")
