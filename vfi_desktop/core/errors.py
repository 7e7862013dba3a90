"""Errors a user can cause. Their message is one line, shown as-is by the GUI and the CLI."""


class VfiError(Exception):
    """A problem with the user's input or environment (bad file, full disk, ...), not a bug."""


class Cancelled(Exception):
    """A long job was cancelled by the user."""
