"""kubelog history."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from ..errors import Exit, die
from ._common import ALL_OPTION, FORMAT_OPTION, QUIET_OPTION, json_schema, note, say

CHANGE_VIEW = [
    "metric",
    "build",
    "previous",
    "direction",
    "before",
    "after",
    "ratio",
    "ratio_low",
    "ratio_high",
    "unit",
    "p_value",
    "n_before",
    "n_after",
    "excluded",
]
json_schema("history", CHANGE_VIEW, note="one row per detected change, worst first")


def register(app: typer.Typer) -> None:
    @app.command("history")
    def history_cmd(
        paths: List[Path] = typer.Argument(
            ...,
            metavar="STORE_OR_RUNS...",
            help="Run directories made by `kubelog ingest`, build directories with "
            "clusterloader2 summary JSON (APIResponsivenessPrometheus*_*.json, "
            "PodStartupLatency_*.json, Prow started.json/finished.json), or "
            "directories holding them (a perfdash-style job directory); a store made "
            "by `kubelog ingest --each-run` (the runs of its index.parquet); "
            "or tables written by --metrics-out (detection again, runs not re-read).",
        ),
        scheduler: Optional[str] = typer.Option(
            None,
            "--scheduler",
            help="Where the per-run work runs: processes[:N] (a local process "
            "pool, the default), local[:N] (a Dask LocalCluster of N worker "
            "processes) or tcp://HOST:PORT (a running Dask scheduler).",
        ),
        jobs: Optional[int] = typer.Option(
            None, "--jobs", "-j", min=1, help="Worker processes (default: the CPU count; 1 = in this process)."
        ),
        report: Optional[Path] = typer.Option(
            None, "--report", help="Write history.html and history.pdf (self-contained) into this directory (created)."
        ),
        no_pdf: bool = typer.Option(False, "--no-pdf", help="With --report: write only history.html."),
        metrics_out: Optional[Path] = typer.Option(
            None, "--metrics-out", help="Also write the tidy run x metric table: .parquet or .csv."
        ),
        min_n: int = typer.Option(
            20,
            "--min-n",
            min=1,
            help="A percentile over fewer values is left out of its series (too few samples); a p90 "
            "also needs 36 and a p99 368 (where its 95 % order-statistic interval closes).",
        ),
        min_runs: int = typer.Option(12, "--min-runs", min=2, help="Series with fewer valid runs are not searched."),
        penalty: float = typer.Option(
            3.0, "--penalty", min=0.0, help="PELT penalty per change point, times ln(runs), on robust z-scores."
        ),
        alpha: float = typer.Option(
            0.01,
            "--alpha",
            min=0.0,
            max=1.0,
            help="Family-wise significance: a change needs a Mann-Whitney p below alpha / (number of series searched).",
        ),
        min_ratio: float = typer.Option(
            1.25, "--min-ratio", min=1.0, help="Smallest reported shift of the median (after/before, or its inverse)."
        ),
        skew_tolerance: float = typer.Option(
            1.0,
            "--skew-tolerance",
            min=0.0,
            help="Seconds: a clock offset beyond this makes a run invalid for the "
            "pod start-up phases that cross that clock.",
        ),
        include_invalid: bool = typer.Option(
            False, "--include-invalid", help="Keep clock-skewed runs in the series they would distort."
        ),
        fail_on_regression: bool = typer.Option(
            False, "--fail-on-regression", help="Exit 1 when a regression is found."
        ),
        fmt=FORMAT_OPTION,
        all_rows: bool = ALL_OPTION,
        quiet: bool = QUIET_OPTION,
    ):
        """Performance history of a CI job: regressions found by change-point detection.

        Builds one tidy table run x metric (API latency p50/p90/p99 with n per
        verb/resource/subresource/scope, for the whole run and per load bucket; pod start-up
        phases; SLO verdicts; the clock-skew verdict; test outcome and duration; validity
        counts), orders the runs by Prow build number (else start time), and searches every
        latency, pod start-up and test-duration series for change points (ruptures PELT, then a
        Mann-Whitney test, a bootstrap interval of the median ratio and a minimum shift; see
        docs/history.md). Prints one row per change: the build where it starts, the previous
        valid build, before/after medians, the ratio with its 95 % interval, the p-value, and the
        runs left out (clock skew, too few samples). A load bucket's cell that changes together
        with the bucket's own n (the bucket holds other requests from that build on) is not a
        latency change: it is named on stderr and in the report, not printed. Exit 3 when a path is not a run or build
        directory; 2 for a bad --scheduler; 1 only with --fail-on-regression and a regression.
        The table view leads with a summary (runs, regressions, clock-skewed runs); with -F json/csv
        it is on stderr. Stderr also lists the files written with --report; -q silences both.
        """
        from ..analysis import history as H
        from ..output import render

        try:
            H.parse_scheduler(scheduler)
        except ValueError as e:
            die(str(e), Exit.USAGE)
        if metrics_out is not None and metrics_out.suffix not in (".parquet", ".csv"):
            die(f"--metrics-out {metrics_out}: the name must end in .parquet or .csv", Exit.USAGE)
        opts = H.ChangeOptions(
            min_n=min_n,
            min_runs=min_runs,
            penalty=penalty,
            alpha=alpha,
            min_ratio=min_ratio,
            exclude_invalid=not include_invalid,
        )
        try:
            h = H.history(paths, scheduler=scheduler, workers=jobs, skew_tolerance_s=skew_tolerance, options=opts)
        except H.HistoryError as e:
            die(str(e), Exit.INPUT)
        if metrics_out is not None:
            metrics_out.parent.mkdir(parents=True, exist_ok=True)
            if metrics_out.suffix == ".parquet":
                h.table.to_parquet(metrics_out, index=False)
            else:
                h.table.to_csv(metrics_out, index=False)
        nreg = int((h.changes["direction"] == "regression").sum())
        skewed = h.runs[h.runs["skew"].str.startswith("skewed")]
        order = h.table["order_by"].iloc[0] if len(h.table) else "build"
        nmoved = 0 if h.moved is None else len(h.moved)
        summary = (
            f"{len(h.runs)} runs (ordered by {order}), {nreg} regression(s), "
            f"{len(h.changes) - nreg} improvement(s); clock-skewed runs: "
            f"{', '.join(skewed['label']) or 'none'}"
            + (
                f"; {nmoved} load-bucket cell(s) set aside: their bucket's n changed with them "
                f"({', '.join(sorted(set(h.moved['metric'])))})"
                if nmoved
                else ""
            )
        )
        if fmt in ("json", "csv"):  # stdout is the one table; the summary is a note
            note(f"kubelog: {summary}")
        else:  # the terminal view leads with it, wrapped to the terminal
            say(summary)
            say("")
        typer.echo(render(h.changes[CHANGE_VIEW], fmt))
        if report is not None:
            from ..report import PDFUnavailable
            from ..report.history import build_history_report

            try:
                paths_out = build_history_report(h, report, pdf=not no_pdf)
            except PDFUnavailable as e:
                die(f"{e}; history.html was written, use --no-pdf to skip the PDF", Exit.USAGE)
            for k in ("html", "pdf"):
                if k in paths_out:
                    note(f"kubelog: wrote {paths_out[k]}")
        if fail_on_regression and nreg:
            raise typer.Exit(int(Exit.VIOLATION))
