"""The audit log's columnar path against its per-row references on tricky requests (bench/README.md, round 5).

The columnar path classifies each distinct (method, URI) of the rows that need it once per process (a memo
across blocks), makes the classified columns only where they are read, skips the milestone rules for blocks
without creates and deletes of nodes and pods, and finds newlines and the latency annotations' key in one
pass by pieces.  None of it may change a row: every table of a block is compared with the line-by-line path
that classifies every URI, and the classification of every URI with the one-request reference
(``requestinfo.classify_one``).
"""

from __future__ import annotations

import io
import itertools
import json
import re
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from kubelog import native, tables
from kubelog.formats import audit as A
from kubelog.formats import requestinfo as R

URIS = [
    # resources, namespaced and not, with names, subresources, the namespace's own subresources
    "/api/v1/namespaces/ns1/pods/p1",
    "/api/v1/namespaces/ns1/pods",
    "/api/v1/pods",
    "/api/v1/nodes/n1/status",
    "/api/v1/namespaces/ns1/pods/p1/binding",
    "/api/v1/namespaces/ns1/pods/p1/status?timeout=5s",
    "/apis/apps/v1/namespaces/ns1/deployments/d1/status",
    "/apis/apps/v1/namespaces/ns1/deployments/d1/scale/extra",
    "/api/v1/namespaces/ns1",
    "/api/v1/namespaces",
    "/api/v1/namespaces/ns1/status",
    "/api/v1/namespaces/ns1/finalize",
    "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n1",
    "/api/v1/namespaces/ns%2F1/pods/p%201",
    "/api/v1/namespaces/ns1/pods/é",
    "//api//v1//namespaces//ns1//pods",
    "/api/v1/namespaces/ns1/pods/",
    # watch and list
    "/api/v1/pods?watch=true",
    "/api/v1/pods?watch=1&resourceVersion=5",
    "/api/v1/pods?watch=false",
    "/api/v1/pods?watch=0",
    "/api/v1/pods?watch=FALSE",
    "/api/v1/pods?watch",
    "/api/v1/pods?wat%63h=true",
    "/api/v1/pods?%77atch=1&limit=5",
    "/api/v1/pods?watch=tr%75e",
    "/api/v1/pods?watch=true;x=1",
    "/api/v1/pods?watch=true&watch=false",
    "/api/v1/pods?allowWatchBookmarks=true&watch=true",
    "/api/v1/pods?x=watch",
    "/api/v1/watch/namespaces/ns1/pods",
    "/api/v1/watch/namespaces/ns1/pods/p1",
    "/api/v1/watch/pods",
    "/api/v1/pods?labelSelector=name%3Ddensity&limit=500",
    "/api/v1/pods?fieldSelector=spec.nodeName%3Dn1&resourceVersion=0",
    # field selectors that name the object (or do not)
    "/api/v1/namespaces/ns1/pods?fieldSelector=metadata.name%3Dp2",
    "/api/v1/namespaces/ns1/pods?fieldSelector=metadata.name=p3&watch=true",
    "/api/v1/namespaces/ns1/pods?fieldSelector=metadata.name%3D%3Dp4",
    "/api/v1/namespaces/ns1/pods?fieldSelector=metadata.name%21%3Dp5",
    "/api/v1/namespaces/ns1/pods?fieldSelector=metadata.name%3D..",
    "/api/v1/namespaces/ns1/pods?fieldSelector=metadata.name%3Da%2Fb",
    "/api/v1/namespaces/ns1/pods?fieldSelector=status.phase%3DRunning%2Cmetadata.name%3Dp6",
    "/api/v1/nodes?fieldSelector=metadata.name%3Dn1",
    # long-running: proxy, connect subresources, log follow
    "/api/v1/namespaces/ns1/pods/p1/log?follow=true",
    "/api/v1/namespaces/ns1/pods/p1/log?follow=false",
    "/api/v1/namespaces/ns1/pods/p1/log",
    "/api/v1/namespaces/ns1/pods/p1/exec?command=ls",
    "/api/v1/namespaces/ns1/pods/p1/attach",
    "/api/v1/namespaces/ns1/pods/p1/portforward",
    "/api/v1/namespaces/ns1/pods/p1/proxy/metrics",
    "/api/v1/proxy/nodes/n1/metrics",
    "/api/v1/namespaces/ns1/services/s:80/proxy/x/y",
    "/api/v1/proxy/namespaces/ns1/services/s/x",
    # non-resource URLs and odd ones
    "/healthz",
    "/healthz/etcd",
    "/version",
    "/metrics",
    "/openapi/v2",
    "/api",
    "/api/v1",
    "/apis",
    "/apis/apps",
    "/apis/apps/v1",
    "/logs/kube-apiserver.log",
    "",
    "/",
    "/api/v1/pods?",
    "?watch=true",
]
VERBS = ["get", "list", "watch", "create", "update", "patch", "delete", "deletecollection", "proxy", "connect"]
VERBS += ["GET", "", None]
REFS = [
    None,
    {"resource": "pods", "namespace": "ns1", "name": "p1", "apiVersion": "v1"},
    {"resource": "pods", "namespace": "ns1", "apiVersion": "v1"},
    {"resource": "pods", "namespace": "ns1", "name": "", "subresource": "log"},
    {"resource": "nodes", "name": "n1", "subresource": "proxy"},
    {"resource": "pods", "name": "p1", "subresource": "binding", "namespace": "ns1"},
]


def _events(uris, seed: int = 0) -> bytes:
    rng = np.random.default_rng(seed)
    lines = []
    for i, (uri, verb, ref) in enumerate(itertools.product(uris, VERBS, REFS)):
        ev = {
            "kind": "Event",
            "apiVersion": "audit.k8s.io/v1",
            "auditID": f"id-{i}",
            "stage": "ResponseComplete",
            "requestURI": uri,
            "requestReceivedTimestamp": "2023-08-23T08:38:21.196808Z",
            "stageTimestamp": "2023-08-23T08:38:22.5Z",
            "responseStatus": {"code": int(rng.choice([200, 201, 404]))},
            "user": {"username": "u"},
            "sourceIPs": ["10.0.0.1"],
            "userAgent": "kubelet/v1.28.0",
        }
        if verb is not None:
            ev["verb"] = verb
        if ref is not None:
            ev["objectRef"] = ref
        lines.append(json.dumps(ev))
    order = rng.permutation(len(lines))  # every kind of row in every block
    return ("\n".join(lines[k] for k in order) + "\n").encode()


def _tables(data: bytes, columnar: bool, block: int = 64 << 10) -> dict[str, pa.Table]:
    got: dict[str, list] = {}
    first = 1
    for _, part in A.iter_line_blocks(io.BytesIO(data), size=block):
        p = A.prepare_block(first, part, columnar)
        assert p.carry.columnar == columnar
        first += p.n
        for t, parts in p.tables.items():
            got.setdefault(t, []).extend(parts)
    return {t: pa.concat_tables([tables.conform(t, x) for x in v]) for t, v in got.items()}


@pytest.mark.parametrize("memo_max", [A._MEMO_MAX, 7])
def test_columnar_rows_equal_the_classify_everything_reference(memo_max, monkeypatch):
    """Every table of the columnar path equals the reference's (every URI classified, every event by
    ``json``), in blocks of a few hundred events: with the memo cold, warm (the same URIs again, in
    other blocks), and emptied again and again (a bound of 7 distinct URIs)."""
    monkeypatch.setattr(A, "_CLASSIFIED", {})
    monkeypatch.setattr(A, "_MEMO_MAX", memo_max)
    data = _events(URIS)
    slow = _tables(data, False)
    for seed in (0, 1):  # the memo filled by the first pass serves the second
        fast = _tables(_events(URIS, seed) if seed else data, True)
        ref = slow if not seed else _tables(_events(URIS, seed), False)
        assert fast.keys() == ref.keys() == {"requests", "pod_transitions", "node_transitions"}
        for t in fast:
            assert fast[t].schema == ref[t].schema, t
            for c in fast[t].column_names:
                assert fast[t].column(c).equals(ref[t].column(c)), (t, c)
    assert len(A._CLASSIFIED) <= max(memo_max, 1) + len(URIS) * 4


def test_classified_values_equal_the_one_request_reference(monkeypatch):
    """The memo's values for each (method, URI) are ``classify_one``'s, and a row that needs no
    classification (a named objectRef, no watch/proxy/log/fieldSelector word) gets the defaults."""
    monkeypatch.setattr(A, "_CLASSIFIED", {})
    methods = [A.VERB_METHOD.get(v, (v or "").upper()) for v in VERBS]
    pairs = list(itertools.product(methods, URIS))
    method = pa.array([m for m, _ in pairs], pa.string())
    uri = pa.array([u for _, u in pairs], pa.string())
    n = len(pairs)
    for has, name in ((False, None), (True, ""), (True, "p1")):
        has_ref = pa.array(np.full(n, has))
        ref_name = pa.array([name] * n, pa.string())
        info = A._classify_where_needed(method, uri, has_ref, ref_name)
        cols = {k: info[k].to_pylist() for k, _ in A._INFO}
        for i, (m, u) in enumerate(pairs):
            need = not has or name == "" or re.search(A._URI_MATTERS, u) is not None
            want = R.classify_one(m, u) if need else dict(A._INFO)
            assert {k: cols[k][i] for k in cols} == {k: want[k] for k in cols}, (m, u, has, name)
            for k, _ in A._INFO:
                one = info.constant(k)
                assert one is None or one == cols[k][i]


@pytest.mark.parametrize("piece", [16, 25, 26, 64, 1 << 20])
def test_scan_finds_newlines_and_the_key_across_pieces(piece, monkeypatch):
    """The newline positions are numpy's over the whole block, and the latency annotations' key is found
    wherever it lies, also across two pieces (pieces of 16 bytes: shorter than the key): the scan without
    the C scanner."""
    monkeypatch.setattr(A, "SCAN_PIECE", piece)
    key = A.LATENCY_ANNOTATION.encode()
    for at in range(0, 80, 3):
        data = b'{"a":1}\n' * 3 + b"x" * at + key + b'"}\n{"b":2}\n'
        ends, found = A._scan_numpy(data)
        assert found and ends.tolist() == np.flatnonzero(np.frombuffer(data, np.uint8) == 10).tolist()
        ends, found = A._scan_numpy(data.replace(key, key[:-1] + b"_"))
        assert not found
    ends, found = A._scan_numpy(b"no newline")
    assert ends.tolist() == [] and not found


def test_annotations_are_read_in_every_block_that_has_them():
    """A block whose only latency annotation is in its last line (the key past the first pieces) gets it."""
    line = {"kind": "Event", "auditID": "a", "stage": "ResponseComplete", "verb": "get", "requestURI": "/healthz"}
    lines = [json.dumps({**line, "auditID": f"a{i}"}) for i in range(3000)]
    lines.append(json.dumps({**line, "annotations": {"apiserver.latency.k8s.io/etcd": "1.5s", "other": "x"}}))
    data = ("\n".join(lines) + "\n").encode()
    assert len(data) > A.SCAN_PIECE
    p = A.prepare_block(1, data)
    lat = p.tables["requests"][0]["latency_annotations"]
    assert p.carry.columnar and pc.count(lat).as_py() == 1
    assert json.loads(lat[-1].as_py()) == {"apiserver.latency.k8s.io/etcd": "1.5s"}


@pytest.mark.slow
@pytest.mark.skipif(native.module() is None, reason="no worker processes without the C scanner")
def test_main_process_of_an_audit_ingest_by_workers_does_not_load_pandas(tmp_path):
    """The audit log's fold (waiting events settled across blocks, the ones still waiting at the end emitted)
    and the input's accounting run in the main process: converting a Python object to Arrow there made
    pyarrow import pandas (~0.2 CPU-s), which nothing else of the ingest's main process needs."""
    from test_audit import _completed_events

    lines = _completed_events(4000, started_every=97).decode().splitlines()
    tail = json.loads(lines[-1])
    lines.append(json.dumps({**tail, "auditID": "open-watch", "stage": "ResponseStarted", "verb": "watch"}))
    lines.append(json.dumps({**tail, "auditID": "no-end", "stage": "RequestReceived"}))
    (tmp_path / "audit.log").write_text("\n".join(lines) + "\n")
    code = r"""
import sys
from kubelog.engine import blocks, ingest
from kubelog.formats import audit
if __name__ == "__main__":
    blocks.PROCESS_MIN_BYTES = 1  # worker processes for this small file too
    audit.READ = 64 << 10  # several blocks: waiting events settled in the fold
    assert "pandas" not in sys.modules
    r = ingest([sys.argv[1]], sys.argv[2])
    import pathlib
    e = r.inputs[0]
    by_workers = len(list(pathlib.Path(sys.argv[2], "requests").glob("part-*-L*.parquet"))) > 1
    print("workers:", by_workers, "rows:", e["rows"]["requests"], "without end:", e["info"]["requests_without_end"],
          "pandas:", "pandas" in sys.modules)
"""
    script = tmp_path / "probe.py"
    script.write_text(code)
    r = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "audit.log"), str(tmp_path / "run")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stderr
    assert "workers: True rows: 4002 without end: 1 pandas: False" in r.stdout, r.stdout


def _rare_block(field: str | None, value, n: int = 40, at: int = 17) -> bytes:
    """``n`` completed pod creates; event ``at`` carries ``field`` = ``value`` (JSON null for None)."""
    lines = []
    for i in range(n):
        ev = {
            "kind": "Event",
            "apiVersion": "audit.k8s.io/v1",
            "auditID": f"id-{i}",
            "stage": "ResponseComplete",
            "verb": "create",
            "requestURI": "/api/v1/namespaces/ns1/pods",
            "objectRef": {"resource": "pods", "namespace": "ns1", "apiVersion": "v1"},
            "user": {"username": "alice"},
            "sourceIPs": ["10.0.0.1"],
            "responseStatus": {"code": 201},
            "requestReceivedTimestamp": "2023-08-23T08:38:21.196808Z",
            "stageTimestamp": "2023-08-23T08:38:22.5Z",
        }
        if i == at and field is not None:
            ev[field] = value
        lines.append(json.dumps(ev))
    return ("\n".join(lines) + "\n").encode()


_RARE_VALUES = [
    ("impersonatedUser", {"username": "bob"}),
    ("impersonatedUser", {}),
    ("timestamp", "2023-08-23T08:38:23Z"),
    ("metadata", {"creationTimestamp": "2023-08-23T08:38:24Z"}),
    ("responseObject", {"metadata": {"name": "p-x1y2z"}}),
    ("responseObject", {"kind": "Pod"}),
]


def _same_rows(data: bytes) -> None:
    fast, slow = A.prepare_block(1, data), A.prepare_block(1, data, columnar=False)
    assert fast.tables.keys() == slow.tables.keys()
    for t in fast.tables:
        f, s = (tables.conform(t, p.tables[t][0]) for p in (fast, slow))
        assert f.equals(s), (t, f.to_pylist()[:2], s.to_pylist()[:2])


@pytest.mark.parametrize("field,value", _RARE_VALUES)
def test_fields_most_events_lack_are_read_as_null_until_a_block_has_them(field, value, monkeypatch):
    """The fields of ``_RARE`` are read typed null (cheaper for pyarrow.json) until a block of the process has
    one: that block is read again with the full schema, and the blocks after with that field's own type.
    Every table is the full schema's, every row the line-by-line reference's."""
    monkeypatch.setattr(A, "_SEEN_RARE", frozenset())
    real = A._read_json
    schemas: list = []
    monkeypatch.setattr(A, "_read_json", lambda data, schema: schemas.append(schema) or real(data, schema))
    plain, carrying, null = _rare_block(None, None), _rare_block(field, value), _rare_block(field, None)
    # (block, pyarrow.json reads, field seen after)
    for data, reads, seen in ((plain, 1, False), (null, 1, False), (carrying, 2, True), (plain, 1, True)):
        schemas.clear()
        ends, _, braces = A._scan(data)
        got = A._fast(data, ends, len(ends), braces)
        assert got is not None and got.schema == A.EVENT_SCHEMA
        assert got.equals(real(data, A.EVENT_SCHEMA))
        assert len(schemas) == reads
        assert schemas[0].field(field).type == (A.EVENT_SCHEMA.field(field).type if seen and reads == 1 else pa.null())
        assert A._SEEN_RARE == ({field} if seen else set())
        _same_rows(data)


@pytest.mark.parametrize("field,value", [("impersonatedUser", "bob"), ("timestamp", 5), ("metadata", [1])])
def test_a_rare_field_of_the_wrong_type_sends_its_block_line_by_line(field, value, monkeypatch):
    """A rare field of the wrong type fails both reads: the block goes line by line (as with the full schema
    alone), nothing is remembered."""
    monkeypatch.setattr(A, "_SEEN_RARE", frozenset())
    data = _rare_block(field, value)
    ends, _, braces = A._scan(data)
    assert A._fast(data, ends, len(ends), braces) is None and A._SEEN_RARE == frozenset()
    assert not A.prepare_block(1, data).carry.columnar
    _same_rows(data)


@pytest.mark.skipif(native.module() is None, reason="the C scanner is not built")
def test_the_c_scan_of_a_block_equals_numpys(monkeypatch):
    """The C scanner's newline positions and latency key (by 256 KiB pieces in C) equal the numpy path's,
    with the key anywhere, also across the C scanner's pieces, cut short, at the very start and end."""
    nat = native.module()
    key = A.LATENCY_ANNOTATION.encode()
    rng = np.random.default_rng(3)
    line = b'{"a":"' + b"x" * 90 + b'"}\n'
    body = line * (600_000 // len(line))
    cases = [b"", b"\n", b"no newline", b"\n\n\nx", key, key + b"\n", body, body[:-1], body[:-7] + key[:-1]]
    for edge in (256 << 10, 512 << 10):
        for d in range(-len(key) - 1, 3):
            at = edge + d
            cases.append(body[:at] + key + body[at:])
            cases.append(body[:at] + key[:-1] + b"\n" + body[at:])
    cases += [bytes(rng.choice(np.frombuffer(b'\n{}"ab', np.uint8), 300_000)) for _ in range(3)]
    cases += [b'{"a":1}\n{"b":2}\n', b'{"a":1}\n\n{"b":2}\n', b'{"a":1}\n {"b":2}', b'{"a":1}\n{', b" {}\n"]
    cases += [body[:at] + b"x" + body[at:] for at in (0, 256 << 10, len(line) * 300, len(body) - 1)]
    for data in cases:
        want_ends, want_found = A._scan_numpy(data)
        ends, found, braces = A._scan(data)
        assert ends.dtype == want_ends.dtype == np.int64
        assert ends.tolist() == want_ends.tolist() and found == want_found == (key in data)
        lines = data.split(b"\n")
        if lines[-1] == b"":
            lines.pop()
        assert braces == A._braces(data, want_ends) == (bool(lines) and all(x[:1] == b"{" for x in lines)), data[:40]
        pos, _, _ = nat.scan_lines(data, b"")
        assert np.frombuffer(pos, np.int64).tolist() == want_ends.tolist()
    monkeypatch.setenv("KUBELOG_NO_NATIVE", "1")  # the numpy path
    ends, found, braces = A._scan(cases[-1])
    assert ends.tolist() == A._scan_numpy(cases[-1])[0].tolist() and braces is None


def test_a_block_part_is_written_from_dictionary_encoded_constants_and_user_agents(tmp_path):
    """The constant columns, the user agents and their clients reach the Parquet writer dictionary-encoded
    (it takes their dictionaries instead of hashing every value); the part reads back as the declared plain
    strings, the rows those of the decoded columns, also where user agents are missing."""
    import pyarrow.parquet as pq

    from kubelog.engine import folds

    lines = _events(URIS[:20]).splitlines()
    lines[5] = json.dumps({k: v for k, v in json.loads(lines[5]).items() if k != "userAgent"}).encode()
    for data in (_events(URIS[:20]), b"\n".join(lines) + b"\n"):
        p = A.prepare_block(1, data)
        cols = p.tables["requests"][0]
        for c in ("clock", "origin", "server", "user_agent", "client"):
            assert cols[c].type == tables.DICT_STR, c
        res = folds._result(p, 3, 1, tmp_path)
        path, rows = res.written["requests"]
        got = pq.read_table(path)
        want = tables.conform("requests", cols)
        want = want.set_column(want.schema.get_field_index("source_id"), "source_id", tables.repeat_int32(3, rows))
        assert got.schema == tables.schema("requests") and got.equals(want)
        assert got.column("user_agent").null_count == (data != _events(URIS[:20]))
