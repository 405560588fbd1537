"""kubelog specs: the test specs of a run (from e2e logs and junit XML, de-duplicated)."""
from __future__ import annotations

from pathlib import Path

import typer

from ..analysis.outcome import STATES, specs_frame
from ._common import FORMAT_OPTION, open_run_or_die


def register(app: typer.Typer) -> None:
    @app.command("specs")
    def specs_cmd(
        run_dir: Path = typer.Argument(..., help="Run directory made by `kubelog ingest`."),
        state: str = typer.Option(None, "--state", "-s",
                                  help="Only specs in this state: passed, failed, skipped or pending."),
        fmt=FORMAT_OPTION,
    ):
        """List the test specs with state, duration and failure (e2e logs and junit XML merged).

        One row per spec name; when both a junit file and an e2e log report a spec, the
        junit verdict is kept and the log adds start time and last STEP.
        JSON rows: {"spec","state","start_ts","duration_s","failure_message","failure_location",
        "last_step","origin","where"}.
        """
        from ..cli import Exit, die
        from ..output import render
        if state is not None and state not in STATES:
            die(f"--state must be one of {', '.join(STATES)}, got {state!r}", Exit.USAGE)
        run = open_run_or_die(run_dir)
        typer.echo(render(specs_frame(run, state), fmt))
