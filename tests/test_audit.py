"""Audit logs (docs/formats/audit-json.md, audit-legacy.md) → requests; golden facts from MANIFEST.md."""

import json
import threading
from pathlib import Path

import pandas as pd
import pytest

from kubelog.engine import readahead
from kubelog.formats import audit as A
from kubelog.formats.base import Head

SAMPLES = Path(__file__).resolve().parent / "samples"  # docs/formats/audit-json.md, audit-legacy.md


def accounting_ok(e):
    return e["lines_read"] == e["record_lines"] + e["continuation_lines"] + sum(e["counted"].values())


def _spec_lines():
    """Three real v1 JSON events (2019-2023) and a 1.7 basic-audit pair, as in the samples."""
    return (SAMPLES / "audit-json" / "real_lines_2019-2023.jsonl").read_text().splitlines() + (
        SAMPLES / "audit-legacy" / "basic_audit_1.7.log"
    ).read_text().splitlines()


def test_audit2rbac_golden(real_logs, ingest_to):
    run = ingest_to(real_logs / "audit2rbac_demo_audit.log")
    e = run.inputs[0]
    assert e["format"] == "audit-json" and accounting_ok(e) and e["record_lines"] == 37
    r = run.table("requests")
    assert len(r) == 37
    assert r.verb.value_counts().to_dict() == {"get": 23, "list": 14}
    assert r.code.value_counts().to_dict() == {200: 26, 403: 11}
    assert r.user.value_counts().to_dict() == {"bob": 29, "system:serviceaccount:ns1:sa1": 5, "alice": 3}
    assert set(r.clock) == {"apiserver"} and set(r.origin) == {"audit"}
    assert r.ts.notna().all()  # 1.8-era events: `timestamp` (no stageTimestamp)
    assert (r.auth_user[r.user == "bob"] == "system:admin").all()


def test_falco_golden(real_logs, ingest_to):
    run = ingest_to(real_logs / "falco_k8s_audit_trace_files.jsonl")
    e = run.inputs[0]
    assert e["format"] == "audit-json" and accounting_ok(e) and e["lines_read"] == 52
    r = run.table("requests")
    assert len(r) == 52
    assert r.verb.value_counts(dropna=False).to_dict() == {
        "create": 40,
        "delete": 9,
        "get": 1,
        "patch": 1,
        None: 1,
    } or (
        r.verb.value_counts().to_dict() == {"create": 40, "delete": 9, "get": 1, "patch": 1}
        and r.verb.isna().sum() == 1
    )
    assert r.stage.value_counts().to_dict() == {"ResponseComplete": 49, "ResponseStarted": 2}
    assert r.stage.isna().sum() == 1
    st = r[r.stage == "ResponseStarted"]
    assert set(st.subresource) == {"attach", "exec"} and st.long_running.all()
    assert any("wrong field types" in x for x in e["errors"])
    assert e["info"]["audit_api_versions"] == {"audit.k8s.io/v1beta1": 9, "(none)": 39, "audit.k8s.io/v1": 4}


def test_spec_json_lines(ingest_to, tmp_path):
    lines = _spec_lines()
    p = tmp_path / "audit.log"
    p.write_text("\n".join(lines[:3]) + "\n")
    run = ingest_to(p)
    r = run.table("requests").sort_values("line_no")
    a, b, c = (r.iloc[k] for k in range(3))
    assert (a.verb, a.method, a.resource, a.namespace, a["name"], a.scope, a.code) == (
        "create",
        "POST",
        "pods",
        "default",
        "nginx",
        "resource",
        201,
    )
    assert a.latency_s == pytest.approx(0.007367) and a.client == "kubectl" and a.user == "minikube-user"
    assert a.start_ts == pd.Timestamp("2022-05-18T15:48:37.388237Z")
    assert (b.verb, b.resource, b.subresource, b["name"], b.scope, b.method) == (
        "patch",
        "nodes",
        "status",
        "minikube",
        "resource",
        "PATCH",
    )
    assert b.client == "kubelet" and b.src_ip == "127.0.0.1"
    assert (c.verb, c.scope, c.uri, c.resource) == ("get", "nonresource", "/readyz", "")
    pt = run.table("pod_transitions")
    assert pt.milestone.tolist() == ["created"] and pt.pod.tolist() == ["nginx"]


def test_spec_legacy(ingest_to, tmp_path):
    lines = _spec_lines()
    p = tmp_path / "audit-legacy.log"
    p.write_text("\n".join(lines[3:]) + "\n")
    run = ingest_to(p)
    e = run.inputs[0]
    assert e["format"] == "audit-legacy" and accounting_ok(e) and e["record_lines"] == 1
    r = run.table("requests").iloc[0]
    assert r.code == 404 and r.uri == "/api" and r.audit_id == "916866c5-0ab9-48cf-9b77-84c9d0dc43df"
    assert r.latency_s == pytest.approx(0.000145715) and r.src_ip == "172.17.0.6"


def test_stages_host_prefix_bad_lines_annotations(ingest_to, tmp_path):
    base = {
        "kind": "Event",
        "apiVersion": "audit.k8s.io/v1",
        "level": "Metadata",
        "requestURI": "/api/v1/namespaces/a/pods?watch=true",
        "verb": "watch",
        "user": {"username": "u"},
        "sourceIPs": ["10.0.0.1", "10.0.0.2"],
        "objectRef": {"resource": "pods", "namespace": "a"},
        "requestReceivedTimestamp": "2024-01-01T00:00:00.000000Z",
    }
    ev = []
    for aid, stage, t in (
        ("w1", "RequestReceived", "00.000001"),
        ("w1", "ResponseStarted", "00.100000"),
        ("w2", "ResponseStarted", "00.200000"),
        ("w1", "ResponseComplete", "30.000000"),
    ):
        d = dict(base, auditID=aid, stage=stage, stageTimestamp=f"2024-01-01T00:00:{t}Z")
        if stage == "ResponseComplete":
            d["responseStatus"] = {"code": 200}
            d["annotations"] = {"apiserver.latency.k8s.io/etcd": "1.5ms", "authorization.k8s.io/decision": "allow"}
        ev.append("master-1 " + json.dumps(d))
    lines = ev[:2] + ['{"kind":"Event","auditID":"x", "stage": "Resp', "", "not json at all", "[1,2]"] + ev[2:]
    p = tmp_path / "audit.log"
    p.write_text("\n".join(lines) + "\n")
    run = ingest_to(p)
    e = run.inputs[0]
    assert e["format"] == "audit-json" and accounting_ok(e)
    assert e["counted"]["not JSON (audit line)"] == 2 and e["record_lines"] == 2
    assert any(":3: not a JSON audit event" in x for x in e["errors"])
    r = run.table("requests").set_index("audit_id")
    assert r.loc["w1", "stage"] == "ResponseComplete" and r.loc["w1", "latency_s"] == pytest.approx(30.0)
    assert r.loc["w2", "stage"] == "ResponseStarted" and r.loc["w1", "long_running"]
    assert json.loads(r.loc["w1", "latency_annotations"]) == {"apiserver.latency.k8s.io/etcd": "1.5ms"}
    assert r.loc["w1", "src_ip"] == "10.0.0.1"


def test_dedup_rule():
    """The access-log row of a request wins; its audit twin is dropped and counted; audit rows
    without a twin stay; ResponseComplete supersedes ResponseStarted of the same audit ID."""
    df = pd.DataFrame(
        {
            "origin": ["audit", "audit", "httplog", "httplog", "httplog"],
            "audit_id": ["a", "b", "a", None, "c"],
            "stage": ["ResponseComplete", "ResponseStarted", None, None, None],
            "user": ["bob", "alice", None, None, None],
            "apf_pl": [None, None, "workload-low", None, None],
            "apf_fs": [None] * 5,
            "hijacked": [None] * 5,
        }
    )
    out, dropped, note = A.dedup_requests(df)
    assert dropped == 1 and "same audit ID" in note and len(out) == 4 and (out.origin == "audit").sum() == 1
    a = out[out.audit_id == "a"]
    assert a.origin.tolist() == ["httplog"] and a.apf_pl.tolist() == ["workload-low"] and a.user.tolist() == ["bob"]
    df2 = pd.concat(
        [df, pd.DataFrame({"origin": ["audit"], "audit_id": ["b"], "stage": ["ResponseComplete"]})], ignore_index=True
    )
    out2, _, _ = A.dedup_requests(df2)
    assert out2[out2.audit_id == "b"].stage.tolist() == ["ResponseComplete"]
    # before 1.22 the access log has no audit IDs: audit rows are not used at all
    df3 = df.assign(audit_id=["a", "b", None, None, None])
    out3, dropped3, note3 = A.dedup_requests(df3)
    assert (out3.origin == "audit").sum() == 0 and dropped3 == 2 and "before 1.22" in note3


@pytest.mark.parametrize(
    "name",
    [
        "apiserver_v1.19.4_arm64_skykying.log",
        "kubelet_v1.19.4_arm64_skykying.log",
        "pods_dump_kubectl_get_pods_A_json_atshaman.json",
        "openshift4.8_events_kube-apiserver-operator_aws_mustgather.yaml",
        "kubeburner_node-density_jobSummary_ocp4.17.json",
        "cl2_cern_density_2022-06-08_SystemPodMetrics.json",
    ],
)
def test_sniffers_negative(real_logs, name):
    with open(real_logs / name, "rb") as f:
        h = Head(name, f.read(64 * 1024))
    assert not A.sniff_json(h) and not A.sniff_legacy(h)


def test_long_line_is_skipped(tmp_path):
    import io

    data = b'{"a":1}\n' + b"x" * 300 + b"\n" + b'{"b":2}'
    out = list(A.iter_lines(io.BytesIO(data), max_line=100))
    assert [o[0] for o in out] == [1, 2, 3] and out[1][1] is None and out[2][1] == b'{"b":2}'


# -- the columnar path (pyarrow.json + classification on columns) against the line-by-line reference --------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import pyarrow as pa  # noqa: E402

from kubelog.formats.base import Context  # noqa: E402

_URIS = [
    "/api/v1/namespaces/ns1/pods/p1",
    "/api/v1/namespaces/ns1/pods",
    "/api/v1/pods?watch=true&fieldSelector=x",
    "/api/v1/namespaces/ns1/pods?fieldSelector=metadata.name%3Dp2",
    "/api/v1/namespaces/ns1/pods/p1/log?follow=true",
    "/api/v1/namespaces/ns1/pods/p1/exec?command=ls",
    "/apis/apps/v1/namespaces/ns1/deployments/d1/status",
    "/api/v1/nodes/n1/status",
    "/healthz",
    "/version",
    "/api/v1/namespaces/ns1/pods/p1/binding",
    "/api/v1/watch/namespaces/ns1/pods",
    "/api/v1/proxy/nodes/n1/metrics",
    "/api/v1/namespaces/ns1",
]


@st.composite
def _event(draw, i):
    uri = draw(st.sampled_from(_URIS))
    verb = draw(
        st.sampled_from(
            [
                "get",
                "list",
                "watch",
                "create",
                "update",
                "patch",
                "delete",
                "deletecollection",
                "proxy",
                "connect",
                "GET",
                "",
                None,
            ]
        )
    )
    ev = {
        "kind": "Event",
        "apiVersion": draw(st.sampled_from(["audit.k8s.io/v1", "audit.k8s.io/v1beta1", None])),
        "auditID": draw(st.sampled_from([f"id{i}", f"id{i % 3}", None])),
        "stage": draw(st.sampled_from(["ResponseComplete", "ResponseStarted", "RequestReceived", "Panic", None])),
        "requestURI": uri,
        "verb": verb,
        "user": draw(st.sampled_from([{"username": "alice", "groups": ["g"]}, {}, None])),
        "sourceIPs": draw(st.sampled_from([["10.0.0.1", "::1"], [], None])),
        "userAgent": draw(st.sampled_from(["kubelet/v1.28.0 (linux/amd64) kubernetes/855e7c4", "e2e.test/v1.5", None])),
        "requestReceivedTimestamp": "2023-08-23T08:38:21.196808Z",
        "stageTimestamp": draw(
            st.sampled_from(["2023-08-23T08:38:22.5Z", "2023-08-23T10:38:22.123456789+02:00", "", None])
        ),
        "responseStatus": draw(
            st.sampled_from([{"code": 200, "metadata": {}}, {"code": 201}, {"code": 409}, {"code": 2**40}, {}, None])
        ),
    }
    if draw(st.booleans()):
        ev["impersonatedUser"] = draw(st.sampled_from([{"username": "bob"}, {"username": ""}]))
    if draw(st.booleans()):
        ev["objectRef"] = draw(
            st.sampled_from(
                [
                    {"resource": "pods", "namespace": "ns1", "name": "p1", "apiVersion": "v1"},
                    {"resource": "pods", "namespace": "ns1", "apiVersion": "v1"},
                    {"resource": "pods", "namespace": "ns1", "name": "p1", "subresource": "binding"},
                    {"resource": "nodes", "name": "n1", "apiVersion": "v1"},
                    {
                        "resource": "deployments",
                        "apiGroup": "apps",
                        "namespace": "ns1",
                        "name": "d1",
                        "subresource": "status",
                    },
                ]
            )
        )
    if draw(st.booleans()):
        ev["annotations"] = draw(
            st.sampled_from(
                [
                    {"authorization.k8s.io/decision": "allow"},
                    {"apiserver.latency.k8s.io/etcd": "1.2s", "apiserver.latency.k8s.io/total": "2s"},
                ]
            )
        )
    if draw(st.booleans()):
        ev["timestamp"] = "2023-08-23T08:38:23Z"
        ev["metadata"] = {"creationTimestamp": "2023-08-23T08:38:24Z"}
    if draw(st.booleans()):
        ev["requestObject"] = {"spec": {"containers": [{"name": "c", "ports": [1, 2]}]}, "weird": [1, "x", None]}
    if draw(st.booleans()):  # RequestResponse level: the created object's name, or junk
        ev["responseObject"] = draw(
            st.sampled_from(
                [
                    {"kind": "Pod", "metadata": {"name": "rc-x1y2z", "generateName": "rc-", "uid": "u"}},
                    {"kind": "Pod", "metadata": {}},
                    {"kind": "Status", "metadata": "x"},
                    {"metadata": {"name": 5}},
                    "text",
                    [1],
                ]
            )
        )
    return {k: v for k, v in ev.items() if v is not None or draw(st.booleans())}


def _parse(data: bytes, columnar: bool, monkeypatch, read=1 << 10, keep=True):
    import io

    monkeypatch.setattr(A, "READ", read)  # small blocks: several per input, so one bad line spoils only its own
    got: dict[str, list] = {}
    # keep=False: the rows are counted (ctx.rows) and dropped, as a writer drops them once written
    ctx = Context(0, "audit.log", (lambda t, d: got.setdefault(t, []).append(d)) if keep else None)
    A.parse_json(io.BytesIO(data), ctx, columnar=columnar)
    ctx.check_accounting()
    tabs = {k: pa.concat_tables(v) for k, v in got.items()}
    return tabs, ctx


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    events=st.lists(st.integers(0, 10**6).flatmap(lambda i: _event(i)), min_size=1, max_size=40),
    bad=st.lists(
        st.sampled_from(
            [
                b"",
                b"   ",
                b"not json",
                b'host-1 {"kind":"Event","stage":"ResponseComplete"}',
                b"[1,2]",
                b'{"verb": 7, "auditID": "x"}',
                b'{"responseStatus": {"code": "200"}}',
                b'{"objectRef": {"name": 5}}',
                b'{"sourceIPs": [1]}',
            ]
        ),
        max_size=3,
    ),
    where=st.integers(0, 39),
)
def test_columnar_path_gives_what_the_line_by_line_path_gives(events, bad, where, monkeypatch):
    monkeypatch.setattr(A, "_SEEN_RARE", frozenset())  # each example from the lean read (audit._fast)
    lines = [json.dumps(e).encode() for e in events]
    for b in bad:
        lines.insert(min(where, len(lines)), b)
    data = b"\n".join(lines) + b"\n"
    fast, fctx = _parse(data, True, monkeypatch)
    slow, sctx = _parse(data, False, monkeypatch)
    assert fast.keys() == slow.keys()
    for t in fast:
        assert fast[t].equals(slow[t]), (t, fast[t].to_pylist()[:3], slow[t].to_pylist()[:3])
    assert {k: v.count for k, v in fctx.stats.items()} == {k: v.count for k, v in sctx.stats.items()}
    assert (
        (fctx.lines_read, fctx.record_lines)
        == (sctx.lines_read, sctx.record_lines)
        == (fctx.lines_read, fctx.record_lines)
    )
    assert "unaccounted (parser bug)" not in fctx.stats
    assert fctx.info["audit_api_versions"] == sctx.info["audit_api_versions"]
    assert fctx.errors == sctx.errors


def test_a_bad_line_sends_only_its_own_block_line_by_line(monkeypatch):
    ev = {
        "kind": "Event",
        "apiVersion": "audit.k8s.io/v1",
        "stage": "ResponseComplete",
        "verb": "get",
        "requestURI": "/api/v1/namespaces/a/pods/b",
        "requestReceivedTimestamp": "2023-08-23T08:38:21Z",
        "stageTimestamp": "2023-08-23T08:38:21.5Z",
        "responseStatus": {"code": 200},
    }
    lines = [json.dumps({**ev, "auditID": f"id{i}"}).encode() for i in range(60)]
    lines[30] = b"{broken"
    fast, ctx = _parse(b"\n".join(lines) + b"\n", True, monkeypatch, read=2048)
    blocks = ctx.info["audit_blocks"]
    assert blocks["line by line"] == 1 and blocks["columnar"] >= 3
    assert fast["requests"].num_rows == 59 and ctx.stats["not JSON (audit line)"].count == 1
    assert ctx.stats["not JSON (audit line)"].examples[0]["line_no"] == 31
    assert fast["requests"].column("line_no").to_pylist() == [i + 1 for i in range(60) if i != 30]


def test_generate_name_create_named_by_the_response_object(monkeypatch):
    """The RC manager creates pods with generateName: the URI and (at Metadata level) objectRef name no
    pod — the apiserver's LogRequestObject fills objectRef.name from the request object, which has none
    (staging/src/k8s.io/apiserver/pkg/audit/request.go).  At RequestResponse level (the GCE policy's
    default for core resources) the responseObject carries the name: the pod's µs ``created`` milestone."""
    base = {
        "kind": "Event",
        "apiVersion": "audit.k8s.io/v1",
        "stage": "ResponseComplete",
        "verb": "create",
        "requestURI": "/api/v1/namespaces/ns1/pods",
        "objectRef": {"resource": "pods", "namespace": "ns1", "apiVersion": "v1"},
        "requestReceivedTimestamp": "2023-08-23T08:38:21.100000Z",
        "stageTimestamp": "2023-08-23T08:38:21.107000Z",
        "responseStatus": {"code": 201},
    }
    evs = [
        {**base, "auditID": "a", "level": "RequestResponse", "responseObject": {"metadata": {"name": "rc-abcde"}}},
        {**base, "auditID": "b", "level": "Metadata"},  # no response: no name, no milestone
        {**base, "auditID": "c", "responseObject": {"metadata": {"name": 7}}},  # wrong type: ignored
    ]
    data = b"\n".join(json.dumps(e).encode() for e in evs) + b"\n"
    for columnar in (True, False):
        tabs, _ = _parse(data, columnar, monkeypatch)
        pt = tabs["pod_transitions"].to_pylist()
        assert [(r["namespace"], r["pod"], r["milestone"]) for r in pt] == [("ns1", "rc-abcde", "created")]
        assert pt[0]["resolution_s"] == 1e-6 and str(pt[0]["ts"]).startswith("2023-08-23 08:38:21.107")
        # the request row keeps what the objectRef said (a create of the collection)
        assert tabs["requests"].column("name").to_pylist() == ["", "", ""]


def _completed_events(n: int, started_every: int = 0) -> bytes:
    ev = {
        "kind": "Event",
        "apiVersion": "audit.k8s.io/v1",
        "stage": "ResponseComplete",
        "verb": "get",
        "requestURI": "/api/v1/namespaces/a/pods/b",
        "objectRef": {"resource": "pods", "namespace": "a", "name": "b", "apiVersion": "v1"},
        "requestReceivedTimestamp": "2023-08-23T08:38:21Z",
        "stageTimestamp": "2023-08-23T08:38:21.5Z",
        "responseStatus": {"code": 200},
    }
    out = []
    for i in range(n):
        aid = f"{i:08d}-c511-4872-88f4-2940d5a1ffc5"
        if started_every and i % started_every == 0:  # a watch: started, completed later (or never: the last)
            out.append(json.dumps({**ev, "auditID": aid, "stage": "ResponseStarted", "verb": "watch"}))
        out.append(json.dumps({**ev, "auditID": aid}))
    return ("\n".join(out) + "\n").encode()


def test_the_audit_parser_keeps_no_state_per_request(monkeypatch):
    """Memory flat in the size of the log: the audit IDs of the completed requests are not kept (the old
    reader held every one in a Python set, ~150 MB per GB of log); the Python memory at the peak is the same
    for 4x the events.  Waiting ResponseStarted events are settled by the blocks after them.  The rows are
    counted and dropped, as the writer drops them (kept, a block's rows may hold buffers of its own)."""
    import tracemalloc

    def peak(n: int) -> tuple[int, Context]:
        data = _completed_events(n, started_every=500)
        tracemalloc.start()
        try:
            _, ctx = _parse(data, True, monkeypatch, read=64 << 10, keep=False)
            return tracemalloc.get_traced_memory()[1], ctx
        finally:
            tracemalloc.stop()

    small, _ = peak(5_000)
    big, ctx = peak(20_000)
    assert ctx.stats[A.STARTED_REASON].count == 40 and ctx.rows["requests"] == 20_000
    assert big < 1.5 * small, (small, big)


def test_a_read_error_comes_after_the_blocks_read_before_it(monkeypatch):
    """The read-ahead thread raises the stream's error in the parser, in order: the blocks before it are
    parsed and written, and the thread stops."""
    import io
    import threading

    from kubelog.sources import InputError

    data = _completed_events(300)

    class Breaks(io.RawIOBase):
        def __init__(self):
            self.src = io.BytesIO(data[: len(data) // 2])

        def readable(self):
            return True

        def read(self, n=-1):
            b = self.src.read(n)
            if not b:
                raise InputError("audit.log: read error after some bytes")
            return b

    monkeypatch.setattr(A, "READ", 4 << 10)
    got = []
    opts = {"map_ordered": readahead.ordered_map}  # as the engine gives it
    ctx = Context(0, "audit.log", lambda t, d: got.append(d) if t == "requests" else None, options=opts)
    with pytest.raises(InputError):
        A.parse_json(Breaks(), ctx)
    assert sum(t.num_rows for t in got) > 100 and ctx.lines_read >= sum(t.num_rows for t in got)
    assert not [t for t in threading.enumerate() if t.name.startswith("kubelog-prepare")]


def test_the_engine_read_ahead_gives_the_serial_result(monkeypatch):
    """The blocks prepared ahead on the engine's threads fold to exactly the rows of the serial mapping
    (several blocks, waiting events settled across them, one bad line in the middle)."""
    from kubelog.engine import readahead

    data = _completed_events(400, started_every=7)
    lines = data.splitlines(keepends=True)
    data = b"".join(lines[:200]) + b"not json\n" + b"".join(lines[200:])
    outs = []
    for opts in ({}, {"map_ordered": readahead.ordered_map}):
        import io

        monkeypatch.setattr(A, "READ", 2 << 10)
        got: dict[str, list] = {}
        ctx = Context(0, "audit.log", lambda t, d, got=got: got.setdefault(t, []).append(d), options=opts)
        A.parse_json(io.BytesIO(data), ctx)
        ctx.check_accounting()
        outs.append(({k: pa.concat_tables(v).to_pylist() for k, v in got.items()}, ctx.lines_read, ctx.info))
    assert outs[0] == outs[1] and outs[0][0]["requests"]


def test_ordered_map_raises_in_order_and_stops():
    """An error of the item iterator comes after the items before it; an error of ``fn`` at its item's turn."""
    from kubelog.engine import readahead

    def items():
        yield from ((i,) for i in range(5))
        raise OSError("read error")

    got = []
    with pytest.raises(OSError):
        for _item, r in readahead.ordered_map(lambda i: i * i, items()):
            got.append(r)
    assert got == [0, 1, 4, 9, 16]

    def f(i):
        if i == 3:
            raise ValueError(i)
        return i

    got = []
    with pytest.raises(ValueError):
        for _item, r in readahead.ordered_map(f, ((i,) for i in range(10))):
            got.append(r)
    assert got == [0, 1, 2]
    assert not [t for t in threading.enumerate() if t.name.startswith("kubelog-prepare")]
