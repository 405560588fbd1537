"""kubelog compare: exact bootstrap of order statistics, flags, truth.json percentiles, SLO changes, CLI."""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kubelog.analysis.stats import nearest_rank_index
from kubelog.report.compare import bootstrap_order_stat, build_compare, compare_runs, compare_samples

SAMPLES = Path(__file__).resolve().parent.parent / "sample_logs"


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    from kubelog.engine import ingest
    d = tmp_path_factory.mktemp("runs")
    return {n: ingest([str(SAMPLES / n)], d / n) for n in ("skew-timeout-1.14", "healthy-1.28")}


def test_bootstrap_order_statistic_is_exact():
    rng = np.random.default_rng(3)
    x = np.sort(rng.lognormal(size=25))
    p = 0.9
    fast = bootstrap_order_stat(x, p, 40000, np.random.default_rng(1))
    k = nearest_rank_index(len(x), p)
    brute = np.sort(rng.choice(x, size=(40000, len(x)), replace=True), axis=1)[:, k]
    fa = np.array([(fast == v).mean() for v in x])
    br = np.array([(brute == v).mean() for v in x])
    assert np.abs(fa - br).sum() / 2 < 0.02          # total variation distance
    assert set(np.unique(fast)) <= set(x)


def _cells(**kw):
    return {("get", "pods", "", "resource", b): np.sort(v) for b, v in kw.items()}


def test_flags_regression_improvement_unchanged():
    rng = np.random.default_rng(0)
    base = rng.lognormal(-3, 0.5, 3000)
    base_cells = _cells(**{"10": base, "25": base, "50": base, "90": base[:3]})
    new_cells = _cells(**{"10": base * 1.5, "25": rng.lognormal(-3, 0.5, 3000), "50": base * 0.5,
                          "100": base[:50]})
    t = compare_samples(base_cells, new_cells, n_boot=500, tolerance=0.1)
    f = t.set_index(["bucket", "percentile"])["flag"]
    assert (f.loc["10"] == "regression").all()
    assert (f.loc["25"] == "unchanged").all()
    assert (f.loc["50"] == "improvement").all()
    assert (f.loc["90"] == "only in base").all() and (f.loc["100"] == "only in new").all()
    r = t[t["bucket"] == "10"]
    assert np.allclose(r["rel_change"], 0.5) and (r["ci_low_s"] > 0).all() and (r["mw_p"] < 1e-6).all()
    # the CI brackets the observed change
    ok = t["ci_low_s"].notna()
    assert ((t.loc[ok, "ci_low_s"] <= t.loc[ok, "delta_s"] + 1e-12) & (t.loc[ok, "delta_s"] <= t.loc[ok, "ci_high_s"] + 1e-12)).all()


def test_tolerance_suppresses_small_significant_changes():
    rng = np.random.default_rng(2)
    base = rng.lognormal(-3, 0.3, 20000)
    t = compare_samples(_cells(**{"10": base}), _cells(**{"10": base * 1.05}), n_boot=300, tolerance=0.1)
    assert (t["ci_low_s"] > 0).all() and (t["flag"] == "unchanged").all()
    t = compare_samples(_cells(**{"10": base}), _cells(**{"10": base * 1.05}), n_boot=300, tolerance=0.02)
    assert (t["flag"] == "regression").all()


def test_too_few_and_seed_reproducible():
    few = _cells(**{"10": np.array([0.1, 0.2, 0.3])})
    t = compare_samples(few, few, min_n=5)
    assert (t["flag"] == "too few").all() and t["ci_low_s"].isna().all()
    rng = np.random.default_rng(5)
    a, b = _cells(**{"10": rng.random(500)}), _cells(**{"10": rng.random(500)})
    pd.testing.assert_frame_equal(compare_samples(a, b, n_boot=300, seed=7), compare_samples(a, b, n_boot=300, seed=7))


def test_percentiles_match_truth_of_both_runs(runs):
    base, new = runs["skew-timeout-1.14"], runs["healthy-1.28"]
    t = compare_runs(base, new, n_boot=200)
    key = ["verb", "resource", "subresource", "scope", "bucket"]
    for run, side in ((base, "base"), (new, "new")):
        truth = pd.DataFrame(json.loads((SAMPLES / run.path.name / "truth.json").read_text())["latency_matrix"])
        truth = truth[truth["bucket"] != "all"]
        long = truth.melt(id_vars=key + ["count"], value_vars=["p10_s", "p50_s", "p90_s", "p99_s"],
                          var_name="percentile", value_name="truth_s")
        long["percentile"] = long["percentile"].str[:-2]
        m = t[t[f"n_{side}"] > 0].merge(long, on=key + ["percentile"], how="outer", indicator=True)
        assert (m["_merge"] == "both").all()
        assert (m[f"n_{side}"] == m["count"]).all()
        assert np.allclose(m[f"{side}_s"], m["truth_s"], rtol=0, atol=1e-9)
    # the run against itself: no change anywhere
    same = compare_runs(base, base, n_boot=200)
    assert (same["delta_s"] == 0).all() and not same["flag"].isin(["regression", "improvement"]).any()


@pytest.mark.slow
def test_cli_compare_json_and_report(runs, tmp_path):
    from typer.testing import CliRunner
    from kubelog.cli import app
    a, b = (str(runs[n].path) for n in ("skew-timeout-1.14", "healthy-1.28"))
    res = CliRunner().invoke(app, ["compare", a, b, "--format", "json", "--n-boot", "200"])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)
    assert rows and set(rows[0]) >= {"verb", "bucket", "percentile", "delta_s", "ci_low_s", "ci_high_s", "mw_p", "flag"}
    out = tmp_path / "c"
    res = CliRunner().invoke(app, ["compare", a, b, "--out", str(out), "--n-boot", "200"])
    assert res.exit_code == 0, res.output
    assert "SLO verdict changes:" in res.stdout
    # the healthy run's node status patches meet the 1 s SLO, the timeout run's do not (truth: stalled nodes)
    assert re.search(r"verb=patch resource=nodes subresource=status.*FAIL → PASS", res.stdout)
    doc = json.loads((out / "compare.json").read_text())
    assert len(doc["changes"]) == len(rows) and doc["slo"]
    html = (out / "compare.html").read_text()
    refs = re.findall(r'(?:src|href)\s*=\s*["\']([^"\']*)', html)
    assert all(r.startswith("data:") for r in refs)
    assert "SLO verdict changes" in html and "Flagged changes" in html
    assert (out / "compare.pdf").read_bytes().startswith(b"%PDF-")
    from kubelog.report.render import document, table_overflow
    assert table_overflow(document(html)) <= 0.5        # 16 columns fit the page
