"""SLO configuration, verdicts (against truth.json and real-log facts) and the validity audit."""

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kubelog.analysis import slo as slomod
from kubelog.analysis.slo import ConfigError, SLOConfig, evaluate
from kubelog.analysis.validity import CHECKS, audit
from kubelog.cli import Exit, app
from kubelog.engine import Options, ingest

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_logs"
NAMES = ("healthy-1.28", "skew-timeout-1.14", "legacy-skew-1.5")


@pytest.fixture(scope="module")
def runs(sample_runs):
    """{name: (Run, truth)} of the sample runs (ingested once per session, conftest.sample_runs)."""
    return {name: sample_runs[name] for name in NAMES}


@pytest.fixture(scope="module")
def reports(runs):
    return {name: evaluate(run) for name, (run, _) in runs.items()}


# --- configuration ----------------------------------------------------------------------------------


def test_defaults_are_the_cited_targets():
    cfg = SLOConfig.load()
    assert cfg.sli("kubemark_2017.api_calls").threshold_s == 1.0
    assert cfg.sli("kubemark_2017.pod_startup").threshold_s == 5.0
    assert cfg.sli("kubemark_2017.node_startup").threshold_s == 4.0
    ro = cfg.sli("sig_scalability.read_only_api_calls")
    assert (
        ro.resource_threshold_s,
        ro.namespace_threshold_s,
        ro.namespace_threshold_before_s,
        ro.cluster_threshold_s,
    ) == (1.0, 30.0, 5.0, 30.0)
    assert cfg.sli("sig_scalability.mutating_api_calls").threshold_s == 1.0
    for name in slomod.SLI_TYPES:
        s = cfg.sli(name)
        assert s.percentile == 0.99 and s.enabled and s.source
    # every SLI table in the defaults file carries a comment citing its source
    text = slomod.DEFAULTS_PATH.read_text()
    blocks = re.split(r"^\[", text, flags=re.M)[1:]
    assert len(blocks) == len(slomod.SLI_TYPES)
    for b in blocks:
        comments = " ".join(line for line in b.splitlines() if line.startswith("#"))
        assert re.search(r"kubernetes\.io/blog|kubernetes/community|issue #6", comments), b[:60]


@pytest.mark.parametrize(
    "body,needle",
    [
        ("[kubemark_2017.pod_startup]\nthreshold = 3\n", "'threshold'"),
        ("[kubemark_2017.pod_startups]\nthreshold_s = 3\n", "'kubemark_2017.pod_startups'"),
        ("[kubemark]\n", "'kubemark'"),
        ("[kubemark_2017.pod_startup]\nthreshold_s = 'five'\n", "threshold_s"),
        ("[kubemark_2017.pod_startup]\npercentile = 99\n", "percentile"),
        ("[kubemark_2017.api_calls]\ngroup_by = ['verb', 'nope']\n", "nope"),
        ("[[overrides]]\nresource = 'pods'\nthreshold_s = 2\n", "'sli' is required"),
        ("[[overrides]]\nsli = 'kubemark_2017.api_calls'\nrsource = 'pods'\nthreshold_s = 2\n", "'rsource'"),
        ("[[overrides]]\nsli = 'kubemark_2017.api_calls'\nresource = 'pods'\n", "neither"),
        ("not toml [", "not valid TOML"),
    ],
)
def test_bad_user_config_is_rejected_naming_key_and_file(tmp_path, body, needle):
    f = tmp_path / "my-slo.toml"
    f.write_text(body)
    with pytest.raises(ConfigError) as e:
        SLOConfig.load(f)
    assert needle in str(e.value) and str(f) in str(e.value)


def test_user_config_overrides_defaults(tmp_path):
    f = tmp_path / "slo.toml"
    f.write_text(
        "[kubemark_2017.pod_startup]\nthreshold_s = 3\npercentile = 0.9\n"
        "[sig_scalability.mutating_api_calls]\nenabled = false\n"
    )
    cfg = SLOConfig.load(f)
    ps = cfg.sli("kubemark_2017.pod_startup")
    assert (ps.threshold_s, ps.percentile, ps.source) == (
        3.0,
        0.9,
        SLOConfig.load().sli("kubemark_2017.pod_startup").source,
    )
    assert not cfg.sli("sig_scalability.mutating_api_calls").enabled
    assert cfg.files == [str(slomod.DEFAULTS_PATH), str(f)]


# --- verdicts on the sample runs --------------------------------------------------------------------


def _truth_all_p99(truth):
    return {
        (r["verb"], r["resource"], r["subresource"], r["scope"]): (r["p99_s"], r["count"])
        for r in truth["latency_matrix"]
        if r["bucket"] == "all"
    }


def test_api_call_verdicts_follow_the_true_latency_matrix(runs, reports):
    for name in NAMES:
        run, truth = runs[name]
        v = reports[name].verdicts
        v = v[v["sli"] == "kubemark_2017.api_calls"]
        want = _truth_all_p99(truth)
        assert len(v) == len(want), name
        for r in v.itertuples():
            kv = dict(x.split("=", 1) for x in r.group.split())
            key = (kv.get("verb", ""), kv.get("resource", ""), kv.get("subresource", ""), kv.get("scope", ""))
            p99, n = want[key]
            assert r.observed_s == pytest.approx(p99, abs=1e-6) and r.n == n, (name, key, r.n, n)
            assert r.verdict == ("FAIL" if p99 > 1.0 else "PASS"), (name, key)
            assert r.margin_s == pytest.approx(1.0 - p99)
            if r.verdict == "FAIL":
                assert re.search(r"\.log:\d+ \(", r.evidence), r.evidence


def test_pod_startup_verdicts_are_what_the_failures_imply(runs, reports):
    # healthy: no failure → every pod start-up row passes
    v = reports["healthy-1.28"].verdicts
    ps = v[v["sli"] == "kubemark_2017.pod_startup"]
    assert len(ps) == 2 and (ps["verdict"] == "PASS").all()
    run, truth = runs["healthy-1.28"]
    rep = ps[ps["group"].str.startswith("e2e-reported")].iloc[0]
    assert rep["observed_s"] == pytest.approx(truth["pod_startup"]["as_printed"]["pod_startup"]["p99_s"])
    # timeout: pods on the stalled node never start → the derived SLI fails, naming them
    v = reports["skew-timeout-1.14"].verdicts
    ps = v[v["sli"] == "kubemark_2017.pod_startup"]
    assert list(ps["verdict"]) == ["FAIL"]
    assert "never running" in ps["evidence"].iloc[0] and "11 pods" in ps["note"].iloc[0]
    # 1.5 skew: the test reported 9h58m (its failure); the object-derived value over the measured pods,
    # whose watched end is the same test clock, is as far off raw (said in its note) and passes corrected
    run, truth = runs["legacy-skew-1.5"]
    assert any(f["kind"] == "slo" and "pod startup" in f["message"] for f in truth["failures"])
    v = reports["legacy-skew-1.5"].verdicts
    ps = v[v["sli"] == "kubemark_2017.pod_startup"].set_index("group")
    rep = ps.loc["e2e-reported: latency (e2e-log)"]
    assert rep["verdict"] == "FAIL"
    assert rep["observed_s"] == pytest.approx(truth["pod_startup"]["as_printed"]["pod_startup"]["p99_s"])
    assert "e2e.log:" in rep["evidence"]
    derived = ps.loc[[g for g in ps.index if g.startswith("derived")][0]]
    assert derived.name == "derived: measured pods" and derived["verdict"] == "FAIL"
    assert "different clocks without correction" in derived["note"]
    theta = truth["clocks"]["test"]["offset_s"]
    assert derived["observed_s"] == pytest.approx(rep["observed_s"], abs=2.5)  # both carry θ_test
    offsets = {"test": theta, **{k: v["offset_s"] for k, v in truth["clocks"].items() if k.startswith("node/")}}
    cv = evaluate(run, offsets=offsets).verdicts
    cd = cv[(cv["sli"] == "kubemark_2017.pod_startup") & (cv["group"] == "derived: measured pods")].iloc[0]
    assert cd["verdict"] == "PASS" and cd["observed_s"] < 5
    assert len(reports["legacy-skew-1.5"].violations) >= 1


def test_node_startup_no_data_on_samples(reports):
    for name in NAMES:
        v = reports[name].verdicts
        row = v[v["sli"] == "kubemark_2017.node_startup"].iloc[0]
        assert row["verdict"] == "NO DATA" and row["n"] == 0


def test_namespace_lists_use_5s_before_2022(runs, reports):
    v = reports["legacy-skew-1.5"].verdicts  # a 2017 run
    ns = v[(v["sli"] == "sig_scalability.read_only_api_calls") & v["group"].str.contains("scope=namespace")]
    assert len(ns) and (ns["threshold_s"] == 5.0).all() and ns["note"].str.contains("before 2022").all()
    v = reports["healthy-1.28"].verdicts  # a 2023 run
    ns = v[(v["sli"] == "sig_scalability.read_only_api_calls") & v["group"].str.contains("scope=namespace")]
    assert len(ns) and (ns["threshold_s"] == 30.0).all()
    cl = v[(v["sli"] == "sig_scalability.read_only_api_calls") & v["group"].str.contains("scope=cluster")]
    assert (cl["threshold_s"] == 30.0).all()


def test_overrides_and_allowed_slow_calls(runs, tmp_path):
    run, truth = runs["healthy-1.28"]
    f = tmp_path / "o.toml"
    f.write_text(
        "[kubemark_2017.api_calls]\nallowed_slow_calls = 2\n"
        "[[overrides]]\nsli = 'sig_scalability.mutating_api_calls'\nresource = 'pods'\n"
        "subresource = 'binding'\nthreshold_s = 3.0\n"
    )
    v = evaluate(run, SLOConfig.load(f)).verdicts
    k = v[v["sli"] == "kubemark_2017.api_calls"]
    slow = k[k["observed_s"] > 1.0]
    assert 1 <= len(slow) <= 2 and (slow["verdict"] == "PASS").all()
    assert slow["note"].str.contains("allowed_slow_calls=2").all()
    m = v[v["sli"] == "sig_scalability.mutating_api_calls"].set_index("group")
    b = m.loc["verb=create resource=pods subresource=binding"]
    assert b["threshold_s"] == 3.0 and b["verdict"] == "PASS" and "override" in b["note"]
    st = m.loc["verb=patch resource=pods subresource=status"]  # no override: the 1 s threshold
    assert st["threshold_s"] == 1.0 and st["verdict"] == ("FAIL" if st["observed_s"] > 1.0 else "PASS")


def test_node_startup_verdict(tmp_path):
    f = tmp_path / "nodes.json"
    items = [("n1", "00:00:00", "00:00:03"), ("n2", "00:00:00", "00:00:09")]
    f.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "List",
                "items": [
                    {
                        "apiVersion": "v1",
                        "kind": "Node",
                        "metadata": {"name": n, "creationTimestamp": f"2024-01-01T{c}Z"},
                        "status": {
                            "conditions": [
                                {"type": "Ready", "status": "True", "lastTransitionTime": f"2024-01-01T{r}Z"}
                            ]
                        },
                    }
                    for n, c, r in items
                ],
            },
            indent=1,
        )
    )
    run = ingest([str(f)], tmp_path / "run", options=Options())
    v = evaluate(run).verdicts
    row = v[v["sli"] == "kubemark_2017.node_startup"].iloc[0]
    assert (row["verdict"], row["observed_s"], row["n"], row["margin_s"]) == ("FAIL", 9.0, 2, -5.0)
    assert "n2 9 s (" in row["evidence"] and "nodes.json:" in row["evidence"]


# --- validity -----------------------------------------------------------------------------------------


def test_validity_audit(runs, reports, tmp_path):
    run, truth = runs["healthy-1.28"]
    va = reports["healthy-1.28"].validity
    assert list(va["check"]) == list(CHECKS)
    a = va.set_index("check")["count"]
    assert a["long_running_excluded"] == truth["requests"]["long_running"] == 7
    assert a["audit_duplicates"] == truth["files"]["audit.log"]["response_complete"]
    assert a["no_latency"] == 0 and a["negative_phases"] == 0 and a["pods_never_running"] == 0
    # every created end is a create POST (its bindings' order gives it), none a whole-second creationTimestamp;
    # the running end is the kubelet's PLEG record (no events: Kubemark's hollow kubelets post none), a relist
    # (1 s) after the start, so each measured pod's run→watch (~0.1-0.2 s) is smaller than its resolution
    detail = va.set_index("check")["detail"]
    assert a["whole_second_dominated"] == 3 and detail["whole_second_dominated"].startswith("run_to_watch 3")
    assert audit(run).equals(va)
    # without the apiserver's logs the created ends are creationTimestamp (1 s) vs sub-second create→schedule
    d = ROOT / "sample_logs" / "healthy-1.28"
    files = [str(p) for p in sorted(d.iterdir()) if p.name not in ("kube-apiserver.log", "audit.log", "truth.json")]
    bare = ingest(files, tmp_path / "bare", options=Options())
    assert audit(bare).set_index("check").loc["whole_second_dominated", "count"] > 0
    a = reports["skew-timeout-1.14"].validity.set_index("check")["count"]
    assert a["pods_never_running"] == 11 and a["missing_phases"] > 0
    # the 1.14 and 1.5 test clocks are ~9h58m ahead: every request 'starts before' the test window
    for name in ("skew-timeout-1.14", "legacy-skew-1.5"):
        va = reports[name].validity.set_index("check")
        assert va.loc["requests_outside_window", "count"] == runs[name][1]["requests"]["total"]
        assert "clock skew" in va.loc["requests_outside_window", "detail"]


# --- real logs -----------------------------------------------------------------------------------------


def test_real_cl2_pod_startup_fails_as_its_junit_says(real_logs, tmp_path):
    files = [
        real_logs / f"cl2_cern_density_2022-06-08_{x}"
        for x in ("MatchAllPodStartupLatency_PodStartupLatency.json", "junit.xml")
    ]
    run = ingest([str(p) for p in files], tmp_path / "r", options=Options())
    v = evaluate(run).verdicts
    ps = v[(v["sli"] == "kubemark_2017.pod_startup") & v["group"].str.startswith("e2e-reported")]
    assert len(ps) == 1
    assert ps["observed_s"].iloc[0] == pytest.approx(5.8048378) and ps["verdict"].iloc[0] == "FAIL"


def test_real_kube_burner_pod_ready(real_logs, tmp_path):
    run = ingest(
        [str(real_logs / "kubeburner_node-density_podLatencyMeasurement_ocp4.17.json")],
        tmp_path / "r",
        options=Options(),
    )
    v = evaluate(run).verdicts
    row = v[v["group"].str.contains("podReady")].iloc[0]
    # MANIFEST: podReadyLatency nearest-rank P99 6000 ms over 679 pods
    assert (row["observed_s"], row["n"], row["verdict"]) == (6.0, 679, "FAIL")


# --- CLI -------------------------------------------------------------------------------------------------


def test_cli_exit_codes(runs, tmp_path):
    run, _ = runs["healthy-1.28"]
    r = CliRunner().invoke(app, ["slo", str(run.path)])
    assert r.exit_code == 0 and "FAIL" in r.output and "validity" in r.output
    r = CliRunner().invoke(app, ["slo", str(run.path), "--fail-on-violation", "--format", "json"])
    assert r.exit_code == int(Exit.VIOLATION)
    rows = json.loads(r.stdout)
    assert {"sli", "group", "threshold_s", "percentile", "observed_s", "n", "margin_s", "verdict", "evidence"} <= set(
        rows[0]
    )
    relaxed = tmp_path / "relaxed.toml"
    relaxed.write_text(
        "[kubemark_2017.api_calls]\nthreshold_s = 5\n[sig_scalability.mutating_api_calls]\nthreshold_s = 5\n"
    )
    r = CliRunner().invoke(app, ["slo", str(run.path), "--config", str(relaxed), "--fail-on-violation"])
    assert r.exit_code == 0, r.output
    bad = tmp_path / "bad.toml"
    bad.write_text("[kubemark_2017.pod_startup]\nthreshhold_s = 1\n")
    r = CliRunner().invoke(app, ["slo", str(run.path), "--config", str(bad)])
    assert r.exit_code == int(Exit.USAGE) and "threshhold_s" in r.output


def test_real_cl2_log_phases_and_the_tests_own_threshold(real_logs, tmp_path):
    run = ingest([str(real_logs / "cl2_kubemark_azure_density_100nodes.log")], tmp_path / "r", options=Options())
    v = evaluate(run).verdicts
    ps = v[v["sli"] == "kubemark_2017.pod_startup"].set_index("group")
    lat = ps.loc["e2e-reported: latency (cl2-log)"]
    # MANIFEST: latency phase pod_startup perc99 2.649974 s, threshold 5 s (passes)
    assert lat["observed_s"] == pytest.approx(2.649974) and lat["verdict"] == "PASS"
    assert "own threshold 5 s: within" in lat["note"] and "cl2_kubemark_azure" in lat["evidence"]
    sat = ps.loc["e2e-reported: saturation (cl2-log)"]
    # saturation perc99 30.342712 s: over the 5 s SLO, within the test's own 5m30s
    assert sat["observed_s"] == pytest.approx(30.342712) and sat["verdict"] == "FAIL"
    assert "own threshold 330 s: within" in sat["note"]


def test_all_calls_together_when_group_by_is_empty(runs, tmp_path):
    run, truth = runs["healthy-1.28"]
    f = tmp_path / "g.toml"
    f.write_text("[kubemark_2017.api_calls]\ngroup_by = []\n")
    v = evaluate(run, SLOConfig.load(f)).verdicts
    k = v[v["sli"] == "kubemark_2017.api_calls"]
    assert list(k["group"]) == ["(all)"]
    # every request of the run but the long-running ones (truth.json requests)
    assert k["n"].iloc[0] == truth["requests"]["total"] - truth["requests"]["long_running"]
    assert k["verdict"].iloc[0] == "PASS"  # 99 % of all calls are well under 1 s


def test_group_by_any_requests_column(runs, tmp_path):
    run, truth = runs["healthy-1.28"]
    f = tmp_path / "c.toml"
    f.write_text("[kubemark_2017.api_calls]\ngroup_by = ['client']\n")
    v = evaluate(run, SLOConfig.load(f)).verdicts
    k = v[v["sli"] == "kubemark_2017.api_calls"]
    assert k["group"].str.startswith("client=").all() and len(k) > 1
    assert k["n"].sum() == truth["requests"]["total"] - truth["requests"]["long_running"]


def test_an_override_that_matches_nothing_is_reported(runs, tmp_path):
    run, _ = runs["healthy-1.28"]
    f = tmp_path / "o.toml"
    f.write_text("[[overrides]]\nsli = 'sig_scalability.read_only_api_calls'\nverb = 'list'\nthreshold_s = 9\n")
    rep = evaluate(run, SLOConfig.load(f))
    assert any("override 0" in n and "matched no group" in n for n in rep.notes)
    assert (rep.verdicts["note"].fillna("") != "override").all()
