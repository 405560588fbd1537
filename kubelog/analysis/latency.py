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


def narrow_kept_requests(run: Run, columns) -> None:
    """Keep only ``columns`` (and the internal columns among the kept ones, which kept frames carry) of
    what :func:`keep_api_requests` kept; the others are freed once no frame uses them.  The report
    narrows its kept requests to what its later sections ask for once the summary has computed the
    analyses that read the rest (the skew pairs, the diagnosis: user agents, clients, names, ...,
    ~170 MB of a 1M-request run).  A later call asking for a dropped column reads the table again."""
    k = _KEPT.get(id(run))
    if k is None or k.run() is not run:
        return
    want = set(columns) | (_INTERNAL & k.columns)
    cols = [c for c in k.rows.columns if c in want]
    _KEPT[id(run)] = _Kept(k.run, set(cols), k.rows[cols], k.excluded[cols], k.exclusions, k.order_free)


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
_FILLED = ("user", "auth_user", "stage")  # what an access-log row takes from its audit duplicate
_APISERVER = ("kube-apiserver", "")


def _in(col, values) -> np.ndarray:
    """``col`` (an Arrow chunked array of strings, or of dictionaries of strings) is one of ``values``:
    a bool array, False for nulls, as pandas' ``isin`` gives it.  A dictionary chunk is tested on its
    dictionary and the answer taken for its indices (no string per row)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    out = []
    for ch in col.chunks:
        if pa.types.is_dictionary(ch.type):
            hit = pc.take(pc.is_in(ch.dictionary, value_set=pa.array(values, ch.type.value_type)), ch.indices)
        else:
            hit = pc.is_in(ch, value_set=pa.array(values, ch.type))
        out.append(np.asarray(pc.fill_null(hit, False).to_numpy(zero_copy_only=False), dtype=bool))
    return np.concatenate(out) if out else np.zeros(0, dtype=bool)


def _valid(col) -> np.ndarray:
    import pyarrow.compute as pc

    return np.asarray(pc.is_valid(col).to_numpy(zero_copy_only=False), dtype=bool)


def _mask_in(ids, mask: np.ndarray, value_set) -> np.ndarray:
    """The rows of ``mask`` whose ``ids`` value is in ``value_set`` (an Arrow hash set, built once)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    out = np.zeros(len(mask), dtype=bool)
    pos = np.flatnonzero(mask)
    if len(pos) and len(value_set):
        hit = pc.is_in(ids.take(pa.array(pos)), value_set=value_set)
        out[pos] = np.asarray(pc.fill_null(hit, False).to_numpy(zero_copy_only=False), dtype=bool)
    return out


def _dedup_rows(t, rows: np.ndarray):
    """The rule of :func:`kubelog.formats.audit.dedup_requests` on Arrow columns: ``t`` has every row of
    the requests table (its low-cardinality strings as dictionaries), ``rows`` the mask of those the rule
    is applied to.  Returns ``(kept, fills, duplicates, note)``: the positions of the rows kept, in
    order; ``{column: values}`` for the columns an access-log row takes from its audit duplicate (an
    Arrow array aligned with ``kept``, null where the row keeps its own value: used only where its own
    is null, as the rule does); the count and the note of the rule.

    The same rows and values as the rule on a pandas frame of these rows, without that frame: its
    strings were ~380 MB on a 2M-row table and the rule's copies of its halves and its map of a million
    audit IDs as much again (the peak of the report's read)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    names = set(t.column_names)
    if "origin" not in names or "audit_id" not in names:
        return np.flatnonzero(rows), {}, 0, ""
    is_aud = _in(t["origin"], ["audit"])
    aud = rows & is_aud
    if not aud.any():
        return np.flatnonzero(rows), {}, 0, ""
    ids = t["audit_id"]
    has_id = _valid(ids)
    if "stage" in names:
        stage = t["stage"]
        complete = aud & has_id & _in(stage, ["ResponseComplete", "Panic"])
        started = aud & has_id & _in(stage, ["ResponseStarted"])
        if complete.any() and started.any():
            aud &= ~_mask_in(ids, started, pc.unique(ids.take(pa.array(np.flatnonzero(complete)))))
    http = rows & ~is_aud
    listed = http  # the apiserver's access-log rows (their IDs tell whether the access log has any)
    if "server" in names:
        listed = http & (~_valid(t["server"]) | _in(t["server"], list(_APISERVER)))
    logged = http & has_id
    if listed.any() and not (listed & has_id).any():
        n = int(aud.sum())
        return (
            np.flatnonzero(http),
            {},
            n,
            (
                f"{n} audit rows not used: the access log has no audit IDs to match them "
                "(before 1.22), so each request would count twice; the access log is used"
            ),
        )
    logged_ids = pc.unique(ids.take(pa.array(np.flatnonzero(logged)))) if logged.any() else pa.array([], pa.string())
    dup = _mask_in(ids, aud & has_id, logged_ids)
    del logged_ids
    kept = np.flatnonzero(http | (aud & ~dup))
    fills = {}
    copied = [c for c in _FILLED if c in names]
    n = int(dup.sum())
    if n and copied:
        # each ID's first duplicate audit row (in the table's order) gives the values
        dpos = np.flatnonzero(dup)
        first = (
            pa.table({"id": ids.take(pa.array(dpos)), "i": pa.array(np.arange(len(dpos)))})
            .group_by("id", use_threads=False)
            .aggregate([("i", "min")])
        )
        src = dpos[first["i_min"].to_numpy()]
        want = np.flatnonzero(logged[kept])  # kept access-log rows with an ID: they may take a value
        j = pc.index_in(ids.take(pa.array(kept[want])), value_set=first["id"])
        del first
        at = np.full(len(kept), -1, dtype=np.int64)
        found = _valid(j)
        at[want[found]] = src[j.filter(pa.array(found)).to_numpy() if j.null_count else j.to_numpy()]
        idx = pa.array(at, mask=at < 0)
        for c in copied:
            fills[c] = t[c].take(idx)
    note = f"{n} audit rows duplicate access-log rows (same audit ID); the access-log row is used" if n else ""
    return kept, fills, n, note


def _to_pandas(col, rows, index: pd.Index, has_nulls: bool, fill=None) -> pd.Series:
    """The Series of ``col`` (Arrow) at ``rows`` (all of it when None) with ``index``, as the column
    of a frame of every row then a row selection gives it: strings (dictionaries decoded) in one
    chunk, and an integer or bool column with nulls somewhere (``has_nulls``) converted as such
    (float / object) even when the chosen rows have none.  ``fill`` (aligned with the chosen rows)
    replaces the nulls it has values for."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from ..run import _contiguous_strings, decoded

    if rows is not None:
        col = col.take(pa.array(rows, type=pa.int64()))
    chosen = _contiguous_strings(decoded(pa.table({"c": col})))["c"]
    del col
    if fill is not None:
        chosen = pc.coalesce(chosen, decoded(pa.table({"c": fill}))["c"].cast(chosen.type))
        chosen = _contiguous_strings(pa.table({"c": chosen}))["c"]
    typ = chosen.type
    if (pa.types.is_integer(typ) or pa.types.is_boolean(typ)) and has_nulls and not chosen.null_count:
        with_null = pa.chunked_array(chosen.chunks + [pa.nulls(1, typ)], type=typ)
        return pd.Series(with_null.to_pandas().to_numpy()[:-1], index=index)
    s = pa.table({"c": chosen}).to_pandas()["c"]
    s.index = index
    return s


def _usable_rows(t, kept: np.ndarray, ex: Exclusions):
    """:func:`_usable` of the rows ``kept`` of the Arrow columns ``t``."""
    import pyarrow as pa
    import pyarrow.compute as pc

    rows = pa.array(kept, type=pa.int64())

    def flag(c):
        return np.asarray(pc.fill_null(t[c].take(rows), False).to_numpy(zero_copy_only=False), dtype=bool)

    lr = flag("long_running") | flag("hijacked")
    ex.long_running = int(lr.sum())
    lat = t["latency_s"].take(rows)
    nolat = np.asarray(pc.is_null(lat, nan_is_null=True).to_numpy(zero_copy_only=False), dtype=bool) & ~lr
    ex.no_latency = int(nolat.sum())
    return ~lr & ~nolat, ex


def _deduplicated(run: Run, cols, split: bool = False) -> tuple[list, Exclusions, bool]:
    """The requests served by the apiserver, de-duplicated (``dedup_requests``), with ``cols``:
    ``([rows], exclusions, order_free)``; with ``split``, ``[usable rows, the others]`` (see
    :func:`_usable`, whose counts are then filled in).

    The rows are chosen in Arrow (:func:`_dedup_rows`) on the few columns the rule reads
    (``_DEDUP_COLUMNS``, and those of :func:`_usable`), read with the low-cardinality strings as
    dictionaries; then each column is taken for the chosen rows only, the others a batch at a time
    (:meth:`kubelog.run.Run.batches`): the same rows, index, values and dtypes as the rule applied to
    a pandas frame of the whole table, without any frame of every row (a 2M-row table: ~12 s and
    ~1 GB less than that; the rule in pandas on the key columns of every row cost ~470 MB at the
    report's peak).  Arrow's allocator is asked to give back what each step freed."""
    import pyarrow as pa

    pool = pa.default_memory_pool()
    key = [c for c in cols if c in _DEDUP_COLUMNS or (split and c in _USABLE_COLUMNS)]
    t = run.arrow("requests", columns=key, dictionary=True)
    ex = Exclusions()
    if t.num_rows == 0:
        from ..run import _contiguous_strings, decoded

        full = _contiguous_strings(decoded(run.arrow("requests", columns=cols, dictionary=True))).to_pandas()
        return ([full, full] if split else [full]), ex, True
    # requests served by other components' HTTP servers (the kubelet logs its own) are not API calls
    other = np.zeros(t.num_rows, dtype=bool)
    if "server" in key:
        other = _valid(t["server"]) & ~_in(t["server"], list(_APISERVER))
    ex.not_apiserver = int(other.sum())
    order_free = True
    if ex.not_apiserver:
        order_free = not ("audit_id" in key and (other & _valid(t["audit_id"])).any())
        ex.notes.append(f"{ex.not_apiserver} requests served by other components (kubelet HTTP server) excluded")
    kept, fills, ex.duplicates, note = _dedup_rows(t, ~other)
    if note:
        ex.notes.append(note)
    del other
    parts = [kept]
    if split:
        parts = [kept, kept]
        if len(kept):
            usable, ex = _usable_rows(t, kept, ex)
            parts = [kept[usable], kept[~usable]]
    index = [pd.Index(p, dtype="int64") for p in parts]
    where = [np.searchsorted(kept, p) for p in parts]  # each part's rows among ``kept`` (for the fills)
    got = [{} for _ in parts]
    for c in key:
        has_nulls = bool(t[c].null_count)
        for j, p in enumerate(parts):
            fill = fills[c].take(pa.array(where[j])) if c in fills else None
            got[j][c] = _to_pandas(t[c], p, index[j], has_nulls, fill)
    del t, fills
    pool.release_unused()
    # the other columns a batch at a time: the whole column is never held, only its chosen rows (uri of
    # 2M rows read whole was ~400 MB at the peak of the report's read, with its conversions)
    for c in [c for c in cols if c not in key]:
        pieces, typ = [[] for _ in parts], None
        nulls, off = 0, 0
        for b in run.batches("requests", columns=[c], dictionary=True):
            col, m, typ = b.column(0), b.num_rows, b.schema.field(0).type
            nulls += col.null_count
            for j, p in enumerate(parts):
                lo, hi = np.searchsorted(p, [off, off + m])
                if hi > lo:
                    pieces[j].append(col.take(pa.array(p[lo:hi] - off)))
            off += m
        for j in range(len(parts)):
            got[j][c] = _to_pandas(pa.chunked_array(pieces[j], type=typ), None, index[j], bool(nulls))
            pieces[j] = None
        pool.release_unused()
    out = [pd.DataFrame({c: g[c] for c in cols}, index=ix, copy=False) for g, ix in zip(got, index)]
    del got
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
