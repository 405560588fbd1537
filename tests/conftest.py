import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
REAL = Path(os.environ.get("KUBELOG_REAL_LOGS", ROOT.parent / "shared" / "real_logs"))
SAMPLES = ROOT / "sample_logs"


@pytest.fixture(scope="session")
def real_logs() -> Path:
    """The real-log corpus (../shared/real_logs); tests using it skip when it is absent."""
    if not REAL.is_dir():
        pytest.skip(f"real logs not found at {REAL}")
    return REAL


@pytest.fixture(scope="session")
def sample_runs(tmp_path_factory) -> dict:
    """{name: (Run, truth.json dict)} of the generated runs in sample_logs/ with a truth.json, each
    ingested once per test session with the default options (truth.json itself not an input)."""
    import json

    from kubelog.engine import Options, ingest

    base = tmp_path_factory.mktemp("sample_runs")
    out = {}
    for d in sorted(p for p in SAMPLES.iterdir() if (p / "truth.json").is_file()):
        inputs = [str(p) for p in sorted(d.iterdir()) if p.name != "truth.json"]
        out[d.name] = (ingest(inputs, base / d.name, options=Options()), json.loads((d / "truth.json").read_text()))
    return out


@pytest.fixture
def ingest_to(tmp_path):
    """ingest_to(*paths, **options) -> Run, into a fresh temporary run directory."""
    from kubelog.engine import Options, ingest

    counter = {"n": 0}

    def _ingest(*paths, **kw):
        counter["n"] += 1
        return ingest([str(p) for p in paths], tmp_path / f"run{counter['n']}", options=Options(**kw))

    return _ingest


#: Fixtures whose tests are slow by construction (a whole generated run ingested, a report rendered).
SLOW_FIXTURES = {"sample_runs"}
#: Modules whose tests generate and ingest whole runs, render reports or drive real processes and
#: signals end to end: `make test` runs them, `make test-fast` does not.
SLOW_MODULES = {
    "test_failures.py",
    "test_skew_cases.py",
    "test_load_truth.py",
    "test_report.py",
    "test_compare.py",
    "test_skew.py",
    "test_pod_resolution.py",
}


@pytest.fixture
def ranged_apiserver_log(tmp_path, monkeypatch) -> Path:
    """A 12,000-line apiserver log that the engine parses by byte ranges (1 MiB blocks, ranges from any
    size on), for the tests of ranges run on other executors; skipped without the C scanner (the Arrow
    path parses klog in the main process)."""
    from kubelog import native
    from kubelog.engine import blocks
    from kubelog.sources import lines as L
    from kubelog.synth.bench import write_apiserver_log

    if native.module() is None:
        pytest.skip("the Arrow path (no C scanner) parses in the main process")
    monkeypatch.setattr(blocks, "PROCESS_MIN_BYTES", 1)
    monkeypatch.setattr(blocks, "PROCESS_BLOCK", 1 << 20)
    monkeypatch.setattr(L, "BLOCK", 1 << 20)
    log = tmp_path / "kube-apiserver.log"
    write_apiserver_log(log, 12_000, seed=7)
    return log


def pytest_collection_modifyitems(config, items):
    """Markers from what a test uses, so `make test-fast` (-m "not slow and not real") needs no
    hand-kept list: ``real`` for tests on ../shared/real_logs, ``slow`` for tests on whole sample runs
    and the end-to-end modules of :data:`SLOW_MODULES`.
    Tests slow for other reasons carry ``@pytest.mark.slow`` themselves."""
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        if "real_logs" in names:
            item.add_marker(pytest.mark.real)
        if names & SLOW_FIXTURES or item.path.name in SLOW_MODULES:
            item.add_marker(pytest.mark.slow)
