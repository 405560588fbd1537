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
import os
import shutil
import sys
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


ELLIPSIS = "…"
SEP = "  "
#: Rows a table shows on an interactive terminal before "… N more rows (--all)".
TERMINAL_ROW_LIMIT = 50
#: Set by a command's ``--all``: no row limit on the terminal.
show_all = False


def terminal_width() -> int | None:
    """Width the ``table`` format must fit: ``$COLUMNS`` when set, else the terminal's width when stdout
    is a terminal, else ``None`` (no limit: a file or a pipe gets whole cells)."""
    env = os.environ.get("COLUMNS", "")
    if env.isdigit() and int(env) > 0:
        return int(env)
    if sys.stdout.isatty():
        return shutil.get_terminal_size().columns
    return None


def terminal_row_limit() -> int | None:
    """Rows a ``table`` shows: :data:`TERMINAL_ROW_LIMIT` on an interactive terminal, else all."""
    return None if show_all or not sys.stdout.isatty() else TERMINAL_ROW_LIMIT


def _fit(full: list[int], heads: list[int], numeric: list[bool], width: int) -> list[int]:
    """Column widths that fit ``width`` with :data:`SEP` between columns.

    Numbers keep their full width; text columns give way, the widest first, down to
    max(header, 8) characters (water-filling: one cap for every text column, the largest that fits).
    Columns that still do not fit get width 0 (left out, right to left).
    """
    sep = len(SEP) * (len(full) - 1)
    if sum(full) + sep <= width:
        return full
    floor = [f if num else min(f, max(h, 8)) for f, h, num in zip(full, heads, numeric)]
    widths = list(floor)
    while widths and sum(w for w in widths if w) + len(SEP) * (sum(1 for w in widths if w) - 1) > width:
        last = max(i for i, w in enumerate(widths) if w)
        if last == 0:  # a single column wider than the screen: cut it
            widths[0] = max(1, width)
            return widths
        widths[last] = 0
    shown = [i for i, w in enumerate(widths) if w]
    room = width - len(SEP) * (len(shown) - 1) - sum(widths[i] for i in shown)
    text = [i for i in shown if not numeric[i] and full[i] > widths[i]]
    lo, hi = 0, max((full[i] for i in text), default=0)
    while lo < hi:  # the largest cap c with sum(min(full, max(floor, c)) - floor) <= room
        c = (lo + hi + 1) // 2
        if sum(min(full[i], max(floor[i], c)) - floor[i] for i in text) <= room:
            lo = c
        else:
            hi = c - 1
    for i in text:
        widths[i] = min(full[i], max(floor[i], lo))
    return widths


def wrap_text(s: str, width: int | None = None) -> str:
    """Prose for the terminal: each line of ``s`` wrapped at ``width`` (default :func:`terminal_width`),
    continuation lines indented like the line they continue; unchanged when there is no limit."""
    import textwrap

    width = terminal_width() if width is None else width
    if not width:
        return s
    out = []
    for line in s.split("\n"):
        if len(line) <= width:
            out.append(line)
            continue
        indent = line[: len(line) - len(line.lstrip())]
        bullet = indent + ("  " if line.lstrip()[:2] in ("- ", "* ") else "")
        out.extend(
            textwrap.wrap(line, width=width, subsequent_indent=bullet, break_on_hyphens=False, break_long_words=True)
            or [""]
        )
    return "\n".join(out)


def fit_line(s: str, width: int | None = None) -> str:
    """``s`` cut to ``width`` (default :func:`terminal_width`) with "…"; whole when there is no limit."""
    width = terminal_width() if width is None else width
    return _cut(s, width) if width else s


def _cut(s: str, w: int) -> str:
    return s if len(s) <= w else s[: max(w - 1, 0)] + ELLIPSIS


def text_table(df: pd.DataFrame, width: int | None = None, limit: int | None = None, numeric: tuple = ()) -> str:
    """Aligned plain-text table: numbers right, text left, a dashed rule under the header.

    ``numeric``: text columns shown like numbers (right-aligned, never cut), e.g. fixed-point text.
    ``width``: no line is longer (long text cells end in "…", columns that cannot fit are left out
    and named in a last line); ``limit``: at most that many rows, then "… N more rows (--all)".
    """
    import pandas as pd

    cols = [str(c) for c in df.columns]
    more = 0
    if limit is not None and len(df) > limit:
        more = len(df) - limit
        df = df.iloc[:limit]
    # one line per cell: a newline inside log text would break the table's rows
    rows = [[_fmt_cell(v).replace("\n", " ") for v in r] for r in df.itertuples(index=False)]
    full = [max([len(c)] + [len(r[i]) for r in rows]) for i, c in enumerate(cols)]
    num = [pd.api.types.is_numeric_dtype(df[c]) or str(c) in numeric for c in df.columns]
    widths = _fit(full, [len(c) for c in cols], num, width) if width else full
    keep = [i for i, w in enumerate(widths) if w]

    def line(vals):
        cells = (_cut(vals[i], widths[i]) for i in keep)
        return SEP.join(v.rjust(widths[i]) if num[i] else v.ljust(widths[i]) for i, v in zip(keep, cells)).rstrip()

    out = [line(cols), line(["-" * w for w in widths])]
    out += [line(r) for r in rows]
    if len(keep) < len(cols):
        out.append(
            _cut(
                f"… columns not shown: {', '.join(c for i, c in enumerate(cols) if i not in keep)} "
                "(-F csv or -F json gives all)",
                width,
            )
        )
    if more:
        out.append(f"… {more:,} more rows (--all)")
    if width:
        out = [_cut(ln, width) for ln in out]
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


def render(df: pd.DataFrame, fmt: Fmt | str, numeric: tuple = ()) -> str:
    """``df`` in ``fmt``; ``numeric``: see :func:`text_table` (table format only)."""
    fmt = Fmt(fmt)
    if fmt is Fmt.json:
        return json.dumps(records(df), indent=1, ensure_ascii=False)
    if fmt is Fmt.csv:
        return csv_text(df)
    if fmt is Fmt.markdown:
        return markdown_table(df)
    return text_table(df, width=terminal_width(), limit=terminal_row_limit(), numeric=numeric)
