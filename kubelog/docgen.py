"""Generate docs/cli.md from the CLI's own --help (a test keeps the file current)."""

from __future__ import annotations

import re

from typer.testing import CliRunner

from .cli import app


def _help(args: list[str]) -> str:
    r = CliRunner().invoke(app, args + ["--help"], env={"COLUMNS": "100", "TERM": "dumb", "NO_COLOR": "1"}, color=False)
    return re.sub(r"\x1b\[[0-9;]*m", "", r.output).rstrip()


def commands() -> list[str]:
    import typer.main

    cmd = typer.main.get_command(app)
    return sorted(cmd.commands)


def exit_codes_line() -> str:
    from .errors import EXIT_CODE_HELP

    return "Exit codes: " + "; ".join(f"{int(c)} {h}" for c, h in EXIT_CODE_HELP.items()) + "."


def cli_markdown() -> str:
    out = [
        "# kubelog command line",
        "",
        "Generated from `kubelog --help` by `python -m kubelog.docgen`; a test keeps it current.",
        "",
        exit_codes_line() + " What each failure leaves behind: [failures.md](failures.md).",
        "",
        "Stdout carries data only; progress, notes and warnings go to stderr (`-q/--quiet` leaves only "
        "errors). `-F json` prints the keys listed under each command below, no more and no fewer "
        "(tests/test_cli_conventions.py checks them on the sample runs); `-F csv` is one RFC 4180 table.",
        "",
        "```text",
        _help([]),
        "```",
        "",
    ]
    from .commands._common import JSON_SCHEMAS

    for c in commands():
        out += [f"## `kubelog {c}`", "", "```text", _help([c]), "```", ""]
        for (cmd, args), schema in sorted(JSON_SCHEMAS.items()):
            if cmd == c:
                out += [f"JSON schema of `kubelog {' '.join([c, *args])} -F json`: {schema.markdown()}.", ""]
    return "\n".join(out)


if __name__ == "__main__":
    print(cli_markdown())
