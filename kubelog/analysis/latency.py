"""API-call latency percentiles per group (verb/resource/subresource/scope by default).

Long-running requests (watch, exec/attach/portforward/proxy, log follow,
hijacked connections) are excluded and counted; requests without a latency
are counted too.  See :mod:`kubelog.analysis.stats` for the percentile definition.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field

import numpy as np
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
    rows: pd.DataFrame  # what api_requests returns: served by the apiserver, de-duplicated, with a latency
    excluded: pd.DataFrame  # the long-running and latency-less rows that de-duplication kept
    exclusions: Exclusions
    #: no row served by another component has an audit ID, so de-duplicating before or after dropping
    #: those rows gives the same rows (what the diagnosis does: :func:`kept_requests`)
    order_free: bool


def keep_api_requests(run: Run, columns: list[str]) -> None:
    """Compute :func:`api_requests` of ``run`` once with ``columns`` and keep it for the life of ``run``:
    later calls asking for a subset of these columns get the kept rows instead of reading and
    de-duplicating the requests table again (the report asks for them from its analyses, the skew
    analysis and the diagnosis included; on a 2M-row run each pass cost tens of seconds).  With
    pandas' copy-on-write (pandas 3) such a subset shares the kept data until a caller changes it.
    :func:`kept_requests` gives the same rows with the long-running and latency-less ones.  Only
    ``columns`` are kept: a kept ``api_requests`` frame has the de-duplication's internal columns
    (``audit_id``, ``stage``, ...) that are among them, not the others."""
    cols = sorted(set(columns) | _INTERNAL)
    _KEPT.pop(id(run), None)
    (rows, excluded), ex, order_free = _deduplicated(run, cols, split=True)
    # only ``columns`` are kept: the de-duplication's own columns that no caller asked for (audit IDs,
    # stages, servers, ...: ~125 MB on a million requests) are dropped once they have served
    keep = [c for c in cols if c in set(columns)]
    rows, excluded = rows[keep], excluded[keep]
    _KEPT[id(run)] = _Kept(weakref.ref(run), set(keep), rows, excluded, ex, order_free)


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
    if k is None or not k.order_free or (k.rows.empty and k.excluded.empty):
        return None
    cols = list(columns)
    if k.excluded.empty:
        return k.rows[cols]
    if k.rows.empty:
        return k.excluded[cols]
    out = _merged(k.rows[cols], k.excluded[cols])  # the de-duplicated order
    rng = pd.RangeIndex(out.index[0], out.index[-1] + 1)
    if len(rng) == len(out) and out.index.equals(rng):  # as a row selection of the whole table gives it
        out.index = rng
    return out


def _merged(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    """``pd.concat([a, b]).sort_index()`` (stable) when both indexes are increasing, without its copy
    of every row: ``a`` is cut into runs of rows between ``b``'s rows (slices share the data) and the
    runs and ``b``'s rows are concatenated in order; pandas' Arrow strings are then chunks of the
    same buffers.  The kept requests are ~1M usable rows and ~200 long-running ones: the sorted
    concatenation copied 20 columns of a million rows (~450 MB) for the diagnosis."""
    ia, ib = a.index.to_numpy(), b.index.to_numpy()
    if not (a.index.is_monotonic_increasing and b.index.is_monotonic_increasing) or len(ib) > 10_000:
        return pd.concat([a, b]).sort_index()
    # a row of a whose index equals one of b's goes first (a came first in the stable sort)
    cut = np.searchsorted(ia, ib, side="right")
    pieces, lo = [], 0
    for j, c in enumerate(cut):
        if c > lo:
            pieces.append(a.iloc[lo:c])
        pieces.append(b.iloc[j : j + 1])
        lo = c
    if lo < len(a):
        pieces.append(a.iloc[lo:])
    return pd.concat(pieces)


#: the columns :func:`kubelog.formats.audit.dedup_requests` reads or fills
_DEDUP_COLUMNS = ("origin", "audit_id", "stage", "server", "user", "auth_user")


def _deduplicated(run: Run, cols, split: bool = False) -> tuple[list, Exclusions, bool]:
    """The requests served by the apiserver, de-duplicated (``dedup_requests``), with ``cols``:
    ``([rows], exclusions, order_free)``; with ``split``, ``[usable rows, the others]`` (see
    :func:`_usable`, whose counts are then filled in).

    The rows are chosen on a frame of the few columns the rule reads (``_DEDUP_COLUMNS``, and those
    of :func:`_usable`); then the other columns are read (low-cardinality strings as Arrow
    dictionaries) and taken for the chosen rows only: the same rows, index and values as the rule
    applied to the whole frame, without converting and copying every column of every row three
    times (a 2M-row table: ~12 s and ~1 GB less).  Arrow's allocator is asked to give back what
    each step freed (mimalloc keeps it otherwise)."""
    import pyarrow as pa

    from ..run import _contiguous_strings, decoded

    pool = pa.default_memory_pool()
    key = [c for c in cols if c in _DEDUP_COLUMNS or (split and c in _USABLE_COLUMNS)]
    df = _contiguous_strings(decoded(run.arrow("requests", columns=key, dictionary=True))).to_pandas()
    ex = Exclusions()
    if df.empty:
        full = _contiguous_strings(decoded(run.arrow("requests", columns=cols, dictionary=True))).to_pandas()
        return ([full, full] if split else [full]), ex, True
    # requests served by other components' HTTP servers (the kubelet logs its own) are not API calls
    other = df["server"].notna() & ~df["server"].isin(["kube-apiserver", ""])
    ex.not_apiserver = int(other.sum())
    order_free = True
    if ex.not_apiserver:
        order_free = not ("audit_id" in df and df.loc[other, "audit_id"].notna().any())
        ex.notes.append(f"{ex.not_apiserver} requests served by other components (kubelet HTTP server) excluded")
        df = df[~other]
    from ..formats.audit import dedup_requests

    # the rule gets only the columns it reads (it copies its frame four times: the latency and
    # long-running columns rode along, ~130 MB on 2M rows); the others are taken for its rows after
    ride = [c for c in df.columns if c not in _DEDUP_COLUMNS]
    if ride:
        rest_of_key = df[ride]
        df, ex.duplicates, note = dedup_requests(df[[c for c in df.columns if c in _DEDUP_COLUMNS]])
        for c in ride:
            df[c] = rest_of_key[c].reindex(df.index)
        df = df[[c for c in key]]
        del rest_of_key
    else:
        df, ex.duplicates, note = dedup_requests(df)
    if note:
        ex.notes.append(note)
    parts = [df]
    if split and len(df):
        usable, ex = _usable(df, ex)
        parts = [df[usable], df[~usable]]
    elif split:
        parts = [df, df]
    del df
    pool.release_unused()
    rest = [c for c in cols if c not in key]
    rows = [pa.array(part.index.to_numpy(), type=pa.int64()) for part in parts]
    got = [{} for _ in parts]
    # one column at a time (Parquet reads each column on its own anyway): the whole table is never held
    # for every row, only one column of it and its chosen rows (15 columns of 2M rows: ~400 MB less at
    # the peak of the report's read)
    for c in rest:
        t = run.arrow("requests", columns=[c], dictionary=True)
        nulls = t[c].null_count
        for j, part in enumerate(rows):
            chosen = _contiguous_strings(decoded(t.take(part)))
            typ = chosen.schema.field(c).type
            # an integer or bool column with nulls converts to float / object, as the whole table did
            if (pa.types.is_integer(typ) or pa.types.is_boolean(typ)) and nulls and not chosen[c].null_count:
                with_null = pa.chunked_array(chosen[c].chunks + [pa.nulls(1, typ)], type=typ)
                got[j][c] = pd.Series(with_null.to_pandas().to_numpy()[:-1], index=parts[j].index, name=c)
            else:
                col = chosen.to_pandas()[c]
                col.index = parts[j].index
                got[j][c] = col
            del chosen
        del t
        pool.release_unused()
    out = []
    for part, g in zip(parts, got):
        full = pd.DataFrame(g, index=part.index, copy=False)
        for c in part.columns:
            full[c] = part[c]
        out.append(full[list(cols)])
        del full
    del parts, got
    pool.release_unused()
    return out, ex, order_free


#: the columns :func:`_usable` reads
_USABLE_COLUMNS = ("long_running", "hijacked", "latency_s")


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
    k = _kept(run, columns) if columns is not None else None
    if k is not None:  # the kept rows: ``columns`` and those of the internal columns that were kept
        ex = k.exclusions
        cols = sorted(set(columns) | (_INTERNAL & k.columns))
        return k.rows[cols], Exclusions(ex.long_running, ex.no_latency, ex.duplicates, ex.not_apiserver, list(ex.notes))
    if cols is None:
        from ..tables import schema

        cols = list(schema("requests").names)
    (df, _), ex, _ = _deduplicated(run, cols, split=True)
    return df, ex


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
