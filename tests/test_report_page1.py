"""Page 1 of each sample run's PDF, read back as text (issue #21): the run, the test outcome, the SLO
verdict with counts, failing SLOs with n and an interval, the headline matrix with the PATCH groups,
the top finding, the clock verdict; the PDF at most 20 pages; `report`'s load options and its
refusal of two run directories."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from kubelog.cli import app
from kubelog.report import build

pypdf = pytest.importorskip("pypdf")


def _text(page) -> str:
    """A PDF page's text with soft break points removed and whitespace collapsed."""
    return " ".join(page.extract_text().replace("\u200b", "").split())


@pytest.fixture(scope="module")
def reports(sample_runs, tmp_path_factory):
    out = {}
    for name, (run, _truth) in sample_runs.items():
        res = build(run, tmp_path_factory.mktemp(name), pdf=True)
        pages = pypdf.PdfReader(str(res["pdf"])).pages
        out[name] = (res, _text(pages[0]), len(pages), run)
    return out


@pytest.mark.slow
@pytest.mark.parametrize(
    "name,outcome,patch_groups",
    [
        ("healthy-1.28", "PASSED", ["PATCH nodes/status (resource)", "PATCH pods/status (resource)"]),
        ("skew-timeout-1.14", "FAILED", ["PATCH nodes/status (resource)", "PATCH pods/status (resource)"]),
        ("legacy-skew-1.5", "FAILED", ["PUT nodes/status (resource)", "PUT pods/status (resource)"]),
    ],
)
def test_page1_tells_the_story(reports, name, outcome, patch_groups):
    from kubelog.analysis.diagnose import diagnose

    res, p1, n_pages, run = reports[name]
    assert n_pages == res["pdf_pages"] and n_pages <= 20
    assert res["overflow_px"] <= 0.5
    assert p1.startswith(f"kubelog report — {run.path.name}")
    assert re.search(
        r"Run: Kubernetes v1\.\d+\.\d+ · 3 nodes · capacity 90 pods \(30 per node\) · duration (?:\d+ m \d+ s|[\d.]+ s) \(",
        p1,
    ), p1[:400]
    assert f"Test outcome: {outcome}" in p1
    m = re.search(r"SLO verdict: (FAIL|PASS) — (\d+) FAIL, (\d+) PASS, (\d+) NO DATA of (\d+) SLO checks", p1)
    assert m and int(m[2]) + int(m[3]) + int(m[4]) == int(m[5])
    assert "Headline API latency (s) by load level" in p1
    for g in patch_groups:
        assert g in p1, g
    top = diagnose(run).findings[0].title
    assert top[:60] in p1 and "→ §8 finding 1" in p1
    assert "Clocks:" in p1
    assert not re.search(r"\d[eE][+-]\d", p1)  # no scientific notation


@pytest.mark.slow
def test_page1_failing_slos_carry_n_and_interval(reports):
    _, p1, _, _ = reports["healthy-1.28"]
    # the healthy run's FAIL: p99 of 93 binding calls is one 2.33 s outlier — page 1 says so
    assert "Failing SLOs" in p1
    assert re.search(
        r"POST pods/binding \(resource\) p99 2\.328 \[[\d.]+, > max\] 93 1 p99 is the maximum "
        r"\(n = 93 < 100\); the verdict depends on one sample",
        p1,
    ), p1
    assert "depend on one sample" in p1
    _, p1, _, _ = reports["skew-timeout-1.14"]
    assert "skew found against the apiserver clock — test +9 h 58 m 15." in p1 and " ± " in p1
    assert "timed out waiting" in p1


@pytest.mark.slow
def test_long_tables_live_in_the_html(reports):
    res, _, _, _ = reports["skew-timeout-1.14"]
    html = res["html"].read_text()
    assert "<details><summary>Every group × load bucket" in html
    text = " ".join(_text(p) for p in pypdf.PdfReader(str(res["pdf"])).pages)
    assert "Every group × load bucket" not in text and "Tightest causal pairs" not in text


def test_report_refuses_two_run_directories(sample_runs, tmp_path):
    a, b = (str(sample_runs[n][0].path) for n in ("healthy-1.28", "skew-timeout-1.14"))
    res = CliRunner().invoke(app, ["report", a, b, "--out", str(tmp_path / "x")])
    assert res.exit_code == 2
    lines = [l for l in res.stderr.splitlines() if l.strip()]
    assert len(lines) == 1 and "kubelog compare" in lines[0] and a in lines[0], res.stderr
    assert not (tmp_path / "x").exists()


def test_report_takes_the_load_options(sample_runs, tmp_path):
    from kubelog.report.model import build_model

    run = sample_runs["healthy-1.28"][0]
    res = CliRunner().invoke(
        app,
        [
            "report",
            str(run.path),
            "--out",
            str(tmp_path / "o"),
            "--no-pdf",
            "--nodes",
            "6",
            "--pods-per-node",
            "10",
            "--buckets",
            "20,60,100",
        ],
    )
    assert res.exit_code == 0, res.output
    assert "report:" not in res.stderr  # no progress bar when stderr is not a terminal
    html = (tmp_path / "o" / "report.html").read_text()
    assert "capacity 60 pods (10 per node)" in html and "20% load" in html and "60% load" in html
    assert "10% load" not in html
    m = build_model(run, plots=False, nodes=6, pods_per_node=10, buckets=(20, 60, 100))
    run_t = next(t for s in m["sections"] if s.key == "run" for t in s.tables if t.title == "Run")
    assert dict((r[0], r[1]) for r in run_t.rows)["capacity (pods)"] == "60"
    res = CliRunner().invoke(app, ["report", str(run.path), "--out", str(tmp_path / "p"), "--buckets", "50,10"])
    assert res.exit_code == 2 and "--buckets" in res.stderr


def test_build_reports_progress(sample_runs, tmp_path):
    from kubelog.commands.report import progress_printer

    calls = []
    build(sample_runs["healthy-1.28"][0], tmp_path / "r", pdf=False, progress=lambda *a: calls.append(a))
    done = [c[0] for c in calls]
    assert done == sorted(done) and calls[-1][0] == calls[-1][1] and calls[-1][2] == "done"
    whats = [c[2] for c in calls]
    assert "reading the API requests" in whats and "1. Summary" in whats and "HTML" in whats
    assert progress_printer(quiet=True) == (None, None)
    assert progress_printer(quiet=False) == (None, None)  # pytest's stderr is not a terminal


def test_every_slo_row_with_samples_has_an_interval(sample_runs):
    """The API and derived rows find the samples their verdict used (same percentile), so each carries an
    order-statistic interval around its value; test-reported summaries say they have no samples."""
    import numpy as np
    from kubelog.report.model import Context
    from kubelog.report.summary import slo_statistics

    for name, (run, _) in sample_runs.items():
        ctx = Context(run)
        st = slo_statistics(ctx, ctx.slo().verdicts)
        api = st[st["sli"].str.endswith("api_calls") & (st["verdict"] != "NO DATA")]
        assert len(api) > 20 and api["ci_low_s"].notna().all(), name
        fin = api[np.isfinite(api["ci_high_s"])]
        assert ((fin["ci_low_s"] <= fin["observed_s"]) & (fin["observed_s"] <= fin["ci_high_s"])).all()
        assert (api.loc[api["is_max"], "n"] < 100).all() and api["is_max"].any()
        rep = st[st["group"].str.startswith("e2e-reported")]
        assert (rep["honesty"] == "no samples: a summary reported by the test").all()
