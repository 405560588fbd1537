"""Analysis on Dask distributed (issue 19): a real 2-worker LocalCluster (processes) gives the rows of the
pandas path exactly — whole-run latency and the by-load matrix, including the audit/access-log de-duplication
and the fields copied from audit rows."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

pytestmark = pytest.mark.slow

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client():
    from kubelog.analysis.distributed import client_for

    with client_for("local:2") as c:
        assert len(c.scheduler_info()["workers"]) == 2
        yield c


@pytest.mark.parametrize(
    "name, bys",
    [
        # access log + audit with audit IDs (1.22+): audit rows de-duplicated by ID, their user copied over
        ("healthy-1.28", (["verb", "resource", "subresource", "scope"], ["verb", "user"], [])),
        # access log without audit IDs (before 1.22) + audit: the audit rows are not used
        ("skew-timeout-1.14", (["verb", "resource", "subresource", "scope"],)),
    ],
)
def test_latency_and_matrix_on_dask_equal_pandas(sample_runs, client, name, bys):
    from kubelog.analysis import distributed as D
    from kubelog.analysis import latency, matrix

    run, _ = sample_runs[name]
    for by in bys:
        a, b = D.latency_table(run, client, by=by), latency.latency_table(run, by=by)
        assert a.equals(b), (name, by)
    ma, mb = D.build_matrix(run, client), matrix.build_matrix(run)
    assert len(ma.rows) > 20 and ma.rows.equals(mb.rows)
    assert ma.exclusions == mb.exclusions and ma.no_start == mb.no_start and ma.notes == mb.notes


def test_cli_latency_on_a_running_scheduler(sample_runs, client):
    """`--scheduler tcp://…`: the cluster of the fixture, reached by its address like a remote one."""
    from kubelog.cli import app

    run, _ = sample_runs["healthy-1.28"]
    for extra in ([], ["--by-load"]):
        plain = CliRunner().invoke(app, ["latency", str(run.path), "-F", "csv", *extra])
        dask = CliRunner().invoke(
            app, ["latency", str(run.path), "-F", "csv", "--scheduler", client.scheduler.address, *extra]
        )
        assert plain.exit_code == dask.exit_code == 0, dask.output
        assert dask.stdout == plain.stdout


def test_cli_scheduler_refuses_nonsense(sample_runs):
    from kubelog.cli import app

    run, _ = sample_runs["healthy-1.28"]
    r = CliRunner().invoke(app, ["latency", str(run.path), "--scheduler", "bogus"])
    assert r.exit_code == 2 and "--scheduler must be" in r.output
