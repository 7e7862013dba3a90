"""The desktop application (PySide6). All Qt code lives in this package; the core never imports it."""
