"""A store of runs: ``kubelog ingest --each-run DIR_OF_RUNS --out STORE``.

Each subdirectory or archive (``.tar``, ``.tar.gz``, ``.tgz``, ``.tar.bz2``, ``.tar.xz``, ``.zip``)
of ``DIR_OF_RUNS`` is one run — a CI job's directory of builds (``<job>/<build>/``, as Prow uploads
them) — and becomes the run directory ``STORE/<run id>`` (the entry's name, an archive's without
its suffix), made by :func:`kubelog.engine.ingest` as a task on an executor (:mod:`.executors`):
here one after the other, ``--jobs N`` local worker processes, or a Dask cluster (``--scheduler
local[:N] | tcp://HOST:8786``, whose workers see ``DIR_OF_RUNS`` and ``STORE`` at the same paths).
Each task ingests its run alone (one process, no workers of its own: the runs are the parallelism).

A run that fails does not stop the others: its task returns the failure (the message names the
run, the exit code is the one ``kubelog ingest`` of that run alone would have given) and the next
runs go on.  ``STORE/index.parquet`` lists the runs of the store, one row each (:data:`INDEX_COLUMNS`);
it is rewritten (atomically) after every ``--each-run``, keeping the rows of the store's other runs.
``kubelog history STORE`` reads it.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

from ..errors import ExitCode, KubelogError, NotARun, UsageError

INDEX = "index.parquet"
ARCHIVES = (".tar.gz", ".tar.bz2", ".tar.xz", ".tgz", ".tar", ".zip")
#: Columns of ``STORE/index.parquet``, one row per run.
INDEX_COLUMNS = [
    "run",  # run id: the directory name in the store (the entry's name in DIR_OF_RUNS)
    "source",  # the DIR_OF_RUNS entry it was ingested from
    "kubelog_version",
    "nodes",  # distinct node names seen (analysis.load.count_nodes), or null
    "started",  # the first timestamp of the test log, else of the API requests (UTC), or null
    "test_result",  # passed / failed (junit, else the e2e log), or "unknown"
    "build",  # the Prow build ID in the inputs' paths (…/<build>/artifacts/…), or null
    "inputs",
    "lines_read",
    "accounting",  # "ok", or what is not: "N input(s) not balanced", "N input(s) not read"
    "ingested_at",  # UTC, when this run's ingest finished
]


@dataclass
class RunResult:
    """What the task of one run returns (the index row, or why there is none)."""

    run: str
    source: str
    ok: bool
    code: int = 0  # the exit code kubelog ingest of this run alone would give (0, 8, 3, 4, 5 …)
    message: str = ""  # one line per problem, naming the run (empty when ok and complete)
    not_read: list[str] = field(default_factory=list)  # one line per input not read to its end
    row: dict | None = None
    kept: bool = False  # already in the store: not ingested again (no --force)


@dataclass
class StoreResult:
    store: Path
    results: list[RunResult]
    not_runs: list[str]  # entries of DIR_OF_RUNS that are no run (named on stderr, exit 8)

    @property
    def exit_code(self) -> int:
        """0 when every run landed complete; 8 when some landed and a run failed, a run was not read
        to its end or an entry of DIR_OF_RUNS is no run; when none landed, the exit code of the
        first run's failure (docs/failures.md)."""
        landed = [r for r in self.results if r.ok]
        if not landed:
            return next((r.code for r in self.results), int(ExitCode.INPUT))
        if len(landed) < len(self.results) or self.not_runs or any(r.not_read for r in landed):
            return int(ExitCode.UNREAD)
        return int(ExitCode.OK)


def run_id(entry: Path) -> str:
    """The run's name in the store: a directory's name, an archive's without its suffix."""
    name = entry.name
    for suf in ARCHIVES:
        if entry.is_file() and name.lower().endswith(suf):
            return name[: -len(suf)]
    return name


def _name_key(name: str):
    return (0, int(name), "") if name.isdigit() else (1, 0, name)


def runs_in(dir_of_runs: Path) -> tuple[list[tuple[str, Path]], list[str]]:
    """``([(run id, path)], [not a run: one line each])`` of the entries of ``dir_of_runs``, build
    numbers in numeric order.  Every entry that is neither a directory nor an archive is named: its
    lines would be unread."""
    d = Path(dir_of_runs)
    if not d.is_dir():
        raise UsageError(f"--each-run {d}: not a directory (one subdirectory or archive per run)")
    runs, skipped = [], []
    for e in sorted(d.iterdir(), key=lambda p: _name_key(p.name)):
        if e.is_symlink():
            skipped.append(f"{e}: a symbolic link, not followed: not ingested")
        elif e.is_dir() or (e.is_file() and e.name.lower().endswith(ARCHIVES)):
            runs.append((run_id(e), e))
        else:
            skipped.append(f"{e}: not a run (neither a directory nor an archive): not ingested")
    if not runs:
        raise NotARun(f"--each-run {d}: no subdirectory or archive in it (one per run)")
    seen: dict[str, Path] = {}
    for rid, e in runs:
        if rid in seen:
            raise UsageError(f"--each-run {d}: {seen[rid].name} and {e.name} would both be the run {rid!r}")
        seen[rid] = e
    return runs, skipped


def index_row(run, rid: str, source: str) -> dict:
    """The index row of an ingested run (:data:`INDEX_COLUMNS`)."""
    from ..analysis.history import _build_from_paths
    from ..analysis.load import count_nodes
    from ..analysis.outcome import run_started, test_specs_of_record
    from ..info import balanced

    ins = run.inputs
    nodes, _ = count_nodes(run)
    started = run_started(run)
    src = test_specs_of_record(run)
    result = "unknown" if src is None else "failed" if (src["state"] == "failed").any() else "passed"
    from . import not_read

    unbalanced = [e for e in ins if not balanced(e)]
    unread = [e for e in not_read(ins) if balanced(e)]  # the unbalanced ones are said below
    acc = [f"{len(unread)} input(s) not read"] if unread else []
    acc += [f"{len(unbalanced)} input(s) not balanced"] if unbalanced else []
    return {
        "run": rid,
        "source": source,
        "kubelog_version": run.manifest.get("kubelog_version", ""),
        "nodes": nodes,
        "started": started,
        "test_result": result,
        "build": _build_from_paths([e.get("path", "") for e in ins]),
        "inputs": len(ins),
        "lines_read": sum(e.get("lines_read", 0) for e in ins),
        "accounting": ", ".join(acc) or "ok",
        "ingested_at": dt.datetime.now(dt.timezone.utc),
    }


def ingest_run(args) -> RunResult:
    """The task of one run: ``kubelog ingest SOURCE --out STORE/RUN`` in this process.  Never
    raises for an expected failure: it is returned (with its exit code) so the other runs go on."""
    rid, source, out, opts, force = args
    from . import NOT_READ, ingest, not_read, not_read_line
    from ..sources import InputError

    src = str(source)
    try:
        run = ingest([source], out, force=force, options=opts)
    except KubelogError as e:
        return RunResult(rid, src, False, int(e.exit_code), f"{rid}: {e}")
    except InputError as e:
        return RunResult(rid, src, False, int(ExitCode.INPUT), f"{rid}: {e}")
    ins = run.inputs
    unread = []
    for e in not_read(ins):
        unread.append(f"{rid}: {not_read_line(e)}")
    if ins and all(e["format"] in NOT_READ for e in ins):
        return RunResult(rid, src, False, int(ExitCode.INPUT), f"{rid}: nothing could be read", unread)
    return RunResult(rid, src, True, int(ExitCode.UNREAD) if unread else 0, "", unread, index_row(run, rid, src))


def _ingest_run_job(args) -> RunResult:
    from . import pool

    pool.freeze_imports()  # in a --jobs worker process
    return ingest_run(args)


def ingest_each_run(
    dir_of_runs,
    store,
    *,
    force: bool = False,
    options=None,
    progress: Callable[[str], None] | None = None,
) -> StoreResult:
    """Ingest every run of ``dir_of_runs`` into ``store/<run id>`` on the executor of ``options``
    (``jobs`` local processes, or ``scheduler``), then write ``store/index.parquet``.

    Raises :class:`kubelog.errors.UsageError` (``dir_of_runs`` not a directory, two entries with
    one run id, the store inside ``dir_of_runs`` or the other way round, a store path that is a
    file) before anything is written.  A run that fails is in the result (``ok`` False, its code
    and message), not raised; a Dask task lost more often than Dask retries it is such a failure.
    """
    from . import Options, executors
    from ..errors import WorkerFailed

    opts = options or Options()
    opts.check()  # a bad year, zone or format name: one line, exit 2, before the store is made
    src, out = Path(dir_of_runs), Path(store)
    runs, not_runs = runs_in(src)
    a, b = os.path.realpath(src), os.path.realpath(out)
    if a == b or b.startswith(a + os.sep) or a.startswith(b + os.sep):
        raise UsageError(f"--out {out}: the store and --each-run {src} overlap; put the store elsewhere")
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out}: exists and is not a directory (a store is a directory of runs)")
    out.mkdir(parents=True, exist_ok=True)
    for line in not_runs:
        if progress:
            progress(line)
    # a run already in the store (a kubelog run directory STORE/<run>) is kept as it is: a store
    # grows build by build; --force ingests it again
    from ..run import is_run_dir, open_run

    kept, todo = [], []
    for rid, p in runs:
        (kept if not force and is_run_dir(out / rid) else todo).append((rid, p))
    results: list[RunResult] = []
    indexed = {}
    if kept and (out / INDEX).is_file():
        indexed = {r["run"]: r for r in read_index(out).to_dict("records")}
    for rid, p in kept:
        try:
            row = indexed.get(rid)
            if row is None:  # a run directory the index does not list yet (kubelog ingest --out STORE/<run>)
                row = index_row(open_run(out / rid), rid, str(p))
                mtime = (out / rid / "manifest.json").stat().st_mtime
                row["ingested_at"] = dt.datetime.fromtimestamp(mtime, dt.timezone.utc)
        except KubelogError as e:
            results.append(RunResult(rid, str(p), False, int(e.exit_code), f"{rid}: {e}"))
        else:
            results.append(RunResult(rid, str(p), True, row=row, kept=True))
        if progress:
            progress(_line(results[-1]))
    # each run alone in its task: one process, no worker processes of its own
    task_opts = replace(opts, jobs=1, threads=1, processes=False, scheduler=None)
    tasks = [(rid, str(p), str(out / rid), task_opts, force) for rid, p in todo]
    names = [str(p) for _, p in todo]
    ex = executors.for_options(opts, len(tasks), str(src))
    job = _ingest_run_job if isinstance(ex, executors.LocalPool) else ingest_run
    try:
        with ex.session():
            it = ex.map(job, tasks, names)
            for rid, p in todo:
                try:
                    r = next(it)
                except WorkerFailed as e:  # the executor lost the task: this run failed, the others go on
                    r = RunResult(rid, str(p), False, int(e.exit_code), f"{rid}: {e}")
                results.append(r)
                if progress:
                    progress(_line(r))
    finally:  # also when interrupted: the runs that landed are in the index
        write_index(out, [r.row for r in results if r.ok])
    order = {rid: i for i, (rid, _) in enumerate(runs)}
    results.sort(key=lambda r: order[r.run])
    return StoreResult(out, results, not_runs)


def _line(r: RunResult) -> str:
    if not r.ok:
        return f"{r.message} (exit {r.code}); not in the store"
    if r.kept:
        return f"{r.run}: already in the store, kept (--force to ingest it again)"
    row = r.row
    s = f"{r.run}: {row['inputs']} inputs, {row['lines_read']:,} lines, accounting {row['accounting']}"
    return s + "".join(f"\n  not read: {x}" for x in r.not_read)


def write_index(store: Path, rows: list[dict]) -> Path:
    """Merge ``rows`` into ``store/index.parquet`` (a run's new row replaces its old one; rows of
    runs no longer in the store are dropped) and write it atomically."""
    import pandas as pd

    store = Path(store)
    path = store / INDEX
    old = read_index(store) if path.exists() else pd.DataFrame(columns=INDEX_COLUMNS)
    new = pd.DataFrame(rows, columns=INDEX_COLUMNS)
    df = pd.concat([old[~old["run"].isin(new["run"])], new], ignore_index=True) if len(old) else new
    df = df.loc[[(store / str(r) / "manifest.json").is_file() for r in df["run"]]] if len(df) else df
    df = _typed(df)
    df = df.iloc[sorted(range(len(df)), key=lambda i: _name_key(df["run"].iloc[i]))].reset_index(drop=True)
    tmp = store / f".{INDEX}.tmp-{os.getpid()}"
    df.to_parquet(tmp, index=False)
    os.replace(tmp, path)
    return path


def _typed(df):
    import pandas as pd

    df = df[INDEX_COLUMNS].copy()
    for c in ("nodes", "build", "inputs", "lines_read"):
        df[c] = pd.array(pd.to_numeric(df[c]), dtype="Int64")
    for c in ("started", "ingested_at"):
        df[c] = pd.to_datetime(df[c], utc=True)
    for c in ("run", "source", "kubelog_version", "test_result", "accounting"):
        df[c] = df[c].astype(str)
    return df


def read_index(store):
    """``STORE/index.parquet`` as a DataFrame (:data:`INDEX_COLUMNS`)."""
    import pandas as pd

    path = Path(store) / INDEX
    try:
        df = pd.read_parquet(path)
    except Exception as e:  # noqa: BLE001 — pyarrow raises many kinds
        raise NotARun(f"{path}: not a store index: {type(e).__name__}: {e}") from e
    missing = [c for c in INDEX_COLUMNS if c not in df.columns]
    if missing:
        raise NotARun(f"{path}: not a store index (no column {', '.join(missing)})")
    return _typed(df)


def is_store(path) -> bool:
    return (Path(path) / INDEX).is_file()


__all__ = ["INDEX", "INDEX_COLUMNS", "ingest_each_run", "is_store", "read_index", "runs_in", "write_index"]


def each_run_command(dir_of_runs, store, force: bool, opts, quiet: bool, say) -> int:
    """``kubelog ingest --each-run``: what it prints, and its exit code (docs/failures.md)."""
    import typer

    from ..cli import die

    try:
        res = ingest_each_run(dir_of_runs, store, force=force, options=opts, progress=say)
    except KubelogError as e:
        die(str(e), e.exit_code)
    if quiet:  # failures and what was not read are said even so: one line each, naming the run
        for line in res.not_runs:
            typer.echo(line, err=True)
        for r in res.results:
            if not r.ok:
                typer.echo(_line(r), err=True)
            for x in r.not_read:
                typer.echo(x, err=True)
    landed = [r for r in res.results if r.ok]
    code = res.exit_code
    n = len(read_index(res.store))
    typer.echo(
        f"kubelog: {len(landed)} of {len(res.results)} runs ingested into {res.store}, which holds {n} "
        f"(index {res.store / INDEX})" + (f"; exit {code}: see the lines above" if code else ""),
        err=True,
    )
    typer.echo(str(res.store))
    return code
