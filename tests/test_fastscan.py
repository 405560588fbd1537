"""The C scanner (kubelog._fastscan) must agree with the Python/Arrow reference everywhere.

* RequestInfo: ``_fastscan.classify`` == ``requestinfo.classify_one`` (the readable reference)
  on the golden cases, on every distinct request of the real apiserver logs and on random URIs.
* Go durations: ``_fastscan.duration_ns`` == ``timeutil.parse_duration_ns``.
* Line splitting: ``split_lines`` == the Arrow split (line endings, ``\\r``, invalid UTF-8).
* Whole ingests: the tables of a run are the same with the scanner and with
  ``KUBELOG_NO_NATIVE=1`` (real logs of both access-log eras and a generated 1.28 log).
"""
from __future__ import annotations

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kubelog import native, timeutil
from kubelog.formats import requestinfo
from kubelog.ingest import ingest
from kubelog.sources import lines as L

from test_apiserver_log import RI

nat = native.module()
pytestmark = pytest.mark.skipif(nat is None, reason="C scanner not built")

REAL_APISERVER = ["apiserver_v1.19.4_arm64_skykying.log", "apiserver_v1.26.2_kubeadm_quangdaicaa.log",
                  "openshift4.8_kube-apiserver_pod_aws_mustgather.log",
                  "openshift4.9_kube-apiserver_pod_metal_ipv6_mustgather.log"]
TABLES = ("requests", "messages", "traces", "trace_steps", "pod_transitions")


def _same(method: str, uri: str) -> None:
    want = requestinfo.classify_one(method, uri)
    got = nat.classify(method, uri)
    assert got == want, (method, uri)


@pytest.mark.parametrize("method,uri,_", RI, ids=[f"{m} {u}" for m, u, _ in RI])
def test_classify_golden(method, uri, _):
    _same(method, uri)


@pytest.mark.parametrize("method,uri,name", [
    ("GET", "/api/v1/nodes?fieldSelector=metadata.name%3Dn1", "n1"),
    ("GET", "/api/v1/nodes?fieldSelector=metadata.name%3D%3Dn1", "n1"),          # == is an exact match too
    ("GET", "/api/v1/nodes?fieldSelector=metadata.name%21%3Dn1", ""),            # != is not
    ("GET", "/api/v1/nodes?fieldSelector=spec.x%3Da%2Cmetadata.name%3Dn2", "n2"),
    ("GET", "/api/v1/nodes?fieldSelector=metadata.name%3Da%2Fb", ""),            # not a path segment name
    ("GET", "/api/v1/nodes?fieldSelector=metadata.name%3Da&fieldSelector=metadata.name%3Db", "a"),  # first value
    ("GET", "/api/v1/nodes?fieldSelector=metadata.name%3D%zz", ""),              # bad escape: pair skipped
    ("WATCH", "/api/v1/pods?watch=true&watch=false", ""),
])
def test_classify_query_rules(method, uri, name):
    assert requestinfo.classify_one(method, uri)["name"] == name
    _same(method, uri)


def test_watch_flag_first_value_as_the_apiserver():
    assert requestinfo.classify_one("GET", "/api/v1/pods?watch=1&watch=false")["verb"] == "watch"
    assert requestinfo.classify_one("GET", "/api/v1/pods?watch=FALSE")["verb"] == "list"
    _same("GET", "/api/v1/pods?watch=1&watch=false")
    _same("GET", "/api/v1/pods?watch=FALSE")


SEG = st.sampled_from(["api", "apis", "v1", "apps", "namespaces", "ns", "pods", "p", "status", "finalize", "watch",
                       "proxy", "log", "exec", "binding", "nodes", "", "x.y", "%2F"])
QUERY = st.lists(st.sampled_from(["watch=true", "watch=0", "watch=false", "watch", "follow=true", "follow=",
                                  "fieldSelector=metadata.name%3Dn", "fieldSelector=metadata.name%3D%3Dn",
                                  "fieldSelector=a%3Db%2Cmetadata.name%3Dq", "limit=500", "a;b=1", "watch=%ZZ",
                                  "resourceVersion=0", "+watch=1"]), max_size=4)


@settings(max_examples=400, deadline=None)
@given(method=st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "LIST", "WATCH", "APPLY",
                               "CREATE", "UPDATE", "DELETECOLLECTION", "CONNECT", "OPTIONS", "get"]),
       parts=st.lists(SEG, max_size=11), slash=st.booleans(), query=QUERY)
def test_classify_random(method, parts, slash, query):
    uri = "/" + "/".join(parts) + ("/" if slash else "") + ("?" + "&".join(query) if query else "")
    _same(method, uri)


def test_classify_every_real_request(real_logs, tmp_path, monkeypatch):
    """Every distinct (method, URI) of the real apiserver logs, classified by both."""
    monkeypatch.setenv("KUBELOG_NO_NATIVE", "1")
    run = ingest([real_logs / n for n in REAL_APISERVER], tmp_path / "run")
    df = run.table("requests", ["logged_verb", "uri"]).drop_duplicates()
    assert len(df) > 500
    for m, u in zip(df.logged_verb, df.uri):
        _same(m, u)


@settings(max_examples=300, deadline=None)
@given(st.from_regex(r"-?([0-9]{1,12}(\.[0-9]{0,12})?(ns|us|µs|μs|ms|s|m|h|x)?){1,3}|0|", fullmatch=True))
def test_duration_random(s):
    want = timeutil.parse_duration_ns(s)
    want = -1 if want is None or want < 0 or want >= 2**63 else want  # Go: overflow is invalid too
    assert nat.duration_ns(s) == want, s


@pytest.mark.parametrize("s,ns", [("1.5ms", 1_500_000), ("470.891µs", 470_891), ("8m18.00060226s", 498_000_602_260),
                                  ("1h2m3.5s", 3_723_500_000_000), ("0", 0), ("0.0000000009s", 0), ("2.16ms", 2_160_000),
                                  ("abc", -1), ("", -1), ("1.5", -1)])
def test_duration_golden(s, ns):
    assert nat.duration_ns(s) == ns


@pytest.mark.parametrize("data", [b"a\nb\n", b"a\r\nb\r\r\n\n", "é€𝄞\nx\n".encode(), b"\n\n\n",
                                  b"ok\ncaf\xe9\n", b"\xed\xa0\x80\n", b"\xf4\x90\x80\x80\n", b"abc\xe2\x82\n"])
def test_split_lines_same_as_arrow(data, monkeypatch):
    a = L.block_to_array(data, 1, L.ReaderStats())
    monkeypatch.setenv("KUBELOG_NO_NATIVE", "1")
    stats = L.ReaderStats()
    b = L.block_to_array(data, 1, stats)
    assert a.to_pylist() == b.to_pylist()
    assert nat.count_lines(data) == data.count(b"\n")


def _both(paths, tmp_path, monkeypatch, **kw):
    a = ingest(paths, tmp_path / "native", **kw)
    monkeypatch.setenv("KUBELOG_NO_NATIVE", "1")
    b = ingest(paths, tmp_path / "arrow", **kw)
    monkeypatch.delenv("KUBELOG_NO_NATIVE")
    return a, b


def _assert_same_runs(a, b):
    strip = lambda e: {k: v for k, v in e.items() if k != "parse_seconds"}
    assert [strip(e) for e in a.inputs] == [strip(e) for e in b.inputs]
    for t in TABLES:
        x, y = a.table(t), b.table(t)
        assert x.equals(y), (t, x.compare(y) if x.shape == y.shape else (x.shape, y.shape))


def test_same_run_on_real_apiserver_logs(real_logs, tmp_path, monkeypatch):
    a, b = _both([real_logs / n for n in REAL_APISERVER], tmp_path, monkeypatch)
    assert a.rows("requests") > 10000
    _assert_same_runs(a, b)


def test_same_run_on_generated_log_with_odd_lines(tmp_path, monkeypatch):
    from kubelog.synth.bench import write_apiserver_log
    p = tmp_path / "kube-apiserver.log"
    write_apiserver_log(p, 20_000, seed=3)
    odd = [  # escaped quotes and backslashes, contentType, hijacked, no audit-ID, a resp too large, a bad latency
        'I0620 12:33:17.389016      11 httplog.go:132] "HTTP" verb="GET" URI="/api/v1/namespaces/a/pods/b\\\\c" '
        'latency="1.5ms" userAgent="ua \\"quoted\\" x" audit-ID="1" srcIP="1.2.3.4:5" resp=200',
        'I0620 12:33:17.389016      11 httplog.go:132] "HTTP" verb="POST" URI="/api/v1/namespaces/a/pods" '
        'latency="2ms" userAgent="kubectl" contentType="application/json" srcIP="1.2.3.4:5" resp=201',
        'I0620 12:33:17.389016      11 httplog.go:132] "HTTP" verb="CONNECT" URI="/api/v1/namespaces/a/pods/b/exec" '
        'latency="9.1s" userAgent="kubectl" audit-ID="" srcIP="1.2.3.4:5" hijacked=true',
        'I0620 12:33:17.389016      11 httplog.go:132] "HTTP" verb="GET" URI="/healthz" latency="x" '
        'userAgent="kube-probe/1.28" srcIP="1.2.3.4:5" apf_pl="exempt" apf_fs="exempt" resp=99999999999',
        'I0620 12:33:17.389016      11 httplog.go:132] "HTTP" verb="GET" URI="/healthz" latency="1ms" userAgent="p"',
    ]
    with open(p, "a") as f:
        f.write("\n".join(odd) + "\n")
    a, b = _both([p], tmp_path, monkeypatch, year=2023)
    _assert_same_runs(a, b)
    r = a.table("requests")
    assert '/api/v1/namespaces/a/pods/b\\c' in set(r.uri) and 'ua "quoted" x' in set(r.user_agent)
    assert r[r.logged_verb == "CONNECT"].hijacked.all()


def test_same_run_in_worker_processes(tmp_path, monkeypatch):
    """Large plain files: workers scan raw blocks (no line split) and write requests parts."""
    from kubelog.formats import klog
    from kubelog.synth.bench import write_apiserver_log
    p = tmp_path / "kube-apiserver.log"
    write_apiserver_log(p, 30_000, seed=5)
    with open(p, "ab") as f:  # CRLF lines, and a last line without a newline
        f.write(b'I0620 12:33:17.389016      11 httplog.go:132] "HTTP" verb="GET" URI="/api/v1/pods" latency="1ms" '
                b'userAgent="a" srcIP="1.2.3.4:5" resp=200\r\n')
        f.write(b'I0620 12:33:17.389016      11 x.go:1] last line\r')
    monkeypatch.setattr(klog, "PROCESS_MIN_BYTES", 0)
    monkeypatch.setattr(klog, "PROCESS_BLOCK", 1 << 20)
    monkeypatch.setattr(L, "BLOCK", 1 << 20)
    monkeypatch.setattr(klog, "DIRECT_WRITE_ROWS", 100)
    a = ingest([p], tmp_path / "procs", processes=True, year=2023)
    assert len(list((tmp_path / "procs" / "requests").glob("*-L*.parquet"))) > 5
    monkeypatch.setenv("KUBELOG_NO_NATIVE", "1")
    b = ingest([p], tmp_path / "arrow", processes=False, year=2023)
    _assert_same_runs(a, b)
    assert a.inputs[0]["lines_read"] == 30_002
