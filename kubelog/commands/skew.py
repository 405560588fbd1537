"""kubelog skew."""
from __future__ import annotations

import json
from pathlib import Path

import typer

from ._common import FORMAT_OPTION, open_run_or_die


def register(app: typer.Typer) -> None:
    @app.command("skew")
    def skew_cmd(
        run_dir: Path = typer.Argument(..., help="Run directory made by `kubelog ingest`."),
        reference: str = typer.Option("apiserver", "--reference", "-r",
                                      help="Reference clock domain; offsets are C_domain − C_reference, seconds."),
        correct_skew: bool = typer.Option(False, "--correct-skew",
                                          help="Also show causal-order violations before/after correction and "
                                               "the e2e pod-startup percentiles raw and corrected."),
        evidence: int = typer.Option(3, "--evidence", min=0,
                                     help="Tightest pairs shown per domain pair and direction (file:line)."),
        fmt=FORMAT_OPTION,
    ):
        """Clock offsets between the run's clock domains, from causal pairs.

        Causal pairs (e2e and clusterloader2 log lines around their API calls, pod watch
        observations, binding → kubelet, kubelet container start → the status write that
        carries it, Event reporter → creation) bound each offset θ = C_domain − C_reference
        from both sides; hollow nodes whose logs sit in <host>/ directories (the Kubemark log
        dump's layout) are pooled per host. Prints the domains (offset, bounds, ± half width,
        drift — only when the pairs span ≥ 10 min both ways and the feasible drift range
        excludes 0 — and host), the pair counts per domain pair, clock steps, inconsistent
        domains, the evidence (tightest pairs, file:line) and the findings. Nothing is
        corrected unless --correct-skew is given; `pods`, `slo` and `report` take
        --correct-skew too (docs/skew.md).
        """
        from ..analysis.skew import analyze, correct
        from ..cli import Exit, die
        from ..output import Fmt, render
        run = open_run_or_die(run_dir)
        rep = analyze(run, reference=reference)
        if rep.pairs.empty:
            die(f"{run_dir}: no causal pairs between clock domains (need e.g. an e2e log with apiserver "
                "logs, or kubelet logs with apiserver logs)", Exit.INPUT)
        known = set(rep.pairs["send_domain"]) | set(rep.pairs["recv_domain"])
        if reference not in known:
            die(f"--reference {reference!r} is not a clock domain of the causal pairs; one of: "
                + ", ".join(sorted(known)), Exit.USAGE)
        corr = correct(run, rep) if correct_skew else None
        ev = rep.evidence.groupby(["domain_a", "domain_b", "bound"], sort=False).head(evidence) \
            if len(rep.evidence) else rep.evidence
        if Fmt(fmt) is Fmt.json:
            d = rep.to_dict()
            d["evidence"] = json.loads(render(ev, Fmt.json)) if len(ev) else []
            if corr is not None:
                d["violations"] = json.loads(render(corr["violations"], Fmt.json))
                d["pod_startup_verdicts"] = json.loads(render(corr["verdicts"], Fmt.json))
            typer.echo(json.dumps(d, indent=1, ensure_ascii=False))
            return
        md = Fmt(fmt) is Fmt.markdown

        def section(title, df):
            typer.echo("")
            typer.echo(f"### {title}\n" if md else title)
            typer.echo(render(_fixed(df) if Fmt(fmt) is not Fmt.csv else df, fmt))

        typer.echo(("## " if md else "") + f"Clock skew against {reference}")
        for f in rep.findings:
            typer.echo(f"- {f}")
        section("Domains", rep.domains)
        section("Domain pairs", rep.pairs_summary.drop(columns=["text"], errors="ignore"))
        if rep.steps:
            import pandas as pd
            section("Clock steps", pd.DataFrame(rep.steps))
        if rep.inconsistent:
            typer.echo("")
            typer.echo("inconsistent domains: " + ", ".join(rep.inconsistent))
        if len(ev):
            section("Evidence (tightest pairs)", ev)
        if corr is not None:
            section("Causal-order violations before/after correction", corr["violations"])
            if len(corr["verdicts"]):
                section("e2e pod-startup percentiles (s), raw and corrected", corr["verdicts"])


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
