"""The command line: interpolate, pair, bench, train; one-line errors with a non-zero status."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest
from synthetic import moving_square, write_pngs, write_video

from vfi_desktop.cli import main
from vfi_desktop.core.video_io import open_source, read_image


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return write_video(tmp_path_factory.mktemp("cli") / "c.mp4", moving_square(10, 64, 80), fps=10)


def test_interpolate_factor_and_fps(clip, tmp_path, capsys):
    assert main(["interpolate", str(clip), "-o", str(tmp_path / "x2.mp4"), "--factor", "2", "--method", "flow"]) == 0
    assert main(["interpolate", str(clip), "-o", str(tmp_path / "f60.mp4"), "--fps", "60", "--method", "blend", "--range", "2:8"]) == 0
    with open_source(tmp_path / "x2.mp4") as a, open_source(tmp_path / "f60.mp4") as b:
        assert a.info.frame_count == 20 and b.info.frame_count == 36
    err = capsys.readouterr().err
    assert "wrote" in err and "export [" in err


def test_pair(tmp_path):
    folder = write_pngs(tmp_path / "p", moving_square(2, 33, 47))
    out = tmp_path / "mid.png"
    assert main(["pair", str(folder / "frame0.png"), str(folder / "frame1.png"), "-o", str(out), "--t", "0.25", "-q"]) == 0
    assert read_image(out).shape == (33, 47, 3)


@pytest.mark.parametrize(
    "args,needle",
    [
        (["interpolate", "missing.mp4", "-o", "o.mp4", "--factor", "2"], "no such file"),
        (["interpolate", "{clip}", "-o", "o.mp4"], "exactly one of"),
        (["interpolate", "{clip}", "-o", "o.mp4", "--factor", "2", "--weights", "{bad}"], "not a valid weights file"),
        (["interpolate", "{clip}", "-o", "o.mp4", "--factor", "2", "--range", "5"], "--range"),
        (["pair", "{bad}", "{bad}", "-o", "m.png"], "not a readable image"),
        (["pair", "missing.png", "{bad}", "-o", "m.png"], "no such file"),
        (["pair", "{bad}", "{bad}", "-o", "m.xyz"], "unsupported image type"),
        (["interpolate", "{clip}", "-o", "{clip}", "--factor", "2"], "would replace the clip"),
        (["bench", "{clip}", "--weights", "nonsense"], "METHOD=FILE"),
        (["bench", "{clip}", "--gaps", "1"], "gaps must be 2 or more"),
        (["bench", "{clip}", "--gaps", "500", "--methods", "blend"], "no clip has a window at gap 500"),
        (["train", "--data", "{clip}", "--steps", "0", "--out", "{tmp}/w.safetensors"], "steps must be at least 1"),
        (["train", "--data", "{clip}", "--crop", "100", "--out", "{tmp}/w.safetensors"], "multiple of 64"),
        (["train", "--data", "{clip}", "--lr", "-1", "--out", "{tmp}/w.safetensors"], "learning rate"),
        (["train", "--data", "{clip}", "--holdout", "-0.1", "--out", "{tmp}/w.safetensors"], "--holdout"),
        (["train", "--data", "{clip}", "--minutes", "-1", "--out", "{tmp}/w.safetensors"], "time limit"),
        (["train", "--data", "{clip}", "--max-gap", "1", "--out", "{tmp}/w.safetensors"], "frame gap"),
        (["train", "--data", "{clip}", "--out", "{bad}/w.safetensors"], "not a folder"),
    ],
)
def test_errors_are_one_line_with_status_2(clip, tmp_path, capsys, args, needle):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"garbage")
    argv = [a.format(clip=clip, bad=bad, tmp=tmp_path) for a in args]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("vfi-desktop: error:") and needle in err[-1]
    assert not any("Traceback" in line for line in err)


def test_real_process_exit_code_and_no_traceback(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "vfi_desktop", "interpolate", str(tmp_path / "nope.avi"), "-o", str(tmp_path / "o.mp4"), "--factor", "2"],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "no such file" in proc.stderr


def test_bench_prints_every_method_side_by_side(clip, tmp_path, capsys):
    out_json = tmp_path / "b.json"
    argv = ["bench", str(clip), "--methods", "blend", "dis", "flow", "--gaps", "2", "4", "--max-windows", "3", "--repeats", "1",
            "--json", str(out_json)]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "| blend |" in text and "| dis |" in text and "| flow |" in text
    assert "PSNR g2" in text and "PSNR g4" in text and "vs dis g4" in text and "CPU:" in text
    data = json.loads(out_json.read_text())
    flow, blend, dis = (data["methods"][m] for m in ("flow", "blend", "dis"))
    assert flow["g2"]["psnr"] > blend["g2"]["psnr"] and dis["g2"]["psnr"] > blend["g2"]["psnr"]
    # gap 4 scores every frame between the inputs: 3 per window
    clip_name = next(iter(flow["per_clip"]))
    assert flow["per_clip"][clip_name]["g4"]["n"] == 3 * 3 and flow["per_clip"][clip_name]["g2"]["n"] == 3
    assert flow["ms_720p"] > 0 and flow["ms_720p_runs"] >= 1
    assert "AVX" in data["cpu"] or "?" in data["cpu"]


def test_train_command_writes_weights(tmp_path, capsys):
    clip = write_video(tmp_path / "t.mp4", moving_square(14, 96, 96, step=3), fps=10)
    out = tmp_path / "w.safetensors"
    argv = ["train", "--data", str(clip), "--holdout", "0.3", "--steps", "3", "--batch", "2", "--crop", "64", "--val-every", "2", "--val-triplets", "2", "--out", str(out)]
    assert main(argv) == 0
    from vfi_desktop.model.weights import read_metadata

    meta = read_metadata(out)
    assert meta["arch"] == "fusion_unet" and meta["info"]["holdout"] == 0.3
    assert (tmp_path / "w.ckpt").exists()
    assert "validation PSNR" in capsys.readouterr().err


def test_train_preset_fine_tunes_the_bundled_weights(tmp_path, capsys):
    # the Quick preset (shortened by explicit options): held-out 20%, bundled start, adapt crops
    clip = write_video(tmp_path / "t.mp4", moving_square(16, 96, 96, step=3), fps=10)
    out = tmp_path / "w.safetensors"
    argv = ["train", "--preset", "quick", "--data", str(clip), "--steps", "3", "--val-every", "2", "--val-triplets", "1", "--out", str(out)]
    assert main(argv) == 0
    from vfi_desktop.model.weights import read_metadata

    info = read_metadata(out)["info"]
    assert info["init"] == "unet.safetensors" and info["holdout"] == 0.2 and info["preset"] == "quick"
    err = capsys.readouterr().err
    assert "preset quick: --steps 3 --minutes 10 --lr 0.0003 --crop 192 --batch 4" in err
    assert "crop 192 is larger than the smallest clip (96 px): using 64" in err  # --augment adapt
    assert "validation PSNR" in err


def test_unknown_preset_is_one_line_before_any_work(tmp_path, capsys):
    # the clip does not exist: the preset is checked before anything is read
    argv = ["train", "--preset", "fast", "--data", str(tmp_path / "missing.mp4"), "--out", str(tmp_path / "w.safetensors")]
    assert main(argv) == 2
    assert capsys.readouterr().err.strip().splitlines() == ["vfi-desktop: error: unknown preset 'fast': choose quick or thorough"]


def test_train_help_says_options_override_the_preset(capsys):
    from vfi_desktop.core.finetune import PRESETS

    with pytest.raises(SystemExit):
        main(["train", "--help"])
    text = " ".join(capsys.readouterr().out.split())  # argparse wraps lines
    assert "--preset {quick,thorough}" in text and "Options given explicitly override the preset's values" in text
    for settings in PRESETS.values():
        assert settings.describe() in text


def test_fine_tuning_crops_a_small_clip_at_its_own_scale(tmp_path, capsys, monkeypatch):
    # 96 px frames, crop 192 asked: "adapt" trains on 64 px crops instead of enlarging the clip.
    clip = write_video(tmp_path / "t.mp4", moving_square(10, 96, 128, step=3), fps=10)
    out = tmp_path / "w.safetensors"
    argv = ["train", "--data", str(clip), "--augment", "adapt", "--max-gap", "4", "--steps", "2", "--batch", "1", "--crop", "192", "--out", str(out)]
    assert main(argv) == 0
    assert "crop 192 is larger than the smallest clip (96 px): using 64" in capsys.readouterr().err
    assert out.exists()
    # the panel's --events run gets the same news as an event (an empty stdin: the supervisor is
    # gone at once, so the run stops cleanly right after it starts)
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    assert main(argv + ["--events"]) == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    assert {"event": "note", "message": "crop 192 is larger than the smallest clip (96 px): using 64"} in events
