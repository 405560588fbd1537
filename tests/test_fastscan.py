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
from kubelog.engine import ingest
from kubelog.sources import lines as L

from test_apiserver_log import RI

nat = native.module()
pytestmark = pytest.mark.skipif(nat is None, reason="C scanner not built")

REAL_APISERVER = [
    "apiserver_v1.19.4_arm64_skykying.log",
    "apiserver_v1.26.2_kubeadm_quangdaicaa.log",
    "openshift4.8_kube-apiserver_pod_aws_mustgather.log",
    "openshift4.9_kube-apiserver_pod_metal_ipv6_mustgather.log",
]
TABLES = ("requests", "messages", "traces", "trace_steps", "pod_transitions")


def _same(method: str, uri: str) -> None:
    want = requestinfo.classify_one(method, uri)
    got = nat.classify(method, uri)
    assert got == want, (method, uri)


@pytest.mark.parametrize("method,uri,_", RI, ids=[f"{m} {u}" for m, u, _ in RI])
def test_classify_golden(method, uri, _):
    _same(method, uri)


@pytest.mark.parametrize(
    "method,uri,name",
    [
        ("GET", "/api/v1/nodes?fieldSelector=metadata.name%3Dn1", "n1"),
        ("GET", "/api/v1/nodes?fieldSelector=metadata.name%3D%3Dn1", "n1"),  # == is an exact match too
        ("GET", "/api/v1/nodes?fieldSelector=metadata.name%21%3Dn1", ""),  # != is not
        ("GET", "/api/v1/nodes?fieldSelector=spec.x%3Da%2Cmetadata.name%3Dn2", "n2"),
        ("GET", "/api/v1/nodes?fieldSelector=metadata.name%3Da%2Fb", ""),  # not a path segment name
        ("GET", "/api/v1/nodes?fieldSelector=metadata.name%3Da&fieldSelector=metadata.name%3Db", "a"),  # first value
        ("GET", "/api/v1/nodes?fieldSelector=metadata.name%3D%zz", ""),  # bad escape: pair skipped
        ("WATCH", "/api/v1/pods?watch=true&watch=false", ""),
    ],
)
def test_classify_query_rules(method, uri, name):
    assert requestinfo.classify_one(method, uri)["name"] == name
    _same(method, uri)


def test_watch_flag_first_value_as_the_apiserver():
    assert requestinfo.classify_one("GET", "/api/v1/pods?watch=1&watch=false")["verb"] == "watch"
    assert requestinfo.classify_one("GET", "/api/v1/pods?watch=FALSE")["verb"] == "list"
    _same("GET", "/api/v1/pods?watch=1&watch=false")
    _same("GET", "/api/v1/pods?watch=FALSE")


SEG = st.sampled_from(
    [
        "api",
        "apis",
        "v1",
        "apps",
        "namespaces",
        "ns",
        "pods",
        "p",
        "status",
        "finalize",
        "watch",
        "proxy",
        "log",
        "exec",
        "binding",
        "nodes",
        "",
        "x.y",
        "%2F",
    ]
)
QUERY = st.lists(
    st.sampled_from(
        [
            "watch=true",
            "watch=0",
            "watch=false",
            "watch",
            "follow=true",
            "follow=",
            "fieldSelector=metadata.name%3Dn",
            "fieldSelector=metadata.name%3D%3Dn",
            "fieldSelector=a%3Db%2Cmetadata.name%3Dq",
            "limit=500",
            "a;b=1",
            "watch=%ZZ",
            "resourceVersion=0",
            "+watch=1",
        ]
    ),
    max_size=4,
)


@settings(max_examples=400, deadline=None)
@given(
    method=st.sampled_from(
        [
            "GET",
            "POST",
            "PUT",
            "PATCH",
            "DELETE",
            "HEAD",
            "LIST",
            "WATCH",
            "APPLY",
            "CREATE",
            "UPDATE",
            "DELETECOLLECTION",
            "CONNECT",
            "OPTIONS",
            "get",
        ]
    ),
    parts=st.lists(SEG, max_size=11),
    slash=st.booleans(),
    query=QUERY,
)
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


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(st.from_regex(r"-?([0-9]{1,12}(\.[0-9]{0,12})?(ns|us|µs|μs|ms|s|m|h|x)?){1,3}|0|", fullmatch=True))
def test_duration_random(s):
    want = timeutil.parse_duration_ns(s)
    want = -1 if want is None or want < 0 or want >= 2**63 else want  # Go: overflow is invalid too
    assert nat.duration_ns(s) == want, s


@pytest.mark.parametrize(
    "s,ns",
    [
        ("1.5ms", 1_500_000),
        ("470.891µs", 470_891),
        ("8m18.00060226s", 498_000_602_260),
        ("1h2m3.5s", 3_723_500_000_000),
        ("0", 0),
        ("0.0000000009s", 0),
        ("2.16ms", 2_160_000),
        ("abc", -1),
        ("", -1),
        ("1.5", -1),
    ],
)
def test_duration_golden(s, ns):
    assert nat.duration_ns(s) == ns


@pytest.mark.parametrize(
    "data",
    [
        b"a\nb\n",
        b"a\r\nb\r\r\n\n",
        "é€𝄞\nx\n".encode(),
        b"\n\n\n",
        b"ok\ncaf\xe9\n",
        b"\xed\xa0\x80\n",
        b"\xf4\x90\x80\x80\n",
        b"abc\xe2\x82\n",
    ],
)
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


@pytest.mark.slow
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
    assert "/api/v1/namespaces/a/pods/b\\c" in set(r.uri) and 'ua "quoted" x' in set(r.user_agent)
    assert r[r.logged_verb == "CONNECT"].hijacked.all()


@pytest.mark.slow
def test_same_run_in_worker_processes(tmp_path, monkeypatch):
    """Large plain files: workers scan raw blocks (no line split) and write requests parts."""
    from kubelog.engine import blocks
    from kubelog.synth.bench import write_apiserver_log

    p = tmp_path / "kube-apiserver.log"
    write_apiserver_log(p, 30_000, seed=5)
    with open(p, "ab") as f:  # CRLF lines, and a last line without a newline
        f.write(
            b'I0620 12:33:17.389016      11 httplog.go:132] "HTTP" verb="GET" URI="/api/v1/pods" latency="1ms" '
            b'userAgent="a" srcIP="1.2.3.4:5" resp=200\r\n'
        )
        # header prefixes the scanner hands to the records: odd spacing, non-ASCII file, no space
        # after `]`, and a pid / line too large for their columns (null; they once failed the input)
        f.write("I0620 12:33:17.389017 7 ü.go:12]no space\n".encode())
        f.write(b'W0620 12:33:17.389018         123 a_b-c.go:1] "msg" k="v"\n')
        f.write(b"E0620 12:33:17.389019 99999999999999999999999 big.go:1] pid too large\n")
        f.write(b"F0620 12:33:17.389020 1 big.go:99999999999] line too large\n")
        f.write(b"I0620 12:33:17.389016      11 x.go:1] last line\r")
    monkeypatch.setattr(blocks, "PROCESS_MIN_BYTES", 0)
    monkeypatch.setattr(blocks, "PROCESS_BLOCK", 1 << 20)
    monkeypatch.setattr(L, "BLOCK", 1 << 20)
    a = ingest([p], tmp_path / "procs", processes=True, year=2023)
    assert len(list((tmp_path / "procs" / "requests").glob("*-L*.parquet"))) > 5
    monkeypatch.setenv("KUBELOG_NO_NATIVE", "1")
    b = ingest([p], tmp_path / "arrow", processes=False, year=2023)
    _assert_same_runs(a, b)
    assert a.inputs[0]["lines_read"] == 30_006
    m = a.table("messages")
    assert m[m.msg == "pid too large"].pid.isna().all() and m[m.msg == "line too large"].line.isna().all()
    assert m[m.msg == "no space"].file.tolist() == ["ü.go"] and m[m.msg == "no space"].line.tolist() == [12]


FRAG = st.sampled_from(
    [
        "I0620 12:33:17.389016      11 httplog.go:132] ",
        '"HTTP" verb="',
        "GET",
        "LIST",
        '" URI="',
        "/api/v1/pods",
        "?watch=true",
        '" latency="',
        "1.5ms",
        "x",
        '" userAgent="',
        "kubectl",
        '\\"',
        "\\\\",
        '"',
        ' contentType="a"',
        ' audit-ID="',
        "abc",
        '" srcIP="',
        "1.2.3.4:5",
        '"',
        ' apf_pl="p" apf_fs="f"',
        " resp=",
        "200",
        " resp=x",
        " hijacked=true",
        " ",
        "]",
        "[",
        "é",
        "\t",
        "\r",
        "",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(FRAG, max_size=24).map("".join), min_size=1, max_size=20))
def test_scan_random_lines_same_as_arrow(lines):
    """Random access-log-like lines: the scanner never crashes, and every record it takes gives the
    same request columns as the Arrow path's full pattern (httplog.RE_E) on that line."""
    import pyarrow.compute as pc
    from kubelog.formats import fastscan, httplog

    lines = [ln.replace("\n", "") for ln in lines]
    data = ("\n".join(lines) + "\n").encode()
    raw = fastscan.scan_raw(data, len(lines))
    arr = pa.array(lines, pa.string())
    sc = fastscan.scan(arr)
    if raw is not None:
        assert list(raw.scan.e_rows) == list(sc.e_rows) and list(raw.scan.is_hdr) == list(sc.is_hdr)
        assert raw.take(list(range(len(lines)))).to_pylist() == [ln.rstrip("\r") for ln in lines]
    want_hdr = pc.fill_null(pc.match_substring_regex(arr, klog_header()), False).to_numpy(zero_copy_only=False)
    assert list(sc.is_hdr) == list(want_hdr)
    for j, i in enumerate(sc.e_rows):
        msg = lines[i].split("] ", 1)[1] if "] " in lines[i] else lines[i][lines[i].index("]") + 1 :]
        mask, cols = httplog.extract(pa.array([msg]), None)
        assert mask[0], lines[i]
        for k, ck in (
            ("method", "method"),
            ("uri", "uri"),
            ("ua", "ua"),
            ("src", "src"),
            ("aid", "aid"),
            ("apf_pl", "apf_pl"),
            ("apf_fs", "apf_fs"),
            ("resp", "resp"),
            ("hijacked", "hijacked"),
        ):
            assert sc.cols[k][j].as_py() == cols[ck][0].as_py(), (k, lines[i])


def klog_header():
    from kubelog.formats.klog import HEADER_START

    return HEADER_START


TFRAG = st.sampled_from(
    [
        "Trace[1]: ",
        "Trace[2]: ",
        '"List"',
        '"a\\"b"',
        " url:/x",
        ",user-agent:k (l, m)",
        ",audit-id:z",
        " (10-Mar-2023 09:30:47.996)",
        " (started: 2019-09-27 07:28:26.9 +0000 UTC)",
        " (total time: ",
        "5004ms",
        "1.5s",
        "-1s",
        "xx",
        "):",
        ")",
        " ",
        '---"step" ',
        "count:1 ",
        "12ms (09:30:47.999)",
        "[1.5s] [0.5s] ",
        "END",
        '"n" [1s] [1s] END',
        "]",
        "[",
        '"',
        "(",
        "é",
        "\t",
    ]
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.lists(TFRAG, max_size=12).map("".join),
            st.one_of(st.none(), st.lists(st.lists(TFRAG, max_size=8).map("".join), max_size=5).map("\n".join)),
        ),
        min_size=1,
        max_size=10,
    )
)
@pytest.mark.slow
def test_traces_t3_random_same_as_parse_block(records):
    """Random Trace-like records: the C parser never crashes, and what it takes equals parse_block."""
    _check_t3_against_reference(records)


def _check_t3_against_reference(records) -> None:
    from kubelog.formats import traces as T

    msgs = [m for m, _ in records]
    conts = [c for _, c in records]
    T._NATIVE = nat
    got = T._native_t3(msgs, conts, "UTC")
    # the same from Arrow string arrays read in place (the path of traces.extract)
    import pyarrow as pa

    m, c = pa.array(msgs, pa.string()), pa.array(conts, pa.string())
    assert nat.traces_t3(T._buffers(m), T._buffers(c)) == nat.traces_t3(msgs, conts)
    assert nat.traces_t3(T._buffers(m.slice(1)), T._buffers(c.slice(1))) == nat.traces_t3(msgs[1:], conts[1:])
    for pos, (tr, steps) in got.items():
        want = T.parse_block(msgs[pos], conts[pos], "UTC")
        assert want is not None and tr == want[0] and steps == want[1], (msgs[pos], conts[pos])


ALPHA = st.text(alphabet=st.sampled_from(list('ab/?=&%:. "\\-_,()[]é0123456789')), max_size=12)
QUOTED = st.lists(st.sampled_from(list("ab/?=&%:. -_,()[]é09") + ['\\"', "\\\\"]), max_size=12).map("".join)


@st.composite
def e_lines(draw):
    parts = [
        'I0620 12:33:17.389016      11 httplog.go:132] "HTTP" verb="',
        draw(st.sampled_from(["GET", "LIST", "WATCH", "POST", "get", ""])),
        '" URI="',
        draw(st.sampled_from(["/api/v1/pods", "/apis/apps/v1/namespaces/n/deployments/d", "/healthz"])),
        draw(QUOTED),
        '" latency="',
        draw(st.sampled_from(["1.5ms", "2s", "1m2.5s", "x", "", "-1s", "470.891µs"])),
        '" userAgent="',
        draw(QUOTED),
        '"',
    ]
    if draw(st.booleans()):
        parts += [' contentType="', draw(QUOTED), '"']
    if draw(st.booleans()):
        parts += [' audit-ID="', draw(ALPHA.filter(lambda s: '"' not in s)), '"']
    parts += [' srcIP="', draw(ALPHA.filter(lambda s: '"' not in s)), '"']
    parts += [draw(st.sampled_from(["", ' apf_pl="p" apf_fs="f"', ' apf_pl="" apf_fs="x"', " x resp=y"]))]
    parts += [draw(st.sampled_from([" resp=200", " resp=0", " hijacked=true", " resp=99999999999", "", " resp=200 x"]))]
    return "".join(parts)


@pytest.mark.slow
@settings(max_examples=400, deadline=None)
@given(st.lists(e_lines(), min_size=1, max_size=8))
def test_scan_generated_access_lines_same_as_arrow(lines):
    """Generated structured access-log lines with quotes, escapes and optional fields: the scanner
    takes a line exactly when the reference pattern does, with the same fields."""
    from kubelog.formats import fastscan, httplog

    arr = pa.array(lines, pa.string())
    sc = fastscan.scan(arr)
    msgs = pa.array([ln.split("] ", 1)[1] for ln in lines])
    mask, cols = httplog.extract(msgs, None)
    assert list(sc.e_rows) == [i for i in range(len(lines)) if mask[i]]
    for j, i in enumerate(sc.e_rows):
        k = int(mask[: i + 1].sum()) - 1
        for f in ("method", "uri", "ua", "src", "aid", "apf_pl", "apf_fs", "resp", "hijacked"):
            assert sc.cols[f][j].as_py() == cols[f][k].as_py(), (f, lines[i])
        assert sc.cols["lat_ns"][j] == (lambda v: -1 if v is None or v < 0 else v)(
            timeutil.parse_duration_ns(cols["lat"][k].as_py())
        ), lines[i]


@st.composite
def t3_records(draw):
    tid = draw(st.sampled_from(["1", "23"]))
    name = draw(QUOTED)
    fields = draw(
        st.sampled_from(["", " url:/a", " url:/a,user-agent:k (l, m),audit-id:z", " accept:a, b,resource:p", " x"])
    )
    started = draw(
        st.sampled_from(
            [
                "10-Mar-2023 09:30:47.996",
                "31-Foo-2022 23:00:04",
                "started: 10-Mar-2023 09:30:47",
                "1-Mar-2023 09:30:47",
                "10-Mar-2023 09:30:47.9999999999",
            ]
        )
    )
    total = draw(st.sampled_from(["5004ms", "1.5s", "", "xx", "0"]))
    msg = f'Trace[{tid}]: "{name}"{fields} ({started}) (total time: {total}):' + draw(st.sampled_from(["", " ", "  "]))
    steps = []
    for _ in range(draw(st.integers(0, 4))):
        pre = draw(st.sampled_from([f"Trace[{tid}]: ", f"Trace[{tid}]:", "Trace[9]: ", ""]))
        body = draw(
            st.sampled_from(
                [
                    '---"{m}" {f}12ms (09:30:47.999)',
                    ' ---"{m}" 3ms (09:30:47.999)]',
                    '["{m}" {f}5004ms (09:30:47.996)',
                    "[1.5s] [0.5s] {m}",
                    "[{m}] [1s] END",
                    "[1s] [1s] END ",
                    '"{m}" [2s] [1s] END',
                    '---"{m}" x12ms (1:2)',
                ]
            )
        )
        steps.append(
            pre + body.format(m=draw(QUOTED).replace("]", ""), f=draw(st.sampled_from(["", "count:1 ", "a b "])))
        )
    return msg, ("\n".join(steps) if steps else None)


@pytest.mark.slow
@settings(max_examples=400, deadline=None)
@given(st.lists(t3_records(), min_size=1, max_size=6))
def test_traces_t3_generated_same_as_parse_block(records):
    """Generated T3 records: every record the C parser takes equals parse_block's result."""
    _check_t3_against_reference(records)


def test_same_klog_times_with_rollovers_and_bad_dates(tmp_path, monkeypatch):
    """Header times from the C scanner (year, Dec→Jan rollovers, Feb 29, invalid dates and clocks)
    equal the numpy computation, in UTC and in a zone with DST."""
    import random

    rnd = random.Random(7)
    stamps = [
        "1231 23:59:59.999999",
        "0101 00:00:00.000001",
        "0229 12:00:00.000000",
        "0230 12:00:00.000000",
        "1301 00:00:00.000000",
        "0615 24:00:00.000000",
        "0615 23:60:00.000000",
        "0615 23:59:60.500000",
        "1130 10:00:00.000000",
        "0100 10:00:00.000000",
        "0331 02:30:00.000000",
    ]
    lines = []
    for i in range(3000):
        s = (
            stamps[i % len(stamps)]
            if rnd.random() < 0.2
            else f"{rnd.randint(1, 12):02d}{rnd.randint(1, 28):02d} 1{rnd.randint(0, 9)}:00:00.{i:06d}"
        )
        lines.append(f"I{s}       1 x.go:1] record {i}")
    p = tmp_path / "kube-scheduler.log"
    p.write_text("\n".join(lines) + "\n")
    for tz in ([], ["Europe/Paris"]):
        a, b = _both([p], tmp_path / f"run{len(tz)}", monkeypatch, year=2024, tz=tz)
        _assert_same_runs(a, b)
        assert a.table("messages")["ts"].dt.year.max() >= 2025  # rollovers happened


def test_dictionary_columns_many_values_nulls_and_escapes():
    """The low-cardinality fields come back dictionary-encoded: each row decodes to its own
    value, whatever the number of distinct values (the C hash table grows), with nulls
    (no apf_* fields) and Go-escaped user agents; the dictionary has no duplicates."""
    from kubelog.formats import fastscan

    lines, want = [], []
    for i in range(3000):
        ua = f"agent-{i % 700}/v1" + ('\\"q\\"' if i % 11 == 0 else "") + "x" * (i % 23)
        ns = f"ns-{i % 517}" + "y" * (i % 19)
        apf = f' apf_pl="pl-{i % 3}" apf_fs="fs-{i % 300}"' if i % 4 else ""
        lines.append(
            f'I0620 12:33:17.389016      11 httplog.go:132] "HTTP" verb="{"GET" if i % 2 else "LIST"}" '
            f'URI="/api/v1/namespaces/{ns}/pods/p{i}" latency="1ms" userAgent="{ua}" '
            f'srcIP="1.2.3.4:5"{apf} resp=200'
        )
        want.append((ua.replace('\\"', '"'), ns, f"pl-{i % 3}" if i % 4 else None, f"fs-{i % 300}" if i % 4 else None))
    data = ("\n".join(lines) + "\n").encode()
    for sc in (fastscan.scan_raw(data, len(lines)).scan, fastscan.scan(pa.array(lines))):
        assert len(sc.e_rows) == 3000
        for f in fastscan.DICT_FIELDS:
            col = sc.cols[f]
            assert pa.types.is_dictionary(col.type), f
            col.validate(full=True)
            d = col.dictionary.to_pylist()
            assert len(d) == len(set(d)), f
        got = list(zip(*(sc.cols[f].to_pylist() for f in ("ua", "namespace", "apf_pl", "apf_fs"))))
        assert got == want
        assert sc.cols["method"].to_pylist() == ["GET" if i % 2 else "LIST" for i in range(3000)]
        assert len(sc.cols["namespace"].dictionary) == len({w[1] for w in want})


def test_dictionary_part_reads_back_with_the_declared_schema(tmp_path):
    """A requests part written from dictionary columns (as workers write them) reads back as the
    declared string columns, values unchanged."""
    import pyarrow.parquet as pq
    from kubelog import run as runmod, tables

    n = 1000
    ua = pa.DictionaryArray.from_arrays(pa.array([i % 3 for i in range(n)], pa.int32()), pa.array(["a", "b", "c"]))
    cols = {"user_agent": ua, "verb": ua, "line_no": pa.array(range(n), pa.int64()), "uri": pa.array(["/x"] * n)}
    t = tables.conform("requests", cols, dictionary=True)
    assert pa.types.is_dictionary(t.schema.field("user_agent").type)
    with runmod.open_part(tmp_path / "p.parquet", "requests", t.schema) as w:
        w.write_table(t)
    back = pq.read_table(tmp_path / "p.parquet")
    assert back.schema.equals(tables.schema("requests"))
    assert back.column("user_agent").to_pylist() == ua.to_pylist()
    assert tables.conform("requests", cols).equals(back)


def test_record_prefixes_from_the_scanner_same_as_regex(tmp_path, monkeypatch):
    """A raw block's non-access-log records take level, pid, file, line and message from the C
    scanner: the same as the regex path on the lines (odd spacing, non-ASCII, no space after `]`,
    continuation lines, CRLF)."""
    import dataclasses
    import os
    from kubelog.formats import fastscan, klog

    lines = [
        "I0620 12:33:17.389017 7 ü.go:12]no space",
        'W0620 12:33:17.389018         123 a_b-c.go:1] "msg" k="v"',
        "E0620 12:33:17.389019 1 x.go:3] with continuation",
        "\tgoroutine 1 [running]:",
        "",
        "I0620 12:33:17.389020 42 y.go:44]  two spaces\r",
        "I0620 12:33:17.389021 5 z.go:0] ",
    ]
    p = tmp_path / "a.log"
    p.write_bytes(("\n".join(lines * 50) + "\n").encode())
    from kubelog.engine import blocks
    from kubelog.formats.base import BlockSpec

    spec = BlockSpec(
        format="klog",
        source_id=0,
        name="a.log",
        clock="apiserver",
        year=2023,
        tz="UTC",
        info={"component": "kube-apiserver"},
        wrappers=[],
        ansi=False,
        record_start=klog.HEADER_START,
    )
    used = []
    orig = klog.KlogParser._records

    def spy(self, *a, **k):
        used.append(a[-1] is not None)
        return orig(self, *a, **k)

    monkeypatch.setattr(klog.KlogParser, "_records", spy)
    n = len(lines) * 50
    with_c = blocks.range_task(str(p), 0, os.path.getsize(p), 1, n, spec, None, True)
    orig_result = fastscan._scan_result
    monkeypatch.setattr(fastscan, "_scan_result", lambda r: dataclasses.replace(orig_result(r), other=None))
    without = blocks.range_task(str(p), 0, os.path.getsize(p), 1, n, spec, None, True)
    assert used == [True, False]
    from kubelog import tables

    a, b = (tables.conform("messages", r.tables["messages"][0]) for r in (with_c, without))
    assert a.num_rows == len(lines) * 50 - 50 * 2 and a.equals(b)


@pytest.mark.parametrize("bad_at", [None, 0, (256 << 10) - 1, 256 << 10, 400_000])
@pytest.mark.parametrize("tail", [b"", b"I0620 12:33:17.389016 1 x.go:1] no newline\r"])
def test_scan_file_same_as_scan_raw(tmp_path, bad_at, tail):
    """The scanner reading a file range itself, in 256 KiB pieces split and checked on the way
    (multi-byte characters across piece ends, CRLF, a last line without newline, invalid UTF-8
    anywhere) gives what scan_raw gives on the same bytes."""
    import random
    from kubelog.formats import fastscan

    rnd = random.Random(7)
    words = [
        "x",
        "é",
        "€",
        "𝄞",
        "ab",
        " ",
        '"HTTP" verb="GET" URI="/api/v1/pods" latency="1ms" userAgent="a" srcIP="1.2.3.4:5" resp=200',
    ]
    lines = []
    while sum(map(len, lines)) < 700_000:
        body = "".join(rnd.choice(words) for _ in range(rnd.randint(0, 60)))
        lines.append(
            (f"I0620 12:33:17.389016 1 a.go:1] {body}" if rnd.random() < 0.8 else f"\t{body}").encode()
            + (b"\r\n" if rnd.random() < 0.1 else b"\n")
        )
    data = bytearray(b"".join(lines) + tail)
    if bad_at is not None:
        data[bad_at] = 0xFF
    data = bytes(data)
    p = tmp_path / "f.log"
    p.write_bytes(b"PREFIX\n" + data)
    n = data.count(b"\n") + (not data.endswith(b"\n"))
    want = fastscan.scan_raw(data if data.endswith(b"\n") else data + b"\n", n, year=2023)
    with open(p, "rb") as f:
        got = fastscan.scan_file(f.fileno(), 7, len(data), n, year=2023)
        if bad_at is not None:
            assert want is None and got is None
            return
        assert bytes(memoryview(got.data)) == (data if data.endswith(b"\n") else data + b"\n")
        assert (got.starts == want.starts).all() and (got.ends == want.ends).all()
        assert (got.scan.is_hdr == want.scan.is_hdr).all() and (got.scan.e_rows == want.scan.e_rows).all()
        assert all((a == b).all() for a, b in zip(got.scan.times[:3], want.scan.times[:3]))
        with pytest.raises(ValueError):  # the file is shorter than the range given
            fastscan.scan_file(f.fileno(), 7 + 1000, len(data), n, year=2023)
