"""The findings of `kubelog diagnose` are units registered by name with their weights in one table
(issue 18): duplicates are refused, every weight a unit uses is in the table, and a unit registered
from one place shows up in the diagnosis."""

import dataclasses
import re
from pathlib import Path

import pytest

from kubelog.analysis import findings
from kubelog.analysis.diagnose import diagnose
from kubelog.analysis.findings import REGISTRY, DuplicateFinding, register, units
from kubelog.analysis.findings.weights import WEIGHTS

PKG = Path(findings.__file__).parent
ROOT = PKG.parents[2]


def test_every_finding_is_registered_once_in_run_order():
    us = units()
    names = [u.name for u in us]
    assert len(names) == len(set(names))
    assert names[0] == "failure" and [u.order for u in us] == sorted(u.order for u in us)
    for n in (
        "stuck_pods",
        "failed_pods",
        "clock",
        "apiserver_overview",
        "apiserver_errors",
        "apiserver_latency",
        "silent_kubelets",
        "silent_clients",
        "watch_restarts",
        "traces",
        "traces_long_running",
        "events",
        "nodes_notready",
        "signatures",
        "apiserver_403",
        "templates",
        "test_reported_api",
        "test_reported_pod_startup",
    ):
        assert n in REGISTRY and REGISTRY[n].doc, n


def test_a_second_unit_with_a_taken_name_is_refused():
    units()
    with pytest.raises(DuplicateFinding, match="'traces' is registered twice"):
        register("traces", order=999)(lambda ctx: None)
    assert REGISTRY["traces"].module.endswith("findings.traces")


def test_every_weight_a_unit_names_is_in_the_table():
    # the severities of the units whose weight is f"<prefix>.{sev}"
    per_severity = {
        "traces": ("error", "warning", "info"),
        "events": ("error", "warning"),
        "signature": ("critical", "error", "warning", "info"),
    }
    used = set()
    for p in PKG.glob("*.py"):
        if p.name in ("__init__.py", "weights.py"):
            continue
        src = p.read_text()
        for stmt in re.findall(r"weight=[^\n]*(?:\n[^\n]*?\))?", src):  # `weight="a" if … else "b"`
            used |= {w for w in re.findall(r'"([a-z_0-9.]+)"', stmt)}
        used |= set(re.findall(r'WEIGHTS\["([^"]+)"\]', src))
        for prefix in re.findall(r'weight=f"([a-z_]+)\.\{sev\}"', src):
            used |= {f"{prefix}.{s}" for s in per_severity[prefix]}
    missing = used - set(WEIGHTS)
    assert not missing, missing
    assert not [k for k in WEIGHTS if k not in used], "unused weights"


def test_a_unit_registered_in_one_place_runs_in_every_diagnosis(monkeypatch, tmp_path, ingest_to):
    units()

    monkeypatch.setattr(findings, "REGISTRY", dict(REGISTRY))  # the copy is dropped after the test
    try:

        @findings.register("made_up", order=175, weights={"made_up": 41})
        def made_up(ctx):
            """A finding made up for this test."""
            ctx.add("warning", "made-up finding", "from one unit", [], kind="made_up", weight="made_up")

        assert findings.REGISTRY["made_up"].doc == "A finding made up for this test." and WEIGHTS["made_up"] == 41
        with pytest.raises(DuplicateFinding, match="weight 'made_up' of finding 'other' is already 41"):
            findings.register("other", order=176, weights={"made_up": 5})(lambda ctx: None)
        p = tmp_path / "a.log"
        p.write_text("I0303 10:00:00.000000       1 x.go:1] hello\n" * 3)
        d = diagnose(ingest_to(p))
        f = next(x for x in d.findings if x.kind == "made_up")
        assert f.score == 41 and f.severity == "warning"
    finally:
        WEIGHTS.pop("made_up", None)
    assert "made_up" not in REGISTRY


def test_docs_list_every_finding_and_weight():
    doc = (ROOT / "docs" / "diagnose.md").read_text()
    for u in units():
        assert f"`{u.name}`" in doc, u.name
    for k, v in WEIGHTS.items():
        assert f"| `{k}` | {v:g} |" in doc, k


def test_diagnose_module_is_small_and_keeps_no_scores():
    src = (ROOT / "kubelog" / "analysis" / "diagnose.py").read_text()
    # was 1,663 lines; < 300 written as one line per statement (ruff format puts a long import or list one
    # name per line: the lines that are not such names count)
    names = [ln for ln in src.splitlines() if re.fullmatch(r'\s+"?[A-Za-z_][A-Za-z_0-9]*"?,(\s*#.*)?', ln)]
    assert len(src.splitlines()) - len(names) < 300
    assert not re.search(r"ctx\.add\(", src)
    assert dataclasses.is_dataclass(findings.Unit)
