"""Log templates (Drain, :mod:`kubelog.analysis.templates`) new or much more frequent in the window;
info. Weights: ``templates.*``."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .base import Ctx, Evidence, _first_line, _msg_text, register


@register("templates", order=170)
def templates(ctx: Ctx) -> None:
    """Drain log templates new or much more frequent in the window; without a window, the most frequent
    templates of error-level messages."""
    w0, w1, span_s = ctx.w0, ctx.w1, ctx.span_s
    m = ctx.table("messages", columns=["ts", "component", "level", "file", "line", "msg", "source_id", "line_no"])
    if not len(m):
        return
    if w0 is None:
        _error_templates(ctx, m)
        return
    from ..templates import compare_windows

    m = m.dropna(subset=["ts"]).reset_index(drop=True)
    if len(m) > 500_000:
        m = m[m["level"].isin(["E", "W", "F"]) | ((m["ts"] >= w0 - pd.Timedelta(minutes=10)) & (m["ts"] <= w1))]
        m = m.reset_index(drop=True)
    inw = ((m["ts"] >= w0) & (m["ts"] <= w1)).to_numpy()
    if inw.all() or not inw.any():
        return
    win_s = max((w1 - w0).total_seconds(), 1.0)
    rest_s = span_s - win_s
    if not (rest_s >= 60 or rest_s >= 0.5 * win_s):
        return  # the window is nearly the whole run: nothing to compare with
    c = compare_windows(m["msg"], inw, window_s=win_s, rest_s=max(span_s - win_s, 1.0))
    if not len(c):
        return
    top = c.head(5)
    ev = []
    for r in top.itertuples():
        if r.first_row >= 0:
            row = m.iloc[int(r.first_row)]
            ev.append(Evidence(ctx.where(row["source_id"], row["line_no"]), _msg_text(row)))
    lines = [
        f"'{_first_line(r.template, 120)}' {r.n_window}× in window"
        + (" (new)" if r.new else f" vs {r.n_rest}× before ({r.ratio:.0f}× the rate)")
        for r in top.itertuples()
    ]
    ctx.add(
        "info",
        f"{len(c)} log templates new or much more frequent in the window",
        "Drain templates of messages: " + "; ".join(lines) + ".",
        ev[:4],
        kind="templates",
        weight="templates.window",
    )


def _error_templates(ctx: Ctx, m: pd.DataFrame) -> None:
    """Without a window: the most frequent templates of E/F-level messages of the run."""
    from ..templates import mine_templates

    e = m[m["level"].isin(["E", "F"])].reset_index(drop=True)
    if len(e) < 3:
        return
    ids, t = mine_templates(e["msg"])
    t = t.sort_values("count", ascending=False).head(5)
    ev = []
    for tid in t["template_id"]:
        row = e.iloc[int(np.argmax(ids == tid))]
        ev.append(Evidence(ctx.where(row["source_id"], row["line_no"]), _msg_text(row)))
    ctx.add(
        "info",
        f"{len(e)} error-level log records in {len(set(ids.tolist()))} templates",
        "Most frequent Drain templates of E/F messages: "
        + "; ".join(f"'{_first_line(r.template, 120)}' ×{r.count}" for r in t.itertuples())
        + ".",
        ev[:4],
        kind="templates",
        weight="templates.errors",
    )
