"""kubelog skew."""

from __future__ import annotations

from typing import Optional

import typer

from ..errors import Exit, die
from ._common import ALL_OPTION, FORMAT_OPTION, RUN_HELP, echo_data, json_schema, open_run_or_die, say


TABLES = ("domains", "pairs", "evidence", "violations")
DOMAIN_COLUMNS = [
    "domain",
    "offset_s",
    "lower_s",
    "upper_s",
    "uncertainty_s",
    "kind",
    "drift_ppm",
    "n_pairs",
    "text",
    "host",
]
PAIR_COLUMNS = [
    "domain_a",
    "domain_b",
    "n_forward",
    "n_backward",
    "kinds",
    "lower_s",
    "upper_s",
    "kind",
    "feasible",
    "estimate_s",
    "uncertainty_s",
    "n_violated",
    "drift_ppm",
    "drift_range_ppm",
    "drift_status",
    "drift_explains",
    "drift_t_ref",
    "step_time",
    "step_size_s",
    "text",
]
EVIDENCE_COLUMNS = ["domain_a", "domain_b", "bound", "value_s", "kind", "evidence"]
VIOLATION_COLUMNS = ["kind", "n", "before", "after", "n_uncorrectable"]
TERMINAL_DOMAIN_COLUMNS = ["domain", "offset_s", "uncertainty_s", "kind", "n_pairs", "drift_ppm", "host"]
TERMINAL_PAIR_COLUMNS = [
    "domain_a",
    "domain_b",
    "n_forward",
    "n_backward",
    "estimate_s",
    "uncertainty_s",
    "n_violated",
    "kind",
    "kinds",
]
json_schema("skew", DOMAIN_COLUMNS, note="the default, --table domains")
json_schema("skew", PAIR_COLUMNS, args=("--table", "pairs"))
json_schema("skew", EVIDENCE_COLUMNS, args=("--table", "evidence"))
json_schema("skew", VIOLATION_COLUMNS, args=("--table", "violations"), note="a last row of kind `total`")


def register(app: typer.Typer) -> None:
    @app.command("skew")
    def skew_cmd(
        run_dir: str = typer.Argument(..., metavar="RUN_DIR|URL", help=RUN_HELP),
        reference: str = typer.Option(
            "apiserver",
            "--reference",
            "-r",
            help="Reference clock domain; offsets are C_domain − C_reference, seconds.",
        ),
        table: Optional[str] = typer.Option(
            None,
            "--table",
            "-t",
            help="One table: domains (offsets and bounds per clock domain), pairs "
            "(per domain pair), evidence (the tightest pairs, file:line) or "
            "violations (causal-order violations before/after correction). "
            "-F csv/json/markdown print one table, domains by default; "
            "the terminal view shows all unless this is given.",
        ),
        correct_skew: bool = typer.Option(
            False,
            "--correct-skew",
            help="Terminal view: also show causal-order violations before/after "
            "correction and the e2e pod-startup percentiles raw and corrected.",
        ),
        evidence: int = typer.Option(
            3, "--evidence", min=0, help="Tightest pairs shown per domain pair and direction (file:line)."
        ),
        fmt=FORMAT_OPTION,
        all_rows: bool = ALL_OPTION,
    ):
        """Clock offsets between the run's clock domains, from causal pairs.

        Causal pairs (e2e and clusterloader2 log lines around their API calls, pod watch
        observations, binding → kubelet, kubelet container start → the status write that
        carries it, Event reporter → creation) bound each offset θ = C_domain − C_reference
        from both sides; hollow nodes whose logs sit in <host>/ directories (the Kubemark log
        dump's layout) are pooled per host. The terminal view leads with the findings, then
        the domains (offset, bounds, ± half width, drift — only when the pairs span ≥ 10 min
        both ways and the feasible drift range excludes 0 — and host), the pair counts per
        domain pair, clock steps, inconsistent domains and the evidence (tightest pairs,
        file:line). -F csv, json and markdown print one table (--table), so a CSV is one
        RFC 4180 table. Nothing is corrected unless --correct-skew is given; `pods`, `slo`,
        `latency` and `report` take --correct-skew too (docs/skew.md).
        """
        from ..analysis.skew import analyze, correct, violations_before_after
        from ..output import Fmt

        if table is not None and table not in TABLES:
            die(f"--table must be one of {', '.join(TABLES)}, got {table!r}", Exit.USAGE)
        run = open_run_or_die(run_dir)
        rep = analyze(run, reference=reference)
        if rep.pairs.empty:
            die(
                f"{run_dir}: no causal pairs between clock domains (need e.g. an e2e log with apiserver "
                "logs, or kubelet logs with apiserver logs)",
                Exit.INPUT,
            )
        known = set(rep.pairs["send_domain"]) | set(rep.pairs["recv_domain"])
        if reference not in known:
            die(
                f"--reference {reference!r} is not a clock domain of the causal pairs; one of: "
                + ", ".join(sorted(known)),
                Exit.USAGE,
            )
        ev = (
            rep.evidence.groupby(["domain_a", "domain_b", "bound"], sort=False).head(evidence)
            if len(rep.evidence)
            else rep.evidence
        )

        def one(name):
            if name == "domains":
                return rep.domains.reindex(columns=DOMAIN_COLUMNS)
            if name == "pairs":
                return rep.pairs_summary.reindex(columns=PAIR_COLUMNS)
            if name == "evidence":
                return ev.reindex(columns=EVIDENCE_COLUMNS)
            return violations_before_after(run, rep)

        if Fmt(fmt) is not Fmt.table or table is not None:
            df = one(table or "domains")
            if Fmt(fmt) is Fmt.table:
                df = _fixed(df.drop(columns=["text"], errors="ignore"))
            echo_data(df.reset_index(drop=True), fmt, numeric=_fixed_columns(df))
            return
        corr = correct(run, rep) if correct_skew else None

        def section(title, df):
            say("")
            say(title)
            echo_data(_fixed(df), fmt, numeric=_fixed_columns(df))

        say(f"Clock skew against {reference}")
        for f in rep.findings:
            say(f"- {f}")
        # the terminal shows the columns that fit 100 characters; lower_s/upper_s = offset_s ∓ uncertainty_s
        section(
            "Domains (bounds: offset_s ± uncertainty_s; all columns: -t domains -F csv)",
            rep.domains.reindex(columns=TERMINAL_DOMAIN_COLUMNS),
        )
        section("Domain pairs (all columns: -t pairs -F csv)", rep.pairs_summary.reindex(columns=TERMINAL_PAIR_COLUMNS))
        if rep.steps:
            import pandas as pd

            section("Clock steps", pd.DataFrame(rep.steps))
        if rep.inconsistent:
            say("")
            say("inconsistent domains: " + ", ".join(rep.inconsistent))
        if len(ev):
            section("Evidence (tightest pairs)", ev)
        if corr is not None:
            section("Causal-order violations before/after correction", corr["violations"])
            if len(corr["verdicts"]):
                section("e2e pod-startup percentiles (s), raw and corrected", corr["verdicts"])


def _fixed_columns(df) -> tuple:
    return tuple(str(c) for c in df.columns if str(c).endswith("_s") or c == "drift_ppm")


def _fixed(df):
    """Seconds columns as fixed-point text (µs), so a 10 h offset still shows its milliseconds."""
    import math

    out = df.copy()
    for c in out.columns:
        if c.endswith("_s") or c == "drift_ppm":
            dec = 3 if c == "drift_ppm" else 6

            def f(v, dec=dec):
                if v is None or (isinstance(v, float) and math.isnan(v)):
                    return ""
                if isinstance(v, (int, float)):
                    return ("∞" if v > 0 else "−∞") if math.isinf(v) else f"{v:.{dec}f}"
                return str(v)

            out[c] = out[c].astype(object).map(f)
    return out
