"""kubelog diagnose: why a run failed (or what was odd in a run that passed)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from ._common import FORMAT_OPTION, open_run_or_die

if TYPE_CHECKING:
    import pandas as pd


def findings_frame(d) -> pd.DataFrame:
    """One row per finding: rank, severity, kind, title, first evidence ``where``, evidence count."""
    import pandas as pd
    return pd.DataFrame([{"rank": f.rank, "severity": f.severity, "kind": f.kind, "title": f.title,
                          "where": f.evidence[0].where if f.evidence else "", "evidence": len(f.evidence)}
                         for f in d.findings],
                        columns=["rank", "severity", "kind", "title", "where", "evidence"])


def register(app: typer.Typer) -> None:
    @app.command("diagnose")
    def diagnose_cmd(
        run_dir: Path = typer.Argument(..., help="Run directory made by `kubelog ingest`."),
        fmt=FORMAT_OPTION,
    ):
        """Explain failed specs, clusterloader2 measurement failures and errors.

        For each failure: which wait timed out (spec, nearest STEP or cl2
        step, how long it ran), the last progress counters and which stalled
        since when, pods stuck on nodes, and what the apiserver did in that
        window compared with the rest of the run (error codes, latency, Trace
        blocks, silent clients, watch restarts); Warning events, NotReady
        nodes, clock offsets, known signatures (formats-test.md 4.7, 2017
        Kubemark notes) and log templates new in the window. Findings are
        ranked, each with file:line evidence. A run without failure says so
        and still lists anomalies.

        --format table: terminal view; markdown: a report section; json: the
        whole Diagnosis {"failed", "summary", "window", "failures",
        "findings": [{"rank", "severity", "title", "detail", "evidence":
        [{"where", "text"}], "kind", "score"}]}; csv: one row per finding.
        Exit 0 whether or not the run failed, 3 when RUN_DIR is not a run.
        """
        from ..analysis.diagnose import diagnose
        from ..output import Fmt, render
        run = open_run_or_die(run_dir)
        d = diagnose(run)
        if fmt == Fmt.json:
            typer.echo(json.dumps(d.to_dict(), indent=2, default=str))
        elif fmt == Fmt.markdown:
            typer.echo(d.to_markdown())
        elif fmt == Fmt.csv:
            typer.echo(render(findings_frame(d), fmt))
        else:
            typer.echo(d.to_text())
