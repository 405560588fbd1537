"""kubelog report."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import List, Optional

import typer

from ..errors import Exit, die
from . import load as load_cmd
from ._common import QUIET_OPTION, note


def _is_run(p) -> bool:
    from ..remote import is_url

    return is_url(p) or (Path(p) / "manifest.json").is_file()


def progress_printer(quiet: bool):
    """A ``progress(done, total, what)`` callback drawing a rich progress bar on stderr, or None when
    ``quiet`` or stderr is not a terminal (CI logs get no control characters)."""
    if quiet:
        return None, None
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    if not console.is_terminal:
        return None, None
    bar = Progress(
        TextColumn("report: {task.description:<36}"), BarColumn(), TimeElapsedColumn(), console=console, transient=True
    )
    task = bar.add_task("starting", total=1)

    def say(done: int, total: int, what: str) -> None:
        bar.update(task, completed=done, total=total, description=what)

    return say, bar


def arrow_pool_for_report() -> None:
    """Make jemalloc the default memory pool of Arrow's C++ library in this process
    (``ARROW_DEFAULT_MEMORY_POOL``, read once, when pyarrow loads): only before pyarrow is imported, on
    Linux (pyarrow's wheels there have jemalloc) and when the user has not chosen a pool.  The report
    switches the pool pyarrow allocates from for Python (``report.model._report_allocator``), but the
    Parquet reader's file buffers come from the C++ default, mimalloc, in Arrow's I/O threads, whose
    freed pages mimalloc kept: on a 1M-request run every step of the report sat ~150–200 MB higher
    (bench/README.md, issue 21).  Not for raw inputs: their ingest's worker processes keep their own
    pool (docs/internals.md)."""
    if sys.platform.startswith("linux") and "pyarrow" not in sys.modules:
        os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "jemalloc")


def register(app: typer.Typer) -> None:
    @app.command("report")
    def report_cmd(
        inputs: List[str] = typer.Argument(
            ...,
            metavar="RUN_DIR|PATH",
            help="A run directory made by `kubelog ingest` (or the fsspec URL it wrote the run to), or raw log "
            "files/directories/archives (ingested first into OUT/run).",
        ),
        out: Path = typer.Option(..., "--out", "-o", help="Directory for report.html and report.pdf (created)."),
        no_pdf: bool = typer.Option(False, "--no-pdf", help="Write only report.html."),
        correct_skew: bool = typer.Option(
            False,
            "--correct-skew",
            help="Apply the clock offsets found by `kubelog skew` to pod start-up "
            "and SLO verdicts, the test-reported percentiles included (the "
            "report says which offsets were applied).",
        ),
        offset: Optional[List[str]] = typer.Option(
            None,
            "--offset",
            help="Clock correction DOMAIN=SECONDS (how "
            "far DOMAIN's clock is ahead of the apiserver's); wins over "
            "--correct-skew for its domain. Repeatable.",
        ),
        buckets: str = typer.Option("10,25,50,90,100", "--buckets", help=load_cmd.BUCKETS_HELP),
        nodes: Optional[int] = typer.Option(None, "--nodes", min=1, help=load_cmd.NODES_HELP),
        pods_per_node: int = typer.Option(30, "--pods-per-node", min=1, help=load_cmd.PPN_HELP),
        force: bool = typer.Option(False, "--force", help="With raw inputs: replace an existing OUT/run."),
        quiet: bool = QUIET_OPTION,
    ):
        """Write a self-contained HTML report and its PDF for one run.

        Page 1 tells the story: the run (version, nodes, capacity, duration), the test's own outcome,
        the SLO verdict with its counts, the failing SLOs with n and a confidence interval, the
        headline latency matrix (PUT/POST/LIST/GET/PATCH/DELETE of nodes, pods and controllers, and
        every group failing an SLO), the top three diagnosis findings and the clock verdict. Then:
        every SLO, the run (phases, inputs with hashes, methodology), every group's latency by load
        level, pod start-up, plots, clock skew, diagnosis, data quality. The PDF keeps long tables
        short (at most 20 pages); report.html has every row. --nodes, --pods-per-node and --buckets
        are those of `kubelog latency --by-load`. No network references; the same run gives the same
        HTML (a generation time only when SOURCE_DATE_EPOCH is set). Prints the written paths; on
        stderr the ingest progress, a progress bar of the sections (on a terminal) and sections that
        failed, none of them with -q.
        Exit 3 when the inputs cannot be read; 2 for two run directories (use `kubelog compare`) and,
        with a hint, when PDF rendering is unavailable (use --no-pdf).
        """
        if len(inputs) == 1 and _is_run(inputs[0]):
            arrow_pool_for_report()  # before anything loads pyarrow
        from ..report import PDFUnavailable, build
        from ._common import open_run_or_die
        from .pods import parse_offsets

        offsets = parse_offsets(offset)
        inputs = [p if _is_run(p) else Path(p) for p in inputs]  # a run's URL stays a string
        runs = [p for p in inputs if _is_run(p)]
        if len(runs) > 1:
            die(
                f"{len(runs)} run directories given ({', '.join(map(str, runs))}); a report covers one run — "
                f"to judge one against another use `kubelog compare {runs[0]} {runs[1]}`",
                Exit.USAGE,
            )
        if runs and len(inputs) > 1:
            die(f"{runs[0]} is a run directory: give it alone, not with raw inputs", Exit.USAGE)
        edges = load_cmd.parse_edges(buckets)
        if len(inputs) == 1 and _is_run(inputs[0]):
            run = open_run_or_die(inputs[0])
        else:
            from ..engine import ingest
            from ..run import RunExists
            from ..sources import InputError

            for p in inputs:
                if not p.exists():
                    die(f"no such file or directory: {p}", Exit.INPUT)
            try:
                run = ingest(inputs, out / "run", force=force, progress=note)
            except RunExists as e:
                die(f"{e} (use --force)", Exit.EXISTS)
            except InputError as e:
                die(str(e), Exit.INPUT)
            if quiet:  # what was not read or parsed is said even so, one line each (as `kubelog ingest -q` does)
                from ..engine import quiet_lines

                for line in quiet_lines(run.inputs):
                    typer.echo(line, err=True)
        say, bar = progress_printer(quiet)
        try:
            if bar is not None:
                bar.start()
            paths = build(
                run,
                out,
                pdf=not no_pdf,
                correct_skew=correct_skew,
                offsets=offsets,
                nodes=nodes,
                pods_per_node=pods_per_node,
                buckets=edges,
                progress=say,
            )
        except PDFUnavailable as e:
            die(f"{e}; report.html was written, use --no-pdf to skip the PDF", Exit.USAGE)
        finally:
            if bar is not None:
                bar.stop()
        for k, st in paths["sections"].items():
            if st != "ok":
                note(f"kubelog: section {k}: {st}")
        typer.echo(str(paths["html"]))
        if "pdf" in paths:
            typer.echo(str(paths["pdf"]))
