"""Writing and opening a run directory.

Layout::

    RUN/manifest.json
    RUN/<table>/part-<source_id>-<seq>.parquet

A run is written into ``.RUN.tmp-<pid>`` next to its final place and renamed at
the end, so an interrupted ingest never leaves a directory that looks complete
(a complete run always has ``manifest.json`` with ``"complete": true``).  While it is
written, ``.RUN.lock`` beside it is locked (``flock``; removed at the end) so that a second
ingest to the same output fails at once; a temporary directory left by a killed ingest (its process gone) is
removed by the next ingest into the same parent directory.  ``--force`` replaces only a
directory that is a kubelog run (docs/failures.md).

A run at an fsspec URL (``s3://…``) has no rename and no lock: its parts are named by the ingest's
token and its manifest, written last, lists them and commits it (:mod:`kubelog.remote`);
:func:`open_run` opens either, and :class:`Run` reads a URL's listed parts through ``Run.fs``.
"""

from __future__ import annotations

import functools
import inspect
import json
import os
import re
import shutil
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from . import tables
from .errors import NotARun, OutputBusy, RunExists, UnsafeOutput, output_error
from .remote import RemoteRun, is_url

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow.parquet as pq

MANIFEST = "manifest.json"
PART_ROWS = 131_072  # rows buffered per table before a row group is written ...
PART_BYTES = 4 << 20  # ... or this many bytes of them, whichever comes first


def open_part(path, table: str, schema: pa.Schema, filesystem=None) -> pq.ParquetWriter:
    """A Parquet writer for one part file of ``table``: snappy (none for ``tables.UNCOMPRESSED``),
    dictionary encoding only on the low-cardinality string columns, statistics only on ``ts``.

    ``schema`` may have dictionary-encoded string columns (:func:`kubelog.tables.conform`
    with ``dictionary``): their dictionaries are written as they are, and the file then
    does not store the Arrow schema, so that it reads back with the declared string type.

    ``filesystem``: an fsspec filesystem ``path`` is in (a run at a URL, :mod:`kubelog.remote`),
    which pyarrow's writer writes through.
    """
    import pyarrow.parquet as pq  # here: `import kubelog.run` stays light for what only reads a manifest

    has_dict = any(pa.types.is_dictionary(f.type) for f in schema)
    return pq.ParquetWriter(
        path,
        schema,
        compression=tables.compression(table),
        use_dictionary=tables.dictionary_columns(table),
        write_statistics=["ts"] if "ts" in schema.names else False,
        store_schema=not has_dict,
        filesystem=filesystem,
    )


def write_part(path, table: str, t: pa.Table, filesystem=None) -> None:
    """Write ``t`` (rows of ``table``) as one Parquet part file, with the layout of :func:`open_part`."""
    with open_part(path, table, t.schema, filesystem) as w:
        w.write_table(t, row_group_size=PART_ROWS)


class PartWriter:
    """Streams rows of each table for one input into Parquet files.

    Rows are buffered per table until :data:`PART_ROWS` rows or :data:`PART_BYTES`
    bytes and then written as a row group of ``<table>/part-<source_id>-0000.parquet`` (one open writer per table),
    so memory stays bounded whatever the size of the input.  Thread-safe.  ``root``: the temporary
    run directory, or a :class:`kubelog.remote.RemoteRun` (the parts go to its URL).
    """

    def __init__(self, root, source_id: int):
        self.root = root
        self.source_id = source_id
        self._buf: dict[str, list[pa.Table]] = {}
        self._n: dict[str, int] = {}
        self._bytes: dict[str, int] = {}
        self._writers: dict[str, pq.ParquetWriter] = {}
        self._lock = threading.Lock()

    def __call__(self, table: str, t: pa.Table) -> None:
        with self._lock:
            self._buf.setdefault(table, []).append(t)
            self._n[table] = self._n.get(table, 0) + t.num_rows
            self._bytes[table] = self._bytes.get(table, 0) + t.nbytes
            if self._n[table] >= PART_ROWS or self._bytes[table] >= PART_BYTES:
                try:
                    self._flush(table)
                except OSError as e:  # disk full, read-only: the run fails (not a problem of the input)
                    raise output_error(self.root / table, e) from None

    def _flush(self, table: str) -> None:
        parts = self._buf.pop(table, [])
        self._n.pop(table, None)
        self._bytes.pop(table, None)
        if not parts:
            return
        t = pa.concat_tables(parts)
        if t.num_rows == 0:
            return
        w = self._writers.get(table)
        if w is None:
            stem = f"part-{self.source_id:05d}-0000"
            if isinstance(self.root, RemoteRun):
                self.root.makedirs(table)
                w = open_part(self.root.part_path(table, stem), table, t.schema, self.root.fs)
            else:
                d = self.root / table
                d.mkdir(parents=True, exist_ok=True)
                w = open_part(d / f"{stem}.parquet", table, t.schema)
            self._writers[table] = w
        w.write_table(t)

    def close(self) -> None:
        with self._lock:
            try:
                for table in list(self._buf):
                    self._flush(table)
            except OSError as e:
                raise output_error(self.root, e) from None
            finally:  # every writer closed, also after one failed (none left to fail again when collected)
                first = None
                for w in self._writers.values():
                    try:
                        w.close()
                    except OSError as e:
                        first = first or e
                self._writers.clear()
            if first is not None:
                raise output_error(self.root, first) from None


TMP_MARKER = ".kubelog-tmp"  # in every temporary run directory: "<pid> <process start time>"
_LEFTOVER_RE = re.compile(r"^\.(?P<name>.+)\.(?P<kind>tmp|old)-(?P<pid>[0-9]+)$")


def tmp_dir_for(out: Path) -> Path:
    return out.parent / f".{out.name}.tmp-{os.getpid()}"


def lock_path(out: Path) -> Path:
    return out.parent / f".{out.name}.lock"


def _start_time(pid: int) -> str:
    """The start time of process ``pid`` (clock ticks since boot, /proc/PID/stat field 22), to
    tell it from a later process with the same pid; "" where /proc is not there; None if no
    such process."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[19].decode()
    except FileNotFoundError:
        return None
    except (OSError, IndexError):
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass
    return ""


def _alive(pid: int, started: str) -> bool:
    now = _start_time(pid)
    return now is not None and (not started or not now or now == started)


def _marker() -> str:
    return f"{os.getpid()} {_start_time(os.getpid()) or ''}".strip()


def is_run_dir(path: Path) -> bool:
    """Whether ``path`` is a directory kubelog wrote as a run and nothing else: a manifest of
    kubelog's and table directories of part files, nothing more (what ``--force`` may delete)."""
    return _foreign(path) is None


def _foreign(path: Path) -> str | None:
    """Why ``path`` is not (only) a kubelog run directory, or None if it is one."""
    if path.is_symlink():
        return "it is a symbolic link"
    if not path.is_dir():
        return "it is not a directory"
    try:
        m = json.loads((path / MANIFEST).read_text())
        if not (isinstance(m, dict) and m.get("complete") is True and isinstance(m.get("inputs"), list)):
            raise ValueError
    except (OSError, ValueError):
        return f"it has no {MANIFEST} written by kubelog"
    for e in os.scandir(path):
        if e.name in (MANIFEST, TMP_MARKER):
            continue
        if e.name not in tables.TABLES or not e.is_dir(follow_symlinks=False):
            return f"it holds {e.name!r}, which kubelog did not write"
        for f in os.scandir(e.path):
            if not (f.name.startswith("part-") and f.name.endswith(".parquet") and f.is_file(follow_symlinks=False)):
                return f"it holds {e.name}/{f.name!r}, which kubelog did not write"
    return None


def _inside(a: str, b: str) -> bool:
    """Whether path ``a`` is ``b`` or below it (both absolute and resolved)."""
    return a == b or a.startswith(b.rstrip(os.sep) + os.sep)


def check_overlap(out: Path, inputs) -> None:
    """Refuse an output inside an input directory (or the input itself) and an input inside the output."""
    o = os.path.realpath(out)
    for p in inputs:
        i = os.path.realpath(p)
        if _inside(o, i):
            raise UnsafeOutput(f"{out}: the output is inside the input {p}; choose an --out outside it")
        if _inside(i, o):
            raise UnsafeOutput(f"{out}: the input {p} is inside the output; choose another --out")


def remove_leftovers(parent: Path) -> list[Path]:
    """Remove the temporary directories (``.NAME.tmp-PID``, ``.NAME.old-PID``) that kubelog ingests
    left in ``parent`` when they were killed: only those with kubelog's marker file (or, for an
    ``old`` one, a kubelog run) whose process is gone.  Returns what was removed."""
    gone = []
    try:
        entries = list(os.scandir(parent))
    except OSError:
        return gone
    for e in entries:
        m = _LEFTOVER_RE.match(e.name)
        if not m or not e.is_dir(follow_symlinks=False) or int(m["pid"]) == os.getpid():
            continue
        try:
            mark = (Path(e.path) / TMP_MARKER).read_text().split()
        except (OSError, UnicodeDecodeError):
            mark = None
        if mark:
            if not mark[0].isdigit() or int(mark[0]) != int(m["pid"]):
                continue
            started = mark[1] if len(mark) > 1 else ""
        elif m["kind"] == "old" and is_run_dir(Path(e.path)):
            started = ""
        else:
            continue
        if _alive(int(m["pid"]), started):
            continue
        shutil.rmtree(e.path, ignore_errors=True)
        gone.append(Path(e.path))
    return gone


class OutputLock:
    """An exclusive ``flock`` on ``.NAME.lock`` beside the output, held while a run is written:
    a second ingest to the same output fails at once (:class:`OutputBusy`) instead of replacing
    the first one's run.  The OS releases it on any exit, a kill included.  The file is removed on
    release; who locks checks that the file it locked is still the one at the path (else it
    locked a file just removed, and tries again)."""

    def __init__(self, out: Path):
        try:
            import fcntl
        except ImportError:  # not POSIX (Windows): no lock
            fcntl = None
        self.path = lock_path(out)
        self.fd = None
        for _ in range(100):
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
            except OSError as e:
                raise output_error(out.parent, e, "cannot create the run directory there") from None
            try:
                if fcntl is not None:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                try:
                    holder = os.pread(fd, 64, 0).decode(errors="replace").strip()
                except OSError:
                    holder = ""
                os.close(fd)
                raise OutputBusy(
                    f"{out}: another kubelog ingest{f' (pid {holder})' if holder else ''} is "
                    "writing this output; wait for it to finish or choose another --out"
                ) from None
            except OSError:  # a file system without locks: go on unlocked
                pass
            try:
                same = os.stat(self.path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                self.fd = fd
                break
            os.close(fd)  # it was removed by the ingest that held it: lock the new one
        else:
            raise OutputBusy(f"{out}: could not lock {self.path}")
        try:
            os.ftruncate(self.fd, 0)
            os.pwrite(self.fd, f"{os.getpid()}\n".encode(), 0)
        except OSError:
            pass

    def release(self) -> None:
        if self.fd is not None:
            try:
                os.unlink(self.path)  # while still locked: nobody holds a lock on a removed file for long
            except OSError:
                pass
            os.close(self.fd)  # releases the lock
            self.fd = None


_LOCKS: dict[Path, OutputLock] = {}  # temporary run directory -> the lock of its output


def prepare(out: Path, force: bool = False, inputs=()) -> Path:
    """Check ``out`` may be written, lock it, and return a fresh temporary directory beside it
    (with its marker file).  :func:`finish` moves it into place, :func:`abandon` removes it; both
    release the lock.

    Raises :class:`UnsafeOutput` when ``out`` overlaps an input or when ``force`` would delete
    a directory that is not a kubelog run, :class:`RunExists` when it exists and not ``force``,
    :class:`OutputBusy` when another ingest writes it, :class:`OutputError` when it cannot be
    written."""
    out = Path(os.path.abspath(out))
    if out.parent == out:
        raise UnsafeOutput(f"{out}: a file system root cannot be the run directory")
    check_overlap(out, inputs)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise output_error(out.parent, e, "cannot create the run directory's parent") from None
    lock = OutputLock(out)
    try:
        if out.exists() or out.is_symlink():
            if not force:
                raise RunExists(f"{out} exists; use --force to replace it")
            why = _foreign(out)
            if why is not None:
                raise UnsafeOutput(
                    f"{out}: --force replaces only a kubelog run directory, and {why}; "
                    "remove it yourself or choose another --out"
                )
        remove_leftovers(out.parent)
        tmp = tmp_dir_for(out)
        try:
            if tmp.exists():
                shutil.rmtree(tmp)
            tmp.mkdir()
            (tmp / TMP_MARKER).write_text(_marker() + "\n")
        except OSError as e:
            raise output_error(tmp, e, "cannot create the temporary run directory") from None
    except BaseException:
        lock.release()
        raise
    _LOCKS[tmp] = lock
    return tmp


def _unlock(tmp: Path) -> None:
    lock = _LOCKS.pop(tmp, None)
    if lock is not None:
        lock.release()


def abandon(tmp: Path) -> None:
    """Remove the temporary run directory of a failed or interrupted ingest and release its lock."""
    try:
        shutil.rmtree(tmp, ignore_errors=True)
    finally:
        _unlock(tmp)


def finish(tmp: Path, out: Path, manifest: dict) -> None:
    """Write the manifest and move the finished run into place (and release the output's lock)."""
    try:
        _finish(tmp, out, manifest)
    finally:
        _unlock(tmp)


def _finish(tmp: Path, out: Path, manifest: dict) -> None:
    manifest = dict(manifest, complete=True)
    out = Path(os.path.abspath(out))
    try:
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=False, default=str) + "\n")
    except OSError as e:
        raise output_error(tmp / MANIFEST, e) from None
    try:
        if out.exists() or out.is_symlink():
            why = _foreign(out)  # checked by prepare(); something may have been put there since
            if why is not None:
                raise UnsafeOutput(f"{out}: --force replaces only a kubelog run directory, and {why}")
            old = out.parent / f".{out.name}.old-{os.getpid()}"
            out.rename(old)
            tmp.rename(out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(out)
    except OSError as e:
        raise output_error(out, e, "cannot move the finished run into place") from None
    try:
        (out / TMP_MARKER).unlink()
    except OSError:
        pass


@dataclass
class Run:
    """An opened run directory: the manifest and lazy access to the tables.

    >>> run = open_run("out/run1")          # doctest: +SKIP
    >>> run.requests().groupby("verb").size()   # one row per request   # doctest: +SKIP
    >>> run.table("messages")                    # any table, one row per record   # doctest: +SKIP
    """

    path: Path
    manifest: dict[str, Any]
    #: a run at a URL (:mod:`kubelog.remote`): its fsspec filesystem and its path in it (None for a run directory)
    fs: Any = field(default=None, repr=False, compare=False)
    root: str = field(default="", repr=False)
    #: what :func:`memoized` analyses computed inside :meth:`shared` (None outside it)
    _memo: dict | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def inputs(self) -> list[dict]:
        return self.manifest.get("inputs", [])

    @contextmanager
    def shared(self):
        """Within this block the analyses marked :func:`memoized` (the skew analysis, the load timeline,
        pod start-up, the Kubernetes version) are computed once per set of arguments and shared by
        every caller, as the report does: its sections and the analyses under them ask for the same
        ones many times (the load timeline five times, the skew analysis twice).  Leaving the
        outermost block forgets them.  The results are shared objects: callers must not change them.

        >>> with run.shared():                       # doctest: +SKIP
        ...     build_model(run)
        """
        outer = self._memo is not None
        if not outer:
            self._memo = {}
        try:
            yield self
        finally:
            if not outer:
                self._memo = None

    def has(self, table: str) -> bool:
        if self.fs is not None:
            return bool(self.part_files(table))
        d = self.path / table
        return d.is_dir() and any(d.glob("*.parquet"))

    def part_files(self, table: str) -> list:
        """The part files of ``table``, in order: paths of the run directory, or for a run at a URL the
        parts its manifest lists (paths in :attr:`fs`; an object the manifest does not list is not read)."""
        if self.fs is not None:
            pre = table + "/"
            return [f"{self.root}/{p}" for p in sorted(self.manifest["parts"]) if p.startswith(pre)]
        return sorted((self.path / table).glob("*.parquet"))

    def arrow(self, table: str, columns: list[str] | None = None, filter=None, *, dictionary: bool = False) -> pa.Table:
        """The table as Arrow, with its declared schema (empty if no input produced it).

        With ``dictionary``, the low-cardinality string columns (:func:`kubelog.tables.dictionary_columns`,
        written dictionary-encoded) stay Arrow dictionaries instead of one string per row: on a 2M-row
        requests table, 24 columns read in 0.75 CPU-s and 460 MB instead of 4.2 CPU-s and 775 MB.
        :func:`decoded` turns them back into strings (after a filter or a row selection)."""
        dset, sch = self._dataset(table, dictionary)
        if dset is None:
            t = sch.empty_table()
            return t.select(columns) if columns else t
        if filter is None:
            return dset.to_table(columns=columns)
        # a filter keeps few of the rows read: one batch read ahead, not Arrow's default of 16 batches in
        # each of 4 files, whose unfiltered text columns piled up (reading the 202 POST
        # replicationcontrollers of a 2M-row requests table with 13 columns: +405 MB of RSS; now ~+100 MB)
        return dset.to_table(columns=columns, filter=filter, batch_readahead=1, fragment_readahead=1)

    def batches(self, table: str, columns: list[str] | None = None, *, dictionary: bool = False):
        """The record batches of :meth:`arrow` (no filter), in the same order, read one batch ahead: for a
        pass over a column that keeps only some of its rows, without holding all of it (``uri`` of a
        2M-row requests table is ~180 MB)."""
        dset, sch = self._dataset(table, dictionary)
        if dset is None:
            t = sch.empty_table()
            yield from (t.select(columns) if columns else t).to_batches()  # none: no rows
            return
        yield from dset.to_batches(columns=columns, batch_readahead=1, fragment_readahead=1)

    def _dataset(self, table: str, dictionary: bool):
        """``(pyarrow dataset or None when no input produced the table, its schema)`` for :meth:`arrow`."""
        sch = tables.schema(table)
        if dictionary:
            dc = set(tables.dictionary_columns(table))
            sch = pa.schema([pa.field(f.name, pa.dictionary(pa.int32(), f.type)) if f.name in dc else f for f in sch])
        if not self.has(table):
            return None, sch
        import pyarrow.dataset as ds  # imported here: worker processes that only write need none of it
        import pyarrow.fs as pafs

        fmt = "parquet"
        if dictionary:
            fmt = ds.ParquetFileFormat(read_options=ds.ParquetReadOptions(dictionary_columns=sorted(dc)))
        # the part files are mapped, not read into buffers: Arrow's C++ library took those buffers from
        # its own default pool (mimalloc), in its I/O threads, whose freed pages mimalloc kept (the report
        # of a 1M-request run called as a library: 1.10 GB peak RSS, 0.87 GB with the files mapped)
        if self.fs is not None:  # a run at a URL: its listed parts, through its fsspec filesystem
            return ds.dataset(self.part_files(table), format=fmt, schema=sch, filesystem=self.fs), sch
        fs = pafs.LocalFileSystem(use_mmap=True)
        return ds.dataset(str(self.path / table), format=fmt, schema=sch, filesystem=fs), sch

    def table(self, table: str, columns: list[str] | None = None, filter=None) -> pd.DataFrame:
        """The table as a pandas DataFrame (timestamps tz-aware UTC).

        String columns are made contiguous first (one chunk instead of one per part file): pandas
        keeps them as Arrow arrays, and every row selection of a many-chunk string column
        concatenates its chunks again (measured: a 2M-row ``uri`` take 1.9 s in 127 chunks, 0.5 s
        in one).  A column too large for one chunk (2 GiB of text) stays as it is.  With a ``filter``,
        the low-cardinality strings are read as dictionaries and decoded for the rows kept only."""
        if filter is not None:
            return _contiguous_strings(decoded(self.arrow(table, columns, filter, dictionary=True))).to_pandas()
        return _contiguous_strings(self.arrow(table, columns, filter)).to_pandas()

    def requests(self, columns: list[str] | None = None) -> pd.DataFrame:
        """One row per API request, whichever logs recorded it.

        ``table("requests")`` has a row per *record*: a request the access log and the audit log both
        logged is there twice (``origin`` httplog and audit).  This view keeps the access-log row and
        fills what only the audit event has (user, stage), with the rule of
        :func:`kubelog.formats.audit.dedup_requests`; ``origin`` says where each row came from.  Long-
        running requests are kept (``long_running``); :func:`kubelog.analysis.latency.api_requests`
        is the view the latency SLIs use.

        >>> run.requests().groupby("origin").size()   # doctest: +SKIP
        """
        from .formats.audit import dedup_requests

        need = (
            None
            if columns is None
            else sorted(set(columns) | {"origin", "audit_id", "stage", "server", "user", "auth_user"})
        )
        df, _, _ = dedup_requests(self.table("requests", columns=need))
        df = df.reset_index(drop=True)
        return df if columns is None else df[list(columns)]

    def rows(self, table: str) -> int:
        if not self.has(table):
            return 0
        import pyarrow.parquet as pq

        return sum(pq.read_metadata(p, filesystem=self.fs).num_rows for p in self.part_files(table))

    def source_name(self, source_id: int) -> str:
        return self.inputs[source_id]["path"]

    def where(self, source_id: int, line_no: int) -> str:
        """``file:line`` of a row, for evidence."""
        return f"{self.source_name(int(source_id))}:{int(line_no)}"


_ONE_CHUNK_BYTES = (1 << 31) - (1 << 24)  # a string array's 32-bit offsets address 2 GiB


def _contiguous_strings(t: pa.Table) -> pa.Table:
    """``t`` with each multi-chunk string column combined into one chunk (values unchanged)."""
    for i, f in enumerate(t.schema):
        col = t.column(i)
        if col.num_chunks > 1 and (
            pa.types.is_large_string(f.type)
            or ((pa.types.is_string(f.type) or pa.types.is_binary(f.type)) and col.nbytes < _ONE_CHUNK_BYTES)
        ):
            t = t.set_column(i, f, pa.chunked_array([col.combine_chunks()], type=f.type))
    return t


def decoded(t: pa.Table) -> pa.Table:
    """``t`` with its dictionary columns (``Run.arrow(..., dictionary=True)``) as plain strings again:
    ``large_string``, the type pandas keeps its strings in (pandas would convert a ``string`` column to
    it anyway), so no column meets the 2 GiB limit of ``string``."""
    for i, f in enumerate(t.schema):
        if pa.types.is_dictionary(f.type):
            vt = pa.large_string() if pa.types.is_string(f.type.value_type) else f.type.value_type
            t = t.set_column(i, pa.field(f.name, vt, f.nullable, f.metadata), t.column(i).cast(vt))
    return t


def _frozen(v):
    """A hashable stand-in for an argument value, or raise TypeError."""
    if isinstance(v, dict):
        return ("dict", tuple(sorted((k, _frozen(x)) for k, x in v.items())))
    if isinstance(v, (list, tuple)):
        return ("seq", tuple(_frozen(x) for x in v))
    hash(v)
    return v


def memoized(fn):
    """Decorate an analysis ``fn(run, ...)`` so that inside :meth:`Run.shared` it runs once per set
    of arguments (compared by value; an argument that is not hashable, e.g. a DataFrame, makes the
    call run as usual).  Outside that block it always runs.  An exception is not kept."""
    sig = inspect.signature(fn)
    name = f"{fn.__module__}.{fn.__qualname__}"

    @functools.wraps(fn)
    def wrapper(run, *args, **kwargs):
        memo = getattr(run, "_memo", None)
        if memo is None:
            return fn(run, *args, **kwargs)
        b = sig.bind(run, *args, **kwargs)
        b.apply_defaults()
        try:
            key = (name, _frozen(list(b.arguments.items())[1:]))  # the run itself is not part of the key
        except TypeError:
            return fn(run, *args, **kwargs)
        if key not in memo:
            memo[key] = fn(run, *args, **kwargs)
        return memo[key]

    return wrapper


def open_run(path: str | os.PathLike) -> Run:
    """Open a run directory written by ``kubelog ingest``, or the run at an fsspec URL (``s3://…``,
    :mod:`kubelog.remote`)."""
    if is_url(path):
        from . import remote

        return remote.open_run(path)
    p = Path(path)
    m = p / MANIFEST
    if not m.is_file():
        raise NotARun(f"{p} is not a kubelog run directory (no {MANIFEST}); create one with `kubelog ingest`")
    manifest = json.loads(m.read_text())
    if not manifest.get("complete"):
        raise NotARun(f"{p}: the run is incomplete (its ingest did not finish)")
    return Run(p, manifest)
