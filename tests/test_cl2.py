"""Golden tests of clusterloader2 outputs (MANIFEST.md "clusterloader2") and lines of docs/formats/cl2-log.md's eras."""

from __future__ import annotations

import json

import pytest


def _acct(inp):
    assert inp["lines_read"] == inp["record_lines"] + inp["continuation_lines"] + sum(inp["counted"].values())
    assert "unaccounted (parser bug)" not in inp["counted"]
    assert not inp["errors"], inp["errors"]


def _row(perf, metric, phase):
    r = perf[(perf["metric"] == metric) & (perf["phase"] == phase)]
    assert len(r) == 1, (metric, phase, r)
    return r.iloc[0]


def test_kubemark_azure_log(real_logs, ingest_to):
    run = ingest_to(real_logs / "cl2_kubemark_azure_density_100nodes.log", year=2020)
    inp = run.inputs[0]
    assert inp["format"] == "cl2-log" and inp["lines_read"] == 1921
    _acct(inp)
    perf = run.table("perf_summaries")
    sat = _row(perf, "pod_startup", "saturation")
    assert (sat["p50_s"], sat["p90_s"], sat["p99_s"]) == pytest.approx((21.632797, 27.374423, 30.342712))
    assert json.loads(sat["labels"])["threshold_s"] == 330.0
    assert str(sat["ts"]) == "2020-02-20 19:21:56.093669+00:00"
    for metric, vals in {
        "create_to_schedule": (0, 0, 1),
        "schedule_to_run": (0, 1, 1),
        "run_to_watch": (21.246383, 26.969712, 29.902281),
        "schedule_to_watch": (21.621186, 27.304536, 30.234342),
    }.items():
        r = _row(perf, metric, "saturation")
        assert (r["p50_s"], r["p90_s"], r["p99_s"]) == pytest.approx(vals)
    lat = _row(perf, "pod_startup", "latency")
    assert (lat["p50_s"], lat["p90_s"], lat["p99_s"]) == pytest.approx((1.571942, 2.259184, 2.649974))
    assert json.loads(lat["labels"])["threshold_s"] == 5.0 and lat["p99_s"] < 5.0
    for metric, vals in {
        "run_to_watch": (1.349947, 1.853611, 2.318862),
        "schedule_to_watch": (1.564929, 2.206437, 2.649974),
    }.items():
        r = _row(perf, metric, "latency")
        assert (r["p50_s"], r["p90_s"], r["p99_s"]) == pytest.approx(vals)
    cl2 = inp["info"]["cl2"]
    assert cl2["status"] == "Success" and cl2["finished"]
    assert any("Resource cleanup error: [timed out waiting for the condition]" in e for e in cl2["errors"])
    assert any(s.startswith("APIResponsivenessPrometheus: Prometheus is disabled") for s in cl2["skipped_measurements"])
    assert any("Probes cannot work in Kubemark" in s for s in cl2["skipped_measurements"])
    msgs = run.table("messages")
    assert (msgs["level"] == "E").sum() == 1
    sched = msgs[
        msgs["msg"].str.contains("SchedulingThroughput: labelSelector\\(group = saturation\\): 3000 pods scheduled")
    ]
    assert str(sched["ts"].iloc[0]).startswith("2020-02-20 19:21:51")
    pods = run.table("test_pod_latencies")
    assert len(pods) == 1000  # 10 lists of 100 worst
    first = pods.sort_values("line_no").iloc[0]
    assert (first["namespace"], first["pod"], first["latency_s"]) == (
        "test-flmkhx-1",
        "saturation-deployment-0-7dd8d95bd7-ntkbz",
        pytest.approx(29.006674),
    )
    prog = run.table("progress")
    assert len(prog) > 0 and prog["label"].str.startswith("namespace(test-flmkhx-1)").all()


def test_cern_report_dir(real_logs, ingest_to):
    files = sorted(real_logs.glob("cl2_cern_density_2022-06-08_*"))
    assert len(files) == 6
    run = ingest_to(*files)
    for inp in run.inputs:
        _acct(inp)
    fmts = {i["path"].rsplit("/", 1)[-1]: i["format"] for i in run.inputs}
    assert fmts["cl2_cern_density_2022-06-08_junit.xml"] == "junit"
    assert all(f == "cl2-json" for n, f in fmts.items() if n.endswith(".json"))
    perf = run.table("perf_summaries")
    ps = perf[(perf["metric"] == "pod_startup") & perf["labels"].str.contains("MatchAllPodStartupLatency")].iloc[0]
    assert ps["phase"] == "PodStartupLatency"
    assert (ps["p50_s"], ps["p90_s"], ps["p99_s"]) == pytest.approx((3.991822133, 5.287081785, 5.8048378))
    sr = perf[(perf["metric"] == "schedule_to_run")].iloc[0]
    assert (sr["p50_s"], sr["p90_s"], sr["p99_s"]) == pytest.approx((3, 4, 4))
    rw = perf[(perf["metric"] == "run_to_watch")].iloc[0]
    assert (rw["p50_s"], rw["p90_s"], rw["p99_s"]) == pytest.approx((1.351239263, 2.208502767, 2.418010906))
    cs = perf[(perf["metric"] == "create_to_schedule")].iloc[0]
    assert (cs["p50_s"], cs["p90_s"], cs["p99_s"]) == (0, 0, 0)
    thr = perf[perf["metric"] == "scheduling_throughput"]
    got = {json.loads(l)["stat"]: v for l, v in zip(thr["labels"], thr["value"])}
    assert got == {"perc50": 0, "perc90": 0, "perc99": 6, "max": 6}
    cpu = perf[perf["metric"] == "cpu"]
    lab = cpu["labels"].map(json.loads)
    assert sorted(set(lab.map(lambda d: d["percentile"]))) == ["100", "50", "90", "99"]
    assert (lab.map(lambda d: d["percentile"]) == "99").sum() == 114
    p99 = cpu[lab.map(lambda d: d["percentile"]) == "99"]
    top = p99.loc[p99["value"].idxmax()]
    assert top["value"] == pytest.approx(0.563, abs=5e-4)
    assert json.loads(top["labels"])["container"] == "pc-tbed-tpu-08019.cern.ch/pods"
    assert (perf["metric"] == "restart_count").sum() == 89
    suite = next(i for i in run.inputs if i["format"] == "junit")["info"]["suite"]
    assert suite["name"] == "ClusterLoaderV2" and suite["tests"] == "0" and suite["failures"] == "4"
    specs = run.table("test_specs")
    assert (specs["state"] == "failed").sum() == 4
    msg = specs.loc[specs["spec"] == "density: [step: 07] Collecting pod startup latency", "failure_message"].iloc[0]
    assert "pod startup: too high latency 90th percentile: got 5.287081785s expected: 5s" in msg


def test_nexuslrf_report_dir(real_logs, ingest_to):
    run = ingest_to(*sorted(real_logs.glob("cl2_nexuslrf_density_2020-06-24_*")))
    for inp in run.inputs:
        _acct(inp)
    perf = run.table("perf_summaries")
    ps = perf[perf["metric"] == "pod_startup"].iloc[0]
    assert ps["phase"] == "SaturationPodStartupLatency"
    assert (ps["p50_s"], ps["p90_s"], ps["p99_s"]) == pytest.approx((4.523598301, 5.428047691, 5.923928452))
    sw = perf[perf["metric"] == "schedule_to_watch"].iloc[0]
    assert (sw["p50_s"], sw["p90_s"], sw["p99_s"]) == pytest.approx((ps["p50_s"], ps["p90_s"], ps["p99_s"]))
    sr = perf[perf["metric"] == "schedule_to_run"].iloc[0]
    assert (sr["p50_s"], sr["p90_s"], sr["p99_s"]) == pytest.approx((3, 4, 4))
    thr = perf[perf["metric"] == "scheduling_throughput"]
    assert {json.loads(l)["stat"]: v for l, v in zip(thr["labels"], thr["value"])} == {
        "perc50": 0,
        "perc90": 80,
        "perc99": 80,
        "max": 80,
    }
    assert ps["ts"] != ps["ts"]  # renamed file: no RFC3339 time in the name
    from kubelog.formats.cl2 import _name_info

    phase, lab, ts = _name_info(
        "reports/PodStartupLatency_SaturationPodStartupLatency_density_2020-06-24T23:09:00+08:00.json"
    )
    assert (phase, lab["summary"], ts) == ("SaturationPodStartupLatency", "PodStartupLatency", 1593011340000000000)
    suite = next(i for i in run.inputs if i["format"] == "junit")["info"]["suite"]
    assert (suite["tests"], suite["failures"], suite["time"]) == ("1", "0", "35.445")


DOC_LINES = """\
I0314 18:02:15.219771   28734 clusterloader.go:140] Running testing/load/config.yaml
I0314 18:02:15.219771   28734 wait_for_pods.go:140] WaitForControlledPodsRunning: namespace(testr-vkhxde-2), labelSelector(name=small-rc-0): Pods: 3 out of 3 created, 3 running, 0 pending scheduled, 0 not scheduled, 0 inactive, 0 terminating, 0 unknown, 0 runningButNotReady
I0314 18:02:16.000000   28734 pod_startup_latency.go:305] PodStartupLatency: perc50: 6.479659787s, perc90: 1m14.604992502s, perc99: 1m38.973342003s
I0314 18:02:17.000000   28734 api_responsiveness.go:1] APIResponsivenessPrometheus: Top latency metric: {Resource:pods Subresource: Verb:LIST Scope:cluster Latency:perc50: 26.916666ms, perc90: 48.45ms, perc99: 1.442499999s Count:325 SlowCount:11}; threshold: 1s
E0322 14:12:28.971547   43607 clusterloader.go:251]   Status: Fail
E0322 14:12:28.971574   43607 clusterloader.go:253]   Errors: [namespace test-lesuzj-1 object test-deployment-0 creation error: the server could not find the requested resource]
"""


def test_doc_lines(ingest_to, tmp_path):
    p = tmp_path / "cl2.log"
    p.write_text(DOC_LINES)
    run = ingest_to(p, year=2019)
    inp = run.inputs[0]
    assert inp["format"] == "cl2-log"
    _acct(inp)
    perf = run.table("perf_summaries")
    ps = perf[perf["metric"] == "pod_startup"].iloc[0]
    assert (ps["p50_s"], ps["p90_s"], ps["p99_s"]) == pytest.approx((6.479659787, 74.604992502, 98.973342003))
    api = perf[perf["metric"] == "api_call"].iloc[0]
    lab = json.loads(api["labels"])
    assert (lab["Verb"], lab["Resource"], lab["Scope"], lab["threshold_s"]) == ("LIST", "pods", "cluster", 1.0)
    assert api["count"] == 325 and api["p99_s"] == pytest.approx(1.442499999)
    prog = run.table("progress").iloc[0]
    assert (prog["created"], prog["expected"], prog["running"]) == (3, 3, 3)
    assert inp["info"]["cl2"]["status"] == "Fail"
    assert "could not find the requested resource" in inp["info"]["cl2"]["test_errors"]


# -- issue 20: derived rows' stamps from caches against the reference (numpy/pandas per row) ---------------


@pytest.mark.parametrize("tz", ["UTC", "+02:00"])
def test_real_cl2_log_same_on_both_paths(real_logs, tz):
    import io

    import pyarrow as pa

    from kubelog import formats
    from kubelog.engine import blocks
    from kubelog.formats.base import Context

    data = (real_logs / "cl2_kubemark_azure_density_100nodes.log").read_bytes()
    out = []
    for columnar in (True, False):
        got: dict[str, list] = {}
        emit = lambda t, d: got.setdefault(t, []).append(d)  # noqa: B023, E731
        ctx = Context(0, "cl2.log", emit, year=2021, tz=tz, options={"columnar": columnar, "threads": 1})
        stream = io.BufferedReader(io.BytesIO(data))
        blocks.parse_input(formats.get("cl2-log").plan(stream, ctx), stream, ctx)
        out.append(({k: pa.concat_tables(v) for k, v in got.items()}, ctx))
    (fast, fctx), (slow, sctx) = out
    assert fast.keys() == slow.keys() and all(fast[t].equals(slow[t]) for t in fast)
    assert fast["progress"].num_rows > 1000 and fast["test_pod_latencies"].num_rows == 1000
    assert fctx.info == sctx.info and fctx.record_lines == sctx.record_lines


# -- issue 20, round 7: progress rows and worst-list pod latencies built per column against the per-line loop -------

from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402

_H = "I0607 12:34:56.789012    4242 {f}] "
_MSGS = [
    "WaitForControlledPodsRunning: namespace(test-1), labelSelector(name=x): Pods: 3 out of 3 created, 3 running, "
    "0 pending scheduled, 0 not scheduled, 0 inactive, 0 terminating, 0 unknown, 0 runningButNotReady ",
    "WaitForControlledPodsRunning: namespace(test-1): Pods: 3 out of 5 created, 2 running (1 updated), 1 pending "
    "scheduled, 0 not scheduled, 0 inactive, 0 terminating, 0 unknown, 0 runningButNotReady ",
    "labelSelector(name=x): Pods: 1 out of 2 created, 1 running, 1 pending, 0 waiting, 0 inactive, 0 unknown, "
    "0 runningButNotReady",
    "Density Pods: 999999999999999999 out of 2 created, 1 running, 1 pending, 0 waiting, 0 inactive, 0 unknown, "
    "0 runningButNotReady",  # 18 digits (a count beyond int64 stops either path's emit: not a case here)
    "Ünïcode Pods: 1 out of 2 created, 1 running, 1 pending, 0 waiting, 0 inactive, 0 unknown, 0 runningButNotReady",
    " Pods: 1 out of 2 created, 1 running, 1 pending, 0 waiting, 0 inactive, 0 unknown, 0 runningButNotReady",
    "a Pods: x Pods: 1 out of 2 created, 1 running, 1 pending, 0 waiting, 0 inactive, 0 unknown, 0 runningButNotReady",
    "Pods: 1 out of 2 created, cut",
    "x Pods: ١ out of 2 created, 1 running, 1 pending, 0 waiting, 0 inactive, 0 unknown, 0 runningButNotReady",
    "perc50: 1s Pods: 1 out of 2 created, 1 running, 1 pending, 0 waiting, 0 inactive, 0 unknown, 0 runningButNotReady",
    "PodStartupLatency: labelSelector(group = saturation): gathering pod startup latency measurement",
    "PodStartupLatency: labelSelector(group = latency): gathering pod startup latency measurement",
    "PodStartupLatency: 100 worst pod_startup latencies: [{test-1/pod-1 node-1 1.5s} {test-1/pod-2 node-2 2m3.5s} "
    "{pod-3 0} {a/b/c n 1.5µs} {Name:p Node:n Latency:2s} {   } {x\ty 1s} {p n -1s} {p n 12345678h} {p 1.5h30m}]",
    "PodStartupLatency: 0 worst create_to_schedule latencies: []",
    "PodStartupLatency: perc50: 1.5s, perc90: 2s, perc99: 3s; threshold 1h0m0s",
    "PodStartupLatency: pod_startup: perc50: 0s, perc90: 0s, perc99: 0s; threshold 1h0m0s",
    "APIResponsiveness: Top latency metric: {Resource:pods Subresource: Verb:LIST Scope:cluster "
    "Latency:{Perc50:1s Perc90:2s Perc99:3s} Count:10}; threshold: 1s",
    "Test Finished",
    "  Test: testing/density/config.yaml",
    "  Status: Success",
    "  Errors: ",
    "Running ./testing/density/config.yaml",
    "TestMetrics: skipping the measurement",
    "PodStartupLatencySummary: {",
    # round 9: the label cut after the header's first "]", the branch tests as literal patterns
    "WaitForControlledPodsRunning: namespace(a]b), labelSelector(x]): Pods: 1 out of 2 created, 1 running, 1 pending, "
    "0 waiting, 0 inactive, 0 unknown, 0 runningButNotReady",
    "  two spaces Pods: 1 out of 2 created, 1 running, 1 pending, 0 waiting, 0 inactive, 0 unknown, 0 runningButNotReady",
    "WaitForControlledPodsRunning: : Pods: 1 out of 2 created, 1 running, 1 pending, 0 waiting, 0 inactive, 0 unknown, "
    "0 runningButNotReady",
    "WaitForControlledPodsRunning: Pods: 1 out of 2 created, 1 running, 1 pending, 0 waiting, 0 inactive, 0 unknown, "
    "0 runningButNotReady",
    "the worst Pods: 1 out of 2 created, 1 running, 1 pending, 0 waiting, 0 inactive, 0 unknown, 0 runningButNotReady",
    "x 9 worst y latencies: [ Pods: 1 out of 2 created, 1 running, 1 pending, 0 waiting, 0 inactive, 0 unknown, "
    "0 runningButNotReady",
    "Top latency metric x Pods: 1 out of 2 created, 1 running, 1 pending, 0 waiting, 0 inactive, 0 unknown, "
    "0 runningButNotReady",
    "Top latency metric: {} Pods: 1 out of 2 created, 1 running, 1 pending, 0 waiting, 0 inactive, 0 unknown, "
    "0 runningButNotReady",
    "perc50: 1s Top latency metric Pods: 1 out of 2 created, 1 running, 1 pending, 0 waiting, 0 inactive, 0 unknown, "
    "0 runningButNotReady",
    "x Pods: 1 out of 2 created, 1 running, 1 pending, 0 waiting, 0 inactive, 0 unknown, 0 runningButNotReady Pods: 2",
    "x Pods: 1234567890123456789 out of 2 created, 1 running, 1 pending, 0 waiting, 0 inactive, 0 unknown, "
    "0 runningButNotReady",
    "x Pods:  1 out of 2 created, 1 running, 1 pending, 0 waiting, 0 inactive, 0 unknown, 0 runningButNotReady",
    "x:Pods: 1 out of 2 created, 1 running, 1 pending, 0 waiting, 0 inactive, 0 unknown, 0 runningButNotReady",
]
_LINES = [_H.format(f="wait_for_controlled_pods.go:254") + m for m in _MSGS] + [
    '  "version": "v1", "dataItems": [{"data": {"Perc50": 1.5}, "unit": "ms", "labels": {"Metric": "x"}}]',
    "}",
    "E0607 12:34:56.789012    4242 clusterloader.go:1] an error",
    "random text",
    "",
    "\x1b[32mI0607 12:34:56.789012    4242 simple_test_executor.go:1] coloured\x1b[0m",
    "I0607 12:34:56.789012 4242 wait_for_pods.go:92]WaitForControlledPodsRunning: x: Pods: 1 out of 2 created, "
    "1 running, 1 pending, 0 waiting, 0 inactive, 0 unknown, 0 runningButNotReady",
    "W1231 23:59:59.999999    1 wait_for_pods.go:92]   spaces Pods: 1 out of 2 created, 1 running, 1 pending, "
    "0 waiting, 0 inactive, 0 unknown, 0 runningButNotReady",
    "I0607 12:34:56.789012    4242 wait_for_pods.go:92] ",
]


def _cl2_both_paths(text: str, tz: str):
    """The tables and context of the columnar and the per-line path on ``text``; asserts the first one ran."""
    import io

    import pyarrow as pa

    from kubelog import formats
    from kubelog.engine import blocks
    from kubelog.formats import cl2
    from kubelog.formats.base import Context

    out, used = [], []
    for per_line in (False, True):
        got: dict[str, list] = {}
        emit = lambda t, d: got.setdefault(t, []).append(d)  # noqa: B023, E731
        ctx = Context(0, "cl2.log", emit, year=2021, tz=tz, options={"per_line": per_line, "threads": 1})
        stream = io.BufferedReader(io.BytesIO(text.encode("utf-8", "replace")))
        with pytest.MonkeyPatch.context() as mp:  # which path ran: the columnar one reads progress per block
            real = cl2._Cl2Parser._progress
            mp.setattr(cl2._Cl2Parser, "_progress", lambda *a, p=per_line, f=real: used.append(p) or f(*a))
            blocks.parse_input(formats.get("cl2-log").plan(stream, ctx), stream, ctx)
        out.append(({k: pa.concat_tables(v) for k, v in got.items()}, ctx))
    assert used and set(used) == {False}
    (fast, fctx), (slow, sctx) = out
    assert fast.keys() == slow.keys()
    for t in fast:
        for c in fast[t].column_names:
            assert fast[t].column(c).to_pylist() == slow[t].column(c).to_pylist(), (t, c)
        assert fast[t].schema == slow[t].schema
    assert (fctx.info, fctx.errors, fctx.record_lines, fctx.continuation_lines, fctx.lines_read) == (
        sctx.info,
        sctx.errors,
        sctx.record_lines,
        sctx.continuation_lines,
        sctx.lines_read,
    )
    return fast


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    lines=st.lists(st.one_of(st.sampled_from(_LINES), st.text(max_size=30)), min_size=1, max_size=40),
    tz=st.sampled_from(["UTC", "America/New_York", "+02:00"]),
    prow=st.booleans(),
    head=st.booleans(),
)
def test_columnar_cl2_rows_are_what_the_per_line_loop_gives(lines, tz, prow, head):
    text = "\n".join([_H.format(f="clusterloader.go:1") + "Running clusterloader2"] * head + lines) + "\n"
    if prow:
        text = "".join(f"I0607 12:34:57.000] {x}\n" for x in text.splitlines())
    _cl2_both_paths(text, tz)


@pytest.mark.parametrize("name", ["api_responsiveness_2019.log", "measurements_pre1.20.log", "wait_for_pods_2019.log"])
def test_cl2_samples_columnar_same_as_per_line(name):
    from pathlib import Path

    fast = _cl2_both_paths((Path(__file__).parent / "samples" / "cl2-log" / name).read_text(), "UTC")
    assert name != "wait_for_pods_2019.log" or fast["progress"].num_rows == 2  # a block of progress lines only


_ELEMS = ["a", "ns/pod-1", "node-1", "1.5s", "2m3.5s", "-1s", "0", "1.5µs", "Name:p", "Node:n", "Latency:2s", "x/y/z"]
_ELEMS += ["9999999h", "1.5h30m", "", "  ", "\t", "12345678s", "1.12345678912s", "1h2m3.000000001s", "007ms"]
_ELEMS += ["1234567890s", "0.5s", "12.000000001s", "3s", "1.s", ".5s", "1e3s"]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.lists(
            st.tuples(st.lists(st.sampled_from(_ELEMS), max_size=4), st.sampled_from(["", " ", "x", "{", "}"])),
            max_size=6,
        ).map(lambda els: "".join("{" + " ".join(t) + "}" + s for t, s in els)),
        max_size=8,
    )
)
def test_worst_lists_is_worst_list_of_each_body(bodies):
    from kubelog.formats import e2e_util as U

    want = [(i, *e) for i, b in enumerate(bodies) for e in U.worst_list(b)]
    body_of, *cols = U.worst_lists(bodies)
    assert list(zip(body_of.tolist(), *(c.to_pylist() for c in cols))) == want


def test_every_line_columnar_cl2_same_as_per_line():
    """Round 9 of issue 20: every line above, in order and in reverse, in one log (the generated test draws some)."""
    for lines in (_LINES, _LINES[::-1]):
        for tz in ("UTC", "America/New_York"):
            fast = _cl2_both_paths("\n".join(lines) + "\n", tz)
            assert fast["progress"].num_rows >= 10


def test_filter_pattern_is_not_run_on_the_progress_lines():
    """The lines holding " Pods: " (found by RE2's literal search) pass _FILTER without it: on a log of progress lines
    the pattern sees only the others (the tables as the per-line path gives them: the generated tests above)."""
    import pyarrow.compute as pc

    from kubelog.formats import cl2

    seen = []
    real = pc.match_substring_regex

    def match(strings, pattern, *a, **k):
        if pattern == cl2._FILTER:
            seen.append(len(strings))
        return real(strings, pattern, *a, **k)

    glued = [x for x in _LINES if "wait_for_pods.go:92]WaitFor" in x]
    text = "\n".join([_LINES[0]] * 200 + glued * 10 + ["I0607 12:34:56.789012    4242 x.go:1] other"] * 10)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(pc, "match_substring_regex", match)
        fast = _cl2_both_paths(text + "\n", "UTC")
    assert fast["progress"].num_rows == 210
    assert seen and max(seen) <= 220 and sum(seen) < 2 * 220  # the per-line path's filter: all 220 lines
    assert sorted(seen)[0] == 10  # the columnar path's: the 10 lines without " Pods: "
