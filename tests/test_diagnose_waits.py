"""kubelog diagnose locates a failure by its own log line, the spec's STEPs and the wait that failed
(issue 18): density timeouts of the latency phase on 1.14 and 1.28 runs made by kubelog synth, a
kube-system wait right after the spec header that is not the failing one, and pod-log follows that
are long-running, not a sign of etcd trouble."""

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from kubelog.analysis.diagnose import diagnose

SPECS = {
    "1.14": dict(seed=12, nodes=3, skew="test=35895.2s,nodes=0.8s"),
    "1.28": dict(seed=5, nodes=5, skew="test=0s,nodes=0s"),
}


@pytest.fixture(scope="module", params=sorted(SPECS))
def latency_timeout(request, tmp_path_factory):
    from kubelog.engine import Options, ingest
    from kubelog.synth import generate

    d = tmp_path_factory.mktemp("latency-" + request.param)
    truth = generate(d / "art", era=request.param, timeout_failure="latency", **SPECS[request.param])
    files = [p for p in sorted((d / "art").iterdir()) if p.name != "truth.json"]
    run = ingest([str(p) for p in files], d / "run", options=Options())
    return run, truth, d / "art"


def _line_of(path, needle):
    return next(i for i, ln in enumerate(path.read_text().splitlines(), 1) if needle in ln)


def test_latency_pod_timeout_is_finding_one_with_its_window_and_the_hung_node(latency_timeout):
    run, truth, art = latency_timeout
    fail = next(f for f in truth["failures"] if f.get("phase") == "latency")
    rc = re.search(r"replication controller (\S+) pods", fail["message"]).group(1)
    d = diagnose(run)
    top = d.findings[0]
    assert d.failed and top.rank == 1 and top.severity == "critical" and top.kind == "failure:pods_not_running"
    # the wait that timed out, with its limit, its span on the test clock and the step it ran in
    assert top.title.startswith(
        f"timed out after 10m0.0s waiting for the pods of replication controller {rc} Running ("
    )
    assert "in step 'Scheduling additional Pods to measure startup latencies'" in top.title
    # the window is that wait (truth: when the wait started and when it gave up, test clock)
    assert abs(pd.Timestamp(d.window["test_start"]).value - fail["wait_started_at_test_clock_ns"]) < 1e9
    assert abs(pd.Timestamp(d.window["test_end"]).value - fail["at_test_clock_ns"]) < 1e7
    assert d.window["reason"].startswith(f"the wait that failed: the pods of replication controller {rc} Running")
    # the failure's own line (ExpectNoError's "Unexpected error occurred") is evidence, not a later STEP
    wh = [e.where for e in top.evidence]
    assert f"{art / 'e2e.log'}:{_line_of(art / 'e2e.log', 'Unexpected error occurred')}" in wh
    assert "Nearest STEP: 'Scheduling additional Pods to measure startup latencies'" in top.detail
    # the hung node among the top 3 findings
    for node in fail["stalled_nodes"]:
        assert any(node in f.title for f in d.findings[:3]), [f.title for f in d.findings[:3]]
    stuck = next(f for f in d.findings if f.kind == "stuck_pods")
    assert stuck.rank <= 3 and stuck.severity == "critical"
    assert any(p in " ".join(e.text for e in stuck.evidence) for p in fail["stalled_pod_names"])


KUBE_SYSTEM = (
    "{stamp}.490: INFO: Waiting up to 5m0s for all pods (need at least 0) in namespace 'kube-system' to be "
    "running and ready\n"
    "{stamp}.520: INFO: 0 / 0 pods in namespace 'kube-system' are running and ready (0 seconds elapsed)\n"
)


@pytest.mark.parametrize("message", [None, "timed out waiting for the condition"])
def test_a_wait_that_ended_after_the_spec_header_is_not_the_failure(latency_timeout, tmp_path, ingest_to, message):
    """A kube-system wait that ended 0.03 s after the spec header neither names the failure nor moves the
    window before the test started (seen on a 1.14 density run)."""
    run, truth, art = latency_timeout
    src = (art / "e2e.log").read_text()
    header = re.search(r"\[It\] \[Feature:Performance\][^\n]*\n  [^\n]*density\.go:\d+\n", src).group(0)
    first = re.search(r"^([A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2})\.\d{3}: INFO: Setting resource", src, re.M).group(1)
    src = src.replace(header, header + KUBE_SYSTEM.format(stamp=first))
    if message:  # the same failure with the text of a plain wait.Poll timeout
        err = next(f for f in truth["failures"] if f.get("phase") == "latency")["message"]
        src = src.replace(err.replace('"', '\\"'), message).replace(err, message)
    p = tmp_path / "e2e.log"
    p.write_text(src)
    d = diagnose(ingest_to(p))
    top = d.findings[0]
    assert "kube-system" not in top.title
    it_start = pd.Timestamp(f"{truth['t0_utc'][:4]} {first}", tz="UTC")
    assert pd.Timestamp(d.window["test_start"]) >= it_start
    if message is None:
        assert top.title.startswith("timed out after 10m0.0s waiting for the pods of replication controller")
    else:
        assert "it is not the wait that failed" in top.detail


LOG_FOLLOW = """\
I0620 12:30:00.100000       1 wrap.go:47] GET /api/v1/namespaces/default/pods/web-1: (2.1ms) 200 [kubectl/v1.14.3 (linux/amd64) kubernetes/5e53fd6 10.0.0.5:40000]
I0620 12:30:01.100000       1 wrap.go:47] GET /api/v1/namespaces/default/pods: (3.5ms) 200 [kubectl/v1.14.3 (linux/amd64) kubernetes/5e53fd6 10.0.0.5:40001]
I0620 12:31:05.200000       1 trace.go:81] Trace[1046]: "Get /api/v1/namespaces/default/pods/web-1/log" (started: 2019-06-20 12:30:00.150000000 +0000 UTC m=+3600.150000000) (total time: 1m5.05s):
Trace[1046]: [1m5.05s] [1m5.05s] END
I0620 12:31:05.200100       1 wrap.go:47] GET /api/v1/namespaces/default/pods/web-1/log?follow=true: (1m5.05s) 200 [kubectl/v1.14.3 (linux/amd64) kubernetes/5e53fd6 10.0.0.5:40002]
I0620 12:31:06.100000       1 wrap.go:47] GET /api/v1/namespaces/default/pods/web-1: (1.9ms) 200 [kubectl/v1.14.3 (linux/amd64) kubernetes/5e53fd6 10.0.0.5:40003]
"""


def test_pod_log_follow_trace_is_long_running_not_etcd(tmp_path, ingest_to):
    p = tmp_path / "kube-apiserver.log"
    p.write_text(LOG_FOLLOW)
    d = diagnose(ingest_to(p))
    assert not any("etcd" in f.title + f.detail for f in d.findings)
    assert not any(f.kind == "traces" for f in d.findings)
    f = next(f for f in d.findings if f.kind == "traces_long_running")
    assert f.title == "1 Trace block(s) of long-running requests (pod log reads, watches), longest 1m5.0s"
    assert f.severity == "info" and f.evidence[0].where == f"{p}:3"


def test_trace_url_from_the_name_of_old_formats():
    from kubelog.analysis.diagnose import trace_long_running, trace_url

    assert (
        trace_url("Get /api/v1/namespaces/default/pods/web-1/log", None) == "/api/v1/namespaces/default/pods/web-1/log"
    )
    assert trace_url("Get", "/api/v1/nodes/n1") == "/api/v1/nodes/n1"
    assert trace_url("GuaranteedUpdate etcd3", "") == ""
    assert trace_long_running("Get /api/v1/namespaces/default/pods/web-1/log", None)
    assert trace_long_running("Get", "/api/v1/namespaces/default/pods/web-1/log")  # T3: url field
    assert trace_long_running("List", "/api/v1/pods?watch=true&resourceVersion=1")
    assert not trace_long_running("Get /api/v1/namespaces/default/pods/web-1", None)
    assert not trace_long_running("Create /api/v1/namespaces/default/pods/web-1/binding", None)


def test_synth_latency_timeout_log_agrees_with_its_truth(latency_timeout):
    """The generator's latency-phase timeout: the failing wait's own lines carry the truth's times."""
    from kubelog.synth.gofmt import stamp_milli

    run, truth, art = latency_timeout
    fail = next(f for f in truth["failures"] if f.get("phase") == "latency")
    log = (art / "e2e.log").read_text()
    assert f"{stamp_milli(fail['at_test_clock_ns'])}: INFO: Unexpected error occurred: {fail['message']}\n" in log
    assert "STEP: Waiting for all Pods begin observed by the watch...\n" in log
    assert "Timeout reached waiting for all Pods being observed by the watch." in log
    assert (fail["at_test_clock_ns"] - fail["wait_started_at_test_clock_ns"]) / 1e9 == pytest.approx(600.03)
    assert log.count("Found pod 'density-latency-pod-") == len(truth["nodes"]) - fail["stalled_pods"]
    pods = __import__("json").loads((art / "pods.json").read_text())["items"]
    hung = [p for p in pods if p["metadata"]["name"] in fail["stalled_pod_names"]]
    assert hung and all(
        p["status"]["phase"] == "Pending" and p["spec"]["nodeName"] in fail["stalled_nodes"] for p in hung
    )


def test_saturation_timeout_sample_names_the_stalled_wait_and_the_hung_node(ingest_to):
    """The saturation-phase timeout of sample_logs/skew-timeout-1.14: the density saturation wait with
    the stall as its window, the hung node in the top 3."""
    src = Path(__file__).resolve().parent.parent / "sample_logs" / "skew-timeout-1.14"
    truth = json.loads((src / "truth.json").read_text())
    fail = next(f for f in truth["failures"] if f.get("phase") == "saturation")
    d = diagnose(ingest_to(*[p for p in sorted(src.iterdir()) if p.name != "truth.json"]))
    top = d.findings[0]
    assert top.kind == "failure:timeout" and top.title.startswith("timed out waiting for all 90 Density Pods running")
    assert d.window["reason"].startswith("stall of 'Density Pods")
    assert abs(pd.Timestamp(d.window["test_end"]).value - fail["at_test_clock_ns"]) < 1e9
    for node in fail["stalled_nodes"]:
        assert any(node in f.title for f in d.findings[:3])
