"""Synthetic Kubemark-run generator (sample_logs, tests, benchmarks).

* :func:`generate` — simulate one Kubemark density run and write its artifacts + ``truth.json``.
* :func:`kubelog.synth.bench.write_apiserver_log` — a big structured apiserver log for benchmarks.
* :mod:`kubelog.synth.gofmt` — Go duration/time and klog header formatting.
"""

from .run import generate  # noqa: F401
from .gofmt import go_duration  # noqa: F401

__all__ = ["generate", "go_duration"]
