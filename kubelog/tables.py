"""The Arrow schema of every table kubelog writes, declared once.

Every table is written with exactly these columns (in this order) by
:class:`kubelog.run.RunWriter`, which casts what a parser hands it and fills
missing columns with nulls.  Columns may be added over time; none are renamed.

Conventions
-----------
* Times are ``timestamp[ns, UTC]`` on the clock of the machine that wrote them;
  the clock domain is in the ``clock`` column (``apiserver``, ``test``,
  ``node/<host>`` ...).  Corrections never overwrite raw times: they go in new
  columns (``*_corrected``) added by the analysis layer.
* Durations are float64 seconds and their names end in ``_s``.
* Every row keeps ``source_id`` (index into ``manifest.json`` ``inputs``) and
  ``line_no`` (1-based physical line of the input where the record starts).

``docs/tables.md`` is generated from this module (``kubelog tables -F markdown``)
and a test checks that it is current.
"""

from __future__ import annotations

import pyarrow as pa

TS = pa.timestamp("ns", tz="UTC")
STR = pa.string()
DICT_STR = pa.dictionary(pa.int32(), pa.string())  # a string column as the C scanner may give it
F64 = pa.float64()
I64 = pa.int64()
I32 = pa.int32()
BOOL = pa.bool_()

# (name, type, description) per column; the description feeds docs/tables.md.
_PROV = [
    ("source_id", I32, "index of the input in manifest.json `inputs`"),
    ("line_no", I64, "1-based physical line in the input where the record starts"),
]

COLUMNS: dict[str, list[tuple[str, pa.DataType, str]]] = {
    "requests": [
        ("ts", TS, "request end: access-log record time, or audit stageTimestamp"),
        ("start_ts", TS, "request start: ts - latency_s (access log) or requestReceivedTimestamp (audit)"),
        ("clock", STR, "clock domain of ts/start_ts"),
        ("method", STR, "HTTP method as logged (GET, POST ...), or as derived from the audit verb"),
        (
            "verb",
            STR,
            "kube verb in lower case as RequestInfoFactory derives it: get list watch create update patch delete deletecollection proxy connect; lower-case HTTP method for non-resource URLs",
        ),
        (
            "logged_verb",
            STR,
            "the verb field exactly as the access log wrote it (HTTP method before 1.22, normalised verb after)",
        ),
        ("api_group", STR, "API group ('' for core)"),
        ("api_version", STR, "API version"),
        ("resource", STR, "resource (pods, nodes ...); '' for non-resource URLs"),
        ("subresource", STR, "subresource (status, binding, log ...) or ''"),
        ("namespace", STR, "namespace or ''"),
        ("name", STR, "object name or ''"),
        (
            "scope",
            STR,
            "resource / namespace / cluster / nonresource (current SIG-Scalability rule, docs/formats/klog.md)",
        ),
        ("uri", STR, "request URI as sent (path + raw query)"),
        ("latency_s", F64, "request latency in seconds as logged"),
        ("code", I32, "HTTP status; 0 when the server never wrote a header; null when hijacked"),
        ("hijacked", BOOL, "connection hijacked (exec/attach/port-forward upgrade)"),
        ("user_agent", STR, "User-Agent header"),
        ("client", STR, "component derived from the user agent (kube-scheduler, kubelet, e2e ...)"),
        ("user", STR, "authenticated user (audit only)"),
        ("src_ip", STR, "peer address ip[:port]"),
        ("audit_id", STR, "audit ID (access log 1.22+, audit log)"),
        ("long_running", BOOL, "watch, exec/attach/portforward/proxy, log follow: excluded from latency SLIs"),
        ("apf_pl", STR, "APF priority level"),
        ("apf_fs", STR, "APF flow schema"),
        ("origin", STR, "httplog / audit / jsonlog"),
        (
            "server",
            STR,
            "component that served and logged the request (kube-apiserver; kubelet for its own HTTP server)",
        ),
        (
            "auth_user",
            STR,
            "audit: the authenticated user.username when the request impersonated another (user is then the impersonated, effective user)",
        ),
        ("stage", STR, "audit: stage of the event the row comes from (ResponseComplete, ResponseStarted, Panic ...)"),
        (
            "latency_annotations",
            STR,
            "audit: apiserver.latency.k8s.io/* annotations as a JSON object text, when present",
        ),
        *_PROV,
    ],
    "messages": [
        ("ts", TS, "record time"),
        ("clock", STR, "clock domain"),
        ("component", STR, "component that wrote it (kube-apiserver, kubelet, ...)"),
        ("level", STR, "I W E F"),
        ("pid", I64, "process id from the klog header"),
        ("file", STR, "source file of the log call"),
        ("line", I32, "source line of the log call"),
        ("msg", STR, "message; for structured records the unquoted message; continuation lines joined with newlines"),
        (
            "kv",
            STR,
            "structured key/values as written (klog k=v text or JSON); parse with kubelog.formats.klog.parse_kv",
        ),
        ("continuation_lines", I32, "number of header-less lines attached to this record"),
        *_PROV,
    ],
    "traces": [
        ("trace_id", STR, "Trace[N] id (generated for T1 traces without one)"),
        ("ts", TS, "time of the klog record that carried the trace (its end)"),
        ("started_ts", TS, "trace start time as printed (T1/T2 full date, T3 dd-Mon-yyyy)"),
        ("clock", STR, "clock domain"),
        ("name", STR, "trace name (List, Get, GuaranteedUpdate etcd3 ...)"),
        ("fields", STR, "trace fields as printed (key:value,...)"),
        ("url", STR, "url field when present"),
        ("audit_id", STR, "audit-id field when present"),
        ("user_agent", STR, "user-agent field when present"),
        ("total_s", F64, "total time in seconds"),
        ("variant", STR, "T1 / T2 / T3 (docs/formats/klog.md)"),
        *_PROV,
    ],
    "trace_steps": [
        ("trace_id", STR, "trace id"),
        ("step_no", I32, "0-based order within the trace"),
        ("depth", I32, "nesting depth (0 = top level)"),
        ("offset_s", F64, "time since trace start, seconds (T1/T2), or null"),
        ("duration_s", F64, "time since the previous step, seconds"),
        ("msg", STR, "step message"),
        ("fields", STR, "step fields as printed"),
        ("kind", STR, "step / nested (a nested trace header: msg is its name)"),
        *_PROV,
    ],
    "events": [
        ("ts", TS, "best event time: eventTime, else lastTimestamp, else firstTimestamp, else creation_ts"),
        ("event_time", TS, "reporter eventTime (MicroTime, us)"),
        ("first_ts", TS, "reporter firstTimestamp (whole seconds)"),
        ("last_ts", TS, "reporter lastTimestamp (whole seconds)"),
        ("series_last_ts", TS, "series.lastObservedTime"),
        ("creation_ts", TS, "apiserver metadata.creationTimestamp (apiserver clock, whole seconds)"),
        ("clock", STR, "clock domain of the reporter times"),
        ("resolution_s", F64, "resolution of ts: 1e-6 for eventTime, 1 for metav1.Time"),
        ("namespace", STR, "event namespace"),
        ("name", STR, "event name"),
        ("reason", STR, "reason"),
        ("type", STR, "Normal / Warning"),
        ("message", STR, "message / note"),
        ("object_kind", STR, "involved object kind"),
        ("object_namespace", STR, "involved object namespace"),
        ("object_name", STR, "involved object name"),
        ("count", I64, "count (legacy) or series.count"),
        ("component", STR, "source.component / reportingController"),
        ("host", STR, "source.host / reportingInstance"),
        ("origin", STR, "events-json / events-yaml / watch / klog"),
        *_PROV,
    ],
    "pod_transitions": [
        ("namespace", STR, "pod namespace"),
        ("pod", STR, "pod name"),
        ("uid", STR, "pod uid when known"),
        ("node", STR, "node the pod is bound to, when known"),
        ("milestone", STR, "created scheduled initialized started ready watched deleted ..."),
        ("ts", TS, "time of the milestone"),
        ("clock", STR, "clock domain of ts"),
        ("resolution_s", F64, "timestamp resolution in seconds (1 for metav1.Time)"),
        ("origin", STR, "pods-json / watch / kubelet / scheduler / audit / e2e ..."),
        (
            "detail",
            STR,
            "extra facts of the source record as JSON object text (podStartSLOduration, condition status, source ...)",
        ),
        *_PROV,
    ],
    "node_transitions": [
        ("node", STR, "node name"),
        ("milestone", STR, "registered ready notready deleted"),
        ("ts", TS, "time"),
        ("clock", STR, "clock domain"),
        ("resolution_s", F64, "timestamp resolution in seconds"),
        ("origin", STR, "nodes-json / access-log / audit / events"),
        *_PROV,
    ],
    "test_log": [
        ("ts", TS, "line time (test machine clock, zone of the test machine)"),
        ("clock", STR, "clock domain (test)"),
        ("level", STR, "INFO / STEP / FAIL ..."),
        ("msg", STR, "message"),
        ("spec", STR, "spec the line belongs to, when known"),
        ("wrapper_ts", TS, "CI wrapper timestamp (Prow/Jenkins) when present"),
        *_PROV,
    ],
    "test_specs": [
        ("spec", STR, "full spec name"),
        ("state", STR, "passed failed skipped pending"),
        ("start_ts", TS, "start time when known"),
        ("duration_s", F64, "duration in seconds"),
        ("failure_message", STR, "failure message"),
        ("failure_location", STR, "file:line of the failure"),
        ("last_step", STR, "last STEP before the end of the spec"),
        ("origin", STR, "e2e-log / junit"),
        *_PROV,
    ],
    "progress": [
        ("ts", TS, "line time"),
        ("clock", STR, "clock domain"),
        ("label", STR, "what is being counted (Density Pods, RC name ...)"),
        ("expected", I64, "pods expected"),
        ("created", I64, "created"),
        ("running", I64, "running"),
        ("pending", I64, "pending"),
        ("waiting", I64, "waiting"),
        ("inactive", I64, "inactive"),
        ("terminating", I64, "terminating"),
        ("unknown", I64, "unknown"),
        ("runningButNotReady", I64, "running but not ready"),
        *_PROV,
    ],
    "perf_summaries": [
        ("ts", TS, "time the summary was printed or the artifact written, when known"),
        ("metric", STR, "metric (pod_startup, api_call, scheduling_throughput ...)"),
        ("phase", STR, "test phase (saturation, latency ...)"),
        ("labels", STR, "labels as JSON object text"),
        ("count", I64, "sample count when reported"),
        ("p50_s", F64, "50th percentile, seconds"),
        ("p90_s", F64, "90th percentile, seconds"),
        ("p99_s", F64, "99th percentile, seconds"),
        ("p100_s", F64, "max, seconds"),
        ("value", F64, "value for non-latency metrics (throughput, cpu ...)"),
        ("unit", STR, "unit of value"),
        ("origin", STR, "e2e-log / cl2-log / cl2-json / kube-burner ..."),
        *_PROV,
    ],
    "test_pod_latencies": [
        ("ts", TS, "time the test printed the list or wrote the document"),
        (
            "metric",
            STR,
            "pod_startup create_to_schedule schedule_to_run run_to_watch schedule_to_watch (e2e/cl2); kube-burner condition latencies",
        ),
        ("phase", STR, "test phase (saturation, latency ...) or measurement identifier"),
        ("namespace", STR, "pod namespace when reported"),
        ("pod", STR, "pod name"),
        ("node", STR, "node name when reported"),
        ("latency_s", F64, "latency as the test reported it, seconds"),
        ("origin", STR, "e2e-log / cl2-log / kube-burner"),
        *_PROV,
    ],
    "parse_stats": [
        ("source_id", I32, "input"),
        ("reason", STR, "why the lines were counted rather than parsed into a record"),
        ("severity", STR, "info (expected, e.g. shell prompt) / warning (unexpected shape) / error (input damaged)"),
        ("count", I64, "number of physical lines"),
        ("examples", STR, "JSON list of the first examples: [{line_no, text}]"),
    ],
}

SCHEMAS: dict[str, pa.Schema] = {
    name: pa.schema([pa.field(c, t) for c, t, _ in cols]) for name, cols in COLUMNS.items()
}

TABLES = tuple(SCHEMAS)


# String columns whose values are mostly distinct (or long free text): Parquet dictionary
# encoding only costs time on them.  Every other string column is dictionary-encoded.
HIGH_CARDINALITY = {
    "uri",
    "src_ip",
    "audit_id",
    "msg",
    "kv",
    "fields",
    "message",
    "url",
    "trace_id",
    "uid",
    "examples",
    "failure_message",
    "labels",
}


def repeat(value: str | None, n: int) -> pa.Array:
    """A string array of ``n`` copies of ``value`` (null when None), built from buffers."""
    if value is None:
        return pa.nulls(n, STR)
    b = value.encode("utf-8")
    import numpy as np

    offsets = np.arange(n + 1, dtype=np.int64) * len(b)
    if len(b) * n < 2**31 - 1:
        return pa.StringArray.from_buffers(n, pa.py_buffer(offsets.astype(np.int32)), pa.py_buffer(b * n))
    return pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(b * n)).cast(STR)


def strings(values: list[str]) -> pa.Array:
    """A string array of ``values`` built from buffers: converting Python objects to Arrow (``pa.array``,
    ``Table.from_pylist``) makes pyarrow import pandas (~0.2 CPU-s), which the main process of an ingest
    by worker processes otherwise never needs (docs/internals.md)."""
    import numpy as np

    b = [v.encode("utf-8") for v in values]
    offsets = np.zeros(len(b) + 1, dtype=np.int64)
    np.cumsum([len(x) for x in b], out=offsets[1:])
    if offsets[-1] < 2**31 - 1:
        return pa.StringArray.from_buffers(len(b), pa.py_buffer(offsets.astype(np.int32)), pa.py_buffer(b"".join(b)))
    return pa.LargeStringArray.from_buffers(len(b), pa.py_buffer(offsets), pa.py_buffer(b"".join(b))).cast(STR)


def repeat_int32(value: int, n: int) -> pa.Array:
    """An int32 array of ``n`` copies of ``value``, built from a buffer: ``pa.array`` of a list or
    of a numpy array makes pyarrow import pandas (~0.27 CPU-s), which the calling process of a klog
    ingest by worker processes otherwise never needs (docs/internals.md)."""
    import numpy as np

    return pa.Array.from_buffers(pa.int32(), n, [None, pa.py_buffer(np.full(n, value, np.int32))])


def dictionary_columns(table: str) -> list[str]:
    """Columns of ``table`` written with Parquet dictionary encoding (low-cardinality strings)."""
    return [f.name for f in schema(table) if f.type == STR and f.name not in HIGH_CARDINALITY]


# Written without compression: random identifiers (snappy saves ~10 % on them), and the source
# address of a request ("ip:port", one per request): snappy halves it, but it was ~4 % of the whole
# ingest time of a large apiserver log (bench/README.md), for ~7 % of the requests files.
UNCOMPRESSED = {"audit_id", "uid", "trace_id", "src_ip"}


def compression(table: str) -> dict[str, str]:
    """Parquet codec per column of ``table``: snappy, none for :data:`UNCOMPRESSED`."""
    return {f.name: "none" if f.name in UNCOMPRESSED else "snappy" for f in schema(table)}


def schema(table: str) -> pa.Schema:
    """Return the declared Arrow schema of ``table`` (KeyError names the known tables)."""
    try:
        return SCHEMAS[table]
    except KeyError:
        raise KeyError(f"unknown table {table!r}; known: {', '.join(TABLES)}") from None


def conform(table: str, data: pa.Table | dict, dictionary: bool = False) -> pa.Table:
    """Cast ``data`` to the declared schema of ``table``.

    Missing columns become nulls; extra columns are an error (the contract is
    declared here, not improvised by a parser).  With ``dictionary``, string columns that
    are dictionary-encoded stay so (for a Parquet part written by :func:`kubelog.run.open_part`,
    which reads back as plain strings); otherwise they are decoded.
    """
    sch = schema(table)
    if isinstance(data, dict):
        n = None
        for v in data.values():
            n = len(v)
            break
        cols = {}
        for f in sch:
            if f.name in data:
                v = data[f.name]
                cols[f.name] = (
                    v if isinstance(v, (pa.Array, pa.ChunkedArray)) else pa.array(v, type=f.type, from_pandas=True)
                )
        extra = set(data) - set(sch.names)
        if extra:
            raise ValueError(f"table {table}: undeclared columns {sorted(extra)}")
        data = pa.table(cols) if cols else pa.table({})
        nrows = n or 0
    else:
        extra = set(data.column_names) - set(sch.names)
        if extra:
            raise ValueError(f"table {table}: undeclared columns {sorted(extra)}")
        nrows = data.num_rows
    arrays, fields = [], []
    present = set(data.column_names)
    for f in sch:
        if f.name in present:
            col = data.column(f.name)
            if col.type != f.type:
                if dictionary and f.type == STR and col.type == DICT_STR:
                    f = f.with_type(DICT_STR)
                else:
                    col = col.cast(f.type)
            arrays.append(col)
        else:
            arrays.append(pa.nulls(nrows, type=f.type))
        fields.append(f)
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields, sch.metadata) if dictionary else sch)


def markdown() -> str:
    """The table contract as Markdown (docs/tables.md)."""
    out = [
        "# kubelog tables",
        "",
        "Generated from `kubelog/tables.py` by `kubelog tables -F markdown`; a test keeps it current.",
        "",
    ]
    for name, cols in COLUMNS.items():
        out += [f"## `{name}`", "", "| column | type | meaning |", "|---|---|---|"]
        for c, t, d in cols:
            out.append(f"| `{c}` | `{t}` | {d} |")
        out.append("")
    return "\n".join(out)
