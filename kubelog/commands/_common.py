"""Helpers shared by commands."""
from __future__ import annotations

from pathlib import Path

import typer

from ..output import Fmt

FORMAT_OPTION = typer.Option(Fmt.table, "--format", "-F", help="Output: table, csv, json or markdown.")


def open_run_or_die(path: Path):
    from ..cli import Exit, die
    from ..run import NotARun, open_run
    try:
        return open_run(path)
    except NotARun as e:
        die(str(e), Exit.INPUT)


def split_list(s: str | None) -> list[str]:
    return [x.strip() for x in (s or "").split(",") if x.strip()]
