"""Writing and opening a run directory.

Layout::

    RUN/manifest.json
    RUN/<table>/part-<source_id>-<seq>.parquet

A run is written into ``RUN.tmp-<pid>`` next to its final place and renamed at
the end, so an interrupted ingest never leaves a directory that looks complete
(a complete run always has ``manifest.json`` with ``"complete": true``).
"""
from __future__ import annotations

import json
import os
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from . import tables

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow.parquet as pq

MANIFEST = "manifest.json"
PART_ROWS = 131_072  # rows buffered per table before a row group is written ...
PART_BYTES = 4 << 20  # ... or this many bytes of them, whichever comes first


class RunExists(Exception):
    pass


class NotARun(Exception):
    pass


def open_part(path: Path, table: str, schema: pa.Schema) -> pq.ParquetWriter:
    """A Parquet writer for one part file of ``table``: snappy (none for ``tables.UNCOMPRESSED``),
    dictionary encoding only on the low-cardinality string columns, statistics only on ``ts``.

    ``schema`` may have dictionary-encoded string columns (:func:`kubelog.tables.conform`
    with ``dictionary``): their dictionaries are written as they are, and the file then
    does not store the Arrow schema, so that it reads back with the declared string type.
    """
    import pyarrow.parquet as pq  # here: worker processes write their parts with kubelog.pqwrite
    has_dict = any(pa.types.is_dictionary(f.type) for f in schema)
    return pq.ParquetWriter(path, schema, compression=tables.compression(table),
                            use_dictionary=tables.dictionary_columns(table),
                            write_statistics=["ts"] if "ts" in schema.names else False,
                            store_schema=not has_dict)


def write_part(path: Path, table: str, t: pa.Table) -> None:
    """Write ``t`` (rows of ``table``, at most :data:`PART_ROWS`) as one Parquet part file, with
    the layout of :func:`open_part`: by :mod:`kubelog.pqwrite` where it can (a third of pyarrow's
    time on request rows), else by pyarrow."""
    from . import pqwrite
    stats = {"ts"} & set(t.column_names)
    if pqwrite.write(path, t, tables.compression(table), set(tables.dictionary_columns(table)), stats,
                     max_rows=PART_ROWS):
        return
    with open_part(path, table, t.schema) as w:
        w.write_table(t, row_group_size=PART_ROWS)


class PartWriter:
    """Streams rows of each table for one input into Parquet files.

    Rows are buffered per table until :data:`PART_ROWS` rows or :data:`PART_BYTES`
    bytes and then written as a row group of ``<table>/part-<source_id>-0000.parquet`` (one open writer per table),
    so memory stays bounded whatever the size of the input.  Thread-safe.
    """

    def __init__(self, root: Path, source_id: int):
        self.root = root
        self.source_id = source_id
        self._buf: dict[str, list[pa.Table]] = {}
        self._n: dict[str, int] = {}
        self._bytes: dict[str, int] = {}
        self._writers: dict[str, pq.ParquetWriter] = {}
        self._lock = threading.Lock()

    def __call__(self, table: str, t: pa.Table) -> None:
        with self._lock:
            self._buf.setdefault(table, []).append(t)
            self._n[table] = self._n.get(table, 0) + t.num_rows
            self._bytes[table] = self._bytes.get(table, 0) + t.nbytes
            if self._n[table] >= PART_ROWS or self._bytes[table] >= PART_BYTES:
                self._flush(table)

    def _flush(self, table: str) -> None:
        parts = self._buf.pop(table, [])
        self._n.pop(table, None)
        self._bytes.pop(table, None)
        if not parts:
            return
        t = pa.concat_tables(parts)
        if t.num_rows == 0:
            return
        w = self._writers.get(table)
        if w is None:
            d = self.root / table
            d.mkdir(parents=True, exist_ok=True)
            w = self._writers[table] = open_part(d / f"part-{self.source_id:05d}-0000.parquet", table, t.schema)
        w.write_table(t)

    def close(self) -> None:
        with self._lock:
            for table in list(self._buf):
                self._flush(table)
            for w in self._writers.values():
                w.close()
            self._writers.clear()


def tmp_dir_for(out: Path) -> Path:
    return out.parent / f".{out.name}.tmp-{os.getpid()}"


def prepare(out: Path, force: bool = False) -> Path:
    """Check ``out`` may be written and return a fresh temporary directory beside it."""
    out = Path(out)
    if out.exists():
        if not force:
            raise RunExists(f"{out} exists; use --force to replace it")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = tmp_dir_for(out)
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    return tmp


def finish(tmp: Path, out: Path, manifest: dict) -> None:
    """Write the manifest and move the finished run into place."""
    manifest = dict(manifest, complete=True)
    (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=False, default=str) + "\n")
    out = Path(out)
    if out.exists():
        old = out.parent / f".{out.name}.old-{os.getpid()}"
        out.rename(old)
        tmp.rename(out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        tmp.rename(out)


@dataclass
class Run:
    """An opened run directory: the manifest and lazy access to the tables.

    >>> run = open_run("out/run1")          # doctest: +SKIP
    >>> run.requests().groupby("verb").size()   # one row per request   # doctest: +SKIP
    >>> run.table("messages")                    # any table, one row per record   # doctest: +SKIP
    """

    path: Path
    manifest: dict[str, Any]

    @property
    def inputs(self) -> list[dict]:
        return self.manifest.get("inputs", [])

    def has(self, table: str) -> bool:
        d = self.path / table
        return d.is_dir() and any(d.glob("*.parquet"))

    def arrow(self, table: str, columns: list[str] | None = None, filter=None) -> pa.Table:
        """The table as Arrow, with its declared schema (empty if no input produced it)."""
        sch = tables.schema(table)
        if not self.has(table):
            t = sch.empty_table()
            return t.select(columns) if columns else t
        import pyarrow.dataset as ds  # imported here: worker processes that only write need none of it
        dset = ds.dataset(self.path / table, format="parquet", schema=sch)
        return dset.to_table(columns=columns, filter=filter)

    def table(self, table: str, columns: list[str] | None = None, filter=None) -> pd.DataFrame:
        """The table as a pandas DataFrame (timestamps tz-aware UTC)."""
        return self.arrow(table, columns, filter).to_pandas()

    def requests(self, columns: list[str] | None = None) -> pd.DataFrame:
        """One row per API request, whichever logs recorded it.

        ``table("requests")`` has a row per *record*: a request the access log and the audit log both
        logged is there twice (``origin`` httplog and audit).  This view keeps the access-log row and
        fills what only the audit event has (user, stage), with the rule of
        :func:`kubelog.formats.audit.dedup_requests`; ``origin`` says where each row came from.  Long-
        running requests are kept (``long_running``); :func:`kubelog.analysis.latency.api_requests`
        is the view the latency SLIs use.

        >>> run.requests().groupby("origin").size()   # doctest: +SKIP
        """
        from .formats.audit import dedup_requests
        need = None if columns is None else sorted(set(columns) | {"origin", "audit_id", "stage", "server",
                                                                  "user", "auth_user"})
        df, _, _ = dedup_requests(self.table("requests", columns=need))
        df = df.reset_index(drop=True)
        return df if columns is None else df[list(columns)]

    def rows(self, table: str) -> int:
        if not self.has(table):
            return 0
        import pyarrow.parquet as pq
        return sum(pq.ParquetFile(p).metadata.num_rows for p in sorted((self.path / table).glob("*.parquet")))

    def source_name(self, source_id: int) -> str:
        return self.inputs[source_id]["path"]

    def where(self, source_id: int, line_no: int) -> str:
        """``file:line`` of a row, for evidence."""
        return f"{self.source_name(int(source_id))}:{int(line_no)}"


def open_run(path: str | os.PathLike) -> Run:
    """Open a run directory written by ``kubelog ingest``."""
    p = Path(path)
    m = p / MANIFEST
    if not m.is_file():
        raise NotARun(f"{p} is not a kubelog run directory (no {MANIFEST}); create one with `kubelog ingest`")
    manifest = json.loads(m.read_text())
    if not manifest.get("complete"):
        raise NotARun(f"{p}: the run is incomplete (its ingest did not finish)")
    return Run(p, manifest)
