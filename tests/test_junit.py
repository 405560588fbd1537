"""Golden tests of ginkgo / clusterloader2 junit XML (MANIFEST.md "e2e / ginkgo / junit", docs/formats/junit.md)."""

from __future__ import annotations

import pytest


def _acct(inp):
    assert inp["lines_read"] == inp["record_lines"] + inp["continuation_lines"] + sum(inp["counted"].values())
    assert "unaccounted (parser bug)" not in inp["counted"]
    assert not inp["errors"], inp["errors"]


def test_conformance_junit(real_logs, ingest_to):
    run = ingest_to(real_logs / "conformance_junit_provedge_2021.xml")
    inp = run.inputs[0]
    assert inp["format"] == "junit"
    _acct(inp)
    s = inp["info"]["suite"]
    assert (s["name"], s["tests"], s["failures"], s["errors"], s["time"]) == (
        "Kubernetes e2e suite",
        "277",
        "0",
        "0",
        "4487.094",
    )
    assert s["testcases"] == 4992 and s["skipped_testcases"] == 4715
    specs = run.table("test_specs")
    assert len(specs) == 4992
    assert specs["state"].value_counts().to_dict() == {"skipped": 4715, "passed": 277}
    assert (specs["origin"] == "junit").all()


def test_yuanying_2017_junit(real_logs, ingest_to):
    run = ingest_to(real_logs / "e2e_junit_yuanying_2017.xml")
    inp = run.inputs[0]
    _acct(inp)
    s = inp["info"]["suite"]
    assert "name" not in s
    assert (s["tests"], s["failures"], s["time"]) == ("147", "0", "4139.551473917")
    assert s["testcases"] == 641 and s["skipped_testcases"] == 494
    specs = run.table("test_specs")
    assert (specs["state"] == "skipped").sum() == 494 and (specs["state"] == "passed").sum() == 147
    r = specs[specs["spec"] == "[sig-network] Services should provide secure master service [Conformance]"].iloc[0]
    assert r["duration_s"] == pytest.approx(6.45621956) and r["line_no"] == 10


DOC_2015 = """<?xml version="1.0" encoding="UTF-8"?>
  <testsuite tests="19" failures="1" time="1218.926633819">
      <testcase name="TestBasic should pass" classname="Kubernetes e2e Suite" time="41.331934756"></testcase>
      <testcase name="Density should fail" classname="Kubernetes e2e Suite" time="857.7">
          <failure type="Failure">/go/src/x/density.go:606&#xA;Expected error:&#xA;    too high pod startup latency 50th percentile: 33m50.5899835s&#xA;not to have occurred&#xA;/go/src/x/density.go:970</failure>
          <system-out>log</system-out>
      </testcase>
      <testcase name="Skipped one" classname="Kubernetes e2e Suite" time="0">
          <skipped></skipped>
      </testcase>
  </testsuite>
"""


def test_doc_block_with_failure(ingest_to, tmp_path):
    p = tmp_path / "junit_01.xml"
    p.write_text(DOC_2015)
    run = ingest_to(p)
    inp = run.inputs[0]
    _acct(inp)
    assert inp["record_lines"] == 3 and inp["counted"] == {"junit envelope (XML declaration, <testsuite> lines)": 3}
    s = run.table("test_specs").set_index("spec")
    assert s.loc["TestBasic should pass", "state"] == "passed"
    f = s.loc["Density should fail"]
    assert f["state"] == "failed" and f["failure_location"] == "/go/src/x/density.go:970"
    assert f["failure_message"].startswith("Expected error:") and "33m50.5899835s" in f["failure_message"]
    assert s.loc["Skipped one", "state"] == "skipped"


def test_broken_xml_is_counted(ingest_to, tmp_path):
    p = tmp_path / "junit_02.xml"
    p.write_text(DOC_2015[:300])
    run = ingest_to(p, format=["junit"])
    inp = run.inputs[0]
    assert inp["lines_read"] == inp["record_lines"] + inp["continuation_lines"] + sum(inp["counted"].values())
    assert "invalid XML (not parsed)" in inp["counted"]
