"""The report model: every section of the run report as plain data (tables of strings, texts, plots).

Each section is computed by :func:`build_model` inside a guard: when a module it needs cannot be
imported (``ModuleNotFoundError``: an optional dependency not installed) the section says "not
available in this version"; any other error, an ``AttributeError`` included (a bug, not a missing
feature), is shown as the section's error text, so one failing analysis never hides the others.

Numbers are formatted here (seconds with 4 significant digits, counts with thousands separators) so
the template only lays them out.  Every worst case carries its ``file:line``
(:meth:`kubelog.run.Run.where`).
"""

from __future__ import annotations

import math
import os
import re
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone

import numpy as np
import pandas as pd

from .. import __version__
from ..info import balanced
from ..run import Run, memoized
from . import numbers

NOT_AVAILABLE = "not available in this version"
#: What makes a section "not available": a module that cannot be imported, nothing else (issue 22: an
#: AttributeError here used to turn real bugs into a polite "not available in this version").
UNAVAILABLE = (ModuleNotFoundError,)
WORST_PODS = 10
WORST_REQUESTS = 10
SHORT = 10  # characters: text columns no longer than this do not wrap
REQUEST_COLUMNS = [
    "verb",
    "resource",
    "subresource",
    "scope",
    "latency_s",
    "start_ts",
    "ts",
    "source_id",
    "line_no",
    "uri",
    # the skew analysis's pairs and the diagnosis read these too: one read serves them all
    "clock",
    "method",
    "client",
    "user_agent",
    "namespace",
    "name",
    "code",
    "user",  # the diagnosis reads these three too (the de-duplication's other columns are not kept)
    "long_running",
    "origin",
]
#: the columns of :meth:`Context.requests`, the only reader of the kept requests after the summary
CONTEXT_REQUEST_COLUMNS = [
    "verb",
    "resource",
    "subresource",
    "scope",
    "latency_s",
    "start_ts",
    "source_id",
    "line_no",
    "uri",
]
MATRIX_PDF_GROUPS = 60  # the PDF's every-group matrix stops here (the HTML has every group)


@dataclass
class Table:
    """A table ready for the template: ``columns`` and ``rows`` of strings.

    ``numeric`` marks right-aligned columns; ``classes`` optional per-row CSS class (e.g. ``fail``).
    """

    title: str
    columns: list
    rows: list
    numeric: list = field(default_factory=list)
    classes: list = field(default_factory=list)
    note: str = ""
    nowrap: list = field(default_factory=list)
    #: a first header row of ``(label, colspan)`` above ``columns`` (e.g. load buckets over percentiles)
    header_groups: list = field(default_factory=list)
    #: at most this many rows in the PDF (the HTML has all, the PDF says how many more); None = all
    pdf_rows: int | None = None
    #: only in the HTML (collapsed), never in the PDF
    html_only: bool = False
    #: CSS class of the table (``wide``: small type for many numeric columns)
    css: str = ""

    def __post_init__(self):
        if len(self.numeric) != len(self.columns):
            self.numeric = [False] * len(self.columns)
        # short text columns (verdicts, buckets, verbs) are kept on one line; long ones wrap anywhere
        self.nowrap = [
            bool(self.numeric[i]) or (bool(self.rows) and max(len(r[i]) for r in self.rows) <= SHORT)
            for i in range(len(self.columns))
        ]

    @property
    def empty(self) -> bool:
        return not self.rows


@dataclass
class Section:
    """One report section: ``status`` is ``ok``, ``unavailable`` or ``error`` (``message`` says why)."""

    key: str
    title: str
    status: str = "ok"
    message: str = ""
    paragraphs: list = field(default_factory=list)
    tables: list = field(default_factory=list)
    lists: list = field(default_factory=list)  # [(title, [str, ...])]
    plots: list = field(default_factory=list)  # [(title, data-URI)]
    data: dict = field(default_factory=dict)
    links: list = field(default_factory=list)  # [(title, [(text, "#anchor")])]: items pointing to sections
    anchors: list = field(default_factory=list)  # per entry of ``lists``: an id ("" = none) for links
    html_only: bool = False  # the appendix: in the HTML only


def fmt(v, kind: str = "s") -> str:
    """Format one cell: ``s`` seconds (4 significant digits, never scientific), ``n`` integer count, ``p``
    percent, ``x`` text."""
    if v is None:
        return ""
    if isinstance(v, (float, np.floating)):
        if math.isnan(v):
            return ""
        if math.isinf(v):
            return "∞" if v > 0 else "−∞"
    try:
        if pd.isna(v):
            return ""
    except (TypeError, ValueError):
        pass
    if kind == "s":
        return numbers.seconds(v)
    if kind == "n":
        return f"{int(v):,}"
    if kind == "p":
        return f"{float(v):.1f} %"
    if isinstance(v, pd.Timestamp):
        return v.isoformat().replace("+00:00", "Z")
    return str(v)


def frame_table(title: str, df: pd.DataFrame, kinds: dict | None = None, note: str = "", row_class=None) -> Table:
    """A :class:`Table` from a DataFrame; ``kinds`` maps column → format kind of :func:`fmt`.

    Columns not in ``kinds`` are ``s`` when float, ``n`` when integer, else text.
    """
    kinds = dict(kinds or {})
    cols = list(df.columns)
    for c in cols:
        if c not in kinds:
            dt = df[c].dtype
            kinds[c] = "n" if pd.api.types.is_integer_dtype(dt) else "s" if pd.api.types.is_float_dtype(dt) else "x"
    rows = [[fmt(v, kinds[c]) for c, v in zip(cols, r)] for r in df.itertuples(index=False, name=None)]
    classes = [row_class(r) if row_class else "" for _, r in df.iterrows()] if row_class else []
    return Table(
        title,
        [str(c) for c in cols],
        rows,
        numeric=[kinds[c] in ("s", "n", "p") for c in cols],
        classes=classes,
        note=note,
    )


def guarded(key: str, title: str, fn, *args) -> Section:
    """Run ``fn(section, *args)``; a module that cannot be imported makes the section "not available",
    any other exception an "error" with its type and message."""
    sec = Section(key, title)
    try:
        fn(sec, *args)
    except UNAVAILABLE as e:
        sec.status, sec.message = "unavailable", f"{NOT_AVAILABLE} ({type(e).__name__}: {e})"
    except Exception as e:  # one analysis failing must not hide the rest of the report
        sec.status, sec.message = "error", f"{type(e).__name__}: {e}"
    return sec


# ---------------------------------------------------------------------------------------------
# Context shared by sections (computed once, each piece guarded by its user)
# ---------------------------------------------------------------------------------------------


class Context:
    """Lazily computed analyses of one run, shared by the sections."""

    def __init__(
        self,
        run: Run,
        correct_skew: bool = False,
        offsets: dict | None = None,
        *,
        nodes: int | None = None,
        pods_per_node: int | None = None,
        buckets=None,
    ):
        from ..analysis import load as loadmod

        self.run = run
        self.correct_skew = correct_skew or bool(offsets)
        self._skew_flag = correct_skew
        self._user_offsets = dict(offsets or {})
        self.nodes = nodes
        self.pods_per_node = pods_per_node or loadmod.DEFAULT_PODS_PER_NODE
        self.buckets = tuple(buckets) if buckets else tuple(loadmod.DEFAULT_EDGES)
        self._cache = {}

    def _get(self, key, fn):
        if key not in self._cache:
            try:
                self._cache[key] = (True, fn())
            except Exception as e:
                self._cache[key] = (False, e)
        ok, v = self._cache[key]
        if not ok:
            raise v
        return v

    def skew(self):
        from ..analysis.skew import analyze

        return self._get("skew", lambda: analyze(self.run))

    def corrections(self):
        """The run's clock corrections (:func:`kubelog.analysis.skew.corrections`)."""
        from ..analysis.skew import corrections

        return self._get(
            "corrections",
            lambda: corrections(
                self.run,
                offsets=self._user_offsets,
                correct_skew=self._skew_flag,
                report=self.skew() if self._skew_flag else None,
            ),
        )

    def offsets(self):
        """Offsets applied (``{domain: seconds}``) when correcting skew, else None."""
        if not self.correct_skew:
            return None
        return self.corrections().pod_offsets()

    def slo(self):
        from ..analysis.slo import evaluate

        return self._get(
            "slo", lambda: evaluate(self.run, corrections=self.corrections() if self.correct_skew else None)
        )

    def pods(self):
        from ..analysis.pods import pod_startup

        return self._get("pods", lambda: pod_startup(self.run, offsets=self.offsets()))

    def pods_raw(self):
        from ..analysis.pods import pod_startup

        return self._get("pods_raw", lambda: pod_startup(self.run))

    def matrix(self):
        from ..analysis.matrix import build_matrix

        return self._get("matrix", lambda: build_matrix(self.run, buckets=self.buckets, timeline=self.timeline()))

    def timeline(self):
        from ..analysis.load import load_timeline

        return self._get(
            "timeline", lambda: load_timeline(self.run, nodes=self.nodes, pods_per_node=self.pods_per_node)
        )

    def specs(self):
        from ..analysis.outcome import specs_frame

        return self._get("specs", lambda: specs_frame(self.run))

    def sli_requests(self):
        """The SLIs' API requests (:func:`kubelog.analysis.validity.sli_requests`), group columns filled.

        Not kept: its one user keeps only the latencies per group (``summary._api_groups``), and a
        million-request frame held to the end of the report cost ~240 MB."""
        from ..analysis.validity import sli_requests

        cols = ["verb", "resource", "subresource", "scope"]
        df, _ = sli_requests(self.run, columns=cols + ["latency_s"])
        for c in cols:
            df[c] = df[c].fillna("").astype(str)
        return df

    def diagnosis(self):
        from ..analysis.diagnose import diagnose

        return self._get("diagnosis", lambda: diagnose(self.run))

    def requests(self):
        """API requests with their load bucket (``bucket`` str, NaN outside a bucket)."""

        def f():
            from ..analysis import load as loadmod
            from ..analysis.latency import api_requests

            df, _ = api_requests(self.run, columns=CONTEXT_REQUEST_COLUMNS)
            tl = self.timeline()
            for c in ("verb", "resource", "subresource", "scope"):
                df[c] = df[c].fillna("")
            if tl.capacity and len(df):
                codes = loadmod.bucket_codes(tl, df["start_ts"], self.buckets)
                labels = np.array(loadmod.bucket_labels(self.buckets), dtype=object)
                df["bucket"] = np.where(codes >= 0, labels[np.maximum(codes, 0)], None)
            else:
                df["bucket"] = None
            return df.reset_index(drop=True)

        return self._get("requests", f)


# ---------------------------------------------------------------------------------------------
# Sections
# ---------------------------------------------------------------------------------------------


def _verdict(sec: Section, ctx: Context):
    from .summary import slo_statistics, slo_table

    rep = ctx.slo()
    v = rep.verdicts
    st = slo_statistics(ctx, v)
    t = slo_table(
        "SLO verdicts (nearest-rank percentiles; the interval is distribution-free, docs/statistics.md)",
        st,
        pdf_rows=40,
    )
    counts = v["verdict"].value_counts()
    inc = "INCONCLUSIVE (resolution)"
    sec.data["counts"] = {k: int(counts.get(k, 0)) for k in ("FAIL", inc, "PASS", "NO DATA")}
    overall = (
        "FAIL"
        if counts.get("FAIL", 0)
        else (inc if counts.get(inc, 0) else ("PASS" if counts.get("PASS", 0) else "NO DATA"))
    )
    sec.data["overall"] = overall
    sec.paragraphs.append(
        f"Overall: {overall} — {sec.data['counts']['FAIL']} FAIL, "
        + (f"{sec.data['counts'][inc]} {inc}, " if sec.data["counts"][inc] else "")
        + f"{sec.data['counts']['PASS']} PASS, {sec.data['counts']['NO DATA']} NO DATA."
    )
    sec.tables.append(t)
    ev = v[v["evidence"].fillna("") != ""][["sli", "group", "verdict", "evidence"]]
    if len(ev):
        tev = frame_table("Evidence of the SLO verdicts (the slowest cases, file:line)", ev)
        tev.html_only = True
        sec.tables.append(tev)
    flags = []
    try:
        sk = ctx.skew()
        if sk.significant:
            flags.append(
                "clock skew found: "
                + ("; ".join(sk.findings[:2]) if sk.findings else "see §7")
                + (" — corrected in this report" if ctx.offsets() else " — not corrected (use --correct-skew)")
            )
        else:
            flags.append("no significant clock skew found")
    except UNAVAILABLE:
        flags.append(f"clock-skew analysis {NOT_AVAILABLE}")
    bad = [e.get("path", "") for e in ctx.run.inputs if e.get("errors") or not balanced(e)]
    flags.append(
        f"data-quality problems (errors or unbalanced line accounting) in {len(bad)} inputs: "
        + ", ".join(bad)
        + " — see §9"
        if bad
        else "no input with parse errors or unbalanced line accounting"
    )
    val = rep.validity
    for check in ("negative_phases", "missing_phases", "cross_clock_phases"):
        r = val[val["check"] == check]
        if len(r) and (r["count"].iloc[0] or 0):
            flags.append(f"{check.replace('_', ' ')}: {r['detail'].iloc[0]}")
    sec.lists.append(("Validity flags", flags))
    sec.tables.append(
        frame_table("Validity audit", val, {"count": "n"}, row_class=lambda r: "warn" if (r.get("count") or 0) else "")
    )
    for n in rep.notes:
        sec.paragraphs.append(f"note: {n}")


_VERSION_RX = re.compile(r"v(1\.\d+)\.(\d+)")


@memoized
def kubernetes_version(run: Run) -> tuple[str, str]:
    """(version, where it came from): the most common ``v1.X.Y`` in user agents, else in the test log."""
    if run.has("requests"):
        # counted per distinct user agent from its dictionary codes, a batch at a time (the user agents of
        # every row as strings were ~200 MB on a 2M-row run, at the report's peak)
        c = Counter()
        for s, n in _user_agents(run).items():
            m = _VERSION_RX.search(s)
            if m:
                c[f"v{m.group(1)}.{m.group(2)}"] += n
        top = max(c.values(), default=0)
        if sum(n == top for n in c.values()) > 1:  # a tie: the first version seen in the order of
            c = Counter()  # pandas' value_counts wins, as ever
            ua = run.table("requests", columns=["user_agent"])["user_agent"].dropna()
            for s, n in ua.value_counts().items():
                m = _VERSION_RX.search(str(s))
                if m:
                    c[f"v{m.group(1)}.{m.group(2)}"] += int(n)
        if c:
            v, n = c.most_common(1)[0]
            return v, f"user agents of {n:,} requests"
    if run.has("test_log"):
        for s in run.table("test_log", columns=["msg"])["msg"].dropna():
            m = _VERSION_RX.search(str(s))
            if m and "ersion" in str(s):
                return f"v{m.group(1)}.{m.group(2)}", "test log"
    return "", "not found in the inputs"


def _user_agents(run: Run) -> Counter:
    """How many requests each user agent made (nulls left out)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    out = Counter()
    for b in run.batches("requests", columns=["user_agent"], dictionary=True):
        col = b.column(0)
        if pa.types.is_dictionary(col.type):
            codes = pc.drop_null(col.indices).to_numpy()
            n = np.bincount(codes, minlength=len(col.dictionary))
            for i in np.flatnonzero(n):
                out[col.dictionary[int(i)].as_py()] += int(n[i])
        else:
            vc = pc.value_counts(pc.drop_null(col))
            for v, n in zip(vc.field(0).to_pylist(), vc.field(1).to_pylist()):
                out[v] += n
    return out


def _run(sec: Section, ctx: Context):
    run = ctx.run
    kv, kv_src = kubernetes_version(run)
    era = ".".join(kv.lstrip("v").split(".")[:2]) if kv else ""
    rows = [("Kubernetes version", kv or "unknown", kv_src), ("era", era or "unknown", "from the version")]
    try:
        tl = ctx.timeline()
        dur = (tl.end - tl.start).total_seconds() if tl.start is not None and tl.end is not None else float("nan")
        rows += [
            ("nodes", fmt(tl.nodes, "n"), tl.nodes_source),
            (
                "pods per node",
                fmt(tl.pods_per_node, "n"),
                "--pods-per-node" if ctx.pods_per_node != 30 else "default of density",
            ),
            ("capacity (pods)", fmt(tl.capacity, "n"), "nodes × pods per node"),
            ("peak pods", fmt(int(tl.steps["running"].max()) if len(tl.steps) else 0, "n"), tl.source),
            ("start", fmt(tl.start, "x"), tl.clock or "apiserver clock"),
            ("end", fmt(tl.end, "x"), ""),
            ("duration", f"{numbers.duration(dur)} ({numbers.seconds(dur)} s)", "end − start"),
        ]
    except UNAVAILABLE:
        rows.append(("load timeline", NOT_AVAILABLE, ""))
    rows.append(("kubelog version", run.manifest.get("kubelog_version", __version__), "manifest.json"))
    rows.append(("report by kubelog", __version__, ""))
    sec.tables.append(Table("Run", ["item", "value", "source"], [list(map(str, r)) for r in rows]))
    try:
        from ..analysis.outcome import specs_frame

        sp = specs_frame(run)
        if len(sp):
            cols = [c for c in ("spec", "state", "start_ts", "duration_s", "last_step", "where") if c in sp]
            sec.tables.append(frame_table("Phases (test specs)", sp[cols], {"start_ts": "x", "last_step": "x"}))
    except UNAVAILABLE:
        sec.paragraphs.append(f"Test phases: {NOT_AVAILABLE}.")
    inp = pd.DataFrame(
        [
            {
                "source": i,
                "path": e.get("path", ""),
                "format": e.get("format", ""),
                "clock": e.get("clock", ""),
                "bytes": int(e.get("bytes") or 0),
                "sha256": e.get("sha256", ""),
            }
            for i, e in enumerate(run.inputs)
        ]
    )
    if len(inp):
        t = frame_table("Inputs", inp, {"source": "n", "bytes": "n"})
        t.pdf_rows = 15
        sec.tables.append(t)
    meth = [
        "Percentiles: nearest rank — for n sorted values x[0..n−1] the p-th percentile is x[⌈n·p⌉ − 1]; "
        "every percentile is shown with its n; an empty cell has no value (never zero).",
        "API latency: non-long-running requests (watch, exec/attach/portforward/proxy, log follow and "
        "hijacked connections excluded); a request logged both by the access log and the audit log counts once.",
        "Load level: running pods / (nodes × pods per node) × 100 at the request start; buckets "
        + ", ".join(f"{b:g}" for b in ctx.buckets)
        + " %-full (upper edges, inclusive) and >"
        + f"{ctx.buckets[-1]:g}.",
        "Confidence intervals: distribution-free, from order statistics (binomial); a nearest-rank p99 of "
        "fewer than 100 values is the maximum; see docs/statistics.md.",
        "Clock model: each input belongs to a clock domain (apiserver, test, node/<host>); offsets are bounded "
        "from causal pairs (send before receive) relative to the apiserver clock.",
    ]
    try:
        m = ctx.matrix()
    except ValueError as e:  # no capacity: no load levels, the rest of the run section stands
        meth.append(f"Load levels: none ({e}).")
        m = None
    if m is not None:
        ex = m.exclusions
        meth.append(
            f"Exclusions in this run: {ex.long_running:,} long-running, {ex.no_latency:,} without latency, "
            f"{ex.duplicates:,} duplicates, {ex.not_apiserver:,} not served by the apiserver."
        )
        meth += [f"note: {n}" for n in ex.notes + m.notes]
    off = None
    try:
        off = ctx.offsets()
    except UNAVAILABLE:
        pass
    meth.append(
        "Corrections applied: "
        + (
            ctx.corrections().describe() + " — to the derived pod phases and to "
            "the test-reported pod start-up percentiles; offsets: "
            + ", ".join(f"{d} {numbers.offset(o)}" for d, o in sorted(off.items()))
            if off
            else "none (raw clocks)"
        )
    )
    sec.lists.append(("Methodology", meth))


def _matrix(sec: Section, ctx: Context):
    from .summary import matrix_table

    try:
        m = ctx.matrix()
    except ValueError as e:  # no capacity: percentiles per group without load levels
        from ..analysis.latency import latency_table

        sec.paragraphs.append(f"No load levels: {e} (give --nodes). Percentiles per group over the whole run instead.")
        lt = latency_table(ctx.run, percentiles=(0.1, 0.5, 0.9, 0.99))
        if lt.empty:
            sec.paragraphs.append("No API request with a latency in this run.")
        else:
            sec.tables.append(frame_table("Every group (seconds)", lt, {"count": "n"}))
        return
    rows = m.rows
    if rows.empty:
        sec.paragraphs.append("No API request with a latency in this run.")
        return
    keys = [k for k, _ in m.groups()]
    sec.tables.append(
        matrix_table(
            f"Every group ({len(keys):,}): p10/p50/p90/p99 (s) and n per load bucket — "
            "headline groups (PUT/POST/LIST/GET/PATCH/DELETE of nodes, pods, controllers) "
            "first, then by request count",
            m,
            keys,
            pdf_rows=MATRIX_PDF_GROUPS,
        )
    )
    pcols = [c for c in rows.columns if c.startswith("p") and c.endswith("_s")]
    req = ctx.requests()
    if len(req):
        from ..analysis.matrix import display_name

        w = req.nlargest(WORST_REQUESTS, "latency_s", keep="first")
        wr = [
            [
                fmt(r.latency_s),
                display_name({"verb": r.verb, "resource": r.resource, "subresource": r.subresource, "scope": r.scope}),
                str(r.bucket or ""),
                str(r.uri or ""),
                ctx.run.where(int(r.source_id), int(r.line_no)),
            ]
            for r in w.itertuples(index=False)
        ]
        sec.tables.append(
            Table(
                f"Slowest {len(wr)} API requests",
                ["latency (s)", "group", "load bucket (%)", "uri", "where"],
                wr,
                numeric=[True, False, False, False, False],
            )
        )
    allg = rows[m.by + ["bucket", "count"] + pcols]
    t = frame_table(f"Every group × load bucket ({len(rows):,} cells, seconds)", allg, {"count": "n", "bucket": "x"})
    t.html_only = True
    sec.tables.append(t)


def _pods(sec: Section, ctx: Context):
    ps = ctx.pods()
    pc = ps.percentiles
    cols = [
        c
        for c in ("phase", "bucket", "count", "p50_s", "p90_s", "p99_s", "p100_s", "resolution_s", "clocks")
        if c in pc
    ]
    sec.tables.append(
        frame_table("Pod start-up phases by load level (seconds)", pc[cols], {"count": "n", "bucket": "x"})
    )
    per = ps.per_pod
    phase = next(
        (
            p
            for p in ("pod_startup_s", "schedule_to_watch_s", "create_to_schedule_s", "schedule_to_run_s")
            if p in per and per[p].notna().any()
        ),
        None,
    )
    if phase:
        w = per[per[phase].notna()].sort_values(phase, ascending=False, kind="stable").head(WORST_PODS)
        rows = []
        for _, r in w.iterrows():
            where = []
            for end in ("created", "scheduled", "running", "watched"):
                sid, ln = r.get(f"{end}_source_id"), r.get(f"{end}_line_no")
                if sid is not None and not pd.isna(sid) and ln is not None and not pd.isna(ln):
                    where.append(f"{end}: {ctx.run.where(int(sid), int(ln))}")
            rows.append([str(r["namespace"]), str(r["pod"]), str(r.get("node") or ""), fmt(r[phase]), "; ".join(where)])
        sec.tables.append(
            Table(
                f"Worst {len(rows)} pods by {phase[:-2]} (seconds)",
                ["namespace", "pod", "node", phase, "evidence"],
                rows,
                numeric=[False, False, False, True, False],
            )
        )
    sec.tables.append(frame_table("Anomalies per phase", ps.anomalies))
    if len(ps.reported):
        corr = ctx.corrections() if ctx.correct_skew else None
        if corr:
            sec.tables.append(
                frame_table(
                    "Reported by the test itself (seconds), raw and corrected for clock offsets",
                    corr.correct_reported(ps.reported),
                    {"count": "n"},
                )
            )
        else:
            sec.tables.append(frame_table("Reported by the test itself (seconds)", ps.reported, {"count": "n"}))
    if len(ps.cross_check):
        sec.tables.append(frame_table("Reported by the test vs derived from objects", ps.cross_check))
    sec.paragraphs.append(ps.sources)
    sec.paragraphs += [f"note: {n}" for n in ps.notes]


def _skew(sec: Section, ctx: Context):
    sk = ctx.skew()
    d = sk.domains
    rows = []
    for r in d.to_dict("records"):
        drift = r.get("drift_ppm")
        rows.append(
            [
                str(r["domain"]),
                str(r.get("kind", "")),
                numbers.offset(r.get("offset_s"), r.get("lower_s"), r.get("upper_s")),
                numbers.ci(r.get("lower_s"), r.get("upper_s")).replace("< min", "−∞").replace("> max", "+∞"),
                "" if drift is None or pd.isna(drift) else f"{drift:.1f}",
                f"{int(r.get('n_pairs') or 0):,}",
            ]
        )
    sec.tables.append(
        Table(
            f"Clock domains: offset against the {sk.reference} clock (point estimate ± half the width of its bounds)",
            ["domain", "kind", "offset", "bounds (s)", "drift (ppm)", "causal pairs"],
            rows,
            numeric=[False, False, True, True, True, True],
        )
    )
    sec.lists.append(("Findings", list(sk.findings) or ["none"]))
    if len(sk.evidence):
        t = frame_table("Tightest causal pairs (evidence)", sk.evidence.head(30))
        t.html_only = True
        sec.tables.append(t)
    off = ctx.offsets()
    if ctx.correct_skew and not off:
        sec.paragraphs.append("Correction requested, but no domain has a two-sided offset estimate: nothing corrected.")
    elif not ctx.correct_skew:
        sec.paragraphs.append(
            "Raw clocks used in the other sections (no correction applied; --correct-skew applies the offsets below)."
        )
    if sk.offsets and any(abs(v) > 0 for v in sk.offsets.values()):
        from ..analysis.pods import pod_startup

        raw = ctx.pods_raw().percentiles
        cor = ctx.pods().percentiles if off else pod_startup(ctx.run, offsets=sk.offsets).percentiles
        key = ["phase", "bucket"]
        mm = raw[key + ["count", "p50_s", "p99_s"]].merge(
            cor[key + ["count", "p50_s", "p99_s"]], on=key, how="outer", suffixes=("_raw", "_corrected")
        )
        mm = mm[mm["bucket"] == "all"].drop(columns="bucket")
        sec.tables.append(
            frame_table(
                "Pod start-up: raw vs corrected clocks (seconds; offsets "
                + ", ".join(f"{k} {numbers.offset(v)}" for k, v in sorted(sk.offsets.items()) if v)
                + ")",
                mm,
                {"count_raw": "n", "count_corrected": "n"},
            )
        )


def _diagnosis(sec: Section, ctx: Context):
    dg = ctx.diagnosis()
    sec.paragraphs.append(("FAILED — " if dg.failed else "not failed — ") + dg.summary)
    for f in dg.findings:
        ev = [f"{e.where}: {e.text}" for e in f.evidence]
        sec.lists.append((f"{f.rank}. [{f.severity}] {f.title}", [f.detail] + ev))
        sec.anchors.append(f"finding-{f.rank}")


def _quality(sec: Section, ctx: Context):
    rows, reasons, years = [], [], []
    for _i, e in enumerate(ctx.run.inputs):
        counted = e.get("counted") or {}
        nc = sum(counted.values())
        ok = balanced(e)  # lost lines and 'unaccounted (parser bug)' never balance
        rows.append(
            {
                "input": e.get("path", ""),
                "format": e.get("format", ""),
                "lines_read": int(e.get("lines_read", 0)),
                "record_lines": int(e.get("record_lines", 0)),
                "continuation": int(e.get("continuation_lines", 0)),
                "counted": int(nc),
                "errors": int(len(e.get("errors") or [])),
                "balanced": "yes" if ok else "NO",
            }
        )
        for r, n in sorted(counted.items()):
            reasons.append({"input": e.get("path", ""), "reason": r, "lines": int(n)})
        years.append(
            {
                "input": e.get("path", ""),
                "year": str(e.get("year") or ""),
                "year_source": e.get("year_source", ""),
                "detail": e.get("year_detail", ""),
                "tz": e.get("tz", ""),
            }
        )
        for err in (e.get("errors") or [])[:20]:
            reasons.append({"input": e.get("path", ""), "reason": f"error: {err}", "lines": 1})
    q = pd.DataFrame(rows)
    sec.tables.append(
        frame_table(
            "Line accounting per input (lines_read = record + continuation + counted)",
            q,
            row_class=lambda r: "" if r["balanced"] == "yes" else "fail",
        )
    )
    if reasons:
        sec.tables.append(frame_table("Counted lines by reason", pd.DataFrame(reasons)))
    sec.tables.append(frame_table("Year anchors", pd.DataFrame(years)))


def _plots(sec: Section, ctx: Context):
    from . import plots

    sec.plots += plots.run_plots(ctx)


def _summary(sec: Section, ctx: Context):
    from .summary import summary

    summary(sec, ctx)


SECTIONS = [
    ("summary", "1. Summary", _summary),
    ("verdict", "2. SLO verdicts", _verdict),
    ("run", "3. The run", _run),
    ("matrix", "4. API-call latency by load level", _matrix),
    ("pods", "5. Pod start-up", _pods),
    ("plots", "6. Plots", _plots),
    ("skew", "7. Clock skew", _skew),
    ("diagnosis", "8. Diagnosis of failures", _diagnosis),
    ("quality", "9. Data quality", _quality),
]


def generated_at() -> str:
    """``SOURCE_DATE_EPOCH`` as ISO UTC when set, else empty (reports carry no generation time)."""
    sde = os.environ.get("SOURCE_DATE_EPOCH")
    if not sde:
        return ""
    return datetime.fromtimestamp(int(sde), tz=timezone.utc).isoformat().replace("+00:00", "Z")


def release_memory() -> None:
    """Give the memory Arrow's allocator keeps for reuse back to the system (mimalloc keeps what a
    finished analysis freed: on a 2M-row run the process held 1.5 GB for 0.5 GB of live data)."""
    import pyarrow as pa

    pa.default_memory_pool().release_unused()


def report_memory_pool():
    """The Arrow memory pool the report allocates from: jemalloc where pyarrow was built with it (its
    wheels for Linux are), else the C library's ``malloc`` (``pyarrow.system_memory_pool``).

    Not Arrow's default mimalloc, which keeps what a finished step freed for reuse, and not ``malloc``
    where there is a choice: the report's Arrow buffers (columns of a million rows, freed step after
    step) shared glibc's heap with pandas and numpy and left it fragmented, ~200 MB of freed memory the
    heap could not give back.  jemalloc keeps Arrow's buffers apart; its freed pages go back to the
    system at once (``jemalloc_set_decay_ms(0)``; Arrow's default is a background thread after ~1 s)."""
    import pyarrow as pa

    try:
        pool = pa.jemalloc_memory_pool()
    except NotImplementedError:  # pyarrow built without jemalloc (not its Linux wheels)
        return pa.system_memory_pool()
    pa.jemalloc_set_decay_ms(0)
    return pool


@contextmanager
def _report_allocator():
    """Arrow allocates from :func:`report_memory_pool` inside the block instead of its bundled mimalloc:
    the report's short-lived frames (a million rows, a few columns each) are then given back when freed
    (``release_unused``) instead of kept for reuse.  The previous pool is restored after; arrays made
    inside the block stay valid (each buffer keeps the pool that allocated it).

    This reaches what pyarrow allocates for Python, not what Arrow's C++ library takes from its own
    default pool (the Parquet reader's file buffers, in Arrow's I/O threads, where mimalloc keeps the
    freed pages of each thread): ``kubelog report`` of a run directory therefore makes jemalloc that
    default too, by ``ARROW_DEFAULT_MEMORY_POOL`` before pyarrow loads (``commands/report.py``).  When
    that variable is set (by it or by the user) the pool is left as it is: the user's choice wins;
    jemalloc's freed pages are then given back at once too."""
    import pyarrow as pa

    if os.environ.get("ARROW_DEFAULT_MEMORY_POOL"):  # the user's choice wins, as in ingest's workers
        if pa.default_memory_pool().backend_name == "jemalloc":
            pa.jemalloc_set_decay_ms(0)
        yield
        return
    before = pa.default_memory_pool()
    pa.set_memory_pool(report_memory_pool())
    try:
        yield
    finally:
        pa.set_memory_pool(before)


def build_model(
    run: Run,
    *,
    correct_skew: bool = False,
    plots: bool = True,
    offsets: dict | None = None,
    nodes: int | None = None,
    pods_per_node: int | None = None,
    buckets=None,
    progress=None,
) -> dict:
    """The whole report as data: ``{"title", "generated", "version", "sections": [Section]}``.

    Parameters
    ----------
    run : Run
    correct_skew : bool
        Apply the clock offsets of :func:`kubelog.analysis.skew.analyze` to pod start-up and SLOs
        (also to the test-reported pod start-up percentiles).
    plots : bool
        Include the matplotlib plots (section 6).
    nodes, pods_per_node, buckets
        The load options of ``kubelog latency --by-load`` (:func:`kubelog.analysis.load.load_timeline`,
        :func:`kubelog.analysis.matrix.build_matrix`); None = their defaults.
    progress : callable, optional
        Called with ``(done, total, title)`` before each section is computed.
    """
    from ..analysis import latency

    ctx = Context(run, correct_skew, offsets, nodes=nodes, pods_per_node=pods_per_node, buckets=buckets)
    todo = [(k, t, f) for k, t, f in SECTIONS if plots or k != "plots"]
    secs = []
    if progress:
        progress(0, len(todo), "reading the API requests")
    # analyses asked for by several sections (skew, load timeline, pod start-up) are computed once
    with run.shared(), _report_allocator():
        try:  # one read and de-duplication of the requests for every analysis below (matrix, SLOs, plots)
            latency.keep_api_requests(run, REQUEST_COLUMNS)
        except Exception:  # noqa: BLE001 - each section reports its own error
            pass
        release_memory()
        try:
            for i, (k, t, f) in enumerate(todo):
                if progress:
                    progress(i, len(todo), t)
                secs.append(guarded(k, t, f, ctx))
                if k == "summary":  # it computed the analyses that read the other kept columns
                    latency.narrow_kept_requests(run, CONTEXT_REQUEST_COLUMNS)
                release_memory()
        finally:
            latency.forget_api_requests(run)
    return {
        "title": f"kubelog report — {run.path.name}",
        "generated": generated_at(),
        "version": __version__,
        "sections": secs,
        "context": ctx,
    }
