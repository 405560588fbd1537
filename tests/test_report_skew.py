"""`report --correct-skew` on the samples with a ~10 h test-clock skew (issue #21).

The presentation (offsets written ``+9 h 58 m 15.183 s ± 18.9 ms``, the summary saying what was
corrected) is the report's. That no SLO verdict then FAILs because of the clock needs the correction of
test-reported rows (the clock-skew work beside this one): that test is marked xfail until it lands.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from kubelog.report.model import build_model

SKEWED = ("legacy-skew-1.5", "skew-timeout-1.14")


def _section(model, key):
    return next(s for s in model["sections"] if s.key == key)


@pytest.fixture(scope="module")
def corrected(sample_runs):
    return {n: build_model(sample_runs[n][0], correct_skew=True, plots=False) for n in SKEWED}


@pytest.mark.parametrize("name", SKEWED)
def test_summary_says_what_was_corrected_and_by_how_much(corrected, sample_runs, name):
    truth = sample_runs[name][1]
    s = _section(corrected[name], "summary")
    clocks = next(p for p in s.paragraphs if p.startswith("Clocks:"))
    assert "Corrected in this report (--correct-skew)" in clocks
    m = re.search(r"test \+(\d+) h (\d+) m ([\d.]+) s ± ([\d.]+) (ms|µs|s)\b", clocks)
    assert m, clocks
    off = int(m[1]) * 3600 + int(m[2]) * 60 + float(m[3])
    assert abs(off - truth["clocks"]["test"]["offset_s"]) < 0.1
    assert not re.search(r"\d[eE][+-]\d", clocks)  # no scientific notation
    verdict = next(p for p in s.paragraphs if p.startswith("SLO verdict"))
    assert "(corrected clocks)" in verdict
    # the skew section's domain table: the same notation, bounds in plain seconds
    sk = _section(corrected[name], "skew")
    t = sk.tables[0]
    row = dict(zip(t.columns, next(r for r in t.rows if r[0] == "test")))
    assert re.fullmatch(r"\+9 h 58 m 1\d\.\d{3} s ± [\d.]+ ms", row["offset"]), row
    assert not re.search(r"\d[eE][+-]\d", row["bounds (s)"])


def _clock_sized_fails(model) -> list:
    """FAIL rows whose observed value is of the size of the skew (over an hour): the clock, not the cluster."""
    from kubelog.report.summary import group_name

    v = _section(model, "summary").data
    rep = model["context"].slo().verdicts
    bad = rep[(rep["verdict"] == "FAIL") & np.isfinite(rep["observed_s"]) & (rep["observed_s"] > 3600)]
    return [f"{r.sli} {group_name(r.sli, r.group)} {r.observed_s:.0f} s" for r in bad.itertuples()] + (
        [] if v.get("overall") else ["no overall verdict"]
    )


def test_uncorrected_report_has_the_clock_caused_fail(sample_runs):
    """Without --correct-skew the 1.5 sample fails on its test-reported pod start-up of ~9 h 58 m."""
    m = build_model(sample_runs["legacy-skew-1.5"][0], plots=False)
    assert _clock_sized_fails(m)


@pytest.mark.parametrize("name", SKEWED)
def test_corrected_report_has_no_clock_caused_fail(corrected, name):
    assert _clock_sized_fails(corrected[name]) == []
