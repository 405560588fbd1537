"""Columnar JSON readers for the audit log's blocks: speed per block and agreement on odd lines (issue 20).

The audit log's worker tasks parse each 8 MiB block of whole lines with ``pyarrow.json`` and kubelog's
explicit schema (``kubelog.formats.audit.EVENT_SCHEMA``, every other field ignored); a block it refuses
goes line by line (the reference).  This measures the maintained alternatives on the same blocks, one
thread each (the blocks are the parallelism), as CPU milliseconds per block (median of --repeat):

- ``pyarrow.json.read_json`` with the explicit schema (kubelog's path), and with the schema inferred;
- ``polars.read_ndjson`` with the same schema (then ``to_arrow``);
- DuckDB ``read_json`` (newline-delimited, the same columns and types), from a memfd;

then feeds each reader single odd lines (wrong types, a trailing comma, duplicate keys, escapes) and
prints what it makes of them next to ``pyarrow.json``: a reader kubelog uses must refuse what
``pyarrow.json`` refuses (so that the block goes line by line), or give the same values.

Usage (polars and duckdb are test dependencies):
    python bench/bench_json_readers.py [--dir /tmp/kubelog-bench-run] [--blocks 5] [--repeat 7]
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import time
from pathlib import Path

from _common import synthetic_run, timed

# DuckDB's spelling of EVENT_SCHEMA
DUCK_COLUMNS = (
    "{'apiVersion':'VARCHAR','kind':'VARCHAR','auditID':'VARCHAR','stage':'VARCHAR','requestURI':'VARCHAR',"
    "'verb':'VARCHAR','user':'STRUCT(username VARCHAR)','impersonatedUser':'STRUCT(username VARCHAR)',"
    "'sourceIPs':'VARCHAR[]','userAgent':'VARCHAR','objectRef':'STRUCT(resource VARCHAR, namespace VARCHAR, "
    "name VARCHAR, apiGroup VARCHAR, apiVersion VARCHAR, subresource VARCHAR)','responseStatus':'STRUCT(code BIGINT)',"
    "'requestReceivedTimestamp':'VARCHAR','stageTimestamp':'VARCHAR','timestamp':'VARCHAR',"
    "'metadata':'STRUCT(creationTimestamp VARCHAR)','responseObject':'STRUCT(metadata STRUCT(name VARCHAR))'}"
)

ODD = {
    "a number for a string": b'{"auditID":1,"verb":"get"}\n',
    "a string for an object": b'{"auditID":"a","user":"x"}\n',
    "a string for the code": b'{"auditID":"a","responseStatus":{"code":"200"}}\n',
    "a fraction for the code": b'{"auditID":"a","responseStatus":{"code":200.5}}\n',
    "true for a string": b'{"auditID":"a","verb":true}\n',
    "a trailing comma": b'{"auditID":"a",}\n',
    "a duplicate key": b'{"auditID":"a","auditID":"b"}\n',
    "escapes": b'{"auditID":"\\u00e9\\ud83d\\ude00"}\n',
    "a lone surrogate": b'{"auditID":"\\ud83d"}\n',
    "an array line": b"[1]\n",
}


def cpu_ms(fn, repeat: int) -> float:
    return timed(fn, repeat, time.process_time) * 1000


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", default="/tmp/kubelog-bench-run")
    ap.add_argument("--nodes", type=int, default=100)
    ap.add_argument("--scale", type=float, default=3.0)
    ap.add_argument("--blocks", type=int, default=5)
    ap.add_argument("--repeat", type=int, default=7)
    a = ap.parse_args()
    os.environ.setdefault("POLARS_MAX_THREADS", "1")
    import duckdb
    import polars as pl
    import pyarrow as pa
    import pyarrow.json as pj

    from kubelog.formats import audit as A

    audit = synthetic_run(Path(a.dir), a.nodes, a.scale) / "audit.log"
    size = audit.stat().st_size
    blocks = []
    with open(audit, "rb") as f:
        for k in range(a.blocks):
            f.seek((k + 1) * size // (a.blocks + 1))
            f.readline()
            data = f.read(A.READ)
            blocks.append(data[: data.rfind(b"\n") + 1])
    po = pj.ParseOptions(explicit_schema=A.EVENT_SCHEMA, unexpected_field_behavior="ignore")
    pl_schema = pl.from_arrow(A.EVENT_SCHEMA.empty_table()).schema
    con = duckdb.connect()
    con.execute("SET threads=1")

    def duck(data: bytes):
        fd = os.memfd_create("block")
        try:
            os.write(fd, data)
            q = f"select * from read_json('/proc/self/fd/{fd}', format='newline_delimited', columns={DUCK_COLUMNS})"
            return con.sql(q).to_arrow_table()
        finally:
            os.close(fd)

    def ro(data):
        return pj.ReadOptions(block_size=len(data) + 1, use_threads=False)

    readers = {
        "pyarrow.json, explicit schema (kubelog)": lambda d: pj.read_json(
            pa.BufferReader(d), read_options=ro(d), parse_options=po
        ),
        "pyarrow.json, schema inferred": lambda d: pj.read_json(pa.BufferReader(d), read_options=ro(d)),
        "polars.read_ndjson, same schema, to Arrow": lambda d: pl.read_ndjson(
            io.BytesIO(d), schema=pl_schema
        ).to_arrow(),
        "DuckDB read_json, same columns": duck,
    }
    print(f"load average before: {os.getloadavg()[0]:.1f}; {len(blocks)} blocks of ~{A.READ >> 20} MiB of {audit}")
    print()
    print("| reader | CPU ms per block (median of the blocks' medians) | min | max |")
    print("|---|---:|---:|---:|")
    for name, fn in readers.items():
        ms = [cpu_ms(lambda d=d, fn=fn: fn(d), a.repeat) for d in blocks]
        print(f"| {name} | {statistics.median(ms):.1f} | {min(ms):.1f} | {max(ms):.1f} |")
    print()

    def outcome(fn, line):
        try:
            t = fn(line)
        except Exception as e:  # noqa: BLE001 - what each reader says is the point
            return "refused (" + str(e).splitlines()[0][:60].replace("|", "/") + ")"
        row = t.to_pylist()[0]
        return ", ".join(f"{k}={v!r}" for k, v in row.items() if v is not None) or "(all null)"

    print("| line | pyarrow.json (kubelog) | polars | DuckDB |")
    print("|---|---|---|---|")
    names = list(readers)
    for what, line in ODD.items():
        cells = [outcome(readers[n], line) for n in (names[0], names[2], names[3])]
        print(f"| {what}: `{line.decode().strip()}` | " + " | ".join(cells) + " |")
    print()
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
