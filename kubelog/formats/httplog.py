"""The kube-apiserver HTTP access log ("httplog"), every variant (docs/formats/klog.md, access-log.md).

Applied to klog records (after the header) by :mod:`kubelog.formats.klog`.

Variants (caller file:line is only a hint; the message shape decides):

A/B/C  ``GET /api/v1/pods: (2.16ms) 200 [[ua] 1.2.3.4:5]`` (≤ 1.17; ``[[ua] ip]`` ≤ 1.11,
       ``[ua ip]`` 1.12–1.17; for error records the ``[ua ip]`` tail is on the record's
       last continuation line; A has no tail at all)
D      ``verb="GET" URI="/healthz" latency=2.05ms resp=200 UserAgent="..." srcIP="...": `` (1.18)
E–H    ``"HTTP" verb="GET" URI="..." latency="1.5ms" userAgent="..." [audit-ID=".." ]srcIP=".." [apf_*=..] resp=200``
       (1.19+; verb normalised from 1.22; ``hijacked=true`` instead of resp)

The record time is the request end: ``start_ts = ts - latency`` with the latency
parsed exactly from the Go duration string.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .. import tables, timeutil
from . import requestinfo

Q = r'(?:[^"\\]|\\.)*'
RE_E = (
    r'^"HTTP" verb="(?P<method>[^"]*)" URI="(?P<uri>' + Q + r')" latency="(?P<lat>[^"]*)" '
    r'userAgent="(?P<ua>' + Q + r')"(?: contentType="' + Q + r'")?(?: audit-ID="(?P<aid>[^"]*)")? '
    r'srcIP="(?P<src>[^"]*)"(?P<mid>.*?)(?: resp=(?P<resp>[0-9]+)| (?P<hij>hijacked)=true)(?P<tail>.*)$'
)
RE_D = (
    r'^verb="(?P<method>[^"]*)" URI="(?P<uri>[^"]*)" latency=(?P<lat>\S+) (?:resp=(?P<resp>[0-9]+) )?'
    r'UserAgent="(?P<ua>' + Q + r')" srcIP="(?P<src>[^"]*)": ?(?P<tail>.*)$'
)
RE_BC = r"^(?P<method>[A-Z]+) (?P<uri>\S+): \((?P<lat>[^)]+)\) (?P<status>[0-9]+|hijacked)(?P<rest>.*)$"
RE_TAIL = r"(?:^|\s)\[(?:\[(?P<ua_b>.*)\]|(?P<ua_c>.*)) (?P<addr>\[[0-9a-fA-F:.%]+\]:[0-9]+|[^ \]]+)\]$"
RE_APF = r'apf_pl="(?P<pl>[^"]*)" apf_fs="(?P<fs>[^"]*)"'

RE_E_REST = (
    r'^userAgent="(?P<ua>' + Q + r')"(?: contentType="' + Q + r'")?(?: audit-ID="(?P<aid>[^"]*)")? '
    r'srcIP="(?P<src>[^"]*)"'
)

COLUMNS = ("method", "uri", "lat", "ua", "src", "resp", "aid", "hijacked", "apf_pl", "apf_fs")


def _null_empty(a: pa.Array) -> pa.Array:
    """RE2 gives '' for an optional group that did not take part: make it null."""
    return pc.if_else(pc.equal(pc.fill_null(a, ""), ""), None, a)


def _status(a: pa.Array) -> pa.Array:
    """Digits of an HTTP status as int32; empty, null or out of int32 range → null."""
    a = pc.if_else(pc.and_(pc.greater(pc.utf8_length(a), 0), pc.less_equal(pc.utf8_length(a), 10)), a, None)
    v = pc.cast(a, pa.int64())
    return pc.cast(pc.if_else(pc.less_equal(v, 2**31 - 1), v, None), pa.int32())


def _unescape(a: pa.Array) -> pa.Array:
    """Undo Go %q quoting for the common escapes in user agents and URIs."""
    if not pc.any(pc.match_substring(a, "\\")).as_py():
        return a
    a = pc.replace_substring(a, '\\"', '"')
    return pc.replace_substring(a, "\\\\", "\\")


def _matching(msg: pa.Array, prefix: str, rx: str):
    """(row indices, ``rx`` captures) of the messages that start with ``prefix`` and match ``rx``;
    None when there are none."""
    rows = np.flatnonzero(pc.fill_null(pc.starts_with(msg, prefix), False).to_numpy(zero_copy_only=False))
    if not len(rows):
        return None
    m = pc.extract_regex(msg.take(pa.array(rows)), rx)
    ok = pc.is_valid(m).to_numpy(zero_copy_only=False)
    if not ok.any():
        return None
    return rows[ok], m.filter(pa.array(ok))


def extract(msg: pa.Array, last_cont: pa.Array | None = None) -> tuple[np.ndarray, dict[str, pa.Array]]:
    """Find access-log records among klog messages.

    Parameters
    ----------
    msg : StringArray
        First-line message of each klog record (text after ``] ``).
    last_cont : StringArray or None
        Last continuation line of each record (null when it has none); carries the
        ``[ua ip]`` tail of B/C error records.

    Returns
    -------
    mask : bool ndarray, True where the record is an access-log request
    cols : dict of Arrow arrays over the masked rows: method, uri, lat (Go duration
        text), ua, src, resp (int or null), aid, hijacked, apf_pl, apf_fs, variant
    """
    n = len(msg)
    mask = np.zeros(n, dtype=bool)
    pieces = []  # (row indices, dict)
    S = pa.string()

    got = _matching(msg, '"HTTP" ', RE_E)
    if got is not None:
        rows, m = got
        apf = pc.extract_regex(m.field("mid"), RE_APF)
        d = dict(
            method=m.field("method"),
            uri=_unescape(m.field("uri")),
            lat=m.field("lat"),
            ua=_unescape(m.field("ua")),
            src=m.field("src"),
            resp=_status(m.field("resp")),
            aid=pc.if_else(pc.equal(m.field("aid"), ""), None, m.field("aid")),
            hijacked=pc.equal(m.field("hij"), "hijacked"),
            apf_pl=_null_empty(apf.field("pl")),
            apf_fs=_null_empty(apf.field("fs")),
            variant=tables.repeat("E", len(rows)),
        )
        pieces.append((rows, d))
        mask[rows] = True

    got = _matching(msg, 'verb="', RE_D)
    if got is not None:
        rows, m = got
        d = dict(
            method=m.field("method"),
            uri=m.field("uri"),
            lat=m.field("lat"),
            ua=_unescape(m.field("ua")),
            src=m.field("src"),
            resp=_status(m.field("resp")),
            aid=pa.nulls(len(rows), S),
            hijacked=pc.starts_with(m.field("tail"), "hijacked"),
            apf_pl=pa.nulls(len(rows), S),
            apf_fs=pa.nulls(len(rows), S),
            variant=tables.repeat("D", len(rows)),
        )
        pieces.append((rows, d))
        mask[rows] = True

    cand = pc.fill_null(pc.match_substring_regex(msg, r"^[A-Z]+ /\S*: \("), False).to_numpy(zero_copy_only=False)
    cand &= ~mask
    bc_rows = np.flatnonzero(cand)
    if len(bc_rows):
        sub = msg.take(pa.array(bc_rows))
        m = pc.extract_regex(sub, RE_BC)
        ok = pc.is_valid(m).to_numpy(zero_copy_only=False)
        if ok.any():
            rows = bc_rows[ok]
            m = m.filter(pa.array(ok))
            rest = m.field("rest")
            t1 = pc.extract_regex(rest, RE_TAIL)
            if last_cont is not None:
                lc = pc.fill_null(last_cont.take(pa.array(rows)), "")
                t2 = pc.extract_regex(lc, RE_TAIL)
                use2 = pc.and_(pc.invert(pc.is_valid(t1)), pc.is_valid(t2))
                tail_text = pc.if_else(use2, lc, rest)
                ua_b = pc.if_else(use2, t2.field("ua_b"), t1.field("ua_b"))
                ua_c = pc.if_else(use2, t2.field("ua_c"), t1.field("ua_c"))
                addr = pc.if_else(use2, t2.field("addr"), t1.field("addr"))
                tail_ok = pc.or_(pc.is_valid(t1), use2)
            else:
                ua_b, ua_c, addr, tail_ok = t1.field("ua_b"), t1.field("ua_c"), t1.field("addr"), pc.is_valid(t1)
                tail_text = rest
            # B (≤ 1.11) prints the UA slice: `[[ua] ip]`; C a plain string: `[ua ip]`
            is_b = pc.fill_null(pc.match_substring_regex(tail_text, r"(?:^|\s)\[\["), False)
            ua = pc.if_else(is_b, ua_b, ua_c)
            ua = pc.if_else(tail_ok, ua, None)
            addr = pc.if_else(tail_ok, addr, None)
            status = m.field("status")
            hij = pc.equal(status, "hijacked")
            resp = _status(pc.if_else(hij, None, status))
            variant = pc.if_else(pc.and_(tail_ok, is_b), "B", pc.if_else(tail_ok, "C", "A"))
            d = dict(
                method=m.field("method"),
                uri=m.field("uri"),
                lat=m.field("lat"),
                ua=ua,
                src=addr,
                resp=resp,
                aid=pa.nulls(len(rows), S),
                hijacked=hij,
                apf_pl=pa.nulls(len(rows), S),
                apf_fs=pa.nulls(len(rows), S),
                variant=variant,
            )
            pieces.append((rows, d))
            mask[rows] = True

    if not pieces:
        return mask, {}
    if len(pieces) == 1:
        rows, d = pieces[0]
        order = None
    else:
        rows = np.concatenate([p[0] for p in pieces])
        order = np.argsort(rows, kind="stable")
        rows = rows[order]
    cols = {}
    for k in pieces[0][1]:
        arrs = [p[1][k] for p in pieces]
        arrs = [a.cast(arrs[0].type) if a.type != arrs[0].type else a for a in arrs]
        a = pa.concat_arrays([x.combine_chunks() if isinstance(x, pa.ChunkedArray) else x for x in arrs])
        cols[k] = a.take(pa.array(order)) if order is not None else a
    return mask, cols


def kv_quoted(lines: pa.Array, keys: list[str], bare: list[str] = ()) -> dict[str, pa.Array]:
    """Values of ``key="value"`` pairs in klog structured lines, vectorized, no regex.

    Splits every line on ``" `` (the end of a quoted value), flattens, and takes for
    each key the first piece that starts with ``key="``.  Values must not contain an
    escaped quote followed by a space (callers route such lines elsewhere).
    Missing keys give null.  ``bare`` keys are unquoted values that follow a quoted
    one (``... srcIP="x" resp=200``): their piece is returned whole after ``key=``.
    """
    n = len(lines)
    sp = pc.split_pattern(lines, '" ')
    flat = pc.list_flatten(sp)
    parent = pc.list_parent_indices(sp).to_numpy()
    out = {}
    for k in list(keys) + list(bare):
        pref = k + ('="' if k in keys else "=")
        hit = pc.starts_with(flat, pref).to_numpy(zero_copy_only=False)
        # a key may also be the very first piece of the message part: `] "HTTP" verb="GET`
        rows = parent[hit]
        vals = pc.utf8_slice_codeunits(flat.filter(pa.array(hit)), len(pref))
        if len(rows) and (np.diff(rows) <= 0).any():
            rows, first = np.unique(rows, return_index=True)
            vals = vals.take(pa.array(first))
        full = np.full(n, -1, dtype=np.int64)
        full[rows] = np.arange(len(rows))
        mask = full < 0
        out[k] = vals.take(pa.array(np.where(mask, 0, full), mask=mask)) if len(rows) else pa.nulls(n, pa.string())
    return out


def extract_e_fast(lines: pa.Array) -> tuple[np.ndarray, dict[str, pa.Array]]:
    """Fast path for variant E+ on whole klog lines that contain ``] "HTTP" verb="``.

    RE2 submatch extraction over a whole 400-byte line is the most expensive step of
    an ingest, so the ``key="value"`` fields are cut out by splitting (:func:`kv_quoted`)
    and only ``resp=`` uses a short regex.  Lines with an escaped quote (``\\"``), or
    missing fields, are returned as not ok and the caller parses them with the full
    pattern (:data:`RE_E`).
    """
    n = len(lines)
    # pieces: `I0620 ... httplog.go:132] "HTTP`, `verb="GET`, `URI="/api/...`, ..., `resp=200`
    kv = kv_quoted(
        lines, ["verb", "URI", "latency", "userAgent", "audit-ID", "srcIP", "apf_pl", "apf_fs"], bare=["resp"]
    )
    resp = pc.extract_regex(pc.fill_null(kv["resp"], ""), r"^(?P<resp>[0-9]+)(?: |$)")
    hij = pc.fill_null(pc.match_substring(lines, " hijacked=true"), False)
    ok = np.ones(n, dtype=bool)
    for k in ("verb", "URI", "latency", "userAgent", "srcIP"):
        v = kv[k]
        # an escaped quote followed by a space splits a value: it then ends in a backslash
        ok &= pc.fill_null(pc.invert(pc.ends_with(v, "\\")), False).to_numpy(zero_copy_only=False)
    ok &= pc.or_(pc.is_valid(resp), hij).to_numpy(zero_copy_only=False)
    if not ok.any():
        return ok, {}
    ga = pa.array(ok)
    f = (lambda a: a.filter(ga)) if not ok.all() else (lambda a: a)
    method = f(kv["verb"])
    r = f(resp.field("resp"))
    cols = dict(
        method=method,
        uri=f(kv["URI"]),
        lat=f(kv["latency"]),
        ua=f(kv["userAgent"]),
        src=f(kv["srcIP"]),
        resp=_status(r),
        aid=_null_empty(f(kv["audit-ID"])),
        hijacked=f(hij),
        apf_pl=_null_empty(f(kv["apf_pl"])),
        apf_fs=_null_empty(f(kv["apf_fs"])),
        variant=tables.repeat("E", int(ok.sum())),
    )
    return ok, cols


def to_requests(cols: dict[str, pa.Array], end_ns: np.ndarray, clock: str, origin: str = "httplog") -> dict:
    """Build ``requests`` columns from :func:`extract` output and the record end times (ns)."""
    info = requestinfo.classify(cols["method"], cols["uri"])
    return _requests(cols, info, timeutil.durations_ns(cols["lat"]), end_ns, clock, origin)


def native_requests(cols: dict, end_ns: np.ndarray, origin: str = "httplog") -> dict:
    """``requests`` columns from the C scanner's access-log fields (:mod:`kubelog.formats.fastscan`).

    The same columns as :func:`to_requests`; the scanner has already parsed the
    latency (``lat_ns``) and classified the request.
    """
    return _requests(cols, cols, cols["lat_ns"], end_ns, None, origin)


def _requests(cols: dict, info: dict, lat_ns: np.ndarray, end_ns: np.ndarray, clock: str | None, origin: str) -> dict:
    """The ``requests`` columns of access-log records: fields, classification ``info``, latency in ns
    (-1 where invalid: start and latency then null) and end times."""
    bad = lat_ns < 0
    start_ns = end_ns - np.where(bad, 0, lat_ns)
    n = len(end_ns)
    return {
        "ts": timeutil.to_ts_array(end_ns),
        "start_ts": timeutil.to_ts_array(start_ns, ~bad),
        "clock": tables.repeat(clock, n),
        "method": requestinfo.logged_to_method(cols["method"]),
        "logged_verb": cols["method"],
        **{
            k: info[k]
            for k in (
                "verb",
                "api_group",
                "api_version",
                "resource",
                "subresource",
                "namespace",
                "name",
                "scope",
                "long_running",
            )
        },
        "uri": cols["uri"],
        "latency_s": pa.array(np.where(bad, np.nan, lat_ns / 1e9), pa.float64(), mask=bad),
        "code": cols["resp"],
        "hijacked": cols["hijacked"],
        "user_agent": cols["ua"],
        "client": requestinfo.client_of(cols["ua"]),
        "src_ip": cols["src"],
        "audit_id": cols["aid"],
        "apf_pl": cols["apf_pl"],
        "apf_fs": cols["apf_fs"],
        "origin": tables.repeat(origin, n),
    }
