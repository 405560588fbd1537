"""Page 1 of the report: the story of the run in one page (issue #21).

What ran (version, nodes, capacity, duration), the test's own outcome, the SLO verdict with its
counts, the failing SLOs with n and a confidence interval, the headline latency matrix, the top
three diagnosis findings and the clock verdict.  Also the honest statistics of every SLO row
(:func:`slo_statistics`), used by the full SLO table.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ..analysis import stats
from . import numbers
from .model import UNAVAILABLE, Context, Section, Table

CONF = 0.95
HEADLINE_PDF_GROUPS = 24  # page 1 keeps at most this many groups (failing groups first)
PERCENTILES = (0.1, 0.5, 0.9, 0.99)
_KV = re.compile(r"(\w+)=(\S*)")


def group_key(text: str) -> dict:
    """``verb=patch resource=nodes subresource=status`` → ``{"verb": "patch", ...}`` ('' for ``''``)."""
    return {k: ("" if v == "''" else v) for k, v in _KV.findall(str(text))}


def group_name(sli: str, text: str) -> str:
    """An SLO row's group as a reader writes it: ``PATCH nodes/status (resource)``; other groups as they are."""
    from ..analysis.matrix import display_name

    key = group_key(text)
    if not key or not str(sli).endswith("api_calls"):
        return str(text)
    if "verb" not in key:
        verbs = "GET/LIST" if "read_only" in str(sli) else ""
        return (verbs + " " + display_name({**key, "verb": ""})).strip()
    return display_name(key)


# ---------------------------------------------------------------------------------------------
# Samples behind an SLO row, for its confidence interval and fragility
# ---------------------------------------------------------------------------------------------


def slo_samples(ctx: Context, sli: str, group: str) -> np.ndarray | None:
    """The values an SLO row's percentile was computed from, or None when they are not recoverable
    (test-reported summaries carry percentiles, not samples)."""
    from ..analysis import pods as podsmod
    from ..analysis.slo import MUTATING, READ_ONLY

    if sli.endswith("api_calls"):
        groups = _api_groups(ctx)  # (verb, resource, subresource, scope) → latencies, one pass
        cols = ("verb", "resource", "subresource", "scope")
        # the grouping of each SLI (kubelog.analysis.slo.evaluate); a column missing from the text is ''
        if sli.endswith("mutating_api_calls"):
            ok, by = (lambda k: k[0] in MUTATING and k[3] == "resource"), ["verb", "resource", "subresource"]
        elif sli.endswith("read_only_api_calls"):
            ok = lambda k: k[0] in READ_ONLY and k[3] in ("resource", "namespace", "cluster")
            by = ["resource", "subresource", "scope"]
        else:
            ok, by = (lambda k: True), list(cols)
        key = group_key(group)
        parts = [v for k, v in groups.items() if ok(k) and all(k[cols.index(c)] == key.get(c, "") for c in by)]
        return np.concatenate(parts) if parts else np.array([])
    if sli.endswith("pod_startup") and str(group).startswith("derived"):
        per = ctx.pods().per_pod
        use = per[per["measured"]] if "measured pods" in group else per
        if "created→running" in group:
            t_c = use["created_ts_corrected"] if "created_ts_corrected" in use else use["created_ts"]
            t_r = use["running_ts_corrected"] if "running_ts_corrected" in use else use["running_ts"]
            vals = (t_r - t_c).dt.total_seconds().dropna().to_numpy(float)
        else:
            vals = use["pod_startup_s"].dropna().to_numpy(float)
        return np.concatenate([vals, np.full(int(use["not_running"].sum()), np.inf)])
    if sli.endswith("node_startup"):
        v = podsmod.node_startup(ctx.run)
        return v["startup_s"].dropna().to_numpy(float) if len(v) else np.array([])
    return None


def _api_groups(ctx: Context) -> dict:
    def f():
        d = ctx.sli_requests()
        d = d[d["latency_s"].notna()]
        return {
            tuple(k): g["latency_s"].to_numpy(float)
            for k, g in d.groupby(["verb", "resource", "subresource", "scope"], sort=False, observed=True)
        }

    return ctx._get("sli_groups", f)


def slo_statistics(ctx: Context, verdicts: pd.DataFrame, conf: float = CONF) -> pd.DataFrame:
    """Per SLO row: ``ci_low_s``, ``ci_high_s`` (order-statistic interval of the percentile, ±inf when a
    side is unbounded, NaN when no samples), ``is_max`` (the percentile is the sample maximum),
    ``to_flip`` (values that would have to cross the threshold to flip the verdict, 0 = unknown) and
    ``honesty`` (a sentence: what the number rests on)."""
    lo, hi, ismax, flip, text = [], [], [], [], []
    for r in verdicts.itertuples(index=False):
        vals = None
        if r.verdict != "NO DATA":
            try:
                vals = slo_samples(ctx, str(r.sli), str(r.group))
            except UNAVAILABLE + (KeyError, ValueError):
                vals = None
        if vals is not None and len(vals):
            obs = stats.percentile(vals, r.percentile)
            if not (np.isclose(obs, r.observed_s, rtol=1e-9, atol=1e-12) or (np.isinf(obs) and np.isinf(r.observed_s))):
                vals = None  # not the samples the verdict used: say nothing rather than something wrong
        if vals is None or not len(vals):
            lo.append(np.nan), hi.append(np.nan), ismax.append(False), flip.append(0)
            text.append("" if r.verdict == "NO DATA" else "no samples: a summary reported by the test")
            continue
        ci = stats.percentile_ci(vals, r.percentile, conf)
        f = stats.samples_to_flip(vals, r.percentile, r.threshold_s)
        lo.append(ci["lo"]), hi.append(ci["hi"]), ismax.append(ci["is_max"]), flip.append(f)
        parts = []
        pl = stats.label(r.percentile)[:-2]
        if ci["is_max"]:
            parts.append(f"{pl} is the maximum (n = {ci['n']} < {int(round(1 / (1 - r.percentile)))})")
        if f == 1:
            parts.append("the verdict depends on one sample")
        elif 1 < f <= 3:
            parts.append(f"{f} samples from the other verdict")
        if np.isfinite(ci["lo"]) and np.isfinite(ci["hi"]) and ci["lo"] <= r.threshold_s <= ci["hi"]:
            parts.append("the interval contains the threshold")
        text.append("; ".join(parts))
    out = verdicts.copy()
    out["ci_low_s"], out["ci_high_s"], out["is_max"], out["to_flip"], out["honesty"] = lo, hi, ismax, flip, text
    return out


def slo_table(title: str, v: pd.DataFrame, *, pdf_rows: int | None = None, verdict_col: bool = True) -> Table:
    """SLO rows as a table: readable group names, seconds in the headers, n, the interval, the honesty note."""
    rows, classes = [], []
    for r in v.itertuples(index=False):
        note = "; ".join(x for x in (r.honesty, r.note) if x)
        row = [
            str(r.sli),
            group_name(r.sli, r.group),
            stats.label(r.percentile)[:-2],
            numbers.seconds(r.observed_s),
            numbers.ci(r.ci_low_s, r.ci_high_s),
            f"{int(r.n):,}" if r.n else "not reported",
            numbers.seconds(r.threshold_s),
        ]
        if verdict_col:
            row.append(str(r.verdict))
        rows.append(row + [note])
        classes.append({"FAIL": "fail", "PASS": "pass"}.get(r.verdict, "nodata"))
    cols = ["SLI", "group", "pct", "observed (s)", f"{CONF:.0%} CI (s)", "n", "threshold (s)"]
    num = [False, False, False, True, True, True, True]
    if verdict_col:
        cols.append("verdict"), num.append(False)
    cols.append("what it rests on"), num.append(False)
    t = Table(title, cols, rows, numeric=num, classes=classes, pdf_rows=pdf_rows)
    t.nowrap[0] = True  # SLI names are never broken
    return t


# ---------------------------------------------------------------------------------------------
# The headline matrix: one row per group, percentiles × load buckets with n
# ---------------------------------------------------------------------------------------------


def matrix_table(title: str, m, groups: list, *, pdf_rows: int | None = None, note: str = "") -> Table:
    """A wide table: one row per group of ``groups`` (keys of ``m.groups()``), for each load bucket
    with requests the percentiles (s, 3 significant digits) and n."""
    from ..analysis import load as loadmod
    from ..analysis.matrix import display_name

    labels = loadmod.bucket_labels(m.edges)
    want = {tuple(k.values()): i for i, k in enumerate(groups)}
    pcols = [stats.label(p) for p in m.percentiles]
    got = {}
    present = set()
    for key, g in m.groups():
        t = tuple(key.values())
        if t in want:
            got[t] = {str(r["bucket"]): r for _, r in g.iterrows()}
            present |= set(got[t])
    cols_b = [b for b in labels if not b.startswith(">") or b in present]
    columns = ["group"]
    for _b in cols_b:
        columns += [c[:-2] for c in pcols] + ["n"]
    rows = []
    for key in groups:
        t = tuple(key.values())
        if t not in got:
            continue
        row = [display_name(key)]
        for b in cols_b:
            r = got[t].get(b)
            row += (
                (["" for _ in pcols] + [""])
                if r is None
                else [numbers.seconds(r[c], 3) for c in pcols] + [f"{int(r['count']):,}"]
            )
        rows.append(row)
    hg = [("", 1)] + [((f"{b}% load" if not b.startswith(">") else f"{b}% load"), len(pcols) + 1) for b in cols_b]
    return Table(
        title,
        columns,
        rows,
        numeric=[False] + [True] * (len(columns) - 1),
        header_groups=hg,
        pdf_rows=pdf_rows,
        note=note,
        css="wide" if len(cols_b) <= 5 else "wide xwide",
    )


def failing_groups(verdicts: pd.DataFrame) -> list[dict]:
    """Keys (partial) of the API groups that fail an SLO."""
    f = verdicts[(verdicts["verdict"] == "FAIL") & verdicts["sli"].str.endswith("api_calls")]
    out = []
    for g in f["group"]:
        k = group_key(g)
        if k and k not in out:
            out.append(k)
    return out


def headline_groups(m, fails: list[dict]) -> list[dict]:
    """Groups of the headline matrix: failing groups first, then headline groups in matrix order."""
    from ..analysis.matrix import headline

    keys = [k for k, _ in m.groups()]
    match = lambda k, f: all(str(k.get(c, "")) == v for c, v in f.items())
    fail = [k for k in keys if any(match(k, f) for f in fails)]
    head = [k for k in keys if headline(k) and k not in fail]
    return fail + head


# ---------------------------------------------------------------------------------------------
# Test outcome, clocks
# ---------------------------------------------------------------------------------------------


def test_outcome(ctx: Context) -> tuple[str, str]:
    """(``PASSED`` / ``FAILED`` / ``UNKNOWN``, one sentence) from the e2e/CL2 log and junit."""
    sp = ctx.specs()
    dg = None
    try:
        dg = ctx.diagnosis()
    except UNAVAILABLE:
        pass
    if len(sp):
        c = sp["state"].value_counts()
        nf, npass = int(c.get("failed", 0)), int(c.get("passed", 0))
        origin = (
            ", ".join(sorted(set(str(o) for o in sp.get("origin", pd.Series(dtype=str)).dropna())))
            if "origin" in sp
            else ""
        )
        if nf:
            f = sp[sp["state"] == "failed"].iloc[0]
            msg = str(f.get("failure_message") or "").strip()
            if dg is not None and dg.failures:
                msg = str(dg.failures[0].get("message") or msg)
            msg = " ".join(msg.split())[:200]
            return "FAILED", (
                f"{nf} of {len(sp)} specs failed: {f['spec']}"
                + (f" — {msg}" if msg else "")
                + (f" ({f['where']})" if f.get("where") else "")
            )
        if dg is not None and dg.failed:
            return "FAILED", dg.summary.split(". ")[0]
        return "PASSED", f"{npass} of {len(sp)} specs passed" + (f" ({origin})" if origin else "")
    if dg is not None and dg.failed:
        return "FAILED", dg.summary.split(". ")[0]
    return "UNKNOWN", "no e2e/CL2 test log or junit XML among the inputs"


def clock_verdict(ctx: Context) -> str:
    """Skew found? corrected? by how much? — one sentence with offsets like ``+10 h 0 m 12.500 s ± 1 ms``."""
    sk = ctx.skew()
    d = sk.domains
    if d is None or d.empty:
        return "Clocks: no causal pairs to compare clocks."
    others = d[d["domain"] != sk.reference]
    if not sk.significant:
        big = others["offset_s"].abs().max() if len(others) else float("nan")
        return f"Clocks: no significant skew against the {sk.reference} clock" + (
            f" (largest offset {numbers.duration(big)}, within its uncertainty)." if np.isfinite(big) else "."
        )
    parts = []
    # the domains with the largest offsets first; nodes summarised when many
    others = others.assign(_a=others["offset_s"].abs().fillna(0)).sort_values("_a", ascending=False, kind="stable")
    for r in others.head(3).itertuples(index=False):
        parts.append(f"{r.domain} {numbers.offset(r.offset_s, r.lower_s, r.upper_s)}")
    more = len(others) - 3
    s = f"Clocks: skew found against the {sk.reference} clock — " + "; ".join(parts)
    if more > 0:
        s += f"; {more} more domains in §7"
    off = ctx.offsets()
    if off:
        s += ". Corrected in this report (--correct-skew)."
    else:
        s += ". Not corrected: times that cross clocks are raw (use --correct-skew)."
    return s


def run_line(ctx: Context) -> str:
    from .model import kubernetes_version

    kv, _ = kubernetes_version(ctx.run)
    parts = [f"Kubernetes {kv}" if kv else "Kubernetes version unknown"]
    try:
        tl = ctx.timeline()
        if tl.nodes:
            parts.append(f"{tl.nodes:,} nodes")
        if tl.capacity:
            parts.append(f"capacity {tl.capacity:,} pods ({tl.pods_per_node} per node)")
        else:
            parts.append(f"capacity unknown ({tl.nodes_source})")
        if tl.start is not None and tl.end is not None:
            parts.append(
                f"duration {numbers.duration((tl.end - tl.start).total_seconds())} "
                f"({tl.start:%Y-%m-%d %H:%M:%S} → {tl.end:%H:%M:%S} UTC, {tl.clock or 'apiserver'} clock)"
            )
    except UNAVAILABLE + (ValueError,):
        pass
    return "Run: " + " · ".join(parts)


# ---------------------------------------------------------------------------------------------
# The section
# ---------------------------------------------------------------------------------------------


def summary(sec: Section, ctx: Context):
    sec.paragraphs.append(run_line(ctx))
    state, text = test_outcome(ctx)
    sec.data["test_outcome"] = state
    sec.paragraphs.append(f"Test outcome: {state} — {text}")
    rep = ctx.slo()
    v = rep.verdicts
    counts = v["verdict"].value_counts()
    c = {k: int(counts.get(k, 0)) for k in ("FAIL", "PASS", "NO DATA")}
    overall = "FAIL" if c["FAIL"] else ("PASS" if c["PASS"] else "NO DATA")
    sec.data["overall"], sec.data["counts"] = overall, c
    st = slo_statistics(ctx, v[v["verdict"] == "FAIL"])
    fragile = int((st["to_flip"] == 1).sum())
    sec.paragraphs.append(
        f"SLO verdict: {overall} — {c['FAIL']} FAIL, {c['PASS']} PASS, {c['NO DATA']} NO DATA "
        f"of {len(v)} SLO checks"
        + (f"; {fragile} of the FAILs depend on one sample" if fragile else "")
        + (" (corrected clocks)" if ctx.offsets() else "")
        + "."
    )
    if len(st):
        sec.tables.append(slo_table(f"Failing SLOs ({len(st)}; all SLOs in §2)", st, pdf_rows=12, verdict_col=False))
    try:
        m = ctx.matrix()
    except ValueError as e:
        m = None
        sec.paragraphs.append(f"No latency matrix: {e} (give --nodes).")
    if m is not None and not m.rows.empty:
        groups = headline_groups(m, failing_groups(v))
        t = matrix_table(
            "Headline API latency (s) by load level: p10/p50/p90/p99 and n per bucket "
            "(failing groups first, every group in §4)",
            m,
            groups,
            pdf_rows=HEADLINE_PDF_GROUPS,
        )
        sec.tables.append(t)
    try:
        dg = ctx.diagnosis()
        items = [
            (f"{f.rank}. [{f.severity}] {f.title} → §8 finding {f.rank}", f"#finding-{f.rank}") for f in dg.findings[:3]
        ]
        sec.links.append(("Top findings" if items else "Top findings: none", items))
    except UNAVAILABLE as e:
        sec.paragraphs.append(f"Diagnosis: not available ({e}).")
    try:
        sec.paragraphs.append(clock_verdict(ctx))
    except UNAVAILABLE as e:
        sec.paragraphs.append(f"Clocks: skew analysis not available ({e}).")
