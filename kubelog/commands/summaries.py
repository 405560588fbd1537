"""kubelog summaries: what the tests themselves reported (perf_summaries)."""

from __future__ import annotations


import typer

from ..analysis.outcome import SUMMARY_COLUMNS, summaries_frame
from ._common import ALL_OPTION, FORMAT_OPTION, RUN_HELP, echo_data, json_schema, open_run_or_die, split_list

json_schema("summaries", SUMMARY_COLUMNS)


def register(app: typer.Typer) -> None:
    @app.command("summaries")
    def summaries_cmd(
        run_dir: str = typer.Argument(..., metavar="RUN_DIR|URL", help=RUN_HELP),
        metric: str = typer.Option(
            None, "--metric", "-m", help="Comma-separated metrics to keep (pod_startup, api_call, ...)."
        ),
        origin: str = typer.Option(
            None, "--origin", help="Comma-separated origins to keep (e2e-log, cl2-log, cl2-json, kube-burner)."
        ),
        fmt=FORMAT_OPTION,
        all_rows: bool = ALL_OPTION,
    ):
        """Print the summaries the tests reported themselves (percentiles in seconds).

        Pod-startup and API-call percentiles, saturation time and throughput, resource usage,
        from e2e logs, clusterloader2 logs and report-dir JSON, and kube-burner results, each
        with its origin file:line. JSON rows: {"ts","origin","metric","phase","labels","count",
        "p50_s","p90_s","p99_s","p100_s","value","unit","where"}.
        """
        run = open_run_or_die(run_dir)
        df = summaries_frame(run, split_list(metric), split_list(origin))
        if fmt == "table":
            from ._common import say

            say(
                f"{len(df):,} reported summaries" + (f" from {', '.join(sorted(set(df['origin'])))}" if len(df) else "")
            )
            say("")
        echo_data(df, fmt)
