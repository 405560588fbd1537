"""Honest percentiles (issue #21, docs/statistics.md): order-statistic confidence intervals, "p99 is the
maximum", how many samples a verdict rests on, and the human formatting of seconds and clock offsets."""

from __future__ import annotations

import doctest

import numpy as np
import pytest
from scipy.stats import binom

from kubelog.analysis import stats
from kubelog.report import numbers


@pytest.mark.parametrize("n,p", [(20, 0.5), (93, 0.99), (500, 0.9), (1000, 0.99), (40, 0.1), (5000, 0.5)])
def test_ci_ranks_coverage_is_exact_and_at_least_the_level(n, p):
    lo, hi, cov = stats.ci_ranks(n, p, 0.95)
    # coverage from the binomial directly: P(x_(l) <= xi <= x_(u)) = F(u-1) - F(l-1), 1-based l, u
    f = lambda k: binom.cdf(k, n, p)
    want = (f(hi) if hi is not None else 1.0) - (f(lo) if lo is not None else 0.0)
    assert cov == pytest.approx(want)
    if lo is not None and hi is not None:
        assert cov >= 0.95 and lo < stats.nearest_rank_index(n, p) + 1 and hi >= stats.nearest_rank_index(n, p)
    # each side as tight as allowed (0-based indices): one rank inwards, that tail would exceed 2.5 %
    if lo is not None:
        assert f(lo) <= 0.025 < f(lo + 1)
    if hi is not None:
        assert f(hi) >= 0.975 > f(hi - 1)


def test_ci_covers_the_true_quantile_in_simulation():
    rng = np.random.default_rng(4)
    n, p, hits, trials = 200, 0.9, 0, 2000
    true = -np.log(1 - p)  # exponential(1) quantile
    for _ in range(trials):
        r = stats.percentile_ci(rng.exponential(size=n), p)
        hits += r["lo"] <= true <= r["hi"]
    lo, hi, cov = stats.ci_ranks(n, p)
    assert abs(hits / trials - cov) < 0.02  # the stated coverage is the real one


def test_p99_of_fewer_than_100_is_the_maximum_and_unbounded_above():
    assert stats.is_maximum(93, 0.99) and stats.is_maximum(99, 0.99)
    assert not stats.is_maximum(100, 0.99) and not stats.is_maximum(101, 0.99) and not stats.is_maximum(5, 1.0)
    r = stats.percentile_ci(np.arange(1, 94) / 100, 0.99)
    assert r["is_max"] and r["value"] == 0.93 and r["hi"] == np.inf and np.isfinite(r["lo"])
    assert stats.percentile_ci([], 0.99)["n"] == 0


def test_samples_to_flip_by_brute_force():
    rng = np.random.default_rng(1)
    for _ in range(300):
        n = int(rng.integers(1, 60))
        x = rng.exponential(size=n)
        p = float(rng.choice([0.5, 0.9, 0.99]))
        thr = float(rng.exponential())
        fail = stats.percentile(x, p) > thr
        k = stats.samples_to_flip(x, p, thr)
        # brute force: move the fewest values across the threshold until the verdict changes
        y = np.sort(x)
        for m in range(1, n + 2):
            z = y.copy()
            if fail:
                above = np.flatnonzero(z > thr)
                if m > len(above):
                    m = None
                    break
                z[above[-m:]] = thr / 2
            else:
                below = np.flatnonzero(z <= thr)
                if m > len(below):
                    m = None
                    break
                z[below[-m:]] = thr * 2 + 1
            if (stats.percentile(z, p) > thr) != fail:
                break
        assert k == m, (n, p, thr, fail)
    # the healthy sample's FAIL: n = 93, one call of 1.67 s over a 1 s threshold
    assert stats.samples_to_flip([0.1] * 92 + [1.67], 0.99, 1.0) == 1


def test_numbers_doctests_and_no_scientific_notation():
    assert doctest.testmod(numbers).failed == 0
    assert doctest.testmod(stats).failed == 0
    for v in (1e-7, 3.2e-5, 0.000999, 12345678.9, 35895.2):
        assert "e" not in numbers.seconds(v).lower()
    assert numbers.offset(35895.18306, 35895.164132, 35895.202) == "+9 h 58 m 15.183 s ± 18.9 ms"
    assert numbers.offset(36012.5, 36012.499, 36012.501) == "+10 h 0 m 12.500 s ± 1 ms"
