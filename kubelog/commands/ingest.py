"""kubelog ingest."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from ..errors import Exit, die


def register(app: typer.Typer) -> None:
    @app.command("ingest")
    def ingest_cmd(
        paths: Optional[List[Path]] = typer.Argument(
            None,
            help="Files, directories (recursive), compressed files "
            "(.gz .bz2 .xz .zst) or archives (.tar .tar.gz .tgz .zip).",
        ),
        out: str = typer.Option(
            ...,
            "--out",
            "-o",
            help="Run directory to create (with --each-run: the store), or an fsspec URL "
            "(s3://BUCKET/PREFIX, gcs://…, file://…; s3 needs pip install kubelog\\[s3]): the parts are written "
            "there and manifest.json, written last, commits the run (docs/distributed.md).",
        ),
        each_run: Optional[Path] = typer.Option(
            None,
            "--each-run",
            metavar="DIR_OF_RUNS",
            help="Many runs at once: each subdirectory or archive of DIR_OF_RUNS is one run, "
            "ingested into --out/<its name> (in parallel with --jobs or --scheduler; a run "
            "already there is kept, --force ingests it again), and --out/index.parquet lists "
            "the store's runs (docs/history.md). Instead of PATHS.",
        ),
        force: bool = typer.Option(False, "--force", help="Replace an existing run directory."),
        jobs: int = typer.Option(1, "--jobs", "-j", min=1, help="Parse inputs in N parallel processes."),
        threads: int = typer.Option(
            2,
            "--threads",
            min=1,
            help="Parallel workers for large inputs: processes for plain klog and audit files of 64 MiB or "
            "more (the run's other inputs then parse on the same processes), threads otherwise (1 = serial).",
        ),
        year: Optional[int] = typer.Option(
            None, "--year", help="Year of year-less timestamps (klog, syslog, e2e); overrides in-band evidence."
        ),
        tz: List[str] = typer.Option(
            [],
            "--tz",
            help="Zone of year-less local timestamps: ZONE or GLOB=ZONE "
            "(e.g. 'kubelet*.log=Asia/Shanghai', '+08:00'). Default: for klog text, the zone "
            "the input itself shows (a UTC wrapper time, a printed '+0800 CST'), else UTC. "
            "Repeatable.",
        ),
        fmt: List[str] = typer.Option(
            [], "--input-format", help="Force an input format: NAME or GLOB=NAME (see `kubelog formats`). Repeatable."
        ),
        clock: List[str] = typer.Option(
            [], "--clock", help="Clock domain: GLOB=DOMAIN (e.g. 'e2e*.log=test'). Repeatable."
        ),
        scheduler: Optional[str] = typer.Option(
            None,
            "--scheduler",
            help="Parse the inputs as tasks on Dask: local or local:N (a "
            "LocalCluster of N worker processes for this ingest) or a "
            "scheduler's address (tcp://HOST:8786), whose workers see the "
            "--out directory's parent at the same path, or reach the --out URL "
            "(docs/distributed.md).",
        ),
        quiet: bool = typer.Option(
            False, "--quiet", "-q", help="Nothing on stderr but errors (no progress bar, no summary)."
        ),
    ):
        """Parse inputs into a run directory of Parquet tables with a manifest.

        Every line is accounted for: lines read = record lines + continuation lines
        + lines counted with a reason + lines lost (see `kubelog info`). A bad input is
        reported (file and line) and the rest of the run is kept. Inside input directories no
        symbolic link is followed (each is listed as skipped). The run directory is
        written beside --out and renamed into place at the end: a failed, interrupted
        (Ctrl-C, SIGTERM) or killed ingest leaves none (docs/failures.md). Exit 2 when
        --force would replace a directory that is not a kubelog run or the output overlaps
        an input, 3 when nothing could be read at all, 4 when the run directory exists
        (use --force), 5 when it cannot be written (disk full, read-only), 6 when another
        ingest is writing it (this one fails at once, it does not wait), 7 when a worker
        process died, 8 when the run was written but some input could not be read, or not
        to its end (an unreadable file or directory, a read error, a truncated or refused
        compressed stream or archive, an archive nested too deep) or not wholly parsed (a
        parser that failed, lines lost with a failed block): each is named on stderr, also
        with --quiet. Exit 0 means every line is accounted for. With --each-run a run that
        fails is named on stderr and the other runs still land: exit 8 when some run failed
        or was not read to its end (or an entry of DIR_OF_RUNS is no run), 3 when no run
        landed.

        --out an fsspec URL (s3://BUCKET/PREFIX; object stores have no rename and no lock): the
        parts are written under it, named with this ingest's token, and manifest.json, written
        last and listing them, commits the run; readers refuse a prefix without it (exit 3). A
        prefix that holds a run or other objects is refused (exit 4) unless --force, which
        deletes only the parts the replaced run's manifest lists, after the new manifest is
        written; a failed ingest deletes only the parts it wrote; 6 when another ingest
        committed the URL meanwhile (docs/distributed.md).

        On a terminal a progress bar on stderr shows the bytes and lines parsed of every input,
        updated as each block of a large input is parsed (KUBELOG_PROGRESS=1 draws it on any
        stderr; -q never).
        """
        import signal

        from ._common import IngestProgress
        from ..errors import KubelogError, Terminated
        from ..engine import Options, ingest
        from ..sources import InputError

        def terminated(signum, frame):
            raise Terminated()

        n_local = scheduler.partition(":")[2] if scheduler and scheduler.startswith("local:") else "1"
        if scheduler is not None and (
            not (scheduler == "local" or ":" in scheduler) or not n_local.isdigit() or int(n_local) < 1
        ):
            die(
                f"--scheduler must be local, local:N or a scheduler address (tcp://HOST:8786), got {scheduler!r}",
                Exit.USAGE,
            )
        opts = Options(year=year, tz=tz, format=fmt, clock=clock, jobs=jobs, threads=threads, scheduler=scheduler)
        say = None if quiet else (lambda s: typer.echo(s, err=True))
        if bool(paths) == (each_run is not None):
            die("give either PATHS or --each-run DIR_OF_RUNS", Exit.USAGE)
        old_term = signal.signal(signal.SIGTERM, terminated)  # cleans up as Ctrl-C does
        try:
            if each_run is not None:  # many runs: kubelog.engine.store
                from ..engine.store import each_run_command
                from ..remote import is_url

                if is_url(out):
                    die(f"--out {out}: --each-run writes a store on a local or shared path, not a URL", Exit.USAGE)
                raise typer.Exit(each_run_command(each_run, Path(out), force, opts, quiet, say))
            with IngestProgress(quiet) as bar:  # bytes and lines per input, on a terminal (issue 22)
                if bar.active:
                    say = bar.print
                run = ingest(paths, out, force=force, options=opts, progress=say, monitor=bar if bar.active else None)
        except KubelogError as e:
            die(str(e), e.exit_code)
        except InputError as e:
            die(str(e), Exit.INPUT)
        except KeyError as e:
            die(str(e).strip('"'), Exit.USAGE)
        except KeyboardInterrupt:
            die(f"{out}: interrupted; {_unwritten(each_run)}", Exit.INTERRUPTED)
        except Terminated:
            die(f"{out}: terminated (SIGTERM); {_unwritten(each_run)}", Exit.TERMINATED)
        finally:
            signal.signal(signal.SIGTERM, old_term)
        from ..engine import NOT_READ, not_read as not_read_entries, quiet_lines

        ins = run.inputs
        n_err = sum(1 for e in ins if e.get("errors"))
        not_read = not_read_entries(ins)
        if quiet:  # what was skipped, not read or not parsed is said even so: one line each, naming the path
            for line in quiet_lines(ins):
                typer.echo(line, err=True)
        else:
            typer.echo(
                f"kubelog: {len(ins)} inputs, {sum(e['lines_read'] for e in ins):,} lines → {run.path}"
                + (f" ({n_err} with problems; see `kubelog info {run.path}`)" if n_err else "")
                + (
                    f"; {len(not_read)} not read, not to the end or not wholly parsed (exit {int(Exit.UNREAD)})"
                    if not_read
                    else ""
                ),
                err=True,
            )
        typer.echo(str(run.path))
        if ins and all(e["format"] in NOT_READ for e in ins):
            raise typer.Exit(int(Exit.INPUT))
        if not_read:
            raise typer.Exit(int(Exit.UNREAD))


def _unwritten(each_run) -> str:
    if each_run is None:
        return "no run directory written"
    return "the runs finished before are in the store and its index, the run being written is not"
