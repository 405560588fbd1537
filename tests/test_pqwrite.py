"""kubelog.pqwrite (the workers' Parquet writer) against pyarrow's writer, the reference."""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kubelog import native, pqwrite, run as runmod, tables

pytestmark = pytest.mark.skipif(native.module() is None, reason="C extension not built or disabled")

TS = pa.timestamp("ns", tz="UTC")


def _plain(t: pa.Table) -> pa.Table:
    """``t`` with dictionary columns as the strings they read back as."""
    return pa.table({c: (t[c].cast(pa.string()) if pa.types.is_dictionary(t[c].type) else t[c])
                     for c in t.column_names})


def _roundtrip(tmp_path, t: pa.Table, dictionary=(), statistics=("ts",), compression=None):
    comp = compression or {c: "snappy" for c in t.column_names}
    fast, ref = tmp_path / "fast.parquet", tmp_path / "ref.parquet"
    assert pqwrite.write(fast, t, comp, set(dictionary), set(statistics))
    pq.write_table(t, ref, compression=comp, use_dictionary=list(dictionary) or False,
                   write_statistics=[s for s in statistics if s in t.column_names], store_schema=False)
    a, b = pq.read_table(fast), pq.read_table(ref)
    assert a.schema.equals(b.schema)
    assert a.equals(b)
    assert a.equals(_plain(t))
    return pq.ParquetFile(fast).metadata, pq.ParquetFile(ref).metadata


def test_every_column_kind_with_and_without_nulls(tmp_path):
    n = 1003  # not a multiple of 8: the last bit-packed group is padded
    rng = np.random.default_rng(7)
    valid = rng.random(n) > 0.3
    ts = np.cumsum(rng.integers(0, 10**6, n)) + 1_700_000_000 * 10**9
    words = ["get", "list", "", "wätch", "x" * 300, "a\nb", "ü"]
    strs = [words[i % len(words)] + str(i % 13) for i in range(n)]
    dict_vals = pa.array(["pods", "nodes", "", "events", "unused"])
    idx = rng.integers(0, 4, n).astype(np.int32)
    cols = {
        "ts": pa.array(ts, TS),
        "ts_nulls": pa.array(ts, TS, mask=~valid),
        "i32": pa.array(rng.integers(-2**31, 2**31 - 1, n, dtype=np.int64).astype(np.int32)),
        "i32_nulls": pa.array(rng.integers(0, 600, n).astype(np.int32), mask=~valid),
        "i64": pa.array(rng.integers(-2**62, 2**62, n)),
        "f64_nulls": pa.array(rng.random(n) * 1e3, mask=~valid),
        "bool": pa.array(rng.random(n) > 0.5),
        "bool_nulls": pa.array(rng.random(n) > 0.5, mask=~valid),
        "str": pa.array(strs),
        "str_nulls": pa.array(strs, mask=~valid),
        "str_all_null": pa.nulls(n, pa.string()),
        "str_dict_few": pa.array(strs, mask=~valid),
        "str_dict_const": pa.array(["apiserver"] * n),
        "str_dict_many": pa.array([f"pod-{i}" for i in range(n)]),  # > n/2 distinct: PLAIN
        "dict": pa.DictionaryArray.from_arrays(pa.array(idx), dict_vals),
        "dict_nulls": pa.DictionaryArray.from_arrays(pa.array(idx, mask=~valid), dict_vals),
        "dict_all_null": pa.DictionaryArray.from_arrays(pa.array(idx, mask=np.ones(n, bool)), dict_vals),
        "dict_one": pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, np.int32)), pa.array(["only"])),
    }
    t = pa.table(cols)
    fast, ref = _roundtrip(tmp_path, t, dictionary=["str_dict_few", "str_dict_const", "str_dict_many"],
                           statistics=["ts", "ts_nulls"])
    for name in ("ts", "ts_nulls"):
        i = t.column_names.index(name)
        sf, sr = fast.row_group(0).column(i).statistics, ref.row_group(0).column(i).statistics
        assert (sf.min, sf.max, sf.null_count) == (sr.min, sr.max, sr.null_count)
        assert sf.null_count == t[name].null_count
    assert not fast.row_group(0).column(t.column_names.index("str")).is_stats_set
    enc = {fast.row_group(0).column(i).path_in_schema: fast.row_group(0).column(i).encodings
           for i in range(fast.num_columns)}
    assert "RLE_DICTIONARY" in enc["str_dict_few"] and "RLE_DICTIONARY" in enc["dict_nulls"]
    assert "RLE_DICTIONARY" not in enc["str_dict_many"]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 40), st.integers(1, 30)), min_size=1, max_size=40),
       st.integers(0, 2**16), st.floats(0, 1))
def test_dictionary_indices_any_runs(runs, extra, null_share):
    """The RLE/bit-packed hybrid: runs and literals of any length, any bit width, nulls anywhere."""
    import tempfile
    from pathlib import Path
    size = max(v for v, _ in runs) + 1 + extra
    idx = np.concatenate([np.full(k, v, np.int32) for v, k in runs])
    mask = np.random.default_rng(len(idx)).random(len(idx)) < null_share
    arr = pa.DictionaryArray.from_arrays(pa.array(idx, mask=mask), pa.array([f"v{i}" for i in range(size)]))
    t = pa.table({"d": arr, "s": arr.cast(pa.string())})
    with tempfile.TemporaryDirectory() as d:
        _roundtrip(Path(d), t, dictionary=["s"])


@pytest.mark.slow
def test_requests_part_of_a_worker_block_equals_pyarrow(tmp_path):
    """A worker's requests part: the C scanner's dictionary columns, as the worker conforms them."""
    import os
    from kubelog.formats import klog
    from kubelog.synth import bench
    log = tmp_path / "a.log"
    bench.write_apiserver_log(log, 30_000, seed=3)
    state = dict(source_id=0, name="a.log", clock="apiserver", year=2023, tz="UTC", info={}, wrappers=[],
                 component="kube-apiserver", ansi=False, part_root=None)
    res = klog._parse_range_in_process(str(log), 0, os.path.getsize(log), 1, 30_000, state, True)
    t = tables.conform("requests", res.tables["requests"][0], dictionary=True)
    assert any(pa.types.is_dictionary(f.type) for f in t.schema)
    runmod.write_part(tmp_path / "fast.parquet", "requests", t)
    with runmod.open_part(tmp_path / "ref.parquet", "requests", t.schema) as w:
        w.write_table(t)
    a, b = pq.read_table(tmp_path / "fast.parquet"), pq.read_table(tmp_path / "ref.parquet")
    assert a.num_rows > 20_000 and a.schema.equals(tables.schema("requests"))
    assert a.equals(b)
    assert "kubelog" in pq.ParquetFile(tmp_path / "fast.parquet").metadata.created_by


def test_falls_back_where_it_does_not_handle(tmp_path):
    comp = {"a": "snappy"}
    p = tmp_path / "x.parquet"
    chunked = pa.table({"a": pa.chunked_array([pa.array([1, 2]), pa.array([3])])})
    sliced = pa.table({"a": pa.array([1, 2, 3]).slice(1)})
    other = pa.table({"a": pa.array([[1], [2]])})
    empty = pa.table({"a": pa.array([], pa.int64())})
    zstd = pa.table({"a": pa.array([1, 2])})
    for t, c in ((chunked, comp), (sliced, comp), (other, comp), (empty, comp), (zstd, {"a": "zstd"})):
        assert not pqwrite.write(p, t, c, set(), set())
        assert not p.exists()
    runmod.write_part(p, "requests", tables.conform("requests", {"verb": pa.array(["get"]).slice(0)}))
    assert pq.read_table(p).num_rows == 1


def test_bad_buffers_are_refused_not_read():
    nat = native.module()
    with pytest.raises(ValueError):
        nat.pq_encode(1, 100, None, b"\x00" * 8, None, 1, 0)          # 100 int32 in 8 bytes
    with pytest.raises(ValueError):
        nat.pq_encode(5, 2, None, np.array([0, 3], np.int32), None, 1, 2)  # index 3 in a 2-entry dictionary
    with pytest.raises(ValueError):
        nat.pq_encode(4, 2, None, b"ab", np.array([0, 1, 5], np.int32), 1, 0)  # offset past the data
    with pytest.raises(ValueError):
        nat.pq_dict_encode(2, None, b"ab", np.array([0, 2, 1], np.int32), 10)  # offsets out of order


@settings(max_examples=80, deadline=None)
@given(st.lists(st.one_of(st.none(), st.integers(-2**63, 2**63 - 1)), min_size=1, max_size=300),
       st.sampled_from(["int64", "int32", "ts"]))
def test_delta_binary_packed_any_integers(values, kind):
    """DELTA_BINARY_PACKED: wrapping deltas at the extremes, partial blocks and miniblocks, nulls."""
    import tempfile
    from pathlib import Path
    if kind == "int32":
        values = [None if v is None else (v % 2**32) - 2**31 for v in values]
        arr = pa.array(values, pa.int32())
    else:
        arr = pa.array(values, pa.int64())
        if kind == "ts":
            arr = arr.cast(TS)
    t = pa.table({"ts": arr})
    with tempfile.TemporaryDirectory() as d:
        fast, _ = _roundtrip(Path(d), t)
        col = fast.row_group(0).column(0)
        assert "DELTA_BINARY_PACKED" in col.encodings or arr.null_count == len(arr)


def test_strings_with_bytes_under_null_slots(tmp_path):
    """Arrow lets a null slot span bytes; DELTA_LENGTH_BYTE_ARRAY then leaves them out."""
    offsets = np.array([0, 2, 5, 5, 9], np.int32)
    valid = np.packbits(np.array([1, 0, 1, 1, 0, 0, 0, 0], np.uint8), bitorder="little")
    arr = pa.StringArray.from_buffers(4, pa.py_buffer(offsets), pa.py_buffer(b"abXYZcdef"), pa.py_buffer(valid), 1)
    assert arr.to_pylist() == ["ab", None, "", "cdef"]
    _, _ = _roundtrip(tmp_path, pa.table({"s": arr}))
    col = pq.ParquetFile(tmp_path / "fast.parquet").metadata.row_group(0).column(0)
    assert "DELTA_LENGTH_BYTE_ARRAY" in col.encodings
