"""The zone of klog headers from the input's own evidence (docs/formats/klog.md, "Zone"); the
samples in tests/samples/klog/zone_* carry the expected rows, these check --tz against the evidence."""

from __future__ import annotations

from pathlib import Path

SAMPLES = Path(__file__).resolve().parent / "samples" / "klog"


def test_explicit_tz_agreeing_is_quiet(ingest_to):
    run = ingest_to(SAMPLES / "zone_kubelet_cst.log", year=2021, tz=["+08:00"])
    inp = run.inputs[0]
    assert not inp["errors"] and inp["tz"] == "+08:00"
    assert inp["info"]["tz_evidence"].startswith("--tz")
    assert str(run.table("messages")["ts"].iloc[0]) == "2021-01-20 11:42:11.418205+00:00"


def test_explicit_tz_disagreeing_is_kept_and_reported(ingest_to):
    run = ingest_to(SAMPLES / "zone_kubelet_cst.log", year=2021, tz=["UTC"])
    inp = run.inputs[0]
    assert inp["tz"] == "UTC"
    assert any("--tz UTC disagrees" in e and "UTC+08:00" in e for e in inp["errors"]), inp["errors"]
    assert str(run.table("messages")["ts"].iloc[0]) == "2021-01-20 19:42:11.418205+00:00"


def test_no_evidence_stays_utc(ingest_to, tmp_path):
    p = tmp_path / "a.log"
    p.write_text(
        'I0120 19:42:11.418205   24119 kubelet.go:1888] "SyncLoop ADD" lastTransitionTime="2021-01-20 '
        '19:42:11 +0000 UTC"\n'
    )
    inp = ingest_to(p, year=2021).inputs[0]
    assert inp["tz"] == "UTC" and "tz_evidence" not in inp["info"] and not inp["errors"]


def test_info_says_which_evidence_set_the_zone(ingest_to):
    from typer.testing import CliRunner
    from kubelog.cli import app

    run = ingest_to(SAMPLES / "zone_trace_cest.log", year=2019)
    out = CliRunner().invoke(app, ["info", str(run.path)]).output
    assert (
        "zone +02:00 from time strings the process printed in its local zone ('2019-08-20 20:28:26.123412 +0200 CEST')"
        in out
    )
