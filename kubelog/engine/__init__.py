"""The ingest engine: inputs → run directory (Parquet tables + manifest).

All execution of an ingest is here (docs/internals.md): planning the inputs, running their parsing
on an executor, the Parquet parts, the accounting merge, the manifest and the atomic rename
(:mod:`kubelog.engine.core`).  The formats are parsers only (:mod:`kubelog.formats`).

``kubelog.ingest(paths, out)`` (the package's shortcut) and ``kubelog.engine.ingest`` are the same
function.
"""

from __future__ import annotations

from .core import (
    NOT_READ,
    Options,
    Scan,
    _progress_line,
    ingest,
    not_read,
    not_read_line,
    parse_ref,
    prescan,
    quiet_lines,
    resolve_years,
)

__all__ = [
    "NOT_READ",
    "Options",
    "Scan",
    "ingest",
    "not_read",
    "not_read_line",
    "parse_ref",
    "prescan",
    "quiet_lines",
    "resolve_years",
    "_progress_line",
]
