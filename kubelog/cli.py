"""kubelog command line: a thin typer shell over the library.

Commands live in :mod:`kubelog.commands` (one module each, discovered here).
Data goes to stdout; progress, warnings and errors go to stderr.

Exit codes: :class:`kubelog.errors.ExitCode` (docs/cli.md, docs/failures.md).
"""

from __future__ import annotations

import importlib
import inspect
import os
import pkgutil
import sys

# kubelog does no linear algebra; OpenBLAS's threads (started when numpy loads) would only spin
# on the other core.  Set before anything imports numpy; a value of the user's is kept.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import typer  # noqa: E402
from typer.core import TyperGroup  # noqa: E402

from . import __version__, commands  # noqa: E402
from .errors import Exit, die  # noqa: E402,F401  (re-exported: tests and scripts import them from here)


class _Group(TyperGroup):
    """The ``kubelog`` group: a usage error (unknown option or command, a value out of range, not one
    of the choices, a missing argument) is one line on stderr, ``kubelog: <message> (see '<command>
    -h')``, and exit 2 (:attr:`ExitCode.USAGE`), as every other expected failure is one line; typer
    would print the usage, a hint and the message in a box (5-6 lines).  Help, ``--version`` and
    the commands' own exit codes are unchanged."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            rv = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except typer.Abort:
            typer.echo("kubelog: aborted", err=True)
            sys.exit(1)
        except Exception as e:
            # click's ClickException (typer vendors click from 0.25 on: matched by what it has, not by class)
            if not (hasattr(e, "format_message") and isinstance(getattr(e, "exit_code", None), int)):
                raise
            if type(e).__name__ == "NoArgsIsHelpError":  # `kubelog` alone: the help was printed
                sys.exit(e.exit_code)
            ctx = getattr(e, "ctx", None)
            msg = " ".join(e.format_message().split())
            hint = f" (see '{ctx.command_path} -h')" if ctx is not None else ""
            typer.echo(f"kubelog: {msg}{hint}", err=True)
            sys.exit(e.exit_code)
        # a command that ended normally returns None (exit 0); typer.Exit(n) comes back as n
        sys.exit(rv if isinstance(rv, int) else 0)


app = typer.Typer(
    cls=_Group,
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
def _main(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
):
    """kubelog: offline analyzer for Kubernetes scalability-test logs."""


def _register_all() -> None:
    for mod in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        if mod.name.startswith("_"):
            continue
        m = importlib.import_module(f"{commands.__name__}.{mod.name}")
        m.register(app)
    for info in app.registered_commands:  # typer takes a command's help from its docstring
        info.help = reflow(info.help or inspect.getdoc(info.callback) or "")


def reflow(doc: str) -> str:
    """A docstring as paragraphs of one line each: typer's rich help keeps every line break of the
    source, so a docstring wrapped at 100 columns came out ragged in an 80-column terminal; joined, the
    terminal wraps each paragraph to its own width."""
    return "\n\n".join(" ".join(x.strip() for x in p.split("\n")) for p in doc.split("\n\n"))


_register_all()


def main() -> None:  # console script entry point
    """Run the CLI: an expected failure (:class:`kubelog.errors.KubelogError`) is one line on
    stderr and its exit code; anything else is a kubelog bug: its traceback and exit 70."""
    from .errors import KubelogError

    try:
        app()
    except KubelogError as e:
        typer.echo(f"kubelog: {e}", err=True)
        sys.exit(int(e.exit_code))
    except Exception:
        import traceback

        traceback.print_exc()
        typer.echo("kubelog: internal error (a kubelog bug; please report it with the traceback above)", err=True)
        sys.exit(int(Exit.INTERNAL))


if __name__ == "__main__":
    main()
