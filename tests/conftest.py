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


@pytest.fixture
def ingest_to(tmp_path):
    """ingest_to(*paths, **options) -> Run, into a fresh temporary run directory."""
    from kubelog.ingest import Options, ingest

    counter = {"n": 0}

    def _ingest(*paths, **kw):
        counter["n"] += 1
        return ingest([str(p) for p in paths], tmp_path / f"run{counter['n']}", options=Options(**kw))

    return _ingest
