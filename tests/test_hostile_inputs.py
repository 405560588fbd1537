"""Issue 17, the input side: what kubelog keeps and what it says when inputs are damaged, nested,
unreadable, hostile or huge.  Every input is built here (tmp_path), small."""
import gzip
import io
import json
import os
import struct
import tarfile
import zipfile
import zlib

import pytest
from typer.testing import CliRunner

from kubelog import sources
from kubelog.cli import app
from kubelog.ingest import ingest

GOOD = ('I0620 12:33:17.389016      11 httplog.go:132] "HTTP" verb="GET" URI="/api/v1/nodes/n1" latency="1.5ms" '
        'userAgent="kubelet/v1.30.2" audit-ID="a" srcIP="10.0.0.1:1" resp=200\n')


def acc(e):
    return e["lines_read"] == e["record_lines"] + e["continuation_lines"] + sum(e["counted"].values())


def by_name(run, suffix):
    return next(e for e in run.inputs if e["path"].endswith(suffix))


def cli(*args):
    r = CliRunner().invoke(app, [str(a) for a in args])
    return r.exit_code, r.stdout, r.stderr


# -- 8: markdown and CSV output of log text ----------------------------------------------------------

HOSTILE_URI = "/api/v1/=HYPERLINK(1)<img src=x onerror=alert(1)>|x"


def test_markdown_escapes_html_and_csv_neutralises_formulas(tmp_path):
    line = GOOD.replace("/api/v1/nodes/n1", HOSTILE_URI)
    line2 = GOOD.replace("/api/v1/nodes/n1", "/api/v1/@SUM(1)")
    (tmp_path / "a.log").write_text(line + line2)
    code, _, _ = cli("ingest", tmp_path / "a.log", "--out", tmp_path / "r", "-q")
    assert code == 0
    code, md, _ = cli("latency", tmp_path / "r", "--format", "markdown")
    assert code == 0
    assert "<img" not in md and "&lt;img src=x onerror=alert(1)&gt;" in md
    row = next(l for l in md.splitlines() if "HYPERLINK" in l)
    assert row.count(" | ") == 7 and "\\|x" in row  # the pipe in the data opens no cell
    code, csv, _ = cli("latency", tmp_path / "r", "--format", "csv")
    assert code == 0
    cells = [l.split(",")[1] for l in csv.splitlines()[1:]]
    assert sorted(cells) == sorted(["'=HYPERLINK(1)<img src=x onerror=alert(1)>|x", "'@SUM(1)"])
    assert all(not c.startswith(("=", "+", "-", "@")) for c in cells)


def test_render_rules_in_one_place():
    import pandas as pd
    from kubelog.output import render
    df = pd.DataFrame({"t": ["=1+1", "+1", "-cmd", "@x", "\tx", "ok", "a\nb<b>&"], "n": [-1.5] * 7})
    import csv
    rows = list(csv.reader(io.StringIO(render(df, "csv"), newline="")))
    assert [r[0] for r in rows[1:]] == ["'=1+1", "'+1", "'-cmd", "'@x", "'\tx", "ok", "a\nb<b>&"]
    assert "\n'\rx," in render(pd.DataFrame({"t": ["\rx"], "n": [1]}), "csv")
    assert {r[1] for r in rows[1:]} == {"-1.5"}  # numbers unchanged
    md = render(df, "markdown")
    assert "| a b&lt;b&gt;&amp; | -1.5 |" in md
