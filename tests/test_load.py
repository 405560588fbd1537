"""Load timeline and load buckets (issue #6): known answers on tiny hand-built runs.

Every expected value below is computed by hand from the rows written in the test; the
definitions are in kubelog/analysis/load.py's docstring.
"""

from __future__ import annotations

from pathlib import Path

import re

import numpy as np
import pandas as pd
import pytest

from kubelog import run as runmod, tables
from kubelog.analysis.load import LoadTimeline, bucket_labels, bucket_of, load_timeline, time_in_buckets

T0 = pd.Timestamp("2024-01-01T00:00:00Z")
NS = 1_000_000_000


def at(sec: float) -> pd.Timestamp:
    return T0 + pd.Timedelta(nanoseconds=round(sec * NS))


def make_run(path, **tbls):
    """Write a run directory from {table: list of row dicts} (missing columns are null)."""
    tmp = runmod.prepare(path, force=True)
    w = runmod.PartWriter(tmp, 0)
    for name, rows in tbls.items():
        cols = {c: [r.get(c) for r in rows] for c in tables.schema(name).names if any(c in r for r in rows)}
        w(name, tables.conform(name, cols))
    w.close()
    runmod.finish(tmp, path, {"inputs": [{"path": "hand-built", "format": "test"}]})
    return runmod.open_run(path)


def req(
    end: float,
    lat: float,
    verb: str,
    resource: str,
    code: int,
    subresource: str = "",
    name: str = "",
    scope: str = "namespace",
    origin: str = "httplog",
    audit_id=None,
    long_running=False,
    start=True,
):
    """One requests row ending at T0+end seconds; start_ts = ts − latency exactly (in ns)."""
    ts = at(end)
    return dict(
        ts=ts,
        start_ts=(ts - pd.Timedelta(nanoseconds=round(lat * NS))) if start else None,
        clock="apiserver",
        verb=verb,
        resource=resource,
        subresource=subresource,
        name=name,
        scope=scope,
        latency_s=lat,
        code=code,
        origin=origin,
        audit_id=audit_id,
        long_running=long_running,
        hijacked=False,
        server="kube-apiserver",
    )


def scenario_rows():
    """The requests of the run shared with test_matrix.py (its pods' lives: :func:`scenario_pods`).

    * nodes: PATCH n1/status 200, GET n2 200, GET ghost 404 → 2 nodes (ghost never answered 2xx);
      with 5 pods per node, capacity 10, so L = pods × 10 %.
    * pod creates (POST pods 201, httplog) k = 1..11 end at 10k s with latency 0.01k s;
      one pod delete (200) ends at 125 s.
    * pods p1..p11 start at 10k s (kubelet PLEG ContainerStarted records at 10k + 0.5 s: a record
      follows the start by up to one 1 s relist, the start is taken half a relist before it); p1's
      kubelet kill record is at 125 s → pods: 1..11 at 10..110 s, 10 from 125 s.
    * not load evidence: a create answered 409 (ends 115 s), a pods/binding create 201 of p11
      (112 s, after its start), an audit copy of create k=5 (same audit ID), a DELETE answered 404.
    * a pods WATCH from 0 to 130 s (long-running: excluded from latency, but it spans the window).
    * a GET pods without start_ts (ends 50 s): not placed in a bucket.
    """
    rows = [
        req(1, 0.01, "patch", "nodes", 200, "status", "n1", "resource"),
        req(2, 0.002, "get", "nodes", 200, "", "n2", "resource"),
        req(3, 0.001, "get", "nodes", 404, "", "ghost", "resource"),
    ]
    for k in range(1, 12):
        rows.append(req(10 * k, 0.01 * k, "create", "pods", 201, audit_id=f"c{k}"))
    rows += [
        req(125, 0.05, "delete", "pods", 200, name="p1", scope="resource"),
        req(126, 0.04, "delete", "pods", 404, name="nope", scope="resource"),
        req(115, 0.2, "create", "pods", 409),
        req(112, 0.003, "create", "pods", 201, "binding", "p11", "resource"),
        req(50.02, 0.05, "create", "pods", 201, origin="audit", audit_id="c5"),
        req(130, 130.0, "watch", "pods", 200, scope="cluster", long_running=True),
        req(50, 0.3, "get", "pods", 200, name="p3", scope="resource", start=False),
    ]
    return rows


def scenario_pods():
    """pod_transitions of the scenario: p1..p11 start at 10k s (their PLEG records half a relist
    later), p1 is killed at 125 s."""
    rows = [
        dict(
            namespace="",
            pod=f"p{k}",
            milestone="pleg_container_started",
            ts=at(10 * k + 0.5),
            clock="apiserver",
            resolution_s=1e-6,
            origin="kubelet",
        )
        for k in range(1, 12)
    ]
    rows.append(
        dict(
            namespace="",
            pod="p1",
            milestone="kubelet_kill",
            ts=at(125),
            clock="apiserver",
            resolution_s=1e-6,
            origin="kubelet",
        )
    )
    return rows


def scenario_tables():
    return {"requests": scenario_rows(), "pod_transitions": scenario_pods()}


@pytest.fixture
def scenario(tmp_path):
    return make_run(tmp_path / "run", **scenario_tables())


def test_timeline_from_requests(scenario):
    tl = load_timeline(scenario, pods_per_node=5)
    assert tl.nodes == 2 and tl.capacity == 10
    assert "2xx" in tl.nodes_source
    assert tl.source.startswith("pod lives (httplog): 11 of 11 test pods started")
    ev = tl.evidence.set_index("evidence")["pods"]
    assert ev["kubelet container-start record"] == 11 and ev["kubelet kill/REMOVE record"] == 1
    assert ev["not stopped (counted to the end)"] == 10
    assert list(tl.steps.columns) == ["ts", "running", "load_pct"]
    assert tl.steps["ts"].tolist() == [at(10 * k) for k in range(1, 12)] + [at(125)]
    assert tl.steps["running"].tolist() == list(range(1, 12)) + [10]
    assert tl.steps["load_pct"].tolist() == [10.0 * k for k in range(1, 12)] + [100.0]
    assert str(tl.steps["ts"].dtype) == "datetime64[ns, UTC]"
    assert tl.start == at(0) and tl.end == at(130)
    # audit copy noted, not counted
    assert any("audit" in n for n in tl.notes)
    assert tl.lives.set_index("pod").loc["p1", "stop_evidence"] == "kubelet kill/REMOVE record"


def test_nodes_override(scenario):
    tl = load_timeline(scenario, nodes=4, pods_per_node=30)
    assert tl.capacity == 120 and tl.nodes == 4 and tl.nodes_source.startswith("given")
    assert tl.steps["load_pct"].iloc[0] == pytest.approx(100 / 120)


def test_running_at_is_inclusive_of_the_step_time(scenario):
    tl = load_timeline(scenario, pods_per_node=5)
    got = tl.running_at([at(0), at(9.999999999), at(10), at(10.5), at(110), at(124.999), at(125), at(999)])
    assert got.tolist() == [0, 0, 1, 1, 11, 11, 10, 10]


def test_buckets_at_boundaries(scenario):
    tl = load_timeline(scenario, pods_per_node=5)
    # L: 0 %, exactly 10 % (at 10 s), 20 %, exactly 50 %, exactly 90 %, exactly 100 %, 110 %, 100 % again
    ts = [at(5), at(10), at(20), at(50), at(90), at(100), at(110), at(125)]
    assert bucket_of(tl, ts).tolist() == ["10", "10", "25", "50", "90", "100", ">100", "100"]
    assert bucket_of(tl, pd.Series(ts)).tolist() == bucket_of(tl, ts).tolist()
    assert bucket_of(tl, [pd.NaT, at(30)]).tolist() == [None, "50"]
    # custom edges
    assert bucket_of(tl, ts, edges=(50, 100)).tolist() == ["50", "50", "50", "50", "100", "100", ">100", "100"]


def test_exact_boundary_25_percent_and_float_edges():
    steps = pd.DataFrame({"ts": [at(0), at(1), at(2)], "running": [1, 5, 21], "load_pct": np.nan})
    tl = LoadTimeline(capacity=20, nodes=2, nodes_source="given", source="test", steps=steps)
    # 1/20 = 5 %, 5/20 = 25 % exactly, 21/20 = 105 %
    assert bucket_of(tl, [at(0), at(1), at(2)]).tolist() == ["10", "25", ">100"]
    # 3 of 30 is 10 % exactly even though 3/30*100 is not exactly 10.0 in floating point
    tl3 = LoadTimeline(
        capacity=30,
        nodes=1,
        nodes_source="given",
        source="test",
        steps=pd.DataFrame({"ts": [at(0)], "running": [3], "load_pct": [10.0]}),
    )
    assert bucket_of(tl3, [at(0)]).tolist() == ["10"]
    assert bucket_labels((12.5, 100)) == ["12.5", "100", ">100"]
    assert bucket_of(tl, [at(0)], edges=(5, 100)).tolist() == ["5"]
    with pytest.raises(ValueError):
        bucket_of(tl, [at(0)], edges=(50, 10))


def test_time_in_buckets(scenario):
    tl = load_timeline(scenario, pods_per_node=5)
    t = time_in_buckets(tl)
    # window 0..130 s: 0 pods 0-10 and 1 pod 10-20 → "10" 20 s; 2 pods → "25" 10 s; 3-5 → "50" 30 s;
    # 6-9 → "90" 40 s; 10 pods 100-110 and 125-130 → "100" 15 s; 11 pods 110-125 → ">100" 15 s
    assert t["bucket"].tolist() == ["10", "25", "50", "90", "100", ">100"]
    assert t["seconds"].tolist() == pytest.approx([20, 10, 30, 40, 15, 15])
    assert t["share"].sum() == pytest.approx(1.0)
    part = time_in_buckets(tl, start=at(15), end=at(35))
    assert part["seconds"].tolist() == pytest.approx([5, 10, 5, 0, 0, 0])


def test_no_capacity_is_an_error_not_a_guess(tmp_path):
    run = make_run(tmp_path / "r", requests=[req(10, 0.01, "create", "pods", 201)])
    tl = load_timeline(run)
    assert tl.capacity is None and "--nodes" in tl.nodes_source
    assert tl.steps["load_pct"].isna().all()
    with pytest.raises(ValueError, match="nodes"):
        bucket_of(tl, [at(10)])
    assert load_timeline(run, nodes=1).capacity == 30


def pod_req(end, verb, name, code=200, sub="", origin="httplog", lat=0.005, ns="d"):
    r = req(end, lat, verb, "pods", code, sub, name, "resource", origin=origin)
    r["namespace"] = ns
    return r


def rcv(end, lat=0.005):
    """Receipt (request start) of a request ending at ``end`` s with latency ``lat``: the kubelet sent it
    after what it reports."""
    return at(end) - pd.Timedelta(nanoseconds=round(lat * NS))


def relisted(end, lat=0.005):
    """The start kubelog takes from a kubelet's Running write received at ``rcv(end, lat)``: half a PLEG
    relist (1 s, pkg/kubelet/kubelet.go plegRelistPeriod) before it, the write's lag being uniform over
    the relist period."""
    return rcv(end, lat) - pd.Timedelta(seconds=0.5)


def test_double_delete_counts_each_pod_once(tmp_path):
    """Kubernetes deletes a pod twice: the graceful DELETE (GC, namespace controller, user) and the
    kubelet's grace-0 DELETE after the containers stopped (pkg/kubelet/status/status_manager.go
    syncPod).  A pod is load from its Running write (less half a relist) to its stop, bounded by the
    graceful delete and the terminal status write after it (taken at the graceful delete: the kubelet
    kills the containers when its watch delivers the deletion, and the write came within a relist); the
    second DELETE subtracts nothing more."""
    rows = []
    for k, name in enumerate(["a", "b", "c"]):
        t0 = 10 * (k + 1)
        rows += [
            pod_req(t0, "create", name, 201, "binding"),
            pod_req(t0 + 1, "patch", name, sub="status"),
            pod_req(100 + k, "delete", name),
            pod_req(100.5 + k, "patch", name, sub="status"),
            pod_req(100.6 + k, "delete", name),
        ]
    rows.append(pod_req(50, "create", "never", 201, "binding"))  # bound, never started (no status, no delete)
    tl = load_timeline(make_run(tmp_path / "r", requests=rows), nodes=1)
    assert tl.steps["running"].tolist() == [1, 2, 3, 2, 1, 0]
    assert tl.steps["ts"].tolist() == [relisted(11), relisted(21), relisted(31), at(100), at(101), at(102)]
    lv = tl.lives.set_index("pod")
    # the start lies between the bind (10 s; a relist + allowance before the write would be earlier) and the write
    assert lv.loc["a", "start_lo"] == rcv(10) and lv.loc["a", "start_hi"] == rcv(11)
    assert lv.loc["a", "stop_lo"] == at(100) and lv.loc["a", "stop_hi"] == rcv(100.5)
    ev = tl.evidence.set_index("evidence")["pods"]
    assert ev["status update (the pods/status write that carries Running)"] == 3
    assert ev["kubelet final delete / terminal status write"] == 3
    assert ev["seen (test namespaces)"] == 4 and ev["started (load)"] == 3


def test_audit_only_origin_is_used_when_no_access_log(tmp_path):
    rows = [
        pod_req(10, "patch", "a", sub="status", origin="audit"),
        pod_req(20, "patch", "b", sub="status", origin="audit"),
        pod_req(30, "delete", "a", origin="audit"),
        pod_req(31, "delete", "a", origin="audit"),
        pod_req(40, "delete", "b", origin="audit"),
        pod_req(41, "delete", "b", origin="audit"),
        pod_req(25, "patch", "c", sub="status", origin="audit"),
    ]  # c: a status write only, never ran
    tl = load_timeline(make_run(tmp_path / "r", requests=rows), nodes=1)
    assert tl.source.startswith("pod lives (audit): 2 of 3 test pods started")
    assert tl.steps["running"].tolist() == [1, 2, 1, 0]
    # stops: the graceful delete + the run's kubelet reaction (the median gap to the final delete, 0.995 s,
    # less half a relist: the final delete waited for the relist that saw the containers die)
    assert tl.steps["ts"].tolist() == [relisted(10), relisted(20), at(30.495), at(40.495)]


def test_namespace_teardown_stops_pods_without_kubelet_deletes(tmp_path):
    """A failed spec: DELETE namespace, then the namespace controller's DELETECOLLECTION.  In a run
    with no kubelet confirmation at all, the teardown is the stop; pods of other namespaces run on."""
    rows = [
        pod_req(10, "patch", "a", sub="status"),
        pod_req(11, "patch", "b", sub="status"),
        pod_req(12, "patch", "x", sub="status", ns="other"),
        req(50, 0.01, "delete", "namespaces", 200, name="d", scope="resource"),
        dict(req(50.1, 0.2, "deletecollection", "pods", 200), namespace="d"),
    ]
    pt = [
        dict(namespace=ns, pod=p, milestone="started", ts=at(t), clock="node/n1", resolution_s=1.0, origin="pods-json")
        for ns, p, t in (("d", "a", 9), ("d", "b", 10), ("other", "x", 11))
    ]
    tl = load_timeline(make_run(tmp_path / "r", requests=rows, pod_transitions=pt), nodes=1)
    assert tl.steps["running"].tolist() == [1, 2, 3, 1]
    assert tl.steps["ts"].tolist() == [relisted(10), relisted(11), relisted(12), at(50)]  # the teardown's end
    ev = tl.evidence.set_index("evidence")["pods"]
    assert ev["graceful delete or namespace teardown (no kubelet delete in the run)"] == 2


def test_hung_kubelet_pod_runs_to_the_end(tmp_path):
    """With kubelet final deletes in the run, a pod whose kubelet never confirmed the stop after the
    teardown is still running (a graceful delete stops nothing by itself)."""
    rows = [
        pod_req(10, "patch", "a", sub="status"),
        pod_req(11, "patch", "b", sub="status"),
        req(50, 0.01, "delete", "namespaces", 200, name="d", scope="resource"),
        pod_req(51, "patch", "a", sub="status"),
        pod_req(51.5, "delete", "a"),
    ]
    pt = [
        dict(namespace="d", pod=p, milestone="started", ts=at(t), clock="node/n1", resolution_s=1.0, origin="pods-json")
        for p, t in (("a", 9), ("b", 10))
    ]
    tl = load_timeline(make_run(tmp_path / "r", requests=rows, pod_transitions=pt), nodes=1)
    assert tl.steps["running"].tolist() == [1, 2, 1]
    assert tl.steps["ts"].tolist() == [relisted(10), relisted(11), at(50.495)]  # teardown + reaction
    assert any("counted as running to the end" in n for n in tl.notes)


def test_running_write_is_the_one_after_the_pending_write(tmp_path):
    """The kubelet writes a pod's status at the start of every sync, before the runtime acts
    (pkg/kubelet/kubelet.go SyncPod): its first write carries Pending (ContainerCreating), the Running
    status is the next one (the sync the PLEG ContainerStarted event triggers).  Pod a has both writes
    (Pending at 10 s, Running at 12 s); b only one (its Pending status merged into the Running write);
    c's ContainerStarted record follows one other PLEG record, so its Running write is the third."""
    rows = [
        pod_req(10, "patch", "a", sub="status"),
        pod_req(12, "patch", "a", sub="status"),
        pod_req(20, "patch", "b", sub="status"),
        pod_req(30, "patch", "c", sub="status"),
        pod_req(31, "patch", "c", sub="status"),
        pod_req(33, "patch", "c", sub="status"),
    ]
    for name, t in (("a", 40), ("b", 41), ("c", 42)):
        rows += [
            pod_req(t, "delete", name),
            pod_req(t + 0.5, "patch", name, sub="status"),
            pod_req(t + 0.6, "delete", name),
        ]
    pt = [
        dict(namespace="d", pod=p, milestone=m, ts=at(t), clock="node/n1", resolution_s=1e-6, origin="kubelet")
        for p, m, t in (("c", "pleg_container_died", 30.5), ("c", "pleg_container_started", 32.5))
    ]
    tl = load_timeline(make_run(tmp_path / "r", requests=rows, pod_transitions=pt), nodes=1)
    lives = tl.lives.set_index("pod")
    assert lives.loc["a", "start"] == relisted(12) and lives.loc["b", "start"] == relisted(20)
    assert lives.loc["c", "start"] == relisted(33)
    assert (lives["start_evidence"] == "status update (the pods/status write that carries Running)").all()
    assert lives.loc["a", "stop"] == at(40)  # the graceful delete, the terminal write came within a relist


def test_fallback_progress_sums_labels(tmp_path):
    def pr(label, sec, running):
        return dict(ts=at(sec), clock="test", label=label, running=running)

    rows = [pr("rc-a", 1, 10), pr("rc-b", 2, 5), pr("rc-a", 3, 20), pr("rc-b", 4, 5), pr("rc-b", 5, 0)]
    tl = load_timeline(make_run(tmp_path / "r", progress=rows), nodes=1)
    assert tl.source.startswith("progress")
    assert tl.clock == "test"
    assert tl.steps["running"].tolist() == [10, 15, 25, 25, 20]


def test_no_source_at_all(tmp_path):
    run = make_run(tmp_path / "r", requests=[req(3, 0.1, "get", "nodes", 200, name="n1")])
    tl = load_timeline(run)
    assert tl.source.startswith("none") and tl.steps.empty and tl.capacity == 30
    assert bucket_of(tl, [at(3)]).tolist() == ["10"]
    assert time_in_buckets(tl)["seconds"].tolist() == pytest.approx([0.1, 0, 0, 0, 0, 0])


ACCESS_LOG = """\
I0101 00:00:01.000000       1 httplog.go:132] "HTTP" verb="PATCH" URI="/api/v1/nodes/n1/status?timeout=10s" latency="10ms" userAgent="kubelet/v1.28.0 (linux/amd64) kubernetes/855e7c4" audit-ID="00000000-0000-0000-0000-000000000001" srcIP="10.0.0.1:1000" resp=200
I0101 00:00:10.000000       1 httplog.go:132] "HTTP" verb="POST" URI="/api/v1/namespaces/d/pods" latency="10ms" userAgent="kube-controller-manager/v1.28.0 (linux/amd64) kubernetes/855e7c4/system:serviceaccount:kube-system:replication-controller" audit-ID="00000000-0000-0000-0000-000000000002" srcIP="10.0.0.2:1000" resp=201
I0101 00:00:20.000000       1 httplog.go:132] "HTTP" verb="POST" URI="/api/v1/namespaces/d/pods" latency="20ms" userAgent="kube-controller-manager/v1.28.0 (linux/amd64) kubernetes/855e7c4/system:serviceaccount:kube-system:replication-controller" audit-ID="00000000-0000-0000-0000-000000000003" srcIP="10.0.0.2:1000" resp=201
I0101 00:00:21.000000       1 httplog.go:132] "HTTP" verb="POST" URI="/api/v1/namespaces/d/pods/p1/binding" latency="3ms" userAgent="kube-scheduler/v1.28.0 (linux/amd64) kubernetes/855e7c4/scheduler" audit-ID="00000000-0000-0000-0000-000000000004" srcIP="10.0.0.3:1000" resp=201
I0101 00:00:22.000000       1 httplog.go:132] "HTTP" verb="PATCH" URI="/api/v1/namespaces/d/pods/p1/status" latency="4ms" userAgent="kubelet/v1.28.0 (linux/amd64) kubernetes/855e7c4" audit-ID="00000000-0000-0000-0000-000000000006" srcIP="10.0.0.1:1000" resp=200
I0101 00:00:30.000000       1 httplog.go:132] "HTTP" verb="DELETE" URI="/api/v1/namespaces/d/pods/p1" latency="5ms" userAgent="kube-controller-manager/v1.28.0 (linux/amd64) kubernetes/855e7c4/system:serviceaccount:kube-system:generic-garbage-collector" audit-ID="00000000-0000-0000-0000-000000000005" srcIP="10.0.0.4:1000" resp=200
"""


def test_ingested_access_log(tmp_path, ingest_to):
    p = tmp_path / "kube-apiserver.log"
    p.write_text(ACCESS_LOG)
    run = ingest_to(p, year=2024)
    tl = load_timeline(run, pods_per_node=1)
    assert tl.nodes == 1 and tl.capacity == 1
    # one pod bound at 21 s, written to by its kubelet at 22 s, deleted (gracefully) at 30 s; the run
    # has no container-start evidence: a status write is taken as the start (half a relist before its
    # receipt), the delete as the stop
    assert tl.source.startswith("pod lives (httplog): 1 of 1 test pods started")
    assert tl.steps["ts"].tolist() == [relisted(22, 0.004), at(30)]
    assert tl.steps["running"].tolist() == [1, 0]
    assert any("no container-start evidence" in n for n in tl.notes)
    assert bucket_of(tl, [relisted(22, 0.0041), relisted(22, 0.004)], edges=(50, 100)).tolist() == ["50", "100"]


def test_doctests():
    import doctest

    import kubelog.analysis.load as m
    import kubelog.analysis.matrix as mx

    assert doctest.testmod(m).failed == 0 and doctest.testmod(mx).failed == 0


def test_offsets_move_a_progress_timeline_to_the_apiserver_clock(ingest_to):
    """Issue 22 (--correct-skew on latency --by-load): progress lines are read on the test machine's clock;
    with its offset θ the timeline's steps move by −θ, and a note says so. Requests (apiserver clock)
    are then bucketed by the corrected load."""
    import pandas as pd

    from kubelog.analysis.load import load_timeline

    run = ingest_to(Path(__file__).parent.parent / "sample_logs" / "skew-timeout-1.14" / "e2e.log")
    raw = load_timeline(run, nodes=3)
    assert raw.source.startswith("progress lines") and raw.clock == "test" and len(raw.steps)
    theta = 36012.5
    tl = load_timeline(run, nodes=3, offsets={"test": theta})
    assert (raw.steps["ts"] - tl.steps["ts"] == pd.Timedelta(seconds=theta)).all()
    assert tl.steps["running"].tolist() == raw.steps["running"].tolist()
    assert tl.clock == "test→apiserver" and any("moved to the apiserver clock" in n for n in tl.notes)
    same = load_timeline(run, nodes=3, offsets={"node/x": 1.0})  # no offset for the test clock: kept, and said
    assert same.steps["ts"].tolist() == raw.steps["ts"].tolist()
    assert any("no clock offset for test" in n for n in same.notes)


def test_latency_correct_skew_needs_by_load(tmp_path):
    from typer.testing import CliRunner

    from kubelog.cli import app

    r = CliRunner().invoke(app, ["latency", str(tmp_path), "--correct-skew"])
    assert r.exit_code == 2 and "nothing to correct" in r.output


def test_bounds_tell_where_the_bucket_is_undecided(tmp_path):
    """Each pod's start lies in [receipt − 1.1 s, receipt] of its Running write (a PLEG relist + the
    allowance): between the fewest pods surely running and the most possibly running, the bucket is
    decided only where both agree."""
    from kubelog.analysis.load import undecided

    rows = [
        pod_req(5, "create", "a", 201, "binding"),
        pod_req(5, "create", "b", 201, "binding"),
        pod_req(10, "patch", "a", sub="status"),
        pod_req(10, "patch", "a", sub="status"),
        pod_req(10.3, "patch", "b", sub="status"),
        pod_req(10.3, "patch", "b", sub="status"),
    ]
    tl = load_timeline(make_run(tmp_path / "r", requests=rows), nodes=1, pods_per_node=10)
    ts = [at(8.8), at(9.0), at(10.2), at(10.4)]
    lo, hi = tl.running_bounds(ts)
    assert lo.tolist() == [0, 0, 1, 2] and hi.tolist() == [0, 1, 2, 2]
    # one pod is 10 % (bucket "10"), two are 20 % ("25")
    assert undecided(tl, ts).tolist() == [False, False, True, False]
    tib = time_in_buckets(tl, start=at(0), end=at(20)).set_index("bucket")
    # two pods possible from b's earliest start (10.295 − 1.1 s) until both surely started (b's receipt,
    # 10.295): 1.1 s, of which the estimate (a at 9.495, b at 9.795) puts 0.6 s in "10", 0.5 s in "25"
    assert tib.loc["10", "undecided_s"] == pytest.approx(0.6, abs=1e-6)
    assert tib.loc["25", "undecided_s"] == pytest.approx(0.5, abs=1e-6)
    assert tib["undecided_s"].sum() == pytest.approx(1.1, abs=1e-6)


@pytest.mark.parametrize(
    "ua, relisted",
    [
        ("kubelet/v1.14.0 (linux/amd64) kubernetes/641856d", True),
        ("kubelet/v1.28.2 (linux/amd64) kubernetes/89a4ea3", False),
    ],
)
def test_terminal_write_trails_the_stop_by_a_relist_before_1_22(tmp_path, ua, relisted):
    """Up to 1.21 syncPod kills and returns; the terminal status comes from the sync PLEG ContainerDied
    triggers (a relist later).  From 1.22 syncTerminatingPod sets it right after the kill."""
    rows = [pod_req(5, "create", "a", 201, "binding"), pod_req(10, "patch", "a", sub="status")]
    rows += [pod_req(50, "delete", "a"), pod_req(50.6, "patch", "a", sub="status"), pod_req(50.7, "delete", "a")]
    for r in rows:
        if r["subresource"] == "status":
            r["user_agent"] = ua
    tl = load_timeline(make_run(tmp_path / "r", requests=rows), nodes=1)
    stop = tl.lives.set_index("pod").loc["a", "stop"]
    # before 1.22: the graceful delete + the reaction (the gap 0.595 s less half a relist)
    assert stop == (at(50) + pd.Timedelta(seconds=0.095) if relisted else rcv(50.6))


def test_started_event_starts_a_pod_in_the_middle_of_its_second(tmp_path):
    """Without a Running write or a kubelet record, a Started event is the start: its firstTimestamp is
    truncated to the second (the start lies in it: estimate its middle), an eventTime is the instant."""
    rows = [pod_req(5, "create", p, 201, "binding") for p in ("a", "b")]

    def ev(pod, **t):
        return dict(reason="Started", object_kind="Pod", object_namespace="d", object_name=pod, **t)

    events = [ev("a", first_ts=at(20)), ev("b", event_time=at(30.25), first_ts=at(30))]
    tl = load_timeline(make_run(tmp_path / "r", requests=rows, events=events), nodes=1)
    lv = tl.lives.set_index("pod")
    assert (lv["start_evidence"] == "Started event time (firstTimestamp second, or eventTime)").all()
    assert lv.loc["a", "start"] == at(20.5) and (lv.loc["a", "start_lo"], lv.loc["a", "start_hi"]) == (at(20), at(21))
    assert lv.loc["b", "start"] == lv.loc["b", "start_lo"] == lv.loc["b", "start_hi"] == at(30.25)


# --- the instant in an Event's name (client-go: <object>.<UnixNano hex>) -------------------------------


def _named(obj: str, t: pd.Timestamp) -> str:
    """An Event name as client-go's recorder makes it (tools/record/event.go makeEvent)."""
    return f"{obj}.{t.value:x}"


def test_event_names_carry_the_reporters_instant():
    """client-go names an Event ``<object>.<t.UnixNano() hex>`` with the same ``t`` as firstTimestamp: the
    name keeps the nanoseconds that firstTimestamp truncates.  A name is read only when it agrees with the
    event's own time; any other name (another client's, edited, another object's) gives nothing."""
    from kubelog.analysis.load import event_name_instants

    t = at(20.123456789)
    rows = [
        dict(name=_named("a", t), object_name="a", first_ts=at(20), event_time=None),  # legacy: read
        dict(name=_named("a", t), object_name="a", first_ts=at(19), event_time=None),  # not that second
        dict(name=_named("a", t), object_name="a", first_ts=None, event_time=at(20.1234)),  # eventTime: read
        dict(name=_named("a", t), object_name="a", first_ts=None, event_time=at(18)),  # 2 s off
        dict(name=_named("a", t), object_name="b", first_ts=at(20), event_time=None),  # another object
        dict(name="a.17A3C5E1F2B3C4D5", object_name="a", first_ts=at(20), event_time=None),  # not Go's %x
        dict(name="a-x9k2p", object_name="a", first_ts=at(20), event_time=None),  # another client's name
        dict(name=_named("a", t), object_name="a", first_ts=None, event_time=None),  # nothing to agree with
    ]
    df = pd.DataFrame(rows)
    for c in ("first_ts", "event_time"):
        df[c] = pd.to_datetime(df[c], utc=True)
    got = event_name_instants(df)
    want = [t.value, np.nan, t.value, np.nan, np.nan, np.nan, np.nan, np.nan]
    np.testing.assert_array_equal(got, np.array(want, dtype=np.float64))


def test_real_event_names_carry_their_instants(real_logs, tmp_path):
    """A real EventList (OpenShift 4.8 must-gather, Kubernetes 1.21): every event's name — 401 with a
    firstTimestamp, 4 with an eventTime — holds an instant in its own second."""
    from kubelog.analysis.load import event_name_instants
    from kubelog.engine import Options, ingest

    src = real_logs / "openshift4.8_events_kube-apiserver-operator_aws_mustgather.yaml"
    e = ingest([src], tmp_path / "r", options=Options()).table("events")
    v = event_name_instants(e)
    assert len(e) == 405 and np.isfinite(v).all()
    legacy = e["event_time"].isna().to_numpy()
    first = e["first_ts"].astype("int64").to_numpy()
    assert ((v[legacy] >= first[legacy]) & (v[legacy] < first[legacy] + NS)).all()
    # the Created and Started events of one container, 62 ms apart (the runtime's StartContainer call)
    row = e.set_index("name")
    c = v[e["name"].eq("kube-apiserver-operator-658c59f9fb-f68qn.1697c151881742fa").to_numpy()][0]
    s = v[e["name"].eq("kube-apiserver-operator-658c59f9fb-f68qn.1697c1518bc9fca6").to_numpy()][0]
    assert row.loc["kube-apiserver-operator-658c59f9fb-f68qn.1697c1518bc9fca6", "reason"] == "Started"
    assert 0.05 < (s - c) / NS < 0.07


def _kubelet_event(reason: str, pod: str, t_node: pd.Timestamp, host: str = "n1") -> dict:
    """A kubelet's Event of ``pod`` made at ``t_node`` on its node's clock (firstTimestamp = its second)."""
    return dict(
        reason=reason,
        name=_named(pod, t_node),
        object_kind="Pod",
        object_namespace="d",
        object_name=pod,
        first_ts=t_node.floor("s"),
        clock=f"node/{host}",
        component="kubelet",
        host=host,
    )


def test_started_and_killing_event_instants_place_each_pod_to_the_ms(tmp_path):
    """The kubelet makes Created when the runtime's CreateContainer returned, Started when StartContainer
    returned, Killing right before StopContainer (kuberuntime_container.go): their names' instants place
    each container's start and stop within milliseconds, on the node's clock.  Here the node is 0.8 s
    ahead of the apiserver and no offset is given: the pods' own requests bound it (the Running write and
    the terminal write follow an event, the bind and the graceful delete precede one), and the estimate
    puts every start and stop within 30 ms of the truth (the Running write alone: ±0.5 s)."""
    theta = pd.Timedelta(seconds=0.8)
    rng = np.random.default_rng(3)
    rows, events, truth = [], [], {}
    for i in range(20):
        p = f"p{i}"
        b = 5 + i * 0.37
        start = b + 0.6 + 0.4 * rng.random()  # true container start (apiserver clock)
        wait = rng.random()  # the PLEG relist's wait
        kill = 60 + i * 0.21 + 0.05
        stop = kill + 0.004
        rows += [
            pod_req(b, "create", p, 201, "binding"),
            pod_req(b + 0.05, "patch", p, sub="status"),  # Pending
            pod_req(start + wait + 0.012, "patch", p, sub="status"),  # Running, after the relist
            pod_req(60 + i * 0.21, "delete", p),  # graceful
            pod_req(stop + 0.015, "patch", p, sub="status"),  # terminal (1.22+: right after the kill)
            pod_req(stop + 0.03, "delete", p),  # final
        ]
        for r in rows[-6:]:
            if r["subresource"] == "status":
                r["user_agent"] = "kubelet/v1.28.2 (linux/amd64) kubernetes/89a4ea3"
        events += [
            _kubelet_event("Created", p, at(start - 0.002) + theta),
            _kubelet_event("Started", p, at(start + 0.0005) + theta),
            _kubelet_event("Killing", p, at(kill) + theta),
        ]
        truth[p] = (at(start), at(stop))
    tl = load_timeline(make_run(tmp_path / "r", requests=rows, events=events), nodes=1)
    lv = tl.lives.set_index("pod")
    assert (lv["start_evidence"] == "Started event (the instant in its name)").all()
    assert (lv["stop_evidence"] == "Killing event (the instant in its name)").all()
    for p, (start, stop) in truth.items():
        assert abs((lv.loc[p, "start"] - start).total_seconds()) < 0.03, (p, lv.loc[p, "start"], start)
        assert abs((lv.loc[p, "stop"] - stop).total_seconds()) < 0.03, (p, lv.loc[p, "stop"], stop)
        assert lv.loc[p, "start_lo"] <= start <= lv.loc[p, "start_hi"]
        assert lv.loc[p, "stop_lo"] <= stop <= lv.loc[p, "stop_hi"]
    ev = tl.evidence.set_index("evidence")["pods"]
    assert ev["Started event (the instant in its name)"] == 20


def _relisted_node(rng, host, theta, first, n, records, kill=False):
    """``n`` pods of a kubelet whose clock is ``theta`` ahead: each pod's bind, Pending and Running writes
    (the Running write 12 ms after the PLEG record of the relist after the start; the relist every 1 s
    takes 30 ms before it dispatches its events) and its Created/Started events; ``records``: the kubelet's
    log too (its ADD 20 ms after the bind, its PLEG ContainerStarted record); ``kill``: each pod deleted
    gracefully later, its Killing event 40 ms after that DELETE was received, then the kubelet's final
    DELETE.  Returns (requests, events, records, true starts)."""
    rows, events, recs, truth = [], [], [], {}
    phase = rng.random()
    for i in range(n):
        p = f"{host}-p{i}"
        b = first + i * 0.53
        start = b + 0.3 + 0.5 * rng.random()
        relist = phase + np.ceil(start - phase)  # the first relist at or after the start
        pleg = relist + 0.030
        rows += [
            pod_req(b, "create", p, 201, "binding"),
            pod_req(b + 0.05, "patch", p, sub="status"),  # Pending
            pod_req(pleg + 0.012 + 0.005, "patch", p, sub="status"),  # Running: received 12 ms after the record
        ]
        events += [
            _kubelet_event("Created", p, at(start - 0.002) + theta, host),
            _kubelet_event("Started", p, at(start) + theta, host),
        ]
        if kill:
            td = 40 + i * 0.3
            rows += [pod_req(td, "delete", p), pod_req(td + 0.6, "delete", p)]  # graceful, then final
            events.append(_kubelet_event("Killing", p, at(td - 0.005 + 0.040 + 0.002 * rng.random()) + theta, host))
        if records:
            for milestone, t in (("kubelet_add", b + 0.02), ("pleg_container_started", pleg)):
                recs.append(
                    dict(
                        namespace="d",
                        pod=p,
                        milestone=milestone,
                        ts=at(t) + theta,
                        clock=f"node/{host}",
                        resolution_s=1e-6,
                        origin="kubelet",
                    )
                )
        truth[p] = at(start)
    return rows, events, recs, truth


def test_kubelet_records_place_their_kubelets_clock(tmp_path):
    """A kubelet's own log places its clock: its Running write follows its PLEG ContainerStarted record by
    the sync and send alone (no relist wait), so n1's pods start within those 12 ms of the truth.  Before,
    n1 was placed like n2, a kubelet without a log, from the least relist wait of its Running writes: here
    every start 103 ms off (17–103 ms on five random draws of this run).  n2's starts stay inside their bounds."""
    theta = pd.Timedelta(seconds=0.8)
    rng = np.random.default_rng(3)
    r1, e1, k1, t1 = _relisted_node(rng, "n1", theta, 5.0, 25, records=True)
    r2, e2, _, t2 = _relisted_node(rng, "n2", theta, 5.2, 25, records=False)
    run = make_run(tmp_path / "r", requests=r1 + r2, events=e1 + e2, pod_transitions=k1)
    tl = load_timeline(run, nodes=2)
    lv = tl.lives.set_index("pod")
    assert (lv["start_evidence"] == "Started event (the instant in its name)").all()
    # `kubelog load` says how each clock was placed
    assert any(
        "2 kubelet clock(s) placed by their pods' requests: 1 by their own log's PLEG records, 1 by" in n
        for n in tl.notes
    )
    err = np.array([(lv.loc[p, "start"] - t).total_seconds() for p, t in t1.items()])
    assert np.abs(err).max() < 0.013, err
    for p, t in {**t1, **t2}.items():
        assert lv.loc[p, "start_lo"] <= t <= lv.loc[p, "start_hi"], p


def test_killing_bound_less_the_measured_reaction_places_an_unlogged_clock(tmp_path):
    """With graceful deletes, a clock without a log has an estimate independent of its relist waits: its
    least Killing − DELETE bound lies above θ by the kubelet's reaction (watch, pod worker), which the
    logged clock measures.  The least of n reactions spreads by a few ms, the relist waits' ends by ~a
    period / n, so that estimate replaces the relist one.  On this draw n2's starts are 12 ms off; averaged
    with the relist estimate (e0468af) 22 ms, the relist estimate alone (kept under that bound) 32 ms,
    b795fe2 100 ms."""
    theta = pd.Timedelta(seconds=0.8)
    rng = np.random.default_rng(4)
    r1, e1, k1, t1 = _relisted_node(rng, "n1", theta, 5.0, 25, records=True, kill=True)
    r2, e2, _, t2 = _relisted_node(rng, "n2", theta, 5.2, 25, records=False, kill=True)
    tl = load_timeline(make_run(tmp_path / "r", requests=r1 + r2, events=e1 + e2, pod_transitions=k1), nodes=2)
    lv = tl.lives.set_index("pod")
    err = np.array([(lv.loc[p, "start"] - t).total_seconds() for p, t in t2.items()])
    assert np.abs(err).max() < 0.015, err
    assert any("1 of these instead by their graceful delete → Killing bound" in n for n in tl.notes), tl.notes


def test_relist_estimate_uses_both_ends_of_the_waits_only_when_they_fit_a_relist():
    """Started − Running write is θ less (a wait uniform over the 1 s relist period + the write's delay):
    n values spread over less than a period give θ − delay as the middle of their range + half a period
    (error ~period / (1.4 n)); a wider spread (a stalled or throttled kubelet's late writes) leaves the
    least wait alone: the largest + period / (n + 1)."""
    from kubelog.analysis.load import _relist_estimate

    relist = NS
    waits = np.linspace(0.01, 0.99, 25) * NS
    run_w = pd.Series(-0.020 * NS - waits)  # θ = 0, write delay 20 ms
    assert _relist_estimate(run_w, run_w, run_w, relist) == pytest.approx(-0.020 * NS, abs=1e3)
    late = pd.concat([run_w, pd.Series([-3.5 * NS])], ignore_index=True)  # one write 3.5 s late
    got = _relist_estimate(late, late, late, relist)
    assert got == pytest.approx(float(run_w.max()) + NS / 27)


def test_relist_estimate_reads_the_longest_wait_from_the_start_where_the_runtime_holds_its_lock():
    """Kubemark's fake Docker client sets a container running as StartContainer begins and sleeps ~200 ms
    holding its lock (libdocker/fake_client.go): a relist that begins meanwhile lists the container as the
    call returns, at Started.  So the waits after Started are max(U − hold, 0) (U uniform over the period),
    those after the start max(U, hold): the least wait is read after Started, the longest after the start.
    Both after Started put the clock ~hold / 2 ahead."""
    from kubelog.analysis.load import _relist_estimate

    rng = np.random.default_rng(3)
    hold = np.maximum(rng.normal(0.2, 0.05, 40), 0.05) * NS
    u = rng.uniform(0, 1, 40) * NS
    delay = 0.01 * NS
    run_w = pd.Series(-delay - np.maximum(u - hold, 0))  # Started − write, θ = 0
    run_s = pd.Series(-delay - np.maximum(u, hold))  # start − write
    assert abs(_relist_estimate(run_w, run_s, run_w, NS) + delay) < 0.03 * NS
    assert _relist_estimate(run_w, run_w, run_w, NS) + delay > 0.08 * NS  # the old reading


def test_event_instants_contradicting_the_requests_are_not_used(tmp_path):
    """A kubelet clock whose event instants cannot be placed (a Started event after the pod's Running
    write and before its bind, whatever the offset) is not used: the pods fall back to the Running write."""
    rows = [pod_req(5, "create", "a", 201, "binding"), pod_req(5.1, "patch", "a", sub="status")]
    rows += [pod_req(6, "patch", "a", sub="status"), pod_req(7, "create", "b", 201, "binding")]
    rows += [pod_req(7.1, "patch", "b", sub="status"), pod_req(7.3, "patch", "b", sub="status")]
    events = [_kubelet_event("Started", "a", at(5.5)), _kubelet_event("Started", "b", at(9.0))]
    notes = []
    from kubelog.analysis.load import pod_lives

    lives, _, _ = pod_lives(make_run(tmp_path / "r", requests=rows, events=events), notes)
    lv = lives.set_index("pod")
    assert (lv["start_evidence"] == "status update (the pods/status write that carries Running)").all()
    assert any("contradict the requests' order" in n for n in notes)


def test_a_teardown_deletes_its_pods_one_by_one_in_name_order(tmp_path):
    """The registry's DeleteCollection lists the namespace's pods (storage key order: by name) and deletes
    them one after another while the call runs (apiserver registry/store.go; --delete-collection-workers
    1): the k-th of n pods is placed at receipt + (k + ½)/n of the call.  Before 1.22 a stop is that
    place + the run's kubelet reaction (median gap to the terminal write less half a relist).  Taking the
    namespace DELETE as every pod's graceful delete placed them 0.5 s, 0 s and 0.5 s off."""
    rows = [req(99.9, 0.01, "delete", "namespaces", 200, name="d", scope="resource")]
    rows.append(dict(req(103.0, 3.0, "deletecollection", "pods", 200), namespace="d"))  # received at 100 s
    for p, t in (("c", 103.2), ("a", 101.2), ("b", 102.2)):  # terminal write and final delete
        rows += [pod_req(5, "create", p, 201, "binding"), pod_req(10, "patch", p, sub="status")]
        rows += [pod_req(t, "patch", p, sub="status"), pod_req(t + 0.1, "delete", p)]
    tl = load_timeline(make_run(tmp_path / "r", requests=rows), nodes=1)
    stop = tl.lives.set_index("pod")["stop"]
    # places 100.5, 101.5, 102.5; each write's receipt 0.695 s later: reaction 0.195 s
    for p, want in (("a", 100.695), ("b", 101.695), ("c", 102.695)):
        assert abs((stop[p] - at(want)).total_seconds()) < 0.002, (p, stop[p])
    lo = tl.lives.set_index("pod")["stop_lo"]
    assert (lo <= at(100)).all()  # the bound stays the teardown's start: a pod may be first in the list


def _teardown_run(
    tmp_path, list_s: float, per_pod: float, react, delay: float, nodes: int = 6, n: int = 60, logged=None
):
    """A failed spec's namespace teardown before 1.22: the DELETECOLLECTION received at 100 s lists the
    pods for ``list_s``, then deletes them in name order every ``per_pod`` s (registry/store.go
    DeleteCollection, one worker); each kubelet (pod i on node i mod ``nodes``) kills the containers
    ``react`` s after the delete and writes the terminal status ``delay`` s after its next PLEG relist (every
    1 s at its own phase: generic.go wait.Until(relist, 1s)), then deletes the pod.  ``react``: seconds, or
    a function of the pod's place.  ``logged``: (node, θ) whose kubelet log the run has, its clock θ s ahead:
    its PLEG ContainerStarted records (Data: the container) and its 1.14 kill records, which name only the
    container (kuberuntime_container.go:581), 2 ms before each stop.  Returns the run and the true stops (s)."""
    rows = [req(99.9, 0.01, "delete", "namespaces", 200, name="d", scope="resource")]
    msgs = []
    end = 100 + list_s + per_pod * n + 0.005
    rows.append(dict(req(end, end - 100, "deletecollection", "pods", 200), namespace="d"))
    truth = {}
    for k in range(n):
        p = f"p{k:02d}"
        stop = 100 + list_s + per_pod * (k + 1) + (react(k) if callable(react) else react)
        phase = (k % nodes) / nodes
        if logged and k % nodes == logged[0]:
            cid = f"{k:064x}"
            ref = f'"{p}_d(uid-{k})"'
            for t, msg in (
                (
                    10.5,
                    f'SyncLoop (PLEG): {ref}, event: &pleg.PodLifecycleEvent{{ID:"uid-{k}", '
                    f'Type:"ContainerStarted", Data:"{cid}"}}',
                ),
                (stop - 0.002, f'Killing container "docker://{cid}" with 30 second grace period'),
            ):
                msgs.append(dict(ts=at(t + logged[1]), clock=f"node/n{logged[0]}", component="kubelet", msg=msg))
        tick = 100 + phase + np.ceil(stop - 100 - phase)
        truth[p] = stop
        rows += [pod_req(5, "create", p, 201, "binding"), pod_req(10, "patch", p, sub="status")]
        rows += [pod_req(tick + delay + 0.005, "patch", p, sub="status"), pod_req(tick + delay + 0.1, "delete", p)]
    return make_run(tmp_path / "r", requests=rows, **({"messages": msgs} if msgs else {})), truth


@pytest.mark.parametrize("list_s, per_pod", [(0.4, 0.005), (0.05, 0.012), (0.6, 0.002)])
def test_a_teardowns_stops_follow_its_list_not_the_whole_call(tmp_path, list_s, per_pod):
    """The registry lists the namespace's pods before it deletes any (store.go DeleteCollection: e.List,
    then the deletes in list order), and a kubelet before 1.22 reports each stop at its next relist, whose
    phase it keeps: the pods of one kubelet stopped within a second are all written at the same relist, so
    the writes' waits are not independent and their median says little.  Each pod's interval [write −
    relist, write] is sound, and a kubelet whose relist fell inside the sweep brackets it: the stops are a
    line over the list places fitted to those intervals (the time per place measured, not the call's length
    over n).  Spreading the deletes over the whole call (the list included) put the first and last pods
    ~0.1–0.3 s off."""
    tl = load_timeline(_teardown_run(tmp_path, list_s, per_pod, react=0.06, delay=0.02)[0], nodes=2)
    truth = _teardown_run(tmp_path / "t", list_s, per_pod, react=0.06, delay=0.02)[1]
    stop = tl.lives.set_index("pod")["stop"]
    err = np.array([(stop[p] - at(t)).total_seconds() for p, t in truth.items()])
    # the 20 ms write delay is not known without a kubelet log (the stops lie up to it late), and six
    # kubelets bracket a sweep of 0.12–0.72 s only 1–4 times: within 80 ms (the code before: 0.23 s and
    # 0.35 s off in the first and third case, 0.06 s in the second, where the list took little of the call)
    assert np.abs(err).max() < 0.08, np.round(err, 3)
    assert tl.lives["stop_evidence"].eq("kubelet final delete / terminal status write").all()
    assert any("teardown" in n and "per pod" in n for n in tl.notes), tl.notes


def test_kill_records_place_their_pods_stops_and_the_teardowns_line(tmp_path):
    """A 1.14 kubelet's kill record names only the container; its PLEG ContainerStarted record names the pod
    and the container (Data): joined, the kill less the kubelet's clock offset is the pod's stop (the kubelet
    logs it right before StopContainer).  Ten such exact stops in a teardown also move the fitted line to
    where the stops are on average: the brackets place it where the reactions put the stops *around each
    relist*, which with skewed reactions (a fifth of the kubelets 0.1 s slower) is not their mean.  The code
    before used the kill record only where no terminal write existed, on the node's clock as written (0.25 s
    off), and spread the deletes over the whole call."""

    def react(k):
        return 0.04 + (0.1 if k % 5 == 0 else 0.0)

    run, truth = _teardown_run(tmp_path, 0.3, 0.006, react, 0.02, nodes=6, n=60, logged=(0, 0.25))
    tl = load_timeline(run, nodes=2, offsets={"node/n0": 0.25})
    lv = tl.lives.set_index("pod")
    err = pd.Series({p: (lv.loc[p, "stop"] - at(t)).total_seconds() for p, t in truth.items()})
    exact = [f"p{k:02d}" for k in range(0, 60, 6)]
    assert (lv.loc[exact, "stop_evidence"] == "kubelet kill/REMOVE record").all()
    assert err[exact].abs().max() < 0.003, err[exact].round(4).tolist()
    rest = err.drop(exact)
    # the others on the line: on average where the stops are (the mean matters to the running count)
    assert abs(rest.mean()) < 0.015, (rest.mean(), rest.round(3).tolist())
    assert rest.abs().max() < 0.12


def test_from_1_22_a_terminal_write_is_taken_its_measured_delay_before_its_receipt(tmp_path):
    """From 1.22 syncTerminatingPod sets the terminal status right after the kill: the write follows the stop
    by the kubelet's sync and send alone.  Where enough stops are known exactly (here the kill records of
    one kubelet's log), their mean gap to the write is taken off the others' writes (the code before took
    the receipt itself: every stop 15 ms late)."""
    ua = "kubelet/v1.28.2 (linux/amd64) kubernetes/89a4ea3"
    rows, pt, truth = [], [], {}
    for k in range(12):
        p = f"p{k:02d}"
        stop = 50 + 0.1 * k + 0.04
        truth[p] = stop
        rows += [pod_req(5, "create", p, 201, "binding"), pod_req(10, "patch", p, sub="status")]
        rows += [pod_req(50 + 0.1 * k, "delete", p), pod_req(stop + 0.015 + 0.005, "patch", p, sub="status")]
        rows.append(pod_req(stop + 0.03, "delete", p))
        if k % 2 == 0:  # the logged kubelet's pods: its kill record 1 ms before the stop
            pt.append(
                dict(
                    namespace="d",
                    pod=p,
                    milestone="kubelet_kill",
                    ts=at(stop - 0.001),
                    clock="apiserver",
                    resolution_s=1e-6,
                    origin="kubelet",
                )
            )
    for r in rows:
        if r["subresource"] == "status":
            r["user_agent"] = ua
    tl = load_timeline(make_run(tmp_path / "r", requests=rows, pod_transitions=pt), nodes=1)
    lv = tl.lives.set_index("pod")
    err = pd.Series({p: (lv.loc[p, "stop"] - at(t)).total_seconds() for p, t in truth.items()})
    others = [f"p{k:02d}" for k in range(1, 12, 2)]
    assert (lv.loc[others, "stop_evidence"] == "kubelet final delete / terminal status write").all()
    assert err[others].abs().max() < 0.002, err[others].round(4).tolist()
    assert any("terminal writes taken 16 ms before their receipt" in n for n in tl.notes), tl.notes


def test_event_posts_that_do_not_pair_one_to_one_place_no_clock(tmp_path):
    """The k-th event POST of a kubelet is the k-th event only when the dump holds every event it posted:
    an event missing from the dump (expired, or cut out) would pair each later event with an earlier POST
    and bound the clock too high.  Such a kubelet's POSTs are not used (a note says so) and its clock is
    placed as without them; the others keep theirs."""
    import json

    from kubelog.engine import ingest
    from kubelog.synth import generate

    art = tmp_path / "art"
    truth = generate(art, seed=3, nodes=3, era="1.14", skew="test=0s,nodes=0.8s", scale=2, kubelet_events=True)
    doc = json.loads((art / "events.json").read_text())
    node = truth["nodes"][0]
    mine = [i for i, e in enumerate(doc["items"]) if e["source"].get("host") == node]
    del doc["items"][mine[len(mine) // 2]]
    (art / "events.json").write_text(json.dumps(doc))
    run = ingest([str(p) for p in sorted(art.iterdir()) if p.name != "truth.json"], tmp_path / "run")
    tl = load_timeline(run, pods_per_node=truth["pods_per_node"])
    note = next(n for n in tl.notes if "event POSTs" in n)
    assert note.startswith("2 kubelet clock(s) bounded below") and "1 kubelet/namespace pair(s)" in note


def test_event_posts_are_a_kubelets_by_its_audit_user_or_its_address(tmp_path):
    """An events POST names no node: it is the kubelet's by the audit event's user
    (``system:node:<name>``) or, in an access log, by its peer address — the address its pods' status
    writes come from.  Either way every kubelet's clock is bounded by its POSTs."""
    from kubelog.analysis.load import _peer_ip, event_post_pairs
    from kubelog.engine import ingest
    from kubelog.synth import generate

    assert [_peer_ip(x) for x in ("10.0.0.1:5000", "10.0.0.1", "[::1]:5000", "::1", "fe80::1", None)] == [
        "10.0.0.1",
        "10.0.0.1",
        "::1",
        "::1",
        "fe80::1",
        "",
    ]
    art = tmp_path / "art"
    truth = generate(art, seed=3, nodes=3, era="1.14", skew="test=0s,nodes=0.8s", scale=2, kubelet_events=True)
    for skip in ("audit.log", "kube-apiserver.log"):  # the access log alone, then the audit log alone
        files = [str(p) for p in sorted(art.iterdir()) if p.name not in ("truth.json", skip)]
        run = ingest(files, tmp_path / f"run-{skip}")
        j = event_post_pairs(run)
        assert set(j["clock"]) == {f"node/{n}" for n in truth["nodes"]}, skip
        bound = (j["event_ns"] - j["receipt_ns"]).groupby(j["clock"]).max() / 1e9
        assert ((bound <= 0.8) & (bound > 0.798)).all(), (skip, bound)


@pytest.mark.parametrize("wait_s, hold_ms", [(0.0, 200), (2.0, 200), (0.0, 2)])
def test_a_start_is_placed_one_hold_before_started_where_the_dump_seconds_put_it(wait_s, hold_ms):
    """The runtime records a container's start inside StartContainer: Kubemark's fake Docker client as the
    call takes its mutex — after waiting for the calls queued before it (other pods' starts, the PLEG's
    relists), which grows the gap from Created — then sleeps ~200 ms before the kubelet's Started event
    (libdocker/fake_client.go StartContainer); a fake CRI runtime within a few ms.  The pods whose dump
    second (startedAt, truncated) cuts their [Created, Started] gap tell the offset before Started: the one
    allowed by the most of them.  (A fraction of the gap: 80 ms mean error on the queued node here.)"""
    from kubelog.analysis.load import start_in_gap

    rng = np.random.default_rng(7)
    n = 300
    created = pd.Series(rng.integers(0, 60_000_000_000, n).astype(np.float64))
    wait = rng.uniform(0, wait_s, n) * 1e9 + 200_000
    hold = np.maximum(rng.normal(hold_ms, hold_ms / 4, n), hold_ms / 4) * 1e6
    start = created + wait
    second = pd.Series(np.floor(start / 1e9) * 1e9)
    notes = []
    est = start_in_gap(created, start + hold, second, notes)
    err = np.abs(est - start) / 1e6
    # a few-ms gap is seldom cut by a second: then the middle of each gap, within its resolution
    assert (hold_ms < 10 and not notes) or "before each pod's Started event" in notes[0]
    assert np.mean(err) <= max(0.3 * hold_ms, 1.0) and np.all(est >= created) and np.all(est <= start + hold)
    # no dump second: nothing tells where, the middle of the gap
    mid = start_in_gap(created, start + hold, None, [])
    assert np.allclose(mid, created + (wait + hold) / 2)


def test_relisted_stops_leave_the_runtime_s_hold_before_the_relist():
    """A teardown's stops from their kubelets' terminal writes: each write follows the relist that saw the
    containers die.  On Kubemark's fake Docker client StopContainer sets the container exited and then
    sleeps (≥ 50 ms, ~200 ms) holding its lock, so no relist lists it before: the stop lies in
    [write − delay − period, write − delay − hold].  The line through those brackets places the stops where
    they are; through [write − delay − period, write − delay] it placed them ~hold / 2 late."""
    from kubelog.analysis.load import _fit_relisted

    rng = np.random.default_rng(5)
    m, per_place = 300, 2.4e6
    k = np.arange(m, dtype=np.float64)
    stop = 1e9 + per_place * k
    hold = np.maximum(rng.normal(0.2, 0.05, m), 0.05) * NS
    phase = rng.uniform(0, NS, 30)[rng.integers(0, 30, m)]  # 30 kubelets, each its relist phase
    relist_at = np.maximum(phase + np.ceil((stop - phase) / NS) * NS, stop + hold)
    delay = 0.01 * NS
    final = relist_at + delay
    errs = {}
    for h in (0.0, float(hold.min())):
        c, r = _fit_relisted(k, final, NS, delay, 1.0, (0.0, 3e6), h)
        errs[h] = float(np.mean(c + r * k - stop))
    assert abs(errs[float(hold.min())]) < 0.05 * NS
    assert errs[0.0] - errs[float(hold.min())] > 0.015 * NS


def test_a_pod_s_start_record_is_its_last_container_started_of_its_first_life(tmp_path):
    """The PLEG reports a pod's sandbox as one more container (pkg/kubelet/pleg/generic.go
    ``getContainersFromPods``: "Update sandboxes as containers") and the sandbox starts first: a pod with one
    container has two ContainerStarted records, the sandbox's a relist before the container's when a relist
    fell between the two starts (pod a), else both in one relist (b).  Only the last one follows the container
    start; c's records after its ContainerDied are a restart, not its first start.  (kubelog took the first
    record: a's start a relist early, outside its bounds.)"""
    rows = [pod_req(60, "get", p) for p in "abc"]
    recs = [
        ("a", "pleg_container_started", 10.3),
        ("a", "pleg_container_started", 11.3),
        ("b", "pleg_container_started", 20.5),
        ("b", "pleg_container_started", 20.50004),
        ("c", "pleg_container_started", 30.2),
        ("c", "pleg_container_started", 31.2),
        ("c", "pleg_container_died", 40.0),
        ("c", "pleg_container_started", 41.0),
    ]
    pt = [
        dict(namespace="d", pod=p, milestone=m, ts=at(t), clock="apiserver", resolution_s=1e-6, origin="kubelet")
        for p, m, t in recs
    ]
    tl = load_timeline(make_run(tmp_path / "r", requests=rows, pod_transitions=pt), nodes=1)
    lives = tl.lives.reset_index().set_index("pod")
    assert (lives["start_evidence"] == "kubelet container-start record").all()
    for p, last in (("a", 11.3), ("b", 20.50004), ("c", 31.2)):
        assert lives.loc[p, "start_hi"] == at(last), p
        assert lives.loc[p, "start"] == at(last - 0.5) and lives.loc[p, "start_lo"] == at(last - 1.1), p


def test_a_fake_docker_client_s_stops_queue_at_its_mutex():
    """Kubemark's fake Docker client stops a container when StopContainer gets its one mutex, then sleeps
    ~200 ms holding it; the kubelet then stops the pod's sandbox (an InspectContainer, then one more
    StopContainer, each queued anew).  Three pods killed on one node 10 ms apart stop 200 ms apart (their
    sandboxes' calls arrive after the others' container stops), a pod on another node at once."""
    from kubelog.analysis.load import _queued_stops

    ms = 1_000_000
    idx = pd.MultiIndex.from_tuples([("d", p) for p in "abcxy"], names=["namespace", "pod"])
    kill = pd.Series([0, 10 * ms, 20 * ms, 5 * ms, np.nan], index=idx)
    node = pd.Series(["n1", "n1", "n1", "n2", "n2"], index=idx)
    notes = []
    got = _queued_stops(kill, node, 200 * ms, notes)
    assert got.iloc[:4].tolist() == [0, 200 * ms, 400 * ms, 5 * ms] and np.isnan(got.iloc[4])
    assert "2 stops placed after their Killing events" in notes[0]
    # one pod killed after the queue emptied: at once
    kill2 = pd.concat([kill.iloc[:1], pd.Series([5_000 * ms], index=idx[1:2])])
    assert _queued_stops(kill2, node.iloc[:2], 200 * ms, []).tolist() == [0, 5_000 * ms]


def test_a_write_s_lag_after_the_start_is_measured_where_a_relist_does_not_bound_it():
    """The PLEG relists every second, but on the fake Docker client each relist's calls queue at the
    client's mutex: a Running write can follow its start by seconds.  Measured on the pods whose start the
    events give, the lag is used for the pods whose start only a write gives — when it exceeds a relist."""
    from kubelog.analysis.load import _measured_lag

    s = 1_000_000_000
    exact = pd.Series(np.arange(20) * s, dtype="float64")
    notes = []
    assert _measured_lag(exact + 0.6 * s, exact, s, "Running writes", notes) is None and not notes
    lag = np.linspace(0.2, 4.0, 20) * s
    typical, longest = _measured_lag(exact + lag, exact, s, "Running writes", notes)
    assert typical == pytest.approx(np.median(lag)) and longest == pytest.approx(4.1 * s)
    assert "more than a PLEG relist" in notes[0]


def test_a_lag_measured_on_dump_seconds_needs_pods_surely_over_a_relist():
    """From the dumps' ``startedAt`` seconds (``width`` 1 s, the clock off by up to ``slack``) a write trails
    its start by more than a relist only where it does at the second's latest: five pods and 5 % must, and
    the median is taken from the second's middle."""
    from kubelog.analysis.load import _measured_lag

    s = 1_000_000_000
    floor = pd.Series(np.arange(20) * s, dtype="float64")
    zero = pd.Series(0.0, index=floor.index)
    notes = []
    # 1.5 s after the second's start: perhaps only 0.5 s after the start, never surely over a relist
    assert _measured_lag(floor + 1.5 * s, floor, s, "Running writes", notes, s, zero) is None and not notes
    late = floor + np.where(np.arange(20) < 5, 3.0, 1.5) * s  # five pods ≥ 2 s after their second
    typical, longest = _measured_lag(late, floor, s, "Running writes", notes, s, zero)
    assert typical == pytest.approx(1.0 * s) and longest == pytest.approx(3.1 * s)
    assert "by their dumps' startedAt seconds" in notes[0] and "± 1 s" not in notes[0]
    # an unplaced clock (± 1 s) makes none of them sure
    assert _measured_lag(late, floor, s, "Running writes", [], s, zero + s) is None


def test_starts_sharing_a_truncated_second_are_spread_over_it_in_bind_order():
    """Every start of one truncated second at its middle makes the running count a staircase; spread in the
    binds' order (a node's runtime starts its pods in the order its watch delivered them), the i-th of k lies
    at ``floor + (i + ½)/k`` s, each still inside its second; seconds of clocks with other phases apart."""
    from kubelog.analysis.load import spread_in_second

    s = 1_000_000_000
    floor = pd.Series([10 * s, 10 * s, 10 * s, 11 * s, 10 * s + 300_000_000, np.nan])
    bind = pd.Series([3.0, 1.0, 2.0, 0.0, 0.0, 0.0])
    est = spread_in_second(floor, bind)
    third = s / 3
    assert est.iloc[:3].tolist() == [
        10 * s + np.floor(2.5 * third),
        10 * s + np.floor(0.5 * third),
        10 * s + np.floor(1.5 * third),
    ]
    assert est.iloc[3] == 11 * s + s / 2 and est.iloc[4] == 10.8 * s and np.isnan(est.iloc[5])


def test_a_pod_started_alone_on_its_kubelet_is_known_as_such():
    """A pod is alone when no other pod of its kubelet (the audit user ``system:node:<name>``, else the
    writes' address) was starting (bind → Running write) or stopping (graceful delete → terminal write)
    between its bind and its Running write: the density test's latency pods, one per node on a settled
    cluster.  A pod whose kubelet is unknown is never alone."""
    from kubelog.analysis.load import started_alone

    nan = np.nan
    who = pd.Series(["a", "a", "a", "b", None])
    bind = pd.Series([0.0, 1.0, 10.0, 1.0, 20.0])
    write = pd.Series([5.0, 6.0, 12.0, 2.0, 21.0])
    delete = pd.Series([nan, nan, nan, 1.5, nan])
    final = pd.Series([nan, nan, nan, 3.0, nan])
    assert started_alone(who, bind, write, delete, final).tolist() == [False, False, True, True, False]
    # a stop of another of its pods in flight meanwhile: not alone
    delete2, final2 = pd.Series([11.0, nan, nan, nan, nan]), pd.Series([13.0, nan, nan, nan, nan])
    assert started_alone(who, bind, write, delete2, final2).tolist()[2] is False


def test_the_pod_dumps_stamps_bound_a_node_clock_but_not_a_deleted_pods(tmp_path):
    """The kubelet stamps ``startTime`` in its first sync of a pod (after the binding's receipt) and ``Ready``
    in the sync that saw the container run (before the Running write's receipt), on its clock, truncated to
    the second: ``f_ready − w < θ < f_start + 1 s − b``.  A pod the dump shows being deleted
    (``deletionTimestamp``) bounds nothing: its Ready may have changed after the delete (here a stamp 9 s
    after its last write before the delete would put the clock 6 s ahead).  Node n1 is 0.3 s ahead."""
    from kubelog.analysis.skew import causal_pairs

    rows, pt = [], []
    for i, (pod, gone) in enumerate((("a", False), ("b", False), ("c", True))):
        t0 = 1.0 + 0.37 * i
        rows += [
            dict(pod_req(t0, "create", pod, sub="binding", lat=0.002), method="POST"),
            dict(pod_req(t0 + 1.4, "patch", pod, sub="status"), method="PATCH"),
            dict(pod_req(20 + i, "delete", pod), method="DELETE"),
        ]
        node_t = lambda t: at(np.floor(t + 0.3))  # noqa: E731 - n1's clock, truncated to the second
        ready = t0 + 1.3 if not gone else t0 + 10.4
        pt += [
            dict(
                namespace="d",
                pod=pod,
                milestone=m,
                ts=node_t(t),
                clock="node/n1",
                resolution_s=1.0,
                origin="pods-json",
                detail='{"reason": null, "status": "True"}',
            )
            for m, t in (("accepted", t0 + 0.05), ("ready", ready), ("started", t0 + 1.0))
        ]
        if gone:
            pt.append(
                dict(
                    namespace="d",
                    pod=pod,
                    milestone="deleted",
                    ts=at(20 + i),
                    clock="apiserver",
                    resolution_s=1.0,
                    origin="pods-json",
                )
            )
    for n, r in enumerate(rows + pt):
        r.update(source_id=0, line_no=n + 1)
    run = make_run(tmp_path / "r", requests=rows, pod_transitions=pt)
    p = causal_pairs(run)
    dump = p[p["kind"].isin(["bind_to_pod_dump", "pod_dump_ready"])]
    assert len(dump) == 4  # pods a and b, one pair of each kind; c, being deleted, none (6 before)
    for k in dump.itertuples():  # each causal under the true offset
        theta = 0.3
        send = k.send_ts - (theta if k.send_domain == "node/n1" else 0)
        recv_hi = k.recv_ts + k.res_recv_s - (theta if k.recv_domain == "node/n1" else 0)
        assert send <= recv_hi + 1e-6
    tl = load_timeline(run, nodes=1)
    note = next(n for n in tl.notes if "by the kubelet's own stamps" in n)
    theta, half = (float(x) for x in re.search(r"node/n1 \+([\d.]+) s ± ([\d.]+)", note).groups())
    assert abs(theta - 0.3) <= half < 1.0
