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
           "or not to its end (each named on stderr; docs/failures-inputs.md).", "",
           "Stdout carries data only; progress, notes and warnings go to stderr (`-q/--quiet` leaves only "
           "errors). `-F json` prints the keys listed under each command below, no more and no fewer "
           "(tests/test_cli_conventions.py checks them on the sample runs); `-F csv` is one RFC 4180 table.",
           "", "```text", _help([]), "```", ""]
    from .commands._common import JSON_SCHEMAS
    for c in commands():
        out += [f"## `kubelog {c}`", "", "```text", _help([c]), "```", ""]
        for (cmd, args), schema in sorted(JSON_SCHEMAS.items()):
            if cmd == c:
                out += [f"JSON schema of `kubelog {' '.join([c, *args])} -F json`: {schema.markdown()}.", ""]
    return "\n".join(out)


if __name__ == "__main__":
    print(cli_markdown())
