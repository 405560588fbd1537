"""The de-duplication of the requests in Arrow (issue 21, item 7: the report's memory): the rows, index,
values and dtypes of ``latency.api_requests`` equal those of the pandas rule
(``kubelog.formats.audit.dedup_requests``) applied to a frame of the whole table, on hand-built runs
with every case of the rule; and the read no longer holds a column of every row as strings."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest

from kubelog import run as runmod, tables
from kubelog.analysis import latency

T0 = pd.Timestamp("2024-01-01T00:00:00Z")


def _requests(rng, n: int, origin: str, ids: list, **over) -> dict:
    ts = T0 + pd.to_timedelta(np.sort(rng.uniform(0, 3600, n)), unit="s")
    lat = rng.exponential(0.05, n)
    lat[rng.random(n) < 0.02] = np.nan  # no latency
    verbs = rng.choice(["get", "list", "create", "update", "patch", "delete", "watch"], n)
    res = rng.choice(["pods", "nodes", "events"], n)
    lr = [None if x < 0.01 else bool(v == "watch") for x, v in zip(rng.random(n), verbs)]
    d = dict(
        ts=list(ts),
        start_ts=list(ts - pd.to_timedelta(np.nan_to_num(lat), unit="s")),
        latency_s=list(lat),
        verb=list(verbs),
        resource=list(res),
        name=[f"pod-{i % 300}" for i in range(n)],
        namespace=[f"ns-{i % 7}" for i in range(n)],
        uri=[f"/api/v1/namespaces/ns-{i % 7}/{r}/pod-{i % 300}?rv={i}" for i, r in enumerate(res)],
        code=[None if x < 0.01 else 200 for x in rng.random(n)],  # an int column with nulls
        long_running=lr,
        hijacked=[True if x < 0.005 else None for x in rng.random(n)],
        scope=["namespace"] * n,
        line_no=list(range(1, n + 1)),
        origin=[origin] * n,
        audit_id=ids,
        clock=["apiserver"] * n,
    )
    d.update(over)
    return d


def _make(path, parts: list[dict]):
    tmp = runmod.prepare(path, force=True)
    for sid, d in enumerate(parts):
        w = runmod.PartWriter(tmp, sid)
        w("requests", tables.conform("requests", d))
        w.close()
    runmod.finish(tmp, path, {"inputs": [{"path": f"part{i}", "format": "test"} for i in range(len(parts))]})
    return runmod.open_run(path)


def _case(path, kind: str, seed: int = 1, n: int = 1500):
    """A run whose access-log and audit rows exercise one case of the rule."""
    rng = np.random.default_rng(seed)
    ids = [f"{i:08x}-{rng.integers(1 << 40):012x}" for i in range(n)]
    # access log: some rows without an ID, some served by the kubelet, a user on a few
    http_ids = [None if k % 37 == 0 else i for k, i in enumerate(ids)]
    server = [("kubelet" if k % 101 == 0 else ("" if k % 131 == 0 else "kube-apiserver")) for k in range(n)]
    http_user = [("admin" if k % 17 == 0 else None) for k in range(n)]
    # audit: a few without an ID; ResponseStarted rows superseded by their ResponseComplete row (some not);
    # a few IDs logged twice; users, impersonated ones with auth_user
    aud_ids = [None if k % 41 == 0 else i for k, i in enumerate(ids)]
    stage = ["ResponseComplete"] * n
    extra_ids, extra_stage = [], []
    for k in range(0, n, 29):
        extra_ids.append(ids[k])
        extra_stage.append("ResponseStarted")
    for k in range(5, n, 83):
        extra_ids.append(ids[k])
        extra_stage.append("ResponseComplete")
    for k in range(3, n, 61):  # long-running requests whose audit log has only the ResponseStarted row
        stage[k] = "ResponseStarted"
    stage[7] = "Panic"
    users = [f"system:node:node-{k % 13}" if k % 11 else None for k in range(n)]
    auth = [("kubelet" if k % 19 == 0 else None) for k in range(n)]
    m = len(extra_ids)
    http = _requests(rng, n, "httplog", http_ids, server=server, user=http_user)
    aud = _requests(
        rng,
        n + m,
        "audit",
        aud_ids + extra_ids,
        stage=stage + extra_stage,
        user=users + [f"u{k}" for k in range(m)],
        auth_user=auth + [None] * m,
    )
    if kind == "both":
        parts = [http, aud]
    elif kind == "audit-first":  # the audit part file before the access log's
        parts = [aud, http]
    elif kind == "no-ids":  # an access log without audit IDs (before 1.22): the audit rows are not used
        parts = [dict(http, audit_id=[None] * n), aud]
    elif kind == "access-log":
        parts = [http]
    elif kind == "audit":
        parts = [aud]
    elif kind == "no-server":
        parts = [dict(http, server=[None] * n), aud]
    else:
        raise ValueError(kind)
    return _make(path, parts)


def _reference(run, columns):
    """The pandas rule on a frame of every row (as ``latency`` did before issue 21's item 7)."""
    from kubelog.formats.audit import dedup_requests

    df = run.arrow("requests", columns=columns).to_pandas()
    other = df["server"].notna() & ~df["server"].isin(["kube-apiserver", ""])
    df = df[~other]
    rule = [c for c in df.columns if c in latency._DEDUP_COLUMNS]
    rest = df[[c for c in df.columns if c not in rule]]
    df, n, note = dedup_requests(df[rule])
    for c in rest.columns:
        df[c] = rest[c].reindex(df.index)
    df = df[list(columns)]
    lr = df["long_running"].fillna(False).astype(bool) | df["hijacked"].fillna(False).astype(bool)
    nolat = df["latency_s"].isna() & ~lr
    return df[~lr & ~nolat], df[lr | nolat], n, note


COLUMNS = ["verb", "resource", "code", "uri", "user", "auth_user", "stage", "line_no", "ts", "long_running"]


@pytest.mark.parametrize("kind", ["both", "audit-first", "no-ids", "access-log", "audit", "no-server"])
def test_arrow_dedup_equals_the_pandas_rule(tmp_path, kind):
    run = _case(tmp_path / "run", kind)
    cols = sorted(set(COLUMNS) | latency._INTERNAL | {"auth_user"})
    (rows, others), ex, _ = latency._deduplicated(run, cols, split=True)
    want_rows, want_others, n, note = _reference(run, cols)
    assert len(rows) > 100
    pdt.assert_frame_equal(rows, want_rows)  # values, dtypes (int with nulls: float; bool with nulls: object)
    pdt.assert_frame_equal(others, want_others)
    assert ex.duplicates == n and (note in ex.notes if note else True)
    if kind == "both":  # the case has what it is made for
        assert n > 1000 and rows["user"].notna().sum() > 1000 and rows["stage"].notna().any()
        assert (rows["origin"] == "audit").any() and ex.not_apiserver > 0
    if kind == "no-ids":
        assert "no audit IDs" in note and (rows["origin"] == "httplog").all()


def test_kept_requests_equal_the_pandas_rule(tmp_path):
    """The report's kept read (``keep_api_requests``, columns taken a batch at a time) gives the rows of
    the rule too, with the long-running ones in their places (``kept_requests``)."""
    run = _case(tmp_path / "run", "both")
    cols = sorted(set(COLUMNS) | latency._INTERNAL | {"auth_user"})
    want_rows, want_others, _, _ = _reference(run, cols)
    latency.keep_api_requests(run, COLUMNS)
    try:
        got, _ = latency.api_requests(run, columns=COLUMNS)
        pdt.assert_frame_equal(got, want_rows[got.columns])
        whole = latency.kept_requests(run, COLUMNS)
        if whole is not None:
            pdt.assert_frame_equal(whole, pd.concat([want_rows, want_others]).sort_index()[COLUMNS])
    finally:
        latency.forget_api_requests(run)


def test_the_read_holds_no_column_of_every_row_as_strings(tmp_path, monkeypatch):
    """The rule runs on the key columns as Arrow dictionaries (no frame of every row: on a 2M-row table
    its strings were ~380 MB, and the rule's copies as much again), and every other column is taken a
    batch at a time (``uri`` of every row read whole was ~180 MB): only the chosen rows are decoded to
    strings and converted to pandas."""
    from kubelog import run as runmod
    from kubelog.report.model import REQUEST_COLUMNS

    run = _case(tmp_path / "run", "both")
    total = run.rows("requests")
    decoded_rows, whole_reads = [], []
    orig_decoded, orig_arrow = runmod.decoded, runmod.Run.arrow

    def decoded(t):
        decoded_rows.append(t.num_rows)
        return orig_decoded(t)

    def arrow(self, table, columns=None, filter=None, **kw):
        t = orig_arrow(self, table, columns, filter, **kw)
        if table == "requests" and filter is None:
            whole_reads.append((tuple(columns or ()), kw.get("dictionary", False)))
        return t

    monkeypatch.setattr(runmod, "decoded", decoded)
    monkeypatch.setattr(runmod.Run, "arrow", arrow)
    latency.keep_api_requests(run, REQUEST_COLUMNS)
    try:
        kept = latency._KEPT[id(run)]
        n = len(kept.rows) + len(kept.excluded)
        assert 0 < n < total * 0.6  # the audit duplicates are dropped
        assert decoded_rows and max(decoded_rows) <= n  # never the strings of every row
        # one read of every row: the rule's key columns, dictionary-encoded; no text column among them
        assert len(whole_reads) == 1 and whole_reads[0][1], whole_reads
        assert set(whole_reads[0][0]) <= set(latency._DEDUP_COLUMNS) | set(latency._USABLE_COLUMNS)
    finally:
        latency.forget_api_requests(run)


def test_batches_are_the_table_in_order(tmp_path):
    import pyarrow as pa

    run = _case(tmp_path / "run", "both")
    for cols, d in ((["uri"], False), (["verb", "audit_id"], True)):
        whole = run.arrow("requests", columns=cols, dictionary=d)
        assert pa.Table.from_batches(list(run.batches("requests", columns=cols, dictionary=d))).equals(whole)
    empty = list(runmod.open_run(run.path).batches("events", columns=["reason"]))
    assert sum(b.num_rows for b in empty) == 0


def test_run_files_are_mapped_not_read_into_buffers(tmp_path):
    """Reads map the part files (``LocalFileSystem(use_mmap=True)``): the buffers of plain reads came from
    Arrow's C++ default pool in its I/O threads, where mimalloc kept each thread's freed pages (the
    report of a 1M-request run as a library call: 1.10 GB peak RSS, 0.85 GB with the files mapped)."""
    import pyarrow.fs as pafs

    run = _case(tmp_path / "a run #1 %20", "access-log", n=50)  # a path, never parsed as a URI
    dset, _ = run._dataset("requests", True)
    assert dset.filesystem.equals(pafs.LocalFileSystem(use_mmap=True))
    assert run.arrow("requests", columns=["uri"]).num_rows == 50
