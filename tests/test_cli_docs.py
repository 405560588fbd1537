"""Every command explains itself, and the generated docs are current."""

import re
from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

from kubelog import docgen, tables
from kubelog.cli import app

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = sorted(typer.main.get_command(app).commands)


def test_top_level_help():
    r = CliRunner().invoke(app, ["--help"])
    assert r.exit_code == 0 and "ingest" in r.output and "latency" in r.output


@pytest.mark.parametrize("cmd", COMMANDS)
def test_each_command_has_help_for_itself_and_every_option(cmd):
    c = typer.main.get_command(app).commands[cmd]
    assert (c.help or "").strip(), f"{cmd} has no help text"
    for p in c.params:
        if getattr(p, "param_type_name", "") == "option":
            assert (p.help or "").strip(), f"{cmd} {p.opts} has no help"
        else:
            assert (getattr(p, "help", None) or "").strip(), f"{cmd} argument {p.name} has no help"


def _norm(s: str) -> str:
    return re.sub(r"[ \t]+\n", "\n", s).strip()


def test_docs_are_generated_and_current():
    assert _norm((ROOT / "docs/tables.md").read_text()) == _norm(tables.markdown())
    from kubelog.commands import formats as _f  # noqa: F401

    r = CliRunner().invoke(app, ["formats", "-F", "markdown"])
    assert _norm((ROOT / "docs/formats.md").read_text()) == _norm(r.output), "run `make docs`"
    assert _norm((ROOT / "docs/cli.md").read_text()) == _norm(docgen.cli_markdown()), "run `make docs`"


def test_readme_names_the_two_commands():
    t = (ROOT / "README.md").read_text()
    assert "make demo" in t and "make test" in t
    ci = (ROOT / ".ci/run").read_text()
    assert "make test" in ci


def test_exit_codes(tmp_path):
    r = CliRunner().invoke(app, ["info", str(tmp_path)])
    assert r.exit_code == 3 and "not a kubelog run directory" in r.output
    (tmp_path / "a.log").write_text("I0101 00:00:00.000000 1 x.go:1] hi\n")
    out = tmp_path / "run"
    assert CliRunner().invoke(app, ["ingest", str(tmp_path / "a.log"), "--out", str(out), "-q"]).exit_code == 0
    r = CliRunner().invoke(app, ["ingest", str(tmp_path / "a.log"), "--out", str(out), "-q"])
    assert r.exit_code == 4 and "--force" in r.output
    r = CliRunner().invoke(app, ["ingest", str(tmp_path / "missing.log"), "--out", str(tmp_path / "r2")])
    assert r.exit_code == 3 and "missing.log" in r.output
