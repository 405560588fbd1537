"""``kubelog ingest``: inputs → run directory (Parquet tables + manifest).

Steps: discover inputs (files, directories, archives) → pre-scan each input's
head and tail for format and year evidence → resolve the year anchor of every
input (its own evidence first, then the run's, DESIGN §4) → parse each input
(in parallel processes with ``jobs > 1``; else here, a large one's byte ranges and the small inputs
on one pool of worker processes: :func:`local_plan`) → write ``manifest.json`` and rename
the temporary directory into place.

One bad input never loses the run: its problem is recorded (named, with the
line where known) in the manifest and printed, and the other inputs go on.  What
stops the run instead (:class:`kubelog.errors.RunFailed`: a worker process that
died, a run directory that cannot be written) leaves no run directory behind
(docs/failures.md).
"""

from __future__ import annotations

import contextlib
import dataclasses
import fnmatch
import itertools
import os
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    import pandas as pd

from .. import __version__, formats, run as runmod, timeutil
from . import blocks, executors, folds
from . import pool as local
from ..errors import RunFailed
from ..remote import RemoteRun, is_url
from ..formats.base import HEAD_BYTES, Context, Head
from ..sources.lines import MAX_LINE, OVERLONG
from ..sources import InputError, InputRef, NotRead, discover, iter_opened, text_like

TAIL_BYTES = 64 * 1024
NOT_READ = ("error", "skipped")  # formats of inputs of which nothing was read (manifest "format")


@dataclass
class Options:
    """Options of one ingest (all optional)."""

    year: int | None = None  # --year: overrides in-band evidence
    tz: list[str] = field(default_factory=list)  # ["ZONE"] or ["GLOB=ZONE"]
    format: list[str] = field(default_factory=list)  # ["NAME"] or ["GLOB=NAME"]
    clock: list[str] = field(default_factory=list)  # ["GLOB=DOMAIN"]
    jobs: int = 1
    threads: int = 2
    processes: bool = True  # allow worker processes for one large input
    scheduler: str | None = None  # --scheduler: the inputs as tasks on Dask (engine.executors)
    # where the byte ranges of a large plain klog input run, if not on local worker processes
    # (engine.executors.DaskBlockPool: set by the engine for the inputs it splits on Dask)
    block_pool: object = field(default=None, repr=False, compare=False)
    # the local worker processes of the whole ingest (set by the engine: one pool for every input of an
    # ingest in this process, :func:`local_plan`), on which a large plain input's byte ranges run
    process_pool: object = field(default=None, repr=False, compare=False)
    # on_block(source_id, bytes done, lines done) as each block of an input parsed in this process is
    # merged (the progress bar; set by ingest(monitor=), never sent to another process)
    on_block: object = field(default=None, repr=False, compare=False)
    max_ratio: int = 200

    def check(self) -> None:
        """Refuse options no input could be read with, before anything is written: one line
        (:class:`kubelog.errors.UsageError`, exit 2) naming the option.  A year outside the
        nanosecond timestamps' range (1678–2261), a zone that is neither UTC, ±HH:MM nor a zone the
        converter knows (:func:`kubelog.timeutil.local_to_utc_ns`), a format name no parser has, or a
        rule with an empty value (``GLOB=``) would otherwise fail in every parser of every input."""
        import numpy as np

        from ..errors import UsageError

        if self.year is not None and not 1678 <= self.year <= 2261:
            raise UsageError(f"--year {self.year}: outside the range of nanosecond timestamps (1678 to 2261)")
        for flag, rules in (("--tz", self.tz), ("--input-format", self.format), ("--clock", self.clock)):
            for r in rules:
                value = r.split("=", 1)[1] if "=" in r and not r.startswith("=") else r
                if not value.strip():
                    raise UsageError(f"{flag} {r!r}: no value (VALUE or GLOB=VALUE)")
                if flag == "--tz":
                    try:
                        timeutil.local_to_utc_ns(np.zeros(1, dtype=np.int64), value)
                    except Exception:  # pandas/zoneinfo raise several types for an unknown zone
                        raise UsageError(
                            f"--tz {r!r}: {value!r} is not a time zone (UTC, +HH:MM or an IANA name "
                            "such as Asia/Shanghai)"
                        ) from None
                if flag == "--input-format" and value not in formats.registry():
                    raise UsageError(
                        f"--input-format {r!r}: unknown format {value!r}; known: {', '.join(formats.registry())}"
                    )

    def pick(self, rules: list[str], name: str) -> str | None:
        """Last matching ``GLOB=VALUE`` rule (a bare VALUE matches everything)."""
        found = None
        base = name.rsplit("!", 1)[-1]
        for r in rules:
            if "=" in r and not r.startswith("="):
                g, v = r.split("=", 1)
                if fnmatch.fnmatch(name, g) or fnmatch.fnmatch(base, g) or fnmatch.fnmatch(base.rsplit("/", 1)[-1], g):
                    found = v
            else:
                found = r
        return found


@dataclass
class Scan:
    """What the pre-scan learned about one logical input."""

    source_id: int
    ref: InputRef
    member_index: int
    display: str
    format: str
    evidence: list
    mtime: float | None
    year: int | None = None
    year_source: str = ""
    year_detail: str = ""
    problem: str = ""  # why it is not read (format "error" / "skipped"): one line naming it
    size_hint: int = 0  # its file's bytes, a compressed one counted 5x, 0 in an archive (as parse_one counts)


def _first_klog_md(payload_head: str) -> tuple[int | None, int | None]:
    import re

    m = re.search(r"^[IWEF](\d\d)(\d\d) \d\d:\d\d:\d\d\.\d{6} ", payload_head, re.M)
    if m:
        return int(m.group(1)), int(m.group(2))
    m = re.search(r"^(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) +(\d+) \d\d:\d\d:\d\d", payload_head, re.M)
    if m:
        return timeutil.MONTHS[m.group(1)], int(m.group(2))
    return None, None


def _wrapper_first_ts(head: Head) -> "pd.Timestamp | None":
    import re

    m = re.search(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)) ", head.text, re.M)
    if not m:
        m = re.search(r'"time":"(\d{4}-\d\d-\d\dT[^"]+)"', head.text)
    if m:
        try:
            import pandas as pd

            return pd.Timestamp(m.group(1)).tz_convert("UTC")
        except ValueError:
            return None
    return None


def prescan(refs: list[InputRef], opts: Options) -> list[Scan]:
    scans: list[Scan] = []
    for ref in refs:
        try:
            for k, op in enumerate(iter_opened(ref, opts.max_ratio)):
                if isinstance(op, NotRead):
                    scans.append(Scan(len(scans), ref, k, op.display, op.kind, [], None, problem=op.message))
                    continue
                head = Head(op.display, op.head(HEAD_BYTES))
                fmt_name = opts.pick(opts.format, op.display)
                if fmt_name is None and op.nul is not None and head.data.strip() and not text_like(head.data):
                    fmt_name = "binary"  # NUL bytes, and without them still not text
                if fmt_name is None:
                    fmt_name = sniff_name(head)
                    if fmt_name == "unknown":  # a long preamble (set -x output, flag dumps): look further
                        big = op.head(16 * HEAD_BYTES)
                        if len(big) > len(head.data):
                            fmt_name = sniff_name(Head(op.display, big))
                text = head.text
                tail = ""
                if not op.container and not op.compression:
                    try:
                        sz = os.path.getsize(ref.path)
                        if sz > HEAD_BYTES:
                            with open(ref.path, "rb") as f:
                                f.seek(max(HEAD_BYTES, sz - TAIL_BYTES))
                                tail = f.read().decode("utf-8", "replace")
                    except OSError:
                        pass
                ev = timeutil.year_evidence(text, op.display, _wrapper_first_ts(head))
                if tail:
                    ev += [e for e in timeutil.year_evidence(tail) if e.source != "artifact-name"]
                try:
                    mtime = os.path.getmtime(ref.path)
                except OSError:
                    mtime = None
                scans.append(Scan(len(scans), ref, k, op.display, fmt_name, ev, mtime, size_hint=_size_hint(ref, op)))
        except InputError as e:
            scans.append(Scan(len(scans), ref, -1, ref.display, "error", [], None, problem=str(e)))
    return scans


def sniff_name(head: Head) -> str:
    if b"\x00" in head.data[:8192]:
        return "binary"
    if not head.data.strip():
        return "empty"
    f = formats.detect(head)
    return f.name if f else "unknown"


def resolve_years(scans: list[Scan], opts: Options) -> None:
    """Give every input its year anchor and say where it came from (DESIGN §4)."""
    all_ev = [e for s in scans for e in s.evidence if e.source != "artifact-name" or True]
    run_best = timeutil.best(all_ev)
    for s in scans:
        if opts.year is not None:
            s.year, s.year_source, s.year_detail = opts.year, "user", "--year"
            continue
        own = timeutil.best(s.evidence)
        if own is not None:
            s.year, s.year_source, s.year_detail = own.year, own.source, own.detail
        elif run_best is not None:
            s.year, s.year_source = run_best.year, "run"
            s.year_detail = f"from another input of the run: {run_best.detail}"
        elif s.mtime is not None:
            y = time.gmtime(s.mtime).tm_year
            s.year, s.year_source, s.year_detail = y, "mtime", "file modification time (last resort; pass --year)"
        else:
            s.year, s.year_source, s.year_detail = 1970, "none", "no evidence at all (pass --year)"


def _count_lines(stream) -> int:
    n = 0
    last = b""
    while True:
        b = stream.read(8 << 20)
        if not b:
            break
        n += b.count(b"\n")
        last = b
    if last and not last.endswith(b"\n"):
        n += 1
    return n


def _drain(stream) -> None:
    while stream.read(8 << 20):
        pass


def parse_ref(ref: InputRef, scans: list[Scan], opts: Options, tmp: str) -> list[dict]:
    """Parse every input of one ref (a file or an archive); returns manifest entries."""
    by_member = {s.member_index: s for s in scans}
    entries = []
    done = -1
    try:
        for k, op in enumerate(iter_opened(ref, opts.max_ratio)):
            done = k
            s = by_member.get(k)
            if s is None or isinstance(op, NotRead) or s.format in NOT_READ:
                continue  # not-read members have their entries from the pre-scan
            entries.append(parse_one(op, s, opts, _root(tmp)))
    except RunFailed:
        raise
    except InputError as e:
        # the archive broke between members: say so on the last entry, keep the rest; the members
        # the pre-scan found after it are not read, each says so
        if entries:
            entries[-1].setdefault("errors", []).append(str(e))
            entries[-1]["read_complete"] = False
        later = [s for s in scans if s.member_index > done and s.format not in NOT_READ]
        for s in later:
            entries.append(_error_entry(s, f"{s.display}: not read: {e}"))
        if not entries:
            entries.append(_error_entry(scans[0], str(e)))
    return entries


def _root(tmp):
    """Where an input's parts go: the temporary run directory, or the run's URL and the ingest's token."""
    return tmp if isinstance(tmp, RemoteRun) else Path(tmp)


def _error_entry(s: Scan, msg: str, fmt: str = "error") -> dict:
    return {
        "source_id": s.source_id,
        "path": s.display,
        "format": fmt,
        "lines_read": 0,
        "record_lines": 0,
        "continuation_lines": 0,
        "counted": {},
        "rows": {},
        "errors": [msg],
        "read_complete": fmt == "skipped",
    }


def not_read(entries: list[dict]) -> list[dict]:
    """The entries of inputs not read, not read to their end, or not wholly parsed, because of an error (not the
    ones skipped on purpose): a parser that failed, lines lost with a failed block or left unaccounted.  When
    there are any, ``kubelog ingest`` exits 8 (``ExitCode.UNREAD``): exit 0 means every line is accounted for."""
    return [e for e in entries if _unread(e)]


def _unread(e: dict) -> bool:
    from ..info import balanced

    return (
        e["format"] == "error" or e.get("read_complete") is False or e.get("parse_complete") is False or not balanced(e)
    )


def quiet_lines(entries: list[dict]) -> list[str]:
    """What ``-q`` still says, one line per input: those skipped or not read (:data:`NOT_READ`, e.g. a
    symbolic link not followed) and those of :func:`not_read`."""
    return [not_read_line(e) for e in entries if e["format"] in NOT_READ or _unread(e)]


def not_read_line(e: dict) -> str:
    """The one stderr line naming an entry of :func:`not_read`: the path and what was not read or parsed."""
    if e["format"] in NOT_READ:
        return _progress_line(e)
    if e.get("read_complete") is False or e.get("parse_complete") is False:
        return e["errors"][-1].splitlines()[0] if e["errors"] else e["path"]
    lost, bug = e.get("lost_lines", 0), (e.get("counted") or {}).get("unaccounted (parser bug)", 0)
    first = next((x.splitlines()[0] for x in e.get("errors") or [] if "parser" in x or "lost" in x), None)
    return first or f"{e['path']}: {lost + bug:,} lines not accounted for (lost {lost:,}, parser bug {bug:,})"


def _size_hint(ref: InputRef, op) -> int:
    """The size an input counts as for worker processes: its file's bytes, a compressed one 5x (larger
    than its file), 0 for a member of an archive."""
    if op.container:
        return 0
    try:
        return os.path.getsize(ref.path) * (5 if op.compression else 1)
    except OSError:
        return 0


def parse_one(op, s: Scan, opts: Options, tmp) -> dict:
    writer = runmod.PartWriter(tmp, s.source_id)
    tz = opts.pick(opts.tz, s.display) or "UTC"
    size_hint = _size_hint(s.ref, op)
    ctx = Context(
        s.source_id,
        s.display,
        writer,
        clock=opts.pick(opts.clock, s.display) or "",
        year=s.year,
        year_source=s.year_source,
        tz=tz,
        options={
            "threads": opts.threads,
            "size_hint": size_hint,
            "tz_explicit": opts.pick(opts.tz, s.display) is not None,  # else a format may set it
            # no worker processes inside --jobs worker processes
            "allow_processes": opts.jobs <= 1 and opts.processes,
            "block_pool": opts.block_pool,
            "process_pool": opts.process_pool,
            # a plain file (no compression, not in an archive) may be read by range
            "plain_path": s.ref.path if not op.compression and not op.container and op.nul is None else None,
            # where a block's task writes its parts (engine.blocks, engine.folds): a directory, or a RemoteRun
            "part_root": tmp if isinstance(tmp, RemoteRun) else str(tmp),
        },
    )
    t0 = time.perf_counter()
    fmt_name = s.format
    read_complete = True
    parse_complete = True
    try:
        if fmt_name in ("unknown", "binary", "empty"):
            first = op.head(400).decode("utf-8", "replace").splitlines()
            first = first[0][:200] if first and fmt_name != "binary" else None
            n = _count_lines(op.stream)
            ctx.lines_read = n
            reason = {
                "unknown": "unknown format (no sniffer claimed the input)",
                "binary": "binary content (NUL bytes), not a log",
                "empty": "empty input",
            }[fmt_name]
            if n:
                ctx.count(reason, 1, first, n=n, severity="warning" if fmt_name != "empty" else "info")
            if fmt_name == "binary":
                ctx.error("binary content (NUL bytes in the first 8 KiB): not parsed")
        else:
            fmt = formats.get(fmt_name)
            if fmt.plan is not None:  # splittable: its blocks planned, run and merged here (engine.blocks)
                blocks.parse_input(fmt.plan(op.stream, ctx), op.stream, ctx, _block_progress(opts.on_block, s, op))
            elif fmt.fold is not None:  # its blocks prepared anywhere, folded here in order (engine.folds)
                folds.parse_input(fmt, op.stream, ctx, _block_progress(opts.on_block, s, op))
            else:
                fmt.parse(op.stream, ctx)
        if ctx.read_externally is None:
            _drain(op.stream)
    except RunFailed:
        raise
    except InputError as e:
        read_complete = False  # a read error, a truncated or refused stream: the input was not read to its end
        ctx.error(
            str(e).replace(f"{s.display}: ", "", 1) if str(e).startswith(s.display) else str(e), ctx.lines_read or None
        )
    except Exception as e:  # a parser bug must not lose the run
        parse_complete = False  # what it had parsed and not yet written is lost: exit 8 (docs/failures.md)
        tb = traceback.format_exc(limit=4)
        ctx.error(f"parser {fmt_name} failed: {type(e).__name__}: {e}\n{tb}", ctx.lines_read or None)
    _report_reader_findings(ctx, op, fmt_name)
    ctx.check_accounting()
    st = ctx.stats_table()
    if st.num_rows:
        writer("parse_stats", st)
    writer.close()
    h = op.hasher
    sha, nbytes = ctx.read_externally or (h.sha.hexdigest(), h.nbytes)
    entry = {
        "source_id": s.source_id,
        "path": s.display,
        "sha256": sha,
        "bytes": nbytes,
        "compression": op.compression,
        "container": op.container,
        "format": fmt_name,
        "wrapper": ctx.info.get("wrapper", ""),
        "component": ctx.info.get("component", ""),
        "clock": ctx.clock,
        "tz": ctx.tz,
        "year": s.year,
        "year_source": s.year_source,
        "year_detail": s.year_detail,
        "lines_read": ctx.lines_read,
        "record_lines": ctx.record_lines,
        "continuation_lines": ctx.continuation_lines,
        "counted": {k: v.count for k, v in ctx.stats.items() if v.count},
        "lost_lines": ctx.lost_lines,  # read but not parsed (docs/failures.md); the ranges in "lost"
        "lost": ctx.lost,
        "rows": dict(sorted(ctx.rows.items())),
        "info": {k: v for k, v in ctx.info.items() if k not in ("wrapper", "component")},
        "errors": ctx.errors,
        "read_complete": read_complete,
        "parse_complete": parse_complete,
        "parse_seconds": round(time.perf_counter() - t0, 3),
    }
    return entry


def _block_progress(on_block, s: Scan, op):
    """``progress(lines, byte end)`` for :func:`kubelog.engine.blocks.parse_input`: the input's bytes
    and lines so far to ``on_block`` (bytes: the range's end, else what the stream has read)."""
    if on_block is None:
        return None
    done = [0]

    def progress(lines: int, end: int | None) -> None:
        done[0] += lines
        on_block(s.source_id, end if end is not None else op.hasher.nbytes, done[0])

    return progress


def _report_reader_findings(ctx: Context, op, fmt_name: str) -> None:
    """Say, as problems naming the file and line, what the reader removed or skipped."""
    nul = op.nul
    if nul is not None and nul.nul_bytes and fmt_name != "binary":
        ctx.info["nul_bytes"] = nul.nul_bytes
        ctx.info["nul_lines"] = nul.lines
        ctx.error(
            f"{nul.nul_bytes:,} NUL bytes removed from {nul.lines:,} line(s), the first at line {nul.first_line} "
            "(a pre-allocated or crash-damaged file?); the text around them was parsed",
            nul.first_line,
        )
    st = ctx.stats.get(OVERLONG)
    if st is not None and st.count:
        first = st.examples[0]["line_no"] if st.examples else None
        ctx.error(
            f"{st.count:,} line(s) longer than {MAX_LINE >> 20} MiB skipped (counted as {OVERLONG!r}), "
            f"the first at line {first}",
            first,
        )


def _parse_ref_job(args):
    local.freeze_imports()  # in a --jobs worker process
    ref, scans, opts, tmp = args
    return parse_ref(ref, scans, opts, tmp)


def klog_process_min_bytes() -> int:
    """The size from which a plain klog or audit input is parsed by byte ranges (``blocks.PROCESS_MIN_BYTES``)."""
    return blocks.PROCESS_MIN_BYTES


def _parse_ref_task(args):
    """A whole-input task on an executor that may run it again (Dask, after a lost worker): what an
    earlier attempt wrote of these inputs goes first."""
    ref, scans, opts, tmp = args
    executors.remove_parts_of(tmp, {s.source_id for s in scans})
    return parse_ref(ref, scans, opts, tmp)


def ingest(
    paths,
    out,
    *,
    force: bool = False,
    options: Options | None = None,
    progress: Callable[[str], None] | None = None,
    monitor=None,
    **kw,
) -> runmod.Run:
    """Ingest ``paths`` (files, directories, archives) into the run directory ``out``.

    Parameters
    ----------
    paths : list of path-like
    out : path-like or str
        Run directory to create, or an fsspec URL (``s3://bucket/runs/r1``: the run is written there
        through fsspec and committed by its manifest, :mod:`kubelog.remote`).  Refused if it exists,
        unless ``force``.
    options : Options, optional
        year / tz / format / clock overrides, ``jobs`` (processes), ``threads`` per input.
    progress : callable(str), optional
        Receives one line per finished input (the CLI prints them to stderr).
    monitor : optional
        An object with ``start(inputs)`` (``[(source_id, name, bytes)]`` of the inputs to parse),
        ``advance(source_id, bytes, lines)`` (as each block of an input parsed in this process is
        merged) and ``done(entry)`` (each finished input's manifest entry): the CLI's progress bar.

    Returns
    -------
    Run
        The opened run.  Problems with single inputs are in
        ``run.manifest["inputs"][i]["errors"]`` (and lines lost in ``["lost"]``); nothing is
        raised for them.

    Raises
    ------
    kubelog.errors.KubelogError
        ``RunExists`` (``out`` exists, no ``force``), ``UnsafeOutput`` (``force`` on what is not a
        kubelog run, or ``out`` and an input overlap), ``OutputBusy`` (another ingest writes
        ``out``), ``OutputError`` (``out`` cannot be written), ``WorkerFailed`` (a worker process
        died); for all of these no run directory is left (docs/failures.md).
    kubelog.sources.InputError
        No input files at all.
    """
    opts = options or Options(**kw)
    opts.check()  # a bad year, zone or format name: one line, exit 2, before anything is written
    remote = is_url(out)
    out = out.rstrip("/") if remote else Path(out)
    refs = discover(list(paths))
    if not refs:
        raise InputError("no input files found in " + ", ".join(map(str, paths)))
    # the inputs as given, and the files found in them; a symbolic link inside an input directory is not
    # followed (it is a skipped entry), so where it points is no input either
    found = [r.path for r in refs if not os.path.islink(r.path)]
    if remote:  # no directory to rename: parts named by this ingest's token, the manifest commits
        from .. import remote as remote_out

        tmp = remote_out.prepare(out, force, inputs=found + list(paths))
    else:
        tmp = runmod.prepare(out, force, inputs=found + list(paths))
    part_root = tmp if remote else str(tmp)
    if opts.processes and opts.jobs <= 1 and opts.threads > 1 and not opts.scheduler:
        # the workers' fork server imports the parsers (~1 s) while this process sniffs the inputs
        local.start_early([r.path for r in refs])
    import gc

    gc.freeze()  # parsing here: the collector need not walk what was imported (undone below)
    try:
        t0 = time.perf_counter()
        scans = prescan(refs, opts)
        resolve_years(scans, opts)
        groups: dict[InputRef, list[Scan]] = {}
        for s in scans:
            groups.setdefault(s.ref, []).append(s)
        entries: list[dict] = []
        jobs = [(ref, ss, opts, part_root) for ref, ss in groups.items()]
        error_scans = [s for s in scans if s.format in NOT_READ]
        jobs = [j for j in jobs if not all(s.format in NOT_READ for s in j[1])]
        for s in error_scans:
            entries.append(_error_entry(s, s.problem, s.format))
            if progress:
                progress(_progress_line(entries[-1]))
        if monitor is not None:
            monitor.start([(s.source_id, s.display, _size(s)) for j in jobs for s in j[1] if s.format not in NOT_READ])
            opts = dataclasses.replace(opts, on_block=monitor.advance)
            jobs = [(ref, ss, opts, t) for ref, ss, _, t in jobs]
        executor = executors.for_options(opts, len(jobs), str(out))
        with executor.session(), contextlib.ExitStack() as stack:
            topts = executors.task_options(opts, executor)
            split, whole = [], []
            for ref, ss, _, t in jobs:
                if isinstance(executor, executors.DaskExecutor) and executors.splittable(
                    ref, ss, klog_process_min_bytes()
                ):
                    split.append((ref, ss, t))
                else:
                    whole.append((ref, ss, topts, t))
            task = _parse_ref_task if isinstance(executor, executors.DaskExecutor) else _parse_ref_job
            plan = local_plan(whole) if isinstance(executor, executors.InProcess) else None
            if plan is not None:  # one pool of worker processes for the whole ingest (local_plan)
                pool = stack.enter_context(local.pool(opts.threads, str(out)))
                results = _here_and_beside(whole, plan, pool)
            else:
                results = executor.map(task, whole, [j[0].display for j in whole])  # on Dask: submitted now
            if split:  # planned here: their byte ranges are the Dask tasks (engine.blocks, engine.folds)
                sopts = dataclasses.replace(opts, block_pool=executor.block_pool(), jobs=1, processes=True)
                for ref, ss, t in split:
                    results = itertools.chain(results, [parse_ref(ref, ss, sopts, t)])
            for res in results:
                for e in res:
                    entries.append(e)
                    if monitor is not None:
                        monitor.done(e)
                    if progress:
                        progress(_progress_line(e))
        entries.sort(key=lambda e: e["source_id"])
        manifest = {
            "kubelog_version": __version__,
            "run_format": 1,
            "inputs": entries,
            "options": {"year": opts.year, "tz": opts.tz, "format": opts.format, "clock": opts.clock},
            "tables": {},
            "ingest_seconds": round(time.perf_counter() - t0, 3),
        }
        if remote:
            for line in remote_out.finish(tmp, manifest):
                if progress:
                    progress(line)
        else:
            runmod.finish(tmp, out, manifest)
    except BaseException:
        if remote:
            remote_out.abandon(tmp)  # deletes the parts this ingest wrote (its token), nothing else
        else:
            runmod.abandon(tmp)  # removes what this ingest wrote, and releases the output's lock
        raise
    finally:
        gc.unfreeze()
    run = runmod.open_run(out)
    return run


def _may_use_processes(scans: list[Scan]) -> bool:
    """Whether parsing the inputs ``scans`` (of one ref) may use worker processes: one of
    :data:`blocks.PROCESS_MIN_BYTES` or more, as :func:`parse_one` counts it (its format decides
    whether it does: a large klog or audit log does)."""
    return any(s.size_hint >= blocks.PROCESS_MIN_BYTES and _splittable(s.format) for s in scans)


def _splittable(fmt_name: str) -> bool:
    """Whether :func:`parse_one` parses an input of this format by blocks (``plan``: klog; ``fold``: the
    audit log), the only ones whose byte ranges go to worker processes; an object dump or a test log is
    parsed whole, however large, and so may run beside."""
    if fmt_name in NOT_READ or fmt_name not in formats.registry():  # also "unknown", "binary", "empty"
        return False
    fmt = formats.get(fmt_name)
    return fmt.plan is not None or fmt.fold is not None


def local_plan(jobs: list) -> list[bool] | None:
    """Where the inputs of an ingest in this process run (no ``--jobs``, no ``--scheduler``): None when
    no input uses worker processes (every input here, one after the other, as before), else one flag per
    job of ``jobs`` (``(ref, scans, options, tmp)``): True for an input parsed by a task on the ingest's
    worker processes (*beside*), False for one parsed here, whose large plain file's byte ranges are
    tasks on the same processes.  One pool serves the whole ingest: the small inputs (object dumps, test
    logs, small component logs) are its first tasks, parsed while this process reads and hashes the
    first large input's ranges, instead of after it with the workers idle; and the workers start once,
    not once per large input (docs/internals.md, "The ingest engine")."""
    if not jobs:
        return None
    opts = jobs[0][2]
    if not (opts.processes and opts.jobs <= 1 and opts.threads > 1 and opts.scheduler is None):
        return None
    here = [_may_use_processes(scans) for _, scans, *_ in jobs]
    if not any(here):
        return None
    return [not h for h in here]


def _here_and_beside(jobs: list, beside: list[bool], pool):
    """The manifest entries of ``jobs`` in order: those ``beside`` as tasks on ``pool`` (submitted first,
    from a thread: starting the workers waits for the fork server's imports), the others parsed here
    with their byte ranges on ``pool`` (:func:`local_plan`)."""
    import threading

    opts = jobs[0][2]
    here_opts = dataclasses.replace(opts, process_pool=pool)
    task_opts = dataclasses.replace(opts, processes=False, on_block=None, process_pool=None)
    futs: dict[int, object] = {}

    def submit():
        for i, (ref, ss, _, t) in enumerate(jobs):
            if beside[i]:
                futs[i] = pool.submit(_parse_ref_job, (ref, ss, task_opts, t))

    th = threading.Thread(target=submit, name="kubelog-submit", daemon=True)
    th.start()
    try:
        for i, (ref, ss, _, t) in enumerate(jobs):
            if beside[i]:
                th.join()
                if i not in futs:  # the pool refused the task (a worker died): the run fails
                    raise _refused(ref)
                yield local.result(futs[i], ref.display, "parsing it")
            else:
                yield parse_ref(ref, ss, here_opts, t)
    finally:
        th.join()


def _refused(ref: InputRef):
    from ..errors import WorkerFailed

    return WorkerFailed(
        f"{ref.display}: a worker process died (killed, out of memory or crashed) before it was parsed; "
        f"the run was not written{local.script_hint()}"
    )


def _size(s: Scan) -> int:
    """The bytes of an input's file, for the progress bar (its compressed size; 0 in an archive)."""
    if s.display != s.ref.display:  # a member of an archive
        return 0
    try:
        return os.path.getsize(s.ref.path)
    except OSError:
        return 0


def _progress_line(e: dict) -> str:
    if e["format"] in NOT_READ and e.get("errors"):
        return e["errors"][0].splitlines()[0]  # one line, naming the path
    rows = ", ".join(f"{k} {v:,}" for k, v in e.get("rows", {}).items() if k != "parse_stats")
    s = f"{e['path']}: {e['format']}, {e['lines_read']:,} lines" + (f" → {rows}" if rows else "")
    for err in e.get("errors", []):
        s += f"\n  problem: {err.splitlines()[0]}"
    return s
