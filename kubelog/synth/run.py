"""Simulate one Kubemark density run and write every artifact it leaves, with truth.json.

See :func:`kubelog.synth.generate` for the public entry point and docs/README of sample_logs.
All simulation times are integer ns on the *true* clock, which is the master (apiserver) clock.
Other domains print ``clock_d(t) = t + offset_d + drift_d·(t − T0)``.

Era choices (documented in truth.json "formats"):
* 1.5  — glog, access log variant B (``panics.go:76``, ``[[ua] ip]``), Trace T1, no audit,
         e2e density output of 1.5 (``worst schedule latencies`` …, inline ``Pod startup latency`` JSON,
         ``timeToStaturate``, ``percentil`` typo), scheduler ``factory.go`` bind attempts.
* 1.14 — klog, variant C (``wrap.go:47``, ``[ua ip]``), Trace T2 (``trace.go:81``), audit.k8s.io/v1
         (no audit-ID in the access log), e2e density output of 1.12–1.14, scheduler ``scheduler.go:569``.
* 1.28 — klog v2, variant G (``httplog.go:132``, audit-ID, apf_*), Trace T3 (``trace.go:236``), audit v1 with
         the same IDs, kubelet ``"Observed pod startup duration"``, scheduler ``schedule_one.go:304``.
         The e2e log keeps the in-tree density format of 1.14 (the density test was removed from the
         tree after that; clusterloader2 replaced it) — a documented simplification.
"""

from __future__ import annotations

import gzip
import io
import json
import math
import tarfile
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

from . import gofmt as G
from . import runtime
from . import skewcases
from .reqinfo import classify, logged_verb_128

S = 1_000_000_000
MS = 1_000_000

ERAS = {
    "1.5": dict(
        t0="2017-03-03T13:40:00",
        ver="v1.5.5",
        sha="894ff23",
        acc_caller="panics.go:76",
        trace_caller="trace.go:57",
        audit=False,
        pid=46046,
    ),
    "1.14": dict(
        t0="2019-06-20T12:30:00",
        ver="v1.14.3",
        sha="5e53fd6",
        acc_caller="wrap.go:47",
        trace_caller="trace.go:81",
        audit=True,
        pid=1,
    ),
    "1.28": dict(
        t0="2023-08-23T08:40:00",
        ver="v1.28.0",
        sha="855e7c4",
        acc_caller="httplog.go:132",
        trace_caller="trace.go:236",
        audit=True,
        pid=11,
    ),
}
BUCKETS = [(10, "10"), (25, "25"), (50, "50"), (90, "90"), (100, "100")]
LOAD_DEFINITION = (
    "capacity = nodes * pods_per_node. load(t) = number of test pods whose container is running at t (true "
    "clock = apiserver clock): each pod counts from its container start (pod 'run' instant) to its container "
    "stop (pod 'stop' instant; a pod never stopped counts to the end), run <= t < stop; pods that never started "
    "are not load. A request's bucket uses L = load(start_ts)/capacity*100, "
    "start_ts = header_ts - printed latency (integer ns): '10' if L<=10, '25' if L<=25, '50' if L<=50, "
    "'90' if L<=90, '100' if L<=100, else '>100'. Percentiles are nearest rank sorted[ceil(n*p)-1] over the "
    "printed latencies (seconds = ns/1e9) of non-long-running requests (long-running: kube verb watch/proxy, "
    "subresource exec/attach/portforward/proxy, log with follow=true; hijacked records have no status)."
)


def _parse_kv(spec, unit_s: bool) -> dict:
    if spec is None:
        return {}
    if isinstance(spec, dict):
        return {k: float(v) for k, v in spec.items()}
    out = {}
    for part in str(spec).split(","):
        if not part.strip():
            continue
        k, eq, v = part.partition("=")
        v = v.strip().lower()
        what = "a duration such as test=1.5s (s, ms, m, h)" if unit_s else "a drift such as test=40ppm"
        if not eq or not k.strip():
            raise ValueError(f"{part.strip()!r} is not NAME=VALUE: expected {what}")
        try:
            if unit_s:
                if v.endswith("ms"):
                    x = float(v[:-2]) / 1000
                elif v.endswith("h"):
                    x = float(v[:-1]) * 3600
                elif v.endswith("m"):
                    x = float(v[:-1]) * 60
                else:
                    x = float(v.rstrip("s"))
            else:
                x = float(v.replace("ppm", ""))
        except ValueError:
            raise ValueError(f"{part.strip()!r}: {v!r} is not {what}") from None
        if not math.isfinite(x):
            raise ValueError(f"{part.strip()!r}: the value must be finite")
        out[k.strip()] = x
    return out


def check_params(
    *,
    nodes,
    pods_per_node,
    era,
    skew,
    drift,
    scale,
    wrap,
    timeout_failure=False,
    seed=1,
    hosts=None,
    host_skew=None,
    host_drift=None,
) -> None:
    """Refuse parameters the simulation cannot run with (ValueError, one line), before anything is written."""
    # numpy's default_rng takes whole numbers >= 0 only (it raised only after the output directory was made)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a whole number >= 0, got {seed!r}")
    if hosts is None and (host_skew or host_drift):
        raise ValueError("host skew and host drift need hosts (--hosts N): the hosts are their clocks")
    if hosts is not None and (not isinstance(hosts, int) or hosts < 1):
        raise ValueError(f"hosts must be a whole number >= 1, got {hosts!r}")
    if timeout_failure not in (False, True, "saturation", "latency"):
        raise ValueError(f"timeout_failure must be False, True/'saturation' or 'latency', got {timeout_failure!r}")
    if era not in ERAS:
        raise ValueError(f"era must be one of {sorted(ERAS)}, got {era!r}")
    if wrap not in (None, "cri", "syslog"):
        raise ValueError(f"wrap must be None, 'cri' or 'syslog', got {wrap!r}")
    if not isinstance(nodes, int) or nodes < 1:
        raise ValueError(f"nodes must be a whole number >= 1, got {nodes!r}")
    if not isinstance(pods_per_node, int) or pods_per_node < 1:
        raise ValueError(f"pods per node must be a whole number >= 1, got {pods_per_node!r}")
    if not (isinstance(scale, (int, float)) and math.isfinite(scale) and scale > 0):
        raise ValueError(f"scale must be a positive number, got {scale!r}")
    _parse_kv(skew, True)
    _parse_kv(drift, False)


def nearest_rank(sorted_vals, p: float):
    n = len(sorted_vals)
    if n == 0:
        return None
    k = max(1, math.ceil(n * p - 1e-9))
    return sorted_vals[min(k, n) - 1]


class Clock:
    def __init__(self, offset_s: float, drift_ppm: float, t0: int):
        self.off = int(round(offset_s * S))
        self.drift = drift_ppm
        self.t0 = t0

    def __call__(self, t: int) -> int:
        return int(t) + self.off + int(round((int(t) - self.t0) * self.drift / 1e6))


class Sim:
    def __init__(self, seed, nodes, ppn, era, skew, drift, timeout_failure, scale, startup_delay_s=0.0, t0=None):
        self.rng = np.random.default_rng(seed)
        # a planted regression of the container start (the kubelet's SyncPod → runtime
        # StartContainer, pkg/kubelet/kuberuntime/kuberuntime_container.go): every pod starts this
        # much later; 0 = the unmodified model (used by kubelog.synth.history)
        self.startup_delay = int(round(float(startup_delay_s) * S))
        # issue 16's lifecycle cases draw from their own stream (see _side_rng)
        self.rng16 = np.random.default_rng([int(seed), 16])
        self.unnamed_kubelet_lines = Counter()
        self.era = era
        self.E = dict(ERAS[era], **({"t0": t0} if t0 else {}))  # t0: another start (a CI job's builds)
        self.nodes_n = nodes
        self.ppn = ppn
        self.cap = nodes * ppn
        self.scale = scale
        self.timeout_failure = timeout_failure
        import datetime as dt

        self.T0 = int(dt.datetime.fromisoformat(self.E["t0"]).replace(tzinfo=dt.timezone.utc).timestamp()) * S
        sk = _parse_kv(skew, True)
        dr = _parse_kv(drift, False)
        self.test_clock = Clock(sk.get("test", 0.0), dr.get("test", 0.0), self.T0)
        letters = "bcdfghjklmnpqrstvwxz2456789"
        self.nodes = []
        for _i in range(nodes):
            suf = "".join(letters[j] for j in self.rng.integers(0, len(letters), 5))
            self.nodes.append(f"hollow-node-{suf}")
        self.nodes.sort()
        self.node_ip = {n: f"10.64.{1 + i // 250}.{2 + i % 250}" for i, n in enumerate(self.nodes)}
        self.node_clock = {n: Clock(sk.get("nodes", 0.0), dr.get("nodes", 0.0), self.T0) for n in self.nodes}
        # each kubelet's PLEG relists the runtime every second (pkg/kubelet/kubelet.go plegRelistPeriod =
        # 1 s; pkg/kubelet/pleg/generic.go Start: wait.Until(g.relist, g.relistPeriod, …), sliding: the
        # next relist starts a period after the last one returned): a phase and a relist duration per node
        prng = np.random.default_rng([int(seed), 1001])
        self.relist = {n: (int(prng.integers(0, S)), int(prng.integers(2, 10)) * MS) for n in self.nodes}
        self.rng_pleg = prng
        # the events' own draws (write_events): another stream, so the rest of the run stays as drawn
        self.rng_events = np.random.default_rng([int(seed), 1703])
        # the kubelets' event POSTs (kubelet_event_posts): one more stream
        self.rng_posts = np.random.default_rng([int(seed), 1704])
        # the fake Docker client's sleeps (start_runtime, stop_runtime): one more stream
        self.rng_docker = np.random.default_rng([int(seed), 1705])
        # the pod sandbox's PLEG records (sandbox_relist): one more stream
        self.rng_sandbox = np.random.default_rng([int(seed), 1706])
        # the fake Docker client's calls per node (start_runtime / stop_runtime; eras before 1.20)
        self.seed = int(seed)
        self.chains = defaultdict(list)
        self.reqs = []  # dicts
        self.msgs = []  # (write_ns, text) apiserver non-access records (text may be multi-line)
        self.pods = []  # pod dicts
        self.sched_lines = []
        self.node_lines = defaultdict(list)
        self.e2e = []  # (true_ns, text) — Logf lines are stamped on the test clock at write
        self.failures = []
        v = self.E["ver"]
        sha = self.E["sha"]
        self.ua = {
            "kubelet": f"kubelet/{v} (linux/amd64) kubernetes/{sha}",
            "sched": f"kube-scheduler/{v} (linux/amd64) kubernetes/{sha}" + ("/scheduler" if era == "1.28" else ""),
            "kcm": f"kube-controller-manager/{v} (linux/amd64) kubernetes/{sha}/system:serviceaccount:kube-system:replication-controller",
            "gc": f"kube-controller-manager/{v} (linux/amd64) kubernetes/{sha}/system:serviceaccount:kube-system:generic-garbage-collector",
            "e2e": f"e2e.test/{v} (linux/amd64) kubernetes/{sha}",
            "probe": f"kube-probe/{v[1:5].rstrip('.')}",
            "nsc": f"kube-controller-manager/{v} (linux/amd64) kubernetes/{sha}/system:serviceaccount:kube-system:namespace-controller",
        }
        self.ua_user = {
            "sched": "system:kube-scheduler",
            "kcm": "system:serviceaccount:kube-system:replication-controller",
            "gc": "system:serviceaccount:kube-system:generic-garbage-collector",
            "e2e": "kubecfg",
            "probe": "system:anonymous",
            "nsc": "system:serviceaccount:kube-system:namespace-controller",
        }

    # --- load model used to shape latencies (the truth uses the printed records, not this) ---
    def load_frac(self, t):
        return self._load_approx(t) / self.cap

    def _load_approx(self, t):
        c = np.searchsorted(self._create_times, t, side="right") if hasattr(self, "_create_times") else 0
        d = np.searchsorted(self._delete_times, t, side="right") if hasattr(self, "_delete_times") else 0
        return c - d

    def latency(self, kind: str, t: int) -> int:
        base = {
            "get": 1.8,
            "list": 18.0,
            "update": 4.0,
            "patch": 5.0,
            "create": 7.0,
            "delete": 6.0,
            "nonres": 0.9,
            "bigl": 90.0,
        }[kind]
        L = min(self.load_frac(t), 1.3)
        med = base * (1.0 + 2.5 * L * L)
        sig = 0.35 + 0.45 * L
        lat_ms = med * math.exp(sig * self.rng.standard_normal())
        if self.rng.random() < 0.002 + 0.01 * L and kind in ("list", "bigl", "create", "patch"):
            lat_ms = 520 + self.rng.exponential(700) * (1 + L)  # slow → Trace block
        return max(60_000, int(lat_ms * MS) + int(self.rng.integers(0, 1000)))

    def add(self, end, method, uri, client, kind=None, code=None, lat=None, node=None, watch_s=None, name=None):
        """A request answered at ``end``; ``name``: the name of the object a create carries in its body (the
        audit event's ``objectRef.name``, which the URI of a create does not have)."""
        if lat is None:
            if watch_s is not None:
                lat = int(watch_s * S) + int(self.rng.integers(0, S))
            else:
                lat = self.latency(kind, end)
        if code is None:
            code = 201 if method == "POST" else 200
        if watch_s is not None and self.era == "1.5":
            code = 0
        src_ip = self.node_ip[node] if node else ("127.0.0.1" if client in ("sched", "kcm", "gc") else "10.40.0.9")
        port = int(self.rng.integers(32768, 61000))
        src = f"{src_ip}:{port}"
        if client == "sched" and self.rng.random() < 0.3:
            src = f"[::1]:{port}"
        if client == "probe":
            src = f"127.0.0.1:{port}"
        self.reqs.append(
            dict(
                end=int(end),
                lat=int(lat),
                method=method,
                uri=uri,
                client=client,
                code=int(code),
                src=src,
                node=node,
                aid=G.uuid4_from(self.rng.bytes(16)),
            )
        )
        if name is not None:
            self.reqs[-1]["obj_name"] = name
        return int(end)

    # ------------------------------------------------------------------ the run
    def simulate(self):
        rng = self.rng
        T0 = self.T0
        era = self.era
        N = self.nodes_n
        nsE = f"e2e-tests-density-30-1-{''.join(rng.choice(list('abcdefghijklmnopqrstuvwxyz0123456789'), 5))}"
        self.ns = nsE
        t = T0 + 5 * S
        # BeforeEach
        self.logf(
            t,
            ">>> kubeConfig: /workspace/kubernetes/test/kubemark/resources/kubeconfig.kubemark",
            step="Creating a kubernetes client",
        )
        t += 200 * MS
        self.step(t, "Building a namespace api object")
        t = self.add(t + 30 * MS, "POST", "/api/v1/namespaces", "e2e", "create")
        self.logf(t + 5 * MS, "Skipping waiting for service account")
        t += 1 * S
        self.logf(t, "Waiting for terminating namespaces to be deleted...")
        t = self.add(t + 20 * MS, "GET", "/api/v1/namespaces", "e2e", "list")
        self.logf(t + 3 * MS, "Resetting latency metrics in apiserver...")
        t = self.add(t + 40 * MS, "DELETE", "/metrics", "e2e", "nonres")
        t = self.add(t + 30 * MS, "GET", "/api/v1/nodes", "e2e", "list")
        self.logf(t + 2 * MS, "Listing nodes for easy debugging:\n")
        for n in self.nodes:
            self.logf(t + 3 * MS, f"Name: {n}, clusterIP: {self.node_ip[n]}, externalIP: ")
        t += 1 * S
        # saturation
        if self.ppn == 30:
            self.logf(
                t, "Setting resource " + ("constraings" if era == "1.5" else "constraints") + " for provider: kubemark"
            )
        n_rc = max(1, math.ceil(N / 100))
        total = self.cap
        rc_names = []
        per_rc = math.ceil(total / n_rc)
        uid = "".join(rng.choice(list("0123456789abcdef"), 8))
        sat_start = t
        rc_stored = {}  # each RC's create answered (stored): its manager makes its pods after that
        for i in range(n_rc):
            rcn = f"density{total}-{i}-{uid}-b60e-11e9-b76b-42010a800002"
            rc_names.append(rcn)
            t = self.add(
                t + 15 * MS, "POST", f"/api/v1/namespaces/{nsE}/replicationcontrollers", "e2e", "create", name=rcn
            )
            rc_stored[rcn] = t
            self.logf(
                t + 2 * MS,
                f"Created replication controller with name: {rcn}, namespace: {nsE}, replica count: {per_rc}",
            )
        rate = 20.0 * self.scale**0.0  # pods/s (controller-manager QPS)
        stall_nodes = set(self.nodes[: max(1, N // 5)]) if self.timeout_failure else set()
        latency_stall = stall_nodes if self.timeout_failure == "latency" else set()
        if latency_stall:  # the nodes hang only after saturation: the latency pods are the ones to wait
            stall_nodes = set()
        stall_after = None
        ct = t + 100 * MS
        batch = 1
        k = 0
        sat_pods = []
        while k < total:
            for _ in range(min(batch, total - k)):
                ct += int(S / rate * (0.6 + 0.8 * rng.random()))
                rc = rc_names[k // per_rc]
                p = self.make_pod(rc, nsE, ct, k, owner_end=rc_stored[rc])
                sat_pods.append(p)
                k += 1
            ct += 200 * MS
            batch = min(batch * 2, 500)
        self._create_times = np.array(sorted(p["create"] for p in sat_pods))
        self._delete_times = np.array([], dtype=np.int64)
        if self.timeout_failure and not latency_stall:
            stall_after = sat_pods[int(0.6 * len(sat_pods))]["create"]
        for p in sat_pods:
            self.run_pod(p, stall=(p["node"] in stall_nodes and p["create"] > (stall_after or 0)))
        self.start_runtime(sat_pods)
        for p in sat_pods:
            self.finish_start(p)
        # progress every 10 s
        all_run = max(p["watch"] for p in sat_pods if p["watch"]) if not stall_nodes else None
        timeout = max(120 * S, total * S // 8)
        tp = sat_start + 10 * S
        while True:
            self.progress(tp, sat_pods, total)
            self.add(
                tp - 5 * MS, "GET", f"/api/v1/namespaces/{nsE}/pods?labelSelector=type%3DdensityPod", "e2e", "list"
            )
            if all_run is not None and tp >= all_run:
                break
            if all_run is None and tp - sat_start >= timeout:
                break
            tp += 10 * S
        t = tp + 50 * MS
        self.pod_dump_time = t
        lat_pods = []
        if stall_nodes:
            self.failures.append(
                {
                    "kind": "timeout",
                    "phase": "saturation",
                    "message": "timed out waiting for the condition",
                    "stalled_nodes": sorted(stall_nodes),
                    "stalled_pods": sum(1 for p in sat_pods if p["watch"] is None),
                    "at_test_clock_ns": self.test_clock(t),
                }
            )
            self.fail_t = t
        else:
            startup = self.test_clock(all_run) - self.test_clock(sat_start)
            self.logf(tp + 1 * MS, f"E2E startup time for {total} pods: {G.go_duration(startup)}")
            thr = total / max(1, startup // S)
            self.logf(tp + 2 * MS, f"Throughput (pods/s) during cluster saturation phase: {_f32(thr)}")
            self.sat_json = (startup, total, thr)
            self.step(tp + 3 * MS, "Printing Pod to Node allocation data")
            cnt = Counter(p["node"] for p in sat_pods)
            for n in self.nodes:
                self.logf(tp + 4 * MS, f"{n}: {cnt[n]} pause pods, system pods: []")
            # latency pods
            t = tp + 1 * S
            self.step(t, "Scheduling additional Pods to measure startup latencies")
            rc_end = {}
            for i in range(N):
                t += 200 * MS
                name = f"density-latency-pod-{i}"
                rc_end[name] = self.add(
                    t, "POST", f"/api/v1/namespaces/{nsE}/replicationcontrollers", "e2e", "create", name=name
                )
                p = self.make_pod(
                    name,
                    nsE,
                    t + 40 * MS + int(rng.integers(0, 20 * MS)),
                    None,
                    latency=True,
                    node=self.nodes[i],
                    owner_end=rc_end[name],
                )
                p["rc_t"] = t
                lat_pods.append(p)
            self._create_times = np.array(sorted([p["create"] for p in sat_pods + lat_pods]))
            for p in lat_pods:
                self.run_pod(p, stall=p["node"] in latency_stall)
            self.start_runtime(lat_pods)
            for p in lat_pods:
                self.finish_start(p)
                if p["watch"] is not None:
                    self.found_pod_poll(p)
            hung = [p for p in lat_pods if p["watch"] is None]
            if hung:
                return self._latency_timeout(lat_pods, hung, rc_end, sat_pods, sorted(latency_stall), rc_names, nsE)
            t = max(p["watch"] for p in lat_pods) + 200 * MS
            self.step(t, "Waiting for all Pods begin observed by the watch...")
            t += 100 * MS
            self.latency_summary(t, lat_pods)
            t += 1 * S
            self.step(t, "Removing additional replication controllers")
            for p in lat_pods:
                t += 20 * MS
                self.step(
                    t,
                    f"deleting {self.gk()} {p['rc']} in namespace {nsE}, will wait for the garbage collector to delete the pods",
                )
                self.add(
                    t + 10 * MS, "DELETE", f"/api/v1/namespaces/{nsE}/replicationcontrollers/{p['rc']}", "e2e", "delete"
                )
        if self.timeout_failure:
            self.namespace_teardown(t + 1 * S, nsE, sat_pods)
            self.background(T0, self.T_end)
            self.inject_errors()
            return
        # cleanup: GC deletes pods
        t += 1 * S
        self.step(t, "Deleting created Collections" if era != "1.5" else "Deleting ReplicationController")
        if era == "1.5":
            self.step(t, "Cleaning up only the replication controller, garbage collector will clean up the pods")
        else:
            self.step(t, f"Cleaning up only the {self.gk()}, garbage collector will clean up the pods")
        dt0 = t
        for rcn in rc_names:
            t = self.add(
                t + 10 * MS, "DELETE", f"/api/v1/namespaces/{nsE}/replicationcontrollers/{rcn}", "e2e", "delete"
            )
            self.logf(
                t + 1 * MS,
                (f"Deleting RC {rcn} took: " if era == "1.5" else f"Deleting {self.gk()} {rcn} took: ")
                + G.go_duration(int(4 * MS + rng.integers(0, 3 * MS))),
            )
        dts = []
        gt = t + 300 * MS
        for p in sat_pods + lat_pods:
            gt += int(S / 20 * (0.6 + 0.8 * rng.random()))
            dts.append(self.add(gt, "DELETE", f"/api/v1/namespaces/{nsE}/pods/{p['name']}", "gc", "delete"))
            self.pod_stop(p, gt)
        self.stop_runtime(sat_pods + lat_pods)
        for p in sat_pods + lat_pods:
            self.pod_stop_end(p)
        self._delete_times = np.array(sorted(dts))
        for rcn in rc_names:
            self.logf(
                gt + 500 * MS,
                (f"Terminating RC {rcn} pods took: " if era == "1.5" else f"Terminating {self.gk()} {rcn} pods took: ")
                + G.go_duration(gt + 500 * MS - dt0),
            )
        t = gt + 1 * S
        self.step(t, "Collecting resource usage data")
        self.logf(t + 10 * MS, "Waiting up to 3m0s for all (but 0) nodes to be ready")
        t = self.add(t + 30 * MS, "GET", "/api/v1/nodes", "e2e", "list")
        # events.json: the test namespace's events as they stand just before it is destroyed (where the
        # e2e framework's AfterEach dumps them, test/e2e/framework/framework.go; a namespace's events go
        # with it): every pod's start and kill events are there
        self.events_dump_time = t + 90 * MS
        self.step(t + 100 * MS, f'Destroying namespace "{nsE}" for this suite.')
        t = self.add(t + 150 * MS, "DELETE", f"/api/v1/namespaces/{nsE}", "e2e", "delete")
        self.T_end = t + 2 * S
        self.background(T0, self.T_end)
        self.inject_errors()

    def _latency_timeout(self, lat_pods, hung, rc_end, sat_pods, stalled_nodes, rc_names, nsE):
        """A latency pod on a hung node never runs (test/e2e/scalability/density.go, release 1.12-1.14).

        createRunningPodFromRC runs in a goroutine per latency pod: CreateRCWithRetries, then
        ``framework.ExpectNoError(framework.WaitForControlledPodsRunning(...))``. That wait is
        testutils.WaitForEnoughPodsWithLabelRunning: ``for start := time.Now(); time.Since(start) <
        10*time.Minute; time.Sleep(5 * time.Second)``, then ``Timeout while waiting for pods with labels
        %q to be running``, wrapped by WaitForControlledPodsRunning as ``Error while waiting for
        replication controller %s pods to be running: %v`` (test/utils/runners.go,
        test/e2e/framework/util.go). ExpectNoError logs ``Unexpected error occurred: %v`` and fails
        the spec (ginkgo keeps the first failure; GinkgoRecover ends the goroutine, whose deferred
        wg.Done lets the It go on); the It then prints STEP ``Waiting for all Pods begin observed by
        the watch...`` and, the watch not having seen every pod, Failf("Timeout reached waiting for
        all Pods being observed by the watch.") at once (the inverted check). The It ends there:
        cleanupDensityTest is not deferred, so the framework's AfterEach deletes the namespace.
        """
        p0 = min(hung, key=lambda p: rc_end[p["rc"]])
        start = rc_end[p0["rc"]] + 5 * MS  # time.Now() after the RC was created
        fail = start + 600 * S + 30 * MS  # the loop's last check, 5 s poll, after 10 min
        sel = f"name={p0['rc']},type=density-latency-pod"  # labels.SelectorFromSet: keys sorted
        err = (
            f"Error while waiting for replication controller {p0['rc']} pods to be running: "
            f'Timeout while waiting for pods with labels "{sel}" to be running'
        )
        self.logf(fail, "Unexpected error occurred: " + err)
        self.step(fail + 1 * MS, "Waiting for all Pods begin observed by the watch...")
        self.logf(fail + 2 * MS, "Timeout reached waiting for all Pods being observed by the watch.")
        self.failures.append(
            {
                "kind": "timeout",
                "phase": "latency",
                "message": err,
                "wait": f"WaitForControlledPodsRunning {p0['rc']} (10m)",
                "wait_started_at_test_clock_ns": self.test_clock(start),
                "stalled_nodes": stalled_nodes,
                "stalled_pods": len(hung),
                "stalled_pod_names": sorted(p["name"] for p in hung),
                "at_test_clock_ns": self.test_clock(fail),
            }
        )
        self.fail_t = fail
        # the failure location: createRunningPodFromRC's WaitForControlledPodsRunning ExpectNoError, 47 lines
        # below the pod-startup ExpectNoError (density.go:970 in the real 1.14 failure block, formats-test.md
        # §3.4) in the release-1.12/1.13 density.go whose tail 1.14 kept
        self.fail_line = 1017
        t = fail + 1 * S
        self.pod_dump_time = t
        # framework AfterEach (framework.go): the same tail as the other runs
        self.step(t, "Collecting resource usage data")
        self.logf(t + 10 * MS, "Waiting up to 3m0s for all (but 0) nodes to be ready")
        t = self.add(t + 30 * MS, "GET", "/api/v1/nodes", "e2e", "list")
        self.step(t + 100 * MS, f'Destroying namespace "{nsE}" for this suite.')
        t = self.add(t + 150 * MS, "DELETE", f"/api/v1/namespaces/{nsE}", "e2e", "delete")
        self.T_end = t + 2 * S
        self.background(self.T0, self.T_end)
        self.inject_errors()

    def gk(self):
        return "{ ReplicationController}" if self.era == "1.5" else "ReplicationController"

    # e2e log helpers: entries keyed by true time; stamp is the test clock
    def logf(self, t, msg, step=None, test_true=False):
        if step:
            self.e2e.append((t - 1, "STEP: " + step))
        self.e2e.append((t, "INFO: " + msg))

    def step(self, t, text):
        self.e2e.append((t, "STEP: " + text))

    def make_pod(self, rc, ns, t_create_end, k, latency=False, node=None, owner_end=None):
        rng = self.rng
        letters = "bcdfghjklmnpqrstvwxz2456789"
        name = f"{rc}-{''.join(letters[j] for j in rng.integers(0, len(letters), 5))}"
        self.add(t_create_end, "POST", f"/api/v1/namespaces/{ns}/pods", "kcm", "create")
        post = self.reqs[-1]  # the RC manager's generateName create: the name is only in the response
        if owner_end is not None:
            # the RC manager makes the pod once its watch delivered the RC, which was stored as its create
            # returned (pkg/controller/replicaset/replica_set.go, which the RC manager shares: the informer's
            # add enqueues it, syncReplicaSet → manageReplicas creates): the POST is received after that
            post["lat"] = int(min(post["lat"], t_create_end - owner_end - 2 * MS))
        created = t_create_end - int(rng.integers(1 * MS, 3 * MS))  # storage time, inside the request
        if node is None:
            node = self.nodes[k % self.nodes_n] if k is not None else self.nodes[0]
        p = dict(
            name=name,
            ns=ns,
            rc=rc,
            node=node,
            create=created,
            create_end=t_create_end,
            latency=latency,
            uid=G.uuid4_from(rng.bytes(16)),
        )
        post["pod"] = p
        self.pods.append(p)
        return p

    def run_pod(self, p, stall):
        rng = self.rng
        L = self.load_frac(p["create"])
        sched = p["create_end"] + int((8 + 40 * L + rng.exponential(15 * (1 + L))) * MS)
        bind_end = self.add(sched, "POST", f"/api/v1/namespaces/{p['ns']}/pods/{p['name']}/binding", "sched", "create")
        p["sched"] = bind_end - int(rng.integers(1 * MS, 2 * MS))
        self.add(
            bind_end + int(rng.integers(1 * MS, 5 * MS)),
            "POST",
            f"/api/v1/namespaces/{p['ns']}/events",
            "sched",
            "create",
        )
        self.reqs[-1]["scheduled_of"] = p  # its Scheduled event (named in write_events)
        self.sched_line(p, bind_end + int(rng.integers(100_000, 900_000)))
        node = p["node"]
        seen = bind_end + int((20 + rng.exponential(60)) * MS)
        self.add(
            seen + int(rng.integers(1, 5) * MS),
            "GET",
            f"/api/v1/namespaces/{p['ns']}/pods/{p['name']}",
            "kubelet",
            "get",
            node=node,
        )
        if stall:
            p["run"] = p["status_end"] = p["watch"] = None
            p["seen"] = seen
            lat = self.latency("patch", seen + 30 * MS)  # sent 30 ms after the ADD, answered lat later
            self.add(
                seen + 30 * MS + lat,
                "PATCH" if self.era != "1.5" else "PUT",
                f"/api/v1/namespaces/{p['ns']}/pods/{p['name']}/status",
                "kubelet",
                "patch",
                lat=lat,
                node=node,
            )
            return
        # the container start were nothing else on the node's runtime (a fake Docker client queues it behind
        # the other calls: start_runtime)
        p["run"] = seen + int((500 + 800 * rng.random() + 600 * L) * MS) + self.startup_delay
        p["seen"] = seen  # the kubelet's SyncLoop ADD (skewcases: its first status write follows)

    def finish_start(self, p):
        """What follows a pod's container start (after :meth:`run_pod` and :meth:`start_runtime` for all
        the pods starting together): the Running status write, the test's watch, the kubelet's records."""
        if p["run"] is None:
            return
        rng = self.rng
        node, run = p["node"], p["run"]
        L = self.load_frac(p["create"])
        if "start_return" not in p:
            # a fake CRI runtime (1.28): StartContainer returns at once (the kubelet records Started then)
            # and the PLEG's next relist lists the container
            p["start_return"] = run
            p["pleg_started"] = self.relist_after(node, run)
            p["pleg_sandbox"] = self.sandbox_relist(node, run)
        # the Running status write is *sent* after the PLEG saw the container start (the status manager
        # writes the status the sync after PLEG ContainerStarted generated: pkg/kubelet/status/
        # status_manager.go syncPod → PatchPodStatus); it is answered one request latency later
        rng.integers(5, 40)  # (the draw of the send delay this model once had: the rest of the run stays as drawn)
        sent = p["pleg_started"] + int(self.rng_pleg.integers(2, 15) * MS)
        lat = self.latency("patch", sent)
        st_end = self.add(
            sent + lat,
            "PATCH" if self.era != "1.5" else "PUT",
            f"/api/v1/namespaces/{p['ns']}/pods/{p['name']}/status",
            "kubelet",
            "patch",
            lat=lat,
            node=node,
        )
        p["status_end"] = st_end
        # the draws of the one events POST per start this model once had (the kubelet's event POSTs are
        # now made from its events, kubelet_event_posts): taken and dropped, so the rest stays as drawn
        self.add(
            run + int(rng.integers(1, 9) * MS),
            "POST",
            f"/api/v1/namespaces/{p['ns']}/events",
            "kubelet",
            "create",
            node=node,
        )
        self.reqs.pop()
        p["watch"] = st_end + int((3 + rng.exponential(40 * (1 + L))) * MS)
        self.kubelet_lines(p, p["seen"])

    def relist_after(self, node, t):
        """On a fake CRI runtime (1.28: cri-api ``FakeRuntimeService``, no sleeps), the instant the PLEG of
        ``node`` reports a container change made at ``t`` (true ns): the next relist to start at or after
        ``t`` lists the runtime, updates its cache and sends the events (pkg/kubelet/pleg/generic.go
        ``relist``); the kubelet's sync loop logs ``SyncLoop (PLEG)`` as it takes each one
        (pkg/kubelet/kubelet.go ``syncLoopIteration``).  So a start or stop is seen 0–1 s (+ the relist)
        late, never earlier.  (A relist's calls take microseconds there, so its period stays 1 s + its own
        few ms; the fake Docker client's queue is :mod:`kubelog.synth.runtime`'s.)"""
        return self._relist_start(node, self._relist_index(node, t)) + int(
            self.rng_pleg.integers(MS, self.relist[node][1])
        )

    def _relist_index(self, node, t):
        """The number of the first relist of ``node`` (fixed phase, period 1 s + its own duration) that
        starts at or after ``t``."""
        phase, dur = self.relist[node]
        return -(-(t - self.T0 - phase) // (S + dur))  # ceil

    def _relist_start(self, node, k):
        phase, dur = self.relist[node]
        return self.T0 + phase + k * (S + dur)

    def sandbox_relist(self, node, run):
        """On a fake CRI runtime, the instant of the PLEG ``ContainerStarted`` record of the pod's *sandbox*
        when a relist before the container's saw it, else ``None`` (the record then follows the container's
        in the same relist).

        The PLEG treats a pod's sandboxes as containers (pkg/kubelet/pleg/generic.go
        ``getContainersFromPods``: "Update sandboxes as containers", after the pod's containers), so a pod
        with one container has two ``ContainerStarted`` records, and two ``ContainerDied`` ones (real
        kubelet logs: 1.19 and 1.21 kubelets log two distinct IDs per single-container pod).  The runtime
        starts the sandbox first (kuberuntime_manager.go ``SyncPod``: ``createPodSandbox``, then the
        containers); on the fake CRI runtime the calls between take a few ms, so a relist rarely falls
        between.  (On the fake Docker client the window is ~0.3 s: :mod:`kubelog.synth.runtime`.)  Draws
        from a stream of its own."""
        r = self.rng_sandbox
        sb_start = run - int(r.integers(200_000, 3 * MS))
        jitter = int(r.integers(MS, self.relist[node][1]))
        k_sb = self._relist_index(node, sb_start)
        if k_sb >= self._relist_index(node, run):
            return None
        return self._relist_start(node, k_sb) + jitter

    def start_runtime(self, pods):
        """Before 1.20 (Kubemark's fake Docker client, :mod:`kubelog.synth.runtime`): queue each pod's start
        (:meth:`run_pod` drew ``run``, the container start were the client free) on its node's client and
        run the nodes' clients: the container start (``run``) is when its ``StartContainer`` takes the
        mutex, ``start_return`` when it returns, the Pulled/Created events' instants when their calls
        returned, and the PLEG's container and sandbox records when a relist reported them."""
        if self.era not in ("1.5", "1.14"):
            return
        for p in pods:
            if p["run"] is None:
                continue
            calls = runtime.start_calls(self.rng_docker, self.era)
            # the Pulled / Created events are made between their call's return and the next call
            # (kuberuntime_container.go startContainer: recordContainerEvent, then the next runtime call)
            p["ev_lags"] = [float(x) for x in self.rng_docker.uniform(0.1, 0.9, 2)]
            self.chains[p["node"]].append(runtime.Chain(p, "start", p["run"] - runtime.lead_time(calls), calls))
        self._run_runtime({p["node"] for p in pods if p["run"] is not None})

    def stop_runtime(self, pods):
        """Before 1.20: queue each pod's kill (``stop_call``: its ``StopContainer`` call, right after the
        kill record) on its node's client: the container stops (``stop``) when the call takes the mutex,
        the call returns at ``stop_return`` (1.5 makes the Killing event then: :func:`_killing_at`);
        the PLEG's ``ContainerDied`` records come when a relist lists the container and the sandbox stopped."""
        if self.era not in ("1.5", "1.14"):
            return
        for p in pods:
            if p.get("stop_call") is None:
                continue
            calls = runtime.stop_calls(self.rng_docker)
            # 1.5 (dockertools killContainer): the Killing event is made once StopContainer returned
            p["kill_ev_lag"] = int(self.rng_docker.integers(50_000, 1_000_000))
            self.chains[p["node"]].append(runtime.Chain(p, "stop", p["stop_call"], calls))
        self._run_runtime({p["node"] for p in pods if p.get("stop_call") is not None})

    def _run_runtime(self, nodes):
        """Run the clients of ``nodes`` (those given new calls) from the start with all the calls queued so
        far; results already used (a pod whose start was reported) must come out the same (calls queued
        later come later)."""
        for node in sorted(nodes):
            chains = self.chains[node]
            for ch in chains:
                ch.grants = []
            phase, dur = self.relist[node]
            rec = runtime.simulate_node(
                chains, self.T0 + phase, dur, runtime.node_rng(self.seed, self.nodes.index(node)), self.era
            )
            for ch in chains:
                p, g = ch.pod, ch.grants
                if ch.kind == "start":
                    i, pc, cc = runtime.START_CALL, runtime.PULLED_CALL, runtime.CREATED_CALL
                    got = {
                        "run": g[i],
                        "start_return": g[i] + ch.calls[i][0],
                        "pulled_ev": g[pc] + ch.calls[pc][0] + int(p["ev_lags"][0] * ch.calls[pc][1]),
                        "created_ev": g[cc] + ch.calls[cc][0] + int(p["ev_lags"][1] * ch.calls[cc][1]),
                        "pleg_started": rec[(id(p), "container_started")],
                        "pleg_sandbox": rec[(id(p), "sandbox_started")],
                    }
                else:
                    i = runtime.STOP_CALL
                    got = {
                        "stop": g[i],
                        "stop_return": g[i] + ch.calls[i][0],
                        "pleg_died": rec[(id(p), "container_died")],
                        "pleg_sandbox_died": rec[(id(p), "sandbox_died")],
                    }
                done = ch.kind == "start" and "pleg_started" in p or ch.kind == "stop" and "pleg_died" in p
                if done and any(p[k] != v for k, v in got.items()):
                    raise AssertionError(f"the runtime of {node} changed {p['name']}'s {ch.kind} on a rerun")
                p.update(got)

    def sched_line(self, p, t):
        k = G.KlogClock()
        if self.era == "1.5":
            txt = f"{k.header('I', t, 3127, 'factory.go:607')}Attempting to bind {p['name']} to {p['node']}"
        elif self.era == "1.14":
            txt = (
                f"{k.header('I', t, 1, 'scheduler.go:569')}pod {p['ns']}/{p['name']} is bound successfully on node "
                f"{p['node']}, {self.nodes_n} nodes evaluated, {self.nodes_n} nodes were found feasible"
            )
        else:
            txt = (
                f'{k.header("I", t, 1, "schedule_one.go:304")}"Successfully bound pod to node" pod="{p["ns"]}/{p["name"]}" '
                f'node="{p["node"]}" evaluatedNodes={self.nodes_n} feasibleNodes={self.nodes_n}'
            )
        self.sched_lines.append((t, txt))

    def kubelet_lines(self, p, seen):
        n = p["node"]
        c = self.node_clock[n]
        k = G.KlogClock()
        pid = 1 + self.nodes.index(n) * 7 + 3000
        if self.era == "1.28":
            t = p["watch"] - int(self.rng.integers(1, 5) * MS)  # kubelet's own watch sees the running pod
            ct = (p["create"] // S) * S
            e2e = c(t) - ct  # watchObservedRunningTime (node clock) - creationTimestamp (master, whole s)
            mono = lambda x: c(x) - c(self.T0)  # noqa: E731
            txt = (
                f'{k.header("I", c(t), pid, "pod_startup_latency_tracker.go:104")}"Observed pod startup duration" '
                f'pod="{p["ns"]}/{p["name"]}" podStartSLOduration={(c(t) - c(ct) if False else e2e) / S:.9g} '
                f'podStartE2EDuration="{G.go_duration(e2e)}" podCreationTimestamp="{G.go_time(ct)}" '
                f'firstStartedPulling="0001-01-01 00:00:00 +0000 UTC" lastFinishedPulling="0001-01-01 00:00:00 +0000 UTC" '
                f'observedRunningTime="{G.go_time(c(p["status_end"]), mono(p["status_end"]))}" '
                f'watchObservedRunningTime="{G.go_time(c(t), mono(t))}"'
            )
            self.node_lines[n].append((c(t), txt))
            # SyncLoop ADD is logged at the same verbosity as the PLEG events and the DELETE/REMOVE records
            # (kubelet.go syncLoopIteration, klog.V(2).InfoS each): a log with those has the ADD too
            self.node_lines[n].append(
                (
                    c(seen),
                    f'{k.header("I", c(seen), pid, "kubelet.go:2415")}"SyncLoop ADD" '
                    f'source="api" pods=["{p["ns"]}/{p["name"]}"]',
                )
            )
            self.pleg_started_128(p, pid)
        else:
            caller = "kubelet.go:1908" if self.era == "1.14" else "kubelet.go:1781"
            self.node_lines[n].append(
                (
                    c(seen),
                    f'{k.header("I", c(seen), pid, caller)}SyncLoop (ADD, "api"): "{p["name"]}_{p["ns"]}({p["uid"]})"',
                )
            )
            self.rng.bytes(32)  # (the draw the record's Data once took; keeps the rest of the run as it was)
            # Data is the container's ID (pkg/kubelet/pleg/generic.go generateEvents), the one the
            # "Killing container" record names
            self.node_lines[n].append(
                (
                    c(p["pleg_started"]),
                    f"{k.header('I', c(p['pleg_started']), pid, 'kubelet.go:1953' if self.era == '1.14' else 'kubelet.go:1816')}"
                    f'SyncLoop (PLEG): "{p["name"]}_{p["ns"]}({p["uid"]})", event: &pleg.PodLifecycleEvent{{ID:"{p["uid"]}", Type:"ContainerStarted", Data:"{_cid(p)}"}}',
                )
            )
            # the sandbox's record (start_runtime's, or in the container's relist)
            t = _sandbox_record_at(self, p, "pleg_started", p.get("pleg_sandbox"))
            self.node_lines[n].append(
                (
                    c(t),
                    f"{k.header('I', c(t), pid, 'kubelet.go:1953' if self.era == '1.14' else 'kubelet.go:1816')}"
                    f'SyncLoop (PLEG): "{p["name"]}_{p["ns"]}({p["uid"]})", event: &pleg.PodLifecycleEvent{{ID:"{p["uid"]}", Type:"ContainerStarted", Data:"{_sandbox_id(p)}"}}',
                )
            )

    def progress(self, t_true, pods, total):
        created = sum(1 for p in pods if p["create"] <= t_true)
        running = sum(1 for p in pods if p["watch"] is not None and p["watch"] <= t_true)
        pending = sum(
            1
            for p in pods
            if p["create"] <= t_true
            and p.get("sched", 1 << 62) <= t_true
            and not (p["watch"] is not None and p["watch"] <= t_true)
        )
        waiting = created - running - pending
        self.logf(
            t_true,
            f"Density Pods: {created} out of {total} created, {running} running, {pending} pending, "
            f"{waiting} waiting, 0 inactive, 0 terminating, 0 unknown, 0 runningButNotReady ",
        )

    def latency_summary(self, t, lat_pods):
        era = self.era
        rows = []
        tc = self.test_clock
        for p in lat_pods:
            create = (p["create"] // S) * S  # creationTimestamp, master, whole s
            sched = (p["sched"] // S) * S  # Scheduled event first/eventTime → s
            run = (self.node_clock[p["node"]](p["run"]) // S) * S  # startedAt, node clock, whole s
            watch = tc(p["watch"])  # test clock, ns
            rows.append((p["rc"] + p["name"][len(p["rc"]) :], p["node"], create, sched, run, watch))
        names_old = [
            "worst schedule latencies",
            "worst run-after-schedule latencies",
            "worst watch latencies",
            "worst scheduled-to-end total latencies",
            "worst e2e total latencies",
        ]
        names_new = [
            "worst create-to-schedule latencies",
            "worst schedule-to-run latencies",
            "worst run-to-watch latencies",
            "worst schedule-to-watch latencies",
            "worst e2e latencies",
        ]
        names = names_old if era == "1.5" else names_new
        keys = ["create_to_schedule", "schedule_to_run", "run_to_watch", "schedule_to_watch", "pod_startup"]
        fns = [
            lambda r: r[3] - r[2],
            lambda r: r[4] - r[3],
            lambda r: r[5] - r[4],
            lambda r: r[5] - r[3],
            lambda r: r[5] - r[2],
        ]
        printed = {}
        n = len(rows)
        for nm, key, fn in zip(names, keys, fns):
            lst = sorted(((fn(r), r[0], r[1]) for r in rows), key=lambda x: x[0])
            worst = lst[(n * 9) // 10 :]
            self.logf(
                t,
                f"10% {nm}: ["
                + " ".join(f"{a} {b} {G.go_duration_zero_as_0(v)}".join("{}") for v, a, b in worst)
                + "]",
            )
            vals = [v for v, _, _ in lst]
            p50, p90, p99 = (nearest_rank(vals, q) for q in (0.5, 0.9, 0.99))
            self.logf(
                t,
                f"perc50: {G.go_duration_zero_as_0(p50)}, perc90: {G.go_duration_zero_as_0(p90)}, perc99: {G.go_duration_zero_as_0(p99)}",
            )
            printed[key] = {
                "p50_s": p50 / S,
                "p90_s": p90 / S,
                "p99_s": p99 / S,
                "p100_s": vals[-1] / S,
                "n": n,
                "p50": G.go_duration(p50),
                "p90": G.go_duration(p90),
                "p99": G.go_duration(p99),
            }
        e2e = printed["pod_startup"]
        if era == "1.5":
            self.logf(
                t,
                "Pod startup latency: "
                + json.dumps(
                    {
                        "latency": {
                            "Perc50": int(e2e["p50_s"] * S),
                            "Perc90": int(round(e2e["p90_s"] * S)),
                            "Perc99": int(round(e2e["p99_s"] * S)),
                            "Perc100": int(round(e2e["p100_s"] * S)),
                        }
                    },
                    indent=2,
                )
                + "\n",
            )
        mx = max(fns[4](r) for r in rows)
        self.logf(t + 1 * MS, f"Approx throughput: {repr(float(n) / (mx / S / 60.0))} pods/min")
        self.printed = printed
        # true phases (true clock, ns)
        true = {}
        for key, a, b in (
            ("create_to_schedule", "create", "sched"),
            ("schedule_to_run", "sched", "run"),
            ("run_to_watch", "run", "watch"),
            ("schedule_to_watch", "sched", "watch"),
            ("pod_startup", "create", "watch"),
        ):
            v = sorted(p[b] - p[a] for p in lat_pods)
            true[key] = {q: nearest_rank(v, x) / S for q, x in (("p50_s", 0.5), ("p90_s", 0.9), ("p99_s", 0.99))}
            true[key]["n"] = len(v)
        self.true_phases = true
        thr = 5 * S
        for q, word in (
            (50, "50th percentile"),
            (90, "90th percentile"),
            (99, "99th percentil" if era == "1.5" else "99th percentile"),
        ):
            v = int(round(e2e[f"p{q}_s"] * S))
            if v > thr:
                msg = f"too high pod startup latency {word}: {G.go_duration(v)}"
                self.failures.append({"kind": "slo", "phase": "latency", "message": msg})
                self.fail_t = t + 2 * MS
                break

    # ---------------------------------------------------------- issue 16: pod stop, teardown, polls
    # Kept apart from the rest of the simulation (clock-skew cases are added elsewhere).  Their random
    # draws come from a stream of their own, so the rest of a run is drawn as before.

    def _side_rng(self, stream: str = "rng16"):
        """Draw from the stream ``self.<stream>`` (as ``self.rng``, which every helper uses) while inside."""
        import contextlib

        @contextlib.contextmanager
        def swap():
            main, self.rng = self.rng, getattr(self, stream)
            try:
                yield
            finally:
                setattr(self, stream, self.rng)
                self.rng = main

        return swap()

    def pod_stop(self, p, t_del):
        """The first half of a pod's stop (:meth:`_pod_stop`); :meth:`stop_runtime` and :meth:`pod_stop_end`
        follow once every pod stopping together had its first half."""
        with self._side_rng():
            return self._pod_stop(p, t_del)

    def pod_stop_end(self, p):
        with self._side_rng():
            return self._pod_stop_end(p)

    def _pod_stop(self, p, t_del):
        """The pod's graceful DELETE ended at ``t_del`` (apiserver clock); what follows, from the source.

        * pkg/registry/core/pod/strategy.go ``CheckGracefulDelete``: a DELETE of a scheduled pod is
          graceful (``terminationGracePeriodSeconds``, 30 s by default): it only sets
          ``deletionTimestamp``, the object stays and the response is 200.  A pod not bound to a node
          is deleted at once (grace period 0): nothing else follows.
        * the kubelet sees the update on its watch (``SyncLoop (DELETE, "api")``), kills the
          containers (pkg/kubelet/kuberuntime/kuberuntime_container.go ``killContainer``: "Killing
          container with a grace period"), then the status manager writes the terminal status and,
          once ``canBeDeleted`` (phase terminal, pod termination finished), deletes the pod itself with
          ``GracePeriodSeconds: 0`` and a UID precondition (pkg/kubelet/status/status_manager.go
          ``syncPod``): the second ``DELETE pods/<name>`` → 200, by the kubelet (``SyncLoop (REMOVE,
          "api")`` when its watch sees the object gone).
        * a hung kubelet does none of this: the pod stays (terminating) and its containers, if any, run on.

        Sets ``p["graceful_delete"]`` and, when the containers stop, ``p["stop"]`` (truth: the end of
        the pod's load) and ``p["final_delete"]``.
        """
        rng = self.rng
        p["graceful_delete"] = t_del
        p["stop"] = p["final_delete"] = None
        if p.get("run") is None or p["node"] in getattr(self, "hung_nodes", ()):
            return
        seen = t_del + int((5 + rng.exponential(30)) * MS)
        p["stop_seen"] = seen
        # the kubelet's StopContainer call (right after its Killing event): a fake CRI runtime stops the
        # container as it is called, a fake Docker client when the call takes its mutex (stop_runtime)
        p["stop_call"] = p["stop"] = seen + int((20 + rng.exponential(40)) * MS)

    def _pod_stop_end(self, p):
        """What follows the container stop: the PLEG's record, the terminal status, the final delete."""
        if p.get("stop") is None:
            return
        rng = self.rng
        node = p["node"]
        # each request is sent after what it reports (the terminal status after the containers stopped,
        # the final delete after that status write returned: status_manager.go syncPod) and answered
        # one request latency later.  The PLEG sees the containers die at its next relist.  Up to 1.21
        # the kubelet's syncPod kills the containers and returns; the terminal status comes from the
        # sync that PLEG ContainerDied triggers (pkg/kubelet/kubelet.go syncPod: "Kill pod if it should
        # not be running"), so it trails the stop by the relist.  From 1.22 syncTerminatingPod kills
        # them, reads the runtime's status itself and sets the terminal status at once.
        if "pleg_died" not in p:  # a fake CRI runtime (else stop_runtime)
            p["pleg_died"] = self.relist_after(node, p["stop"])
        after = p["stop"] if self.era == "1.28" else p["pleg_died"]
        sent = after + int(rng.integers(3, 20) * MS)
        lat = self.latency("patch", sent)
        st = self.add(
            sent + lat,
            "PATCH" if self.era != "1.5" else "PUT",
            f"/api/v1/namespaces/{p['ns']}/pods/{p['name']}/status",
            "kubelet",
            "patch",
            lat=lat,
            node=node,
        )
        sent = st + int(rng.integers(1, 6) * MS)
        lat = self.latency("delete", sent)
        p["final_delete"] = self.add(
            sent + lat,
            "DELETE",
            f"/api/v1/namespaces/{p['ns']}/pods/{p['name']}",
            "kubelet",
            "delete",
            lat=lat,
            node=node,
        )
        self.kubelet_stop_lines(p, p["stop_seen"])

    def kubelet_stop_lines(self, p, seen):
        """The kubelet's records of a pod's stop (pkg/kubelet/kubelet.go ``syncLoopIteration`` DELETE /
        REMOVE, kuberuntime_container.go ``killContainer``), on the node's clock."""
        n = p["node"]
        c = self.node_clock[n]
        k = G.KlogClock()
        pid = 1 + self.nodes.index(n) * 7 + 3000
        # killContainer: the kill record (and from 1.6 the Killing event), then StopContainer, which stops the
        # container as it is called on a fake CRI runtime, when it gets the client's mutex on a fake Docker
        # client (stop_runtime); 1.5 makes the Killing event once StopContainer returned (_killing_at)
        kill_t = p["stop_call"] - int(self.rng.integers(100_000, 1_000_000))
        p["kill"] = kill_t
        rm_t = p["final_delete"] + int(self.rng.integers(2, 20) * MS)
        cname = _container_name(p)
        cid = _cid(p)
        died = p["pleg_died"]
        # the sandbox stops after the containers (killPodWithSyncResult: StopPodSandbox): on a fake CRI runtime
        # within the same relist, its record after the container's; on a fake Docker client when it does
        sb_died = _sandbox_record_at(self, p, "pleg_died", p.get("pleg_sandbox_died"))
        if self.era == "1.28":
            lines = [
                (seen, "kubelet.go:2450", f'"SyncLoop DELETE" source="api" pods=["{p["ns"]}/{p["name"]}"]'),
                (
                    died,
                    "kubelet.go:2263",
                    f'"SyncLoop (PLEG): event for pod" pod="{p["ns"]}/{p["name"]}" '
                    f'event={{"ID":"{p["uid"]}","Type":"ContainerDied","Data":"{cid}"}}',
                ),
                (
                    sb_died,
                    "kubelet.go:2263",
                    f'"SyncLoop (PLEG): event for pod" pod="{p["ns"]}/{p["name"]}" '
                    f'event={{"ID":"{p["uid"]}","Type":"ContainerDied","Data":"{_sandbox_id(p)}"}}',
                ),
                (
                    kill_t,
                    "kuberuntime_container.go:742",
                    f'"Killing container with a grace period" pod="{p["ns"]}/{p["name"]}" podUID="{p["uid"]}" '
                    f'containerName="{cname}" containerID="containerd://{cid}" gracePeriod=30',
                ),
                (rm_t, "kubelet.go:2444", f'"SyncLoop REMOVE" source="api" pods=["{p["ns"]}/{p["name"]}"]'),
            ]
        else:
            ref = f'"{p["name"]}_{p["ns"]}({p["uid"]})"'
            lines = [
                (
                    seen,
                    "kubelet.go:1924" if self.era == "1.14" else "kubelet.go:1790",
                    f'SyncLoop (DELETE, "api"): {ref}',
                ),
                (
                    kill_t,
                    "kuberuntime_container.go:581" if self.era == "1.14" else "docker_manager.go:1457",
                    f'Killing container "docker://{cid}" with 30 second grace period',
                ),
                (
                    died,
                    "kubelet.go:1953" if self.era == "1.14" else "kubelet.go:1816",
                    f'SyncLoop (PLEG): {ref}, event: &pleg.PodLifecycleEvent{{ID:"{p["uid"]}", '
                    f'Type:"ContainerDied", Data:"{cid}"}}',
                ),
                (
                    sb_died,
                    "kubelet.go:1953" if self.era == "1.14" else "kubelet.go:1816",
                    f'SyncLoop (PLEG): {ref}, event: &pleg.PodLifecycleEvent{{ID:"{p["uid"]}", '
                    f'Type:"ContainerDied", Data:"{_sandbox_id(p)}"}}',
                ),
                (
                    rm_t,
                    "kubelet.go:1918" if self.era == "1.14" else "kubelet.go:1784",
                    f'SyncLoop (REMOVE, "api"): {ref}',
                ),
            ]
        if self.era != "1.28":  # the old "Killing container" record names the container, not the pod
            self.unnamed_kubelet_lines[n] += 1
        for t, caller, msg in lines:
            self.node_lines[n].append((c(t), f"{k.header('I', c(t), pid, caller)}{msg}"))

    def pleg_started_128(self, p, pid):
        with self._side_rng():
            return self._pleg_started_128(p, pid)

    def _pleg_started_128(self, p, pid):
        """1.28 kubelet: the PLEG ``ContainerStarted`` event record (pkg/kubelet/kubelet.go
        ``syncLoopIteration``: ``klog.V(2).InfoS("SyncLoop (PLEG): event for pod", "pod", klog.KObj(pod),
        "event", e)``), just after the container started, on the node's clock."""
        n = p["node"]
        c = self.node_clock[n]
        k = G.KlogClock()
        t = p["pleg_started"]
        self.rng.bytes(32)  # (the draw the record's Data once took)
        # the container's record, then the sandbox's (sandbox_relist)
        for at, data in (
            (t, _cid(p)),
            (_sandbox_record_at(self, p, "pleg_started", p.get("pleg_sandbox")), _sandbox_id(p)),
        ):
            self.node_lines[n].append(
                (
                    c(at),
                    f'{k.header("I", c(at), pid, "kubelet.go:2263")}"SyncLoop (PLEG): event for pod" '
                    f'pod="{p["ns"]}/{p["name"]}" event={{"ID":"{p["uid"]}","Type":"ContainerStarted",'
                    f'"Data":"{data}"}}',
                )
            )

    def found_pod_poll(self, p):
        with self._side_rng():
            return self._found_pod_poll(p)

    def _found_pod_poll(self, p):
        """``Found pod 'RC' running`` (test/e2e density.go ``createRunningPodFromRC``) is logged when
        ``WaitForControlledPodsRunning`` returns: a ``wait.Poll`` with the framework's ``Poll = 2 *
        time.Second`` (test/e2e/framework/util.go) listing the RC's pods each tick, first tick 2 s after
        the RC create.  The line is up to 2 s (+ the list) after the pod ran: a 2 s resolution."""
        rng = self.rng
        tick = p["rc_t"]
        while True:
            tick += 2 * S
            lat = self.latency("list", tick)
            end = self.add(
                tick + lat, "GET", f"/api/v1/namespaces/{p['ns']}/pods?labelSelector=name%3D{p['rc']}", "e2e", lat=lat
            )
            if p["status_end"] <= tick:
                break
        p["found"] = end + int(rng.integers(100_000, 2 * MS))
        self.logf(p["found"], f"Found pod '{p['rc']}' running", test_true=True)

    def namespace_teardown(self, t, ns, pods):
        with self._side_rng():
            return self._namespace_teardown(t, ns, pods)

    def _namespace_teardown(self, t, ns, pods):
        """A failed spec: the framework's AfterEach destroys the namespace (test/e2e/framework/framework.go
        ``deleteNamespace`` → ``DELETE /api/v1/namespaces/<ns>``); the namespace controller then deletes
        every pod of it with one DELETECOLLECTION (pkg/controller/namespace/deletion/
        namespaced_resources_deleter.go ``deleteCollection``: ``DELETE /api/v1/namespaces/<ns>/pods``),
        which the registry turns into a graceful delete of each pod (staging/src/k8s.io/apiserver/pkg/
        registry/generic/registry/store.go ``DeleteCollection`` calls ``Delete`` per item); the kubelets
        then stop the pods and delete them finally (:meth:`pod_stop`).  The framework polls the namespace
        every 2 s until it is gone."""
        self.hung_nodes = set(self.failures[0].get("stalled_nodes", ())) if self.failures else set()
        # density's cleanupDensityTest (RC deletes, GC) is the It's last statement (test/e2e/scalability/
        # density.go): after a saturation failure only the AfterEach blocks run, then the namespace goes
        self.step(t, "Collecting resource usage data")
        self.logf(t + 10 * MS, "Waiting up to 3m0s for all (but 0) nodes to be ready")
        t = self.add(t + 30 * MS, "GET", "/api/v1/nodes", "e2e", "list") + 100 * MS
        self.step(t, f'Destroying namespace "{ns}" for this suite.')
        t = self.add(t + 50 * MS, "DELETE", f"/api/v1/namespaces/{ns}", "e2e", "delete")
        # the registry's DeleteCollection lists the pods (storage key order: by name) and deletes them one by
        # one (staging/src/k8s.io/apiserver/pkg/registry/generic/registry/store.go DeleteCollection: items fed
        # in list order to --delete-collection-workers goroutines, 1 by default; each a graceful Delete, a
        # GuaranteedUpdate that watchers see when it commits): the kubelets see each pod's deletion while
        # the call is still running, and the call returns after the last one
        recv = t + int(self.rng.integers(20, 80) * MS)
        td = recv + self.latency("list", recv)
        deleted = []
        for p in sorted(pods, key=lambda q: q["name"]):
            td += int(self.rng.integers(800_000, 4 * MS))
            deleted.append((p, td))
        end = td + int(self.rng.integers(1 * MS, 5 * MS))
        dc = self.add(end, "DELETE", f"/api/v1/namespaces/{ns}/pods", "nsc", "list", lat=end - recv)
        self.teardown = {
            "namespace": ns,
            "namespace_delete": t,
            "deletecollection": dc,
            "deletecollection_received": recv,
        }
        for p, td in deleted:
            self.pod_stop(p, td)
        self.stop_runtime(pods)
        for p in pods:
            self.pod_stop_end(p)
        self._delete_times = np.array(sorted(p["stop"] for p in pods if p.get("stop")), dtype=np.int64)
        end = max([p["final_delete"] or 0 for p in pods] + [dc]) + 1 * S
        tt = t + 2 * S
        while tt < end:
            self.add(tt, "GET", f"/api/v1/namespaces/{ns}", "e2e", "get")
            tt += 2 * S
        self.T_end = tt + 1 * S

    def background(self, t0, t1):
        """Node status/leases, long watches, probes over [t0, t1] (scaled by --scale)."""
        rng = self.rng
        era = self.era
        per = 10 * S / self.scale
        for n in self.nodes:
            t = t0 + int(rng.integers(0, int(per)))
            while t < t1:
                if era == "1.28":
                    self.add(
                        t,
                        "PUT",
                        f"/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/{n}?timeout=10s",
                        "kubelet",
                        "update",
                        node=n,
                    )
                    self.add(
                        t + int(rng.integers(1, 4) * MS),
                        "PATCH",
                        f"/api/v1/nodes/{n}/status?timeout=10s",
                        "kubelet",
                        "patch",
                        node=n,
                    )
                elif era == "1.14":
                    self.add(
                        t,
                        "PUT",
                        f"/apis/coordination.k8s.io/v1beta1/namespaces/kube-node-lease/leases/{n}?timeout=10s",
                        "kubelet",
                        "update",
                        node=n,
                    )
                    self.add(
                        t + int(rng.integers(1, 4) * MS),
                        "PATCH",
                        f"/api/v1/nodes/{n}/status",
                        "kubelet",
                        "patch",
                        node=n,
                    )
                else:
                    self.add(t, "GET", f"/api/v1/nodes/{n}?resourceVersion=0", "kubelet", "get", node=n)
                    self.add(
                        t + int(rng.integers(1, 4) * MS),
                        "PUT",
                        f"/api/v1/nodes/{n}/status",
                        "kubelet",
                        "update",
                        node=n,
                    )
                t += int(per * (0.95 + 0.1 * rng.random()))
            # long watch of own pods, logged at end
            for wt in range(int(t0 + 300 * S), int(t1), int(400 * S)):
                self.add(
                    wt,
                    "GET",
                    self._watch_uri(f"fieldSelector=spec.nodeName%3D{n}"),
                    "kubelet",
                    watch_s=300 + 100 * rng.random(),
                    node=n,
                )
            self.add(
                t1 - int(rng.integers(0, S)),
                "GET",
                self._watch_uri(f"fieldSelector=spec.nodeName%3D{n}"),
                "kubelet",
                watch_s=(t1 - t0) / S * 0.9,
                node=n,
            )
        if self.scale > 1:  # --scale K: extra kubelet/e2e read+write traffic, (K-1)*20 req/s per node
            n_extra = int((self.scale - 1) * 20 * self.nodes_n * (t1 - t0) / S)
            ends = np.sort(rng.integers(t0, t1, n_extra))
            which = rng.integers(0, 4, n_extra)
            nidx = rng.integers(0, self.nodes_n, n_extra)
            pods = [p for p in self.pods] or [None]
            pidx = rng.integers(0, len(pods), n_extra)
            for e, w, ni, pi in zip(ends.tolist(), which.tolist(), nidx.tolist(), pidx.tolist()):
                n = self.nodes[ni]
                p = pods[pi]
                if w == 0 and p:
                    self.add(e, "GET", f"/api/v1/namespaces/{p['ns']}/pods/{p['name']}", "kubelet", "get", node=n)
                elif w == 1:
                    self.add(e, "GET", f"/api/v1/nodes/{n}", "kubelet", "get", node=n)
                elif w == 2 and p:
                    self.add(
                        e, "GET", f"/api/v1/namespaces/{p['ns']}/pods?labelSelector=name%3D{p['rc']}", "e2e", "list"
                    )
                else:
                    self.add(
                        e, "GET", f"/api/v1/namespaces/{self.ns}/configmaps/kube-root-ca.crt", "kubelet", "get", node=n
                    )
        t = t0
        while t < t1:
            self.add(t, "GET", "/healthz", "probe", "nonres")
            t += int(per)
        for c, res in (("sched", "pods"), ("sched", "nodes"), ("kcm", "replicationcontrollers"), ("kcm", "pods")):
            self.add(t1 - int(rng.integers(0, 2 * S)), "GET", self._watch_uri("", res), c, watch_s=(t1 - t0) / S * 0.95)
            self.add(
                t0 + int(rng.integers(0, S)),
                "GET",
                f"/api/v1/{res}" + ("?limit=500&resourceVersion=0" if self.era != "1.5" else "?resourceVersion=0"),
                c,
                "bigl",
            )

    def _watch_uri(self, sel, res="pods"):
        rv = int(self.rng.integers(1000, 900000))
        if self.era == "1.5":
            return f"/api/v1/watch/{res}?" + (sel + "&" if sel else "") + f"resourceVersion={rv}&timeoutSeconds=478"
        return (
            f"/api/v1/{res}?"
            + (sel + "&" if sel else "")
            + f"resourceVersion={rv}&timeout=7m58s&timeoutSeconds=478&watch=true"
        )

    def inject_errors(self):
        """A few 429s (e2e/kcm at high load) and 5xx (with stack traces)."""
        rng = self.rng
        cand = [
            r
            for r in self.reqs
            if r["client"] in ("kcm", "e2e")
            and r["code"] in (200, 201)
            and not r["uri"].endswith("/pods")
            and r["method"] != "DELETE"
        ]
        k429 = max(2, len(cand) // 400)
        for i in rng.choice(len(cand), size=min(k429, len(cand)), replace=False):
            r = cand[i]
            r["code"] = 429
            r["lat"] = int(rng.integers(40_000, 900_000))
        cand = [
            r
            for r in self.reqs
            if r["code"] == 200 and r["method"] == "GET" and r["client"] != "probe" and "watch" not in r["uri"]
        ]
        for i in rng.choice(len(cand), size=min(3, len(cand)), replace=False):
            cand[i]["code"] = 500 if rng.random() < 0.7 else 503
        self.failures.append(
            {"kind": "injected_http_errors", "count_429": int(k429), "count_5xx": int(min(3, len(cand)))}
        )


def _cid(p) -> str:
    """A pod's container ID (64 hex digits, as docker and containerd give them)."""
    return p["uid"].replace("-", "") * 2


def _sandbox_id(p) -> str:
    """The ID of the pod's sandbox (its infra container before 1.6): another 64 hex digits."""
    import hashlib

    return hashlib.sha256(p["uid"].encode()).hexdigest()


def _sandbox_record_at(sim, p, key: str, own) -> int:
    """True ns of the sandbox's PLEG record: ``own`` when an earlier relist saw the sandbox alone, else just
    after the container's record ``p[key]`` (the same relist: containers first, then sandboxes)."""
    return own if own is not None else p[key] + int(sim.rng_sandbox.integers(15_000, 90_000))


def _f32(x: float) -> str:
    """Go %v of a float32 (shortest repr of the float32 value)."""
    f = float(np.float32(x))
    s = np.format_float_positional(np.float32(f), unique=True, trim="-")
    return s if "." in s or "e" in s else s


STACK_BC = [
    "goroutine {g} [running]:",
    "k8s.io/kubernetes/vendor/k8s.io/apiserver/pkg/server/httplog.(*respLogger).recordStatus(0xc4{h}, 0x1f4)",
    "\t/go/src/k8s.io/kubernetes/_output/dockerized/go/src/k8s.io/kubernetes/vendor/k8s.io/apiserver/pkg/server/httplog/httplog.go:207 +0xdd",
    "k8s.io/kubernetes/vendor/k8s.io/apiserver/pkg/server/httplog.(*respLogger).WriteHeader(0xc4{h}, 0x1f4)",
    "\t/go/src/k8s.io/kubernetes/_output/dockerized/go/src/k8s.io/kubernetes/vendor/k8s.io/apiserver/pkg/server/httplog/httplog.go:186 +0x35",
]
STACK_G = [
    "goroutine {g} [running]:",
    "k8s.io/apiserver/pkg/server/httplog.(*respLogger).recordStatus(0xc00{h}, 0x1f4)",
    "\tk8s.io/apiserver/pkg/server/httplog/httplog.go:321 +0x8b",
    "k8s.io/apiserver/pkg/server/httplog.(*respLogger).WriteHeader(0xc00{h}, 0x1f4)",
    "\tk8s.io/apiserver/pkg/server/httplog/httplog.go:301 +0x26",
]


def write_run(sim: Sim, out: Path, wrap=None) -> dict:
    era = sim.era
    E = sim.E
    pid = E["pid"]
    rng = sim.rng
    files = {}
    # ---------------- apiserver access log + traces + messages
    reqs = sim.reqs
    for r in reqs:
        r["hts"] = (r["end"] // 1000) * 1000
        r["info"] = classify(r["method"], r["uri"])
        r["w"] = r["end"] + int(rng.integers(0, 40_000))  # write time (order), header = end
    reqs.sort(key=lambda r: r["w"])
    recs = []  # (write_ns, text, kind)
    k = G.KlogClock()
    counts = Counter()
    tid_base = int(rng.integers(1, 2**31 - 1))
    for i, r in enumerate(reqs):
        ua = sim.ua[r["client"]]
        lat = G.go_duration(r["lat"])
        code = r["code"]
        info = r["info"]
        hts = r["hts"]
        if era == "1.28":
            verb = logged_verb_128(r["method"], info)
            apf = ""
            if code != 429 or True:
                pl, fs = {
                    "kubelet": ("system", "system-nodes"),
                    "sched": ("workload-high", "kube-scheduler"),
                    "kcm": ("workload-high", "kube-system-service-accounts"),
                    "gc": ("workload-high", "kube-system-service-accounts"),
                    "e2e": ("global-default", "global-default"),
                    "probe": ("exempt", "probes"),
                    "nsc": ("workload-high", "kube-system-service-accounts"),
                }[r["client"]]
                if code == 429:
                    apf = f'apf_pl="{pl}" apf_fs="{fs}" '
                elif pl == "exempt":
                    apf = f'apf_pl="{pl}" apf_fs="{fs}" apf_execution_time="{G.go_duration(r["lat"] * 7 // 10)}" '
                else:
                    init = f'apf_init_latency="{G.go_duration(180_000 + i % 97_000)}" ' if verb == "WATCH" else ""
                    ex = 190_000 + i % 97_000 if verb == "WATCH" else r["lat"] * 9 // 10
                    apf = (
                        f'apf_pl="{pl}" apf_fs="{fs}" apf_iseats=1 apf_fseats=0 apf_additionalLatency="0s" '
                        f'{init}apf_execution_time="{G.go_duration(ex)}" '
                    )
            first = (
                f'{k.header("I", hts, pid, E["acc_caller"])}"HTTP" verb="{verb}" URI="{r["uri"]}" latency="{lat}" '
                f'userAgent="{ua}" audit-ID="{r["aid"]}" srcIP="{r["src"]}" {apf}resp={code}'
            )
            if code >= 500:
                lines = (
                    [first + " statusStack=<", "\t"]
                    + ["\t" + s.format(g=1000 + i, h=f"{i:06x}") for s in STACK_G]
                    + [" >"]
                )
            else:
                lines = [first]
        else:
            tail = f"[[{ua}] {r['src']}]" if era == "1.5" else f"[{ua} {r['src']}]"
            first = f"{k.header('I', hts, pid, E['acc_caller'])}{r['method']} {r['uri']}: ({lat}) {code}"
            if code >= 500:
                body = json.dumps(
                    {
                        "kind": "Status",
                        "apiVersion": "v1",
                        "metadata": {},
                        "status": "Failure",
                        "message": "etcdserver: request timed out",
                        "code": code,
                    },
                    separators=(",", ":"),
                )
                lines = (
                    [first]
                    + [s.format(g=1000 + i, h=f"{i:06x}") for s in STACK_BC]
                    + ["", "logging error output: " + json.dumps(body + "\n"), " " + tail]
                )
            else:
                lines = [first + " " + tail]
        if r["lat"] > 500 * MS and not info["long_running"] and code < 400:
            recs.append((r["w"] - 1, _trace(sim, r, k, tid_base + i), "trace"))
        recs.append((r["w"], "\n".join(lines), "access"))
    # a few other apiserver messages
    for j, t in enumerate(range(sim.T0 + 7 * S, sim.T_end, 37 * S)):
        if era == "1.28":
            txt = (
                k.header("I", t, pid, "get.go:261")
                + f'"Starting watch" path="/api/v1/namespaces/{sim.ns}/pods" resourceVersion="{1000 + j * 17}" labels="type=densityPod" fields="" timeout="8m{j % 60}s"'
            )
        else:
            txt = (
                k.header("I", t, pid, "controller.go:107" if era == "1.14" else "handlers.go:153")
                + "OpenAPI AggregationController: Processing item k8s_internal_local_delegation_chain_0000000000"
            )
        recs.append((t, txt, "message"))
    recs.append(
        (
            sim.T0 + 3 * S,
            k.header("W", sim.T0 + 3 * S, pid, "lease.go:222" if era != "1.5" else "controller.go:386")
            + 'Resetting endpoints for master service "kubernetes" to [10.40.0.2]',
            "message",
        )
    )
    recs.sort(key=lambda x: x[0])
    ap_name = "kube-apiserver.log"
    nlines = 0
    cont = 0
    with open(out / ap_name, "w", encoding="utf-8", newline="\n") as f:
        for w, txt, kind in recs:
            phys = txt.split("\n")
            counts[kind] += 1
            nlines += len(phys)
            cont += len(phys) - 1
            if wrap == "cri":
                phys = [f"{G.rfc3339_nano(w + 30_000 + j)} stderr F {ln}" for j, ln in enumerate(phys)]
            elif wrap == "syslog":
                phys = [G.syslog_prefix(w, "kubemark-master", "kube-apiserver") + ln for ln in phys]
            f.write("\n".join(phys) + "\n")
    files[ap_name] = {
        "lines": nlines,
        "access_records": counts["access"],
        "trace_blocks": counts["trace"],
        "messages": counts["message"],
        "continuation_lines": cont,
        "wrapper": wrap or "none",
    }
    ne = write_events(sim, out)  # (its own stream) names the Scheduled events the audit log's POSTs carry
    # ---------------- audit
    if E["audit"]:
        user = {
            "kubelet": lambda r: (f"system:node:{r['node']}", ["system:nodes", "system:authenticated"]),
            "sched": lambda r: ("system:kube-scheduler", ["system:authenticated"]),
            "kcm": lambda r: (
                "system:serviceaccount:kube-system:replication-controller",
                ["system:serviceaccounts", "system:serviceaccounts:kube-system", "system:authenticated"],
            ),
            "gc": lambda r: (
                "system:serviceaccount:kube-system:generic-garbage-collector",
                ["system:serviceaccounts", "system:serviceaccounts:kube-system", "system:authenticated"],
            ),
            "nsc": lambda r: (
                "system:serviceaccount:kube-system:namespace-controller",
                ["system:serviceaccounts", "system:serviceaccounts:kube-system", "system:authenticated"],
            ),
            "e2e": lambda r: ("kubecfg", ["system:masters", "system:authenticated"]),
            "probe": lambda r: ("system:anonymous", ["system:unauthenticated"]),
        }
        events = []
        for r in reqs:
            info = r["info"]
            un, gr = user[r["client"]](r)
            ev = {
                "kind": "Event",
                "apiVersion": "audit.k8s.io/v1",
                "level": "Metadata",
                "auditID": r["aid"],
                "stage": "ResponseComplete",
                "requestURI": r["uri"],
                "verb": info["verb"],
                "user": {"username": un, "groups": gr},
                "sourceIPs": [r["src"].rsplit(":", 1)[0].strip("[]")],
                "userAgent": sim.ua[r["client"]],
            }
            if info["scope"] != "nonresource":
                ob = {"resource": info["resource"]}
                if info["namespace"]:
                    ob["namespace"] = info["namespace"]
                # the URI's name, else the request object's: LogRequestObject (staging/src/k8s.io/apiserver/
                # pkg/audit/request.go) fills an empty objectRef.name from the decoded object's metadata at
                # Metadata level and above -- a create of a named object (the e2e's RCs, every Event) carries
                # it; a generateName create (the RC manager's pods) has none yet
                name = info["name"] or r.get("obj_name") or _scheduled_event_name(r)
                if name:
                    ob["name"] = name
                if "/apis/coordination.k8s.io/" in r["uri"]:
                    ob["apiGroup"] = "coordination.k8s.io"
                    ob["apiVersion"] = "v1" if era == "1.28" else "v1beta1"
                else:
                    ob["apiVersion"] = "v1"
                if info["subresource"]:
                    ob["subresource"] = info["subresource"]
                ev["objectRef"] = ob
            ev["responseStatus"] = {"metadata": {}, "code": r["code"]}
            if r["code"] == 403 and name:  # the admission refusal's Status (NamespaceLifecycle)
                ev["responseStatus"] = {
                    "metadata": {},
                    "status": "Failure",
                    "message": f'{info["resource"]} "{name}" is forbidden: unable to create new content in '
                    f"namespace {info['namespace']} because it is being terminated",
                    "reason": "Forbidden",
                    "details": {"name": name, "kind": info["resource"]},
                    "code": 403,
                }
            if getattr(sim, "audit_responses", False) and r.get("pod") is not None and r["code"] == 201:
                # the GCE audit policy logs core resources at RequestResponse by default (kubernetes
                # cluster/gce/gci/configure-helper.sh, "Default level for known APIs"); the RC manager
                # creates pods with generateName (pkg/controller/controller_utils.go
                # GetPodFromTemplate), so objectRef carries no name (audit/request.go LogRequestObject
                # fills it from the request object) and the name is in the responseObject only
                p = r["pod"]
                ev["level"] = "RequestResponse"
                meta = {"generateName": p["rc"] + "-", "namespace": p["ns"]}
                ev["requestObject"] = {"kind": "Pod", "apiVersion": "v1", "metadata": meta}
                ev["responseObject"] = {
                    "kind": "Pod",
                    "apiVersion": "v1",
                    "metadata": {
                        "name": p["name"],
                        **meta,
                        "uid": p["uid"],
                        "creationTimestamp": G.rfc3339_sec(p["create"]),
                    },
                }
            start = r["end"] - r["lat"]
            ev["requestReceivedTimestamp"] = G.rfc3339_micro(start)
            ev["annotations"] = {"authorization.k8s.io/decision": "allow", "authorization.k8s.io/reason": ""}
            if info["long_running"]:
                e1 = dict(ev, stage="ResponseStarted", stageTimestamp=G.rfc3339_micro(start + 300_000))
                e1.pop("responseStatus")
                e1 = {kk: e1[kk] for kk in list(ev.keys()) if kk in e1} | {"stageTimestamp": e1["stageTimestamp"]}
                events.append((start + 300_000, e1))
            ev = {kk: v for kk, v in ev.items() if kk != "annotations"} | {
                "stageTimestamp": G.rfc3339_micro(r["end"]),
                "annotations": ev["annotations"],
            }
            events.append((r["end"], ev))
        events.sort(key=lambda x: x[0])
        with open(out / "audit.log", "w", encoding="utf-8", newline="\n") as f:
            for _, ev in events:
                f.write(json.dumps(ev, separators=(",", ":"), ensure_ascii=False).replace("&", "\\u0026") + "\n")
        files["audit.log"] = {
            "lines": len(events),
            "events": len(events),
            "response_complete": sum(1 for _, e in events if e["stage"] == "ResponseComplete"),
        }
    # ---------------- scheduler, hollow nodes
    sl = sorted(sim.sched_lines)
    with open(out / "kube-scheduler.log", "w", encoding="utf-8", newline="\n") as f:
        head = k.header(
            "I",
            sim.T0 + 1 * S,
            1 if era != "1.5" else 3127,
            "leaderelection.go:217" if era != "1.5" else "leaderelection.go:188",
        )
        f.write(head + "successfully acquired lease kube-system/kube-scheduler\n")
        for _, txt in sl:
            f.write(txt + "\n")
    files["kube-scheduler.log"] = {"lines": len(sl) + 1, "bind_records": len(sl)}
    for n, rel in skewcases.node_log_files(sim):
        ls = sorted(sim.node_lines[n])
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        with open(out / rel, "w", encoding="utf-8", newline="\n") as f:
            for _, txt in ls:
                f.write(txt + "\n")
        files[rel] = {"lines": len(ls), "pod_records": len(ls) - sim.unnamed_kubelet_lines.get(n, 0)}
    # ---------------- pods.json (snapshot before namespace deletion), events.json
    write_pods(sim, out)
    files["pods.json"] = {"items": sum(1 for p in sim.pods if p["create"] <= sim.pod_dump_time)}
    files["events.json"] = {"items": ne}
    # ---------------- e2e log + junit (or the clusterloader2 log: skewcases)
    if getattr(sim, "cl2", False):
        files.update(skewcases.write_cl2_log(sim, out))
        return files
    ne2e = write_e2e(sim, out)
    files["e2e.log"] = {"lines": ne2e}
    write_junit(sim, out)
    files["junit_01.xml"] = {"testcases": 1}
    return files


def write_cl2_log(sim, out) -> dict:
    """clusterloader2's log of its pod start-up measurements over the latency pods (issue 16), written by
    the test host (test clock), and one measurement that saw no pod.

    perf-tests clusterloader2 pkg/measurement/common/slos/pod_startup_latency.go: each phase's instant is
    the time its watch *received* the pod in that state (``recvTime``): create when first seen, schedule
    when it has a node, run when it is running — and ``watchPhase`` is "now equivalent to runPhase", so
    run_to_watch is 0.  phase_latency.go prints, per transition, ``<Id>: <n> worst <metric> latencies:
    [{ns/pod d} …]`` (the 100 slowest) and ``<Id>: perc50: .., perc90: .., perc99: ..; threshold T``; a
    measurement whose selector matched no pod prints ``0 worst … latencies: []`` and 0 s percentiles."""
    rng = sim.rng16
    tc = sim.test_clock
    lat = [p for p in sim.pods if p["latency"] and p.get("watch") is not None]
    k = G.KlogClock()
    pid = 10234
    seen = {}
    for p in lat:  # the watch delivers each update a few ms after it was stored
        d = lambda: int(rng.integers(1, 15) * MS)  # noqa: E731
        seen[p["name"]] = {
            "create": p["create"] + d(),
            "schedule": p["sched"] + d(),
            "run": p["watch"],
            "watch": p["watch"],
        }
    t = (max(p["watch"] for p in lat) if lat else sim.T_end) + 2 * S
    lines = [f"{k.header('I', tc(sim.T0 + S), pid, 'clusterloader.go:105')}ClusterConfig.Nodes set to {sim.nodes_n}"]
    truth = {}
    for ident, pods in (("PodStartupLatency", lat), ("StatefulPodStartupLatency", [])):
        for metric, a, b in (
            ("create_to_schedule", "create", "schedule"),
            ("schedule_to_run", "schedule", "run"),
            ("run_to_watch", "run", "watch"),
            ("schedule_to_watch", "schedule", "watch"),
            ("pod_startup", "create", "watch"),
        ):
            vals = sorted(
                ((seen[p["name"]][b] - seen[p["name"]][a], p) for p in pods), key=lambda x: (x[0], x[1]["name"])
            )
            worst = vals[-100:]
            body = " ".join(f"{{{p['ns']}/{p['name']} {G.go_duration_zero_as_0(v)}}}" for v, p in worst)
            t += 100_000
            lines.append(
                f"{k.header('I', tc(t), pid, 'phase_latency.go:122')}{ident}: {len(worst)} worst {metric} "
                f"latencies: [{body}]"
            )
            v = [x for x, _ in vals]
            q = [nearest_rank(v, x) if v else 0 for x in (0.5, 0.9, 0.99)]
            t += 100_000
            lines.append(
                f"{k.header('I', tc(t), pid, 'phase_latency.go:127')}{ident}: perc50: {G.go_duration_zero_as_0(q[0])}, "
                f"perc90: {G.go_duration_zero_as_0(q[1])}, perc99: {G.go_duration_zero_as_0(q[2])}; threshold 5s"
            )
            truth.setdefault(ident, {})[metric] = (
                {"n": len(v), **{f"p{c}_s": x / S for c, x in zip((50, 90, 99), q)}} if v else {"n": 0}
            )
    (out / "clusterloader2.log").write_text("\n".join(lines) + "\n", encoding="utf-8")
    sim.cl2_truth = truth
    return {"lines": len(lines), "measurements": truth}


def _trace(sim, r, k, tid):
    era = sim.era
    E = sim.E
    info = r["info"]
    start = r["end"] - r["lat"]
    tot = r["lat"] - int(sim.rng.integers(10_000, 300_000))
    tend = start + tot
    name = {
        "list": "List",
        "get": "Get",
        "create": "Create",
        "patch": "Patch",
        "update": "Update",
        "delete": "Delete",
    }.get(info["verb"], "List")
    path = r["uri"].split("?")[0]
    hts = r["end"] - 20_000
    if era == "1.5":
        return "\n".join(
            [
                f'{k.header("I", hts, E["pid"], E["trace_caller"])}Trace "{name} {path}" (started {G.go_time(start)}):',
                f"[{G.go_duration(40_000)}] [{G.go_duration(40_000)}] About to {name.lower()} directory",
                f"[{G.go_duration(tot - 50_000)}] [{G.go_duration(tot - 90_000)}] {name} extracted",
                f"[{G.go_duration(tot)}] [{G.go_duration(50_000)}] END",
            ]
        )
    if era == "1.14":
        return "\n".join(
            [
                f'{k.header("I", hts, E["pid"], E["trace_caller"])}Trace[{tid}]: "{name} {path}" (started: {G.go_time(start, start - sim.T0 + 3600 * S)}) (total time: {G.go_duration(tot)}):',
                f"Trace[{tid}]: [{G.go_duration(tot - 60_000)}] [{G.go_duration(tot - 120_000)}] Listing from storage done"
                if name == "List"
                else f"Trace[{tid}]: [{G.go_duration(tot - 60_000)}] [{G.go_duration(tot - 120_000)}] Object stored in database",
                f"Trace[{tid}]: [{G.go_duration(tot)}] [{G.go_duration(60_000)}] END",
            ]
        )
    verb = logged_verb_128(r["method"], info)
    f = (
        f"accept:application/vnd.kubernetes.protobuf, */*,audit-id:{r['aid']},client:{r['src'].rsplit(':', 1)[0].strip('[]')},"
        f"protocol:HTTP/2.0,resource:{info['resource']},scope:{info['scope']},url:{path},user-agent:{sim.ua[r['client']]},verb:{verb}"
    )
    tot_ms = tot // MS
    return "\n".join(
        [
            f'{k.header("I", hts, E["pid"], E["trace_caller"])}Trace[{tid}]: "{name}" {f} ({G.trace_date(start)}) (total time: {tot_ms}ms):',
            f'Trace[{tid}]: ---"{"Writing http response done" if name == "List" else "Write to database call succeeded"}" {tot_ms - 1}ms ({G.trace_clock(tend - MS)})',
            f"Trace[{tid}]: [{G.go_duration(tot)}] [{G.go_duration(tot)}] END",
        ]
    )


def write_pods(sim, out):
    items = []
    T = sim.pod_dump_time
    for p in sim.pods:
        if p["create"] > T:
            continue
        running = p.get("watch") is not None and p["status_end"] <= T
        nc = sim.node_clock[p["node"]]
        # the kubelet's status manager stamps a condition's lastTransitionTime (and status.startTime, the
        # first time) with its own clock when a sync's status changes it (pkg/kubelet/status/status_manager.go
        # updateStatusInternal → updateLastTransitionTime; generateAPIPodStatus): Initialized and startTime
        # in the first sync after SyncLoop ADD, Ready/ContainersReady in the sync the PLEG ContainerStarted
        # event triggered, just before it sends the Running status (a pod without readiness probes is ready
        # once its containers run)
        first_sync = (p.get("seen") or p["sched"]) + MS
        ready_sync = p["pleg_started"] + MS if p.get("pleg_started") is not None else None
        conds = []
        if running:
            conds = [
                {
                    "lastProbeTime": None,
                    "lastTransitionTime": G.rfc3339_sec(nc(first_sync)),
                    "status": "True",
                    "type": "Initialized",
                },
                {
                    "lastProbeTime": None,
                    "lastTransitionTime": G.rfc3339_sec(nc(ready_sync)),
                    "status": "True",
                    "type": "Ready",
                },
            ]
            if sim.era != "1.5":  # the ContainersReady condition exists from 1.11 (pkg/kubelet/status/generate.go)
                conds.append(
                    {
                        "lastProbeTime": None,
                        "lastTransitionTime": G.rfc3339_sec(nc(ready_sync)),
                        "status": "True",
                        "type": "ContainersReady",
                    }
                )
        if p.get("sched") and p["sched"] <= T:
            conds.append(
                {
                    "lastProbeTime": None,
                    "lastTransitionTime": G.rfc3339_sec(p["sched"]),
                    "status": "True",
                    "type": "PodScheduled",
                }
            )
        status = {"conditions": conds, "phase": "Running" if running else "Pending", "qosClass": "Burstable"}
        if p.get("sched") and p["sched"] <= T:
            status["hostIP"] = sim.node_ip[p["node"]]
            status["startTime"] = G.rfc3339_sec(nc(first_sync))
            cs = {
                "image": "k8s.gcr.io/pause:3.1",
                "imageID": "",
                "lastState": {},
                "name": p["rc"].split("-b60e")[0][:50],
                "ready": running,
                "restartCount": 0,
            }
            if running:
                cs["containerID"] = "docker://" + p["uid"].replace("-", "") * 2
                cs["state"] = {"running": {"startedAt": G.rfc3339_sec(nc(p["run"]))}}
                status["podIP"] = (
                    f"10.{p['uid'][:2].__hash__() % 1 + 100}.{int(p['uid'][2:4], 16)}.{int(p['uid'][4:6], 16)}"
                )
            else:
                cs["state"] = {"waiting": {"reason": "ContainerCreating"}}
            status["containerStatuses"] = [cs]
        labels = {"name": p["rc"], "type": "density-latency-pod" if p["latency"] else "densityPod"}
        items.append(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {
                    "creationTimestamp": G.rfc3339_sec(p["create"]),
                    "generateName": p["rc"] + "-",
                    "labels": labels,
                    "name": p["name"],
                    "namespace": p["ns"],
                    "ownerReferences": [
                        {
                            "apiVersion": "v1",
                            "blockOwnerDeletion": True,
                            "controller": True,
                            "kind": "ReplicationController",
                            "name": p["rc"],
                            "uid": p["uid"][::-1],
                        }
                    ],
                    "resourceVersion": str(10000 + len(items) * 3),
                    "uid": p["uid"],
                },
                "spec": {
                    "containers": [
                        {
                            "image": "k8s.gcr.io/pause:3.1",
                            "name": labels["type"][:20],
                            "resources": {"requests": {"cpu": "10m", "memory": "3Mi"}},
                        }
                    ],
                    "nodeName": p["node"] if p.get("sched") and p["sched"] <= T else None,
                    "restartPolicy": "Always",
                    "schedulerName": "default-scheduler",
                },
                "status": status,
            }
        )
        if items[-1]["spec"]["nodeName"] is None:
            del items[-1]["spec"]["nodeName"]
    doc = {"apiVersion": "v1", "items": items, "kind": "List", "metadata": {"resourceVersion": ""}}
    (out / "pods.json").write_text(
        json.dumps(doc, indent=4, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8"
    )


def _scheduled_event_name(r) -> str | None:
    """The name of the Scheduled event a scheduler's ``POST …/events`` carries: as written to events.json, or,
    for a pod created after the dump, made 0.2 ms after its binding (the scheduler's clock is the master's)."""
    p = r.get("scheduled_of")
    if p is None:
        return None
    return p.get("scheduled_event") or _event_name(p["name"], p["sched"] + 200_000)


def _event_name(obj_name: str, reporter_ns: int) -> str:
    """An Event's name as client-go makes it: ``<object name>.<reporter's clock in UnixNano, hex>``
    (staging/src/k8s.io/client-go/tools/record/event.go ``makeEvent``: ``fmt.Sprintf("%v.%x", ref.Name,
    t.UnixNano())`` with ``t := recorder.clock.Now()``, the same ``t`` as firstTimestamp; tools/events/
    event_recorder.go likewise for events.k8s.io events).  So the name carries the reporter's instant in
    nanoseconds, where firstTimestamp keeps only its second."""
    return f"{obj_name}.{int(reporter_ns):x}"


def _kubelet_start_events(sim, p, rng) -> list:
    """The kubelet's events of a container start, in its order (pkg/kubelet/kuberuntime/
    kuberuntime_container.go ``startContainer``): ``Pulled`` once ``EnsureImageExists`` found the image
    ("already present on machine"), ``Created`` after the runtime's ``CreateContainer`` returned,
    ``Started`` after ``StartContainer`` returned.  Each event is made (and named) at that instant on the
    node's clock; the container itself starts inside ``StartContainer``, between Created and Started: on a
    fake CRI runtime as the call begins, on the fake Docker client when the call takes the client's mutex
    and Started after its sleep (:mod:`kubelog.synth.runtime`: the calls' instants are its).
    Returns (reason, message, true ns) tuples."""
    run = p["run"]
    # StartContainer returned and the event is made: µs later
    started = p.get("start_return", run) + int(rng.integers(50_000, 1_000_000))
    created = run - int(rng.integers(300_000, 3_000_000))  # CreateContainer returned, StartContainer called
    pulled = created - int(rng.integers(50_000, 500_000))
    if "created_ev" in p:  # the fake Docker client's calls
        created, pulled = p["created_ev"], p["pulled_ev"]
    image = {"1.5": "gcr.io/google_containers/pause-amd64:3.0", "1.14": "k8s.gcr.io/pause:3.1"}.get(
        sim.era, "registry.k8s.io/pause:3.9"
    )
    return [
        ("Pulled", f'Container image "{image}" already present on machine', pulled),
        ("Created", "Created container", created),
        ("Started", "Started container", started),
    ]


def _container_name(p) -> str:
    """The pod's container name (the density RC's pod template: its ``type`` label, cut to 20 characters)."""
    return ("density-latency-pod" if p["latency"] else "densityPod")[:20]


def _killing_at(sim, p) -> int:
    """When the kubelet makes a pod's Killing event (true ns): from 1.6 (kuberuntime_container.go
    ``killContainer``) right before the runtime's ``StopContainer``, with the kill record; 1.5
    (pkg/kubelet/dockertools/docker_manager.go ``killContainer``) once ``StopContainer`` returned — on the
    fake Docker client after its sleep and any wait for the mutex."""
    if sim.era == "1.5" and p.get("stop_return") is not None:
        return p["stop_return"] + p["kill_ev_lag"]
    return p["kill"]


def _killing_message(sim, p, cname: str) -> str:
    """The kubelet's Killing event's message (kuberuntime_container.go ``killContainer``; 1.5: dockertools
    ``killContainer``)."""
    if sim.era == "1.28":
        return f"Stopping container {cname}"
    if sim.era == "1.14":
        return f"Killing container with id docker://{cname}:Need to kill Pod"
    return f"Killing container with docker id {_cid(p)[:12]}: Need to kill pod."


# the kubelet's event client: its own rate limiter, --event-qps / --event-burst (KubeletConfiguration
# eventRecordQPS 5, eventBurst 10 by default, pkg/kubelet/apis/config/v1beta1/defaults.go; the hollow
# kubelet keeps the defaults, pkg/kubemark/hollow_kubelet.go GetHollowKubeletConfig)
EVENT_QPS, EVENT_BURST = 5.0, 10


def kubelet_event_posts(sim) -> None:
    """Each kubelet's events and their POSTs (after :meth:`Sim.simulate`; a stream of draws of its own).

    Per started pod its start events (:func:`_kubelet_start_events`) and, once the pod is killed, its
    Killing event, each made at its true instant on the node's clock (``p["kubelet_events"]``:
    (reason, message, true ns, receipt ns)).  client-go's recorder hands each event to the broadcaster
    (tools/record/event.go ``generateEvent`` → ``Action``); one watcher goroutine per sink takes them in
    order and writes each with a POST before the next (``StartRecordingToSink`` → ``recordToSink``), on
    the kubelet's event client, whose token bucket (:data:`EVENT_QPS`, :data:`EVENT_BURST`;
    client-go util/flowcontrol) makes a POST wait for a token.  So the k-th event's POST is the k-th,
    sent once the event was made, the previous POST answered and a token was there; the apiserver's
    ``creationTimestamp`` is its receipt."""
    if not getattr(sim, "kubelet_events", False):
        # Kubemark's hollow kubelet sends none: up to 1.15 its Dependencies carry no EventClient, which
        # RunKubelet / makeEventRecorder needs to record to the apiserver (cmd/kubelet/app/server.go: "No api
        # server defined - no events will be sent to API server"); since, its Recorder is a
        # record.FakeRecorder (pkg/kubemark/hollow_kubelet.go NewHollowKubelet)
        for p in sim.pods:
            p["kubelet_events"] = []
        return
    with sim._side_rng("rng_posts"):  # the POSTs' latencies, ports and audit IDs: this stream too
        rng = sim.rng
        per_node = defaultdict(list)
        for p in sim.pods:
            if not p.get("run"):
                continue
            evs = _kubelet_start_events(sim, p, rng)
            if p.get("kill") is not None:
                evs.append(("Killing", _killing_message(sim, p, _container_name(p)), _killing_at(sim, p)))
            p["kubelet_events"] = [list(e) + [None] for e in evs]
            per_node[p["node"]] += [(e[2], p, i) for i, e in enumerate(p["kubelet_events"])]
        td = getattr(sim, "teardown", None)
        for node, evs in per_node.items():
            evs.sort(key=lambda x: x[0])
            free = tokens_at = None
            tokens = float(EVENT_BURST)
            for t, p, i in evs:
                send = t + int(rng.integers(100_000, 1_000_000))  # broadcaster → watcher → sink
                if free is not None:
                    send = max(send, free)
                if tokens_at is not None:
                    tokens = min(float(EVENT_BURST), tokens + (send - tokens_at) / S * EVENT_QPS)
                if tokens < 1.0:
                    send += int((1.0 - tokens) / EVENT_QPS * S)
                    tokens = 1.0
                tokens, tokens_at = tokens - 1.0, send
                recv = send + int(rng.integers(100_000, 500_000))
                # a create in a namespace being deleted is refused by the NamespaceLifecycle admission plugin
                # (plugin/pkg/admission/namespace/lifecycle/admission.go: "unable to create new content in
                # namespace … because it is being terminated"), before any storage write; the recorder does
                # not retry a refused event (tools/record/event.go recordEvent: a StatusError is final)
                refused = td is not None and p["ns"] == td["namespace"] and recv >= td["namespace_delete"]
                lat = sim.latency("get" if refused else "create", recv)
                name = _event_name(p["name"], sim.node_clock[node](t))
                free = sim.add(
                    recv + lat,
                    "POST",
                    f"/api/v1/namespaces/{p['ns']}/events",
                    "kubelet",
                    "create",
                    code=403 if refused else None,
                    lat=lat,
                    node=node,
                    name=name,
                )
                p["kubelet_events"][i][3] = None if refused else recv  # a refused event is never stored


def write_events(sim, out):
    """events.json: the events made and posted (:func:`kubelet_event_posts`) by the dump's instant."""
    items = []
    era = sim.era
    # a failed run's dump is taken with the pods (pods.json) before the namespace goes; a passed run's
    # just before its namespace is destroyed (Sim.events_dump_time)
    T = getattr(sim, "events_dump_time", sim.pod_dump_time)
    rng = sim.rng_events
    for p in sim.pods:
        if p["create"] > T or not p.get("sched"):
            continue
        # the scheduler records Scheduled after the binding call returned (pkg/scheduler: bindingCycle →
        # EventRecorder Eventf), on the master's clock
        made = p["sched"] + int(rng.integers(20_000, 400_000))
        ev = {
            "apiVersion": "v1",
            "involvedObject": {
                "apiVersion": "v1",
                "kind": "Pod",
                "name": p["name"],
                "namespace": p["ns"],
                "resourceVersion": "1",
                "uid": p["uid"],
            },
            "kind": "Event",
            "message": f"Successfully assigned {p['ns']}/{p['name']} to {p['node']}"
            if era != "1.5"
            else f"Successfully assigned {p['name']} to {p['node']}",
            "metadata": {
                "creationTimestamp": G.rfc3339_sec(p["sched"] + 3 * MS),
                "name": p.setdefault("scheduled_event", _event_name(p["name"], made)),
                "namespace": p["ns"],
                "resourceVersion": str(20000 + len(items)),
                "uid": p["uid"][::-1],
            },
            "reason": "Scheduled",
            "type": "Normal",
        }
        if era == "1.28":
            ev.update(
                {
                    "action": "Binding",
                    "eventTime": G.rfc3339_micro(p["sched"]),
                    "firstTimestamp": None,
                    "lastTimestamp": None,
                    "reportingComponent": "default-scheduler",
                    "reportingInstance": "default-scheduler-kubemark-master",
                    "source": {},
                }
            )
        else:
            ev.update(
                {
                    "count": 1,
                    "eventTime": None,
                    "firstTimestamp": G.rfc3339_sec(made),
                    "lastTimestamp": G.rfc3339_sec(made),
                    "reportingComponent": "",
                    "reportingInstance": "",
                    "source": {"component": "default-scheduler"},
                }
            )
        items.append(ev)
        if p.get("kubelet_events"):
            nc = sim.node_clock[p["node"]]
            cname = _container_name(p)
            for k, (reason, message, t, recv) in enumerate(p["kubelet_events"]):
                if recv is None or recv > T:  # refused, or not stored yet when the dump was taken
                    continue
                nt = nc(t)
                items.append(
                    {
                        "apiVersion": "v1",
                        "count": 1,
                        "eventTime": None,
                        "firstTimestamp": G.rfc3339_sec(nt),
                        "involvedObject": {
                            "apiVersion": "v1",
                            "fieldPath": "spec.containers{" + cname + "}",
                            "kind": "Pod",
                            "name": p["name"],
                            "namespace": p["ns"],
                            "resourceVersion": "2",
                            "uid": p["uid"],
                        },
                        "kind": "Event",
                        "lastTimestamp": G.rfc3339_sec(nt),
                        "message": message,
                        "metadata": {
                            # set by the apiserver as it stores the POST (its clock)
                            "creationTimestamp": G.rfc3339_sec(recv),
                            "name": _event_name(p["name"], nt),
                            "namespace": p["ns"],
                            "resourceVersion": str(20000 + len(items)),
                            "uid": p["uid"][1:] + str(k),
                        },
                        "reason": reason,
                        "reportingComponent": "",
                        "reportingInstance": "",
                        "source": {"component": "kubelet", "host": p["node"]},
                        "type": "Normal",
                    }
                )
    doc = {"apiVersion": "v1", "items": items, "kind": "List", "metadata": {"resourceVersion": ""}}
    (out / "events.json").write_text(
        json.dumps(doc, indent=4, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return len(items)


def _spec(era):
    if era == "1.5":
        return (
            "[k8s.io] Density",
            "[Feature:Performance] should allow starting 30 pods per node",
            "/go/src/k8s.io/kubernetes/_output/dockerized/go/src/k8s.io/kubernetes/test/e2e/density.go",
            560,
            233,
        )
    return (
        "[sig-scalability] Density",
        "[Feature:Performance] should allow starting 30 pods per node using ReplicationController with 0 secrets, 0 configmaps, 0 token projections, and 0 daemons",
        "/go/src/k8s.io/kubernetes/_output/dockerized/go/src/k8s.io/kubernetes/test/e2e/scalability/density.go",
        606,
        970,
    )


def write_e2e(sim, out):
    era = sim.era
    tc = sim.test_clock
    cont, it, path, itline, failline = _spec(era)
    start = sim.T0 + 4 * S
    lines = [
        "Running Suite: Kubernetes e2e suite",
        "===================================",
        "Random Seed: 1561033801 - Will randomize all specs",
        "Will run 1 of 3588 specs",
        "",
        f"{G.stamp_milli(tc(start))}: INFO: >>> kubeConfig: /workspace/kubernetes/test/kubemark/resources/kubeconfig.kubemark",
        f"{G.stamp_milli(tc(start + MS))}: INFO: Waiting up to 10m0s for all (but 0) nodes to be schedulable",
        "SSSSSSSS",
        "------------------------------",
        f"[BeforeEach] {cont}",
        "  /go/src/k8s.io/kubernetes/_output/dockerized/go/src/k8s.io/kubernetes/test/e2e/framework/framework.go:149",
    ]
    ents = sorted(sim.e2e, key=lambda x: x[0])
    if sim.failures and sim.failures[0]["kind"] == "timeout":
        pass
    it_done = False
    for t, txt in ents:
        if not it_done and "Setting resource" in txt or (not it_done and "Created replication controller" in txt):
            lines += [f"[It] {it}", f"  {path}:{itline}"]
            it_done = True
        if txt.startswith("STEP: "):
            lines.append(txt)
        else:
            body = txt[len("INFO: ") :]
            lines += (f"{G.stamp_milli(tc(t))}: INFO: " + body).split("\n")
    fail = [f for f in sim.failures if f["kind"] in ("timeout", "slo")]
    dur = (sim.T_end - start) / S
    failline = getattr(sim, "fail_line", failline)
    if fail:
        msg = fail[0]["message"]
        q = msg.replace('"', '\\"')  # gomega prints the error struct with %#v: quotes escaped on the s: line
        lines += [
            "",
            f"• Failure [{dur:.3f} seconds]",
            cont,
            "/go/src/k8s.io/kubernetes/_output/dockerized/go/src/k8s.io/kubernetes/test/e2e/scalability/framework.go:22",
            f"  {it} [It]",
            f"  {path}:{itline}",
            "",
            "  Expected error:",
            "      <*errors.errorString | 0xc0010b0420>: {",
            f'          s: "{q}",',
            "      }",
            f"      {msg}",
            "  not to have occurred",
            "",
            f"  {path}:{failline}",
            "------------------------------",
            "",
            "",
            "Summarizing 1 Failure:",
            "",
            f"[Fail] {cont} [It] {it} ",
            f"{path}:{failline}",
            "",
            f"Ran 1 of 3588 Specs in {dur + 3.2:.3f} seconds",
            "FAIL! -- 0 Passed | 1 Failed | 0 Pending | 3587 Skipped --- FAIL: TestE2E (%.2fs)" % (dur + 3.3),
            "FAIL",
        ]
    else:
        lines += [
            "",
            f"• [SLOW TEST:{dur:.3f} seconds]",
            cont,
            "/go/src/k8s.io/kubernetes/_output/dockerized/go/src/k8s.io/kubernetes/test/e2e/scalability/framework.go:22",
            f"  {it}",
            f"  {path}:{itline}",
            "------------------------------",
            "",
            f"Ran 1 of 3588 Specs in {dur + 3.2:.3f} seconds",
            "SUCCESS! -- 1 Passed | 0 Failed | 0 Pending | 3587 Skipped PASS",
        ]
    (out / "e2e.log").write_text("\n".join(lines) + "\n", encoding="utf-8")
    sim.e2e_duration = dur
    return len(lines)


def write_junit(sim, out):
    from xml.sax.saxutils import escape

    cont, it, path, itline, failline = _spec(sim.era)
    fail = [f for f in sim.failures if f["kind"] in ("timeout", "slo")]
    dur = sim.e2e_duration
    failline = getattr(sim, "fail_line", failline)
    name = escape(f"{cont} {it}", {'"': "&quot;"})
    body = ""
    if fail:
        q = fail[0]["message"].replace('"', '\\"')
        msg = escape(
            f'{path}:{itline}\nExpected error:\n    <*errors.errorString | 0xc0010b0420>: {{\n        s: "{q}",\n    }}\n    {fail[0]["message"]}\nnot to have occurred\n{path}:{failline}',
            {'"': "&quot;"},
        ).replace("\n", "&#xA;")
        body = f'\n          <failure type="Failure">{msg}</failure>\n      '
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'  <testsuite tests="1" failures="{1 if fail else 0}" time="{dur + 3.2:.9f}">\n'
        f'      <testcase name="{name}" classname="Kubernetes e2e suite" time="{dur:.9f}">{body}</testcase>\n'
        "  </testsuite>"
    )
    (out / "junit_01.xml").write_text(xml, encoding="utf-8")


# ------------------------------------------------------------------ truth
def true_running(sim):
    """Container start and stop instants of every pod that started (true clock, ns), sorted."""
    runs = np.array(sorted(p["run"] for p in sim.pods if p.get("run") is not None), dtype=np.int64)
    stops = np.array(
        sorted(p["stop"] for p in sim.pods if p.get("run") is not None and p.get("stop") is not None), dtype=np.int64
    )
    return runs, stops


def pod_truth(sim) -> list:
    """Every pod's real instants (true clock, ns; None when it never happened): create (stored),
    create_end (POST answered), sched (bound), run (container started), status_end (status update to
    Running answered), watch (the test's watch saw it running), found (e2e ``Found pod`` line written),
    graceful_delete, stop (containers killed), final_delete (the kubelet's grace-0 DELETE answered);
    pleg_started / pleg_died: the kubelet's PLEG ContainerStarted / ContainerDied records (the relist
    after the start / stop)."""
    keys = (
        "create",
        "create_end",
        "sched",
        "run",
        "pleg_started",
        "status_end",
        "watch",
        "found",
        "graceful_delete",
        "stop",
        "pleg_died",
        "final_delete",
    )
    return [
        {
            "namespace": p["ns"],
            "name": p["name"],
            "uid": p["uid"],
            "node": p["node"],
            "latency": p["latency"],
            **{k: (int(p[k]) if p.get(k) is not None else None) for k in keys},
        }
        for p in sim.pods
    ]


def compute_truth(sim) -> dict:
    reqs = sim.reqs
    cap = sim.cap
    runs, stops = true_running(sim)
    req_load = []
    creates = np.array(
        sorted(
            r["hts"]
            for r in reqs
            if r["method"] == "POST"
            and r["code"] == 201
            and r["info"]["resource"] == "pods"
            and r["info"]["subresource"] == ""
            and r["info"]["name"] == ""
            and r["info"]["namespace"]
        ),
        dtype=np.int64,
    )
    deletes = np.array(
        sorted(
            r["hts"]
            for r in reqs
            if r["method"] == "DELETE"
            and r["code"] == 200
            and r["info"]["resource"] == "pods"
            and r["info"]["subresource"] == ""
            and r["info"]["name"]
            and r["info"]["namespace"]
        ),
        dtype=np.int64,
    )
    groups = defaultdict(list)
    long_running = 0
    by_method = Counter()
    by_code = Counter()
    for r in reqs:
        by_method[r["method"] if sim.era != "1.28" else logged_verb_128(r["method"], r["info"])] += 1
        by_code[str(r["code"])] += 1
        info = r["info"]
        if info["long_running"]:
            long_running += 1
            continue
        start = r["hts"] - r["lat"]
        load = int(np.searchsorted(runs, start, side="right")) - int(np.searchsorted(stops, start, side="right"))
        req_load.append([int(r["hts"]), int(r["lat"]), load])
        L = load / cap * 100
        b = ">100"
        for lim, nm in BUCKETS:
            if L <= lim:
                b = nm
                break
        key = (info["verb"], info["resource"], info["subresource"], info["scope"])
        groups[key + (b,)].append(r["lat"])
        groups[key + ("all",)].append(r["lat"])
    rows = []
    order = {"10": 0, "25": 1, "50": 2, "90": 3, "100": 4, ">100": 5, "all": 6}
    for key in sorted(groups, key=lambda k: (k[:4], order[k[4]])):
        v = sorted(groups[key])
        rows.append(
            {
                "verb": key[0],
                "resource": key[1],
                "subresource": key[2],
                "scope": key[3],
                "bucket": key[4],
                "count": len(v),
                **{f"p{q}_s": nearest_rank(v, q / 100) / 1e9 for q in (10, 50, 90, 99)},
            }
        )
    # true running-pod timeline (container start +1, container stop -1)
    ev = sorted([(int(t), 1) for t in runs] + [(int(t), -1) for t in stops])
    timeline, cur = [], 0
    for t, d in ev:
        cur += d
        timeline.append([t, cur])
    return {
        "matrix": rows,
        "creates": len(creates),
        "deletes": len(deletes),
        "long_running": long_running,
        "by_method": dict(sorted(by_method.items())),
        "by_code": dict(sorted(by_code.items())),
        "timeline": timeline,
        "request_loads": req_load,
    }


def _slow_down(sim, latency_factor: dict) -> None:
    """Multiply the latency of every request of the groups in ``latency_factor`` (a planted
    regression: ``{"get pods": 2.0, "patch pods/status": 1.5}``, keys ``"verb resource[/subresource]"``
    as RequestInfoFactory classifies the request). The end time is kept (the access log is written
    when a request ends), so the start moves earlier."""
    want = {}
    for k, f in latency_factor.items():
        verb, _, res = k.strip().partition(" ")
        r, _, sub = res.partition("/")
        want[(verb, r, sub)] = float(f)
    for r in sim.reqs:
        info = classify(r["method"], r["uri"])
        f = want.get((info["verb"], info["resource"], info["subresource"]))
        if f is not None and not info["long_running"]:
            r["lat"] = int(r["lat"] * f)


#: The stages of :func:`generate`, in order (the last only with ``tarball``).
GENERATE_STAGES = ("simulating", "writing logs", "computing truth", "packing the tarball")


def generate(
    out_dir,
    *,
    seed=1,
    nodes=10,
    pods_per_node=30,
    era="1.14",
    skew="test=36012.5s,nodes=0.8s",
    drift=None,
    timeout_failure=False,
    scale=1.0,
    tarball=False,
    wrap=None,
    hosts=None,
    host_skew=None,
    host_drift=None,
    status_writes=False,
    cl2=False,
    latency_factor: dict | None = None,
    startup_delay_s: float = 0.0,
    t0: str | None = None,
    cl2_log=False,
    audit_responses=False,
    kubelet_events=False,
    progress=None,
) -> dict:
    """Simulate one run and write it into ``out_dir``; returns truth.json as a dict.

    ``kubelet_events``: whether the kubelets post their Pulled/Created/Started/Killing events.  False
    by default, as Kubemark's hollow kubelets (which this simulates) post none; True gives the evidence of
    a cluster whose kubelets post events (real kubelets do).

    ``progress``: optional callable(stage) called as each of :data:`GENERATE_STAGES` starts (the CLI
    draws a progress bar from it).
    """
    era = str(era)
    stage = progress or (lambda _s: None)
    check_params(
        nodes=nodes,
        pods_per_node=pods_per_node,
        era=era,
        skew=skew,
        drift=drift,
        scale=scale,
        wrap=wrap,
        timeout_failure=timeout_failure,
        seed=seed,
        hosts=hosts,
        host_skew=host_skew,
        host_drift=host_drift,
    )
    if cl2 and era == "1.5":
        raise ValueError("cl2: clusterloader2 exists from 2018 (era 1.14 or 1.28)")
    if cl2 and cl2_log:
        raise ValueError("cl2 and cl2_log both write clusterloader2.log: choose one")
    out = Path(out_dir)
    target = out
    if tarball:
        import tempfile

        tmp = Path(tempfile.mkdtemp(prefix="kubelog-synth-"))
        out = tmp / (Path(out_dir).name.removesuffix(".tar.gz") or "run")
    out.mkdir(parents=True, exist_ok=True)
    stage(GENERATE_STAGES[0])
    sim = Sim(seed, nodes, pods_per_node, era, skew, drift, timeout_failure, scale, startup_delay_s, t0)
    sim.audit_responses = bool(audit_responses)
    sim.kubelet_events = bool(kubelet_events)
    skewcases.setup(sim, hosts=hosts, host_skew=host_skew, host_drift=host_drift, status_writes=status_writes, cl2=cl2)
    sim.simulate()
    skewcases.after_simulate(sim)
    if latency_factor:
        _slow_down(sim, latency_factor)
    kubelet_event_posts(sim)
    stage(GENERATE_STAGES[1])
    files = write_run(sim, out, wrap=wrap)
    if cl2_log:
        files["clusterloader2.log"] = write_cl2_log(sim, out)
    stage(GENERATE_STAGES[2])
    tr = compute_truth(sim)
    sk = _parse_kv(skew, True)
    dr = _parse_kv(drift, False)
    clocks = {
        "apiserver": {"offset_s": 0.0, "drift_ppm": 0.0, "reference": True},
        "test": {"offset_s": sk.get("test", 0.0), "drift_ppm": dr.get("test", 0.0)},
    }
    for n in sim.nodes:
        clocks[f"node/{n}"] = {"offset_s": sk.get("nodes", 0.0), "drift_ppm": dr.get("nodes", 0.0)}
    skewcases.truth_clocks(sim, clocks)
    truth = {
        "generator": "kubelog synth",
        "params": {
            "seed": seed,
            "nodes": nodes,
            "pods_per_node": pods_per_node,
            "era": era,
            "skew": skew if isinstance(skew, str) else sk,
            "drift": drift,
            "timeout_failure": timeout_failure,
            "scale": scale,
            "wrap": wrap,
            **({"hosts": hosts, "host_skew": host_skew, "host_drift": host_drift} if hosts else {}),
            **({"status_writes": True} if status_writes else {}),
            **({"cl2": True} if cl2 else {}),
            **({"cl2_log": True} if cl2_log else {}),
            **({"audit_responses": True} if audit_responses else {}),
            "kubelet_events": bool(kubelet_events),
        },
        "t0_utc": G.rfc3339_sec(sim.T0),
        "t0_ns": sim.T0,
        "end_ns": sim.T_end,
        "clocks": clocks,
        "drift_reference_t0_ns": sim.T0,
        "nodes": sim.nodes,
        "capacity": sim.cap,
        "pods_per_node": pods_per_node,
        "load_definition": LOAD_DEFINITION,
        "running_pods_timeline": tr["timeline"],
        "request_loads": {
            "columns": ["header_ts_ns", "latency_ns", "running_pods_at_start"],
            "rows": tr["request_loads"],
            "note": "non-long-running requests, in access-log order",
        },
        "pods": pod_truth(sim),
        "namespace_teardown": getattr(sim, "teardown", None),
        "latency_matrix": tr["matrix"],
        "requests": {
            "total": len(sim.reqs),
            "by_verb_as_printed": tr["by_method"],
            "by_code": tr["by_code"],
            "long_running": tr["long_running"],
            "pod_creates": tr["creates"],
            "pod_deletes": tr["deletes"],
        },
        "pod_startup": {
            "true": getattr(sim, "true_phases", None),
            "as_printed": getattr(sim, "printed", None),
            "latency_pods": sum(1 for p in sim.pods if p["latency"]),
            "saturation_pods": sum(1 for p in sim.pods if not p["latency"]),
        },
        "failures": sim.failures,
        **({"cl2_measurements": sim.cl2_truth} if cl2_log else {}),
        "files": files,
        **skewcases.truth_extra(sim),
    }
    if latency_factor or startup_delay_s or t0:  # a history's runs (kubelog.synth.history); absent otherwise
        truth["params"].update(latency_factor=latency_factor or None, startup_delay_s=startup_delay_s, t0=t0)
    (out / "truth.json").write_text(json.dumps(truth, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    if tarball:
        stage(GENERATE_STAGES[3])
        tpath = Path(str(target) if str(target).endswith(".tar.gz") else str(target) + ".tar.gz")
        tpath.parent.mkdir(parents=True, exist_ok=True)
        raw = io.BytesIO()
        with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tf:
            for p in sorted(x for x in out.rglob("*") if x.is_file()):
                ti = tf.gettarinfo(str(p), arcname=f"{out.name}/{p.relative_to(out).as_posix()}")
                ti.mtime = sim.T_end // S
                ti.uid = ti.gid = 0
                ti.uname = ti.gname = ""
                with open(p, "rb") as fh:
                    tf.addfile(ti, fh)
        with open(tpath, "wb") as fh, gzip.GzipFile(fileobj=fh, mode="wb", mtime=0, filename="") as gz:
            gz.write(raw.getvalue())
        import shutil

        shutil.copy(out / "truth.json", tpath.parent / (tpath.name.removesuffix(".tar.gz") + ".truth.json"))
        shutil.rmtree(out.parent)
        truth["path"] = str(tpath)
    else:
        truth["path"] = str(out / "truth.json")
    return truth
