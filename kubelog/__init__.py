"""kubelog: offline analyzer for Kubernetes scalability-test logs.

Library first: the CLI, the notebooks and the tests call the same functions.

>>> import kubelog                                   # doctest: +SKIP
>>> run = kubelog.ingest(["sample_logs/healthy"], "out/healthy")   # doctest: +SKIP
>>> run = kubelog.open_run("out/healthy")             # doctest: +SKIP
>>> kubelog.latency_table(run)                       # doctest: +SKIP
"""

__version__ = "0.1.0"


def __getattr__(name):  # Run and open_run load on first use (numpy and pyarrow with them)
    if name in ("Run", "open_run"):
        from . import run

        return getattr(run, name)
    raise AttributeError(f"module 'kubelog' has no attribute {name!r}")


def ingest(paths, out, **kw):
    """Ingest ``paths`` into the run directory ``out``; see :func:`kubelog.engine.ingest`."""
    from .engine import ingest as _ingest

    return _ingest(paths, out, **kw)


def latency_table(run, **kw):
    """Latency percentiles per group; see :func:`kubelog.analysis.latency.latency_table`."""
    from .analysis.latency import latency_table as _lt

    return _lt(run, **kw)


__all__ = ["__version__", "Run", "open_run", "ingest", "latency_table"]
