"""pyarrow without pandas, in the worker processes' fork server (``workers.PRELOAD`` imports
:mod:`kubelog._worker_preload`, which calls :func:`arrow_without_pandas`).

pyarrow imports pandas (0.3–0.4 s, more than half of the fork server's start) the first time it
converts anything (``pa.array``, ``to_numpy``), only to recognise pandas objects, which the klog
parsers in worker processes never hand it.  This makes that first attempt fail, as if pandas were
not installed: pyarrow then converts as it does without pandas.  pyarrow's ``to_pandas`` imports
pandas again when called; pandas objects given to ``pa.array`` are recognised again only after
:func:`rearm`, which the ``--jobs`` worker processes (whole inputs of any format) call first.
tests/test_workers.py checks both.
"""
from __future__ import annotations

import sys


class _NoPandas:
    """A meta-path finder that refuses pandas while installed."""

    @staticmethod
    def find_spec(name, path=None, target=None):
        if name == "pandas" or name.startswith("pandas."):
            raise ImportError("pandas is not loaded in kubelog worker processes")
        return None


_ALONE = False  # pyarrow was made to work without pandas in this process


def arrow_without_pandas() -> bool:
    """Let pyarrow's first look for pandas fail; False (nothing done) if pandas is loaded already."""
    global _ALONE
    if "pandas" in sys.modules:
        return False
    import pyarrow as pa
    sys.meta_path.insert(0, _NoPandas)
    try:
        pa.array([0])  # pyarrow's pandas shim tries its import here, once
    finally:
        sys.meta_path.remove(_NoPandas)
    _ALONE = "pandas" not in sys.modules
    return _ALONE


def rearm() -> None:
    """Give pyarrow its pandas integration back (imports pandas): before parsers that hand pyarrow
    pandas objects run in a process where :func:`arrow_without_pandas` was done."""
    global _ALONE
    if _ALONE:
        import pyarrow as pa
        pa.lib._pandas_api.series([], dtype=object)  # its import, with failures raised: sets it up
        _ALONE = False
