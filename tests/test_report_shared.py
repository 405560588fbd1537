"""The report computes each shared analysis once (issue 21, item 7): one read and de-duplication of the
requests serves the SLOs, the matrix, the plots, the skew analysis and the diagnosis; the skew analysis
and the load timeline run once per report.  Structural checks (counts of reads and calls), no timings."""

from __future__ import annotations

import pandas as pd
import pandas.testing as pdt
import pytest

from kubelog.run import Run, memoized


class _FakeRun:
    _memo = None

    shared = Run.shared


def test_memoized_runs_once_per_arguments_inside_shared():
    calls = []

    @memoized
    def analysis(run, x=1, *, offsets=None):
        calls.append((x, offsets))
        return object()

    run = _FakeRun()
    a = analysis(run)
    b = analysis(run)
    assert a is not b and len(calls) == 2  # outside shared(): no memory at all
    with run.shared():
        a = analysis(run)
        assert analysis(run, 1) is a and analysis(run, x=1, offsets=None) is a  # same arguments, by value
        c = analysis(run, 2)
        assert c is not a and analysis(run, 2) is c
        d = analysis(run, offsets={"test": 1.5, "node/a": 0.0})
        assert analysis(run, offsets={"node/a": 0.0, "test": 1.5}) is d
        assert analysis(run, offsets={"node/a": 0.0, "test": 2.5}) is not d
        n = len(calls)
        frame = pd.DataFrame({"a": [1]})  # unhashable argument: computed each time
        assert analysis(run, frame) is not analysis(run, frame)
        assert len(calls) == n + 2
        with run.shared():  # nested: the outer block's memory is kept
            assert analysis(run) is a
        assert analysis(run) is a
    assert run._memo is None
    assert analysis(run) is not a


def test_memoized_does_not_keep_exceptions():
    calls = []

    @memoized
    def flaky(run):
        calls.append(1)
        if len(calls) == 1:
            raise ValueError("first")
        return "ok"

    run = _FakeRun()
    with run.shared():
        with pytest.raises(ValueError):
            flaky(run)
        assert flaky(run) == "ok" and flaky(run) == "ok"
    assert len(calls) == 2


def _count(monkeypatch, module, name):
    calls = []
    orig = getattr(module, name)

    def counted(*a, **kw):
        calls.append(1)
        return orig(*a, **kw)

    monkeypatch.setattr(module, name, counted)
    return calls


def test_report_reads_and_deduplicates_the_requests_once(sample_runs, monkeypatch):
    import kubelog.analysis.latency as latency
    import kubelog.analysis.load as loadmod
    import kubelog.analysis.skew as skewmod
    import kubelog.formats.audit as audit
    from kubelog.report import build_model

    run = Run(sample_runs["healthy-1.28"][0].path, sample_runs["healthy-1.28"][0].manifest)
    reads = []
    orig_arrow = Run.arrow

    def arrow(self, table, columns=None, filter=None, **kw):
        reads.append((table, None if columns is None else tuple(columns), filter is not None))
        return orig_arrow(self, table, columns, filter, **kw)

    def batches(self, table, columns=None, **kw):
        reads.append((table, None if columns is None else tuple(columns), False))
        return orig_batches(self, table, columns, **kw)

    orig_batches = Run.batches
    monkeypatch.setattr(Run, "arrow", arrow)
    monkeypatch.setattr(Run, "batches", batches)
    dedups = _count(monkeypatch, latency, "_dedup_rows")  # the rule (in Arrow; dedup_requests in pandas)
    pandas_rule = _count(monkeypatch, audit, "dedup_requests")
    pairs = _count(monkeypatch, skewmod, "causal_pairs")
    pod_evidence = _count(monkeypatch, loadmod, "_from_pods")

    model = build_model(run, plots=False)
    assert all(s.status == "ok" for s in model["sections"]), [(s.key, s.message) for s in model["sections"]]
    # the requests with their text columns (uri, the largest) are read without a filter once: the
    # SLOs, matrix, skew pairs and diagnosis share that read (before: four reads, one of every column)
    full = [c for t, c, f in reads if t == "requests" and not f and (c is None or "uri" in c)]
    assert len(full) == 1, full
    assert len(dedups) == 1 and not pandas_rule  # before: four de-duplications of the same rows
    assert len(pairs) == 1  # the skew analysis: the report's section and the diagnosis share it
    assert len(pod_evidence) == 1  # the load timeline: the report, pod start-up and the SLOs share it


def _reference_dedup(run, columns):
    """The rule applied to the whole frame, as before issue 21's item 7."""
    from kubelog.formats.audit import dedup_requests

    df = run.arrow("requests", columns=columns).to_pandas()
    other = df["server"].notna() & ~df["server"].isin(["kube-apiserver", ""])
    df = df[~other]
    df, n, note = dedup_requests(df)
    lr = df["long_running"].fillna(False).astype(bool) | df["hijacked"].fillna(False).astype(bool)
    df = df[~lr]
    return df[~df["latency_s"].isna()]


@pytest.mark.parametrize("name", ["healthy-1.28", "skew-timeout-1.14"])
def test_deduplicated_requests_equal_the_rule_on_the_whole_frame(sample_runs, name):
    from kubelog.analysis import latency

    run = sample_runs[name][0]
    cols = ["verb", "resource", "code", "hijacked", "latency_s", "uri", "user", "stage", "auth_user", "line_no"]
    got, _ = latency.api_requests(run, columns=cols)
    want = _reference_dedup(run, sorted(set(cols) | latency._INTERNAL))
    assert len(got) > 100
    pdt.assert_frame_equal(got, want)  # values, dtypes (an int column with nulls is float in both), index
    latency.keep_api_requests(run, cols + ["ts"])
    try:
        kept, _ = latency.api_requests(run, columns=cols)
        # the kept frame: the columns asked for, the internal ones only among them (not audit_id, origin, ...)
        assert list(kept.columns) == sorted(cols)
        pdt.assert_frame_equal(kept, want[kept.columns])
    finally:
        latency.forget_api_requests(run)


@pytest.mark.parametrize("name", ["healthy-1.28", "skew-timeout-1.14"])
def test_outside_window_equals_the_pandas_rule(sample_runs, name):
    from kubelog.analysis import validity

    run = sample_runs[name][0]
    start, end, _ = validity.test_window(run)
    r = run.table("requests", columns=["start_ts", "ts", "origin", "audit_id", "server"])
    http = (r["origin"] == "httplog") & (r["server"].fillna("kube-apiserver") != "kubelet")
    aud = r["origin"] == "audit"
    if http.any() and aud.any():
        ids = set(r.loc[http, "audit_id"].dropna())
        r = r[~(aud & (r["audit_id"].isin(ids) if ids else True))]
    st = r["start_ts"].fillna(r["ts"])
    before, after = st < pd.Timestamp(start), r["ts"] > pd.Timestamp(end)
    check, n, detail = validity._outside_window(run)
    assert n == int((before | after).sum())
    assert detail.startswith(f"{int(before.sum())} start before, {int(after.sum())} end after")


def test_outside_window_counts_duplicates_outside_a_narrow_window(sample_runs, monkeypatch):
    """Only the audit rows outside the window are looked up among the access log's IDs: with a window
    of the middle third of the requests, many of both kinds are outside, duplicates included."""
    from kubelog.analysis import validity

    run = sample_runs["healthy-1.28"][0]
    r = run.table("requests", columns=["start_ts", "ts", "origin", "audit_id", "server"])
    t = r["ts"].dropna().sort_values()
    start, end = t.iloc[len(t) // 3], t.iloc[2 * len(t) // 3]
    monkeypatch.setattr(validity, "test_window", lambda run: (start, end, "apiserver"))
    http = (r["origin"] == "httplog") & (r["server"].fillna("kube-apiserver") != "kubelet")
    aud = r["origin"] == "audit"
    ids = set(r.loc[http, "audit_id"].dropna())
    dup = aud & r["audit_id"].isin(ids)
    st = r["start_ts"].fillna(r["ts"])
    out = (st < pd.Timestamp(start)) | (r["ts"] > pd.Timestamp(end))
    assert (dup & out).sum() > 100 and (~dup & aud & out).sum() + (http & out).sum() > 100
    r = r[~dup]
    st = r["start_ts"].fillna(r["ts"])
    before, after = st < pd.Timestamp(start), r["ts"] > pd.Timestamp(end)
    _, n, detail = validity._outside_window(run)
    assert n == int((before | after).sum())
    assert detail.startswith(f"{int(before.sum())} start before, {int(after.sum())} end after")


def _buffers(series) -> set:
    arr = series.array.__arrow_array__()
    chunks = arr.chunks if hasattr(arr, "chunks") else [arr]
    return {b.address for c in chunks for b in c.buffers() if b is not None and b.size}


def test_diagnosis_rows_share_the_kept_requests(sample_runs):
    """The diagnosis's requests (the kept ones with the long-running rows, in their order) share the
    kept data instead of a sorted copy of every column (~450 MB on a million requests)."""
    from kubelog.analysis import latency
    from kubelog.report.model import REQUEST_COLUMNS

    run = sample_runs["healthy-1.28"][0]
    latency.keep_api_requests(run, REQUEST_COLUMNS)
    try:
        k = latency._KEPT[id(run)]
        assert len(k.excluded) and len(k.rows) > 500  # watches: rows of both kinds
        cols = ["uri", "user_agent", "latency_s", "long_running", "origin"]
        got = latency.kept_requests(run, cols)
        pdt.assert_frame_equal(got, pd.concat([k.rows[cols], k.excluded[cols]]).sort_index())
        assert _buffers(k.rows["uri"]) & _buffers(got["uri"])  # the text is not copied
    finally:
        latency.forget_api_requests(run)


@pytest.mark.parametrize("excluded", [[], [0], [5, 6, 7], [9], [3, 4]])
def test_merged_is_the_sorted_concatenation(excluded):
    from kubelog.analysis.latency import _merged

    df = pd.DataFrame({"s": pd.array([f"r{i}" for i in range(10)], dtype="str"), "x": range(10)})
    a, b = df.drop(index=excluded), df.loc[excluded]
    pdt.assert_frame_equal(_merged(a, b), pd.concat([a, b]).sort_index())


def test_report_allocates_arrow_memory_from_jemalloc(sample_runs, monkeypatch):
    """Arrow's mimalloc kept what the report's finished steps freed (1.9 GB peak RSS on a 1M-request
    run, 1.6 GB with malloc, whose heap Arrow's buffers fragmented with pandas' and numpy's): the report
    runs on jemalloc (malloc where pyarrow has no jemalloc) and restores the previous pool."""
    import pyarrow as pa

    from kubelog.report import build_model, model

    seen = []
    orig = model.release_memory

    def release():
        seen.append(pa.default_memory_pool().backend_name)
        orig()

    monkeypatch.setattr(model, "release_memory", release)
    monkeypatch.delenv("ARROW_DEFAULT_MEMORY_POOL", raising=False)
    before = pa.default_memory_pool().backend_name
    build_model(sample_runs["healthy-1.28"][0], plots=False)
    try:
        pa.jemalloc_memory_pool()
        want = "jemalloc"
    except NotImplementedError:
        want = "system"
    assert seen and set(seen) == {want}
    assert pa.default_memory_pool().backend_name == before


def test_report_command_makes_jemalloc_arrows_default_pool(sample_runs, tmp_path):
    """``kubelog report RUN_DIR`` sets ``ARROW_DEFAULT_MEMORY_POOL`` before pyarrow loads, so that the
    allocations of Arrow's C++ library (the Parquet reader's, in its I/O threads) come from jemalloc
    too; a pool the user chose is kept."""
    import os
    import subprocess
    import sys

    code = (
        "import sys, os\n"
        "from kubelog.commands.report import arrow_pool_for_report\n"
        "arrow_pool_for_report()\n"
        "import pyarrow as pa\n"
        "print(os.environ.get('ARROW_DEFAULT_MEMORY_POOL'), pa.default_memory_pool().backend_name)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    if sys.platform.startswith("linux"):
        assert out.split()[0] == "jemalloc"
    out = subprocess.run(
        [sys.executable, "-c", code], env=dict(env, ARROW_DEFAULT_MEMORY_POOL="system"), capture_output=True, text=True
    ).stdout
    assert out.split() == ["system", "system"]


def test_outside_window_reads_the_audit_ids_a_batch_at_a_time(sample_runs, monkeypatch):
    """The validity audit's look-up of duplicates holds no column of audit IDs of every row (~80 MB on a
    2M-row run, at the SLO evaluation's peak): they come a batch at a time (the counts are checked
    against the pandas rule by the tests above)."""
    from kubelog.analysis import validity

    run = sample_runs["healthy-1.28"][0]
    whole = []
    orig = Run.arrow

    def arrow(self, table, columns=None, filter=None, **kw):
        whole.append(tuple(columns or ("*",)))
        return orig(self, table, columns, filter, **kw)

    monkeypatch.setattr(Run, "arrow", arrow)
    _, n, _ = validity._outside_window(run)
    assert whole and not any("audit_id" in c or "*" in c for c in whole), whole


def _version_by_pandas(run):
    from collections import Counter

    from kubelog.report.model import _VERSION_RX

    c = Counter()
    for s, n in run.table("requests", columns=["user_agent"])["user_agent"].dropna().value_counts().items():
        m = _VERSION_RX.search(str(s))
        if m:
            c[f"v{m.group(1)}.{m.group(2)}"] += int(n)
    v, n = c.most_common(1)[0]
    return v, f"user agents of {n:,} requests"


def test_kubernetes_version_counts_user_agents_by_their_codes(sample_runs, monkeypatch, tmp_path):
    """The version is counted per distinct user agent from its dictionary codes (the user agents of every
    row as strings were ~200 MB on a 2M-row run); the same answer as counting the strings, a tie
    included (then the strings decide, as before)."""
    from kubelog import tables
    from kubelog.report import model

    for name in ("healthy-1.28", "skew-timeout-1.14"):
        run = sample_runs[name][0]
        want = _version_by_pandas(run)
        with monkeypatch.context() as m:
            m.setattr(Run, "table", lambda *a, **k: pytest.fail("the user agents of every row were read"))
            assert model.kubernetes_version.__wrapped__(run) == want
    tmp = tmp_path / "tie"
    from kubelog import run as runmod

    t = runmod.prepare(tmp)
    w = runmod.PartWriter(t, 0)
    ua = ["kubelet/v1.27.3 (linux)", "kubectl/v1.28.1", "kube-proxy/v1.27.3", "kubectl/v1.28.1", None]
    w("requests", tables.conform("requests", {"user_agent": ua, "verb": ["get"] * len(ua)}))
    w.close()
    runmod.finish(t, tmp, {"inputs": [{"path": "x", "format": "test"}]})
    run = runmod.open_run(tmp)
    assert model.kubernetes_version.__wrapped__(run) == _version_by_pandas(run)


def test_report_narrows_the_kept_requests_after_the_summary(sample_runs, monkeypatch):
    """After the summary (the skew pairs and the diagnosis, the readers of user agents, clients, names ...)
    only the columns of the report's request frame stay kept (~170 MB less for the later sections of a
    1M-request run), and every later request for kept rows is still served by them (no second read)."""
    from kubelog.analysis import latency
    from kubelog.report import build_model, model

    run = sample_runs["healthy-1.28"][0]
    seen, section = [], ["read"]
    orig_kept, orig_guarded = latency._kept, model.guarded

    def kept(r, cols):
        k = orig_kept(r, cols)
        whole = latency._KEPT.get(id(r))
        seen.append((section[0], k is not None, set(whole.columns) if whole else set()))
        return k

    def guarded(key, *a):
        section[0] = key
        return orig_guarded(key, *a)

    monkeypatch.setattr(latency, "_kept", kept)
    monkeypatch.setattr(model, "guarded", guarded)
    build_model(run, plots=True)
    assert seen and all(hit for _, hit, _ in seen), seen
    later = [cols for s, _, cols in seen if s != "summary"]
    assert later and all("user_agent" not in c and "uri" in c for c in later), later
