"""Entry script of the PyInstaller bundle (the `vfi-desktop` executable)."""

import multiprocessing

if __name__ == "__main__":
    # First thing in a frozen app: a helper process started by torch or multiprocessing must run
    # its own task, not a second copy of the application.
    multiprocessing.freeze_support()
    from vfi_desktop.cli import main

    raise SystemExit(main())
