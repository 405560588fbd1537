"""Helpers shared by commands: the options every data command takes, and printing."""
from __future__ import annotations

from pathlib import Path

import typer

from .. import output
from ..output import Fmt

FORMAT_OPTION = typer.Option(Fmt.table, "--format", "-F", help="Output: table, csv, json or markdown.")


def _set_all(value: bool) -> bool:
    output.show_all = bool(value)
    return value


ALL_OPTION = typer.Option(False, "--all", callback=_set_all,
                          help=f"Show every row on a terminal (tables stop after {output.TERMINAL_ROW_LIMIT} rows there).")


def legacy_alias(fmt, *, markdown: bool = False, json: bool = False) -> str:
    """The output format as a plain string, with the hidden pre-0.2 flags (`--markdown`, `--json`) honoured."""
    if markdown:
        return "markdown"
    if json:
        return "json"
    return Fmt(fmt).value


def echo_data(df, fmt) -> None:
    """Print a DataFrame to stdout in ``fmt`` (the table fits the terminal; see :mod:`kubelog.output`)."""
    typer.echo(output.render(df, fmt))


def open_run_or_die(path: Path):
    from ..cli import Exit, die
    from ..run import NotARun, open_run
    try:
        return open_run(path)
    except NotARun as e:
        die(str(e), Exit.INPUT)


def split_list(s: str | None) -> list[str]:
    return [x.strip() for x in (s or "").split(",") if x.strip()]
