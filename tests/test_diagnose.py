"""kubelog diagnose: synthetic runs with ground truth (truth.json), real failed runs (MANIFEST facts),
known signatures, Drain templates and the command."""

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from kubelog.analysis.diagnose import Diagnosis, Evidence, Finding, classify, diagnose
from kubelog.analysis.templates import compare_windows, mask, mine_templates
from kubelog.cli import app

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_logs"

STAMP = re.compile(
    r"^([A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2}\.\d{3}): INFO: Density Pods: (\d+) out of (\d+) created, "
    r"(\d+) running, (\d+) pending"
)


def _sample_run(ingest_to, name):
    src = SAMPLES / name
    files = [p for p in sorted(src.iterdir()) if p.name != "truth.json"]
    return ingest_to(*files), json.loads((src / "truth.json").read_text())


def _stall_from_text(e2e_log: Path):
    """Independent reading of the e2e log: (first line no. of the final unchanged counters, its stamp, counters)."""
    rows = []
    for i, line in enumerate(e2e_log.read_text().splitlines(), 1):
        m = STAMP.match(line)
        if m:
            rows.append((i, m.group(1), tuple(int(x) for x in m.groups()[1:])))
    last = rows[-1][2]
    k = len(rows) - 1
    while k > 0 and rows[k - 1][2] == last:
        k -= 1
    return rows[k], rows[-1]


# ------------------------------------------------------------------------------------------ synthetic truth


@pytest.fixture(scope="module")
def synth_timeout(tmp_path_factory):
    from kubelog.engine import Options, ingest
    from kubelog.synth import generate

    d = tmp_path_factory.mktemp("synth")
    truth = generate(d / "art", seed=5, nodes=5, era="1.28", skew="test=0s,nodes=0s", timeout_failure=True)
    files = [p for p in sorted((d / "art").iterdir()) if p.name != "truth.json"]
    run = ingest([str(p) for p in files], d / "run", options=Options())
    return run, truth, d / "art"


def test_synth_timeout_top_finding_is_stall_window_and_cause(synth_timeout):
    run, truth, art = synth_timeout
    fail = next(f for f in truth["failures"] if f["kind"] == "timeout")
    d = diagnose(run)
    assert d.failed
    top = d.findings[0]
    assert top.rank == 1 and top.severity == "critical" and top.kind == "failure:timeout"
    # the stalled counter, as the log shows it
    (since_line, since_stamp, c0), (last_line, last_stamp, c1) = _stall_from_text(art / "e2e.log")
    created, expected, running, pending = c1
    assert f"created {created}/{expected}, running {running}, pending {pending}" in top.title
    assert pending == fail["stalled_pods"]
    # density.go's saturation timeout, max(pods/8 s, 2 min), the one the simulator applies too
    from kubelog.analysis.findings.base import _dur

    assert f"max(pods / 8 per s, 2m) = {_dur(max(expected / 8, 120))} for {expected} pods" in top.detail
    assert f"unchanged since {since_stamp[-12:-4]} (test clock, until {last_stamp[-12:-4]})" in top.title
    # the injected cause: every stalled node named, with the stalled pod count
    for node in fail["stalled_nodes"]:
        assert node in top.title
    assert f"{fail['stalled_pods']} pods stuck Pending" in top.title
    # evidence: the failure line, the first and last stalled progress lines, the stuck pods
    wh = [e.where for e in top.evidence]
    assert f"e2e.log:{since_line}" in " ".join(wh) and f"e2e.log:{last_line}" in " ".join(wh)
    stuck_ev = [e for e in top.evidence if "never started" in e.text]
    assert stuck_ev and all(e.where.startswith(str(art / "pods.json") + ":") for e in stuck_ev)
    assert all(any(n in e.text for n in fail["stalled_nodes"]) for e in stuck_ev)
    # the window: from the stall to the end of the wait (truth: failure time on the test clock)
    end = pd.Timestamp(d.window["test_end"]).value
    assert abs(end - fail["at_test_clock_ns"]) < 1e9
    assert pd.Timestamp(d.window["test_start"]).strftime("%H:%M:%S.%f")[:12] == since_stamp[-12:]
    # pods-stuck finding agrees with truth and names the node
    stuck = next(f for f in d.findings if f.kind == "stuck_pods")
    assert stuck.title.startswith(
        f"{fail['stalled_pods']} pods scheduled but never started, all on {fail['stalled_nodes'][0]}"
    )


def test_synth_timeout_markdown_json_and_text(synth_timeout):
    run, truth, _ = synth_timeout
    d = diagnose(run)
    js = json.loads(json.dumps(d.to_dict()))
    assert js["failed"] is True and js["findings"][0]["rank"] == 1
    assert js["findings"][0]["evidence"][0]["where"].endswith(":" + js["failures"][0]["where"].rsplit(":", 1)[1])
    md = d.to_markdown()
    assert md.startswith("# Diagnosis: FAILED") and "## 1. [critical]" in md and "```" in md
    assert "1. [CRITICAL]" in d.to_text()


def test_skew_timeout_sample_keeps_the_timeout_on_top_and_reports_the_clock(ingest_to):
    run, truth = _sample_run(ingest_to, "skew-timeout-1.14")
    d = diagnose(run)
    assert d.findings[0].kind == "failure:timeout"
    clock = next(f for f in d.findings if f.kind == "clock")
    off = truth["clocks"]["test"]["offset_s"] - truth["clocks"]["apiserver"]["offset_s"]
    assert abs(d.window["test_offset_s"] - off) < 2.0
    # the window was moved onto the apiserver clock by that offset
    shift = (pd.Timestamp(d.window["test_end"]) - pd.Timestamp(d.window["end"])).total_seconds()
    assert abs(shift - off) < 2.0
    assert "9h58m" in clock.title and "ahead" in clock.title


def test_ten_hour_test_clock_offset_is_the_top_finding(ingest_to):
    run, truth = _sample_run(ingest_to, "legacy-skew-1.5")
    d = diagnose(run)
    assert d.failed
    top = d.findings[0]
    assert top.kind == "clock" and top.severity == "critical"
    assert "is a clock offset, not a slow cluster" in top.title and "9h58m" in top.title
    off = truth["clocks"]["test"]["offset_s"]
    m = re.search(r"clock is (\d+)h(\d+)m(\d+)s ahead", top.detail)
    assert m and abs(int(m[1]) * 3600 + int(m[2]) * 60 + int(m[3]) - off) <= 3
    # object timestamps say the cluster was fast: truth's startup as the apiserver/kubelets saw it
    assert re.search(r"p50 \d+(\.\d+)?s", top.detail)
    assert any("e2e.log" in e.where and "9h58m18.327078569s" in e.text for e in top.evidence)


def test_healthy_run_says_so_and_lists_the_injected_errors(ingest_to):
    run, truth = _sample_run(ingest_to, "healthy-1.28")
    d = diagnose(run)
    assert not d.failed and d.summary.startswith("No failed spec")
    assert not any(f.severity == "critical" for f in d.findings)
    inj = next(f for f in truth["failures"] if f["kind"] == "injected_http_errors")
    err = next(f for f in d.findings if f.kind == "apiserver_errors")
    assert err.title.startswith(f"{inj['count_429'] + inj['count_5xx']} error responses")
    n429 = sum(int(x) for x in re.findall(r"(\d+)× 429", err.detail))
    assert n429 == inj["count_429"]


# ------------------------------------------------------------------------------------------ real logs


def test_cern_cl2_junit_names_the_pod_startup_measurement(real_logs, ingest_to):
    run = ingest_to(*sorted(real_logs.glob("cl2_cern_density_2022-06-08_*")))
    d = diagnose(run)
    assert d.failed
    top = d.findings[0]
    assert "PodStartupLatency" in top.title and "[step: 07]" in top.title
    assert "too high latency 90th percentile: got 5.287081785s expected: 5s" in top.title
    assert top.evidence[0].where.endswith("cl2_cern_density_2022-06-08_junit.xml:14")
    assert "The 90th percentile 5.29s is 0.287s (5.7 %) over the 5s threshold; seconds, not hours" in top.detail
    # the JSON artifact agrees (MANIFEST: Perc90 5287.081785 ms)
    assert any("PodStartupLatency.json:" in e.where and "p90 5.28708s" in e.text for e in top.evidence)
    # the SSH / scheduler-metrics failures are ranked below and called infrastructure
    ssh = [f for f in d.findings if f.kind in ("failure:ssh", "failure:measurement")]
    assert ssh and all(f.rank > 1 and "measurement machinery" in f.detail for f in ssh)


def test_azure_cl2_cleanup_timeout_with_status_success(real_logs, ingest_to):
    run = ingest_to(real_logs / "cl2_kubemark_azure_density_100nodes.log")
    d = diagnose(run)
    assert not d.failed and d.summary.startswith("No failed spec")
    f = d.findings[0]
    assert "Resource cleanup error: [timed out waiting for the condition]" in f.title
    assert f.evidence[0].where.endswith("cl2_kubemark_azure_density_100nodes.log:1916")
    assert "Success" in f.detail and "10m2.0s" in f.detail  # 19:31:38 → 19:41:40


def test_etcd_unavailable_apiserver_log(real_logs, ingest_to):
    run = ingest_to(real_logs / "apiserver_v1.26.2_kubeadm_quangdaicaa.log")
    d = diagnose(run)
    kinds = [f.kind for f in d.findings]
    assert kinds[0] == "signature:etcd"
    etcd = d.findings[0]
    assert any("context deadline exceeded" in e.text or "deadlineExceeded" in e.text for e in etcd.evidence)
    tr = next(f for f in d.findings if f.kind == "traces")
    # MANIFEST: 28 blocks, longest 1m0.00499926s; one of them is the `kubectl logs -f` that saved this log
    assert tr.title == "27 slow-request Trace blocks, longest 1m0.0s"
    assert "etcd" in tr.detail
    lr = next(f for f in d.findings if f.kind == "traces_long_running")
    assert lr.title.startswith("1 Trace block(s) of long-running requests") and "etcd" not in lr.detail
    assert 'Trace "Get" /api/v1/namespaces/kube-system/pods/kube-apiserver-kube/log total 5.17s' in lr.evidence[0].text


def test_skykying_node_never_registered(real_logs, ingest_to):
    run = ingest_to(
        real_logs / "apiserver_v1.19.4_arm64_skykying.log", real_logs / "kubelet_v1.19.4_arm64_skykying.log"
    )
    d = diagnose(run)
    nf = next(f for f in d.findings if f.kind == "signature:node_not_found")
    assert nf.rank <= 2 and 'node "localhost" not found' in " ".join(e.text for e in nf.evidence)
    f403 = next(f for f in d.findings if f.kind == "apiserver_403")
    # MANIFEST: resp 403 = 1283, dominated by csinodes/localhost (857)
    assert f403.title == "1283 × 403 Forbidden, mostly csinodes by kubelet (857)"
    assert any("csinodes/localhost" in e.text and " 403 " in e.text for e in f403.evidence)
    # errors throughout the run: no window; the error templates instead (MANIFEST: ×7268)
    assert "start" not in d.window and "errors throughout the run" in d.window["reason"]
    tpl = next(f for f in d.findings if f.kind == "templates")
    assert "'node \"localhost\" not found' ×7268" in tpl.detail


# ------------------------------------------------------------------------------------------ signatures

SIG_LOG = """\
I0303 10:00:00.000000       1 density.go:100] starting
I0303 10:00:01.000000       1 util.go:55] Error building encoder: json: unsupported value: NaN
E0303 10:00:02.000000       1 namespace_controller.go:148] MethodNotAllowed: the server does not allow this method on the requested resource (post localsubjectaccessreviews.authorization.k8s.io)
W0303 10:00:03.000000       1 kuberuntime_manager.go:758] Failed to pull image "gcr.io/x/pause:3.1": rpc error: ImagePullBackOff
E0303 10:00:04.000000       1 runners.go:300] Only 5 pods started out of 10
E0303 10:00:05.000000       1 loader.go:223] error loading config file "/workspace/kubeconfig": open /workspace/kubeconfig: no such file or directory
"""


def test_known_signatures(tmp_path, ingest_to):
    p = tmp_path / "sig.log"
    p.write_text(SIG_LOG)
    d = diagnose(ingest_to(p))
    kinds = {f.kind: f for f in d.findings}
    for k, line in [("nan_encoder", 2), ("lsar_405", 3), ("image_pull", 4), ("only_n_started", 5), ("kubeconfig", 6)]:
        f = kinds[f"signature:{k}"]
        assert f.evidence[0].where == f"{p}:{line}", (k, f.evidence)
    assert kinds["signature:nan_encoder"].severity == "critical"
    # critical signatures rank above the error ones
    assert kinds["signature:nan_encoder"].rank < kinds["signature:image_pull"].rank


@pytest.mark.parametrize(
    "text,kind",
    [
        ('s: "timed out waiting for the condition",', "timeout"),
        ("Timeout reached waiting for all Pods being observed by the watch.", "watch_timeout"),
        ("too high pod startup latency 99th percentil: 5.420308856s", "pod_startup_slo"),
        ("too high pod startup latency 50th percentile: 33m50.5899835s", "pod_startup_slo"),
        ("There should be no high-latency requests", "api_slo"),
        ("Number of reported pods for load-test-small-rc-197 changed: 4 vs 5", "pods_lost"),
        ("Only 2982 pods started out of 3000", "only_n_started"),
        ("3 containers failed which is more than allowed 0", "containers_failed"),
        ("gave up waiting for pod 'density-latency-pod-3' to be 'running' after 5m0s", "pod_not_running"),
        ("Container kube-apiserver-x/kube-apiserver is using 1506.86328125/1500 MB of memory", "memory"),
        ("error while scaling RC load-small-1 to 5 replicas: boom", "scaling"),
        ("Error waiting for 30 pods to be running - probably a timeout: x", "start_pods"),
        (
            "measurement call WaitForControlledPodsRunning - WaitForRunningSaturation error: 1 objects timed out: "
            "Deployments: test-x/saturation-deployment-0",
            "timeout",
        ),
        (
            "measurement call PodStartupLatency - PodStartupLatency error: pod startup: too high latency 99th percentile: "
            "got 5.0675939s expected: 5s",
            "pod_startup_slo",
        ),
    ],
)
def test_classify_formats_test_4_7(text, kind):
    assert classify(text)[0] == kind


def test_classify_captures_value_and_threshold():
    k, _, g = classify("pod startup: too high latency 90th percentile: got 5.287081785s expected: 5s")
    assert (k, g["pct"], g["value"], g["threshold"]) == ("pod_startup_slo", "90", "5.287081785s", "5s")


# ------------------------------------------------------------------------------------------ templates


def test_mask_and_mine():
    s = pd.Series(
        [
            'Unable to register node "n1" with API server: connection refused',
            'Unable to register node "n22" with API server: connection refused',
            "Trace[1234]: took 1.5ms\nstep line",
            "Trace[99]: took 20s",
            "Started kubelet",
        ]
    )
    assert mask(s).iloc[2] == "Trace[<*>]: took <*>"
    ids, t = mine_templates(s)
    assert ids.tolist() == [0, 0, 1, 1, 2]
    assert t["count"].tolist() == [2, 2, 1]


def test_drain_generalizes_differing_words():
    s = pd.Series(["Failed to sync pod alpha", "Failed to sync pod beta", "Failed to sync pod gamma"])
    ids, t = mine_templates(s)
    assert set(ids.tolist()) == {0} and t["template"].iloc[0] == "Failed to sync pod <*>"


def test_compare_windows_new_and_frequent():
    msgs = (
        ["heartbeat ok"] * 60
        + ["lease renewed for node-1"] * 2
        + ["heartbeat ok"] * 10
        + ["etcd request timed out after 5s"] * 4
        + ["lease renewed for node-2"] * 20
    )
    inw = np.array([False] * 62 + [True] * 34)
    c = compare_windows(pd.Series(msgs), inw, window_s=60, rest_s=600)
    assert c["template"].tolist()[0] == "etcd request timed out after <*>"
    assert bool(c["new"].iloc[0]) and c["n_window"].iloc[0] == 4 and c["first_row"].iloc[0] == 72
    row = c[c["template"] == "lease renewed for <*>"].iloc[0]
    assert row["n_window"] == 20 and row["n_rest"] == 2 and row["ratio"] == pytest.approx(100.0)
    assert "heartbeat ok" not in c["template"].tolist()  # 10/min in both


# ------------------------------------------------------------------------------------------ model + command


def test_markdown_escapes_log_text():
    d = Diagnosis(True, "s", [Finding(1, "error", "bad <script>", "d <b>", [Evidence("f:1", "x ``` y")], "k", 1.0)])
    md = d.to_markdown()
    assert "&lt;script&gt;" in md and "x ''' y" in md and "<script>" not in md


@pytest.mark.slow
def test_command_formats(synth_timeout):
    run, _, _ = synth_timeout
    r = CliRunner().invoke(app, ["diagnose", str(run.path), "--format", "json"])
    assert r.exit_code == 0, r.output
    js = json.loads(r.output)
    assert js["failed"] and js["findings"][0]["kind"] == "failure:timeout"
    r = CliRunner().invoke(app, ["diagnose", str(run.path), "--format", "markdown"])
    assert r.exit_code == 0 and r.output.startswith("# Diagnosis: FAILED")
    r = CliRunner().invoke(app, ["diagnose", str(run.path)])
    assert r.exit_code == 0 and r.output.startswith("FAILED: ") and " 1. [CRITICAL]" in r.output
    r = CliRunner().invoke(app, ["diagnose", str(run.path), "-F", "csv"])
    assert r.exit_code == 0 and r.output.splitlines()[0] == "rank,severity,kind,title,where,evidence"


def test_command_not_a_run(tmp_path):
    r = CliRunner().invoke(app, ["diagnose", str(tmp_path)])
    assert r.exit_code == 3


def test_doctests():
    import doctest

    import kubelog.analysis.diagnose as d
    import kubelog.analysis.templates as t

    assert doctest.testmod(d).failed == 0 and doctest.testmod(t).failed == 0


CL2_FAIL = """\
I0322 14:00:00.000000   43607 clusterloader.go:150] ClusterConfig.Nodes set to 5
I0322 14:00:00.100001   43607 clusterloader.go:201] Running testing/load/config.yaml
I0322 14:00:01.000000   43607 simple_test_executor.go:112] Step "[step: 01] Starting measurements" started
I0322 14:00:01.500000   43607 simple_test_executor.go:141] Step "[step: 01] Starting measurements" ended
I0322 14:00:02.000000   43607 simple_test_executor.go:112] Step "[step: 02] Creating objects" started
{progress}
W0322 14:12:28.900000   43607 simple_test_executor.go:171] Got errors during step execution: [namespace test-lesuzj-1 object test-deployment-0 creation error: the server could not find the requested resource]
I0322 14:12:28.971500   43607 clusterloader.go:250] Test Finished
I0322 14:12:28.971520   43607 clusterloader.go:250]   Test: testing/load/config.yaml
E0322 14:12:28.971547   43607 clusterloader.go:251]   Status: Fail
E0322 14:12:28.971574   43607 clusterloader.go:253]   Errors: [namespace test-lesuzj-1 object test-deployment-0 creation error: the server could not find the requested resource]
F0322 14:12:28.980000   43607 clusterloader.go:300] 1 tests have failed!
"""


def test_cl2_status_fail_with_step_error_and_stalled_wait(tmp_path, ingest_to):
    prog = "\n".join(
        f"I0322 14:00:{s:02d}.000000   43607 wait_for_pods.go:140] WaitForControlledPodsRunning: namespace(test-lesuzj-1), "
        f"labelSelector(name=test-deployment-0): Pods: {c} out of 5 created, {c} running, 0 pending scheduled, "
        "0 not scheduled, 0 inactive, 0 terminating, 0 unknown, 0 runningButNotReady"
        for s, c in [(7, 2), (12, 3), (17, 3), (22, 3)]
    )
    p = tmp_path / "cl2.log"
    p.write_text(CL2_FAIL.format(progress=prog))
    d = diagnose(ingest_to(p))
    assert d.failed and len(d.failures) == 1  # the W step error and the E "Errors:" line are the same error
    top = d.findings[0]
    assert top.kind == "failure:api_not_found"
    assert "the server could not find the requested resource" in top.title
    assert "created 3/5, running 3, pending 0 unchanged since 14:00:12 (test clock, until 14:12:28)" in top.title
    assert [e.where for e in top.evidence[:2]] == [f"{p}:10", f"{p}:13"]  # the error, then Status: Fail
    assert 'Step "[step: 02] Creating objects" started' in top.detail
    assert "No progress line was printed after 14:00:22, 12m6.9s before the failure." in top.detail


def _synth_run(tmp_path, **kw):
    from kubelog.engine import Options, ingest
    from kubelog.synth import generate

    truth = generate(tmp_path / "art", **kw)
    files = [p for p in sorted((tmp_path / "art").iterdir()) if p.name != "truth.json"]
    return ingest([str(p) for p in files], tmp_path / "run", options=Options()), truth


@pytest.mark.parametrize("era,seed,nodes", [("1.5", 21, 4), ("1.14", 22, 10)])
def test_synth_timeout_other_eras_name_every_stalled_node(tmp_path, era, seed, nodes):
    run, truth = _synth_run(
        tmp_path, seed=seed, nodes=nodes, era=era, skew="test=36012.5s,nodes=0.8s", timeout_failure=True
    )
    fail = next(f for f in truth["failures"] if f["kind"] == "timeout")
    d = diagnose(run)
    assert d.findings[0].kind == "failure:timeout"
    assert f"pending {fail['stalled_pods']} unchanged since" in d.findings[0].title
    stuck = next(f for f in d.findings if f.kind == "stuck_pods")
    named = dict(re.findall(r"(hollow-node-\w+) \((\d+)\)", stuck.title))
    assert sorted(named) == sorted(fail["stalled_nodes"])
    assert sum(int(v) for v in named.values()) == fail["stalled_pods"]
    assert abs(d.window["test_offset_s"] - truth["clocks"]["test"]["offset_s"]) < 2.0


def test_synth_ten_hour_offset_without_timeout_is_the_clock(tmp_path):
    run, truth = _synth_run(tmp_path, seed=31, nodes=4, era="1.28", skew="test=36012.5s,nodes=0.8s")
    d = diagnose(run)
    slo = next(f for f in truth["failures"] if f["kind"] == "slo")
    assert d.findings[0].kind == "clock" and "10h0m" in d.findings[0].title
    assert slo["message"] in " ".join(e.text for e in d.findings[0].evidence)
    # a node without a kubelet log and pods missing from the dump are not "stuck"
    assert not any(f.kind == "stuck_pods" for f in d.findings)


LSAR_LOG = """\
I0303 13:57:14.409756   46046 panics.go:76] POST /apis/authorization.k8s.io/v1beta1/namespaces/e2e-tests-density-1/localsubjectaccessreviews: (139.12µs) 405 [[kube-controller-manager/v1.6.0 (linux/amd64) kubernetes/abc] 10.0.0.1:1234]
I0303 13:57:15.409756   46046 panics.go:76] POST /api/v1/namespaces: (2.5s) 201 [[e2e.test/v1.6.0 (linux/amd64) kubernetes/abc] 10.0.0.2:1234]
I0303 13:57:16.409756   46046 panics.go:76] POST /apis/authorization.k8s.io/v1beta1/namespaces/e2e-tests-density-2/localsubjectaccessreviews: (139.12µs) 405 [[kube-controller-manager/v1.6.0 (linux/amd64) kubernetes/abc] 10.0.0.1:1234]
I0303 13:57:25.409756   46046 panics.go:76] POST /api/v1/namespaces: (3.5s) 201 [[e2e.test/v1.6.0 (linux/amd64) kubernetes/abc] 10.0.0.2:1234]
"""


def test_localsubjectaccessreviews_405_from_the_access_log(tmp_path, ingest_to):
    p = tmp_path / "kube-apiserver.log"
    p.write_text(LSAR_LOG)
    d = diagnose(ingest_to(p))
    f = d.findings[0]
    assert f.kind == "signature:lsar_405" and f.severity == "critical" and "(2 lines)" in f.title
    assert [e.where for e in f.evidence] == [f"{p}:1", f"{p}:3"]
    # namespace creation: 2 creates 10 s apart, slowest 3.5 s
    assert "2 POST namespaces over 10.0s (12.0/min), latency p99 3.5s" in f.detail


def test_e2e_log_cut_inside_the_wait(tmp_path, ingest_to):
    """A job killed by its CI timeout: the log stops during the saturation wait, with no failure block."""
    src = (SAMPLES / "skew-timeout-1.14" / "e2e.log").read_text().splitlines()
    cut = next(i for i, ln in enumerate(src) if ln.startswith("STEP: Collecting resource usage data"))
    p = tmp_path / "e2e.log"
    p.write_text("\n".join(src[:cut]) + "\n")
    d = diagnose(ingest_to(p))
    assert d.failed and d.failures[0]["kind"] == "unfinished"
    top = d.findings[0]
    assert top.title.startswith(
        "the e2e log ends before the suite summary, waiting for all 90 Density Pods "
        "running: created 90/90, running 79, pending 11 unchanged since 22:28:52"
    )
    assert "it stops inside [It] [Feature:Performance] should allow starting 30 pods per node" in top.detail
    assert top.evidence[-1].where == f"{p}:{cut}"  # the last progress line is the last line of the cut log


def test_one_failing_analysis_does_not_lose_the_diagnosis(synth_timeout, monkeypatch):
    import dataclasses

    import kubelog.analysis.diagnose as dg
    from kubelog.analysis.findings import REGISTRY, units

    def boom(*a, **k):
        raise RuntimeError("bad trace table")

    units()  # every finding module loaded
    monkeypatch.setitem(REGISTRY, "traces", dataclasses.replace(REGISTRY["traces"], run=boom))
    d = dg.diagnose(synth_timeout[0])
    assert d.findings[0].kind == "failure:timeout"
    bad = [f for f in d.findings if f.kind == "internal_error"]
    assert len(bad) == 1 and "traces analysis could not run: RuntimeError: bad trace table" in bad[0].title
    assert bad[0].rank == len(d.findings)


def _audit_line(i, t, node, code=200, uri=None):
    ts = pd.Timestamp("2024-05-01T10:00:00Z") + pd.Timedelta(seconds=t)
    return json.dumps(
        {
            "kind": "Event",
            "apiVersion": "audit.k8s.io/v1",
            "level": "Metadata",
            "auditID": f"id-{i}",
            "stage": "ResponseComplete",
            "requestURI": uri or f"/api/v1/nodes/{node}/status",
            "verb": "patch",
            "user": {"username": f"system:node:{node}"},
            "userAgent": "kubelet/v1.28.0 (linux/amd64) kubernetes/abc",
            "objectRef": {"resource": "nodes", "name": node, "subresource": "status", "apiVersion": "v1"},
            "responseStatus": {"code": code},
            "requestReceivedTimestamp": (ts - pd.Timedelta(milliseconds=5)).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "stageTimestamp": ts.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        }
    )


def test_kubelet_that_went_silent_in_the_error_window(tmp_path, ingest_to):
    lines, i = [], 0
    for t in range(0, 600, 10):  # node-a reports every 10 s for 10 minutes
        lines.append(_audit_line(i, t, "node-a"))
        i += 1
        if t < 300:  # node-b stops at 5 minutes
            lines.append(_audit_line(i, t + 1, "node-b"))
            i += 1
    for t in (400, 450, 500):  # a burst of 500s from node-a's requests at the end
        lines.append(_audit_line(i, t + 2, "node-a", code=500))
        i += 1
    p = tmp_path / "audit.log"
    p.write_text("\n".join(lines) + "\n")
    d = diagnose(ingest_to(p))
    f = next(x for x in d.findings if x.kind == "silent_kubelets")
    assert f.title == "1 kubelet(s) went silent in the window: node-b"
    assert "node-b: 30 requests before the window, last at 10:04:51" in f.detail
    assert f.evidence[0].where == f"{p}:{2 * 30}"  # node-b's last request is the 60th line


@pytest.mark.parametrize("skew_offset,used", [(35895.0, "skew"), (-35895.0, "anchors")])
def test_uses_the_skew_analysis_when_it_agrees_with_the_anchors(ingest_to, monkeypatch, skew_offset, used):
    import sys
    import types

    import kubelog.analysis as pkg

    fake = types.ModuleType("kubelog.analysis.skew")
    fake.analyze = lambda run: types.SimpleNamespace(
        domains=pd.DataFrame(
            {
                "domain": ["apiserver", "test"],
                "offset_s": [0.0, skew_offset],
                "lower_s": [0.0, skew_offset - 1],
                "upper_s": [0.0, skew_offset + 1],
                "text": ["reference", "test clock ahead"],
            }
        ),
        findings=["the test clock is 9h58m ahead of the apiserver"],
        significant=True,
    )
    monkeypatch.setitem(sys.modules, "kubelog.analysis.skew", fake)
    monkeypatch.setattr(pkg, "skew", fake, raising=False)
    run, truth = _sample_run(ingest_to, "legacy-skew-1.5")
    d = diagnose(run)
    top = d.findings[0]
    assert top.kind == "clock"
    if used == "skew":
        assert d.window["offset_source"] == "skew analysis" and d.window["test_offset_s"] == skew_offset
        assert "Skew analysis: the test clock is 9h58m ahead of the apiserver" in top.detail
    else:
        assert "which these anchors contradict" in d.window["offset_source"]
        assert abs(d.window["test_offset_s"] - truth["clocks"]["test"]["offset_s"]) < 2.0


def test_kube_burner_job_passed_false(real_logs, tmp_path, ingest_to):
    src = (real_logs / "kubeburner_node-density_jobSummary_ocp4.17.json").read_text()
    assert '"passed":true' in src
    p = tmp_path / "jobSummary.json"
    p.write_text(src.replace('"passed":true', '"passed":false'))
    d = diagnose(ingest_to(p))
    assert d.failed and d.findings[0].kind == "failure:kube_burner"
    # MANIFEST: node-density job, 679 iterations, elapsedTime 159
    assert "kube-burner job node-density passed=false (679 iterations, elapsed 159 s)" in d.findings[0].title
    assert not diagnose(ingest_to(real_logs / "kubeburner_node-density_jobSummary_ocp4.17.json")).failed


def test_api_slo_failure_names_the_slow_calls_the_test_reported(tmp_path, ingest_to):
    src = (SAMPLES / "skew-timeout-1.14" / "e2e.log").read_text()
    old = (
        '  Expected error:\n      <*errors.errorString | 0xc0010b0420>: {\n          s: "timed out waiting for the '
        'condition",\n      }\n      timed out waiting for the condition\n  not to have occurred\n'
    )
    new = "  There should be no high-latency requests\n  Expected\n      <int>: 1\n  not to be >\n      <int>: 0\n"
    top_line = (
        "Jun 20 22:30:22.600: INFO: WARNING Top latency metric: {Resource:nodes Verb:PUT "
        "Latency:{Perc50:7.518ms Perc90:932.768ms Perc99:1.188055s}}\n"
    )
    assert old in src
    src = src.replace(old, new).replace(
        "STEP: Collecting resource usage data\n", top_line + "STEP: Collecting resource usage data\n"
    )
    p = tmp_path / "e2e.log"
    p.write_text(src)
    d = diagnose(ingest_to(p))
    top = d.findings[0]
    assert top.kind == "failure:api_slo"
    assert top.title.startswith("There should be no high-latency requests — [sig-scalability] Density")
    line = src.splitlines().index(top_line.rstrip("\n")) + 1
    assert Evidence(f"{p}:{line}", "PUT nodes: p50 0.00752s p90 0.933s p99 1.19s") in top.evidence


def test_signature_patterns_mean_the_same_in_re2_and_python():
    from kubelog.analysis.diagnose import SIGNATURES
    from kubelog.analysis.findings.base import _arrow_text, _contains

    s = pd.Series(
        SIG_LOG.splitlines()
        + LSAR_LOG.splitlines()
        + [
            'E1 kubelet.go:2183] node "localhost" not found',
            "Back-off restarting failed container",
            "Txn call failed err:context deadline exceeded",
            "pod was OOMKilled",
            "The node was low on resource: memory",
            "watch chan error: etcdserver: mvcc: required revision has been compacted",
            "http: Handler timeout",
            "configmaps: check-endpoints-kubeconfig,control-plane-node-kubeconfig, secrets: x not found",
        ]
    )
    arr = _arrow_text(s)
    for kind, _, pat, _ in SIGNATURES:
        assert _contains(s, pat, arr).tolist() == s.str.contains(pat, regex=True).tolist(), kind
    kube = [k for k, _, p, _ in SIGNATURES if k == "kubeconfig"]
    assert kube and not _contains(s.iloc[-1:], [p for k, _, p, _ in SIGNATURES if k == "kubeconfig"][0]).any()


_JUNIT_TIMEOUT_CASE = """  <testcase name="{name}" classname="Kubernetes e2e suite" time="{time}">
    <failure type="Failure">/go/src/k8s.io/kubernetes/test/e2e/scalability/{where}
Expected error:
    &lt;*errors.errorString | 0xc0010b0420&gt;: {{
        s: "timed out waiting for the condition",
    }}
    timed out waiting for the condition
not to have occurred</failure>
  </testcase>
"""
JUNIT_TWO = (
    """<?xml version="1.0" encoding="UTF-8"?>
<testsuite name="Kubernetes e2e suite" tests="2" failures="2" errors="0" time="900.5">
"""
    + _JUNIT_TIMEOUT_CASE.format(
        name="[sig-scalability] Density [Feature:Performance] should allow starting 30 pods per node",
        time="400.1",
        where="density.go:970",
    )
    + _JUNIT_TIMEOUT_CASE.format(
        name="[sig-scalability] Load capacity [Feature:Performance] should be able to handle 30 pods per node",
        time="500.4",
        where="load.go:300",
    )
    + "</testsuite>\n"
)


def test_same_message_from_two_specs_is_two_failures(tmp_path, ingest_to):
    p = tmp_path / "junit_01.xml"
    p.write_text(JUNIT_TWO)
    d = diagnose(ingest_to(p))
    assert d.failed and [f["kind"] for f in d.failures] == ["timeout", "timeout"]
    assert {f["what"].split(" [Feature")[0] for f in d.failures} == {
        "[sig-scalability] Density",
        "[sig-scalability] Load capacity",
    }


def test_pod_deleted_right_after_scheduling_is_not_stuck(tmp_path, ingest_to):
    def pod(name):
        return {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": name,
                "namespace": "ns1",
                "uid": name + "-uid",
                "creationTimestamp": "2024-05-01T10:00:00Z",
            },
            "spec": {"nodeName": "n1"},
            "status": {
                "phase": "Pending",
                "conditions": [
                    {"type": "PodScheduled", "status": "True", "lastTransitionTime": "2024-05-01T10:00:01Z"}
                ],
            },
        }

    (tmp_path / "pods.json").write_text(
        json.dumps({"apiVersion": "v1", "kind": "List", "items": [pod("p-slow"), pod("p-quick")]}, indent=2)
    )
    ev = {
        "kind": "Event",
        "apiVersion": "audit.k8s.io/v1",
        "level": "Metadata",
        "auditID": "a1",
        "stage": "ResponseComplete",
        "requestURI": "/api/v1/namespaces/ns1/pods/p-quick",
        "verb": "delete",
        "user": {"username": "e2e"},
        "userAgent": "e2e.test/v1.28.0",
        "objectRef": {"resource": "pods", "namespace": "ns1", "name": "p-quick", "apiVersion": "v1"},
        "responseStatus": {"code": 200},
        "requestReceivedTimestamp": "2024-05-01T10:00:10.000000Z",
        "stageTimestamp": "2024-05-01T10:00:10.010000Z",
    }
    (tmp_path / "audit.log").write_text(json.dumps(ev) + "\n")
    d = diagnose(ingest_to(tmp_path / "pods.json", tmp_path / "audit.log"))
    f = next(x for x in d.findings if x.kind == "stuck_pods")
    assert f.title == "1 pods scheduled but never started (n1 (1))"  # p-quick was deleted 9 s after scheduling
    assert [e.text.split()[2] for e in f.evidence] == ["p-slow"]


def test_drain_leaf_cap_bounds_the_groups():
    from kubelog.analysis.templates import Drain

    d = Drain(max_groups=2)
    words = ("aa bb cc dd ee", "ff gg hh ii jj", "kk ll mm nn oo")
    ids = [d.add(f"Failed to sync {w}".split()) for w in words]
    # same 3-token prefix and length, 3 of 8 tokens alike (< 50 %): the third message finds the
    # leaf full and joins the first, most similar group instead of starting a third
    assert ids == [0, 1, 0] and len(d.groups) == 2
    assert " ".join(d.groups[0].tokens) == "Failed to sync <*> <*> <*> <*> <*>"
    free = Drain()
    assert [free.add(f"Failed to sync {w}".split()) for w in words] == [0, 1, 2]


def test_timeout_in_aftereach_names_the_explicit_wait(tmp_path, ingest_to):
    """The framework's AfterEach node-ready wait times out after an earlier saturation stall."""
    src = (SAMPLES / "skew-timeout-1.14" / "e2e.log").read_text()
    wait = "Jun 20 22:30:23.580: INFO: Waiting up to 3m0s for all (but 0) nodes to be ready\n"
    assert "STEP: Collecting resource usage data\n" + wait in src
    src = src.replace(
        "STEP: Collecting resource usage data\n" + wait,
        "[AfterEach] [sig-scalability] Density\n  /go/src/k8s.io/kubernetes/test/e2e/framework/framework.go:150\n"
        "STEP: Collecting resource usage data\n"
        + wait
        + "Jun 20 22:33:23.630: INFO: Condition Ready of node hollow-node-hhgtm is false instead of true\n",
    )
    src = src.replace(
        "• Failure [127.550 seconds]\n[sig-scalability] Density\n",
        "• Failure in Spec Teardown (AfterEach) [312.5 seconds]\n[sig-scalability] Density [AfterEach]\n",
    )
    src = src.replace("0 token projections, and 0 daemons [It]\n", "0 token projections, and 0 daemons\n")
    p = tmp_path / "e2e.log"
    p.write_text(src)
    d = diagnose(ingest_to(p))
    top = d.findings[0]
    assert top.title.startswith(
        "timed out in [AfterEach]: Waiting up to 3m0s for all (but 0) nodes to be ready (failed 3m0.1s later)"
    )  # 22:30:23.580 → 22:33:23.630
    assert "earlier Density Pods: created 90/90, running 79, pending 11 unchanged since 22:28:52" in top.title
    assert (
        "That wait started at 22:30:23 with a 3m0.0s timeout; the failure came 3m0.1s later (the timeout expired)."
        in top.detail
    )
    line = src.splitlines().index(wait.rstrip("\n")) + 1
    assert f"{p}:{line}" in [e.where for e in top.evidence]


def test_notready_node_from_a_node_list(tmp_path, ingest_to):
    def node(name, ready):
        return {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {"name": name, "creationTimestamp": "2024-05-01T09:00:00Z"},
            "status": {
                "conditions": [{"type": "Ready", "status": ready, "lastTransitionTime": "2024-05-01T10:00:05Z"}]
            },
        }

    p = tmp_path / "nodes.json"
    p.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "List",
                "items": [node("hollow-node-a", "True"), node("hollow-node-b", "Unknown")],
            },
            indent=2,
        )
    )
    d = diagnose(ingest_to(p))
    f = next(x for x in d.findings if x.kind == "nodes_notready")
    assert f.title == "1 node(s) became NotReady: hollow-node-b" and f.severity == "error"
    assert f.evidence[0].text == "10:00:05 hollow-node-b NotReady (nodes-json)"


def test_openshift_warning_events(real_logs, ingest_to):
    d = diagnose(ingest_to(real_logs / "openshift4.8_events_kube-apiserver-operator_aws_mustgather.yaml"))
    f = next(x for x in d.findings if x.kind == "events")
    # MANIFEST: 405 events, Warning 50; with FailedScheduling "no nodes available to schedule pods"
    assert f.title.startswith("50 Warning events (") and f.severity == "error"
    assert any(
        "Warning FailedScheduling" in e.text and "no nodes available to schedule pods" in e.text for e in f.evidence
    )
    assert not d.failed and not any(x.kind == "signature:kubeconfig" for x in d.findings)
