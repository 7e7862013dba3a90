"""Every test gets an empty self-check cache folder: no test reads or writes the user's cache, and
no test passes on scores an earlier one left behind."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path_factory, monkeypatch):
    folder = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("VFI_DESKTOP_CACHE_DIR", str(folder))
    return folder


@pytest.fixture(autouse=True)
def isolated_data_dir(tmp_path_factory, monkeypatch):
    """Nor the user's fine-tuned models (the Auto method and `check` list them)."""
    folder = tmp_path_factory.mktemp("data")
    monkeypatch.setenv("VFI_DESKTOP_DATA_DIR", str(folder))
    return folder
