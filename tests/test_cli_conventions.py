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


import typer.main  # noqa: E402

COMMANDS = typer.main.get_command(app).commands
#: Commands whose output is data (stdout): each takes -F/--format table|csv|json|markdown.
DATA_COMMANDS = sorted(set(COMMANDS) - {"ingest", "report", "synth"})


def _opts(cmd: str) -> dict[str, list[str]]:
    """{option name: all its flags} of a command."""
    return {p.name: list(p.opts) + list(p.secondary_opts) for p in COMMANDS[cmd].params
            if getattr(p, "param_type_name", "") == "option"}


@pytest.mark.parametrize("cmd", DATA_COMMANDS)
def test_data_commands_take_format_F(cmd):
    flags = [f for fl in _opts(cmd).values() for f in fl]
    assert "--format" in flags and "-F" in flags, f"{cmd}: no -F/--format"
    r = CliRunner().invoke(app, [cmd, "--help"], env={"COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"})
    assert "table|csv|json|markdown" in r.output.replace(" ", ""), f"{cmd}: -F must offer table, csv, json, markdown"


@pytest.mark.parametrize("cmd", sorted(COMMANDS))
def test_no_lower_f_and_one_name_per_concept(cmd):
    flags = {f: name for name, fl in _opts(cmd).items() for f in fl}
    assert "-f" not in flags, f"{cmd}: -f is ambiguous (input or output format?)"
    if "--format" in flags:  # --format is the output format everywhere
        assert "-F" in flags, cmd
    if "-o" in flags:
        assert flags["-o"] == flags.get("--out"), f"{cmd}: -o must be --out"
    for hidden in ("--json", "--markdown"):  # old spellings stay only as hidden aliases
        if hidden in flags:
            p = next(p for p in COMMANDS[cmd].params if hidden in p.opts)
            assert p.hidden, f"{cmd}: {hidden} should be -F {hidden[2:]}"



@pytest.mark.slow
def test_python_api_requests_is_one_row_per_request(sample_runs):
    """The README's `run.requests()`: a request logged by both the access log and the audit log is one row."""
    run, truth = sample_runs["healthy-1.28"]
    raw = run.table("requests")
    assert set(raw["origin"]) == {"httplog", "audit"}  # the raw table has a row per record
    req = run.requests()
    assert len(req) == truth["requests"]["total"] < len(raw)
    assert req.columns.tolist() == raw.columns.tolist()
    assert run.requests(columns=["verb", "origin"]).columns.tolist() == ["verb", "origin"]
