"""kubelog slo."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from ..errors import Exit, die
from ._common import ALL_OPTION, FORMAT_OPTION, RUN_HELP, echo_data, json_schema, open_run_or_die, say
from .pods import CORRECT_SKEW_HELP, OFFSET_HELP, corrections_or_die, parse_offsets


VERDICT_COLUMNS = [
    "sli",
    "group",
    "threshold_s",
    "percentile",
    "observed_s",
    "n",
    "margin_s",
    "verdict",
    "evidence",
    "note",
    "source",
]
json_schema("slo", VERDICT_COLUMNS)
#: Terminal view order: failures first.
VERDICT_ORDER = {"FAIL": 0, "NO DATA": 1, "PASS": 2}


def register(app: typer.Typer) -> None:
    @app.command("slo")
    def slo_cmd(
        run_dir: str = typer.Argument(..., metavar="RUN_DIR|URL", help=RUN_HELP),
        config: Optional[Path] = typer.Option(
            None,
            "--config",
            "-c",
            help="TOML file of SLO settings read on top of the cited defaults "
            "(kubelog/analysis/slo_defaults.toml); unknown keys are an "
            "error.",
        ),
        fail_on_violation: bool = typer.Option(
            False,
            "--fail-on-violation",
            help="Exit 1 when any verdict is FAIL (default: exit 0; a violation is a result, not an error).",
        ),
        offset: Optional[List[str]] = typer.Option(None, "--offset", help=OFFSET_HELP),
        correct_skew: bool = typer.Option(False, "--correct-skew", help=CORRECT_SKEW_HELP),
        fmt=FORMAT_OPTION,
        all_rows: bool = ALL_OPTION,
    ):
        """SLO verdicts (PASS/FAIL/NO DATA/INCONCLUSIVE (resolution)) with threshold, observed percentile, n, margin, evidence.

        One row per SLI and group; evidence is file:line of the worst cases.

        SLIs: the 2017 Kubemark targets (99 % of API calls ≤ 1 s, 99 % of pod startups ≤ 5 s, node
        start-up ≤ 4 s) and the SIG-Scalability API-call SLOs (mutating single-object calls 1 s;
        read-only calls 1 s per object, 30 s for namespace lists — 5 s before 2022 — and cluster
        lists), each with its cited source. With --offset/--correct-skew the pod start-up rows,
        including the percentiles the test itself reported, use corrected clocks (the note gives the
        raw value and the shift, and says when the verdict depends on the offset within its bounds).
        Table/markdown output leads with the verdict counts, lists the FAIL rows first and ends
        with the validity audit.
        JSON/CSV: the verdict rows {"sli","group","threshold_s","percentile","observed_s","n",
        "margin_s","verdict","evidence","note","source"}. A pod start-up percentile whose ends are
        too coarse to decide (a truncated creationTimestamp, the e2e's 2 s 'Found pod' poll: the
        true value lies within the phase's resolution of it) is INCONCLUSIVE (resolution), with the
        interval in the note. Exit 1 only with --fail-on-violation and a FAIL; 2 for a bad --config.
        """
        from ..analysis.slo import ConfigError, SLOConfig, evaluate
        from ..output import Fmt

        parse_offsets(offset)
        if config is not None and not config.is_file():
            die(f"--config: no such file: {config}", Exit.USAGE)
        try:
            cfg = SLOConfig.load(config)
        except ConfigError as e:
            die(str(e), Exit.USAGE)
        run = open_run_or_die(run_dir)
        rep = evaluate(run, cfg, corrections=corrections_or_die(run, offset, correct_skew))
        v = rep.verdicts
        if fmt in (Fmt.json, Fmt.csv):
            echo_data(v, fmt)
        else:
            md = fmt == Fmt.markdown
            cols = [
                "sli",
                "group",
                "threshold_s",
                "percentile",
                "observed_s",
                "n",
                "margin_s",
                "verdict",
                "evidence",
                "note",
            ]
            counts = v["verdict"].value_counts()
            say(
                f"{counts.get('FAIL', 0)} FAIL, {counts.get('PASS', 0)} PASS, {counts.get('NO DATA', 0)} "
                f"NO DATA; config: {', '.join(cfg.files)}"
            )
            say("")
            order = v["verdict"].map(VERDICT_ORDER).fillna(len(VERDICT_ORDER))
            echo_data(v.assign(_o=order).sort_values("_o", kind="stable")[cols], fmt)
            say("")
            for s in sorted(set(v["sli"])):
                say(f"source of {s}: {cfg.sli(s).source}")
            for n in rep.notes:
                say(f"note: {n}")
            say("")
            say("### validity\n" if md else "validity:")
            echo_data(rep.validity, fmt)
        if fail_on_violation and len(rep.violations):
            typer.echo(f"kubelog: {len(rep.violations)} SLO violation(s)", err=True)
            raise typer.Exit(int(Exit.VIOLATION))
