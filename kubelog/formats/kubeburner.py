"""kube-burner results (formats-test.md §12): ``podLatencyMeasurement``, ``podLatencyQuantilesMeasurement``, ``jobSummary``.

Format
------
JSON arrays of documents written by the local indexer (``collected-metrics[-<uuid>]/*.json``, usually one
single line; older ``<job>-podLatency.json`` / ``-summary.json`` have the same documents):

* per-pod ``{"timestamp", "schedulingLatency", "initializedLatency", "containersReadyLatency",
  "podReadyLatency", ["containersStartedLatency", "readyToStartContainersLatency"], "metricName":
  "podLatencyMeasurement", "jobName", "namespace", "podName", "nodeName", ...}`` — integer ms relative to
  creationTimestamp → ``test_pod_latencies`` (one row per pod and latency, seconds; metric = the key
  without ``Latency``, phase = jobName, ts = creationTimestamp);
* quantiles ``{"quantileName", "P99", "P95", "P50", "min", "max", "avg", "metricName":
  "podLatencyQuantilesMeasurement", "jobName"}`` → ``perf_summaries`` (metric = quantileName, p50/p99/p100
  in seconds, avg in ``value`` seconds, P95 and min in labels);
* ``jobSummary`` → ``perf_summaries`` metric ``job_elapsed`` (value = elapsedTime s, labels = the job
  facts) and the manifest (``info.job_summary``).

Quirk: negative latencies were clamped to 0 by kube-burner (clock skew hides there).

Accounting rule: the file is parsed whole; one record line per document up to the number of physical
lines (at least one), the other lines are continuation lines.  Undecodable JSON is counted
("invalid JSON", error).
"""
from __future__ import annotations

import json
import re

import pyarrow as pa

from .base import Context, Format, Head, load_json_document

_SNIFF = re.compile(rb'"metricName"\s*:\s*"(?:podLatencyMeasurement|podLatencyQuantilesMeasurement|jobSummary)"')
_LAT_KEYS = ("schedulingLatency", "initializedLatency", "containersReadyLatency", "podReadyLatency",
             "containersStartedLatency", "readyToStartContainersLatency")


def sniff(head: Head) -> bool:
    d = head.data.lstrip()
    return d[:1] in (b"[", b"{") and bool(_SNIFF.search(head.data))


def _ts(v):
    if not v:
        return None
    try:
        import pandas as pd  # not at module level: `kubelog ingest` loads every format
        t = pd.Timestamp(v)
        return (t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")).value
    except (ValueError, TypeError):
        return None


def _f(v):
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def parse(stream, ctx: Context) -> None:
    doc, n = load_json_document(stream, ctx)
    if doc is None:
        return
    docs = doc if isinstance(doc, list) else [doc]
    if not ctx.clock:
        ctx.clock = "apiserver"  # creationTimestamp; the condition times behind the latencies are node clocks
    pods, perf = [], []
    for d in docs:
        if not isinstance(d, dict):
            continue
        mn = d.get("metricName")
        if mn == "podLatencyMeasurement":
            ts = _ts(d.get("timestamp"))
            for k in _LAT_KEYS:
                if k in d:
                    v = _f(d[k])
                    pods.append({"ts": ts, "metric": k[: -len("Latency")], "phase": d.get("jobName"),
                                 "namespace": d.get("namespace"), "pod": d.get("podName"), "node": d.get("nodeName"),
                                 "latency_s": None if v is None else v / 1000.0, "origin": "kube-burner", "line_no": 1})
        elif mn == "podLatencyQuantilesMeasurement":
            lab = {k: d.get(k) for k in ("uuid", "jobName") if d.get(k) is not None}
            for k in ("P95", "min"):
                if d.get(k) is not None:
                    lab[k + "_s"] = _f(d[k]) / 1000.0 if _f(d[k]) is not None else None
            g = {k: _f(d.get(k)) for k in ("P50", "P99", "max", "avg")}
            perf.append({"ts": _ts(d.get("timestamp")), "metric": d.get("quantileName"), "phase": d.get("jobName"),
                         "labels": json.dumps(lab, sort_keys=True),
                         "p50_s": None if g["P50"] is None else g["P50"] / 1000.0,
                         "p99_s": None if g["P99"] is None else g["P99"] / 1000.0,
                         "p100_s": None if g["max"] is None else g["max"] / 1000.0,
                         "value": None if g["avg"] is None else g["avg"] / 1000.0, "unit": "s (avg)",
                         "origin": "kube-burner", "line_no": 1})
        elif mn == "jobSummary":
            jc = d.get("jobConfig") or {}
            lab = {k: d.get(k) for k in ("uuid", "k8sVersion", "ocpVersion", "platform", "passed", "totalNodes",
                                         "workerNodesCount", "masterNodesType", "workerNodesType") if k in d}
            lab.update({"jobName": jc.get("name"), "jobIterations": jc.get("jobIterations"), "qps": jc.get("qps"),
                        "burst": jc.get("burst")})
            perf.append({"ts": _ts(d.get("timestamp")), "metric": "job_elapsed", "phase": jc.get("name"),
                         "labels": json.dumps(lab, sort_keys=True, default=str), "value": _f(d.get("elapsedTime")),
                         "unit": "s", "origin": "kube-burner", "line_no": 1})
            ctx.info.setdefault("job_summary", []).append({**lab, "elapsedTime": d.get("elapsedTime"),
                                                           "timestamp": d.get("timestamp"),
                                                           "endTimestamp": d.get("endTimestamp")})
    ndocs = len(docs)
    rec = max(1, min(ndocs, n)) if n else 0
    ctx.record_lines += rec
    ctx.continuation_lines += n - rec
    for table, rows in (("test_pod_latencies", pods), ("perf_summaries", perf)):
        if rows:
            cols = {k: [r.get(k) for r in rows] for k in rows[0]}
            cols["ts"] = pa.array(cols["ts"], pa.int64()).cast(pa.timestamp("ns", tz="UTC"))
            ctx.emit(table, cols)


FORMAT = Format(
    name="kube-burner-json",
    description="kube-burner podLatencyMeasurement / podLatencyQuantilesMeasurement / jobSummary JSON",
    priority=32,
    sniff=sniff,
    parse=parse,
    tables=("test_pod_latencies", "perf_summaries"),
)
