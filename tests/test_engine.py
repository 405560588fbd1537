"""kubelog.engine: the executors of an ingest (in-process, local pool, Dask) give the same run."""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from kubelog.engine import Options, executors, ingest

SAMPLES = Path(__file__).resolve().parent.parent / "sample_logs"
TIMINGS = {"ingest_seconds", "parse_seconds"}


def _inputs(name: str) -> list[str]:
    d = SAMPLES / name
    return [str(p) for p in sorted(d.iterdir()) if p.name != "truth.json"]


def _manifest(run) -> dict:
    """The manifest without its timings."""
    m = {k: v for k, v in run.manifest.items() if k not in TIMINGS}
    m["inputs"] = [{k: v for k, v in e.items() if k not in TIMINGS} for e in m["inputs"]]
    return m


def _parts(root: Path) -> dict:
    return {str(p.relative_to(root)): pq.read_table(p) for p in sorted(root.glob("*/part-*.parquet"))}


def assert_same_run(a, b) -> None:
    assert _manifest(a) == _manifest(b)
    pa_, pb = _parts(Path(a.path)), _parts(Path(b.path))
    assert sorted(pa_) == sorted(pb)
    for name, t in pa_.items():
        assert t.equals(pb[name]), name


def test_executor_chosen_by_the_options():
    assert isinstance(executors.for_options(Options(), 5, "x"), executors.InProcess)
    assert isinstance(executors.for_options(Options(jobs=2), 1, "x"), executors.InProcess)
    assert isinstance(executors.for_options(Options(jobs=2), 2, "x"), executors.LocalPool)
    ex = executors.for_options(Options(jobs=2, scheduler="local:2"), 2, "x")
    assert isinstance(ex, executors.DaskExecutor)
    assert executors.task_options(Options(), ex).processes is False  # no processes inside Dask's daemons


def test_a_retried_task_first_removes_the_parts_of_its_inputs(tmp_path):
    for rel in [
        "requests/part-00001-0000.parquet",
        "requests/part-00001-L000000000001.parquet",
        "messages/part-00001-0000.parquet",
        "requests/part-00010-0000.parquet",
        "requests/part-00002-0000.parquet",
    ]:
        (tmp_path / rel).parent.mkdir(exist_ok=True)
        (tmp_path / rel).write_bytes(b"x")
    executors.remove_parts_of(tmp_path, {1, 10})
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*.parquet")) == [
        "requests/part-00002-0000.parquet"
    ]


def test_local_pool_gives_the_in_process_run(tmp_path):
    inputs = _inputs("healthy-1.28")
    a = ingest(inputs, tmp_path / "a", options=Options())
    b = ingest(inputs, tmp_path / "b", options=Options(jobs=2))
    assert_same_run(a, b)


@pytest.mark.slow
def test_dask_local_cluster_gives_the_local_run(tmp_path):
    """A 2-worker LocalCluster (processes) ingests a multi-file sample run into the same tables,
    accounting and manifest (timings aside) as the local run."""
    inputs = _inputs("skew-timeout-1.14")
    assert len(inputs) > 3
    a = ingest(inputs, tmp_path / "a", options=Options())
    b = ingest(inputs, tmp_path / "b", options=Options(scheduler="local:2"))
    assert_same_run(a, b)


def _die_once(marker: str) -> str:
    """A task whose first attempt kills its worker process."""
    if not os.path.exists(marker):
        open(marker, "w").close()
        os._exit(1)
    return "done"


def _die_always(_: str) -> str:
    os._exit(1)


@pytest.mark.slow
def test_dask_task_retried_after_its_worker_died_or_the_run_fails(tmp_path):
    """A Dask worker lost mid-task: Dask runs the task again on another worker; a task that kills
    every worker it runs on fails the run (WorkerFailed, exit 7), it is not skipped."""
    import dask

    from kubelog.errors import WorkerFailed

    with dask.config.set({"distributed.scheduler.allowed-failures": 1}):
        with executors.DaskExecutor("local:2").session() as ex:
            assert list(ex.map(_die_once, [str(tmp_path / "marker")], ["a.log"])) == ["done"]
            with pytest.raises(WorkerFailed, match="a.log: the Dask workers running it died"):
                list(ex.map(_die_always, ["x"], ["a.log"]))
            # a byte range's task too (the Dask block runner, as the engine runs a large log's ranges)
            with executors.block_runner("b.log", 0, ex.block_pool()) as runner:
                with pytest.raises(WorkerFailed, match="b.log: the Dask workers"):
                    runner.result(runner.submit(_die_always, "x"), "parsing lines 1-10")


@pytest.mark.parametrize("bad", ["bogus", "local:0", "local:x"])
def test_ingest_scheduler_refused_before_anything_is_written(tmp_path, bad):
    from typer.testing import CliRunner

    from kubelog.cli import app

    r = CliRunner().invoke(
        app, ["ingest", str(SAMPLES / "healthy-1.28"), "--out", str(tmp_path / "r"), "--scheduler", bad]
    )
    assert r.exit_code == 2 and "--scheduler must be" in r.output
    assert not (tmp_path / "r").exists()


@pytest.mark.slow
def test_dask_byte_ranges_of_a_large_log_give_the_local_run(tmp_path, monkeypatch, ranged_apiserver_log):
    """A large plain apiserver log on a 2-worker LocalCluster: the client plans its byte ranges
    (reads, counts, hashes) and each range is a Dask task writing its own parts; the parts,
    accounting and manifest are those of the local run (its ranges on local worker processes)."""
    log = ranged_apiserver_log
    a = ingest([log], tmp_path / "a", options=Options())
    submitted = []
    submit = executors.DaskBlockPool.submit
    monkeypatch.setattr(
        executors.DaskBlockPool,
        "submit",
        lambda self, fn, *args: submitted.append(fn.__name__) or submit(self, fn, *args),
    )
    b = ingest([log], tmp_path / "b", options=Options(scheduler="local:2"))
    ranges = sorted((tmp_path / "b" / "requests").glob("part-*-L*.parquet"))
    assert len(ranges) >= 3 and submitted == ["range_task"] * len(ranges), (ranges, submitted)
    assert_same_run(a, b)


def _counting_pools(monkeypatch) -> tuple[list, list]:
    """Record the local process pools made (their ``what``) and the names of the functions submitted."""
    import contextlib

    from kubelog.engine import pool as local

    made, submitted = [], []
    real = local.pool

    @contextlib.contextmanager
    def counting(n, what):
        with real(n, what) as ex:
            made.append(what)
            submit = ex.submit
            ex.submit = lambda fn, *a, **k: submitted.append(fn.__name__) or submit(fn, *a, **k)
            yield ex

    monkeypatch.setattr(local, "pool", counting)
    return made, submitted


def test_one_pool_for_the_ingest_with_the_small_inputs_beside(tmp_path, monkeypatch):
    """An ingest in this process with large inputs (their byte ranges on worker processes) makes one pool
    of worker processes for all its inputs, and parses the small ones (object dumps, test logs, small
    component logs) as tasks on it, beside the large ones' ranges instead of after them with the workers
    idle; the run is the one of an input after the other, each large one with its own pool."""
    from kubelog import native
    from kubelog.engine import blocks, core

    if native.module() is None:
        pytest.skip("the Arrow path (no C scanner) parses klog in the main process")
    monkeypatch.setattr(blocks, "PROCESS_MIN_BYTES", 300_000)  # audit.log and kube-apiserver.log
    inputs = _inputs("healthy-1.28")
    big = {"audit.log", "kube-apiserver.log"}
    # pods.json is as large, but an object dump is parsed whole: it runs beside as well
    assert {Path(p).name for p in inputs if os.path.getsize(p) >= 300_000} == big | {"pods.json"}
    made, submitted = _counting_pools(monkeypatch)
    b = ingest(inputs, tmp_path / "b", options=Options())
    assert made == [str(tmp_path / "b")]  # one pool, made by the ingest
    assert submitted.count("_parse_ref_job") == len(inputs) - 2  # every small input beside
    assert submitted.count("range_task") >= 2  # the large ones' ranges on the same pool
    made.clear()
    submitted.clear()
    monkeypatch.setattr(core, "local_plan", lambda jobs: None)  # one input after the other, as before
    a = ingest(inputs, tmp_path / "a", options=Options())
    assert sorted(made) == sorted(str(Path(SAMPLES / "healthy-1.28" / n)) for n in big)  # a pool per large input
    assert "_parse_ref_job" not in submitted
    assert_same_run(a, b)


def test_local_plan_of_an_ingest(tmp_path, monkeypatch):
    """Which inputs of an ingest in this process run beside the large ones (on the ingest's pool), and
    when there is no pool at all (no large input, --threads 1, no processes, --jobs, --scheduler)."""
    from kubelog.engine import blocks, core
    from kubelog.sources import InputRef

    monkeypatch.setattr(blocks, "PROCESS_MIN_BYTES", 1000)

    def job(name, size, fmt="klog", opts=Options()):
        ref = InputRef(str(tmp_path / name), name)
        return (ref, [core.Scan(0, ref, 0, name, fmt, [], None, size_hint=size)], opts, str(tmp_path))

    assert core.local_plan([job("a", 5000), job("b", 10), job("c", 999)]) == [False, True, True]
    assert core.local_plan([job("a", 5000), job("b", 5000)]) == [False, False]
    # an object dump or a test log is parsed whole however large: beside, and never a reason for a pool
    assert core.local_plan([job("a", 5000), job("e", 5000, "objects"), job("t", 5000, "e2e-log")]) == [
        False,
        True,
        True,
    ]
    assert core.local_plan([job("e", 5000, "objects")]) is None
    assert core.local_plan([job("a", 10), job("b", 999)]) is None  # nothing large: no pool, all here
    assert core.local_plan([job("a", 5000, "error"), job("b", 10)]) is None
    for o in (Options(threads=1), Options(processes=False), Options(jobs=2), Options(scheduler="local:2")):
        assert core.local_plan([job("a", 5000, opts=o), job("b", 10, opts=o)]) is None
    assert core.local_plan([]) is None
