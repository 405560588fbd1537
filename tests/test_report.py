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
    assert set(built["sections"]) == {"verdict", "run", "matrix", "pods", "plots", "skew", "diagnosis", "quality"}
    assert all(st == "ok" for st in built["sections"].values()), built["sections"]
    pdf = built["pdf"].read_bytes()
    assert pdf.startswith(b"%PDF-") and b"%%EOF" in pdf[-1024:]
    html = built["html"].read_text()
    for title in ("1. Verdict", "2. The run", "3. API-call latency by load level", "4. Pod start-up", "5. Plots",
                  "6. Clock skew", "Diagnosis of failures", "7. Data quality"):
        assert re.search(rf"<h2>[^<]*{re.escape(title)}", html), title
    assert html.count('<img src="data:image/svg+xml;base64,') == 5   # CDF, time, pct-vs-load, heatmap, waterfall


def test_pdf_has_the_sections_as_bookmarks(built):
    assert built["pdf_pages"] > 3
    assert built["overflow_px"] <= 0.5
    titles = built["bookmarks"]
    assert "1. Verdict" in titles and "7. Data quality" in titles and "3. API-call latency by load level" in titles


def test_no_external_references(built):
    html = built["html"].read_text()
    refs = re.findall(r'(?:src|href)\s*=\s*["\']([^"\']*)', html, flags=re.I)
    assert refs and all(r.startswith("data:") or r.startswith("#") for r in refs), refs
    assert not re.search(r"<(?:script|link)\b", html, flags=re.I)
    assert "@import" not in html and "url(http" not in html


@pytest.mark.slow
def test_matrix_matches_truth(run, model, truth):
    sec = _section(model, "matrix")
    allg = _table(sec, "Every group")
    t = pd.DataFrame(truth["latency_matrix"])
    t = t[t["bucket"] != "all"]
    t["key"] = t[["verb", "resource", "subresource", "scope", "bucket"]].astype(str).agg("|".join, axis=1)
    allg["key"] = allg[["verb", "resource", "subresource", "scope", "bucket"]].agg("|".join, axis=1)
    m = allg.merge(t, on="key", suffixes=("", "_t"))
    assert len(m) == len(t) == len(allg)
    assert (m["count"].str.replace(",", "").astype(int) == m["count_t"]).all()
    for c in ("p10_s", "p50_s", "p90_s", "p99_s"):   # 4 significant digits in the report
        assert ((m[c].astype(float) - m[f"{c}_t"]).abs() <= 5e-4 * m[f"{c}_t"].abs() + 1e-12).all(), c
    # the headline pivot tables come first, in the seed's layout
    assert sec.tables[0].columns[:2] == ["percentile", "10%-full"]
    # the slowest requests, each with its file:line, are the largest latencies of the run
    slow = _table(sec, "Slowest")
    assert slow["where"].str.match(r".+\.log:\d+$").all()
    assert float(slow["latency_s"].iloc[0]) >= t["p99_s"].max() * (1 - 5e-4)
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
    assert worst["evidence"].str.contains(r"\.(?:log|json):\d+", regex=True).all()   # file:line


@pytest.mark.slow
def test_correct_skew_applies_the_test_offset(run, truth):
    model = build_model(run, correct_skew=True, plots=False)
    meth = dict(_section(model, "run").lists)["Methodology"]
    corr = next(m for m in meth if m.startswith("Corrections applied"))
    m = re.search(r"\btest ([+-][\d.e+]+) s", corr)
    assert m, corr
    assert abs(float(m.group(1)) - truth["clocks"]["test"]["offset_s"]) < 1.0
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
    a = built["html"].read_bytes()   # built in another directory, with the PDF
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
    df = pd.DataFrame([{"verb": "list", "resource": long, "subresource": "status", "scope": "cluster", "bucket": b,
                        "count": 123456, "p10_s": 0.0012345, "p50_s": 0.123456, "p90_s": 12.3456, "p99_s": 123.456}
                       for b in ("10", "25", "50", "90", "100")])
    s = Section("matrix", "3. matrix", tables=[frame_table("pivot " + long, pivot(df)), frame_table("all", df)])
    html = render_html({"title": "t", "generated": "", "version": "0", "sections": [s]})
    assert table_overflow(document(html)) <= 0.5
    # the check can fail: without wrapping anywhere the long names overflow
    bad = html.replace("</style>", "td,th{overflow-wrap:normal !important}</style>")
    assert table_overflow(document(bad)) > 100


@pytest.mark.slow
def test_section_unavailable_when_module_missing(run, monkeypatch):
    import kubelog.analysis.diagnose as dg
    monkeypatch.delattr(dg, "diagnose")
    model = build_model(run, plots=False)
    d = _section(model, "diagnosis")
    assert d.status == "unavailable" and NOT_AVAILABLE in d.message
    assert _section(model, "matrix").status == "ok"
    assert f"Diagnosis of failures: {NOT_AVAILABLE}" in render_html(model)


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
    run = ingest([str(real_logs / "apiserver_v1.19.4_arm64_skykying.log"),
                  str(real_logs / "kubelet_v1.19.4_arm64_skykying.log")], tmp_path / "run")
    model = build_model(run, plots=False)
    assert all(s.status in ("ok", "unavailable") for s in model["sections"]), \
        [(s.key, s.message) for s in model["sections"] if s.status == "error"]
    r = _table(_section(model, "run"), "Run").set_index("item")["value"]
    assert r["Kubernetes version"] == "v1.19.4" and r["nodes"] == "1"
    slow = _table(_section(model, "matrix"), "Slowest")
    assert list(slow["latency_s"][:2]) == ["0.1387", "0.1297"]          # POST flowschemas 138.7ms, GET secrets 129.7ms
    assert "flowschemas" in slow["uri"][0] and slow["uri"][1] == "/api/v1/secrets?limit=500&resourceVersion=0"
    assert slow["where"][0].endswith("apiserver_v1.19.4_arm64_skykying.log:1040")
    html = render_html(model)
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
