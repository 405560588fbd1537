"""pyarrow without pandas, in the worker processes' fork server (``workers.PRELOAD`` imports
:mod:`kubelog._worker_preload`, which calls :func:`arrow_without_pandas`).

pyarrow imports pandas (0.3–0.4 s, more than half of the fork server's start) the first time it
converts anything (``pa.array``, ``to_numpy``), only to recognise pandas objects, which the klog
parsers in worker processes never hand it.  This makes that first attempt fail, as if pandas were
not installed: pyarrow then converts as it does without pandas.  Whatever imports pandas later in
such a process (a parser that hands pyarrow pandas objects: wrapper timestamps, any format in a
``--jobs`` worker) gets pyarrow's pandas integration back with it: the import runs as usual and
:func:`rearm` right after, so no parser has to know about this module.  tests/test_workers.py
checks both sides.
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


class _RearmWithPandas:
    """A meta-path finder, installed by :func:`arrow_without_pandas`: pandas, once imported, is
    followed by :func:`rearm` (the finder then removes itself)."""

    @staticmethod
    def find_spec(name, path=None, target=None):
        if name != "pandas":
            return None
        sys.meta_path.remove(_RearmWithPandas)
        import importlib.util
        spec = importlib.util.find_spec(name)  # as the other finders give it
        if spec is not None and hasattr(spec.loader, "exec_module"):
            exec_module = spec.loader.exec_module

            def exec_then_rearm(module):
                exec_module(module)
                try:
                    rearm()
                except ImportError:  # a pandas pyarrow cannot use: pyarrow goes on without it
                    pass
            spec.loader.exec_module = exec_then_rearm  # this spec's own loader object
        return spec


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
    if _ALONE:
        sys.meta_path.insert(0, _RearmWithPandas)
    return _ALONE


def rearm() -> None:
    """Give pyarrow its pandas integration back (imports pandas) where :func:`arrow_without_pandas`
    took it; done by the import of pandas itself."""
    global _ALONE
    if _ALONE:
        import pyarrow as pa
        pa.lib._pandas_api.series([], dtype=object)  # its import, with failures raised: sets it up
        _ALONE = False
