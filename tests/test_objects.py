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
    assert (top["ConfigMapCreated"], top["OperatorStatusChanged"], top["SecretCreated"],
            top["FastControllerResync"]) == (110, 59, 58, 27)
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


POD = {"apiVersion": "v1", "kind": "Pod",
       "metadata": {"name": "p1", "namespace": "ns", "uid": "u1", "creationTimestamp": "2024-01-01T00:00:00Z"},
       "spec": {"nodeName": "hollow-node-1", "containers": [{"name": "c"}]},
       "status": {"phase": "Pending", "conditions": [
           {"type": "PodScheduled", "status": "True", "lastTransitionTime": "2024-01-01T00:00:01Z"}]}}


def _running(p):
    p = json.loads(json.dumps(p))
    p["status"]["phase"] = "Running"
    p["status"]["conditions"].append({"type": "Ready", "status": "True", "lastTransitionTime": "2024-01-01T00:00:05Z"})
    p["status"]["containerStatuses"] = [{"name": "c", "restartCount": 0,
                                         "state": {"running": {"startedAt": "2024-01-01T00:00:04Z"}}}]
    return p


def _write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_pods_watch_stream_and_w_json(ingest_to, tmp_path):
    lines = [json.dumps({"type": "ADDED", "object": POD}), json.dumps({"type": "MODIFIED", "object": _running(POD)}),
             json.dumps({"type": "BOOKMARK", "object": {"kind": "Pod", "metadata": {"resourceVersion": "9"}}})]
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
    new = {"apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": {"name": "e1", "namespace": "d",
           "creationTimestamp": "2024-01-01T00:00:02Z"}, "eventTime": "2024-01-01T00:00:01.123456Z",
           "reportingController": "default-scheduler", "reportingInstance": "default-scheduler-m1", "action": "Binding",
           "reason": "Scheduled", "regarding": {"kind": "Pod", "namespace": "d", "name": "p"},
           "note": "Successfully assigned d/p to n1", "type": "Normal", "series": {"count": 3,
           "lastObservedTime": "2024-01-01T00:00:09.000001Z"}}
    old = {"apiVersion": "v1", "kind": "Event", "metadata": {"name": "e2", "namespace": "d",
           "creationTimestamp": "2024-01-01T00:00:03Z"}, "involvedObject": {"kind": "Pod", "namespace": "d", "name": "p"},
           "reason": "Pulled", "message": "ok", "source": {"component": "kubelet", "host": "n1"},
           "firstTimestamp": "2024-01-01T00:00:03Z", "lastTimestamp": "2024-01-01T00:00:07Z", "count": 2,
           "eventTime": None, "type": "Normal", "reportingComponent": "", "reportingInstance": ""}
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
    text = json.dumps({"type": "ADDED", "object": p}) + "\n" + "[" * 100000 + "]" * 100000 + "\n" + \
        json.dumps({"type": "ADDED", "object": POD}) + "\n"
    run = ingest_to(_write(tmp_path, "watch2.json", text))
    e = run.inputs[0]
    assert e["format"] == "objects" and accounting_ok(e)
    assert e["record_lines"] == 2 and e["counted"].get("malformed JSON") == 1
    assert any("nesting too deep" in x for x in e["errors"])
    # YAML that breaks in the middle
    run = ingest_to(_write(tmp_path, "ev.yaml", "apiVersion: v1\nkind: EventList\nitems:\n- kind: Event\n  reason: [a\n"))
    e = run.inputs[0]
    assert accounting_ok(e) and e["counted"].get("malformed YAML") and any("invalid YAML" in x for x in e["errors"])


@pytest.mark.parametrize("name", ["audit2rbac_demo_audit.log", "falco_k8s_audit_trace_files.jsonl",
                                  "apiserver_v1.19.4_arm64_skykying.log", "kubeburner_node-density_jobSummary_ocp4.17.json",
                                  "kubeburner_node-density_podLatencyMeasurement_ocp4.17.json",
                                  "cl2_cern_density_2022-06-08_SystemPodMetrics.json",
                                  "cl2_cern_density_2022-06-08_ResourceUsageSummary.json",
                                  "conformance_junit_provedge_2021.xml", "conformance_e2e_provedge_2021.log"])
def test_sniffer_negative(real_logs, name):
    with open(real_logs / name, "rb") as f:
        assert not O.sniff(Head(name, f.read(64 * 1024)))
