"""Issue 16 items 4, 5: clock bounds on runs with CL2 round trips, per-host pools of hollow nodes and the
kubelet's status writes (kubelog/synth/skewcases.py), checked against the generator's truth."""

from __future__ import annotations


import numpy as np
import pandas as pd
import pytest

from kubelog.analysis.pods import pod_startup
from kubelog.analysis.skew import analyze, analyze_pairs, causal_pairs, node_hosts
from kubelog.engine import Options, ingest
from kubelog.synth import generate

SPECS = {
    # CL2 era: the test clock is only bounded by the CL2 log's own lines around its calls
    "cl2-1.28": dict(
        era="1.28",
        cl2=True,
        skew="test=-0.35s",
        drift="test=40",
        hosts=2,
        host_skew=[0.8, -0.35],
        host_drift=[20, -30],
        seed=4,
    ),
    "cl2-1.14": dict(era="1.14", cl2=True, skew="test=36012.5s", hosts=2, host_skew=[0.05, 1.2], seed=8),
    "e2e-1.5": dict(era="1.5", skew="test=35895.2s", drift="test=40", hosts=2, host_skew=[0.8, -0.2], seed=13),
    "e2e-1.28": dict(
        era="1.28", skew="test=-3600.25s", hosts=3, host_skew=[0.8, -0.35, 0.0], host_drift=[30, -20, 0], seed=7
    ),
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("skewcases")
    out = {}
    for name, kw in SPECS.items():
        truth = generate(base / f"in-{name}", nodes=2 * kw["hosts"], status_writes=True, **kw)
        run = ingest([str(base / f"in-{name}")], base / f"run-{name}", options=Options())
        out[name] = (run, truth, analyze(run))
    return out


def _slack(truth, d):
    """How far domain d's offset moves over the run (its drift), seconds."""
    c = truth["clocks"][d]
    return abs(c["drift_ppm"]) * 1e-6 * (truth["end_ns"] - truth["t0_ns"]) / 1e9 + 1e-6


def _theta_at(truth, d, reading_s):
    """Domain d's true offset when it read ``reading_s`` (the generator: C(t) = t + off + drift·(t − T0))."""
    c = truth["clocks"][d]
    t = reading_s - c["offset_s"]
    return c["offset_s"] + c["drift_ppm"] * 1e-6 * (t - truth["t0_ns"] / 1e9)


@pytest.mark.parametrize("name", list(SPECS))
def test_every_pair_is_causal_under_the_true_clocks(runs, name):
    run, truth, _ = runs[name]
    p = causal_pairs(run)
    for (a, b), g in p.groupby(["send_domain", "recv_domain"]):
        # the true reading difference at the pair's time, drift included
        ta = g["send_ts"].to_numpy() - _theta_at(truth, a, g["send_ts"].to_numpy())
        tb = g["recv_ts"].to_numpy() + g["res_recv_s"].to_numpy() - _theta_at(truth, b, g["recv_ts"].to_numpy())
        bad = g[tb < ta - 1e-6]
        assert bad.empty, (a, b, bad[["kind", "evidence"]].head(3).to_dict("records"))


@pytest.mark.parametrize("name", list(SPECS))
def test_true_offsets_inside_bounds_and_estimates_close(runs, name):
    run, truth, rep = runs[name]
    doms = rep.domains.set_index("domain")
    assert set(doms.index) == set(truth["clocks"])
    for d, c in truth["clocks"].items():
        if d == "apiserver":
            continue
        r, sl = doms.loc[d], _slack(truth, d)
        assert r["kind"] == "two-sided", (d, r.to_dict())  # both sides, every era, CL2 included
        assert r["lower_s"] - sl <= c["offset_s"] <= r["upper_s"] + sl, (d, c, r.to_dict())
        half = (r["upper_s"] - r["lower_s"]) / 2
        assert abs(r["offset_s"] - c["offset_s"]) <= max(0.020, half) + sl, (d, r["offset_s"], c)


@pytest.mark.parametrize("name", ["cl2-1.28", "cl2-1.14"])
def test_cl2_log_lines_bound_the_test_clock_both_ways(runs, name):
    run, truth, rep = runs[name]
    p = causal_pairs(run)
    rt = p[p["kind"] == "api_round_trip"]
    assert (rt["send_domain"] == "test").sum() >= 3 and (rt["recv_domain"] == "test").sum() >= 3
    assert rt["evidence"].str.contains("clusterloader2.log").all()
    t = rep.domains.set_index("domain").loc["test"]
    assert t["upper_s"] - t["lower_s"] < 0.05  # milliseconds: the steps hug their calls
    assert "API round trip" in t["text"]


@pytest.mark.parametrize("name", list(SPECS))
def test_hollow_nodes_pooled_per_host_within_50ms(runs, name):
    run, truth, rep = runs[name]
    hosts = node_hosts(run)
    assert {d: h for d, h in hosts.items()} == {d: c["host"] for d, c in truth["clocks"].items() if "host" in c}
    p = causal_pairs(run)
    assert (p["kind"] == "kubelet_status").any()
    doms = rep.domains.set_index("domain")
    for d, c in truth["clocks"].items():
        if not d.startswith("node/"):
            continue
        r = doms.loc[d]
        assert r["host"] == c["host"]
        assert abs(r["offset_s"] - c["offset_s"]) <= 0.050 + _slack(truth, d), (d, r.to_dict(), c)
        # the node→master bound comes from the write that follows the start: tight (not the
        # termination write minutes later)
        assert c["offset_s"] - r["lower_s"] <= 0.020 + _slack(truth, d), (d, r["lower_s"], c)


@pytest.mark.parametrize("name", list(SPECS))
def test_no_spurious_drift(runs, name):
    _, _, rep = runs[name]
    assert rep.domains["drift_ppm"].isna().all()  # runs of ~1 min: no drift can be supported
    assert not any("drifts" in f for f in rep.findings)


def test_drift_not_reported_when_a_constant_offset_fits():
    """Two hours of loose pairs with no drift: the LP finds a line, but 0 ppm is feasible too."""
    rng = np.random.default_rng(1)
    t0, span, theta = 1.7e9, 7200.0, 0.8
    ta = np.sort(t0 + rng.uniform(0, span, 200))
    d1, d2 = rng.exponential(0.4, 200) + 0.01, rng.exponential(0.4, 200) + 0.01
    mk = lambda a, b, s, r: pd.DataFrame(
        {
            "kind": "kubelet_status",
            "send_domain": a,
            "send_ts": s,
            "recv_domain": b,  # noqa: E731
            "recv_ts": r,
            "min_delay_s": 0.0,
            "res_send_s": 1e-6,
            "res_recv_s": 1e-6,
            "evidence": "x:1",
        }
    )
    p = pd.concat([mk("apiserver", "node/h", ta, ta + d1 + theta), mk("node/h", "apiserver", ta + theta, ta + d2)])
    rep = analyze_pairs(p)
    row = rep.pairs_summary.iloc[0]
    lo, hi = row["drift_range_ppm"]
    assert lo <= 0 <= hi
    assert row["drift_ppm"] is None and str(row["drift_status"]).startswith("not significant")
    assert rep.domains.set_index("domain").loc["node/h", "drift_ppm"] is None


def _latency_pod_percentiles(per, phase):
    v = per[per["pod"].str.startswith("density-latency-pod")][f"{phase}_s"].dropna().to_numpy(dtype=float)
    from kubelog.analysis import stats

    return {q: stats.percentile(v, x) for q, x in (("p50_s", 0.5), ("p90_s", 0.9), ("p99_s", 0.99))} if v.size else {}


@pytest.mark.parametrize("name", list(SPECS))
def test_kubelog_offsets_never_move_a_percentile_away_from_the_truth(runs, name):
    run, truth, rep = runs[name]
    raw = pod_startup(run).per_pod
    cor = pod_startup(run, offsets=rep.offsets).per_pod
    true = truth["pod_startup"]["true"]
    ends = {
        "create_to_schedule": ("created", "scheduled"),
        "schedule_to_run": ("scheduled", "running"),
        "run_to_watch": ("running", "watched"),
        "schedule_to_watch": ("scheduled", "watched"),
        "pod_startup": ("created", "watched"),
    }
    strict = 0
    for phase, (a, b) in ends.items():
        r, c = _latency_pod_percentiles(raw, phase), _latency_pod_percentiles(cor, phase)
        if not r or not c:
            continue
        lat = cor[cor["pod"].str.startswith("density-latency-pod")]
        # within the resolution of the phase's ends (a whole-second creationTimestamp moves a pod by
        # up to 1 s, which reorders the few latency pods whatever the offsets)
        res = float(lat[[f"{a}_resolution_s", f"{b}_resolution_s"]].max().max())
        for q in ("p50_s", "p90_s", "p99_s"):
            tv = true[phase][q]
            assert abs(c[q] - tv) <= abs(r[q] - tv) + res + 0.005, (phase, q, r[q], c[q], tv)
            strict += res < 0.01
    # the running end is the PLEG record (1 s resolution as a container start): against the record's own
    # true instant, kubelog's offsets place it on the master's clock to the node-host estimate's accuracy
    pods = {p["name"]: p for p in truth["pods"]}
    lat = cor[cor["pod"].str.startswith("density-latency-pod") & cor["running_source"].str.contains("PLEG")]
    for r in lat.itertuples():
        t = pd.Timestamp(pods[r.pod]["pleg_started"], unit="ns", tz="UTC")
        theta = rep.offsets.get(r.running_clock, 0.0)
        assert abs((r.running_ts - t).total_seconds() - theta) <= 0.05, (r.pod, r.running_clock, theta)
        strict += 1
    assert strict >= 3


def test_generator_cases_follow_the_sources(runs):
    """skewcases: CL2 log instead of e2e.log with the clusterloader user agent; log-dump layout
    <host>/kubelet-<node>.log; three status writes per running pod (Pending, Running, terminated)."""
    run, truth, _ = runs["cl2-1.28"]
    files = truth["files"]
    assert "clusterloader2.log" in files and "e2e.log" not in files
    assert all(f"{c['host']}/kubelet-{d[5:]}.log" in files for d, c in truth["clocks"].items() if "host" in c)
    assert set(truth["hosts"]) == {c["host"] for c in truth["clocks"].values() if "host" in c}
    req = run.table("requests", columns=["user_agent", "uri", "method", "origin"])
    req = req[req["origin"] == "audit"]
    cl = req[req["user_agent"] == "clusterloader/v0.0.0 (linux/amd64) kubernetes/$Format"]
    assert len(cl) and cl["uri"].str.contains(truth["cl2"]["namespace_prefix"] + "-1").any()
    st = req[req["uri"].str.endswith("/status") & req["uri"].str.contains("/pods/")]
    per_pod = st.groupby("uri").size()
    assert (per_pod == 3).mean() > 0.9  # pods deleted by the GC get the terminated write too


@pytest.fixture(scope="module")
def long_cl2(tmp_path_factory):
    """A clusterloader2 run of ~14 min (100 nodes × 80 pods at the controller's 20 pods/s, then their
    deletion): long enough for the drift rule (pairs spanning ≥ 10 min), test clock 0.35 s behind and
    drifting +40 ppm, two node hosts offset but not drifting."""
    base = tmp_path_factory.mktemp("cl2long")
    truth = generate(
        base / "in",
        era="1.28",
        cl2=True,
        nodes=100,
        pods_per_node=80,
        skew="test=-0.35s",
        drift="test=40",
        hosts=2,
        host_skew=[0.8, -0.35],
        seed=4,
    )
    run = ingest([str(base / "in")], base / "run", options=Options())
    return run, truth, analyze(run)


@pytest.mark.slow
def test_cl2_drift_estimated_on_a_long_run(long_cl2):
    """Issue 16 item 4: the CL2 log's step lines around CL2's own calls estimate the test clock's drift
    too.  The steps sit minutes apart while the clock drifts, so a call is assigned to its step with
    bounds that allow the drift (a constant offset fitted mid-run excluded the first step's call: no
    pairs at the start, no drift)."""
    run, truth, rep = long_cl2
    assert (truth["end_ns"] - truth["t0_ns"]) / 1e9 >= 600
    ps = rep.pairs_summary
    row = ps[(ps["domain_a"] == "apiserver") & (ps["domain_b"] == "test")].iloc[0]
    assert row["drift_status"] == "ok", row.to_dict()
    lo, hi = row["drift_range_ppm"]
    assert lo <= 40.0 <= hi and lo > 0  # the true drift inside its feasible range, which excludes 0
    assert abs(row["drift_ppm"] - 40.0) <= 20.0
    # the offset is stated at the middle of the pairs: the true offset then lies inside the bounds
    t_ref = pd.Timestamp(row["drift_t_ref"]).value / 1e9
    theta = _theta_at(truth, "test", t_ref)  # t_ref is on the apiserver clock: θ at that instant ± µs
    r = rep.domains.set_index("domain").loc["test"]
    assert r["kind"] == "two-sided" and r["lower_s"] - 1e-4 <= theta <= r["upper_s"] + 1e-4, (theta, r.to_dict())
    assert abs(r["offset_s"] - theta) <= max(0.020, (r["upper_s"] - r["lower_s"]) / 2)
    for d, c in truth["clocks"].items():  # the hosts' (constant) offsets inside their bounds too
        if d.startswith("node/"):
            b = rep.domains.set_index("domain").loc[d]
            assert b["lower_s"] - 1e-6 <= c["offset_s"] <= b["upper_s"] + 1e-6, (d, c, b.to_dict())
    # no spurious drift elsewhere: the node hosts do not drift
    others = rep.domains[rep.domains["domain"] != "test"]
    assert others["drift_ppm"].isna().all(), others[others["drift_ppm"].notna()]
    assert [f for f in rep.findings if "drifts" in f and "test machine" not in f] == []
