"""kubelog load."""

from __future__ import annotations

import json
from typing import Optional

import typer

from ..errors import Exit, die
from ._common import ALL_OPTION, FORMAT_OPTION, RUN_HELP, echo_data, json_schema, open_run_or_die, say, split_list

NODES_HELP = (
    "Number of nodes (capacity = nodes × pods per node). Default: the distinct node names "
    "of requests on nodes answered 2xx, else node_transitions, else the nodes pods were bound to."
)
PPN_HELP = "Pods per node at 100 % load (density's 30 by default)."
BUCKETS_HELP = (
    "Comma-separated upper edges of the load buckets in % of capacity; a bucket holds "
    "L ≤ edge (above the last edge: '>last')."
)


LOAD_KEYS = [
    "capacity",
    "nodes",
    "pods_per_node",
    "nodes_source",
    "source",
    "clock",
    "start",
    "end",
    "notes",
    "evidence",
    "buckets",
]
_EVIDENCE = ["side", "evidence", "pods", "share"]
_BUCKETS = ["bucket", "seconds", "share", "undecided_s"]
json_schema("load", LOAD_KEYS, rows=False, nested={"evidence": _EVIDENCE, "buckets": _BUCKETS})
json_schema(
    "load",
    LOAD_KEYS + ["steps"],
    args=("--steps",),
    rows=False,
    nested={"evidence": _EVIDENCE, "buckets": _BUCKETS, "steps": ["ts", "running", "load_pct"]},
)


def parse_edges(buckets: str) -> tuple:
    """``"10,25,50"`` → ``(10.0, 25.0, 50.0)``; exits with a usage error when not increasing numbers."""

    try:
        edges = tuple(float(x) for x in split_list(buckets))
    except ValueError:
        die(f"--buckets must be numbers, got {buckets!r}", Exit.USAGE)
    if not edges or edges[0] <= 0 or any(b <= a for a, b in zip(edges, edges[1:])):
        die(f"--buckets must be positive and increasing, got {buckets!r}", Exit.USAGE)
    return edges


def timeline_or_die(run, nodes, pods_per_node, offsets=None):
    from ..analysis.load import load_timeline

    try:
        return load_timeline(run, nodes=nodes, pods_per_node=pods_per_node, offsets=offsets)
    except ValueError as e:
        die(str(e), Exit.USAGE)


def summary_lines(tl) -> list[str]:
    cap = (
        f"{tl.capacity} pods ({tl.nodes} nodes × {tl.pods_per_node} pods per node; nodes: {tl.nodes_source})"
        if tl.capacity
        else f"unknown ({tl.nodes_source})"
    )
    out = [f"capacity: {cap}", f"source: {tl.source}" + (f" [clock {tl.clock}]" if tl.clock else "")]
    if tl.start is not None:
        out.append(f"window: {tl.start.isoformat()} .. {tl.end.isoformat()}")
    if len(tl.steps):
        i = int(tl.steps["running"].idxmax())
        out.append(f"peak: {int(tl.steps['running'].iloc[i])} pods at {tl.steps['ts'].iloc[i].isoformat()}")
    out += [f"note: {n}" for n in tl.notes]
    return out


def register(app: typer.Typer) -> None:
    @app.command("load")
    def load_cmd(
        run_dir: str = typer.Argument(..., metavar="RUN_DIR|URL", help=RUN_HELP),
        nodes: Optional[int] = typer.Option(None, "--nodes", min=1, help=NODES_HELP),
        pods_per_node: int = typer.Option(30, "--pods-per-node", min=1, help=PPN_HELP),
        buckets: str = typer.Option("10,25,50,90,100", "--buckets", help=BUCKETS_HELP),
        steps: bool = typer.Option(
            False,
            "--steps",
            help="Also print every step of the timeline (ts, running, load_pct); with --format csv only the steps.",
        ),
        fmt=FORMAT_OPTION,
        all_rows: bool = ALL_OPTION,
    ):
        """Pods over time as a share of capacity, and the time spent in each load bucket.

        load(t) = test pods running at t: each pod (namespace + name) counts once, from its container
        start to its stop; pods that never started are not load. Best evidence: the instant in the name
        of the kubelet's Started / Killing Event (client-go names an event <pod>.<UnixNano hex>; made when
        the runtime's StartContainer returned / before StopContainer; a dump of events gives each start
        and stop to ~10 ms, the node's clock placed by the pods' own requests; on Kubemark's fake Docker
        client, whose calls queue at one mutex, a start one sleep before Started and each node's stops
        replayed through that queue). Else a kubelet reports a start up to one 1 s PLEG relist late (on
        the fake Docker client up to seconds: then by the lag measured on the pods the events give), so
        each kind of evidence gives a range and an estimate: the start is half a relist before the
        receipt of its pods/status write that carries Running (the one after the kubelet's Pending
        write), else of a kubelet container-start record (its last ContainerStarted), else the middle of
        a Started event's or a pod dump's startedAt second, else its bind; the stop lies between the
        graceful DELETE and the kubelet's terminal status write or final grace-0 DELETE (else a kubelet
        kill/REMOVE record; the graceful DELETE or namespace teardown only in a run without any kubelet
        confirmation). Without pod evidence, progress lines. capacity = nodes × pods per node. Prints
        the evidence behind the timeline per run: pods seen and started, and the share of started pods
        whose start / stop was found by each kind of evidence; per bucket, undecided_s: the seconds
        where the pods' ranges allow another bucket (docs/load.md). JSON:
        {"capacity","nodes","pods_per_node","nodes_source","source","clock","start","end","notes",
        "evidence":[{"side","evidence","pods","share"}],"buckets":[{"bucket","seconds","share",
        "undecided_s"}], "steps":[...] (with --steps)}.
        """
        from ..analysis.load import time_in_buckets
        from ..output import Fmt, records

        edges = parse_edges(buckets)
        run = open_run_or_die(run_dir)
        tl = timeline_or_die(run, nodes, pods_per_node)
        tib = time_in_buckets(tl, edges)
        if fmt == Fmt.json:
            d = {
                "capacity": tl.capacity,
                "nodes": tl.nodes,
                "pods_per_node": tl.pods_per_node,
                "nodes_source": tl.nodes_source,
                "source": tl.source,
                "clock": tl.clock,
                "start": tl.start.isoformat() if tl.start is not None else None,
                "end": tl.end.isoformat() if tl.end is not None else None,
                "notes": tl.notes,
                "evidence": records(tl.evidence) if tl.evidence is not None else [],
                "buckets": records(tib),
            }
            if steps:
                d["steps"] = records(tl.steps)
            typer.echo(json.dumps(d, indent=2))
            return
        if fmt == Fmt.csv:
            echo_data(tl.steps if steps else tib, fmt)
            return
        say("\n".join(summary_lines(tl)))
        say("")
        if tl.evidence is not None:
            say("evidence behind the timeline (share: of the pods that started):")
            echo_data(tl.evidence, fmt)
            say("")
        echo_data(tib, fmt)
        if steps:
            say("")
            echo_data(tl.steps, fmt)
