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


def exit_codes_line() -> str:
    from .errors import EXIT_CODE_HELP
    return "Exit codes: " + "; ".join(f"{int(c)} {h}" for c, h in EXIT_CODE_HELP.items()) + "."


def cli_markdown() -> str:
    out = ["# kubelog command line", "",
           "Generated from `kubelog --help` by `python -m kubelog.docgen`; a test keeps it current.", "",
           exit_codes_line() + " What each failure leaves behind: [failures.md](failures.md).", "",
           "```text", _help([]), "```", ""]
    for c in commands():
        out += [f"## `kubelog {c}`", "", "```text", _help([c]), "```", ""]
    return "\n".join(out)


if __name__ == "__main__":
    print(cli_markdown())
