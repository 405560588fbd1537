"""Where the tasks of an ingest run: one small interface, three executors.

A task is a whole input (:func:`kubelog.engine.core.parse_ref`: sniffed, parsed, its parts written
into the run's temporary directory, its accounting returned).  An executor runs ``fn`` on every
task and yields the results in task order::

    for result in executor.map(fn, tasks, names): ...

- :class:`InProcess`: here, one after the other (a large plain klog input is still split into byte
  ranges parsed by local worker processes, :mod:`kubelog.formats.klog`);
- :class:`LocalPool`: ``--jobs N`` worker processes of this machine (:func:`kubelog.workers.pool`);
- :class:`DaskExecutor`: ``--scheduler local[:N] | tcp://HOST:8786``, the tasks on the workers of a
  Dask cluster, which must see the temporary run directory at the same path (a shared file system).

Whatever the executor, a worker that dies fails the run (:class:`kubelog.errors.WorkerFailed`) unless
its task is run again whole: Dask reschedules a task whose worker was lost (up to its
``distributed.scheduler.allowed-failures`` times, then ``KilledWorker``, which fails the run); the task
first removes the parts its earlier attempt may have left, so a retry never adds rows twice.
"""

from __future__ import annotations

import contextlib
import dataclasses
from pathlib import Path
from typing import Callable, Iterable, Iterator

from .. import workers


class InProcess:
    """The tasks in this process, in order."""

    name = "in-process"

    def session(self):
        return contextlib.nullcontext(self)

    def map(self, fn: Callable, tasks: list, names: list[str]) -> Iterator:
        for t in tasks:
            yield fn(t)


class LocalPool:
    """The tasks on ``n`` local worker processes (the fork server of :mod:`kubelog.workers`)."""

    name = "local pool"

    def session(self):
        return contextlib.nullcontext(self)

    def __init__(self, n: int, what: str):
        self.n, self.what = n, what

    def map(self, fn: Callable, tasks: list, names: list[str]) -> Iterator:
        with workers.pool(self.n, self.what) as pool:
            futs = [pool.submit(fn, t) for t in tasks]
            for fut, name in zip(futs, names):
                yield workers.result(fut, name, "parsing it (--jobs)")


class DaskExecutor:
    """The tasks on a Dask cluster: ``local`` / ``local:N`` (a LocalCluster of N worker processes for
    this ingest) or a scheduler's address (:func:`kubelog.analysis.distributed.client_for`).  Inside
    :meth:`session` (one client for the whole ingest)."""

    name = "dask"

    def __init__(self, scheduler: str):
        self.scheduler = scheduler
        self.client = None

    @contextlib.contextmanager
    def session(self):
        from ..analysis.distributed import client_for

        with client_for(self.scheduler) as client:
            self.client = client
            try:
                yield self
            finally:
                self.client = None

    def map(self, fn: Callable, tasks: list, names: list[str]) -> Iterator:
        """Submits every task now; the returned iterator waits for their results in order."""
        futs = self.client.map(fn, tasks, pure=False) if tasks else []
        return self._results(futs, names)

    def _results(self, futs, names) -> Iterator:
        try:
            for fut, name in zip(futs, names):
                yield _DaskFuture(fut, name).result()
        finally:
            if self.client is not None and futs:
                self.client.cancel(futs)

    def block_pool(self) -> "DaskBlockPool":
        """The byte ranges of one large input as Dask tasks (:class:`DaskBlockPool`)."""
        return DaskBlockPool(self.client)


class _DaskFuture:
    """A Dask future whose task was lost with its workers more often than Dask retries it: a
    :class:`kubelog.errors.WorkerFailed` (the run fails), never a skipped task."""

    def __init__(self, fut, name: str):
        self.fut, self.name = fut, name

    def result(self):
        from distributed import KilledWorker

        from ..errors import WorkerFailed

        try:
            return self.fut.result()
        except KilledWorker:
            raise WorkerFailed(
                f"{self.name}: the Dask workers running it died (killed, out of memory or "
                f"crashed) more often than Dask retries a task; the run was not written"
            ) from None

    def cancel(self):
        return self.fut.cancel()


class DaskBlockPool:
    """What :meth:`kubelog.formats.klog.KlogParser.run` submits the byte ranges of a large plain
    input to (``submit(fn, *args)`` -> a future), on the Dask workers instead of local processes:
    each range's task reads its bytes from the shared path and writes its parts itself."""

    def __init__(self, client, name: str = ""):
        self.client, self.name = client, name
        self._max_workers = max(1, len(client.scheduler_info().get("workers", {})))

    def submit(self, fn: Callable, *args):
        return _DaskFuture(self.client.submit(fn, *args, pure=False), self.name)

    @contextlib.contextmanager
    def __call__(self, what: str):
        """The pool for the input ``what`` (for messages)."""
        yield DaskBlockPool(self.client, what)


def for_options(opts, n_tasks: int, what: str):
    """The executor of an ingest with options ``opts`` (:class:`kubelog.engine.Options`)."""
    if opts.scheduler:
        return DaskExecutor(opts.scheduler)
    if opts.jobs > 1 and n_tasks > 1:
        return LocalPool(opts.jobs, what)
    return InProcess()


def task_options(opts, executor):
    """The options a task runs with: on Dask no local worker processes inside a task (Dask's worker
    processes are daemons, which cannot start processes; the cluster is the parallelism)."""
    if isinstance(executor, DaskExecutor):
        return dataclasses.replace(opts, processes=False)
    return opts


def splittable(ref, scans, size_min: int) -> bool:
    """Whether an input is parsed by byte ranges on Dask rather than as one task: a plain klog
    file (not compressed, not in an archive) of ``size_min`` bytes or more.  Its ranges are planned
    here in the client, which reads and hashes the file; the parser may still decide otherwise
    (a stateful wrapper: then it parses here with threads, the same rows)."""
    import os

    if len(scans) != 1 or scans[0].format != "klog" or ref.path.endswith((".gz", ".bz2", ".xz", ".zst")):
        return False
    try:
        return os.path.isfile(ref.path) and os.path.getsize(ref.path) >= size_min
    except OSError:
        return False


def remove_parts_of(tmp: str | Path, source_ids: Iterable[int]) -> None:
    """Remove the part files of ``source_ids`` in the temporary run directory ``tmp`` (what an earlier
    attempt of the same task wrote: every part file is named by its input's source id)."""
    root = Path(tmp)
    for sid in source_ids:
        for p in root.glob(f"*/part-{sid:05d}-*.parquet"):
            p.unlink(missing_ok=True)
