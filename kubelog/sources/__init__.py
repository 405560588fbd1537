"""Opening inputs: files, directories, compression and archives, as streams.

Compression and archives are recognised in exactly one place (:func:`open_layers`)
by their magic bytes, not by file name.  Archives are read as streams and never
extracted: member names are data, not paths, so ``../x`` or ``/etc/x`` members
are read like any other and nothing is written outside the run directory.

Decompression is bounded twice: a stream whose output exceeds ``max_ratio`` times its
compressed size (and at least :data:`MIN_BOMB_BYTES`) is stopped, and so is a whole input
file (an archive with all its members and nested archives) whose decompressors produce in all
more than ``max_ratio`` times the file's size (and at least :data:`MIN_BOMB_BYTES`): a zip
whose entries share their compressed data cannot multiply its output past the cap.  Zip
archives whose entries overlap are refused before any member is read.  Both raise
:class:`DecompressionBomb`, which names the input.

Archives inside archives (a tar in a tar, a .tgz in a .tgz, a zip in a tar) are read as
streams too, down to :data:`MAX_NESTING` archive levels; a deeper one is not opened and is
reported (:class:`NotRead`).  At most :data:`MAX_LAYERS` compression layers are peeled off
one stream.

Directories are walked without following symbolic links: a link inside an input directory,
or a link member of a tar or zip archive, is never followed (whether it points inside the
tree or out of it); each is reported as skipped, naming its target.  A path given on the
command line is used as given (also when it is a link).  An unreadable directory or file is
reported (one line naming it) and the rest is read.

A text stream with NUL bytes in its first 8 KiB (a log file pre-allocated, or left with a
hole by a crash or by ``copytruncate``) is read through :class:`NulStripper`: the NUL bytes
are removed and counted, the text around them is kept.
"""

from __future__ import annotations

import bz2
import gzip
import hashlib
import io
import lzma
import os
import shutil
import stat
import struct
import tarfile
import tempfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Iterator

MAX_RATIO = 200
MIN_BOMB_BYTES = 256 << 20
MAX_NESTING = 3  # archive levels opened: an archive, an archive in it, and one in that
MAX_LAYERS = 3  # compression layers peeled off one stream (.log.gz.gz.gz)
NUL_SNIFF = 8192  # NUL bytes in this many first bytes: a NUL-damaged text, or binary

MAGIC = {
    b"\x1f\x8b": "gzip",
    b"BZh": "bz2",
    b"\xfd7zXZ\x00": "xz",
    b"\x28\xb5\x2f\xfd": "zstd",
}


class InputError(Exception):
    """A problem with one input, already phrased for the user (names the input)."""


class DecompressionBomb(InputError):
    pass


class TooManyLayers(InputError):
    """More than :data:`MAX_LAYERS` compression layers on one stream."""


@dataclass(frozen=True)
class InputRef:
    """An input found on disk: a plain or compressed file, or an archive.

    ``problem`` is set for a path that is not read (an unreadable directory, a symbolic link
    inside an input directory): the one-line message, naming the path; ``kind`` is then
    ``"error"`` (it could not be read) or ``"skipped"`` (not read on purpose).
    """

    path: str  # filesystem path
    display: str  # what users see
    problem: str = ""
    kind: str = ""


@dataclass
class NotRead:
    """A logical input found but not read: an archive nested too deep, a link member, ...

    ``kind`` is ``"error"`` (content that could not be read) or ``"skipped"`` (not read on
    purpose: a symbolic or hard link); ``message`` is one line naming it.
    """

    display: str
    message: str
    kind: str = "error"


def _link_ref(path: str, root: Path) -> InputRef:
    try:
        target = os.readlink(path)
    except OSError as e:
        target = f"? ({e.strerror})"
    real = os.path.realpath(path)
    inside = real == str(root) or real.startswith(str(root).rstrip(os.sep) + os.sep)
    where = (
        "inside the input tree: not followed (the target is read where it is)"
        if inside
        else "outside the input tree: not followed"
    )
    return InputRef(path, path, f"{path}: symbolic link to {target}, {where}", "skipped")


def _walk(top: Path) -> list[InputRef]:
    """Regular files under ``top`` (hidden ones left out), and a problem ref for each
    unreadable directory, symbolic link and special file."""
    root = Path(os.path.realpath(top))
    out: list[tuple[Path, InputRef]] = []

    def onerror(e: OSError) -> None:
        f = e.filename or str(top)
        out.append((Path(f), InputRef(f, f, f"{f}: unreadable directory ({e.strerror}): skipped", "error")))

    for dirpath, dirnames, filenames in os.walk(top, onerror=onerror, followlinks=False):
        keep = []
        for d in dirnames:
            full = os.path.join(dirpath, d)
            if d.startswith("."):
                continue  # hidden folders (.git)
            if os.path.islink(full):
                out.append((Path(full), _link_ref(full, root)))
            else:
                keep.append(d)
        dirnames[:] = keep
        for f in filenames:
            if f.startswith("."):
                continue  # hidden files (editor swap files)
            full = os.path.join(dirpath, f)
            try:
                st = os.lstat(full)
            except OSError as e:
                out.append((Path(full), InputRef(full, full, f"{full}: cannot stat ({e.strerror}): skipped", "error")))
                continue
            if stat.S_ISLNK(st.st_mode):
                out.append((Path(full), _link_ref(full, root)))
            elif stat.S_ISREG(st.st_mode):
                out.append((Path(full), InputRef(full, full)))
            else:
                out.append(
                    (
                        Path(full),
                        InputRef(
                            full, full, f"{full}: not a regular file (a device, socket or pipe): skipped", "skipped"
                        ),
                    )
                )
    return [r for _, r in sorted(out, key=lambda x: x[0])]


def discover(paths: list[str | os.PathLike]) -> list[InputRef]:
    """Expand ``paths`` into inputs: files as given, directories recursively (sorted).

    Inside directories nothing is followed: symbolic links, special files and unreadable
    directories come back as refs with a ``problem`` (see :class:`InputRef`)."""
    refs: list[InputRef] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            refs.extend(_walk(p))
        elif p.is_file():
            refs.append(InputRef(str(p), str(p)))
        elif p.exists():
            raise InputError(f"{p}: not a regular file or directory")
        else:
            raise InputError(f"{p}: no such file or directory")
    return refs


class HashingReader(io.RawIOBase):
    """Wraps a binary stream: counts bytes, hashes them, enforces a bomb limit."""

    def __init__(
        self,
        raw: BinaryIO,
        name: str,
        limit_source=None,
        max_ratio: int = MAX_RATIO,
        min_bomb: int | None = None,
        budget: "Budget | None" = None,
    ):
        self.raw = raw
        self.budget = budget
        self.name = name
        self.sha = hashlib.sha256()
        self.nbytes = 0
        self._limit_source = limit_source  # callable -> compressed bytes consumed so far
        self._max_ratio = max_ratio
        self._min_bomb = MIN_BOMB_BYTES if min_bomb is None else min_bomb

    def readable(self) -> bool:
        return True

    def _read1(self, n: int) -> bytes:
        r1 = getattr(self.raw, "read1", None)
        if r1 is None:
            return self.raw.read(n)
        out = []
        got = 0
        while got < n:
            b = r1(n - got)
            if not b:
                break
            out.append(b)
            got += len(b)
            if got >= n // 2:
                break
        return b"".join(out)

    def readinto(self, b) -> int:
        data = self.read(len(b))
        n = len(data)
        b[:n] = data
        return n

    def read(self, n: int = -1) -> bytes:
        try:
            # read1: one decompressor step per call, so a stream that breaks later
            # does not take already-decompressed bytes with it
            data = self._read1(n) if n and n > 0 else self.raw.read(n)
        except EOFError as e:
            raise InputError(f"{self.name}: truncated compressed stream after {self.nbytes} bytes ({e})") from None
        except (OSError, lzma.LZMAError, zlib.error, zipfile.BadZipFile, tarfile.TarError) as e:
            if self._limit_source is None and type(e) is OSError or isinstance(e, (PermissionError,)):
                raise InputError(f"{self.name}: read error after {self.nbytes} bytes: {e}") from None
            raise InputError(f"{self.name}: cannot decompress after {self.nbytes} bytes: {e}") from None
        self.nbytes += len(data)
        self.sha.update(data)
        if self.budget is not None:
            self.budget.add(len(data))
        if self._limit_source is not None and self.nbytes > self._min_bomb:
            comp = max(1, self._limit_source())
            if self.nbytes > self._max_ratio * comp:
                raise DecompressionBomb(
                    f"{self.name}: stopped decompressing at {self.nbytes >> 20} MiB: more than "
                    f"{self._max_ratio}x its compressed size (a decompression bomb?)"
                )
        return data


class Budget:
    """The decompressed bytes one input file may produce in all (every member, every layer).

    ``max(MIN_BOMB_BYTES, max_ratio * file size)``; passing it raises
    :class:`DecompressionBomb` naming the file, now and at every later read or member."""

    def __init__(self, name: str, file_size: int, max_ratio: int = MAX_RATIO):
        self.name = name
        self.file_size = file_size
        self.max_ratio = max_ratio
        self.limit = max(MIN_BOMB_BYTES, max_ratio * file_size)
        self.used = 0

    def add(self, n: int) -> None:
        self.used += n
        self.check()

    def check(self) -> None:
        if self.used > self.limit:
            raise DecompressionBomb(
                f"{self.name}: stopped after {self.used >> 20} MiB decompressed from all its members and layers: "
                f"more than {self.max_ratio}x the file's {self.file_size:,} bytes (a decompression bomb?)"
            )


class NulStripper(io.RawIOBase):
    """A stream without the NUL bytes of ``raw``; counts them and the lines they were on.

    Newlines are kept, so line numbers are those of the file.  ``lines`` counts the lines
    that held NUL bytes, ``first_line`` is the first of them (1-based)."""

    def __init__(self, raw: BinaryIO):
        self.raw = raw
        self.nul_bytes = 0
        self.lines = 0
        self.first_line: int | None = None
        self._line = 1  # line number of the next byte handed out
        self._last_line = 0  # last line counted in ``lines``
        self._pending = b""  # bytes without NULs not handed out yet

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        data = self.read(len(b))
        b[: len(data)] = data
        return len(data)

    def read(self, n: int = -1) -> bytes:
        if not self._pending:
            while True:  # read in pieces of at least 1 MiB: a NUL hole can be gigabytes
                data = self.raw.read(max(n, 1 << 20) if n is not None and n >= 0 else -1)
                if not data:
                    return b""
                if b"\0" not in data:
                    self._line += data.count(b"\n")
                    self._pending = data
                    break
                self._scan(data)
                self._pending = data.translate(None, b"\0")
                if self._pending:
                    break  # else all NUL: read on
        if n is None or n < 0 or n >= len(self._pending):
            out, self._pending = self._pending, b""
        else:
            out, self._pending = self._pending[:n], self._pending[n:]
        return out

    def _scan(self, data: bytes) -> None:
        self.nul_bytes += data.count(b"\0")
        line, at = self._line, 0
        while True:
            z = data.find(b"\0", at)
            if z < 0:
                break
            line += data.count(b"\n", at, z)
            if line != self._last_line:
                self.lines += 1
                self._last_line = line
                if self.first_line is None:
                    self.first_line = line
            nl = data.find(b"\n", z)
            if nl < 0:
                at = len(data)
                break
            at = nl  # the newline ends this line: counted at the next find
        self._line = line + data.count(b"\n", at)


_TEXT_BYTES = bytes(range(32, 127)) + bytes(range(128, 256)) + b"\t\n\r\x0c\x1b\x08"


def text_like(data: bytes) -> bool:
    """True when ``data`` (without its NUL bytes) reads as text: at most 1 % control bytes."""
    if not data:
        return False
    return len(data.translate(None, _TEXT_BYTES)) * 100 <= len(data)


def _sniff_magic(head: bytes) -> str | None:
    for m, kind in MAGIC.items():
        if head.startswith(m):
            return kind
    return None


def _decompressor(kind: str, raw: BinaryIO) -> BinaryIO:
    if kind == "gzip":
        return gzip.GzipFile(fileobj=raw, mode="rb")
    if kind == "bz2":
        return bz2.BZ2File(raw, mode="rb")
    if kind == "xz":
        return lzma.LZMAFile(raw, mode="rb")
    if kind == "zstd":
        import zstandard

        return zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True)
    raise ValueError(kind)


class PeekReader(io.RawIOBase):
    """A forward-only stream whose first bytes can be peeked without losing them."""

    def __init__(self, raw: BinaryIO):
        self.raw = raw
        self._buf = b""
        self._error: Exception | None = None  # raised by raw during a peek: re-raised after the buffer

    def readable(self) -> bool:
        return True

    def peek(self, n: int) -> bytes:
        while len(self._buf) < n and self._error is None:
            try:
                more = self.raw.read(n - len(self._buf))
            except Exception as e:  # noqa: BLE001 - kept and raised when the buffer is used up
                self._error = e
                break
            if not more:
                break
            self._buf += more
        return self._buf[:n]

    def _raw_read(self, n: int) -> bytes:
        if self._error is not None:
            e, self._error = self._error, None
            raise e
        return self.raw.read(n)

    def readinto(self, b) -> int:
        data = self.read(len(b))
        b[: len(data)] = data
        return len(data)

    def read(self, n: int = -1) -> bytes:
        if self._buf:
            if n < 0 or len(self._buf) >= n:
                data, self._buf = (self._buf, b"") if n < 0 else (self._buf[:n], self._buf[n:])
                return data
            data, self._buf = self._buf, b""
            return data  # a short read; the caller reads again
        return self._raw_read(n)


@dataclass
class Opened:
    """One logical input: a display name and its decompressed byte stream."""

    display: str
    stream: PeekReader
    compression: str  # "" or "gzip" / "bz2" / ... (joined with "+" when stacked)
    container: str  # "" or "tar" / "zip" ("tar/zip": a zip member of a tar member)
    hasher: HashingReader
    nul: NulStripper | None = None  # set when NUL bytes are removed from the stream

    def head(self, n: int) -> bytes:
        return self.stream.peek(n)


def _is_tar(head: bytes) -> bool:
    return len(head) >= 262 and head[257:262] == b"ustar"


def open_layers(
    raw: BinaryIO, name: str, comp_pos=None, max_ratio: int = MAX_RATIO, budget: Budget | None = None
) -> tuple[PeekReader, str, HashingReader]:
    """Peel compression layers off ``raw`` (by magic, at most :data:`MAX_LAYERS`) and return
    a peekable stream.  A stream still compressed after them raises :class:`TooManyLayers`."""
    layers = []
    stream: BinaryIO = raw
    for _ in range(MAX_LAYERS + 1):  # .tar.gz.gz etc.
        pk = PeekReader(stream)
        kind = _sniff_magic(pk.peek(8))
        if kind is None:
            stream = pk
            break
        if len(layers) == MAX_LAYERS:
            raise TooManyLayers(
                f"{name}: more than {MAX_LAYERS} compression layers ({'+'.join(layers)}+{kind}…): not read"
            )
        layers.append(kind)
        stream = _decompressor(kind, pk)
    hasher = HashingReader(stream, name, limit_source=comp_pos if layers else None, max_ratio=max_ratio, budget=budget)
    return PeekReader(hasher), "+".join(layers), hasher


def iter_opened(ref: InputRef, max_ratio: int = MAX_RATIO) -> Iterator[Opened | NotRead]:
    """Yield every logical input inside ``ref`` (the file itself, or each archive member, down
    through nested archives), or a :class:`NotRead` for what is found but not read."""
    if ref.problem:
        yield NotRead(ref.display, ref.problem, ref.kind or "error")
        return
    try:
        f = open(ref.path, "rb")
    except OSError as e:
        raise InputError(f"{ref.display}: cannot read ({e.strerror}): skipped") from None
    try:
        budget = Budget(ref.display, os.fstat(f.fileno()).st_size, max_ratio)
        yield from _iter_stream(
            f, ref.display, f.tell, max_ratio, budget, depth=0, outer_comp="", container="", seekable=f
        )
    finally:
        f.close()


def _join(*parts: str, sep: str = "+") -> str:
    return sep.join(x for x in parts if x)


def _iter_stream(
    raw,
    display: str,
    comp_pos,
    max_ratio: int,
    budget: Budget,
    depth: int,
    outer_comp: str,
    container: str,
    seekable=None,
    bounded: bool = False,
) -> Iterator[Opened | NotRead]:
    """The logical inputs of one stream: itself, or the members of the archive it is.
    ``bounded``: the stream itself is a decompressor (a zip member): bound it by ``comp_pos``."""
    try:
        stream, comp, hasher = open_layers(raw, display, comp_pos=comp_pos, max_ratio=max_ratio, budget=budget)
    except TooManyLayers as e:
        yield NotRead(display, str(e))
        return
    if bounded:
        hasher._limit_source = comp_pos
    if not comp and not bounded:
        # nothing decompressed at this level: its bytes are already counted where they were decompressed
        # (or are the file's own: a plain log still growing is not a bomb)
        hasher.budget = None
    head = stream.peek(512)
    comp = _join(outer_comp, comp)
    is_tar, is_zip = _is_tar(head), head.startswith(b"PK\x03\x04")
    if (is_tar or is_zip) and depth >= MAX_NESTING:
        yield NotRead(
            display,
            f"{display}: {'tar' if is_tar else 'zip'} archive nested more than {MAX_NESTING} levels deep: not read",
        )
        return
    if is_tar:
        yield from _iter_tar(stream, display, comp, max_ratio, budget, depth + 1, container)
    elif is_zip:
        yield from _iter_zip(
            stream, display, max_ratio, budget, depth + 1, container, seekable if not comp and not container else None
        )
    else:
        if b"\0" in stream.peek(NUL_SNIFF):
            nul = NulStripper(stream)
            yield Opened(display, PeekReader(nul), comp, container, hasher, nul)
        else:
            yield Opened(display, stream, comp, container, hasher)


def _iter_tar(
    stream, display: str, comp: str, max_ratio: int, budget: Budget, depth: int, container: str
) -> Iterator[Opened | NotRead]:
    try:
        tf = tarfile.open(fileobj=stream, mode="r|")
    except tarfile.TarError as e:
        raise InputError(f"{display}: unreadable tar archive: {e}") from None
    cont = _join(container, "tar", sep="/")
    try:
        for m in tf:
            budget.check()
            disp = f"{display}!{m.name}"
            if m.issym() or m.islnk():
                what = "symbolic link" if m.issym() else "hard link"
                yield NotRead(disp, f"{disp}: {what} member to {m.linkname}: not followed", "skipped")
                continue
            if not m.isfile():
                continue
            member = tf.extractfile(m)
            if member is None:
                continue
            size = m.size
            yield from _iter_stream(member, disp, lambda: size, max_ratio, budget, depth, comp, cont)  # noqa: B023
    except tarfile.ReadError as e:
        raise InputError(f"{display}: tar archive ends early or is damaged: {e}") from None


def zip_overlap(zf: zipfile.ZipFile, f) -> str | None:
    """Why the entries of ``zf`` (read from the seekable ``f``) are not disjoint byte ranges
    of the file, or None.  Overlapping entries are how a small zip decompresses to terabytes
    (every entry inflating the same compressed data); no archive tool writes them."""
    spans = []
    for info in zf.infolist():
        f.seek(info.header_offset)
        h = f.read(30)
        if len(h) < 30 or h[:4] != b"PK\x03\x04":
            return f"entry {info.filename!r} has no local header at offset {info.header_offset}"
        n, m = struct.unpack("<HH", h[26:30])
        spans.append((info.header_offset, info.header_offset + 30 + n + m + info.compress_size, info.filename))
    spans.sort()
    for (_s0, e0, n0), (s1, e1, n1) in zip(spans, spans[1:]):
        if s1 < e0:
            return f"entries {n0!r} and {n1!r} overlap (bytes {s1}-{min(e0, e1)} belong to both)"
    return None


def _iter_zip(
    stream, display: str, max_ratio: int, budget: Budget, depth: int, container: str, seekable=None
) -> Iterator[Opened | NotRead]:
    spool = None
    if seekable is None:
        # a zip inside another archive or compressed: its central directory is at its end, so it is
        # copied to a temporary file first (bounded by the budget: the copy is read through it)
        spool = tempfile.TemporaryFile(prefix="kubelog-zip-")
        try:
            shutil.copyfileobj(stream, spool, 1 << 20)
        except BaseException:
            spool.close()
            raise
        seekable = spool
    try:
        try:
            seekable.seek(0)
            zf = zipfile.ZipFile(seekable)
            why = zip_overlap(zf, seekable)
        except (zipfile.BadZipFile, OSError, EOFError) as e:
            raise InputError(f"{display}: unreadable zip archive: {e}") from None
        if why is not None:
            raise DecompressionBomb(f"{display}: zip archive refused: {why}: a zip bomb?")
        cont = _join(container, "zip", sep="/")
        with zf:
            for info in zf.infolist():
                budget.check()
                if info.is_dir():
                    continue
                disp = f"{display}!{info.filename}"
                if stat.S_ISLNK(info.external_attr >> 16):
                    yield NotRead(disp, f"{disp}: symbolic link member: not followed", "skipped")
                    continue
                try:
                    member = zf.open(info)
                except (zipfile.BadZipFile, NotImplementedError, RuntimeError) as e:
                    yield NotRead(disp, f"{disp}: unreadable zip member: {e}")
                    continue
                comp_size = info.compress_size or 1
                # zip's own deflate is bounded per member too (the compressed size is the member's)
                yield from _iter_stream(
                    member,
                    disp,
                    lambda: comp_size,  # noqa: B023 - called within this iteration (yield from)
                    max_ratio,
                    budget,
                    depth,
                    "zip",
                    cont,
                    bounded=True,
                )
    finally:
        if spool is not None:
            spool.close()
