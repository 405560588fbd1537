"""Blocks prepared ahead of an ordered fold, on threads: the execution of a format that reads its input
as one ordered stream of blocks but whose per-block work is a pure function (the audit JSON log).

Such a format's blocks are prepared (parse, classify: a pure function of the block, run anywhere) and
folded in file order (state across blocks: the events waiting for a later stage of their request). The
engine prepares the blocks of a stream it reads itself (an audit log that is compressed, in an archive or
small) with :func:`ordered_map` (:mod:`kubelog.engine.folds`); the format's own serial parse takes it
through ``ctx.options["map_ordered"]`` (docs/internals.md, "The ingest engine").

Memory: about ``depth + threads`` blocks and their prepared columns, whatever the size of the input.
"""

from __future__ import annotations

import queue
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Iterable, Iterator

#: Blocks read and prepared ahead of the one being folded (reading, hashing, ``pyarrow.json`` and the
#: compute kernels release the GIL: they run while the caller folds and writes).
READ_AHEAD = 2
#: Threads preparing blocks side by side; the caller takes them in order.
PREPARE_THREADS = 2


def serial_map(fn: Callable[..., Any], items: Iterable[tuple]) -> Iterator[tuple[tuple, Any]]:
    """``(item, fn(*item))`` for each item, here and in order: the reference of :func:`ordered_map`."""
    for item in items:
        yield item, fn(*item)


def ordered_map(
    fn: Callable[..., Any],
    items: Iterable[tuple],
    *,
    threads: int | None = None,
    depth: int | None = None,
    name: str = "kubelog-prepare",
) -> Iterator[tuple[tuple, Any]]:
    """``(item, fn(*item))`` for each item of ``items``, in order, as :func:`serial_map` gives them.

    A background thread iterates ``items`` (it reads the input) and submits each to ``threads`` threads
    running ``fn``, up to ``depth`` items ahead of the caller.  An error of the iteration is raised here
    after the items before it; an error of ``fn`` is raised when its item's turn comes; closing the
    generator (or an error in the caller) stops the threads."""
    threads = PREPARE_THREADS if threads is None else threads
    depth = READ_AHEAD if depth is None else depth
    q: queue.Queue = queue.Queue(depth)
    stop = threading.Event()
    end = object()
    pool = ThreadPoolExecutor(threads, thread_name_prefix=name)

    def put(x) -> bool:
        while not stop.is_set():
            try:
                q.put(x, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        try:
            for item in items:
                if not put((item, pool.submit(fn, *item))):
                    return
            put(end)
        except BaseException as e:  # noqa: BLE001 - raised in the reading thread, given to the caller in order
            put(e)

    t = threading.Thread(target=work, name=f"{name}-read", daemon=True)
    t.start()
    try:
        while True:
            x = q.get()
            if x is end:
                return
            if isinstance(x, BaseException):
                raise x
            item, fut = x
            yield item, fut.result()
    finally:
        stop.set()
        t.join()
        pool.shutdown(wait=True, cancel_futures=True)
