"""kubelog specs: the test specs of a run (from e2e logs and junit XML, de-duplicated)."""

from __future__ import annotations


import typer

from ..errors import Exit, die
from ..analysis.outcome import SPEC_COLUMNS, STATES, specs_frame
from ._common import ALL_OPTION, FORMAT_OPTION, RUN_HELP, echo_data, json_schema, open_run_or_die, say

json_schema("specs", SPEC_COLUMNS)
#: Row order of every format: failures first.
STATE_ORDER = ("failed", "pending", "passed", "skipped")
#: The columns of the terminal view (-F csv/json/markdown have all of SPEC_COLUMNS).
TERMINAL_COLUMNS = ["state", "duration_s", "spec", "failure_message", "where"]


def register(app: typer.Typer) -> None:
    @app.command("specs")
    def specs_cmd(
        run_dir: str = typer.Argument(..., metavar="RUN_DIR|URL", help=RUN_HELP),
        state: str = typer.Option(
            None, "--state", "-s", help="Only specs in this state: passed, failed, skipped or pending."
        ),
        fmt=FORMAT_OPTION,
        all_rows: bool = ALL_OPTION,
    ):
        """List the test specs with state, duration and failure (e2e logs and junit XML merged).

        One row per spec name; when both a junit file and an e2e log report a spec, the
        junit verdict is kept and the log adds start time and last STEP. Rows are ordered failed,
        pending, passed, skipped (input order within a state); the terminal view leads with the
        count per state and shows state, duration, spec, failure and where (-F csv: every column).
        JSON rows: {"spec","state","start_ts","duration_s","failure_message","failure_location",
        "last_step","origin","where"}.
        """
        import pandas as pd

        if state is not None and state not in STATES:
            die(f"--state must be one of {', '.join(STATES)}, got {state!r}", Exit.USAGE)
        run = open_run_or_die(run_dir)
        df = specs_frame(run, state)
        rank = pd.Categorical(df["state"], categories=list(STATE_ORDER), ordered=True)
        df = df.assign(_r=rank).sort_values("_r", kind="stable").drop(columns="_r").reset_index(drop=True)
        if fmt != "table":
            echo_data(df, fmt)
            return
        c = df["state"].value_counts()
        say(
            f"{len(df):,} specs: "
            + ", ".join(f"{int(c.get(s, 0)):,} {s}" for s in STATE_ORDER)
            + "".join(f", {int(n):,} {s}" for s, n in c.items() if s not in STATE_ORDER)
        )
        say("")
        echo_data(df[TERMINAL_COLUMNS], fmt)
