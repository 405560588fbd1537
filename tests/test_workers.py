"""The worker processes' fork server: what it preloads, so that the main module each worker re-runs costs nothing."""

from __future__ import annotations

import subprocess
import sys

import pytest

from kubelog import native


@pytest.mark.slow
@pytest.mark.skipif(native.module() is None, reason="the Arrow path (no C scanner) parses in the main process")
def test_klog_blocks_parse_in_workers_that_do_not_rerun_the_main_module(tmp_path):
    """Worker processes from the fork server parse klog blocks with pyarrow's Parquet writer
    preloaded.  multiprocessing runs the main module's top level again in every worker (the
    `kubelog` script: ``from kubelog.cli import main``): there it finds kubelog.cli imported already."""
    code = r"""
import os, sys
# one write(2) per process: the two workers' lines must not interleave (print writes in pieces)
os.write(2, f"main module ran, kubelog.cli loaded: {'kubelog.cli' in sys.modules}\n".encode())
import concurrent.futures as cf
from kubelog.engine import blocks, pool as workers
from kubelog.formats import klog
from kubelog.formats.base import BlockSpec
from kubelog.synth.bench import write_apiserver_log
if __name__ == "__main__":
    p = sys.argv[1]
    write_apiserver_log(p, 20_000, seed=2)
    spec = BlockSpec(format="klog", source_id=0, name="a.log", clock="apiserver", year=2023, tz="UTC",
                     info={"component": "kube-apiserver"}, wrappers=[], ansi=False, record_start=klog.HEADER_START)
    os.makedirs(sys.argv[2])
    with workers.pool(2, "a.log") as pool:
        workers.check_started(workers.spawn_in_background(pool, 2, "a.log"))
        res = pool.submit(blocks.range_task, p, 0, os.path.getsize(p), 1, 20_000, spec, sys.argv[2], True).result()
        assert res.written["requests"][1] > 10_000
        print("pyarrow.parquet in worker:", pool.submit(workers.loaded, "pyarrow.parquet").result())
"""
    script = tmp_path / "probe.py"
    script.write_text(code)
    r = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "a.log"), str(tmp_path / "parts")], capture_output=True, text=True
    )
    assert r.returncode == 0, r.stderr
    assert "pyarrow.parquet in worker: True" in r.stdout
    assert r.stderr.count("kubelog.cli loaded: True") == 2, r.stderr  # the two workers (not this process)
    import pyarrow.parquet as pq

    parts = sorted((tmp_path / "parts").rglob("*.parquet"))
    assert parts and all(pq.ParquetFile(p).metadata.created_by.startswith("parquet-cpp-arrow") for p in parts)


@pytest.mark.slow
@pytest.mark.skipif(native.module() is None, reason="the Arrow path (no C scanner) parses in the main process")
def test_main_process_of_a_klog_ingest_by_workers_does_not_load_pandas(tmp_path):
    """While the worker processes parse a large apiserver log, the main process only reads, hashes,
    hands out ranges and collects results: importing pandas there (~0.27 CPU-s, which pyarrow does
    on ``pa.array`` of a list) took a core's share from the workers; the run must still be whole."""
    code = r"""
import sys
from kubelog.engine import blocks, ingest
if __name__ == "__main__":
    blocks.PROCESS_MIN_BYTES = 1   # worker processes for this small file too
    assert "pandas" not in sys.modules
    r = ingest([sys.argv[1]], sys.argv[2])
    import pathlib
    by_workers = any(pathlib.Path(sys.argv[2], "requests").glob("part-*-L*.parquet"))  # parts the workers wrote
    print("workers:", by_workers, "rows:", r.inputs[0]["rows"].get("requests", 0) > 10_000,
          "pandas:", "pandas" in sys.modules)
"""
    from kubelog.synth.bench import write_apiserver_log

    write_apiserver_log(tmp_path / "a.log", 20_000, seed=3)
    script = tmp_path / "probe.py"
    script.write_text(code)
    r = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "a.log"), str(tmp_path / "run")], capture_output=True, text=True
    )
    assert r.returncode == 0, r.stderr
    assert "workers: True rows: True pandas: False" in r.stdout, r.stdout


SCRIPT = """\
import sys
import kubelog
from kubelog.engine import blocks
from kubelog.synth.bench import write_apiserver_log

blocks.PROCESS_MIN_BYTES = 1  # the log's blocks go to the worker processes

def main(d):
    write_apiserver_log(d + "/kube-apiserver.log", 2000, seed=1)
    kubelog.ingest([d + "/kube-apiserver.log"], d + "/run")
    print("ingested")

{call}
"""


@pytest.mark.parametrize("guarded", [False, True])
def test_a_script_calling_kubelog_unguarded_is_told_why_its_workers_died(tmp_path, guarded):
    """The worker processes start by running the calling script's top level again (multiprocessing's
    forkserver): an unguarded call kills each of them as it starts.  The dead-worker message says so and
    names the script; under ``if __name__ == "__main__":`` the same script ingests."""
    if native.module() is None:
        pytest.skip("the Arrow path (no C scanner) parses in the main process")
    call = 'if __name__ == "__main__":\n    main(sys.argv[1])' if guarded else "main(sys.argv[1])"
    script = tmp_path / "myscript.py"
    script.write_text(SCRIPT.format(call=call))
    r = subprocess.run([sys.executable, str(script), str(tmp_path)], capture_output=True, text=True, timeout=120)
    if guarded:
        assert r.returncode == 0 and "ingested" in r.stdout, r.stderr[-2000:]
    else:
        assert r.returncode != 0
        last = r.stderr.strip().splitlines()[-1]
        assert "WorkerFailed" in last and "myscript.py calls kubelog at its top level" in last
        assert 'if __name__ == "__main__":' in last
