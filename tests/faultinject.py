"""Faults injected into a `kubelog ingest` for tests/test_failures.py (not a test module).

Run as ``PYTHONPATH=tests python -m faultinject FAULT -- kubelog-args...``: it makes kubelog parse
the input in worker processes with small blocks (so that a few MB have many), wraps the workers'
block task (``kubelog.engine.blocks.range_task``) with :func:`parse_range`, and runs the CLI.  The wrapper is found by the worker
processes by module name (``faultinject``, through PYTHONPATH), so the fault happens in the worker
process itself, as an out-of-memory kill or an I/O error would.

FAULT (environment ``KUBELOG_TEST_FAULT``, read in the worker):

* ``kill@BYTE``: the worker parsing the block that holds byte BYTE is killed (SIGKILL);
* ``eio@BYTE``: reading that block fails with EIO;
* ``pause@BYTE@DIR``: the worker writes ``DIR/<pid>`` before parsing that block and waits until
  ``DIR/go`` exists (at most 60 s): the test does something to the ingest meanwhile;
* ``startkill``: every worker process dies as it starts (its first job);
* ``none``: no fault.
"""

from __future__ import annotations

import errno
import os
import signal
import sys
import time

BLOCK = 1 << 20  # the workers' block in these tests (kubelog's is 16 MiB)


def parse_range(path, start, end, first_line, n, spec, part_root, first_block):
    from kubelog.engine import blocks

    kind, *arg = os.environ.get("KUBELOG_TEST_FAULT", "none").split("@")
    if kind != "none" and start <= int(arg[0]) < end:
        if kind == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        elif kind == "eio":
            raise OSError(errno.EIO, os.strerror(errno.EIO), path)
        elif kind == "pause":
            with open(os.path.join(arg[1], str(os.getpid())), "w") as f:
                f.write(str(os.getppid()))
            deadline = time.monotonic() + 60  # not `end`, the block's end (the pause lost that block)
            while not os.path.exists(os.path.join(arg[1], "go")) and time.monotonic() < deadline:
                time.sleep(0.02)
    return blocks.range_task(path, start, end, first_line, n, spec, part_root, first_block)  # unpatched here


def die_at_start(*args, **kw):
    """The first job of a worker process (kubelog's is kubelog.engine.pool.identity): dies there."""
    if os.environ.get("KUBELOG_WORKER_SERVER"):  # in a worker, not in the ingest itself
        os.kill(os.getpid(), signal.SIGKILL)


def main(argv: list[str]) -> None:
    import faultinject  # this module under its own name (not __main__), so that workers find it
    from kubelog.engine import blocks
    from kubelog.sources import lines

    blocks.range_task = faultinject.parse_range
    blocks.PROCESS_MIN_BYTES = 1
    blocks.PROCESS_BLOCK = lines.BLOCK = BLOCK
    if argv[0] == "startkill":
        from kubelog.engine import pool

        pool.identity = pool.freeze_imports = faultinject.die_at_start
    os.environ["KUBELOG_TEST_FAULT"] = argv[0]
    sys.argv = ["kubelog", *argv[argv.index("--") + 1 :]]
    from kubelog.cli import main as cli_main

    cli_main()


if __name__ == "__main__":
    main(sys.argv[1:])
