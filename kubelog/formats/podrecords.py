"""Pod/node milestones and events from kubelet, hollow-node, scheduler and controller-manager
klog records (docs/formats/klog.md).

A *non-consuming* klog extractor (``podrecords``, order 60): the records stay in ``messages``
and these derived rows are written besides them.

``pod_transitions`` (``origin`` kubelet / scheduler):

* ``"Observed pod startup duration"`` (k8s ≥ 1.26, every variant of keys): ``created``
  (``podCreationTimestamp`` / ``pod.CreationTimestamp``: apiserver clock, 1 s resolution),
  ``pull_started`` / ``pull_finished`` (``firstStartedPulling`` / ``lastFinishedPulling``, omitted
  when Go's zero time), ``running_observed`` (``observedRunningTime``), ``watch_observed``
  (``watchObservedRunningTime``), each on the kubelet's clock with ns resolution, and
  ``startup_logged`` at the record time; every other field of the record (``podStartSLOduration``,
  ``podStartE2EDuration``, ``totalImagesPullingTime`` ...) is kept as JSON in ``detail``.
* ``SyncLoop (ADD, "api"): "name_ns(uid), ..."`` (≤ 1.20) and ``"SyncLoop ADD" source="api" pods=[...]``
  (1.21+, all three KObjSlice encodings) → ``kubelet_add`` (one row per pod; ``detail`` has the source);
  the same for ``DELETE`` (the kubelet saw the graceful delete) → ``kubelet_delete`` and ``REMOVE``
  (the object is gone from the apiserver) → ``kubelet_remove``.
* ``"Killing container with a grace period" pod="ns/name" podUID=.. containerName=..`` and its
  ``"… grace period override"`` form (1.21+, kuberuntime_container.go ``killContainer``) →
  ``kubelet_kill`` (the stop of a pod's container).  The older ``Killing container "docker://<id>" with
  30 second grace period`` names only the container: it stays in ``messages``, where
  :mod:`kubelog.analysis.load` finds its pod by the container ID of its PLEG ``ContainerStarted`` record.
* ``SyncLoop (PLEG)`` records (old ``&pleg.PodLifecycleEvent{...}`` and structured ``event=&{...}`` /
  ``event={...}``) → ``pleg_<event type in snake case>`` (e.g. ``pleg_container_started``).
* scheduler ``pod ns/x is bound successfully on node ...`` (1.14–1.19, all three text forms) and
  ``"Successfully bound pod to node"`` (1.20+) → ``bound`` (record time: an upper bound of the
  binding time) with the node.  The ≤ 1.13 scheduler's only line, ``Attempting to bind <pod> to
  <node>`` (before the binding POST, no namespace), gives no row here: it stays in ``messages``, where
  :mod:`kubelog.analysis.pods` reads it (a lower bound, ranked after the bound records, the namespace
  resolved from the pod's other rows).

``events`` (``origin`` klog): ``Event(v1.ObjectReference{...}): type: 'T' reason: 'R' msg`` (any
``*.ObjectReference``) and ``"Event occurred" object=.. kind=.. type=.. reason=.. message=..``; the
record time on the component's clock is ``ts`` (µs resolution). A scheduler ``Scheduled`` event
(``Successfully assigned ns/pod to node``) also gives a pod ``bound`` row (origin ``scheduler-event``).

``node_transitions``: ``Successfully registered node X`` (kubelet, ``registered``) and node events
``NodeReady`` / ``NodeNotReady`` (``ready`` / ``notready``).

Times inside messages are Go ``time.Time.String()`` values with a numeric zone (exact).
"""

from __future__ import annotations

import json
import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .klog import Records, register_extractor
from .traces import go_time_ns

FILTER = (
    r"Observed pod startup duration|SyncLoop \((?:ADD|DELETE|REMOVE)|SyncLoop (?:ADD|DELETE|REMOVE)|"
    r"Killing container with a grace period|SyncLoop \(PLEG\)|bound successfully on node|"
    r"Successfully bound pod to node|^Event\(\w*\.?ObjectReference\{|^\"Event occurred\"|"
    r"Successfully registered node"
)

RX_KV = re.compile(r'([A-Za-z_][\w.\-]*)=("(?:[^"\\]|\\.)*"|\[[^\]]*\]|\{[^}]*\}|&\{[^}]*\}|\S+)')
RX_OLD_POD = re.compile(r"^(?P<name>.+)_(?P<ns>[^_()]+)\((?P<uid>[^)]*)\)$")
RX_SYNC_OLD = re.compile(r'^SyncLoop \((?P<op>ADD|DELETE|REMOVE), "(?P<src>[^"]*)"\): "(?P<pods>.*)"\s*$')
SYNC_MILESTONE = {"ADD": "kubelet_add", "DELETE": "kubelet_delete", "REMOVE": "kubelet_remove"}
RX_PLEG_OLD = re.compile(
    r'^SyncLoop \(PLEG\): "(?P<pod>[^"]*)", event: &pleg\.PodLifecycleEvent\{ID:"(?P<uid>[^"]*)", '
    r'Type:"(?P<type>[^"]*)"(?:, Data:"(?P<data>[^"]*)")?'
)
RX_PLEG_TYPE = re.compile(r'"?Type"?:"?(?P<type>\w+)')
RX_PLEG_ID = re.compile(r'"?ID"?:"?(?P<id>[\w-]+)')
RX_BOUND_OLD = re.compile(r'^pod (?P<pod>\S+) is bound successfully on node "?(?P<node>[^",\s]+)"?,')
RX_EVENT_OLD = re.compile(
    r"^Event\((?:\w+\.)?ObjectReference\{(?P<ref>.*?)\}\): type: '(?P<type>[^']*)' "
    r"reason: '(?P<reason>[^']*)' ?(?P<msg>.*)$",
    re.S,
)
RX_REF = re.compile(r'(\w+):"((?:[^"\\]|\\.)*)"')
RX_ASSIGNED = re.compile(r"^Successfully assigned (?P<pod>\S+) to (?P<node>\S+)")
# kuberuntime_container.go killContainer (1.21+): "… with a grace period" or, with an override (a force
# delete, an eviction), "… with a grace period override"
RX_KILL = re.compile(r'^"Killing container with a grace period(?: override)?"')
RX_REGISTERED = re.compile(r"^Successfully registered node (?P<node>\S+)\s*$")


def unquote(v: str) -> str:
    if len(v) >= 2 and v[0] == '"' and v[-1] == '"':
        try:
            return json.loads(v)
        except ValueError:
            return v[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return v


def parse_kv(text: str) -> dict:
    """klog structured ``key=value`` pairs (quoted, bare, [..], {..}, &{..}) → dict of raw-unquoted strings."""
    return {k: unquote(v) for k, v in RX_KV.findall(text or "")}


def _split_pod(s: str) -> tuple[str, str]:
    s = s.strip().strip('"')
    if "/" in s:
        ns, _, name = s.partition("/")
        return ns, name
    return "", s


def _pods_list(v: str) -> list[str]:
    """KObjSlice in any encoding: ``[ns/a ns/b]``, ``"[ns/a ns/b]"``, ``["ns/a","ns/b"]``."""
    v = v.strip()
    if v.startswith("[") and '"' in v:
        try:
            return [str(x) for x in json.loads(v)]
        except ValueError:
            pass
    v = v.strip('"').strip("[]")
    return [p for p in re.split(r"[\s,]+", v) if p]


def _snake(t: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", t).lower()


class _Out:
    def __init__(self):
        self.pod = {
            c: []
            for c in (
                "namespace",
                "pod",
                "uid",
                "node",
                "milestone",
                "ts",
                "clock",
                "resolution_s",
                "origin",
                "detail",
                "line_no",
            )
        }
        self.ev = {
            c: []
            for c in (
                "ts",
                "clock",
                "resolution_s",
                "namespace",
                "reason",
                "type",
                "message",
                "object_kind",
                "object_namespace",
                "object_name",
                "component",
                "host",
                "origin",
                "line_no",
            )
        }
        self.node = {c: [] for c in ("node", "milestone", "ts", "clock", "resolution_s", "origin", "line_no")}

    def p(self, ns, pod, milestone, ts, clock, res, origin, ln, uid=None, node=None, detail=None):
        for k, v in (
            ("namespace", ns),
            ("pod", pod),
            ("uid", uid),
            ("node", node),
            ("milestone", milestone),
            ("ts", ts),
            ("clock", clock),
            ("resolution_s", res),
            ("origin", origin),
            ("detail", detail),
            ("line_no", ln),
        ):
            self.pod[k].append(v)

    def n(self, node, milestone, ts, clock, res, origin, ln):
        for k, v in (
            ("node", node),
            ("milestone", milestone),
            ("ts", ts),
            ("clock", clock),
            ("resolution_s", res),
            ("origin", origin),
            ("line_no", ln),
        ):
            self.node[k].append(v)

    def tables(self) -> dict:
        tsz = pa.timestamp("ns", tz="UTC")
        out = {}
        for name, d in (("pod_transitions", self.pod), ("events", self.ev), ("node_transitions", self.node)):
            if d["line_no"]:
                d = dict(d)
                d["ts"] = pa.array(d["ts"], pa.int64()).cast(tsz)
                out[name] = d
        return out


def _node_of_clock(clock: str | None) -> str | None:
    if clock and clock.startswith("node/") and clock != "node/unknown":
        return clock[5:]
    return None


def extract(rec: Records, ctx) -> tuple:
    cand = pc.fill_null(pc.match_substring_regex(rec.msg, FILTER), False).to_numpy(zero_copy_only=False)
    if not cand.any():
        return None, {}
    comp = (ctx.info.get("component") if hasattr(ctx, "info") else "") or ""
    o = _Out()
    for i in np.flatnonzero(cand):
        i = int(i)
        msg = rec.msg[i].as_py() or ""
        ts = int(rec.ts_ns[i])
        clock = rec.clock[i].as_py()
        ln = int(rec.line_no[i])
        try:
            _one(o, msg, rec, i, ts, clock, ln, comp)
        except Exception as e:  # one odd record must not lose the block
            if hasattr(ctx, "count"):
                ctx.count(f"pod/event record not understood ({type(e).__name__})", ln, msg, n=0)
    return None, o.tables()


def _one(o: _Out, msg: str, rec: Records, i: int, ts: int, clock: str, ln: int, comp: str) -> None:
    node = _node_of_clock(clock)
    if msg.startswith('"Observed pod startup duration"'):
        kv = parse_kv(msg[len('"Observed pod startup duration"') :])
        ns, pod = _split_pod(kv.get("pod", ""))
        detail = {k: v for k, v in kv.items() if k != "pod"}
        dj = json.dumps(detail, sort_keys=True)
        created = kv.get("podCreationTimestamp") or kv.get("pod.CreationTimestamp")
        t = go_time_ns(created) if created else None
        if t is not None:
            o.p(ns, pod, "created", t, "apiserver", 1.0, "kubelet", ln, node=node, detail=dj)
        for key, ms in (
            ("firstStartedPulling", "pull_started"),
            ("lastFinishedPulling", "pull_finished"),
            ("observedRunningTime", "running_observed"),
            ("watchObservedRunningTime", "watch_observed"),
        ):
            v = kv.get(key)
            t = go_time_ns(v) if v else None
            if t is not None:
                o.p(ns, pod, ms, t, clock, 1e-9, "kubelet", ln, node=node, detail=dj)
        o.p(ns, pod, "startup_logged", ts, clock, 1e-6, "kubelet", ln, node=node, detail=dj)
        return
    m = RX_SYNC_OLD.match(msg)
    if m:
        for p in [x.strip() for x in m.group("pods").split(",") if x.strip()]:
            pm = RX_OLD_POD.match(p)
            if pm:
                o.p(
                    pm.group("ns"),
                    pm.group("name"),
                    SYNC_MILESTONE[m.group("op")],
                    ts,
                    clock,
                    1e-6,
                    "kubelet",
                    ln,
                    uid=pm.group("uid"),
                    node=node,
                    detail=json.dumps({"source": m.group("src")}),
                )
        return
    for op, ms in SYNC_MILESTONE.items():
        if msg.startswith(f'"SyncLoop {op}"'):
            kv = parse_kv(msg[len(f'"SyncLoop {op}"') :])
            for p in _pods_list(kv.get("pods", "")):
                ns, pod = _split_pod(p)
                o.p(
                    ns,
                    pod,
                    ms,
                    ts,
                    clock,
                    1e-6,
                    "kubelet",
                    ln,
                    node=node,
                    detail=json.dumps({"source": kv.get("source", "")}),
                )
            return
    m = RX_KILL.match(msg)
    if m:
        kv = parse_kv(msg[m.end() :])
        ns, pod = _split_pod(kv.get("pod", ""))
        if pod:
            o.p(
                ns,
                pod,
                "kubelet_kill",
                ts,
                clock,
                1e-6,
                "kubelet",
                ln,
                uid=kv.get("podUID"),
                node=node,
                detail=json.dumps({"container": kv.get("containerName", ""), "gracePeriod": kv.get("gracePeriod", "")}),
            )
        return
    m = RX_PLEG_OLD.match(msg)
    if m:
        pm = RX_OLD_POD.match(m.group("pod"))
        if pm:
            o.p(
                pm.group("ns"),
                pm.group("name"),
                "pleg_" + _snake(m.group("type")),
                ts,
                clock,
                1e-6,
                "kubelet",
                ln,
                uid=m.group("uid"),
                node=node,
            )
        return
    if msg.startswith('"SyncLoop (PLEG): event for pod"'):
        rest = msg[len('"SyncLoop (PLEG): event for pod"') :]
        pm = re.search(r'pod="([^"]*)"', rest)
        tm = RX_PLEG_TYPE.search(rest.split("event=", 1)[-1])
        im = RX_PLEG_ID.search(rest.split("event=", 1)[-1])
        if pm and tm:
            ns, pod = _split_pod(pm.group(1))
            o.p(
                ns,
                pod,
                "pleg_" + _snake(tm.group("type")),
                ts,
                clock,
                1e-6,
                "kubelet",
                ln,
                uid=im.group("id") if im else None,
                node=node,
            )
        return
    m = RX_BOUND_OLD.match(msg)
    if m:
        ns, pod = _split_pod(m.group("pod"))
        o.p(ns, pod, "bound", ts, clock, 1e-6, "scheduler", ln, node=m.group("node"))
        return
    if msg.startswith('"Successfully bound pod to node"'):
        kv = parse_kv(msg[len('"Successfully bound pod to node"') :])
        ns, pod = _split_pod(kv.get("pod", ""))
        o.p(
            ns,
            pod,
            "bound",
            ts,
            clock,
            1e-6,
            "scheduler",
            ln,
            node=kv.get("node"),
            detail=json.dumps({k: v for k, v in kv.items() if k not in ("pod", "node")}, sort_keys=True),
        )
        return
    if msg.startswith('"Successfully registered node"'):
        nd = parse_kv(msg[len('"Successfully registered node"') :]).get("node")
        if nd:
            o.n(nd, "registered", ts, clock, 1e-6, "kubelet", ln)
        return
    m = RX_REGISTERED.match(msg)
    if m:
        o.n(m.group("node"), "registered", ts, clock, 1e-6, "kubelet", ln)
        return
    full = msg
    c = rec.cont[i].as_py()
    if c is not None:
        full = msg + "\n" + c
    m = RX_EVENT_OLD.match(full)
    if m:
        ref = dict(RX_REF.findall(m.group("ref")))
        _event(
            o,
            ts,
            clock,
            ln,
            comp,
            node,
            ref.get("Kind", ""),
            ref.get("Namespace", ""),
            ref.get("Name", ""),
            m.group("type"),
            m.group("reason"),
            m.group("msg"),
        )
        return
    if msg.startswith('"Event occurred"'):
        kv = parse_kv(msg[len('"Event occurred"') :])
        ns, name = _split_pod(kv.get("object", ""))
        _event(
            o,
            ts,
            clock,
            ln,
            comp,
            node,
            kv.get("kind", ""),
            ns,
            name,
            kv.get("type", ""),
            kv.get("reason", ""),
            kv.get("message", ""),
        )


def _event(o: _Out, ts, clock, ln, comp, node, kind, ns, name, typ, reason, message) -> None:
    for k, v in (
        ("ts", ts),
        ("clock", clock),
        ("resolution_s", 1e-6),
        ("namespace", ns or ""),
        ("reason", reason),
        ("type", typ),
        ("message", message),
        ("object_kind", kind),
        ("object_namespace", ns),
        ("object_name", name),
        ("component", comp),
        ("host", node),
        ("origin", "klog"),
        ("line_no", ln),
    ):
        o.ev[k].append(v)
    if kind == "Pod" and reason == "Scheduled":
        m = RX_ASSIGNED.match(message or "")
        if m:
            o.p(ns, name, "bound", ts, clock, 1e-6, "scheduler-event", ln, node=m.group("node"))
    if kind == "Node" and reason in ("NodeReady", "NodeNotReady"):
        o.n(name, "ready" if reason == "NodeReady" else "notready", ts, clock, 1e-6, "events", ln)


register_extractor("podrecords", extract, order=60, consumes=False)
