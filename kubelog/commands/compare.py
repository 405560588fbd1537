"""kubelog compare."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from ..errors import Exit, die
from ._common import FORMAT_OPTION, QUIET_OPTION, StageProgress, json_schema, note, open_run_or_die, say
from .pods import parse_offsets

OFFSET_HELP = (
    "Clock correction [base:|new:]DOMAIN=SECONDS (how far DOMAIN's clock is ahead of the apiserver's "
    "in that run, e.g. 'new:test=35895.2'; without a prefix, in both runs), as on `kubelog pods`. "
    "Repeatable; wins over --correct-skew for its domain."
)
CORRECT_SKEW_HELP = (
    "Apply to each run the clock offsets `kubelog skew` finds in it (two-sided estimates only), as "
    "`kubelog pods/slo/report --correct-skew` do: each run's load timeline (the buckets), pod "
    "start-up phases and pod start-up SLO verdicts, the test-reported percentiles included, are "
    "corrected before the runs are compared, so a clock that is off in one run is not called a "
    "change. Prints which offsets were applied to each run."
)


def split_offsets(items) -> tuple[dict | None, dict | None]:
    """``--offset`` items of compare → (offsets of base, offsets of new); an item without a
    ``base:``/``new:`` prefix goes to both. A bad item is a usage error (exit 2)."""
    sides: dict = {"base": [], "new": []}
    for it in items or []:
        side, sep, rest = it.partition(":")
        if sep and side in sides:
            sides[side].append(rest)
        else:
            sides["base"].append(it)
            sides["new"].append(it)
    return parse_offsets(sides["base"]), parse_offsets(sides["new"])


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
        base: str = typer.Argument(..., help="Run directory (or fsspec URL) of the baseline run."),
        new: str = typer.Argument(..., help="Run directory (or fsspec URL) of the run to judge against the baseline."),
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
        offset: Optional[List[str]] = typer.Option(None, "--offset", help=OFFSET_HELP),
        correct_skew: bool = typer.Option(False, "--correct-skew", help=CORRECT_SKEW_HELP),
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
        The table view then compares the pod start-up phases (create→schedule … create→watch,
        p10/p50/p90/p99, same flags; compare.json "pods"). With --correct-skew/--offset each run's
        clock offsets are applied to its own load timeline, pod phases and SLO verdicts first
        (latencies themselves are apiserver durations: never shifted), and a phase's interval
        includes what the offset bounds allow; the table view and compare.json ("clock") say which
        offsets were applied to which run.
        Stderr: a progress bar (on a terminal) and the files written with --out, neither with -q.
        """
        from ..output import Fmt, render
        from ..report import PDFUnavailable
        from ..report.compare import build_compare

        off_base, off_new = split_offsets(offset)  # a bad --offset is a usage error before a run is read
        b, n = open_run_or_die(base), open_run_or_die(new)
        try:
            with StageProgress("compare", 2 if (offset or correct_skew) else 1) as bar:
                corr = None
                if offset or correct_skew:
                    from ..analysis.skew import corrections

                    bar.advance("clock offsets of both runs")
                    corr = (
                        corrections(b, offsets=off_base, correct_skew=correct_skew),
                        corrections(n, offsets=off_new, correct_skew=correct_skew),
                    )
                bar.advance(f"bootstrap ({n_boot} resamples per cell)")
                res = build_compare(
                    b,
                    n,
                    out,
                    tolerance=tolerance,
                    n_boot=n_boot,
                    seed=seed,
                    pdf=not no_pdf,
                    corrections=corr,
                )
        except ValueError as e:
            die(str(e), Exit.INPUT)
        except PDFUnavailable as e:
            die(f"{e}; use --no-pdf", Exit.USAGE)
        t = res["table"]
        if fmt in (Fmt.json, Fmt.csv):
            typer.echo(render(t, fmt))
        else:
            shown = t if all_rows else t[t["flag"].isin(["regression", "improvement"])]
            # on a terminal the flag and the change come before the columns cut first (n, CI, p-value);
            # regressions first
            first = list(t.columns[:6]) + ["flag", "base_s", "new_s", "rel_change"]
            order = shown["flag"].map({"regression": 0, "improvement": 1}).fillna(2)
            shown = shown.assign(_o=order).sort_values("_o", kind="stable")
            shown = shown[first + [x for x in t.columns if x not in first]]
            c = t["flag"].value_counts()
            say(  # the view leads with the summary, then the flagged cells
                f"{int(c.get('regression', 0))} regressions, {int(c.get('improvement', 0))} improvements, "
                f"{int(c.get('inconclusive', 0))} inconclusive, "
                f"{int(c.get('unchanged', 0))} unchanged (tolerance {tolerance:.0%}); "
                f"{int(c.get('too few', 0))} too few, {int(c.get('only in base', 0))} only in base, "
                f"{int(c.get('only in new', 0))} only in new"
            )
            for side, lines in res["clock"].items():
                for ln in lines:
                    say(f"clock, {side} run: {ln}")
            say("")
            typer.echo(render(shown, fmt))
            gv = res["groups"]
            say("\nPer group over the whole run:")
            for v in ("worse", "mixed", "better", "inconclusive", "not comparable"):
                for r in gv[gv["verdict"] == v].itertuples(index=False):
                    say(f"  {v}: {r.group} (n {r.n_base:,} → {r.n_new:,}){': ' + r.detail if r.detail else ''}")
            say(f"  unchanged: {int((gv['verdict'] == 'unchanged').sum())} groups")
            pods = res["pods"]
            if len(pods):
                cp = pods["flag"].value_counts()
                say(
                    "\nPod start-up phases (pods with both ends known; phase × percentile): "
                    + ", ".join(
                        f"{int(cp.get(k, 0))} {k}" for k in ("regression", "improvement", "inconclusive", "unchanged")
                    )
                    + (
                        "; with clock corrections, each interval includes what the offset bounds allow"
                        if res["clock"]
                        else ""
                    )
                )
                # the columns that fit 100 characters whole; every column: compare.json ("pods")
                pcols = ["phase", "percentile", "flag", "base_s", "new_s", "ci_low_s", "ci_high_s", "n_new"]
                typer.echo(render(pods if fmt == Fmt.markdown else pods[pcols], fmt))
            slo = res["slo"]
            if slo is None:
                say(f"SLO verdict changes: {res['slo_message']}")
            else:
                ch = slo[slo["changed"] != ""]
                say("\nSLO verdict changes:" + ("" if len(ch) else " none"))
                if len(ch):
                    typer.echo(render(ch, fmt))
        for _k, p in res["paths"].items():
            note(f"kubelog: wrote {p}")
