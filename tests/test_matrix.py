"""Latency × load-bucket matrix (issue #6): every cell known by hand, the pivot, the commands,
and (when the generator exists) every cell against the synthetic run's truth.json.

The run is tests/test_load.py's scenario: capacity 10 (2 nodes × 5 pods), so L = pods × 10 %.
Create k (k = 1..11) starts at 10k − 0.01k s, when k − 1 pods exist: L = 10(k − 1) %.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from kubelog.analysis.load import load_timeline
from kubelog.analysis.matrix import build_matrix, latency_matrix, pivot
from kubelog.cli import app

from test_load import make_run, scenario_tables

P = ["p10_s", "p50_s", "p90_s", "p99_s"]


@pytest.fixture
def scenario(tmp_path):
    return make_run(tmp_path / "run", **scenario_tables())


def cell(m, verb, resource, sub, bucket):
    r = m[(m.verb == verb) & (m.resource == resource) & (m.subresource == sub) & (m.bucket == bucket)]
    assert len(r) == 1, (verb, resource, sub, bucket)
    return r.iloc[0]


def test_every_cell_by_hand(scenario):
    m = latency_matrix(scenario, pods_per_node=5)
    assert list(m.columns) == ["verb", "resource", "subresource", "scope", "bucket", "count"] + P
    c = 0.01 * np.arange(1, 12)  # create latencies, k = 1..11
    expect = {
        # create pods: k=1,2 (L 0, 10) → "10"; k=3 (20) → "25"; k=4..6 → "50"; k=7..10 → "90";
        # k=11 (100 %) → "100"; the 409 create (starts 114.8 s, 11 pods) → ">100".
        # nearest rank: n=2 → p10 rank 1, p50 rank 1, p90 rank 2; n=3 → 1, 2, 3; n=4 → 1, 2, 4
        ("create", "pods", "", "10"): (2, [c[0], c[0], c[1], c[1]]),
        ("create", "pods", "", "25"): (1, [c[2]] * 4),
        ("create", "pods", "", "50"): (3, [c[3], c[4], c[5], c[5]]),
        ("create", "pods", "", "90"): (4, [c[6], c[7], c[9], c[9]]),
        ("create", "pods", "", "100"): (1, [c[10]] * 4),
        ("create", "pods", "", ">100"): (1, [0.2] * 4),
        # nodes requests before any pod: "10"; the 404 GET counts for latency
        ("get", "nodes", "", "10"): (2, [0.001, 0.001, 0.002, 0.002]),
        ("patch", "nodes", "status", "10"): (1, [0.01] * 4),
        # binding starts 111.997 s and the delete 124.95 s, both with 11 pods; the 404 delete
        # starts 125.96 s with 10 pods
        ("create", "pods", "binding", ">100"): (1, [0.003] * 4),
        ("delete", "pods", "", ">100"): (1, [0.05] * 4),
        ("delete", "pods", "", "100"): (1, [0.04] * 4),
    }
    assert len(m) == len(expect)  # empty cells omitted; watch, audit copy and no-start GET absent
    for (v, r, s, b), (n, ps) in expect.items():
        row = cell(m, v, r, s, b)
        assert row["count"] == n
        assert [row[p] for p in P] == ps, (v, r, s, b)
    assert m.dtypes["count"] == np.int64


def test_order_headline_first_then_size(scenario):
    m = latency_matrix(scenario, pods_per_node=5)
    groups = list(dict.fromkeys(zip(m.verb, m.resource, m.subresource)))
    # headline (any subresource), PUT/POST/LIST/GET/PATCH/DELETE per resource: get nodes, patch
    # nodes/status (status updates are PATCH since 1.14), then pods: create pods (12 requests),
    # create pods/binding (1), delete pods (2)
    assert groups == [
        ("get", "nodes", ""),
        ("patch", "nodes", "status"),
        ("create", "pods", ""),
        ("create", "pods", "binding"),
        ("delete", "pods", ""),
    ]
    cp = m[(m.verb == "create") & (m.resource == "pods") & (m.subresource == "")]
    assert cp.bucket.tolist() == ["10", "25", "50", "90", "100", ">100"]
    dp = m[(m.verb == "delete")]
    assert dp.bucket.tolist() == ["100", ">100"]


def test_context_exclusions_and_custom_buckets(scenario):
    mx = build_matrix(scenario, pods_per_node=5, buckets=(50, 100), percentiles=(0.5,))
    assert mx.exclusions.long_running == 1 and mx.exclusions.duplicates == 1
    assert mx.no_start == 1 and any("start time" in n for n in mx.notes)
    m = mx.rows
    assert list(m.columns) == ["verb", "resource", "subresource", "scope", "bucket", "count", "p50_s"]
    cp = m[(m.verb == "create") & (m.subresource == "")]
    # k=1..6 (L ≤ 50) → "50"; k=7..11 (60..100) → "100"; the 409 → ">100"
    assert cp.bucket.tolist() == ["50", "100", ">100"]
    assert cp["count"].tolist() == [6, 5, 1]
    assert cp["p50_s"].tolist() == [0.01 * 3, 0.01 * 9, 0.2]


def test_group_by_other_columns_and_no_capacity(scenario, tmp_path):
    m = latency_matrix(scenario, by=["verb"], pods_per_node=5)
    assert list(m.columns[:3]) == ["verb", "bucket", "count"]
    assert m[m.verb == "create"]["count"].sum() == 13  # 11 + 409 + binding
    from test_load import req

    bare = make_run(tmp_path / "bare", requests=[req(10, 0.01, "create", "pods", 201)])
    with pytest.raises(ValueError, match="--nodes"):
        latency_matrix(bare)
    assert latency_matrix(bare, nodes=1)["bucket"].tolist() == ["10"]


def test_headline_and_display_name():
    from kubelog.analysis.matrix import display_name, headline

    k = {"verb": "patch", "resource": "nodes", "subresource": "status", "scope": "resource"}
    assert headline(k) and display_name(k) == "PATCH nodes/status (resource)"
    assert headline({"verb": "delete", "resource": "replicasets"}) and headline(
        {"verb": "update", "resource": "deployments"}
    )
    assert not headline({"verb": "create", "resource": "events"}) and not headline(
        {"verb": "watch", "resource": "pods"}
    )
    assert (
        display_name({"verb": "list", "resource": "pods", "subresource": "", "scope": "cluster"})
        == "LIST pods (cluster)"
    )


def test_pivot_layout(scenario):
    m = latency_matrix(scenario, pods_per_node=5)
    g = m[(m.verb == "create") & (m.resource == "pods") & (m.subresource == "")]
    t = pivot(g)
    assert list(t.columns) == ["percentile", "10%-full", "25%-full", "50%-full", "90%-full", "100%-full", ">100%"]
    assert t["percentile"].tolist() == ["10th percentile", "50th percentile", "90th percentile", "99th percentile"]
    assert t["10%-full"].tolist() == ["0.01 (n=2)", "0.01 (n=2)", "0.02 (n=2)", "0.02 (n=2)"]
    assert t[">100%"].tolist() == ["0.2 (n=1)"] * 4
    # a group without requests above 100 % has no ">100%" column; empty cells stay empty
    t2 = pivot(m[(m.verb == "get") & (m.resource == "nodes")])
    assert list(t2.columns) == ["percentile", "10%-full", "25%-full", "50%-full", "90%-full", "100%-full"]
    assert t2["25%-full"].tolist() == [""] * 4


def test_cli_load_and_latency_by_load(scenario):
    r = CliRunner().invoke(app, ["load", str(scenario.path), "--pods-per-node", "5", "--format", "json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    assert d["capacity"] == 10 and d["nodes"] == 2
    assert [b["seconds"] for b in d["buckets"]] == pytest.approx([20, 10, 30, 40, 15, 15])
    r = CliRunner().invoke(app, ["load", str(scenario.path), "--pods-per-node", "5", "--steps"])
    assert r.exit_code == 0 and "capacity" in r.output and "running" in r.output
    r = CliRunner().invoke(
        app, ["latency", str(scenario.path), "--by-load", "--pods-per-node", "5", "--format", "json"]
    )
    assert r.exit_code == 0, r.output
    rows = json.loads(r.output)
    assert rows[0] == {
        "verb": "get",
        "resource": "nodes",
        "subresource": "",
        "scope": "resource",
        "bucket": "10",
        "count": 2,
        "p10_s": 0.001,
        "p50_s": 0.001,
        "p90_s": 0.002,
        "p99_s": 0.002,
    }
    r = CliRunner().invoke(
        app,
        [
            "latency",
            str(scenario.path),
            "--by-load",
            "--pods-per-node",
            "5",
            "--buckets",
            "50,100",
            "--format",
            "markdown",
        ],
    )
    assert r.exit_code == 0, r.output
    assert "| percentile | 50%-full | 100%-full | >100% |" in r.output
    r = CliRunner().invoke(app, ["latency", str(scenario.path), "--by-load", "--buckets", "50,10"])
    assert r.exit_code == 2
    r = CliRunner().invoke(app, ["latency", str(scenario.path)])  # unchanged without --by-load
    assert r.exit_code == 0 and "bucket" not in r.output


@pytest.fixture(scope="module", params=["1.5", "1.14", "1.28"])
def synthetic(request, tmp_path_factory):
    """A small generated Kubemark density run (5 nodes × 30 pods, scale 0.2), ingested, with its truth."""
    from kubelog.engine import ingest
    from kubelog.synth import generate

    d = tmp_path_factory.mktemp(f"synth-{request.param}")
    truth = generate(d / "gen", era=request.param, nodes=5, scale=0.2, seed=3)
    run = ingest([str(d / "gen")], d / "run")
    return run, truth


def test_matrix_matches_synthetic_truth(synthetic):
    """The timeline against truth.json's true running pods (container start → stop; the kubelet's
    evidence trails each start by up to one 1 s PLEG relist, tests/test_load_truth.py has the by-load
    tolerances): the truth inside kubelog's bounds at every request, every request of the truth in the
    matrix, and the whole-run cells exact."""
    run, truth = synthetic
    tl = load_timeline(run)  # capacity found from the run itself, not given
    assert tl.capacity == truth["capacity"] and tl.nodes == len(truth["nodes"])
    rl = np.array(truth["request_loads"]["rows"], dtype=np.int64)
    t = rl[:, 0] - rl[:, 1]
    signed = tl.running_at(t) - rl[:, 2]
    diff = np.abs(signed)
    lo, hi = tl.running_bounds(t)
    assert ((lo <= rl[:, 2]) & (rl[:, 2] <= hi)).all()
    # the estimate is unbiased (the old one, the Running write's receipt, ran ~0.5 s late: −2 pods here)
    assert abs(signed.mean()) <= 0.6 and np.quantile(diff, 0.9) <= 3 and diff.max() <= 8, (
        signed.mean(),
        np.quantile(diff, [0.5, 0.9, 0.99, 1]),
    )
    assert tl.steps["running"].max() == max(r for _, r in truth["running_pods_timeline"])

    m = latency_matrix(run)
    key = ["verb", "resource", "subresource", "scope"]
    got = m.groupby(key)["count"].sum().to_dict()
    want = {tuple(r[k] for k in key): r["count"] for r in truth["latency_matrix"] if r["bucket"] == "all"}
    assert got == want

    # the "all" rows: the same groups without buckets
    from kubelog.analysis.latency import latency_table

    lt = latency_table(run, percentiles=(0.1, 0.5, 0.9, 0.99))
    g4 = key[:4]
    got_all = {tuple(r[k] for k in g4): [r[c] for c in ["count"] + P] for r in lt.to_dict(orient="records")}
    want_all = {
        tuple(r[k] for k in g4): [r[c] for c in ["count"] + P] for r in truth["latency_matrix"] if r["bucket"] == "all"
    }
    assert got_all == want_all


def test_cli_on_synthetic_run(synthetic):
    run, truth = synthetic
    r = CliRunner().invoke(app, ["latency", str(run.path), "--by-load", "-F", "json"])
    assert r.exit_code == 0, r.output
    rows = json.loads(r.output)
    # every request of the truth in some cell (a cell of a few requests at a bucket edge may move)
    key = ("verb", "resource", "subresource", "scope")
    got = pd.DataFrame(rows).groupby(list(key))["count"].sum().to_dict()
    assert got == {tuple(x[k] for k in key): x["count"] for x in truth["latency_matrix"] if x["bucket"] == "all"}
    first = [(x["verb"], x["resource"]) for x in rows[:3]]
    from kubelog.analysis.matrix import HEADLINE_RESOURCES, HEADLINE_VERBS

    assert all(v in HEADLINE_VERBS and res in HEADLINE_RESOURCES for v, res in first)
    r = CliRunner().invoke(app, ["load", str(run.path), "-F", "json"])
    d = json.loads(r.output)
    assert d["capacity"] == truth["capacity"]
    assert sum(b["seconds"] for b in d["buckets"]) > 0
