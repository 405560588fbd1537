"""Opening inputs: files, directories, compression and archives, as streams.

Compression and archives are recognised in exactly one place (:func:`open_layers`)
by their magic bytes, not by file name.  Archives are read as streams and never
extracted: member names are data, not paths, so ``../x`` or ``/etc/x`` members
are read like any other and nothing is written outside the run directory.

Decompression is bounded: a stream whose output exceeds ``max_ratio`` times its
compressed size (and at least ``min_bomb_bytes``) is stopped with
:class:`DecompressionBomb`, which names the input.
"""
from __future__ import annotations

import bz2
import gzip
import hashlib
import io
import lzma
import os
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Iterator

MAX_RATIO = 200
MIN_BOMB_BYTES = 256 << 20

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


@dataclass(frozen=True)
class InputRef:
    """An input found on disk: a plain or compressed file, or an archive."""

    path: str      # filesystem path
    display: str   # what users see


def discover(paths: list[str | os.PathLike]) -> list[InputRef]:
    """Expand ``paths`` into inputs: files as given, directories recursively (sorted)."""
    refs: list[InputRef] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            for f in sorted(x for x in p.rglob("*") if x.is_file()):
                if any(part.startswith(".") for part in f.relative_to(p).parts):
                    continue  # hidden files and folders (.git, editor swap files)
                refs.append(InputRef(str(f), str(f)))
        elif p.is_file():
            refs.append(InputRef(str(p), str(p)))
        elif p.exists():
            raise InputError(f"{p}: not a regular file or directory")
        else:
            raise InputError(f"{p}: no such file or directory")
    return refs


class HashingReader(io.RawIOBase):
    """Wraps a binary stream: counts bytes, hashes them, enforces a bomb limit."""

    def __init__(self, raw: BinaryIO, name: str, limit_source=None, max_ratio: int = MAX_RATIO,
                 min_bomb: int | None = None):
        self.raw = raw
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
        except (OSError, lzma.LZMAError, zipfile.BadZipFile, tarfile.TarError) as e:
            raise InputError(f"{self.name}: cannot decompress after {self.nbytes} bytes: {e}") from None
        self.nbytes += len(data)
        self.sha.update(data)
        if self._limit_source is not None and self.nbytes > self._min_bomb:
            comp = max(1, self._limit_source())
            if self.nbytes > self._max_ratio * comp:
                raise DecompressionBomb(
                    f"{self.name}: stopped decompressing at {self.nbytes >> 20} MiB: more than "
                    f"{self._max_ratio}x its compressed size (a decompression bomb?)")
        return data


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
    compression: str          # "" or "gzip" / "bz2" / ... (joined with "+" when stacked)
    container: str            # "" or "tar" / "zip"
    hasher: HashingReader

    def head(self, n: int) -> bytes:
        return self.stream.peek(n)


def _is_tar(head: bytes) -> bool:
    return len(head) >= 262 and head[257:262] == b"ustar"


def open_layers(raw: BinaryIO, name: str, comp_pos=None, max_ratio: int = MAX_RATIO) -> tuple[PeekReader, str, HashingReader]:
    """Peel compression layers off ``raw`` (by magic) and return a peekable stream."""
    layers = []
    stream: BinaryIO = raw
    for _ in range(3):  # .tar.gz.gz etc.
        pk = PeekReader(stream)
        kind = _sniff_magic(pk.peek(8))
        if kind is None:
            stream = pk
            break
        layers.append(kind)
        stream = _decompressor(kind, pk)
    hasher = HashingReader(stream, name, limit_source=comp_pos if layers else None, max_ratio=max_ratio)
    return PeekReader(hasher), "+".join(layers), hasher


def iter_opened(ref: InputRef, max_ratio: int = MAX_RATIO) -> Iterator[Opened]:
    """Yield every logical input inside ``ref`` (the file itself, or each archive member)."""
    f = open(ref.path, "rb")
    try:
        pos = f.tell
        stream, comp, hasher = open_layers(f, ref.display, comp_pos=lambda: pos(), max_ratio=max_ratio)
        head = stream.peek(512)
        if _is_tar(head):
            yield from _iter_tar(stream, ref, comp, max_ratio, pos)
        elif head.startswith(b"PK\x03\x04") and not comp:
            yield from _iter_zip(ref, max_ratio)
        else:
            yield Opened(ref.display, stream, comp, "", hasher)
    finally:
        f.close()


def _iter_tar(stream, ref: InputRef, comp: str, max_ratio: int, pos) -> Iterator[Opened]:
    try:
        tf = tarfile.open(fileobj=stream, mode="r|")
    except tarfile.TarError as e:
        raise InputError(f"{ref.display}: unreadable tar archive: {e}") from None
    try:
        for m in tf:
            if not m.isfile():
                continue
            member = tf.extractfile(m)
            if member is None:
                continue
            disp = f"{ref.display}!{m.name}"
            inner, icomp, h = open_layers(member, disp, comp_pos=lambda: m.size, max_ratio=max_ratio)
            yield Opened(disp, inner, "+".join(x for x in (comp, icomp) if x), "tar", h)
    except tarfile.ReadError as e:
        raise InputError(f"{ref.display}: tar archive ends early or is damaged: {e}") from None


def _iter_zip(ref: InputRef, max_ratio: int) -> Iterator[Opened]:
    try:
        zf = zipfile.ZipFile(ref.path)
    except zipfile.BadZipFile as e:
        raise InputError(f"{ref.display}: unreadable zip archive: {e}") from None
    with zf:
        for info in zf.infolist():
            if info.is_dir():
                continue
            disp = f"{ref.display}!{info.filename}"
            member = zf.open(info)
            comp_size = info.compress_size or 1
            inner, icomp, h = open_layers(member, disp, comp_pos=lambda: comp_size, max_ratio=max_ratio)
            # zip's own deflate is bounded too
            h._limit_source = lambda: comp_size
            yield Opened(disp, inner, "+".join(x for x in ("zip", icomp) if x), "zip", h)
