"""Benchmark log generator: a large, realistic structured kube-apiserver log, fast.

``write_apiserver_log(path, n_lines, seed=0, era="1.28")`` writes exactly ``n_lines`` physical
lines of a 1.28-style kube-apiserver log (docs/formats/klog.md: klog header, httplog of 1.28, a 1.20+ trace):

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

import sys
import time
from collections import Counter

import numpy as np

import pyarrow as pa
import pyarrow.compute as pc

from .gofmt import KlogClock, go_duration, trace_clock, trace_date
from .vec import cat, istr, klog_header, take, uuid4
from .vec import go_duration as vdur

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

# (weight, printed verb, client, median latency s, sigma, URI pieces p0, a?, p1, b modulus (0: none), p2)
# URI = p0 + [a] + p1 + [b % mod] + p2, with a a namespace index and b an object index.
TEMPLATES = [
    (
        14,
        "PUT",
        "kubelet",
        0.004,
        0.6,
        "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/hollow-node-",
        0,
        "",
        500,
        "?timeout=10s",
    ),
    (8, "PATCH", "kubelet", 0.006, 0.6, "/api/v1/nodes/hollow-node-", 0, "", 500, "/status?timeout=10s"),
    (6, "GET", "kubelet", 0.0015, 0.5, "/api/v1/nodes/hollow-node-", 0, "", 500, "?resourceVersion=0&timeout=10s"),
    (10, "PATCH", "kubelet", 0.007, 0.7, "/api/v1/namespaces/density-", 1, "/pods/density-pod-", 30000, "/status"),
    (6, "GET", "kubelet", 0.002, 0.5, "/api/v1/namespaces/density-", 1, "/pods/density-pod-", 30000, ""),
    (3, "GET", "kubelet", 0.0018, 0.5, "/api/v1/namespaces/density-", 1, "/configmaps/kube-root-ca.crt", 0, ""),
    (6, "POST", "kcm_rc", 0.009, 0.7, "/api/v1/namespaces/density-", 1, "/pods", 0, ""),
    (3, "DELETE", "kcm_gc", 0.008, 0.7, "/api/v1/namespaces/density-", 1, "/pods/density-pod-", 30000, ""),
    (6, "POST", "sched", 0.006, 0.6, "/api/v1/namespaces/density-", 1, "/pods/density-pod-", 30000, "/binding"),
    (6, "POST", "sched", 0.005, 0.6, "/apis/events.k8s.io/v1/namespaces/density-", 1, "/events", 0, ""),
    (4, "POST", "kubelet", 0.005, 0.6, "/api/v1/namespaces/density-", 1, "/events", 0, ""),
    (
        2,
        "PATCH",
        "kcm_rc",
        0.006,
        0.6,
        "/api/v1/namespaces/density-",
        1,
        "/events/density-pod-",
        30000,
        ".17a2b0c41d9e5f3a",
    ),
    (
        2,
        "LIST",
        "e2e",
        0.035,
        0.9,
        "/api/v1/namespaces/density-",
        1,
        "/pods?labelSelector=type%3DdensityPod&resourceVersion=0",
        0,
        "",
    ),
    (1, "LIST", "kcm_ep", 0.12, 1.0, "/api/v1/pods?limit=500&resourceVersion=0", 0, "", 0, ""),
    (1, "LIST", "sched", 0.25, 1.0, "/api/v1/nodes?limit=500&resourceVersion=0", 0, "", 0, ""),
    (2, "PUT", "kcm_ep", 0.006, 0.6, "/api/v1/namespaces/density-", 1, "/endpoints/svc-", 40, ""),
    (2, "GET", "kcm_rc", 0.002, 0.5, "/api/v1/namespaces/density-", 1, "/replicationcontrollers/density-rc-", 10, ""),
    (
        1,
        "PUT",
        "kcm_rc",
        0.006,
        0.6,
        "/api/v1/namespaces/density-",
        1,
        "/replicationcontrollers/density-rc-",
        10,
        "/status",
    ),
    (1, "POST", "e2e", 0.01, 0.6, "/api/v1/namespaces/density-", 1, "/replicationcontrollers", 0, ""),
    (1, "GET", "e2e", 0.002, 0.5, "/api/v1/namespaces/density-", 1, "", 0, ""),
    (1, "LIST", "kubectl", 0.02, 0.8, "/api/v1/namespaces?limit=500", 0, "", 0, ""),
    (2, "GET", "probe", 0.0009, 0.4, "/healthz", 0, "", 0, ""),
    (1, "GET", "prom", 0.04, 0.5, "/metrics", 0, "", 0, ""),
    (
        2,
        "WATCH",
        "kubelet",
        300.0,
        0.3,
        "/api/v1/pods?allowWatchBookmarks=true&fieldSelector=spec.nodeName%3Dhollow-node-",
        1,
        "&resourceVersion=",
        900000,
        "&timeout=7m26s&timeoutSeconds=446&watch=true",
    ),
    (
        1,
        "WATCH",
        "sched",
        300.0,
        0.3,
        "/api/v1/pods?allowWatchBookmarks=true&fieldSelector=status.phase%21%3DSucceeded%2Cstatus.phase%21%3DFailed&resourceVersion=",
        0,
        "",
        900000,
        "&timeout=9m12s&timeoutSeconds=552&watch=true",
    ),
    (
        1,
        "WATCH",
        "kcm_rc",
        300.0,
        0.3,
        "/api/v1/replicationcontrollers?allowWatchBookmarks=true&resourceVersion=",
        0,
        "",
        900000,
        "&timeout=5m38s&timeoutSeconds=338&watch=true",
    ),
]
_W = np.array([t[0] for t in TEMPLATES], dtype=float)
_W /= _W.sum()
_CLIENTS = list(UAS)

MESSAGES = [
    lambda a, b, aid: (
        "I",
        "get.go:261",
        f'"Starting watch" path="/api/v1/namespaces/density-{a}/pods" resourceVersion="{100000 + b}" labels="name=density-{a}" fields="" timeout="8m{b % 60}s"',
    ),
    lambda a, b, aid: ("I", "controller.go:624", "quota admission added evaluator for: replicationcontrollers"),
    lambda a, b, aid: (
        "I",
        "alloc.go:330",
        f'"allocated clusterIPs" service="density-{a}/svc-{b % 40}" clusterIPs={{"IPv4":"10.96.{b % 250}.{a % 250}"}}',
    ),
    lambda a, b, aid: (
        "W",
        "dispatcher.go:217",
        f'Failed calling webhook, failing open pod-policy.example.com: failed calling webhook "pod-policy.example.com": Post "https://webhook.density-{a}.svc:443/validate?timeout=10s": context deadline exceeded',
    ),
    lambda a, b, aid: (
        "E",
        "timeout.go:142",
        f'post-timeout activity - time-elapsed: {go_duration(1_000_000 + b * 997)}, GET "/api/v1/namespaces/density-{a}/pods" result: <nil>',
    ),
    lambda a, b, aid: (
        "E",
        "wrap.go:54",
        f'timeout or abort while handling: method=PUT URI="/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/hollow-node-{b % 500}?timeout=10s" audit-ID="{aid}"',
    ),
    lambda a, b, aid: ("I", "cacher.go:902", "cacher (pods): 1 objects queued in incoming channel."),
    lambda a, b, aid: (
        "W",
        "watcher.go:338",
        "watch chan error: etcdserver: mvcc: required revision has been compacted",
    ),
    lambda a, b, aid: ("I", "handler.go:232", "Adding GroupVersion metrics.k8s.io v1beta1 to ResourceManager"),
    lambda a, b, aid: ("I", "lease.go:251", 'Resetting endpoints for master service "kubernetes" to [10.0.0.2]'),
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


def _unused_uuid_block(rng: np.random.Generator, n: int) -> list[str]:
    h = rng.bytes(16 * n).hex()
    var = rng.integers(0, 4, n).tolist()
    out = []
    ap = out.append
    for i in range(n):
        o = i * 32
        ap(
            f"{h[o : o + 8]}-{h[o + 8 : o + 12]}-4{h[o + 13 : o + 16]}-{'89ab'[var[i]]}{h[o + 17 : o + 20]}-{h[o + 20 : o + 32]}"
        )
    return out


def _other_record(k, i, hts, a, b, z, u, ip, port, aid, clock) -> tuple[str, int, str]:
    """A non-access record: (text with embedded newlines, physical lines, kind)."""
    if k == 2:  # utiltrace T3 block, 3 or 4 lines
        tid = (b * 7919 + a * 104729 + i) % 2147483647
        tot_ms = 500 + int(abs(z) * 900)
        st = hts - tot_ms * 1_000_000 - 137_000
        nested = u < 0.5
        hdr = clock.header("I", hts, 11, "trace.go:236")
        url = f"/api/v1/namespaces/density-{a}/pods"
        lines = [
            f'{hdr}Trace[{tid}]: "List" accept:application/vnd.kubernetes.protobuf, */*,audit-id:{aid},'
            f"client:10.0.0.{ip},protocol:HTTP/2.0,resource:pods,scope:namespace,url:{url},"
            f"user-agent:{UAS['e2e']},verb:LIST ({trace_date(st)}) (total time: {tot_ms}ms):"
        ]
        if nested:
            lines.append(
                f'Trace[{tid}]: ["List(recursive=true) etcd3" audit-id:{aid},key:/pods/density-{a},resourceVersion:,'
                f"resourceVersionMatch:,limit:0,continue: {tot_ms - 3}ms ({trace_clock(st)})]"
            )
        lines.append(
            f'Trace[{tid}]: ---"Writing http response done" count:{b % 3000} {tot_ms - 1}ms '
            f"({trace_clock(st + (tot_ms - 1) * 1_000_000)})"
        )
        d = go_duration(tot_ms * 1_000_000 + 137_000 + b)
        lines.append(f"Trace[{tid}]: [{d}] [{d}] END")
        return "\n".join(lines), len(lines), "trace"
    if k == 3:  # 5xx access record with a statusStack=< block
        lat = int(1_000_000 * (5 + 40 * u))
        uri = f"/api/v1/namespaces/density-{a}/pods/density-pod-{b}"
        hdr = clock.header("I", hts, 11, "httplog.go:132")
        lines = [
            f'{hdr}"HTTP" verb="GET" URI="{uri}" latency="{go_duration(lat)}" userAgent="{UAS["kubelet"]}" '
            f'audit-ID="{aid}" srcIP="10.0.0.{ip}:{port}" apf_pl="system" apf_fs="system-nodes" '
            f'apf_iseats=1 apf_fseats=0 apf_additionalLatency="0s" apf_execution_time="{go_duration(lat - 41_000)}" '
            f"resp=500 statusStack=<",
            "\t",
        ]
        hx = f"{b:06x}"
        lines += ["\t" + s.format(g=1000 + b, h=hx) for s in STACK]
        lines.append(" >")
        return "\n".join(lines), len(lines), "error"
    sev, caller, msg = MESSAGES[b % len(MESSAGES)](a, b, aid)
    return clock.header(sev, hts, 11, caller) + msg, 1, "message"


_T_VERB = [t[1] for t in TEMPLATES]
_T_CL = np.array([_CLIENTS.index(t[2]) for t in TEMPLATES])
_T_MED = np.array([t[3] for t in TEMPLATES])
_T_SIG = np.array([t[4] for t in TEMPLATES])
_T_P0 = [t[5] for t in TEMPLATES]
_T_USEA = np.array([t[6] for t in TEMPLATES], dtype=bool)
_T_P1 = [t[7] for t in TEMPLATES]
_T_MOD = np.array([t[8] for t in TEMPLATES])
_T_P2 = [t[9] for t in TEMPLATES]
_T_WATCH = np.array([t[1] == "WATCH" for t in TEMPLATES])
_T_POST = np.array([t[1] == "POST" for t in TEMPLATES])
_T_GET = np.array([t[1] == "GET" for t in TEMPLATES])
_T_LIST = np.array([t[1] == "LIST" for t in TEMPLATES])
_C_EXEMPT = np.array([APF[c][0] == "exempt" for c in _CLIENTS])
_C_SCHED = np.array([c == "sched" for c in _CLIENTS])


def _access_lines(rng, nb, hts, a, b, ip, port, aids):  # noqa: PLR0913
    """Vectorised 1.28 access-log lines for one block; returns (StringArray, verb idx, codes, watch mask)."""
    tm = rng.choice(len(TEMPLATES), size=nb, p=_W)
    z = rng.standard_normal(nb)
    u = rng.random(nb)
    fse = rng.integers(0, 3, nb)
    cl = _T_CL[tm]
    lat = (_T_MED[tm] * 1e9 * np.exp(_T_SIG[tm] * z)).astype(np.int64)
    lat = np.where(lat < 50_000, 50_000 + b, lat)
    watch = _T_WATCH[tm]
    exempt = _C_EXEMPT[cl]
    code = np.where(_T_POST[tm], 201, 200)
    code = np.where(_T_GET[tm] & (u > 0.985), 404, code)
    rej = (u < 0.004) & ~exempt & ~watch
    code = np.where(rej, 429, code)
    lat = np.where(rej, 20_000 + b * 11, lat)
    mod = _T_MOD[tm]
    bm = b % np.where(mod > 0, mod, 1)
    uri = cat(
        take(_T_P0, tm),
        pc.if_else(pa.array(_T_USEA[tm]), istr(a), ""),
        take(_T_P1, tm),
        pc.if_else(pa.array(mod > 0), istr(bm), ""),
        take(_T_P2, tm),
    )
    ua = take([UAS[c] for c in _CLIENTS], cl)
    pl = take([APF[c][0] for c in _CLIENTS], cl)
    fs = take([APF[c][1] for c in _CLIENTS], cl)
    loop6 = _C_SCHED[cl] & (ip < 60)
    sport = istr(port)
    src = pc.if_else(pa.array(loop6), cat("[::1]:", sport), cat("10.0.", istr(a), ".", istr(ip), ":", sport))
    ex = np.where(exempt, lat * 7 // 10, np.where(watch, 210_000 + b * 3, lat * 9 // 10))
    exs = vdur(ex)
    head = cat('apf_pl="', pl, '" apf_fs="', fs, '" ')
    seats = cat("apf_iseats=1 apf_fseats=", istr(np.where(_T_LIST[tm], fse, 0)), ' apf_additionalLatency="0s" ')
    init = pc.if_else(pa.array(watch), cat('apf_init_latency="', vdur(ex - 9_000), '" '), "")
    apf = cat(head, pc.if_else(pa.array(exempt), "", seats), init, 'apf_execution_time="', exs, '" ')
    apf = pc.if_else(pa.array(rej), head, apf)
    line = cat(
        klog_header("I", hts, 11, "httplog.go:132"),
        '"HTTP" verb="',
        take(_T_VERB, tm),
        '" URI="',
        uri,
        '" latency="',
        vdur(lat),
        '" userAgent="',
        ua,
        '" audit-ID="',
        aids,
        '" srcIP="',
        src,
        '" ',
        apf,
        "resp=",
        istr(code),
    )
    return line, tm, code, watch


def _make_block(seed: int, k: int, nb: int):
    """Block ``k`` of the benchmark log (its own random stream, so blocks can be made in parallel)."""
    rng = np.random.default_rng([seed, k])
    clock = KlogClock()
    kinds_p = np.array([0.91, 0.07, 0.016, 0.004])  # access, message, trace, 5xx per record: ~85 % of lines
    kind = rng.choice(4, size=nb, p=kinds_p)
    gaps = rng.exponential(1.0, nb)
    span = nb * 250_000  # 0.25 ms mean between records
    ends = T0_NS + k * span + (np.cumsum(gaps) * (span / gaps.sum())).astype(np.int64)
    hts = ends + rng.integers(-20_000, 20_000, nb)  # klog: header time taken before the write
    a = rng.integers(1, 11, nb)
    b = rng.integers(0, 30000, nb)
    ip = rng.integers(2, 250, nb)
    port = rng.integers(SRC_PORTS_BASE, 65000, nb)
    z = rng.standard_normal(nb)
    u = rng.random(nb)
    aids = uuid4(rng, nb)
    line, tm, code, watch = _access_lines(rng, nb, hts, a, b, ip, port, aids)
    nl = np.ones(nb, dtype=np.int64)
    other = np.flatnonzero(kind != 0)
    okind = {}
    texts = []
    if len(other):
        aid_l = aids.take(pa.array(other)).to_pylist()
        for j, i in enumerate(other.tolist()):
            txt, n, kk = _other_record(
                int(kind[i]),
                i,
                int(hts[i]),
                int(a[i]),
                int(b[i]),
                float(z[i]),
                float(u[i]),
                int(ip[i]),
                int(port[i]),
                aid_l[j],
                clock,
            )
            texts.append(txt)
            nl[i] = n
            okind[i] = kk
        mask = np.zeros(nb, dtype=bool)
        mask[other] = True
        line = pc.replace_with_mask(line, pa.array(mask), pa.array(texts, type=pa.string()))
    return line, nl, okind, kind, tm, code, watch, hts, a, b


def write_apiserver_log(path, n_lines: int, seed: int = 0, era: str = "1.28", block: int = 100_000) -> dict:
    """Write exactly ``n_lines`` physical lines of a structured (1.28) kube-apiserver log.

    Returns counts: ``lines``, ``bytes``, ``records``, ``access_requests`` (incl. 5xx error
    records), ``long_running`` (WATCH), ``messages`` (other single-line records), ``traces``
    (Trace blocks), ``error_records`` (5xx with a statusStack block), ``continuation_lines``,
    ``by_verb`` (as printed), ``by_code``, ``seconds`` (wall time) and ``lines_per_s``.
    """
    if era != "1.28":
        raise ValueError("bench.write_apiserver_log supports era '1.28' only")
    t_start = time.perf_counter()
    clock = KlogClock()
    by_verb: Counter = Counter()
    by_code: Counter = Counter()
    counts: Counter = Counter()
    written = 0
    from collections import deque
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(max_workers=2)
    pending: deque = deque()
    next_k = 0
    with open(path, "wb") as f:
        while written < n_lines:
            while len(pending) < 3:
                pending.append(pool.submit(_make_block, seed, next_k, block))
                next_k += 1
            nb = block
            line, nl, okind, kind, tm, code, watch, hts, a, b = pending.popleft().result()
            cum = np.cumsum(nl)
            room = n_lines - written
            keep = int(np.searchsorted(cum, room, side="right"))  # records that fit entirely
            used = int(cum[keep - 1]) if keep else 0
            fill = room - used if keep < nb else 0
            pad = []
            for r in range(fill):  # pad with single-line messages to hit n_lines exactly
                i = keep + r
                sev, caller, msg = MESSAGES[int(b[i]) % len(MESSAGES)](int(a[i]), int(b[i]), "")
                pad.append(clock.header(sev, int(hts[i]), 11, caller) + msg)
                counts["messages"] += 1
            line = line.slice(0, keep)
            if pad:
                line = pa.concat_arrays([line, pa.array(pad, type=pa.string())])
            acc = np.zeros(nb, dtype=bool)
            acc[:keep] = kind[:keep] == 0
            counts["records"] += keep + fill
            counts["access_requests"] += int(acc.sum())
            counts["long_running"] += int((acc & watch).sum())
            for vi, c in zip(*np.unique(tm[acc], return_counts=True)):
                by_verb[_T_VERB[vi]] += int(c)
            for ci, c in zip(*np.unique(code[acc], return_counts=True)):
                by_code[int(ci)] += int(c)
            for i, kk in okind.items():
                if i < keep:
                    if kk == "trace":
                        counts["traces"] += 1
                    elif kk == "error":
                        counts["error_records"] += 1
                        counts["access_requests"] += 1
                        by_verb["GET"] += 1
                        by_code[500] += 1
                    else:
                        counts["messages"] += 1
                    counts["continuation_lines"] += int(nl[i]) - 1
            written += used + fill
            data = cat(line, "\n")
            off = np.frombuffer(data.buffers()[1], dtype=np.int32, count=len(data) + 1, offset=data.offset * 4)
            buf = data.buffers()[2]
            f.write(memoryview(buf)[off[0] : off[-1]])
            counts["bytes"] += int(off[-1] - off[0])
    for fut in pending:
        fut.cancel()
    pool.shutdown(wait=True)
    secs = time.perf_counter() - t_start
    return {
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
