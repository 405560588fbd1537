"""kubelog synth."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ._common import QUIET_OPTION, StageProgress, note


def _ppm(x: str) -> float:
    """One --host-drift value (``40``, ``-5ppm``) in ppm; ValueError naming it otherwise."""
    import math

    try:
        v = float(x.strip().removesuffix("ppm"))
    except ValueError:
        raise ValueError(f"--host-drift: {x.strip()!r} is not a drift in ppm such as 40ppm or -5") from None
    if not math.isfinite(v):
        raise ValueError(f"--host-drift: {x.strip()!r} must be finite")
    return v


def register(app: typer.Typer) -> None:
    @app.command("synth")
    def synth_cmd(
        out: Path = typer.Option(..., "--out", "-o", help="Output directory (or NAME.tar.gz with --tar)."),
        seed: int = typer.Option(1, "--seed", help="Random seed: same options + seed give identical bytes."),
        nodes: int = typer.Option(10, "--nodes", help="Number of hollow nodes."),
        pods_per_node: int = typer.Option(
            30, "--pods-per-node", help="Saturation pods per node (capacity = nodes x this)."
        ),
        era: str = typer.Option("1.14", "--era", help="Kubernetes era of every format: 1.5, 1.14 or 1.28."),
        skew: str = typer.Option(
            "test=36012.5s,nodes=0.8s",
            "--skew",
            help="Clock offsets vs the master: test=<dur>,nodes=<dur> (s, ms, m, h). "
            "The default reproduces the classic ~10 h test-clock skew.",
        ),
        drift: Optional[str] = typer.Option(
            None, "--drift", help="Clock drift per domain, e.g. test=40ppm,nodes=-5ppm."
        ),
        timeout_failure: bool = typer.Option(
            False,
            "--timeout-failure",
            help="Make hollow nodes stall so saturation fails with 'timed out waiting for the condition'.",
        ),
        timeout_phase: str = typer.Option(
            "saturation",
            "--timeout-phase",
            help="With --timeout-failure: 'saturation' (the nodes stall during "
            "saturation) or 'latency' (a node hangs after saturation; its "
            "latency pod never runs and WaitForControlledPodsRunning times "
            "out after 10 minutes).",
        ),
        scale: float = typer.Option(1.0, "--scale", help="Multiply background API traffic (benchmarks)."),
        tar: bool = typer.Option(False, "--tar", help="Package the run as a .tar.gz like a CI artifact."),
        wrap: Optional[str] = typer.Option(None, "--wrap", help="Wrap kube-apiserver.log lines: cri or syslog."),
        hosts: Optional[int] = typer.Option(
            None,
            "--hosts",
            min=1,
            help="Spread the hollow nodes over this many host machines, one clock "
            "each (logs in <host>/kubelet-<node>.log, as the Kubemark log "
            "dump lays them out); overrides nodes= of --skew/--drift.",
        ),
        host_skew: Optional[str] = typer.Option(
            None,
            "--host-skew",
            help="Offsets of the hosts, comma-separated durations, cycled (e.g. 0.8s,-350ms,2h). With --hosts.",
        ),
        host_drift: Optional[str] = typer.Option(
            None, "--host-drift", help="Drift of the hosts in ppm, comma-separated, cycled. With --hosts."
        ),
        status_writes: bool = typer.Option(
            False,
            "--status-writes",
            help="The kubelet writes each pod's status when it changes: Pending after "
            "SyncLoop ADD, Running after the PLEG ContainerStarted record, "
            "terminated after the delete (status_manager.go).",
        ),
        cl2: bool = typer.Option(
            False,
            "--cl2",
            help="The test side is clusterloader2: clusterloader2.log (steps around its calls, "
            "automanaged namespace) and the clusterloader user agent, instead of e2e.log.",
        ),
        cl2_log: bool = typer.Option(
            False,
            "--cl2-log",
            help="Also write clusterloader2.log: its pod start-up "
            "measurement of the latency pods and one that saw no pod.",
        ),
        audit_responses: bool = typer.Option(
            False,
            "--audit-responses",
            help="Log the pod creates in audit.log at level RequestResponse (the GCE audit policy's "
            "default for core resources), with the created pod in responseObject (1.14/1.28).",
        ),
        kubelet_events: bool = typer.Option(
            False,
            "--kubelet-events/--no-kubelet-events",
            help="Whether the kubelets post their Pulled/Created/Started/Killing events. Kubemark's hollow "
            "kubelets post none (no event client up to 1.15, a fake recorder since), so by default the run "
            "has the evidence a real Kubemark run has; --kubelet-events gives a cluster whose kubelets post "
            "them, as real kubelets do.",
        ),
        quiet: bool = QUIET_OPTION,
    ):
        """Simulate one Kubemark density run and write its artifacts with ground truth.

        Writes kube-apiserver.log, e2e.log (clusterloader2.log with --cl2), audit.log (1.14/1.28),
        events.json, pods.json, kube-scheduler.log, hollow-node-*.log (<host>/kubelet-hollow-node-*.log
        with --hosts), junit_01.xml and truth.json (every clock domain's offset and drift, the hosts,
        every pod's real instants, the true running-pod timeline and every request's running-pod
        count, the latency matrix per verb/resource/subresource/scope and load bucket, true and
        as-printed pod-startup percentiles, injected failures, record counts). Every pod is deleted
        twice (graceful, then the kubelet's grace-0 delete); --timeout-failure tears the namespace down.
        Prints the truth.json path to stdout; a progress bar (on a terminal) and a summary on
        stderr, neither with -q.
        """
        from ..synth import generate
        from ..synth.run import _parse_kv

        if timeout_phase not in ("saturation", "latency"):
            typer.echo(f"kubelog: --timeout-phase must be saturation or latency, not {timeout_phase!r}", err=True)
            raise typer.Exit(2)
        if timeout_failure and timeout_phase == "latency":
            timeout_failure = "latency"
        try:
            hs = [_parse_kv(f"h={x}", True)["h"] for x in host_skew.split(",") if x.strip()] if host_skew else None
            hd = [_ppm(x) for x in host_drift.split(",") if x.strip()] if host_drift else None
            from ..synth.run import GENERATE_STAGES

            with StageProgress("synth", len(GENERATE_STAGES) - (0 if tar else 1)) as bar:
                truth = generate(
                    out,
                    seed=seed,
                    nodes=nodes,
                    pods_per_node=pods_per_node,
                    era=era,
                    skew=skew,
                    drift=drift,
                    timeout_failure=timeout_failure,
                    scale=scale,
                    tarball=tar,
                    wrap=wrap,
                    hosts=hosts,
                    host_skew=hs,
                    host_drift=hd,
                    status_writes=status_writes,
                    cl2=cl2,
                    cl2_log=cl2_log,
                    audit_responses=audit_responses,
                    kubelet_events=kubelet_events,
                    progress=bar.advance,
                )
        except ValueError as e:
            typer.echo(f"kubelog: {e}", err=True)
            raise typer.Exit(2) from None
        ap = truth["files"]["kube-apiserver.log"]
        fails = [f["message"] for f in truth["failures"] if "message" in f]
        note(
            f"synth: era {era}, {nodes} nodes x {pods_per_node} pods, {truth['requests']['total']:,} requests, "
            f"{ap['lines']:,} apiserver lines, {ap['trace_blocks']} traces; "
            f"failures: {'; '.join(fails) or 'none'}"
        )
        typer.echo(truth["path"])
