"""A Parquet writer for one flat table in one row group, for the worker processes' parts
(``requests``, ``messages``).

pyarrow's writer spends ~20 ms on the ~36,000 request rows of a 16 MiB block, about a third of a
worker's time: it re-hashes, re-levels and re-buffers every column through generic code.  The
columns kubelog writes are simple (flat, OPTIONAL, one page each), so this module writes them
directly: the page bodies come from the C extension (``kubelog._fastscan.pq_encode``: definition
levels, PLAIN values, RLE_DICTIONARY indices, DELTA_BINARY_PACKED integers and times: a third of
the bytes of PLAIN + snappy for ``ts``, a fourteenth for ``line_no``; DELTA_LENGTH_BYTE_ARRAY
strings: the Arrow bytes in one piece), compression from pyarrow's codecs, and the page
headers and file footer (Thrift compact protocol) from the few lines below.  The files follow the
Parquet format (parquet.thrift, Encodings.md) and read back with pyarrow as the declared schema;
pyarrow's writer stays the reference and the fallback: :func:`write` returns False for anything it
does not handle (no C extension, an unsupported type, a sliced or chunked column, an empty or large
table), and the caller then uses pyarrow.  Tests write every kind of column both ways and compare.
"""
from __future__ import annotations

import struct

import pyarrow as pa

from . import __version__, native

# parquet.thrift enums
_BOOLEAN, _INT32, _INT64, _DOUBLE, _BYTE_ARRAY = 0, 1, 2, 5, 6
_OPTIONAL = 1
_PLAIN, _RLE, _DELTA_BINARY_PACKED, _DELTA_LENGTH_BYTE_ARRAY, _RLE_DICTIONARY = 0, 3, 5, 6, 8
_DATA_PAGE, _DICTIONARY_PAGE = 0, 2
_UTF8 = 0
_CODECS = {"none": 0, "uncompressed": 0, "snappy": 1}

# pq_encode kinds (kubelog/_native/pqpage.c)
_K_BOOL, _K_INT32, _K_INT64, _K_DOUBLE, _K_BYTES, _K_DICT, _K_DELTA32, _K_DELTA64, _K_DLBA = range(9)

_VALUE_ENCODING = {_K_DELTA32: _DELTA_BINARY_PACKED, _K_DELTA64: _DELTA_BINARY_PACKED,
                   _K_DLBA: _DELTA_LENGTH_BYTE_ARRAY}  # the data page encoding of a kind (else PLAIN)

CREATED_BY = f"kubelog version {__version__} (kubelog.pqwrite)"

# Thrift compact protocol types
_T_TRUE, _T_FALSE, _T_I32, _T_I64, _T_BINARY, _T_LIST, _T_STRUCT = 1, 2, 5, 6, 8, 9, 12


def _varint(v: int) -> bytes:
    if v < 128:
        return _BYTE[v]
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


_BYTE = [bytes([i]) for i in range(128)]


def _zigzag(v: int) -> int:
    return (v << 1) ^ (v >> 63)


class _Struct:
    """A Thrift compact-protocol struct, written field by field in increasing field id."""

    __slots__ = ("b", "last")

    def __init__(self):
        self.b = bytearray()
        self.last = 0

    def _head(self, fid: int, t: int) -> None:
        d = fid - self.last
        if 0 < d <= 15:
            self.b.append(d << 4 | t)
        else:
            self.b.append(t)
            self.b += _varint(_zigzag(fid))
        self.last = fid

    def i32(self, fid: int, v: int) -> "_Struct":
        self._head(fid, _T_I32)
        self.b += _varint(_zigzag(v))
        return self

    def i64(self, fid: int, v: int) -> "_Struct":
        self._head(fid, _T_I64)
        self.b += _varint(_zigzag(v))
        return self

    def boolean(self, fid: int, v: bool) -> "_Struct":
        self._head(fid, _T_TRUE if v else _T_FALSE)
        return self

    def binary(self, fid: int, v: bytes) -> "_Struct":
        self._head(fid, _T_BINARY)
        self.b += _varint(len(v))
        self.b += v
        return self

    def struct(self, fid: int, v: bytes) -> "_Struct":
        self._head(fid, _T_STRUCT)
        self.b += v
        return self

    def list(self, fid: int, etype: int, items: list[bytes]) -> "_Struct":
        """``items`` already encoded (varints, length-prefixed binaries or structs)."""
        self._head(fid, _T_LIST)
        n = len(items)
        if n < 15:
            self.b.append(n << 4 | etype)
        else:
            self.b.append(0xF0 | etype)
            self.b += _varint(n)
        for it in items:
            self.b += it
        return self

    def end(self) -> bytes:
        return bytes(self.b) + b"\x00"


def _i32s(vals) -> list[bytes]:
    return [_varint(_zigzag(v)) for v in vals]


_EMPTY = b"\x00"
_STRING_TYPE = _Struct().struct(1, _EMPTY).end()                      # LogicalType.STRING
_TS_NS_UTC = _Struct().struct(8, _Struct().boolean(1, True).struct(2, _Struct().struct(3, _EMPTY).end())
                              .end()).end()                             # TIMESTAMP(UTC, NANOS)
_TYPE_ORDER = _Struct().struct(1, _EMPTY).end()                       # ColumnOrder.TYPE_ORDER


def _leaf(field: pa.Field):
    """(physical type, kind, schema element) of a supported field, else None."""
    t = field.type
    name = field.name.encode()
    el = _Struct()
    if pa.types.is_timestamp(t) and t.unit == "ns" and t.tz in ("UTC", "+00:00"):
        return _INT64, _K_DELTA64, el.i32(1, _INT64).i32(3, _OPTIONAL).binary(4, name).struct(10, _TS_NS_UTC).end()
    if t == pa.string() or (pa.types.is_dictionary(t) and t.index_type == pa.int32() and t.value_type == pa.string()):
        kind = _K_DICT if pa.types.is_dictionary(t) else _K_BYTES
        return _BYTE_ARRAY, kind, (el.i32(1, _BYTE_ARRAY).i32(3, _OPTIONAL).binary(4, name).i32(6, _UTF8)
                                   .struct(10, _STRING_TYPE).end())
    simple = {pa.int32(): (_INT32, _K_DELTA32), pa.int64(): (_INT64, _K_DELTA64), pa.float64(): (_DOUBLE, _K_DOUBLE),
              pa.bool_(): (_BOOLEAN, _K_BOOL)}.get(t)
    if simple is None:
        return None
    return simple[0], simple[1], el.i32(1, simple[0]).i32(3, _OPTIONAL).binary(4, name).end()


_CODEC_OBJ: dict[str, pa.Codec] = {}


def _compress(body: bytes, codec: str) -> bytes:
    if codec in ("none", "uncompressed"):
        return body
    c = _CODEC_OBJ.get(codec)
    if c is None:
        c = _CODEC_OBJ[codec] = pa.Codec(codec)
    return c.compress(body)  # a pyarrow Buffer: written as it is, no copy to bytes


def _page(ptype: int, body: bytes, codec: str, num_values: int, encoding: int) -> tuple[list, int, int]:
    """A page as its pieces (header, compressed body), its size and its uncompressed size."""
    data = _compress(body, codec)
    h = _Struct().i32(1, ptype).i32(2, len(body)).i32(3, len(data))
    if ptype == _DATA_PAGE:  # DataPageHeader: values, encoding, definition / repetition level encodings
        h.struct(5, _Struct().i32(1, num_values).i32(2, encoding).i32(3, _RLE).i32(4, _RLE).end())
    else:  # DictionaryPageHeader: values, encoding
        h.struct(7, _Struct().i32(1, num_values).i32(2, _PLAIN).end())
    head = h.end()
    return [head, data], len(head) + len(data), len(head) + len(body)


def _int64_stats(lo, hi, nulls: int) -> bytes:
    """Statistics: max/min (the deprecated and the current fields), null count."""
    st = _Struct()
    if lo is not None:
        st.binary(1, struct.pack("<q", hi)).binary(2, struct.pack("<q", lo))
    st.i64(3, nulls)
    if lo is not None:
        st.binary(5, struct.pack("<q", hi)).binary(6, struct.pack("<q", lo))
    return st.end()


def write(path, table: pa.Table, compression: dict[str, str], dictionary, statistics,
          max_rows: int = 1 << 20) -> bool:
    """Write ``table`` to ``path`` as one row group; False (nothing written) where pyarrow must.

    ``compression``: codec per column ("snappy" or "none"); ``dictionary``: the plain string
    columns to dictionary-encode (dictionary-typed columns always are); ``statistics``: the
    int64/timestamp columns that get min/max/null-count statistics.
    """
    nat = native.module()
    n = table.num_rows
    if nat is None or n == 0 or n > max_rows or not hasattr(nat, "pq_encode"):
        return False
    plan = []
    for field, col in zip(table.schema, table.columns):
        leaf = _leaf(field)
        if leaf is None or col.num_chunks != 1 or compression.get(field.name, "snappy") not in _CODECS:
            return False
        arr = col.chunk(0)
        if arr.offset != 0:
            return False
        if leaf[1] == _K_DICT and (arr.dictionary.offset != 0 or arr.dictionary.null_count):
            return False
        plan.append((field, arr, leaf))
    chunks: list[bytes] = []
    pos = 4  # after the magic "PAR1"
    columns = []
    total_unc = total_comp = 0
    for field, arr, (ptype, kind, _el) in plan:
        name = field.name
        codec = compression.get(name, "snappy")
        start = pos
        unc = 0
        dict_off = None
        if arr.null_count == n:  # no value at all: a PLAIN data page of definition levels only
            kind = {_K_DICT: _K_BYTES, _K_DELTA32: _K_INT32, _K_DELTA64: _K_INT64}.get(kind, kind)
            arr = arr.indices if pa.types.is_dictionary(arr.type) else arr
        dpage = False
        if kind == _K_DICT:
            d = arr.dictionary
            db = d.buffers()
            dbody, entries = nat.pq_encode(_K_BYTES, len(d), None, db[2], db[1], 0, 0)[0], len(d)
            ib = arr.indices.buffers()
            body, nulls, lo, hi = nat.pq_encode(_K_DICT, n, ib[0] if arr.null_count else None, ib[1], None, 1, len(d))
            dpage = True
        elif kind == _K_BYTES and name in dictionary and arr.null_count < n:
            b = arr.buffers()
            # hashed in C; PLAIN where half the values are distinct (as pyarrow falls back)
            enc = nat.pq_dict_encode(n, b[0] if arr.null_count else None, b[2], b[1], max(1, n // 2))
            if enc is not None:
                dbody, entries, body, nulls = enc
                lo = hi = None
                dpage = True
        if dpage:
            page, size, u = _page(_DICTIONARY_PAGE, dbody, codec, entries, _PLAIN)
            dict_off = pos
            chunks += page
            pos += size
            unc += u
            encoding, encodings = _RLE_DICTIONARY, [_PLAIN, _RLE, _RLE_DICTIONARY]
        else:
            b = arr.buffers() + [None, None]
            valid = b[0] if arr.null_count else None
            if arr.null_count == n:  # validity bitmap of zeros (some all-null arrays have none)
                valid, b = bytes((n + 7) // 8), [None, None, None]
            if kind == _K_BYTES and arr.null_count < n:
                kind = _K_DLBA  # lengths delta-packed, the bytes in one piece (no copy per value)
            if kind in (_K_BYTES, _K_DLBA):
                body, nulls, lo, hi = nat.pq_encode(kind, n, valid, b[2], b[1], 1, 0)
            else:
                body, nulls, lo, hi = nat.pq_encode(kind, n, valid, b[1], None, 1, 0)
            encoding = _VALUE_ENCODING.get(kind, _PLAIN)
            encodings = [_PLAIN, _RLE] if encoding == _PLAIN else [_RLE, encoding]  # RLE: the levels
        page, size, u = _page(_DATA_PAGE, body, codec, n, encoding)
        data_off = pos
        chunks += page
        pos += size
        unc += u
        nb = name.encode()
        md = (_Struct().i32(1, ptype).list(2, _T_I32, _i32s(encodings)).list(3, _T_BINARY, [_varint(len(nb)) + nb])
              .i32(4, _CODECS[codec]).i64(5, n).i64(6, unc).i64(7, pos - start).i64(9, data_off))
        if dict_off is not None:
            md.i64(11, dict_off)
        if name in statistics and ptype == _INT64:
            md.struct(12, _int64_stats(lo, hi, nulls))
        columns.append(_Struct().i64(2, start).struct(3, md.end()).end())
        total_unc += unc
        total_comp += pos - start
    root = _Struct().binary(4, b"schema").i32(5, len(plan)).end()
    rg = (_Struct().list(1, _T_STRUCT, columns).i64(2, total_unc).i64(3, n).i64(5, 4).i64(6, total_comp)
          .end())  # RowGroup: columns, total_byte_size, num_rows, file_offset, total_compressed_size
    meta = (_Struct().i32(1, 2).list(2, _T_STRUCT, [root] + [p[2][2] for p in plan]).i64(3, n)
            .list(4, _T_STRUCT, [rg]).binary(6, CREATED_BY.encode())
            .list(7, _T_STRUCT, [_TYPE_ORDER] * len(plan)).end())
    with open(path, "wb") as f:
        f.write(b"PAR1")
        f.writelines(chunks)
        f.write(meta)
        f.write(struct.pack("<I", len(meta)))
        f.write(b"PAR1")
    return True

