"""kubelet / scheduler / controller-manager records → pod_transitions, events, node_transitions (§7)."""

import json
from pathlib import Path

import pandas as pd
import pytest

from kubelog.formats import podrecords as P

# Real lines from public issues and logs (kubelet pod_startup_latency_tracker.go, scheduler binds of
# three eras), one file per kind under tests/examples/.
EXAMPLES = Path(__file__).resolve().parent / "examples"
BLOCKS = {"### 7.1 ": "kubelet_pod_startup.log", "### 7.2 ": "scheduler_binds.log"}


def accounting_ok(e):
    return e["lines_read"] == e["record_lines"] + e["continuation_lines"] + sum(e["counted"].values())


def _spec_block(heading):
    return (EXAMPLES / BLOCKS[heading]).read_text().splitlines()


def _ingest(ingest_to, tmp_path, lines, name, **kw):
    p = tmp_path / name
    p.write_text("\n".join(lines) + "\n")
    return ingest_to(p, **kw)


def test_observed_pod_startup_examples(ingest_to, tmp_path):
    lines = _spec_block("### 7.1 ")
    assert len(lines) == 3
    run = _ingest(ingest_to, tmp_path, lines[1:2], "kubelet-node1.log")
    e = run.inputs[0]
    assert accounting_ok(e) and e["rows"]["messages"] == 1
    p = run.table("pod_transitions").set_index("milestone")
    assert set(p.index) == {
        "created",
        "pull_started",
        "pull_finished",
        "running_observed",
        "watch_observed",
        "startup_logged",
    }
    assert (p.pod == "resource-consume-6f5d8d9765-wpkvz").all() and (p.namespace == "default").all()
    assert p.loc["created", "ts"] == pd.Timestamp("2025-03-03 14:04:49", tz="UTC")  # +0800 CST
    assert p.loc["created", "clock"] == "apiserver" and p.loc["created", "resolution_s"] == 1.0
    assert p.loc["watch_observed", "ts"] == pd.Timestamp("2025-03-03 14:05:07.349908634", tz="UTC")
    assert p.loc["watch_observed", "clock"] == "node/node1" and p.loc["watch_observed", "resolution_s"] == 1e-9
    d = json.loads(p.loc["created", "detail"])
    assert d["podStartSLOduration"] == "0.915956292" and d["podStartE2EDuration"] == "18.349908634s"
    # E2E = watchObservedRunningTime - creation
    e2e = (p.loc["watch_observed", "ts"] - p.loc["created", "ts"]).total_seconds()
    assert e2e == pytest.approx(18.349908634)


def test_observed_pod_startup_syslog_and_zero_pull(ingest_to, tmp_path):
    lines = _spec_block("### 7.1 ")
    run = _ingest(ingest_to, tmp_path, [lines[0]], "kubelet.log")
    p = run.table("pod_transitions")
    assert set(p.clock[p.milestone != "created"]) == {"node/aks-userpool0-20459031-vmss000001"}
    run = _ingest(ingest_to, tmp_path, [lines[2]], "kubelet2.log")
    p = run.table("pod_transitions")
    # 1.26 key pod.CreationTimestamp; lastFinishedPulling is Go's zero time → no row
    assert "pull_finished" not in set(p.milestone) and "created" in set(p.milestone)
    assert p[p.milestone == "created"].ts.iloc[0] == pd.Timestamp("2022-12-30 15:32:56", tz="UTC")
    assert (p.pod == "metadata-proxy-v0.1-d59wc").all()


def test_scheduler_bind_examples(ingest_to, tmp_path):
    lines = _spec_block("### 7.2 ")
    run = _ingest(ingest_to, tmp_path, lines, "kube-scheduler.log", year=2023)
    e = run.inputs[0]
    assert e["clock"] == "apiserver" and accounting_ok(e)
    p = run.table("pod_transitions").sort_values("line_no")
    assert p.milestone.tolist() == ["bound"] * 3
    assert p.pod.tolist() == ["density-latency-pod-2346-2sr5h", "tasdemo", "coredns-6456b64994-l6mdc"]
    assert p.node.tolist() == [
        "gce-scale-cluster-minion-group-3-b2pj",
        "node7.ocp4rony.dfw.ocp.run",
        "e2e-a6cf091dfb-bf35d-minion-group-1-75b5",
    ]
    assert p.namespace.tolist() == ["density-30-47-346", "default", "kube-system"]
    assert set(p.origin) == {"scheduler"}


def test_bound_text_variants():
    o = P._Out()
    for msg in [
        'pod ns/a is bound successfully on node "n1", 3 nodes evaluated, 1 nodes were found feasible.',
        'pod ns/b is bound successfully on node "n2", 3 nodes evaluated, 1 nodes were found feasible. Bound node resource: "Capacity: CPU<4>|Pods<110>.',
    ]:
        P._one(o, msg, None, 0, 0, "apiserver", 1, "kube-scheduler")
    assert o.pod["node"] == ["n1", "n2"] and o.pod["pod"] == ["a", "b"]


def test_kubelet_real_logs(real_logs, ingest_to):
    run = ingest_to(real_logs / "rancher_rke_kubelet.log")
    e = run.inputs[0]
    assert accounting_ok(e) and e["rows"]["messages"] == 1640
    p = run.table("pod_transitions")
    assert p.milestone.value_counts().to_dict() == {
        "pleg_container_died": 38,
        "pleg_container_started": 37,
        "kubelet_add": 13,
    }
    assert run.table("node_transitions").node.tolist() == ["acthlkubed25"]
    run = ingest_to(real_logs / "openshift4.8_kubelet_journal_masters_aws_mustgather.log")
    p = run.table("pod_transitions")
    assert int((p.milestone == "pleg_container_started").sum()) == 649
    assert set(p.clock) == {"node/ip-10-0-195-177", "node/ip-10-0-189-142", "node/ip-10-0-187-218"}
    n = run.table("node_transitions")
    assert sorted(n.node) == [
        "ip-10-0-187-218.ec2.internal",
        "ip-10-0-189-142.ec2.internal",
        "ip-10-0-195-177.ec2.internal",
    ]


def test_event_records(real_logs, ingest_to):
    run = ingest_to(real_logs / "kubelet_v1.19.4_arm64_skykying.log")
    ev = run.table("events")
    assert len(ev) == 322 and set(ev.origin) == {"klog"} and set(ev.object_kind) == {"Node"}
    assert ev.iloc[0].reason == "Starting" and ev.iloc[0].message == "Starting kubelet."
    run = ingest_to(real_logs / "kubelet_windows_e2e_node_2019_pjh.log")
    ev = run.table("events")
    assert len(ev) == 24 and set(ev.object_kind) == {"Node", "Pod"}
    n = run.table("node_transitions")
    assert "registered" in set(n.milestone) and "ready" in set(n.milestone)


def test_event_old_and_scheduled():
    o = P._Out()

    class R:  # minimal Records stand-in
        class _A:
            def __init__(self, v):
                self.v = v

            def __getitem__(self, i):
                return type("S", (), {"as_py": lambda s: self.v})()

        cont = _A(None)
        file = _A("event.go")

    P._one(
        o,
        'Event(v1.ObjectReference{Kind:"Pod", Namespace:"default", Name:"x", UID:"u", APIVersion:"v1", '
        "ResourceVersion:\"1\", FieldPath:\"\"}): type: 'Normal' reason: 'Scheduled' Successfully assigned default/x to node1",
        R,
        0,
        5,
        "apiserver",
        7,
        "kube-scheduler",
    )
    assert o.ev["reason"] == ["Scheduled"] and o.ev["object_name"] == ["x"]
    assert o.pod["milestone"] == ["bound"] and o.pod["node"] == ["node1"] and o.pod["origin"] == ["scheduler-event"]


def test_kv_and_pods_list():
    assert P._pods_list("[ns/a ns/b]") == ["ns/a", "ns/b"]
    assert P._pods_list('"[ns/a ns/b]"') == ["ns/a", "ns/b"]
    assert P._pods_list('["ns/a","ns/b"]') == ["ns/a", "ns/b"]
    kv = P.parse_kv('pod="a/b" x=1 event={"ID":"u","Type":"ContainerStarted"}')
    assert kv["pod"] == "a/b" and kv["x"] == "1" and "ContainerStarted" in kv["event"]


def test_kill_records_with_and_without_a_grace_period_override(ingest_to, tmp_path):
    """kuberuntime_container.go killContainer logs "Killing container with a grace period" or, when the
    grace period is overridden (a force delete, an eviction), "… with a grace period override": both are
    the pod's kill.  The pre-1.21 form names only the container and stays a message."""
    lines = [
        'I0803 09:20:42.356573    1354 kuberuntime_container.go:720] "Killing container with a grace period '
        'override" pod="ns1/web-1" podUID=370aaf3e-2b35-452e-90e9-adc15c96efa1 containerName="web" '
        'containerID="cri-o://6f79c731" gracePeriod=30',
        'I0803 09:20:43.000001    1354 kuberuntime_container.go:709] "Killing container with a grace period" '
        'pod="ns1/web-2" podUID=470aaf3e-2b35-452e-90e9-adc15c96efa1 containerName="web" '
        'containerID="cri-o://7f79c731" gracePeriod=30',
        'I0820 21:10:40.020260    3312 kuberuntime_container.go:581] Killing container "docker://391717fba2ee" '
        "with 30 second grace period",
    ]
    run = _ingest(ingest_to, tmp_path, lines, "kubelet-node1.log")
    assert accounting_ok(run.inputs[0]) and run.inputs[0]["rows"]["messages"] == 3
    p = run.table("pod_transitions")
    assert p["milestone"].tolist() == ["kubelet_kill", "kubelet_kill"]
    assert p["pod"].tolist() == ["web-1", "web-2"] and (p["namespace"] == "ns1").all()
    assert p["uid"].tolist()[0] == "370aaf3e-2b35-452e-90e9-adc15c96efa1"
