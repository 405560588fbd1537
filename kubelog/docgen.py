"""Generate docs/cli.md from the CLI's own --help (a test keeps the file current)."""
from __future__ import annotations

import re

from typer.testing import CliRunner

from .cli import app


def _help(args: list[str]) -> str:
    r = CliRunner().invoke(app, args + ["--help"], env={"COLUMNS": "100", "TERM": "dumb", "NO_COLOR": "1"},
                           color=False)
    return re.sub(r"\x1b\[[0-9;]*m", "", r.output).rstrip()


def commands() -> list[str]:
    import typer.main
    cmd = typer.main.get_command(app)
    return sorted(cmd.commands)


def cli_markdown() -> str:
    out = ["# kubelog command line", "",
           "Generated from `kubelog --help` by `python -m kubelog.docgen`; a test keeps it current.", "",
           "Exit codes: 0 success; 1 a violation was found and `--fail-on-violation` was given; "
           "2 usage error; 3 input problem (nothing readable, or not a run directory); "
           "4 the output exists (use `--force`); 5 `ingest` wrote the run but some input could not be read, "
           "or not to its end (each named on stderr; docs/failures-inputs.md).", "", "```text", _help([]), "```", ""]
    for c in commands():
        out += [f"## `kubelog {c}`", "", "```text", _help([c]), "```", ""]
    return "\n".join(out)


if __name__ == "__main__":
    print(cli_markdown())
