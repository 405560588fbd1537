"""kubelog report."""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer


def register(app: typer.Typer) -> None:
    @app.command("report")
    def report_cmd(
        inputs: List[Path] = typer.Argument(..., metavar="RUN_DIR|PATH", help="A run directory made by `kubelog ingest`, or raw log "
                                            "files/directories/archives (ingested first into OUT/run)."),
        out: Path = typer.Option(..., "--out", "-o", help="Directory for report.html and report.pdf (created)."),
        no_pdf: bool = typer.Option(False, "--no-pdf", help="Write only report.html."),
        correct_skew: bool = typer.Option(False, "--correct-skew",
                                          help="Apply the clock offsets found by `kubelog skew` to pod start-up "
                                               "and SLO verdicts, the test-reported percentiles included (the "
                                               "report says which offsets were applied)."),
        offset: Optional[List[str]] = typer.Option(None, "--offset", help="Clock correction DOMAIN=SECONDS (how "
                                                   "far DOMAIN's clock is ahead of the apiserver's); wins over "
                                                   "--correct-skew for its domain. Repeatable."),
        force: bool = typer.Option(False, "--force", help="With raw inputs: replace an existing OUT/run."),
    ):
        """Write a self-contained HTML report and its PDF for one run.

        Sections: verdict (SLOs, validity flags), the run (version, nodes, capacity, phases, inputs with
        hashes, methodology), API latency percentiles by load level, pod start-up, plots, clock skew
        and diagnosis, data quality. No network references; the same run gives the same HTML
        (a generation time only when SOURCE_DATE_EPOCH is set). Prints the written paths.
        Exit 3 when the inputs cannot be read; 2 with a hint when PDF rendering is unavailable
        (use --no-pdf).
        """
        from ..cli import Exit, die
        from ..report import PDFUnavailable, build
        from ._common import open_run_or_die
        from .pods import parse_offsets
        offsets = parse_offsets(offset)
        if len(inputs) == 1 and (inputs[0] / "manifest.json").is_file():
            run = open_run_or_die(inputs[0])
        else:
            from ..engine import ingest
            from ..run import RunExists
            from ..sources import InputError
            for p in inputs:
                if not p.exists():
                    die(f"no such file or directory: {p}", Exit.INPUT)
            try:
                run = ingest(inputs, out / "run", force=force, progress=lambda s: typer.echo(s, err=True))
            except RunExists as e:
                die(f"{e} (use --force)", Exit.EXISTS)
            except InputError as e:
                die(str(e), Exit.INPUT)
        try:
            paths = build(run, out, pdf=not no_pdf, correct_skew=correct_skew, offsets=offsets)
        except PDFUnavailable as e:
            die(f"{e}; report.html was written, use --no-pdf to skip the PDF", Exit.USAGE)
        for k, st in paths["sections"].items():
            if st != "ok":
                typer.echo(f"kubelog: section {k}: {st}", err=True)
        typer.echo(str(paths["html"]))
        if "pdf" in paths:
            typer.echo(str(paths["pdf"]))
