"""Rendering DataFrames for the terminal: table, csv, json, markdown.

Every command that prints data takes ``--format table|csv|json|markdown`` and
calls :func:`render`.  JSON is a list of row objects (NaN → null).

Log text is hostile data, so the two formats that other programs interpret are
neutralised here, in one place for every command:

* markdown: ``&`` and ``<`` become HTML entities (``<img onerror=…>`` in a log line
  shows as text in a rendered page; without ``<`` no tag can open, so ``>100%`` stays), ``|`` is escaped (``\\|``) so it cannot open a
  table cell, and line breaks become spaces (a cell is one table row);
* CSV: a text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
  return gets a leading ``'`` (the OWASP rule against formula injection), so a
  spreadsheet shows it as text instead of evaluating it.  Numeric columns are
  written as they are (``-1.5`` stays a number).
"""
from __future__ import annotations

import json
import math
from enum import Enum

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported where used: `kubelog --help` and the CLI start without it
    import pandas as pd


class Fmt(str, Enum):
    table = "table"
    csv = "csv"
    json = "json"
    markdown = "markdown"


def _jsonable(v):
    import pandas as pd
    if v is None:
        return None
    if isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
        return None
    if isinstance(v, pd.Timestamp):
        return None if pd.isna(v) else v.isoformat()
    if hasattr(v, "item"):
        try:
            return _jsonable(v.item())
        except (ValueError, AttributeError):
            pass
    try:
        if pd.isna(v):
            return None
    except (TypeError, ValueError):
        pass
    return v


def records(df: pd.DataFrame) -> list[dict]:
    return [{k: _jsonable(v) for k, v in row.items()} for row in df.to_dict(orient="records")]


def _fmt_cell(v) -> str:
    import pandas as pd
    if v is None:
        return ""
    if isinstance(v, float):
        if math.isnan(v):
            return ""
        return f"{v:.6g}"
    try:
        if pd.isna(v):
            return ""
    except (TypeError, ValueError):
        pass
    return str(v)


def text_table(df: pd.DataFrame) -> str:
    import pandas as pd
    cols = [str(c) for c in df.columns]
    rows = [[_fmt_cell(v) for v in r] for r in df.itertuples(index=False)]
    widths = [max([len(c)] + [len(r[i]) for r in rows]) for i, c in enumerate(cols)]
    num = [pd.api.types.is_numeric_dtype(df[c]) for c in df.columns]
    def line(vals):
        return "  ".join(v.rjust(w) if n else v.ljust(w) for v, w, n in zip(vals, widths, num)).rstrip()
    out = [line(cols), line(["-" * w for w in widths])]
    out += [line(r) for r in rows]
    return "\n".join(out)


MD_ESCAPES = str.maketrans({"\\": "\\\\", "&": "&amp;", "<": "&lt;", "|": "\\|", "\n": " ", "\r": " "})
CSV_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def md_escape(s: str) -> str:
    """``s`` as the text of a markdown table cell: no HTML, no cell break, one line."""
    return s.translate(MD_ESCAPES)


def csv_neutral(v):
    """A CSV cell value that a spreadsheet shows as text, never evaluates (OWASP CSV injection)."""
    if isinstance(v, str) and v.startswith(CSV_FORMULA_START):
        return "'" + v
    return v


def csv_text(df: pd.DataFrame) -> str:
    import pandas as pd
    out = df.copy(deep=False)
    for c in out.columns:
        if not pd.api.types.is_numeric_dtype(out[c]) and not pd.api.types.is_datetime64_any_dtype(out[c]):
            out[c] = out[c].map(csv_neutral)
    out.columns = [csv_neutral(str(c)) for c in out.columns]
    return out.to_csv(index=False).rstrip("\n")


def markdown_table(df: pd.DataFrame) -> str:
    cols = [str(c) for c in df.columns]
    esc = md_escape
    out = ["| " + " | ".join(esc(c) for c in cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for r in df.itertuples(index=False):
        out.append("| " + " | ".join(esc(_fmt_cell(v)) for v in r) + " |")
    return "\n".join(out)


def render(df: pd.DataFrame, fmt: Fmt | str) -> str:
    fmt = Fmt(fmt)
    if fmt is Fmt.json:
        return json.dumps(records(df), indent=1, ensure_ascii=False)
    if fmt is Fmt.csv:
        return csv_text(df)
    if fmt is Fmt.markdown:
        return markdown_table(df)
    return text_table(df)
