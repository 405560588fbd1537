"""kubelog specs: the test specs of a run (from e2e logs and junit XML, de-duplicated)."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from ._common import FORMAT_OPTION, open_run_or_die

STATES = ("passed", "failed", "skipped", "pending")
COLUMNS = ["spec", "state", "start_ts", "duration_s", "failure_message", "failure_location", "last_step",
           "origin", "where"]

if TYPE_CHECKING:
    import pandas as pd


def specs_frame(run, state: str | None = None) -> pd.DataFrame:
    """One row per spec.

    When the same spec name comes from a junit file and from an e2e log, they are merged:
    state, duration and failure from junit (the reporter's verdict), start time and last STEP
    from the log (``origin`` = ``junit+e2e-log``). Specs of one origin are kept as they are.
    ``where`` is ``file:line`` of the row's source.
    """
    import pandas as pd
    df = run.table("test_specs")
    if df.empty:
        return pd.DataFrame(columns=COLUMNS)
    df["where"] = [run.where(s, l) if pd.notna(l) else run.source_name(int(s))
                   for s, l in zip(df["source_id"], df["line_no"])]
    ju = df[df["origin"] == "junit"].drop_duplicates("spec", keep="last")
    lg = df[df["origin"] != "junit"].drop_duplicates("spec", keep="last")
    if not ju.empty and not lg.empty:
        m = ju.merge(lg[["spec", "start_ts", "last_step", "duration_s", "where"]], on="spec", how="left",
                     suffixes=("", "_log"))
        both = m["where_log"].notna()
        m["start_ts"] = m["start_ts"].where(m["start_ts"].notna(), m["start_ts_log"])
        m["last_step"] = m["last_step"].where(m["last_step"].notna(), m["last_step_log"])
        m.loc[both, "origin"] = "junit+e2e-log"
        m = m.drop(columns=[c for c in m.columns if c.endswith("_log")])
        out = pd.concat([m, lg[~lg["spec"].isin(ju["spec"])]], ignore_index=True)
    else:
        out = pd.concat([ju, lg], ignore_index=True)
    if state:
        out = out[out["state"] == state]
    return out[COLUMNS].reset_index(drop=True)


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
