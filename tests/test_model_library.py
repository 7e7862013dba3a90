"""The user's model library: list with cards, save, rename, delete; damaged files skipped and reported."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vfi_desktop.core.errors import VfiError
from vfi_desktop.model.library import ModelCard, ModelLibrary, file_stem
from vfi_desktop.model.network import build
from vfi_desktop.model.weights import load_model, save_weights


@pytest.fixture(scope="module")
def trained_weights(tmp_path_factory) -> Path:
    """A real weights file as the training engine writes it (info embedded)."""
    path = tmp_path_factory.mktemp("run") / "out.safetensors"
    info = {"data": ["puppet.mp4"], "steps": 120, "start_psnr": 30.0, "val_psnr": 30.7, "train_seconds": 90.0}
    return save_weights(build("fusion_unet"), path, info)


def card(name: str) -> ModelCard:
    return ModelCard(name=name, source_clips=["puppet.mp4"], steps=120, train_seconds=90.0, psnr_before=30.0, psnr_after=30.7)


def test_save_lists_model_with_card(tmp_path, trained_weights):
    lib = ModelLibrary(tmp_path / "models")
    assert lib.list().models == []  # a missing folder is an empty library
    saved = lib.save(trained_weights, card("My puppet #2"))
    assert saved.weights.name == "My-puppet-2.safetensors"
    listing = lib.list()
    assert listing.problems == []
    [m] = listing.models
    assert m.name == "My puppet #2" and m.note == ""
    assert m.card.gain_db == pytest.approx(0.7)
    assert m.card.created  # stamped on save
    assert "+0.70 dB" in m.card.summary() and "puppet.mp4" in m.card.summary()
    model, _ = load_model(m.weights)  # the copy is a loadable weights file
    assert model.arch == "fusion_unet"


def test_names_are_unique_and_checked(tmp_path, trained_weights):
    lib = ModelLibrary(tmp_path)
    lib.save(trained_weights, card("cup"))
    with pytest.raises(VfiError, match="already exists"):
        lib.save(trained_weights, card("CUP"))
    for bad in ("", "   ", "a/b", "x" * 61):
        with pytest.raises(VfiError):
            lib.save(trained_weights, card(bad))
    # Two names with the same file stem get distinct files.
    other = lib.save(trained_weights, card("cup!"))
    assert other.weights.name == "cup-2.safetensors"
    assert sorted(m.name for m in lib.list().models) == ["cup", "cup!"]


def test_rename_moves_files_and_keeps_card(tmp_path, trained_weights):
    lib = ModelLibrary(tmp_path)
    lib.save(trained_weights, card("first"))
    lib.save(trained_weights, card("second"))
    renamed = lib.rename("first", "Puppet, take 3")
    assert renamed.weights.exists() and not (tmp_path / "first.safetensors").exists()
    assert not (tmp_path / "first.json").exists()
    assert json.loads(renamed.weights.with_suffix(".json").read_text())["name"] == "Puppet, take 3"
    assert sorted(m.name for m in lib.list().models) == ["Puppet, take 3", "second"]
    with pytest.raises(VfiError, match="already exists"):
        lib.rename("second", "puppet, TAKE 3")
    with pytest.raises(VfiError, match="no model named"):
        lib.rename("nope", "x")
    assert lib.rename("second", "Second").name == "Second"  # a change of case only


def test_delete_removes_weights_and_card(tmp_path, trained_weights):
    lib = ModelLibrary(tmp_path)
    m = lib.save(trained_weights, card("gone"))
    lib.delete("gone")
    assert not m.weights.exists() and not m.weights.with_suffix(".json").exists()
    assert lib.list().models == []
    with pytest.raises(VfiError):
        lib.delete("gone")


def test_damaged_files_are_reported_and_skipped(tmp_path, trained_weights):
    lib = ModelLibrary(tmp_path)
    lib.save(trained_weights, card("good"))
    (tmp_path / "garbage.safetensors").write_bytes(b"\x00not a safetensors file at all")
    truncated = tmp_path / "truncated.safetensors"
    truncated.write_bytes(trained_weights.read_bytes()[:5000])
    (tmp_path / "stray.json").write_text("{ not json")  # an orphan card: ignored
    listing = lib.list()
    assert [m.name for m in listing.models] == ["good"]
    assert len(listing.problems) == 2
    assert any("garbage.safetensors" in p for p in listing.problems)
    assert any("truncated.safetensors" in p for p in listing.problems)
    assert all("\n" not in p for p in listing.problems)  # one line each
    with pytest.raises(VfiError):
        lib.save(tmp_path / "garbage.safetensors", card("from garbage"))


def test_missing_or_damaged_card_falls_back_to_weights_info(tmp_path, trained_weights):
    lib = ModelLibrary(tmp_path)
    a = lib.save(trained_weights, card("a"))
    b = lib.save(trained_weights, card("b"))
    a.weights.with_suffix(".json").unlink()
    b.weights.with_suffix(".json").write_text('{"name": 3')
    by_name = {m.name: m for m in lib.list().models}
    assert set(by_name) == {"a", "b"}  # the stem stands in for the name
    assert "missing" in by_name["a"].note and "damaged" in by_name["b"].note
    assert by_name["b"].card.steps == 120 and by_name["b"].card.psnr_after == pytest.approx(30.7)
    assert by_name["a"].card.source_clips == ["puppet.mp4"]


def test_file_stem():
    assert file_stem("  My clip (v2)  ") == "My-clip-v2"
    assert file_stem("///") == "model"
