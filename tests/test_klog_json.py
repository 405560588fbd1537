"""--logging-format=json logs (docs/formats/klog-json.md)."""

import json

import pandas as pd

from kubelog.formats import klog_json as KJ
from kubelog.formats.base import Head

SPEC_LINES = [
    '{"ts":1616398324656.7524,"msg":"FLAG: --eviction-soft=\\"\\"\\n","v":1}',
    '{"ts":1616398324656.7559,"msg":"FLAG: --eviction-soft-grace-period=\\"\\"\\n","v":1}',
    '{"ts":1616398324656.7595,"msg":"FLAG: --exit-on-lock-contention=\\"false\\"\\n","v":1}',
    '{"ts":1678881013546.5588,"caller":"json/klog_test.go:123","msg":"some","v":0,"pod":{"name":"pod-1","namespace":"kube-system"}}',
]


def accounting_ok(e):
    return e["lines_read"] == e["record_lines"] + e["continuation_lines"] + sum(e["counted"].values())


def test_spec_lines(ingest_to, tmp_path):
    p = tmp_path / "kubelet.log"
    http = {
        "ts": 1678881013600.0,
        "caller": "httplog/httplog.go:129",
        "msg": "HTTP",
        "v": 3,
        "verb": "LIST",
        "URI": "/api/v1/pods?limit=500",
        "latency": "12.5ms",
        "userAgent": "kubectl/v1.26",
        "audit-ID": "a1",
        "srcIP": "10.0.0.1:5",
        "resp": 200,
    }
    err = {"ts": 1678881013700.0, "caller": "x/y.go:7", "msg": "failed", "err": "boom"}
    p.write_text(
        "I0101 00:00:00.000000 1 flags.go:1] plain text first\n"
        + "\n".join(SPEC_LINES)
        + "\n"
        + json.dumps(http)
        + "\n"
        + json.dumps(err)
        + "\n"
    )
    run = ingest_to(p)
    e = run.inputs[0]
    assert e["format"] == "klog-json" and accounting_ok(e) and e["record_lines"] == 6
    m = run.table("messages")
    assert m.msg.iloc[0] == 'FLAG: --eviction-soft=""'
    assert m.ts.iloc[0] == pd.Timestamp("2021-03-22 07:32:04.656752400", tz="UTC")
    assert m.file.iloc[3] == "klog_test.go" and m.line.iloc[3] == 123
    assert json.loads(m.kv.iloc[3]) == {"pod": {"name": "pod-1", "namespace": "kube-system"}}
    assert m.level.tolist() == ["I"] * 5 + ["E"]
    r = run.table("requests").iloc[0]
    assert (r.verb, r.method, r.code, r.audit_id, r.origin) == ("list", "GET", 200, "a1", "jsonlog")
    assert r.latency_s == 0.0125


def test_sniff_negative(real_logs):
    for name in (
        "apiserver_v1.26.2_kubeadm_quangdaicaa.log",
        "falco_k8s_audit_trace_files.jsonl",
        "kubeburner_node-density_jobSummary_ocp4.17.json",
        "pods_dump_kubectl_get_pods_A_json_atshaman.json",
    ):
        with open(real_logs / name, "rb") as f:
            assert not KJ.sniff(Head(name, f.read(64 * 1024)))
