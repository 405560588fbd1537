"""Metrics the test itself reported (perf_summaries: Top latency metric lines, WARNING ones, pod-startup
summaries) feed `slo` as e2e-reported rows and `diagnose` as findings (issue 18, item 10)."""

from pathlib import Path

import pytest

from kubelog.analysis import slo
from kubelog.analysis.diagnose import diagnose

SAMPLES = Path(__file__).resolve().parent.parent / "sample_logs"
TOP = (
    "{stamp}: INFO: Top latency metric: {{Resource:pods Subresource: Verb:LIST Scope:cluster "
    "Latency:{{Perc50:5.567ms Perc90:132.528ms Perc99:404.109ms Perc100:0s}} Count:123}}"
)
WARN = (
    "{stamp}: INFO: WARNING Top latency metric: {{Resource:nodes Subresource:status Verb:PATCH Scope:resource "
    "Latency:{{Perc50:7.518ms Perc90:932.768ms Perc99:1.188055s Perc100:0s}} Count:4567}}"
)


@pytest.fixture
def e2e_only(tmp_path, ingest_to):
    """The healthy 1.28 sample's e2e log alone, with the API-call latencies the density AfterEach prints."""
    lines = (SAMPLES / "healthy-1.28" / "e2e.log").read_text().split("\n")
    i = next(k for k, ln in enumerate(lines) if "Approx throughput" in ln)
    stamp = lines[i][:19]
    lines[i + 1 : i + 1] = [TOP.format(stamp=stamp), WARN.format(stamp=stamp)]
    p = tmp_path / "e2e.log"
    p.write_text("\n".join(lines))
    return ingest_to(p), p, i + 3  # the WARNING line's number


def test_slo_has_e2e_reported_api_rows(e2e_only):
    run, p, warn_line = e2e_only
    v = slo.evaluate(run).verdicts
    api = v[v["sli"] == "kubemark_2017.api_calls"]
    bad = api[api["group"] == "e2e-reported: PATCH nodes/status resource (e2e-log, flagged by the test)"]
    assert len(bad) == 1
    r = bad.iloc[0]
    assert (r["verdict"], r["observed_s"], r["n"], r["threshold_s"]) == ("FAIL", 1.188055, 4567, 1.0)
    assert r["evidence"] == f"{p}:{warn_line}"
    ok = api[api["group"] == "e2e-reported: LIST pods cluster (e2e-log)"].iloc[0]
    assert (ok["verdict"], ok["observed_s"]) == ("PASS", 0.404109)
    # a configured percentile the test did not print gives NO DATA, not a made-up value
    cfg = slo.SLOConfig.load()
    cfg.slis["kubemark_2017.api_calls"].percentile = 0.95
    v95 = slo.evaluate(run, cfg).verdicts
    rep = v95[v95["group"].str.startswith("e2e-reported: PATCH")].iloc[0]
    assert rep["verdict"] == "NO DATA" and "did not report p95" in rep["note"]


def test_diagnose_names_the_api_call_the_test_flagged(e2e_only):
    run, p, warn_line = e2e_only
    d = diagnose(run)
    f = next(x for x in d.findings if x.kind == "test_reported_api")
    assert f.title == "the test reported 1 API call group(s) over 1s: PATCH nodes/status resource p99 1.19s"
    assert f.severity == "error" and f.evidence[0].where == f"{p}:{warn_line}"
    assert "flagged by the test" in f.evidence[0].text


def test_diagnose_pod_startup_the_test_reported(real_logs, ingest_to):
    # CERN cl2 run (MANIFEST: PodStartupLatency Perc90 5287.081785 ms, threshold 5 s)
    d = diagnose(ingest_to(*sorted(real_logs.glob("cl2_cern_density_2022-06-08_*"))))
    f = next(x for x in d.findings if x.kind == "test_reported_pod_startup")
    assert f.title.startswith("the test reported pod startup p90 5.29s over 5s") and f.severity == "error"
    assert "p90 5.29s" in f.evidence[0].text


def test_a_reported_pod_startup_of_hours_defers_to_the_clock_finding(ingest_to):
    files = [p for p in sorted((SAMPLES / "legacy-skew-1.5").iterdir()) if p.name != "truth.json"]
    d = diagnose(ingest_to(*files))
    assert d.findings[0].kind == "clock" and d.findings[0].severity == "critical"
    f = next(x for x in d.findings if x.kind == "test_reported_pod_startup")
    assert f.severity == "info" and "the clock finding explains it" in f.detail and "9h58m" in f.title
