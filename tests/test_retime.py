"""Retiming plans: which source frames and which t make each output frame."""

from __future__ import annotations

import pytest

from vfi_desktop.core.errors import VfiError
from vfi_desktop.core.export import plan_retime, resolve_range


def cfr(n, fps):
    return [i / fps for i in range(n)]


def test_factor_two_doubles_frames_and_keeps_duration():
    plan = plan_retime(cfr(10, 10), 10, 20, 0, 10)
    assert len(plan.frames) == 20
    assert plan.duration_s == pytest.approx(1.0)
    assert [(f.a, f.b, round(f.t, 3)) for f in plan.frames[:4]] == [(0, 0, 0), (0, 1, 0.5), (1, 1, 0), (1, 2, 0.5)]
    assert plan.frames[-1].is_source  # past the last frame: hold it


def test_twelve_to_thirty_fps_uses_t_other_than_half():
    plan = plan_retime(cfr(12, 12), 12, 30, 0, 12)
    assert len(plan.frames) == 30
    ts = sorted({round(f.t, 3) for f in plan.frames if not f.is_source})
    assert ts == [0.2, 0.4, 0.6, 0.8]


def test_cut_repeats_the_nearest_frame():
    plan = plan_retime(cfr(6, 10), 10, 40, 0, 6, cuts=[2])
    around = [f for f in plan.frames if {f.a, f.b} & {2, 3}]
    assert all(not (f.a == 2 and f.b == 3) for f in around)  # never morph from shot 1 into shot 2
    assert plan.cuts_hit == 3 and plan.cuts_crossed == 1  # three output frames, one cut
    assert [f.a for f in plan.frames[8:12]] == [2, 2, 3, 3]  # t < 0.5 -> frame 2, t >= 0.5 -> frame 3


def test_held_frames_are_dropped_and_their_time_interpolated():
    # stop motion on twos: 0 0 1 1 2 2 (frames 1, 3, 5 repeat their predecessor)
    plan = plan_retime(cfr(6, 12), 12, 12, 0, 6, held=[1, 3, 5])
    assert plan.kept == [0, 2, 4]
    assert plan.held_dropped == 3
    assert [(f.a, f.b, round(f.t, 2)) for f in plan.frames] == [
        (0, 0, 0), (0, 2, 0.5), (2, 2, 0), (2, 4, 0.5), (4, 4, 0), (4, 4, 0)
    ]


def test_variable_frame_rate_follows_timestamps():
    times = [0.0, 0.1, 0.5, 0.6]
    plan = plan_retime(times, 10, 10, 0, 4)
    assert len(plan.frames) == 7  # 0.0 .. 0.6 at 10 fps
    f = plan.frames[3]  # t = 0.3 between the frames at 0.1 and 0.5
    assert (f.a, f.b) == (1, 2) and f.t == pytest.approx(0.5)


def test_range_and_bad_ranges():
    plan = plan_retime(cfr(20, 10), 10, 20, 5, 10)
    assert plan.frames[0].a == 5 and plan.start_s == pytest.approx(0.5)
    assert len(plan.frames) == 10
    assert resolve_range(20, (3, -1)) == (3, 20)
    for bad in ((5, 6), (-1, 4), (0, 21), (19, 20)):
        with pytest.raises(VfiError):
            resolve_range(20, bad)
