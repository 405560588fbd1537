"""Benchmark log generator: a large, realistic structured kube-apiserver log, fast.

``write_apiserver_log(path, n_lines, seed=0, era="1.28")`` writes exactly ``n_lines`` physical
lines of a 1.28-style kube-apiserver log (formats-server.md §1, §3 variant G, §5 T3):

* ~85 % access-log lines (``httplog.go:132] "HTTP" verb=... audit-ID=... apf_...``), verbs
  GET/LIST/WATCH/POST/PUT/PATCH/DELETE over pods, nodes (+status), leases, events, configmaps,
  endpoints, replicationcontrollers, namespaces, bindings and non-resource /healthz /metrics;
  user agents with spaces and parentheses, some ``[::1]`` sources, some 429s;
* other klog records, structured (``"msg" k=v``) and printf, some ``W``/``E``;
* multi-line utiltrace blocks (T3, ``trace.go:236``) and a few 5xx records whose
  ``statusStack=<`` block (TAB-indented lines, closed by `` >``) spans several lines.

Header times increase with small non-monotonic jitter (±20 µs), as real klog writes them.
Average ≈ 400 bytes per line. Generation is vectorised per block (numpy random columns, then one
f-string per record) and streams to disk in blocks, so memory stays flat.

Command line: ``python -m kubelog.synth.bench OUT N [SEED]``.
"""
from __future__ import annotations

import math
import sys
import time
from collections import Counter

import numpy as np

from .gofmt import KlogClock, go_duration, trace_clock, trace_date

T0_NS = 1692780000 * 1_000_000_000  # 2023-08-23 08:40:00 UTC
SHA = "855e7c4"
V = "v1.28.0"
UAS = {
    "kubelet": f"kubelet/{V} (linux/amd64) kubernetes/{SHA}",
    "sched": f"kube-scheduler/{V} (linux/amd64) kubernetes/{SHA}/scheduler",
    "kcm_rc": f"kube-controller-manager/{V} (linux/amd64) kubernetes/{SHA}/system:serviceaccount:kube-system:replication-controller",
    "kcm_gc": f"kube-controller-manager/{V} (linux/amd64) kubernetes/{SHA}/system:serviceaccount:kube-system:generic-garbage-collector",
    "kcm_ep": f"kube-controller-manager/{V} (linux/amd64) kubernetes/{SHA}/system:serviceaccount:kube-system:endpoint-controller",
    "e2e": f"e2e.test/{V} (linux/amd64) kubernetes/{SHA} -- [sig-scalability] Density",
    "probe": "kube-probe/1.28",
    "prom": "Prometheus/2.45.0",
    "kubectl": f"kubectl/{V} (linux/amd64) kubernetes/{SHA}",
}
APF = {
    "kubelet": ("system", "system-nodes"),
    "sched": ("workload-high", "kube-scheduler"),
    "kcm_rc": ("workload-high", "kube-system-service-accounts"),
    "kcm_gc": ("workload-high", "kube-system-service-accounts"),
    "kcm_ep": ("workload-high", "kube-system-service-accounts"),
    "e2e": ("global-default", "global-default"),
    "probe": ("exempt", "probes"),
    "prom": ("exempt", "exempt"),
    "kubectl": ("exempt", "exempt"),
}

# (weight, printed verb, client, median latency s, sigma, uri builder(a, b))
# a: namespace index, b: object index (random ints)
TEMPLATES = [
    (14, "PUT", "kubelet", 0.004, 0.6, lambda a, b: f"/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/hollow-node-{b % 500}?timeout=10s"),
    (8, "PATCH", "kubelet", 0.006, 0.6, lambda a, b: f"/api/v1/nodes/hollow-node-{b % 500}/status?timeout=10s"),
    (6, "GET", "kubelet", 0.0015, 0.5, lambda a, b: f"/api/v1/nodes/hollow-node-{b % 500}?resourceVersion=0&timeout=10s"),
    (10, "PATCH", "kubelet", 0.007, 0.7, lambda a, b: f"/api/v1/namespaces/density-{a}/pods/density-pod-{b}/status"),
    (6, "GET", "kubelet", 0.002, 0.5, lambda a, b: f"/api/v1/namespaces/density-{a}/pods/density-pod-{b}"),
    (3, "GET", "kubelet", 0.0018, 0.5, lambda a, b: f"/api/v1/namespaces/density-{a}/configmaps/kube-root-ca.crt"),
    (6, "POST", "kcm_rc", 0.009, 0.7, lambda a, b: f"/api/v1/namespaces/density-{a}/pods"),
    (3, "DELETE", "kcm_gc", 0.008, 0.7, lambda a, b: f"/api/v1/namespaces/density-{a}/pods/density-pod-{b}"),
    (6, "POST", "sched", 0.006, 0.6, lambda a, b: f"/api/v1/namespaces/density-{a}/pods/density-pod-{b}/binding"),
    (6, "POST", "sched", 0.005, 0.6, lambda a, b: f"/apis/events.k8s.io/v1/namespaces/density-{a}/events"),
    (4, "POST", "kubelet", 0.005, 0.6, lambda a, b: f"/api/v1/namespaces/density-{a}/events"),
    (2, "PATCH", "kcm_rc", 0.006, 0.6, lambda a, b: f"/api/v1/namespaces/density-{a}/events/density-pod-{b}.17a2b{b % 9973:05x}"),
    (2, "LIST", "e2e", 0.035, 0.9, lambda a, b: f"/api/v1/namespaces/density-{a}/pods?labelSelector=name%3Ddensity-{a}&resourceVersion=0"),
    (1, "LIST", "kcm_ep", 0.12, 1.0, lambda a, b: "/api/v1/pods?limit=500&resourceVersion=0"),
    (1, "LIST", "sched", 0.25, 1.0, lambda a, b: "/api/v1/nodes?limit=500&resourceVersion=0"),
    (2, "PUT", "kcm_ep", 0.006, 0.6, lambda a, b: f"/api/v1/namespaces/density-{a}/endpoints/svc-{b % 40}"),
    (2, "GET", "kcm_rc", 0.002, 0.5, lambda a, b: f"/api/v1/namespaces/density-{a}/replicationcontrollers/density-{a}-rc"),
    (1, "PUT", "kcm_rc", 0.006, 0.6, lambda a, b: f"/api/v1/namespaces/density-{a}/replicationcontrollers/density-{a}-rc/status"),
    (1, "POST", "e2e", 0.01, 0.6, lambda a, b: f"/api/v1/namespaces/density-{a}/replicationcontrollers"),
    (1, "GET", "e2e", 0.002, 0.5, lambda a, b: f"/api/v1/namespaces/density-{a}"),
    (1, "LIST", "kubectl", 0.02, 0.8, lambda a, b: "/api/v1/namespaces?limit=500"),
    (2, "GET", "probe", 0.0009, 0.4, lambda a, b: "/healthz"),
    (1, "GET", "prom", 0.04, 0.5, lambda a, b: "/metrics"),
    (2, "WATCH", "kubelet", 300.0, 0.3, lambda a, b: f"/api/v1/pods?allowWatchBookmarks=true&fieldSelector=spec.nodeName%3Dhollow-node-{b % 500}&resourceVersion={100000 + b}&timeout=7m{b % 60}s&timeoutSeconds={420 + b % 60}&watch=true"),
    (1, "WATCH", "sched", 300.0, 0.3, lambda a, b: f"/api/v1/pods?allowWatchBookmarks=true&fieldSelector=status.phase%21%3DSucceeded%2Cstatus.phase%21%3DFailed&resourceVersion={100000 + b}&timeout=9m12s&timeoutSeconds=552&watch=true"),
    (1, "WATCH", "kcm_rc", 300.0, 0.3, lambda a, b: f"/api/v1/replicationcontrollers?allowWatchBookmarks=true&resourceVersion={100000 + b}&timeout=5m{b % 60}s&timeoutSeconds={300 + b % 60}&watch=true"),
]
_W = np.array([t[0] for t in TEMPLATES], dtype=float)
_W /= _W.sum()

MESSAGES = [
    lambda a, b, aid: ('I', 'get.go:261', f'"Starting watch" path="/api/v1/namespaces/density-{a}/pods" resourceVersion="{100000 + b}" labels="name=density-{a}" fields="" timeout="8m{b % 60}s"'),
    lambda a, b, aid: ('I', 'controller.go:624', 'quota admission added evaluator for: replicationcontrollers'),
    lambda a, b, aid: ('I', 'alloc.go:330', f'"allocated clusterIPs" service="density-{a}/svc-{b % 40}" clusterIPs={{"IPv4":"10.96.{b % 250}.{a % 250}"}}'),
    lambda a, b, aid: ('W', 'dispatcher.go:217', f'Failed calling webhook, failing open pod-policy.example.com: failed calling webhook "pod-policy.example.com": Post "https://webhook.density-{a}.svc:443/validate?timeout=10s": context deadline exceeded'),
    lambda a, b, aid: ('E', 'timeout.go:142', f'post-timeout activity - time-elapsed: {go_duration(1_000_000 + b * 997)}, GET "/api/v1/namespaces/density-{a}/pods" result: <nil>'),
    lambda a, b, aid: ('E', 'wrap.go:54', f'timeout or abort while handling: method=PUT URI="/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/hollow-node-{b % 500}?timeout=10s" audit-ID="{aid}"'),
    lambda a, b, aid: ('I', 'cacher.go:902', f'cacher (pods): 1 objects queued in incoming channel.'),
    lambda a, b, aid: ('W', 'watcher.go:338', f'watch chan error: etcdserver: mvcc: required revision has been compacted'),
    lambda a, b, aid: ('I', 'handler.go:232', f'Adding GroupVersion metrics.k8s.io v1beta1 to ResourceManager'),
    lambda a, b, aid: ('I', 'lease.go:251', f'Resetting endpoints for master service "kubernetes" to [10.0.0.2]'),
]
STACK = [
    "goroutine {g} [running]:",
    "k8s.io/apiserver/pkg/server/httplog.(*respLogger).recordStatus(0xc00{h}, 0x1f4)",
    "\tk8s.io/apiserver/pkg/server/httplog/httplog.go:321 +0x8b",
    "k8s.io/apiserver/pkg/server/httplog.(*respLogger).WriteHeader(0xc00{h}, 0x1f4)",
    "\tk8s.io/apiserver/pkg/server/httplog/httplog.go:301 +0x26",
    "k8s.io/apiserver/pkg/endpoints/handlers/responsewriters.WriteObjectNegotiated({{0x2c5a0b8, 0xc00a2d3f80}}, {{0x2c5a3e8, 0x42b6f00}}, {{{{0x0, 0x0}}, {{0x2819a63, 0x2}}}}, {{0x2c4dbc8, 0xc00{h}}}, 0xc00bd2e300, 0x1f4, {{0x2c36e80, 0xc00b5b6140}})",
    "\tk8s.io/apiserver/pkg/endpoints/handlers/responsewriters/writers.go:286 +0x545",
]

SRC_PORTS_BASE = 30000


def _uuid_block(rng: np.random.Generator, n: int) -> list[str]:
    h = rng.bytes(16 * n).hex()
    var = rng.integers(0, 4, n).tolist()
    out = []
    ap = out.append
    for i in range(n):
        o = i * 32
        ap(f"{h[o:o + 8]}-{h[o + 8:o + 12]}-4{h[o + 13:o + 16]}-{'89ab'[var[i]]}{h[o + 17:o + 20]}-{h[o + 20:o + 32]}")
    return out


def write_apiserver_log(path, n_lines: int, seed: int = 0, era: str = "1.28", block: int = 50_000) -> dict:
    """Write exactly ``n_lines`` physical lines of a structured (1.28) kube-apiserver log.

    Returns counts: ``lines``, ``bytes``, ``access_requests``, ``by_verb`` (as printed),
    ``by_code``, ``long_running`` (WATCH), ``messages`` (non-access single records),
    ``traces`` (Trace blocks), ``error_records`` (5xx with statusStack), ``continuation_lines``,
    ``records``, ``seconds`` (wall time) and ``lines_per_s``.
    """
    if era != "1.28":
        raise ValueError("bench.write_apiserver_log supports era '1.28' only")
    t_start = time.perf_counter()
    rng = np.random.default_rng(seed)
    clock = KlogClock()
    by_verb: Counter = Counter()
    by_code: Counter = Counter()
    counts = Counter()
    written = 0
    t = T0_NS
    kinds_p = np.array([0.955, 0.035, 0.008, 0.002])  # access, message, trace, 5xx (per record)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        while written < n_lines:
            nb = block
            kind = rng.choice(4, size=nb, p=kinds_p).tolist()
            tmpl = rng.choice(len(TEMPLATES), size=nb, p=_W).tolist()
            gaps = rng.exponential(250_000.0, nb).astype(np.int64)  # 0.25 ms mean between records
            ends = (t + np.cumsum(gaps)).tolist()
            t = ends[-1]
            jit = rng.integers(-20_000, 20_000, nb).tolist()
            z = rng.standard_normal(nb).tolist()
            a_ = rng.integers(1, 11, nb).tolist()
            b_ = rng.integers(0, 30000, nb).tolist()
            ip = rng.integers(2, 250, nb).tolist()
            port = rng.integers(SRC_PORTS_BASE, 65000, nb).tolist()
            u = rng.random(nb).tolist()
            fseats = rng.integers(0, 3, nb).tolist()
            aids = _uuid_block(rng, nb)
            out = []
            ap = out.append
            for i in range(nb):
                if written >= n_lines:
                    break
                k = kind[i]
                room = n_lines - written
                hts = ends[i] + jit[i]
                a = a_[i]
                b = b_[i]
                if k == 2 and room >= 4:  # trace block, 3 or 4 lines
                    tid = (b * 7919 + a * 104729 + i) % 2147483647
                    tot_ms = 500 + int(abs(z[i]) * 900)
                    st = hts - tot_ms * 1_000_000 - 137_000
                    nested = u[i] < 0.5
                    hdr = clock.header("I", hts, 11, "trace.go:236")
                    url = f"/api/v1/namespaces/density-{a}/pods"
                    ap(f'{hdr}Trace[{tid}]: "List" accept:application/vnd.kubernetes.protobuf, */*,audit-id:{aids[i]},'
                       f'client:10.0.0.{ip[i]},protocol:HTTP/2.0,resource:pods,scope:namespace,url:{url},'
                       f'user-agent:{UAS["e2e"]},verb:LIST ({trace_date(st)}) (total time: {tot_ms}ms):')
                    if nested:
                        ap(f'Trace[{tid}]: ["List(recursive=true) etcd3" audit-id:{aids[i]},key:/pods/density-{a},resourceVersion:,resourceVersionMatch:,limit:0,continue: {tot_ms - 3}ms ({trace_clock(st)})]')
                    ap(f'Trace[{tid}]: ---"Writing http response done" count:{b % 3000} {tot_ms - 1}ms ({trace_clock(st + (tot_ms - 1) * 1_000_000)})')
                    d = go_duration(tot_ms * 1_000_000 + 137_000 + b)
                    ap(f"Trace[{tid}]: [{d}] [{d}] END")
                    n = 4 if nested else 3
                    written += n
                    counts["traces"] += 1
                    counts["continuation_lines"] += n - 1
                    counts["records"] += 1
                    continue
                if k == 3 and room >= 2 + len(STACK):  # 5xx with statusStack block
                    lat = int(1_000_000 * (5 + 40 * u[i]))
                    uri = f"/api/v1/namespaces/density-{a}/pods/density-pod-{b}"
                    hdr = clock.header("I", hts, 11, "httplog.go:132")
                    ap(f'{hdr}"HTTP" verb="GET" URI="{uri}" latency="{go_duration(lat)}" userAgent="{UAS["kubelet"]}" '
                       f'audit-ID="{aids[i]}" srcIP="10.0.0.{ip[i]}:{port[i]}" apf_pl="system" apf_fs="system-nodes" '
                       f'apf_iseats=1 apf_fseats=0 apf_additionalLatency="0s" apf_execution_time="{go_duration(lat - 41_000)}" resp=500 statusStack=<')
                    hx = f"{b:06x}"
                    ap("\t")
                    for s in STACK:
                        ap("\t" + s.format(g=1000 + b, h=hx))
                    ap(" >")
                    written += 3 + len(STACK)
                    counts["error_records"] += 1
                    counts["access_requests"] += 1
                    counts["continuation_lines"] += 2 + len(STACK)
                    counts["records"] += 1
                    by_verb["GET"] += 1
                    by_code[500] += 1
                    continue
                if k == 1 or k >= 2:  # message (also fallback for blocks that do not fit)
                    sev, caller, msg = MESSAGES[b % len(MESSAGES)](a, b, aids[i])
                    ap(clock.header(sev, hts, 11, caller) + msg)
                    written += 1
                    counts["messages"] += 1
                    counts["records"] += 1
                    continue
                w, verb, cl, med, sig, fn = TEMPLATES[tmpl[i]]
                lat = int(med * 1e9 * math.exp(sig * z[i]))
                if lat < 50_000:
                    lat = 50_000 + b
                uri = fn(a, b)
                pl, fs = APF[cl]
                src = f"[::1]:{port[i]}" if (cl == "sched" and ip[i] < 60) else f"10.0.{a}.{ip[i]}:{port[i]}"
                if verb == "WATCH":
                    code = 200
                    apf = (f'apf_pl="{pl}" apf_fs="{fs}" apf_iseats=1 apf_fseats=0 apf_additionalLatency="0s" '
                           f'apf_init_latency="{go_duration(200_000 + b * 3)}" apf_execution_time="{go_duration(210_000 + b * 3)}" ')
                    counts["long_running"] += 1
                elif u[i] < 0.004 and pl != "exempt":
                    code = 429
                    lat = 20_000 + b * 11
                    apf = f'apf_pl="{pl}" apf_fs="{fs}" '
                elif pl == "exempt":
                    code = 200
                    apf = f'apf_pl="{pl}" apf_fs="{fs}" apf_execution_time="{go_duration(lat * 7 // 10)}" '
                else:
                    code = 201 if verb == "POST" else 200
                    if verb == "GET" and u[i] > 0.985:
                        code = 404
                    apf = (f'apf_pl="{pl}" apf_fs="{fs}" apf_iseats=1 apf_fseats={fseats[i] if verb == "LIST" else 0} '
                           f'apf_additionalLatency="0s" apf_execution_time="{go_duration(lat * 9 // 10)}" ')
                ap(f'{clock.header("I", hts, 11, "httplog.go:132")}"HTTP" verb="{verb}" URI="{uri}" latency="{go_duration(lat)}" '
                   f'userAgent="{UAS[cl]}" audit-ID="{aids[i]}" srcIP="{src}" {apf}resp={code}')
                written += 1
                counts["access_requests"] += 1
                counts["records"] += 1
                by_verb[verb] += 1
                by_code[code] += 1
            data = "\n".join(out) + "\n"
            counts["bytes"] += len(data.encode("utf-8"))
            f.write(data)
    secs = time.perf_counter() - t_start
    res = {
        "lines": written,
        "bytes": counts["bytes"],
        "records": counts["records"],
        "access_requests": counts["access_requests"],
        "long_running": counts["long_running"],
        "messages": counts["messages"],
        "traces": counts["traces"],
        "error_records": counts["error_records"],
        "continuation_lines": counts["continuation_lines"],
        "by_verb": dict(sorted(by_verb.items())),
        "by_code": {str(k): v for k, v in sorted(by_code.items())},
        "seed": seed,
        "era": era,
        "seconds": round(secs, 3),
        "lines_per_s": round(written / secs) if secs > 0 else None,
    }
    return res


def main(argv=None) -> int:
    import json
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) < 2:
        print("usage: python -m kubelog.synth.bench OUT N_LINES [SEED]", file=sys.stderr)
        return 2
    seed = int(argv[2]) if len(argv) > 2 else 0
    res = write_apiserver_log(argv[0], int(float(argv[1])), seed=seed)
    print(json.dumps(res, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
