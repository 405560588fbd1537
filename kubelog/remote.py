"""A run at an fsspec URL (``s3://…``, ``gcs://…``, ``file://…``, any protocol fsspec knows).

``kubelog ingest PATHS --out URL`` writes the run there and every command that reads a run accepts
the URL as RUN (:func:`kubelog.run.open_run`).  A plain path is not a URL: it stays a run directory
(:mod:`kubelog.run`), with its atomic rename and its lock.  An object store has neither, so a run at
a URL is committed differently (docs/distributed.md, "The output as an fsspec URL"):

- every ingest has a random token; every part file it writes is named with it,
  ``URL/<table>/part-<source>-<seq>-<token>.parquet``, so it never overwrites an object it did not
  write (a part of the run it replaces, or anything else under the prefix);
- ``URL/manifest.json`` is written last, in one PUT (which an object store makes visible whole or
  not at all): it is the commit.  It lists the run's parts (``"parts"``) and readers read exactly
  those: an object under the prefix that the manifest does not list is never read;
- a prefix with objects but no ``manifest.json`` is an incomplete run: readers refuse it (one line,
  exit 3);
- an existing run at the URL is refused unless ``--force``; with ``--force`` the new run's manifest
  replaces the old one (the old run stays whole until then), and only then are the objects the old
  manifest listed deleted: nothing kubelog did not write (nothing unlisted) is ever deleted;
- an ingest that fails (an error, Ctrl-C, SIGTERM) deletes the objects with its own token, and no
  manifest is written; a task run again (a Dask worker lost) first deletes the parts of its inputs
  with this token.

There is no lock: an ingest that finds, just before its commit, that ``manifest.json`` changed since
it started (another ingest committed meanwhile) fails (exit 6) and deletes its own parts; two
ingests committing within the same instant are not told apart (the last manifest wins; the other's
parts stay, unlisted and unread).  A killed ingest (SIGKILL, a lost client) leaves its parts,
unlisted: delete them by hand (their names end in the token).

Credentials and endpoints are fsspec's: its configuration files and ``FSSPEC_<PROTOCOL>_<OPTION>``
environment variables, and each implementation's own (``AWS_*`` for s3fs); the Dask workers need the
same.  fsspec and s3fs are the extra ``kubelog[s3]``.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import secrets
from dataclasses import dataclass

from .errors import NotARun, OutputBusy, RunExists, UnsafeOutput, UsageError, output_error

MANIFEST = "manifest.json"
EXTRA = "kubelog[s3]"
_URL_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://")
_PART_RE = re.compile(r"^(?P<table>[a-z_0-9]+)/part-[0-9]{5}-[A-Za-z0-9]+-(?P<token>[0-9a-f]{16})\.parquet$")


def is_url(path) -> bool:
    """Whether ``path`` is an fsspec URL (``PROTOCOL://…``) rather than a local path.  A
    :class:`pathlib.Path` never is (it would have folded the ``//``)."""
    return isinstance(path, str) and _URL_RE.match(path) is not None


@functools.lru_cache(maxsize=32)
def filesystem(url: str):
    """``(fsspec filesystem, path in it)`` of ``url``; one line (:class:`UsageError`, exit 2) when
    fsspec or the protocol's implementation is not installed, or the protocol is unknown."""
    try:
        from fsspec.core import url_to_fs
    except ImportError:
        raise UsageError(f"{url}: an fsspec URL needs fsspec: pip install '{EXTRA}'") from None
    try:
        fs, path = url_to_fs(url)
    except ImportError as e:
        raise UsageError(
            f"{url}: {str(e).splitlines()[0]} (pip install '{EXTRA}' installs fsspec and s3fs; "
            "other protocols need their fsspec package)"
        ) from None
    except ValueError as e:
        raise UsageError(f"{url}: {str(e).splitlines()[0]}") from None
    return fs, path.rstrip("/")


class RunURL(str):
    """The path of a run read from a URL (``Run.path``): the URL, with a path's ``name`` and ``/``."""

    @property
    def name(self) -> str:
        return self.rstrip("/").rsplit("/", 1)[-1]

    def __truediv__(self, other) -> "RunURL":
        return RunURL(f"{self.rstrip('/')}/{other}")


@dataclass(frozen=True)
class RemoteRun:
    """Where the parts of one ingest go: the run's URL and the ingest's token (sent to every task)."""

    url: str
    token: str

    def __str__(self) -> str:  # in messages: the run's URL
        return self.url

    def __truediv__(self, other) -> str:
        return f"{self.url}/{other}"

    @property
    def fs(self):
        return filesystem(self.url)[0]

    @property
    def root(self) -> str:
        return filesystem(self.url)[1]

    def part_path(self, table: str, stem: str) -> str:
        """The path (in :attr:`fs`) of the part ``stem`` (``part-<source>-<seq>``) of ``table``."""
        return f"{self.root}/{table}/{stem}-{self.token}.parquet"

    def makedirs(self, table: str) -> None:
        """The table's directory, where the file system has directories (``file://``, sftp: their
        root marker is "/").  Not on an object store, whose keys need none (s3fs's ``makedirs``
        would create a missing bucket: a missing bucket is an error, exit 5)."""
        fs = self.fs
        if getattr(fs, "root_marker", "") == "/":
            fs.makedirs(f"{self.root}/{table}", exist_ok=True)

    def own_parts(self, source_ids=None) -> list[str]:
        """The part files this ingest wrote (of ``source_ids`` only, when given), found by listing."""
        fs = self.fs
        fs.invalidate_cache()  # the tasks wrote through other instances: list afresh
        if source_ids is None:
            pats = [f"{self.root}/*/part-*-{self.token}.parquet"]
        else:
            pats = [f"{self.root}/*/part-{sid:05d}-*-{self.token}.parquet" for sid in source_ids]
        found = set()
        for pat in pats:
            try:
                found.update(fs.glob(pat))
            except FileNotFoundError:
                pass
        return sorted(found)


# what prepare() saw of the output, for finish(): {token: (digest of the manifest or None, its parts)}
_PREPARED: dict[str, tuple[str | None, list[str]]] = {}


def _manifest(fs, root: str) -> bytes | None:
    try:
        return fs.cat_file(f"{root}/{MANIFEST}")
    except FileNotFoundError:
        return None


def _digest(data: bytes | None) -> str | None:
    return None if data is None else hashlib.sha256(data).hexdigest()


def _has_objects(fs, root: str) -> bool:
    try:
        return bool(fs.ls(root, detail=False))
    except (FileNotFoundError, NotADirectoryError):
        return False


def kubelog_parts(data: bytes) -> list[str] | None:
    """The parts a kubelog manifest at a URL lists (relative to the run), or None if ``data`` is
    not such a manifest (then ``--force`` refuses to replace it)."""
    from . import tables

    try:
        m = json.loads(data)
    except ValueError:
        return None
    if not (isinstance(m, dict) and m.get("complete") is True and isinstance(m.get("inputs"), list)):
        return None
    parts = m.get("parts")
    if not isinstance(parts, list):
        return None
    for p in parts:
        mt = _PART_RE.match(p) if isinstance(p, str) else None
        if mt is None or mt["table"] not in tables.TABLES:
            return None
    return parts


def prepare(url: str, force: bool = False, inputs=()) -> RemoteRun:
    """Check that a run may be written at ``url`` and return where its parts go (a new token).

    Raises :class:`RunExists` (exit 4) when ``url`` holds a manifest or other objects and not
    ``force``; :class:`UnsafeOutput` (exit 2) when ``force`` would replace a ``manifest.json``
    kubelog did not write, or a ``file://`` output overlaps an input; :class:`OutputError` (exit 5)
    when the output cannot be read."""
    url = url.rstrip("/")
    fs, root = filesystem(url)
    if root in ("", "/"):
        raise UnsafeOutput(f"{url}: the root of a file system or bucket cannot be the run; give a prefix")
    if type(fs).__name__ == "LocalFileSystem":  # file://: the same overlap checks as a local path
        from pathlib import Path

        from .run import check_overlap

        check_overlap(Path(root), inputs)
    try:
        fs.invalidate_cache()
        data = _manifest(fs, root)
        others = data is None and _has_objects(fs, root)
    except OSError as e:
        raise output_error(url, e, "cannot read the output") from None
    old: list[str] = []
    if data is not None:
        if not force:
            raise RunExists(f"{url} holds a run ({MANIFEST}); use --force to replace it")
        parts = kubelog_parts(data)
        if parts is None:
            raise UnsafeOutput(
                f"{url}: --force replaces only a kubelog run, and its {MANIFEST} was not written by kubelog; "
                "remove it yourself or choose another --out"
            )
        old = parts
    elif others and not force:
        raise RunExists(
            f"{url} holds objects but no {MANIFEST} (an incomplete run, or other data); --force writes the "
            "run beside them, deleting none of them"
        )
    token = secrets.token_hex(8)
    _PREPARED[token] = (_digest(data), old)
    return RemoteRun(url, token)


def abandon(rr: RemoteRun) -> None:
    """After a failed or interrupted ingest: delete the parts it wrote (those with its token)."""
    _PREPARED.pop(rr.token, None)
    try:
        own = rr.own_parts()
        if own:
            rr.fs.rm(own)
    except OSError:
        pass  # best effort, as a local ingest's rmtree(ignore_errors=True): what stays is unlisted


def remove_parts_of(rr: RemoteRun, source_ids) -> None:
    """Delete the parts of ``source_ids`` this ingest wrote (an earlier attempt of the same task)."""
    own = rr.own_parts(source_ids)
    if own:
        rr.fs.rm(own)


def finish(rr: RemoteRun, manifest: dict) -> list[str]:
    """Commit the run: write ``manifest.json`` (listing this ingest's parts) in one PUT, then delete
    the parts of the run it replaced.  Returns one line per object of that run that could not be
    deleted (the new run is committed all the same; they are unlisted and never read)."""
    seen, old = _PREPARED.pop(rr.token, (None, []))
    fs, root = rr.fs, rr.root
    parts = [p[len(root) + 1 :] for p in rr.own_parts()]
    manifest = dict(manifest, complete=True, parts=parts)
    try:
        fs.invalidate_cache()
        now = _digest(_manifest(fs, root))
    except OSError as e:
        raise output_error(rr.url, e, "cannot read the output") from None
    if now != seen:
        raise OutputBusy(
            f"{rr.url}: another ingest wrote {MANIFEST} while this one ran (there is no lock at a URL); "
            "this run was not written"
        )
    data = (json.dumps(manifest, indent=2, sort_keys=False, default=str) + "\n").encode()
    try:
        fs.pipe_file(f"{root}/{MANIFEST}", data)  # the commit
    except OSError as e:
        raise output_error(f"{rr.url}/{MANIFEST}", e) from None
    new = set(parts)
    left = []
    for p in old:
        if p in new:
            continue
        try:
            fs.rm_file(f"{root}/{p}")
        except FileNotFoundError:
            pass
        except OSError as e:
            left.append(f"{rr.url}/{p}: a part of the replaced run, not deleted: {e}")
    return left


def open_run(url: str):
    """Open the run at ``url`` (:func:`kubelog.run.open_run`): :class:`NotARun` (exit 3, one line)
    when there is none, or only an incomplete one."""
    from .run import Run

    url = url.rstrip("/")
    fs, root = filesystem(url)
    try:
        fs.invalidate_cache()
        data = _manifest(fs, root)
        if data is None:
            if _has_objects(fs, root):
                raise NotARun(
                    f"{url}: an incomplete kubelog run (objects but no {MANIFEST}: its ingest failed, was killed "
                    "or is still running)"
                )
            raise NotARun(f"{url} is not a kubelog run (no {MANIFEST}); create one with `kubelog ingest --out {url}`")
    except OSError as e:
        raise NotARun(f"{url}: cannot read {MANIFEST}: {e}") from None
    try:
        manifest = json.loads(data)
    except ValueError:
        raise NotARun(f"{url}/{MANIFEST}: not JSON; not a kubelog run") from None
    if not isinstance(manifest, dict) or not manifest.get("complete"):
        raise NotARun(f"{url}: the run is incomplete (its ingest did not finish)")
    if not isinstance(manifest.get("parts"), list):
        if getattr(fs, "root_marker", "") == "/" and type(fs).__name__ == "LocalFileSystem":
            from .run import open_run as open_dir  # file:// of a run directory: opened as one

            return open_dir(root)
        raise NotARun(f"{url}/{MANIFEST}: lists no parts; not a kubelog run written to a URL")
    return Run(RunURL(url), manifest, fs=fs, root=root)
