"""Clock-skew cases of the synthetic run (issue 16), kept apart from :mod:`kubelog.synth.run`.

Every behaviour here comes from the Kubernetes / perf-tests source, not from kubelog's analyzer:

* **Per-host pools of hollow nodes** (``hosts=``): Kubemark runs its hollow nodes as pods of an
  external cluster, many per host machine, so every hollow kubelet on one host reads that host's
  clock.  The hollow kubelet writes ``/var/log/kubelet-$(NODE_NAME).log`` on its host
  (kubernetes ``test/kubemark/resources/hollow-node_template.yaml``), and the log dump copies each
  host's ``/var/log`` files, ``kubelet-hollow-node-*.log`` among them, into
  ``<report_dir>/<host>/`` (kubernetes ``cluster/log-dump/log-dump.sh``: ``hollow_node_logfiles``,
  ``dump_nodes`` → ``node_dir="${report_dir}/${node_name}"``).  So a hollow kubelet's log lands in
  ``<host>/kubelet-<hollow-node>.log``.
* **The kubelet's pod status writes** (``status_writes=True``): the kubelet's status manager
  (kubernetes ``pkg/kubelet/status/status_manager.go``: ``SetPodStatus`` → ``updateStatusInternal``
  → ``syncPod`` → PATCH ``pods/<name>/status``) writes a pod's status whenever it changed.
  ``Kubelet.SyncPod`` (``pkg/kubelet/kubelet.go``) sets the status at the start of every sync, before
  the runtime starts the containers; the first sync follows ``SyncLoop ADD``, so the first write
  carries *Pending*.  The container start is seen by the PLEG relist (``SyncLoop (PLEG): …
  ContainerStarted``), whose sync generates the *Running* status: the write that carries it
  follows that PLEG record.  Killing the containers after the graceful delete changes the status
  again (terminated), a third write.  All three are timed on the apiserver's clock by the access
  log / audit; the PLEG and ADD records on the host's clock (klog header, µs).
* **clusterloader2 round trips** (``cl2=True``): the test side is clusterloader2 instead of the e2e
  density test.  Its API calls carry client-go's default user agent
  ``clusterloader/v0.0.0 (linux/amd64) kubernetes/$Format`` (no UserAgent is set in
  ``clusterloader2/pkg/framework``), and its log (klog, on the CL2 host's clock) has lines before
  and after them (perf-tests ``clusterloader2/pkg/test/simple_test_executor.go``):
  ``AutomanagedNamespacePrefix: <p>`` before any call in the automanaged namespaces ``<p>-<n>``;
  ``Step "[step: NN] <name>" started`` before the step's phase calls and ``… ended`` after all of
  them completed (``wg.Wait()``); ``Resources cleanup time: <d>`` after
  ``DeleteAutomanagedNamespaces`` completed.  The startup lines (``ClusterConfig.Nodes set to``,
  ``Running <config>``) are from ``clusterloader2/cmd/clusterloader.go``; ``Test Finished`` /
  ``Status:`` the same file's summary.
"""

from __future__ import annotations

import json
import math

from . import gofmt as G

S = 1_000_000_000
MS = 1_000_000

CL2_UA = "clusterloader/v0.0.0 (linux/amd64) kubernetes/$Format"


def _host_names(rng, k: int) -> list[str]:
    letters = "bcdfghjklmnpqrstvwxz0123456789"
    return [f"kubemark-pool-{''.join(letters[j] for j in rng.integers(0, len(letters), 4))}" for _ in range(k)]


def setup(sim, *, hosts=None, host_skew=None, host_drift=None, status_writes: bool = False, cl2: bool = False) -> None:
    """Switch the cases on for ``sim`` (before :meth:`Sim.simulate`).

    ``hosts``: number of host machines; hollow nodes are spread round robin over them and read
    their host's clock (``host_skew``: offsets in seconds per host, cycled; ``host_drift``: ppm).
    """
    from .run import Clock

    sim.status_writes = bool(status_writes)
    sim.cl2 = bool(cl2)
    sim.node_host = {}
    sim.host_clock = {}
    if hosts:
        k = int(hosts)
        offs = list(host_skew or [0.0]) or [0.0]
        drs = list(host_drift or [0.0]) or [0.0]
        names = _host_names(sim.rng, k)
        for i, h in enumerate(names):
            sim.host_clock[h] = (float(offs[i % len(offs)]), float(drs[i % len(drs)]))
            clk = Clock(sim.host_clock[h][0], sim.host_clock[h][1], sim.T0)
            for n in sim.nodes[i::k]:
                sim.node_host[n] = h
                sim.node_clock[n] = clk
    if cl2:
        sim.ua["e2e"] = CL2_UA


def node_log_files(sim) -> list[tuple[str, str]]:
    """``(hollow node, relative path)`` of the hollow-node logs written: every node with hosts (log-dump
    layout ``<host>/kubelet-<node>.log``), else the first three as ``<node>.log``."""
    if getattr(sim, "node_host", None):
        return [(n, f"{sim.node_host[n]}/kubelet-{n}.log") for n in sim.nodes]
    return [(n, f"{n}.log") for n in sim.nodes[:3]]


def truth_clocks(sim, clocks: dict) -> None:
    """Every hollow node's true clock is its host's; ``clocks["node/<n>"]["host"]`` names it."""
    for n, h in sim.node_host.items():
        off, dr = sim.host_clock[h]
        clocks[f"node/{n}"] = {"offset_s": off, "drift_ppm": dr, "host": h}


def truth_extra(sim) -> dict:
    out = {}
    if sim.node_host:
        out["hosts"] = {
            h: {"offset_s": o, "drift_ppm": d, "nodes": sorted(n for n, x in sim.node_host.items() if x == h)}
            for h, (o, d) in sorted(sim.host_clock.items())
        }
    if sim.cl2:
        out["cl2"] = {"namespace_prefix": sim.cl2_prefix, "user_agent": CL2_UA, "steps": sim.cl2_steps}
    if sim.status_writes:
        out["status_writes"] = {
            "per_running_pod": "Pending (after SyncLoop ADD), Running (after PLEG "
            "ContainerStarted), terminated (after the graceful delete)"
        }
    return out


# ----------------------------------------------------------------- kubelet status writes


def after_simulate(sim) -> None:
    """Apply the cases that act on the simulated run (after :meth:`Sim.simulate`, before writing)."""
    if sim.status_writes:
        _status_writes(sim)
    if sim.cl2:
        _cl2(sim)


def _status_writes(sim) -> None:
    rng = sim.rng
    verb = "PATCH" if sim.era != "1.5" else "PUT"
    writes = {(r["uri"], r["end"]): r for r in sim.reqs if r["method"] == verb and r["uri"].endswith("/status")}
    for p in sim.pods:
        seen, run = p.get("seen"), p.get("run")
        if seen is None or run is None:
            continue  # a stalled pod already has its one (Pending) write
        node = p["node"]
        uri = f"/api/v1/namespaces/{p['ns']}/pods/{p['name']}/status"
        # first sync after SyncLoop ADD: Pending, written while the runtime starts the containers
        lat = int(rng.integers(2, 9)) * MS
        sim.add(seen + lat + int(rng.integers(1, 20)) * MS, verb, uri, "kubelet", lat=lat, node=node)
        # the Running write (run.py) is sent after the PLEG ContainerStarted record: its request
        # cannot start before that record
        r = writes.get((uri, p.get("status_end")))
        if r is not None:
            r["lat"] = max(60_000, min(r["lat"], r["end"] - p["pleg_started"] - 100_000))
        if sim.era == "1.28":
            _kubelet_records_128(sim, p, seen)
            _observed_running_after_write(sim, p, r)
        # the terminated write after the graceful delete is the lifecycle model's (Sim.pod_stop: every run)


def _observed_running_after_write(sim, p, w) -> None:
    """observedRunningTime is taken when the Running write returned (status_manager.go ``syncPod``:
    ``RecordStatusUpdated`` after ``PatchPodStatus``), not at the container start."""
    if w is None:
        return
    import re

    n = p["node"]
    c = sim.node_clock[n]
    t = w["end"] + int(sim.rng.integers(200_000, 2 * MS))
    key = f'pod="{p["ns"]}/{p["name"]}"'
    for i, (ts, txt) in enumerate(sim.node_lines[n]):
        if key in txt and '"Observed pod startup duration"' in txt:
            txt = re.sub(
                r'observedRunningTime="[^"]*"', f'observedRunningTime="{G.go_time(c(t), c(t) - c(sim.T0))}"', txt
            )
            sim.node_lines[n][i] = (ts, txt)


def _kubelet_records_128(sim, p, seen) -> None:
    """The 1.28 kubelet's records are the lifecycle model's (run.py ``kubelet_lines``: its ``SyncLoop ADD``,
    and ``pleg_started_128``: a kubelet logs each PLEG event once), every 1.28 run's; this keeps the draws
    the records once took here, so the rest of the run stays as drawn."""
    sim.rng.bytes(32)


# ----------------------------------------------------------------- clusterloader2


def _cl2(sim) -> None:
    """Rename the test namespace to an automanaged one and lay CL2's step lines around its calls."""
    rng = sim.rng
    letters = "abcdefghijklmnopqrstuvwxyz0123456789"
    prefix = "test-" + "".join(letters[j] for j in rng.integers(0, len(letters), 6))
    ns = f"{prefix}-1"
    old = sim.ns
    sim.cl2_prefix = prefix
    for r in sim.reqs:
        r["uri"] = r["uri"].replace(old, ns)
    for p in sim.pods:
        p["ns"] = ns
    sim.sched_lines = [(t, x.replace(old, ns)) for t, x in sim.sched_lines]
    for n in list(sim.node_lines):
        sim.node_lines[n] = [(t, x.replace(old, ns)) for t, x in sim.node_lines[n]]
    sim.ns = ns
    mine = sorted((r for r in sim.reqs if r["client"] == "e2e"), key=lambda r: r["end"] - r["lat"])

    def start(r):
        return r["end"] - r["lat"]

    def gap():
        return int(rng.integers(1, 8)) * MS

    ns_post = [r for r in mine if r["method"] == "POST" and r["uri"] == "/api/v1/namespaces"]
    rc_post = [r for r in mine if r["method"] == "POST" and r["uri"].endswith("/replicationcontrollers")]
    rc_del = [r for r in mine if r["method"] == "DELETE" and "/replicationcontrollers/" in r["uri"]]
    ns_del = [r for r in mine if r["method"] == "DELETE" and r["uri"] == f"/api/v1/namespaces/{ns}"]
    metrics = [r for r in mine if r["uri"].startswith("/metrics") or r["uri"] == "/api/v1/nodes"]
    lines = []  # (true ns, caller, text)
    t_first = min(start(r) for r in mine)
    t = t_first - 300 * MS
    lines += [
        (t, "clusterloader.go:180", f"ClusterConfig.Nodes set to {sim.nodes_n}"),
        (t + MS, "clusterloader.go:266", "Running testing/density/config.yaml"),
    ]
    # logged before any call in the automanaged namespaces (the namespaces' POSTs and, with --scale, the
    # extra reads drawn over the whole run, some before those POSTs)
    first_ns = min(start(r) for r in mine if r in ns_post or f"/namespaces/{ns}/" in r["uri"])
    lines.append((first_ns - gap(), "simple_test_executor.go:58", f"AutomanagedNamespacePrefix: {prefix}"))
    # steps: (name, calls); a call belongs to the step whose window holds it
    # the saturation phase creates ceil(nodes/100) RCs first (run.py), the latency RCs come later
    rc_post = sorted(rc_post, key=start)
    n_sat = max(1, math.ceil(sim.nodes_n / 100))
    sat, lat_rc = rc_post[:n_sat], rc_post[n_sat:]
    lat_names = {p["rc"] for p in sim.pods if p["latency"]}
    lat_del = [r for r in rc_del if r["uri"].rsplit("/", 1)[-1] in lat_names]
    sat_del = [r for r in rc_del if r not in lat_del]
    metrics = [r for r in metrics if r["end"] < min(start(x) for x in sat)]  # before the first phase
    steps = [("Starting measurements", metrics), ("Creating saturation pods", sat)]
    if lat_rc:
        steps += [("Creating latency pods", lat_rc), ("Deleting latency pods", lat_del)]
    steps += [("Deleting saturation pods", sat_del)]
    sim.cl2_steps = []
    no = 0
    for name, calls in steps:
        if not calls:
            continue
        no += 1
        s0 = min(start(r) for r in calls) - gap()
        s1 = max(r["end"] for r in calls) + gap()
        label = f"[step: {no:02d}] {name}"
        lines += [
            (s0, "simple_test_executor.go:162", f'Step "{label}" started'),
            (s1, "simple_test_executor.go:183", f'Step "{label}" ended'),
        ]
        sim.cl2_steps.append({"step": label, "calls": len(calls), "true_start_ns": s0, "true_end_ns": s1})
    if ns_del:
        te = max(r["end"] for r in ns_del) + int(rng.integers(5, 50)) * MS
        lines.append(
            (
                te,
                "simple_test_executor.go:422",
                f"Resources cleanup time: {G.go_duration(te - min(start(r) for r in ns_del))}",
            )
        )
    failed = any(f["kind"] in ("timeout", "slo") for f in sim.failures)
    te = max(t for t, _, _ in lines) + 20 * MS
    lines += [
        (te, "clusterloader.go:138", "Test Finished"),
        (te + 1000, "clusterloader.go:139", "  Test: testing/density/config.yaml"),
        (te + 2000, "clusterloader.go:140", "  Status: " + ("Fail" if failed else "Success")),
    ]
    sim.cl2_lines = sorted(lines)


def write_cl2_log(sim, out) -> dict:
    """``clusterloader2.log`` on the test clock (klog headers), in place of e2e.log and junit_01.xml."""
    k = G.KlogClock()
    tc = sim.test_clock
    text = [f"{k.header('I', tc(t), 20846, caller)}{msg}" for t, caller, msg in sim.cl2_lines]
    (out / "clusterloader2.log").write_text("\n".join(text) + "\n", encoding="utf-8")
    sim.e2e_duration = (sim.T_end - sim.T0) / S
    return {"clusterloader2.log": {"lines": len(text), "steps": len(sim.cl2_steps)}}


def describe(sim) -> str:
    return json.dumps(truth_extra(sim), sort_keys=True)
