"""Helpers shared by commands: the options every data command takes, and printing.

Stdout carries data only (:func:`echo_data`; in the ``table`` view also :func:`say`, the prose of the
view, wrapped to the terminal); stderr carries progress, notes and warnings (:func:`note`, silenced by
``-q/--quiet``) and errors (``die``, never silenced).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import typer

from ..errors import die
from .. import output
from ..output import Fmt

FORMAT_OPTION = typer.Option(Fmt.table, "--format", "-F", help="Output: table, csv, json or markdown.")


def _set_all(value: bool) -> bool:
    output.show_all = bool(value)
    return value


ALL_OPTION = typer.Option(
    False,
    "--all",
    callback=_set_all,
    help=f"Show every row on a terminal (tables stop after {output.TERMINAL_ROW_LIMIT} rows there).",
)


#: Set by a command's ``-q/--quiet``: :func:`note` and progress bars print nothing.
quiet = False


def _set_quiet(value: bool) -> bool:
    global quiet
    quiet = bool(value)
    return value


QUIET_OPTION = typer.Option(
    False, "--quiet", "-q", callback=_set_quiet, help="Nothing on stderr but errors (no progress, no notes)."
)


def say(s: str = "") -> None:
    """A line of prose of a terminal view on stdout, wrapped to the terminal width (output.wrap_text)."""
    typer.echo(output.wrap_text(s))


def note(s: str) -> None:
    """A progress line, note or warning on stderr, unless ``-q/--quiet``."""
    if not quiet:
        typer.echo(s, err=True)


def progress_enabled() -> bool:
    """Progress bars are drawn only on an interactive stderr, and never with ``-q``."""
    import sys

    return not quiet and sys.stderr.isatty()


class StageProgress:
    """A rich progress bar on stderr over named stages (``advance(name)`` starts the next one).

    Drawn only when :func:`progress_enabled` (stderr is a terminal, no ``-q``); otherwise every
    call does nothing. Use as a context manager; the bar is removed when the command ends.
    """

    def __init__(self, title: str, total: int):
        self.title, self.total = title, total
        self._progress = self._task = None
        self.started = 0

    def __enter__(self):
        if progress_enabled():
            import sys

            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self._progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=Console(file=sys.stderr, force_terminal=True),
                transient=True,
            )
            self._progress.start()
            self._task = self._progress.add_task(self.title, total=self.total)
        return self

    def advance(self, stage: str) -> None:
        """Stage ``stage`` starts: the bar shows the stages done so far and its name."""
        self.started += 1
        if self._progress is not None:
            self._progress.update(self._task, completed=self.started - 1, description=f"{self.title}: {stage}")

    def __exit__(self, *exc):
        if self._progress is not None:
            self._progress.stop()
        return False


@dataclass(frozen=True)
class JsonSchema:
    """The keys of one command's ``-F json`` output, listed in docs/cli.md and checked by
    tests/test_cli_conventions.py on a sample run.

    ``rows``: the output is a list of objects with exactly ``keys``; else one object with exactly
    ``keys``, whose members named in ``nested`` are lists of objects with exactly those keys.
    """

    keys: tuple[str, ...]
    rows: bool = True
    nested: dict = field(default_factory=dict)
    note: str = ""

    def markdown(self) -> str:
        ks = ", ".join(f"`{k}`" for k in self.keys)
        out = f"a list of objects with the keys {ks}" if self.rows else f"one object with the keys {ks}"
        for k, sub in self.nested.items():
            out += f"; `{k}` is a list of objects with the keys " + ", ".join(f"`{x}`" for x in sub)
        return out + (f" ({self.note})" if self.note else "")


#: (command, extra arguments) → the schema of its ``-F json`` output; filled by the command modules.
JSON_SCHEMAS: dict[tuple[str, tuple[str, ...]], JsonSchema] = {}


def json_schema(
    command: str, keys, *, args: tuple[str, ...] = (), rows: bool = True, nested=None, note: str = ""
) -> None:
    JSON_SCHEMAS[(command, tuple(args))] = JsonSchema(tuple(keys), rows, dict(nested or {}), note)


def legacy_alias(fmt, *, markdown: bool = False, json: bool = False) -> str:
    """The output format as a plain string, with the hidden pre-0.2 flags (`--markdown`, `--json`) honoured."""
    if markdown:
        return "markdown"
    if json:
        return "json"
    return Fmt(fmt).value


def echo_data(df, fmt, **kw) -> None:
    """Print a DataFrame to stdout in ``fmt`` (the table fits the terminal; see :mod:`kubelog.output`)."""
    typer.echo(output.render(df, fmt, **kw))


#: the help of a command's RUN argument
RUN_HELP = "Run directory made by `kubelog ingest`, or the fsspec URL it wrote the run to (s3://BUCKET/PREFIX)."


def open_run_or_die(path):
    from ..errors import KubelogError
    from ..run import open_run

    try:
        return open_run(path)
    except KubelogError as e:  # not a (complete) run: exit 3; a URL fsspec cannot open: exit 2
        die(str(e), e.exit_code)


def split_list(s: str | None) -> list[str]:
    return [x.strip() for x in (s or "").split(",") if x.strip()]


PROGRESS_ENV = "KUBELOG_PROGRESS"  # "1": draw progress bars even when stderr is not a terminal (tests, CI logs)


class IngestProgress:
    """The progress bar of ``kubelog ingest`` on stderr: one row per input with the bytes and lines
    parsed so far, updated as each block of an input parsed in this process is merged and when
    each input is done (the engine's ``monitor``, :func:`kubelog.engine.ingest`).

    Drawn when stderr is a terminal (or ``KUBELOG_PROGRESS=1``) and not ``quiet``; otherwise
    :meth:`active` is False and the caller passes no monitor.  The rows stay on the screen when
    the ingest ends (the final bytes and lines of every input)."""

    def __init__(self, quiet: bool):
        import os
        import sys

        self.enabled = not quiet and (sys.stderr.isatty() or os.environ.get(PROGRESS_ENV) == "1")
        self._progress = None
        self._tasks: dict[int, object] = {}

    @property
    def active(self) -> bool:
        return self._progress is not None

    def __enter__(self):
        if self.enabled:
            import sys

            from rich.console import Console
            from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn

            self._progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(bar_width=10),
                DownloadColumn(),
                TextColumn("{task.fields[lines]:>11,} lines"),
                console=Console(file=sys.stderr, force_terminal=True),
            )
            self._progress.start()
        return self

    def print(self, s: str) -> None:
        """A line on stderr above the bar."""
        self._progress.console.print(s, markup=False, highlight=False, soft_wrap=True)

    # -- the engine's monitor -------------------------------------------------------------------
    def start(self, inputs: list) -> None:
        for sid, name, size in inputs:
            short = name if len(name) <= 30 else "…" + name[-29:]
            self._tasks[sid] = (self._progress.add_task(short, total=size or None, lines=0), size)

    def advance(self, source_id: int, nbytes: int, lines: int) -> None:
        if source_id in self._tasks:
            self._progress.update(self._tasks[source_id][0], completed=nbytes, lines=lines)

    def done(self, entry: dict) -> None:
        if entry["source_id"] in self._tasks:
            t, size = self._tasks[entry["source_id"]]
            nbytes = entry.get("bytes") or size  # an archive member: its bytes once read
            self._progress.update(t, completed=nbytes, total=size or nbytes or None, lines=entry["lines_read"])

    def __exit__(self, *exc):
        if self._progress is not None:
            self._progress.stop()
        return False
