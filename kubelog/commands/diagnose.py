"""kubelog diagnose: why a run failed (or what was odd in a run that passed)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import typer

from ._common import ALL_OPTION, FORMAT_OPTION, RUN_HELP, echo_data, json_schema, open_run_or_die, say

if TYPE_CHECKING:
    import pandas as pd


def findings_frame(d) -> pd.DataFrame:
    """One row per finding: rank, severity, kind, title, first evidence ``where``, evidence count."""
    import pandas as pd

    return pd.DataFrame(
        [
            {
                "rank": f.rank,
                "severity": f.severity,
                "kind": f.kind,
                "title": f.title,
                "where": f.evidence[0].where if f.evidence else "",
                "evidence": len(f.evidence),
            }
            for f in d.findings
        ],
        columns=["rank", "severity", "kind", "title", "where", "evidence"],
    )


json_schema(
    "diagnose",
    ["failed", "summary", "window", "failures", "findings"],
    rows=False,
    nested={
        "failures": ["what", "kind", "message", "where", "fatal"],
        "findings": ["rank", "severity", "title", "detail", "evidence", "kind", "score"],
    },
    note="`window` is an object, empty keys aside when nothing failed; `evidence` is a list of {`where`, `text`}",
)


def register(app: typer.Typer) -> None:
    @app.command("diagnose")
    def diagnose_cmd(
        run_dir: str = typer.Argument(..., metavar="RUN_DIR|URL", help=RUN_HELP),
        fmt=FORMAT_OPTION,
        all_rows: bool = ALL_OPTION,
    ):
        """Explain failed specs, clusterloader2 measurement failures and errors.

        For each failure: the wait that failed and its window (the failure's
        own log line and time, the spec's STEPs, the limit its text implies or
        a 'Waiting up to' line that ran out, the cl2 step), the last progress
        counters and which stalled since when, pods stuck on nodes, and what
        the apiserver did in that window compared with the rest of the run
        (error codes, latency, Trace blocks, pod log follows and watches set
        apart, silent clients, watch restarts); Warning events, NotReady
        nodes, clock offsets, known signatures (docs/diagnose.md, 2017
        Kubemark notes), log templates new in the window, and the API-call
        and pod-startup latencies the test itself reported over the SLO.
        Findings are ranked, each with file:line evidence; docs/diagnose.md
        lists them and their weights. A run without failure says so and
        still lists anomalies.

        --format table: terminal view; markdown: a report section; json: the
        whole Diagnosis {"failed", "summary", "window", "failures",
        "findings": [{"rank", "severity", "title", "detail", "evidence":
        [{"where", "text"}], "kind", "score"}]}; csv: one row per finding.
        Exit 0 whether or not the run failed, 3 when RUN_DIR is not a run.
        """
        from ..analysis.diagnose import diagnose
        from ..output import Fmt

        run = open_run_or_die(run_dir)
        d = diagnose(run)
        if fmt == Fmt.json:
            typer.echo(json.dumps(d.to_dict(), indent=2, default=str))
        elif fmt == Fmt.markdown:
            typer.echo(d.to_markdown())
        elif fmt == Fmt.csv:
            echo_data(findings_frame(d), fmt)
        else:
            from ..output import terminal_width

            w = terminal_width()  # evidence lines are indented 9 characters
            say(d.to_text(width=max(w - 9, 20)) if w else d.to_text())
