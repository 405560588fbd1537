"""kubelog report: sections, truth.json cross-checks, self-containment, escaping, PDF layout, reproducibility."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from kubelog.report import build
from kubelog.report.model import NOT_AVAILABLE, Section, Table, build_model, frame_table
from kubelog.report.render import document, render_html, table_overflow

SAMPLES = Path(__file__).resolve().parent.parent / "sample_logs"
SAMPLE = SAMPLES / "skew-timeout-1.14"


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    from kubelog.engine import ingest

    return ingest([str(SAMPLE)], tmp_path_factory.mktemp("r") / "run")


@pytest.fixture(scope="module")
def truth():
    return json.loads((SAMPLE / "truth.json").read_text())


@pytest.fixture(scope="module")
def model(run):
    return build_model(run, plots=False)


@pytest.fixture(scope="module")
def built(run, tmp_path_factory):
    out = tmp_path_factory.mktemp("rep")
    return build(run, out, pdf=True)


def _section(model, key) -> Section:
    return next(s for s in model["sections"] if s.key == key)


def _table(sec: Section, title_start: str) -> pd.DataFrame:
    t = next(t for t in sec.tables if t.title.startswith(title_start))
    return pd.DataFrame(t.rows, columns=t.columns)


@pytest.mark.slow
def test_build_writes_html_and_pdf_with_every_section(built):
    assert set(built["sections"]) == {
        "summary",
        "verdict",
        "run",
        "matrix",
        "pods",
        "plots",
        "skew",
        "diagnosis",
        "quality",
    }
    assert all(st == "ok" for st in built["sections"].values()), built["sections"]
    pdf = built["pdf"].read_bytes()
    assert pdf.startswith(b"%PDF-") and b"%%EOF" in pdf[-1024:]
    html = built["html"].read_text()
    for title in (
        "1. Summary",
        "2. SLO verdicts",
        "3. The run",
        "4. API-call latency by load level",
        "5. Pod start-up",
        "6. Plots",
        "7. Clock skew",
        "8. Diagnosis of failures",
        "9. Data quality",
    ):
        assert re.search(rf"<h2>[^<]*{re.escape(title)}", html), title
    # load over time, CDF, latency over time, pct-vs-load, heatmap, waterfall
    assert html.count('<img src="data:image/svg+xml;base64,') == 6


def test_pdf_has_the_sections_as_bookmarks(built):
    assert 3 < built["pdf_pages"] <= 20
    assert built["overflow_px"] <= 0.5
    titles = built["bookmarks"]
    assert titles[1] == "1. Summary" and "9. Data quality" in titles and "4. API-call latency by load level" in titles


def test_no_external_references(built):
    html = built["html"].read_text()
    refs = re.findall(r'(?:src|href)\s*=\s*["\']([^"\']*)', html, flags=re.I)
    assert refs and all(r.startswith("data:") or r.startswith("#") for r in refs), refs
    assert not re.search(r"<(?:script|link)\b", html, flags=re.I)
    assert "@import" not in html and "url(http" not in html


@pytest.mark.slow
def test_matrix_matches_truth(run, model, truth):
    """The report's matrix is kubelog's by-load matrix (against the truth: tests/test_load_truth.py),
    with every request of the truth's groups."""
    from kubelog.analysis.matrix import latency_matrix

    sec = _section(model, "matrix")
    allg = _table(sec, "Every group × load bucket")
    t = latency_matrix(run)
    tt = pd.DataFrame(truth["latency_matrix"])
    key4 = ["verb", "resource", "subresource", "scope"]
    assert (
        t.groupby(key4)["count"].sum().sort_index().tolist()
        == tt[tt["bucket"] == "all"].set_index(key4)["count"].sort_index().tolist()
    )
    t["key"] = t[["verb", "resource", "subresource", "scope", "bucket"]].astype(str).agg("|".join, axis=1)
    allg["key"] = allg[["verb", "resource", "subresource", "scope", "bucket"]].agg("|".join, axis=1)
    m = allg.merge(t, on="key", suffixes=("", "_t"))
    assert len(m) == len(t) == len(allg)
    assert (m["count"].str.replace(",", "").astype(int) == m["count_t"]).all()
    for c in ("p10_s", "p50_s", "p90_s", "p99_s"):  # 4 significant digits in the report
        assert ((m[c].astype(float) - m[f"{c}_t"]).abs() <= 5e-4 * m[f"{c}_t"].abs() + 1e-12).all(), c
    # every group's matrix first: one row per group, p10/p50/p90/p99 and n under each load bucket
    assert sec.tables[0].columns[:6] == ["group", "p10", "p50", "p90", "p99", "n"]
    assert [g for g, _ in sec.tables[0].header_groups][1:3] == ["10% load", "25% load"]
    # the slowest requests, each with its file:line, are the largest latencies of the run
    slow = _table(sec, "Slowest")
    assert slow["where"].str.match(r".+\.log:\d+$").all()
    assert float(slow["latency (s)"].iloc[0]) >= t["p99_s"].max() * (1 - 5e-4)
    for where, uri in zip(slow["where"], slow["uri"]):
        path, line = where.rsplit(":", 1)
        text = Path(path).read_text().split("\n")[int(line) - 1]
        assert uri.split("?")[0] in text, (where, uri)


def test_run_section_against_truth(run, model, truth):
    r = _table(_section(model, "run"), "Run").set_index("item")["value"]
    assert int(r["nodes"].replace(",", "")) == len(truth["nodes"])
    assert int(r["capacity (pods)"].replace(",", "")) == truth["capacity"]
    assert r["era"] == truth["params"]["era"]
    inputs = _table(_section(model, "run"), "Inputs")
    assert sorted(inputs["sha256"]) == sorted(e["sha256"] for e in run.inputs)


def test_data_quality_accounts_for_every_line(run, model):
    q = _table(_section(model, "quality"), "Line accounting")
    n = lambda s: s.str.replace(",", "").astype(int)
    assert (n(q["lines_read"]) == n(q["record_lines"]) + n(q["continuation"]) + n(q["counted"])).all()
    assert n(q["lines_read"]).sum() == sum(e["lines_read"] for e in run.inputs)
    assert (q["balanced"] == "yes").all()


def test_verdict_and_diagnosis_of_the_timeout_run(run, model, truth):
    v = _section(model, "verdict")
    assert v.data["overall"] == "FAIL"
    flags = dict(v.lists)["Validity flags"]
    assert any(f.startswith("clock skew found") and "not corrected" in f for f in flags)
    d = _section(model, "diagnosis")
    assert d.paragraphs[0].startswith("FAILED")
    assert any("timed out" in t for t, _ in d.lists)
    worst = _table(_section(model, "pods"), "Worst")
    assert worst["evidence"].str.contains(r"\.(?:log|json):\d+", regex=True).all()  # file:line


@pytest.mark.slow
def test_correct_skew_applies_the_test_offset(run, truth):
    model = build_model(run, correct_skew=True, plots=False)
    meth = dict(_section(model, "run").lists)["Methodology"]
    corr = next(m for m in meth if m.startswith("Corrections applied"))
    m = re.search(r"\btest \+(\d+) h (\d+) m ([\d.]+) s", corr)  # +9 h 58 m 15.183 s, no 3.59e+04
    assert m, corr
    off = int(m.group(1)) * 3600 + int(m.group(2)) * 60 + float(m.group(3))
    assert abs(off - truth["clocks"]["test"]["offset_s"]) < 1.0
    sk = _section(model, "skew")
    assert any(t.title.startswith("Pod start-up: raw vs corrected") for t in sk.tables)


def test_skew_section_raw_vs_corrected_against_truth(model, truth):
    """schedule_to_run ends on a hollow node's clock: correcting removes the true node offset (0.8 s)."""
    sk = _section(model, "skew")
    t = _table(sk, "Pod start-up: raw vs corrected").set_index("phase")
    node_off = [c["offset_s"] for d, c in truth["clocks"].items() if d.startswith("node/")]
    assert node_off and max(node_off) - min(node_off) < 1e-9
    diff = float(t.loc["schedule_to_run", "p50_s_raw"]) - float(t.loc["schedule_to_run", "p50_s_corrected"])
    assert abs(diff - node_off[0]) < 0.05, diff
    assert t.loc["create_to_schedule", "p50_s_raw"] == t.loc["create_to_schedule", "p50_s_corrected"]  # one clock
    flags = dict(_section(model, "verdict").lists)["Validity flags"]
    assert any(f.startswith("missing phases") for f in flags) and any(f.startswith("cross clock phases") for f in flags)


@pytest.mark.slow
def test_html_is_reproducible_and_dated_only_by_source_date_epoch(run, built, tmp_path, monkeypatch):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    a = built["html"].read_bytes()  # built in another directory, with the PDF
    b = build(run, tmp_path / "b", pdf=False)["html"].read_bytes()
    assert a == b
    assert b"generated" not in a
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    c = render_html(build_model(run, plots=False))
    assert "generated 2023-11-14T22:13:20Z" in c


def test_log_text_is_escaped():
    evil = '<script>alert("x")</script> ua="curl/7 & co" uri=/api/v1/pods?a=1&b=\'2\''
    s = Section("diagnosis", "6b. " + evil, paragraphs=[evil], lists=[(evil, [evil])])
    s.tables.append(Table(evil, [evil], [[evil]]))
    html = render_html({"title": evil, "generated": "", "version": "0", "sections": [s]})
    assert "<script>" not in html and "</script>" not in html
    html = html.replace("\u200b", "")  # the soft break points of long tokens
    assert html.count("&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;") >= 6
    assert "curl/7 &amp; co" in html and "a=1&amp;b=&#39;2&#39;" in html


def test_strict_undefined():
    import jinja2

    with pytest.raises(jinja2.UndefinedError):
        render_html({"title": "t", "generated": "", "version": "0", "sections": [object()]})


@pytest.mark.slow
def test_pdf_tables_fit_the_page_with_long_names():
    from kubelog.analysis.matrix import pivot

    long = "customresourcedefinitionswithaverylongname.apiextensions.k8s.io" * 3
    df = pd.DataFrame(
        [
            {
                "verb": "list",
                "resource": long,
                "subresource": "status",
                "scope": "cluster",
                "bucket": b,
                "count": 123456,
                "p10_s": 0.0012345,
                "p50_s": 0.123456,
                "p90_s": 12.3456,
                "p99_s": 123.456,
            }
            for b in ("10", "25", "50", "90", "100")
        ]
    )
    s = Section("matrix", "3. matrix", tables=[frame_table("pivot " + long, pivot(df)), frame_table("all", df)])
    html = render_html({"title": "t", "generated": "", "version": "0", "sections": [s]})
    assert table_overflow(document(html)) <= 0.5
    # the check can fail: without the soft break points after "." "/" "_" the long names overflow
    # (words themselves are never broken)
    bad = html.replace("\u200b", "")
    assert table_overflow(document(bad)) > 100


@pytest.mark.slow
def test_section_unavailable_when_module_missing(run, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "kubelog.analysis.diagnose", None)  # import raises ModuleNotFoundError
    model = build_model(run, plots=False)
    d = _section(model, "diagnosis")
    assert d.status == "unavailable" and NOT_AVAILABLE in d.message
    assert _section(model, "matrix").status == "ok"
    assert f"Diagnosis of failures: {NOT_AVAILABLE}" in render_html(model)


@pytest.mark.slow
def test_a_bug_is_an_error_not_unavailable(run, monkeypatch):
    """Issue 22: an AttributeError (a bug) was reported as "not available in this version"."""
    import kubelog.analysis.diagnose as dg

    monkeypatch.setattr(dg, "diagnose", lambda run: None)  # the section then reads attributes of None
    model = build_model(run, plots=False)
    d = _section(model, "diagnosis")
    assert d.status == "error" and d.message.startswith("AttributeError") and NOT_AVAILABLE not in d.message
    assert _section(model, "matrix").status == "ok"
    monkeypatch.delattr(dg, "diagnose")  # a name the module lacks: ImportError from `from … import`, a bug too
    d = _section(build_model(run, plots=False), "diagnosis")
    assert d.status == "error" and "diagnose" in d.message and NOT_AVAILABLE not in d.message


@pytest.mark.slow
def test_cli_report_ingests_raw_paths(tmp_path):
    from typer.testing import CliRunner
    from kubelog.cli import app

    res = CliRunner().invoke(app, ["report", str(SAMPLES / "healthy-1.28"), "--out", str(tmp_path / "o"), "--no-pdf"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "o" / "run" / "manifest.json").is_file()
    html = (tmp_path / "o" / "report.html").read_text()
    assert "Overall: " in html and not (tmp_path / "o" / "report.pdf").exists()
    res = CliRunner().invoke(app, ["report", str(tmp_path / "nope"), "--out", str(tmp_path / "p")])
    assert res.exit_code == 3


def test_real_apiserver_log(real_logs, tmp_path):
    """MANIFEST.md facts of the skykying v1.19.4 apiserver log: version, one node, the two slowest requests."""
    from kubelog.engine import ingest

    run = ingest(
        [
            str(real_logs / "apiserver_v1.19.4_arm64_skykying.log"),
            str(real_logs / "kubelet_v1.19.4_arm64_skykying.log"),
        ],
        tmp_path / "run",
    )
    model = build_model(run, plots=False)
    assert all(s.status in ("ok", "unavailable") for s in model["sections"]), [
        (s.key, s.message) for s in model["sections"] if s.status == "error"
    ]
    r = _table(_section(model, "run"), "Run").set_index("item")["value"]
    assert r["Kubernetes version"] == "v1.19.4" and r["nodes"] == "1"
    slow = _table(_section(model, "matrix"), "Slowest")
    assert list(slow["latency (s)"][:2]) == ["0.1387", "0.1297"]  # POST flowschemas 138.7ms, GET secrets 129.7ms
    assert "flowschemas" in slow["uri"][0] and slow["uri"][1] == "/api/v1/secrets?limit=500&resourceVersion=0"
    assert slow["where"][0].endswith("apiserver_v1.19.4_arm64_skykying.log:1040")
    html = render_html(model).replace("\u200b", "")
    assert "/api/v1/secrets?limit=500&amp;resourceVersion=0" in html and "limit=500&resourceVersion" not in html


def test_real_cl2_json_run_without_nodes(real_logs, tmp_path):
    """CERN clusterloader2 JSON + junit (no node names, no requests): every section renders; MANIFEST facts."""
    from kubelog.engine import ingest

    paths = sorted(real_logs.glob("cl2_cern_density_2022-06-08_*"))
    run = ingest([str(p) for p in paths], tmp_path / "run")
    model = build_model(run, plots=False)
    assert all(s.status == "ok" for s in model["sections"]), [(s.key, s.message) for s in model["sections"]]
    assert "No load levels" in _section(model, "matrix").paragraphs[0]
    rep = _table(_section(model, "pods"), "Reported by the test")
    ps = rep[rep["metric"] == "pod_startup"]
    assert set(ps["p90_s"]) == {"5.287"} and set(ps["p50_s"]) == {"3.992"} and set(ps["p99_s"]) == {"5.805"}
    assert ps["where"].str.contains(r"PodStartupLatency\.json:\d+$").all()
    d = _section(model, "diagnosis")
    assert "too high latency 90th percentile: got 5.287081785s expected: 5s" in d.paragraphs[0]
    assert _section(model, "verdict").data["overall"] == "FAIL"


def _legend_outside_axes(fig) -> bool:
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    for ax in fig.axes:
        leg = ax.get_legend()
        if leg is None:
            continue
        lb = leg.get_window_extent(r)
        for a in fig.axes:
            if a.get_label() == "<colorbar>":
                continue
            if lb.overlaps(a.get_window_extent(r)):
                return False
    return True


def test_plots_legends_outside_heatmap_values_stuck_pods_and_phases(run, model):
    """Issue #21 plots: legends beside the data, the heatmap annotated with p99 and n (no empty >100 %
    column), stuck pods marked in the waterfall, the load-over-time plot with the test's phases."""
    from kubelog.analysis import load as loadmod
    from kubelog.report import plots

    ctx = model["context"]
    m = ctx.matrix()
    labels = loadmod.bucket_labels(m.edges)
    figs = {
        "cdf": plots.cdf_plot(ctx.requests()),
        "time": plots.time_plot(ctx.requests(), ctx.timeline()),
        "pct": plots.percentile_vs_load_plot(m.rows, m.by, labels),
        "waterfall": plots.waterfall_plot(ctx.pods().per_pod),
    }
    phases, how = plots.spec_phases(ctx)
    figs["load"] = plots.load_plot(ctx.timeline(), phases)
    for name, fig in figs.items():
        assert _legend_outside_axes(fig), name
    # the density spec's STEPs, moved onto the apiserver clock by the test clock's ~10 h offset, lie in the run
    # after its saturation timeout this run only collects resource usage and tears its namespace down
    # (density.go: the cleanup is the It's last statement, skipped when it fails), short phases
    # merged into the first: one phase of 1 % of the run or more
    assert len(phases) >= 1 and "moved onto the apiserver clock" in how
    assert phases[0][0] == "Building a namespace api object"
    tl = ctx.timeline()
    assert all(tl.start <= a <= b <= tl.end for _, a, b, _ in phases)
    ax = figs["waterfall"].axes[0]
    assert "11 never running" in ax.get_title()
    assert "never running (stuck)" in [t.get_text() for t in ax.get_legend().get_texts()]
    assert any(t.get_text() == "hollow-node-hhgtm" for t in ax.texts)
    hm = plots.heatmap_plot(m.rows, m.by, labels)
    ax = hm.axes[0]
    ticks = [t.get_text() for t in ax.get_xticklabels()]
    assert ">100% load" not in ticks and ticks[0] == "10% load"
    cells = [t.get_text() for t in ax.texts]
    assert cells and all(re.fullmatch(r"[\d.,]+ s\nn=[\d,]+", c) for c in cells)
    assert "PATCH nodes/status (resource)" in [t.get_text() for t in ax.get_yticklabels()]
