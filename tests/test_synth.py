"""kubelog synth: determinism, truth consistency against an independent parse, era quirks."""

import json
import math
import re
from collections import defaultdict

import numpy as np
import pandas as pd
import pytest

from kubelog.engine import ingest
from kubelog.synth import generate
from kubelog.synth.gofmt import go_duration
from kubelog.synth.reqinfo import classify

ACC_C = re.compile(r"^I(\d{4}) (\d{2}):(\d{2}):(\d{2})\.(\d{6}) +\d+ wrap\.go:47\] ([A-Z]+) (\S+): \(([^)]+)\) (\d+)")
ACC_G = re.compile(
    r'^I(\d{4}) (\d{2}):(\d{2}):(\d{2})\.(\d{6}) +\d+ httplog\.go:132\] "HTTP" verb="([A-Z]+)" '
    r'URI="([^"]+)" latency="([^"]+)" .*?resp=(\d+)'
)
UNITS = {"ns": 1, "µs": 1000, "ms": 10**6, "s": 10**9, "m": 60 * 10**9, "h": 3600 * 10**9}


def parse_dur(s):
    tot = 0
    for num, unit in re.findall(r"([0-9.]+)(ns|µs|ms|s|m|h)", s):
        ip, _, fp = num.partition(".")
        tot += int(ip) * UNITS[unit] + (int(fp.ljust(9, "0")[:9]) * UNITS[unit] // 10**9 if fp else 0)
    return tot


@pytest.mark.parametrize(
    "ns,txt",
    [
        (0, "0s"),
        (929214, "929.214µs"),
        (1926865, "1.926865ms"),
        (3000145050, "3.00014505s"),
        (498000602260, "8m18.00060226s"),
        (3723500000000, "1h2m3.5s"),
        (-750000000, "-750ms"),
    ],
)
def test_go_duration(ns, txt):
    assert go_duration(ns) == txt


@pytest.fixture(scope="module")
def run14(tmp_path_factory):
    d = tmp_path_factory.mktemp("r14")
    return d, generate(d, seed=7, nodes=4, era="1.14", skew="test=35895.2s,nodes=0.8s")


def _recompute(path, era, t0_ns, capacity, pods):
    """The matrix from the access log alone, with the load of the truth's pods (container start → stop)."""
    rx = ACC_C if era == "1.14" else ACC_G
    import datetime as dt

    year = dt.datetime.fromtimestamp(t0_ns // 10**9, dt.timezone.utc).year
    recs = []
    for ln in open(path, encoding="utf-8"):
        m = rx.match(ln)
        if not m:
            continue
        mmdd, hh, mi, ss, us, method, uri, lat, code = m.groups()
        ts = (
            int(
                dt.datetime(
                    year, int(mmdd[:2]), int(mmdd[2:]), int(hh), int(mi), int(ss), tzinfo=dt.timezone.utc
                ).timestamp()
            )
            * 10**9
            + int(us) * 1000
        )
        recs.append((ts, method, uri, parse_dur(lat), int(code)))
    if era == "1.28":  # logged verbs are normalised: recover the HTTP method for classification
        recs = [(ts, {"LIST": "GET", "WATCH": "GET"}.get(m, m), u, l, c) for ts, m, u, l, c in recs]
    creates = sorted(p["run"] for p in pods if p["run"] is not None)
    deletes = sorted(p["stop"] for p in pods if p["run"] is not None and p["stop"] is not None)
    import bisect

    groups = defaultdict(list)
    for ts, m, u, l, _c in recs:
        info = classify(m, u)
        if info["long_running"]:
            continue
        st = ts - l
        L = (bisect.bisect_right(creates, st) - bisect.bisect_right(deletes, st)) / capacity * 100
        b = next((n for lim, n in ((10, "10"), (25, "25"), (50, "50"), (90, "90"), (100, "100")) if L <= lim), ">100")
        k = (info["verb"], info["resource"], info["subresource"], info["scope"])
        groups[k + (b,)].append(l)
        groups[k + ("all",)].append(l)
    out = {}
    for k, v in groups.items():
        v.sort()
        out[k] = (len(v), *(v[max(1, math.ceil(len(v) * p - 1e-9)) - 1] / 1e9 for p in (0.1, 0.5, 0.9, 0.99)))
    return out, len(recs)


def test_truth_matrix_matches_independent_parse(run14):
    d, truth = run14
    got, n = _recompute(d / "kube-apiserver.log", "1.14", truth["t0_ns"], truth["capacity"], truth["pods"])
    want = {
        (r["verb"], r["resource"], r["subresource"], r["scope"], r["bucket"]): (
            r["count"],
            r["p10_s"],
            r["p50_s"],
            r["p90_s"],
            r["p99_s"],
        )
        for r in truth["latency_matrix"]
    }
    assert n == truth["requests"]["total"]
    assert got == want
    assert {r["bucket"] for r in truth["latency_matrix"]} >= {"10", "25", "50", "90", "100", "all"}


def test_truth_matrix_128(tmp_path):
    truth = generate(tmp_path, seed=3, nodes=3, era="1.28", skew="test=0s")
    got, n = _recompute(tmp_path / "kube-apiserver.log", "1.28", truth["t0_ns"], truth["capacity"], truth["pods"])
    want = {
        (r["verb"], r["resource"], r["subresource"], r["scope"], r["bucket"]): (
            r["count"],
            r["p10_s"],
            r["p50_s"],
            r["p90_s"],
            r["p99_s"],
        )
        for r in truth["latency_matrix"]
    }
    assert got == want
    assert not [f for f in truth["failures"] if f["kind"] in ("slo", "timeout")]
    aids = set(re.findall(r'audit-ID="([0-9a-f-]+)"', (tmp_path / "kube-apiserver.log").read_text()))
    audit = {json.loads(l)["auditID"] for l in open(tmp_path / "audit.log")}
    assert aids == audit


def test_skew_gives_classic_failure(run14):
    d, truth = run14
    e2e = (d / "e2e.log").read_text(encoding="utf-8")
    assert "too high pod startup latency 50th percentile: 9h58m" in e2e
    assert truth["pod_startup"]["as_printed"]["pod_startup"]["p50"].startswith("9h58m")
    assert truth["pod_startup"]["true"]["pod_startup"]["p50_s"] < 5
    assert truth["clocks"]["test"]["offset_s"] == 35895.2


def test_pods_whole_seconds(run14):
    d, _ = run14
    txt = (d / "pods.json").read_text()
    doc = json.loads(txt)
    assert doc["kind"] == "List" and doc["metadata"] == {"resourceVersion": ""}
    stamps = re.findall(r'"(?:creationTimestamp|lastTransitionTime|startedAt|startTime)": "([^"]+)"', txt)
    assert stamps and all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", s) for s in stamps)
    assert txt.startswith('{\n    "apiVersion": "v1",\n    "items": [')


def test_timeout_failure_and_determinism(tmp_path):
    a = generate(tmp_path / "a", seed=5, nodes=3, era="1.5", timeout_failure=True)
    generate(tmp_path / "b", seed=5, nodes=3, era="1.5", timeout_failure=True)
    for f in sorted((tmp_path / "a").iterdir()):
        assert f.read_bytes() == (tmp_path / "b" / f.name).read_bytes(), f.name
    assert "timed out waiting for the condition" in (tmp_path / "a" / "e2e.log").read_text()
    assert any(f["kind"] == "timeout" for f in a["failures"])
    assert "panics.go:76] " in (tmp_path / "a" / "kube-apiserver.log").read_text()
    assert not (tmp_path / "a" / "audit.log").exists()


def test_line_counts(run14):
    d, truth = run14
    for name, info in truth["files"].items():
        if "lines" in info:
            assert sum(1 for _ in open(d / name, encoding="utf-8")) == info["lines"], name


# --- issue 16: lifecycle cases taken from the Kubernetes source ------------------------------------

ACC_ANY = re.compile(r'(?:verb="|\] )(?P<m>[A-Z]+)"? (?:URI=")?(?P<u>/[^\s":]+)')


def _access(path):
    out = []
    for ln in open(path, encoding="utf-8"):
        m = ACC_ANY.search(ln)
        if m and ("httplog.go" in ln or "wrap.go" in ln or "panics.go" in ln):
            out.append((m["m"], m["u"], ln))
    return out


def test_every_started_pod_is_deleted_twice(run14):
    """GC's graceful DELETE, then the kubelet's grace-0 DELETE from the node (status_manager.go syncPod)."""
    d, truth = run14
    dels = defaultdict(list)
    for m, u, ln in _access(d / "kube-apiserver.log"):
        if m == "DELETE" and re.fullmatch(r"/api/v1/namespaces/[^/]+/pods/[^/?]+", u):
            dels[u.rsplit("/", 1)[1]].append("kubelet/" in ln)
    started = [p for p in truth["pods"] if p["run"] is not None]
    assert started and len(started) == len(truth["pods"])
    for p in started:
        assert dels[p["name"]] == [False, True], p["name"]  # first by the GC, second by the kubelet
        assert p["graceful_delete"] < p["stop"] < p["final_delete"]


def test_namespace_teardown_in_a_failed_run(tmp_path):
    truth = generate(tmp_path, seed=8, nodes=5, era="1.28", skew="test=0s", timeout_failure=True)
    acc = _access(tmp_path / "kube-apiserver.log")
    ns_del = [ln for m, u, ln in acc if m == "DELETE" and re.fullmatch(r"/api/v1/namespaces/[^/]+", u)]
    coll = [ln for m, u, ln in acc if m in ("DELETE", "DELETECOLLECTION") and u.endswith("/pods")]
    assert len(ns_del) == 1 and len(coll) == 1 and "namespace-controller" in coll[0]
    pods = truth["pods"]
    stalled = set(next(f for f in truth["failures"] if f["kind"] == "timeout")["stalled_nodes"])
    for p in pods:
        if p["run"] is None:
            assert p["stop"] is None
        elif p["node"] in stalled:  # a hung kubelet stops nothing: the containers run on
            assert p["stop"] is None and p["final_delete"] is None
        else:
            # the registry deletes the listed pods one by one while the DELETECOLLECTION runs
            # (registry/store.go DeleteCollection): each pod's graceful delete lies inside the call
            td = truth["namespace_teardown"]
            assert td["deletecollection_received"] < p["graceful_delete"] < td["deletecollection"]
            assert p["graceful_delete"] < p["stop"]
    # in list order (storage key order: by name)
    dels = [p["graceful_delete"] for p in sorted(pods, key=lambda q: q["name"])]
    assert dels == sorted(dels)
    assert any(p["run"] is None for p in pods) and any(p["stop"] is None and p["run"] for p in pods)
    tl = truth["running_pods_timeline"]
    assert min(r for _, r in tl) >= 0 and tl[-1][1] == sum(1 for p in pods if p["run"] and p["stop"] is None)


def test_found_pod_lines_come_from_a_2s_poll(run14):
    """density.go createRunningPodFromRC → WaitForControlledPodsRunning: wait.Poll(2 s) of a pod list."""
    d, truth = run14
    lat = [p for p in truth["pods"] if p["latency"]]
    assert lat
    for p in lat:
        assert p["status_end"] <= p["found"]
        lag = p["found"] - p["status_end"]
        assert 0 < lag <= 2 * 10**9 + 10**9  # the next 2 s tick, plus the list's latency
    lists = [
        u
        for m, u, _ in _access(d / "kube-apiserver.log")
        if m == "GET" and "labelSelector=name%3Ddensity-latency-pod" in u
    ]
    assert len(lists) >= len(lat)


@pytest.mark.parametrize("era", ["1.14", "1.28"])
def test_kubelet_sees_starts_and_stops_at_its_pleg_relist(tmp_path, era):
    """pkg/kubelet/kubelet.go plegRelistPeriod = 1 s, pkg/kubelet/pleg/generic.go Start (wait.Until, a
    phase per kubelet): the PLEG ContainerStarted record comes at the first relist after the container
    start, and its Data is the container ID the "Killing container" record names; the Running write is sent
    after that record.  On 1.28's fake CRI runtime a relist takes milliseconds: 0–1 s later.  On the 1.14
    hollow kubelet's fake Docker client every relist call queues at the client's mutex behind the node's
    pod starts (kubelog/synth/runtime.py): never before StartContainer returned, often seconds later while
    pods start.  Up to 1.21 the terminal status waits for the relist after the stop (ContainerDied); from
    1.22 syncTerminatingPod sets it right after the kill."""
    truth = generate(tmp_path, seed=4, nodes=3, era=era, skew="test=0s,nodes=0s", scale=2)
    pods = [p for p in truth["pods"] if p["run"] is not None]
    lags = [p["pleg_started"] - p["run"] for p in pods]
    if era == "1.28":
        assert all(0 <= x <= 1.02e9 for x in lags)
        # the relist's phase is uniform: the lags spread over the whole second
        assert min(lags) < 0.2e9 and max(lags) > 0.8e9 and 0.35e9 < sum(lags) / len(lags) < 0.65e9
    else:
        assert all(x >= 50e6 for x in lags) and max(lags) > 1.5e9
    assert all(p["pleg_started"] < p["status_end"] for p in pods)
    stopped = [p for p in pods if p["stop"] is not None]
    assert stopped and all(0 <= p["pleg_died"] - p["stop"] <= (1.02e9 if era == "1.28" else 30e9) for p in stopped)
    # the terminal write (answered before the final delete) waits for the relist only before 1.22
    waits = [p["final_delete"] > p["pleg_died"] for p in stopped]
    assert all(waits) if era == "1.14" else not all(waits)
    logs = "".join(f.read_text() for f in tmp_path.glob("hollow-node-*.log"))
    for p in pods[:5]:
        cid = p["uid"].replace("-", "") * 2
        assert re.search(rf"ContainerStarted\W+Data\W+{cid}", logs) and re.search(
            rf"ContainerDied\W+Data\W+{cid}", logs
        )
        assert f"://{cid}" in logs  # the kill record names the same container


def test_a_1_28_kubelet_logs_each_pleg_event_once(tmp_path):
    """skewcases' status writes add the 1.28 SyncLoop ADD record; the PLEG ContainerStarted records are the
    lifecycle model's, once per container and sandbox (a kubelet logs each event once; it was written
    twice for the container)."""
    truth = generate(tmp_path, seed=3, nodes=2, era="1.28", status_writes=True, skew="test=0s,nodes=0s")
    logs = "".join(f.read_text() for f in tmp_path.rglob("*.log"))
    for p in truth["pods"]:
        if p["run"] is not None:
            data = re.findall(rf'pod="{p["namespace"]}/{p["name"]}" event=[^\n]*ContainerStarted","Data":"(\w+)', logs)
            assert len(data) == 2 and len(set(data)) == 2 and p["uid"].replace("-", "") * 2 in data
            assert logs.count(f'"SyncLoop ADD" source="api" pods=["{p["namespace"]}/{p["name"]}"]') == 1


@pytest.mark.parametrize("era", ["1.5", "1.28"])
def test_events_are_named_by_their_reporters_clock(tmp_path, era):
    """client-go names an Event ``<object>.<t.UnixNano() hex>`` with ``t`` the reporter's clock when it made
    it, the ``t`` whose second is firstTimestamp (tools/record/event.go makeEvent).  The kubelet makes
    Pulled, Created (CreateContainer returned), Started (StartContainer returned) and, right before
    StopContainer, Killing (kuberuntime_container.go); 1.5's docker manager makes Killing once
    StopContainer returned (dockertools ``killContainer``).  The dump is the test namespace's events just before
    it is destroyed: every started pod's Started event is there, and the Killing events its kubelet had
    posted by then (the event client's token bucket holds a burst of kills back).
    (The generator named events ``<pod>.<uid prefix>0001`` and dumped them before the latency pods ran.)"""
    truth = generate(tmp_path, seed=4, nodes=3, era=era, skew="test=0s,nodes=0.8s", scale=2, kubelet_events=True)
    items = json.loads((tmp_path / "events.json").read_text())["items"]
    off = 0.8e9
    by = {}
    for ev in items:
        obj = ev["involvedObject"]["name"]
        name = ev["metadata"]["name"]
        assert name.startswith(obj + ".")
        t = int(name[len(obj) + 1 :], 16)
        first = ev["firstTimestamp"] or ev["eventTime"]
        sec = int(pd.Timestamp(first).value) // 10**9 * 10**9
        assert sec <= t < sec + 10**9 + (10**6 if ev["eventTime"] else 0)
        by.setdefault(obj, {})[ev["reason"]] = t
    pods = [p for p in truth["pods"] if p["run"] is not None]
    assert all(p["name"] in by and "Started" in by[p["name"]] for p in pods)
    for p in pods:
        e = by[p["name"]]
        # on the node's clock (0.8 s ahead): Pulled < Created < the start < Started, which follows the start
        # by StartContainer's return (test_a_fake_runtime_starts_and_stops_a_container_as_it_is_called)
        assert e["Pulled"] < e["Created"] < p["run"] + off < e["Started"] <= p["run"] + off + 0.5e9
        if "Killing" in e and era != "1.5":  # right before StopContainer, which stops the container when it runs
            assert e["Killing"] - off < p["stop"]
        elif "Killing" in e:  # once StopContainer returned: after the fake client's sleep (≥ 50 ms)
            assert p["stop"] + 50e6 <= e["Killing"] - off <= p["stop"] + 0.6e9
    assert 0 < sum("Killing" in e for e in by.values()) <= sum(p["stop"] is not None for p in pods)


@pytest.mark.parametrize("era", ["1.5", "1.14", "1.28"])
def test_a_fake_runtime_starts_and_stops_a_container_as_it_is_called(tmp_path, era):
    """Kubemark's hollow kubelet ran on a fake Docker client with its sleeps on until dockershim went
    (cmd/kubemark/hollow-node.go ``fakeDockerClient.EnableSleep = true``): ``FakeDockerClient`` sets
    ``StartedAt`` (``FinishedAt``) as ``StartContainer`` (``StopContainer``) takes its mutex, then sleeps
    ``normalSleep(200, 50, 50)`` ms holding it (pkg/kubelet/dockershim/libdocker/fake_client.go; 1.5
    pkg/kubelet/dockertools/fake_docker_client.go).  So the kubelet's Started event, made when the call
    returned, trails the start by 50–400 ms, ~200 ms on average, and its PLEG relist, whose
    ``ListContainers`` waits for the mutex, reports no earlier.  1.28's hollow kubelet runs a fake CRI
    runtime (cri-api ``FakeRuntimeService``, no sleeps): Started within a ms, and the container stops as
    ``StopContainer`` is called, just after the Killing event; on the fake Docker client when the call
    gets the mutex, behind the calls queued before it (kubelog/synth/runtime.py).  Before 1.22 the
    kubelet then stops the pod's sandbox (kuberuntime_manager.go ``killPodWithSyncResult`` →
    ``StopPodSandbox``, a second ``StopContainer``; 1.5 the infra container): the PLEG reports
    ``ContainerDied`` only after both sleeps, so at least 100 ms after the stop.
    (The generator made every Started event within 1 ms of the start, and stopped containers 1–9 ms after
    Killing; then it let the relist wait out the container's sleep only; then it stopped every container
    within a ms of its Killing event whatever the client was doing.)"""
    truth = generate(tmp_path, seed=4, nodes=3, era=era, skew="test=0s,nodes=0s", scale=2, kubelet_events=True)
    items = json.loads((tmp_path / "events.json").read_text())["items"]
    pods = {p["name"]: p for p in truth["pods"] if p["run"] is not None}
    lag, kill = [], []
    for ev in items:
        p = pods.get(ev["involvedObject"]["name"])
        if p is None or ev["reason"] not in ("Started", "Killing"):
            continue
        t = int(ev["metadata"]["name"].rsplit(".", 1)[1], 16)
        if ev["reason"] == "Started":
            lag.append(t - p["run"])
            assert p["pleg_started"] >= t - 1e6  # the relist lists the containers once the call returned
        else:
            kill.append(p["stop"] - t)
    assert len(lag) == len(pods) and kill
    if era == "1.28":
        assert max(lag) <= 1e6
    else:
        assert 50e6 <= min(lag) and max(lag) <= 0.5e9 and 150e6 <= np.median(lag) <= 250e6
    if era == "1.28":
        assert all(0 < k <= 1e6 for k in kill)
    elif era == "1.5":
        # dockertools killContainer makes the Killing event once StopContainer returned: the stop one sleep
        # (50–500 ms) before it, however long the call waited for the mutex
        assert all(-0.6e9 <= k <= -50e6 for k in kill), (min(kill), max(kill))
        for node in {p["node"] for p in pods.values()}:
            st = np.sort([p["stop"] for p in pods.values() if p["node"] == node and p["stop"] is not None])
            assert (np.diff(st) >= 50e6).all() and st[-1] - st[0] > 1e9
    else:
        # the GC deletes a pod every ~50 ms, on 3 nodes faster than their clients stop them (two ~200 ms
        # sleeps a pod): the kills queue, and a node's containers stop at least one sleep (50 ms) apart
        assert all(k > 0 for k in kill) and max(kill) > 1e9
        for node in {p["node"] for p in pods.values()}:
            st = np.sort([p["stop"] for p in pods.values() if p["node"] == node and p["stop"] is not None])
            assert (np.diff(st) >= 50e6).all()
    died = np.array([p["pleg_died"] - p["stop"] for p in pods.values() if p["stop"] is not None])
    assert len(died) >= 20 and (died > 0).all()
    if era != "1.28":
        # two sleeps of ≥ 50 ms, ~200 ms each: a relist that begins within ~400 ms of the stop reports
        # after them (with one sleep the tenth percentile was ~0.2 s)
        assert died.min() >= 100e6 and np.quantile(died, 0.1) >= 0.3e9, np.quantile(died, [0, 0.1, 0.5])
        # and the sandbox's own ContainerDied record, after the container's
        logs = "".join(f.read_text() for f in tmp_path.glob("hollow-node-*.log"))
        assert logs.count('Type:"ContainerDied"') == 2 * len(died)


@pytest.mark.parametrize("era", ["1.14", "1.28"])
def test_a_kubelet_posts_its_events_in_order_after_making_them(tmp_path, era):
    """client-go's recorder hands the kubelet's events to one watcher goroutine per sink, which posts
    them one at a time in the order made (tools/record/event.go ``StartRecordingToSink``), through the
    kubelet's event client and its token bucket (eventRecordQPS 5, eventBurst 10).  So per kubelet (its
    address: the pods' hostIP) the k-th ``POST …/events`` is received after the k-th event was made, no
    window holds more POSTs than the burst and the rate allow, and the apiserver's creationTimestamp is the
    POST's second.  (The generator posted one events request per started pod, a few ms after the start,
    and none for Killing.)"""
    generate(tmp_path / "art", seed=3, nodes=3, era=era, skew="test=0s,nodes=0.8s", scale=2, kubelet_events=True)
    run = ingest([str(p) for p in sorted((tmp_path / "art").iterdir()) if p.name != "truth.json"], tmp_path / "run")
    r = run.table("requests", columns=["start_ts", "verb", "resource", "client", "src_ip", "origin", "code"])
    r = r[(r["resource"] == "events") & (r["verb"] == "create") & (r["client"] == "kubelet")]
    r = r[r["origin"] == r["origin"].iloc[0]]
    assert (r["code"] == 201).all()
    ip = r["src_ip"].str.split(":").str[0]
    pods = json.loads((tmp_path / "art" / "pods.json").read_text())["items"]
    host = {p["spec"]["nodeName"]: p["status"]["hostIP"] for p in pods if p["status"].get("hostIP")}
    items = json.loads((tmp_path / "art" / "events.json").read_text())["items"]
    kub = [e for e in items if e["source"].get("component") == "kubelet"]
    assert kub and len(host) == 3
    for node, addr in host.items():
        made = sorted(
            int(e["metadata"]["name"].rsplit(".", 1)[1], 16) - int(0.8e9) for e in kub if e["source"]["host"] == node
        )
        recv = np.sort(r.loc[ip == addr, "start_ts"].astype("int64").to_numpy())
        assert len(recv) >= len(made) > 0  # the dump holds those posted before it was taken
        assert (recv[: len(made)] > np.array(made)).all()
        # the token bucket: any n consecutive POSTs span at least (n - burst) / qps
        n = np.arange(11, len(recv))
        if len(n):
            assert (recv[n] - recv[n - 11] >= (11 - 10) / 5 * 1e9 - 1e6).all()
    for e in kub:
        made = int(e["metadata"]["name"].rsplit(".", 1)[1], 16)
        assert pd.Timestamp(e["metadata"]["creationTimestamp"]).value >= (made - int(0.8e9)) // 10**9 * 10**9


def test_cl2_prefix_line_precedes_every_call_in_its_namespaces(tmp_path):
    """clusterloader2 logs ``AutomanagedNamespacePrefix: P`` before any call in the automanaged namespaces
    ``P-<n>`` (perf-tests clusterloader2/pkg/test/simple_test_executor.go).  With ``--scale 3`` the run's
    extra reads are drawn over the whole run, some before the namespace's POST; the prefix line came
    right before that POST, after them, and contradicted the calls (the test clock then had no lower
    bound)."""
    generate(tmp_path / "art", seed=5, nodes=10, era="1.28", cl2=True, skew="test=-0.35s", scale=3)
    run = ingest([str(p) for p in sorted((tmp_path / "art").iterdir()) if p.name != "truth.json"], tmp_path / "run")
    m = run.table("messages", columns=["ts", "component", "msg"])
    line = m[(m["component"] == "clusterloader2") & m["msg"].str.startswith("AutomanagedNamespacePrefix: ")]
    assert len(line) == 1
    prefix = line["msg"].iloc[0].split(": ", 1)[1]
    r = run.table("requests", columns=["start_ts", "namespace", "client", "origin"])
    r = r[(r["client"] == "clusterloader") & r["namespace"].fillna("").str.startswith(prefix + "-")]
    assert len(r)
    # the test clock is 0.35 s behind: the line's true instant is its stamp + 0.35 s
    assert line["ts"].iloc[0] + pd.Timedelta(seconds=0.35) < r["start_ts"].min()


@pytest.mark.parametrize("era", ["1.14", "1.28"])
def test_audit_object_ref_names_what_a_create_carries(tmp_path, era):
    """staging/src/k8s.io/apiserver/pkg/audit/request.go ``LogRequestObject`` fills an empty
    ``objectRef.name`` from the decoded request object at Metadata level and above: a create of a named
    object carries its name (the e2e's ReplicationControllers, density.go; every Event, named by client-go
    ``<object>.<UnixNano hex>``), a ``generateName`` create (the RC manager's pods) none.  (The generator
    named only what the URI names.)"""
    truth = generate(tmp_path, seed=4, nodes=3, era=era, skew="test=0s,nodes=0.8s", scale=2)
    dumped = {e["metadata"]["name"] for e in json.loads((tmp_path / "events.json").read_text())["items"]}
    rcs = {p["namespace"]: set() for p in truth["pods"]}
    for p in truth["pods"]:
        rcs[p["namespace"]].add(p["name"].rsplit("-", 1)[0])
    seen = defaultdict(list)
    for line in (tmp_path / "audit.log").read_text().splitlines():
        ev = json.loads(line)
        ref = ev.get("objectRef") or {}
        if ev["verb"] == "create" and ev["stage"] == "ResponseComplete" and not ref.get("subresource"):
            seen[ref["resource"]].append(ref.get("name"))
    assert seen["pods"] and not any(seen["pods"])
    assert sorted(seen["replicationcontrollers"]) == sorted(set().union(*rcs.values()))
    assert all(seen["events"]) and dumped <= set(seen["events"])


def test_events_posted_into_a_terminating_namespace_are_refused(tmp_path):
    """Once the framework's DELETE of a failed spec's namespace returned, the NamespaceLifecycle admission
    plugin refuses every create in it (plugin/pkg/admission/namespace/lifecycle/admission.go: "unable to
    create new content in namespace … because it is being terminated", 403), before any storage write;
    client-go's recorder does not retry an event the server rejected (tools/record/event.go
    ``recordEvent``: a ``StatusError`` is final).  So the kubelets' Killing events of the teardown are
    POSTed, refused and never stored, and the audit log still names each one (``objectRef.name`` from the
    request object).  (The generator answered them 201.)"""
    truth = generate(
        tmp_path, seed=5, nodes=5, era="1.14", skew="test=0s,nodes=0.8s", timeout_failure=True, kubelet_events=True
    )
    td = truth["namespace_teardown"]
    t_ns = pd.Timestamp(td["namespace_delete"], tz="UTC")
    swept = [p for p in truth["pods"] if p["stop"] and td["deletecollection_received"] < p["graceful_delete"]]
    ns = swept[0]["namespace"]
    killed = {p["name"] for p in swept}
    assert len(killed) >= 50
    refused, later_ok = defaultdict(list), []
    for line in (tmp_path / "audit.log").read_text().splitlines():
        ev = json.loads(line)
        ref = ev.get("objectRef") or {}
        if ev["verb"] != "create" or ref.get("resource") != "events" or ref.get("namespace") != ns:
            continue
        if pd.Timestamp(ev["requestReceivedTimestamp"]) >= t_ns:
            st = ev["responseStatus"]
            if st["code"] == 403:
                assert st["reason"] == "Forbidden" and "being terminated" in st["message"]
                refused[ref["name"].rsplit(".", 1)[0]].append(ref["name"])
            else:
                later_ok.append(ref["name"])
    assert not later_ok
    assert set(refused) == killed and all(len(v) == 1 for v in refused.values())
    dumped = {e["metadata"]["name"] for e in json.loads((tmp_path / "events.json").read_text())["items"]}
    assert not dumped & {n for v in refused.values() for n in v}


def test_a_controller_s_pod_create_is_received_after_its_owner_was_stored(tmp_path):
    """The RC manager makes a pod once its informer delivered the RC, stored as the RC's create returned
    (pkg/controller/replicaset/replica_set.go, which the RC manager shares: add → syncReplicaSet →
    manageReplicas): every pod's create POST is received after its RC's create ended.  (The generator drew
    the pod POST's latency regardless: on this run the second latency pod's POST was received 1.8 ms
    before its RC's.)"""
    truth = generate(tmp_path, seed=5, nodes=10, era="1.28", skew="test=0s,nodes=0s", scale=3)
    owner_end, pod_posts = {}, {}
    for line in (tmp_path / "audit.log").read_text().splitlines():
        ev = json.loads(line)
        ref = ev.get("objectRef") or {}
        if ev["verb"] != "create" or ev["stage"] != "ResponseComplete" or ref.get("subresource"):
            continue
        end = pd.Timestamp(ev["stageTimestamp"]).value
        if ref["resource"] == "replicationcontrollers":
            owner_end[ref["name"]] = end
        elif ref["resource"] == "pods":
            pod_posts[end // 1000] = pd.Timestamp(ev["requestReceivedTimestamp"]).value
    checked = 0
    for p in truth["pods"]:
        recv = pod_posts.get(p["create_end"] // 1000)
        if recv is not None:
            assert recv > owner_end[p["name"].rsplit("-", 1)[0]], p["name"]
            checked += 1
    assert checked >= 300


@pytest.mark.parametrize("era", ["1.5", "1.14", "1.28"])
def test_a_pod_dump_carries_the_kubelet_s_stamps_of_its_syncs(tmp_path, era):
    """The kubelet's status manager stamps ``status.startTime`` (the first time it sets a status) and a
    condition's ``lastTransitionTime`` (when a sync changes it) with its own clock (pkg/kubelet/status/
    status_manager.go ``updateStatusInternal``): Initialized and startTime in the first sync after the watch
    delivered the bound pod, Ready (and ContainersReady, from 1.11) in the sync that the PLEG's
    ContainerStarted record triggered, whose status the Running write then sends.  (The generator stamped
    Ready with the container start's second and startTime 30 ms after the scheduling, which may precede the
    kubelet's first sight of the pod.)"""
    truth = generate(tmp_path, seed=4, nodes=3, era=era, skew="test=0s,nodes=0s", scale=2)
    pods = {(p["namespace"], p["name"]): p for p in truth["pods"]}
    items = json.loads((tmp_path / "pods.json").read_text())["items"]
    sec = 10**9
    checked = 0
    for it in items:
        p = pods[(it["metadata"]["namespace"], it["metadata"]["name"])]
        st = it["status"]
        conds = {c["type"]: int(pd.Timestamp(c["lastTransitionTime"]).value) for c in st["conditions"]}
        assert ("ContainersReady" in conds) == (era != "1.5" and p["run"] is not None and st["phase"] == "Running")
        if st["phase"] != "Running":
            continue
        ready = (p["pleg_started"] + 10**6) // sec * sec  # the sync after the relist, on the node's clock
        assert conds["Ready"] == ready and conds.get("ContainersReady", ready) == ready
        assert conds["Ready"] <= p["status_end"]  # stamped before the Running write was sent
        first = int(pd.Timestamp(st["startTime"]).value)
        assert first == conds["Initialized"]
        assert p["sched"] // sec * sec <= first <= conds["Ready"]  # after the bind, before the start's sync
        checked += 1
    assert checked >= 20
