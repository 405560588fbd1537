"""Trace blocks (docs/formats/klog.md) → traces / trace_steps; golden facts from MANIFEST.md."""

from pathlib import Path

import pandas as pd
import pytest

from kubelog.formats import traces as T

# Real trace blocks of 2016-2023 (syslog-wrapped, plain, 1.20+ structured), tests/examples/.
SPEC = Path(__file__).resolve().parent / "examples" / "traces_real_examples.log"


def accounting_ok(e):
    return e["lines_read"] == e["record_lines"] + e["continuation_lines"] + sum(e["counted"].values())


def test_v1_26_2_golden(real_logs, ingest_to):
    run = ingest_to(real_logs / "apiserver_v1.26.2_kubeadm_quangdaicaa.log")
    e = run.inputs[0]
    assert accounting_ok(e) and "unaccounted (parser bug)" not in e["counted"]
    t = run.table("traces")
    assert len(t) == 28
    assert t.name.value_counts().to_dict() == {"Get": 11, "Update": 8, "List": 5, "Create": 2, "Patch": 2}
    tops = sorted(t.total_s, reverse=True)
    assert tops[:4] == pytest.approx([60.00499926, 60.004464271, 60.004304033, 48.146835552], abs=1e-9)
    assert min(t.total_s) == pytest.approx(1.602884398, abs=1e-9)
    assert set(t.variant) == {"T3"} and set(t.clock) == {"apiserver"}
    assert (t.started_ts.dt.year == 2023).all() and (t.ts >= t.started_ts).all()
    s = run.table("trace_steps")
    nested = s[s.kind == "nested"]
    assert "GuaranteedUpdate etcd3" in set(nested.msg)
    failed = s[(s.msg == "Txn call failed") & (s.depth == 1)]
    assert len(failed) and failed.fields.str.contains("context deadline exceeded").any()
    # a trace carries its audit id and url; it left messages
    x = t[t.trace_id == "721680468"].iloc[0]
    assert x.audit_id == "d5bf8af0-fe3f-4478-8e28-6b7bc11b85fe"
    assert x.url == "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kube-scheduler"
    assert x.user_agent.startswith("kube-scheduler/v1.26.2 (linux/amd64)")
    assert x.started_ts == pd.Timestamp("2023-03-10 09:30:37.995", tz="UTC")
    m = run.table("messages")
    assert not m.msg.str.startswith("Trace[").any()
    assert run.rows("messages") + 28 == e["record_lines"]


@pytest.mark.parametrize(
    "name,n,kinds,maxtot",
    [
        ("openshift4.8_kube-apiserver_pod_aws_mustgather.log", 4, {"Reflector ListAndWatch": 4}, 10.220474703),
        (
            "openshift4.9_kube-apiserver_pod_metal_ipv6_mustgather.log",
            17,
            {"GuaranteedUpdate etcd3": 6, "Update": 6, "Reflector ListAndWatch": 4, "Create": 1},
            10.442526632,
        ),
    ],
)
def test_openshift_golden(real_logs, ingest_to, name, n, kinds, maxtot):
    run = ingest_to(real_logs / name)
    e = run.inputs[0]
    assert accounting_ok(e) and "unaccounted (parser bug)" not in e["counted"]
    t = run.table("traces")
    assert len(t) == n and t.name.value_counts().to_dict() == kinds
    assert t.total_s.max() == pytest.approx(maxtot, abs=1e-9)


@pytest.fixture
def examples():
    return SPEC.read_text().splitlines()


def _ingest_lines(ingest_to, tmp_path, lines, name="kube-apiserver.log", **kw):
    p = tmp_path / name
    p.write_text("\n".join(lines) + "\n")
    return ingest_to(p, **kw)


def test_spec_t1_syslog(examples, ingest_to, tmp_path):
    run = _ingest_lines(ingest_to, tmp_path, examples[0:4], tz=["Europe/Berlin"])
    e = run.inputs[0]
    assert e["record_lines"] == 1 and e["continuation_lines"] == 3 and accounting_ok(e)
    t = run.table("traces").iloc[0]
    assert t.variant == "T1" and t["name"] == "List *api.ServiceList" and t.trace_id == "T1@1"
    assert t.started_ts == pd.Timestamp("2016-03-31 08:42:16.722518049", tz="UTC")
    assert t.ts == pd.Timestamp("2016-03-31 08:42:39.146136", tz="UTC")  # CEST local → UTC
    assert t.total_s == pytest.approx(22.423590718)
    s = run.table("trace_steps")
    assert s.msg.tolist() == ["About to list directory", "List extracted"]
    assert s.offset_s.tolist() == pytest.approx([0.106589354, 22.423588816])
    assert s.duration_s.tolist() == pytest.approx([0.106589354, 22.316999462])


def test_spec_t2(examples, ingest_to, tmp_path):
    run = _ingest_lines(ingest_to, tmp_path, examples[4:8])
    t = run.table("traces").sort_values("line_no")
    assert t.variant.tolist() == ["T2", "T2"]
    a, b = t.iloc[0], t.iloc[1]
    assert a["name"] == "List /api/v1/pods" and a.total_s == pytest.approx(1.853263146)
    assert a.started_ts == pd.Timestamp("2019-09-27 07:28:26.948385138", tz="UTC")
    assert b["name"] == "Get" and b.url == "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kube-scheduler"
    assert b.user_agent == "kube-scheduler/v1.17.0 (linux/amd64) kubernetes/70132b0/leader-election"
    assert b.total_s == pytest.approx(0.822890477)
    s = run.table("trace_steps")
    assert s.msg.tolist() == ["Listing from storage done", "About to write a response"]


def test_spec_t3(examples, ingest_to, tmp_path):
    run = _ingest_lines(ingest_to, tmp_path, examples[8:14])
    t = run.table("traces").sort_values("line_no")
    assert t.variant.tolist() == ["T3", "T3"]
    a, b = t.iloc[0], t.iloc[1]
    assert a.started_ts == pd.Timestamp("2022-03-31 23:00:04.575", tz="UTC") and a.total_s == pytest.approx(2.272115626)
    assert b.audit_id == "8a686097-a6c2-4869-9ff1-27f5b7a9dce5" and b.total_s == pytest.approx(44.260928281)
    assert b.user_agent == "watch-list/v0.0.0 (linux/amd64) kubernetes/$Format"
    s = run.table("trace_steps")
    assert s.duration_s.tolist() == pytest.approx([2.268, 44.259])
    assert s.fields.tolist() == ["", "count:400"]


def test_t3_local_zone(ingest_to, tmp_path):
    lines = [
        'I0331 23:00:06.848003      10 trace.go:205] Trace[1]: "List" url:/x (31-Mar-2022 23:00:04.575) (total time: 2272ms):',
        'Trace[1]: ---"Listing from storage done" 2268ms (23:00:00.844)',
    ]
    run = _ingest_lines(ingest_to, tmp_path, lines, tz=["America/New_York"])
    t = run.table("traces").iloc[0]
    assert t.started_ts == pd.Timestamp("2022-04-01 03:00:04.575", tz="UTC")
    assert t.total_s == pytest.approx(2.272)  # no END line: header total (ms)


def test_nested_parse():
    msg = (
        'Trace[9]: "Update" url:/a,user-agent:k/v (l, x) y,audit-id:z (10-Mar-2023 09:30:47.996) (total time: 5004ms):'
    )
    cont = (
        'Trace[9]: ["GuaranteedUpdate etcd3" audit-id:z,key:/leases/a 5004ms (09:30:47.996)\n'
        'Trace[9]:  ---"Txn call failed" err:context deadline exceeded 4999ms (09:30:52.996)]\n'
        "Trace[9]: [5.004917486s] [5.004917486s] END"
    )
    tr, steps = T.parse_block(msg, cont)
    assert tr["user_agent"] == "k/v (l, x) y" and tr["audit_id"] == "z" and tr["url"] == "/a"
    assert tr["total_s"] == pytest.approx(5.004917486)
    assert [(s["kind"], s["depth"], s["msg"]) for s in steps] == [
        ("nested", 0, "GuaranteedUpdate etcd3"),
        ("step", 1, "Txn call failed"),
    ]
    assert steps[1]["fields"] == "err:context deadline exceeded"


def test_go_time():
    assert (
        T.go_time_ns("2016-03-31 10:42:16.722518049 +0200 CEST")
        == pd.Timestamp("2016-03-31 08:42:16.722518049", tz="UTC").value
    )
    assert T.go_time_ns("0001-01-01 00:00:00 +0000 UTC") is None
    assert T.go_time_ns("garbage") is None


@pytest.mark.parametrize(
    "msg",
    [
        'Trace[1]: "Get" url:/a,user-agent:k (l) (x),audit-id:z (10-Mar-2023 09:30:47.996) (total time: 5004ms):',
        'Trace[1]: "Get" (10-Mar-2023 09:30:47.996) (total time: 5004ms):',
        'Trace[1]: "Get"  (10-Mar-2023 09:30:47.996) (total time: 5004ms):  ',
        'Trace[1]: "G\\"e\\"t" a (b) c (started: 2019-09-27 07:28:26.9 +0000 UTC m=+1.1) (total time: 1.5s):',
        'Trace[1]: "Get" x (started 2019-09-27 07:28:26.9 +0000 UTC) (total time: 1.5s)',
        'Trace[1]: "Get" x (started:2019) (total time: 1s):',
        'Trace[1]: "Get" x (a(b) (total time: 1s):',
        'Trace[1]: "Get" x (a) (total time: 1s (total time: 2s):',
        'Trace[1]: "Get"x (a) (total time: 1s):',
        'Trace[1]: "Get" x (a) (total time: 1s)x',
        'Trace[12]: "Get" x (a) (total time: ):',
        'Trace[]: "Get" (a) (total time: 1s):',
    ],
)
def test_header_by_string_ops_same_as_regex(msg):
    """The string-operation header parser agrees with RX_HDR wherever it answers (else the regex is used)."""
    m = T.RX_HDR.match(msg)
    want = (
        None if m is None else (m.group("id"), m.group("name"), m.group("fields"), m.group("started"), m.group("total"))
    )
    got = T._header(msg)
    assert got is None or got == want, (got, want)
    if want is not None and "(total time: 1s (total" not in msg:
        assert got == want


def _odd_traces(tmp_path):
    """T3 blocks the C parser must agree on with parse_block: nested steps, escaped quotes, two END
    lines (the last wins), an END with a bad duration, a foreign Trace id, no steps, a bad month,
    fields with commas and no url, odd step tails; plus T2, T1 and non-ASCII blocks (reference path)."""
    h = "I0331 23:00:06.848003      10 trace.go:205] "
    lines = [
        h
        + 'Trace[1]: "Up\\"date" url:/a,user-agent:k/v (l, x) y,audit-id:z (10-Mar-2023 09:30:47.996) (total time: 5004ms):',
        'Trace[1]: ["GuaranteedUpdate etcd3" audit-id:z,key:/leases/a 5004ms (09:30:47.996)',
        'Trace[1]:  ---"Txn \\"call\\" failed" err:context deadline exceeded 4999ms (09:30:52.996)]',
        'Trace[2]: ---"not mine" 1ms (09:30:52.996)',
        'Trace[1]: ---"no fields"  7ms (09:30:52.996)] ',
        'Trace[1]: ---"space before the bracket" 7ms (09:30:52.996) ]',
        'Trace[1]: ---"bad tail" x12ms (09:30:52.996)',
        "Trace[1]: [5.004917486s] [5.004917486s] END",
        "Trace[1]: [5.1s] [5.1s] END  ",
        h + 'Trace[3]: "List" accept:a, */*,resource:pods (31-Mar-2022 23:00:04.575) (total time: 2272ms):',
        "Trace[3]: [1.5s] [1.5s] END",
        "Trace[3]: [xx] [yy] END",
        h + 'Trace[4]: "Get" (31-Foo-2022 23:00:04.575) (total time: 12ms):',
        h + 'Trace[5]: "Get" url:/b (31-Mar-2022 23:00:04) (total time: 7ms):',
        "Trace[5]: [1.5ms] [1.5ms] Listed  ",
        "Trace[5]: [bad] [0.5ms] Half",
        'Trace[5]: "Get" [2ms] [0.5ms] END',
        h + 'Trace[7]: "Get" url:/c (31-Mar-2022 23:00:04.5) (total time: 99999999999999999ms):',
        'Trace[7]: ---"huge" 99999999999999999ms (23:00:04.5)',
        h + 'Trace[8]: "Get é" (31-Mar-2022 23:00:04.5) (total time: 1ms):',
        h + 'Trace[6]: "GuaranteedUpdate etcd3" type:*core.Pod (started: 2019-09-27 07:28:26.918367473 +0000 UTC '
        "m=+1.1) (total time: 506.9ms):",
        "Trace[6]: [506.8ms] [506.8ms] Transaction committed",
        h + 'Trace "List /api/v1/pods" (started: 2017-03-01 10:00:00.5 +0100 CET):',
        "[1.1s] [1.1s] END",
    ]
    p = tmp_path / "kube-apiserver.log"
    p.write_text("\n".join(lines) + "\n")
    return p


@pytest.mark.slow
def test_native_t3_same_as_reference(real_logs, tmp_path, monkeypatch):
    """The C T3 parser gives the same tables as parse_block record by record."""
    from kubelog import native
    from kubelog.engine import ingest
    from kubelog.synth.bench import write_apiserver_log

    if native.module() is None:
        pytest.skip("C scanner not built")
    gen = tmp_path / "gen" / "kube-apiserver.log"
    gen.parent.mkdir()
    write_apiserver_log(gen, 20_000, seed=9)
    paths = [
        _odd_traces(tmp_path),
        gen,
        real_logs / "apiserver_v1.26.2_kubeadm_quangdaicaa.log",
        real_logs / "openshift4.9_kube-apiserver_pod_metal_ipv6_mustgather.log",
        real_logs / "openshift4.8_kube-apiserver_pod_aws_mustgather.log",
    ]
    a = ingest(paths, tmp_path / "c", year=2023, tz=["Europe/Paris"])
    monkeypatch.setattr(T, "NATIVE_T3", False)
    b = ingest(paths, tmp_path / "ref", year=2023, tz=["Europe/Paris"])
    assert a.rows("traces") > 100
    for t in ("traces", "trace_steps", "messages"):
        x, y = a.table(t), b.table(t)
        assert x.equals(y), (t, x.compare(y) if x.shape == y.shape else (x.shape, y.shape))
    t = a.table("traces").set_index("trace_id")
    assert t.loc["1", "name"] == 'Up"date' and t.loc["1", "total_s"] == pytest.approx(5.1)
    assert t.loc["3", "total_s"] == pytest.approx(2.272)  # the last END is unreadable: the header total
    assert pd.isna(t.loc["4", "started_ts"])
    s = a.table("trace_steps")
    assert set(s[s.trace_id == "1"].msg) == {"GuaranteedUpdate etcd3", 'Txn "call" failed', "no fields"}


def test_native_t3_takes_t3_and_leaves_the_rest():
    """The C parser handles plain T3 records and hands back T1, T2, non-ASCII and overflowing ones."""
    from kubelog import native

    nat = native.module()
    if nat is None:
        pytest.skip("C scanner not built")
    msgs = [
        'Trace[1]: "Get" url:/a (10-Mar-2023 09:30:47.996) (total time: 5ms):',
        'Trace[2]: "Get" (31-Foo-2022 23:00:04.575) (total time: 12ms):',
        'Trace[3]: "Get é" (31-Mar-2022 23:00:04.5) (total time: 1ms):',
        'Trace[4]: "G" x (started: 2019-09-27 07:28:26.9 +0000 UTC m=+1.1) (total time: 1.5s):',
        'Trace "List /api/v1/pods" (started: 2017-03-01 10:00:00.5 +0100 CET):',
        'Trace[5]: "Get" (10-Mar-2023 09:30:47.996) (total time: 5ms):',
        'Trace[6]: "Get" (10-Mar-2023 09:30:47.996) (total time: -5ms):',
    ]
    conts = [
        'Trace[1]: ---"a" 3ms (09:30:47.999)\nTrace[1]: [5.1ms] [2ms] END',
        None,
        None,
        None,
        None,
        'Trace[5]: ---"huge" 99999999999999999ms (09:30:47.999)',
        None,
    ]
    handled, traces, steps = nat.traces_t3(msgs, conts)
    assert list(handled) == [1, 1, 0, 0, 0, 0, 0]
    assert [t[0] for t in traces] == [0, 1] and traces[0][8] == 5_100_000 and traces[1][7] is None
    assert steps == [(0, 0, 0, None, None, 3, "a", "", False)]
