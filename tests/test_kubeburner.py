"""Golden tests of kube-burner results (MANIFEST.md "kube-burner", docs/formats/kube-burner-json.md)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest


def _acct(inp):
    assert inp["lines_read"] == inp["record_lines"] + inp["continuation_lines"] + sum(inp["counted"].values())
    assert "unaccounted (parser bug)" not in inp["counted"]
    assert not inp["errors"], inp["errors"]


def test_node_density(real_logs, ingest_to):
    run = ingest_to(
        real_logs / "kubeburner_node-density_jobSummary_ocp4.17.json",
        real_logs / "kubeburner_node-density_podLatencyMeasurement_ocp4.17.json",
    )
    for inp in run.inputs:
        assert inp["format"] == "kube-burner-json"
        _acct(inp)
    js = run.inputs[0]["info"]["job_summary"][0]
    assert (js["jobName"], js["jobIterations"], js["k8sVersion"], js["elapsedTime"], js["passed"]) == (
        "node-density",
        679,
        "v1.30.5",
        159,
        True,
    )
    assert js["platform"] == "AWS" and js["masterNodesType"] == "m6a.xlarge" and js["workerNodesCount"] == 3
    assert js["uuid"].startswith("2178a534-")
    perf = run.table("perf_summaries")
    assert perf.loc[perf["metric"] == "job_elapsed", "value"].iloc[0] == 159
    pods = run.table("test_pod_latencies")
    sched = pods[pods["metric"] == "scheduling"]
    assert len(sched) == 679 and sorted(sched["node"].value_counts().tolist()) == [226, 226, 227]
    assert sched["latency_s"].max() == 1.0
    assert pods.loc[pods["metric"] == "initialized", "latency_s"].max() == 3.0
    ready = np.sort(pods.loc[pods["metric"] == "podReady", "latency_s"].to_numpy())
    cr = np.sort(pods.loc[pods["metric"] == "containersReady", "latency_s"].to_numpy())
    assert (ready == cr).all()
    n = len(ready)
    assert ready[math.ceil(n * 0.5) - 1] == 2.0 and ready[math.ceil(n * 0.99) - 1] == 6.0 and ready.max() == 6.0
    assert ready.mean() * 1000 == pytest.approx(2733.4, abs=0.05)


def test_quantiles_doc(ingest_to, tmp_path):
    p = tmp_path / "podLatencyQuantilesMeasurement-kubelet-density.json"
    p.write_text(
        json.dumps(
            [
                {
                    "quantileName": "Ready",
                    "uuid": "u",
                    "P99": 1556,
                    "P95": 1500,
                    "P50": 1472,
                    "min": 1000,
                    "max": 1556,
                    "avg": 2876.3,
                    "timestamp": "2022-11-15T12:05:49Z",
                    "metricName": "podLatencyQuantilesMeasurement",
                    "jobName": "kubelet-density",
                }
            ],
            indent=2,
        )
    )
    run = ingest_to(p)
    inp = run.inputs[0]
    assert inp["format"] == "kube-burner-json"
    _acct(inp)
    r = run.table("perf_summaries").iloc[0]
    assert (r["metric"], r["phase"], r["p50_s"], r["p99_s"], r["p100_s"], r["value"]) == (
        "Ready",
        "kubelet-density",
        1.472,
        1.556,
        1.556,
        pytest.approx(2.8763),
    )
