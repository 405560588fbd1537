"""The content of a run: inputs with their accounting, tables with rows and time range."""

from __future__ import annotations

import pyarrow.parquet as pq

from . import tables
from .run import Run

TIME_COLUMN = {
    "requests": "ts",
    "messages": "ts",
    "traces": "ts",
    "events": "ts",
    "pod_transitions": "ts",
    "node_transitions": "ts",
    "test_log": "ts",
    "test_specs": "start_ts",
    "progress": "ts",
    "perf_summaries": "ts",
}


def _time_range(run: Run, table: str):
    col = TIME_COLUMN.get(table)
    if not col:
        return None, None
    lo = hi = None
    for p in run.part_files(table):
        md = pq.ParquetFile(p, filesystem=run.fs).metadata
        idx = md.schema.to_arrow_schema().get_field_index(col)
        for rg in range(md.num_row_groups):
            st = md.row_group(rg).column(idx).statistics
            if st is None or not st.has_min_max:
                continue
            lo = st.min if lo is None or st.min < lo else lo
            hi = st.max if hi is None or st.max > hi else hi
    iso = lambda t: None if t is None else t.isoformat().replace("+00:00", "Z")
    return iso(lo), iso(hi)


UNACCOUNTED = "unaccounted (parser bug)"  # the reason Context.check_accounting counts


def balanced(e: dict) -> bool:
    """Whether the line accounting of manifest entry ``e`` balances: every line read is a record
    line, a continuation line or counted with a reason.  Lines lost (a block whose parser failed)
    or counted as unaccounted (a parser bug) never balance (docs/failures.md)."""
    counted = e.get("counted") or {}
    lost = e.get("lost_lines", 0)
    return (
        not lost
        and not counted.get(UNACCOUNTED)
        and e.get("lines_read", 0) == e.get("record_lines", 0) + e.get("continuation_lines", 0) + sum(counted.values())
    )


def run_info(run: Run) -> dict:
    """``{"inputs": [...], "tables": {name: {"rows", "ts_min", "ts_max"}}}`` (see `kubelog info --help`)."""
    inputs = []
    for e in run.inputs:
        d = dict(e)
        d.setdefault("lost_lines", 0)
        d["accounting_ok"] = balanced(d)
        inputs.append(d)
    tabs = {}
    for t in tables.TABLES:
        n = run.rows(t)
        if n:
            lo, hi = _time_range(run, t)
            tabs[t] = {"rows": n, "ts_min": lo, "ts_max": hi}
    return {"inputs": inputs, "tables": tabs}
