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
_KEPT: dict = {}  # id(run) → _Kept


@dataclass
class _Kept:
    run: weakref.ref
    columns: set
    rows: pd.DataFrame  # served by the apiserver, de-duplicated; long-running and latency-less rows included
    usable: object  # numpy bool mask of ``rows``: what api_requests returns
    exclusions: Exclusions
    #: no row served by another component has an audit ID, so de-duplicating before or after dropping
    #: those rows gives the same rows (what the diagnosis does: :func:`kept_requests`)
    order_free: bool


def keep_api_requests(run: Run, columns: list[str]) -> None:
    """Compute :func:`api_requests` of ``run`` once with ``columns`` and keep it for the life of ``run``:
    later calls asking for a subset of these columns get a copy of the kept rows instead of reading
    and de-duplicating the requests table again (the report asks for them from its analyses, the
    skew analysis and the diagnosis included; on a 2M-row run each pass costs tens of seconds).
    :func:`kept_requests` gives the same rows before the long-running and latency-less ones are
    dropped."""
    cols = sorted(set(columns) | _INTERNAL)
    _KEPT.pop(id(run), None)
    df, ex, order_free = _deduplicated(run, cols)
    usable, ex = _usable(df, ex)
    _KEPT[id(run)] = _Kept(weakref.ref(run), set(df.columns), df, usable, ex, order_free)


def forget_api_requests(run: Run) -> None:
    """Drop what :func:`keep_api_requests` kept."""
    _KEPT.pop(id(run), None)


def _kept(run: Run, cols) -> _Kept | None:
    k = _KEPT.get(id(run))
    if k is not None and k.run() is run and set(cols) <= k.columns:
        return k
    return None


def kept_requests(run: Run, columns: list[str]) -> pd.DataFrame | None:
    """The requests :func:`keep_api_requests` kept, every one served by the apiserver and counted once
    (long-running and latency-less ones included), as ``dedup_requests`` of the whole table followed by
    dropping other servers' rows gives them; None when nothing is kept for ``run`` with ``columns`` or
    when the two orders could differ."""
    k = _kept(run, columns)
    if k is None or not k.order_free or k.rows.empty:
        return None
    return k.rows[list(columns)].copy()


#: the columns :func:`kubelog.formats.audit.dedup_requests` reads or fills
_DEDUP_COLUMNS = ("origin", "audit_id", "stage", "server", "user", "auth_user")


def _deduplicated(run: Run, cols) -> tuple[pd.DataFrame, Exclusions, bool]:
    """The requests served by the apiserver, de-duplicated (``dedup_requests``), with ``cols``.

    The rows are chosen on a frame of the few columns the rule reads (``_DEDUP_COLUMNS``) and the
    other columns are taken from the Arrow table once, for the chosen rows only: the same rows, index
    and values as the rule applied to the whole frame, without copying every column of every row
    three times (a 2M-row table: 12 s and ~1 GB less)."""
    from ..run import _contiguous_strings

    t = run.arrow("requests", columns=cols)
    ex = Exclusions()
    if t.num_rows == 0:
        return _contiguous_strings(t).to_pandas(), ex, True
    df = t.select([c for c in cols if c in _DEDUP_COLUMNS]).to_pandas()
    # requests served by other components' HTTP servers (the kubelet logs its own) are not API calls
    other = df["server"].notna() & ~df["server"].isin(["kube-apiserver", ""])
    ex.not_apiserver = int(other.sum())
    order_free = True
    if ex.not_apiserver:
        order_free = not ("audit_id" in df and df.loc[other, "audit_id"].notna().any())
        ex.notes.append(f"{ex.not_apiserver} requests served by other components (kubelet HTTP server) excluded")
        df = df[~other]
    from ..formats.audit import dedup_requests

    df, ex.duplicates, note = dedup_requests(df)
    if note:
        ex.notes.append(note)
    import pyarrow as pa

    rest = [c for c in cols if c not in df.columns]
    chosen = _contiguous_strings(t.select(rest).take(pa.array(df.index.to_numpy(), type=pa.int64())))
    full = chosen.to_pandas()
    full.index = df.index
    for c in rest:  # an integer or bool column with nulls converts to float / object: as the whole table did
        typ = t.schema.field(c).type
        if (pa.types.is_integer(typ) or pa.types.is_boolean(typ)) and t[c].null_count and not chosen[c].null_count:
            with_null = pa.chunked_array(chosen[c].chunks + [pa.nulls(1, typ)], type=typ)
            full[c] = with_null.to_pandas().to_numpy()[:-1]
    for c in df.columns:
        full[c] = df[c]
    return full[list(t.column_names)], ex, order_free


def _usable(df: pd.DataFrame, ex: Exclusions):
    """The mask of ``df`` rows that count for latency SLIs; fills ``ex``'s long-running and no-latency counts."""
    import numpy as np

    if df.empty:
        return np.ones(0, dtype=bool), ex
    lr = (df["long_running"].fillna(False).astype(bool) | df["hijacked"].fillna(False).astype(bool)).to_numpy()
    ex.long_running = int(lr.sum())
    nolat = df["latency_s"].isna().to_numpy() & ~lr
    ex.no_latency = int(nolat.sum())
    return ~lr & ~nolat, ex


def api_requests(run: Run, columns: list[str] | None = None) -> tuple[pd.DataFrame, Exclusions]:
    """Requests that count for latency SLIs, and what was excluded.

    When the same request is in the access log and the audit log (same audit
    ID), the access-log row is kept (:func:`kubelog.formats.audit.dedup_requests`).
    """
    cols = None if columns is None else sorted(set(columns) | _INTERNAL)
    k = _kept(run, cols) if cols is not None else None
    if k is not None:
        ex = k.exclusions
        rows = k.rows[cols] if k.rows.empty else k.rows.loc[k.usable, cols]
        return rows.copy(), Exclusions(ex.long_running, ex.no_latency, ex.duplicates, ex.not_apiserver, list(ex.notes))
    df, ex, _ = _deduplicated(run, cols)
    if df.empty:
        return df, ex
    usable, ex = _usable(df, ex)
    return df[usable], ex


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
