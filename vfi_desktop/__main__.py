import multiprocessing

if __name__ == "__main__":
    # First thing in a frozen app: torch / DataLoader may spawn helper processes.
    multiprocessing.freeze_support()
    from vfi_desktop.cli import main

    raise SystemExit(main())
