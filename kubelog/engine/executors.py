"""Where the tasks of an ingest run: one small interface, three executors.

A task is a whole input (:func:`kubelog.engine.core.parse_ref`: sniffed, parsed, its parts written
into the run's temporary directory, its accounting returned).  An executor runs ``fn`` on every
task and yields the results in task order::

    for result in executor.map(fn, tasks, names): ...

- :class:`InProcess`: here, one after the other (a large plain klog or audit input is still split into
  byte ranges parsed by local worker processes, :mod:`kubelog.engine.blocks`, :mod:`kubelog.engine.folds`;
  with such an input the ingest makes one pool for all its inputs and the small ones are its tasks,
  :func:`kubelog.engine.core.local_plan`);
- :class:`LocalPool`: ``--jobs N`` worker processes of this machine (:func:`kubelog.engine.pool.pool`);
- :class:`DaskExecutor`: ``--scheduler local[:N] | tcp://HOST:8786``, the tasks on the workers of a
  Dask cluster, which must see the temporary run directory at the same path (a shared file system),
  or write to the run's fsspec URL (:mod:`kubelog.remote`).

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

from . import pool as local


class InProcess:
    """The tasks in this process, in order."""

    name = "in-process"

    def session(self):
        return contextlib.nullcontext(self)

    def map(self, fn: Callable, tasks: list, names: list[str]) -> Iterator:
        for t in tasks:
            yield fn(t)


class LocalPool:
    """The tasks on ``n`` local worker processes (the fork server of :mod:`kubelog.engine.pool`)."""

    name = "local pool"

    def session(self):
        return contextlib.nullcontext(self)

    def __init__(self, n: int, what: str):
        self.n, self.what = n, what

    def map(self, fn: Callable, tasks: list, names: list[str]) -> Iterator:
        with local.pool(self.n, self.what) as pool:
            futs = [pool.submit(fn, t) for t in tasks]
            for fut, name in zip(futs, names):
                yield local.result(fut, name, "parsing it (--jobs)")


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
    """The byte ranges of a large plain input as Dask tasks (a block runner, :func:`block_runner`):
    each range's task reads its bytes from the shared path and writes its parts itself."""

    def __init__(self, client, name: str = ""):
        self.client, self.name = client, name
        self.width = max(1, len(client.scheduler_info().get("workers", {})))

    def submit(self, fn: Callable, *args):
        return _DaskFuture(self.client.submit(fn, *args, pure=False), self.name)


# -- block runners: where the blocks of one input run (kubelog.engine.blocks) ----------------------
#
# One interface: ``submit(fn, *args) -> future``, ``result(future, doing)`` (a dead worker raises
# WorkerFailed naming the input and the lines), ``width`` (blocks in flight beyond the one awaited),
# ``warm_up()`` (a thread still starting the workers, during which the caller may read ahead, or
# None) and ``check_started()``.


class _Runner:
    width = 0

    def __init__(self, what: str):
        self.what = what

    def warm_up(self):
        return None

    def check_started(self) -> None:
        pass

    def result(self, fut, doing: str):
        return fut.result()


class SerialRunner(_Runner):
    """Each block parsed here as it is submitted (``--threads 1``)."""

    def submit(self, fn: Callable, *args):
        from concurrent.futures import Future

        fut = Future()
        try:
            fut.set_result(fn(*args))
        except Exception as e:
            fut.set_exception(e)
        return fut


class ThreadRunner(_Runner):
    """Blocks on threads of this process (Arrow compute releases the GIL)."""

    def __init__(self, what: str, pool, n: int):
        super().__init__(what)
        self.pool, self.width = pool, n

    def submit(self, fn: Callable, *args):
        return self.pool.submit(fn, *args)


class ProcessRunner(_Runner):
    """Blocks on the local process pool (:mod:`kubelog.engine.pool`), its workers started from a
    thread while the caller reads ahead (``read_ahead``) or before the first block."""

    def __init__(self, what: str, pool, n: int, read_ahead: bool):
        super().__init__(what)
        self.pool, self.width, self.read_ahead = pool, n, read_ahead
        self._warm = local.spawn_in_background(pool, n, what)

    def warm_up(self):
        if self.read_ahead:
            return self._warm
        self.check_started()
        return None

    def check_started(self) -> None:
        if self._warm is not None:
            warm, self._warm = self._warm, None
            local.check_started(warm)

    def submit(self, fn: Callable, *args):
        from concurrent.futures import BrokenExecutor

        try:
            return self.pool.submit(fn, *args)
        except BrokenExecutor:  # a worker died before: the pool takes no more work
            from ..errors import WorkerFailed

            raise WorkerFailed(
                f"{self.what}: a worker process died (killed, out of memory or crashed); the run was not "
                f"written{local.script_hint()}"
            ) from None

    def result(self, fut, doing: str):
        return local.result(fut, self.what, doing)


class DaskRunner(_Runner):
    def __init__(self, what: str, pool: DaskBlockPool):
        super().__init__(what)
        self.pool, self.width = DaskBlockPool(pool.client, what), pool.width

    def submit(self, fn: Callable, *args):
        return self.pool.submit(fn, *args)


@contextlib.contextmanager
def block_runner(
    what: str, processes: int, dask_pool: DaskBlockPool | None, threads: int = 1, read_ahead=False, shared=None
):
    """The runner of the blocks of the input ``what``: the Dask cluster's when given, else
    ``processes`` local worker processes when > 1 (those of ``shared``, the ingest's pool, when given:
    kept for the inputs after this one, :func:`kubelog.engine.core.ingest`), else ``threads`` threads
    (1: here, serially)."""
    if dask_pool is not None:
        yield DaskRunner(what, dask_pool)
    elif processes > 1 and shared is not None:
        yield ProcessRunner(what, shared, processes, read_ahead)
    elif processes > 1:
        with local.pool(processes, what) as pool:
            yield ProcessRunner(what, pool, processes, read_ahead)
    elif threads > 1:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=threads) as pool:
            yield ThreadRunner(what, pool, threads)
    else:
        yield SerialRunner(what)


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
        return dataclasses.replace(opts, processes=False, on_block=None)
    if isinstance(executor, LocalPool):
        return dataclasses.replace(opts, on_block=None)  # the progress bar is this process's
    return opts


#: The formats whose large plain files are cut into byte ranges (engine.blocks: klog; engine.folds: the
#: audit JSON log).
SPLIT_FORMATS = ("klog", "audit-json")


def splittable(ref, scans, size_min: int) -> bool:
    """Whether an input is parsed by byte ranges on Dask rather than as one task: a plain klog or audit
    JSON file (:data:`SPLIT_FORMATS`; not compressed, not in an archive) of ``size_min`` bytes or more.
    Its ranges are planned here in the client, which reads and hashes the file (:mod:`kubelog.engine.blocks`,
    :mod:`kubelog.engine.folds`; a stateful klog wrapper: then it parses here with threads, the same rows)."""
    import os

    if len(scans) != 1 or scans[0].format not in SPLIT_FORMATS or ref.path.endswith((".gz", ".bz2", ".xz", ".zst")):
        return False
    try:
        return os.path.isfile(ref.path) and os.path.getsize(ref.path) >= size_min
    except OSError:
        return False


def remove_parts_of(tmp, source_ids: Iterable[int]) -> None:
    """Remove the part files of ``source_ids`` in the temporary run directory ``tmp`` (what an earlier
    attempt of the same task wrote: every part file is named by its input's source id), or at the
    run's URL those this ingest wrote (a :class:`kubelog.remote.RemoteRun`)."""
    from ..remote import RemoteRun, remove_parts_of as remove_remote

    if isinstance(tmp, RemoteRun):  # a run at a URL: this ingest's parts of these inputs (its token)
        return remove_remote(tmp, source_ids)
    root = Path(tmp)
    for sid in source_ids:
        for p in root.glob(f"*/part-{sid:05d}-*.parquet"):
            p.unlink(missing_ok=True)
