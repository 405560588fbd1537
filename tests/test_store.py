"""kubelog ingest --each-run DIR_OF_RUNS --out STORE (issue 19 item 4): one run directory per run,
in parallel on the executor, an index of the store's runs, read by kubelog history."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest
from typer.testing import CliRunner

from kubelog import __version__
from kubelog.analysis import history as H
from kubelog.cli import app
from kubelog.engine import store as S
from kubelog.run import open_run
from kubelog.tables import TABLES

SMALL = dict(nodes=2, pods_per_node=5, era="1.28")


@pytest.fixture(scope="module")
def runs_dir(tmp_path_factory):
    """Three small generated runs of one job: two directories and one .tar.gz (kubelog synth)."""
    from kubelog.synth import generate

    d = tmp_path_factory.mktemp("job") / "runs"
    generate(d / "101", seed=1, **SMALL)
    generate(d / "102", seed=2, **SMALL)
    generate(d / "tmp103", seed=3, **SMALL)
    shutil.make_archive(str(d / "103"), "gztar", d / "tmp103")
    shutil.rmtree(d / "tmp103")
    return d


def _tables(run_dir) -> dict:
    run = open_run(run_dir)
    return {t: run.table(t) for t in TABLES if run.has(t)}


def test_each_run_makes_a_store_with_its_index_and_history_reads_it(runs_dir, tmp_path):
    store = tmp_path / "store"
    res = CliRunner().invoke(app, ["ingest", "--each-run", str(runs_dir), "--out", str(store), "-j", "2"])
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in store.iterdir()) == ["101", "102", "103", "index.parquet"]
    idx = S.read_index(store)
    assert list(idx.columns) == S.INDEX_COLUMNS
    assert list(idx["run"]) == ["101", "102", "103"]  # build numbers in numeric order
    assert idx["source"].iloc[2].endswith("103.tar.gz")
    assert (idx["kubelog_version"] == __version__).all() and (idx["nodes"] == 2).all()
    assert (idx["accounting"] == "ok").all() and idx["started"].notna().all()
    assert set(idx["test_result"]) <= {"passed", "failed"}
    for r in idx.itertuples():  # the same numbers as the run's own manifest
        run = open_run(store / r.run)
        assert r.lines_read == sum(e["lines_read"] for e in run.inputs) and r.inputs == len(run.inputs)
    # the runs are the same as `kubelog ingest` of each alone
    from kubelog.engine import ingest

    alone = ingest([runs_dir / "102"], tmp_path / "alone")
    a, b = _tables(alone.path), _tables(store / "102")
    assert a.keys() == b.keys()
    for t in a:
        pd.testing.assert_frame_equal(a[t], b[t], obj=t)
    # kubelog history STORE: the runs of the index (a directory the index does not list is not one)
    shutil.copytree(store / "101", store / "stray")
    assert H.find_runs([store]) == [store / "101", store / "102", store / "103"]
    shutil.rmtree(store / "102")
    with pytest.raises(H.HistoryError, match="102: listed in .*index.parquet but not a run directory"):
        H.find_runs([store])


def test_a_run_that_fails_is_named_and_the_others_land(runs_dir, tmp_path):
    """An entry that is not readable as a run (an empty directory: nothing to read) and a file that
    is no run: each one line on stderr, the other runs and the index written, exit 8 (docs/failures.md)."""
    src = tmp_path / "runs"
    shutil.copytree(runs_dir, src)
    (src / "100").mkdir()  # a build whose artifacts were never uploaded
    (src / "latest-build.txt").write_text("103\n")
    store = tmp_path / "store"
    res = CliRunner().invoke(app, ["ingest", "--each-run", str(src), "--out", str(store), "-q"])
    assert res.exit_code == 8, res.output
    err = res.stderr.splitlines()
    assert f"{src / 'latest-build.txt'}: not a run (neither a directory nor an archive): not ingested" in err
    assert any(line.startswith("100: no input files found in") and "(exit 3)" in line for line in err), err
    assert list(S.read_index(store)["run"]) == ["101", "102", "103"]
    # again, with a new build: the runs already in the store are kept (not read again), the new
    # one is ingested; a run written by plain `kubelog ingest --out STORE/<run>` joins the index
    before = S.read_index(store).set_index("run")
    shutil.copytree(runs_dir / "102", src / "104")
    shutil.rmtree(src / "100")
    (src / "latest-build.txt").unlink()
    from kubelog.engine import ingest

    ingest([runs_dir / "101"], store / "099")
    shutil.copytree(runs_dir / "101", src / "099")
    res = CliRunner().invoke(app, ["ingest", "--each-run", str(src), "--out", str(store)])
    assert res.exit_code == 0, res.output
    assert res.stderr.count("already in the store, kept (--force to ingest it again)") == 4  # 099, 101-103
    after = S.read_index(store).set_index("run")
    assert list(after.index) == ["099", "101", "102", "103", "104"]
    pd.testing.assert_frame_equal(after.loc[before.index], before)  # rows of the kept runs unchanged
    # --force ingests them all again
    res = CliRunner().invoke(app, ["ingest", "--each-run", str(src), "--out", str(store), "--force"])
    assert res.exit_code == 0 and "already in the store" not in res.stderr, res.output
    assert (S.read_index(store)["ingested_at"] > after["ingested_at"].max()).all()


def test_a_run_with_an_input_not_read_to_its_end_lands_and_the_exit_is_8(runs_dir, tmp_path):
    import gzip

    src = tmp_path / "runs"
    shutil.copytree(runs_dir / "101", src / "101")
    data = gzip.compress((runs_dir / "101" / "kube-apiserver.log").read_bytes())
    (src / "101" / "kube-apiserver.log").unlink()
    (src / "101" / "kube-apiserver.log.gz").write_bytes(data[: len(data) // 2])  # truncated upload
    store = tmp_path / "store"
    res = CliRunner().invoke(app, ["ingest", "--each-run", str(src), "--out", str(store), "-q"])
    assert res.exit_code == 8, res.output
    lines = [x for x in res.stderr.splitlines() if x.startswith("101: ")]
    assert len(lines) == 1 and "kube-apiserver.log.gz" in lines[0], res.stderr
    idx = S.read_index(store)
    assert list(idx["run"]) == ["101"] and idx["accounting"].iloc[0] == "1 input(s) not read"


def test_each_run_usage_errors(runs_dir, tmp_path):
    r = CliRunner().invoke(app, ["ingest", str(runs_dir), "--each-run", str(runs_dir), "--out", str(tmp_path / "s")])
    assert r.exit_code == 2 and "either PATHS or --each-run" in r.stderr
    r = CliRunner().invoke(app, ["ingest", "--out", str(tmp_path / "s")])
    assert r.exit_code == 2
    r = CliRunner().invoke(app, ["ingest", "--each-run", str(runs_dir), "--out", str(runs_dir / "store")])
    assert r.exit_code == 2 and "overlap" in r.stderr and not (runs_dir / "store").exists()
    (tmp_path / "none").mkdir()
    r = CliRunner().invoke(app, ["ingest", "--each-run", str(tmp_path / "none"), "--out", str(tmp_path / "s")])
    assert r.exit_code == 3 and "no subdirectory or archive" in r.stderr
    # an option no input could be read with: one line, exit 2, no store made (it was a KeyError of the
    # empty index, exit 2 by accident, with the store directory left behind)
    for opt in (["--tz", "Mars/Olympus"], ["--input-format", "bogus"], ["--year", "-5"]):
        r = CliRunner().invoke(app, ["ingest", "--each-run", str(runs_dir), "--out", str(tmp_path / "s2"), *opt])
        assert r.exit_code == 2 and r.stderr.count("\n") == 1 and opt[0] in r.stderr, r.stderr
        assert not (tmp_path / "s2").exists()


def test_an_index_of_no_runs_is_an_empty_table(tmp_path):
    """Every run failed: the store's index is written, empty, with its columns."""
    path = S.write_index(tmp_path, [])
    df = pd.read_parquet(path)
    assert len(df) == 0 and list(df.columns) == S.INDEX_COLUMNS


@pytest.mark.slow
def test_each_run_on_a_dask_local_cluster_equals_local(runs_dir, tmp_path):
    """The runs as tasks on a 2-worker Dask LocalCluster (processes): the same runs and index."""
    local = S.ingest_each_run(runs_dir, tmp_path / "local")
    from kubelog.engine import Options

    dask = S.ingest_each_run(runs_dir, tmp_path / "dask", options=Options(scheduler="local:2"))
    assert local.exit_code == dask.exit_code == 0
    a, b = (S.read_index(s).drop(columns="ingested_at") for s in (local.store, dask.store))
    pd.testing.assert_frame_equal(a, b)
    for rid in a["run"]:
        ta, tb = _tables(local.store / rid), _tables(dask.store / rid)
        assert ta.keys() == tb.keys()
        for t in ta:
            pd.testing.assert_frame_equal(ta[t], tb[t], obj=f"{rid}/{t}")
