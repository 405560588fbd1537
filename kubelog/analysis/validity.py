"""The validity audit shown with every result: what was excluded, missing or doubtful.

Each check is one row ``check, count, detail``:

``long_running_excluded``
    requests left out of latency SLIs as long-running (watch, exec/attach/portforward/proxy, log
    follow, hijacked).
``no_latency``
    requests with no latency (cannot enter a percentile).
``audit_duplicates``
    audit rows of requests also in the access log (the access-log row is used).
``requests_outside_window``
    requests that started before or ended after the test's window (first to last ``test_log``
    line, widened by ``test_specs`` start + duration).  The window is on the test clock and
    requests on the apiserver clock: a large count usually means clock skew, not stray traffic.
``negative_phases`` / ``zero_phases``
    pod start-up phase values < 0 / == 0 (kept, never clamped).
``whole_second_dominated``
    phase values smaller than their resolution, where an end is a whole-second field or a relist (the
    kubelet's PLEG record, up to 1 s after the start): the value is mostly that resolution.
``missing_phases``
    pod phases not computable because an end is unknown.
``pods_never_running``
    pods a pod dump or a kubelet saw that never ran (no running/watched time).
``cross_clock_phases``
    phase values whose ends are on different clock domains with no offset applied.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..run import Run

CHECKS = (
    "long_running_excluded",
    "no_latency",
    "audit_duplicates",
    "requests_outside_window",
    "negative_phases",
    "zero_phases",
    "whole_second_dominated",
    "missing_phases",
    "pods_never_running",
    "cross_clock_phases",
)


def sli_requests(run: Run, columns: list[str] | None = None):
    """The API calls of the SLIs: :func:`kubelog.analysis.latency.api_requests`.

    (Kept as a name: the de-duplication between access log and audit log, including
    pre-1.22 access logs without audit IDs, lives in
    :func:`kubelog.formats.audit.dedup_requests`.)

    Returns
    -------
    (DataFrame, Exclusions)
    """
    from .latency import api_requests

    return api_requests(run, columns=columns)


def audit(run: Run, *, pods=None, exclusions=None, offsets: dict | None = None) -> pd.DataFrame:
    """Validity checks of a run's requests and pod start-up phases.

    Parameters
    ----------
    run : Run
    pods : PodStartup, optional
        Already computed :func:`kubelog.analysis.pods.pod_startup` result (else computed here with
        ``offsets``).
    exclusions : Exclusions, optional
        From :func:`kubelog.analysis.latency.api_requests` (else computed here).
    offsets : dict, optional
        Clock offsets (seconds) for the pod phases when ``pods`` is not given.

    Returns
    -------
    DataFrame
        ``check, count, detail``, one row per check in :data:`CHECKS` order.
    """
    from .pods import pod_startup

    rows = []
    if exclusions is None:
        _, exclusions = sli_requests(run, columns=["latency_s"])
    rows.append(
        (
            "long_running_excluded",
            exclusions.long_running,
            "watch, exec/attach/portforward/proxy, log follow and hijacked requests are not in latency SLIs",
        )
    )
    rows.append(("no_latency", exclusions.no_latency, "requests without a latency (left out of percentiles)"))
    rows.append(
        (
            "audit_duplicates",
            exclusions.duplicates,
            "; ".join(exclusions.notes) or "no request is in both the access log and the audit log",
        )
    )
    rows.append(_outside_window(run))
    ps = pods if pods is not None else pod_startup(run, offsets=offsets)
    a = ps.anomalies.set_index("phase")

    def per_phase(col: str) -> tuple[int, str]:
        s = a[col] if len(a) else pd.Series(dtype=int)
        s = s[s > 0]
        return int(s.sum()), ", ".join(f"{k} {v}" for k, v in s.items())

    n, d = per_phase("negative")
    rows.append(("negative_phases", n, d or "none"))
    n, d = per_phase("zero")
    rows.append(("zero_phases", n, d or "none"))
    n, d = per_phase("below_resolution")
    rows.append(
        (
            "whole_second_dominated",
            n,
            (d + ": |value| < resolution (whole-second fields, PLEG relists); ±1 s per such end") if n else "none",
        )
    )
    n, d = per_phase("missing")
    npods = len(ps.per_pod)
    rows.append(
        (
            "missing_phases",
            n,
            (f"of {npods} pods: " + d) if n else (f"none ({npods} pods)" if npods else "no pods in the run"),
        )
    )
    nr = ps.per_pod[ps.per_pod["not_running"]] if npods else ps.per_pod
    rows.append(
        (
            "pods_never_running",
            len(nr),
            ", ".join(nr["pod"].head(5)) + (" …" if len(nr) > 5 else "") if len(nr) else "none",
        )
    )
    n, d = per_phase("cross_clock")
    rows.append(
        (
            "cross_clock_phases",
            n,
            (d + ": ends on different clocks, no offset applied (see `kubelog skew`)") if n else "none",
        )
    )
    return pd.DataFrame(rows, columns=["check", "count", "detail"]).astype({"count": "int64"})


def test_window(run: Run):
    """(start, end, clock) of the test's own window from ``test_log`` and ``test_specs``; Nones if unknown."""
    lo, hi, clocks = [], [], set()
    if run.has("test_log"):
        t = run.arrow("test_log", columns=["ts", "clock"])
        mn, mx = pc.min(t["ts"]).as_py(), pc.max(t["ts"]).as_py()
        if mn is not None:
            lo.append(pd.Timestamp(mn))
            hi.append(pd.Timestamp(mx))
            clocks |= set(x for x in pc.unique(t["clock"]).to_pylist() if x)
    if run.has("test_specs"):
        s = run.table("test_specs", columns=["start_ts", "duration_s"])
        s = s[s["start_ts"].notna()]
        if len(s):
            lo.append(s["start_ts"].min())
            hi.append((s["start_ts"] + pd.to_timedelta(s["duration_s"].fillna(0), unit="s")).max())
    if not lo:
        return None, None, ""
    return min(lo), max(hi), ",".join(sorted(clocks)) or "test"


def _id_batches(run: Run):
    """``(slice of the rows, their audit IDs)`` of the requests table, a batch at a time, in order."""
    off = 0
    for b in run.batches("requests", columns=["audit_id"]):
        yield slice(off, off + b.num_rows), b.column(0)
        off += b.num_rows


def _outside_window(run: Run):
    start, end, clock = test_window(run)
    if start is None:
        return ("requests_outside_window", 0, "not checked: no test log gives the run window")
    if not run.has("requests"):
        return ("requests_outside_window", 0, f"no requests; window {start} → {end} ({clock} clock)")
    # in Arrow (masks as numpy): a million audit IDs as Python objects took ~20 s here
    # origin and server as Arrow dictionaries (one code per row, not one string): 2M rows, ~60 MB less
    r = run.arrow("requests", columns=["start_ts", "ts", "origin", "server"], dictionary=True)

    def mask(x, null: bool):
        return pc.fill_null(x, null).to_numpy(zero_copy_only=False).astype(bool)

    http = mask(pc.equal(r["origin"], "httplog"), False) & mask(pc.not_equal(r["server"], "kubelet"), True)
    aud = mask(pc.equal(r["origin"], "audit"), False)

    def ns(col):
        return pc.fill_null(pc.cast(col, pa.int64()), 0).to_numpy(zero_copy_only=False)

    end_ns = ns(r["ts"])  # NaT (null) compares False, as in pandas
    st = pc.coalesce(r["start_ts"], r["ts"])
    valid_st, valid_end = mask(pc.is_valid(st), False), mask(pc.is_valid(r["ts"]), False)
    st_ns = ns(st)
    before = valid_st & (st_ns < pd.Timestamp(start).value)
    after = valid_end & (end_ns > pd.Timestamp(end).value)
    del r, st, st_ns, end_ns
    keep = np.ones(len(http), dtype=bool)
    if http.any() and aud.any():
        # the same request in both logs counts once (see sli_requests): an audit row is dropped when an
        # access-log row has its audit ID.  Only the audit rows outside the window are looked up (the
        # others are not counted either way): a hash set of their IDs, not of every access-log ID (on a
        # 2M-row run a million IDs, ~+300 MB).  The IDs are read a batch at a time, twice (the IDs of
        # every row held at once, ~80 MB on 2M rows, with their masks set the SLO evaluation's peak)
        cand = aud & (before | after)
        cand_ids, http_ids = [], False
        for sl, ids in _id_batches(run):
            http_ids = http_ids or bool((http[sl] & mask(pc.is_valid(ids), False)).any())
            if cand[sl].any():
                cand_ids.append(pc.filter(ids, pa.array(cand[sl])))
        if not http_ids:
            keep = ~aud  # no access-log row has an ID: every audit row is a duplicate, as before
        elif cand_ids:
            cand_ids = pa.chunked_array(cand_ids, type=cand_ids[0].type)  # the candidates' IDs, in order
            wanted = pc.unique(pc.drop_null(cand_ids))
            hits = []
            for sl, ids in _id_batches(run):
                hits.append(
                    pc.drop_null(pc.filter(ids, pa.array(http[sl] & mask(pc.is_in(ids, value_set=wanted), False))))
                )
            hits = pc.unique(pa.chunked_array(hits, type=cand_ids.type))
            keep[np.flatnonzero(cand)[mask(pc.is_in(cand_ids, value_set=hits), False)]] = False
    before &= keep
    after &= keep
    n_b, n_a = int(before.sum()), int(after.sum())
    n = int((before | after).sum())
    detail = (
        f"{n_b} start before, {n_a} end after the test window {start:%Y-%m-%d %H:%M:%S} → "
        f"{end:%Y-%m-%d %H:%M:%S} ({clock} clock; requests are on the apiserver clock — a large count "
        f"usually means clock skew)"
    )
    return ("requests_outside_window", n, detail)
