"""kube-apiserver audit logs (formats-server.md §6) → ``requests`` (+ node/pod milestones).

Formats
-------
``audit-json`` (priority 20): one ``audit.k8s.io`` Event per line (``v1``, ``v1beta1``, ``v1alpha1``, or with no
``apiVersion``/``kind`` at all), optionally preceded by a ``hostname `` prefix (log shippers). Events of one run
may be spread over several rotated files: each file is parsed on its own.
``audit-legacy`` (priority 21): ``<RFC3339Nano> AUDIT: id="…" stage="…" ip="…" method="…" user="…" … uri="…"
response="…"`` and the 1.6/1.7 "basic audit" pair (a request line, then ``<ts> AUDIT: id="…" response="404"``).

Rows and accounting
-------------------
* One ``requests`` row (a record line) per event of stage ``ResponseComplete`` or ``Panic`` (or without a stage:
  the oldest events). ``ResponseStarted`` events (long-running requests) give a row only when the same file has
  no completion for their ``auditID`` (the stream was still open when the log ended); otherwise they are counted
  (``audit stage ResponseStarted (request row from ResponseComplete)``). ``RequestReceived`` events are counted.
  Events with duplicate audit IDs and the same stage each give a row (the log says so; analyses dedup).
* ``ts`` = ``stageTimestamp`` (else ``timestamp``, else ``metadata.creationTimestamp`` of 1.8-era events, whole
  seconds); ``start_ts`` = ``requestReceivedTimestamp``; ``latency_s = ts − start_ts`` (µs); ``clock`` = apiserver.
* ``verb``/``logged_verb`` = the audit verb; ``method`` derived from it (get/list/watch → GET, create → POST, update
  → PUT, patch → PATCH, delete/deletecollection → DELETE, proxy/connect → GET; non-resource verbs are lower-case
  HTTP methods); api_group/api_version/resource/subresource/namespace/name from ``objectRef`` when present, else
  from ``requestURI`` via :func:`requestinfo.classify_one`; ``scope`` by the §4.2 rule on those;
  ``long_running`` as RequestInfo decides (watch, proxy, exec/attach/portforward, log follow).
* ``user`` is the **effective** user: ``impersonatedUser.username`` when present, else ``user.username``;
  ``auth_user`` keeps the authenticated ``user.username`` when it impersonated someone.
* ``src_ip`` = first of ``sourceIPs``; ``code`` = ``responseStatus.code``; ``latency_annotations`` = the
  ``apiserver.latency.k8s.io/*`` annotations as JSON object text.
* Derived: POST ``nodes`` (2xx) → ``node_transitions`` ``registered``; create ``pods`` (2xx) → ``pod_transitions``
  ``created``; create ``pods/binding`` (2xx) → ``bound``; delete ``pods`` (2xx) → ``deleted`` (apiserver clock,
  µs resolution, origin ``audit``).
* Lines that are not JSON objects are counted (``not JSON (audit line)``, with an example; the reason says
  where the JSON broke) and the rest of the file is kept. A line longer than ``MAX_LINE`` bytes (64 MiB) is
  counted (``audit line too long``) without being held in memory. Wrong field types are tolerated (the field is
  treated as absent) and reported once per file with the line.

Audit vs. access log (dedup rule)
---------------------------------
The same request can appear in the access log (``origin=httplog``, with ``audit-ID`` from 1.22) and in the audit
log. :func:`dedup_requests` links them by audit ID and keeps **the access-log row**: its latency is the
apiserver's own measurement of the request as its handler chain saw it (what ``apiserver_request_duration_seconds``
and the SIG-Scalability SLIs measure), while an audit ``ResponseComplete`` stage may be written after the response
and, with ``--audit-log-mode=batch``, late. The audit user (``user``, ``auth_user``) and stage are copied onto the
kept row. Audit rows without an access-log twin stay (no access log at ``-v < 3``), except when the access log
has no audit IDs at all (before 1.22): then the two cannot be matched request by request, every request would
count twice, and the audit rows are not used (the access log covers every request the apiserver logged). Among audit rows of one audit ID, a ``ResponseComplete``/``Panic`` row wins over ``ResponseStarted``
(rotated files). Latency analyses (:func:`kubelog.analysis.latency.api_requests`) use this rule.
"""
from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING

import pyarrow as pa

from . import requestinfo
from .base import Context, Format, Head

if TYPE_CHECKING:
    import pandas as pd

MAX_LINE = 64 << 20
READ = 8 << 20
VERB_METHOD = {"get": "GET", "list": "GET", "watch": "GET", "create": "POST", "update": "PUT", "patch": "PATCH",
               "delete": "DELETE", "deletecollection": "DELETE", "proxy": "GET", "connect": "GET"}
RX_HOST_PREFIX = re.compile(rb"^([^\s{]+) (\{.*)$", re.S)
RX_LEGACY = re.compile(r'^(?:\S+ )?(?P<ts>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)) AUDIT: (?P<kv>.*)$')
RX_LKV = re.compile(r'([\w-]+)="((?:[^"\\]|\\.)*)"')
COMPLETE = ("ResponseComplete", "Panic")


def iter_lines(stream, max_line: int = MAX_LINE):
    """Yield ``(line_no, bytes | None)`` per physical line; None for a line over ``max_line`` bytes."""
    buf = b""
    ln = 0
    skipping = False
    while True:
        b = stream.read(READ)
        if not b:
            break
        buf += b
        start = 0
        while True:
            j = buf.find(b"\n", start)
            if j < 0:
                break
            ln += 1
            if skipping or j - start > max_line:
                skipping = False
                yield ln, None
            else:
                yield ln, buf[start:j]
            start = j + 1
        buf = buf[start:]
        if len(buf) > max_line:
            skipping = True
            buf = b""
    if skipping:
        ln += 1
        yield ln, None
    elif buf:
        ln += 1
        yield ln, buf


def _s(v) -> str | None:
    if v is None:
        return None
    return v if isinstance(v, str) else None


def _d(v) -> dict:
    return v if isinstance(v, dict) else {}


class _Rows:
    COLS = ("ts", "start_ts", "method", "verb", "logged_verb", "api_group", "api_version", "resource", "subresource",
            "namespace", "name", "scope", "uri", "code", "user_agent", "user", "auth_user", "src_ip", "audit_id",
            "long_running", "stage", "latency_annotations", "line_no")

    def __init__(self):
        self.c = {k: [] for k in self.COLS}
        self.derived = []  # (table, dict)

    def add(self, **kw):
        for k in self.COLS:
            self.c[k].append(kw.get(k))

    def __len__(self):
        return len(self.c["line_no"])

    def flush(self, ctx: Context) -> None:
        n = len(self)
        if n:
            c = self.c
            import pandas as pd  # not at module level: `kubelog ingest` loads every format
            ts = pd.to_datetime(pd.Series(c["ts"], dtype=object), utc=True, format="ISO8601", errors="coerce")
            st = pd.to_datetime(pd.Series(c["start_ts"], dtype=object), utc=True, format="ISO8601", errors="coerce")
            lat = (ts - st).dt.total_seconds()
            ua = pa.array(c["user_agent"], pa.string())
            cols = {k: c[k] for k in self.COLS if k not in ("ts", "start_ts", "code")}
            cols["code"] = pa.array(c["code"], pa.int32())
            cols["ts"] = pa.Array.from_pandas(ts, type=pa.timestamp("ns", tz="UTC"))
            cols["start_ts"] = pa.Array.from_pandas(st, type=pa.timestamp("ns", tz="UTC"))
            cols["latency_s"] = pa.Array.from_pandas(lat, type=pa.float64())
            import pyarrow.compute as pc
            cols["client"] = pc.if_else(pc.is_valid(ua), requestinfo.client_of(ua), pa.scalar(None, pa.string()))
            cols["clock"] = ["apiserver"] * n
            cols["origin"] = ["audit"] * n
            cols["server"] = ["kube-apiserver"] * n
            ctx.emit("requests", cols)
            self._derive(ctx, ts)
        self.c = {k: [] for k in self.COLS}

    def _derive(self, ctx: Context, ts: pd.Series) -> None:
        import pandas as pd
        c = self.c
        pods = {k: [] for k in ("namespace", "pod", "node", "milestone", "ts", "clock", "resolution_s", "origin",
                                "line_no")}
        nodes = {k: [] for k in ("node", "milestone", "ts", "clock", "resolution_s", "origin", "line_no")}
        for i in range(len(c["line_no"])):
            code = c["code"][i]
            if code is None or not (200 <= code < 300) or pd.isna(ts.iloc[i]):
                continue
            verb, res, sub = c["verb"][i], c["resource"][i], c["subresource"][i] or ""
            ms = None
            if res == "nodes" and verb == "create" and not sub:
                for k, v in (("node", c["name"][i]), ("milestone", "registered"), ("ts", ts.iloc[i]),
                             ("clock", "apiserver"), ("resolution_s", 1e-6), ("origin", "audit"),
                             ("line_no", c["line_no"][i])):
                    nodes[k].append(v)
                continue
            if res == "pods":
                if verb == "create" and not sub:
                    ms = "created"
                elif verb == "create" and sub == "binding":
                    ms = "bound"
                elif verb == "delete" and not sub:
                    ms = "deleted"
            if ms and c["name"][i]:
                for k, v in (("namespace", c["namespace"][i]), ("pod", c["name"][i]), ("node", None),
                             ("milestone", ms), ("ts", ts.iloc[i]), ("clock", "apiserver"), ("resolution_s", 1e-6),
                             ("origin", "audit"), ("line_no", c["line_no"][i])):
                    pods[k].append(v)
        tsz = pa.timestamp("ns", tz="UTC")
        if pods["line_no"]:
            pods["ts"] = pa.array(pods["ts"], tsz)
            ctx.emit("pod_transitions", pods)
        if nodes["line_no"]:
            nodes["ts"] = pa.array(nodes["ts"], tsz)
            ctx.emit("node_transitions", nodes)


def _scope(name: str, verb: str, ns: str, resource: str, nonres: bool) -> str:
    if nonres:
        return "nonresource"
    if name or verb == "create":
        return "resource"
    return "namespace" if ns else "cluster"


def event_row(ev: dict, line_no: int) -> dict:
    """``requests`` columns (times as text) of one JSON audit event."""
    verb_raw = _s(ev.get("verb"))
    verb = (verb_raw or "").lower()
    uri = _s(ev.get("requestURI")) or ""
    method = VERB_METHOD.get(verb, verb.upper() if verb else "")
    info = requestinfo.classify_one(method, uri)
    ref = _d(ev.get("objectRef"))
    nonres = not ref and info["scope"] == "nonresource"
    f = {}
    for col, key in (("api_group", "apiGroup"), ("api_version", "apiVersion"), ("resource", "resource"),
                     ("subresource", "subresource"), ("namespace", "namespace"), ("name", "name")):
        v = _s(ref.get(key)) if ref else None
        f[col] = v if v is not None else ("" if ref else info[col])
    if ref and not f["name"] and info["name"] and info["resource"] == f["resource"]:
        f["name"] = info["name"]  # fieldSelector=metadata.name= names the object
    sub = f["subresource"]
    long_running = bool(info["long_running"] or verb in ("watch", "proxy") or sub in requestinfo.CONNECT_SUBRESOURCES)
    user = _d(ev.get("user"))
    imp = _d(ev.get("impersonatedUser"))
    uname = _s(user.get("username"))
    iname = _s(imp.get("username"))
    ips = ev.get("sourceIPs")
    src = ips[0] if isinstance(ips, list) and ips and isinstance(ips[0], str) else None
    rs = _d(ev.get("responseStatus"))
    code = rs.get("code")
    code = code if isinstance(code, int) and not isinstance(code, bool) and -2**31 <= code < 2**31 else None
    ann = _d(ev.get("annotations"))
    lat_ann = {k: v for k, v in ann.items() if isinstance(k, str) and k.startswith("apiserver.latency.k8s.io/")}
    ts = _s(ev.get("stageTimestamp")) or _s(ev.get("timestamp")) or _s(_d(ev.get("metadata")).get("creationTimestamp"))
    return dict(ts=ts, start_ts=_s(ev.get("requestReceivedTimestamp")), method=method or None,
                verb=verb or None, logged_verb=verb_raw, uri=uri or None, code=code,
                scope=_scope(f["name"], verb, f["namespace"], f["resource"], nonres),
                user_agent=_s(ev.get("userAgent")), user=iname or uname, auth_user=uname if iname else None,
                src_ip=src, audit_id=_s(ev.get("auditID")), long_running=long_running,
                stage=_s(ev.get("stage")), latency_annotations=json.dumps(lat_ann, sort_keys=True) if lat_ann else None,
                line_no=line_no, **f)


def _type_problems(ev: dict) -> list[str]:
    probs = []
    for k, t in (("verb", str), ("requestURI", str), ("auditID", str), ("stage", str), ("user", dict),
                 ("objectRef", dict), ("responseStatus", dict), ("sourceIPs", list), ("kind", str),
                 ("stageTimestamp", str), ("requestReceivedTimestamp", str), ("annotations", dict)):
        if k in ev and ev[k] is not None and not isinstance(ev[k], t):
            probs.append(f"{k} is {type(ev[k]).__name__}, not {t.__name__}")
    return probs


def parse_json(stream, ctx: Context) -> None:
    ctx.clock = ctx.clock or "apiserver"
    ctx.info["component"] = "kube-apiserver"
    rows = _Rows()
    started: dict[str, int] = {}   # auditID -> index in pending
    pending: list[tuple[int, dict]] = []
    completed: set[str] = set()
    type_errors = 0
    versions: dict[str, int] = {}
    for ln, raw in iter_lines(stream):
        ctx.lines_read += 1
        if raw is None:
            ctx.count("audit line too long (over 64 MiB, skipped)", ln, None, severity="error")
            ctx.error(f"audit line longer than {MAX_LINE >> 20} MiB skipped", ln)
            continue
        s = raw.strip()
        if not s:
            ctx.count("blank line", ln, "", severity="info")
            continue
        if not s.startswith(b"{"):
            m = RX_HOST_PREFIX.match(s)
            if m:
                s = m.group(2)
        try:
            ev = json.loads(s)
        except (ValueError, RecursionError) as e:
            where = f" ({e.msg} at column {e.colno})" if isinstance(e, json.JSONDecodeError) else f" ({type(e).__name__})"
            ctx.count("not JSON (audit line)", ln, raw[:300], severity="warning")
            if ctx.stats["not JSON (audit line)"].count <= 3:
                ctx.error(f"not a JSON audit event{where}; line skipped", ln)
            continue
        if not isinstance(ev, dict):
            ctx.count("JSON value is not an object (audit line)", ln, raw[:300], severity="warning")
            continue
        probs = _type_problems(ev)
        if probs:
            type_errors += 1
            if type_errors <= 3:
                ctx.error("audit event with wrong field types (" + "; ".join(probs) + "): those fields ignored", ln)
        av = ev.get("apiVersion") if isinstance(ev.get("apiVersion"), str) else ""
        versions[av] = versions.get(av, 0) + 1
        stage = ev.get("stage") if isinstance(ev.get("stage"), str) else None
        aid = ev.get("auditID") if isinstance(ev.get("auditID"), str) else None
        if stage == "RequestReceived":
            ctx.count("audit stage RequestReceived (request row from a later stage)", ln, None, severity="info")
            continue
        if stage == "ResponseStarted":
            if aid is not None and aid in completed:
                ctx.count("audit stage ResponseStarted (request row from ResponseComplete)", ln, None, severity="info")
                continue
            if aid is not None:
                started[aid] = len(pending)
            pending.append((ln, ev))
            continue
        if aid is not None:
            completed.add(aid)
            if aid in started:
                k = started.pop(aid)
                pl, _ = pending[k]
                pending[k] = (pl, None)
                ctx.count("audit stage ResponseStarted (request row from ResponseComplete)", pl, None, severity="info")
        ctx.record_lines += 1
        rows.add(**event_row(ev, ln))
        if len(rows) >= 50_000:
            rows.flush(ctx)
    for ln, ev in pending:
        if ev is not None:
            ctx.record_lines += 1
            rows.add(**event_row(ev, ln))
    rows.flush(ctx)
    ctx.info["audit_api_versions"] = {k or "(none)": v for k, v in versions.items()}


def parse_legacy(stream, ctx: Context) -> None:
    ctx.clock = ctx.clock or "apiserver"
    ctx.info["component"] = "kube-apiserver"
    rows = _Rows()
    open_req: dict[str, tuple[int, str, dict]] = {}  # id -> (line, ts, fields) of a request line / earlier stage
    for ln, raw in iter_lines(stream):
        ctx.lines_read += 1
        if raw is None:
            ctx.count("audit line too long (over 64 MiB, skipped)", ln, None, severity="error")
            continue
        t = raw.decode("utf-8", "replace").rstrip("\r")
        if not t.strip():
            ctx.count("blank line", ln, "", severity="info")
            continue
        m = RX_LEGACY.match(t)
        if not m:
            ctx.count("not a legacy audit line", ln, t, severity="warning")
            continue
        kv = {k: v.replace('\\"', '"') for k, v in RX_LKV.findall(m.group("kv"))}
        aid = kv.get("id")
        stage = kv.get("stage")
        resp = kv.get("response")
        final = (stage in COMPLETE) or (stage is None and resp is not None and resp != "<deferred>")
        if not final:
            if aid and aid not in open_req:
                open_req[aid] = (ln, m.group("ts"), kv)
            ctx.count("audit legacy request/early-stage line (merged into its response line)", ln, None,
                      severity="info")
            continue
        first = open_req.pop(aid, None) if aid else None
        merged = dict(first[2]) if first else {}
        merged.update(kv)
        start = first[1] if first else None
        if start is None and stage is None:
            start = None
        rows.add(**_legacy_row(merged, m.group("ts"), start, ln))
        ctx.record_lines += 1
    # request lines never answered: keep them as requests without a response
    for aid, (ln, ts, kv) in open_req.items():
        st = ctx.stats.get("audit legacy request/early-stage line (merged into its response line)")
        if st is not None and st.count > 0:
            st.count -= 1
        ctx.record_lines += 1
        r = _legacy_row(kv, None, ts, ln)
        rows.add(**r)
    rows.flush(ctx)


def _legacy_row(kv: dict, ts: str | None, start: str | None, ln: int) -> dict:
    def nz(v):
        return None if v in (None, "<none>") else v
    meth = kv.get("method") or ""
    uri = kv.get("uri") or ""
    if meth.isupper():  # 1.6/1.7 basic audit: HTTP method
        info = requestinfo.classify_one(meth, uri)
        method, verb = meth, info["verb"]
    else:
        verb = meth.lower()
        method = VERB_METHOD.get(verb, verb.upper())
        info = requestinfo.classify_one(method, uri)
    resp = kv.get("response")
    code = int(resp) if resp and resp.isdigit() else None
    user, as_ = nz(kv.get("user")), kv.get("as")
    imp = as_ not in (None, "<self>")
    return dict(ts=ts, start_ts=start, method=method or None, verb=verb or None, logged_verb=meth or None,
                uri=uri or None, code=code, user_agent=nz(kv.get("user-agent")), user=as_ if imp else user,
                auth_user=user if imp else None, src_ip=nz(kv.get("ip")), audit_id=kv.get("id"),
                long_running=info["long_running"], stage=kv.get("stage"), line_no=ln,
                **{k: info[k] for k in ("api_group", "api_version", "resource", "subresource", "namespace", "name",
                                        "scope")})


def _isin(s: pd.Series, values: pd.Series) -> pd.Series:
    """``s.isin(values)`` for string columns through Arrow's hash set (pandas' ``isin`` on Arrow-backed
    strings builds Python lists: ~40 s on 3M audit IDs); nulls are never in."""
    import numpy as np
    import pandas as pd
    import pyarrow.compute as pc

    def arrow(x: pd.Series):
        return pa.array(x, from_pandas=True).cast(pa.large_string())
    hit = pc.fill_null(pc.is_in(arrow(s), value_set=pc.unique(arrow(values.dropna()))), False)
    return pd.Series(np.asarray(hit.to_numpy(zero_copy_only=False), dtype=bool), index=s.index)


def dedup_requests(df: pd.DataFrame) -> tuple[pd.DataFrame, int, str]:
    """Count each request once across audit and access-log rows (rule in the module docstring).

    Returns the rows to use, the number of audit rows dropped as duplicates of
    access-log rows (superseded ``ResponseStarted`` rows are dropped too, not
    counted) and a note saying what was done ('' when nothing).
    """
    if "origin" not in df or "audit_id" not in df:
        return df, 0, ""
    is_aud = df.origin == "audit"
    if not is_aud.any():
        return df, 0, ""
    aud = df[is_aud]
    if "stage" in aud:
        has_id = aud.audit_id.notna()
        complete = aud.audit_id[has_id & aud.stage.isin(["ResponseComplete", "Panic"])]
        aud = aud[~(has_id & (aud.stage == "ResponseStarted") & _isin(aud.audit_id, complete))]
    http = df[~is_aud]
    apiserver_http = http
    if "server" in http:
        apiserver_http = http[http.server.fillna("kube-apiserver").isin(["kube-apiserver", ""])]
    if len(apiserver_http) and apiserver_http.audit_id.isna().all():
        return http, len(aud), (f"{len(aud)} audit rows not used: the access log has no audit IDs to match them "
                                "(before 1.22), so each request would count twice; the access log is used")
    logged = http.audit_id.notna()
    dup = aud.audit_id.notna() & _isin(aud.audit_id, http.audit_id[logged])
    if dup.any():
        src = aud[dup].drop_duplicates("audit_id").set_index("audit_id")
        http = http.copy()
        for c in ("user", "auth_user", "stage"):
            if c in http and c in src:
                need = http[c].isna() & logged
                if need.any():   # only the rows missing a value: a map over every row is slow
                    http.loc[need, c] = http.audit_id[need].map(src[c])
    n = int(dup.sum())
    note = f"{n} audit rows duplicate access-log rows (same audit ID); the access-log row is used" if n else ""
    import pandas as pd  # not at module level: `kubelog ingest` loads every format
    return pd.concat([http, aud[~dup]]).sort_index(), n, note


# -- sniffing ------------------------------------------------------------------------------

def _json_lines(head: Head, n: int = 20) -> list[str]:
    out = []
    for l in head.lines(200):
        l = l.strip()
        if not l:
            continue
        if not l.startswith("{"):
            m = RX_HOST_PREFIX.match(l.encode())
            if not m:
                return out
            l = m.group(2).decode()
        out.append(l)
        if len(out) >= n:
            break
    return out


def sniff_json(head: Head) -> bool:
    ls = _json_lines(head)
    if not ls:
        return False
    hits = 0
    for l in ls:
        if ('"auditID"' in l and ('"stage"' in l or '"requestURI"' in l or '"verb"' in l)) \
                or '"apiVersion":"audit.k8s.io/' in l.replace(" ", ""):
            hits += 1
    return hits >= max(1, len(ls) // 2)


def sniff_legacy(head: Head) -> bool:
    ls = [l for l in head.lines(50) if l.strip()]
    if not ls:
        return False
    hits = sum(1 for l in ls if RX_LEGACY.match(l) and ' id="' in l)
    return hits >= max(1, len(ls) // 2)


FORMATS = [
    Format(name="audit-json", description="kube-apiserver audit log, JSON lines (audit.k8s.io v1/v1beta1/v1alpha1, "
                                          "optional host prefix)",
           priority=20, sniff=sniff_json, parse=parse_json,
           tables=("requests", "pod_transitions", "node_transitions")),
    Format(name="audit-legacy", description="kube-apiserver audit log, legacy text format (and 1.6/1.7 basic audit)",
           priority=21, sniff=sniff_legacy, parse=parse_legacy, tables=("requests",)),
]
