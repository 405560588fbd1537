"""Golden tests of the e2e-log format: the real conformance log and example blocks of docs/formats/e2e-log.md's eras."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from kubelog.formats import detect
from kubelog.formats.base import Head


def _acct(inp):
    assert inp["lines_read"] == inp["record_lines"] + inp["continuation_lines"] + sum(inp["counted"].values())
    assert "unaccounted (parser bug)" not in inp["counted"]
    assert not inp["errors"], inp["errors"]


def _ingest_text(ingest_to, tmp_path, text, name="build-log.txt", **kw):
    p = tmp_path / name
    p.write_bytes(text.encode() if isinstance(text, str) else text)
    run = ingest_to(p, **kw)
    _acct(run.inputs[0])
    return run


def test_conformance_log(real_logs, ingest_to):
    run = ingest_to(real_logs / "conformance_e2e_provedge_2021.log")
    inp = run.inputs[0]
    assert inp["format"] == "e2e-log"
    assert inp["lines_read"] == 14621
    _acct(inp)
    assert inp["year"] == 2021 and inp["year_source"] == "rfc3339-in-band"
    suite = inp["info"]["suite"]
    assert suite["will_run"] == 277 and suite["total"] == 4992 and suite["ran"] == 277
    assert suite["seconds"] == 4487.095 and suite["result"] == "SUCCESS"
    assert (suite["passed"], suite["failed"], suite["pending"], suite["skipped"]) == (277, 0, 0, 4715)
    assert suite["ginkgo_ran_s"] == pytest.approx(4489.1079659)
    assert inp["info"]["skipped_markers"] == 4715
    log = run.table("test_log")
    assert (log["level"] == "STEP").sum() == 2710
    assert set(log["clock"]) == {"test"}
    assert str(log["ts"].min()) == "2021-03-05 07:47:12.154959+00:00"
    specs = run.table("test_specs")
    assert len(specs) == 277 and (specs["state"] == "passed").all()
    first = specs.sort_values("line_no").iloc[0]
    assert first["spec"] == (
        "[sig-storage] Downward API volume should provide podname only [NodeConformance] [Conformance]"
    )
    slow = specs[
        specs["spec"].str.startswith(
            "[sig-network] Networking Granular Checks: Pods should function for node-pod communication: http"
        )
    ]
    assert slow["duration_s"].iloc[0] == pytest.approx(29.777)


def test_conformance_log_and_junit_dedup(real_logs, ingest_to):
    from kubelog.analysis.outcome import specs_frame

    run = ingest_to(real_logs / "conformance_e2e_provedge_2021.log", real_logs / "conformance_junit_provedge_2021.xml")
    for inp in run.inputs:
        _acct(inp)
    df = specs_frame(run)
    assert len(df) == 4992
    assert (df["state"] == "passed").sum() == 277 and (df["state"] == "skipped").sum() == 4715
    assert (df["origin"] == "junit+e2e-log").sum() == 277
    assert df.loc[df["state"] == "passed", "start_ts"].notna().sum() >= 270


DENSITY_FAILURE = """\
------------------------------
[sig-scalability] Density 
  [Feature:Performance] should allow starting 30 pods per node using ReplicationController with 0 secrets, 0 configmaps, 0 token projections, and 0 daemons
  /go/src/k8s.io/kubernetes/_output/dockerized/go/src/k8s.io/kubernetes/test/e2e/scalability/density.go:606
[BeforeEach] [sig-scalability] Density
  /go/src/k8s.io/kubernetes/_output/dockerized/go/src/k8s.io/kubernetes/test/e2e/framework/framework.go:125
STEP: Creating a kubernetes client
Jun 14 14:11:05.400: INFO: Density Pods: 100 out of 100 created, 0 running, 100 pending, 0 waiting, 0 inactive, 0 terminating, 0 unknown, 0 runningButNotReady 
Jun 14 14:11:15.400: INFO: E2E startup time for 100 pods: 2m40.055334722s
• Failure [857.731 seconds]
[sig-scalability] Density
/go/src/k8s.io/kubernetes/_output/dockerized/go/src/k8s.io/kubernetes/test/e2e/scalability/framework.go:22
  [Feature:Performance] should allow starting 30 pods per node using ReplicationController with 0 secrets, 0 configmaps, 0 token projections, and 0 daemons [It]
  /go/src/k8s.io/kubernetes/_output/dockerized/go/src/k8s.io/kubernetes/test/e2e/scalability/density.go:606

  Expected error:
      <*errors.errorString | 0xc0010b0420>: {
          s: "too high pod startup latency 50th percentile: 33m50.5899835s",
      }
      too high pod startup latency 50th percentile: 33m50.5899835s
  not to have occurred

/go/src/k8s.io/kubernetes/_output/dockerized/go/src/k8s.io/kubernetes/test/e2e/scalability/density.go:970
------------------------------
Summarizing 1 Failure:

[Fail] [sig-scalability] Density [It] [Feature:Performance] should allow starting 30 pods per node using ReplicationController with 0 secrets, 0 configmaps, 0 token projections, and 0 daemons 
/go/src/k8s.io/kubernetes/_output/dockerized/go/src/k8s.io/kubernetes/test/e2e/scalability/density.go:970

Ran 2 of 2162 Specs in 1700.012 seconds
FAIL! -- 1 Passed | 1 Failed | 0 Pending | 2160 Skipped 
--- FAIL: TestE2E (1700.03s)
"""


def test_failure_block(ingest_to, tmp_path):
    run = _ingest_text(ingest_to, tmp_path, DENSITY_FAILURE, year=2019)
    s = run.table("test_specs")
    assert len(s) == 1
    r = s.iloc[0]
    assert r["state"] == "failed" and r["duration_s"] == 857.731
    assert r["spec"].startswith("[sig-scalability] Density [Feature:Performance] should allow starting 30 pods")
    assert r["spec"].endswith("and 0 daemons")
    assert "too high pod startup latency 50th percentile: 33m50.5899835s" in r["failure_message"]
    assert r["failure_location"].endswith("scalability/density.go:970")
    assert r["last_step"] == "Creating a kubernetes client"
    assert str(r["start_ts"]) == "2019-06-14 14:11:05.400000+00:00"
    inp = run.inputs[0]
    assert inp["info"]["suite"]["ran"] == 2 and inp["info"]["suite"]["result"] == "FAIL"
    assert inp["info"]["failures"][0]["location"].endswith("density.go:970")
    p = run.table("progress").iloc[0]
    assert (p["label"], p["created"], p["expected"], p["pending"], p["runningButNotReady"]) == (
        "Density Pods",
        100,
        100,
        100,
        0,
    )
    perf = run.table("perf_summaries")
    assert perf.loc[perf["metric"] == "e2e_startup_time", "value"].iloc[0] == pytest.approx(160.055334722)


PROW_KUBEMARK = """\
I0421 06:13:41.920] Apr 21 06:13:41.920: INFO: >>> kubeConfig: /workspace/kubernetes/test/kubemark/resources/kubeconfig.kubemark
I0421 06:16:47.558] Apr 21 06:16:47.557: INFO: 10% worst e2e total latencies: [{density-latency-pod-21-4q67b hollow-node-8gx07 1.992704652s} {density-latency-pod-22-dk2x4 hollow-node-svhwh 1.99282465s}]
I0421 06:16:47.558] Apr 21 06:16:47.557: INFO: perc50: 1.164956975s, perc90: 1.990637065s, perc99: 2.105569541s
I0421 06:16:47.559] Apr 21 06:16:47.557: INFO: Approx throughput: 2845.486622004402 pods/min
I0421 06:16:47.559] Apr 21 06:16:47.557: INFO: Pod startup latency: {
I0421 06:16:47.559]   "latency": {
I0421 06:16:47.559]     "Perc50": 1194643832,
I0421 06:16:47.559]     "Perc90": 1746599261,
I0421 06:16:47.559]     "Perc99": 2064082893,
I0421 06:16:47.559]     "Perc100": 4215510634
I0421 06:16:47.559]   }
I0421 06:16:47.559] }
I0421 06:22:15.083] Apr 21 06:22:15.083: INFO: Cluster saturation time: {
I0421 06:22:15.083]   "timeToStaturate": 160055334722,
I0421 06:22:15.083]   "numberOfNodes": 100,
I0421 06:22:15.083]   "numberOfPods": 3000,
I0421 06:22:15.083]   "throughput": 18.75
I0421 06:22:15.083] }
I0421 06:22:15.083] 
I0421 06:22:15.147] Apr 21 06:22:15.117: INFO: [Result:Performance] {
I0421 06:22:15.147]   "version": "v1",
I0421 06:22:15.147]   "dataItems": [
I0421 06:22:15.147]     {
I0421 06:22:15.147]       "data": {
I0421 06:22:15.147]         "Perc50": 4.252,
I0421 06:22:15.147]         "Perc90": 7.232,
I0421 06:22:15.147]         "Perc99": 25.383
I0421 06:22:15.147]       },
I0421 06:22:15.147]       "unit": "ms",
I0421 06:22:15.147]       "labels": {
I0421 06:22:15.147]         "Resource": "pods",
I0421 06:22:15.147]         "Verb": "DELETE"
I0421 06:22:15.147]       }
I0421 06:22:15.147]     }
I0421 06:22:15.147]   ]
I0421 06:22:15.147] }
I0421 06:22:15.147] 
I0421 06:22:15.147] [Finish:Performance]
I0421 06:22:16.000] Apr 21 06:22:16.000: INFO: Top latency metric: {Resource:pods Verb:DELETE Latency:{Perc50:4.252ms Perc90:7.232ms Perc99:25.383ms Perc100:0s}}
I0421 06:22:16.000] Apr 21 06:22:16.000: INFO: WARNING Top latency metric: {Resource:nodes Verb:PUT Latency:{Perc50:7.518ms Perc90:932.768ms Perc99:1.188055s}}
W0421 06:22:17.000] I0421 06:22:17.000000   14261 runners.go:184] load-small-12 Pods: 5 out of 5 created, 5 running, 0 pending, 0 waiting, 0 inactive, 0 terminating, 0 unknown, 0 runningButNotReady 
"""


def test_prow_kubemark_blocks(ingest_to, tmp_path):
    run = _ingest_text(ingest_to, tmp_path, PROW_KUBEMARK, year=2017)
    inp = run.inputs[0]
    assert inp["format"] == "e2e-log" and inp["wrapper"] == "prow"
    perf = run.table("perf_summaries")
    ps = perf[(perf["metric"] == "pod_startup") & ~perf["labels"].str.contains("Pod startup latency", na=False)].iloc[0]
    assert (ps["p50_s"], ps["p90_s"], ps["p99_s"]) == pytest.approx((1.164956975, 1.990637065, 2.105569541))
    js = perf[(perf["metric"] == "pod_startup") & perf["labels"].str.contains("Pod startup latency", na=False)].iloc[0]
    assert js["p100_s"] == pytest.approx(4.215510634)
    sat = perf[perf["metric"] == "saturation_time"].iloc[0]
    assert sat["value"] == pytest.approx(160.055334722)
    assert perf.loc[perf["metric"] == "saturation_throughput", "value"].iloc[0] == 18.75
    assert perf.loc[perf["metric"] == "approx_throughput", "value"].iloc[0] == pytest.approx(2845.486622004402)
    rp = perf[(perf["metric"] == "api_call") & perf["labels"].str.contains('"version"', na=False)].iloc[0]
    assert rp["p99_s"] == pytest.approx(0.025383) and json.loads(rp["labels"])["Verb"] == "DELETE"
    top = perf[perf["labels"].str.contains("Top latency metric", na=False)]
    assert len(top) == 2 and top["p99_s"].tolist() == pytest.approx([0.025383, 1.188055])
    pods = run.table("test_pod_latencies")
    assert pods["pod"].tolist() == ["density-latency-pod-21-4q67b", "density-latency-pod-22-dk2x4"]
    assert pods["node"].tolist() == ["hollow-node-8gx07", "hollow-node-svhwh"]
    assert pods["latency_s"].tolist() == pytest.approx([1.992704652, 1.99282465])
    prog = run.table("progress")
    assert prog["label"].tolist() == ["load-small-12"]
    log = run.table("test_log")
    assert log["wrapper_ts"].notna().all()
    assert str(log["ts"].iloc[0]) == "2017-04-21 06:13:41.920000+00:00"


JENKINS = """\
15:32:43 Dec 10 23:32:17.525: INFO: nginx-controller-h7wk1                                 e2e-gce-builder-2-5-minion-1izt  Running         [{Ready True 0001-01-01 00:00:00 +0000 UTC 2015-12-10 23:30:27 +0000 UTC  }]
15:32:44 Jan  8 14:47:05.080: INFO: density90-41575bd4-b60e-11e5-b76b-7446a0bae05f Pods: 90 out of 90 created, 31 running, 59 pending, 0 waiting, 0 inactive, 0 terminating, 0 unknown, 0 runningButNotReady 
15:32:45 Jan  8 14:47:15.081: INFO: Error building encoder: json: unsupported value: NaN
15:32:45 Jan  8 14:47:15.081: INFO: Cluster saturation time: 
11:24:43 • Failure [1554.510 seconds]
"""


def test_jenkins_rollover_nan(ingest_to, tmp_path):
    run = _ingest_text(ingest_to, tmp_path, JENKINS, year=2015)
    assert run.inputs[0]["wrapper"] == "jenkins"
    log = run.table("test_log")
    assert str(log["ts"].iloc[0]).startswith("2015-12-10 23:32:17.525")
    assert str(log["ts"].iloc[1]).startswith("2016-01-08 14:47:05.08")  # Dec → Jan rollover
    perf = run.table("perf_summaries")
    nan = perf[perf["metric"] == "saturation_time"].iloc[0]
    assert "NaN" in nan["labels"] and nan["value"] != nan["value"]
    assert run.table("progress")["running"].tolist() == [31]


ANSI = (
    "\x1b[1mSTEP\x1b[0m: Creating a kubernetes client\n"
    "Mar  3 03:12:59.815: INFO: >>> kubeConfig: /x\n"
    "\x1b[32mâ€¢ [SLOW TEST:533.505 seconds]\x1b[0m\n"
    "[k8s.io] Density\n/go/src/x/framework.go:694\n"
    "  [Feature:Performance] should allow starting 30 pods per node\n  /go/src/x/density.go:736\n"
    "------------------------------\n"
    "\x1b[36mS\x1b[0m\x1b[36mS\x1b[0mSSI0603 10:00:13.772272    1 e2e.go:1] glued\n"
    "Ran 1 of 213 Specs in 79.625 seconds\n"
    "SUCCESS! -- 1 Passed | 0 Failed | 0 Pending | 212 Skipped PASS\n"
)


def test_ansi_slow_test_glued_skips(ingest_to, tmp_path):
    run = _ingest_text(ingest_to, tmp_path, ANSI, year=2017)
    inp = run.inputs[0]
    assert inp["info"]["skipped_markers"] == 4
    s = run.table("test_specs").iloc[0]
    assert s["state"] == "passed" and s["duration_s"] == 533.505
    assert s["spec"] == "[k8s.io] Density [Feature:Performance] should allow starting 30 pods per node"
    assert inp["info"]["suite"]["skipped"] == 212
    assert (run.table("test_log")["level"] == "I").sum() == 1


def test_sniff_does_not_claim_klog():
    klog = b"I0421 06:13:41.920000    1 server.go:1] hello\n" * 20
    f = detect(Head("x.log", klog))
    assert f is None or f.name != "e2e-log"
    assert detect(Head("b.txt", DENSITY_FAILURE.encode())).name == "e2e-log"
    assert detect(Head("b.txt", PROW_KUBEMARK.encode())).name == "e2e-log"


_pieces = st.sampled_from(
    DENSITY_FAILURE.splitlines()
    + PROW_KUBEMARK.splitlines()
    + JENKINS.splitlines()
    + ["SSSS", "•", "", '{"msg":"PASSED x"}', "\x1b[1mSTEP\x1b[0m: y", "Mar 99 99:99:99.999: INFO: bad"]
)


@pytest.mark.slow
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.one_of(_pieces, st.text(max_size=40)), max_size=40))
def test_hypothesis_accounting(tmp_path_factory, lines):
    from kubelog.engine import Options, ingest

    d = tmp_path_factory.mktemp("h")
    p = d / "e2e.log"
    p.write_text("\n".join(["Mar  3 03:12:59.815: INFO: start"] + lines) + "\n", encoding="utf-8", errors="replace")
    run = ingest([str(p)], d / "run", options=Options(format=["e2e-log"], year=2020))
    inp = run.inputs[0]
    assert inp["lines_read"] == inp["record_lines"] + inp["continuation_lines"] + sum(inp["counted"].values())
    assert "unaccounted (parser bug)" not in inp["counted"]
    assert not any("failed:" in e for e in inp["errors"]), inp["errors"]


# -- issue 20: stamps converted from caches (civil days, the zone's offset per local minute) against the
# -- reference (numpy and pandas per stamp), across DST transitions in named zones -------------------------

import io  # noqa: E402

import pyarrow as pa  # noqa: E402

from kubelog.formats import e2e as E2E  # noqa: E402
from kubelog.formats.base import Context  # noqa: E402


def _e2e_tables(text: str, tz: str, columnar: bool):
    got: dict[str, list] = {}
    ctx = Context(0, "e2e.log", lambda t, d: got.setdefault(t, []).append(d), year=2021, tz=tz)
    E2E.parse(io.BufferedReader(io.BytesIO(text.encode())), ctx, columnar=columnar)
    ctx.check_accounting()
    return {k: pa.concat_tables(v) for k, v in got.items()}, ctx


# New York: 2021-03-14 02:00-03:00 does not exist, 2021-11-07 01:00-02:00 happens twice; Lord Howe moves 30 min
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    tz=st.sampled_from(["UTC", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "+05:30"]),
    stamps=st.lists(
        st.tuples(
            st.sampled_from([("Mar", 14), ("Nov", 7), ("Apr", 4), ("Oct", 3)]),
            st.integers(0, 3),
            st.integers(0, 59),
            st.integers(0, 59),
            st.integers(0, 999),
        ),
        min_size=1,
        max_size=30,
    ),
)
def test_cached_stamp_conversion_gives_what_the_reference_gives(tz, stamps):
    lines = [
        "Running Suite: Kubernetes e2e suite",
        "Will run 1 of 3 specs",
        "------------------------------",
        "[sig-scalability] Density",
        "  /go/src/density.go:1",
    ]
    for (mon, day), h, mi, s, ms in stamps:
        lines.append(f"{mon} {day:2d} {h:02d}:{mi:02d}:{s:02d}.{ms:03d}: INFO: E2E startup time for 3 pods: 1.5s")
        lines.append(
            f"I{['Mar', 'Nov', 'Apr', 'Oct'].index(mon) + 3:02d}{day:02d} {h:02d}:{mi:02d}:{s:02d}.{ms:03d}000"
            f"   14261 e2e.go:185] glog line"
        )
        lines.append("STEP: a step")
    lines.append("• [SLOW TEST:12.5 seconds]")
    text = "\n".join(lines) + "\n"
    fast, fctx = _e2e_tables(text, tz, True)
    slow, sctx = _e2e_tables(text, tz, False)
    assert fast.keys() == slow.keys()
    for t in fast:
        assert fast[t].equals(slow[t]), (t, tz)
    assert (fctx.record_lines, fctx.continuation_lines, fctx.info) == (
        sctx.record_lines,
        sctx.continuation_lines,
        sctx.info,
    )


@pytest.mark.parametrize("tz", ["UTC"])  # named zones: the generated test above (the reference is ~1 ms a stamp there)
def test_real_e2e_log_same_on_both_paths(real_logs, tz):
    text = (real_logs / "conformance_e2e_provedge_2021.log").read_text()
    fast, fctx = _e2e_tables(text, tz, True)
    slow, sctx = _e2e_tables(text, tz, False)
    assert fast.keys() == slow.keys() and all(fast[t].equals(slow[t]) for t in fast)
    assert fast["test_log"].num_rows > 10_000 and fctx.record_lines == sctx.record_lines


# -- issue 20, round 7: the chunk classifier (pyarrow.compute on whole chunks, test_log rows per column) against
# -- the per-line reference (each line through _Parser.line), on odd inputs and small blocks --------------------

_ODD = [
    "Mar  3 03:12:59.815: INFO: plain",
    "Dec 31 23:59:59.999: INFO: end of the year",
    "Jan  1 00:00:01.000: INFO: month back: next year",
    "Mar ٣ 03:12:59.815: INFO: Arabic-Indic digit (Python's \\d, not RE2's)",
    "Mar 35 03:12:59.815: INFO: day out of range",
    "Mar  3 03:12:5",  # cut lines
    "Mar  3 03:12:59.815: INF",
    "Nov  7 01:30:00.000: INFO: ambiguous in New York",
    "Mar 14 02:30:00.000: INFO: nonexistent in New York",
    "33 Apr 20 10:00:00.000: INFO: a pasted line number",
    "I0108 14:46:43.842853   14261 e2e.go:185] glog line",
    "E1308 14:46:43.842853   14261 e2e.go:185]no space",
    "STEP: a step",
    "STEP: Creating {json-ish}",
    '{"msg":"PASSED [sig-x] y","total":3,"completed":1}',
    "------------------------------",
    "------------------------------\x0b",  # \v: Python's \s, not RE2's
    "------------------------------\u00a0",
    "[BeforeEach] [k8s.io] Density",
    "  /go/src/density.go:125",
    "[sig-scalability] Density",
    "  should do it [It]",
    "• [SLOW TEST:12.5 seconds]",
    "• Failure [1.5 seconds]",
    "• Failure in Spec Setup (BeforeEach) [3.5 seconds]",
    "•! Panic [0.1 seconds]",
    "â€¢ [SLOW TEST:3.2 seconds]",
    '•{"msg":"PASSED [sig-x] glued","total":3}',
    "•Mar  3 03:12:59.815: INFO: glued to a bullet",
    "SSSS",
    "S",
    "SSSSMar  5 03:12:59.815: INFO: glued to markers",
    "SSSSSTEP: glued step",
    "SSSSI0108 14:46:43.842853   14261 e2e.go:185] glued glog",
    "SSSS   ",
    "SSSS\x1c",
    "Running Suite: Kubernetes e2e suite",
    "Will run 3 of 5 specs",
    "Ran 3 of 5 Specs in 10.5 seconds",
    "SUCCESS! -- 3 Passed | 0 Failed | 0 Pending | 2 Skipped",
    "FAIL! -- 1 Passed | 2 Failed | 0 Pending | 2 Skipped",
    "Summarizing 1 Failure:",
    "[Fail] [sig-x] a failed spec [It]",
    "PASS\x1c",
    "PASS\u2003",
    "Ginkgo ran 1 suite in 1h2m3.5s",
    "INFO: bare message",
    "perc50: 1s, perc90: 2s, perc99: 3s",
    "10% worst schedule-to-run latencies: [{pod-1 node-1 1.5s} {pod-2 node-2 2s}]",
    "Mar  3 03:12:59.815: INFO: 10% worst e2e total latencies: [{ns/pod-1 node-1 1.5s} {Name:p Node:n Latency:2s}]",
    "Mar  3 03:12:59.815: INFO: perc50: 1.1s, perc90: 1.9s, perc99: 2.1s; threshold 5s",
    "Mar  3 03:12:59.815: INFO: Density Pods: 3 out of 3 created, 3 running, 0 pending, 0 waiting, 0 inactive, "
    "0 unknown, 0 runningButNotReady",
    "Mar  3 03:12:59.815: INFO: E2E startup time for 3 pods: 1.5s",
    "Mar  3 03:12:59.815: INFO: Throughput (pods/s) during cluster saturation phase: 12.5",
    "Mar  3 03:12:59.815: INFO: Approx throughput: 2845.4 pods/min",
    "Mar  3 03:12:59.815: INFO: Error building encoder: json: unsupported value: NaN",
    "Mar  3 03:12:59.815: INFO: API calls latencies: {",
    '  "apicalls": [{"resource": "pods", "verb": "LIST", "latency": {"Perc50": 1000, "Perc99": 3000}}]',
    "}",
    "Mar  3 03:12:59.815: INFO: Cluster saturation time: ",
    '{"timeToSaturate": 1500000000, "numberOfNodes": 3, "throughput": 2.5}',
    "Mar  3 03:12:59.815: INFO: WARNING - requests with too high latency: {verb:GET resource:pods quantile:0.99 "
    "latency:1500000000}",
    "Mar  3 03:12:59.815: INFO: Top latency metric: {Resource:pods Subresource: Verb:LIST Scope:cluster "
    "Latency:{Perc50:1s Perc90:2s Perc99:3s} Count:10}",
    'Mar  3 03:12:59.815: INFO: Summary: {"version": "v1", "dataItems": [{"data": {"Perc50": 1.5}, "unit": "ms", '
    '"labels": {"Metric": "x"}}]}',
    'Mar  3 03:12:59.815: INFO: Escaped: {"data\\u0049tems": [{"data": {"Perc50": 1}, "unit": "ms"}]}',
    "Mar  3 03:12:59.815: INFO: deep: " + '{"a": [' * 600 + "1" + "]}" * 600,  # RecursionError: an error
    "Mar  3 03:12:59.815: INFO: Pod x: {Phase:Running Conditions:[{Ready True}]}",
    "Mar  3 03:12:59.815: INFO: a pod dump follows:",
    '{"kind": "Pod", "metadata": {"name": "x"}}',
    '  "dataItems": [{"data": {"Perc99": 2}, "unit": "s", "labels": {"Metric": "y"}}]}',
    "random text nobody claims",
    "Well: 10% worst schedule-to-run latencies: [{pod-1 node-1 1.5s}]",  # not at the start: not a record
    "",
    "   ",
    "µs and other non-ASCII: 1.5µs",
    "\x1b[1mSTEP\x1b[0m: coloured",
    "\x1b[32m•\x1b[0m",
    # round 9: the Logf level and message cut by bytes per level length, bullets classified by RE2, hit tests on
    # Logf/bare/glog records only, delimiters without continuation lines left uninterpreted
    "Mar  3 03:12:59.815: INFO:no space after the level",
    "Mar  3 03:12:59.815: INFO:",
    "Mar  3 03:12:59.815: INFO: ",
    "Mar  3 03:12:59.815: INFO:  two spaces",
    "Mar  3 03:12:59.815: WARNING: seven letters",
    "Mar  3 03:12:59.815: E: one letter",
    "Mar  3 03:12:59.815: ABCDEFGHIJKLMNOP: sixteen letters",
    "Mar  3 03:12:59.815: ABCDEFGHIJKLMNOPQ: seventeen letters",
    "Mar  3 03:12:59.815: ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGH:no space, a long level",
    "Mar  3 03:12:59.815: INFO: a: colon: in: the message",
    "•",
    "â€¢",
    "•  ",
    "•! Panic in Spec Setup (BeforeEach) [0.1 seconds]",
    "â€¢ Failure [2.0 seconds]",
    "•S",
    "•STEP: glued to a bullet",
    "•µs",
    "STEP: {not a json block under a STEP}",
    "STEP: Pods: 1 out of 2 created, 1 running, 1 pending, 0 waiting, 0 inactive, 0 unknown, 0 runningButNotReady",
    "[sig-x] Foo [It]",
    '{"msg":"PASSED [sig-x] after a delimiter","total":3,"completed":2}',
    "------------------------------",
]


def _both_paths(text: str, tz: str, block: int):
    from functools import partial

    from kubelog.sources import lines as L

    out = []
    for per_line in (False, True):
        got: dict[str, list] = {}
        ctx = Context(0, "e2e.log", lambda t, d: got.setdefault(t, []).append(d), year=2021, tz=tz)  # noqa: B023
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(L, "iter_chunks", partial(L.iter_chunks, block=block))
            E2E.parse(io.BufferedReader(io.BytesIO(text.encode("utf-8", "replace"))), ctx, per_line=per_line)
        ctx.check_accounting()
        out.append(({k: pa.concat_tables(v) for k, v in got.items()}, ctx))
    return out


def _assert_same(a, b):
    (ta, ca), (tb, cb) = a, b
    assert ta.keys() == tb.keys()
    for t in ta:
        assert ta[t].schema == tb[t].schema, t
        for c in ta[t].column_names:
            assert ta[t].column(c).to_pylist() == tb[t].column(c).to_pylist(), (t, c)
    for f in ("lines_read", "record_lines", "continuation_lines", "info", "errors"):
        assert getattr(ca, f) == getattr(cb, f), f
    assert {k: (v.count, v.examples) for k, v in ca.stats.items()} == {
        k: (v.count, v.examples) for k, v in cb.stats.items()
    }


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    lines=st.lists(st.one_of(st.sampled_from(_ODD), _pieces, st.text(max_size=30)), min_size=1, max_size=60),
    wrapper=st.sampled_from(["", "I0421 06:13:41.920] ", "15:32:43 "]),
    ansi=st.booleans(),
    tz=st.sampled_from(["UTC", "America/New_York", "+05:30"]),
    block=st.sampled_from([64, 400, 1 << 20]),
)
def test_chunk_classifier_gives_what_the_per_line_parser_gives(lines, wrapper, ansi, tz, block):
    if ansi:
        lines = [f"\x1b[0m{x}" if i % 3 == 0 else x for i, x in enumerate(lines)]
    text = "".join(f"{wrapper}{x}\n" for x in lines)
    _assert_same(*_both_paths(text, tz, block))


@pytest.mark.parametrize("tz,block", [("UTC", 1 << 22), ("America/New_York", 50_000)])
def test_real_e2e_log_chunk_classifier_same_as_per_line(real_logs, tz, block):
    text = (real_logs / "conformance_e2e_provedge_2021.log").read_text()
    a, b = _both_paths(text, tz, block)
    _assert_same(a, b)
    assert a[0]["test_log"].num_rows == 11224 and a[0]["test_specs"].num_rows == 277


@pytest.mark.parametrize(
    "name",
    [
        "announcement_and_slow_test.txt",
        "density_output_pasted.txt",
        "ginkgo_failure_prow.log",
        "ginkgo_summary_plain.txt",
        "logf_json_block.log",
        "steps_only.txt",
        "too_high_latency_2015.log",
        "two_logf_lines.log",
    ],
)
def test_e2e_samples_chunk_classifier_same_as_per_line(name):
    from pathlib import Path

    text = (Path(__file__).parent / "samples" / "e2e-log" / name).read_text()
    _assert_same(*_both_paths(text, "UTC", 200))


def test_first_chars_reads_the_buffers_of_sliced_and_large_arrays():
    a = pa.array(["xa", "", "Mar", "b", ""] * 3)
    for arr in (a, a.slice(1, 7), a.cast(pa.large_string()).slice(2, 5), pa.array(["", ""]), pa.array([], pa.string())):
        assert E2E._first_chars(arr).tolist() == [ord(x[0]) if x else 0 for x in arr.to_pylist()]


# -- issue 20, round 9: the same comparison on a fixed text holding every odd line of _ODD in several orders (the
# -- generated test above draws some of them), and the per-line code the chunk path no longer runs ---------------


@pytest.mark.parametrize("tz,block", [("UTC", 64), ("UTC", 1 << 20), ("America/New_York", 400)])
def test_every_odd_line_chunk_classifier_same_as_per_line(tz, block):
    import random

    rnd = random.Random(20)
    lines = []
    for _ in range(4):
        lines += ["------------------------------", "[sig-x] Foo", "  should do it", "  /go/src/x.go:1", *_ODD]
        shuffled = list(_ODD)
        rnd.shuffle(shuffled)
        lines += shuffled
    _assert_same(*_both_paths("".join(f"{x}\n" for x in lines), tz, block))


def _spec_blocks(n: int) -> str:
    """``n`` passing specs as ginkgo v1 prints them with ``--progress``: an empty delimiter before the JSON progress line,
    a bullet glued to it, the announcement, Logf lines and steps."""
    out = []
    for i in range(n):
        out += [
            "------------------------------",
            f"[sig-x] Foo should do {i} [Conformance]",
            "  /go/src/x.go:1",
            f"Mar  3 03:12:{i % 60:02d}.815: INFO: step {i}",
            f"STEP: doing {i}",
            f"Mar  3 03:12:{i % 60:02d}.900: WARNING: done {i}",
            f'•{{"msg":"PASSED [sig-x] Foo should do {i} [Conformance]","total":3,"completed":{i}}}',
            "------------------------------",
            f'{{"msg":"PASSED [sig-x] Foo {i}","total":3,"completed":{i}}}',
            "•",
        ]
    return "".join(f"{x}\n" for x in out)


def test_chunk_path_leaves_bullets_and_empty_delimiters_to_no_per_line_code():
    """An end block's bullet line is classified by RE2 (no :func:`_classify` call) and a delimiter with no
    continuation line is not interpreted (no :meth:`_Parser._announce` call): the tables stay the per-line ones."""
    calls = {"classify": 0, "announce": 0}
    real_classify, real_announce = E2E._classify, E2E._Parser._announce

    def classify(t):
        calls["classify"] += 1
        return real_classify(t)

    def announce(self, r):
        calls["announce"] += not r["cont"]
        return real_announce(self, r)

    text = _spec_blocks(50)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(E2E, "_classify", classify)
        mp.setattr(E2E._Parser, "_announce", announce)
        ctx = Context(0, "e2e.log", lambda t, d: None, year=2021, tz="UTC")
        E2E.parse(io.BufferedReader(io.BytesIO(text.encode())), ctx)
    assert calls == {"classify": 0, "announce": 0}
    fast, slow = _both_paths(text, "UTC", 1 << 20)
    _assert_same(fast, slow)
    assert fast[0]["test_specs"].num_rows == 50 and set(fast[0]["test_log"].column("level").to_pylist()) == {
        "GINKGO",
        "INFO",
        "STEP",
        "WARNING",
        "END",
        "PROGRESS",
    }


def test_chunk_path_runs_with_the_garbage_collector_paused():
    import gc

    seen = []
    real = E2E._Parser._close_records

    def close(self, *a):
        seen.append(gc.isenabled())
        return real(self, *a)

    assert gc.isenabled()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(E2E._Parser, "_close_records", close)
        ctx = Context(0, "e2e.log", lambda t, d: None, year=2021, tz="UTC")
        with pytest.MonkeyPatch.context() as mp2:
            from functools import partial

            from kubelog.sources import lines as L

            mp2.setattr(L, "iter_chunks", partial(L.iter_chunks, block=4096))
            E2E.parse(io.BufferedReader(io.BytesIO(_spec_blocks(40).encode())), ctx)
    assert len(seen) > 3 and not any(seen) and gc.isenabled()


_ZONES = ["UTC", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "Europe/Dublin", "+05:30"]
_CHANGES = [
    1615701600,  # 2021-03-14 06:00 (local wall clock): New York's spring change that morning
    1636261200,  # 2021-11-07 05:00: its autumn change
    1617472800,  # 2021-04-03 18:00: Lord Howe's half-hour change the next morning
    1633183200,  # 2021-10-02 14:00
    1616893200,  # 2021-03-28 01:00: Dublin's
    -3600,  # before the epoch
]


@pytest.mark.parametrize("tz", _ZONES)
@pytest.mark.parametrize("warm", [False, True])
def test_local_to_utc_many_is_the_per_value_conversion(tz, warm):
    """Round 9: the columnar paths convert a column by LocalToUTC.many, the per-line ones a value at a time: every
    ~7 minutes over 8 hours around each change, and the first and last nanosecond of some minutes."""
    import numpy as np

    from kubelog.formats import e2e_util as U

    for base in _CHANGES:
        local = [base * 10**9 + o for o in range(-4 * 3600 * 10**9, 4 * 3600 * 10**9, 433_500_000_123)]
        local += [(x // 60_000_000_000) * 60_000_000_000 + d for x in local[::7] for d in (0, 59_999_999_999)]
        one, col = U.LocalToUTC(tz), U.LocalToUTC(tz)
        if warm:  # minutes already in the cache, from values before
            col.many(np.array(local[::2], dtype=np.int64))
        assert col.many(np.array(local, dtype=np.int64)).tolist() == [one(x) for x in local], (tz, base)
