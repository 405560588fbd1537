"""kubelog.engine.folds: the audit log's byte ranges as tasks (local worker processes, Dask) give the rows,
accounting and errors of the format's serial parse; the cut of a file into ranges is the stream reader's."""

from __future__ import annotations

import io
import json
import random

import pyarrow as pa
import pytest

from kubelog.engine import Options, blocks, executors, folds, ingest
from kubelog.formats import audit as A
from kubelog.formats.base import Context

TABLES = ("requests", "pod_transitions", "node_transitions")


def _ev(aid: str | None, stage: str, i: int, **kw) -> dict:
    ev = {
        "kind": "Event",
        "apiVersion": "audit.k8s.io/v1",
        "level": "Metadata",
        "auditID": aid,
        "stage": stage,
        "verb": "get",
        "requestURI": f"/api/v1/namespaces/ns{i % 3}/pods/p{i}",
        "user": {"username": "system:node:n1", "groups": ["system:nodes"]},
        "sourceIPs": ["10.0.0.1"],
        "userAgent": "kubelet/v1.28.0 (linux/amd64) kubernetes/855e7c4",
        "objectRef": {"resource": "pods", "namespace": f"ns{i % 3}", "name": f"p{i}", "apiVersion": "v1"},
        "requestReceivedTimestamp": f"2023-08-23T08:{i // 60 % 60:02d}:{i % 60:02d}.100000Z",
        "stageTimestamp": f"2023-08-23T08:{i // 60 % 60:02d}:{i % 60:02d}.150000Z",
        "annotations": {"authorization.k8s.io/decision": "allow"},
    }
    if stage != "RequestReceived":
        ev["responseStatus"] = {"code": 200}
    if aid is None:
        del ev["auditID"]
    ev.update(kw)
    return ev


def _audit_log(n: int = 600) -> bytes:
    """``n`` completed gets and, spread over the blocks of 4 KiB: stage pairs split across blocks, a
    completion before its ResponseStarted (merged logs), events that never end, an anonymous
    RequestReceived, a malformed line, a blank line, an event of wrong types (line by line, in middle
    blocks), a generateName pod create, a node registration, a pod delete and a latency annotation."""
    rows: list = [json.dumps(_ev(f"id-{i:05d}", "ResponseComplete", i)) for i in range(n)]
    watch = dict(verb="watch", requestURI="/api/v1/pods?watch=true&fieldSelector=spec.nodeName%3Dn1", objectRef=None)
    special = {
        3: _ev("w-1", "ResponseStarted", 3, **watch),  # completed ~14 blocks later
        n - 20: _ev("w-1", "ResponseComplete", n - 20, **watch),
        10: _ev("r-1", "RequestReceived", 10),  # completed in the next block
        40: _ev("r-1", "ResponseComplete", 40),
        20: _ev("c-1", "ResponseComplete", 20, **watch),  # its ResponseStarted comes after it
        n - 100: _ev("c-1", "ResponseStarted", n - 100, **watch),
        30: _ev("w-open", "ResponseStarted", 30, **watch),  # a stream still open at the end
        60: _ev("r-open", "RequestReceived", 60),  # a request with no end
        70: _ev(None, "RequestReceived", 70),  # no ID: counted
        80: _ev("r-2", "RequestReceived", 80),
        81: _ev("r-2", "ResponseComplete", 81),  # in the same block
        200: "{broken",  # a middle block goes line by line
        201: "",
        205: json.dumps(_ev("t-1", "ResponseComplete", 205, verb=7)),
        250: _ev(
            "g-1",
            "ResponseComplete",
            250,
            verb="create",
            requestURI="/api/v1/namespaces/ns1/pods",
            objectRef={"resource": "pods", "namespace": "ns1", "apiVersion": "v1"},
            responseStatus={"code": 201},
            responseObject={"metadata": {"name": "rc-abcde"}},
        ),
        300: _ev(
            "n-1",
            "ResponseComplete",
            300,
            verb="create",
            requestURI="/api/v1/nodes",
            objectRef={"resource": "nodes", "name": "n1", "apiVersion": "v1"},
            responseStatus={"code": 201},
        ),
        350: _ev("d-1", "ResponseComplete", 350, verb="delete"),
        400: _ev("l-1", "ResponseComplete", 400, annotations={"apiserver.latency.k8s.io/total": "1.2s"}),
    }
    for i, ev in special.items():
        rows[i] = ev if isinstance(ev, str) else json.dumps(ev)
    return ("\n".join(rows) + "\n").encode()


def _serial(data: bytes, monkeypatch, columnar: bool = False):
    """The format's own serial parse (``audit.parse_json``, blocks in order, here): tables and context."""
    got: dict[str, list] = {}
    ctx = Context(0, "audit.log", lambda t, d: got.setdefault(t, []).append(d))
    A.parse_json(io.BytesIO(data), ctx, columnar=columnar)
    ctx.check_accounting()
    return {t: pa.concat_tables(v) for t, v in got.items()}, ctx


def _sorted(t: pa.Table) -> pa.Table:
    return t.drop_columns(["source_id"]).sort_by([("line_no", "ascending")])


def _assert_as_serial(run, ref_tables: dict, ref: Context) -> None:
    e = run.inputs[0]
    assert e["format"] == "audit-json" and not e["lost"] and e["lost_lines"] == 0
    assert (e["lines_read"], e["record_lines"]) == (ref.lines_read, ref.record_lines)
    assert e["counted"] == {k: v.count for k, v in ref.stats.items() if v.count}
    assert e["errors"] == [x.replace("audit.log", e["path"], 1) for x in ref.errors]
    assert e["component"] == ref.info["component"] == "kube-apiserver" and e["clock"] == "apiserver"
    info = {k: v for k, v in e["info"].items() if k != "audit_blocks"}
    assert info == {k: v for k, v in ref.info.items() if k not in ("audit_blocks", "component")}
    assert e["rows"] == {t: v.num_rows for t, v in ref_tables.items()}
    for t in TABLES:
        assert _sorted(run.arrow(t)).equals(_sorted(ref_tables[t])), t
    ps = run.table("parse_stats").set_index("reason")
    for reason, st in ref.stats.items():
        assert json.loads(ps.loc[reason, "examples"]) == st.examples, reason


@pytest.fixture
def small_blocks(monkeypatch):
    """Blocks of 4 KiB (~10 events), and any file large enough for byte ranges."""
    monkeypatch.setattr(A, "READ", 4 << 10)
    monkeypatch.setattr(blocks, "PROCESS_MIN_BYTES", 1)


def test_byte_ranges_on_worker_processes_give_the_serial_parse(tmp_path, monkeypatch, small_blocks):
    """The blocks prepared in two worker processes, each writing its own part of ``requests``, and folded
    in order here give the rows, accounting, errors and examples of the serial line-by-line reference:
    stage pairs split across blocks, a completion before its start, a malformed line in a middle block."""
    data = _audit_log()
    (tmp_path / "audit.log").write_bytes(data)
    run = ingest([tmp_path / "audit.log"], tmp_path / "r", options=Options(threads=2))
    ref_tables, ref = _serial(data, monkeypatch)
    _assert_as_serial(run, ref_tables, ref)
    parts = sorted((tmp_path / "r" / "requests").glob("part-00000-L*.parquet"))  # written by the range tasks
    assert len(parts) >= 10
    e = run.inputs[0]
    assert e["info"]["audit_blocks"]["line by line"] == 1 and e["info"]["audit_blocks"]["columnar"] >= 10
    assert e["counted"][A.STARTED_REASON] == 2 and e["counted"][A.RECEIVED_REASON] == 3
    assert e["info"]["requests_without_end"] == 1 and e["counted"]["not JSON (audit line)"] == 1
    assert e["sha256"] == __import__("hashlib").sha256(data).hexdigest() and e["bytes"] == len(data)
    # the serial and the columnar path of the format agree too, and the in-process engine path (threads)
    _assert_as_serial(run, *_serial(data, monkeypatch, columnar=True))
    here = ingest([tmp_path / "audit.log"], tmp_path / "h", options=Options(processes=False))
    _assert_as_serial(here, ref_tables, ref)
    assert not list((tmp_path / "h" / "requests").glob("part-*-L*.parquet"))


def test_a_line_too_long_keeps_its_place(tmp_path, monkeypatch, small_blocks):
    """A line over the format's limit (never read whole) is counted and said in its place among the
    ranges, the rest parsed as the serial reader does."""
    monkeypatch.setattr(A, "MAX_LINE", 6000)
    lines = _audit_log().split(b"\n")  # the last is empty: replaced by a long one without a newline
    lines[50] = b'{"x": "' + b"y" * 9000 + b'"}'
    lines[120] = b'{"x": "' + b"y" * 5000 + b'"}'  # long, under the limit: a line like others
    lines[-1] = b'{"x": "' + b"z" * 7000  # the last line too, without a newline
    data = b"\n".join(lines)
    (tmp_path / "audit.log").write_bytes(data)
    run = ingest([tmp_path / "audit.log"], tmp_path / "r", options=Options(threads=2))
    _assert_as_serial(run, *_serial(data, monkeypatch))
    e = run.inputs[0]
    assert e["counted"]["audit line too long (over 64 MiB, skipped)"] == 2
    assert [x.split(":")[1] for x in e["errors"] if "longer than" in x] == ["51", str(len(lines))]


@pytest.mark.parametrize("seed", range(12))
def test_file_ranges_cut_as_the_stream_reader(tmp_path, seed):
    """``folds.file_ranges`` gives the lines, line numbers and too-long lines of ``audit.iter_line_blocks``
    (random line lengths around the block and the limit, with or without a last newline) and hashes it all."""
    import hashlib

    rnd = random.Random(seed)
    lines = []
    for _ in range(rnd.randint(1, 400)):
        k = rnd.random()
        lines.append(b"x" * (rnd.randint(3000, 9000) if k < 0.05 else rnd.randint(0, 300)))
    data = b"\n".join(lines) + (b"\n" if rnd.random() < 0.5 else b"")
    p = tmp_path / "f"
    p.write_bytes(data)
    block, max_line = rnd.choice([1000, 4096, 20000]), rnd.choice([2500, 5000])
    want = []
    for ln, b in A.iter_line_blocks(io.BytesIO(data), max_line, block):
        if b is None:
            want.append((ln, None))
            continue
        parts = b.split(b"\n")
        if parts[-1] == b"":
            parts.pop()
        want += [(ln + k, x) for k, x in enumerate(parts)]
    got = []
    sha = hashlib.sha256()
    with open(p, "rb") as f:
        prev = 0
        for a, b, fl, n in folds.file_ranges(f.fileno(), len(data), block, max_line, sha):
            assert a == prev and b > a
            prev = b
            if n == 0:
                got.append((fl, None))
                continue
            parts = data[a:b].split(b"\n")
            if parts[-1] == b"":
                parts.pop()
            assert len(parts) == n
            got += [(fl + k, x) for k, x in enumerate(parts)]
        assert prev == len(data)
    assert got == want
    assert sha.digest() == hashlib.sha256(data).digest()


@pytest.mark.slow
def test_byte_ranges_on_a_dask_cluster_give_the_serial_parse(tmp_path, monkeypatch, small_blocks):
    """On a 2-worker Dask LocalCluster the client cuts and hashes the audit log, each range is a Dask task
    (``folds.range_task``) writing its part; the run is the serial parse's, as on the local pool."""
    data = _audit_log()
    (tmp_path / "audit.log").write_bytes(data)
    submitted = []
    submit = executors.DaskBlockPool.submit
    monkeypatch.setattr(
        executors.DaskBlockPool,
        "submit",
        lambda self, fn, *args: submitted.append(fn.__name__) or submit(self, fn, *args),
    )
    run = ingest([tmp_path / "audit.log"], tmp_path / "r", options=Options(scheduler="local:2"))
    _assert_as_serial(run, *_serial(data, monkeypatch))
    parts = sorted((tmp_path / "r" / "requests").glob("part-00000-L*.parquet"))
    assert len(parts) >= 10 and submitted == ["range_task"] * len(submitted) and len(submitted) >= len(parts)
    ingest([tmp_path / "audit.log"], tmp_path / "l", options=Options(threads=2))  # the local pool: same cut
    assert sorted(p.name for p in parts) == sorted(
        p.name for p in (tmp_path / "l" / "requests").glob("part-00000-L*.parquet")
    )
