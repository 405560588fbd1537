"""The performance history of a CI job: one tidy table run × metric, and change points per metric.

A history is built from any list of *runs*, each either

* a run directory made by ``kubelog ingest`` (raw logs: exact percentiles, the load matrix,
  pod start-up, SLO verdicts, clock skew, validity), or
* a build's *summary artifacts* without raw logs: clusterloader2 ``APIResponsivenessPrometheus*_*.json``
  / ``PodStartupLatency_*.json`` (PerfData), ``junit*.xml``, Prow's ``started.json`` /
  ``finished.json`` — a Prow build directory (``<build>/artifacts/*.json``) as perfdash reads it,

or a directory holding such runs (a store of run directories, a perfdash-style job directory of
build directories).  The per-run work is the plain function :func:`run_metrics`; :func:`collect`
maps it over the runs on a local process pool or on Dask distributed, and only the small table
comes back.  :func:`detect_changes` finds change points per metric series (``ruptures`` PELT,
then a Mann–Whitney test and a bootstrap interval per change; docs/history.md has the method,
its parameters and why PELT was chosen over Apache Otava's E-divisive on measurements).

>>> t = collect(["store/"])                 # doctest: +SKIP
>>> changes = detect_changes(t)             # doctest: +SKIP
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .outcome import run_started, test_specs_of_record

# --- the tidy table ------------------------------------------------------------------------------

#: Columns of :func:`run_metrics` / :func:`collect` (one row per run × metric).
COLUMNS = [
    "run",
    "build",
    "started",
    "source",
    "family",
    "metric",
    "group",
    "bucket",
    "stat",
    "value",
    "n",
    "unit",
    "text",
    "clocks",
    "skewed",
]
#: Families whose series are searched for change points (numeric, "higher is worse").
NUMERIC_FAMILIES = ("latency", "pod_startup", "test")
STATS = (("p50", 0.5), ("p90", 0.9), ("p99", 0.99))

DEFAULT_SKEW_TOLERANCE_S = 1.0
DEFAULT_MIN_N = 20
DEFAULT_MIN_RUNS = 12
DEFAULT_PENALTY = 3.0
DEFAULT_ALPHA = 0.01
DEFAULT_MIN_RATIO = 1.25
DEFAULT_MIN_SIZE = 3
DEFAULT_BOOTSTRAP = 2000

# a Prow build directory in a path: .../<job>/<build-id>/{started.json,finished.json,artifacts/...}
_PROW_BUILD = re.compile(r"(?:^|/)(?P<build>\d+)/(?:started\.json|finished\.json|artifacts/|build-log\.txt)")
_CL2_JSON = re.compile(r"^(?:APIResponsiveness\w*|\w*PodStartupLatency)_.*\.json$")


class HistoryError(ValueError):
    """A path that is not a run, or a history that cannot be built (message names the path)."""


# --- finding runs --------------------------------------------------------------------------------


def _summary_files(d: Path) -> list[Path]:
    """clusterloader2 PerfData files of a build directory (``d`` or ``d/artifacts``)."""
    out = []
    for sub in (d, d / "artifacts"):
        if sub.is_dir():
            out += sorted(p for p in sub.iterdir() if p.is_file() and _CL2_JSON.match(p.name))
    return out


def run_kind(path) -> str | None:
    """``"run"`` (a kubelog run directory), ``"summary"`` (a build's CL2 summary artifacts) or None."""
    p = Path(path)
    if (p / "manifest.json").is_file():
        return "run"
    if p.is_dir() and _summary_files(p):
        return "summary"
    return None


def find_runs(paths) -> list[Path]:
    """The runs named by ``paths``: runs themselves, stores (the runs of their ``index.parquet``,
    :mod:`kubelog.engine.store`), or directories whose children are runs.

    Raises :class:`HistoryError` naming the first path that is neither (for example raw logs not
    yet ingested) or when no run is found.
    """
    runs: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if not p.exists():
            raise HistoryError(f"{p}: no such file or directory")
        if run_kind(p):
            runs.append(p)
            continue
        if (p / "index.parquet").is_file():  # a store made by `kubelog ingest --each-run`: its index
            runs += _runs_of_store(p)
            continue
        if not p.is_dir():
            raise HistoryError(f"{p}: not a run directory (kubelog ingest) or a build's summary artifacts")
        kids = sorted((c for c in p.iterdir() if c.is_dir() and not c.name.startswith(".")), key=_name_key)
        found = [c for c in kids if run_kind(c)]
        if not found:
            raise HistoryError(
                f"{p}: neither a run directory (kubelog ingest), a build's clusterloader2 summary "
                f"JSON, nor a directory of them (raw logs: run `kubelog ingest` first)"
            )
        runs += found
    if not runs:
        raise HistoryError("no runs given")
    return runs


def _runs_of_store(p: Path) -> list[Path]:
    from ..engine.store import read_index
    from ..errors import KubelogError

    try:
        idx = read_index(p)
    except KubelogError as e:
        raise HistoryError(str(e)) from None
    out = [p / r for r in idx["run"]]
    for r in out:
        if run_kind(r) != "run":
            raise HistoryError(f"{r}: listed in {p / 'index.parquet'} but not a run directory (ingest it again)")
    if not out:
        raise HistoryError(f"{p}: a store with no runs (its index is empty)")
    return out


def _name_key(p: Path):
    return (0, int(p.name), "") if p.name.isdigit() else (1, 0, p.name)


# --- per run -------------------------------------------------------------------------------------


def _build_from_paths(paths) -> int | None:
    for s in paths:
        m = _PROW_BUILD.search(str(s).replace("\\", "/"))
        if m:
            return int(m["build"])
    return None


def _group_text(verb, resource, sub, scope) -> str:
    return f"{verb} {resource}{'/' + sub if sub else ''} {scope}".strip()


def _row(family, metric, group, stat, value, n=None, *, bucket="", unit="s", text="", clocks="", skewed=False) -> dict:
    """One tidy row of a run (the columns of :data:`COLUMNS` but the run's own: run, build, started, source)."""
    return dict(
        family=family,
        metric=metric,
        group=group,
        bucket=bucket,
        stat=stat,
        value=value,
        n=n,
        unit=unit,
        text=text,
        clocks=clocks,
        skewed=skewed,
    )


def _rows_frame(rows: list[dict], run: str, build, started, source: str) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=[c for c in COLUMNS if c not in ("run", "build", "started", "source")])
    df.insert(0, "source", source)
    df.insert(0, "started", pd.Timestamp(started) if started is not None else pd.NaT)
    df.insert(0, "build", build)
    df.insert(0, "run", run)
    return _typed(df)


def _typed(df: pd.DataFrame) -> pd.DataFrame:
    df = df[COLUMNS].copy()
    df["build"] = pd.array(df["build"], dtype="Int64")
    df["started"] = pd.to_datetime(df["started"], utc=True)
    df["value"] = pd.to_numeric(df["value"], errors="coerce").astype(float)
    df["n"] = pd.array(pd.to_numeric(df["n"], errors="coerce"), dtype="Int64")
    for c in ("run", "source", "family", "metric", "group", "bucket", "stat", "unit", "text", "clocks"):
        df[c] = df[c].astype(object).where(df[c].notna(), "").astype(str)
    df["skewed"] = df["skewed"].astype(object).where(df["skewed"].notna(), False).astype(bool)
    return df


def _skewed_domains(rep, tol: float) -> dict:
    """``{domain: offset_s}`` of the domains whose offset interval lies beyond ±``tol`` seconds."""
    out = {}
    for _, d in rep.domains.iterrows():
        if d["kind"] == "reference":
            continue
        lo, hi = float(d["lower_s"]), float(d["upper_s"])
        if lo > tol or hi < -tol:
            off = d["offset_s"]
            out[str(d["domain"])] = float(off) if pd.notna(off) else (lo if lo > tol else hi)
    return out


def _crosses(clocks: str, skewed: dict) -> bool:
    """Whether a phase whose ends are on ``clocks`` (``"apiserver→node/*"``) involves a skewed domain."""
    if not skewed or not clocks:
        return False
    for pair in clocks.split(","):  # "apiserver→node/*, apiserver→test": the ends differ by source
        ends = [c.strip() for c in pair.replace("->", "→").split("→")]
        if len(set(ends)) < 2:
            continue  # both ends on one clock (node/*→node/*: the pod's own node): an offset cancels
        for e in ends:
            for d in skewed:
                if e == d or (e.endswith("/*") and d.startswith(e[:-1])):
                    return True
    return False


def _skew_text(skewed: dict, n_nodes: int) -> str:
    """``node/* +12.0 s (4 of 4 nodes), test -3.1 s``: node domains summarised by the largest offset."""
    nodes = {k: v for k, v in skewed.items() if k.startswith("node/")}
    parts = [f"{k} {v:+.3g} s" for k, v in sorted(skewed.items()) if k not in nodes]
    if nodes:
        w = max(nodes.values(), key=abs)
        parts.insert(0, f"node/* {w:+.3g} s ({len(nodes)} of {max(n_nodes, len(nodes))} nodes)")
    return ", ".join(parts)


def run_metrics(run_dir, *, skew_tolerance_s: float = DEFAULT_SKEW_TOLERANCE_S) -> pd.DataFrame:
    """The metrics of one run as tidy rows (:data:`COLUMNS`).

    Parameters
    ----------
    run_dir : path
        A run directory made by ``kubelog ingest``, or a build directory with clusterloader2
        summary JSON (see the module docstring).
    skew_tolerance_s : float
        A clock domain whose offset interval against the apiserver lies beyond ±this many seconds
        makes the run *skewed* for every pod start-up phase whose ends cross that domain
        (``skewed`` column True); API latencies (one clock) are never skewed.

    Returns
    -------
    DataFrame
        ``run`` (path), ``build`` (Prow build ID or NA), ``started`` (UTC), ``source`` (``run`` /
        ``cl2-summary``), ``family`` (``latency``, ``pod_startup``, ``slo``, ``skew``, ``test``,
        ``validity``), ``metric`` (unique name), ``group``, ``bucket`` (load bucket or ``all``),
        ``stat`` (``p50``/``p90``/``p99``, ``verdict``, ``offset``, ``duration``, ``count``),
        ``value`` (seconds for latencies), ``n`` (values behind a percentile), ``unit``, ``text``
        (verdicts, outcome), ``clocks`` (the clock domains of a pod phase), ``skewed``.
    """
    p = Path(run_dir)
    kind = run_kind(p)
    if kind == "run":
        return _metrics_of_run(p, skew_tolerance_s)
    if kind == "summary":
        return _metrics_of_summary(p)
    raise HistoryError(f"{p}: not a run directory (kubelog ingest) or a build's summary artifacts")


def _metrics_of_run(p: Path, tol: float) -> pd.DataFrame:
    from ..run import open_run
    from . import latency, matrix, pods, skew, slo

    run = open_run(p)
    paths = [i.get("path", "") for i in run.manifest.get("inputs", [])]
    build = _build_from_paths(paths)
    rows: list[dict] = []

    # the run's clocks first: pod phases crossing a skewed domain are flagged
    skewed: dict = {}
    try:
        rep = skew.analyze(run)
        skewed = _skewed_domains(rep, tol)
        nodes = [d for d in rep.domains.itertuples() if str(d.domain).startswith("node/")]
        doms = [d for d in rep.domains.itertuples() if not str(d.domain).startswith("node/") and d.kind != "reference"]
        if nodes:  # one row for all nodes: the worst
            w = max(nodes, key=lambda d: abs(d.offset_s) if pd.notna(d.offset_s) else -1)
            doms.append(w._replace(domain="node/*"))
        for d in doms:
            bad = {k: v for k, v in skewed.items() if k == d.domain or (d.domain == "node/*" and k.startswith("node/"))}
            rows.append(
                _row(
                    "skew",
                    f"skew {d.domain} offset",
                    str(d.domain),
                    "offset",
                    d.offset_s,
                    d.n_pairs,
                    text="skewed" if bad else ("ok" if d.kind == "two-sided" else f"unknown ({d.kind})"),
                )
            )
        verdict = "skewed: " + _skew_text(skewed, len(nodes)) if skewed else "ok"
        rows.append(
            _row(
                "skew",
                "skew verdict",
                "run",
                "verdict",
                max((abs(v) for v in skewed.values()), default=0.0),
                text=verdict,
            )
        )
    except Exception as e:  # noqa: BLE001 — a run without causal pairs still has its other metrics
        rows.append(_row("skew", "skew verdict", "run", "verdict", None, text=f"unavailable: {type(e).__name__}: {e}"))

    # API latency: the load matrix (per bucket) and the whole run (bucket "all")
    lt = latency.latency_table(run, percentiles=tuple(q for _, q in STATS))
    cells = [(r, "all") for r in lt.to_dict("records")]
    try:
        m = matrix.build_matrix(run, percentiles=tuple(q for _, q in STATS))
        cells += [(r, str(r["bucket"])) for r in m.rows.to_dict("records")]
    except ValueError:
        pass  # no capacity (no node names): the matrix is not defined, the "all" cells are
    for r, b in cells:
        g = _group_text(r["verb"], r["resource"], r["subresource"], r["scope"])
        for s, _ in STATS:
            rows.append(_row("latency", f"{g} @{b} {s}", g, s, r[f"{s}_s"], r["count"], bucket=b))

    # pod start-up (all pods, by load bucket)
    ps = pods.pod_startup(run)
    for r in ps.percentiles.to_dict("records"):
        clocks = str(r.get("clocks") or "")
        for s, _ in STATS:
            rows.append(
                _row(
                    "pod_startup",
                    f"pod {r['phase']} @{r['bucket']} {s}",
                    str(r["phase"]),
                    s,
                    r[f"{s}_s"],
                    r["count"],
                    bucket=str(r["bucket"]),
                    clocks=clocks,
                    skewed=_crosses(clocks, skewed),
                )
            )

    # SLO verdicts and the validity audit
    rep = slo.evaluate(run, pods=ps)
    for r in rep.verdicts.to_dict("records"):
        rows.append(
            _row(
                "slo",
                f"slo {r['sli']} {r['group']}",
                str(r["group"]),
                "verdict",
                r["observed_s"],
                r["n"],
                text=r["verdict"],
            )
        )
    for r in rep.validity.to_dict("records"):
        rows.append(
            _row(
                "validity",
                f"validity {r['check']}",
                str(r["check"]),
                "count",
                r["count"],
                unit="count",
                text=str(r["detail"])[:200],
            )
        )

    # the test: outcome and duration (junit when present, else the e2e log)
    src = test_specs_of_record(run)
    if src is not None:
        failed = (src["state"] == "failed").any()
        rows.append(
            _row(
                "test",
                "test duration",
                "test",
                "duration",
                float(src["duration_s"].sum()),
                len(src),
                text="failed" if failed else "passed",
            )
        )
    started = run_started(run)
    return _rows_frame(rows, str(p), build, started, "run")


def _metrics_of_summary(p: Path) -> pd.DataFrame:
    """Metrics of a build kept only as clusterloader2 summaries (no raw logs)."""
    from ..formats import e2e_util as U
    from ..formats.cl2 import _NAME_TS, _PSL

    rows: list[dict] = []
    started = None
    build = int(p.name) if p.name.isdigit() and ((p / "started.json").is_file() or (p / "artifacts").is_dir()) else None
    meta = {}
    for name in ("started.json", "finished.json"):
        f = p / name
        if f.is_file():
            try:
                meta[name] = json.loads(f.read_text(encoding="utf-8"))
            except (ValueError, UnicodeDecodeError) as e:
                raise HistoryError(f"{f}: invalid JSON: {e}") from e
    st = meta.get("started.json", {}).get("timestamp")
    if isinstance(st, (int, float)):
        started = pd.Timestamp(int(st), unit="s", tz="UTC")
    for f in _summary_files(p):
        try:
            doc = json.loads(f.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as e:
            raise HistoryError(f"{f}: invalid JSON: {e}") from e
        if started is None:
            t = _NAME_TS.search(f.name)
            if t:
                started = pd.Timestamp(t.group(1)).tz_convert("UTC")
        if not isinstance(doc, dict) or "dataItems" not in doc:
            continue
        m = _PSL.search(f.name)  # <Kind>PodStartupLatency_<Identifier>_<config>_<time>.json
        measurement = m["id"] if m else f.name.split("_", 1)[0]
        for r in U.perfdata_rows(doc, measurement, "cl2-json"):
            if r.get("p50_s") is None and r.get("p99_s") is None:
                continue
            lab = json.loads(r["labels"])
            if r["metric"] == "api_call":
                g = _group_text(
                    str(lab.get("Verb", "")).lower(),
                    lab.get("Resource", ""),
                    lab.get("Subresource", ""),
                    str(lab.get("Scope", "")).lower(),
                )
                for s, _ in STATS:
                    rows.append(_row("latency", f"{g} @all {s}", g, s, r.get(f"{s}_s"), r.get("count"), bucket="all"))
            else:
                g = f"{r['metric']}" if not m else f"{r['metric']} ({measurement})"
                for s, _ in STATS:
                    rows.append(_row("pod_startup", f"pod {g} @all {s}", g, s, r.get(f"{s}_s"), bucket="all"))
    fin = meta.get("finished.json")
    outcome = None
    dur = None
    if fin is not None:
        outcome = "passed" if fin.get("passed") or fin.get("result") == "SUCCESS" else "failed"
        if isinstance(fin.get("timestamp"), (int, float)) and isinstance(st, (int, float)):
            dur = float(fin["timestamp"] - st)
    for j in sorted(list(p.glob("junit*.xml")) + list(p.glob("artifacts/junit*.xml"))):
        o, d = _junit_outcome(j)
        outcome = o if outcome is None else outcome
        dur = d if dur is None else dur
        break
    if outcome is not None:
        rows.append(_row("test", "test duration", "test", "duration", dur, text=outcome))
    if not rows:
        raise HistoryError(f"{p}: its clusterloader2 summaries hold no latency percentiles and no outcome")
    return _rows_frame(rows, str(p), build, started, "cl2-summary")


def _junit_outcome(path: Path) -> tuple[str, float | None]:
    import xml.etree.ElementTree as ET

    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as e:
        raise HistoryError(f"{path}: invalid junit XML: {e}") from e
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    failures = sum(int(s.get("failures") or 0) + int(s.get("errors") or 0) for s in suites)
    t = [float(s.get("time")) for s in suites if s.get("time")]
    return ("failed" if failures else "passed"), (sum(t) if t else None)


# --- many runs -----------------------------------------------------------------------------------


def parse_scheduler(spec: str | None) -> tuple[str, int | None, str | None]:
    """``None``/``"processes[:N]"`` → local process pool; ``"local[:N]"`` → a Dask LocalCluster of N
    worker processes; ``"tcp://host:port"`` (or ``tls://``) → an existing Dask scheduler.
    Returns ``(kind, workers, address)``; raises ``ValueError`` on anything else."""
    if spec is None or spec == "":
        return "processes", None, None
    s = spec.strip()
    for kind in ("processes", "local"):
        if s == kind or s.startswith(kind + ":"):
            n = s[len(kind) + 1 :] if ":" in s else ""
            if n and (not n.isdigit() or int(n) < 1):
                raise ValueError(f"--scheduler {spec}: the worker count must be a positive integer")
            return ("dask-local" if kind == "local" else "processes"), (int(n) if n else None), None
    if re.match(r"^(?:tcp|tls|inproc|ucx)://\S+$", s):
        return "dask", None, s
    raise ValueError(f"--scheduler {spec}: expected processes[:N], local[:N] or tcp://HOST:PORT")


def collect(
    paths,
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    skew_tolerance_s: float = DEFAULT_SKEW_TOLERANCE_S,
) -> pd.DataFrame:
    """:func:`run_metrics` of every run in ``paths`` (see :func:`find_runs`), ordered, as one table.

    ``scheduler`` as in :func:`parse_scheduler`: a local process pool by default (``workers``
    processes, default the CPU count; 1 = in this process), ``local[:N]`` a Dask ``LocalCluster``
    (N worker processes, one thread each) started and closed here, ``tcp://…`` an existing Dask
    scheduler.  Only each run's small table travels back.  Runs are ordered by build number when
    every run has one, else by start time (then path); the result has a ``position`` column (0…).
    """
    runs = [str(r) for r in find_runs(paths)]
    kind, n, address = parse_scheduler(scheduler)
    if workers is not None:
        n = workers
    if kind == "processes":
        frames = _map_local(runs, n, skew_tolerance_s)
    else:
        frames = _map_dask(runs, n, address, skew_tolerance_s)
    return order_runs(pd.concat(frames, ignore_index=True))


def _map_local(runs: list[str], n: int | None, tol: float) -> list[pd.DataFrame]:
    import os
    from concurrent.futures import ProcessPoolExecutor
    from functools import partial

    n = n or os.cpu_count() or 1
    fn = partial(run_metrics, skew_tolerance_s=tol)
    if n <= 1 or len(runs) == 1:
        return [fn(r) for r in runs]
    with ProcessPoolExecutor(max_workers=min(n, len(runs))) as ex:
        return list(ex.map(fn, runs, chunksize=max(1, len(runs) // (4 * n))))


def _map_dask(runs: list[str], n: int | None, address: str | None, tol: float) -> list[pd.DataFrame]:
    from distributed import Client, LocalCluster

    cluster = None
    if address is None:
        cluster = LocalCluster(
            n_workers=n or 2, threads_per_worker=1, processes=True, dashboard_address=":0", silence_logs=40
        )
        client = Client(cluster)
    else:
        client = Client(address)
    try:
        futs = client.map(run_metrics, runs, skew_tolerance_s=tol, pure=False)
        return client.gather(futs)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def order_runs(table: pd.DataFrame) -> pd.DataFrame:
    """Sort the table's runs (build number if every run has one, else start time, then path) and
    add ``position`` (0 … runs−1) and ``order_by`` (``build`` or ``started``)."""
    t = _typed(table) if list(table.columns[: len(COLUMNS)]) != COLUMNS else table.copy()
    per = t.groupby("run", sort=False).agg(build=("build", "first"), started=("started", "first")).reset_index()
    by_build = per["build"].notna().all() and per["build"].is_unique
    keys = ["build", "run"] if by_build else ["started", "run"]
    per = per.sort_values(keys, kind="stable", na_position="last").reset_index(drop=True)
    pos = {r: i for i, r in enumerate(per["run"])}
    t["position"] = t["run"].map(pos).astype(np.int64)
    t["order_by"] = "build" if by_build else "started"
    return t.sort_values(["position", "family", "metric"], kind="stable").reset_index(drop=True)


def runs_of(table: pd.DataFrame) -> pd.DataFrame:
    """One row per run: ``position, run, build, started, source, outcome, duration_s, skew``
    (the skew verdict) and ``label`` (the build number, else the start time)."""
    t = table
    per = (
        t.groupby("position", sort=True)
        .agg(run=("run", "first"), build=("build", "first"), started=("started", "first"), source=("source", "first"))
        .reset_index()
    )
    test = t[t["family"] == "test"].set_index("position")
    sk = t[(t["family"] == "skew") & (t["stat"] == "verdict")].set_index("position")
    per["outcome"] = per["position"].map(test["text"]) if len(test) else ""
    per["duration_s"] = per["position"].map(test["value"]) if len(test) else np.nan
    per["skew"] = per["position"].map(sk["text"]) if len(sk) else ""
    per["label"] = [
        str(int(b)) if pd.notna(b) else (s.strftime("%Y-%m-%d %H:%M") if pd.notna(s) else r)
        for b, s, r in zip(per["build"], per["started"], per["run"])
    ]
    return per


# --- change points -------------------------------------------------------------------------------


@dataclass
class ChangeOptions:
    """Parameters of :func:`detect_changes` (docs/history.md explains each)."""

    min_n: int = DEFAULT_MIN_N  # a percentile over fewer values is left out ("too few samples")
    min_runs: int = DEFAULT_MIN_RUNS  # series with fewer valid runs are not searched
    penalty: float = DEFAULT_PENALTY  # PELT penalty per change = penalty × ln(runs) (robust z units)
    min_size: int = DEFAULT_MIN_SIZE  # shortest segment (runs)
    alpha: float = DEFAULT_ALPHA  # family-wise: a change needs p < alpha / (series searched) (Bonferroni)
    min_ratio: float = DEFAULT_MIN_RATIO  # smallest reported shift of the median (after/before or inverse)
    exclude_invalid: bool = True  # drop skewed runs from series that cross the skewed clock
    families: tuple = NUMERIC_FAMILIES
    bootstrap: int = DEFAULT_BOOTSTRAP  # resamples for the interval of the shift
    confidence: float = 0.95
    seed: int = 0


CHANGE_COLUMNS = [
    "metric",
    "family",
    "group",
    "bucket",
    "stat",
    "build",
    "previous",
    "direction",
    "before",
    "after",
    "ratio",
    "ratio_low",
    "ratio_high",
    "shift",
    "unit",
    "p_value",
    "n_before",
    "n_after",
    "excluded",
    "position",
]


def support_n(p: float, confidence: float = 0.95) -> int:
    """The fewest values whose nearest-rank ``p``-percentile the values can bound: the smallest n
    for which the distribution-free order-statistic interval of the p-quantile (``stats.ci_ranks``,
    docs/statistics.md) has an upper end inside the sample, i.e. ``1 − pⁿ ≥ 1 − (1 − confidence)/2``.
    95 %: 6 for p50, 36 for p90, 368 for p99 (a p99 of fewer values is its maximum or next to it,
    and nothing in the sample bounds how much slower the true p99 may be)."""
    a = (1 - confidence) / 2
    return max(1, math.ceil(math.log(a) / math.log(p) - 1e-9))


def _needed_n(stat: pd.Series, o: ChangeOptions) -> np.ndarray:
    """Per row: the fewest values its percentile needs (``max(min_n, support_n(p))``); 0 for a
    value that is not a percentile (a duration, a count)."""
    need = {s: max(o.min_n, support_n(q, o.confidence)) for s, q in STATS}
    return stat.map(need).fillna(0).astype(int).to_numpy()


def series(table: pd.DataFrame, opts: ChangeOptions | None = None):
    """Yield ``(metric, rows, excluded)`` per searched metric: the valid rows in run order and the
    rows left out, each with its reason (``too few samples (n=44 < 368 for p99)``, ``clock skew
    (…)``).  A percentile is valid when its n reaches ``max(min_n, support_n(p))``."""
    o = opts or ChangeOptions()
    t = table[table["family"].isin(o.families) & table["value"].notna()]
    skew_text = table[(table["family"] == "skew") & (table["stat"] == "verdict")].set_index("position")["text"]
    n = t["n"].astype("float64").to_numpy()
    need = _needed_n(t["stat"], o)
    few = ~np.isnan(n) & (n < need)
    reason = np.where(
        few,
        [
            f"too few samples (n={int(k) if k == k else 0} < {m} for {s})"
            for k, m, s in zip(n, need, t["stat"].to_numpy(str))
        ],
        "",
    )
    if o.exclude_invalid:
        sk = t["skewed"].to_numpy() & ~few
        if sk.any():
            why = t["position"].map(skew_text).fillna("").str.removeprefix("skewed: ").to_numpy(str)
            reason = np.where(sk, np.char.add(np.char.add("clock skew (", why), ")"), reason)
    t = t.assign(reason=reason)
    for metric, g in t.sort_values(["metric", "position"], kind="stable").groupby("metric", sort=True):
        bad = g["reason"] != ""
        yield metric, g[~bad].drop(columns="reason"), g[bad]


def _robust_z(y: np.ndarray) -> np.ndarray:
    d = np.diff(y)
    s = 1.4826 * np.median(np.abs(d - np.median(d))) / math.sqrt(2) if len(d) else 0.0
    if not s > 0:
        s = float(np.std(y)) or 1.0
    return (y - np.median(y)) / s


def breakpoints(y: np.ndarray, opts: ChangeOptions) -> list[int]:
    """Candidate change indexes (first index of each new segment) of one series by ruptures PELT
    (least-squares cost on robustly standardized values)."""
    import ruptures as rpt

    n = len(y)
    if n < 2 * opts.min_size:
        return []
    z = _robust_z(y)
    algo = rpt.Pelt(model="l2", min_size=opts.min_size, jump=1).fit(z.reshape(-1, 1))
    return [b for b in algo.predict(pen=opts.penalty * math.log(n)) if b < n]


def _transform(v: np.ndarray) -> tuple[np.ndarray, bool]:
    """Latencies vary multiplicatively: the log when every value is positive."""
    if len(v) and (v > 0).all():
        return np.log(v), True
    return v.astype(float), False


def _test(left: np.ndarray, right: np.ndarray, opts: ChangeOptions, rng) -> dict:
    from scipy.stats import mannwhitneyu

    p = float(mannwhitneyu(left, right, alternative="two-sided").pvalue)
    ml, mr = float(np.median(left)), float(np.median(right))
    B = opts.bootstrap
    bl = np.median(rng.choice(left, size=(B, len(left)), replace=True), axis=1)
    br = np.median(rng.choice(right, size=(B, len(right)), replace=True), axis=1)
    a = (1 - opts.confidence) / 2
    out = {"p_value": p, "before": ml, "after": mr, "shift": mr - ml}
    if ml > 0 and (bl > 0).all():
        r = br / bl
        out.update(ratio=mr / ml, ratio_low=float(np.quantile(r, a)), ratio_high=float(np.quantile(r, 1 - a)))
    else:
        d = br - bl
        out.update(
            ratio=np.nan,
            ratio_low=np.nan,
            ratio_high=np.nan,
            shift_low=float(np.quantile(d, a)),
            shift_high=float(np.quantile(d, 1 - a)),
        )
    return out


def _big(st: dict, opts: ChangeOptions) -> bool:
    """The shift reaches the practical threshold (ratio ≥ min_ratio or ≤ 1/min_ratio; for a series
    with zeros: any shift)."""
    r = st["ratio"]
    return bool(np.isnan(r) or r >= opts.min_ratio or r <= 1 / opts.min_ratio)


def _accepted(st: dict, opts: ChangeOptions, alpha: float) -> bool:
    if not st["p_value"] < alpha:
        return False
    if not np.isnan(st["ratio"]):
        excludes_one = st["ratio_low"] > 1 or st["ratio_high"] < 1
        return bool(_big(st, opts) and excludes_one)
    return bool(st.get("shift_low", 0) > 0 or st.get("shift_high", 0) < 0)


def _weakest(stats: list[dict], keep: list[bool], opts: ChangeOptions) -> int:
    """The rejected candidate to remove first: one whose shift is below the practical threshold
    (the smallest such shift) — it is no change whatever the runs — else the least significant.
    (Removing the least significant first would drop a real step next to a small spurious
    candidate: with 4 runs between them the real step's test cannot reach the family-wise level.)"""
    rejected = [i for i in range(len(stats)) if not keep[i]]
    small = [i for i in rejected if not _big(stats[i], opts)]
    if small:
        return min(small, key=lambda i: abs(math.log(stats[i]["ratio"])))
    return max(rejected, key=lambda i: stats[i]["p_value"])


def _count_changes(n: np.ndarray, opts: ChangeOptions, alpha: float) -> list[int]:
    """Change points of a load bucket's sample count over the runs: the same candidates
    (:func:`breakpoints`), each kept when a Mann–Whitney test between its neighbouring segments
    gives p < ``alpha`` (no practical threshold: any change of the bucket's membership counts)."""
    from scipy.stats import mannwhitneyu

    if np.isnan(n).any() or np.ptp(n) == 0:
        return []
    bps = breakpoints(n.astype(float), opts)
    while bps:
        edges = [0] + bps + [len(n)]
        ps = [
            float(mannwhitneyu(n[edges[i] : b], n[b : edges[i + 2]], alternative="two-sided").pvalue)
            for i, b in enumerate(bps)
        ]
        worst = int(np.argmax(ps))
        if ps[worst] < alpha:
            break
        bps = bps[:worst] + bps[worst + 1 :]
    return bps


def detect_changes(table: pd.DataFrame, opts: ChangeOptions | None = None) -> pd.DataFrame:
    """Change points of every numeric metric series of a history table (:func:`collect`).

    Per series (runs in order, invalid values left out — :func:`series`): candidate changes from
    :func:`breakpoints`; each is tested between its neighbouring segments (Mann–Whitney U,
    two-sided) and measured (ratio of the segment medians with a percentile-bootstrap interval);
    a change is kept when ``p < alpha / m`` (m = series searched, Bonferroni), the ratio is at
    least ``min_ratio`` (or its inverse) and the interval excludes 1.  Rejected candidates are
    removed (:func:`_weakest` first) and the rest re-tested until stable.  A kept change of a load
    bucket's cell (``bucket`` not ``all``) at which the bucket's own n changes as well is a change
    of the bucket's contents, not of the latency at that load: it is set aside
    (:func:`detect`'s second table), not returned here.

    Returns one row per change (:data:`CHANGE_COLUMNS`): ``build`` is the first run of the new
    level (its label: build number or start time), ``previous`` the last valid run before it,
    ``direction`` ``regression`` (higher) or ``improvement``, ``before``/``after`` the segment
    medians, ``ratio`` with ``ratio_low``/``ratio_high``, ``shift`` (after − before, ``unit``),
    ``p_value``, ``n_before``/``n_after`` (runs), ``excluded`` (runs left out of the two segments
    and why, or ``none``).  Sorted worst first: regressions by ratio, then improvements.
    """
    return detect(table, opts)[0]


def detect(table: pd.DataFrame, opts: ChangeOptions | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(changes, moved)``: :func:`detect_changes`'s table, and the load-bucket changes set aside
    because the bucket's n changed with them (:data:`CHANGE_COLUMNS` plus ``cell_n_before`` /
    ``cell_n_after``, the bucket's median n on each side)."""
    o = opts or ChangeOptions()
    labels = runs_of(table).set_index("position")["label"]
    rng = np.random.default_rng(o.seed)
    out, moved = [], []
    todo = []
    for metric, g, bad in series(table, o):
        v = g["value"].to_numpy(float)
        if len(g) >= o.min_runs and np.ptp(v) > 0:
            todo.append((metric, g, bad, v))
    alpha = o.alpha / max(1, len(todo))  # Bonferroni over the series searched
    for metric, g, bad, v in todo:
        y, _ = _transform(v)
        bps = breakpoints(y, o)
        while True:
            edges = [0] + bps + [len(v)]
            stats = []
            for i, b in enumerate(bps):
                stats.append(_test(v[edges[i] : b], v[b : edges[i + 2]], o, rng))
            keep = [_accepted(s, o, alpha) for s in stats]
            if all(keep):
                break
            worst = _weakest(stats, keep, o)
            bps = bps[:worst] + bps[worst + 1 :]
        edges = [0] + bps + [len(v)]
        pos = g["position"].to_numpy()
        first = g.iloc[0]
        nbps = []  # a load bucket's cell: where the bucket's own n changes
        if first["bucket"] not in ("all", "") and bps:
            ncell = g["n"].astype("float64").to_numpy()
            nbps = _count_changes(ncell, o, alpha)
        for i, (b, st) in enumerate(zip(bps, stats)):
            lo_pos, hi_pos = pos[edges[i]], pos[edges[i + 2] - 1]
            ex = bad[(bad["position"] >= lo_pos) & (bad["position"] <= hi_pos)]
            exc = "; ".join(f"{labels[r.position]}: {r.reason}" for r in ex.itertuples()) or "none"
            row = dict(
                metric=metric,
                family=first["family"],
                group=first["group"],
                bucket=first["bucket"],
                stat=first["stat"],
                build=labels[pos[b]],
                previous=labels[pos[b - 1]],
                direction="regression" if st["after"] > st["before"] else "improvement",
                before=st["before"],
                after=st["after"],
                ratio=st["ratio"],
                ratio_low=st["ratio_low"],
                ratio_high=st["ratio_high"],
                shift=st["shift"],
                unit=first["unit"],
                p_value=st["p_value"],
                n_before=int(b - edges[i]),
                n_after=int(edges[i + 2] - b),
                excluded=exc,
                position=int(pos[b]),
            )
            near = [k for k in nbps if abs(k - b) <= o.min_size]  # within the detector's resolution
            if not near:
                out.append(row)
            else:
                k = near[0]
                ne = [0] + nbps + [len(ncell)]
                j = nbps.index(k)
                moved.append(
                    dict(
                        row,
                        cell_n_before=float(np.median(ncell[ne[j] : k])),
                        cell_n_after=float(np.median(ncell[k : ne[j + 2]])),
                    )
                )
    return _worst_first(pd.DataFrame(out, columns=CHANGE_COLUMNS)), _worst_first(
        pd.DataFrame(moved, columns=CHANGE_COLUMNS + ["cell_n_before", "cell_n_after"])
    )


def _worst_first(df: pd.DataFrame) -> pd.DataFrame:
    if df.empty:
        return df
    df["_reg"] = (df["direction"] != "regression").astype(int)
    df["_size"] = -np.where(df["direction"] == "regression", df["ratio"].fillna(1.0), 1 / df["ratio"].fillna(1.0))
    return (
        df.sort_values(["_reg", "_size", "p_value", "metric"], kind="stable")
        .drop(columns=["_reg", "_size"])
        .reset_index(drop=True)
    )


@dataclass
class History:
    """A history: the tidy table, the changes found, and what was used."""

    table: pd.DataFrame
    changes: pd.DataFrame
    runs: pd.DataFrame
    options: ChangeOptions
    moved: pd.DataFrame | None = None  # load-bucket changes set aside: the bucket's n changed with them


def read_table(path) -> pd.DataFrame:
    """A table written by ``kubelog history --metrics-out`` (.parquet or .csv), runs re-ordered."""
    p = Path(path)
    try:
        df = (
            pd.read_parquet(p)
            if p.suffix == ".parquet"
            else pd.read_csv(
                p, keep_default_na=False, na_values={"value": [""], "n": [""], "build": [""], "started": [""]}
            )
        )
    except Exception as e:  # noqa: BLE001 — pyarrow and the CSV reader raise many kinds
        raise HistoryError(f"{p}: not a history table: {type(e).__name__}: {e}") from e
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise HistoryError(f"{p}: not a history table (no column {', '.join(missing)})")
    df["skewed"] = df["skewed"].astype(str).str.lower().isin(["true", "1"])
    return order_runs(_typed(df))


def _is_table(p) -> bool:
    return Path(p).is_file() and Path(p).suffix in (".parquet", ".csv")


def history(
    paths,
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    skew_tolerance_s: float = DEFAULT_SKEW_TOLERANCE_S,
    options: ChangeOptions | None = None,
) -> History:
    """:func:`collect` then :func:`detect_changes`.  ``paths`` may instead be tables written by
    ``--metrics-out`` (:func:`read_table`): change detection again, without re-reading the runs."""
    paths = list(paths)
    tables = [p for p in paths if _is_table(p)]
    if tables and len(tables) < len(paths):
        raise HistoryError(f"{tables[0]}: give either history tables or runs, not both")
    if tables:
        t = order_runs(pd.concat([read_table(p)[COLUMNS] for p in tables], ignore_index=True))
    else:
        t = collect(paths, scheduler=scheduler, workers=workers, skew_tolerance_s=skew_tolerance_s)
    o = options or ChangeOptions()
    changes, moved = detect(t, o)
    return History(table=t, changes=changes, runs=runs_of(t), options=o, moved=moved)
