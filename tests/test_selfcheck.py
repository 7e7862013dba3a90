"""The self-check (core/selfcheck.py), its cache, `vfi-desktop check` and the Auto method, on
synthetic clips whose motion one method handles better than another."""

from __future__ import annotations

import json
import os
import time

import cv2
import numpy as np
import pytest
from synthetic import moving_square, square_at, texture, write_pngs, write_video

from vfi_desktop.api import load_interpolator, method_id, resolve_auto_method
from vfi_desktop.cli import main
from vfi_desktop.core.auto_method import _clearly_worse, choose_method, sample_frames, spread_order
from vfi_desktop.core.choice import MethodChoice
from vfi_desktop.core.errors import Cancelled
from vfi_desktop.core.export import ExportSettings
from vfi_desktop.core.metrics import psnr
from vfi_desktop.core.progress import CancelToken
from vfi_desktop.core.selfcheck import check_frame, checked_frames, frame_time, self_check
from vfi_desktop.core.selfcheck_cache import SelfCheckCache, default_cache
from vfi_desktop.core.video_io import open_source

H, W = 96, 128


def rotating(n: int, degrees: float = 3.0) -> list[np.ndarray]:
    """A texture turning about the centre: the classical flow follows it; the network, which
    works on the flow at 1/4 resolution, loses detail (about 4 dB behind here)."""
    big = texture(2 * H, 2 * W, 3)
    out = []
    for i in range(n):
        m = cv2.getRotationMatrix2D((W, H), degrees * i, 1.0)
        out.append(cv2.warpAffine(big, m, (2 * W, 2 * H))[H // 2 : H // 2 + H, W // 2 : W // 2 + W].copy())
    return out


def with_cut(n: int, at: int) -> list[np.ndarray]:
    """A moving square, and from frame `at` on another scene (a scene cut between at-1 and at)."""
    first = moving_square(at, H, W, 3, seed=0)
    second = [255 - f for f in moving_square(n - at, H, W, 3, seed=5)]
    return first + second


@pytest.fixture(scope="module")
def square_clip(tmp_path_factory):
    return write_video(tmp_path_factory.mktemp("sc") / "square.mp4", moving_square(14, H, W, 3), fps=24)


def dissolve(n: int) -> list[np.ndarray]:
    """A cross-dissolve between two shots: a cross-fade rebuilds it exactly, motion methods look
    for motion that is not there (about 4 dB behind, counting the cap)."""
    a, b = texture(H, W, 11).astype(np.float32), texture(H, W, 12).astype(np.float32)
    return [np.clip((1 - w) * a + w * b + 0.5, 0, 255).astype(np.uint8) for w in np.linspace(0, 1, n)]


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    """Lossless (PNG folders): H.264 would blur away much of what the methods differ on."""
    root = tmp_path_factory.mktemp("sc")
    return {
        "rotating": write_pngs(root / "rotating", rotating(12)),
        "dissolve": write_pngs(root / "dissolve", dissolve(12)),
        "square": write_pngs(root / "square", moving_square(12, H, W, 3)),
        "fast square": write_pngs(root / "fast", moving_square(12, H, W, 8)),
        "crossing": write_pngs(root / "crossing", crossing(12)),
    }


def crossing(n: int) -> list[np.ndarray]:
    """Two squares passing each other: occlusion, where a learned fusion can beat the classical one."""
    bg, a, b = texture(H, W, 0), texture(H // 3, H // 3, 1), texture(H // 3, H // 3, 7)
    return [square_at(square_at(bg, a, 10 + 6 * i), b, W - 40 - 6 * i) for i in range(n)]


def run_check(capsys, clip, *args) -> tuple[str, dict]:
    out_json = clip.parent / f"{clip.name}.{time.perf_counter_ns()}.json"
    assert main(["check", str(clip), "-q", "--json", str(out_json), *args]) == 0
    return capsys.readouterr().out, json.loads(out_json.read_text())


def true_mean_psnr(clip, method: str) -> float:
    """Frame n from n-1 and n+1 by hand, without the self-check code (each frame at most 50 dB)."""
    interp = load_interpolator(method)
    with open_source(clip) as src:
        frames, ts = [src.read(i) for i in range(len(src))], src.info.timestamps
    values = []
    for i in range(1, len(frames) - 1):
        t = (ts[i] - ts[i - 1]) / (ts[i + 1] - ts[i - 1])
        values.append(psnr(interp.interpolate(frames[i - 1], frames[i + 1], t), frames[i]))
    return float(np.mean(np.minimum(values, 50.0)))


@pytest.mark.parametrize(
    "clip_name,methods",
    [
        ("square", ("flow", "blend")),  # motion: the flow method far ahead
        ("dissolve", ("blend", "flow")),  # a dissolve: the cross-fade far ahead
        ("rotating", ("flow", "unet-direct")),  # the flow-free U-Net smears the rotation
    ],
)
def test_check_names_the_better_method(clips, capsys, clip_name, methods):
    """Synthetic motion one method handles better: the two differ by more than 0.3 dB (computed
    here by hand) and `check` names the better one, with the same figures."""
    clip = clips[clip_name]
    truth = {m: true_mean_psnr(clip, m) for m in methods}
    assert truth[methods[0]] - truth[methods[1]] > 0.3, truth
    out, report = run_check(capsys, clip, "--methods", *methods)
    assert report["best"] == methods[0] and f"best on this clip: {methods[0]}" in out
    for m in methods:
        assert report["methods"][m]["psnr"] == pytest.approx(truth[m], abs=1e-6)


def test_check_names_the_better_of_unet_and_flow(clips, capsys):
    """The U-Net against `flow`, on every synthetic motion here where the bundled weights and the
    classical method differ by more than 0.3 dB. (The U-Net starts from the classical flow and
    learns corrections; the weights being retrained may stay within 0.3 dB of it everywhere.)"""
    separated = []
    for name, clip in clips.items():
        truth = {m: true_mean_psnr(clip, m) for m in ("unet", "flow")}
        if abs(truth["unet"] - truth["flow"]) > 0.3:
            separated.append(name)
            _, report = run_check(capsys, clip, "--methods", "unet", "flow")
            assert report["best"] == max(truth, key=truth.get), (name, truth)
    if not separated:
        pytest.skip("the bundled U-Net is within 0.3 dB of flow on every synthetic motion here (see test_check_names_the_better_method)")


def test_check_report_and_json(capsys, square_clip):
    out, report = run_check(capsys, square_clip, "--methods", "flow", "blend", "--range", "2:12", "--every", "2")
    assert report["best"] == "flow" and report["ranking"] == ["flow", "blend"]
    flow = report["methods"]["flow"]
    assert [f[0] for f in flow["frames"]] == [3, 5, 7, 9]  # range 2:12: frames 3..10, every 2nd
    assert flow["psnr"] == pytest.approx(np.mean([min(f[1], 50) for f in flow["frames"]]), abs=1e-3)
    assert flow["psnr"] > report["methods"]["blend"]["psnr"] + 3  # a moving square: flow far ahead
    assert all(0 < f[2] <= 1 for f in flow["frames"])  # SSIM per frame
    assert flow["worst"] and all(a <= b for a, b, _ in flow["worst"])
    for needle in ("flow", "blend", "worst stretches", "best on this clip: flow", "pessimistic"):
        assert needle in out


def test_scene_cuts_are_marked_not_scored(tmp_path, capsys):
    clip = write_video(tmp_path / "cut.mp4", with_cut(16, 8), fps=24)
    _, report = run_check(capsys, clip, "--methods", "flow")
    assert report["cut_frames"] == [7, 8]  # 7 from 6|8 and 8 from 7|9 both straddle the cut
    assert [f[0] for f in report["methods"]["flow"]["frames"]] == [n for n in range(1, 15) if n not in (7, 8)]


def test_per_frame_psnr_is_check_frame(square_clip):
    """The figures per frame are exactly what *Check against real frame* computes."""
    interp = load_interpolator("flow")
    with open_source(square_clip) as src:
        result = self_check(src, interp, every=3, cache=None)
        for s in result.scored:
            c = check_frame(src, s.index, interp)
            assert (s.psnr, s.ssim, s.t) == (c.psnr, c.ssim, c.t)
    assert [s.index for s in result.scores] == [1, 4, 7, 10]


def test_held_frames_count_at_most_50_db(tmp_path):
    """On threes (each picture three times), the middle one of a picture's three is rebuilt
    exactly (100 dB): the mean counts it as 50."""
    frames = [f for f in moving_square(5, H, W, 6) for _ in range(3)]
    folder = write_pngs(tmp_path / "threes", frames)
    with open_source(folder) as src:
        result = self_check(src, load_interpolator("blend"))
    raw = [s.psnr for s in result.scored]
    assert max(raw) == 100.0 and result.mean_psnr == pytest.approx(np.mean(np.minimum(raw, 50)))
    assert result.mean_psnr < np.mean(raw) - 5


def test_frame_time_follows_real_timestamps():
    assert frame_time([0.0, 0.1, 0.2], 1) == pytest.approx(0.5)
    assert frame_time([0.0, 0.1, 0.4], 1) == pytest.approx(0.25)  # variable frame rate


def test_checked_frames_and_errors():
    assert checked_frames(10) == list(range(1, 9))
    assert checked_frames(10, (2, -1), 3) == [3, 6]
    with pytest.raises(Exception, match="at least 3"):
        checked_frames(10, (4, 6))
    with pytest.raises(Exception, match="--every"):
        checked_frames(10, None, 0)


def test_cache_memory_disk_and_invalidation(tmp_path, square_clip):
    interp = load_interpolator("flow")
    cache = SelfCheckCache(tmp_path / "c")
    with open_source(square_clip) as src:
        first = self_check(src, interp, cache=cache)
        assert first.computed == 12 and first.from_cache == 0
        again = self_check(src, interp, cache=cache)  # memory
        assert again.computed == 0 and again.from_cache == 12
        fresh = self_check(src, interp, cache=SelfCheckCache(tmp_path / "c"))  # another process: disk
        assert fresh.computed == 0 and [s.psnr for s in fresh.scores] == [s.psnr for s in first.scores]
        other = self_check(src, load_interpolator("blend"), cache=cache)  # another method: its own entry
        assert other.computed == 12
    # the same clip edited (a new modification time): a new clip
    st = square_clip.stat()
    os.utime(square_clip, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    with open_source(square_clip) as src:
        assert self_check(src, interp, cache=SelfCheckCache(tmp_path / "c")).computed == 12
    # a damaged cache file is a miss, not an error
    for f in (tmp_path / "c").glob("*.json"):
        f.write_text("{not json")
    with open_source(square_clip) as src:
        assert self_check(src, interp, cache=SelfCheckCache(tmp_path / "c")).computed == 12


def test_weights_are_part_of_the_key(tmp_path):
    bundled = method_id(MethodChoice("unet", "unet"))
    assert bundled != method_id(MethodChoice("flow", "flow"))
    from vfi_desktop.paths import bundled_weights

    copy = tmp_path / "mine.safetensors"
    copy.write_bytes(bundled_weights("unet").read_bytes() + b"")
    assert method_id(MethodChoice("mine", "unet", str(copy))) != bundled


class CancelsAfter:
    """The flow method, cancelling the check after `calls` frames (the user pressing Stop)."""

    def __init__(self, calls: int, token: CancelToken) -> None:
        self.inner, self.calls, self.token = load_interpolator("flow"), calls, token
        self.name = "flow"

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def interpolate(self, *args):
        self.calls -= 1
        if self.calls == 0:
            self.token.cancel()
        return self.inner.interpolate(*args)


def test_cancel_keeps_what_was_computed(tmp_path, square_clip):
    cache = SelfCheckCache(tmp_path / "c")
    token = CancelToken()
    with open_source(square_clip) as src:
        with pytest.raises(Cancelled):
            self_check(src, lambda: CancelsAfter(3, token), method_id=_keys(src)[1], cache=cache, cancel=token)
        kept = SelfCheckCache(tmp_path / "c").scores(*_keys(src))  # on disk, as another process sees it
        assert len(kept) == 3
        resumed = self_check(src, load_interpolator("flow"), cache=cache)
    assert resumed.from_cache == 3 and resumed.computed == 9


def _keys(src):
    from vfi_desktop.core.selfcheck_cache import clip_key

    return clip_key(src.info.path, src.info.frame_count), method_id(MethodChoice("flow", "flow"))


def test_cli_check_uses_the_user_cache(capsys, square_clip, isolated_cache):
    run_check(capsys, square_clip, "--methods", "blend")
    assert list((isolated_cache / "selfcheck").glob("*.json"))
    _, report = run_check(capsys, square_clip, "--methods", "blend")
    assert report["methods"]["blend"]["computed"] == 0


@pytest.mark.parametrize(
    "args,needle",
    [
        (["check", "missing.mp4"], "no such file"),
        (["check", "{clip}", "--every", "0"], "--every"),
        (["check", "{clip}", "--methods", "nonsense"], "unknown method 'nonsense'"),
        (["check", "{clip}", "--methods", "nowhere.safetensors"], "no such weights file"),
        (["check", "{clip}", "--range", "4:6"], "at least 3 frames"),
        (["check", "{clip}", "--range", "3:99"], "not valid"),
        (["pair", "{clip}", "{clip}", "-o", "x.png", "--method", "auto"], "invalid choice"),
    ],
)
def test_check_errors(args, needle, square_clip, capsys):
    args = [a.replace("{clip}", str(square_clip)) for a in args]
    try:
        code = main(args)
    except SystemExit as exc:  # argparse
        code = exc.code
    assert code == 2
    assert needle in capsys.readouterr().err


# -- the Auto method ---------------------------------------------------------------------------------


def test_sampling_and_race_order():
    assert sample_frames(list(range(1, 101)), 12) == sorted(set(sample_frames(list(range(1, 101)), 12)))
    assert len(sample_frames(list(range(1, 101)), 12)) == 12 and sample_frames([3, 4], 12) == [3, 4]
    order = spread_order(12)
    assert sorted(order) == list(range(12))
    assert max(order[:3]) - min(order[:3]) >= 6  # the first frames already span the range
    assert _clearly_worse([-5.0, -4.0]) and not _clearly_worse([-0.2, 0.1, -0.1])
    assert _clearly_worse([-1.5, -1.4, -1.6, -1.5])


def test_auto_picks_flow_over_blend_and_drops_blend_early(square_clip):
    loads = []

    def load(choice):
        loads.append(choice.method)
        return load_interpolator(choice.method)

    candidates = [MethodChoice("blend", "blend"), MethodChoice("flow", "flow")]
    with open_source(square_clip) as src:
        interp, report = choose_method(src, candidates, load, cache=SelfCheckCache(disk=False))
    assert interp.name == "flow" and report.picked.method == "flow"
    blend = next(s for s in report.scores if s.choice.method == "blend")
    assert blend.dropped_after == 2 and report.picked_score.frames == 2
    assert "Auto picked flow" in report.summary() and "blend" in report.summary()


@pytest.mark.parametrize("clip_name", ["rotating", "dissolve"])
def test_auto_agrees_with_check(clips, capsys, clip_name):
    """Auto's sample ranks the methods as `check` does on the whole clip: flow on the rotation,
    the cross-fade on the dissolve."""
    methods = ["flow", "blend", "unet-direct"]
    _, check = run_check(capsys, clips[clip_name], "--methods", *methods)
    with open_source(clips[clip_name]) as src:
        _, report = resolve_auto_method(src, candidates=[MethodChoice(m, m) for m in methods], cache=SelfCheckCache(disk=False))
    assert report.picked.label == check["best"] == {"rotating": "flow", "dissolve": "blend"}[clip_name]


def test_auto_budget_is_a_share_of_the_export(square_clip):
    """A tiny export gives a tiny budget: the cheap method tried first uses it up, the U-Net is left
    out untried; a huge export lets the race check every frame (or end it on the evidence)."""
    candidates = [MethodChoice("flow", "flow"), MethodChoice("unet", "unet")]
    with open_source(square_clip) as src:
        _, tiny = choose_method(src, candidates, lambda c: load_interpolator(c.method), export_pairs=1, cache=SelfCheckCache(disk=False))
        _, huge = choose_method(src, candidates, lambda c: load_interpolator(c.method), export_pairs=10**6, cache=SelfCheckCache(disk=False))
    assert tiny.picked.method == "flow" and len(tiny.frames) == 1 and "10% of the export" in tiny.stop_reason
    unet = tiny.scores[1]
    assert unet.dropped_for == "time" and unet.psnr is None and "unet not tried" in tiny.summary()
    assert tiny.estimated_export_s == pytest.approx(tiny.picked_score.seconds + 14 * tiny.scan_s / 14)
    assert len(huge.frames) == 12 or "behind" in huge.stop_reason
    assert all(s.frames == len(huge.frames) for s in huge.scores if s.dropped_after is None)


def test_ties_go_to_the_quicker_method():
    from vfi_desktop.core.selfcheck import TIE_DB, best_method

    assert 0.02 <= TIE_DB <= 0.2  # a tie is a difference nobody sees, not a real one
    near, far = 39.60 + 0.6 * TIE_DB, 39.60 + 2 * TIE_DB
    assert best_method({"unet": near, "flow": 39.60, "blend": 30.0}, {"unet": 0.4, "flow": 0.1, "blend": 0.01}) == "flow"
    assert best_method({"unet": far, "flow": 39.60}, {"unet": 0.4, "flow": 0.1}) == "unet"  # twice the tie is not one
    assert best_method({"a": 30.0, "b": 30.0}, {"a": 0.2}) == "a"  # unmeasured: the slowest


def test_auto_skips_a_method_that_cannot_load(square_clip, tmp_path):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"not weights")
    with open_source(square_clip) as src:
        interp, report = resolve_auto_method(
            src, candidates=[MethodChoice("broken", "unet", str(bad)), MethodChoice("flow", "flow")], cache=SelfCheckCache(disk=False)
        )
    assert interp.name == "flow"
    assert any(s.error and s.choice.label == "broken" for s in report.scores)


def test_auto_reuses_the_cache(square_clip):
    cache = default_cache()
    candidates = [MethodChoice("flow", "flow"), MethodChoice("blend", "blend")]
    with open_source(square_clip) as src:  # no export settings: no time budget, the same race twice
        _, first = resolve_auto_method(src, candidates=candidates, cache=cache)
        t0 = time.perf_counter()
        _, second = resolve_auto_method(src, candidates=candidates, cache=cache)
    assert second.picked == first.picked and second.frames == first.frames
    assert all(s.psnr == f.psnr for s, f in zip(second.scores, first.scores))
    assert time.perf_counter() - t0 < 1.0


def test_cli_interpolate_auto_says_what_it_picked(square_clip, tmp_path, capsys):
    out = tmp_path / "auto.mp4"
    assert main(["interpolate", str(square_clip), "-o", str(out), "--factor", "2", "--method", "auto"]) == 0
    err = capsys.readouterr().err
    assert "Auto picked" in err and "Auto took" in err and "% of the export" in err
    with open_source(out) as clip:
        assert clip.info.frame_count == 28


def test_auto_races_the_users_fine_tuned_models(square_clip, isolated_data_dir):
    """A model saved by the training panel is one more candidate, by its name."""
    from vfi_desktop.api import available_methods
    from vfi_desktop.model.library import ModelCard, ModelLibrary
    from vfi_desktop.paths import bundled_weights

    ModelLibrary(isolated_data_dir / "models").save(bundled_weights("unet"), ModelCard(name="my puppets"))
    methods = available_methods()
    assert [c.label for c in methods][-1] == "my puppets" and methods[-1].weights.endswith(".safetensors")
    with open_source(square_clip) as src:
        _, report = resolve_auto_method(src, cache=SelfCheckCache(disk=False))
    from vfi_desktop.api import METHODS

    assert {s.choice.label for s in report.scores} == {*METHODS, "my puppets"}
    assert "my puppets" in report.summary()


def test_the_export_reuses_autos_scene_scan(tmp_path):
    """Auto scans the export range for cuts once; the export's plan takes that scan (the source's
    memo), and it is the plan the export would make by itself, so the scan is not extra."""
    from vfi_desktop.core.export import make_plan

    clip = write_video(tmp_path / "cut.mp4", with_cut(16, 8), fps=24)
    settings = ExportSettings(factor=2.0, frame_range=(2, 15))
    with open_source(clip) as src:
        _, report = resolve_auto_method(src, settings=settings, candidates=[MethodChoice("flow", "flow"), MethodChoice("blend", "blend")],
                                        cache=SelfCheckCache(disk=False))
        assert report.analysis is not None and report.scan_s > 0
        assert src.memo[("scenes", 2, 15)] is report.analysis
        reused = make_plan(src, settings)
    with open_source(clip) as fresh:
        assert reused == make_plan(fresh, settings) and reused.cuts_crossed == 1
    assert "scene scan served the export too" in report.cost_line(10.0, settings)
    assert "served" not in report.cost_line(10.0, ExportSettings(factor=2.0, scene_cuts=False))  # it would not have scanned
