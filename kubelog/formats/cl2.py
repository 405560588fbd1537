"""clusterloader2 outputs (docs/formats/cl2-log.md, cl2-json.md): the run log (``cl2-log``) and ``--report-dir`` JSON (``cl2-json``).

cl2-log
-------
klog text on stderr (plain, or Prow ``W1112 13:18:48.029] `` wrapped).  Parsed by the klog machinery
(:class:`kubelog.formats.klog.KlogParser`: every record → ``messages``, same accounting as klog), its
blocks in order (the phase carries over: ``BlockSpec.in_order``), and in addition, per block, the clusterloader2 lines are read into derived rows:

* ``<Id>: labelSelector(group = X): gathering ...`` sets the phase (``X``: saturation, latency ...);
* ``<Id>: 100 worst <metric> latencies: [{ns/pod 1.2s} ...]`` → ``test_pod_latencies`` and names the
  metric of the following ``<Id>: perc50: .., perc90: .., perc99: ..[; threshold T]`` line →
  ``perf_summaries`` (seconds; labels: measurement, selector, threshold_s); after ``0 worst <metric>
  latencies: []`` (a measurement that saw no pod; its perc line prints ``0s``) the row has
  ``count`` 0, no percentiles and the label ``empty`` — no data, never a row of zeros;
* ``Top latency metric: {...}; threshold: 1s`` → ``perf_summaries`` metric ``api_call``;
* ``WaitForControlledPodsRunning: namespace(..), labelSelector(..): Pods: ...`` → ``progress``;
* ``<SummaryName>: {json}`` (no report dir) PerfData → ``perf_summaries``;
* ``Test Finished`` / ``Status:`` / ``Errors:``, ``measurement call ... error:``, E-lines, skipped
  measurements → the manifest (``info.cl2``).
Clock domain ``test`` (the host running clusterloader2).  Derived rows do not change the accounting.
Sniffed before klog (priority 75 < 80) on klog text that names clusterloader2 sources.

cl2-json
--------
PerfData ``{"version","dataItems":[{"data","unit","labels"}]}`` (APIResponsiveness*,
PodStartupLatency* incl. Stateless/Stateful/MatchAll, TestPhaseTimer, any in-tree PerfData summary):
ms → seconds; metric = ``labels.Metric`` or ``api_call``; phase = the measurement identifier from
the file name (``PodStartupLatency_<Identifier>_<config>_<RFC3339>.json``), else the summary name.
SchedulingThroughput ``{perc50,perc90,perc99,max|average}`` → one row per statistic (pods/s);
ResourceUsageSummary ``{"<perc>":[{"Name","CPU"|"Cpu","Mem"}]}`` → cpu (cores) / memory (bytes) rows;
SystemPodMetrics ``{"pods":[{"name","containers":[{"name","restartCount"}]}]}`` → restart_count rows.
``ts`` is the RFC3339 time in the file name when present.

Accounting rule (cl2-json): the document is parsed whole; one record line per emitted row up to the
number of physical lines (at least one), every other line is a continuation line.  Undecodable JSON
is counted ("invalid JSON", error).
"""

from __future__ import annotations

import json
import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .. import timeutil
from ..sources import lines as L
from . import e2e_util as U
from . import klog as K
from .base import Block, BlockSpec, Context, Format, Head, load_json_document
from .e2e import PROGRESS_RE, _starts_and_data

# clusterloader2 source files (perf-tests clusterloader2/pkg/...) that no Kubernetes component has, and
# the measurement prefixes of their lines; older logs (2018-2020) print progress from
# measurement/util/wait_for_pods.go and their summaries from api_responsiveness.go, metrics_for_e2e.go ...
CL2_HINT = re.compile(
    r"(?:clusterloader\.go:\d+\]|simple_test_executor\.go:\d+\]|ClusterConfig\.Nodes|--testconfig|"
    r"wait_for_controlled_pods\.go:\d+\]|phase_latency\.go:\d+\]|pod_startup_latency\.go:\d+\]|"
    r"wait_for_pods\.go:\d+\] \w+: |wait_for_running_pods\.go:\d+\]|api_responsiveness(?:_prometheus)?\.go:\d+\]|"
    r"scheduling_throughput\.go:\d+\]|metrics_for_e2e\.go:\d+\]|system_pod_metrics\.go:\d+\]|"
    r"\] (?:WaitForControlledPodsRunning|WaitForRunningPods|PodStartupLatency|APIResponsiveness\w*|"
    r"SchedulingThroughput): )"
)
_FILTER = r"(?:worst |perc50: |Top latency metric|Pods: |gathering|Test Finished|Status: |Errors: |error|skipping the measurement|: \{|Running |  Test: )"
_HDR = re.compile(K.HEADER_RE)
_SEL = re.compile(r"^(?P<id>\w+): labelSelector\((?P<sel>[^)]*)\): gathering")


def sniff_log(head: Head) -> bool:
    return bool(CL2_HINT.search(head.text)) and K.sniff(head)


class _Cl2Parser(K.KlogParser):
    def __init__(self, ctx: Context, columnar: bool = True, per_line: bool = False):
        super().__init__(ctx, component="clusterloader2")
        self.columnar = columnar  # False: the code before issue 20 (numpy per derived row's stamp)
        self.per_line = per_line or not columnar  # True: every derived row built line by line (before round 7)
        self.to_utc = U.LocalToUTC(self.tz)
        self.state = {"phase": None, "id": None, "selector": None, "metric": None}
        self.info = ctx.info.setdefault("cl2", {})

    def parse_chunk(self, ch: L.LineChunk, first_block: bool):
        out, counts = super().parse_chunk(ch, first_block)
        try:
            self._cl2(ch, out)
        except Exception as e:  # derived rows must never lose the messages
            self.ctx.error(f"clusterloader2 extraction failed: {type(e).__name__}: {e}")
        return out, counts

    def _ts(self, m) -> int | None:
        mo, dd = int(m["mm"]), int(m["dd"])
        t = m["time"]
        if self.columnar:
            d = U.civil_days(self.year, mo, dd)
            return self.to_utc(
                ((d * 86400 + int(t[0:2]) * 3600 + int(t[3:5]) * 60 + int(t[6:8])) * 1_000_000 + int(t[9:15])) * 1000
            )
        try:
            d = int(timeutil.days_from_civil(np.array([self.year]), np.array([mo]), np.array([dd]))[0])
        except Exception:
            return None
        local = ((d * 86400 + int(t[0:2]) * 3600 + int(t[3:5]) * 60 + int(t[6:8])) * 1_000_000 + int(t[9:15])) * 1000
        return int(timeutil.local_to_utc_ns(np.array([local], dtype=np.int64), self.tz)[0])

    def _cl2(self, ch: L.LineChunk, out: dict):
        text = ch.text
        if len(text) == 0:
            return
        # _FILTER's lines: those with " Pods: " (one of its forms; RE2 finds the literal fast), the pattern on the others
        pods = _fill(pc.match_substring_regex(text, " Pods: "))
        rest = np.flatnonzero(~pods)
        if len(rest) * 2 > len(text):
            hit = _fill(pc.match_substring_regex(text, _FILTER))
        else:
            hit = pods.copy()
            if len(rest):
                hit[rest] = _fill(pc.match_substring_regex(text.take(pa.array(rest)), _FILTER))
        progress = None
        if not self.per_line:
            progress, done = self._progress(text, pods, ch.line_no)
            hit[done] = False
        idx = np.flatnonzero(hit)
        if not len(idx) and (progress is None or not progress.num_rows):
            return
        tabs: dict[str, list[dict]] = {}
        worsts: list[tuple] = []  # (body, ts, metric, phase, line_no) of each worst-latency list, in order
        lines = text.take(pa.array(idx)).to_pylist()
        st = self.state
        info = self.info
        for i, line in zip(idx.tolist(), lines):
            m = _HDR.match(line or "")
            if not m:
                continue
            msg = m["msg"]
            ln = int(ch.line_no[i])
            ts = None

            def T():
                return self._ts(m)  # noqa: B023

            s = _SEL.match(msg)
            if s:
                st.update(id=s["id"], selector=s["sel"], metric=None)
                g = re.search(r"group\s*=\s*([\w-]+)", s["sel"])
                st["phase"] = g.group(1) if g else s["id"]
                continue
            if " worst " in msg and "latencies: [" in msg:
                w = U.WORST_RE.search(msg)
                if w:
                    metric = U.LATENCY_NAMES.get(w["name"].strip(), w["name"].strip())
                    st["metric"] = metric
                    # "<Id>: 0 worst <metric> latencies: []": the measurement saw no pod (its perc line
                    # then prints 0s everywhere): no data, not zeros
                    st["empty"] = w["n"] == "0" and not U.worst_list(w["body"])
                    ts = T()
                    if not self.per_line:
                        worsts.append((w["body"], ts, metric, st["phase"] or st["id"], ln))
                        continue
                    for ns, pod, node, lat in U.worst_list(w["body"]):
                        tabs.setdefault("test_pod_latencies", []).append(
                            {
                                "ts": ts,
                                "metric": metric,
                                "phase": st["phase"] or st["id"],
                                "namespace": ns,
                                "pod": pod,
                                "node": node,
                                "latency_s": lat,
                                "origin": "cl2-log",
                                "line_no": ln,
                            }
                        )
                continue
            if "perc50: " in msg and "Top latency metric" not in msg:
                p = U.perc_line(msg)
                if p:
                    mid = msg.split(":", 1)[0]
                    mm = re.match(r"^\w+: (\w+): perc50", msg)
                    metric = mm.group(1) if mm else (st["metric"] or "pod_startup")
                    thr = p.pop("threshold_s")
                    lab = {"measurement": mid}
                    if st.get("empty"):
                        p = {k: None for k in p}
                        p["count"] = 0
                        lab["empty"] = True
                    if st["selector"]:
                        lab["selector"] = st["selector"]
                    if thr is not None:
                        lab["threshold_s"] = thr
                    tabs.setdefault("perf_summaries", []).append(
                        {
                            "ts": T(),
                            "metric": metric,
                            "phase": st["phase"] or mid,
                            "labels": json.dumps(lab, sort_keys=True),
                            "origin": "cl2-log",
                            "line_no": ln,
                            **p,
                        }
                    )
                    st["metric"] = None
                    st["empty"] = False
                continue
            if "Top latency metric: " in msg:
                t = U.top_latency(msg)
                if t:
                    mid = msg.split(":", 1)[0]
                    tabs.setdefault("perf_summaries", []).append(
                        {
                            "ts": T(),
                            "metric": "api_call",
                            "phase": mid,
                            "count": t.get("count"),
                            "labels": json.dumps({"measurement": mid, **t["labels"]}, sort_keys=True),
                            "p50_s": t["p50_s"],
                            "p90_s": t["p90_s"],
                            "p99_s": t["p99_s"],
                            "p100_s": t["p100_s"],
                            "origin": "cl2-log",
                            "line_no": ln,
                        }
                    )
                continue
            if " Pods: " in msg:
                p = PROGRESS_RE.search(msg)
                if p:
                    g = p.groupdict()
                    label = (
                        g["label"].split(": ", 1)[1]
                        if g["label"].startswith("WaitForControlledPodsRunning: ")
                        else g["label"]
                    )
                    label = label.rstrip(":")  # "labelSelector(name=x): Pods: ..." (2019 wait_for_pods.go)
                    tabs.setdefault("progress", []).append(
                        {
                            "ts": T(),
                            "label": label,
                            "line_no": ln,
                            "runningButNotReady": int(g["rnr"]),
                            **{
                                k: int(g[k]) if g[k] is not None else None
                                for k in (
                                    "expected",
                                    "created",
                                    "running",
                                    "pending",
                                    "waiting",
                                    "inactive",
                                    "terminating",
                                    "unknown",
                                )
                            },
                        }
                    )
                continue
            if "skipping the measurement" in msg:
                sk = info.setdefault("skipped_measurements", [])
                if msg not in sk:
                    sk.append(msg)
                continue
            if msg.strip() == "Test Finished":
                info["finished"] = True
                continue
            fm = re.match(r"^\s+(Test|Status|Errors): (.*)$", msg)
            if fm:
                info[{"Errors": "test_errors"}.get(fm.group(1), fm.group(1).lower())] = fm.group(2).strip()
                continue
            rm = re.match(r"^Running (\S+)$", msg)
            if rm:
                info.setdefault("tests", []).append(rm.group(1))
                continue
            if m["sev"] in "EF" or "measurement call" in msg:
                info.setdefault("errors", []).append(f"{ln}: {msg[:500]}")
                continue
            jm = re.match(r"^(\w+): (\{.*)$", msg)
            if jm:
                # a summary printed inline (no --report-dir): continuation lines follow the header
                j = i + 1
                cont = []
                while j < len(text):
                    nxt = text[j].as_py()
                    if nxt is not None and _HDR.match(nxt):
                        break
                    cont.append(nxt or "")
                    j += 1
                doc = U.json_after(jm.group(2), cont)
                if isinstance(doc, dict) and "dataItems" in doc:
                    ts = T()
                    for row in U.perfdata_rows(doc, jm.group(1), "cl2-log"):
                        tabs.setdefault("perf_summaries", []).append({**row, "ts": ts, "line_no": ln})
        if worsts:
            tabs["test_pod_latencies"] = self._worst_rows(worsts)
        if progress is not None:
            if "progress" in tabs:  # rows from lines the RE2 form could not decide: merged in line order
                rows = (
                    tabs["progress"] + progress.set_column(0, "ts", progress.column("ts").cast(pa.int64())).to_pylist()
                )
                tabs["progress"] = sorted(rows, key=lambda r: r["line_no"])
            else:
                tabs["progress"] = progress
        for t, rows in tabs.items():
            if isinstance(rows, (pa.Table, dict)):
                cols = rows if isinstance(rows, dict) else {c: rows.column(c) for c in rows.column_names}
                n = len(next(iter(cols.values())))
                if not n:
                    continue
            else:
                cols, n = _columns(rows), len(rows)
            if t in ("progress",):
                cols["clock"] = [self.ctx.clock or "test"] * n
            out.setdefault(t, []).append(cols)

    def _progress(self, text: pa.Array, pods: np.ndarray, line_no: np.ndarray) -> tuple[pa.Table, np.ndarray]:
        """The ``Pods: N out of M created, ...`` rows of the lines of ``text`` holding ``" Pods: "`` (``pods``), per
        column, and the indices of the lines they came from (not for the per-line loop).  A line becomes a row here when it is ASCII, reaches the progress branch of
        that loop (a klog header; no selector, worst-list, perc or top-latency text) and PROGRESS_RE's lazy label
        ends at the first ``" Pods: "`` with the counts right after it (fitting int64); any other line takes
        the loop as before.  (The substrings are looked for in the whole line: none can be in the header.)"""
        at = np.flatnonzero(pods)
        lines = text.take(pa.array(at))
        go = _fill(pc.match_substring_regex(lines, _A_HEADER_NC)) & _fill(pc.string_is_ascii(lines))
        go &= ~_fill(pc.match_substring_regex(lines, _A_HEADER_NC + _A_SEL))
        # (three literal patterns, RE2 finds each fast: "worst " for " worst ", the exact tests follow)
        some = _fill(pc.match_substring_regex(lines, "worst ")) | _fill(pc.match_substring_regex(lines, "perc50: "))
        some = np.flatnonzero(go & (some | _fill(pc.match_substring_regex(lines, "Top latency metric"))))
        if len(some):  # the branches before the progress one, exactly, on the few lines that may take them
            sub = lines.take(pa.array(some))

            def has(s):
                return _fill(pc.match_substring(sub, s))

            go[some] = ~(has(" worst ") & has("latencies: [")) & ~(has("perc50: ") & ~has("Top latency metric"))
            go[some] &= ~has("Top latency metric: ")
        sel = np.flatnonzero(go)
        parts = pc.split_pattern(lines.take(pa.array(sel)), " Pods: ", max_splits=1)
        # the label: the message up to " Pods: ", after the klog header, which ends at the line's first "]" (its file
        # has none) and one space
        label = pc.list_element(pc.split_pattern(pc.list_element(parts, 0), "]", max_splits=1), 1)
        label = pc.if_else(pc.starts_with(label, " "), _bslice(label, 1), label)
        g = pc.extract_regex(pc.list_element(parts, 1), _A_PROGRESS_REST)
        ok = _fill(pc.is_valid(g)) & _fill(pc.not_equal(label, ""))
        for k in _COUNTS:
            ok &= pc.utf8_length(g.field(k)).to_numpy(zero_copy_only=False) <= 18  # else beyond int64: the loop
        go[sel[~ok]] = False
        sel, label, g = sel[ok], label.filter(pa.array(ok)), g.filter(pa.array(ok))
        wf = pc.starts_with(label, "WaitForControlledPodsRunning: ")
        label = pc.if_else(wf, _bslice(label, len("WaitForControlledPodsRunning: ")), label)
        label = pc.utf8_rtrim(label, ":")
        hdr = lines.take(pa.array(sel))  # the klog header at fixed places: [IWEF]mmdd hh:mm:ss.uuuuuu
        o, dat = _starts_and_data(hdr)  # its ASCII digits read from the array's buffers

        def part(a, b):
            v = np.zeros(len(o), dtype=np.int64)
            for k in range(a, b):
                v = v * 10 + (dat[o + k].astype(np.int64) - 48)
            return v

        d = timeutil.days_from_civil(np.full(len(sel), self.year, dtype=np.int64), part(1, 3), part(3, 5))
        local = ((d * 86400 + part(6, 8) * 3600 + part(9, 11) * 60 + part(12, 14)) * 1_000_000 + part(15, 21)) * 1000
        ts = self.to_utc.many(local)  # the zone's offset per distinct minute, as the per-line loop has it
        cols = {
            "ts": pa.array(np.asarray(ts, dtype=np.int64)).cast(pa.timestamp("ns", tz="UTC")),
            "label": label,
            "line_no": pa.array(np.asarray(line_no, dtype=np.int64)[at[sel]]),
            "runningButNotReady": pa.array(_int(g.field("rnr"))),
        }
        for k in _COUNTS[:-1]:
            f = g.field(k)
            cols[k] = pc.cast(pc.if_else(pc.equal(f, ""), None, f), pa.int64())
        return pa.table(cols), at[sel]

    def _worst_rows(self, worsts: list[tuple]) -> dict:
        """``test_pod_latencies`` of the worst-latency lists read in the loop, per column (:func:`U.worst_lists`)."""
        body_of, ns, pod, node, lat = U.worst_lists([w[0] for w in worsts])
        ts = np.array([w[1] if w[1] is not None else 0 for w in worsts], dtype=np.int64)[body_of]
        ts_ok = np.array([w[1] is not None for w in worsts], dtype=bool)[body_of]
        idx = pa.array(body_of.astype(np.int32))
        return {
            "ts": pa.array(ts, mask=~ts_ok).cast(pa.timestamp("ns", tz="UTC")),
            "metric": pa.DictionaryArray.from_arrays(idx, pa.array([w[2] for w in worsts], pa.string())).cast(
                pa.string()
            ),
            "phase": pa.DictionaryArray.from_arrays(idx, pa.array([w[3] for w in worsts], pa.string())).cast(
                pa.string()
            ),
            "namespace": ns,
            "pod": pod,
            "node": node,
            "latency_s": lat,
            "origin": pa.array(["cl2-log"] * len(body_of), pa.string()),
            "line_no": pa.array(np.array([w[4] for w in worsts], dtype=np.int64)[body_of]),
        }


def _bslice(arr: pa.Array, start: int) -> pa.Array:
    """``arr``'s strings from byte ``start`` on (ASCII strings: their characters)."""
    return pc.binary_slice(arr.view(pa.binary()), start, 2**31 - 1).view(pa.string())


def _fill(arr) -> np.ndarray:
    return pc.fill_null(arr, False).to_numpy(zero_copy_only=False)


def _int(arr) -> np.ndarray:
    return pc.cast(arr, pa.int64()).to_numpy(zero_copy_only=False)


# RE2 forms, for ASCII lines (there [0-9] and [A-Za-z0-9_] are Python's \d and \w)
_A_HEADER = K.HEADER_RE.split("(?P<msg>")[0]  # the klog header up to the message (its ".*$" matches any rest)
_COUNTS = ("expected", "created", "running", "pending", "waiting", "inactive", "terminating", "unknown", "rnr")
_A_HEADER_NC = re.sub(r"\(\?P<\w+>", "(?:", _A_HEADER)  # the same without captures (faster in RE2)
_A_SEL = r"[A-Za-z0-9_]+: labelSelector\([^)]*\): gathering"  # _SEL after the header
_A_PROGRESS_REST = "^" + PROGRESS_RE.pattern.split(" Pods: ", 1)[1].replace(r"\d", "[0-9]")  # after " Pods: "


def _columns(rows: list[dict]) -> dict:
    keys = set()
    for r in rows:
        keys.update(r)
    cols = {}
    for k in keys:
        vals = [r.get(k) for r in rows]
        if k in ("ts", "start_ts"):
            cols[k] = pa.array(vals, pa.int64()).cast(pa.timestamp("ns", tz="UTC"))
        else:
            cols[k] = vals
    return cols


def plan_log(stream, ctx: Context) -> BlockSpec:
    """The klog decisions on the head (wrappers, zone); the blocks in order, the parser's state
    (phase, measurement) carried from one to the next.  ``ctx.options["columnar"] = False``: the
    reference (the code before issue 20), compared with the default in tests/test_cl2.py."""
    head = stream.peek(256 * 1024)[: 256 * 1024]
    lines = head.decode("utf-8", "replace").splitlines()[:3000]
    wrappers = L.detect_wrappers(lines)
    if wrappers:
        ctx.info["wrapper"] = "+".join(wrappers)
    ctx.info["component"] = "clusterloader2"
    if not ctx.clock:
        ctx.clock = "test"
    K.decide_zone(ctx, lines, wrappers, K._head_records(Head(ctx.name, head[: 64 * 1024]))[1])
    return BlockSpec(
        format="cl2-log",
        source_id=ctx.source_id,
        name=ctx.name,
        clock=ctx.clock,
        year=ctx.year if ctx.year is not None else 1970,
        tz=ctx.tz or "UTC",
        info={"component": "clusterloader2"},
        wrappers=wrappers,
        ansi=L.has_ansi(head),
        record_start=K.HEADER_START,
        in_order=True,
        options={"columnar": ctx.options.get("columnar", True), "per_line": ctx.options.get("per_line", False)},
    )


def parse_log_block(block: Block, ctx: Context):
    """One block (after the ones before it, with the same ``ctx``): klog's rows plus the derived ones."""
    p = ctx.options.get("cl2_parser")
    if p is None:
        p = ctx.options["cl2_parser"] = _Cl2Parser(
            ctx, ctx.options.get("columnar", True), ctx.options.get("per_line", False)
        )
    out, counts = p.parse_chunk(block.lines, block.first)
    counts.add_context(ctx)
    return out, counts


# -- report-dir JSON ------------------------------------------------------------------

_NAME_TS = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d))")
_PSL = re.compile(r"(?:^|_)(?P<kind>[A-Za-z]*PodStartupLatency)_(?P<id>[A-Za-z0-9]+?)(?=_|\.json$|$)")
_KINDS = (
    "APIResponsivenessPrometheusSimple",
    "APIResponsivenessPrometheus",
    "APIResponsiveness",
    "SchedulingThroughput",
    "ResourceUsageSummary",
    "SystemPodMetrics",
    "TestPhaseTimer",
    "SchedulingMetrics",
    "EtcdMetrics",
    "MetricsForE2E",
    "NetworkProgrammingLatency",
    "InClusterNetworkLatency",
    "DnsLookupLatency",
)


def _json_kind(head: Head) -> str | None:
    d = head.data.lstrip()
    if not d.startswith(b"{"):
        return None
    top = d[:4096]
    if re.search(rb'^\{\s*"version":\s*"[^"]*",\s*"dataItems"', top) or re.search(rb'^\{\s*"dataItems":', top):
        return "perfdata"
    if re.match(rb'^\{\s*"(?:perc50|average)":\s*[-0-9.]+,\s*"perc', top):
        return "throughput"
    if re.match(rb'^\{\s*"\d+":\s*\[\s*\{\s*"Name":\s*"[^"]*",\s*"(?:CPU|Cpu)"', top):
        return "resource"
    if re.match(rb'^\{\s*"pods":\s*\[\s*\{\s*"name":\s*"[^"]*",\s*"containers"', top) and b"restartCount" in top:
        return "sysmetrics"
    return None


def sniff_json(head: Head) -> bool:
    return _json_kind(head) is not None


def _name_info(name: str) -> tuple[str | None, dict, int | None]:
    base = name.replace("\\", "/").rsplit("/", 1)[-1].rsplit("!", 1)[-1]
    lab: dict = {"file": base}
    phase = None
    m = _PSL.search(base)
    if m:
        phase = m["id"]
        lab["summary"] = m["kind"]
    else:
        for k in _KINDS:
            if k in base:
                lab["summary"] = k
                phase = k
                break
    ts = None
    t = _NAME_TS.search(base)
    if t:
        try:
            import pandas as pd  # not at module level: `kubelog ingest` loads every format

            ts = pd.Timestamp(t.group(1)).tz_convert("UTC").value
        except ValueError:
            ts = None
    return phase, lab, ts


def parse_json(stream, ctx: Context) -> None:
    doc, n = load_json_document(stream, ctx)
    if doc is None:
        return
    if not ctx.clock:
        ctx.clock = "test"
    phase, lab, ts = _name_info(ctx.name)
    rows = []
    if isinstance(doc, dict) and "dataItems" in doc:
        for r in U.perfdata_rows(doc, phase, "cl2-json"):
            l2 = {**json.loads(r["labels"]), **lab}
            r["labels"] = json.dumps(l2, sort_keys=True)
            rows.append(r)
        ctx.info["perfdata_version"] = doc.get("version")
    elif isinstance(doc, dict) and ("perc50" in doc or "average" in doc):
        for k, v in doc.items():
            rows.append(
                {
                    "metric": "scheduling_throughput",
                    "phase": phase or "SchedulingThroughput",
                    "labels": json.dumps({**lab, "stat": k}, sort_keys=True),
                    "value": U._num(v),
                    "unit": "pods/s",
                    "origin": "cl2-json",
                }
            )
    elif isinstance(doc, dict) and "pods" in doc:
        for p in doc.get("pods") or []:
            for c in p.get("containers") or []:
                rows.append(
                    {
                        "metric": "restart_count",
                        "phase": phase or "SystemPodMetrics",
                        "labels": json.dumps(
                            {
                                **lab,
                                "pod": p.get("name"),
                                "container": c.get("name"),
                                "lastRestartReason": c.get("lastRestartReason"),
                            },
                            sort_keys=True,
                        ),
                        "value": U._num(c.get("restartCount")),
                        "unit": "count",
                        "origin": "cl2-json",
                    }
                )
    elif isinstance(doc, dict):
        for perc, items in doc.items():
            for it in items or []:
                cpu = it.get("CPU", it.get("Cpu"))
                for metric, v, unit in (("cpu", cpu, "cores"), ("memory", it.get("Mem"), "bytes")):
                    rows.append(
                        {
                            "metric": metric,
                            "phase": phase or "ResourceUsageSummary",
                            "labels": json.dumps(
                                {**lab, "container": it.get("Name"), "percentile": perc}, sort_keys=True
                            ),
                            "value": U._num(v),
                            "unit": unit,
                            "origin": "cl2-json",
                        }
                    )
    rec = max(1, min(len(rows), n)) if n else 0
    ctx.record_lines += rec
    ctx.continuation_lines += n - rec
    if rows:
        cols = _columns([{**r, "ts": ts, "line_no": 1} for r in rows])
        ctx.emit("perf_summaries", cols)


FORMATS = [
    Format(
        name="cl2-log",
        description="clusterloader2 run log (klog text): messages plus measurement summaries, "
        "pod-startup lists, progress and the test verdict",
        priority=75,
        sniff=sniff_log,
        plan=plan_log,
        parse_block=parse_log_block,
        tables=("messages", "perf_summaries", "test_pod_latencies", "progress"),
    ),
    Format(
        name="cl2-json",
        description="clusterloader2 / in-tree --report-dir JSON: PerfData (APIResponsiveness*, "
        "PodStartupLatency*, ...), SchedulingThroughput, ResourceUsageSummary, SystemPodMetrics",
        priority=35,
        sniff=sniff_json,
        parse=parse_json,
        tables=("perf_summaries",),
    ),
]
