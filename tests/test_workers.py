"""The worker processes' fork server: pyarrow without pandas (kubelog._arrow_alone)."""
from __future__ import annotations

import subprocess
import sys

import pytest

from kubelog import native

CHECK = r'''
import sys
import kubelog._worker_preload  # what the fork server imports first
import numpy as np, pyarrow as pa, pyarrow.compute as pc
from kubelog import _arrow_alone
assert _arrow_alone._ALONE
# what the klog parsers do with pyarrow: no pandas
a = pa.array(["x", None, "é"])
assert a.to_numpy(zero_copy_only=False).tolist() == ["x", None, "é"]
t = pa.array(np.array([1, 2], np.int64)).cast(pa.timestamp("ns", tz="UTC"))
assert t.to_numpy().astype("int64").tolist() == [1, 2]
assert np.asarray(pa.array([True, False])).tolist() == [True, False]
assert pa.array([1.0, float("nan")], from_pandas=True).null_count == 1
assert pc.sum(pa.array([1, 2])).as_py() == 3
assert "pandas" not in sys.modules, "pyarrow imported pandas"
# what other parsers do (wrapper timestamps, audit times): pandas objects, NaT, re-armed by the import
from kubelog.sources.lines import _parse_rfc3339
assert _parse_rfc3339(["2023-01-02T03:04:05Z", "bad"]).to_pylist()[1] is None
import pandas as pd
s = pd.Series([pd.Timestamp("2023-01-01", tz="UTC"), pd.NaT])
assert pa.array(s, pa.timestamp("ns", tz="UTC")).null_count == 1
assert t.to_pandas().iloc[0].value == 1
print("ok")
'''


def test_pyarrow_without_pandas_in_workers_and_back():
    r = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr


FIRST_PANDAS = r'''
import sys
import kubelog._worker_preload  # what the fork server imports first
import numpy as np, pyarrow as pa
from kubelog import _arrow_alone
assert _arrow_alone._ALONE and "pandas" not in sys.modules
t = pa.array(np.array([1, 2], np.int64)).cast(pa.timestamp("ns", tz="UTC"))
if sys.argv[1] == "import":      # a parser imports pandas itself
    import pandas as pd
else:                            # pyarrow imports it (to_pandas)
    assert t.to_pandas().iloc[0].value == 1
    import pandas as pd
assert not _arrow_alone._ALONE, "not re-armed"
s = pd.Series([pd.Timestamp("2023-01-01", tz="UTC"), pd.NaT])
assert pa.array(s, pa.timestamp("ns", tz="UTC")).null_count == 1
print("ok")
'''


@pytest.mark.parametrize("first", ["import", "to_pandas"])
def test_pyarrow_rearmed_by_whatever_imports_pandas(first):
    """Where pandas is imported after all (by a parser or by pyarrow itself), pyarrow recognises
    pandas objects again (a NaT once became a number in --jobs runs), without the parser asking."""
    r = subprocess.run([sys.executable, "-c", FIRST_PANDAS, first], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr


def test_nothing_done_where_pandas_is_loaded():
    code = "import pandas, sys; from kubelog import _arrow_alone as a; assert not a.arrow_without_pandas(); print('ok')"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.stdout.strip() == "ok", r.stderr


@pytest.mark.slow
@pytest.mark.skipif(native.module() is None, reason="the Arrow path (no C scanner) may load pandas")
def test_klog_blocks_parse_in_a_worker_without_loading_pandas(tmp_path):
    """A worker process from the fork server parses klog blocks and has not imported pandas
    (nor pyarrow.parquet)."""
    code = r'''
import os, sys
import concurrent.futures as cf
from kubelog import workers
from kubelog.formats import klog
from kubelog.synth.bench import write_apiserver_log
if __name__ == "__main__":
    p = sys.argv[1]
    write_apiserver_log(p, 20_000, seed=2)
    state = dict(source_id=0, name="a.log", clock="apiserver", year=2023, tz="UTC", info={}, wrappers=[],
                 component="kube-apiserver", ansi=False, part_root=sys.argv[2])
    os.makedirs(sys.argv[2])
    workers.start_server()
    with workers.starting(), cf.ProcessPoolExecutor(1, mp_context=workers.context()) as pool:
        res = pool.submit(klog._parse_range_in_process, p, 0, os.path.getsize(p), 1, 20_000, state, True).result()
        assert res.written["requests"][1] > 10_000
        print("pandas in worker:", pool.submit(workers.loaded, "pandas").result())
        print("pyarrow.parquet in worker:", pool.submit(workers.loaded, "pyarrow.parquet").result())
'''
    script = tmp_path / "probe.py"
    script.write_text(code)
    r = subprocess.run([sys.executable, str(script), str(tmp_path / "a.log"), str(tmp_path / "parts")],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "pandas in worker: False" in r.stdout
    # the parts are written by kubelog.pqwrite: pyarrow's writer (~15 ms to import) is only a fallback
    assert "pyarrow.parquet in worker: False" in r.stdout


@pytest.mark.slow
@pytest.mark.skipif(native.module() is None, reason="the Arrow path (no C scanner) parses in the main process")
def test_main_process_of_a_klog_ingest_by_workers_does_not_load_pandas(tmp_path):
    """While the worker processes parse a large apiserver log, the main process only reads, hashes,
    hands out ranges and collects results: importing pandas there (~0.27 CPU-s, which pyarrow does
    on ``pa.array`` of a list) took a core's share from the workers; the run must still be whole."""
    code = r'''
import sys
from kubelog.formats import klog
from kubelog.ingest import ingest
if __name__ == "__main__":
    klog.PROCESS_MIN_BYTES = 1   # worker processes for this small file too
    assert "pandas" not in sys.modules
    r = ingest([sys.argv[1]], sys.argv[2])
    import pathlib
    by_workers = any(pathlib.Path(sys.argv[2], "requests").glob("part-*-L*.parquet"))  # parts the workers wrote
    print("workers:", by_workers, "rows:", r.inputs[0]["rows"].get("requests", 0) > 10_000,
          "pandas:", "pandas" in sys.modules)
'''
    from kubelog.synth.bench import write_apiserver_log
    write_apiserver_log(tmp_path / "a.log", 20_000, seed=3)
    script = tmp_path / "probe.py"
    script.write_text(code)
    r = subprocess.run([sys.executable, str(script), str(tmp_path / "a.log"), str(tmp_path / "run")],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "workers: True rows: True pandas: False" in r.stdout, r.stdout
