"""kube-apiserver audit logs (docs/formats/audit-json.md, audit-legacy.md) → ``requests`` (+ node/pod milestones).

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
  (``audit stage ResponseStarted (request row from ResponseComplete)``). A ``RequestReceived`` event is counted
  when a later stage of its ``auditID`` is in the file (or it has no ID); otherwise it is a request with no end:
  a row with ``start_ts`` = ``requestReceivedTimestamp`` and no ``ts``, ``latency_s`` or ``code``
  (``info.requests_without_end``).
  Events with duplicate audit IDs and the same stage each give a row (the log says so; analyses dedup).
* ``ts`` = ``stageTimestamp`` (else ``timestamp``, else ``metadata.creationTimestamp`` of 1.8-era events, whole
  seconds); ``start_ts`` = ``requestReceivedTimestamp``; ``latency_s = ts − start_ts`` (the exact nanosecond
  difference / 1e9); ``clock`` = apiserver.
* ``verb``/``logged_verb`` = the audit verb; ``method`` derived from it (get/list/watch → GET, create → POST, update
  → PUT, patch → PATCH, delete/deletecollection → DELETE, proxy/connect → GET; non-resource verbs are lower-case
  HTTP methods); api_group/api_version/resource/subresource/namespace/name from ``objectRef`` when present, else
  from ``requestURI`` via :func:`requestinfo.classify`; ``scope`` by the rule of the apiserver's metrics (resource
  when a name, namespace when a namespace, else cluster);
  ``long_running`` as RequestInfo decides (watch, proxy, exec/attach/portforward, log follow).
* ``user`` is the **effective** user: ``impersonatedUser.username`` when present, else ``user.username``;
  ``auth_user`` keeps the authenticated ``user.username`` when it impersonated someone.
* ``src_ip`` = first of ``sourceIPs``; ``code`` = ``responseStatus.code``; ``latency_annotations`` = the
  ``apiserver.latency.k8s.io/*`` annotations as JSON object text.
* Derived: POST ``nodes`` (2xx) → ``node_transitions`` ``registered``; create ``pods`` (2xx) → ``pod_transitions``
  ``created`` (the pod named by ``objectRef.name``, else — a ``generateName`` create, whose request object has
  no name: ``LogRequestObject`` fills ``objectRef.name`` from it, staging/src/k8s.io/apiserver/pkg/audit/
  request.go — by ``responseObject.metadata.name``, present at level ``RequestResponse``, the GCE audit
  policy's default for core resources: cluster/gce/gci/configure-helper.sh); create ``pods/binding`` (2xx) → ``bound``; delete ``pods`` (2xx) → ``deleted`` (apiserver clock,
  µs resolution, origin ``audit``).
* Reading: blocks of whole lines (8 MiB) go to ``pyarrow.json`` with an explicit schema of the fields above
  (:data:`EVENT_SCHEMA`; every other field, at any depth, is ignored; the fields most events lack typed null
  until a block of the process has one: :func:`_fast`) and are classified on columns with the
  access log's RequestInfo rules (:func:`requestinfo.classify`, only for the rows whose URI can change the
  result, each distinct method and URI once per process: :func:`_classify_where_needed`). A block with a line
  that is blank, host-prefixed, not JSON or of unexpected types is read line by line instead, that block only,
  with the same rows for its good lines;
  ``info["audit_blocks"]`` says how many blocks went which way. The line-by-line reading with every URI
  classified is the reference the columnar path is tested against (``parse_json(..., columnar=False)``).
  Preparing a block (:func:`prepare_block`: parse, classify, the rows of its completed requests, its
  accounting and a small :class:`Carry`) is a pure function of the block; the engine runs it wherever it runs
  blocks (the byte ranges of a large plain file on its worker processes or Dask, else on threads:
  :mod:`kubelog.engine.folds`) and hands the carries in file order to this module's fold (:func:`fold`).
* Memory is flat in the size of the log: nothing is kept per request. An event that waits for a later stage
  (``ResponseStarted``, ``RequestReceived``) is settled by the blocks after it as they come; the audit IDs of
  the later-stage events go to a temporary file (deleted when closed), read once at the end for the events
  still waiting (their completion came first: merged or rotated files).
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
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .. import native, tables
from . import requestinfo
from .base import Context, Counts, Format, Head, Prepared

if TYPE_CHECKING:
    import pandas as pd

MAX_LINE = 64 << 20
READ = 8 << 20
VERB_METHOD = requestinfo.VERB_METHOD
RX_HOST_PREFIX = re.compile(rb"^([^\s{]+) (\{.*)$", re.S)
RX_LEGACY = re.compile(
    r"^(?:\S+ )?(?P<ts>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)) AUDIT: (?P<kv>.*)$"
)
RX_LKV = re.compile(r'([\w-]+)="((?:[^"\\]|\\.)*)"')
COMPLETE = ("ResponseComplete", "Panic")


def _s(v) -> str | None:
    if v is None:
        return None
    return v if isinstance(v, str) else None


def _d(v) -> dict:
    return v if isinstance(v, dict) else {}


S = pa.string()
TSZ = pa.timestamp("ns", tz="UTC")
#: The fields of an audit Event that kubelog reads.  The fast path hands this schema to ``pyarrow.json``
#: (unexpected fields, at any depth, are ignored); the per-line path conforms each event to it.
EVENT_SCHEMA = pa.schema(
    [
        ("apiVersion", S),
        ("kind", S),
        ("auditID", S),
        ("stage", S),
        ("requestURI", S),
        ("verb", S),
        ("user", pa.struct([("username", S)])),
        ("impersonatedUser", pa.struct([("username", S)])),
        ("sourceIPs", pa.list_(S)),
        ("userAgent", S),
        (
            "objectRef",
            pa.struct(
                [("resource", S), ("namespace", S), ("name", S), ("apiGroup", S), ("apiVersion", S), ("subresource", S)]
            ),
        ),
        ("responseStatus", pa.struct([("code", pa.int64())])),
        ("requestReceivedTimestamp", S),
        ("stageTimestamp", S),
        ("timestamp", S),
        ("metadata", pa.struct([("creationTimestamp", S)])),
        # RequestResponse level only: the created object's name (a generateName create names no object in
        # its URI or objectRef)
        ("responseObject", pa.struct([("metadata", pa.struct([("name", S)]))])),
    ]
)
_TOP_TYPES = {
    "verb": str,
    "requestURI": str,
    "auditID": str,
    "stage": str,
    "user": dict,
    "objectRef": dict,
    "responseStatus": dict,
    "sourceIPs": list,
    "kind": str,
    "stageTimestamp": str,
    "requestReceivedTimestamp": str,
    "annotations": dict,
    "responseObject": dict,
}
LATENCY_ANNOTATION = "apiserver.latency.k8s.io/"
RECEIVED_REASON = "audit stage RequestReceived (request row from a later stage)"
STARTED_REASON = "audit stage ResponseStarted (request row from ResponseComplete)"


def _latency_annotations(ev: dict) -> str | None:
    ann = _d(ev.get("annotations"))
    lat = {k: v for k, v in ann.items() if isinstance(k, str) and k.startswith(LATENCY_ANNOTATION)}
    return json.dumps(lat, sort_keys=True) if lat else None


def _type_problems(ev: dict) -> list[str]:
    return [
        f"{k} is {type(ev[k]).__name__}, not {t.__name__}"
        for k, t in _TOP_TYPES.items()
        if k in ev and ev[k] is not None and not isinstance(ev[k], t)
    ]


def _conform(ev: dict) -> dict:
    """The event reduced to :data:`EVENT_SCHEMA`, a field of the wrong type treated as absent."""
    out = {}

    def struct(v: dict, typ) -> dict:
        sub = {}
        for g in typ:
            x = v.get(g.name)
            if pa.types.is_struct(g.type):
                sub[g.name] = struct(x, g.type) if isinstance(x, dict) and x else None
                continue
            if pa.types.is_integer(g.type):
                ok = isinstance(x, int) and not isinstance(x, bool) and -(2**31) <= x < 2**31
            else:
                ok = isinstance(x, str)
            sub[g.name] = x if ok else None
        return sub

    for f in EVENT_SCHEMA:
        v = ev.get(f.name)
        if pa.types.is_struct(f.type):
            v = _d(v)
            out[f.name] = struct(v, f.type) if v else None
        elif pa.types.is_list(f.type):  # sourceIPs: only the first address is used
            out[f.name] = [v[0]] if isinstance(v, list) and v and isinstance(v[0], str) else None
        else:
            out[f.name] = v if isinstance(v, str) else None
    return out


def _times(a: pa.Array) -> pa.Array:
    """RFC 3339 text → timestamp[ns, UTC]; text that is not a time gives null."""
    try:
        return pc.cast(a, TSZ)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        import pandas as pd  # rare: a malformed time somewhere in the block

        v = pd.to_datetime(pd.Series(a.to_pylist(), dtype=object), utc=True, format="ISO8601", errors="coerce")
        return pa.Array.from_pandas(v, type=TSZ)


def _nonempty(a: pa.Array) -> pa.Array:
    """Empty strings as null (Python's ``x or y`` on text); ``a`` itself when it has none."""
    if a.null_count == len(a):
        return a
    empty = pc.equal(a, "")
    if not pc.any(empty).as_py():
        return a
    return pc.if_else(empty, pa.scalar(None, S), a)


def _column(t: pa.Table, name: str) -> pa.Array:
    c = t.column(name)
    if isinstance(c, pa.ChunkedArray):
        return c.chunk(0) if c.num_chunks == 1 else c.combine_chunks()
    return c


#: Words of a request URI without which RequestInfo cannot make the request long-running or name its object
#: by a field selector (watch, proxy, connect subresources, log follow, fieldSelector=metadata.name=), and a
#: query parameter whose name has an escape (``wat%63h=true`` is Go's ``watch=true``).
_URI_MATTERS = "watch|proxy|exec|attach|portforward|log|fieldSelector|[?&][^&=]*%"


#: What :func:`requestinfo.classify` gives an audit row where it is used, in this order; a row whose URI cannot
#: change its result gets the defaults (not long-running, no name, no resource, ...).
_INFO = (
    ("long_running", False),
    ("name", ""),
    ("resource", ""),
    ("scope", ""),
    ("api_group", ""),
    ("api_version", ""),
    ("subresource", ""),
    ("namespace", ""),
)
#: (method, URI) -> the :data:`_INFO` values :func:`requestinfo.classify` gives it, across the blocks a process
#: prepares (the same list and watch URIs come back block after block: a kubelet's watch of its pods, a
#: controller's list by label).  Bounded: emptied when it holds :data:`_MEMO_MAX` URIs.
_CLASSIFIED: dict = {}
_MEMO_MAX = 20_000


def _classify_where_needed(method: pa.Array, uri: pa.Array, has_ref: pa.Array, ref_name: pa.Array) -> _Classified:
    """:func:`requestinfo.classify` of the rows whose URI can change an audit row: those without an
    objectRef (everything comes from the URI), those whose objectRef names no object (a field selector may),
    and those whose URI has a word of :data:`_URI_MATTERS`.  The other rows get what classify would give
    them where it is used: not long-running, no name, no resource (most rows of a large audit log: a
    named object, no watch).  Same rows as classifying everything, a fraction of the work: the pattern is
    matched once per distinct URI, and each distinct (method, URI) of the rows that need it is classified
    once per process (:data:`_CLASSIFIED`), its values then taken for every row."""
    n = len(uri)
    enc = pc.dictionary_encode(uri)
    if isinstance(enc, pa.ChunkedArray):
        enc = enc.combine_chunks()
    uri_idx = enc.indices.to_numpy()
    need = pc.or_(pc.invert(has_ref), pc.fill_null(pc.equal(ref_name, ""), True)).to_numpy(zero_copy_only=False)
    need = need | pc.match_substring_regex(enc.dictionary, _URI_MATTERS).to_numpy(zero_copy_only=False)[uri_idx]
    rows = np.flatnonzero(need)
    if not len(rows):
        return _Classified(n, [], None)
    menc = pc.dictionary_encode(pc.fill_null(method, ""))
    if isinstance(menc, pa.ChunkedArray):
        menc = menc.combine_chunks()
    m = len(menc.dictionary)
    pair = uri_idx[rows].astype(np.int64) * m + menc.indices.to_numpy()[rows]
    upair, inv = np.unique(pair, return_inverse=True)
    u_uri = enc.dictionary.take(pa.array(upair // m)).to_pylist()
    u_method = menc.dictionary.take(pa.array(upair % m)).to_pylist()
    keys = list(zip(u_method, u_uri))
    memo = _CLASSIFIED
    got = [memo.get(k) for k in keys]
    miss = [j for j, g in enumerate(got) if g is None]
    if miss:
        info = requestinfo.classify(pa.array([u_method[j] for j in miss], S), pa.array([u_uri[j] for j in miss], S))
        vals = list(zip(*(info[k].to_pylist() for k, _ in _INFO)))
        if len(memo) + len(miss) > _MEMO_MAX:
            memo.clear()
        for j, v in zip(miss, vals):
            got[j] = v
            memo[keys[j]] = v
    if len(rows) == n:
        return _Classified(n, got, pa.array(inv.astype(np.int32)))
    take = np.full(n, len(keys), dtype=np.int32)  # the defaults' row, after the classified ones
    take[rows] = inv
    return _Classified(n, got + [tuple(d for _, d in _INFO)], pa.array(take))


class _Classified:
    """What :func:`_classify_where_needed` gives: the :data:`_INFO` values of each distinct classified row
    (``values``) and which of them each row has (``take``); a field's column is made when asked for
    (``info[key]``), and :meth:`constant` says without making it whether every row has the same value."""

    def __init__(self, n: int, values: list, take: pa.Array | None):
        self.n, self.values, self.take = n, values, take
        self._cols: dict = {}

    def constant(self, key: str):
        """The value every row has for ``key``, or None when they differ."""
        c = _INFO_INDEX[key]
        if not self.values:
            return _INFO[c][1]
        vals = {v[c] for v in self.values}
        return vals.pop() if len(vals) == 1 else None

    def __getitem__(self, key: str) -> pa.Array:
        col = self._cols.get(key)
        if col is None:
            c = _INFO_INDEX[key]
            one = self.constant(key)
            if one is not None:
                col = (
                    pa.array(np.full(self.n, one, dtype=bool)) if key == "long_running" else tables.repeat(one, self.n)
                )
            else:
                typ = pa.bool_() if key == "long_running" else S
                col = pa.array([v[c] for v in self.values], typ).take(self.take)
            self._cols[key] = col
        return col


_INFO_INDEX = {k: c for c, (k, _) in enumerate(_INFO)}


def _constant(info, key: str):
    """``info.constant(key)`` of a :class:`_Classified`; None (not known) for a plain dict of columns."""
    return info.constant(key) if isinstance(info, _Classified) else None


def request_columns(ev: pa.Table, line_no: np.ndarray, lat_ann: pa.Array, classify_all: bool = False) -> dict:
    """``requests`` columns of audit events given as :data:`EVENT_SCHEMA` columns (the rules in the module
    docstring), classification on columns with the access log's :func:`requestinfo.classify` (of every row
    with ``classify_all``: the reference for :func:`_classify_where_needed`)."""
    n = ev.num_rows
    verb_raw = _column(ev, "verb")
    verb = pc.fill_null(pc.utf8_lower(verb_raw), "")
    method = requestinfo.per_distinct(
        verb, lambda v: pa.array([VERB_METHOD.get(x, x.upper()) for x in v.to_pylist()], S)
    )
    uri = pc.fill_null(_column(ev, "requestURI"), "")
    ref = _column(ev, "objectRef")
    has_ref = pc.is_valid(ref)
    info = (
        requestinfo.classify(method, uri)
        if classify_all
        else _classify_where_needed(method, uri, has_ref, pc.struct_field(ref, "name"))
    )
    f = {}
    every_ref = ref.null_count == 0  # (most blocks) the URI's classification is not needed for these
    for col, key in (
        ("api_group", "apiGroup"),
        ("api_version", "apiVersion"),
        ("resource", "resource"),
        ("subresource", "subresource"),
        ("namespace", "namespace"),
        ("name", "name"),
    ):
        v = pc.fill_null(pc.struct_field(ref, key), "")
        f[col] = v if every_ref else pc.if_else(has_ref, v, info[col])
    # fieldSelector=metadata.name= names the object of a list/watch whose objectRef has no name
    if _constant(info, "name") != "":  # (else no URI of the block names an object that way)
        by_selector = pc.and_(
            pc.and_(has_ref, pc.equal(f["name"], "")),
            pc.and_(pc.not_equal(info["name"], ""), pc.equal(info["resource"], f["resource"])),
        )
        f["name"] = pc.if_else(by_selector, info["name"], f["name"])
    sub = f["subresource"]
    long_running = pc.or_(
        pc.is_in(verb, pa.array(["watch", "proxy"])), pc.is_in(sub, pa.array(sorted(requestinfo.CONNECT_SUBRESOURCES)))
    )
    if _constant(info, "long_running") is not False:
        long_running = pc.or_(info["long_running"], long_running)
    scope = pc.if_else(
        pc.or_(pc.not_equal(f["name"], ""), pc.equal(verb, "create")),
        "resource",
        pc.if_else(pc.not_equal(f["namespace"], ""), "namespace", "cluster"),
    )
    if not every_ref:
        nonres = pc.and_(pc.invert(has_ref), pc.equal(info["scope"], "nonresource"))
        scope = pc.if_else(nonres, "nonresource", scope)
    uname = pc.struct_field(_column(ev, "user"), "username")
    iname = _nonempty(pc.struct_field(_column(ev, "impersonatedUser"), "username"))
    if iname.null_count == n:  # nobody impersonated (most blocks)
        user, auth_user = uname, pa.nulls(n, S)
    else:
        imp = pc.is_valid(iname)
        user, auth_user = pc.if_else(imp, iname, uname), pc.if_else(imp, uname, pa.scalar(None, S))
    ips = _column(ev, "sourceIPs")
    n_ips = pc.list_value_length(ips)
    if ips.null_count == 0 and (pc.min(n_ips).as_py() or 0) > 0:  # every event has an address
        first_ip = pc.list_element(ips, 0)
    else:
        first_ip = pc.list_element(
            pc.if_else(pc.greater(pc.fill_null(n_ips, 0), 0), ips, pa.scalar([None], pa.list_(S))), 0
        )
    code = pc.struct_field(_column(ev, "responseStatus"), "code")
    code = pc.if_else(
        pc.and_(pc.greater_equal(code, -(2**31)), pc.less(code, 2**31)), code, pa.scalar(None, pa.int64())
    ).cast(pa.int32())
    ts = _nonempty(_column(ev, "stageTimestamp"))
    if ts.null_count:  # else every event has its stage's time (audit.k8s.io/v1)
        ts = pc.coalesce(
            ts,
            _nonempty(_column(ev, "timestamp")),
            _nonempty(pc.struct_field(_column(ev, "metadata"), "creationTimestamp")),
        )
    ts = _times(ts)
    start = _times(_column(ev, "requestReceivedTimestamp"))
    ua, client = _client(_column(ev, "userAgent"))
    return dict(
        ts=ts,
        start_ts=start,
        method=_nonempty(method),
        verb=_nonempty(verb),
        logged_verb=verb_raw,
        uri=_nonempty(uri),
        code=code,
        scope=scope,
        user_agent=ua,
        client=client,
        user=user,
        auth_user=auth_user,
        src_ip=first_ip,
        audit_id=_column(ev, "auditID"),
        long_running=long_running,
        stage=_column(ev, "stage"),
        latency_annotations=lat_ann,
        latency_s=_seconds_between(start, ts),
        line_no=pa.array(line_no, pa.int64()),
        clock=_repeat("apiserver", n),
        origin=_repeat("audit", n),
        server=_repeat("kube-apiserver", n),
        _created_name=_nonempty(pc.struct_field(pc.struct_field(_column(ev, "responseObject"), "metadata"), "name")),
        **f,
    )


def _client(ua: pa.Array) -> tuple[pa.Array, pa.Array]:
    """The user agents and their :func:`requestinfo.client_of` (null where there is none), both
    dictionary-encoded (as the Parquet writer takes them: :func:`_repeat`): the few distinct user agents are
    looked up in the process's memo of the clients of earlier blocks."""
    enc = pc.dictionary_encode(ua)
    if ua.null_count:
        return enc, pc.dictionary_encode(pc.if_else(pc.is_valid(ua), requestinfo.client_of(ua), pa.scalar(None, S)))
    return enc, requestinfo.client_of(enc)


def _repeat(value: str, n: int) -> pa.Array:
    """``n`` copies of ``value``, dictionary-encoded and made from buffers: the Parquet writer takes a column
    with its dictionary as it is, where it would hash every value of a string column (the block's
    ``requests`` part, :func:`kubelog.engine.folds._result`); the main process's fold concatenates them as
    well as plain strings, without pandas (:func:`_scalar`)."""
    idx = pa.Array.from_buffers(pa.int32(), n, [None, pa.py_buffer(np.zeros(n, np.int32))])
    return pa.DictionaryArray.from_arrays(idx, tables.strings([value]), safe=False)


def _seconds_between(start: pa.Array, end: pa.Array) -> pa.Array:
    """(end − start) in seconds, from the exact nanosecond difference."""
    return pc.divide(pc.cast(pc.subtract(end, start), pa.int64()).cast(pa.float64()), 1e9)


def _emit_requests(ctx: Context, cols: dict, keep: pa.Array | None = None) -> None:
    """Emit ``requests`` rows (those of ``keep``) and the milestones they imply (callers count the lines)."""
    for table, t in _request_tables(cols, keep).items():
        ctx.emit(table, t)


def _request_tables(cols: dict, keep: pa.Array | None = None) -> dict:
    """``{table: columns}`` of the ``requests`` rows of ``cols`` (those of ``keep``) and of the milestones
    they imply (``node_transitions``, ``pod_transitions``; a table without rows is left out)."""
    if keep is not None and not pc.all(keep).as_py():  # (most blocks: every event of the block completed)
        cols = {k: v.filter(keep) for k, v in cols.items()}
    if not len(cols["line_no"]):
        return {}
    created = cols.get("_created_name")
    cols = {k: v for k, v in cols.items() if k != "_created_name"}
    out = {"requests": cols}
    # the milestones come from creates and deletes of nodes and pods (a few rows of a block): those rows only
    cand = pc.and_(
        pc.is_in(cols["verb"], tables.strings(["create", "delete"])),
        pc.is_in(cols["resource"], tables.strings(["nodes", "pods"])),
    )
    if not pc.any(cand).as_py():
        return out
    at = pc.indices_nonzero(cand)
    cols = {
        k: cols[k].take(at) for k in ("verb", "resource", "subresource", "name", "namespace", "code", "ts", "line_no")
    }
    if created is not None:
        created = created.take(at)
    # (Arrow scalars made from buffers, not Python objects: this runs in the main process too, _scalar)
    code = cols["code"].cast(pa.int32())
    ok = pc.fill_null(
        pc.and_(pc.and_(pc.greater_equal(code, _int32(200)), pc.less(code, _int32(300))), pc.is_valid(cols["ts"])),
        _FALSE,
    )
    empty = _scalar("")
    verb, res, sub, name = cols["verb"], cols["resource"], pc.fill_null(cols["subresource"], empty), cols["name"]
    nosub = pc.equal(sub, empty)
    if created is not None:  # a generateName create: the name the apiserver gave is in the responseObject
        name = pc.if_else(pc.and_(pc.fill_null(pc.equal(name, empty), _TRUE), pc.is_valid(created)), created, name)
    is_v = lambda v: pc.fill_null(pc.equal(verb, _scalar(v)), _FALSE)
    node = pc.fill_null(pc.and_(pc.and_(ok, pc.equal(res, _scalar("nodes"))), pc.and_(is_v("create"), nosub)), _FALSE)
    if pc.any(node).as_py():
        k = pc.sum(node).as_py()
        out["node_transitions"] = {
            "node": name.filter(node),
            "milestone": tables.repeat("registered", k),
            "ts": cols["ts"].filter(node),
            "clock": tables.repeat("apiserver", k),
            "resolution_s": _floats(1e-6, k),
            "origin": tables.repeat("audit", k),
            "line_no": cols["line_no"].filter(node),
        }
    pod = pc.and_(pc.and_(ok, pc.equal(res, _scalar("pods"))), pc.fill_null(pc.not_equal(name, empty), _FALSE))
    ms = pc.if_else(
        pc.and_(is_v("create"), nosub),
        _scalar("created"),
        pc.if_else(
            pc.and_(is_v("create"), pc.equal(sub, _scalar("binding"))),
            _scalar("bound"),
            pc.if_else(pc.and_(is_v("delete"), nosub), _scalar("deleted"), pa.nulls(1, S)[0]),
        ),
    )
    pod = pc.fill_null(pc.and_(pod, pc.is_valid(ms)), _FALSE)
    if pc.any(pod).as_py():
        k = pc.sum(pod).as_py()
        out["pod_transitions"] = {
            "namespace": cols["namespace"].filter(pod),
            "pod": name.filter(pod),
            "node": pa.nulls(k, S),
            "milestone": ms.filter(pod),
            "ts": cols["ts"].filter(pod),
            "clock": tables.repeat("apiserver", k),
            "resolution_s": _floats(1e-6, k),
            "origin": tables.repeat("audit", k),
            "line_no": cols["line_no"].filter(pod),
        }
    return out


def iter_line_blocks(stream, max_line: int = MAX_LINE, size: int | None = None):
    """Yield ``(first_line_no, bytes)`` blocks of whole lines (the last may lack its newline), and
    ``(line_no, None)`` for a line over ``max_line`` bytes (never held whole in memory)."""
    size = size or READ
    ln = 1
    buf = b""
    skipping = False
    while True:
        b = stream.read(size)
        if not b:
            break
        if skipping:
            j = b.find(b"\n")
            if j < 0:
                continue
            yield ln, None
            ln += 1
            skipping = False
            b = b[j + 1 :]
        buf += b
        j = buf.rfind(b"\n")
        if j < 0:
            if len(buf) > max_line:
                skipping, buf = True, b""
            continue
        block, buf = buf[: j + 1], buf[j + 1 :]
        yield from _split_long(ln, block, max_line)
        ln += block.count(b"\n")
    if skipping or len(buf) > max_line:
        yield ln, None
    elif buf:
        yield ln, buf


def _split_long(ln: int, block: bytes, max_line: int):
    """``block`` as it is, or cut around its lines over ``max_line`` bytes (each then ``(line_no, None)``)."""
    if len(block) <= max_line + 1:
        yield ln, block
        return
    ends = np.flatnonzero(np.frombuffer(block, np.uint8) == 10)
    starts = np.concatenate(([0], ends[:-1] + 1))
    long = np.flatnonzero(ends - starts > max_line)
    lo = 0  # index of the first line not yet yielded
    for k in long:
        if k > lo:
            yield ln + lo, block[starts[lo] : ends[k - 1] + 1]
        yield ln + k, None
        lo = k + 1
    if lo < len(ends):
        yield ln + lo, block[starts[lo] :]


def iter_lines(stream, max_line: int = MAX_LINE):
    """Yield ``(line_no, bytes | None)`` per physical line; None for a line over ``max_line`` bytes."""
    for ln, block in iter_line_blocks(stream, max_line):
        if block is None:
            yield ln, None
            continue
        lines = block.split(b"\n")
        if lines[-1] == b"":
            lines.pop()
        for i, raw in enumerate(lines):
            yield ln + i, raw


#: What is kept, on disk, of every event past ``RequestReceived``: its audit ID and whether it completed.
SEEN_SCHEMA = pa.schema([("audit_id", S), ("complete", pa.bool_())])


#: Fields of :data:`EVENT_SCHEMA` that most events do not carry: impersonation, the times of 1.8-era events,
#: the response object of the ``RequestResponse`` level.  An absent field still costs ``pyarrow.json`` its
#: column (~0.5-1.2 ms per 8 MiB block each, bench/README.md round 6), a null-typed one less: :func:`_fast`
#: reads those not yet seen in this process as type null (which fails on any value but null) and, when that
#: fails, the block again with the full schema.
_RARE = ("impersonatedUser", "timestamp", "metadata", "responseObject")
#: The fields of :data:`_RARE` that an event of a block read by this process carried (each then read with its
#: own type for the blocks after: a log whose events carry one is read once per block, not twice).
_SEEN_RARE: frozenset = frozenset()
_EVENT_INDEX = {f.name: i for i, f in enumerate(EVENT_SCHEMA)}


def _read_json(data: bytes, schema: pa.Schema) -> pa.Table | None:
    import pyarrow.json as pj

    po = pj.ParseOptions(explicit_schema=schema, unexpected_field_behavior="ignore")
    # one parse block (one chunk per column, no concatenation after): the blocks themselves run side by side
    ro = pj.ReadOptions(block_size=len(data) + 1, use_threads=False)
    try:
        return pj.read_json(pa.BufferReader(data), read_options=ro, parse_options=po)
    except pa.ArrowInvalid:
        return None


def _lean_schema(seen: frozenset) -> pa.Schema:
    """:data:`EVENT_SCHEMA` with the fields of :data:`_RARE` not in ``seen`` typed null."""
    return pa.schema(
        [pa.field(f.name, pa.null()) if f.name in _RARE and f.name not in seen else f for f in EVENT_SCHEMA]
    )


def _braces(data: bytes, ends: np.ndarray) -> bool:
    """Whether every line of the block begins with ``{`` (``ends``: its newlines' positions)."""
    b = np.frombuffer(data, np.uint8)
    nxt = ends[ends + 1 < len(b)] + 1
    return bool(len(b)) and b[0] == ord("{") and bool((b[nxt] == ord("{")).all())


def _fast(data: bytes, ends: np.ndarray, n: int, braces: bool | None = None) -> pa.Table | None:
    """The block's events by ``pyarrow.json`` as :data:`EVENT_SCHEMA` columns, or None when a line is blank,
    prefixed, not JSON or of the wrong types (the block then goes line by line).  ``braces``: whether every
    line begins with ``{`` (:func:`_scan`; None: not known yet).  Read first with the fields of :data:`_RARE`
    this process has not seen typed null (absent or null in every event: the same table, the columns of nulls
    made after), else again with the full schema."""
    global _SEEN_RARE

    if not (_braces(data, ends) if braces is None else braces):
        return None
    seen = _SEEN_RARE
    t = _read_json(data, _lean_schema(seen)) if len(seen) < len(_RARE) else None
    if t is not None:
        for f in _RARE:
            if f not in seen:
                i = _EVENT_INDEX[f]
                t = t.set_column(i, EVENT_SCHEMA.field(i), pa.nulls(t.num_rows, EVENT_SCHEMA.field(i).type))
    else:
        t = _read_json(data, EVENT_SCHEMA)
        if t is None:
            return None
        got = {f for f in _RARE if f not in seen and t.column(f).null_count < t.num_rows}
        if got:
            _SEEN_RARE = seen | got
    return t if t.num_rows == n else None


def _latency_annotations_fast(data: bytes, ends: np.ndarray, n: int, found: bool = True) -> pa.Array | None:
    """The ``apiserver.latency.k8s.io/*`` annotations of the lines that have them (few: the apiserver
    adds them to slow requests), as JSON object text; null elsewhere (None: a line that pyarrow read
    and ``json`` does not, the block then goes line by line).  ``found``: whether the key is in ``data``
    at all (:func:`_scan`)."""
    key = LATENCY_ANNOTATION.encode()
    at = data.find(key) if found else -1
    if at < 0:
        return pa.nulls(n, S)
    out: list = [None] * n
    while at >= 0:
        i = int(np.searchsorted(ends, at))
        lo = int(ends[i - 1]) + 1 if i else 0
        hi = int(ends[i]) if i < len(ends) else len(data)
        try:
            ev = json.loads(data[lo:hi])
        except (ValueError, RecursionError):
            return None
        out[i] = _latency_annotations(ev) if isinstance(ev, dict) else None
        at = data.find(key, hi)
    return pa.array(out, S)


#: The pieces :func:`_scan` looks at a block in: small enough to stay in the CPU cache for its two searches.
SCAN_PIECE = 256 << 10


def _scan(data: bytes) -> tuple[np.ndarray, bool, bool | None]:
    """The positions of the block's newlines, whether the latency annotations' key is in it and whether every
    line begins with ``{`` (None: not looked at): by the C scanner in one pass (``memchr``, ``memmem``; ~1.7
    ms per 8 MiB block against ~4.6 ms, bench/README.md round 6), else by numpy (:func:`_scan_numpy`)."""
    nat = native.module()
    if nat is None:
        return (*_scan_numpy(data), None)
    pos, found, braces = nat.scan_lines(data, LATENCY_ANNOTATION.encode())
    return np.frombuffer(pos, np.int64), found, braces


def _scan_numpy(data: bytes) -> tuple[np.ndarray, bool]:
    """:func:`_scan` without the C scanner, in one pass over the block (by pieces of :data:`SCAN_PIECE`
    bytes, each searched twice while in the cache: two passes over the whole 8 MiB block read it from
    memory twice)."""
    b = np.frombuffer(data, np.uint8)
    key = LATENCY_ANNOTATION.encode()
    over = len(key) - 1  # a key across two pieces is found in the second
    found = False
    ends = []
    for at in range(0, len(b), SCAN_PIECE):
        ends.append(np.flatnonzero(b[at : at + SCAN_PIECE] == 10) + at)
        if not found:
            found = data.find(key, max(0, at - over), at + SCAN_PIECE) >= 0
    return (np.concatenate(ends) if ends else np.zeros(0, np.int64)), found


def _prepare(first: int, data: bytes) -> tuple[int, pa.Table | None, dict | None]:
    """What a block gives without the file's state: its number of lines, its events read by ``pyarrow.json``
    and their ``requests`` columns (:func:`request_columns`); (n, None, None): the block is read line by line."""
    ends, found, braces = _scan(data)
    n = len(ends) + (not data.endswith(b"\n"))
    ev = _fast(data, ends, n, braces)
    lat = _latency_annotations_fast(data, ends, n, found) if ev is not None else None
    if ev is None or lat is None:
        return n, None, None
    return n, ev, request_columns(ev, np.arange(first, first + n, dtype=np.int64), lat)


@dataclass
class Carry:
    """What the file's ordered fold (:class:`_AuditFile`) needs of one prepared block: small whatever the
    block (no row of a completed request, which the block's own tables hold)."""

    columnar: bool = True  # read by pyarrow.json (else line by line)
    versions: dict = field(default_factory=dict)  # apiVersion ('' when none) -> events
    pending: dict | None = None  # request columns of its waiting events that no later stage of the block settled
    later_ids: pa.Array | None = None  # audit IDs of its events past RequestReceived,
    later_complete: pa.Array | None = None  # and whether each is a completion
    not_json: int = 0  # lines that were not JSON
    type_errors: int = 0  # events with fields of the wrong types
    # the first three of each kind, for the file's first three: (kind "json" | "types", ordinal in the block,
    # line, message)
    errors: list = field(default_factory=list)


def prepare_block(first: int, data: bytes, columnar: bool = True) -> Prepared:
    """One block of whole lines (the first is line ``first``) without the file's state: its rows that are
    final here (the completed requests and their milestones), its accounting and its :class:`Carry` (the
    waiting events, the audit IDs of its later stages).  A pure function of the block, run anywhere (the
    engine's worker processes, Dask, threads).  ``columnar=False`` reads every line with ``json`` and
    classifies every URI: the reference the columnar path is tested against."""
    bctx = Context(0, "", None)
    carry = Carry()
    ev = cols = None
    if columnar:
        n, ev, cols = _prepare(first, data)
    else:
        n = data.count(b"\n") + (not data.endswith(b"\n"))
    carry.columnar = ev is not None
    if ev is None:
        got = _slow(first, data, bctx, carry)
        if got is not None:
            ev, line_no, lat = got
            cols = request_columns(ev, line_no, lat, classify_all=not columnar)
    tabs = _block_events(ev, cols, bctx, carry) if ev is not None else {}
    counts = Counts(record_lines=bctx.record_lines)
    counts.add_context(bctx)
    return Prepared(n, {t: [c] for t, c in tabs.items()}, counts, carry)


def _slow(first: int, data: bytes, bctx: Context, carry: Carry):
    """The block line by line (``json``): ``(events, line numbers, latency annotations)`` of its events, or
    None; the other lines counted in ``bctx``, the errors to report in ``carry``."""
    events, line_nos, lat = [], [], []
    lines = data.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    for k, raw in enumerate(lines):
        ln = first + k
        s = raw.strip()
        if not s:
            bctx.count("blank line", ln, "", severity="info")
            continue
        if not s.startswith(b"{"):
            m = RX_HOST_PREFIX.match(s)
            if m:
                s = m.group(2)
        try:
            ev = json.loads(s)
        except (ValueError, RecursionError) as e:
            where = (
                f" ({e.msg} at column {e.colno})" if isinstance(e, json.JSONDecodeError) else f" ({type(e).__name__})"
            )
            bctx.count("not JSON (audit line)", ln, raw[:300], severity="warning")
            carry.not_json += 1
            if carry.not_json <= 3:
                carry.errors.append(("json", carry.not_json, ln, f"not a JSON audit event{where}; line skipped"))
            continue
        if not isinstance(ev, dict):
            bctx.count("JSON value is not an object (audit line)", ln, raw[:300], severity="warning")
            continue
        probs = _type_problems(ev)
        if probs:
            carry.type_errors += 1
            if carry.type_errors <= 3:
                msg = "audit event with wrong field types (" + "; ".join(probs) + "): those fields ignored"
                carry.errors.append(("types", carry.type_errors, ln, msg))
        events.append(_conform(ev))
        line_nos.append(ln)
        lat.append(_latency_annotations(ev))
    if not events:
        return None
    return pa.Table.from_pylist(events, schema=EVENT_SCHEMA), np.array(line_nos, np.int64), pa.array(lat, S)


def _block_events(ev: pa.Table, cols: dict, bctx: Context, carry: Carry) -> dict:
    """The tables of a block's completed requests; its waiting events (``ResponseStarted``, ``RequestReceived``)
    that no later stage in the block settles, and the audit IDs of its later stages, into ``carry``."""
    for d in pc.value_counts(pc.fill_null(_column(ev, "apiVersion"), "")).to_pylist():
        carry.versions[d["values"]] = carry.versions.get(d["values"], 0) + d["counts"]
    stage = pc.fill_null(_column(ev, "stage"), "")
    aid = _column(ev, "auditID")
    received = pc.equal(stage, "RequestReceived")
    started = pc.equal(stage, "ResponseStarted")
    complete = pc.invert(pc.or_(received, started))
    anonymous = pc.and_(received, pc.is_null(aid))  # no ID: nothing can tell whether it ended
    if pc.any(anonymous).as_py():
        ln = cols["line_no"].filter(anonymous)
        bctx.count(RECEIVED_REASON, int(ln[0].as_py()), None, n=len(ln), severity="info")
    bctx.record_lines += pc.sum(complete).as_py() or 0
    tabs = _request_tables(cols, complete)
    wait = pc.or_(started, pc.and_(received, pc.is_valid(aid)))
    pending = {k: v.filter(wait) for k, v in cols.items()} if pc.any(wait).as_py() else None
    later = pc.and_(pc.invert(received), pc.is_valid(aid))  # a stage after RequestReceived, with an ID
    if pc.any(later).as_py():
        carry.later_ids, carry.later_complete = aid.filter(later), complete.filter(later)
        if pending is not None:
            pending = _settle(bctx, pending, carry.later_ids, carry.later_complete)
    carry.pending = pending
    return tabs


def _settle(ctx: Context, p: dict, ids: pa.Array, complete: pa.Array) -> dict | None:
    """Count the waiting events of ``p`` (request columns) that ``ids`` (audit IDs of later stages;
    ``complete``: a completion) settle — a ResponseStarted event by a completion of its request, a
    RequestReceived event by any later stage — and return the others (None: none left)."""
    aid = p["audit_id"]
    waiting = aid.drop_null()
    if not len(waiting):
        return p
    hit = pc.is_in(ids, value_set=waiting)  # the few later stages of a waiting request (a hash of the waiting)
    if not pc.any(hit).as_py():
        return p
    ids, complete = ids.filter(hit), complete.filter(hit)
    received = pc.fill_null(pc.equal(p["stage"], _scalar("RequestReceived")), _FALSE)
    done = pc.fill_null(
        pc.if_else(received, pc.is_in(aid, value_set=ids), pc.is_in(aid, value_set=ids.filter(complete))),
        _FALSE,
    )
    if not pc.any(done).as_py():
        return p
    for reason, which in (
        (STARTED_REASON, pc.and_(done, pc.invert(received))),
        (RECEIVED_REASON, pc.and_(done, received)),
    ):
        k = pc.sum(which).as_py() or 0
        if k:
            ctx.count(reason, int(p["line_no"].filter(which)[0].as_py()), None, n=k, severity="info")
    keep = pc.invert(done)
    return {k: v.filter(keep) for k, v in p.items()} if pc.any(keep).as_py() else None


def _scalar(value: str) -> pa.Scalar:
    """A string scalar made from buffers.  The fold (:class:`_AuditFile`) runs in the ingest's main process,
    where converting a Python object to Arrow (``pc.equal(a, "x")``, ``pc.fill_null(a, False)``) makes
    pyarrow import pandas (~0.15-0.3 CPU-s) that nothing else there needs."""
    return tables.repeat(value, 1)[0]


#: ``False`` and ``True`` as Arrow scalars, made from buffers (:func:`_scalar`).
_FALSE = pa.Array.from_buffers(pa.bool_(), 1, [None, pa.py_buffer(b"\x00")])[0]
_TRUE = pa.Array.from_buffers(pa.bool_(), 1, [None, pa.py_buffer(b"\x01")])[0]


def _int32(value: int) -> pa.Scalar:
    """An int32 scalar made from a buffer (:func:`_scalar`)."""
    return tables.repeat_int32(value, 1)[0]


def _floats(value: float, n: int) -> pa.Array:
    """``n`` copies of ``value`` as float64, made from a buffer (:func:`_scalar`)."""
    return pa.Array.from_buffers(pa.float64(), n, [None, pa.py_buffer(np.full(n, value, dtype=np.float64))])


def _serial_map(fn, items):
    for item in items:
        yield item, fn(*item)


class _AuditFile:
    """The ordered fold of one audit JSON input over its prepared blocks (:func:`prepare_block`): the events that
    wait for a later stage of their request (``ResponseStarted``, ``RequestReceived``), the API versions seen,
    the errors reported (the first three of each kind in the file).

    Memory does not grow with the file: a waiting event is settled by the blocks after it as they come (a
    completion follows its earlier stages in the log); the audit ID and stage of every later-stage event are
    spilled to a temporary file, read once at the end for the events still waiting (a completion that came
    before them: rotated or merged files).  The engine drives it (:mod:`kubelog.engine.folds`): ``add`` of
    each block's :class:`Carry` in file order, ``too_long`` for a line over :data:`MAX_LINE`, ``finish``."""

    def __init__(self, ctx: Context):
        ctx.clock = ctx.clock or "apiserver"
        ctx.info["component"] = "kube-apiserver"
        self.ctx = ctx
        self.block_bytes = READ  # the blocks it is given: whole lines, about this many bytes
        self.max_line = MAX_LINE
        self.pending: dict | None = None  # request columns of the events still waiting for a later stage
        self.seen = None  # pa.ipc writer of SEEN_SCHEMA batches (the spill), and its temporary file
        self._seen_file = None
        self.versions: dict[str, int] = {}
        self.type_errors = self.not_json = 0
        self.fast_blocks = self.slow_blocks = 0

    def add(self, c: Carry) -> None:
        """The next block's :class:`Carry` (its rows and accounting are the caller's)."""
        ctx = self.ctx
        for k, v in c.versions.items():
            self.versions[k] = self.versions.get(k, 0) + v
        if c.columnar:
            self.fast_blocks += 1
        else:
            self.slow_blocks += 1
        for kind, k, ln, msg in c.errors:
            if (self.not_json if kind == "json" else self.type_errors) + k <= 3:
                ctx.error(msg, ln)
        self.not_json += c.not_json
        self.type_errors += c.type_errors
        if c.later_ids is not None:
            if self.pending is not None:
                self.pending = _settle(ctx, self.pending, c.later_ids, c.later_complete)
            self._remember(c.later_ids, c.later_complete)
        if c.pending is not None:
            p = self.pending
            self.pending = c.pending if p is None else {k: pa.concat_arrays([p[k], c.pending[k]]) for k in p}

    def too_long(self, line_no: int) -> None:
        """A line over :data:`MAX_LINE` bytes (read, never held whole): counted, and said."""
        self.ctx.count("audit line too long (over 64 MiB, skipped)", line_no, None, severity="error")
        self.ctx.error(f"audit line longer than {MAX_LINE >> 20} MiB skipped", line_no)

    def _remember(self, ids: pa.Array, complete: pa.Array) -> None:
        """Spill the audit IDs of later-stage events (for events that wait and come after them)."""
        if self.seen is None:
            import tempfile

            self._seen_file = tempfile.TemporaryFile(prefix="kubelog-audit-ids-")
            self.seen = pa.ipc.new_stream(self._seen_file, SEEN_SCHEMA)
        self.seen.write_batch(pa.record_batch([ids, complete], schema=SEEN_SCHEMA))

    def _settle_from_spill(self) -> None:
        """The events still waiting against every later stage of the file (read back from the spill)."""
        if self.seen is None:
            return
        self.seen.close()
        f, self.seen, self._seen_file = self._seen_file, None, None
        with f:
            if self.pending is None:
                return
            f.seek(0)
            want = pc.unique(self.pending["audit_id"].drop_null())
            ids, done = [], []
            for b in pa.ipc.open_stream(f):
                hit = pc.is_in(b.column(0), value_set=want)
                if pc.any(hit).as_py():
                    ids.append(b.column(0).filter(hit))
                    done.append(b.column(1).filter(hit))
            if ids:
                self.pending = _settle(self.ctx, self.pending, pa.concat_arrays(ids), pa.concat_arrays(done))

    def abort(self) -> None:
        """After an error: the spill (a temporary file) goes."""
        if self._seen_file is not None:
            self._seen_file.close()
            self.seen = self._seen_file = None

    def finish(self) -> None:
        """The events still waiting at the end of the file: a ResponseStarted event whose request completed
        in this file is counted, the others (streams still open when the log ended) are request rows; a
        RequestReceived event with a later stage of its auditID in the file is counted, the others are
        requests with no end (no ``ts``, ``latency_s`` or ``code``: ``info["requests_without_end"]``)."""
        ctx = self.ctx
        self._settle_from_spill()
        if self.pending is not None:
            cols = self.pending
            self.pending = None
            no_end = pc.fill_null(pc.equal(cols["stage"], _scalar("RequestReceived")), _FALSE)
            n_no_end = pc.sum(no_end).as_py() or 0
            if n_no_end:  # the apiserver received it and the log holds nothing later (cut, crashed, or the
                # policy logs that stage only)
                for c in ("ts", "code", "latency_s"):
                    cols[c] = pc.if_else(no_end, pa.nulls(1, cols[c].type)[0], cols[c])
                ctx.info["requests_without_end"] = n_no_end
            ctx.record_lines += len(cols["line_no"])
            _emit_requests(ctx, cols)
        ctx.info["audit_api_versions"] = {k or "(none)": v for k, v in self.versions.items()}
        ctx.info["audit_blocks"] = {"columnar": self.fast_blocks, "line by line": self.slow_blocks}
        # the blocks' memory, cached by Arrow's allocator (~80 MB with mimalloc), back to the system for the
        # inputs that come next (worker processes of a large klog input)
        pa.default_memory_pool().release_unused()


def fold(ctx: Context) -> _AuditFile:
    """The ordered fold of one audit JSON input (:class:`_AuditFile`), for the engine."""
    return _AuditFile(ctx)


def _apply(ctx: Context, p: Prepared) -> None:
    """A prepared block's rows and accounting into ``ctx`` (what the engine's merge does)."""
    c = p.counts
    ctx.record_lines += c.record_lines
    for reason, (cnt, sev, ex) in c.counted.items():
        ctx.count_many(reason, [e[0] for e in ex], [e[1] for e in ex], cnt, severity=sev)
    ctx.errors.extend(c.errors)
    for table, parts in p.tables.items():
        for cols in parts:
            ctx.emit(table, cols)


def parse_json(stream, ctx: Context, columnar: bool = True) -> None:
    """The whole input here, in order: blocks of whole lines (8 MiB) prepared by :func:`prepare_block` and
    folded by :class:`_AuditFile` (the engine does the same with the blocks prepared elsewhere:
    :mod:`kubelog.engine.folds`).  ``columnar=False`` reads every block line by line and classifies every URI:
    the reference the columnar path is tested against.  ``info["audit_blocks"]`` counts both kinds.

    The preparing is mapped by ``ctx.options["map_ordered"]`` when given (the engine's read-ahead threads,
    :func:`kubelog.engine.readahead.ordered_map`), here in order otherwise."""
    f = _AuditFile(ctx)

    def prepare(first: int, data: bytes | None):
        return prepare_block(first, data, columnar) if data is not None else None

    mapped = (ctx.options.get("map_ordered") or _serial_map)(prepare, iter_line_blocks(stream, f.max_line))
    try:
        for (ln, data), prepared in mapped:
            if data is None:
                ctx.lines_read += 1
                f.too_long(ln)
                continue
            ctx.lines_read += prepared.n
            _apply(ctx, prepared)
            f.add(prepared.carry)
    except BaseException:
        f.abort()
        raise
    finally:
        close = getattr(mapped, "close", None)
        if close is not None:  # stops the engine's read-ahead threads, also after an error here
            close()
    f.finish()


def parse_legacy(stream, ctx: Context) -> None:
    ctx.clock = ctx.clock or "apiserver"
    ctx.info["component"] = "kube-apiserver"
    rows: list[dict] = []
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
            ctx.count(
                "audit legacy request/early-stage line (merged into its response line)", ln, None, severity="info"
            )
            continue
        first = open_req.pop(aid, None) if aid else None
        merged = dict(first[2]) if first else {}
        merged.update(kv)
        start = first[1] if first else None
        if start is None and stage is None:
            start = None
        rows.append(_legacy_row(merged, m.group("ts"), start, ln))
        ctx.record_lines += 1
    # request lines never answered: keep them as requests without a response
    for ln, ts, kv in open_req.values():
        st = ctx.stats.get("audit legacy request/early-stage line (merged into its response line)")
        if st is not None and st.count > 0:
            st.count -= 1
        ctx.record_lines += 1
        rows.append(_legacy_row(kv, None, ts, ln))
    if rows:
        _emit_requests(ctx, _legacy_columns(rows))


def _legacy_columns(rows: list[dict]) -> dict:
    """``requests`` columns of legacy rows (dicts of :func:`_legacy_row`)."""
    cols = {k: [r[k] for r in rows] for k in rows[0]}
    n = len(rows)
    ts, start = _times(pa.array(cols.pop("ts"), S)), _times(pa.array(cols.pop("start_ts"), S))
    ua = pa.array(cols["user_agent"], S)
    out = {
        k: pa.array(v, pa.bool_() if k == "long_running" else pa.int64() if k == "line_no" else S)
        for k, v in cols.items()
        if k != "code"
    }
    out.update(
        ts=ts,
        start_ts=start,
        code=pa.array(cols["code"], pa.int32()),
        latency_s=_seconds_between(start, ts),
        client=pc.if_else(pc.is_valid(ua), requestinfo.client_of(ua), pa.scalar(None, S)),
        latency_annotations=pa.nulls(n, S),
        clock=tables.repeat("apiserver", n),
        origin=tables.repeat("audit", n),
        server=tables.repeat("kube-apiserver", n),
    )
    return out


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
    return dict(
        ts=ts,
        start_ts=start,
        method=method or None,
        verb=verb or None,
        logged_verb=meth or None,
        uri=uri or None,
        code=code,
        user_agent=nz(kv.get("user-agent")),
        user=as_ if imp else user,
        auth_user=user if imp else None,
        src_ip=nz(kv.get("ip")),
        audit_id=kv.get("id"),
        long_running=info["long_running"],
        stage=kv.get("stage"),
        line_no=ln,
        **{k: info[k] for k in ("api_group", "api_version", "resource", "subresource", "namespace", "name", "scope")},
    )


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
        superseded = has_id & (aud.stage == "ResponseStarted") & _isin(aud.audit_id, complete)
        if superseded.any():  # else the same rows: no copy of them
            aud = aud[~superseded]
    http = df[~is_aud]
    ids = http.audit_id  # of the apiserver's access-log rows (a mask, not a copy of their rows)
    if "server" in http:
        ids = ids[http.server.fillna("kube-apiserver").isin(["kube-apiserver", ""])]
    if len(ids) and ids.isna().all():
        return (
            http,
            len(aud),
            (
                f"{len(aud)} audit rows not used: the access log has no audit IDs to match them "
                "(before 1.22), so each request would count twice; the access log is used"
            ),
        )
    logged = http.audit_id.notna()
    dup = aud.audit_id.notna() & _isin(aud.audit_id, http.audit_id[logged])
    if dup.any():
        copied = ["audit_id"] + [c for c in ("user", "auth_user", "stage") if c in aud]  # not every column
        src = aud.loc[dup, copied].drop_duplicates("audit_id").set_index("audit_id")
        http = http.copy(deep=False)  # http is already this rule's own rows: only the filled columns change
        for c in ("user", "auth_user", "stage"):
            if c in http and c in src:
                need = http[c].isna() & logged
                if need.any():  # only the rows missing a value: a map over every row is slow
                    http.loc[need, c] = http.audit_id[need].map(src[c])
    n = int(dup.sum())
    note = f"{n} audit rows duplicate access-log rows (same audit ID); the access-log row is used" if n else ""
    return concat_in_index_order([http, aud[~dup]]), n, note


def concat_in_index_order(frames) -> pd.DataFrame:
    """``pd.concat(frames).sort_index()`` for frames whose index labels are unique, without the sort's
    copy of every row when the sorted order is made of few runs of consecutive rows (each part file
    of a requests table is one source's block of rows): the runs are slices, and pandas' Arrow
    strings stay chunks of the same buffers (the de-duplication of a 2M-row table sorted ~1M rows of
    six columns, ~150 MB, for its result)."""
    import pandas as pd  # not at module level: `kubelog ingest` loads every format

    out = pd.concat(list(frames))
    if len(out) < 2 or out.index.is_monotonic_increasing or not out.index.is_unique:
        return out if len(out) < 2 or out.index.is_monotonic_increasing else out.sort_index()
    order = np.argsort(out.index.to_numpy(), kind="stable")
    cut = np.flatnonzero(np.diff(order) != 1) + 1
    if len(cut) >= 4096:
        return out.sort_index()
    starts, ends = np.concatenate([[0], cut]), np.concatenate([cut, [len(order)]])
    return pd.concat([out.iloc[order[a] : order[a] + (b - a)] for a, b in zip(starts, ends)])


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
        if (
            '"auditID"' in l and ('"stage"' in l or '"requestURI"' in l or '"verb"' in l)
        ) or '"apiVersion":"audit.k8s.io/' in l.replace(" ", ""):
            hits += 1
    return hits >= max(1, len(ls) // 2)


def sniff_legacy(head: Head) -> bool:
    ls = [l for l in head.lines(50) if l.strip()]
    if not ls:
        return False
    hits = sum(1 for l in ls if RX_LEGACY.match(l) and ' id="' in l)
    return hits >= max(1, len(ls) // 2)


FORMATS = [
    Format(
        name="audit-json",
        description="kube-apiserver audit log, JSON lines (audit.k8s.io v1/v1beta1/v1alpha1, optional host prefix)",
        priority=20,
        sniff=sniff_json,
        parse=parse_json,
        prepare=prepare_block,
        fold=fold,
        tables=("requests", "pod_transitions", "node_transitions"),
    ),
    Format(
        name="audit-legacy",
        description="kube-apiserver audit log, legacy text format (and 1.6/1.7 basic audit)",
        priority=21,
        sniff=sniff_legacy,
        parse=parse_legacy,
        tables=("requests",),
    ),
]
