"""kubelog latency."""
from __future__ import annotations

from pathlib import Path

import typer

from ._common import FORMAT_OPTION, open_run_or_die, split_list


def register(app: typer.Typer) -> None:
    @app.command("latency")
    def latency_cmd(
        run_dir: Path = typer.Argument(..., help="Run directory made by `kubelog ingest`."),
        by: str = typer.Option("verb,resource,subresource,scope", "--by",
                               help="Comma-separated grouping columns of the requests table."),
        percentiles: str = typer.Option("50,90,99", "--percentiles", "-p",
                                        help="Comma-separated percentiles (0-100)."),
        method: str = typer.Option("nearest-rank", "--method",
                                   help="Percentile definition: nearest-rank (clusterloader2's, default), "
                                        "linear, lower, higher, nearest, midpoint, hazen, weibull ..."),
        fmt=FORMAT_OPTION,
    ):
        """Count and latency percentiles (seconds) of API requests per group.

        Long-running requests (watch, exec/attach/portforward/proxy, log follow,
        hijacked) are excluded; nearest-rank percentiles by default
        (sorted[ceil(n*p)-1]). JSON rows: {"verb","resource","subresource","scope",
        "count","p50_s","p90_s","p99_s"}.
        """
        from ..analysis import stats
        from ..analysis.latency import latency_table
        from ..cli import Exit, die
        from ..output import render
        if method not in stats.METHODS:
            die(f"unknown --method {method!r}; one of {', '.join(stats.METHODS)}", Exit.USAGE)
        try:
            ps = [float(x) / 100 for x in split_list(percentiles)]
        except ValueError:
            die(f"--percentiles must be numbers, got {percentiles!r}", Exit.USAGE)
        if not ps or any(not 0 < p <= 1 for p in ps):
            die("--percentiles must be in (0, 100]", Exit.USAGE)
        run = open_run_or_die(run_dir)
        cols = split_list(by)
        from .. import tables
        bad = [c for c in cols if c not in tables.schema("requests").names]
        if bad:
            die(f"--by: not columns of the requests table: {', '.join(bad)}", Exit.USAGE)
        typer.echo(render(latency_table(run, by=cols, percentiles=ps, method=method), fmt))
