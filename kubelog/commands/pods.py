"""kubelog pods."""

from __future__ import annotations

from typing import List, Optional

import typer

from ..errors import Exit, die
from . import load as load_cmd
from ._common import ALL_OPTION, FORMAT_OPTION, RUN_HELP, echo_data, json_schema, open_run_or_die, say

OFFSET_HELP = (
    "Clock correction DOMAIN=SECONDS (how far DOMAIN's clock is ahead of the apiserver's, e.g. "
    "'test=35895.2', 'node/hollow-node-ab12c=0.8'); subtracted before phases are computed, and "
    "from the test-reported percentiles. Repeatable; wins over --correct-skew for its domain."
)
CORRECT_SKEW_HELP = (
    "Apply the clock offsets `kubelog skew` finds (two-sided estimates only) to the pod phases "
    "and to the test-reported pod start-up percentiles (raw − (θ_end − θ_start)); prints which "
    "offsets were applied and which domains stayed uncorrected."
)


def corrections_or_die(run, offset_items, correct_skew: bool):
    """The run's :class:`kubelog.analysis.skew.Corrections` from ``--offset`` and ``--correct-skew``."""
    from ..analysis.skew import corrections

    return corrections(run, offsets=parse_offsets(offset_items), correct_skew=correct_skew)


def parse_offsets(items) -> dict | None:
    """``["test=1.5", "node/x=-0.2"]`` → ``{"test": 1.5, "node/x": -0.2}``; usage error otherwise."""

    if not items:
        return None
    out = {}
    for it in items:
        dom, sep, val = it.rpartition("=")
        try:
            if not sep or not dom:
                raise ValueError
            out[dom] = float(val)
        except ValueError:
            die(f"--offset must be DOMAIN=SECONDS, got {it!r}", Exit.USAGE)
    return out


PER_POD_COLUMNS = [
    "namespace",
    "pod",
    "node",
    "measured",
    "not_running",
    "bucket",
    "create_to_schedule_s",
    "schedule_to_run_s",
    "run_to_watch_s",
    "schedule_to_watch_s",
    "pod_startup_s",
    "created_ts",
    "scheduled_ts",
    "running_ts",
    "watched_ts",
    "created_clock",
    "created_resolution_s",
    "scheduled_clock",
    "scheduled_resolution_s",
    "running_clock",
    "running_resolution_s",
    "watched_clock",
    "watched_resolution_s",
]


PERCENTILE_COLUMNS = ["phase", "bucket", "count", "p50_s", "p90_s", "p99_s", "p100_s", "resolution_s", "clocks"]
json_schema("pods", PERCENTILE_COLUMNS, note="with --by-load one row per phase and load bucket too")
json_schema("pods", PER_POD_COLUMNS, args=("--per-pod",))


def register(app: typer.Typer) -> None:
    @app.command("pods")
    def pods_cmd(
        run_dir: str = typer.Argument(..., metavar="RUN_DIR|URL", help=RUN_HELP),
        by_load: bool = typer.Option(
            False,
            "--by-load",
            help="Percentiles per load bucket too (each pod placed by its creation time; see `kubelog load`).",
        ),
        per_pod: bool = typer.Option(
            False,
            "--per-pod",
            help="Print one row per pod (phases in seconds, clock and resolution of each end) instead of percentiles.",
        ),
        offset: Optional[List[str]] = typer.Option(None, "--offset", help=OFFSET_HELP),
        correct_skew: bool = typer.Option(False, "--correct-skew", help=CORRECT_SKEW_HELP),
        buckets: str = typer.Option("10,25,50,90,100", "--buckets", help=load_cmd.BUCKETS_HELP + " With --by-load."),
        nodes: Optional[int] = typer.Option(None, "--nodes", min=1, help=load_cmd.NODES_HELP + " With --by-load."),
        pods_per_node: int = typer.Option(30, "--pods-per-node", min=1, help=load_cmd.PPN_HELP + " With --by-load."),
        fmt=FORMAT_OPTION,
        all_rows: bool = ALL_OPTION,
    ):
        """Pod start-up phases (seconds) as percentiles or per pod, node start-up, validity audit.

        Phases: create→schedule, schedule→run, run→watch, schedule→watch and create→watch
        (pod_startup). Each end comes from the best source in the run (audit/scheduler/kubelet records, pod dumps,
        events, e2e lines) with its clock domain and resolution; negative and zero values are
        counted, never clamped. Table/markdown output: sources, percentiles over all pods and over
        the pods the test measured (p50/p90/p99/p100, nearest rank, with n), anomalies, the
        cross-check against what the test reported, node start-up (registration → Ready, 4 s
        target) and the validity audit. With --offset/--correct-skew the test-reported percentiles are
        shown raw and corrected (columns *_corrected_s, shift_s, correction). JSON/CSV: the percentile rows {"phase","bucket","count",
        "p50_s","p90_s","p99_s","p100_s","resolution_s","clocks"} (or the per-pod rows).
        """
        from ..analysis import pods as podsmod
        from ..analysis import validity
        from ..output import Fmt

        parse_offsets(offset)  # a bad --offset or --buckets is a usage error before the run is read
        edges = load_cmd.parse_edges(buckets)
        run = open_run_or_die(run_dir)
        corr = corrections_or_die(run, offset, correct_skew)
        offsets = corr.pod_offsets()
        tl = load_cmd.timeline_or_die(run, nodes, pods_per_node, offsets)
        ps = podsmod.pod_startup(run, offsets=offsets, timeline=tl, edges=edges)
        if per_pod:
            cols = [c for c in PER_POD_COLUMNS if c in ps.per_pod.columns]
            echo_data(ps.per_pod[cols], fmt)
            return
        pct = ps.percentiles if by_load else ps.percentiles[ps.percentiles["bucket"] == "all"]
        if fmt in (Fmt.json, Fmt.csv):
            echo_data(pct.reset_index(drop=True), fmt)
            return
        md = fmt == Fmt.markdown

        def section(title, df=None, text=None):
            say("")
            say(f"### {title}" if md else f"{title}:")
            if md:
                say("")
            if text is not None:
                say(text)
            if df is not None:
                if len(df):
                    echo_data(df.reset_index(drop=True), fmt)
                else:
                    say("(none)")

        say(("### sources\n\n" if md else "sources:\n") + ps.sources)
        for n in [corr.describe()] + corr.notes if corr or correct_skew else []:
            say(f"note: {n}")
        for n in ps.notes:
            say(f"note: {n}")
        if by_load:
            section("load", text="\n".join(load_cmd.summary_lines(tl)))
        section("pod start-up, all pods (seconds, nearest rank)", pct)
        if len(ps.per_pod) and ps.per_pod["measured"].any():
            section(
                f"pod start-up, the {int(ps.per_pod['measured'].sum())} pods the test measured", ps.measured_percentiles
            )
        section("anomalies (values are kept, never clamped)", ps.anomalies)
        if len(ps.reported):
            if corr:
                section(
                    "reported by the test (seconds), raw and corrected for clock offsets",
                    corr.correct_reported(ps.reported),
                )
            else:
                section("reported by the test (seconds)", ps.reported)
        if len(ps.cross_check):
            cc = ps.cross_check
            shown = cc[cc["derived_s"].notna()]
            section("cross-check: test-reported vs derived from objects", shown)
            if len(shown) < len(cc):
                say(
                    f"({len(cc) - len(shown)} reported values have no object-derived counterpart in "
                    f"this run; all rows: PodStartup.cross_check in Python)"
                )
        ns = podsmod.node_startup(run)
        if len(ns):
            section(
                f"node start-up (registration → first Ready; target {podsmod.NODE_STARTUP_TARGET_S:g} s)",
                ns[["node", "registered_ts", "ready_ts", "startup_s", "resolution_s", "clocks", "within_target"]],
            )
            section("node start-up percentiles", podsmod.node_startup_percentiles(ns))
        section("validity", validity.audit(run, pods=ps))
