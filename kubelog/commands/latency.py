"""kubelog latency."""

from __future__ import annotations

from typing import List, Optional

import typer

from ..errors import Exit, die
from . import load as load_cmd
from .pods import OFFSET_HELP, corrections_or_die, parse_offsets
from ._common import ALL_OPTION, FORMAT_OPTION, RUN_HELP, echo_data, json_schema, open_run_or_die, say, split_list

json_schema(
    "latency",
    ["verb", "resource", "subresource", "scope", "count", "p50_s", "p90_s", "p99_s"],
    note="the grouping columns follow --by, one p<N>_s per --percentiles",
)
json_schema(
    "latency",
    ["verb", "resource", "subresource", "scope", "bucket", "count", "p10_s", "p50_s", "p90_s", "p99_s"],
    args=("--by-load",),
    note="the grouping columns follow --by, one p<N>_s per --percentiles",
)


LATENCY_CORRECT_SKEW_HELP = (
    "With --by-load: apply the clock offsets `kubelog skew` finds (the same corrections as on pods and slo). "
    "A request's latency is measured by the apiserver on its own clock and its start places it on the "
    "load timeline, so the percentiles never change; what moves is the load timeline when it is not on "
    "the apiserver clock: built from the e2e progress lines (test machine's clock) it is moved by the "
    "test offset first, so requests fall into the right load bucket. Pod creates/deletes in the "
    "requests and pod_transitions are on the apiserver clock already: then nothing changes (a note "
    "says what was moved). Without --by-load: nothing to correct, a usage error."
)


def register(app: typer.Typer) -> None:
    @app.command("latency")
    def latency_cmd(
        run_dir: str = typer.Argument(..., metavar="RUN_DIR|URL", help=RUN_HELP),
        by: str = typer.Option(
            "verb,resource,subresource,scope", "--by", help="Comma-separated grouping columns of the requests table."
        ),
        percentiles: Optional[str] = typer.Option(
            None,
            "--percentiles",
            "-p",
            help="Comma-separated percentiles (0-100); default 50,90,99, or 10,50,90,99 with --by-load.",
        ),
        method: str = typer.Option(
            "nearest-rank",
            "--method",
            help="Percentile definition: nearest-rank (clusterloader2's, default), "
            "linear, lower, higher, nearest, midpoint, hazen, weibull ...",
        ),
        by_load: bool = typer.Option(
            False,
            "--by-load",
            help="One matrix per group: percentiles × load buckets (pods running "
            "/ capacity, each request placed by its start time); see `kubelog load`.",
        ),
        buckets: str = typer.Option("10,25,50,90,100", "--buckets", help=load_cmd.BUCKETS_HELP + " With --by-load."),
        nodes: Optional[int] = typer.Option(None, "--nodes", min=1, help=load_cmd.NODES_HELP + " With --by-load."),
        pods_per_node: int = typer.Option(30, "--pods-per-node", min=1, help=load_cmd.PPN_HELP + " With --by-load."),
        offset: Optional[List[str]] = typer.Option(None, "--offset", help=OFFSET_HELP + " With --by-load."),
        correct_skew: bool = typer.Option(False, "--correct-skew", help=LATENCY_CORRECT_SKEW_HELP),
        scheduler: Optional[str] = typer.Option(
            None,
            "--scheduler",
            help="Compute on Dask: local[:N] starts N local worker processes "
            "(2 by default), tcp://HOST:8786 uses a running cluster whose "
            "workers see the run directory. Same rows as without it.",
        ),
        fmt=FORMAT_OPTION,
        all_rows: bool = ALL_OPTION,
    ):
        """Count and latency percentiles (seconds) of API requests per group.

        Long-running requests (watch, exec/attach/portforward/proxy, log follow,
        hijacked) are excluded; nearest-rank percentiles by default
        (sorted[ceil(n*p)-1]). JSON rows: {"verb","resource","subresource","scope",
        "count","p50_s","p90_s","p99_s"}. With --by-load: rows {"verb","resource","subresource",
        "scope","bucket","count","p10_s","p50_s","p90_s","p99_s"} (JSON/CSV), or one table per group
        (rows = percentiles, columns = load buckets, cells "seconds (n=count)").
        """
        from ..analysis import stats
        from ..analysis.latency import latency_table

        if (correct_skew or offset) and not by_load:
            die(
                "--correct-skew/--offset apply to the load timeline of --by-load (latencies are measured on the "
                "apiserver clock alone: nothing to correct)",
                Exit.USAGE,
            )
        parse_offsets(offset)
        if method not in stats.METHODS:
            die(f"unknown --method {method!r}; one of {', '.join(stats.METHODS)}", Exit.USAGE)
        try:
            ps = [float(x) / 100 for x in split_list(percentiles or ("10,50,90,99" if by_load else "50,90,99"))]
        except ValueError:
            die(f"--percentiles must be numbers, got {percentiles!r}", Exit.USAGE)
        if not ps or any(not 0 < p <= 1 for p in ps):
            die("--percentiles must be in (0, 100]", Exit.USAGE)
        cols = split_list(by)
        from .. import tables

        bad = [c for c in cols if c not in tables.schema("requests").names]
        if bad:
            die(f"--by: not columns of the requests table: {', '.join(bad)}", Exit.USAGE)
        if scheduler is not None and not (
            scheduler == "local" or scheduler.startswith(("local:", "tcp://", "tls://")) or ":" in scheduler
        ):
            die(
                f"--scheduler must be local, local:N or a scheduler address (tcp://HOST:8786), got {scheduler!r}",
                Exit.USAGE,
            )
        edges = load_cmd.parse_edges(buckets) if by_load else None  # arguments first, then the run
        run = open_run_or_die(run_dir)
        if by_load:
            corr = corrections_or_die(run, offset, correct_skew) if (offset or correct_skew) else None
            tl = load_cmd.timeline_or_die(run, nodes, pods_per_node, corr.pod_offsets() if corr else None)
            if not tl.capacity:
                die(f"cannot place requests in load buckets: capacity {tl.nodes_source}", Exit.USAGE)
            with _client(scheduler) as client:
                _print_matrix(run, cols, ps, edges, method, tl, fmt, client, corr)
            return
        if scheduler is None:
            df = latency_table(run, by=cols, percentiles=ps, method=method)
        else:
            from ..analysis import distributed

            with _client(scheduler) as client:
                df = distributed.latency_table(run, client, by=cols, percentiles=ps, method=method)
        if fmt == "table":
            say(
                f"{int(df['count'].sum()) if len(df) else 0:,} requests in {len(df):,} groups "
                f"(long-running excluded); {method} percentiles, seconds"
            )
            say("")
        echo_data(df, fmt)


def _client(scheduler):
    """A Dask client for ``--scheduler`` (None: no client)."""
    from contextlib import nullcontext

    if scheduler is None:
        return nullcontext()
    from ..analysis import distributed

    return distributed.client_for(scheduler)


def _print_matrix(run, by, ps, edges, method, tl, fmt, client=None, corr=None) -> None:
    from ..analysis.matrix import build_matrix, group_title, pivot
    from ..output import Fmt

    if client is None:
        mx = build_matrix(run, by=by, percentiles=ps, buckets=edges, method=method, timeline=tl)
    else:
        from ..analysis import distributed

        mx = distributed.build_matrix(run, client, by=by, percentiles=ps, buckets=edges, method=method, timeline=tl)
    if fmt in (Fmt.json, Fmt.csv):
        echo_data(mx.rows, fmt)
        return
    head = load_cmd.summary_lines(tl)
    if corr is not None:
        head += [f"note: {n}" for n in [corr.describe()] + corr.notes]
    ex = mx.exclusions
    head.append(
        f"excluded: {ex.long_running} long-running, {ex.no_latency} without latency, "
        f"{ex.duplicates} audit duplicates, {mx.no_start} without start time; "
        f"percentiles: {method}, seconds"
    )
    say("\n".join(head))
    for key, g in mx.groups():
        n = int(g["count"].sum())
        title = f"{group_title(key)} (n={n})"
        say("")
        say(f"### {title}" if fmt == Fmt.markdown else title)
        if fmt == Fmt.markdown:
            say("")
        echo_data(pivot(g, edges), fmt)
