"""The latency matrix on 10,000,000 request rows: kubelog's one-sort nearest-rank vs pandas groupby().quantile().

Rows are synthetic (numpy, seeded): 40 verb/resource/subresource/scope groups x 6 load buckets, lognormal
latencies. Both computations run in this process, one after the other; the ratio is what matters.
Usage: python bench/bench_matrix.py [--rows 10000000]
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import pandas as pd

from kubelog.analysis import stats


def make(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    verbs = np.array(["get", "list", "create", "update", "patch", "delete", "watch", "deletecollection"])
    res = np.array(["pods", "nodes", "replicationcontrollers", "events", "leases"])
    g = rng.integers(0, 40, n)
    return pd.DataFrame(
        {
            "verb": pd.Categorical(verbs[g % 8]),
            "resource": pd.Categorical(res[g // 8]),
            "subresource": pd.Categorical(np.where(g % 3 == 0, "status", "")),
            "scope": pd.Categorical(np.where(g % 2 == 0, "resource", "namespace")),
            "bucket": pd.Categorical(np.array(["10", "25", "50", "90", "100", ">100"])[rng.integers(0, 6, n)]),
            "latency_s": rng.lognormal(-4, 1.2, n),
        }
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=10_000_000)
    a = ap.parse_args()
    df = make(a.rows)
    import gc

    gc.collect()
    rss_data = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    by = ["verb", "resource", "subresource", "scope", "bucket"]
    ps = (0.1, 0.5, 0.9, 0.99)
    t = time.perf_counter()
    ours = stats.grouped_percentiles(df, by, "latency_s", ps)
    t_ours = time.perf_counter() - t
    rss_ours = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t = time.perf_counter()
    g = df.groupby(by, observed=True)["latency_s"]
    pd.concat(
        [g.size().rename("count")] + [g.quantile(p, interpolation="higher").rename(stats.label(p)) for p in ps], axis=1
    )
    t_base = time.perf_counter() - t
    rss_all = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    # nearest rank equals numpy's "inverted_cdf"; check a few cells against it
    chk = ours.sample(5, random_state=0)
    for _, r in chk.iterrows():
        sel = df[
            (df.verb == r.verb)
            & (df.resource == r.resource)
            & (df.subresource == r.subresource)
            & (df.scope == r.scope)
            & (df.bucket == r.bucket)
        ].latency_s.to_numpy()
        assert np.quantile(sel, 0.99, method="inverted_cdf") == r["p99_s"]
    print(
        "| rows | groups x buckets | kubelog nearest rank (s) | pandas groupby().quantile() x4 (s) | speed-up | peak RSS: data made (MB) | after kubelog (MB) | after both (MB) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    print(
        f"| {a.rows:,} | {len(ours)} | {t_ours:.2f} | {t_base:.2f} | {t_base / t_ours:.1f}x | {rss_data:,.0f} | {rss_ours:,.0f} | {rss_all:,.0f} |"
    )


if __name__ == "__main__":
    main()
