"""kubelog compare."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ._common import FORMAT_OPTION, QUIET_OPTION, StageProgress, json_schema, note, open_run_or_die

json_schema(
    "compare",
    [
        "verb",
        "resource",
        "subresource",
        "scope",
        "bucket",
        "percentile",
        "n_base",
        "n_new",
        "base_s",
        "new_s",
        "delta_s",
        "rel_change",
        "ci_low_s",
        "ci_high_s",
        "mw_p",
        "flag",
    ],
)


def register(app: typer.Typer) -> None:
    @app.command("compare")
    def compare_cmd(
        base: Path = typer.Argument(..., help="Run directory of the baseline run."),
        new: Path = typer.Argument(..., help="Run directory of the run to judge against the baseline."),
        out: Optional[Path] = typer.Option(
            None, "--out", "-o", help="Also write compare.json, compare.html and compare.pdf into this directory."
        ),
        tolerance: float = typer.Option(
            0.1,
            "--tolerance",
            min=0.0,
            help="Relative change a significant change must exceed to be flagged (0.1 = 10 %).",
        ),
        n_boot: int = typer.Option(2000, "--n-boot", min=100, help="Bootstrap resamples per cell and percentile."),
        seed: int = typer.Option(0, "--seed", help="Seed of the bootstrap (same seed → same output)."),
        all_rows: bool = typer.Option(
            False,
            "--all",
            help="Print every group × bucket × percentile, not only "
            "flagged regressions and improvements (JSON/CSV always have all rows).",
        ),
        no_pdf: bool = typer.Option(False, "--no-pdf", help="With --out: skip compare.pdf."),
        fmt=FORMAT_OPTION,
        quiet: bool = QUIET_OPTION,
    ):
        """Change of each latency percentile per request group × load bucket, with a bootstrap CI.

        Columns: verb, resource, subresource, scope, bucket ("all" = the whole run, then each load
        bucket), percentile, n_base, n_new, base_s, new_s, delta_s, rel_change, ci_low_s, ci_high_s
        (95 % bootstrap of new − base), mw_p (Mann–Whitney U), flag (regression / improvement: beyond
        --tolerance, the CI excluding 0 and more than one request carrying it; inconclusive: beyond
        the tolerance but not established — never "unchanged"; unchanged; too few; only in
        base/new). Table output then sums up each group (worse, better, mixed, inconclusive,
        unchanged, not comparable) and lists SLO verdict changes. compare.pdf's page 1 lists what
        got worse, better and could not be compared; the raw rows are in compare.html only.
        Stderr: a progress bar (on a terminal) and the files written with --out, neither with -q.
        """
        from ..cli import Exit, die
        from ..output import Fmt, render
        from ..report import PDFUnavailable
        from ..report.compare import build_compare

        b, n = open_run_or_die(base), open_run_or_die(new)
        try:
            with StageProgress("compare", 1) as bar:  # progress hook (issue 22): one stage, elapsed time
                bar.advance(f"bootstrap ({n_boot} resamples per cell)")
                res = build_compare(b, n, out, tolerance=tolerance, n_boot=n_boot, seed=seed, pdf=not no_pdf)
        except ValueError as e:
            die(str(e), Exit.INPUT)
        except PDFUnavailable as e:
            die(f"{e}; use --no-pdf", Exit.USAGE)
        t = res["table"]
        if fmt in (Fmt.json, Fmt.csv):
            typer.echo(render(t, fmt))
        else:
            shown = t if all_rows else t[t["flag"].isin(["regression", "improvement"])]
            typer.echo(render(shown, fmt))
            c = t["flag"].value_counts()
            typer.echo(
                f"\n{int(c.get('regression', 0))} regressions, {int(c.get('improvement', 0))} improvements, "
                f"{int(c.get('inconclusive', 0))} inconclusive, "
                f"{int(c.get('unchanged', 0))} unchanged (tolerance {tolerance:.0%}); "
                f"{int(c.get('too few', 0))} too few, {int(c.get('only in base', 0))} only in base, "
                f"{int(c.get('only in new', 0))} only in new"
            )
            gv = res["groups"]
            typer.echo("\nPer group over the whole run:")
            for v in ("worse", "mixed", "better", "inconclusive", "not comparable"):
                for r in gv[gv["verdict"] == v].itertuples(index=False):
                    typer.echo(f"  {v}: {r.group} (n {r.n_base:,} → {r.n_new:,}){': ' + r.detail if r.detail else ''}")
            typer.echo(f"  unchanged: {int((gv['verdict'] == 'unchanged').sum())} groups")
            slo = res["slo"]
            if slo is None:
                typer.echo(f"SLO verdict changes: {res['slo_message']}")
            else:
                ch = slo[slo["changed"] != ""]
                typer.echo("\nSLO verdict changes:" + ("" if len(ch) else " none"))
                if len(ch):
                    typer.echo(render(ch, fmt))
        for _k, p in res["paths"].items():
            note(f"kubelog: wrote {p}")
