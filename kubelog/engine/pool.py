"""The local process pool of the engine: worker processes of this machine, for the inputs of an
ingest (``--jobs N``, :class:`kubelog.engine.executors.LocalPool`) and for the blocks of one large
input (:mod:`kubelog.engine.blocks`).

They come from a multiprocessing fork server that imports the parsers once
(:data:`PRELOAD`); :func:`start_early` starts it while the main process is still
importing and sniffing, so that both cores work from the first second.  Kept free
of heavy imports on purpose: the CLI calls :func:`start_early` before loading itself.

Failures (docs/failures.md): the fork server and its workers import kubelog from where this
process did, never from the current directory (:func:`_worker_env`), and :func:`pool` checks it;
a worker that dies or cannot start fails the run (:class:`kubelog.errors.WorkerFailed`); a
worker exits as soon as the process that started it is gone (:func:`_init_worker`).
"""

from __future__ import annotations

import contextlib
import os
import sys

# Imported once by the fork server, so that each worker process starts with them loaded
# (importing pyarrow, its Parquet writer, pandas and the parsers costs ~0.5 s of CPU per worker
# otherwise: pyarrow imports pandas on its first conversion).  kubelog.cli (~17 ms more, once):
# multiprocessing runs the main module again in every worker (as ``__mp_main__``), and the `kubelog`
# script's top level is ``from kubelog.cli import main``, then found already imported.
PRELOAD = [
    "pandas",
    "pyarrow.compute",
    "pyarrow.parquet",
    "kubelog.formats.klog",
    "kubelog.engine.blocks",
    "pyarrow.json",  # the audit log's blocks (kubelog.engine.folds)
    "kubelog.engine.folds",
    "kubelog.formats.traces",
    "kubelog.formats.podrecords",
    "kubelog.cli",
]
IN_WORKER_ENV = "KUBELOG_WORKER_SERVER"  # set for the fork server and its workers


# The environment the fork server starts with; it and its workers inherit it, this process keeps
# its own.  Worker processes allocate Arrow memory with the system allocator: the default pool
# (mimalloc) kept ~40 MB more per process cached between blocks, for no speed gain here (an explicit
# ARROW_DEFAULT_MEMORY_POOL wins).  IN_WORKER_ENV keeps their imports from starting a server.
# OPENBLAS_NUM_THREADS: kubelog does no linear algebra, and OpenBLAS's idle threads spin on the other
# core after numpy loads (~0.1 s of CPU per process, and more while workers run).
WORKER_ENV = {"ARROW_DEFAULT_MEMORY_POOL": "system", "OPENBLAS_NUM_THREADS": "1", IN_WORKER_ENV: "1"}


def _kubelog_root() -> str:
    """The directory this process imported the kubelog package from (the one holding ``kubelog/``)."""
    return os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _import_env() -> dict:
    """What makes the fork server import exactly this process's kubelog: multiprocessing starts it
    with ``python -c``, which puts the current directory first on ``sys.path`` (and Python 3.11's
    fork server ignores the parent's path), so a folder named ``kubelog`` where the user stands was
    imported instead (an ImportError in every worker).  PYTHONSAFEPATH drops the current
    directory; the directory kubelog came from goes first on PYTHONPATH unless it is a site
    directory (there it is found anyway, and must not move before the standard library)."""
    import site

    env = {"PYTHONSAFEPATH": "1"}
    root = _kubelog_root()
    sites = set(site.getsitepackages() if hasattr(site, "getsitepackages") else [])
    sites.add(site.getusersitepackages() if hasattr(site, "getusersitepackages") else "")
    if root not in {os.path.abspath(x) for x in sites if x}:
        old = os.environ.get("PYTHONPATH")
        env["PYTHONPATH"] = root + (os.pathsep + old if old else "")
    return env


@contextlib.contextmanager
def _worker_env():
    env = _import_env()
    saved = {k: os.environ.get(k) for k in (*WORKER_ENV, *env)}
    for k, v in WORKER_ENV.items():
        if k == IN_WORKER_ENV or saved[k] is None:
            os.environ[k] = v
    os.environ.update(env)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def context():
    """The multiprocessing context of the worker processes: a fork server with the parsers preloaded."""
    import multiprocessing as mp

    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)
    return ctx


@contextlib.contextmanager
def starting():
    """Around a pool of worker processes: the fork server (if this starts it) gets
    :data:`WORKER_ENV` and imports kubelog from where this process did."""
    with _worker_env():
        yield


def start_server() -> None:
    """Start the fork server now; it imports :data:`PRELOAD` in the background."""
    context()
    from multiprocessing import forkserver

    with _worker_env():
        forkserver.ensure_running()


def freeze_imports() -> None:
    """In a worker process, once: move everything imported so far (pyarrow, numpy, the parsers:
    hundreds of thousands of objects) out of the cyclic garbage collector's sight.  Its full
    collections walked them all and took ~30 % of a worker's time."""
    global _FROZEN
    if not _FROZEN:
        import gc

        gc.freeze()
        _FROZEN = True


_FROZEN = False


def _init_worker() -> None:
    """First thing in every worker process: Ctrl-C is the parent's to handle (it stops the pool and
    cleans up), and the worker exits as soon as the process that started it is gone (SIGKILL,
    a crash): it would otherwise wait for work forever, an orphan holding its memory.  The
    parent's end of a pipe multiprocessing keeps open for this (``parent_process().sentinel``)
    is closed by the kernel when the parent dies, whichever way."""
    import signal
    import threading
    from multiprocessing import parent_process
    from multiprocessing.connection import wait

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parent = parent_process()
    if parent is None or parent.sentinel is None:
        return

    def watch():
        wait([parent.sentinel])
        os._exit(1)

    threading.Thread(target=watch, name="kubelog-parent-watch", daemon=True).start()


def identity() -> tuple[str, str]:
    """In a worker process: where its kubelog was imported from, and its pid (freezes the imports)."""
    freeze_imports()
    return os.path.realpath(__file__), str(os.getpid())


@contextlib.contextmanager
def pool(n: int, what: str):
    """A ProcessPoolExecutor of ``n`` worker processes from the fork server, for ``what`` (an
    input's name, for messages).  A worker that cannot start, dies, or imported another kubelog
    than this process raises :class:`kubelog.errors.WorkerFailed` (see :func:`result`).  On any
    exception (Ctrl-C and SIGTERM included) work not yet started is cancelled and the blocks being
    parsed are waited for (a block is parsed in well under a second), so that no worker writes
    into a temporary directory its caller then removes."""
    from concurrent.futures import ProcessPoolExecutor

    with starting():
        ex = ProcessPoolExecutor(max_workers=n, mp_context=context(), initializer=_init_worker)
        try:
            yield ex
        except BaseException:
            ex.shutdown(wait=True, cancel_futures=True)
            raise
        ex.shutdown(wait=True)


def spawn_in_background(pool, n: int, what: str):
    """Start ``n`` worker processes of ``pool`` (a ProcessPoolExecutor) from a thread, and return
    it: starting one waits for the fork server to have imported :data:`PRELOAD` (~0.2 s after
    this process is ready), time in which the caller can read its input ahead.  Call
    :func:`check_started` with the thread once it is done."""
    import threading

    def spawn():
        t.futures = [pool.submit(identity) for _ in range(n)]  # a process per submit while none is idle

    t = threading.Thread(target=spawn, name="kubelog-spawn", daemon=True)
    t.futures = []
    t.what = what
    t.start()
    return t


def check_started(t) -> None:
    """After :func:`spawn_in_background`'s thread ``t`` ended: raise WorkerFailed if a worker
    could not start or imported kubelog from elsewhere than this process."""
    t.join()
    for f in t.futures:
        where, _ = result(f, t.what, "starting the worker processes")
        if where != os.path.realpath(__file__):
            from ..errors import WorkerFailed

            raise WorkerFailed(
                f"{t.what}: a worker process imported kubelog from {os.path.dirname(where)}, "
                f"not {os.path.dirname(os.path.realpath(__file__))} as this process did"
            )


def result(fut, what: str, doing: str):
    """``fut.result()``, with a worker process that died (killed, out of memory, crashed, could not
    import kubelog) turned into :class:`kubelog.errors.WorkerFailed` naming ``what`` and ``doing``
    (e.g. the lines of the block it was waiting for: when one worker dies, every pending block fails)."""
    from concurrent.futures.process import BrokenProcessPool

    try:
        return fut.result()
    except BrokenProcessPool:
        from ..errors import WorkerFailed

        raise WorkerFailed(
            f"{what}: a worker process died (killed, out of memory or crashed) before "
            f"{doing} was done; the run was not written{script_hint()}"
        ) from None


def script_hint() -> str:
    """What to add to a dead worker's message when kubelog was called from a Python script: each worker
    process starts by running the script's top level again (multiprocessing's forkserver start method),
    so a call to kubelog there, outside ``if __name__ == "__main__":``, kills every worker as it starts."""
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if main is None or getattr(main, "__spec__", None) is not None or not path:
        return ""  # python -m …, an interactive session, a notebook
    if os.path.basename(path) in ("kubelog", "kubelog.exe", "kubelog-script.py"):
        return ""  # the console script (its call is guarded)
    return (
        f" (if {os.path.basename(path)} calls kubelog at its top level: each worker process runs that"
        ' again as it starts; put the call under if __name__ == "__main__":)'
    )


def loaded(module: str) -> bool:
    """Whether ``module`` is imported in this process (asked of worker processes by the tests)."""
    return module in sys.modules


def start_early(paths) -> bool:
    """Start the fork server if one of ``paths`` (files, or files directly in a directory) is
    large enough to be parsed by worker processes.  Returns whether it did."""
    from .blocks import PROCESS_MIN_BYTES

    try:
        for p in paths:
            p = os.fspath(p)
            if os.path.isdir(p):
                sizes = (e.stat().st_size for e in os.scandir(p) if e.is_file())
            else:
                sizes = (os.path.getsize(p),) if os.path.isfile(p) else ()
            if any(sz >= PROCESS_MIN_BYTES for sz in sizes):
                start_server()
                return True
    except OSError:
        pass
    return False
