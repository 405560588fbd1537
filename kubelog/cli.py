"""kubelog command line: a thin typer shell over the library.

Commands live in :mod:`kubelog.commands` (one module each, discovered here).
Data goes to stdout; progress, warnings and errors go to stderr.

Exit codes (see docs/cli.md):

* 0 — success
* 1 — the analysis found what was asked to fail on (``--fail-on-violation``)
* 2 — usage error (bad option, missing path)
* 3 — input problem: nothing could be ingested, or the run directory is missing/incomplete
* 4 — the output exists (use ``--force``)
* 5 — ``ingest`` wrote the run, but some input could not be read, or not to its end (unreadable
  file or directory, read error, truncated or refused stream or archive); each was named on stderr
"""
from __future__ import annotations

import importlib
import os
import pkgutil
import sys
from enum import IntEnum

# kubelog does no linear algebra; OpenBLAS's threads (started when numpy loads) would only spin
# on the other core.  Set before anything imports numpy; a value of the user's is kept.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from . import workers  # noqa: E402

workers.cli_hook(sys.argv)  # `kubelog ingest BIG.log`: start the worker processes' server first

import typer  # noqa: E402

from . import __version__, commands  # noqa: E402


class Exit(IntEnum):
    OK = 0
    VIOLATION = 1
    USAGE = 2
    INPUT = 3
    EXISTS = 4
    UNREAD = 5


app = typer.Typer(
    name="kubelog",
    help="Offline analyzer for Kubernetes scalability-test logs: ingest apiserver, audit, e2e, "
         "clusterloader2, kube-burner, event and pod dumps into Parquet tables, then compute "
         "API latency percentiles by load level, pod startup, SLO verdicts, clock skew and reports.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool):
    if value:
        typer.echo(f"kubelog {__version__}")
        raise typer.Exit()


@app.callback()
def _main(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                       help="Print the version and exit.")):
    """kubelog: offline analyzer for Kubernetes scalability-test logs."""


def _register_all() -> None:
    for mod in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        if mod.name.startswith("_"):
            continue
        m = importlib.import_module(f"{commands.__name__}.{mod.name}")
        m.register(app)


_register_all()


def die(msg: str, code: Exit) -> None:
    """Print ``kubelog: msg`` to stderr and exit with ``code``."""
    typer.echo(f"kubelog: {msg}", err=True)
    raise typer.Exit(int(code))


def main() -> None:  # console script entry point
    app()


if __name__ == "__main__":
    main()
