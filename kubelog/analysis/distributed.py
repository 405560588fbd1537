"""Latency analysis past one machine's memory: the ``requests`` table read with dask.dataframe.

The rows are the pandas path's, exactly (:func:`kubelog.analysis.latency.latency_table` and
:func:`kubelog.analysis.matrix.build_matrix`): the same request filter (other components' HTTP servers,
audit rows that duplicate access-log rows, long-running requests, requests without latency), then
**exact** nearest-rank percentiles per group: the rows are shuffled on the group key, so that every group
lies whole in one partition, and each partition runs the same per-group percentile code as pandas
(:func:`kubelog.analysis.stats.grouped_percentiles`: a sort of each group's values). No sketch, no
approximation. By load level, each request's bucket comes from the run's load timeline (a small table,
computed once and sent to the workers).

``scheduler`` is ``local`` / ``local:N`` (a :class:`distributed.LocalCluster` of N worker processes, one
thread each, started for the call) or the address of a running scheduler (``tcp://HOST:8786``): the workers
must see the run directory at the same path (a shared file system).
"""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np
import pandas as pd

from ..run import Run
from . import load as loadmod
from . import stats
from .latency import DEFAULT_BY, Exclusions

_APISERVER = ["kube-apiserver", ""]
_COMPLETE = ["ResponseComplete", "Panic"]


@contextmanager
def client_for(scheduler: str):
    """A :class:`distributed.Client` for ``scheduler`` (see the module docstring), closed on exit."""
    import logging

    from distributed import Client, LocalCluster

    # the P2P shuffle logs every start and end of a shuffle as a WARNING: it is not one
    logging.getLogger("distributed.shuffle._scheduler_plugin").setLevel(logging.ERROR)
    if scheduler == "local" or scheduler.startswith("local:"):
        n = int(scheduler.partition(":")[2] or 2)
        if n < 1:
            raise ValueError(f"--scheduler local:N needs N >= 1, got {scheduler!r}")
        with (
            LocalCluster(
                n_workers=n, threads_per_worker=1, processes=True, scheduler_port=0, dashboard_address=":0"
            ) as cluster,
            Client(cluster) as client,
        ):
            yield client
    else:
        with Client(scheduler, timeout="30s") as client:
            yield client


def _read(run: Run, columns: list[str]):
    import dask
    import dask.dataframe as dd

    with dask.config.set({"dataframe.convert-string": False}):  # object strings, as Run.table gives them
        if run.fs is not None:  # a run at a URL: the parts its manifest lists, read by the workers through fsspec
            return dd.read_parquet(run.part_files("requests"), columns=columns, filesystem=run.fs)
        return dd.read_parquet(str(run.path / "requests"), columns=columns, engine="pyarrow")


def api_requests(run: Run, columns: list[str]):
    """The rows :func:`kubelog.analysis.latency.api_requests` keeps, as a dask DataFrame, and the
    lazy counts of what was excluded ``{not_apiserver, duplicates, long_running, no_latency}``."""
    need = sorted(
        set(columns)
        | {"long_running", "latency_s", "hijacked", "audit_id", "origin", "stage", "user", "auth_user", "server"}
    )
    df = _read(run, need)
    other = df["server"].notnull() & ~df["server"].isin(_APISERVER)
    counts = {"not_apiserver": other.sum()}
    df = df[~other]
    is_aud = df["origin"] == "audit"
    aud, http = df[is_aud], df[~is_aud]
    # the rule of kubelog.formats.audit.dedup_requests, as joins on the audit ID
    complete = aud[aud["audit_id"].notnull() & aud["stage"].isin(_COMPLETE)][["audit_id"]].drop_duplicates()
    aud = aud.merge(complete.assign(_complete=True), on="audit_id", how="left")
    aud = aud[~((aud["stage"] == "ResponseStarted") & aud["audit_id"].notnull() & aud["_complete"].notnull())]
    apiserver_http = http[http["server"].fillna("kube-apiserver").isin(_APISERVER)]
    n_http, n_http_ids = apiserver_http.shape[0], apiserver_http["audit_id"].notnull().sum()
    ids = http[http["audit_id"].notnull()][["audit_id"]].drop_duplicates()
    aud = aud.merge(ids.assign(_logged=True), on="audit_id", how="left")
    dup = aud["audit_id"].notnull() & aud["_logged"].notnull()
    return http, aud, dup, n_http, n_http_ids, counts


def _requests(run: Run, by: list[str], extra: list[str]):
    """(rows for percentiles, Exclusions) — computed, counts included, in one pass of the graph."""
    import dask

    http, aud, dup, n_http, n_http_ids, counts = api_requests(run, by + extra)
    copied = [c for c in ("user", "auth_user", "stage") if c in by]
    n_http_v, n_ids_v, n_aud, n_dup = dask.compute(n_http, n_http_ids, aud.shape[0], dup.sum())
    ex = Exclusions(not_apiserver=int(counts["not_apiserver"].compute()))
    if ex.not_apiserver:
        ex.notes.append(f"{ex.not_apiserver} requests served by other components (kubelet HTTP server) excluded")
    if n_aud and n_http_v and not n_ids_v:  # no audit IDs in the access log (before 1.22): audit rows not used
        rows = http
        ex.duplicates = int(n_aud)
        ex.notes.append(
            f"{n_aud} audit rows not used: the access log has no audit IDs to match them "
            "(before 1.22), so each request would count twice; the access log is used"
        )
    else:
        if copied and n_dup:
            src = aud[dup][["audit_id", *copied]].drop_duplicates(subset="audit_id")
            http = http.merge(src, on="audit_id", how="left", suffixes=("", "_audit"))
            for c in copied:
                http[c] = http[c].where(http[c].notnull(), http[f"{c}_audit"])
            http = http.drop(columns=[f"{c}_audit" for c in copied])
        rows = _concat(http, aud[~dup])
        ex.duplicates = int(n_dup)
        if n_dup:
            ex.notes.append(f"{n_dup} audit rows duplicate access-log rows (same audit ID); the access-log row is used")
    lr = rows["long_running"].fillna(False).astype(bool) | rows["hijacked"].fillna(False).astype(bool)
    rows = rows[~lr]
    nolat = rows["latency_s"].isnull()
    ex.long_running, ex.no_latency = (int(x) for x in dask.compute(lr.sum(), nolat.sum()))
    return rows[~nolat][by + extra], ex


def _concat(a, b):
    import dask.dataframe as dd

    cols = list(a.columns)
    return dd.concat([a[cols], b[cols]])


def _fill_keys(part: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    part = part.copy()
    for c in by:
        if part[c].dtype == object or pd.api.types.is_string_dtype(part[c]):
            part[c] = part[c].fillna("")
    return part


def _percentiles(rows, by: list[str], ps, method: str) -> pd.DataFrame:
    """Exact per-group percentiles: shuffle so each group is in one partition, then the pandas code."""
    rows = rows.map_partitions(_fill_keys, by)
    if by:
        rows = rows.shuffle(on=by)
    cols = by + ["count"] + [stats.label(p) for p in ps]
    meta = pd.DataFrame({c: pd.Series(dtype=object if c in by else np.int64 if c == "count" else float) for c in cols})
    parts = rows.map_partitions(
        lambda d: stats.grouped_percentiles(d, by, "latency_s", tuple(ps), method).astype({"count": np.int64}),
        meta=meta,
    )
    return parts.compute().reset_index(drop=True)


def latency_table(
    run: Run, client, by=DEFAULT_BY, percentiles=stats.DEFAULT_PERCENTILES, method: str = "nearest-rank"
) -> pd.DataFrame:
    """:func:`kubelog.analysis.latency.latency_table` on ``client``'s workers (same rows)."""
    by = list(by)
    rows, _ = _requests(run, by, ["latency_s"])
    out = _percentiles(rows, by, percentiles, method)
    if out.empty:
        return pd.DataFrame(columns=by + ["count"] + [stats.label(p) for p in percentiles])
    return out.sort_values(["count"] + by, ascending=[False] + [True] * len(by), kind="stable").reset_index(drop=True)


def build_matrix(
    run: Run,
    client,
    by=DEFAULT_BY,
    percentiles=(0.1, 0.5, 0.9, 0.99),
    buckets=loadmod.DEFAULT_EDGES,
    method: str = "nearest-rank",
    timeline: loadmod.LoadTimeline | None = None,
    nodes=None,
    pods_per_node: int = loadmod.DEFAULT_PODS_PER_NODE,
):
    """:func:`kubelog.analysis.matrix.build_matrix` on ``client``'s workers (same rows and context)."""
    import dask

    from . import matrix

    by = list(by)
    tl = timeline or loadmod.load_timeline(run, nodes=nodes, pods_per_node=pods_per_node)
    if not tl.capacity:
        raise ValueError(f"no capacity: {tl.nodes_source}")
    edges = tuple(buckets)
    labels = loadmod.bucket_labels(edges)
    rows, ex = _requests(run, by, ["latency_s", "start_ts"])

    def place(part: pd.DataFrame) -> pd.DataFrame:
        codes = loadmod.bucket_codes(tl, part["start_ts"], edges) if len(part) else np.array([], np.int64)
        und = loadmod.undecided(tl, part["start_ts"], edges) if len(part) else None
        und = np.zeros(len(part), dtype=bool) if und is None else und
        part = part.drop(columns="start_ts").assign(_code=codes, _und=und & (codes >= 0))
        return part

    meta = rows._meta.drop(columns="start_ts").assign(_code=np.int64(0), _und=False)
    placed = rows.map_partitions(place, meta=meta)
    no_start, n_und, n_placed = dask.compute(
        (placed["_code"] < 0).sum(), placed["_und"].sum(), (placed["_code"] >= 0).sum()
    )
    no_start = int(no_start)
    placed = placed[placed["_code"] >= 0].drop(columns="_und")
    placed = placed.assign(bucket=placed["_code"].map(lambda c: labels[c], meta=("bucket", object)))
    out = _percentiles(placed.drop(columns="_code"), by + ["bucket"], percentiles, method)
    return matrix.finish(
        out,
        tl=tl,
        ex=ex,
        by=by,
        percentiles=tuple(percentiles),
        edges=edges,
        method=method,
        no_start=no_start,
        undecided=(int(n_und), int(n_placed)) if tl.has_bounds else None,
    )
