"""API-call latency percentiles per group (verb/resource/subresource/scope by default).

Long-running requests (watch, exec/attach/portforward/proxy, log follow,
hijacked connections) are excluded and counted; requests without a latency
are counted too.  See :mod:`kubelog.analysis.stats` for the percentile definition.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field

import pandas as pd

from ..run import Run
from . import stats

DEFAULT_BY = ("verb", "resource", "subresource", "scope")


@dataclass
class Exclusions:
    long_running: int = 0
    no_latency: int = 0
    duplicates: int = 0
    not_apiserver: int = 0
    notes: list = field(default_factory=list)


_INTERNAL = {"long_running", "latency_s", "hijacked", "audit_id", "origin", "stage", "user", "server"}
_KEPT: dict = {}  # id(run) → (weakref to the run, columns, rows, exclusions)


def keep_api_requests(run: Run, columns: list[str]) -> None:
    """Compute :func:`api_requests` of ``run`` once with ``columns`` and keep it for the life of ``run``:
    later calls asking for a subset of these columns get a copy of the kept rows instead of reading
    and de-duplicating the requests table again (the report asks for them from five analyses; on a
    3M-row run each pass costs tens of seconds)."""
    cols = sorted(set(columns) | _INTERNAL)
    _KEPT.pop(id(run), None)
    df, ex = api_requests(run, columns=cols)
    _KEPT[id(run)] = (weakref.ref(run), set(df.columns), df, ex)


def forget_api_requests(run: Run) -> None:
    """Drop what :func:`keep_api_requests` kept."""
    _KEPT.pop(id(run), None)


def api_requests(run: Run, columns: list[str] | None = None) -> tuple[pd.DataFrame, Exclusions]:
    """Requests that count for latency SLIs, and what was excluded.

    When the same request is in the access log and the audit log (same audit
    ID), the access-log row is kept (:func:`kubelog.formats.audit.dedup_requests`).
    """
    cols = None if columns is None else sorted(set(columns) | _INTERNAL)
    kept = _KEPT.get(id(run)) if cols is not None else None
    if kept is not None and kept[0]() is run and set(cols) <= kept[1]:
        ex = kept[3]
        return kept[2][cols].copy(), Exclusions(
            ex.long_running, ex.no_latency, ex.duplicates, ex.not_apiserver, list(ex.notes)
        )
    df = run.table("requests", columns=cols)
    ex = Exclusions()
    if df.empty:
        return df, ex
    # requests served by other components' HTTP servers (the kubelet logs its own) are not API calls
    other = df["server"].notna() & ~df["server"].isin(["kube-apiserver", ""])
    ex.not_apiserver = int(other.sum())
    if ex.not_apiserver:
        ex.notes.append(f"{ex.not_apiserver} requests served by other components (kubelet HTTP server) excluded")
        df = df[~other]
    from ..formats.audit import dedup_requests

    df, ex.duplicates, note = dedup_requests(df)
    if note:
        ex.notes.append(note)
    lr = df["long_running"].fillna(False).astype(bool) | df["hijacked"].fillna(False).astype(bool)
    ex.long_running = int(lr.sum())
    df = df[~lr]
    nolat = df["latency_s"].isna()
    ex.no_latency = int(nolat.sum())
    return df[~nolat], ex


def latency_table(
    run: Run, by=DEFAULT_BY, percentiles=stats.DEFAULT_PERCENTILES, method: str = "nearest-rank"
) -> pd.DataFrame:
    """Count and percentiles (seconds) of non-long-running request latencies per group.

    >>> latency_table(open_run("out/run"))  # doctest: +SKIP
       verb resource subresource     scope  count    p50_s    p90_s    p99_s
    """
    by = list(by)
    df, _ = api_requests(run, columns=by + ["latency_s"])
    for c in by:
        if c in df:
            df[c] = df[c].fillna("")
    out = stats.grouped_percentiles(df, by, "latency_s", percentiles, method)
    return out.sort_values(["count"] + by, ascending=[False] + [True] * len(by), kind="stable").reset_index(drop=True)
