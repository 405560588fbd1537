"""Exported API objects (docs/formats/objects.md): events, pods and nodes as JSON, YAML and watch streams.

Inputs (one format, ``objects``, priority 30; it never claims audit logs, which sniff first):

* ``kubectl get events|pods|nodes -o json`` lists (``{"apiVersion":"v1","items":[...],"kind":"List"}``, also
  ``EventList``/``PodList``/``NodeList`` as the API returns them) and single objects;
* ``-o yaml`` lists and multi-document YAML (``---``);
* ``kubectl get -w -o json`` (concatenated pretty-printed objects, decoded with ``JSONDecoder.raw_decode`` in a
  loop), ``--output-watch-events`` and raw API watch streams (``{"type":…,"object":…}`` one per line), also
  saved with ``curl -i`` (the HTTP status line and headers before the body are counted, ``HTTP response headers``);
* core/v1 ``Event``, ``events.k8s.io/v1`` and ``v1beta1`` ``Event``, ``Pod``, ``Node``.

Rows
----
``events``: ``event_time`` (MicroTime), ``first_ts``/``last_ts`` (metav1.Time, whole seconds; ``deprecated*`` in
events.k8s.io), ``series_last_ts``, and the apiserver's ``creation_ts`` kept apart; ``ts`` is the best reporter time
(eventTime, else lastTimestamp, else firstTimestamp, else creation) with its ``resolution_s`` (1e-6 / 1);
``count`` = ``count`` / ``deprecatedCount`` / ``series.count``, else 1 (a singleton new-style event); ``component``/``host`` = ``source`` or
``reportingComponent|reportingController``/``reportingInstance``; ``clock`` = ``node/<host>`` for kubelet
events, else ``apiserver`` (master components).

``pod_transitions`` (origin ``pods-json``/``pods-yaml``/``watch``): ``created`` (creationTimestamp, apiserver
clock, 1 s), ``scheduled`` (PodScheduled condition, set by the scheduler: apiserver clock), ``initialized``,
``containers_ready``, ``ready``, ``ready_to_start_containers`` and any other condition as
``condition:<Type>`` (set by the kubelet: ``node/<nodeName>`` clock), ``accepted`` (``status.startTime``),
``container_started`` per container (``state.running|terminated.startedAt``) and ``started`` (the latest of
them, when every container has started), ``deleted`` (``deletionTimestamp``). All metav1.Time: resolution 1 s,
truncated. ``detail`` (JSON) carries condition status/reason, the container name, and on ``created`` the pod's
phase, reason and total restarts. A pod seen again in a watch stream only adds rows whose time changed.

``node_transitions``: ``registered`` (creationTimestamp, apiserver clock), ``ready`` / ``notready`` from the
Ready condition's lastTransitionTime (status True/False: the kubelet's clock ``node/<name>``; Unknown: set by the
node lifecycle controller, apiserver clock), ``deleted``. Kubemark hollow nodes are ordinary nodes here.

Accounting
----------
One record line per line on which a primary object emitted starts (each event / pod / node; for a watch event the
line of the event; several objects on one line, as in a one-line API response, make that line one record line),
all other lines of a parsed document are continuation lines (the ``items`` wrapper, the object's own lines, other
kinds' objects such as BOOKMARK events). Malformed input (truncated object, invalid JSON/YAML) is reported with
the file, line and column; its lines are counted (``malformed JSON`` / ``malformed JSON (truncated object)`` /
``malformed YAML``) and, for concatenated JSON, parsing resumes at the next line starting with ``{``. A list
(``{"items": [...]}`` or a top-level ``[...]``) cut or broken inside an item keeps every complete item before it;
the lines from the broken item on are counted. Wrong field types are treated as absent.

Speed (issue 20): a ``kubectl get -o json`` list is read by msgspec, each item's line found from the items'
lengths (:func:`_whole_list`; anything msgspec would read otherwise goes the stdlib's way, item by item with
``raw_decode``), a list of pods decoded into just the fields the rows read (:func:`_decode_items`); a list of
events or pods is batched whole and read by Arrow's conversion into struct columns, the rows built with
``pyarrow.compute`` (:class:`_ColSink`, ``parse(arrow=True)``, the default); the comprehensions over the decoded
objects (``arrow=False``) and the per-object parser (``columnar=False``) are kept as references.

Memory: a document is loaded whole (a 1.5 MB pods dump is ~15 MB in Python objects); inputs larger than
``MAX_DOC`` (512 MiB) are refused with an error and their lines counted.
"""

from __future__ import annotations

import bisect
import datetime as _dt
import json
import re
from typing import Any, TypedDict

import msgspec
import pyarrow as pa
import yaml

from ..tables import TS
from .base import Context, Format, Head, read_document

MAX_DOC = 512 << 20
PRIMARY = ("Event", "Pod", "Node")
RX_KIND_JSON = re.compile(r'"kind"\s*:\s*"(?:Event|EventList|Pod|PodList|Node|NodeList|List)"')
RX_API_JSON = re.compile(r'"apiVersion"\s*:\s*"(?:v1|events\.k8s\.io/v1(?:beta1)?)"')
RX_WATCH = re.compile(r'^\{\s*"type"\s*:\s*"(?:ADDED|MODIFIED|DELETED|BOOKMARK|ERROR)"\s*,\s*"object"\s*:', re.M)
RX_KIND_YAML = re.compile(r"^(?:  |- )?kind: (?:Event|EventList|Pod|PodList|Node|NodeList|List)\s*$", re.M)
RX_API_YAML = re.compile(r"^(?:  |- )?apiVersion: (?:v1|events\.k8s\.io/v1(?:beta1)?)\s*$", re.M)
RX_ITEMS = re.compile(r'"items"\s*:\s*\[')
RX_LIST_KIND = re.compile(r'"kind"\s*:\s*"(Event|Pod|Node)List"')
_WS = re.compile(r"[\s,]*")


def _s(v):
    if isinstance(v, str):
        return v
    if isinstance(v, _dt.datetime):  # unquoted YAML timestamps
        if v.tzinfo is None:
            v = v.replace(tzinfo=_dt.timezone.utc)
        return v.isoformat()
    return None


def _d(v) -> dict:
    return v if isinstance(v, dict) else {}


def _is_new_event(o: dict) -> bool:
    """An events.k8s.io/v1 Event (``regarding``, ``note``, ``reportingController``, or its apiVersion), whose
    older fields carry a ``deprecated`` prefix; else a core/v1 Event."""
    return (
        "regarding" in o
        or "note" in o
        or "reportingController" in o
        or str(o.get("apiVersion", "")).startswith("events.k8s.io")
    )


def _event_counts(objs: list, new: list) -> list:
    """Each Event's count: ``count`` (``deprecatedCount`` for events.k8s.io), else ``series.count``, else 1."""
    count = [_i(o.get("deprecatedCount") if n else o.get("count")) for o, n in zip(objs, new)]
    if None in count:
        series = [_i(_d(o.get("series")).get("count")) for o in objs]
        count = [c if c is not None else (s if s is not None else 1) for c, s in zip(count, series)]
    return count


_EVENT_TIME_COLUMNS = ("ts", "event_time", "first_ts", "last_ts", "series_last_ts", "creation_ts")


def _event_time_columns(parts: list) -> dict:
    """The six time columns of a batch of Events from their six aligned parts (lists of strings, or Arrow
    string arrays), parsed in one :func:`_ts_array` call."""
    n = len(parts[0])
    flat = pa.concat_arrays(parts) if isinstance(parts[0], pa.Array) else [x for part in parts for x in part]
    times = _ts_array(flat)
    return {c: times.slice(k * n, n) for k, c in enumerate(_EVENT_TIME_COLUMNS)}


_I64 = 1 << 63


def _i(v):
    """A JSON integer as an int; None for any other type and for one no int64 column holds (the API's counts
    are int32: such a value is as wrong as a string, and would fail the whole table's conversion)."""
    return v if isinstance(v, int) and not isinstance(v, bool) and -_I64 <= v < _I64 else None


class _Sink:
    """Collects rows (times as text) and converts them per table at flush."""

    TIME_COLS = {
        "events": ("ts", "event_time", "first_ts", "last_ts", "series_last_ts", "creation_ts"),
        "pod_transitions": ("ts",),
        "node_transitions": ("ts",),
    }

    def __init__(self, ctx: Context, origin: str):
        self.ctx = ctx
        self.origin = origin
        self.rows = {t: [] for t in self.TIME_COLS}
        self.seen: set = set()
        self.kinds: dict[str, int] = {}
        self.record_lines: set[int] = set()  # lines on which a primary object starts

    def add(self, table: str, **kw):
        self.rows[table].append(kw)
        if len(self.rows[table]) >= 100_000:
            self.flush()

    def flush(self):
        for t, rows in self.rows.items():
            if not rows:
                continue
            import pandas as pd  # not at module level: `kubelog ingest` loads every format

            df = pd.DataFrame(rows)
            for c in self.TIME_COLS[t]:
                if c in df:
                    df[c] = pd.to_datetime(df[c].astype(object), utc=True, format="ISO8601", errors="coerce")
            self.ctx.emit(t, pa.Table.from_pandas(df, preserve_index=False))
            self.rows[t] = []

    # -- objects -----------------------------------------------------------------
    def obj(self, o: dict, line_no: int, origin: str) -> bool:
        """Rows of one API object; True when it is a primary object (events / pods / nodes)."""
        kind = _s(o.get("kind"))
        if kind is None:  # watch streams of -o json without kind are rare; guess from shape
            if "involvedObject" in o or "regarding" in o:
                kind = "Event"
            elif isinstance(o.get("spec"), dict) and "containers" in o["spec"]:
                kind = "Pod"
        self.kinds[kind or "?"] = self.kinds.get(kind or "?", 0) + 1
        if kind == "Event":
            self.event(o, line_no, origin)
        elif kind == "Pod":
            self.pod(o, line_no, origin)
        elif kind == "Node":
            self.node(o, line_no, origin)
        else:
            return False
        self.record_lines.add(line_no)
        return True

    def event(self, o: dict, ln: int, origin: str):
        md = _d(o.get("metadata"))
        new_api = (
            "regarding" in o
            or "note" in o
            or "reportingController" in o
            or str(o.get("apiVersion", "")).startswith("events.k8s.io")
        )
        ref = _d(o.get("regarding") if new_api else o.get("involvedObject"))
        src = _d(o.get("deprecatedSource") if new_api else o.get("source"))
        series = _d(o.get("series"))
        et = _s(o.get("eventTime"))
        first = _s(o.get("deprecatedFirstTimestamp") if new_api else o.get("firstTimestamp"))
        last = _s(o.get("deprecatedLastTimestamp") if new_api else o.get("lastTimestamp"))
        created = _s(md.get("creationTimestamp"))
        count = _i(o.get("deprecatedCount") if new_api else o.get("count"))
        if count is None:
            count = _i(series.get("count"))
        if count is None:
            count = 1  # a singleton event (new recorder: no count, no series) occurred once
        comp = _s(src.get("component")) or _s(o.get("reportingController")) or _s(o.get("reportingComponent")) or None
        host = _s(src.get("host")) or _s(o.get("reportingInstance")) or None
        best = et or last or first or created
        clock = f"node/{host}" if comp == "kubelet" and host else "apiserver"
        self.add(
            "events",
            ts=best,
            event_time=et,
            first_ts=first,
            last_ts=last,
            series_last_ts=_s(series.get("lastObservedTime")),
            creation_ts=created,
            clock=clock,
            resolution_s=1e-6 if et else 1.0,
            namespace=_s(md.get("namespace")),
            name=_s(md.get("name")),
            reason=_s(o.get("reason")),
            type=_s(o.get("type")),
            message=_s(o.get("note") if new_api else o.get("message")),
            object_kind=_s(ref.get("kind")),
            object_namespace=_s(ref.get("namespace")),
            object_name=_s(ref.get("name")),
            count=count,
            component=comp,
            host=host,
            origin=origin,
            line_no=ln,
        )

    def _pt(self, ns, pod, uid, node, ms, ts, clock, origin, ln, detail=None):
        if ts is None:
            return
        key = (uid or (ns, pod), ms, ts, detail if ms == "container_started" else None)
        if key in self.seen:
            return
        self.seen.add(key)
        self.add(
            "pod_transitions",
            namespace=ns,
            pod=pod,
            uid=uid,
            node=node,
            milestone=ms,
            ts=ts,
            clock=clock,
            resolution_s=1.0,
            origin=origin,
            detail=detail,
            line_no=ln,
        )

    COND = {
        "PodScheduled": "scheduled",
        "Initialized": "initialized",
        "ContainersReady": "containers_ready",
        "Ready": "ready",
        "PodReadyToStartContainers": "ready_to_start_containers",
        "PodHasNetwork": "has_network",
    }

    def pod(self, o: dict, ln: int, origin: str):
        md, spec, st = _d(o.get("metadata")), _d(o.get("spec")), _d(o.get("status"))
        ns, name, uid = _s(md.get("namespace")), _s(md.get("name")), _s(md.get("uid"))
        node = _s(spec.get("nodeName"))
        nclock = f"node/{node}" if node else "node"
        cs = (
            [c for c in (st.get("containerStatuses") or []) if isinstance(c, dict)]
            if isinstance(st.get("containerStatuses"), list)
            else []
        )
        restarts = sum(_i(c.get("restartCount")) or 0 for c in cs)
        det = json.dumps(
            {"phase": _s(st.get("phase")), "reason": _s(st.get("reason")), "restarts": restarts}, sort_keys=True
        )
        self._pt(ns, name, uid, node, "created", _s(md.get("creationTimestamp")), "apiserver", origin, ln, det)
        conds = st.get("conditions") if isinstance(st.get("conditions"), list) else []
        for c in conds:
            if not isinstance(c, dict):
                continue
            t = _s(c.get("type")) or "?"
            ms = self.COND.get(t, f"condition:{t}")
            clock = "apiserver" if t == "PodScheduled" else nclock
            d = json.dumps({"status": _s(c.get("status")), "reason": _s(c.get("reason"))}, sort_keys=True)
            self._pt(ns, name, uid, node, ms, _s(c.get("lastTransitionTime")), clock, origin, ln, d)
        self._pt(ns, name, uid, node, "accepted", _s(st.get("startTime")), nclock, origin, ln)
        starts = []
        for c in cs:
            state = _d(c.get("state"))
            sa = _s(_d(state.get("running")).get("startedAt")) or _s(_d(state.get("terminated")).get("startedAt"))
            if sa:
                starts.append(sa)
                self._pt(
                    ns,
                    name,
                    uid,
                    node,
                    "container_started",
                    sa,
                    nclock,
                    origin,
                    ln,
                    json.dumps({"container": _s(c.get("name"))}),
                )
        if cs and len(starts) == len(cs):
            best = _latest(starts)
            if best is not None:
                self._pt(ns, name, uid, node, "started", best, nclock, origin, ln)
        self._pt(ns, name, uid, node, "deleted", _s(md.get("deletionTimestamp")), "apiserver", origin, ln)

    def _nt(self, node, ms, ts, clock, origin, ln):
        if ts is None:
            return
        key = ("node", node, ms, ts)
        if key in self.seen:
            return
        self.seen.add(key)
        self.add(
            "node_transitions", node=node, milestone=ms, ts=ts, clock=clock, resolution_s=1.0, origin=origin, line_no=ln
        )

    def node(self, o: dict, ln: int, origin: str):
        md, st = _d(o.get("metadata")), _d(o.get("status"))
        name = _s(md.get("name"))
        org = origin.replace("pods", "nodes")
        self._nt(name, "registered", _s(md.get("creationTimestamp")), "apiserver", org, ln)
        for c in st.get("conditions") if isinstance(st.get("conditions"), list) else []:
            if isinstance(c, dict) and c.get("type") == "Ready":
                status = c.get("status")
                ms = "ready" if status == "True" else "notready"
                clock = f"node/{name}" if status in ("True", "False") else "apiserver"
                self._nt(name, ms, _s(c.get("lastTransitionTime")), clock, org, ln)
        self._nt(name, "deleted", _s(md.get("deletionTimestamp")), "apiserver", org, ln)


def _ns(values: list) -> list:
    """Times as text → int ns since the epoch (None where unparseable), parsed as the ``ts`` columns are."""
    return _ts_array(values).cast(pa.int64()).to_pylist()


def _latest(starts: list[str]):
    """The first of the latest container start times; None when one of them is not a time."""
    v = _ns(starts)
    if None in v:
        return None
    return starts[v.index(max(v))]


def _q(v) -> str:
    """``json.dumps`` of a str or None (same text), without the encoder's per-call set-up for plain ASCII."""
    if v is None:
        return "null"
    if v.isascii() and v.isprintable() and '"' not in v and "\\" not in v:
        return '"' + v + '"'
    return json.dumps(v)


_RFC3339 = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?(?:Z|[+-]\d\d:\d\d)$"


def _ts_array(values: list):
    """Times as text → timestamp[ns, UTC] column, as ``pd.to_datetime(utc=True, format="ISO8601",
    errors="coerce")`` gives it (:meth:`_Sink.flush`).  When every time is RFC 3339 (as the API writes
    metav1.Time and MicroTime) Arrow's cast parses them (without importing pandas, ~0.5 s); anything else,
    or a date Arrow refuses (Feb 30), goes to pandas."""
    import pyarrow.compute as pc

    a = values if isinstance(values, pa.Array) else pa.array(values, pa.string())
    if a.null_count == len(a):
        return pa.nulls(len(a), TS)
    if pc.all(pc.match_substring_regex(a, _RFC3339)).as_py():
        try:
            return a.cast(TS)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
    import pandas as pd  # not at module level: `kubelog ingest` loads every format

    return pa.Array.from_pandas(
        pd.to_datetime(
            pd.Series(a.to_pylist() if values is a else values, dtype=object),
            utc=True,
            format="ISO8601",
            errors="coerce",
        )
    ).cast(TS)


_S = pa.string()
_REF = pa.struct([("kind", _S), ("namespace", _S), ("name", _S)])
_SRC = pa.struct([("component", _S), ("host", _S)])
_EVENT_STRUCT = pa.struct(  # the fields of an event that :meth:`_Sink.event` reads
    [
        ("metadata", pa.struct([("namespace", _S), ("name", _S), ("creationTimestamp", _S)])),
        ("involvedObject", _REF),
        ("regarding", _REF),
        ("source", _SRC),
        ("deprecatedSource", _SRC),
        ("series", pa.struct([("lastObservedTime", _S), ("count", pa.int64())])),
        ("count", pa.int64()),
        ("deprecatedCount", pa.int64()),
        ("eventTime", _S),
        ("firstTimestamp", _S),
        ("lastTimestamp", _S),
        ("deprecatedFirstTimestamp", _S),
        ("deprecatedLastTimestamp", _S),
        ("reportingController", _S),
        ("reportingComponent", _S),
        ("reportingInstance", _S),
        ("reason", _S),
        ("type", _S),
        ("message", _S),
        ("note", _S),
    ]
)


_TIME_STRUCT = pa.struct([("startedAt", _S)])
_POD_STRUCT = pa.struct(  # the fields of a pod that :meth:`_Sink.pod` reads
    [
        (
            "metadata",
            pa.struct(
                [("namespace", _S), ("name", _S), ("uid", _S), ("creationTimestamp", _S), ("deletionTimestamp", _S)]
            ),
        ),
        ("spec", pa.struct([("nodeName", _S)])),
        (
            "status",
            pa.struct(
                [
                    ("phase", _S),
                    ("reason", _S),
                    ("startTime", _S),
                    (
                        "conditions",
                        pa.list_(pa.struct([("type", _S), ("status", _S), ("reason", _S), ("lastTransitionTime", _S)])),
                    ),
                    (
                        "containerStatuses",
                        pa.list_(
                            pa.struct(
                                [
                                    ("name", _S),
                                    ("restartCount", pa.int64()),
                                    ("state", pa.struct([("running", _TIME_STRUCT), ("terminated", _TIME_STRUCT)])),
                                ]
                            )
                        ),
                    ),
                ]
            ),
        ),
    ]
)
_PLAIN = r"^[ !#-\[\]-~]*$"  # what :func:`_q` quotes without ``json.dumps``: printable ASCII but '"' and '\\'


def _nonempty(x):
    """Null where ``x`` is "" (read as absent, as ``x or y`` does)."""
    import pyarrow.compute as pc

    return pc.if_else(pc.equal(x, ""), pa.scalar(None, pa.string()), x)


def _q_array(a):
    """:func:`_q` of every value of a string column."""
    import pyarrow.compute as pc

    out = pc.fill_null(pc.binary_join_element_wise('"', a, '"', ""), "null")
    plain = pc.fill_null(pc.match_substring_regex(a, _PLAIN), True)
    if plain.false_count:
        vals, out = a.to_pylist(), out.to_pylist()
        for k in pc.indices_nonzero(pc.invert(plain)).to_pylist():
            out[k] = json.dumps(vals[k])
        out = pa.array(out, pa.string())
    return out


_KEYS = ["u", "n", "p", "m", "t", "d"]


def _key_table(keys: list):
    """The key columns of pod rows as a table without nulls (every value marked "v…", null "n"), for hash
    group-by and join, which do not match nulls."""
    import pyarrow.compute as pc

    return pa.table([pc.fill_null(_join("v", c), "n") for c in keys], names=_KEYS)


class _Num:
    """A JSON number with a fraction or an exponent, as the Arrow path decodes it (its text kept): no Arrow
    conversion takes it, and kubelog reads no such number (a float is absent to ``_s``/``_i``/``_d`` alike)."""

    __slots__ = ("text",)

    def __init__(self, text: str):
        self.text = text


def _restarts(objs: list, csl) -> pa.Array:
    """``sum(_i(restartCount) or 0)`` over each pod's container statuses, as text.  Arrow read ``restartCount`` as
    int64: a bool failed the conversion, and a number written with a fraction or exponent was decoded as a
    :class:`_Num`, which fails it too (:func:`_parse_json`), so every value here is a JSON integer, as ``_i`` takes
    them.  Summed by numpy where the sums cannot overflow, per pod in Python otherwise."""
    import numpy as np
    import pyarrow.compute as pc

    vals = pc.fill_null(pc.struct_field(pc.list_flatten(csl), "restartCount"), 0)
    mm = pc.min_max(vals).as_py() if len(vals) else {"min": 0, "max": 0}
    if -(1 << 31) < mm["min"] and mm["max"] < 1 << 31:
        lens = np.asarray(pc.fill_null(pc.list_value_length(csl), 0), dtype=np.int64)
        tot = np.concatenate([[0], np.cumsum(np.asarray(vals, dtype=np.int64))])
        ends = np.cumsum(lens)
        return pc.cast(pa.array(tot[ends] - tot[ends - lens]), pa.string())
    out = []
    for o in objs:
        cl = _d(o.get("status")).get("containerStatuses")
        out.append(str(sum(_i(c.get("restartCount")) or 0 for c in cl if isinstance(c, dict))) if cl else "0")
    return pa.array(out, pa.string())


def _distinct_pairs(par, col) -> bool:
    """Whether the (parent index, value) pairs are all distinct."""
    import numpy as np
    import pyarrow.compute as pc

    if not len(col):
        return True
    enc = pc.dictionary_encode(col, null_encoding="encode")
    key = np.asarray(par, dtype=np.int64) * (len(enc.dictionary) + 1) + np.asarray(enc.indices, dtype=np.int64)
    return len(np.unique(key)) == len(key)


def _join(*parts):
    """Strings and string columns concatenated element-wise (null where a column is)."""
    import pyarrow.compute as pc

    return pc.binary_join_element_wise(*parts, "")


class _ColSink(_Sink):
    """The columnar sink: objects are collected per kind and their rows built per column at flush.

    Gives what :class:`_Sink` (the per-object reference, ``parse(..., columnar=False)``) gives, row for row
    (tests/test_objects.py compares both on generated inputs): events one row per object from per-field
    comprehensions; pod rows appended in the reference's order with the pod's own fields taken per column
    afterwards, details formatted without ``json.dumps`` where the text is plain, times parsed once per column;
    nodes (a few per run) go through the reference.  With ``arrow`` (JSON; the default of :func:`parse`) a batch
    is read by Arrow's conversion instead (:meth:`_events_arrow`, :meth:`_pods_arrow`) and a list of events or
    pods batched whole (:meth:`items`); a batch Arrow refuses goes through the comprehensions above."""

    BATCH = 20_000

    def __init__(self, ctx: Context, origin: str, arrow: bool = False):
        super().__init__(ctx, origin)
        self.batch: dict[str, list] = {"Event": [], "Pod": []}
        self.pending = 0
        self.arrow = arrow  # events' fields read by Arrow's conversion (:meth:`_events_arrow`); JSON only
        self.arrow_batches = [0, 0]  # event and pod batches converted by Arrow / refused (the comprehensions then)
        self.seen_arrow: list = []  # keys of pod rows of Arrow batches not yet in ``seen`` (see :meth:`_seen`)

    def obj(self, o: dict, line_no: int, origin: str) -> bool:
        kind = _s(o.get("kind"))
        if kind is None:
            if "involvedObject" in o or "regarding" in o:
                kind = "Event"
            elif isinstance(o.get("spec"), dict) and "containers" in o["spec"]:
                kind = "Pod"
        self.kinds[kind or "?"] = self.kinds.get(kind or "?", 0) + 1
        if kind == "Node":
            self.node(o, line_no, origin)
        elif kind in ("Event", "Pod"):
            self.batch[kind].append((o, line_no, origin))
            self.pending += 1
            if self.pending >= self.BATCH:
                self.flush()
        else:
            return False
        self.record_lines.add(line_no)
        return True

    def flush(self):
        ev, pods = self.batch["Event"], self.batch["Pod"]
        self.batch = {"Event": [], "Pod": []}
        self.pending = 0
        if ev and not (self.arrow and self._events_arrow(ev)):
            self._events(ev)
        if pods and not (self.arrow and self._pods_arrow(pods)):
            self._pods(pods)
        for t, rows in self.rows.items():  # node rows (the reference's, as columns, without pandas)
            if rows:
                keys = list(dict.fromkeys(k for r in rows for k in r))
                cols = {k: [r.get(k) for r in rows] for k in keys}
                for c in self.TIME_COLS[t]:
                    if c in cols:
                        cols[c] = _ts_array(cols[c])
                self.ctx.emit(t, cols)
                self.rows[t] = []

    def _events(self, batch: list):
        objs = [b[0] for b in batch]
        md = [_d(o.get("metadata")) for o in objs]
        new = [_is_new_event(o) for o in objs]
        ref = [_d(o.get("regarding") if n else o.get("involvedObject")) for o, n in zip(objs, new)]
        src = [_d(o.get("deprecatedSource") if n else o.get("source")) for o, n in zip(objs, new)]
        series = [_d(o.get("series")) for o in objs]
        et = [_s(o.get("eventTime")) for o in objs]
        first = [_s(o.get("deprecatedFirstTimestamp") if n else o.get("firstTimestamp")) for o, n in zip(objs, new)]
        last = [_s(o.get("deprecatedLastTimestamp") if n else o.get("lastTimestamp")) for o, n in zip(objs, new)]
        created = [_s(m.get("creationTimestamp")) for m in md]
        count = _event_counts(objs, new)
        comp = [
            _s(sr.get("component")) or _s(o.get("reportingController")) or _s(o.get("reportingComponent")) or None
            for o, sr in zip(objs, src)
        ]
        host = [_s(sr.get("host")) or _s(o.get("reportingInstance")) or None for o, sr in zip(objs, src)]
        best = [a or b or c or d for a, b, c, d in zip(et, last, first, created)]
        cols = _event_time_columns([best, et, first, last, [_s(se.get("lastObservedTime")) for se in series], created])
        cols.update(
            {
                "clock": [f"node/{h}" if c == "kubelet" and h else "apiserver" for c, h in zip(comp, host)],
                "resolution_s": [1e-6 if e else 1.0 for e in et],
                "namespace": [_s(m.get("namespace")) for m in md],
                "name": [_s(m.get("name")) for m in md],
                "reason": [_s(o.get("reason")) for o in objs],
                "type": [_s(o.get("type")) for o in objs],
                "message": [_s(o.get("note") if n else o.get("message")) for o, n in zip(objs, new)],
                "object_kind": [_s(r.get("kind")) for r in ref],
                "object_namespace": [_s(r.get("namespace")) for r in ref],
                "object_name": [_s(r.get("name")) for r in ref],
                "count": count,
                "component": comp,
                "host": host,
                "origin": [b[2] for b in batch],
                "line_no": [b[1] for b in batch],
            }
        )
        self.ctx.emit("events", cols)

    def items(self, items: list, item_lines: list, list_kind, fmt: str):
        """A list whose items are all events or all pods (``kind`` on every item, or on none and the list a
        ``PodList``/``EventList``): batched as :meth:`obj` one by one would (the same flushes), without a call per
        item.  None for any other list (the caller then goes item by item)."""
        kinds = [it.get("kind") if type(it) is dict else 0 for it in items]
        k = kinds[0] if kinds else 0
        if k is None and isinstance(list_kind, str) and list_kind in ("EventList", "PodList"):
            k = list_kind[:-4]  # the API's own list: items without kind, as _emit_value sets it
        elif k not in ("Event", "Pod"):
            return None
        if kinds.count(kinds[0]) != len(kinds):
            return None
        origin = _origin("pods" if k == "Pod" else "events", fmt)
        self.kinds[k] = self.kinds.get(k, 0) + len(items)
        self.record_lines.update(item_lines)
        i, n = 0, len(items)
        while i < n:
            take = min(self.BATCH - self.pending, n - i)
            self.batch[k].extend(zip(items[i : i + take], item_lines[i : i + take], [origin] * take))
            self.pending += take
            i += take
            if self.pending >= self.BATCH:
                self.flush()
        return n

    def _events_arrow(self, batch: list) -> bool:
        """The rows of :meth:`_events`, the objects' string fields read by ``pa.array`` into a struct column (Arrow's
        C++ conversion looks each field up; other keys are skipped) and combined with ``pyarrow.compute``.  False,
        nothing emitted, when Arrow refuses the batch: a string field holding another type (a number, a bool, a
        list) or a nested field that is not an object -- there ``_s``/``_d`` read None / {} and the comprehensions
        of :meth:`_events` decide.  The counts are int64 fields too: Arrow refuses a bool, an int beyond int64 and
        a number with a fraction or an exponent (decoded as a :class:`_Num` here), the values ``_i`` reads as None,
        so a batch it converts holds only the JSON integers ``_i`` takes."""
        import pyarrow.compute as pc

        objs = [b[0] for b in batch]
        try:
            a = pa.array(objs, _EVENT_STRUCT)
        except (pa.ArrowException, TypeError, ValueError, OverflowError):
            self.arrow_batches[1] += 1
            return False
        self.arrow_batches[0] += 1
        if isinstance(a, pa.ChunkedArray):
            a = a.combine_chunks()

        def f(*path):  # a field, null where an object on its path is null (``StructArray.field`` keeps no parent)
            return pc.struct_field(a, list(path))

        new = pa.array(  # _is_new_event, inlined (a call per event was ~1 us of 3)
            [
                "regarding" in o
                or "note" in o
                or "reportingController" in o
                or str(o.get("apiVersion", "")).startswith("events.k8s.io")
                for o in objs
            ],
            pa.bool_(),
        )

        def pick(a_new, a_old):
            return pc.if_else(new, a_new, a_old)

        set_ = _nonempty

        ref = {k: pick(f("regarding", k), f("involvedObject", k)) for k in ("kind", "namespace", "name")}
        src = {k: pick(f("deprecatedSource", k), f("source", k)) for k in ("component", "host")}
        et = f("eventTime")
        first = pick(f("deprecatedFirstTimestamp"), f("firstTimestamp"))
        last = pick(f("deprecatedLastTimestamp"), f("lastTimestamp"))
        created = f("metadata", "creationTimestamp")
        count = pc.coalesce(pick(f("deprecatedCount"), f("count")), f("series", "count"), pa.scalar(1, pa.int64()))
        comp = pc.coalesce(set_(src["component"]), set_(f("reportingController")), set_(f("reportingComponent")))
        host = pc.coalesce(set_(src["host"]), set_(f("reportingInstance")))
        best = pc.coalesce(set_(et), set_(last), set_(first), created)
        cols = _event_time_columns([best, et, first, last, f("series", "lastObservedTime"), created])
        kubelet = pc.fill_null(pc.and_(pc.equal(comp, "kubelet"), pc.is_valid(host)), False)
        cols.update(
            {
                "clock": pc.if_else(kubelet, pc.binary_join_element_wise("node/", host, ""), "apiserver"),
                "resolution_s": pc.if_else(pc.fill_null(pc.not_equal(et, ""), False), 1e-6, 1.0),
                "namespace": f("metadata", "namespace"),
                "name": f("metadata", "name"),
                "reason": f("reason"),
                "type": f("type"),
                "message": pick(f("note"), f("message")),
                "object_kind": ref["kind"],
                "object_namespace": ref["namespace"],
                "object_name": ref["name"],
                "count": count,
                "component": comp,
                "host": host,
                "origin": [b[2] for b in batch],
                "line_no": [b[1] for b in batch],
            }
        )
        self.ctx.emit("events", cols)
        return True

    def _seen(self) -> set:
        """The keys of the pod rows emitted so far (those of Arrow batches are made into tuples when asked)."""
        for cols in self.seen_arrow:
            u, ns, name, ms, ts, det = (c.to_pylist() for c in cols)
            self.seen.update(zip([a if a is not None else (b, c) for a, b, c in zip(u, ns, name)], ms, ts, det))
        self.seen_arrow = []
        return self.seen

    def node(self, o: dict, ln: int, origin: str):
        self._seen()
        super().node(o, ln, origin)

    def _pods_arrow(self, batch: list) -> bool:
        """The rows of :meth:`_pods`, the pods' fields read by ``pa.array`` into a struct column and the rows built
        per segment (created, conditions, accepted, container starts, started, deleted) with ``pyarrow.compute``,
        then put in the reference's order (pod, segment, position) by a stable sort.  False, nothing emitted, when
        Arrow refuses the batch (a wrong type, a condition or container status that is not an object).  The
        restart counts (``_i``) and the latest start per pod stay Python, as in :meth:`_pods`; duplicate rows
        (a pod seen again) are dropped by the same keys, by a set only when the batch's keys are not all new."""
        import numpy as np
        import pyarrow.compute as pc

        objs = [b[0] for b in batch]
        try:
            a = pa.array(objs, _POD_STRUCT)
        except (pa.ArrowException, TypeError, ValueError, OverflowError):
            self.arrow_batches[1] += 1
            return False
        if isinstance(a, pa.ChunkedArray):
            a = a.combine_chunks()

        def f(*path):
            return pc.struct_field(a, list(path))

        conds, csl = f("status", "conditions"), f("status", "containerStatuses")
        cf, sf = pc.list_flatten(conds), pc.list_flatten(csl)
        if cf.null_count or sf.null_count:  # an entry that is not an object: the reference skips it
            self.arrow_batches[1] += 1
            return False
        self.arrow_batches[0] += 1
        n = len(objs)
        ns, name, uid = f("metadata", "namespace"), f("metadata", "name"), f("metadata", "uid")
        node = f("spec", "nodeName")
        nclock = pc.if_else(pc.fill_null(pc.not_equal(node, ""), False), _join("node/", node), "node")
        restarts = _restarts(objs, csl)
        segs = []  # (pod index, milestone, time, clock, detail) per segment, in the reference's order of segments

        def seg(idx, ms, ts, clock, detail):
            segs.append((np.asarray(idx, dtype=np.int64), ms, ts, clock, detail))

        def every(x):
            return pc.indices_nonzero(pc.is_valid(x))

        def const(v, k):
            return pa.array(np.full(k, v, dtype=object), pa.string()) if v is not None else pa.nulls(k, pa.string())

        uid_set = _nonempty(uid)  # every pod its own uid, and no condition type or container twice in a pod: no key
        unique = not uid_set.null_count and pc.count_distinct(uid_set).as_py() == n  # can repeat within the batch
        t = f("metadata", "creationTimestamp")
        k = every(t)
        det = _join(
            '{"phase": ',
            _q_array(f("status", "phase")),
            ', "reason": ',
            _q_array(f("status", "reason")),
            ', "restarts": ',
            restarts,
            "}",
        )
        seg(k, const("created", len(k)), t.take(k), const("apiserver", len(k)), det.take(k))
        cpar = pc.list_parent_indices(conds)
        ct = pc.struct_field(cf, "lastTransitionTime")
        k = every(ct)
        if len(k):
            cpar, cf = cpar.take(k), cf.take(k)
            ty = pc.fill_null(_nonempty(pc.struct_field(cf, "type")), "?")
            kinds = pc.unique(ty)
            ms = pa.array([self.COND.get(x) or f"condition:{x}" for x in kinds.to_pylist()], pa.string())
            ms = ms.take(pc.index_in(ty, value_set=kinds))
            clock = pc.if_else(pc.equal(ty, "PodScheduled"), "apiserver", nclock.take(cpar))
            cdet = _join(
                '{"reason": ',
                _q_array(pc.struct_field(cf, "reason")),
                ', "status": ',
                _q_array(pc.struct_field(cf, "status")),
                "}",
            )
            seg(cpar, ms, ct.take(k), clock, cdet)
            unique &= _distinct_pairs(cpar, ty)
        t = f("status", "startTime")
        k = every(t)
        seg(k, const("accepted", len(k)), t.take(k), nclock.take(k), const(None, len(k)))
        spar = pc.list_parent_indices(csl)
        sa = pc.coalesce(
            _nonempty(pc.struct_field(sf, ["state", "running", "startedAt"])),
            _nonempty(pc.struct_field(sf, ["state", "terminated", "startedAt"])),
        )
        k = every(sa)
        spar_k = spar.take(k)
        sdet = _join('{"container": ', _q_array(pc.struct_field(sf, "name")).take(k), "}")
        seg(spar_k, const("container_started", len(k)), sa.take(k), nclock.take(spar_k), sdet)
        unique &= _distinct_pairs(spar_k, sdet)
        n_cs = np.bincount(np.asarray(spar, dtype=np.int64), minlength=n)
        n_sa = np.bincount(np.asarray(spar_k, dtype=np.int64), minlength=n)
        cand = np.flatnonzero((n_cs > 0) & (n_sa == n_cs))  # every container started: a "started" row
        if len(cand):  # the latest start of each, the first of equal ones; none where a start is not a time
            is_cand = np.zeros(n, dtype=bool)
            is_cand[cand] = True
            par = np.asarray(spar_k, dtype=np.int64)
            sel = np.flatnonzero(is_cand[par])  # the candidates' starts, in order, parsed together as the reference
            starts = sa.take(k).take(pa.array(sel))
            v = _ts_array(starts).cast(pa.int64())
            bad = np.zeros(n, dtype=bool)
            bad[par[sel][np.asarray(v.is_null())]] = True
            vv = np.asarray(v.fill_null(np.iinfo(np.int64).min))
            heads = np.concatenate([[0], np.flatnonzero(np.diff(par[sel])) + 1])  # each candidate's first start
            top = np.maximum.reduceat(vv, heads)
            grp = np.repeat(np.arange(len(heads)), np.diff(np.append(heads, len(sel))))
            pos = np.arange(len(sel))
            first = np.minimum.reduceat(np.where(vv == top[grp], pos, len(sel)), heads)
            ok = ~bad[cand]
            idx = cand[ok]
            best = starts.take(pa.array(first[ok]))
            seg(idx, const("started", len(idx)), best, nclock.take(idx), const(None, len(idx)))
        t = f("metadata", "deletionTimestamp")
        k = every(t)
        seg(k, const("deleted", len(k)), t.take(k), const("apiserver", len(k)), const(None, len(k)))
        pidx = np.concatenate([s_[0] for s_ in segs])
        if not len(pidx):
            return True
        order = np.argsort(
            pidx * 8 + np.concatenate([np.full(len(s_[0]), j) for j, s_ in enumerate(segs)]), kind="stable"
        )
        pidx = pidx[order]
        take = pa.array(order)
        ms, ts, clock, det = (pa.concat_arrays([s_[c] for s_ in segs]).take(take) for c in (1, 2, 3, 4))
        uid_k = _nonempty(uid).take(pidx)  # the key of a pod: its uid, else (namespace, name)
        has_uid = pc.is_valid(uid_k)
        none = pa.nulls(len(pidx), pa.string())
        keys = [
            uid_k,
            pc.if_else(has_uid, none, ns.take(pidx)),
            pc.if_else(has_uid, none, name.take(pidx)),
            ms,
            ts,
            pc.if_else(pc.equal(ms, "container_started"), det, none),
        ]
        if not self.seen and not self.seen_arrow and unique:  # every key new: all rows kept
            keep = range(len(pidx))
            self.seen_arrow.append(keys)  # made into tuples when a node or the reference asks (:meth:`_seen`)
        elif not self.seen:  # duplicates dropped by Arrow: the first row of each key, then the keys of earlier batches
            kt = _key_table(keys).append_column("i", pa.array(np.arange(len(pidx))))
            first = kt.group_by(_KEYS, use_threads=False).aggregate([("i", "min")])
            if self.seen_arrow:
                prev = pa.concat_tables([_key_table(c) for c in self.seen_arrow])
                first = first.join(prev, keys=_KEYS, join_type="left anti", use_threads=False)
            keep = np.sort(first.column("i_min").to_numpy())
            kk = pa.array(keep)
            self.seen_arrow.append([c.take(kk) for c in keys])
        else:
            seen = self._seen()
            keep = []
            u, nn, pp, mm, tt, dd = (c.to_pylist() for c in keys)
            for j, key in enumerate(zip([x if x is not None else (y, z) for x, y, z in zip(u, nn, pp)], mm, tt, dd)):
                if key not in seen:
                    seen.add(key)
                    keep.append(j)
        if len(keep) < len(pidx):
            kk = pa.array(np.asarray(keep, dtype=np.int64))
            pidx, ms, ts, clock, det = (
                pidx[np.asarray(keep, dtype=np.int64)],
                *(x.take(kk) for x in (ms, ts, clock, det)),
            )
        if not len(pidx):
            return True
        per_pod = pa.table(
            {
                "namespace": ns,
                "pod": name,
                "uid": uid,
                "node": node,
                "origin": pa.array([b[2] for b in batch], pa.string()),
                "line_no": pa.array([b[1] for b in batch], pa.int64()),
            }
        ).take(pa.array(pidx))
        cols = {c: per_pod.column(c) for c in per_pod.column_names}
        cols.update(milestone=ms, ts=_ts_array(ts), clock=clock, detail=det, resolution_s=pa.array(np.ones(len(pidx))))
        self.ctx.emit("pod_transitions", cols)
        return True

    def _pods(self, batch: list):
        import numpy as np

        COND, seen = self.COND, self._seen()
        p_ns, p_name, p_uid, p_node, p_origin, p_ln = [], [], [], [], [], []
        r_pod, r_ms, r_ts, r_clock, r_detail = [], [], [], [], []  # one entry per row, in the reference's order
        per_pod, all_starts = [], []  # (pod key, rows up to the containers, started candidates, deleted row)
        for o, ln, origin in batch:
            md, spec, st = _d(o.get("metadata")), _d(o.get("spec")), _d(o.get("status"))
            ns, name, uid = _s(md.get("namespace")), _s(md.get("name")), _s(md.get("uid"))
            node = _s(spec.get("nodeName"))
            p_ns.append(ns), p_name.append(name), p_uid.append(uid), p_node.append(node)
            p_origin.append(origin), p_ln.append(ln)
            nclock = f"node/{node}" if node else "node"
            csl = st.get("containerStatuses")
            cs = [c for c in csl if isinstance(c, dict)] if isinstance(csl, list) else []
            rows = []  # (milestone, ts, clock, detail)
            t = _s(md.get("creationTimestamp"))
            if t is not None:
                restarts = sum(_i(c.get("restartCount")) or 0 for c in cs)
                rows.append(
                    (
                        "created",
                        t,
                        "apiserver",
                        '{"phase": %s, "reason": %s, "restarts": %d}'
                        % (_q(_s(st.get("phase"))), _q(_s(st.get("reason"))), restarts),
                    )
                )
            conds = st.get("conditions")
            if isinstance(conds, list):
                for c in conds:
                    if not isinstance(c, dict):
                        continue
                    t = _s(c.get("lastTransitionTime"))
                    if t is None:
                        continue
                    ty = _s(c.get("type")) or "?"
                    rows.append(
                        (
                            COND.get(ty) or f"condition:{ty}",
                            t,
                            "apiserver" if ty == "PodScheduled" else nclock,
                            '{"reason": %s, "status": %s}' % (_q(_s(c.get("reason"))), _q(_s(c.get("status")))),
                        )
                    )
            t = _s(st.get("startTime"))
            if t is not None:
                rows.append(("accepted", t, nclock, None))
            starts = []
            for c in cs:
                state = _d(c.get("state"))
                sa = _s(_d(state.get("running")).get("startedAt")) or _s(_d(state.get("terminated")).get("startedAt"))
                if sa:
                    starts.append(sa)
                    rows.append(("container_started", sa, nclock, '{"container": %s}' % _q(_s(c.get("name")))))
            cand = None
            if cs and len(starts) == len(cs):
                cand = (len(all_starts), len(starts), nclock)
                all_starts += starts
            t = _s(md.get("deletionTimestamp"))
            deleted = ("deleted", t, "apiserver", None) if t is not None else None
            per_pod.append((uid or (ns, name), rows, cand, deleted))
        start_ns = _ns(all_starts) if all_starts else []  # the "started" rows: the latest start, times parsed once
        for k, (pk, rows, cand, deleted) in enumerate(per_pod):
            if cand is not None:
                a, n, nclock = cand
                v = start_ns[a : a + n]
                if None not in v:
                    rows.append(("started", all_starts[a + v.index(max(v))], nclock, None))
            if deleted is not None:
                rows.append(deleted)
            for ms, t, clock, det in rows:
                key = (pk, ms, t, det if ms == "container_started" else None)
                if key in seen:
                    continue
                seen.add(key)
                r_pod.append(k), r_ms.append(ms), r_ts.append(t), r_clock.append(clock), r_detail.append(det)
        if not r_pod:
            return
        idx = pa.array(np.array(r_pod, dtype=np.int64))
        per_pod = pa.table(
            {
                "namespace": pa.array(p_ns, pa.string()),
                "pod": pa.array(p_name, pa.string()),
                "uid": pa.array(p_uid, pa.string()),
                "node": pa.array(p_node, pa.string()),
                "origin": pa.array(p_origin, pa.string()),
                "line_no": pa.array(p_ln, pa.int64()),
            }
        ).take(idx)
        cols = {c: per_pod.column(c) for c in per_pod.column_names}
        cols.update(
            milestone=r_ms,
            ts=_ts_array(r_ts),
            clock=r_clock,
            detail=r_detail,
            resolution_s=pa.array(np.ones(len(r_pod))),
        )
        self.ctx.emit("pod_transitions", cols)


def _origin(kind_hint: str, fmt: str) -> str:
    return f"{kind_hint}-{fmt}"


class _Lines:
    def __init__(self, text: str):
        self.nl = (
            [i for i, ch in enumerate(text) if ch == "\n"]
            if len(text) < 1 << 16
            else [m.start() for m in re.finditer("\n", text)]
        )

    def line(self, pos: int) -> int:
        return bisect.bisect_left(self.nl, pos) + 1

    def col(self, pos: int) -> int:
        k = bisect.bisect_left(self.nl, pos)
        return pos - (self.nl[k - 1] + 1 if k else 0) + 1


def _n_lines(text: str) -> int:
    return text.count("\n") + (0 if not text or text.endswith("\n") else 1)


_SPACE = re.compile(r"\s*").match  # str.isspace's whitespace, as str.lstrip strips it
_HTTP_STATUS = re.compile(r"^HTTP/\d(?:\.\d)? \d{3}(?: [^\r\n]*)?\r?$", re.M)


def _http_headers(text: str) -> tuple[int, int]:
    """``curl -i`` output: the HTTP status line and headers before the body (several blocks after a
    ``100 Continue`` or a redirect).  Returns (lines, offset of the body); (0, 0) when there are none."""
    pos = lines = 0
    while _HTTP_STATUS.match(text, pos):
        m = re.compile(r"\r?\n\r?\n").search(text, pos)
        if not m:
            return 0, 0  # no end of the header block: not an HTTP response
        lines += text.count("\n", pos, m.end())
        pos = m.end()
    return lines, pos


def parse(stream, ctx: Context, columnar: bool = True, arrow: bool = True) -> None:
    """Rows of an object document; ``columnar=False`` runs the per-object reference (see :class:`_ColSink`),
    ``arrow=False`` the columnar path of round 5 of issue 20 (a JSON list's objects dispatched one by one, the
    events' fields read by Python comprehensions), which the default equals."""
    data = read_document(stream, ctx, "API object document", MAX_DOC)
    if data is None:
        return
    ctx.clock = ctx.clock or "apiserver"
    # a last line without its newline (see _n_lines); the text decoded below ends as the bytes do
    last = 0 if not data or data.endswith(b"\n") else 1
    nl: list = []  # the newlines of the document, when the JSON parse counted them on its way (the default path)
    import gc

    gc_was = gc.isenabled()
    if columnar:  # the decoded document is one large tree of young containers: collections that find
        gc.disable()  # nothing to free took half of a pods dump's parse time (measured, bench/README.md)
    try:
        primary = _parse_list_bytes(data, ctx, nl) if columnar and arrow else None
        if primary is None:
            text = data.decode("utf-8", "replace")
            hlines, hend = _http_headers(text)
            if hlines:  # a watch or GET saved with `curl -i`: headers counted, the body parsed on its own lines
                ctx.count("HTTP response headers (curl -i)", 1, text[:hend].splitlines()[0], n=hlines, severity="info")
                text = "\n" * hlines + text[hend:]  # as many newlines as the headers had: the same line count
            first = _SPACE(text).end()  # the first character that is not whitespace (``str.lstrip``'s, without a copy)
            if text.startswith(("{", "["), first):
                primary = _parse_json(text, ctx, columnar, arrow, nl if columnar else None)
            else:
                primary = _parse_yaml(text, ctx, columnar)
            if not nl:
                nl.append(text.count("\n"))
    finally:
        if gc_was:
            gc.enable()
    total = nl[0] + last
    ctx.lines_read += total
    ctx.record_lines += primary
    ctx.continuation_lines += max(0, total - primary - ctx.counted_lines)


# The list fast path (:func:`_whole_list`): msgspec reads a ``kubectl get -o json`` list in one pass into its items'
# bytes (``Raw``), and decodes each; it refuses what ``json.loads`` would read differently (NaN, Infinity, lone
# surrogates, invalid UTF-8, a byte-order mark), so such a document takes the stdlib's path.  A number with a
# fraction or an exponent is a :class:`_Num`, as on the stdlib's Arrow path.


class _ListDoc(msgspec.Struct, forbid_unknown_fields=True):
    """A list document's keys (any other key: not this path)."""

    items: list[msgspec.Raw]
    apiVersion: msgspec.Raw = None
    kind: msgspec.Raw = None
    metadata: msgspec.Raw = None


_MS_LIST = msgspec.json.Decoder(_ListDoc)
_MS_VALUE = msgspec.json.Decoder(float_hook=_Num)


# A pod as kubelog reads it (the fields of _POD_STRUCT, which :meth:`_Sink.pod` reads, and its kind): msgspec decodes
# these into plain dicts and skips every other key, the spec's containers, volumes, labels, managed fields ...  A
# field of another shape (an object that is not one, a condition that is not an object) makes it refuse the item.
class _PodTime(TypedDict, total=False):
    startedAt: Any


class _PodState(TypedDict, total=False):
    running: _PodTime | None
    terminated: _PodTime | None


class _PodContainer(TypedDict, total=False):
    name: Any
    restartCount: Any
    state: _PodState | None


class _PodCondition(TypedDict, total=False):
    type: Any
    status: Any
    reason: Any
    lastTransitionTime: Any


class _PodStatus(TypedDict, total=False):
    phase: Any
    reason: Any
    startTime: Any
    conditions: list[_PodCondition] | None
    containerStatuses: list[_PodContainer] | None


class _PodMeta(TypedDict, total=False):
    namespace: Any
    name: Any
    uid: Any
    creationTimestamp: Any
    deletionTimestamp: Any


class _PodSpec(TypedDict, total=False):
    nodeName: Any


class _PodRead(TypedDict, total=False):
    kind: Any
    metadata: _PodMeta | None
    spec: _PodSpec | None
    status: _PodStatus | None


class _KindOnly(TypedDict, total=False):
    kind: Any


_MS_POD = msgspec.json.Decoder(_PodRead, float_hook=_Num)
_MS_KIND = msgspec.json.Decoder(_KindOnly, float_hook=_Num)
_ABSENT = object()


def _decode_items(raws: list, list_kind) -> list:
    """The items of a list, decoded by msgspec.  A list of pods -- the first item's kind ``Pod``, or the list a
    ``PodList`` -- is decoded into just the fields kubelog reads (:class:`_PodRead`), when every item is read as a
    pod whatever path it takes: its kind the string ``Pod``, or absent in a ``PodList`` (an item without kind in
    another list is recognised by its shape, ``spec.containers``, which this decoding drops).  Any other list, or
    an item that breaks either rule or that msgspec refuses in that shape, and the items are decoded whole."""
    if raws and (
        list_kind == "PodList" or memoryview(raws[0])[:1] == b"{" and _MS_KIND.decode(raws[0]).get("kind") == "Pod"
    ):
        try:
            dec = _MS_POD.decode
            items = [dec(r) for r in raws]
        except msgspec.DecodeError:
            items = None
        if items is not None:
            absent_ok = list_kind == "PodList"
            for it in items:
                k = it.get("kind", _ABSENT)
                if not ((type(k) is str and k == "Pod") or (k is _ABSENT and absent_ok)):
                    break
            else:
                return items
    dec = _MS_VALUE.decode
    return [dec(r) for r in raws]


_B_WS = re.compile(rb"[ \t\n\r]*").match  # JSON's whitespace
_B_SEP = re.compile(rb"[ \t\n\r]*,[ \t\n\r]*").match  # between two values
_B_KEY = re.compile(rb'"(?:[^"\\]|\\.)*"', re.S).match  # a JSON string's extent


def _whole_list(data: bytes):
    """``(value, p0, positions)`` when ``data`` is one JSON object with an ``items`` array and no key but
    ``apiVersion``, ``kind``, ``metadata`` (a ``kubectl get -o json`` list) that msgspec reads: the object
    decoded (its items by :func:`_decode_items`: a list of pods into the fields kubelog reads), the byte offset
    of its opening brace and those of its items; else None (the caller then reads it as before).

    The offsets come from lengths: msgspec gives each top-level value's bytes and each item's, without the
    whitespace around them, so walking the object's keys and then the items over their separators finds
    each item where the stdlib's item-by-item decoding finds it.  The walk checks every key (known, each
    once: a repeated key leaves only its last value's bytes known) and every separator, and must end on the
    object's closing brace; any miss sends the document the stdlib's way."""
    try:
        doc = _MS_LIST.decode(data)
    except (msgspec.DecodeError, RecursionError):
        return None
    n = len(data)
    p0 = _B_WS(data).end()
    p, value, ps = _B_WS(data, p0 + 1).end(), {}, []
    ws, sep, key_at = _B_WS, _B_SEP, _B_KEY
    try:
        while data[p] != 0x7D:  # }
            m = key_at(data, p)
            key = msgspec.json.decode(m.group())
            if key in value or key not in _ListDoc.__struct_fields__:
                return None
            p = ws(data, m.end()).end()
            if data[p] != 0x3A:  # :
                return None
            p = ws(data, p + 1).end()
            if key == "items":
                if data[p] != 0x5B:  # [
                    return None
                q, add = ws(data, p + 1).end(), ps.append
                for r in doc.items:
                    add(q)
                    q += len(r)
                    m = sep(data, q)
                    if m is not None:
                        q = m.end()
                        continue
                    q = ws(data, q).end()
                    break
                if data[q] != 0x5D or len(ps) != len(doc.items):  # ]
                    return None
                value[key], p = None, q + 1  # decoded below, once the list's kind is known
            else:
                raw = getattr(doc, key)
                value[key] = _MS_VALUE.decode(raw)
                p += len(raw)
            m = sep(data, p)
            p = m.end() if m is not None else ws(data, p).end()
        if ws(data, p + 1).end() != n:
            return None
        value["items"] = _decode_items(doc.items, value.get("kind"))
    except (msgspec.DecodeError, RecursionError, IndexError, AttributeError, TypeError):
        return None
    return value, p0, ps


def _parse_list_bytes(data: bytes, ctx: Context, nl: list) -> int | None:
    """A ``kubectl get -o json`` list read by the fast path (:func:`_whole_list`): the rows and lines
    :func:`_parse_json` gives it, the number of record lines returned and the document's newlines appended to
    ``nl``, as :func:`_parse_json` does.  None, having done nothing, when the document is not one."""
    r = _whole_list(data)
    if r is None:
        return None
    value, p0, ps = r
    ln = data.count(b"\n", 0, p0) + 1
    il = _lines_at(data, ps, p0, ln)
    sink = _ColSink(ctx, "json", True)
    _emit_value(sink, value, ln, "json", il or None)
    sink.flush()
    ctx.info["object_kinds"] = sink.kinds
    nl.append((il[-1] if il else ln) - 1 + data.count(b"\n", ps[-1] if ps else p0))
    return len(sink.record_lines)


def _kind_hint(o) -> str:
    k = _s(_d(o).get("kind")) or ""
    if k.startswith("Pod"):
        return "pods"
    if k.startswith("Node"):
        return "nodes"
    return "events"


def _emit_value(sink: _Sink, v, ln: int, fmt: str, item_lines=None) -> int:
    """Rows of one top-level value (object, list, watch event); returns the number of primary objects."""
    n = 0
    if isinstance(v, dict) and "object" in v and isinstance(v.get("type"), str) and "kind" not in v:
        o = v.get("object")
        if isinstance(o, dict) and v["type"] in ("ADDED", "MODIFIED", "DELETED"):
            return int(sink.obj(o, ln, "watch"))
        return 0
    if isinstance(v, dict) and isinstance(v.get("items"), list):
        items = v["items"]
        if item_lines and len(item_lines) == len(items) and getattr(sink, "arrow", False):
            k = sink.items(items, item_lines, v.get("kind"), fmt)
            if k is not None:
                return k
        for k, it in enumerate(items):
            if isinstance(it, dict):
                il = item_lines[k] if item_lines and k < len(item_lines) else ln
                if (
                    "kind" not in it
                    and isinstance(v.get("kind"), str)
                    and v["kind"].endswith("List")
                    and v["kind"] != "List"
                ):
                    it = dict(it, kind=v["kind"][:-4])
                n += sink.obj(it, il, _origin(_kind_hint(it), fmt))
        return n
    if isinstance(v, list):
        for it in v:
            if isinstance(it, dict):
                n += _emit_value(sink, it, ln, fmt)
        return n
    if isinstance(v, dict):
        return int(sink.obj(v, ln, _origin(_kind_hint(v), fmt)))
    return 0


def _item_positions(text: str, start: int, end: int, dec: json.JSONDecoder) -> list[int] | None:
    m = RX_ITEMS.search(text, start, end)
    if not m:
        return None
    pos, out = m.end(), []
    while True:
        pos = _WS.match(text, pos).end()
        if pos >= end or text[pos] == "]":
            return out
        out.append(pos)
        try:
            _, pos = dec.raw_decode(text, pos)
        except ValueError:
            return None


def _salvage_items(
    text: str, pos: int, epos: int, dec: json.JSONDecoder, lines: _Lines, sink: _Sink
) -> tuple[int, int]:
    """The complete items of a list starting at ``pos`` (``{... "items": [`` or ``[``) whose decoding
    failed at ``epos``: emits them and returns ``(items emitted, position of the first item not decoded)``
    (``(0, pos)`` when ``pos`` starts no list)."""
    kind = None
    if text.startswith("[", pos):
        p = pos + 1
    else:
        m = RX_ITEMS.search(text, pos, epos)
        if not m:
            return 0, pos
        p = m.end()
        km = RX_LIST_KIND.search(text, pos, m.start())
        kind = km.group(1) if km else None
    n = 0
    while True:
        p = _WS.match(text, p).end()
        if p >= epos or text.startswith("]", p):
            return n, p
        try:
            v, end = dec.raw_decode(text, p)
        except (ValueError, RecursionError):
            return n, p
        if isinstance(v, dict):
            if kind and "kind" not in v:
                v = dict(v, kind=kind)
            sink.obj(v, lines.line(p), _origin(_kind_hint(v), "json"))
            n += 1
        p = end


_JWS = re.compile(r"[ \t\n\r]*")  # JSON's whitespace (json.decoder.WHITESPACE)
_WATCH_AT = re.compile(r'\{[ \t\n\r]*"type"[ \t\n\r]*:').match  # a watch event's first key


_JSEP = re.compile(r"[ \t\n\r]*,[ \t\n\r]*")  # between two values of an array


def _decode_array(text: str, p: int, dec: json.JSONDecoder):
    """The JSON array at ``p`` decoded element by element: (values, their start positions, end) or None."""
    ws, sep, raw = _JWS.match, _JSEP.match, dec.raw_decode
    items, ps = [], []
    add, at = items.append, ps.append
    q = ws(text, p + 1).end()
    if text.startswith("]", q):
        return items, ps, q + 1
    while True:
        at(q)
        v, q = raw(text, q)
        add(v)
        m = sep(text, q)
        if m is not None:
            q = m.end()
            continue
        q = ws(text, q).end()
        if text.startswith("]", q):
            return items, ps, q + 1
        return None


def _lines_at(text: str | bytes, ps: list, p0: int, ln0: int) -> list:
    """The lines of the increasing positions ``ps`` (all >= ``p0``, which is on line ``ln0``) of a text or of
    its bytes, newlines counted once between neighbours."""
    import itertools

    cnt = text.count
    newline = b"\n" if isinstance(text, bytes) else "\n"
    return list(
        itertools.accumulate(itertools.starmap(cnt, zip(itertools.repeat(newline), [p0] + ps[:-1], ps)), initial=ln0)
    )[1:]


def _decode_object(text: str, pos: int, dec: json.JSONDecoder):
    """The JSON object at ``pos`` decoded key by key, its ``items`` array item by item: ``(value, end, start
    positions of the items or None)``, one pass over the text; None when it is not valid JSON (the caller
    then decodes it as the reference does, with its error handling)."""
    ws = _JWS.match
    out: dict = {}
    ps = None
    try:
        p = ws(text, pos + 1).end()
        if text.startswith("}", p):
            return out, p + 1, None
        while True:
            if not text.startswith('"', p):
                return None
            key, p = dec.raw_decode(text, p)
            p = ws(text, p).end()
            if not text.startswith(":", p):
                return None
            p = ws(text, p + 1).end()
            if key == "items" and text.startswith("[", p):
                r = _decode_array(text, p, dec)
                if r is None:
                    return None
                out[key], ps, p = r
            else:
                out[key], p = dec.raw_decode(text, p)
                if key == "items":
                    ps = None
            p = ws(text, p).end()
            if text.startswith(",", p):
                p = ws(text, p + 1).end()
            elif text.startswith("}", p):
                return out, p + 1, ps
            else:
                return None
    except (ValueError, RecursionError):
        return None


def _parse_json(text: str, ctx: Context, columnar: bool = True, arrow: bool = True, nl: list | None = None) -> int:
    """Top-level JSON values one after the other.  The reference (``columnar=False``) decodes each value whole,
    a list's items a second time for their lines, and numbers lines from a table of every newline; the default
    decodes a list once, item by item (:func:`_decode_object`), counts lines between the positions it needs,
    and hands the objects to the columnar sink.  Malformed input takes the same (reference) path in both.
    ``nl``, when given, receives the number of newlines of ``text``, counted from the last position whose line was
    asked (the text is not counted twice)."""
    # Arrow's int64 conversion takes 1.0 (and Decimal 1.0) as 1 where ``_i`` reads None: for the Arrow path a number
    # with a fraction or an exponent is decoded as a :class:`_Num`, which every Arrow conversion refuses (the batch
    # then goes the reference's way, where ``_s``/``_i``/``_d`` read it as they read a float: not a str, an int, a dict)
    dec = json.JSONDecoder(parse_float=_Num) if columnar and arrow else json.JSONDecoder()
    lines = None if columnar else _Lines(text)
    sink = _ColSink(ctx, "json", arrow) if columnar else _Sink(ctx, "json")
    at = [0, 1]  # (position, its line): lines counted between the positions asked for

    def line_of(p: int) -> int:
        if lines is not None:
            return lines.line(p)
        a, ln = at
        ln = ln + text.count("\n", a, p) if p >= a else ln - text.count("\n", p, a)
        at[0], at[1] = p, ln
        return ln

    primary = 0
    pos, n = 0, len(text)
    while True:
        pos = _WS.match(text, pos).end()
        if pos >= n:
            break
        if columnar and text.startswith("{", pos):
            if arrow and _WATCH_AT(text, pos):  # a watch event: decoded whole, unless it also carries items
                try:
                    v, end = dec.raw_decode(text, pos)
                except (ValueError, RecursionError):
                    v = None
                if isinstance(v, dict) and not isinstance(v.get("items"), list):
                    primary += _emit_value(sink, v, line_of(pos), "json")
                    pos = end
                    continue
            r = _decode_object(text, pos, dec)
            if r is not None:
                v, end, ps = r
                ln = line_of(pos)
                il = _lines_at(text, ps, pos, ln) if ps else None
                if il:
                    at[0], at[1] = ps[-1], il[-1]
                primary += _emit_value(sink, v, ln, "json", il)
                pos = end
                continue
        try:
            v, end = dec.raw_decode(text, pos)
        except (ValueError, RecursionError) as e:
            if lines is None:
                lines = _Lines(text)
            epos = getattr(e, "pos", pos)
            ln0, eln = lines.line(pos), lines.line(epos)
            what = e.msg if isinstance(e, json.JSONDecodeError) else "nesting too deep"
            truncated = isinstance(e, json.JSONDecodeError) and (
                epos >= n - 1 or (e.msg.startswith("Unterminated string") and '"' not in text[epos + 1 :])
            )
            kept, cut = (
                _salvage_items(text, pos, epos, dec, lines, sink) if isinstance(e, json.JSONDecodeError) else (0, pos)
            )
            if kept:  # the complete items of a broken list are kept: count from the first item not decoded
                ln0 = max(lines.line(cut), max(sink.record_lines, default=0) + 1)
            rs = text.rfind("\n", 0, epos) + 1
            nxt = re.compile(r"^\{", re.M).search(text, rs if rs > pos else pos + 1) if not truncated else None
            stop = nxt.start() if nxt else n
            nbad = lines.line(stop - 1) - ln0 + 1 if stop > pos else 1
            if not nxt:
                nbad = _n_lines(text) - ln0 + 1
            nbad = max(0, nbad)
            reason = "malformed JSON (truncated object)" if truncated else "malformed JSON"
            ctx.count(reason, ln0, text[cut if kept else pos :][:200], n=nbad, severity="error")
            ctx.error(
                f"{'truncated JSON object' if truncated else 'invalid JSON'} starting at line {ln0}: {what} at "
                f"line {eln} column {lines.col(epos)}; {nbad} lines skipped"
                + (f" ({kept} complete list items before it kept)" if kept else ""),
                eln,
            )
            if not nxt:
                break
            pos = nxt.start()
            continue
        ln = line_of(pos)
        il = None
        if isinstance(v, dict) and isinstance(v.get("items"), list) and v["items"]:
            ps = _item_positions(text, pos, end, dec)
            if ps is not None and len(ps) == len(v["items"]):
                il = [line_of(p) for p in ps]
        primary += _emit_value(sink, v, ln, "json", il)
        pos = end
    sink.flush()
    ctx.info["object_kinds"] = sink.kinds
    if nl is not None:
        nl.append(len(lines.nl) if lines is not None else at[1] - 1 + text.count("\n", at[0]))
    return len(sink.record_lines)


def _parse_yaml(text: str, ctx: Context, columnar: bool = True) -> int:
    Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    sink = _ColSink(ctx, "yaml") if columnar else _Sink(ctx, "yaml")
    primary = 0
    loader = Loader(text)
    done_lines = 0  # lines of the documents parsed so far
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            ln = node.start_mark.line + 1
            il = None
            if isinstance(node, yaml.MappingNode):
                for kn, vn in node.value:
                    if getattr(kn, "value", None) == "items" and isinstance(vn, yaml.SequenceNode):
                        il = [x.start_mark.line + 1 for x in vn.value]
            v = loader.construct_document(node)
            primary += _emit_value(sink, v, ln, "yaml", il)
            done_lines = node.end_mark.line
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
        eln = mark.line + 1 if mark else None
        rest = _n_lines(text) - done_lines
        ctx.count("malformed YAML", done_lines + 1, None, n=max(0, rest), severity="error")
        ctx.error(
            f"invalid YAML: {getattr(e, 'problem', e)} at line {eln} column {mark.column + 1 if mark else '?'};"
            f" this document (from line {done_lines + 1}) and the rest of the input are skipped",
            eln,
        )
    except RecursionError:
        ctx.count("malformed YAML", None, None, n=_n_lines(text), severity="error")
        ctx.error("YAML nested too deeply: document skipped")
    finally:
        loader.dispose()
    sink.flush()
    ctx.info["object_kinds"] = sink.kinds
    return len(sink.record_lines)


def sniff(head: Head) -> bool:
    t = head.text
    if t.startswith("HTTP/"):
        t = t[_http_headers(t)[1] :] or " "
    s = t.lstrip()
    if '"auditID"' in t[:20000] or "audit.k8s.io/" in t[:20000]:
        return False
    if s.startswith("{") or s.startswith("["):
        if RX_WATCH.search(t):
            return True
        return bool(RX_KIND_JSON.search(t) and RX_API_JSON.search(t))
    if s.startswith(("---", "apiVersion:", "items:", "kind:", "metadata:")):
        return bool(RX_KIND_YAML.search(t) and RX_API_YAML.search(t))
    return False


FORMAT = Format(
    name="objects",
    description="Kubernetes API objects: events (core/v1, events.k8s.io), pods, nodes as kubectl -o json|yaml "
    "lists, single objects, -w streams and raw watch streams",
    priority=30,
    sniff=sniff,
    parse=parse,
    tables=("events", "pod_transitions", "node_transitions"),
)
