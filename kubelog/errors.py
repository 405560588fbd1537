"""The failures kubelog expects, and the exit code of each (docs/cli.md, docs/failures.md).

Every exception here carries one line for the user, naming the path (and line) it is about;
the CLI prints ``kubelog: <message>`` on stderr and exits with the class's :attr:`exit_code`.
Anything else that escapes is a kubelog bug: a traceback and exit :attr:`ExitCode.INTERNAL`.

:class:`RunFailed` and its subclasses end the whole ingest (nothing is renamed into place, the
temporary directory is removed); problems with one input or one line never raise: they are
recorded in the manifest and the run goes on.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    VIOLATION = 1  # the analysis found what --fail-on-violation asked to fail on
    USAGE = 2  # bad option or path; --force on what is not a kubelog run; output/input overlap
    INPUT = 3  # nothing could be read, or not a (complete) run directory
    EXISTS = 4  # the output exists (use --force)
    OUTPUT = 5  # the run directory could not be written (disk full, read-only, permission)
    BUSY = 6  # another ingest is writing the same output
    WORKER = 7  # a worker process died or could not start: the run is incomplete, not written
    UNREAD = 8  # the run was written, but some input could not be read, or not to its end
    INTERNAL = 70  # a kubelog bug (a traceback is printed); EX_SOFTWARE of sysexits.h
    INTERRUPTED = 130  # SIGINT (Ctrl-C): 128 + 2
    TERMINATED = 143  # SIGTERM: 128 + 15


#: The name the commands use (``die(msg, Exit.USAGE)``).
Exit = ExitCode


# One line per code, in the order of the enum: docs/cli.md and docs/failures.md are generated from it.
EXIT_CODE_HELP = {
    ExitCode.OK: "success",
    ExitCode.VIOLATION: "a violation was found and `--fail-on-violation` was given",
    ExitCode.USAGE: "usage error: a bad option, value or argument, said in one line, before anything is read "
    "or written (also `--force` on a directory that is not a kubelog run, "
    "an output inside an input or an input inside the output)",
    ExitCode.INPUT: "input problem (nothing readable, or not a run directory)",
    ExitCode.EXISTS: "the output exists (use `--force`)",
    ExitCode.OUTPUT: "the run directory could not be written (disk full, read-only or unwritable place), "
    "no run directory left",
    ExitCode.BUSY: "another `kubelog ingest` is writing the same output",
    ExitCode.WORKER: "a worker process died or could not start, no run directory left",
    ExitCode.UNREAD: "the run was written, but not every line is accounted for: an input not read (to its end), "
    "a parser that failed on it, or lines lost or left unaccounted (each input one line on stderr)",
    ExitCode.INTERNAL: "a kubelog bug (traceback printed)",
    ExitCode.INTERRUPTED: "interrupted (SIGINT)",
    ExitCode.TERMINATED: "terminated (SIGTERM)",
}


class KubelogError(Exception):
    """An expected failure, phrased for the user in one line (names the path)."""

    exit_code = ExitCode.INTERNAL


class UsageError(KubelogError):
    exit_code = ExitCode.USAGE


class UnsafeOutput(UsageError):
    """``--force`` on a directory kubelog did not create, or output and input overlap."""


class NotARun(KubelogError):
    exit_code = ExitCode.INPUT


class RunExists(KubelogError):
    exit_code = ExitCode.EXISTS


class OutputBusy(KubelogError):
    """Another process holds the output's lock."""

    exit_code = ExitCode.BUSY


class RunFailed(KubelogError):
    """The ingest cannot produce a complete run: it stops, and no run directory is renamed into place."""


class OutputError(RunFailed):
    """Writing the run directory failed (disk full, read-only file system, permission)."""

    exit_code = ExitCode.OUTPUT


class WorkerFailed(RunFailed):
    """A worker process died (killed, out of memory, crashed) or could not start."""

    exit_code = ExitCode.WORKER


class Terminated(BaseException):
    """SIGTERM received (raised by the CLI's handler, so that cleanup runs as for Ctrl-C)."""


def die(msg: str, code: ExitCode) -> None:
    """Print ``kubelog: msg`` (one line) to stderr and end the command with exit ``code``.

    For the commands (kubelog/commands/): raises typer's ``Exit``, so the command's cleanup runs and
    the console script (or typer's test runner) exits with ``code``.  typer is imported here, when a
    command fails, so that the library's modules that import this one do not load it.
    """
    import typer

    typer.echo(f"kubelog: {msg}", err=True)
    raise typer.Exit(int(code))


def output_error(path, err: OSError, doing: str = "cannot write") -> OutputError:
    """An :class:`OutputError` for ``err`` (an OSError from writing ``path``)."""
    why = err.strerror or str(err) or type(err).__name__
    return OutputError(f"{path}: {doing}: {why}")
