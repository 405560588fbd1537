"""Bad input gives a clear message naming the file (and line), and the rest of the run is kept."""

import gzip
import hashlib
import io
import json
import os
import tarfile
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubelog import sources
from kubelog.engine import ingest
from kubelog.run import RunExists

GOOD = (
    'I0620 12:33:17.389016      11 httplog.go:132] "HTTP" verb="GET" URI="/api/v1/nodes/n1" latency="1.5ms" '
    'userAgent="kubelet/v1.30.2" audit-ID="a" srcIP="10.0.0.1:1" resp=200\n'
)


def acc(e):
    return e["lines_read"] == e["record_lines"] + e["continuation_lines"] + sum(e["counted"].values())


def by_name(run, suffix):
    return next(e for e in run.inputs if e["path"].endswith(suffix))


def test_hostile_directory_keeps_good_input(tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    (d / "kube-apiserver.log").write_text(GOOD * 3)
    (d / "binary.bin").write_bytes(b"\x00\x01\x02" * 1000)
    (d / "empty.log").write_bytes(b"")
    (d / "bad-utf8.log").write_bytes(GOOD.encode() + b"I0620 12:33:18.000000      11 x.go:1] caf\xe9 \xff\n")
    (d / "longline.log").write_bytes(b"x" * (50 << 20) + b"\n" + GOOD.encode())
    data = GOOD.encode() * 2000
    gz = gzip.compress(data)
    (d / "truncated.log.gz").write_bytes(gz[: len(gz) // 2])
    run = ingest([d], tmp_path / "run")
    good = by_name(run, "kube-apiserver.log")
    assert good["rows"]["requests"] == 3 and not good["errors"]
    b = by_name(run, "binary.bin")
    assert b["format"] == "binary" and b["errors"] and "binary" in b["errors"][0]
    assert by_name(run, "empty.log")["format"] == "empty"
    u = by_name(run, "bad-utf8.log")
    assert u["rows"]["requests"] == 1 and u["rows"]["messages"] == 1
    assert any("UTF-8" in e and ":2:" in e for e in u["errors"]), u["errors"]
    ll = by_name(run, "longline.log")
    assert ll["lines_read"] == 2 and acc(ll)
    t = by_name(run, "truncated.log.gz")
    assert t["errors"] and "truncated" in t["errors"][0] and "truncated.log.gz" in t["errors"][0]
    assert t["rows"].get("requests", 0) > 0  # what was readable is kept
    for e in run.inputs:
        assert acc(e), e


def test_archive_member_names_are_data_not_paths(tmp_path):
    arc = tmp_path / "art.tar.gz"
    with tarfile.open(arc, "w:gz") as tf:
        for name in ("../x.log", "/etc/x.log", "ok/kube-apiserver.log"):
            b = GOOD.encode()
            ti = tarfile.TarInfo(name)
            ti.size = len(b)
            tf.addfile(ti, io.BytesIO(b))
    before = set(os.listdir(tmp_path))
    run = ingest([arc], tmp_path / "run")
    assert sorted(e["path"].split("!")[1] for e in run.inputs) == ["../x.log", "/etc/x.log", "ok/kube-apiserver.log"]
    assert all(e["rows"].get("requests") == 1 for e in run.inputs)
    assert set(os.listdir(tmp_path)) - before == {"run"}
    assert not os.path.exists("/etc/x.log") and not (tmp_path.parent / "x.log").exists()


def test_zip_and_compressions(tmp_path):
    import bz2
    import lzma
    import zstandard

    z = tmp_path / "a.zip"
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("logs/kube-apiserver.log", GOOD)
    (tmp_path / "b.log.bz2").write_bytes(bz2.compress(GOOD.encode()))
    (tmp_path / "c.log.xz").write_bytes(lzma.compress(GOOD.encode()))
    (tmp_path / "d.log.zst").write_bytes(zstandard.ZstdCompressor().compress(GOOD.encode()))
    run = ingest([z, tmp_path / "b.log.bz2", tmp_path / "c.log.xz", tmp_path / "d.log.zst"], tmp_path / "run")
    assert [e["rows"].get("requests") for e in run.inputs] == [1, 1, 1, 1]
    assert [e["compression"] for e in run.inputs] == ["zip", "bz2", "xz", "zstd"]


def test_gzip_bomb_is_stopped(tmp_path, monkeypatch):
    monkeypatch.setattr(sources, "MIN_BOMB_BYTES", 1 << 20)
    p = tmp_path / "bomb.log.gz"
    with gzip.open(p, "wb", compresslevel=9) as f:
        chunk = b"\n" * (1 << 20)
        for _ in range(64):
            f.write(chunk)
    (tmp_path / "ok.log").write_text(GOOD)
    run = ingest([p, tmp_path / "ok.log"], tmp_path / "run")
    b = by_name(run, "bomb.log.gz")
    assert b["errors"] and "decompression bomb" in b["errors"][0] and "bomb.log.gz" in b["errors"][0]
    assert by_name(run, "ok.log")["rows"]["requests"] == 1


def test_existing_run_refused_and_failed_ingest_leaves_nothing(tmp_path, monkeypatch):
    (tmp_path / "a.log").write_text(GOOD)
    out = tmp_path / "run"
    ingest([tmp_path / "a.log"], out)
    with pytest.raises(RunExists):
        ingest([tmp_path / "a.log"], out)
    ingest([tmp_path / "a.log"], out, force=True)
    # an ingest interrupted half-way leaves no directory that looks complete
    import kubelog.engine.core as ki

    def boom(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(ki, "parse_ref", boom)
    with pytest.raises(KeyboardInterrupt):
        ingest([tmp_path / "a.log"], tmp_path / "run2")
    assert not (tmp_path / "run2").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".run2")]


def test_cri_partial_lines_and_docker_chunks_are_joined(tmp_path):
    body = GOOD.rstrip("\n")
    a, b = body[:50], body[50:]
    cri = (
        f"2023-08-23T08:55:54.1Z stderr P {a}\n2023-08-23T08:55:54.2Z stderr F {b}\n"
        f"2023-08-23T08:55:54.3Z stderr F {body}\n"
    )
    (tmp_path / "cri.log").write_text(cri)
    dj = (
        json.dumps({"log": a, "stream": "stderr", "time": "2023-08-23T08:55:54.1Z"}, separators=(",", ":"))
        + "\n"
        + json.dumps({"log": b + "\n", "stream": "stderr", "time": "2023-08-23T08:55:54.2Z"}, separators=(",", ":"))
        + "\n"
    )
    (tmp_path / "docker.log").write_text(dj)
    run = ingest([tmp_path / "cri.log", tmp_path / "docker.log"], tmp_path / "run")
    c, d = run.inputs
    assert c["wrapper"] == "cri" and c["rows"]["requests"] == 2 and c["continuation_lines"] == 1 and acc(c)
    assert d["wrapper"] == "docker-json" and d["rows"]["requests"] == 1 and acc(d)
    assert c["year"] == 2023 and c["year_source"] == "wrapper"


def test_dec_to_jan_rollover(tmp_path):
    lines = ["I1231 23:59:59.000000       1 x.go:1] last of the year", "I0101 00:00:01.000000       1 x.go:1] first"]
    (tmp_path / "a.log").write_text("\n".join(lines) + "\n")
    run = ingest([tmp_path / "a.log"], tmp_path / "run", year=2019)
    ts = list(run.table("messages").ts.astype(str))
    assert ts[0].startswith("2019-12-31") and ts[1].startswith("2020-01-01")


def test_timezone_option(tmp_path):
    (tmp_path / "kubelet.log").write_text("I0303 22:05:07.349917 1003926 kubelet.go:1] x\n")
    run = ingest([tmp_path / "kubelet.log"], tmp_path / "run", year=2025, tz=["kubelet*=+08:00"])
    assert str(run.table("messages").ts.iloc[0]) == "2025-03-03 14:05:07.349917+00:00"


LINE = st.sampled_from(
    [
        GOOD.rstrip("\n"),
        "I0101 00:00:01.000000       1 wrap.go:42] GET /api/v1/pods: (1.2ms) 200 [[kubectl/v1.8.0 (linux/amd64) kubernetes/x] 10.0.0.1:1]",
        "goroutine 1 [running]:",
        "\tmain.go:1 +0x1",
        "Trace[1]: [1s] [1s] END",
        " >",
        "",
        "+ set -x line",
        "error: http2: server sent GOAWAY",
        "E0101 00:00:01.000000       1 x.go:9] boom",
    ]
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(st.one_of(LINE, st.text(max_size=80)), max_size=40), cut=st.integers(0, 400))
def test_random_truncated_shuffled_lines_never_crash(tmp_path_factory, lines, cut):
    d = tmp_path_factory.mktemp("h")
    text = "\n".join(lines)
    text = text[: len(text) - cut] if cut < len(text) else text
    (d / "kube-apiserver.log").write_text(text, encoding="utf-8", errors="surrogatepass") if False else (
        d / "kube-apiserver.log"
    ).write_bytes(text.encode("utf-8", "replace"))
    run = ingest([d / "kube-apiserver.log"], d / "run")
    e = run.inputs[0]
    assert acc(e)
    assert "unaccounted (parser bug)" not in e["counted"]
    assert not any("failed" in x for x in e["errors"]), e["errors"]


def test_jobs_parallel_processes_give_the_same_run(tmp_path, real_logs):
    import shutil

    d = tmp_path / "in"
    d.mkdir()
    for n in (
        "apiserver_v1.26.2_kubeadm_quangdaicaa.log",
        "audit2rbac_demo_audit.log",
        "cl2_nexuslrf_density_2020-06-24_junit.xml",
    ):
        shutil.copy(real_logs / n, d / n)
    a = ingest([d], tmp_path / "a", jobs=1)
    b = ingest([d], tmp_path / "b", jobs=2)
    strip = lambda e: {k: v for k, v in e.items() if k != "parse_seconds"}
    for x, y in zip(a.inputs, b.inputs):
        assert strip(x) == strip(y), {k: (x[k], y.get(k)) for k in x if k != "parse_seconds" and x[k] != y.get(k)}
    for t in ("requests", "messages", "traces", "test_specs"):
        assert a.table(t).equals(b.table(t)), t


def test_synth_truth_json_is_recognised_not_unknown(tmp_path):
    from kubelog.formats import truth
    from kubelog.formats.base import Head

    (tmp_path / "truth.json").write_text('{\n "generator": "kubelog synth",\n "nodes": 3\n}\n')
    (tmp_path / "other.json").write_text('{"generator": "something else"}\n')
    assert not truth.sniff(Head("other.json", b'{"generator": "something else"}'))
    run = ingest([tmp_path / "truth.json"], tmp_path / "run")
    e = run.inputs[0]
    assert e["format"] == "kubelog-truth" and e["counted"] == {truth.REASON: 4} and acc(e)


def test_block_worker_processes_give_the_same_tables(tmp_path, real_logs, monkeypatch):
    """Large plain inputs are parsed in worker processes; the tables must not change."""
    import shutil
    from kubelog.engine import blocks
    from kubelog.sources import lines as L

    p = tmp_path / "kube-apiserver.log"
    shutil.copy(real_logs / "apiserver_v1.19.4_arm64_skykying.log", p)
    with open(p, "ab") as f:  # an invalid UTF-8 line and a Trace block, in a later block
        f.write(b"I1119 12:13:08.000000    4178 x.go:1] caf\xe9\n")
        f.write((real_logs / "apiserver_v1.26.2_kubeadm_quangdaicaa.log").read_bytes().split(b"\n", 1)[1])
    monkeypatch.setattr(L, "BLOCK", 256 << 10)  # many blocks
    monkeypatch.setattr(blocks, "PROCESS_BLOCK", 256 << 10)
    monkeypatch.setattr(blocks, "PROCESS_MIN_BYTES", 0)
    gz = tmp_path / "kube-apiserver-2.log.gz"  # not a plain file: blocks are sent as bytes
    gz.write_bytes(gzip.compress(p.read_bytes()))
    a = ingest([p, gz], tmp_path / "threads", processes=False, year=2020)
    b = ingest([p, gz], tmp_path / "procs", processes=True, year=2020)
    strip = lambda e: {k: v for k, v in e.items() if k != "parse_seconds"}
    assert [strip(e) for e in a.inputs] == [strip(e) for e in b.inputs]
    assert a.inputs[0]["sha256"] == hashlib.sha256(p.read_bytes()).hexdigest()  # read by range, hashed whole
    assert a.inputs[0]["bytes"] == p.stat().st_size
    assert any("UTF-8" in x for x in b.inputs[0]["errors"])
    parts = sorted(x.name for x in (tmp_path / "procs" / "requests").glob("*.parquet"))
    assert len(parts) > 10 and any("-L" in x for x in parts)
    for t in ("requests", "messages", "traces", "trace_steps"):
        assert a.table(t).equals(b.table(t)), t


@pytest.mark.parametrize(
    "name,text,wrapper,counted",
    [
        (
            "minikube.log",
            "==> kube-apiserver [3b1c] <==\n* " + GOOD + "* " + GOOD,
            "minikube",
            {"minikube section header": 1},
        ),
        ("grep.txt", "1736:" + GOOD + "1737:" + GOOD, "grep-n", {}),
        ("color.log", "\x1b[0;32m" + GOOD.rstrip("\n") + "\x1b[0m\n" + GOOD, "", {}),
        ("kubectl-ts.log", "2017-09-22T12:31:05.27498918Z " + GOOD + "2017-09-22T12:31:05.3Z " + GOOD, "rfc3339", {}),
        (
            "journal.log",
            "-- Logs begin at Tue 2021-08-03 09:10:29 UTC, end at Tue 2021-08-03 10:14:01 UTC. --\n"
            "Jun 20 12:33:17.389016 master-1 kube-apiserver[11]: "
            + GOOD
            + "Jun 20 12:33:18 master-1 kube-apiserver[11]: "
            + GOOD,
            "journald",
            {"journald marker line": 1},
        ),
    ],
)
def test_wrappers(tmp_path, name, text, wrapper, counted):
    (tmp_path / name).write_text(text)
    run = ingest([tmp_path / name], tmp_path / "run", year=2021)
    e = run.inputs[0]
    assert e["wrapper"] == wrapper and e["rows"]["requests"] == 2 and e["counted"] == counted and acc(e)
    r = run.table("requests")
    assert list(r.user_agent) == ["kubelet/v1.30.2"] * 2 and list(r.line_no) == sorted(r.line_no)


def test_worker_server_started_early_only_for_large_inputs(tmp_path, monkeypatch):
    """An ingest of a large input starts the workers' fork server while it sniffs; not for small inputs."""
    from kubelog.engine import blocks, pool as workers

    big, small = tmp_path / "big.log", tmp_path / "small.log"
    big.write_bytes(b"x\n" * 5000)
    small.write_bytes(b"x\n")
    monkeypatch.setattr(blocks, "PROCESS_MIN_BYTES", 10_000)
    started = []
    monkeypatch.setattr(workers, "start_server", lambda: started.append(1))
    monkeypatch.delenv(workers.IN_WORKER_ENV, raising=False)
    assert workers.start_early([small]) is False and not started
    assert workers.start_early([small, tmp_path]) is True and started  # a directory holding big.log


def test_package_ingest_callable_after_the_module_is_imported(tmp_path):
    """README: `kubelog.ingest(paths, out)` works, again and after the engine was imported (a module
    named ``kubelog.ingest`` once shadowed the function)."""
    import kubelog
    import kubelog.engine  # noqa: F401

    p = tmp_path / "a.log"
    p.write_text(GOOD)
    run = kubelog.ingest([p], tmp_path / "run")
    assert run.rows("requests") == 1
    assert kubelog.ingest([p], tmp_path / "run2").rows("requests") == 1  # the second call too


@pytest.mark.parametrize("piece", [100, 256 << 10])
@pytest.mark.parametrize("with_boundary", [False, True])
@pytest.mark.parametrize("tail", [b"", b"last line without newline"])
def test_file_ranges_cover_the_file_like_blocks(tmp_path, monkeypatch, tail, with_boundary, piece):
    """lines.iter_file_ranges (large plain files, worker processes) cuts, counts, skips overlong
    lines and hashes exactly as iter_blocks reads a stream; every byte hashed once; with a
    record boundary every range starts at a record (the cut searched back past read pieces)."""
    import hashlib
    import random
    from kubelog.formats import klog
    from kubelog.sources import lines as L

    monkeypatch.setattr(L, "MAX_LINE", 3000)
    monkeypatch.setattr(L, "RANGE_PIECE", piece)
    rnd = random.Random(4)
    parts = []
    for _i in range(400):
        k = rnd.random()
        n = 5000 if k < 0.02 else (1500 if k < 0.05 else rnd.randint(0, 120))  # overlong, longer than a block
        parts.append(b"I0101 00:00:00.000000 1 a.go:1] " + b"x" * n + (b"\r" if k > 0.97 else b"") + b"\n")
        if with_boundary and rnd.random() < 0.3:  # continuation lines: never the start of a range
            parts.append(b"\tcontinued\n" * rnd.randint(1, 12))
    data = b"".join(parts) + tail
    p = tmp_path / "f.log"
    p.write_bytes(data)
    block = 1024
    boundary = L.make_boundary([], klog.HEADER_START) if with_boundary else None
    s1, s2 = L.ReaderStats(), L.ReaderStats()
    want = [(first, n, d) for d, first, n in L.iter_blocks(io.BytesIO(data), block, s1, boundary)]
    sha = hashlib.sha256()
    with open(p, "rb") as f:
        got = [
            (first, n, data[a:b] + (b"" if data[a:b].endswith(b"\n") else b"\n"))
            for a, b, first, n in L.iter_file_ranges(f.fileno(), len(data), block, s2, boundary, sha)
        ]
    assert sha.hexdigest() == hashlib.sha256(data).hexdigest()
    lines_w = [(first + i, ln) for first, n, d in want for i, ln in enumerate(d.split(b"\n")[:-1])]
    lines_g = [(first + i, ln) for first, n, d in got for i, ln in enumerate(d.split(b"\n")[:-1])]
    # every line with its number, but those longer than MAX_LINE; both readers (iter_blocks once kept
    # them while it held a record to find the next record start)
    lines_t = [(i + 1, ln) for i, ln in enumerate((data + b"\n").split(b"\n")[:-1]) if len(ln) + 1 <= 3000]
    if not tail:
        lines_t = [x for x in lines_t if x[0] <= data.count(b"\n")]
    assert lines_g == lines_t
    assert lines_w == lines_t
    assert all(n == d.count(b"\n") for _, n, d in want)
    assert all(n == d.count(b"\n") for _, n, d in got)
    if with_boundary:  # ranges start at records, or after a line longer than the block (its own range)
        phys = data.split(b"\n")
        assert all(d.startswith(b"I0101") or len(phys[first - 2]) >= block for first, _, d in got)
    assert s2.counted["overlong line (> 32 MiB, skipped)"][0] == sum(len(ln) + 1 > 3000 for ln in data.split(b"\n"))
    assert s1.counted.keys() == s2.counted.keys() and [c[0] for c in s1.counted.values()] == [
        c[0] for c in s2.counted.values()
    ]
    assert s1.skipped == s2.skipped == s2.counted["overlong line (> 32 MiB, skipped)"][0]


@pytest.mark.parametrize("no_native", [False, True])
def test_message_after_header_bytes_not_characters(no_native, monkeypatch):
    """The message is cut after the header's `]` by byte offset (find_substring gives bytes),
    one leading space dropped, whatever non-ASCII text comes before it."""
    import numpy as np
    import pyarrow as pa
    from kubelog.formats import klog

    if no_native:
        monkeypatch.setenv("KUBELOG_NO_NATIVE", "1")
    a = pa.array(["é]xyz", "ab] c", "x", "", "abc]", "q]  two", "ü€] ok"])
    starts = np.array([3, 3, 0, 0, 4, 2, 6])
    assert klog._after(a, starts).to_pylist() == ["xyz", "c", "x", "", "", " two", "ok"]
    assert klog._after(a.slice(1), starts[1:]).to_pylist() == ["c", "x", "", "", " two", "ok"]


@pytest.mark.parametrize("how", ["plain-threads", "plain-processes", "gzip"])
@pytest.mark.parametrize("max_line,long_len", [(20 << 10, 30 << 10), (10 << 10, 12 << 10)])
def test_overlong_lines_are_read_lines(tmp_path, monkeypatch, how, max_line, long_len):
    """A line longer than MAX_LINE is skipped and counted, and it is still a line read: the
    accounting holds (it once reported 'accounting overshoot ... (parser bug)').  MAX_LINE above 4
    blocks, as 32 MiB is for 4 MiB blocks, and below, as for the 16 MiB blocks of a large compressed
    input: the stream reader once kept such a line while it looked ahead for the next record start."""
    from kubelog.engine import blocks
    from kubelog.sources import lines as L

    monkeypatch.setattr(L, "MAX_LINE", max_line)
    monkeypatch.setattr(L, "BLOCK", 4 << 10)
    monkeypatch.setattr(blocks, "PROCESS_BLOCK", 4 << 10)
    monkeypatch.setattr(blocks, "PROCESS_MIN_BYTES", 0 if how == "plain-processes" else 1 << 40)
    lines = [b"I0101 00:00:0%d.000000 1 a.go:1] msg %d\n" % (i % 10, i) for i in range(3000)]
    long = b"I0101 00:00:00.000000 1 a.go:1] " + b"x" * long_len + b"\n"
    data = b"".join(lines[:1000] + [long] + lines[1000:2000] + [long, long] + lines[2000:])
    p = tmp_path / ("k.log.gz" if how == "gzip" else "k.log")
    p.write_bytes(gzip.compress(data) if how == "gzip" else data)
    run = ingest([p], tmp_path / "run", processes=how == "plain-processes", year=2023)
    e = run.inputs[0]
    assert e["counted"] == {"overlong line (> 32 MiB, skipped)": 3}, e
    assert e["lines_read"] == data.count(b"\n") == e["record_lines"] + e["continuation_lines"] + 3
    assert not any("parser bug" in x for x in e["errors"]), e["errors"]
    assert run.rows("messages") == 3000
