"""API object dumps and watch streams (docs/formats/objects.md) → events, pod_transitions, node_transitions."""

import json

import pandas as pd
import pytest

from kubelog.formats import objects as O
from kubelog.formats.base import Head


def accounting_ok(e):
    return e["lines_read"] == e["record_lines"] + e["continuation_lines"] + sum(e["counted"].values())


def test_openshift_events_yaml_golden(real_logs, ingest_to):
    run = ingest_to(real_logs / "openshift4.8_events_kube-apiserver-operator_aws_mustgather.yaml")
    e = run.inputs[0]
    assert e["format"] == "objects" and accounting_ok(e) and e["record_lines"] == 405 and not e["counted"]
    ev = run.table("events")
    assert len(ev) == 405
    assert ev.type.value_counts().to_dict() == {"Normal": 355, "Warning": 50}
    assert int(ev["count"].sum()) == 527
    assert int(ev.event_time.notna().sum()) == 4 and int(ev.first_ts.notna().sum()) == 401
    top = ev.reason.value_counts()
    assert (
        top["ConfigMapCreated"],
        top["OperatorStatusChanged"],
        top["SecretCreated"],
        top["FastControllerResync"],
    ) == (110, 59, 58, 27)
    assert ev.ts.min() == pd.Timestamp("2021-08-03T09:14:56Z") and ev.ts.max() == pd.Timestamp("2021-08-03T09:46:12Z")
    fs = ev[ev.event_time.notna()]
    assert "FailedScheduling" in set(fs.reason) and (fs.resolution_s == 1e-6).all()
    assert set(fs.component) == {"default-scheduler"} and set(ev.origin) == {"events-yaml"}
    assert ev.creation_ts.notna().all() and ev.line_no.is_monotonic_increasing and ev.line_no.iloc[0] == 4


def test_pods_dump_golden(real_logs, ingest_to):
    run = ingest_to(real_logs / "pods_dump_kubectl_get_pods_A_json_atshaman.json")
    e = run.inputs[0]
    assert e["format"] == "objects" and accounting_ok(e) and e["record_lines"] == 158 and not e["counted"]
    p = run.table("pod_transitions")
    c = p[p.milestone == "created"]
    assert len(c) == 158
    d = c.detail.map(json.loads)
    assert d.map(lambda x: x["phase"]).value_counts().to_dict() == {"Running": 157, "Failed": 1}
    failed = c[d.map(lambda x: x["phase"]) == "Failed"].iloc[0]
    assert (failed.namespace, failed.pod) == ("nifi", "nifi-56885fd96b-4jhmz")
    assert d[d.map(lambda x: x["phase"]) == "Failed"].iloc[0]["reason"] == "Evicted"
    assert c.node.value_counts().to_dict() == {"epm-node1": 53, "epm-node2": 51, "epm-node3": 43, "epm-master": 11}
    assert int(d.map(lambda x: x["restarts"]).sum()) == 5938
    assert c.ts.min().date().isoformat() == "2020-06-24" and c.ts.max().date().isoformat() == "2021-04-13"
    assert set(c.clock) == {"apiserver"} and (p.resolution_s == 1.0).all()
    sch = p[p.milestone == "scheduled"]
    assert set(sch.clock) == {"apiserver"}
    rd = p[p.milestone == "ready"]
    assert (rd.clock == "node/" + rd.node).all()
    assert c.line_no.iloc[0] == 4  # the first item's "{" line


POD = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "p1", "namespace": "ns", "uid": "u1", "creationTimestamp": "2024-01-01T00:00:00Z"},
    "spec": {"nodeName": "hollow-node-1", "containers": [{"name": "c"}]},
    "status": {
        "phase": "Pending",
        "conditions": [{"type": "PodScheduled", "status": "True", "lastTransitionTime": "2024-01-01T00:00:01Z"}],
    },
}


def _running(p):
    p = json.loads(json.dumps(p))
    p["status"]["phase"] = "Running"
    p["status"]["conditions"].append({"type": "Ready", "status": "True", "lastTransitionTime": "2024-01-01T00:00:05Z"})
    p["status"]["containerStatuses"] = [
        {"name": "c", "restartCount": 0, "state": {"running": {"startedAt": "2024-01-01T00:00:04Z"}}}
    ]
    return p


def _write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_pods_watch_stream_and_w_json(ingest_to, tmp_path):
    lines = [
        json.dumps({"type": "ADDED", "object": POD}),
        json.dumps({"type": "MODIFIED", "object": _running(POD)}),
        json.dumps({"type": "BOOKMARK", "object": {"kind": "Pod", "metadata": {"resourceVersion": "9"}}}),
    ]
    run = ingest_to(_write(tmp_path, "watch.json", "\n".join(lines) + "\n"))
    e = run.inputs[0]
    assert e["format"] == "objects" and accounting_ok(e) and e["record_lines"] == 2
    p = run.table("pod_transitions")
    assert p.milestone.tolist() == ["created", "scheduled", "ready", "container_started", "started"]
    assert set(p.origin) == {"watch"} and p.line_no.tolist() == [1, 1, 2, 2, 2]
    assert p[p.milestone == "ready"].clock.iloc[0] == "node/hollow-node-1"
    # kubectl get pods -w -o json: concatenated pretty-printed objects
    text = json.dumps(POD, indent=4, sort_keys=True) + "\n" + json.dumps(_running(POD), indent=4, sort_keys=True) + "\n"
    run = ingest_to(_write(tmp_path, "w.json", text))
    e = run.inputs[0]
    assert accounting_ok(e) and e["record_lines"] == 2
    p = run.table("pod_transitions")
    assert len(p) == 5 and p.line_no.iloc[0] == 1 and p.line_no.iloc[-1] > 10


def test_events_k8s_io_and_core_json(ingest_to, tmp_path):
    new = {
        "apiVersion": "events.k8s.io/v1",
        "kind": "Event",
        "metadata": {"name": "e1", "namespace": "d", "creationTimestamp": "2024-01-01T00:00:02Z"},
        "eventTime": "2024-01-01T00:00:01.123456Z",
        "reportingController": "default-scheduler",
        "reportingInstance": "default-scheduler-m1",
        "action": "Binding",
        "reason": "Scheduled",
        "regarding": {"kind": "Pod", "namespace": "d", "name": "p"},
        "note": "Successfully assigned d/p to n1",
        "type": "Normal",
        "series": {"count": 3, "lastObservedTime": "2024-01-01T00:00:09.000001Z"},
    }
    old = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": "e2", "namespace": "d", "creationTimestamp": "2024-01-01T00:00:03Z"},
        "involvedObject": {"kind": "Pod", "namespace": "d", "name": "p"},
        "reason": "Pulled",
        "message": "ok",
        "source": {"component": "kubelet", "host": "n1"},
        "firstTimestamp": "2024-01-01T00:00:03Z",
        "lastTimestamp": "2024-01-01T00:00:07Z",
        "count": 2,
        "eventTime": None,
        "type": "Normal",
        "reportingComponent": "",
        "reportingInstance": "",
    }
    doc = {"apiVersion": "v1", "items": [new, old], "kind": "List", "metadata": {"resourceVersion": ""}}
    run = ingest_to(_write(tmp_path, "events.json", json.dumps(doc, indent=4, sort_keys=True) + "\n"))
    e = run.inputs[0]
    assert e["format"] == "objects" and accounting_ok(e) and e["record_lines"] == 2
    ev = run.table("events").set_index("name")
    a, b = ev.loc["e1"], ev.loc["e2"]
    assert a.ts == pd.Timestamp("2024-01-01T00:00:01.123456Z") and a.resolution_s == 1e-6 and a["count"] == 3
    assert a.series_last_ts == pd.Timestamp("2024-01-01T00:00:09.000001Z") and a.component == "default-scheduler"
    assert a.message.startswith("Successfully assigned") and a.object_name == "p" and a.clock == "apiserver"
    assert b.ts == pd.Timestamp("2024-01-01T00:00:07Z") and b.first_ts == pd.Timestamp("2024-01-01T00:00:03Z")
    assert b.resolution_s == 1.0 and b["count"] == 2 and b.clock == "node/n1" and b.host == "n1"
    assert b.creation_ts == pd.Timestamp("2024-01-01T00:00:03Z")


def test_nodes_yaml_multidoc(ingest_to, tmp_path):
    text = """---
apiVersion: v1
kind: Node
metadata:
  name: hollow-node-a
  creationTimestamp: "2024-01-01T00:00:00Z"
status:
  conditions:
  - type: Ready
    status: "True"
    lastTransitionTime: "2024-01-01T00:00:10Z"
---
apiVersion: v1
kind: Node
metadata:
  name: hollow-node-b
  creationTimestamp: 2024-01-01T00:00:01Z
status:
  conditions:
  - type: Ready
    status: Unknown
    lastTransitionTime: "2024-01-01T00:05:00Z"
"""
    run = ingest_to(_write(tmp_path, "nodes.yaml", text))
    e = run.inputs[0]
    assert e["format"] == "objects" and accounting_ok(e) and e["record_lines"] == 2
    n = run.table("node_transitions")
    assert n.milestone.tolist() == ["registered", "ready", "registered", "notready"]
    assert n.clock.tolist() == ["apiserver", "node/hollow-node-a", "apiserver", "apiserver"]
    assert n.ts.iloc[2] == pd.Timestamp("2024-01-01T00:00:01Z") and n.line_no.tolist() == [2, 2, 13, 13]


def test_malformed_json_keeps_rest(ingest_to, tmp_path):
    good = json.dumps(POD, indent=4)
    bad = good[: len(good) // 2].replace('"p1"', '"p0"')
    text = bad + "\n" + good + "\n"
    run = ingest_to(_write(tmp_path, "pods-w.json", text))
    e = run.inputs[0]
    assert accounting_ok(e) and e["record_lines"] == 1
    assert e["counted"].get("malformed JSON") and any("invalid JSON starting at line 1" in x for x in e["errors"])
    assert set(run.table("pod_transitions").pod) == {"p1"}
    # truncated last object
    run = ingest_to(_write(tmp_path, "pods-t.json", good + "\n" + bad + "\n"))
    e = run.inputs[0]
    assert accounting_ok(e) and e["record_lines"] == 1 and e["counted"].get("malformed JSON (truncated object)")
    assert any("truncated JSON object" in x for x in e["errors"])


def test_wrong_types_and_deep_nesting(ingest_to, tmp_path):
    p = json.loads(json.dumps(POD))
    p["metadata"]["creationTimestamp"] = 12
    p["status"]["conditions"] = "nope"
    p["spec"] = []
    text = (
        json.dumps({"type": "ADDED", "object": p})
        + "\n"
        + "[" * 100000
        + "]" * 100000
        + "\n"
        + json.dumps({"type": "ADDED", "object": POD})
        + "\n"
    )
    run = ingest_to(_write(tmp_path, "watch2.json", text))
    e = run.inputs[0]
    assert e["format"] == "objects" and accounting_ok(e)
    assert e["record_lines"] == 2 and e["counted"].get("malformed JSON") == 1
    assert any("nesting too deep" in x for x in e["errors"])
    # YAML that breaks in the middle
    run = ingest_to(
        _write(tmp_path, "ev.yaml", "apiVersion: v1\nkind: EventList\nitems:\n- kind: Event\n  reason: [a\n")
    )
    e = run.inputs[0]
    assert accounting_ok(e) and e["counted"].get("malformed YAML") and any("invalid YAML" in x for x in e["errors"])


@pytest.mark.parametrize(
    "name",
    [
        "audit2rbac_demo_audit.log",
        "falco_k8s_audit_trace_files.jsonl",
        "apiserver_v1.19.4_arm64_skykying.log",
        "kubeburner_node-density_jobSummary_ocp4.17.json",
        "kubeburner_node-density_podLatencyMeasurement_ocp4.17.json",
        "cl2_cern_density_2022-06-08_SystemPodMetrics.json",
        "cl2_cern_density_2022-06-08_ResourceUsageSummary.json",
        "conformance_junit_provedge_2021.xml",
        "conformance_e2e_provedge_2021.log",
    ],
)
def test_sniffer_negative(real_logs, name):
    with open(real_logs / name, "rb") as f:
        assert not O.sniff(Head(name, f.read(64 * 1024)))


# -- the columnar path (single-pass list decoding, rows built per column) against the per-object reference ------

import io  # noqa: E402

import pyarrow as pa  # noqa: E402
import yaml  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from kubelog.formats.base import Context  # noqa: E402

_TIMES = [
    "2024-01-01T00:00:00Z",
    "2024-01-01T00:00:07Z",
    "2024-01-01T00:00:00.123456Z",
    "2024-01-01T02:00:03+02:00",
    "2024-01-01T00:00:05.123456789Z",
    "2024-02-30T00:00:00Z",
    "2024-01-01 00:00:04",
    "2024-01-01T00:00:00",
    "2024-01-01",
    "garbage",
    "",
    None,
    12,
]
_NAMES = ["p1", "p2", 'weird "name"', "pöd", "tab\tname", None]


def _pick(draw, xs):
    return draw(st.sampled_from(xs))


@st.composite
def _api_object(draw):
    kind = draw(st.sampled_from(["Event", "EventNew", "Pod", "Pod", "Node", "ConfigMap", None]))
    t = lambda: _pick(draw, _TIMES)  # noqa: E731
    if kind in ("Event", "EventNew"):
        o = {
            "apiVersion": "events.k8s.io/v1" if kind == "EventNew" else "v1",
            "kind": "Event",
            "metadata": {"name": _pick(draw, _NAMES), "namespace": "d", "creationTimestamp": t()},
            "reason": _pick(draw, ["Scheduled", "Pulled", None, 3]),
            "type": "Normal",
            "eventTime": t(),
        }
        if kind == "EventNew":
            o.update(
                regarding={"kind": "Pod", "name": _pick(draw, _NAMES)},
                note="n",
                reportingController=_pick(draw, ["kubelet", "default-scheduler", ""]),
                reportingInstance=_pick(draw, ["n1", "", None]),
                deprecatedCount=_pick(draw, [2, None, True]),
                deprecatedFirstTimestamp=t(),
                deprecatedLastTimestamp=t(),
                series=_pick(draw, [{"count": 4, "lastObservedTime": "2024-01-01T00:00:09.000001Z"}, None, {}]),
            )
        else:
            o.update(
                involvedObject={"kind": "Pod", "namespace": "d", "name": _pick(draw, _NAMES)},
                message=_pick(draw, ["ok", None]),
                firstTimestamp=t(),
                lastTimestamp=t(),
                count=_pick(draw, [1, 7, None, "2", 2**40]),
                source=_pick(draw, [{"component": "kubelet", "host": "n1"}, {"component": "kubelet"}, {}, "x"]),
            )
        if draw(st.booleans()):
            del o["kind"]  # a -o json watch without kind: guessed from its shape
        return o
    if kind == "Pod" or kind is None:
        conds = [
            {
                "type": _pick(draw, ["PodScheduled", "Ready", "Initialized", "ContainersReady", "Custom", None]),
                "status": _pick(draw, ["True", "False", None]),
                "reason": _pick(draw, [None, "Unschedulable", "é"]),
                "lastTransitionTime": t(),
            }
            for _ in range(draw(st.integers(0, 3)))
        ]
        cs = [
            {
                "name": _pick(draw, ["c", "d", 'x"y', None]),
                "restartCount": _pick(draw, [0, 3, None, True]),
                "state": _pick(
                    draw, [{"running": {"startedAt": t()}}, {"terminated": {"startedAt": t()}}, {"waiting": {}}, {}]
                ),
            }
            for _ in range(draw(st.integers(0, 3)))
        ]
        o = {
            "apiVersion": "v1",
            "metadata": {
                "name": _pick(draw, _NAMES),
                "namespace": "d",
                "uid": _pick(draw, ["u1", "u2", "", None]),
                "creationTimestamp": t(),
            },
            "spec": {"nodeName": _pick(draw, ["n1", None]), "containers": [{"name": "c"}]},
            "status": {
                "phase": _pick(draw, ["Running", "Pending", None]),
                "reason": _pick(draw, [None, "Evicted"]),
                "startTime": t(),
                "conditions": _pick(draw, [conds, conds, "nope", None]),
                "containerStatuses": _pick(draw, [cs, cs, 5]),
            },
        }
        if draw(st.booleans()):
            o["metadata"]["deletionTimestamp"] = t()
        if kind == "Pod":
            o["kind"] = "Pod"
        return o
    if kind == "Node":
        return {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {"name": _pick(draw, ["n1", "n2"]), "creationTimestamp": t()},
            "status": {
                "conditions": [
                    {"type": "Ready", "status": _pick(draw, ["True", "False", "Unknown"]), "lastTransitionTime": t()}
                ]
            },
        }
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm"}, "items": [1]}


def _document(objs, shape, cut, junk):
    if shape == "kubectl":  # kubectl get -o json: pretty, sorted keys
        text = json.dumps(
            {"apiVersion": "v1", "items": objs, "kind": "List", "metadata": {"resourceVersion": ""}},
            indent=4,
            sort_keys=True,
        )
    elif shape == "api":  # the API's own list, one line, items without kind
        items = [{k: v for k, v in o.items() if k != "kind"} for o in objs]
        text = json.dumps({"kind": "PodList", "apiVersion": "v1", "metadata": {"resourceVersion": "9"}, "items": items})
    elif shape == "array":
        text = json.dumps(objs, indent=2)
    elif shape == "watch":
        evs = [
            json.dumps({"type": ["ADDED", "MODIFIED", "DELETED", "BOOKMARK"][i % 4], "object": o})
            for i, o in enumerate(objs + objs[:2])
        ]  # seen again: only changed times add rows
        text = "\n".join(evs)
    elif shape == "curl":
        text = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n" + "\n".join(
            json.dumps({"type": "ADDED", "object": o}) for o in objs
        )
    elif shape == "w":  # kubectl get -w -o json: concatenated pretty objects
        text = "\n".join(json.dumps(o, indent=4) for o in objs)
    elif shape == "yaml":
        text = yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": objs}, sort_keys=False)
    else:
        text = "---\n" + "---\n".join(yaml.safe_dump(o) for o in objs)
    if junk is not None:  # a broken value in the middle of a stream
        k = text.find("\n", int(len(text) * junk))
        if k > 0:
            text = text[: k + 1] + '{"kind": "Pod", "metadata": {nope\n' + text[k + 1 :]
    if cut is not None:
        text = text[: max(1, int(len(text) * cut))]
    return text + "\n"


def _run_parse(text: str, columnar: bool):
    got: dict[str, list] = {}
    ctx = Context(0, "objs.json", lambda t, d: got.setdefault(t, []).append(d))
    O.parse(io.BufferedReader(io.BytesIO(text.encode())), ctx, columnar=columnar)
    ctx.check_accounting()
    return {k: pa.concat_tables(v) for k, v in got.items()}, ctx


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(
    objs=st.lists(_api_object(), min_size=1, max_size=12),
    shape=st.sampled_from(["kubectl", "api", "array", "watch", "curl", "w", "yaml", "yaml-multi"]),
    cut=st.one_of(st.none(), st.floats(0.05, 0.999)),
    junk=st.one_of(st.none(), st.floats(0.1, 0.9)),
)
def test_columnar_path_gives_what_the_per_object_reference_gives(objs, shape, cut, junk):
    text = _document(objs, shape, cut, junk if shape in ("watch", "w", "curl") else None)
    fast, fctx = _run_parse(text, True)
    slow, sctx = _run_parse(text, False)
    assert fast.keys() == slow.keys()
    for t in fast:
        assert fast[t].equals(slow[t]), (t, fast[t].to_pylist()[:3], slow[t].to_pylist()[:3])
    assert {k: (v.count, v.examples) for k, v in fctx.stats.items()} == {
        k: (v.count, v.examples) for k, v in sctx.stats.items()
    }
    assert (fctx.lines_read, fctx.record_lines, fctx.continuation_lines) == (
        sctx.lines_read,
        sctx.record_lines,
        sctx.continuation_lines,
    )
    assert "unaccounted (parser bug)" not in fctx.stats and fctx.errors == sctx.errors
    assert fctx.info == sctx.info


@pytest.mark.parametrize("name", ["watch_pods_curl_i.json"])
def test_columnar_path_on_the_samples(name):
    from pathlib import Path

    text = (Path(__file__).parent / "samples" / "objects" / name).read_text()
    fast, fctx = _run_parse(text, True)
    slow, sctx = _run_parse(text, False)
    assert fast.keys() == slow.keys() and all(fast[t].equals(slow[t]) for t in fast)
    assert {k: v.count for k, v in fctx.stats.items()} == {k: v.count for k, v in sctx.stats.items()}


def test_a_list_is_decoded_once_with_its_items_lines():
    """The list's items are decoded one by one where they stand: their lines come without a second parse."""
    doc = json.dumps({"apiVersion": "v1", "items": [POD, _running(POD)], "kind": "List"}, indent=4)
    v, end, ps = O._decode_object(doc, 0, json.JSONDecoder())
    assert end == len(doc) and v == json.loads(doc)
    assert [doc.count("\n", 0, p) + 1 for p in ps] == [4, 4 + json.dumps(POD, indent=4).count("\n") + 1]
    assert O._decode_object('{"items": [1, 2,]}', 0, json.JSONDecoder()) is None  # invalid: the reference decides


@pytest.mark.parametrize("columnar", [True, False])
def test_a_start_time_that_is_not_a_time_gives_no_started_row(columnar):
    """The old code stopped the whole input with pandas' DateParseError on such a pod."""
    p = _running(POD)
    p["status"]["containerStatuses"][0]["state"]["running"]["startedAt"] = "garbage"
    q = _running(POD) | {"metadata": {**POD["metadata"], "uid": "u2"}}
    tabs, ctx = _run_parse("\n".join(json.dumps({"type": "ADDED", "object": o}) for o in (p, q)), columnar)
    ms = tabs["pod_transitions"].to_pandas()
    assert ms[ms.uid == "u1"].milestone.tolist() == ["created", "scheduled", "ready", "container_started"]
    assert "started" in ms[ms.uid == "u2"].milestone.tolist() and not ctx.errors


# -- issue 20, round 8: lists of events / pods batched whole, events' fields read by Arrow (``parse(arrow=True)``) --

_ODD = [None, "", 3, 1.0, True, [], {}, "x"]  # values of the wrong type: read as absent, as ``_s`` / ``_d`` do


@st.composite
def _event(draw):
    odd = draw(st.booleans())  # a few objects carry wrong types (the Arrow conversion refuses them)
    t = lambda: _pick(draw, _TIMES[:-1] + ([12, 1.5] if odd else []))  # noqa: E731
    s = lambda xs: _pick(draw, xs + (_ODD if odd else [None, ""]))  # noqa: E731
    new = draw(st.sampled_from(["core", "events.k8s.io/v1", "events.k8s.io/v1beta1", "reportingController-only"]))
    o = {"apiVersion": "v1" if new in ("core", "reportingController-only") else new, "kind": "Event"}
    if draw(st.booleans()):
        o["metadata"] = _pick(
            draw,
            [{"name": s(["e1", "pöd"]), "namespace": s(["d"]), "creationTimestamp": t()}, None]
            + ([{"name": 1}] if odd else []),
        )
    ref = {"kind": s(["Pod", "Node"]), "namespace": s(["d"]), "name": s(_NAMES[:-1])}
    src = _pick(draw, [{"component": s(["kubelet", "default-scheduler"]), "host": s(["n1"])}, {}, None])
    opt = {
        "eventTime": t(),
        "series": _pick(draw, [{"count": _pick(draw, [4, 1.0, True, None, 2**62]), "lastObservedTime": t()}, None, {}]),
        "reason": s(["Scheduled", "Pulled"]),
        "type": s(["Normal", "Warning"]),
        "reportingInstance": s(["n1", "n2"]),
        "reportingComponent": s(["kubelet", "kube-controller-manager"]),
    }
    if new == "core":
        opt.update(
            involvedObject=ref,
            source=src,
            message=s(["ok", "ü"]),
            firstTimestamp=t(),
            lastTimestamp=t(),
            count=_pick(draw, [1, 7, None, 2.0, "2", 2**40, 2**63, -(2**63), 2**63 - 1]),  # int64's edges
        )
    else:
        opt.update(
            regarding=ref,
            deprecatedSource=src,
            note=s(["n"]),
            deprecatedFirstTimestamp=t(),
            deprecatedLastTimestamp=t(),
            deprecatedCount=_pick(draw, [2, None, True, 3.0, -(2**63) - 1]),
            involvedObject=_pick(draw, [None, ref]),
            message=s(["m"]),
        )
        if new == "reportingController-only":
            opt["reportingController"] = s(["kubelet", "default-scheduler"])
    for k, v in opt.items():
        if draw(st.integers(0, 4)):  # fields left out now and then: absent is not null for the new-API test
            o[k] = v
    return o


@st.composite
def _pod(draw):
    p = draw(_api_object().filter(lambda o: "spec" in o))
    p["kind"] = "Pod"
    if draw(st.booleans()):  # most dumps have lists here (what Arrow reads; a string makes it refuse the batch)
        for k in ("conditions", "containerStatuses"):
            if not isinstance(p["status"].get(k), list):
                p["status"][k] = []
    n = draw(st.integers(0, 6))  # pods with many containers
    if n > 3 and isinstance(p["status"].get("containerStatuses"), list):
        p["status"]["containerStatuses"] = [
            {"name": f"c{k}", "restartCount": k, "state": {"running": {"startedAt": f"2024-01-01T00:00:0{k}Z"}}}
            for k in range(n)
        ]
        p["status"]["containerStatuses"][0]["restartCount"] = _pick(draw, [0, 2.0, 2**40, -1, 1.5e300])
    return p


def _kinds_list(objs, shape):
    kind = objs[0]["kind"]
    if shape == "kubectl":
        return json.dumps({"apiVersion": "v1", "items": objs, "kind": "List", "metadata": {}}, indent=4)
    if shape == "api":  # the API's own list: items without kind
        items = [{k: v for k, v in o.items() if k != "kind"} for o in objs]
        return json.dumps({"kind": f"{kind}List", "apiVersion": "v1", "metadata": {}, "items": items})
    return "\n".join(json.dumps({"type": "MODIFIED", "object": o}) for o in objs + objs[:3])  # watch


def _three_paths(text):
    got = [_run_parse_opts(text, **kw) for kw in ({}, {"arrow": False}, {"columnar": False})]
    (fast, fctx), rest = got[0], got[1:]
    for slow, sctx in rest:
        assert fast.keys() == slow.keys()
        for t in fast:
            assert fast[t].schema == slow[t].schema
            for c in fast[t].column_names:
                assert fast[t].column(c).equals(slow[t].column(c)), (t, c, fast[t].column(c), slow[t].column(c))
        assert {k: (v.count, v.examples) for k, v in fctx.stats.items()} == {
            k: (v.count, v.examples) for k, v in sctx.stats.items()
        }
        assert (fctx.lines_read, fctx.record_lines, fctx.continuation_lines, fctx.errors, fctx.info) == (
            sctx.lines_read,
            sctx.record_lines,
            sctx.continuation_lines,
            sctx.errors,
            sctx.info,
        )
    return fast


def _run_parse_opts(text: str, **kw):
    got: dict[str, list] = {}
    ctx = Context(0, "objs.json", lambda t, d: got.setdefault(t, []).append(d))
    O.parse(io.BufferedReader(io.BytesIO(text.encode())), ctx, **kw)
    ctx.check_accounting()
    return {k: pa.concat_tables(v) for k, v in got.items()}, ctx


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(
    objs=st.one_of(st.lists(_event(), min_size=1, max_size=14), st.lists(_pod(), min_size=1, max_size=8)),
    shape=st.sampled_from(["kubectl", "api", "watch"]),
    cut=st.one_of(st.none(), st.none(), st.floats(0.3, 0.999)),
    own_uids=st.booleans(),
)
def test_arrow_path_gives_what_both_references_give(objs, shape, cut, own_uids):
    """Lists of events (core and events.k8s.io, series, null and absent fields, wrong types) and of pods (many
    containers), as kubectl lists, the API's lists without kind and watch streams, whole or cut: the default path
    (lists batched whole, events read by Arrow) equals the columnar path before it and the per-object reference."""
    if own_uids:  # every pod its own uid (a dump's usual case): rows can repeat only within a pod
        for k, o in enumerate(objs):
            if o["kind"] == "Pod":
                o["metadata"]["uid"] = f"uid-{k}"
    text = _kinds_list(objs, shape)
    if cut is not None:
        text = text[: max(1, int(len(text) * cut))]
    _three_paths(text + "\n")


def test_arrow_path_is_taken_and_refused_per_batch():
    """A clean batch of events goes through Arrow's conversion; one wrong type sends its batch to the
    comprehensions (the same rows): both counted on the sink."""
    ev = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": "e", "namespace": "d", "creationTimestamp": "2024-01-01T00:00:00Z"},
        "involvedObject": {"kind": "Pod", "namespace": "d", "name": "p"},
        "source": {"component": "kubelet", "host": "n1"},
        "lastTimestamp": "2024-01-01T00:00:01Z",
        "count": 2,
    }
    for odd, want in ((None, [1, 0]), (5, [0, 1])):
        e2 = dict(ev, reason=odd)
        ctx = Context(0, "e.json", lambda t, d: None)
        sink = O._ColSink(ctx, "json", arrow=True)
        assert sink.items([ev, e2], [3, 20], "List", "json") == 2
        sink.flush()
        assert sink.arrow_batches == want and sink.kinds == {"Event": 2} and sink.record_lines == {3, 20}
    text = json.dumps({"apiVersion": "v1", "kind": "List", "items": [ev, dict(ev, reason=5), dict(ev, count=1.0)]})
    tab = _three_paths(text)["events"]
    assert tab.column("clock").to_pylist() == ["node/n1"] * 3 and tab.column("count").to_pylist() == [2, 2, 1]


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(objs=st.lists(st.one_of(_pod(), _pod(), _api_object()), min_size=2, max_size=16), batch=st.integers(1, 5))
def test_arrow_path_drops_repeated_rows_across_batches(monkeypatch, objs, batch):
    """A watch stream in small batches: a pod seen again in a later batch (by uid, or namespace and name) adds only
    rows whose time changed, whether the earlier batch went through Arrow (its keys kept as columns, an anti-join),
    the comprehensions (a refused batch) or a node asked for the keys in between."""
    monkeypatch.setattr(O._ColSink, "BATCH", batch)
    evs = [{"type": "ADDED", "object": o} for o in objs] + [{"type": "MODIFIED", "object": o} for o in objs[::-1]]
    _three_paths("\n".join(json.dumps(e) for e in evs) + "\n")


# -- the list fast path: msgspec reads the list, its items found by their lengths ------------------------------


def _plain(v):
    """A decoded value with each :class:`objects._Num` as its text: comparable across decoders."""
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_plain(x) for x in v]
    return ("num", v.text) if isinstance(v, O._Num) else v


def _stdlib_items(text: str):
    """The stdlib's reading of a list (the path before msgspec): its value and its items' byte offsets."""
    p0 = len(text) - len(text.lstrip(" \t\n\r"))
    v, _end, ps = O._decode_object(text, p0, json.JSONDecoder(parse_float=O._Num))
    return _plain(v), len(text[:p0].encode()), [len(text[:p].encode()) for p in ps or []]


@st.composite
def _json_layout(draw, value, depth=0):
    """``value`` serialised as JSON with JSON's four whitespace characters drawn between its tokens."""
    ws = draw(st.sampled_from(["", " ", "\n", "\r\n", "\t", "\n        ", " \n\t "]))
    if isinstance(value, dict):
        parts = [
            f"{json.dumps(k)}{draw(st.sampled_from(['', ' ']))}:{ws}{draw(_json_layout(x, depth + 1))}"
            for k, x in value.items()
        ]
        return "{" + ws + ("," + ws).join(parts) + ws + "}"
    if isinstance(value, list):
        return "[" + ws + ("," + ws).join(draw(_json_layout(x, depth + 1)) for x in value) + ws + "]"
    return json.dumps(value, ensure_ascii=draw(st.booleans()))


_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),  # escapes, quotes, backslashes, non-ASCII, control characters
)
_tree = st.recursive(
    _leaf,
    lambda c: st.one_of(st.lists(c, max_size=4), st.dictionaries(st.text(max_size=6), c, max_size=4)),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None)
@given(
    data=st.data(),
    items=st.lists(_tree, max_size=6),
    meta=_tree,
    order=st.permutations(["apiVersion", "items", "kind", "metadata"]),
    lead=st.sampled_from(["", "\n", " \r\n\t"]),
)
def test_a_list_s_items_are_where_the_stdlib_finds_them(data, items, meta, order, lead):
    """Any layout of a list (whitespace between every token, keys in any order, items of any JSON type with
    escaped quotes and backslashes, non-ASCII text, numbers beyond int64 and with fractions, a metadata value
    that has its own ``items``): msgspec's reading gives the stdlib's value (numbers with a fraction or an
    exponent as :class:`_Num` on both) and finds every item at the stdlib's offset."""
    doc = {"apiVersion": "v1", "items": items, "kind": "List", "metadata": {"items": [meta], "x": meta}}
    text = lead + data.draw(_json_layout({k: doc[k] for k in order})) + data.draw(st.sampled_from(["", "\n", " \n"]))
    got = O._whole_list(text.encode())
    assert got is not None
    value, p0, ps = got
    assert (_plain(value), p0, ps) == _stdlib_items(text)


@pytest.mark.parametrize(
    "text",
    [
        '{"items": [1, NaN]}',  # json.loads reads NaN, Infinity; msgspec refuses them
        '{"items": [{"a": Infinity}]}',
        '{"items": ["\\ud800"]}',  # a lone surrogate
        '{"items": [1], "items": [2, 3]}',  # a key repeated: only its last value's bytes are known
        '{"items": [{"a": 1}],\n"items": [{"b": 2}]}',  # ... even when they have the first one's layout
        '{"kind": "List", "items": [], "kind": "PodList"}',
        '{"items": [1], "other": 2}',  # a key a kubectl list does not have
        '{"items": {"a": 1}}',  # not an array
        '{"items": [1]} {"items": [2]}',  # two documents
        '\ufeff{"items": [1]}',  # a byte-order mark
        '[{"kind": "Pod"}]',
        '{"items": [1, 2,]}',  # invalid
    ],
)
def test_what_msgspec_would_read_otherwise_takes_the_stdlib_s_path(text):
    """Documents the stdlib reads and msgspec does not, or reads as another value, or whose items the walk
    cannot place: not the fast path; the parse still gives what both references give."""
    assert O._whole_list(text.encode()) is None
    _three_paths(text + "\n")


def test_invalid_utf8_takes_the_stdlib_s_path():
    """Bytes that are not UTF-8 (the stdlib's path reads them as U+FFFD): not the fast path."""
    data = b'{"kind": "List", "items": [{"kind": "Event", "message": "\xff"}]}\n'
    assert O._whole_list(data) is None
    ctx = Context(0, "objs.json", lambda t, d: None)
    O.parse(io.BufferedReader(io.BytesIO(data)), ctx)
    ctx.check_accounting()
    assert ctx.lines_read == 1


def test_numbers_beyond_a_double_or_int64_are_read_alike():
    """``1e400`` and an integer beyond int64: the fast path keeps the first as its text and the second exact,
    as the stdlib's path does."""
    text = '{"kind": "List", "items": [1e400, -1e999, 123456789012345678901234567890, 0.5]}'
    value, _p0, _ps = O._whole_list(text.encode())
    assert _plain(value) == _stdlib_items(text)[0]
    assert _plain(value)["items"] == [
        ("num", "1e400"),
        ("num", "-1e999"),
        123456789012345678901234567890,
        ("num", "0.5"),
    ]


# -- a list of pods decoded into just the fields kubelog reads ---------------------------------------------------


def _pod_with_spec(k: int, kind=True):
    o = json.loads(json.dumps(POD))
    o["metadata"]["name"] = f"p-{k}"
    o["metadata"]["uid"] = f"uid-{k}"
    o.setdefault("spec", {})["containers"] = [{"name": "c", "image": "pause"}]
    o["metadata"]["labels"] = {"name": "density"}
    if not kind:
        o.pop("kind", None)
    return o


def test_a_list_of_pods_is_decoded_into_the_fields_kubelog_reads():
    """A kubectl list of pods and the API's PodList (items without kind): each item decoded into the fields the
    pods' rows read (its containers, labels and the rest skipped), with what both references give."""
    pods = [_pod_with_spec(k) for k in range(3)]
    text = json.dumps({"apiVersion": "v1", "items": pods, "kind": "List", "metadata": {}}, indent=4)
    items = O._whole_list(text.encode())[0]["items"]
    assert [set(it) for it in items] == [{"kind", "metadata", "spec", "status"}] * 3
    assert all("containers" not in it["spec"] and "labels" not in it["metadata"] for it in items)
    assert items[0]["metadata"]["name"] == "p-0" and items[0]["status"] == pods[0]["status"]
    _three_paths(text + "\n")
    api = json.dumps(
        {"kind": "PodList", "apiVersion": "v1", "metadata": {}, "items": [_pod_with_spec(k, False) for k in range(3)]}
    )
    items = O._whole_list(api.encode())[0]["items"]
    assert all("kind" not in it and "containers" not in it["spec"] for it in items)
    _three_paths(api + "\n")


@pytest.mark.parametrize(
    "second",
    [
        "no kind",  # in a List, an item without kind is a pod by its shape (spec.containers): decoded whole
        "kind null",
        "an event",
        "conditions not objects",  # msgspec refuses the pod's shape: decoded whole, the references decide
        "metadata a number",
    ],
)
def test_a_list_that_is_not_all_pods_as_kubelog_reads_them_is_decoded_whole(second):
    pods = [_pod_with_spec(0), _pod_with_spec(1)]
    o = pods[1]
    if second == "no kind":
        o.pop("kind")
    elif second == "kind null":
        o["kind"] = None
    elif second == "an event":
        pods[1] = {
            "kind": "Event",
            "metadata": {"name": "e", "namespace": "n"},
            "involvedObject": {"kind": "Pod", "name": "p-0"},
            "reason": "Started",
            "lastTimestamp": "2026-01-01T00:00:01Z",
        }
    elif second == "conditions not objects":
        o["status"]["conditions"] = [5, "x"]
    else:
        o["metadata"] = 7
    text = json.dumps({"apiVersion": "v1", "items": pods, "kind": "List", "metadata": {}}, indent=4)
    got = O._whole_list(text.encode())
    assert got is not None and got[0]["items"] == json.loads(text)["items"]
    rows = _three_paths(text + "\n")
    if second == "no kind":
        assert set(rows["pod_transitions"].column("pod").to_pylist()) == {"p-0", "p-1"}
