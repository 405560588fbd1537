"""Matplotlib plots of the report, as reproducible SVG data URIs.

SVG is written with a fixed ``svg.hashsalt`` and without the ``Date`` metadata, text as paths, so
the same run gives the same bytes.  Large runs are drawn from bounded summaries (quantile grids,
time bins), never from every request: a 2,000,000-request run plots in about the time of one sort.
"""

from __future__ import annotations

import base64
import io

import numpy as np
import pandas as pd

from ..analysis.stats import nearest_rank_index

MAX_GROUPS = 8
CDF_POINTS = 400
TIME_BINS = 120


def _mpl():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update(
        {"svg.hashsalt": "kubelog", "svg.fonttype": "path", "font.size": 8, "axes.titlesize": 9, "figure.dpi": 100}
    )
    return plt


def to_data_uri(fig) -> str:
    """Serialize a figure as ``data:image/svg+xml;base64,…`` (no date, fixed ids) and close it."""
    plt = _mpl()
    buf = io.BytesIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": "kubelog"}, bbox_inches="tight")
    plt.close(fig)
    return "data:image/svg+xml;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _group_name(r) -> str:
    s = f"{r['verb']} {r['resource']}"
    if r.get("subresource"):
        s += f"/{r['subresource']}"
    return s


def cdf_plot(req: pd.DataFrame):
    """Latency CDF per verb/resource (largest groups), log x axis (seconds)."""
    plt = _mpl()
    fig, ax = plt.subplots(figsize=(7, 3.6))
    sizes = (
        req.groupby(["verb", "resource", "subresource"], sort=True).size().sort_values(ascending=False, kind="stable")
    )
    for (v, r, s), _ in sizes.head(MAX_GROUPS).items():
        x = np.sort(
            req.loc[(req["verb"] == v) & (req["resource"] == r) & (req["subresource"] == s), "latency_s"].to_numpy(
                float
            )
        )
        x = np.maximum(x, 1e-6)
        q = np.linspace(0, 1, min(CDF_POINTS, len(x)) + 1)[1:]
        idx = [nearest_rank_index(len(x), p) for p in q]
        ax.step(
            x[idx],
            q,
            where="post",
            label=_group_name({"verb": v, "resource": r, "subresource": s}) + f" (n={len(x):,})",
        )
    ax.set_xscale("log")
    ax.set_xlabel("latency (s, log)")
    ax.set_ylabel("fraction ≤ x")
    ax.set_title("Latency CDF per verb/resource")
    _legend_outside(ax)
    ax.grid(True, alpha=0.3)
    return fig


def _legend_outside(ax, handles=None, labels=None):
    """The legend right of the axes, never over the data."""
    if handles is None:
        handles, labels = ax.get_legend_handles_labels()
    if handles:
        ax.legend(
            handles, labels, fontsize=6, loc="upper left", bbox_to_anchor=(1.02, 1), borderaxespad=0, frameon=False
        )


def time_plot(req: pd.DataFrame, timeline):
    """p50/p99 latency per time bin with the load level (% of capacity) overlaid."""
    plt = _mpl()
    fig, ax = plt.subplots(figsize=(7, 3.2))
    t = pd.to_datetime(req["start_ts"], utc=True)
    ok = t.notna().to_numpy()
    tn = t[ok].astype("int64").to_numpy() if hasattr(t, "astype") else np.array([])
    lat = req["latency_s"].to_numpy(float)[ok]
    if len(tn):
        lo, hi = tn.min(), tn.max()
        edges = np.linspace(lo, hi + 1, TIME_BINS + 1)
        b = np.clip(np.searchsorted(edges, tn, side="right") - 1, 0, TIME_BINS - 1)
        order = np.lexsort((lat, b))
        bs, ls = b[order], lat[order]
        counts = np.bincount(bs, minlength=TIME_BINS)
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        mids = (edges[:-1] + edges[1:]) / 2
        xs, p50, p99 = [], [], []
        for i in np.flatnonzero(counts):
            seg = ls[starts[i] : starts[i] + counts[i]]
            xs.append(mids[i])
            p50.append(seg[nearest_rank_index(len(seg), 0.5)])
            p99.append(seg[nearest_rank_index(len(seg), 0.99)])
        xs = pd.to_datetime(np.array(xs, dtype=np.int64), utc=True)
        ax.plot(xs, p50, label="p50", lw=1)
        ax.plot(xs, p99, label="p99", lw=1)
        ax.set_yscale("log")
    ax.set_ylabel("latency (s, log)")
    ax.set_xlabel("time (UTC, apiserver clock)")
    ax.set_title("API latency over time with load level")
    ax2 = ax.twinx()
    st = timeline.steps if timeline is not None else pd.DataFrame()
    if len(st) and timeline.capacity:
        ax2.step(pd.to_datetime(st["ts"], utc=True), st["load_pct"], where="post", color="grey", lw=0.8, label="load %")
    ax2.set_ylabel("load (% of capacity)")
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax2.legend(h1 + h2, l1 + l2, fontsize=6, loc="upper left", bbox_to_anchor=(1.12, 1), borderaxespad=0, frameon=False)
    fig.autofmt_xdate()
    return fig


def percentile_vs_load_plot(rows: pd.DataFrame, by: list, labels: list):
    """p99 (solid) and p50 (dashed) per load bucket for the largest groups."""
    plt = _mpl()
    fig, ax = plt.subplots(figsize=(7, 3.4))
    key = rows[by].astype(str).agg(" ".join, axis=1)
    tot = rows.groupby(key, sort=False)["count"].sum().sort_values(ascending=False, kind="stable")
    pos = {b: i for i, b in enumerate(labels)}
    for k in tot.index[:MAX_GROUPS]:
        g = rows[key == k]
        x = [pos[b] for b in g["bucket"]]
        (line,) = ax.plot(x, g["p99_s"], marker="o", ms=3, label=k.strip())
        if "p50_s" in g:
            ax.plot(x, g["p50_s"], ls="--", color=line.get_color(), lw=0.8)
    ax.set_xticks(range(len(labels)), [f"{b}%" for b in labels])
    ax.set_yscale("log")
    ax.set_xlabel("load bucket (% full)")
    ax.set_ylabel("latency (s, log); p99 solid, p50 dashed")
    ax.set_title("Percentile vs load level per group")
    _legend_outside(ax)
    ax.grid(True, alpha=0.3)
    return fig


def heatmap_plot(rows: pd.DataFrame, by: list, labels: list, max_groups: int = 30):
    """p99 (s, log colour) by group × load bucket, the largest groups; each cell annotated with its p99
    and n. A bucket no group has requests in (typically ">100") has no column."""
    plt = _mpl()
    from matplotlib.colors import LogNorm
    from ..analysis.matrix import display_name
    from . import numbers

    key = rows[by].astype(str).agg(" ".join, axis=1).str.strip()
    tot = rows.groupby(key, sort=False)["count"].sum().sort_values(ascending=False, kind="stable")
    groups = list(tot.index[:max_groups])
    present = set(rows["bucket"].astype(str))
    labels = [b for b in labels if b in present]
    mat = np.full((len(groups), len(labels)), np.nan)
    cnt = np.zeros((len(groups), len(labels)), dtype=np.int64)
    gi = {g: i for i, g in enumerate(groups)}
    bi = {b: i for i, b in enumerate(labels)}
    names = {}
    for k, b, v, n, r in zip(
        key, rows["bucket"].astype(str), rows["p99_s"], rows["count"], rows[by].to_dict("records")
    ):
        if k in gi and b in bi:
            mat[gi[k], bi[b]] = v
            cnt[gi[k], bi[b]] = n
            names[k] = display_name(r) if "verb" in r else k
    fig, ax = plt.subplots(figsize=(7, 0.9 + 0.26 * len(groups)))
    pos = mat[np.isfinite(mat) & (mat > 0)]
    norm = LogNorm(vmin=pos.min(), vmax=max(pos.max(), pos.min() * 1.0001)) if pos.size else None
    im = ax.imshow(np.where(mat > 0, mat, np.nan), aspect="auto", norm=norm, cmap="viridis", interpolation="nearest")
    for i in range(len(groups)):
        for j in range(len(labels)):
            if np.isfinite(mat[i, j]):
                light = norm is not None and norm(mat[i, j]) > 0.6
                ax.text(
                    j,
                    i,
                    f"{numbers.seconds(mat[i, j], 3)} s\nn={cnt[i, j]:,}",
                    ha="center",
                    va="center",
                    fontsize=5,
                    color="black" if light else "white",
                )
    ax.set_yticks(range(len(groups)), [names.get(g, g)[:48] for g in groups], fontsize=6)
    ax.set_xticks(range(len(labels)), [f"{b}% load" for b in labels])
    ax.set_title("p99 latency (s) and n by group × load bucket")
    fig.colorbar(im, ax=ax, label="p99 (s)")
    return fig


def waterfall_plot(per: pd.DataFrame, n: int = 40, max_stuck: int = 12):
    """Pod start-up waterfall: per pod, created→scheduled→running→watched (seconds from the first create).

    Pods seen but never running (``not_running``) are always drawn (up to ``max_stuck``), in red from
    their last known time to the end of the plot, labelled with their node.
    """
    plt = _mpl()
    ends = [e for e in ("created", "scheduled", "running", "watched") if f"{e}_ts" in per]
    cols = {
        e: pd.to_datetime(per[f"{e}_ts_corrected"] if f"{e}_ts_corrected" in per else per[f"{e}_ts"], utc=True)
        for e in ends
    }
    df = pd.DataFrame(cols)
    df["stuck"] = per["not_running"].fillna(False).astype(bool).to_numpy() if "not_running" in per else False
    df["node"] = per["node"].fillna("").astype(str).to_numpy() if "node" in per else ""
    df = df[df["created"].notna()].sort_values("created", kind="stable") if "created" in df else df.iloc[0:0]
    stuck = df[df["stuck"]].head(max_stuck)
    rest = df[~df["stuck"]]
    if len(rest) > n:  # evenly spaced pods over the run, always including the first and the last
        rest = rest.iloc[np.unique(np.linspace(0, len(rest) - 1, n).round().astype(int))]
    df = pd.concat([rest, stuck]).sort_values("created", kind="stable")
    fig, ax = plt.subplots(figsize=(7, 1.2 + 0.09 * max(len(df), 1)))
    colors = {"scheduled": "tab:blue", "running": "tab:orange", "watched": "tab:green"}
    n_stuck = int(df["stuck"].sum()) if len(df) else 0
    if len(df):
        t0 = df["created"].min()
        tmax = max(df[e].max() for e in ends if df[e].notna().any())
        end_s = (tmax - t0).total_seconds()
        seen = set()
        for y, (_, r) in enumerate(df.iterrows()):
            prev = r["created"]
            for e in ends[1:]:
                if pd.notna(r[e]) and pd.notna(prev):
                    a, b = (prev - t0).total_seconds(), (r[e] - t0).total_seconds()
                    ax.barh(y, b - a, left=a, height=0.8, color=colors[e], label=None if e in seen else f"→{e}")
                    seen.add(e)
                    prev = r[e]
            if r["stuck"]:
                a = (prev - t0).total_seconds()
                ax.barh(
                    y,
                    max(end_s * 1.02 - a, 0),
                    left=a,
                    height=0.8,
                    color="white",
                    edgecolor="tab:red",
                    hatch="////",
                    lw=0.6,
                    label=None if "stuck" in seen else "never running (stuck)",
                )
                ax.text(end_s * 1.03, y, r["node"] or "?", va="center", fontsize=5, color="tab:red")
                seen.add("stuck")
    ax.invert_yaxis()
    ax.set_yticks([])
    ax.set_xlabel("seconds since the first pod create")
    ax.set_title(f"Pod start-up waterfall ({len(df)} pods" + (f", {n_stuck} never running" if n_stuck else "") + ")")
    _legend_outside(ax)
    return fig


def load_plot(timeline, phases: list):
    """Running pods (% of capacity) over time with the test's phases as labelled spans.

    ``phases``: ``[(name, start Timestamp, end Timestamp, state)]`` on the timeline's clock.
    """
    plt = _mpl()
    fig, ax = plt.subplots(figsize=(7, 3.0))
    st = timeline.steps if timeline is not None else pd.DataFrame()
    if len(st):
        y = st["load_pct"] if timeline.capacity else st["running"]
        ax.step(pd.to_datetime(st["ts"], utc=True), y, where="post", color="tab:blue", lw=1, label="running pods")
    cmap = {"passed": "tab:green", "failed": "tab:red"}
    for i, (name, a, b, state) in enumerate(phases[:8]):
        c = cmap.get(state, f"C{(i + 1) % 10}")
        ax.axvspan(a, b, color=c, alpha=0.15, label=name[:40] if state == "step" else f"{name[:40]} ({state})")
        ax.axvline(a, color=c, lw=0.6, ls="--")
    ax.set_ylabel("load (% of capacity)" if timeline is not None and timeline.capacity else "running pods")
    ax.set_xlabel(f"time (UTC, {getattr(timeline, 'clock', '') or 'apiserver'} clock)")
    ax.set_title("Load over time with the test's phases")
    ax.grid(True, alpha=0.3)
    _legend_outside(ax)
    fig.autofmt_xdate()
    return fig


def spec_phases(ctx, max_phases: int = 8) -> tuple[list, str]:
    """The test's phases as ``(name, start, end, state)`` on the apiserver clock, and how they were placed.

    A phase is a ginkgo ``STEP`` of the test log, from its time to the next STEP's (a STEP line of an
    old e2e log has no time of its own: it takes the time of the next timed line); without STEPs, each
    spec from its first to its last timed line, with its state.
    Test-log times are on the test's clock: they are moved by the test clock's offset when the skew
    analysis has one (whether or not the report corrects other numbers), else drawn as logged.
    """
    run = ctx.run
    if not run.has("test_log"):
        return [], "no test log in the inputs"
    tl = run.table("test_log", columns=["ts", "level", "msg", "spec", "source_id", "line_no"])
    tl = tl.sort_values(["source_id", "line_no"], kind="stable")
    tl["t"] = tl["ts"].bfill().ffill()
    if tl["t"].isna().all():
        return [], "the test log has no times"
    sp = ctx.specs()
    steps = tl[tl["level"] == "STEP"]
    out = []
    if len(steps):
        end = tl["t"].max()
        ts = list(steps["t"]) + [end]
        for i, (msg, a) in enumerate(zip(steps["msg"], ts)):
            state = "step"
            out.append((" ".join(str(msg).split())[:40], a, ts[i + 1], state))
        # merge phases shorter than 1 % of the run into the next one: a legend of what matters
        span = (end - ts[0]).total_seconds() or 1.0
        keep = [p for p in out if (p[2] - p[1]).total_seconds() >= 0.01 * span]
        out = keep[-max_phases:]
    else:
        for name, g in tl.dropna(subset=["spec"]).groupby("spec", sort=False):
            st = sp.loc[sp["spec"] == name, "state"]
            out.append(
                (str(name).split("] ")[-1][:40], g["t"].min(), g["t"].max(), str(st.iloc[0]) if len(st) else "?")
            )
    off, how = 0.0, "test clock as logged (no offset known)"
    try:
        o = ctx.skew().offsets.get("test")
        if o is not None and np.isfinite(o):
            off, how = float(o), "moved onto the apiserver clock by the test clock's offset"
    except (ModuleNotFoundError, ValueError):  # no skew analysis possible: drawn as logged (said in `how`)
        pass
    d = pd.Timedelta(seconds=off)
    return [(n, a - d, b - d, st) for n, a, b, st in out if pd.notna(a) and pd.notna(b)], how


def run_plots(ctx) -> list:
    """[(title, data URI)] of every plot the run has data for."""
    from ..analysis import load as loadmod

    out = []
    try:
        phases, how = spec_phases(ctx)
    except ModuleNotFoundError:  # an optional dependency missing; any other error is a bug and surfaces
        phases, how = [], "test phases not available"
    out.append((f"Load over time with the test's phases ({how})", to_data_uri(load_plot(ctx.timeline(), phases))))
    req = ctx.requests()
    if len(req):
        out.append(("Latency CDF per verb/resource", to_data_uri(cdf_plot(req))))
        out.append(("Latency over time with the load level", to_data_uri(time_plot(req, ctx.timeline()))))
    try:
        m = ctx.matrix()
    except ValueError:  # no capacity: no load levels to plot
        m = None
    if m is not None and len(m.rows):
        labels = loadmod.bucket_labels(m.edges)
        out.append(("Percentile vs load level per group", to_data_uri(percentile_vs_load_plot(m.rows, m.by, labels))))
        out.append(("Heatmap of p99 by group × bucket", to_data_uri(heatmap_plot(m.rows, m.by, labels))))
    try:
        per = ctx.pods().per_pod
        if len(per):
            out.append(("Pod start-up waterfall", to_data_uri(waterfall_plot(per))))
    except ModuleNotFoundError:
        pass
    return out
