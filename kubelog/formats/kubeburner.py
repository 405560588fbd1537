"""kube-burner results (docs/formats/kube-burner-json.md, kube-burner-log.md): ``podLatencyMeasurement``, ``podLatencyQuantilesMeasurement``, ``jobSummary``.

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
_LAT_KEYS = (
    "schedulingLatency",
    "initializedLatency",
    "containersReadyLatency",
    "podReadyLatency",
    "containersStartedLatency",
    "readyToStartContainersLatency",
)


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
                    pods.append(
                        {
                            "ts": ts,
                            "metric": k[: -len("Latency")],
                            "phase": d.get("jobName"),
                            "namespace": d.get("namespace"),
                            "pod": d.get("podName"),
                            "node": d.get("nodeName"),
                            "latency_s": None if v is None else v / 1000.0,
                            "origin": "kube-burner",
                            "line_no": 1,
                        }
                    )
        elif mn == "podLatencyQuantilesMeasurement":
            lab = {k: d.get(k) for k in ("uuid", "jobName") if d.get(k) is not None}
            for k in ("P95", "min"):
                if d.get(k) is not None:
                    lab[k + "_s"] = _f(d[k]) / 1000.0 if _f(d[k]) is not None else None
            g = {k: _f(d.get(k)) for k in ("P50", "P99", "max", "avg")}
            perf.append(
                {
                    "ts": _ts(d.get("timestamp")),
                    "metric": d.get("quantileName"),
                    "phase": d.get("jobName"),
                    "labels": json.dumps(lab, sort_keys=True),
                    "p50_s": None if g["P50"] is None else g["P50"] / 1000.0,
                    "p99_s": None if g["P99"] is None else g["P99"] / 1000.0,
                    "p100_s": None if g["max"] is None else g["max"] / 1000.0,
                    "value": None if g["avg"] is None else g["avg"] / 1000.0,
                    "unit": "s (avg)",
                    "origin": "kube-burner",
                    "line_no": 1,
                }
            )
        elif mn == "jobSummary":
            jc = d.get("jobConfig") or {}
            lab = {
                k: d.get(k)
                for k in (
                    "uuid",
                    "k8sVersion",
                    "ocpVersion",
                    "platform",
                    "passed",
                    "totalNodes",
                    "workerNodesCount",
                    "masterNodesType",
                    "workerNodesType",
                )
                if k in d
            }
            lab.update(
                {
                    "jobName": jc.get("name"),
                    "jobIterations": jc.get("jobIterations"),
                    "qps": jc.get("qps"),
                    "burst": jc.get("burst"),
                }
            )
            perf.append(
                {
                    "ts": _ts(d.get("timestamp")),
                    "metric": "job_elapsed",
                    "phase": jc.get("name"),
                    "labels": json.dumps(lab, sort_keys=True, default=str),
                    "value": _f(d.get("elapsedTime")),
                    "unit": "s",
                    "origin": "kube-burner",
                    "line_no": 1,
                }
            )
            ctx.info.setdefault("job_summary", []).append(
                {
                    **lab,
                    "elapsedTime": d.get("elapsedTime"),
                    "timestamp": d.get("timestamp"),
                    "endTimestamp": d.get("endTimestamp"),
                }
            )
    ndocs = len(docs)
    rec = max(1, min(ndocs, n)) if n else 0
    ctx.record_lines += rec
    ctx.continuation_lines += n - rec
    for table, rows in (("test_pod_latencies", pods), ("perf_summaries", perf)):
        if rows:
            cols = {k: [r.get(k) for r in rows] for k in rows[0]}
            cols["ts"] = pa.array(cols["ts"], pa.int64()).cast(pa.timestamp("ns", tz="UTC"))
            ctx.emit(table, cols)


# -- kube-burner text log (logrus) ------------------------------------------------------
#
# kube-burner logs through logrus with FullTimestamp and TimestampFormat "2006-01-02 15:04:05": on a
# terminal ``INFO[2022-11-15 12:05:49] msg``, otherwise ``time="2023-07-24 09:33:04" level=info
# msg="..." [file="base_measurement.go:128"]`` (local time of the host, no zone).  The pod-latency
# quantiles of each job are printed by the measurement's stop():
#   log.Infof("%s: %s 50th: %v 99th: %v max: %v avg: %v", job, QuantileName, P50, P99, Max, Avg)
#   (pkg/measurements/pod_latency.go, 2020-2023) and, in base_measurement.go (2024 →),
#   log.Infof("%s: %v 99th: %v max: %v avg: %v", job, QuantileName, P99, Max, Avg)
# in integer milliseconds (avg a float in old versions; a " ms" unit in some releases).

_LOGRUS_TXT = re.compile(r'^time="(?P<ts>[^"]*)" level=(?P<lvl>\w+) msg="(?P<msg>(?:[^"\\]|\\.)*)"(?P<rest>.*)$')
_LOGRUS_TTY = re.compile(
    r"^(?P<lvl>INFO|WARN|WARNING|ERRO|ERROR|FATA|FATAL|DEBU|DEBUG|TRAC|PANI)"
    r"\[(?P<ts>\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d[^\]]*|\d+)\] ?(?P<msg>.*)$"
)
_QUANT = re.compile(
    r"^(?P<job>\S+): (?P<q>[A-Za-z]\w*) (?:50th: (?P<p50>[0-9.]+)(?: ?ms)? )?99th: (?P<p99>[0-9.]+)(?: ?ms)? "
    r"max: (?P<max>[0-9.]+)(?: ?ms)? avg: (?P<avg>[0-9.]+)(?: ?ms)?\s*$"
)
_KB_HINT = re.compile(
    r"kube-burner|[Jj]ob \S+ took|jobIterations|podLatency|\w+: \w+ (?:50th: [0-9.]+ )?99th: [0-9.]+|"
    r'file="(?:base_measurement|pod_latency|job|create|burner|measurements)\.go:\d+"'
)
_LEVELS = {
    "info": "I",
    "warning": "W",
    "warn": "W",
    "error": "E",
    "erro": "E",
    "fatal": "F",
    "fata": "F",
    "panic": "F",
    "pani": "F",
    "debug": "D",
    "debu": "D",
    "trace": "D",
    "trac": "D",
}


def _logrus(line: str):
    m = _LOGRUS_TXT.match(line)
    if m:
        msg = m["msg"].replace('\\"', '"').replace("\\\\", "\\")
        f = re.search(r'(?:^| )file="([^":]+):(\d+)"', m["rest"])
        return m["ts"], m["lvl"], msg, (f.group(1), int(f.group(2))) if f else (None, None)
    m = _LOGRUS_TTY.match(line)
    if m:
        return m["ts"], m["lvl"], m["msg"], (None, None)
    return None


def sniff_log(head: Head) -> bool:
    lines = [l for l in head.lines(400) if l.strip()]
    if not lines:
        return False
    hits = [l for l in lines if _logrus(l)]
    return bool(hits) and 2 * len(hits) >= len(lines) and any(_KB_HINT.search(l) for l in hits)


def _logrus_ns(ts: str, tz: str):
    if not ts or ts.isdigit():
        return None  # INFO[0012]: seconds since the start of the process, no clock time
    try:
        import pandas as pd  # not at module level: `kubelog ingest` loads every format

        t = pd.Timestamp(ts.replace(" ", "T", 1))
        return (t.tz_localize(tz or "UTC") if t.tzinfo is None else t).tz_convert("UTC").value
    except (ValueError, TypeError):
        return None


def parse_log(stream, ctx: Context) -> None:
    from ..sources import lines as L

    if not ctx.clock:
        ctx.clock = "test"  # the host running kube-burner
    ctx.info["component"] = "kube-burner"
    msgs, perf = [], []
    cur = None
    stats = L.ReaderStats()
    for ch in L.iter_chunks(stream, [], False, stats):
        ctx.lines_read += ch.n_physical
        ctx.continuation_lines += ch.joined
        for text, ln in zip(ch.text.to_pylist(), ch.line_no.tolist()):
            text = text or ""
            r = _logrus(text)
            if r is None:
                if cur is None:
                    ctx.count(
                        "before the first kube-burner record" if text.strip() else "blank line",
                        ln,
                        text,
                        severity="info",
                    )
                else:
                    cur["cont"].append(text)
                    ctx.continuation_lines += 1
                continue
            ctx.record_lines += 1
            ts_raw, lvl, msg, (file, line) = r
            ts = _logrus_ns(ts_raw, ctx.tz)
            cur = {
                "ts": ts,
                "level": _LEVELS.get(lvl.lower(), lvl[:1].upper()),
                "msg": msg,
                "file": file,
                "line": line,
                "line_no": ln,
                "cont": [],
            }
            msgs.append(cur)
            q = _QUANT.match(msg)
            if q:

                def s(k):
                    return None if q[k] is None else float(q[k]) / 1000.0  # noqa: B023

                perf.append(
                    {
                        "ts": ts,
                        "metric": q["q"],
                        "phase": q["job"],
                        "labels": json.dumps({"jobName": q["job"], "source": "log"}, sort_keys=True),
                        "p50_s": s("p50"),
                        "p99_s": s("p99"),
                        "p100_s": s("max"),
                        "value": s("avg"),
                        "unit": "s (avg)",
                        "origin": "kube-burner",
                        "line_no": ln,
                    }
                )
    ctx.lines_read += stats.skipped
    for reason, (cnt, ex) in stats.counted.items():
        ctx.count_many(reason, [e[0] for e in ex], [e[1] for e in ex], cnt, severity="info")
    if msgs:
        ctx.emit(
            "messages",
            {
                "ts": pa.array([m["ts"] for m in msgs], pa.int64()).cast(pa.timestamp("ns", tz="UTC")),
                "clock": [ctx.clock] * len(msgs),
                "component": ["kube-burner"] * len(msgs),
                "level": [m["level"] for m in msgs],
                "file": [m["file"] for m in msgs],
                "line": [m["line"] for m in msgs],
                "msg": [m["msg"] if not m["cont"] else m["msg"] + "\n" + "\n".join(m["cont"]) for m in msgs],
                "continuation_lines": [len(m["cont"]) for m in msgs],
                "line_no": [m["line_no"] for m in msgs],
            },
        )
    if perf:
        cols = {k: [r.get(k) for r in perf] for k in perf[0]}
        cols["ts"] = pa.array(cols["ts"], pa.int64()).cast(pa.timestamp("ns", tz="UTC"))
        ctx.emit("perf_summaries", cols)


FORMAT = Format(
    name="kube-burner-json",
    description="kube-burner podLatencyMeasurement / podLatencyQuantilesMeasurement / jobSummary JSON",
    priority=32,
    sniff=sniff,
    parse=parse,
    tables=("test_pod_latencies", "perf_summaries"),
)

FORMATS = [
    FORMAT,
    Format(
        name="kube-burner-log",
        description='kube-burner text log (logrus time="…" level=… msg="…" or INFO[…]): messages, and each job\'s '
        "pod-latency quantile lines as perf_summaries like its JSON",
        priority=50,
        sniff=sniff_log,
        parse=parse_log,
        tables=("messages", "perf_summaries"),
    ),
]
