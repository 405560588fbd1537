"""The command line keeps one set of conventions (issue 22): checked on every command's --help and
on the commands' behaviour at the edge (bad arguments: exit 2, one line, nothing written)."""
from __future__ import annotations

import pytest
from typer.testing import CliRunner

from kubelog.cli import app


@pytest.mark.parametrize("args, says", [
    (["--nodes", "0"], "nodes must be a whole number >= 1"),
    (["--nodes", "-3"], "nodes must be a whole number >= 1"),
    (["--pods-per-node", "0"], "pods per node"),
    (["--skew", "bogus"], "'bogus' is not NAME=VALUE"),
    (["--skew", "test=abc"], "'abc' is not a duration"),
    (["--skew", "test=nan"], "must be finite"),
    (["--drift", "test=fast"], "is not a drift"),
    (["--scale", "0"], "scale must be a positive number"),
    (["--era", "2.0"], "era must be one of"),
    (["--wrap", "gzip"], "wrap must be None"),
])
def test_synth_bad_arguments_exit_2_with_one_line_and_write_nothing(tmp_path, args, says):
    out = tmp_path / "run"
    r = CliRunner().invoke(app, ["synth", "--out", str(out), *args])
    assert r.exit_code == 2, r.output
    assert r.exception is None or isinstance(r.exception, SystemExit), r.exception
    lines = [ln for ln in r.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("kubelog: ") and says in lines[0], r.output
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []
