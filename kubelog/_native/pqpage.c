/*
 * kubelog._fastscan.pq_encode: the body of one Parquet data page (format v1) for one flat
 * column, from the buffers of an Arrow array (offset 0).  kubelog/pqwrite.py writes the page
 * headers and the file metadata around it; pyarrow's writer stays the reference (tests read
 * both back and compare).
 *
 * Body = [definition levels, if the column is OPTIONAL: 4-byte length + RLE/bit-packed hybrid,
 * bit width 1] + [values of the non-null rows]: PLAIN for booleans (bit-packed), INT32, INT64,
 * DOUBLE and BYTE_ARRAY (4-byte length + bytes), or RLE_DICTIONARY for dictionary indices (one
 * byte of bit width + the hybrid encoding), DELTA_BINARY_PACKED for INT32/INT64, or
 * DELTA_LENGTH_BYTE_ARRAY for strings (the lengths delta-packed, then the bytes in one piece).  See
 * the Parquet format's Encodings.md.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

enum { PQ_BOOL = 0, PQ_INT32 = 1, PQ_INT64 = 2, PQ_DOUBLE = 3, PQ_BYTES = 4, PQ_DICT = 5, PQ_DELTA32 = 6,
       PQ_DELTA64 = 7, PQ_DLBA = 8 };

typedef struct {
    uint8_t *p;
    Py_ssize_t len, cap;
} Out;

static inline void put_u32(Out *o, uint32_t v) {
    memcpy(o->p + o->len, &v, 4);  /* little-endian hosts only (x86-64, aarch64) */
    o->len += 4;
}

static inline void put_varint(Out *o, uint64_t v) {
    while (v >= 0x80) { o->p[o->len++] = (uint8_t)(v | 0x80); v >>= 7; }
    o->p[o->len++] = (uint8_t)v;
}

static inline int bit(const uint8_t *bm, int64_t i) { return (bm[i >> 3] >> (i & 7)) & 1; }

/* the RLE/bit-packed hybrid encoding of v[0..m) with bit width w (1..32): runs of >= 8 equal
 * values as RLE runs, the rest in bit-packed groups of 8 (the last group padded with zeros) */
static void hybrid(Out *o, const uint32_t *v, int64_t m, int w) {
    int vbytes = (w + 7) / 8;
    int64_t i = 0;
    while (i < m) {
        int64_t r = 1;
        while (i + r < m && v[i + r] == v[i]) r++;
        if (r >= 8) {
            put_varint(o, (uint64_t)r << 1);
            uint32_t x = v[i];
            for (int b = 0; b < vbytes; b++) o->p[o->len++] = (uint8_t)(x >> (8 * b));
            i += r;
            continue;
        }
        /* literals: groups of 8 until a group boundary where 8 equal values begin */
        int64_t start = i;
        for (;;) {
            i += 8;
            if (i >= m) break;
            int64_t k = 1;
            while (k < 8 && i + k < m && v[i + k] == v[i]) k++;
            if (k == 8) break;
        }
        int64_t groups = (i - start + 7) / 8;
        if (i > m) i = m;
        put_varint(o, ((uint64_t)groups << 1) | 1);
        uint64_t acc = 0;
        int nacc = 0;
        for (int64_t j = start; j < start + groups * 8; j++) {
            uint64_t x = j < m ? v[j] : 0;
            acc |= x << nacc;
            nacc += w;
            while (nacc >= 8) { o->p[o->len++] = (uint8_t)acc; acc >>= 8; nacc -= 8; }
        }
        /* 8 values of w bits are exactly w bytes: nothing is left in acc */
    }
}

/* the definition levels of an OPTIONAL column: 4-byte length + hybrid encoding, bit width 1 */
static void levels(Out *o, const uint8_t *valid, int64_t n, int64_t nulls) {
    Py_ssize_t at = o->len;
    put_u32(o, 0);
    if (nulls == 0 || nulls == n) {  /* one RLE run of 1s (or 0s) */
        put_varint(o, (uint64_t)n << 1);
        o->p[o->len++] = nulls == 0;
    } else {  /* bit-packed with width 1 is the Arrow validity bitmap itself */
        int64_t nb = (n + 7) / 8;
        put_varint(o, ((uint64_t)nb << 1) | 1);
        memcpy(o->p + o->len, valid, nb);
        if (n & 7) o->p[o->len + nb - 1] &= (uint8_t)((1u << (n & 7)) - 1);
        o->len += nb;
    }
    uint32_t ll = (uint32_t)(o->len - at - 4);
    memcpy(o->p + at, &ll, 4);
}

/* w-bit values x[0..32) bit-packed, least significant bit first: 4 * w bytes */
static void pack32(Out *o, const uint64_t *x, int w) {
    if (w == 0) return;
    uint64_t acc = 0;
    int nacc = 0;
    for (int k = 0; k < 32; k++) {
        uint64_t v = x[k];
        acc |= v << nacc;
        if (nacc + w >= 64) {
            memcpy(o->p + o->len, &acc, 8);
            o->len += 8;
            acc = nacc ? v >> (64 - nacc) : 0;
            nacc = nacc + w - 64;
        } else {
            nacc += w;
        }
    }
    memcpy(o->p + o->len, &acc, nacc / 8);  /* 32 * w bits: whole bytes */
    o->len += nacc / 8;
}

static inline uint64_t zigzag64(int64_t v) { return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63); }

/* DELTA_BINARY_PACKED of v[0..m): blocks of 128 values, 4 miniblocks of 32; deltas wrap in the
 * column's width (bits = 32 or 64), as the format asks */
static void delta_encode(Out *o, const uint64_t *v, int64_t m, int bits) {
    uint64_t mask = bits == 64 ? ~(uint64_t)0 : (((uint64_t)1 << bits) - 1);
    put_varint(o, 128);
    put_varint(o, 4);
    put_varint(o, (uint64_t)m);
    int64_t first = m ? (bits == 64 ? (int64_t)v[0] : (int64_t)(int32_t)(uint32_t)v[0]) : 0;
    put_varint(o, zigzag64(first));
    uint64_t d[128];
    for (int64_t i = 1; i < m; i += 128) {
        int64_t cnt = m - i < 128 ? m - i : 128;
        int64_t mn = INT64_MAX;
        for (int64_t k = 0; k < cnt; k++) {
            uint64_t dk = (v[i + k] - v[i + k - 1]) & mask;
            int64_t sd = bits == 64 ? (int64_t)dk : (int64_t)(int32_t)(uint32_t)dk;
            d[k] = dk;
            if (sd < mn) mn = sd;
        }
        for (int64_t k = 0; k < 128; k++) d[k] = k < cnt ? (d[k] - (uint64_t)mn) & mask : 0;
        put_varint(o, zigzag64(mn));
        int widths[4];
        for (int b = 0; b < 4; b++) {
            uint64_t any = 0;
            if (b * 32 < cnt)
                for (int k = b * 32; k < b * 32 + 32; k++) any |= d[k];
            int w = 0;
            while (w < 64 && (any >> w)) w++;
            widths[b] = w;
            o->p[o->len++] = (uint8_t)w;
        }
        for (int b = 0; b < 4 && b * 32 < cnt; b++) pack32(o, d + b * 32, widths[b]);
    }
}

static int get_buf(PyObject *obj, Py_buffer *b) {
    if (obj == Py_None) { memset(b, 0, sizeof(*b)); return 0; }
    return PyObject_GetBuffer(obj, b, PyBUF_SIMPLE);
}

PyObject *pq_encode(PyObject *self, PyObject *args) {
    int kind, optional;
    Py_ssize_t n, dict_size;
    PyObject *ovalid, *ovalues, *ooffsets;
    if (!PyArg_ParseTuple(args, "inOOOin", &kind, &n, &ovalid, &ovalues, &ooffsets, &optional, &dict_size))
        return NULL;
    int width = 1;  /* bit width of dictionary indices: at least 1 */
    while (width < 32 && ((int64_t)1 << width) < dict_size) width++;
    if (kind < PQ_BOOL || kind > PQ_DLBA || n < 0 || (kind == PQ_DICT && (dict_size < 1 || dict_size > INT32_MAX))) {
        PyErr_SetString(PyExc_ValueError, "pq_encode: bad kind, length or dictionary size");
        return NULL;
    }
    Py_buffer bv, bx, bo;
    if (get_buf(ovalid, &bv)) return NULL;
    if (get_buf(ovalues, &bx)) { PyBuffer_Release(&bv); return NULL; }
    if (get_buf(ooffsets, &bo)) { PyBuffer_Release(&bv); PyBuffer_Release(&bx); return NULL; }
    PyObject *result = NULL, *body = NULL;
    uint32_t *idx = NULL;
    const uint8_t *valid = bv.buf ? (const uint8_t *)bv.buf : NULL;
    const int32_t *offs = (const int32_t *)bo.buf;
    static const int fixed[] = {0, 4, 8, 8, 0, 4, 4, 8, 0};
    if (valid && bv.len < (n + 7) / 8) {
        PyErr_SetString(PyExc_ValueError, "pq_encode: validity bitmap shorter than the array");
        goto done;
    }
    int64_t nulls = 0;
    if (valid) {
        for (int64_t i = 0; i < n; i++) nulls += !bit(valid, i);
    }
    int64_t nn = n - nulls;  /* with no value at all, the values' buffers are not read */
    if (nn && ((kind == PQ_BOOL && bx.len < (n + 7) / 8) || (fixed[kind] && bx.len < n * fixed[kind]) ||
               ((kind == PQ_BYTES || kind == PQ_DLBA) && (!offs || bo.len < (n + 1) * 4 || offs[0] < 0 || offs[n] > bx.len ||
                                     offs[n] < offs[0])))) {
        PyErr_SetString(PyExc_ValueError, "pq_encode: buffers shorter than the array");
        goto done;
    }
    if (nn && (kind == PQ_BYTES || kind == PQ_DLBA)) {
        for (int64_t i = 0; i < n; i++)
            if (offs[i + 1] < offs[i]) {
                PyErr_SetString(PyExc_ValueError, "pq_encode: offsets out of order");
                goto done;
            }
    }
    Py_ssize_t cap = 16 + 2 * ((n + 7) / 8) + 16;  /* levels: header + bitmap, or one run */
    switch (kind) {
    case PQ_BOOL: cap += (nn + 7) / 8; break;
    case PQ_BYTES: cap += nn ? 4 * nn + (offs[n] - offs[0]) : 0; break;
    case PQ_DICT: cap += 1 + (nn / 8 + 2) * (14 + width); break;  /* per 8 values: a run header + 4 value
                                                                  bytes, or a literal header + w bytes */
    case PQ_DELTA32: case PQ_DELTA64: cap += 64 + (nn / 128 + 1) * (10 + 4 + 4 * 32 * 8); break;
    case PQ_DLBA: cap += 64 + (nn / 128 + 1) * (10 + 4 + 4 * 32 * 8) + (nn ? offs[n] - offs[0] : 0); break;
    default: cap += nn * fixed[kind];
    }
    body = PyBytes_FromStringAndSize(NULL, cap);
    if (!body) goto done;
    Out o = {(uint8_t *)PyBytes_AS_STRING(body), 0, cap};
    if (optional) {
        levels(&o, valid, n, nulls);
    } else if (nulls) {
        PyErr_SetString(PyExc_ValueError, "pq_encode: nulls in a REQUIRED column");
        goto done;
    }
    int64_t lo = INT64_MAX, hi = INT64_MIN;  /* statistics of the delta kinds' values */
    int has_stats = 0;
    switch (nn ? kind : -1) {
    case PQ_BOOL: {
        const uint8_t *x = (const uint8_t *)bx.buf;
        if (nulls == 0) {
            memcpy(o.p + o.len, x, (n + 7) / 8);
            if (n & 7) o.p[o.len + (n + 7) / 8 - 1] &= (uint8_t)((1u << (n & 7)) - 1);
        } else {
            memset(o.p + o.len, 0, (nn + 7) / 8);
            int64_t k = 0;
            for (int64_t i = 0; i < n; i++)
                if (bit(valid, i)) { if (bit(x, i)) o.p[o.len + (k >> 3)] |= (uint8_t)(1u << (k & 7)); k++; }
        }
        o.len += (nn + 7) / 8;
        break;
    }
    case PQ_INT32: case PQ_INT64: case PQ_DOUBLE: {
        int sz = fixed[kind];
        const uint8_t *x = (const uint8_t *)bx.buf;
        if (!valid || nulls == 0) {
            memcpy(o.p + o.len, x, n * sz);
            o.len += n * sz;
        } else {
            for (int64_t i = 0; i < n; i++)
                if (bit(valid, i)) { memcpy(o.p + o.len, x + i * sz, sz); o.len += sz; }
        }
        break;
    }
    case PQ_BYTES: {
        const char *x = (const char *)bx.buf;
        for (int64_t i = 0; i < n; i++) {
            if (valid && !bit(valid, i)) continue;
            int32_t a = offs[i], b = offs[i + 1];
            put_u32(&o, (uint32_t)(b - a));
            memcpy(o.p + o.len, x + a, b - a);
            o.len += b - a;
        }
        break;
    }
    case PQ_DLBA: {
        const char *x = (const char *)bx.buf;
        uint64_t *u = (uint64_t *)PyMem_Malloc(sizeof(uint64_t) * nn);
        if (!u) { PyErr_NoMemory(); goto done; }
        int64_t k = 0, gaps = 0;  /* gaps: bytes under null slots (Arrow allows them) */
        for (int64_t i = 0; i < n; i++) {
            int32_t a = offs[i], b = offs[i + 1];
            if (valid && !bit(valid, i)) { gaps += b - a; continue; }
            u[k++] = (uint64_t)(b - a);
        }
        delta_encode(&o, u, nn, 32);
        PyMem_Free(u);
        if (!gaps) {  /* the values' bytes are one piece already */
            memcpy(o.p + o.len, x + offs[0], offs[n] - offs[0]);
            o.len += offs[n] - offs[0];
        } else {
            for (int64_t i = 0; i < n; i++) {
                if (valid && !bit(valid, i)) continue;
                memcpy(o.p + o.len, x + offs[i], offs[i + 1] - offs[i]);
                o.len += offs[i + 1] - offs[i];
            }
        }
        break;
    }
    case PQ_DELTA32: case PQ_DELTA64: {
        uint64_t *u = (uint64_t *)PyMem_Malloc(sizeof(uint64_t) * nn);
        if (!u) { PyErr_NoMemory(); goto done; }
        int64_t k = 0;
        for (int64_t i = 0; i < n; i++) {
            if (valid && !bit(valid, i)) continue;
            int64_t y = kind == PQ_DELTA64 ? ((const int64_t *)bx.buf)[i] : ((const int32_t *)bx.buf)[i];
            if (y < lo) lo = y;
            if (y > hi) hi = y;
            u[k++] = (uint64_t)y;
        }
        delta_encode(&o, u, nn, kind == PQ_DELTA64 ? 64 : 32);
        PyMem_Free(u);
        has_stats = 1;
        break;
    }
    case PQ_DICT: {
        const uint32_t *x = (const uint32_t *)bx.buf;
        const uint32_t *v = x;
        if (valid && nulls) {
            idx = (uint32_t *)PyMem_Malloc(sizeof(uint32_t) * (nn ? nn : 1));
            if (!idx) { PyErr_NoMemory(); goto done; }
            int64_t k = 0;
            for (int64_t i = 0; i < n; i++) if (bit(valid, i)) idx[k++] = x[i];
            v = idx;
        }
        for (int64_t i = 0; i < nn; i++)
            if (v[i] >= (uint64_t)dict_size) {
                PyErr_SetString(PyExc_ValueError, "pq_encode: dictionary index beyond the dictionary");
                goto done;
            }
        o.p[o.len++] = (uint8_t)width;
        hybrid(&o, v, nn, width);
        break;
    }
    }
    if (o.len > cap) Py_FatalError("pq_encode: page buffer overrun");
    if (_PyBytes_Resize(&body, o.len)) goto done;
    result = has_stats ? Py_BuildValue("(NLLL)", body, (long long)nulls, (long long)lo, (long long)hi)
                       : Py_BuildValue("(NLOO)", body, (long long)nulls, Py_None, Py_None);
    body = NULL;
done:
    Py_XDECREF(body);
    if (idx) PyMem_Free(idx);
    PyBuffer_Release(&bv);
    PyBuffer_Release(&bx);
    PyBuffer_Release(&bo);
    return result;
}

static inline uint64_t bytes_hash(const uint8_t *p, int64_t len) {
    uint64_t h = 0x9E3779B97F4A7C15ull ^ (uint64_t)len;
    while (len >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = (h ^ w) * 0xFF51AFD7ED558CCDull;
        h ^= h >> 32;
        p += 8; len -= 8;
    }
    uint64_t w = 0;
    memcpy(&w, p, len);
    h = (h ^ w) * 0xC4CEB9FE1A85EC53ull;
    return h ^ (h >> 29);
}

/* pq_dict_encode(n, validity, data, offsets, max_entries) -> (dictionary page body, entries,
 * data page body, nulls) for a string column (int32 offsets, offset 0), or None when it has more
 * than max_entries distinct values (the caller then writes it PLAIN) */
PyObject *pq_dict_encode(PyObject *self, PyObject *args) {
    Py_ssize_t n, max_entries;
    PyObject *ovalid, *odata, *ooffsets;
    if (!PyArg_ParseTuple(args, "nOOOn", &n, &ovalid, &odata, &ooffsets, &max_entries)) return NULL;
    Py_buffer bv, bx, bo;
    if (get_buf(ovalid, &bv)) return NULL;
    if (get_buf(odata, &bx)) { PyBuffer_Release(&bv); return NULL; }
    if (get_buf(ooffsets, &bo)) { PyBuffer_Release(&bv); PyBuffer_Release(&bx); return NULL; }
    PyObject *result = NULL, *dbody = NULL, *body = NULL;
    uint32_t *idx = NULL, *first = NULL;
    int32_t *table = NULL;
    const uint8_t *valid = bv.buf ? (const uint8_t *)bv.buf : NULL;
    const int32_t *offs = (const int32_t *)bo.buf;
    const uint8_t *x = (const uint8_t *)bx.buf;
    if (n < 1 || max_entries < 1 || (valid && bv.len < (n + 7) / 8) || !offs || bo.len < (n + 1) * 4 ||
        offs[0] < 0 || offs[n] < offs[0] || offs[n] > bx.len) {
        PyErr_SetString(PyExc_ValueError, "pq_dict_encode: buffers shorter than the array");
        goto done;
    }
    int64_t size = 64;
    while (size < 2 * (max_entries < n ? max_entries : n)) size *= 2;
    idx = (uint32_t *)PyMem_Malloc(sizeof(uint32_t) * n);
    first = (uint32_t *)PyMem_Malloc(sizeof(uint32_t) * (max_entries < n ? max_entries : n));
    table = (int32_t *)PyMem_Malloc(sizeof(int32_t) * size);
    if (!idx || !first || !table) { PyErr_NoMemory(); goto done; }
    memset(table, 0xFF, sizeof(int32_t) * size);
    int64_t k = 0, entries = 0, dbytes = 0;
    int32_t pa = 0, pb = 0;  /* the previous value */
    for (int64_t i = 0; i < n; i++) {
        if (valid && !bit(valid, i)) continue;
        int32_t a = offs[i], b = offs[i + 1];
        if (a < offs[0] || b < a || b > offs[n]) {
            PyErr_SetString(PyExc_ValueError, "pq_dict_encode: offsets out of order");
            goto done;
        }
        if (k && b - a == pb - pa && memcmp(x + a, x + pa, b - a) == 0) {  /* as the previous value */
            idx[k] = idx[k - 1];
            k++;
            continue;
        }
        pa = a; pb = b;
        uint64_t h = bytes_hash(x + a, b - a) & (size - 1);
        for (;;) {
            int32_t e = table[h];
            if (e < 0) {
                if (entries == max_entries) { result = Py_None; Py_INCREF(result); goto done; }
                table[h] = (int32_t)entries;
                first[entries] = (uint32_t)i;
                dbytes += 4 + (b - a);
                idx[k++] = (uint32_t)entries++;
                break;
            }
            int32_t fa = offs[first[e]], fb = offs[first[e] + 1];
            if (fb - fa == b - a && memcmp(x + fa, x + a, b - a) == 0) { idx[k++] = (uint32_t)e; break; }
            h = (h + 1) & (size - 1);
        }
    }
    int64_t nulls = n - k;
    if (k == 0) { result = Py_None; Py_INCREF(result); goto done; }
    dbody = PyBytes_FromStringAndSize(NULL, dbytes);
    if (!dbody) goto done;
    Out d = {(uint8_t *)PyBytes_AS_STRING(dbody), 0, dbytes};
    for (int64_t e = 0; e < entries; e++) {
        int32_t a = offs[first[e]], b = offs[first[e] + 1];
        put_u32(&d, (uint32_t)(b - a));
        memcpy(d.p + d.len, x + a, b - a);
        d.len += b - a;
    }
    int width = 1;
    while (width < 32 && ((int64_t)1 << width) < entries) width++;
    Py_ssize_t cap = 16 + 2 * ((n + 7) / 8) + 16 + 1 + (k / 8 + 2) * (14 + width);
    body = PyBytes_FromStringAndSize(NULL, cap);
    if (!body) goto done;
    Out o = {(uint8_t *)PyBytes_AS_STRING(body), 0, cap};
    levels(&o, valid, n, nulls);
    o.p[o.len++] = (uint8_t)width;
    hybrid(&o, idx, k, width);
    if (o.len > cap) Py_FatalError("pq_dict_encode: page buffer overrun");
    if (_PyBytes_Resize(&body, o.len)) goto done;
    result = Py_BuildValue("(NLNL)", dbody, (long long)entries, body, (long long)nulls);
    dbody = body = NULL;
done:
    Py_XDECREF(dbody);
    Py_XDECREF(body);
    PyMem_Free(idx);
    PyMem_Free(first);
    PyMem_Free(table);
    PyBuffer_Release(&bv);
    PyBuffer_Release(&bx);
    PyBuffer_Release(&bo);
    return result;
}
