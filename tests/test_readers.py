"""Every table kubelog writes reads the same in pyarrow, pandas, DuckDB, Polars and fastparquet.

The parts are written by pyarrow's own Parquet writer (kubelog.run.write_part / open_part): on a
sample run (every format of a generated run, written in this process) and on an apiserver log parsed
by worker processes (the parts they write themselves, dictionary columns included).
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

duckdb = pytest.importorskip("duckdb")
pl = pytest.importorskip("polars")
fastparquet = pytest.importorskip("fastparquet")

SAMPLES = Path(__file__).resolve().parent.parent / "sample_logs"


def _norm(t: pa.Table, names: list[str]) -> dict[str, list]:
    """Column name -> Python values, in a form every reader can give: dictionaries decoded, strings
    of any width as str, timestamps as UTC nanoseconds since the epoch, NaN as None."""
    out = {}
    for name in names:
        c = t.column(name).combine_chunks() if t.num_rows else pa.array([], t.schema.field(name).type)
        if pa.types.is_dictionary(c.type):
            c = c.dictionary_decode()
        if pa.types.is_timestamp(c.type):
            if c.type.tz is None:  # a reader that dropped the zone still gives UTC wall time
                c = pc.assume_timezone(c, "UTC")
            c = c.cast(pa.timestamp("ns", "UTC")).cast(pa.int64())
        elif pa.types.is_large_string(c.type) or pa.types.is_string_view(c.type):
            c = c.cast(pa.string())
        elif pa.types.is_floating(c.type):
            c = pc.if_else(pc.is_nan(c), None, c)
        out[name] = c.to_pylist()
    return out


def _readers(f: Path) -> dict[str, pa.Table]:
    """One part file read by each library, as an Arrow table (only the reading is theirs)."""
    import pandas as pd

    rel = duckdb.sql(f"SELECT * FROM read_parquet('{f}')")
    return {
        "pandas": pa.Table.from_pandas(pd.read_parquet(f), preserve_index=False),
        "duckdb": rel.to_arrow_table() if hasattr(rel, "to_arrow_table") else rel.arrow(),  # duckdb < 1.4
        "polars": pl.read_parquet(f).to_arrow(),
        "fastparquet": pa.Table.from_pandas(fastparquet.ParquetFile(str(f)).to_pandas(), preserve_index=False),
    }


def check_run(root: Path) -> int:
    """Compare every part of every table of the run at ``root``; returns how many parts."""
    parts = sorted(root.glob("*/part-*.parquet"))
    for f in parts:
        ref = pq.read_table(f)
        want = _norm(ref, ref.column_names)
        for who, t in _readers(f).items():
            assert sorted(t.column_names) == sorted(ref.column_names), (who, f)
            assert t.num_rows == ref.num_rows, (who, f)
            got = _norm(t, ref.column_names)
            for name in ref.column_names:
                assert got[name] == want[name], f"{who} reads {f.relative_to(root)} column {name} otherwise"
    return len(parts)


@pytest.mark.slow
def test_every_table_of_a_sample_run_reads_the_same_everywhere(sample_runs):
    run, _ = sample_runs["healthy-1.28"]
    n = check_run(Path(run.path))
    tables = {p.parent.name for p in Path(run.path).glob("*/part-*.parquet")}
    assert n >= 5 and {"requests", "messages", "events"} <= tables, tables


def test_parts_written_by_worker_processes_read_the_same_everywhere(tmp_path, monkeypatch):
    from kubelog import native
    from kubelog.engine import ingest
    from kubelog.engine import blocks
    from kubelog.synth.bench import write_apiserver_log

    if native.module() is None:
        pytest.skip("the Arrow path (no C scanner) parses in the main process")
    monkeypatch.setattr(blocks, "PROCESS_MIN_BYTES", 1)  # worker processes for this small file too
    log = tmp_path / "kube-apiserver.log"
    write_apiserver_log(log, 8_000, seed=5)
    run = ingest([log], tmp_path / "run")
    by_workers = sorted((tmp_path / "run" / "requests").glob("part-*-L*.parquet"))
    assert by_workers, "the workers wrote no parts of their own"
    assert run.rows("requests") > 4_000
    assert check_run(tmp_path / "run") >= len(by_workers)
