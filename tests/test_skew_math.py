"""Known-answer tests for kubelog.analysis.skew_math (the model is in docs/skew.md).

Convention under test: for an ordered pair (A, B), θ = C_B − C_A; forward pairs (A→B) give upper
bounds, backward pairs (B→A) lower bounds; truncated timestamps with resolution q lie in [t, t+q).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kubelog.analysis.skew_math import (
    CausalPair,
    Pairs,
    count_violations,
    describe,
    describe_estimate,
    detect_step,
    fit_offset_drift,
    fit_one_way_drift,
    format_duration,
    group_pairs,
    lamport_check,
    max_satisfied_offset,
    ntp_offset,
    offset_bounds,
    pairs_from_round_trips,
    solve_system,
)

T0 = 1_713_680_000.0  # 2024-04-21, epoch seconds: float64 resolution ≈ 0.24 µs
FP = 1e-6  # tolerance for float64 epoch rounding


def synth(
    theta,
    n_ab,
    n_ba,
    *,
    span=3600.0,
    drift=0.0,
    step_at=None,
    step=0.0,
    min_delay=0.001,
    mean_extra=0.02,
    seed=0,
    a="apiserver",
    b="test",
    res_a=0.0,
    res_b=0.0,
):
    """Pairs between clocks A (true time) and B = A + θ(t) with random delays ≥ min_delay.

    θ(t) = theta + drift·(t − mid) (+ step after step_at).  Readings are truncated to the resolutions.
    """
    rng = np.random.default_rng(seed)
    mid = T0 + span / 2

    def th(t):
        out = theta + drift * (t - mid)
        if step_at is not None:
            out = out + np.where(t >= step_at, step, 0.0)
        return out

    def trunc(x, q):
        return np.floor(x / q) * q if q else x

    s = np.sort(T0 + rng.uniform(0, span, n_ab))
    r = s + min_delay + rng.exponential(mean_extra, n_ab)
    fwd = Pairs.from_arrays(
        a, b, trunc(s, res_a), trunc(r + th(r), res_b), min_delay, res_a, res_b, [f"fwd#{i}" for i in range(n_ab)]
    )
    s2 = np.sort(T0 + rng.uniform(0, span, n_ba))
    r2 = s2 + min_delay + rng.exponential(mean_extra, n_ba)
    bwd = Pairs.from_arrays(
        b, a, trunc(s2 + th(s2), res_b), trunc(r2, res_a), min_delay, res_b, res_a, [f"bwd#{i}" for i in range(n_ba)]
    )
    return fwd, bwd


# --- §2 NTP ------------------------------------------------------------------------------------


def test_ntp_textbook_four_timestamps():
    # client sends at 0 (its clock); server (10 s ahead) gets it 0.5 s later, replies 0.25 s after,
    # client gets the reply 0.5 s later: true offset 10, round-trip delay 1.
    r = ntp_offset(0.0, 10.5, 10.75, 1.25)
    assert r.offset == pytest.approx(10.0)
    assert r.delay == pytest.approx(1.0)
    assert (r.lower, r.upper) == pytest.approx((9.5, 10.5))
    assert r.upper - r.lower == pytest.approx(r.delay)


def test_ntp_asymmetric_delay_error_is_within_half_delay():
    # outbound 0.9 s, return 0.1 s, true θ = −3: estimate off by (0.9 − 0.1)/2 = 0.4 ≤ δ/2 = 0.5
    t1, theta = 100.0, -3.0
    t2 = t1 + 0.9 + theta
    t3 = t2 + 0.2
    t4 = t3 - theta + 0.1
    r = ntp_offset(t1, t2, t3, t4)
    assert r.offset == pytest.approx(-2.6)
    assert r.delay == pytest.approx(1.0)
    assert r.lower <= theta <= r.upper
    assert abs(r.offset - theta) <= r.delay / 2 + 1e-12


def test_ntp_is_offset_bounds_with_one_pair_each_way_and_vectorises():
    t1, t2, t3, t4 = [0.0, 5.0], [10.5, 15.2], [10.75, 15.3], [1.25, 5.4]
    r = ntp_offset(t1, t2, t3, t4)
    assert r.offset.shape == (2,)
    fwd, bwd = pairs_from_round_trips("test", "apiserver", t1, t2, t3, t4)
    est = offset_bounds(fwd, bwd)
    # many round trips: the tightest bounds over all exchanges (NTP's clock filter, generalised)
    assert est.upper == pytest.approx(min(r.upper))
    assert est.lower == pytest.approx(max(r.lower))
    assert est.tightest_ab[0] == 1 and est.tightest_ba[0] == 1  # the second exchange is tighter (δ = 0.3 s)
    single = offset_bounds(fwd.subset([0]), bwd.subset([0]))
    assert single.estimate == pytest.approx(r.offset[0]) and single.uncertainty == pytest.approx(r.delay[0] / 2)


# --- §1 interval bounds ------------------------------------------------------------------------


def test_one_sided_bounds_have_no_midpoint():
    # pod creationTimestamp (apiserver) → test's watch observation: the test clock is ≥ ... behind? no:
    # forward apiserver→test only bounds θ = C_test − C_apiserver from above.
    fwd = Pairs.from_arrays(
        "apiserver", "test", [0.0, 10.0, 20.0], [35_900.0, 35_911.0, 35_920.5], evidence=["pod/a", "pod/b", "pod/c"]
    )
    est = offset_bounds(fwd)
    assert est.kind == "upper-only" and est.feasible
    assert est.upper == 35_900.0 and est.lower == -math.inf
    assert est.estimate is None and est.uncertainty is None
    assert est.n_ab == 3 and est.n_ba == 0
    assert est.evidence == ["pod/a"]
    bwd = Pairs.from_arrays("test", "apiserver", [35_950.0], [40.0])
    lo = offset_bounds(None, bwd)
    assert lo.kind == "lower-only" and lo.lower == 35_910.0 and lo.upper == math.inf
    assert lo.domain_a == "apiserver" and lo.domain_b == "test"
    none = offset_bounds(Pairs.empty("a", "b"))
    assert none.kind == "none" and none.estimate is None


def test_quantised_whole_second_timestamps_widen_the_interval():
    # A = test (ms), B = apiserver whose creationTimestamp is floored to 1 s. Clocks agree (θ = 0).
    # The test sends at 100.6; the apiserver receives at true 100.7 but records 100.
    fwd = Pairs.from_arrays("test", "apiserver", [100.6], [100.0], res_recv=1.0)
    # The apiserver object created at true 200.2 (recorded 200, q = 1) is seen by the test at 200.35.
    bwd = Pairs.from_arrays("apiserver", "test", [200.0], [200.35], res_send=1.0)
    est = offset_bounds(fwd, bwd)
    # unwidened U would be 100 − 100.6 = −0.6 and exclude the truth; widened U = 101 − 100.6 = 0.4
    assert est.upper == pytest.approx(0.4)
    # the send's truncation is already conservative: L = 200 − 200.35 = −0.35
    assert est.lower == pytest.approx(-0.35)
    assert est.contains(0.0)
    assert est.estimate == pytest.approx(0.025) and est.uncertainty == pytest.approx(0.375)
    # a receiver on A quantised: L widens by q_A
    bwd_q = Pairs.from_arrays("apiserver", "test", [200.4], [200.0], res_recv=1.0)
    assert offset_bounds(None, bwd_q).lower == pytest.approx(200.4 - 200.0 - 1.0)


def test_min_delay_tightens_both_sides():
    fwd = Pairs.from_arrays("a", "b", [0.0], [12.0], min_delay=0.5)
    bwd = Pairs.from_arrays("b", "a", [20.0], [11.0], min_delay=0.25)
    est = offset_bounds(fwd, bwd)
    assert (est.lower, est.upper) == pytest.approx((9.25, 11.5))


def test_synthetic_known_offset_recovered():
    theta = 36_012.5
    fwd, bwd = synth(theta, 3000, 41, seed=1)
    est = offset_bounds(fwd, bwd)
    assert est.kind == "two-sided" and est.feasible
    assert est.lower - FP <= theta <= est.upper + FP
    assert abs(est.estimate - theta) <= max(0.02, est.uncertainty)
    assert est.n_ab == 3000 and est.n_ba == 41
    assert est.evidence[0].startswith("fwd#") and est.evidence[1].startswith("bwd#")
    assert est.reversed().contains(-theta, FP)


def test_synthetic_known_offset_with_whole_second_apiserver_times():
    theta = -7.3
    fwd, bwd = synth(theta, 500, 500, res_a=1.0, seed=2)  # A = apiserver, floored to 1 s
    est = offset_bounds(fwd, bwd)
    assert est.feasible and est.lower - FP <= theta <= est.upper + FP
    assert est.uncertainty <= 0.6  # the 1 s resolution dominates the width


def test_no_skew_interval_contains_zero():
    fwd, bwd = synth(0.0, 200, 200, seed=3)
    est = offset_bounds(fwd, bwd)
    assert est.contains(0.0, FP)
    assert "agrees" in describe_estimate(est) or "consistent with no skew" in describe_estimate(est)


def test_infeasible_names_conflicts_and_runs_max_satisfied_fallback():
    theta = 5.0
    fwd, bwd = synth(theta, 300, 300, seed=4)
    # three mis-matched forward pairs: the "receive" is matched to an event 2 s too early
    bad = np.array([10, 20, 30])
    recv = fwd.recv_ts.copy()
    recv[bad] -= 2.0
    fwd = Pairs.from_arrays("apiserver", "test", fwd.send_ts, recv, fwd.min_delay, evidence=fwd.evidence)
    est = offset_bounds(fwd, bwd)
    assert not est.feasible and est.estimate is None
    assert set(bad) <= set(est.conflicts_ab.tolist())
    fb = est.fallback
    assert fb.n_violated == 3 and sorted(fb.violated_ab.tolist()) == bad.tolist()
    assert fb.lower - FP <= theta <= fb.upper + FP
    assert "inconsistent" in describe_estimate(est)
    assert max_satisfied_offset(fwd, bwd).n_violated == 3


def test_max_satisfied_sweep_small_cases():
    fwd = Pairs.from_arrays("a", "b", [0.0, 0.0], [5.0, 3.0])
    bwd = Pairs.from_arrays("b", "a", [4.0, 1.0], [0.0, 0.0])
    # constraints θ ≤ 5, θ ≤ 3, θ ≥ 4, θ ≥ 1 → best 3 of 4, on [1, 3] (violates θ ≥ 4) or [4, 5]
    ms = max_satisfied_offset(fwd, bwd)
    assert ms.n_satisfied == 3 and ms.n_violated == 1
    assert ms.intervals == [(1.0, 3.0), (4.0, 5.0)]
    only_fwd = max_satisfied_offset(fwd)
    assert only_fwd.n_violated == 0 and only_fwd.upper == 3.0 and only_fwd.lower == -math.inf


# --- §3 drift ----------------------------------------------------------------------------------


@pytest.mark.parametrize("ppm", [50.0, -50.0])
def test_drift_recovered_over_an_hour(ppm):
    theta = 36_012.5
    fwd, bwd = synth(theta, 400, 400, drift=ppm * 1e-6, seed=5)
    assert not offset_bounds(fwd, bwd).feasible  # 0.18 s of drift: one offset does not fit
    fit = fit_offset_drift(fwd, bwd)
    assert fit.status == "ok", fit.reason
    assert abs(fit.drift_ppm - ppm) < 10
    lo, hi = fit.drift_range_ppm
    assert lo - 1e-3 <= ppm <= hi + 1e-3 and not fit.drift_range_capped
    assert fit.t_ref == pytest.approx(T0 + 1800, abs=30)
    truth_at_ref = theta + ppm * 1e-6 * (fit.t_ref - (T0 + 1800))
    assert fit.theta0_range[0] - FP <= truth_at_ref <= fit.theta0_range[1] + FP
    assert abs(fit.theta0 - truth_at_ref) < 0.02
    blo, bhi = fit.bounds_at(T0 + 600)
    truth_600 = theta + ppm * 1e-6 * (600 - 1800)
    assert blo - FP <= truth_600 <= bhi + FP
    assert fit.offset_at(T0 + 600) == pytest.approx(truth_600, abs=0.02)
    assert fit.margin_s >= 0


def test_drift_needs_both_directions_and_a_long_span():
    fwd, bwd = synth(1.0, 50, 50, span=120.0, seed=6)
    assert fit_offset_drift(fwd, bwd).status == "insufficient"
    fwd, bwd = synth(1.0, 50, 50, seed=6)
    fit = fit_offset_drift(fwd, None)
    assert fit.status == "insufficient" and "both directions" in fit.reason


def test_drift_fit_infeasible_on_a_step():
    fwd, bwd = synth(3.0, 200, 200, step_at=T0 + 1800, step=2.0, seed=7)
    fit = fit_offset_drift(fwd, bwd)
    assert fit.status == "infeasible" and fit.margin_s < -0.5


def test_one_way_drift_moon_lp():
    fwd, _ = synth(100.0, 500, 1, drift=30e-6, seed=8)
    ow = fit_one_way_drift(fwd)
    assert ow.status == "ok" and abs(ow.drift_ppm - 30) < 10


# --- §4 steps ----------------------------------------------------------------------------------


def test_two_second_step_in_the_middle_is_found():
    theta, t_step = 36_012.5, T0 + 1800.0
    fwd, bwd = synth(theta, 300, 300, step_at=t_step, step=2.0, seed=9)
    assert not offset_bounds(fwd, bwd).feasible
    res = detect_step(fwd, bwd)
    assert res.found and res.violations_split == 0 and res.violations_single > 0
    lo, hi = res.step_window
    assert lo - 0.5 <= t_step <= hi + 0.5  # the step's A-clock time, within the delay
    assert abs(res.step_time - t_step) < 60
    assert res.step_size == pytest.approx(2.0, abs=0.05)
    assert res.step_size_bounds[0] - FP <= 2.0 <= res.step_size_bounds[1] + FP
    assert res.before.contains(theta, FP) and res.after.contains(theta + 2.0, FP)


def test_step_with_a_bad_pair_uses_the_violation_minimising_split():
    theta, t_step = 1.0, T0 + 1000.0
    fwd, bwd = synth(theta, 150, 150, step_at=t_step, step=-2.0, seed=10)
    recv = fwd.recv_ts.copy()
    recv[-1] -= 5.0  # one mismatched pair after the step
    fwd = Pairs.from_arrays("apiserver", "test", fwd.send_ts, recv, fwd.min_delay)
    res = detect_step(fwd, bwd)
    assert res.found and res.violations_split == 1
    assert res.step_window[0] - 0.5 <= t_step <= res.step_window[1] + 0.5
    assert res.step_size == pytest.approx(-2.0, abs=0.05)


def test_no_step_when_one_offset_fits():
    fwd, bwd = synth(4.0, 100, 100, seed=11)
    assert not detect_step(fwd, bwd).found


# --- §5 many domains ---------------------------------------------------------------------------


def test_bellman_ford_transitive_bounds_three_domains():
    bounds = {
        ("apiserver", "test"): (36_000.0, 36_001.0),  # θ_test − θ_api
        ("node/h1", "apiserver"): (-0.5, 0.25),  # θ_api − θ_node
        ("node/h1", "test"): (35_999.0, 36_000.2),  # direct, tighter on top
    }
    sol = solve_system(bounds, reference="apiserver")
    assert sol.feasible
    assert sol.bounds["apiserver"] == (0.0, 0.0)
    # test − api ≤ (test − node) + (node − api) ≤ 36000.2 + 0.5: tighter than the direct 36001
    assert sol.bounds["test"] == pytest.approx((36_000.0, 36_000.7))
    assert sol.upper_path["test"] == ["apiserver", "node/h1", "test"]
    # node − api ∈ [−0.25, 0.5] directly; via test: node − api = (test − api) − (test − node)
    # ∈ [36000 − 36000.2, 36001 − 35999] = [−0.2, 2] → lower bound tightened transitively
    assert sol.bounds["node/h1"] == pytest.approx((-0.2, 0.5))
    assert sol.lower_path["node/h1"] == ["node/h1", "test", "apiserver"]
    assert sol.upper_path["node/h1"] == ["apiserver", "node/h1"]
    assert sol.estimate["node/h1"] == pytest.approx(0.15)


def test_bellman_ford_no_direct_pair_and_unbounded_side():
    sol = solve_system({("apiserver", "test"): (10.0, 11.0), ("test", "node/a"): (-1.0, math.inf)})
    assert sol.bounds["node/a"] == (9.0, math.inf) and sol.estimate["node/a"] is None


def test_bellman_ford_negative_cycle_is_named():
    bounds = {
        ("apiserver", "test"): (10.0, 11.0),
        ("test", "node/a"): (1.0, 2.0),
        ("apiserver", "node/a"): (0.0, 5.0),  # but the chain says ≥ 11
        ("apiserver", "scheduler"): (0.0, 0.1),
    }
    sol = solve_system(bounds)
    assert not sol.feasible and sol.bounds == {}
    assert set(sol.negative_cycle[:-1]) == {"apiserver", "test", "node/a"}
    assert sol.negative_cycle[0] == sol.negative_cycle[-1]
    assert sol.cycle_slack == pytest.approx(-6.0)


def test_solve_system_accepts_offset_estimates():
    fwd, bwd = synth(2.0, 50, 50, seed=12)
    est = offset_bounds(fwd, bwd)
    sol = solve_system({("apiserver", "test"): est})
    assert sol.bounds["test"] == pytest.approx((est.lower, est.upper))


# --- §7 Lamport post-check ---------------------------------------------------------------------


def test_lamport_violations_before_and_after_correction():
    theta = -30.0  # test clock behind: raw watch observations precede pod creation
    fwd, bwd = synth(theta, 100, 100, seed=13)
    raw = count_violations(fwd)
    assert raw.n == 100 and raw.n_violated == 100 and raw.worst_s > 29
    est = offset_bounds(fwd, bwd)
    fixed = lamport_check([fwd, bwd], {"apiserver": 0.0, "test": est.estimate})
    assert fixed["before"].n == 200 and fixed["before"].n_violated == 100
    assert fixed["after"].n_violated == 0
    # a callable offset (drift model) works too
    assert count_violations(fwd, None, lambda t: np.full_like(t, theta)).n_violated == 0


# --- data model --------------------------------------------------------------------------------


def test_causal_pair_records_and_validation():
    recs = [
        CausalPair("test", 1.0, "apiserver", 2.0, 0.0, 0.0, 1.0, "audit:abc"),
        CausalPair("apiserver", 3.0, "test", 3.5, evidence="pod/x"),
        CausalPair("test", 1.5, "apiserver", 2.0),
    ]
    groups = group_pairs(recs)
    assert set(groups) == {("test", "apiserver"), ("apiserver", "test")}
    p = groups[("test", "apiserver")]
    assert len(p) == 2 and p.res_recv.tolist() == [1.0, 0.0] and p.evidence[0] == "audit:abc"
    with pytest.raises(ValueError):
        Pairs.from_pairs(recs)
    with pytest.raises(ValueError):
        Pairs.from_arrays("a", "b", [1.0, np.nan], [2.0, 3.0])
    with pytest.raises(ValueError):
        Pairs.from_arrays("a", "b", [1.0], [2.0], min_delay=-1)
    with pytest.raises(ValueError):
        offset_bounds(Pairs.empty("a", "b"), Pairs.empty("a", "b"))


# --- human text --------------------------------------------------------------------------------


def test_describe_kubemark_time_zone_case():
    txt = describe(35_895.2, 0.4, "test", "apiserver", {"pod watch observations": 3000, "API round trips": 41})
    assert txt.startswith("the test machine's clock is 9 h 58 m 15.2 s ± 0.4 s ahead of the master")
    assert "≈ 10 h time-zone difference − 1 m 44.8 s" in txt
    assert txt.endswith("(from 3,000 pod watch observations and 41 API round trips)")


def test_describe_behind_small_and_one_sided():
    txt = describe(-0.0123, 0.0005, "node/h7", "apiserver")
    assert txt == "node host h7's clock is 12.3 ms ± 0.5 ms behind the master"
    assert "time-zone" not in describe(-3 * 3600 - 400.0, 1.0, "test")
    assert (
        "3 h 0 m 20 s ± 1 s behind the master, likely a time-zone mismatch (≈ 3 h time-zone difference + 20.0 s)"
        in describe(-3 * 3600 - 20.0, 1.0, "test")
    )
    assert "consistent with no skew" in describe(0.3, 0.5, "test")
    fwd = Pairs.from_arrays("apiserver", "test", [0.0], [35_900.0])
    assert "at most 9 h 58 m 20 s ahead of the master" in describe_estimate(offset_bounds(fwd))
    bwd = Pairs.from_arrays("test", "apiserver", [100.0], [140.0])
    # test sent at 100 (its clock), apiserver received at 140: θ = C_test − C_api ≥ −40
    assert "the test machine's clock is at most 40.0 s behind the master" in describe_estimate(offset_bounds(None, bwd))
    assert "the master's clock is at most 40.0 s ahead of the test machine" in describe_estimate(
        offset_bounds(None, bwd).reversed()
    )
    # pod created at 100 (apiserver), watched at 60 (test): θ ≤ −40
    fwd = Pairs.from_arrays("apiserver", "test", [100.0], [60.0])
    assert "the test machine's clock is at least 40.0 s behind the master" in describe_estimate(offset_bounds(fwd))


def test_format_duration():
    assert format_duration(35_895.2) == "9 h 58 m 15.2 s"
    assert format_duration(59.96) == "1 m"
    assert format_duration(3600.0) == "1 h 0 m"
    assert format_duration(90_061.0, 0) == "1 d 1 h 1 m 1 s"
    assert format_duration(2.5) == "2.5 s"
    assert format_duration(0.0000042, 7) == "4.2 µs"
    assert format_duration(0.0) == "0 s"
    assert format_duration(10_820.0, 0) == "3 h 0 m 20 s"
    assert format_duration(20.0, 1) == "20.0 s"


# --- property ----------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    theta=st.floats(-50_000, 50_000, allow_nan=False),
    delays=st.lists(st.tuples(st.floats(0, 2.0), st.floats(0, 5.0)), min_size=1, max_size=20),
    back=st.lists(st.tuples(st.floats(0, 2.0), st.floats(0, 5.0)), min_size=0, max_size=20),
    q=st.sampled_from([0.0, 0.001, 1.0]),
)
def test_truth_always_inside_interval(theta, delays, back, q):
    """For any delays ≥ min_delay and truncated receive stamps, θ is never excluded."""
    t = T0 + np.arange(len(delays)) * 7.0
    md = np.array([d for d, _ in delays])
    extra = np.array([e for _, e in delays])
    recv_true = t + md + extra + theta
    recv = np.floor(recv_true / q) * q if q else recv_true
    fwd = Pairs.from_arrays("a", "b", t, recv, md, 0.0, q)
    if back:
        t2 = T0 + np.arange(len(back)) * 5.0
        md2 = np.array([d for d, _ in back])
        r2_true = t2 + md2 + np.array([e for _, e in back])
        r2 = np.floor(r2_true / q) * q if q else r2_true
        bwd = Pairs.from_arrays("b", "a", t2 + theta, r2, md2, 0.0, q)
    else:
        bwd = None
    est = offset_bounds(fwd, bwd)
    assert est.feasible
    assert est.lower - FP <= theta <= est.upper + FP
    if est.estimate is not None:
        assert abs(est.estimate - theta) <= est.uncertainty + FP


def test_docstring_examples():
    import doctest

    import kubelog.analysis.skew_math as m

    assert doctest.testmod(m).failed == 0
