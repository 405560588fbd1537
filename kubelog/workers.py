"""The worker processes that parse blocks of one large input (see :mod:`kubelog.formats.klog`).

They come from a multiprocessing fork server that imports the parsers once
(:data:`PRELOAD`); :func:`start_early` starts it while the main process is still
importing and sniffing, so that both cores work from the first second.  Kept free
of heavy imports on purpose: the CLI calls :func:`start_early` before loading itself.
"""
from __future__ import annotations

import contextlib
import os
import sys

PROCESS_MIN_BYTES = 64 << 20  # a plain input this large is parsed by worker processes

# Imported once by the fork server, so that each worker process starts with them loaded
# (importing pyarrow and the parsers costs ~0.2 s of CPU per worker otherwise).  Not pandas:
# kubelog._arrow_alone keeps pyarrow from importing it for nothing (it was 0.3-0.4 s of the server's
# ~0.45 s start, on the critical path of every large ingest).  Nor pyarrow.parquet (~15 ms): the workers
# write their parts with kubelog.pqwrite, pyarrow's writer is only its fallback (imported when needed).
PRELOAD = ["kubelog._worker_preload", "pyarrow.compute", "kubelog.formats.klog",
           "kubelog.formats.traces", "kubelog.formats.podrecords"]
IN_WORKER_ENV = "KUBELOG_WORKER_SERVER"  # set for the fork server and its workers


# The environment the fork server starts with; it and its workers inherit it, this process keeps
# its own.  Worker processes allocate Arrow memory with the system allocator: the default pool
# (mimalloc) kept ~40 MB more per process cached between blocks, for no speed gain here (an explicit
# ARROW_DEFAULT_MEMORY_POOL wins).  IN_WORKER_ENV keeps their imports from starting a server.
# OPENBLAS_NUM_THREADS: kubelog does no linear algebra, and OpenBLAS's idle threads spin on the other
# core after numpy loads (~0.1 s of CPU per process, and more while workers run).
WORKER_ENV = {"ARROW_DEFAULT_MEMORY_POOL": "system", "OPENBLAS_NUM_THREADS": "1", IN_WORKER_ENV: "1"}


@contextlib.contextmanager
def _worker_env():
    saved = {k: os.environ.get(k) for k in WORKER_ENV}
    for k, v in WORKER_ENV.items():
        if k == IN_WORKER_ENV or saved[k] is None:
            os.environ[k] = v
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
    :data:`WORKER_ENV`, and the workers do not re-run the main module (the `kubelog` script, a
    notebook kernel, pytest ...), which they would unless it has no file."""
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if path is not None:
        del main.__file__
    try:
        with _worker_env():
            yield
    finally:
        if path is not None:
            main.__file__ = path


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


def spawn_in_background(pool, n: int):
    """Start ``n`` worker processes of ``pool`` (a ProcessPoolExecutor) from a thread, and return
    it: starting one waits for the fork server to have imported :data:`PRELOAD` (~0.2 s after
    this process is ready), time in which the caller can read its input ahead."""
    import threading

    def spawn():
        for _ in range(n):  # a process per submit while none is idle
            pool.submit(freeze_imports)
    t = threading.Thread(target=spawn, name="kubelog-spawn", daemon=True)
    t.start()
    return t


def loaded(module: str) -> bool:
    """Whether ``module`` is imported in this process (asked of worker processes by the tests)."""
    return module in sys.modules


def start_early(paths) -> bool:
    """Start the fork server if one of ``paths`` (files, or files directly in a directory) is
    large enough to be parsed by worker processes.  Returns whether it did."""
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


def cli_hook(argv: list[str]) -> None:
    """``kubelog ingest PATH...``: start the workers' fork server before the CLI loads."""
    if len(argv) < 2 or argv[1] != "ingest" or os.environ.get(IN_WORKER_ENV):
        return
    args = argv[2:]
    for i, a in enumerate(args):  # one worker process per --threads; none with -j N (processes per input)
        if a in ("--threads",) and i + 1 < len(args) and args[i + 1] == "1":
            return
        if a in ("--jobs", "-j") and i + 1 < len(args) and args[i + 1] != "1":
            return
        if a.startswith("--threads=") and a.endswith("=1") or a.startswith("--jobs=") and not a.endswith("=1"):
            return
    start_early([a for a in args if not a.startswith("-") and os.path.exists(a)])
