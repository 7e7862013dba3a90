"""Many files at once, and the checks made before any work (output folder, disk room, codec, input)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections import namedtuple
from pathlib import Path

import av
import pytest
from synthetic import moving_square, write_pngs, write_video

from vfi_desktop import api
from vfi_desktop.cli import main
from vfi_desktop.core import preflight, video_io
from vfi_desktop.core.batch import ExportJob, batch_outputs, export_many, format_like
from vfi_desktop.core.errors import VfiError
from vfi_desktop.core.export import ExportSettings
from vfi_desktop.core.preflight import check_export
from vfi_desktop.core.video_io import open_source


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """A video, a broken file and a folder of stills."""
    root = tmp_path_factory.mktemp("many")
    a = write_video(root / "A.mp4", moving_square(6, 32, 48), fps=10)
    broken = root / "B.mov"
    broken.write_bytes(b"not a movie at all" * 100)
    c = write_pngs(root / "C", moving_square(5, 32, 48, seed=4))
    return a, broken, c


@pytest.fixture
def no_decoding(monkeypatch):
    """Fail the test if any frame is decoded or any input opened."""

    def refuse(*args, **kwargs):
        raise AssertionError("the input was opened or decoded")

    monkeypatch.setattr(video_io.VideoFileSource, "__init__", refuse)
    monkeypatch.setattr(video_io.ImageSequenceSource, "__init__", refuse)


def test_three_inputs_one_broken_to_one_folder(inputs, tmp_path, capsys):
    a, broken, c = inputs
    out = tmp_path / "out"
    code = main(["interpolate", str(a), str(broken), str(c), "-o", f"{out}/", "--factor", "2", "--method", "blend"])
    err = capsys.readouterr().err
    assert code == 2
    assert sorted(p.name for p in out.iterdir()) == ["A.mp4", "C.mp4"]  # the first input's container for all
    with open_source(out / "A.mp4") as r1, open_source(out / "C.mp4") as r2:
        assert r1.info.frame_count == 12 and r2.info.frame_count == 10
    assert "3 inputs: 2 done, 1 failed" in err
    assert "FAILED  B.mov: not a video, or the file is damaged" in err
    assert err.strip().splitlines()[-1] == "vfi-desktop: error: 1 of 3 inputs failed: B.mov"
    assert "Traceback" not in err


def test_format_flag_and_frames_folders(inputs, tmp_path, capsys):
    a, _broken, c = inputs
    out = tmp_path / "frames"
    assert main(["interpolate", str(a), str(c), "-o", str(out), "--format", "frames", "--frames", "jpg", "--slowmo", "2",
                 "--method", "blend", "-q"]) == 0
    assert len(list((out / "A").glob("*.jpg"))) == 12 and len(list((out / "C").glob("*.jpg"))) == 10
    # --format with one input: -o is the folder
    assert main(["interpolate", str(a), "-o", str(tmp_path / "one"), "--format", "mkv", "--factor", "2", "--method", "blend", "-q"]) == 0
    assert (tmp_path / "one" / "A.mkv").is_file()


def test_output_names_never_repeat_or_replace_an_input(tmp_path):
    (tmp_path / "x").mkdir()
    inputs = [tmp_path / "a.mp4", tmp_path / "sub" / "a.mov", tmp_path / "x", tmp_path / "b.avi"]
    outs = batch_outputs(inputs, tmp_path, None)
    assert [p.name for p in outs] == ["a_2.mp4", "a_3.mp4", "x.mp4", "b.mp4"]  # a.mp4 is an input
    assert [p.name for p in batch_outputs(inputs[:1], tmp_path / "o", "frames", tag="_slowmo")] == ["a_slowmo"]
    assert format_like(tmp_path / "x") == "frames" and format_like(Path("c.webm")) == "webm" and format_like(Path("c.avi")) == "mp4"
    with pytest.raises(VfiError, match="--format is one of"):
        batch_outputs(inputs, tmp_path, "avi")


def test_output_problems_stop_the_batch_before_any_work(inputs, tmp_path, no_decoding):
    a, _broken, c = inputs
    jobs = [ExportJob(a, Path("/proc/out/A.mp4")), ExportJob(c, Path("/proc/out/C.mp4"))]
    with pytest.raises(VfiError, match="cannot write to /proc"):
        export_many(jobs, ExportSettings(factor=2), lambda s: api.load_interpolator("blend"))


@pytest.mark.parametrize(
    "output,needle",
    [
        ("/proc/x.mp4", "cannot write to /proc: files cannot be created there"),  # unwritable, even for root
        ("/proc/no/such/folder/x.mp4", "cannot write to /proc"),  # a missing parent that cannot be made
        ("{tmp}/notes.txt/x.mp4", "notes.txt is a file, not a folder"),
        ("{tmp}/x.webm", "cannot hold H.265"),
    ],
)
def test_unwritable_outputs_fail_at_once_with_one_line_and_nothing_decoded(inputs, tmp_path, capsys, no_decoding, output, needle):
    (tmp_path / "notes.txt").write_text("the user's file")
    t0 = time.perf_counter()
    code = main(["interpolate", str(inputs[0]), "-o", output.format(tmp=tmp_path), "--slowmo", "4", "--codec", "h265" if "webm" in output else "h264"])
    elapsed = time.perf_counter() - t0
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and elapsed < 2.0
    assert len(err) == 1 and err[0].startswith("vfi-desktop: error:") and needle in err[0]


def test_a_missing_parent_that_can_be_made_is_made(inputs, tmp_path):
    out = tmp_path / "new" / "deeper" / "x.mp4"
    check_export(out, ExportSettings(factor=2))  # the check itself makes nothing
    assert not (tmp_path / "new").exists()
    assert main(["interpolate", str(inputs[0]), "-o", str(out), "--factor", "2", "--method", "blend", "-q"]) == 0
    assert out.is_file()


def test_real_process_fails_in_under_two_seconds(inputs, tmp_path):
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "vfi_desktop", "interpolate", str(inputs[0]), "-o", "/proc/x.mp4", "--slowmo", "4"],
        capture_output=True, text=True, timeout=60,
    )
    elapsed = time.perf_counter() - t0
    assert proc.returncode == 2 and proc.stderr.strip().count("\n") == 0
    assert "cannot write to /proc" in proc.stderr and "Traceback" not in proc.stderr
    assert elapsed < 4.0  # the budget is 2 s; a busy test machine gets some slack for Python's start-up


def test_not_enough_disk_room_is_caught_before_work(inputs, tmp_path, monkeypatch):
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda p: usage(10**9, 10**9 - 200_000, 200_000))
    with open_source(inputs[0]) as src:
        with pytest.raises(VfiError, match=r"not enough room in .*: the export needs about .*, 200.0 kB free"):
            check_export(tmp_path / "big.mkv", ExportSettings(slowmo=64, codec="ffv1"), src.info)  # 384 lossless frames
        pre = check_export(tmp_path / "small.gif", ExportSettings(factor=1), src.info)
    assert pre.frames == 6 and pre.estimated_bytes < 200_000  # a tiny GIF still fits


def test_check_export_reports_what_the_export_will_be(inputs, tmp_path):
    with open_source(inputs[0]) as src:
        pre = check_export(tmp_path / "s.mkv", ExportSettings(slowmo=2.5, codec="ffv1", frame_range=(1, 5)), src.info)
        assert (pre.frames, pre.fps, pre.duration_s) == (10, 10.0, 1.0)
        assert pre.fmt.describe() == "FFV1 (lossless) in MKV (ffv1)"
        with pytest.raises(VfiError, match="frame range 4:99"):
            check_export(tmp_path / "s.mp4", ExportSettings(factor=2, frame_range=(4, 99)), src.info)
    assert not any(p.name.startswith(".vfi-desktop-probe") for p in tmp_path.iterdir())  # the write probe cleans up


def test_api_export_checks_first_then_works(inputs, tmp_path, monkeypatch):
    out = tmp_path / "api.webm"
    result = api.export(inputs[0], out, ExportSettings(slowmo=2), method="blend")
    assert result.frames == 12 and result.fps == pytest.approx(10)
    with av.open(str(out)) as c:
        assert c.streams.video[0].codec_context.name == "vp9"
    monkeypatch.setattr(video_io.VideoFileSource, "__init__", lambda *a, **k: pytest.fail("opened the input"))
    with pytest.raises(VfiError, match="cannot write"):
        api.export(inputs[0], "/proc/y.mp4", ExportSettings(factor=2), method="blend")


@pytest.mark.parametrize(
    "extra,needle",
    [
        (["--factor", "2", "--slowmo-audio", "stretch"], "--slowmo-audio goes with --slowmo N"),
        (["--slowmo", "1"], "slow motion must be more than 1x"),
        (["--slowmo", "2", "--quality", "60"], "quality is 0 (best) .. 51"),
        (["--slowmo", "2", "--codec", "h264", "-o", "{tmp}/x.webm"], "a .webm file cannot hold H.264"),
        (["--slowmo", "2", "--frames", "jpg", "-o", "{tmp}/x.mkv"], "--frames jpg is for a folder"),
    ],
)
def test_interpolate_flag_errors(inputs, tmp_path, capsys, no_decoding, extra, needle):
    extra = [a.format(tmp=tmp_path) for a in extra]
    argv = ["interpolate", str(inputs[0]), *extra, *([] if "-o" in extra else ["-o", str(tmp_path / "o.mp4")])]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("vfi-desktop: error:") and needle in err[0]
