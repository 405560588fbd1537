"""kubelog synth."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer


def register(app: typer.Typer) -> None:
    @app.command("synth")
    def synth_cmd(
        out: Path = typer.Option(..., "--out", "-o", help="Output directory (or NAME.tar.gz with --tar)."),
        seed: int = typer.Option(1, "--seed", help="Random seed: same options + seed give identical bytes."),
        nodes: int = typer.Option(10, "--nodes", help="Number of hollow nodes."),
        pods_per_node: int = typer.Option(30, "--pods-per-node", help="Saturation pods per node (capacity = nodes x this)."),
        era: str = typer.Option("1.14", "--era", help="Kubernetes era of every format: 1.5, 1.14 or 1.28."),
        skew: str = typer.Option("test=36012.5s,nodes=0.8s", "--skew",
                                 help="Clock offsets vs the master: test=<dur>,nodes=<dur> (s, ms, m, h). "
                                      "The default reproduces the classic ~10 h test-clock skew."),
        drift: Optional[str] = typer.Option(None, "--drift", help="Clock drift per domain, e.g. test=40ppm,nodes=-5ppm."),
        timeout_failure: bool = typer.Option(False, "--timeout-failure",
                                             help="Make hollow nodes stall so saturation fails with "
                                                  "'timed out waiting for the condition'."),
        scale: float = typer.Option(1.0, "--scale", help="Multiply background API traffic (benchmarks)."),
        tar: bool = typer.Option(False, "--tar", help="Package the run as a .tar.gz like a CI artifact."),
        wrap: Optional[str] = typer.Option(None, "--wrap", help="Wrap kube-apiserver.log lines: cri or syslog."),
        cl2_log: bool = typer.Option(False, "--cl2-log", help="Also write clusterloader2.log: its pod start-up "
                                                             "measurement of the latency pods and one that saw no pod."),
    ):
        """Simulate one Kubemark density run and write its artifacts with ground truth.

        Writes kube-apiserver.log, e2e.log, audit.log (1.14/1.28), events.json, pods.json,
        kube-scheduler.log, hollow-node-*.log, junit_01.xml and truth.json (clock offsets, every
        pod's real instants, the true running-pod timeline and every request's running-pod count,
        the latency matrix per verb/resource/subresource/scope and load bucket, true and as-printed
        pod-startup percentiles, injected failures, record counts). Every pod is deleted twice
        (graceful, then the kubelet's grace-0 delete); --timeout-failure tears the namespace down.
        Prints a summary to stderr and the truth.json path to stdout.
        """
        from ..synth import generate
        try:
            truth = generate(out, seed=seed, nodes=nodes, pods_per_node=pods_per_node, era=era, skew=skew,
                             drift=drift, timeout_failure=timeout_failure, scale=scale, tarball=tar, wrap=wrap,
                             cl2_log=cl2_log)
        except ValueError as e:
            typer.echo(f"kubelog: {e}", err=True)
            raise typer.Exit(2)
        ap = truth["files"]["kube-apiserver.log"]
        fails = [f["message"] for f in truth["failures"] if "message" in f]
        typer.echo(f"synth: era {era}, {nodes} nodes x {pods_per_node} pods, {truth['requests']['total']:,} requests, "
                   f"{ap['lines']:,} apiserver lines, {ap['trace_blocks']} traces; "
                   f"failures: {'; '.join(fails) or 'none'}", err=True)
        typer.echo(truth["path"])
