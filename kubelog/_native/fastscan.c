/*
 * kubelog._fastscan: one pass over a block of klog lines.
 *
 * For every line: is it a klog header (the HEADER_START pattern of
 * kubelog/formats/klog.py) and its month/day/time fields.  For every header
 * line whose message is a structured access-log record (variant E-H of
 * formats-server.md section 3, the RE_E pattern of kubelog/formats/httplog.py):
 * the request fields, the Go duration in exact nanoseconds, and the
 * RequestInfoFactory classification of kubelog/formats/requestinfo.py
 * (classify_one is the readable reference; tests check both agree).
 *
 * Strings come back as Arrow string-array buffers (int32 offsets, data,
 * validity bitmap), so Python wraps them without copying a value.  A line the
 * scanner does not accept is left to the Python parser (e_ok = 0): the scanner
 * never guesses.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* memchr for the short spans of a log line (a field, a quoted value): 16 bytes at a time with
 * SSE2 where there is SSE2, never reading past s + n; the library memchr's call and set-up cost
 * more than the search on spans of a few dozen bytes.  Long spans (line ends) use memchr. */
static inline const void *fmemchr(const void *s, int c, size_t n) {
    const char *p = (const char *)s, *e = p + n;
#ifdef __SSE2__
    const __m128i needle = _mm_set1_epi8((char)c);
    while (e - p >= 16) {
        int m = _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)p), needle));
        if (m) return p + __builtin_ctz((unsigned)m);
        p += 16;
    }
#endif
    for (; p < e; p++)
        if (*p == (char)c) return p;
    return NULL;
}

/* ---------------------------------------------------------------- buffers */

typedef struct {
    char *data;
    int64_t len, cap;
    int32_t *off;
    uint8_t *valid;       /* bitmap */
    int64_t n, ncap;
    int64_t nulls;
    int overflow;
} SCol;

static int scol_init(SCol *c, int64_t nrows, int64_t bytes) {
    memset(c, 0, sizeof(*c));
    c->ncap = nrows + 1;
    c->cap = bytes > 64 ? bytes : 64;
    c->off = (int32_t *)malloc(sizeof(int32_t) * (c->ncap + 1));
    c->valid = (uint8_t *)calloc((c->ncap + 8) / 8 + 1, 1);
    c->data = (char *)malloc(c->cap);
    if (!c->off || !c->valid || !c->data) return -1;
    c->off[0] = 0;
    return 0;
}

static void scol_free(SCol *c) {
    free(c->data); free(c->off); free(c->valid);
    memset(c, 0, sizeof(*c));
}

static inline int scol_reserve(SCol *c, int64_t extra) {
    if (c->len + extra <= c->cap) return 0;
    int64_t nc = c->cap * 2;
    while (nc < c->len + extra) nc *= 2;
    char *d = (char *)realloc(c->data, nc);
    if (!d) return -1;
    c->data = d; c->cap = nc;
    return 0;
}

static inline void scol_end(SCol *c, int valid) {
    if (c->len > INT32_MAX) c->overflow = 1;
    if (valid) c->valid[c->n >> 3] |= (uint8_t)(1u << (c->n & 7));
    else c->nulls++;
    c->n++;
    c->off[c->n] = (int32_t)c->len;
}

static inline int scol_put(SCol *c, const char *s, int64_t k) {
    if (scol_reserve(c, k)) return -1;
    memcpy(c->data + c->len, s, k);
    c->len += k;
    scol_end(c, 1);
    return 0;
}

static inline void scol_null(SCol *c) { scol_end(c, 0); }

/* Go %q unquoting as httplog._unescape does it: \" -> ", \\ -> \ ; others kept. */
static int64_t unquote_into(const char *s, int64_t k, char *o) {  /* o has room for k bytes */
    int64_t j = 0;
    for (int64_t i = 0; i < k; i++) {
        if (s[i] == '\\' && i + 1 < k && (s[i + 1] == '"' || s[i + 1] == '\\')) {
            o[j++] = s[i + 1];
            i++;
        } else {
            o[j++] = s[i];
        }
    }
    return j;
}

static inline int scol_put_unescaped(SCol *c, const char *s, int64_t k) {
    if (!fmemchr(s, '\\', k)) return scol_put(c, s, k);
    if (scol_reserve(c, k)) return -1;
    c->len += unquote_into(s, k, c->data + c->len);
    scol_end(c, 1);
    return 0;
}

/* A malloc'd buffer handed to Python without a copy: read-only buffer protocol, free() on
   dealloc (pyarrow.py_buffer keeps the object alive as long as an array uses it). */
typedef struct {
    PyObject_HEAD
    void *ptr;
    Py_ssize_t len;
} OwnedBuf;

static void ownedbuf_dealloc(OwnedBuf *self) {
    free(self->ptr);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int ownedbuf_getbuffer(OwnedBuf *self, Py_buffer *view, int flags) {
    return PyBuffer_FillInfo(view, (PyObject *)self, self->ptr, self->len, 1, flags);
}

static PyBufferProcs ownedbuf_as_buffer = {(getbufferproc)ownedbuf_getbuffer, NULL};

static PyTypeObject OwnedBufType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "kubelog._fastscan.OwnedBuffer",
    .tp_basicsize = sizeof(OwnedBuf),
    .tp_dealloc = (destructor)ownedbuf_dealloc,
    .tp_as_buffer = &ownedbuf_as_buffer,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "A buffer of kubelog's C scanner (read-only).",
};

/* Takes ownership of ptr (freed on failure too). */
static PyObject *owned(void *ptr, Py_ssize_t len) {
    OwnedBuf *b = PyObject_New(OwnedBuf, &OwnedBufType);
    if (!b) { free(ptr); return NULL; }
    b->ptr = ptr;
    b->len = len;
    return (PyObject *)b;
}

/* (data, offsets, validity or None, null_count); the column's buffers are handed over (no copy) */
static PyObject *scol_to_py(SCol *c) {
    if (c->overflow) {
        PyErr_SetString(PyExc_OverflowError, "string column over 2 GiB in one block");
        return NULL;
    }
    if (c->cap > c->len + 4096) {  /* give back the unused end (shrinking stays in place) */
        char *shrunk = (char *)realloc(c->data, c->len ? c->len : 1);
        if (shrunk) c->data = shrunk;
    }
    PyObject *d = owned(c->data, c->len);
    PyObject *o = owned(c->off, sizeof(int32_t) * (c->n + 1));
    PyObject *v;
    if (c->nulls) v = owned(c->valid, (c->n + 7) / 8);
    else { free(c->valid); v = Py_None; Py_INCREF(v); }
    c->data = NULL; c->off = NULL; c->valid = NULL;  /* owned by the Python objects now */
    if (!d || !o || !v) { Py_XDECREF(d); Py_XDECREF(o); Py_XDECREF(v); return NULL; }
    PyObject *t = Py_BuildValue("(NNNL)", d, o, v, (long long)c->nulls);
    return t;
}

/* A dictionary-encoded string column: the distinct values (an SCol, in order of first
   appearance), an int32 index and a validity bit per row.  Low-cardinality fields (verb,
   resource, user agent, ...) come out as Arrow DictionaryArrays: the Parquet writer then
   writes their dictionary pages directly instead of hashing every value again. */
typedef struct {
    SCol dict;
    int32_t *idx;
    uint8_t *valid;
    int64_t n, ncap, nulls;
    int32_t *slots;       /* open addressing over dict entries, -1 empty */
    uint64_t *hash;       /* hash of each dict entry */
    int64_t mask;         /* slots - 1 */
} DCol;

static int dcol_init(DCol *c, int64_t nrows) {
    memset(c, 0, sizeof(*c));
    if (scol_init(&c->dict, 64, 1024)) return -1;
    c->ncap = nrows + 1;
    c->idx = (int32_t *)malloc(sizeof(int32_t) * c->ncap);
    c->valid = (uint8_t *)calloc((c->ncap + 8) / 8 + 1, 1);
    c->mask = 255;
    c->slots = (int32_t *)malloc(sizeof(int32_t) * (c->mask + 1));
    c->hash = (uint64_t *)malloc(sizeof(uint64_t) * 65);
    if (!c->idx || !c->valid || !c->slots || !c->hash) return -1;
    memset(c->slots, 0xff, sizeof(int32_t) * (c->mask + 1));
    return 0;
}

static void dcol_free(DCol *c) {
    scol_free(&c->dict);
    free(c->idx); free(c->valid); free(c->slots); free(c->hash);
    memset(c, 0, sizeof(*c));
}

static inline uint64_t load8(const char *s) { uint64_t w; memcpy(&w, s, 8); return w; }

static inline uint32_t load4(const char *s) { uint32_t w; memcpy(&w, s, 4); return w; }

/* The bytes s[0:k] (k <= 16) as two words, with overlapping loads and no read outside s; for a
   given k the words determine the bytes, so equal k and words mean equal strings. */
static inline void small_words(const char *s, int64_t k, uint64_t *a, uint64_t *b) {
    if (k >= 8) { *a = load8(s); *b = load8(s + k - 8); return; }
    if (k >= 4) { *a = (uint64_t)load4(s) | ((uint64_t)load4(s + k - 4) << 32); *b = 0; return; }
    *b = 0;
    if (k == 0) { *a = 0; return; }
    *a = (uint64_t)(unsigned char)s[0] | ((uint64_t)(unsigned char)s[k >> 1] << 8) |
         ((uint64_t)(unsigned char)s[k - 1] << 16);
}

static inline uint64_t mix(uint64_t h) {
    h ^= h >> 29;
    h *= 0xBF58476D1CE4E5B9ULL;
    return h ^ (h >> 32);
}

static inline uint64_t str_hash(const char *s, int64_t k) {
    uint64_t h = 0x9E3779B97F4A7C15ULL * (uint64_t)(k + 1);
    if (k <= 16) {
        uint64_t a, b;
        small_words(s, k, &a, &b);
        return mix(h ^ a ^ mix(b + h));
    }
    while (k > 8) {
        h = mix(h ^ load8(s));
        s += 8; k -= 8;
    }
    return mix(h ^ load8(s + k - 8));  /* the last 8 bytes (overlapping) */
}

static inline int same_bytes(const char *x, const char *y, int64_t k) {
    if (k <= 16) {
        uint64_t a1, b1, a2, b2;
        small_words(x, k, &a1, &b1);
        small_words(y, k, &a2, &b2);
        return a1 == a2 && b1 == b2;
    }
    return memcmp(x, y, (size_t)k) == 0;
}

static int dcol_grow(DCol *c) {
    int64_t nm = c->mask * 2 + 1;
    int32_t *ns = (int32_t *)malloc(sizeof(int32_t) * (nm + 1));
    if (!ns) return -1;
    memset(ns, 0xff, sizeof(int32_t) * (nm + 1));
    for (int64_t j = 0; j < c->dict.n; j++) {
        int64_t pos = (int64_t)(c->hash[j] & (uint64_t)nm);
        while (ns[pos] >= 0) pos = (pos + 1) & nm;
        ns[pos] = (int32_t)j;
    }
    free(c->slots);
    c->slots = ns;
    c->mask = nm;
    return 0;
}

static inline int dcol_put(DCol *c, const char *s, int64_t k) {
    uint64_t h = str_hash(s, k);
    int64_t pos = (int64_t)(h & (uint64_t)c->mask);
    int32_t j;
    for (;;) {
        j = c->slots[pos];
        if (j < 0) break;
        if (c->hash[j] == h) {
            const int32_t *o = c->dict.off;
            if (o[j + 1] - o[j] == k && same_bytes(c->dict.data + o[j], s, k)) goto found;
        }
        pos = (pos + 1) & c->mask;
    }
    /* a new value */
    j = (int32_t)c->dict.n;
    if (c->dict.n + 1 >= c->dict.ncap) {  /* room for more entries (offsets, validity, hashes) */
        int64_t nc = c->dict.ncap * 2;
        int32_t *no = (int32_t *)realloc(c->dict.off, sizeof(int32_t) * (nc + 1));
        if (!no) return -1;
        c->dict.off = no;
        uint8_t *nv = (uint8_t *)realloc(c->dict.valid, (nc + 8) / 8 + 1);
        if (!nv) return -1;
        memset(nv + (c->dict.ncap + 8) / 8 + 1, 0, (nc + 8) / 8 - (c->dict.ncap + 8) / 8);
        c->dict.valid = nv;
        uint64_t *nh = (uint64_t *)realloc(c->hash, sizeof(uint64_t) * (nc + 1));
        if (!nh) return -1;
        c->hash = nh;
        c->dict.ncap = nc;
    }
    if (scol_put(&c->dict, s, k)) return -1;
    c->hash[j] = h;
    c->slots[pos] = j;
    if (c->dict.n * 2 > c->mask && dcol_grow(c)) return -1;
found:
    c->idx[c->n] = j;
    c->valid[c->n >> 3] |= (uint8_t)(1u << (c->n & 7));
    c->n++;
    return 0;
}

static inline void dcol_null(DCol *c) {
    c->idx[c->n++] = 0;
    c->nulls++;
}

/* Go %q unquoting (see scol_put_unescaped) of a value put into a dictionary column */
static int dcol_put_unescaped(DCol *c, const char *s, int64_t k) {
    if (!fmemchr(s, '\\', k)) return dcol_put(c, s, k);
    char *o = (char *)malloc(k ? k : 1);
    if (!o) return -1;
    int r = dcol_put(c, o, unquote_into(s, k, o));
    free(o);
    return r;
}

/* (dictionary as scol_to_py, indices, validity or None, null_count) */
static PyObject *dcol_to_py(DCol *c) {
    PyObject *d = scol_to_py(&c->dict);
    if (!d) return NULL;
    PyObject *ix = owned(c->idx, sizeof(int32_t) * (c->n ? c->n : 1));
    PyObject *v;
    if (c->nulls) v = owned(c->valid, (c->n + 7) / 8 + 1);
    else { free(c->valid); v = Py_None; Py_INCREF(v); }
    c->idx = NULL; c->valid = NULL;
    if (!ix || !v) { Py_DECREF(d); Py_XDECREF(ix); Py_XDECREF(v); return NULL; }
    return Py_BuildValue("(NNNL)", d, ix, v, (long long)c->nulls);
}

/* ---------------------------------------------------------------- helpers */

static inline int isdig(unsigned char ch) { return ch >= '0' && ch <= '9'; }

static inline int starts(const char *p, const char *e, const char *lit, int64_t n) {
    return e - p >= n && same_bytes(p, lit, n);
}
#define STARTS(p, e, lit) starts((p), (e), (lit), (int64_t)(sizeof(lit) - 1))

static inline int two(const char *p) { return (p[0] - '0') * 10 + (p[1] - '0'); }

/* [^"]* then the closing quote; returns pointer to the quote or NULL */
static inline const char *to_quote(const char *p, const char *e) {
    const char *q = (const char *)fmemchr(p, '"', e - p);
    return q;
}

/* Go-quoted body (?:[^"\\]|\\.)* ; returns pointer to the closing quote or NULL */
static inline const char *to_quote_esc(const char *p, const char *e) {
    while (p < e) {
        const char *q = (const char *)fmemchr(p, '"', e - p);
        if (!q) return NULL;
        /* count backslashes before q (from p) */
        const char *b = q;
        while (b > p && b[-1] == '\\') b--;
        if (((q - b) & 1) == 0) {
            /* even: the quote is not escaped, unless an escape pair straddles p */
            return q;
        }
        p = q + 1;
    }
    return NULL;
}

/* Exact ns of a Go duration (kubelog.timeutil.parse_duration_ns); -1 if invalid or negative. */
static int64_t go_duration_ns(const char *p, int64_t n) {
    const char *e = p + n;
    if (n == 1 && p[0] == '0') return 0;
    if (n == 0) return -1;
    if (p[0] == '-') {
        /* negative: -0 is 0, anything else is invalid as a latency */
        const char *q = p + 1;
        if (e - q == 1 && q[0] == '0') return 0;
        int64_t v = go_duration_ns(q, e - q);
        return v == 0 ? 0 : -1;
    }
    int64_t total = 0;
    while (p < e) {
        if (!isdig((unsigned char)*p)) return -1;
        int64_t ip = 0;
        int nd = 0;
        while (p < e && isdig((unsigned char)*p)) {
            if (ip > (INT64_MAX - 9) / 10) return -1;
            ip = ip * 10 + (*p - '0');
            p++; nd++;
        }
        int64_t fp9 = 0;
        int has_frac = 0;
        if (p < e && *p == '.') {
            p++;
            if (p >= e || !isdig((unsigned char)*p)) return -1;
            has_frac = 1;
            int k = 0;
            while (p < e && isdig((unsigned char)*p)) {
                if (k < 9) { fp9 = fp9 * 10 + (*p - '0'); k++; }
                p++;
            }
            for (; k < 9; k++) fp9 *= 10;
        }
        int64_t mult;
        if (STARTS(p, e, "ns")) { mult = 1; p += 2; }
        else if (STARTS(p, e, "us")) { mult = 1000; p += 2; }
        else if (STARTS(p, e, "\xc2\xb5s")) { mult = 1000; p += 3; }           /* µ U+00B5 */
        else if (STARTS(p, e, "\xce\xbcs")) { mult = 1000; p += 3; }           /* μ U+03BC */
        else if (STARTS(p, e, "\xc3\x82\xc2\xb5s")) { mult = 1000; p += 5; }   /* Âµ mojibake */
        else if (STARTS(p, e, "ms")) { mult = 1000000; p += 2; }
        else if (p < e && *p == 's') { mult = 1000000000LL; p += 1; }
        else if (p < e && *p == 'm') { mult = 60LL * 1000000000LL; p += 1; }
        else if (p < e && *p == 'h') { mult = 3600LL * 1000000000LL; p += 1; }
        else return -1;
        (void)nd;
        if (ip > INT64_MAX / mult) return -1;
        int64_t v = ip * mult;
        if (has_frac) {
            if (mult <= 1000000000LL) v += fp9 / (1000000000LL / mult);
            else v += fp9 * (mult / 1000000000LL);
        }
        if (v < 0 || total > INT64_MAX - v) return -1;
        total += v;
    }
    return total;
}

/* ------------------------------------------------------- query parameters */

static inline int hexv(unsigned char ch) {
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

/* Go url.QueryUnescape into out (cap bytes); returns length, -1 on a bad escape, -2 if too long */
static int64_t query_unescape(const char *s, int64_t n, char *out, int64_t cap) {
    int64_t j = 0;
    for (int64_t i = 0; i < n; i++) {
        if (j >= cap) return -2;
        unsigned char ch = (unsigned char)s[i];
        if (ch == '%') {
            if (i + 2 >= n) return -1;
            int a = hexv((unsigned char)s[i + 1]), b = hexv((unsigned char)s[i + 2]);
            if (a < 0 || b < 0) return -1;
            out[j++] = (char)(a * 16 + b);
            i += 2;
        } else if (ch == '+') {
            out[j++] = ' ';
        } else {
            out[j++] = (char)ch;
        }
    }
    return j;
}

#define QBUF 4096

/* First value of query key (Go url.Values.Get after ParseQuery): 1 found (value in out/outlen), 0 not. */
static int query_get(const char *q, int64_t qn, const char *key, char *out, int64_t *outlen) {
    const char *p = q, *e = q + qn;
    int64_t klen = (int64_t)strlen(key);
    char kbuf[256];
    while (p <= e) {
        const char *amp = (const char *)fmemchr(p, '&', e - p);
        const char *pe = amp ? amp : e;
        if (pe > p && !fmemchr(p, ';', pe - p)) {
            const char *eq = (const char *)fmemchr(p, '=', pe - p);
            const char *ke = eq ? eq : pe;
            int64_t kl = query_unescape(p, ke - p, kbuf, sizeof(kbuf));
            if (kl == klen && memcmp(kbuf, key, klen) == 0) {
                int64_t vl = 0;
                if (eq) {
                    vl = query_unescape(eq + 1, pe - eq - 1, out, QBUF);
                    if (vl == -1) goto next;        /* Go skips a pair with a bad escape */
                    if (vl < 0) vl = 0;
                }
                *outlen = vl;
                return 1;
            }
        }
    next:
        if (!amp) break;
        p = amp + 1;
    }
    return 0;
}

/* Go strconv-free bool of ListOptions: absent -> 0; "0" or "false" (any case) -> 0; else 1 */
static int query_flag(const char *q, int64_t qn, const char *key) {
    char v[QBUF];
    int64_t vl;
    if (!query_get(q, qn, key, v, &vl)) return 0;
    if (vl == 1 && v[0] == '0') return 0;
    if (vl == 5) {
        const char *f = "false";
        int same = 1;
        for (int i = 0; i < 5; i++) {
            char ch = v[i];
            if (ch >= 'A' && ch <= 'Z') ch = (char)(ch - 'A' + 'a');
            if (ch != f[i]) { same = 0; break; }
        }
        if (same) return 0;
    }
    return 1;
}

/* fields.ParseSelector(...).RequiresExactMatch("metadata.name") and IsValidPathSegmentName:
   writes the name into out and returns its length, or -1. */
static int64_t selector_name(const char *s, int64_t n, char *out) {
    int64_t i = 0;
    while (i <= n) {
        /* one term up to an unescaped ',' */
        int64_t st = i;
        while (i < n && s[i] != ',') {
            if (s[i] == '\\' && i + 1 < n) i++;
            i++;
        }
        int64_t en = i;  /* term is s[st:en] */
        /* splitTerm: first position with != , == or = (in that order at each position) */
        int64_t lhs_end = -1, rhs_st = -1;
        int op_eq = 0;
        for (int64_t k = st; k < en; k++) {
            if (s[k] == '\\' && k + 1 < en) { k++; continue; }
            if (s[k] == '!' && k + 1 < en && s[k + 1] == '=') { lhs_end = k; rhs_st = k + 2; op_eq = 0; break; }
            if (s[k] == '=' && k + 1 < en && s[k + 1] == '=') { lhs_end = k; rhs_st = k + 2; op_eq = 1; break; }
            if (s[k] == '=') { lhs_end = k; rhs_st = k + 1; op_eq = 1; break; }
        }
        if (lhs_end >= 0 && op_eq) {
            /* lhs is trimmed of spaces in Go (strings.TrimSpace on the field) */
            int64_t a = st, b = lhs_end;
            while (a < b && s[a] == ' ') a++;
            while (b > a && s[b - 1] == ' ') b--;
            if (b - a == 13 && memcmp(s + a, "metadata.name", 13) == 0) {
                /* UnescapeValue: \\ \, \= */
                int64_t j = 0;
                for (int64_t k = rhs_st; k < en; k++) {
                    if (s[k] == '\\' && k + 1 < en && (s[k + 1] == '\\' || s[k + 1] == ',' || s[k + 1] == '=')) k++;
                    out[j++] = s[k];
                }
                /* IsValidPathSegmentName */
                if ((j == 1 && out[0] == '.') || (j == 2 && out[0] == '.' && out[1] == '.')) return 0;
                for (int64_t k = 0; k < j; k++)
                    if (out[k] == '/' || out[k] == '%') return 0;
                return j;
            }
        }
        i = en + 1;
    }
    return -1;
}

/* ------------------------------------------------------- RequestInfoFactory */

typedef struct { const char *p; int64_t n; } Str;

static inline int str_is_n(Str s, const char *lit, int64_t n) {
    return s.n == n && same_bytes(s.p, lit, n);
}
#define str_is(s, lit) str_is_n((s), (lit), (int64_t)(sizeof(lit) - 1))

enum { C_VERB, C_GROUP, C_VERSION, C_RESOURCE, C_SUB, C_NS, C_NAME, C_SCOPE, NCLS };

typedef struct {
    Str f[NCLS];
    char verb_buf[64];     /* lower-cased method for non-resource requests */
    char name_buf[QBUF];   /* a name from fieldSelector */
    int long_running;
} Cls;

#define NPARTS 12

static void classify(const char *m, int64_t mn, const char *u, int64_t un, Cls *out) {
    /* method: upper-case, then logged verb -> HTTP method (LOGGED_VERB_METHOD) */
    char mb[64];
    int64_t ml = mn < 63 ? mn : 63;
    for (int64_t i = 0; i < ml; i++) {
        char ch = m[i];
        mb[i] = (ch >= 'a' && ch <= 'z') ? (char)(ch - 'a' + 'A') : ch;
    }
    mb[ml] = 0;
    const char *meth = mb;
    Str ms = {mb, ml};
    if (mn < 63) {
        if (str_is(ms, "LIST") || str_is(ms, "WATCH") || str_is(ms, "WATCHLIST") || str_is(ms, "CONNECT")) meth = "GET";
        else if (str_is(ms, "APPLY")) meth = "PATCH";
        else if (str_is(ms, "CREATE")) meth = "POST";
        else if (str_is(ms, "UPDATE")) meth = "PUT";
        else if (str_is(ms, "DELETECOLLECTION")) meth = "DELETE";
    }
    Str mt = {meth, (int64_t)strlen(meth)};
    int64_t vl = 0;
    for (const char *c = meth; *c && vl < 63; c++) {
        char ch = *c;
        out->verb_buf[vl++] = (ch >= 'A' && ch <= 'Z') ? (char)(ch - 'A' + 'a') : ch;
    }
    out->verb_buf[vl] = 0;
    for (int k = 0; k < NCLS; k++) { out->f[k].p = ""; out->f[k].n = 0; }
    out->f[C_VERB].p = out->verb_buf; out->f[C_VERB].n = vl;
    out->f[C_SCOPE].p = "nonresource"; out->f[C_SCOPE].n = 11;
    out->long_running = 0;

    const char *qm = (const char *)fmemchr(u, '?', un);
    const char *pe = qm ? qm : u + un;
    const char *q = qm ? qm + 1 : u + un;
    int64_t qn = (u + un) - q;
    const char *ps = u;
    while (ps < pe && *ps == '/') ps++;
    while (pe > ps && pe[-1] == '/') pe--;
    Str parts[NPARTS];
    int np = 0;
    int more = 0;     /* parts beyond NPARTS exist */
    if (pe > ps) {
        const char *p = ps;
        while (1) {
            const char *sl = (const char *)fmemchr(p, '/', pe - p);
            const char *e = sl ? sl : pe;
            if (np < NPARTS) { parts[np].p = p; parts[np].n = e - p; np++; }
            else more = 1;
            if (!sl) break;
            p = sl + 1;
        }
    }
    (void)more;
    if (np < 3 || !(str_is(parts[0], "api") || str_is(parts[0], "apis"))) return;
    int i = 1;
    if (str_is(parts[0], "apis")) {
        if (np < 4) return;
        out->f[C_GROUP] = parts[1];
        i = 2;
    }
    out->f[C_VERSION] = parts[i];
    i++;
    Str *rest = parts + i;
    int nr = np - i;
    /* verb is always one of these literals: compared by address below */
    static const char V_WATCH[] = "watch", V_PROXY[] = "proxy", V_CREATE[] = "create", V_GET[] = "get",
        V_UPDATE[] = "update", V_PATCH[] = "patch", V_DELETE[] = "delete", V_NONE[] = "", V_LIST[] = "list",
        V_DELCOL[] = "deletecollection";
    const char *verb;
    if (nr > 0 && (str_is(rest[0], "watch") || str_is(rest[0], "proxy"))) {
        verb = str_is(rest[0], "watch") ? V_WATCH : V_PROXY;
        rest++; nr--;
    } else {
        if (str_is(mt, "POST")) verb = V_CREATE;
        else if (str_is(mt, "GET") || str_is(mt, "HEAD")) verb = V_GET;
        else if (str_is(mt, "PUT")) verb = V_UPDATE;
        else if (str_is(mt, "PATCH")) verb = V_PATCH;
        else if (str_is(mt, "DELETE")) verb = V_DELETE;
        else verb = V_NONE;
    }
    Str ns = {"", 0};
    if (nr >= 2 && str_is(rest[0], "namespaces")) {
        ns = rest[1];
        if (nr > 2 && !str_is(rest[2], "status") && !str_is(rest[2], "finalize")) { rest += 2; nr -= 2; }
    }
    out->f[C_NS] = ns;
    if (nr >= 1) out->f[C_RESOURCE] = rest[0];
    if (nr >= 2) out->f[C_NAME] = rest[1];
    if (nr >= 3 && verb != V_PROXY) out->f[C_SUB] = rest[2];
    if (out->f[C_NAME].n == 0 && verb == V_GET) verb = query_flag(q, qn, "watch") ? V_WATCH : V_LIST;
    if ((verb == V_LIST || verb == V_WATCH) && out->f[C_NAME].n == 0) {
        char fs[QBUF];
        int64_t fl;
        if (query_get(q, qn, "fieldSelector", fs, &fl)) {
            int64_t k = selector_name(fs, fl, out->name_buf);
            if (k > 0) { out->f[C_NAME].p = out->name_buf; out->f[C_NAME].n = k; }
        }
    }
    if (out->f[C_NAME].n == 0 && verb == V_DELETE) verb = V_DELCOL;
    out->f[C_VERB].p = verb;
    out->f[C_VERB].n = (int64_t)strlen(verb);
    if (out->f[C_NAME].n || verb == V_CREATE) { out->f[C_SCOPE].p = "resource"; out->f[C_SCOPE].n = 8; }
    else if (ns.n) { out->f[C_SCOPE].p = "namespace"; out->f[C_SCOPE].n = 9; }
    else { out->f[C_SCOPE].p = "cluster"; out->f[C_SCOPE].n = 7; }
    Str sub = out->f[C_SUB];
    out->long_running = verb == V_WATCH || verb == V_PROXY || str_is(sub, "exec") ||
                        str_is(sub, "attach") || str_is(sub, "portforward") || str_is(sub, "proxy") ||
                        (str_is(sub, "log") && query_flag(q, qn, "follow"));
}

/* ---------------------------------------------------------------- the E form */

typedef struct {
    Str method, uri, lat, ua, aid, src, apf_pl, apf_fs;
    int has_aid, has_resp, hijacked;
    int64_t resp;
} EFields;

/* RE_E of httplog.py on msg [p, e); 1 if it matches */
static int parse_e(const char *p, const char *e, EFields *f) {
    const char *q;
    if (!STARTS(p, e, "\"HTTP\" verb=\"")) return 0;
    p += 13;
    if (!(q = to_quote(p, e)) || q - p > 32) return 0;
    f->method.p = p; f->method.n = q - p; p = q;
    if (!STARTS(p, e, "\" URI=\"")) return 0;
    p += 7;
    if (!(q = to_quote_esc(p, e))) return 0;
    f->uri.p = p; f->uri.n = q - p; p = q;
    if (!STARTS(p, e, "\" latency=\"")) return 0;
    p += 11;
    if (!(q = to_quote(p, e))) return 0;
    f->lat.p = p; f->lat.n = q - p; p = q;
    if (!STARTS(p, e, "\" userAgent=\"")) return 0;
    p += 13;
    if (!(q = to_quote_esc(p, e))) return 0;
    f->ua.p = p; f->ua.n = q - p; p = q + 1;
    if (STARTS(p, e, " contentType=\"")) {
        p += 14;
        if (!(q = to_quote_esc(p, e))) return 0;
        p = q + 1;
    }
    f->has_aid = 0;
    if (STARTS(p, e, " audit-ID=\"")) {
        p += 11;
        if (!(q = to_quote(p, e))) return 0;
        f->aid.p = p; f->aid.n = q - p; f->has_aid = 1; p = q + 1;
    }
    if (!STARTS(p, e, " srcIP=\"")) return 0;
    p += 8;
    if (!(q = to_quote(p, e))) return 0;
    f->src.p = p; f->src.n = q - p; p = q + 1;
    /* mid: lazily up to the first " resp=<digits>" or " hijacked=true" */
    const char *mid = p, *r = p;
    f->has_resp = 0; f->hijacked = 0;
    for (;;) {  /* lazily: the first " resp=<digits>" or " hijacked=true" */
        r = (const char *)fmemchr(r, ' ', e - r);
        if (!r) return 0;
        if (e - r >= 7 && r[1] == 'r' && same_bytes(r, " resp=", 6) && isdig((unsigned char)r[6])) {
            const char *d = r + 6;
            int64_t v = 0;
            int big = 0;
            while (d < e && isdig((unsigned char)*d)) {
                if (v > 100000000000LL) big = 1; else v = v * 10 + (*d - '0');
                d++;
            }
            f->has_resp = !big && v <= INT32_MAX;
            f->resp = v;
            break;
        }
        if (e - r > 1 && r[1] == 'h' && STARTS(r, e, " hijacked=true")) { f->hijacked = 1; break; }
        r++;
    }
    /* apf_pl="..." apf_fs="..." searched in mid [mid, r) */
    f->apf_pl.n = f->apf_fs.n = 0;
    f->apf_pl.p = f->apf_fs.p = "";
    const char *s = mid;
    while (s < r) {
        const char *a = NULL;
        for (const char *t = s; t + 8 <= r; t++) {
            if (t[0] == 'a' && memcmp(t, "apf_pl=\"", 8) == 0) { a = t; break; }
        }
        if (!a) break;
        const char *v1 = a + 8;
        const char *q1 = (const char *)fmemchr(v1, '"', r - v1);
        if (q1 && STARTS(q1, r, "\" apf_fs=\"")) {
            const char *v2 = q1 + 10;
            const char *q2 = (const char *)fmemchr(v2, '"', r - v2);
            if (q2) {
                f->apf_pl.p = v1; f->apf_pl.n = q1 - v1;
                f->apf_fs.p = v2; f->apf_fs.n = q2 - v2;
                break;
            }
        }
        s = a + 1;
    }
    return 1;
}

/* ---------------------------------------------------------------- scan() */

enum { S_METHOD, S_URI, S_UA, S_AID, S_SRC, S_APF_PL, S_APF_FS,
       S_VERB, S_GROUP, S_VERSION, S_RESOURCE, S_SUB, S_NS, S_NAME, S_SCOPE, NSCOL };
static const char *SCOL_NAMES[NSCOL] = {"method", "uri", "ua", "aid", "src", "apf_pl", "apf_fs",
    "verb", "api_group", "api_version", "resource", "subresource", "namespace", "name", "scope"};
/* the low-cardinality fields, returned dictionary-encoded (DCol) */
static const int SCOL_DICT[NSCOL] = {1, 0, 1, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1};

/* the prefix fields of a header: pid, file span, line; big when pid or line do not fit an
   int64 / int32 (the Python reference then takes the block) */
typedef struct {
    const char *fs, *fe;
    int64_t pid, line;
    int big;
} Hdr;

static inline int64_t digits_value(const char *a, const char *b, int *big) {
    int64_t v = 0;
    for (; a < b; a++) {
        if (v > (INT64_MAX - 9) / 10) { *big = 1; return 0; }
        v = v * 10 + (*a - '0');
    }
    return v;
}

/* header: ^[IWEF]MMDD hh:mm:ss.uuuuuu +pid file:line]  -> msg start (after "] ?") or NULL */
static const char *parse_header(const char *p, const char *e, int32_t *tf, Hdr *h) {
    if (e - p < 28) return NULL;
    char sv = p[0];
    if (sv != 'I' && sv != 'W' && sv != 'E' && sv != 'F') return NULL;
    static const char shape[] = "DDDD DD:DD:DD.DDDDDD";
    for (int k = 0; k < 20; k++) {
        char want = shape[k], ch = p[1 + k];
        if (want == 'D') { if (!isdig((unsigned char)ch)) return NULL; }
        else if (ch != want) return NULL;
    }
    const char *c = p + 21;
    if (*c != ' ') return NULL;
    while (c < e && *c == ' ') c++;
    if (c >= e || !isdig((unsigned char)*c)) return NULL;
    const char *ps = c;
    while (c < e && isdig((unsigned char)*c)) c++;
    const char *pe = c;
    if (c >= e || *c != ' ') return NULL;
    c++;
    const char *fs = c;
    while (c < e && *c != ' ' && *c != ':' && *c != ']') c++;
    if (c == fs || c >= e || *c != ':') return NULL;
    const char *fe = c;
    c++;
    if (c >= e || !isdig((unsigned char)*c)) return NULL;
    const char *ls = c;
    while (c < e && isdig((unsigned char)*c)) c++;
    if (c >= e || *c != ']') return NULL;
    if (h) {
        h->big = 0;
        h->pid = digits_value(ps, pe, &h->big);
        h->line = digits_value(ls, c, &h->big);
        if (h->line > INT32_MAX) h->big = 1;
        h->fs = fs; h->fe = fe;
    }
    c++;
    if (c < e && *c == ' ') c++;
    tf[0] = two(p + 1); tf[1] = two(p + 3);
    tf[2] = two(p + 6); tf[3] = two(p + 9); tf[4] = two(p + 12);
    tf[5] = two(p + 15) * 10000 + two(p + 17) * 100 + two(p + 19);
    return c;
}

static PyObject *bytes_of(const void *p, Py_ssize_t n) {
    return PyBytes_FromStringAndSize((const char *)p, n);
}

static int utf8_valid(const unsigned char *s, int64_t n);

/* scan(offsets, data, offset, length, large_offsets, access_log[, raw]):
   raw=False: lines are the Arrow string array (offsets, data);
   raw=True: data is a block of whole lines, each ending in \n (offsets is ignored, length is
   the number of lines); the result then also has the lines' byte ranges (starts, ends: int32,
   without \n and trailing \r) and whether the block is valid UTF-8 (utf8_ok). */
static inline int64_t floordiv(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

static int64_t days_from_civil(int64_t y, int64_t m, int64_t d) {
    y -= m <= 2;
    int64_t era = floordiv(y, 400);
    int64_t yoe = y - era * 400;
    int64_t doy = floordiv(153 * (m + (m > 2 ? -3 : 9)) + 2, 5) + d - 1;
    return era * 146097 + yoe * 365 + floordiv(yoe, 4) - floordiv(yoe, 100) + doy - 719468;
}

/* klog times of the header lines, as KlogParser.parse_chunk computes them with numpy
   (timeutil.rollover_years / valid_dates / days_from_civil): (rows int64, local_ns int64,
   valid uint8, rollovers, first_ord, last_ord) over the header lines in order. */
static PyObject *klog_times(const uint8_t *is_hdr, const int32_t *tf, Py_ssize_t n, long long year) {
    Py_ssize_t nh = 0;
    for (Py_ssize_t i = 0; i < n; i++) nh += is_hdr[i];
    int64_t *rows = (int64_t *)malloc(sizeof(int64_t) * (nh + 1));
    int64_t *local = (int64_t *)malloc(sizeof(int64_t) * (nh + 1));
    uint8_t *valid = (uint8_t *)malloc(nh + 1);
    if (!rows || !local || !valid) { free(rows); free(local); free(valid); return PyErr_NoMemory(); }
    static const int mdays[13] = {0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int64_t roll = 0, prev = -1, first = -1, last = -1;
    Py_ssize_t k = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (!is_hdr[i]) continue;
        const int32_t *t = tf + 6 * i;
        int64_t mm = t[0], dd = t[1], hh = t[2], mi = t[3], ss = t[4], us = t[5];
        int64_t ord = mm * 32 + dd;
        if (prev < 0) first = ord;
        else if (prev - ord > 6 * 32) roll++;
        prev = last = ord;
        int64_t y = year + roll;
        int leap = ((y % 4 == 0) && (y % 100 != 0)) || (y % 400 == 0);
        int64_t md = (mm >= 0 && mm <= 12) ? mdays[mm] + (mm == 2 && leap) : 0;
        int ok = mm >= 1 && mm <= 12 && dd >= 1 && dd <= md && hh < 24 && mi < 60 && ss < 61;
        int64_t days = days_from_civil(y, ok ? mm : 1, ok ? dd : 1);
        rows[k] = i;
        local[k] = ((days * 86400 + hh * 3600 + mi * 60 + ss) * 1000000 + us) * 1000;
        valid[k] = (uint8_t)ok;
        k++;
    }
    PyObject *r = Py_BuildValue("(NNNLLL)", owned(rows, nh * sizeof(int64_t)), owned(local, nh * sizeof(int64_t)),
                                owned(valid, nh), (long long)roll, (long long)first, (long long)last);
    return r;
}

/* up to max lines of buf[from, to) (ending in \n) into ls/le from index at: their starts and ends
   (without \n and trailing \r); returns how many */
static Py_ssize_t split_lines_into(const char *buf, Py_ssize_t from, Py_ssize_t to, Py_ssize_t max,
                                   Py_ssize_t at, int32_t *ls, int32_t *le) {
    Py_ssize_t k = 0;
    const char *q = buf + from, *end = buf + to;
    while (k < max && q < end) {
        const char *r = (const char *)memchr(q, '\n', end - q);
        if (!r) break;
        const char *t = r;
        while (t > q && t[-1] == '\r') t--;
        ls[at + k] = (int32_t)(q - buf);
        le[at + k] = (int32_t)(t - buf);
        k++;
        q = r + 1;
    }
    return k;
}

static PyObject *fs_scan(PyObject *self, PyObject *args) {
    Py_buffer ob, db;
    Py_ssize_t arr_off, n;
    int large, want_e, raw = 0, fd = -1;
    long long year = -1, foff = 0;
    Py_ssize_t flen = 0;
    if (!PyArg_ParseTuple(args, "y*y*nnpp|pLiLn", &ob, &db, &arr_off, &n, &large, &want_e, &raw, &year, &fd, &foff,
                          &flen)) return NULL;
    PyObject *res = NULL;
    const char *data = (const char *)db.buf;
    char *fbuf = NULL;      /* fd given: the block read here, returned as "data" */
    Py_ssize_t dlen = db.len;
    int32_t *ls = NULL, *le = NULL;
    int utf8_ok = 1;
    if (raw) {
        if ((fd >= 0 ? flen : db.len) >= INT32_MAX - 1 || flen < 0) {
            PyBuffer_Release(&ob); PyBuffer_Release(&db);
            PyErr_SetString(PyExc_OverflowError, "block over 2 GiB");
            return NULL;
        }
        ls = (int32_t *)malloc(sizeof(int32_t) * (n + 1));
        le = (int32_t *)malloc(sizeof(int32_t) * (n + 1));
        if (fd >= 0) fbuf = (char *)malloc(flen + 1);
        if (!ls || !le || (fd >= 0 && !fbuf)) {
            free(ls); free(le); free(fbuf); PyBuffer_Release(&ob); PyBuffer_Release(&db); return PyErr_NoMemory();
        }
        Py_ssize_t k = 0;
        int err = 0;
        Py_BEGIN_ALLOW_THREADS
        if (fd < 0) {
            k = split_lines_into(data, 0, db.len, n, 0, ls, le);
            utf8_ok = utf8_valid((const unsigned char *)data, db.len);
        } else {
            /* read in pieces; each is split into lines and checked for UTF-8 while in the cache
               (a block-sized pass for each went through memory: ~2 ms of a 16 MiB block) */
            Py_ssize_t got = 0, done = 0;  /* done: bytes up to the last complete line */
            while (got < flen) {
                Py_ssize_t want = flen - got < (256 << 10) ? flen - got : (256 << 10);
                ssize_t r = pread(fd, fbuf + got, want, (off_t)(foff + got));
                if (r < 0 && errno == EINTR) continue;
                if (r < 0) { err = errno; break; }
                if (r == 0) break;  /* the file is shorter now */
                got += r;
                Py_ssize_t k2 = split_lines_into(fbuf, done, got, n - k, k, ls, le);
                if (k2) {
                    Py_ssize_t upto = (Py_ssize_t)le[k + k2 - 1];
                    while (upto < got && fbuf[upto] != '\n') upto++;  /* past trailing \r and the newline */
                    upto++;
                    if (utf8_ok) utf8_ok = utf8_valid((const unsigned char *)fbuf + done, upto - done);
                    done = upto;
                    k += k2;
                }
            }
            if (!err) {
                if (got == 0 || fbuf[got - 1] != '\n') fbuf[got++] = '\n';  /* as the reader of a range does */
                Py_ssize_t k2 = split_lines_into(fbuf, done, got, n - k, k, ls, le);
                k += k2;
                if (utf8_ok) utf8_ok = utf8_valid((const unsigned char *)fbuf + done, got - done);
            }
            data = fbuf;
            dlen = got;
        }
        Py_END_ALLOW_THREADS
        if (err) {
            free(ls); free(le); free(fbuf); PyBuffer_Release(&ob); PyBuffer_Release(&db);
            errno = err;
            return PyErr_SetFromErrno(PyExc_OSError);
        }
        if (k != n) {
            free(ls); free(le); free(fbuf); PyBuffer_Release(&ob); PyBuffer_Release(&db);
            PyErr_SetString(PyExc_ValueError, "block has fewer lines than given");
            return NULL;
        }
    }
    /* raw blocks: the other header lines (not access-log records), for the klog parser's records */
    int64_t *o_rows = NULL, *o_pid = NULL;
    int32_t *o_msg = NULL, *o_fs = NULL, *o_fe = NULL, *o_line = NULL;
    char *o_lvl = NULL;
    int64_t no = 0;
    int o_big = 0;
    uint8_t *is_hdr = (uint8_t *)calloc(n + 1, 1);
    int32_t *tf = (int32_t *)calloc((size_t)(n + 1) * 6, sizeof(int32_t));
    int64_t *erows = (int64_t *)malloc(sizeof(int64_t) * (n + 1));
    int64_t *lat = (int64_t *)malloc(sizeof(int64_t) * (n + 1));
    int32_t *resp = (int32_t *)malloc(sizeof(int32_t) * (n + 1));
    uint8_t *resp_valid = (uint8_t *)calloc((n + 8) / 8 + 1, 1);
    uint8_t *hij = (uint8_t *)calloc(n + 1, 1);
    uint8_t *lrun = (uint8_t *)calloc(n + 1, 1);
    SCol cols[NSCOL];
    DCol dcols[NSCOL];
    int inited = 0;
    Cls *cls = (Cls *)malloc(sizeof(Cls));
    if (!is_hdr || !tf || !erows || !lat || !resp || !resp_valid || !hij || !lrun || !cls) { PyErr_NoMemory(); goto done; }
    for (int k = 0; k < NSCOL; k++) {
        int64_t guess = (k == S_URI) ? n * 64 : (k == S_UA ? n * 48 : n * 12);
        memset(&cols[k], 0, sizeof(SCol));
        memset(&dcols[k], 0, sizeof(DCol));
        inited = k + 1;
        if (SCOL_DICT[k] ? dcol_init(&dcols[k], n) : scol_init(&cols[k], n, guess)) { PyErr_NoMemory(); goto done; }
    }
    if (raw) {
        o_rows = (int64_t *)malloc(sizeof(int64_t) * (n + 1));
        o_pid = (int64_t *)malloc(sizeof(int64_t) * (n + 1));
        o_msg = (int32_t *)malloc(sizeof(int32_t) * (n + 1));
        o_fs = (int32_t *)malloc(sizeof(int32_t) * (n + 1));
        o_fe = (int32_t *)malloc(sizeof(int32_t) * (n + 1));
        o_line = (int32_t *)malloc(sizeof(int32_t) * (n + 1));
        o_lvl = (char *)malloc(n + 1);
        if (!o_rows || !o_pid || !o_msg || !o_fs || !o_fe || !o_line || !o_lvl) { PyErr_NoMemory(); goto done; }
    }
    int64_t ne = 0;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < n; i++) {
        int64_t s, t;
        if (raw) { s = ls[i]; t = le[i]; }
        else if (large) { const int64_t *o = (const int64_t *)ob.buf; s = o[arr_off + i]; t = o[arr_off + i + 1]; }
        else { const int32_t *o = (const int32_t *)ob.buf; s = o[arr_off + i]; t = o[arr_off + i + 1]; }
        const char *p = data + s, *e = data + t;
        Hdr h;
        const char *msg = parse_header(p, e, tf + 6 * i, &h);
        if (!msg) continue;
        is_hdr[i] = 1;
        EFields f;
        memset(&f, 0, sizeof(f));
        if (!want_e || !parse_e(msg, e, &f)) {
            if (raw) {
                o_rows[no] = i; o_pid[no] = h.pid; o_line[no] = (int32_t)h.line; o_lvl[no] = *p;
                o_msg[no] = (int32_t)(msg - data); o_fs[no] = (int32_t)(h.fs - data); o_fe[no] = (int32_t)(h.fe - data);
                o_big |= h.big;
                no++;
            }
            continue;
        }
        int oom = 0;
        oom |= dcol_put(&dcols[S_METHOD], f.method.p, f.method.n);
        oom |= scol_put_unescaped(&cols[S_URI], f.uri.p, f.uri.n);
        oom |= dcol_put_unescaped(&dcols[S_UA], f.ua.p, f.ua.n);
        if (f.has_aid && f.aid.n) oom |= scol_put(&cols[S_AID], f.aid.p, f.aid.n); else scol_null(&cols[S_AID]);
        oom |= scol_put(&cols[S_SRC], f.src.p, f.src.n);
        if (f.apf_pl.n) oom |= dcol_put(&dcols[S_APF_PL], f.apf_pl.p, f.apf_pl.n); else dcol_null(&dcols[S_APF_PL]);
        if (f.apf_fs.n) oom |= dcol_put(&dcols[S_APF_FS], f.apf_fs.p, f.apf_fs.n); else dcol_null(&dcols[S_APF_FS]);
        /* classify on the unescaped URI just written */
        SCol *uc = &cols[S_URI];
        const char *up = uc->data + uc->off[uc->n - 1];
        int64_t un = uc->off[uc->n] - uc->off[uc->n - 1];
        classify(f.method.p, f.method.n, up, un, cls);
        static const int map[NCLS] = {S_VERB, S_GROUP, S_VERSION, S_RESOURCE, S_SUB, S_NS, S_NAME, S_SCOPE};
        for (int k = 0; k < NCLS; k++) {
            /* fields point into the URI column, which these puts do not grow */
            int c = map[k];
            oom |= SCOL_DICT[c] ? dcol_put(&dcols[c], cls->f[k].p, cls->f[k].n)
                                : scol_put(&cols[c], cls->f[k].p, cls->f[k].n);
        }
        if (oom) break;
        lrun[ne] = (uint8_t)cls->long_running;
        lat[ne] = go_duration_ns(f.lat.p, f.lat.n);
        if (f.has_resp) { resp[ne] = (int32_t)f.resp; resp_valid[ne >> 3] |= (uint8_t)(1u << (ne & 7)); }
        else resp[ne] = 0;
        hij[ne] = (uint8_t)f.hijacked;
        erows[ne++] = i;
    }
    Py_END_ALLOW_THREADS
    for (int k = 0; k < NSCOL; k++) {
        if ((SCOL_DICT[k] ? dcols[k].n : cols[k].n) != ne) { PyErr_NoMemory(); goto done; }
    }
    res = PyDict_New();
    if (!res) goto done;
#define SETB(key, ptr, size) do { PyObject *_o = bytes_of((ptr), (size)); \
        if (!_o || PyDict_SetItemString(res, key, _o)) { Py_XDECREF(_o); Py_CLEAR(res); goto done; } Py_DECREF(_o); } while (0)
    SETB("is_hdr", is_hdr, n);
    SETB("e_rows", erows, ne * sizeof(int64_t));
    SETB("lat_ns", lat, ne * sizeof(int64_t));
    SETB("resp", resp, ne * sizeof(int32_t));
    SETB("resp_valid", resp_valid, (ne + 7) / 8);
    SETB("hijacked", hij, ne);
    SETB("long_running", lrun, ne);
    if (year >= 0) {  /* the klog time of every header line (see klog_times) */
        PyObject *tt = klog_times(is_hdr, tf, n, year);
        if (!tt || PyDict_SetItemString(res, "times", tt)) { Py_XDECREF(tt); Py_CLEAR(res); goto done; }
        Py_DECREF(tt);
    }
    if (fbuf) {  /* the block, read here: handed over */
        PyObject *d = owned(fbuf, dlen);
        fbuf = NULL;
        if (!d || PyDict_SetItemString(res, "data", d)) { Py_XDECREF(d); Py_CLEAR(res); goto done; }
        Py_DECREF(d);
    }
    if (raw) {
        SETB("o_rows", o_rows, no * sizeof(int64_t));
        SETB("o_pid", o_pid, no * sizeof(int64_t));
        SETB("o_msg", o_msg, no * sizeof(int32_t));
        SETB("o_fs", o_fs, no * sizeof(int32_t));
        SETB("o_fe", o_fe, no * sizeof(int32_t));
        SETB("o_line", o_line, no * sizeof(int32_t));
        SETB("o_level", o_lvl, no);
        if (PyDict_SetItemString(res, "o_big", o_big ? Py_True : Py_False)) { Py_CLEAR(res); goto done; }
        SETB("starts", ls, n * sizeof(int32_t));
        SETB("ends", le, n * sizeof(int32_t));
        if (PyDict_SetItemString(res, "utf8_ok", utf8_ok ? Py_True : Py_False)) { Py_CLEAR(res); goto done; }
    }
    for (int k = 0; k < NSCOL; k++) {
        PyObject *t = SCOL_DICT[k] ? dcol_to_py(&dcols[k]) : scol_to_py(&cols[k]);
        if (!t || PyDict_SetItemString(res, SCOL_NAMES[k], t)) { Py_XDECREF(t); Py_CLEAR(res); goto done; }
        Py_DECREF(t);
    }
done:
    for (int k = 0; k < inited; k++) { scol_free(&cols[k]); dcol_free(&dcols[k]); }
    free(is_hdr); free(tf); free(erows); free(lat); free(resp); free(resp_valid); free(hij); free(lrun); free(cls);
    free(ls); free(le); free(fbuf);
    free(o_rows); free(o_pid); free(o_msg); free(o_fs); free(o_fe); free(o_line); free(o_lvl);
    PyBuffer_Release(&ob);
    PyBuffer_Release(&db);
    return res;
}

/* classify(method, uri) -> tuple of 8 str + bool, for tests against requestinfo.classify_one */
static PyObject *fs_classify(PyObject *self, PyObject *args) {
    const char *m, *u;
    Py_ssize_t mn, un;
    if (!PyArg_ParseTuple(args, "s#s#", &m, &mn, &u, &un)) return NULL;
    Cls c;
    classify(m, mn, u, un, &c);
    PyObject *d = PyDict_New();
    static const char *names[NCLS] = {"verb", "api_group", "api_version", "resource", "subresource", "namespace", "name", "scope"};
    for (int k = 0; k < NCLS; k++) {
        PyObject *s = PyUnicode_DecodeUTF8(c.f[k].p, c.f[k].n, "replace");
        PyDict_SetItemString(d, names[k], s);
        Py_DECREF(s);
    }
    PyDict_SetItemString(d, "long_running", c.long_running ? Py_True : Py_False);
    return d;
}

static PyObject *fs_duration(PyObject *self, PyObject *args) {
    const char *s;
    Py_ssize_t n;
    if (!PyArg_ParseTuple(args, "s#", &s, &n)) return NULL;
    return PyLong_FromLongLong(go_duration_ns(s, n));
}

/* count_lines(buffer) -> number of b"\n" */
static PyObject *fs_count_lines(PyObject *self, PyObject *args) {
    Py_buffer b;
    if (!PyArg_ParseTuple(args, "y*", &b)) return NULL;
    const char *p = (const char *)b.buf, *e = p + b.len;
    long long n = 0;
    Py_BEGIN_ALLOW_THREADS
    while (p < e) {
        const char *q = (const char *)memchr(p, '\n', e - p);
        if (!q) break;
        n++;
        p = q + 1;
    }
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&b);
    return PyLong_FromLongLong(n);
}

/* UTF-8 validity of s[0:n] (RFC 3629: no overlongs, no surrogates, <= U+10FFFF) */
static int utf8_valid(const unsigned char *s, int64_t n) {
    int64_t i = 0;
    while (i < n) {
        if (i + 32 <= n) {  /* ASCII fast path, 32 bytes at a time */
            uint64_t w[4];
            memcpy(w, s + i, 32);
            if (!((w[0] | w[1] | w[2] | w[3]) & 0x8080808080808080ULL)) { i += 32; continue; }
        }
        if (i + 8 <= n) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            if (!(w & 0x8080808080808080ULL)) { i += 8; continue; }
        }
        unsigned char c = s[i];
        if (c < 0x80) { i++; continue; }
        int k;
        uint32_t cp;
        if (c >= 0xC2 && c <= 0xDF) { k = 1; cp = c & 0x1F; }
        else if (c >= 0xE0 && c <= 0xEF) { k = 2; cp = c & 0x0F; }
        else if (c >= 0xF0 && c <= 0xF4) { k = 3; cp = c & 0x07; }
        else return 0;
        if (i + k >= n) return 0;
        for (int j = 1; j <= k; j++) {
            unsigned char d = s[i + j];
            if ((d & 0xC0) != 0x80) return 0;
            cp = (cp << 6) | (d & 0x3F);
        }
        if ((k == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) || (k == 3 && (cp < 0x10000 || cp > 0x10FFFF)))
            return 0;
        i += k + 1;
    }
    return 1;
}

/* split_lines(buffer ending in \n) -> (offsets int32, text, n, utf8_ok): lines without \n and
   trailing \r, as Arrow string-array buffers */
static PyObject *fs_split_lines(PyObject *self, PyObject *args) {
    Py_buffer b;
    if (!PyArg_ParseTuple(args, "y*", &b)) return NULL;
    if (b.len >= INT32_MAX) {
        PyBuffer_Release(&b);
        PyErr_SetString(PyExc_OverflowError, "block over 2 GiB");
        return NULL;
    }
    const char *p = (const char *)b.buf, *e = p + b.len;
    int64_t n = 0;
    for (const char *q = p; q < e; ) {
        const char *r = (const char *)memchr(q, '\n', e - q);
        if (!r) break;
        n++;
        q = r + 1;
    }
    PyObject *offs = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(sizeof(int32_t) * (n + 1)));
    PyObject *text = PyBytes_FromStringAndSize(NULL, b.len);
    if (!offs || !text) { Py_XDECREF(offs); Py_XDECREF(text); PyBuffer_Release(&b); return NULL; }
    int32_t *o = (int32_t *)PyBytes_AS_STRING(offs);
    char *t = PyBytes_AS_STRING(text);
    int ok = 1;
    int64_t len = 0;
    Py_BEGIN_ALLOW_THREADS
    int64_t k = 0;
    o[0] = 0;
    const char *q = p;
    while (k < n) {
        const char *r = (const char *)memchr(q, '\n', e - q);
        const char *le = r;
        while (le > q && le[-1] == '\r') le--;
        memcpy(t + len, q, le - q);
        len += le - q;
        o[++k] = (int32_t)len;
        q = r + 1;
    }
    ok = utf8_valid((const unsigned char *)t, len);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&b);
    if (_PyBytes_Resize(&text, len) < 0) { Py_DECREF(offs); return NULL; }
    return Py_BuildValue("(NNLO)", offs, text, (long long)n, ok ? Py_True : Py_False);
}

/* gather(data, starts, ends, rows) -> (int32 offsets, text): the lines data[starts[r]:ends[r]]
   for r in rows (int64), as Arrow string-array buffers */
static PyObject *fs_gather(PyObject *self, PyObject *args) {
    Py_buffer db, sb, eb, rb;
    if (!PyArg_ParseTuple(args, "y*y*y*y*", &db, &sb, &eb, &rb)) return NULL;
    const int32_t *st = (const int32_t *)sb.buf, *en = (const int32_t *)eb.buf;
    const int64_t *rows = (const int64_t *)rb.buf;
    Py_ssize_t nl = sb.len / 4, k = rb.len / 8;
    int64_t total = 0;
    PyObject *offs = NULL, *text = NULL;
    if (eb.len < sb.len) { PyErr_SetString(PyExc_ValueError, "fewer ends than starts"); goto out; }
    for (Py_ssize_t j = 0; j < k; j++) {
        if (rows[j] < 0 || rows[j] >= nl) { PyErr_SetString(PyExc_IndexError, "row out of range"); goto out; }
        int64_t a = st[rows[j]], b = en[rows[j]];
        if (a < 0 || b < a || b > db.len) { PyErr_SetString(PyExc_IndexError, "line span out of range"); goto out; }
        total += b - a;
    }
    if (total >= INT32_MAX) { PyErr_SetString(PyExc_OverflowError, "lines over 2 GiB"); goto out; }
    offs = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(sizeof(int32_t) * (k + 1)));
    text = PyBytes_FromStringAndSize(NULL, total);
    if (!offs || !text) { Py_CLEAR(offs); Py_CLEAR(text); goto out; }
    {
        int32_t *o = (int32_t *)PyBytes_AS_STRING(offs);
        char *t = PyBytes_AS_STRING(text);
        int64_t len = 0;
        o[0] = 0;
        for (Py_ssize_t j = 0; j < k; j++) {
            int64_t a = st[rows[j]], b = en[rows[j]];
            memcpy(t + len, (const char *)db.buf + a, b - a);
            len += b - a;
            o[j + 1] = (int32_t)len;
        }
    }
out:
    PyBuffer_Release(&db); PyBuffer_Release(&sb); PyBuffer_Release(&eb); PyBuffer_Release(&rb);
    if (!offs) return NULL;
    return Py_BuildValue("(NN)", offs, text);
}

/* ------------------------------------------------------- utiltrace T3 blocks */
/* traces_t3(msgs, conts) mirrors kubelog.formats.traces.parse_block for T3 records (1.19+);
   a record it does not fully accept (T1, T2, non-ASCII or control bytes, negative durations,
   overflow) is reported as not handled and parsed by the Python reference. */

static const char *KNOWN_KEYS[] = {"accept", "audit-id", "client", "api-group", "api-version", "name",
    "subresource", "namespace", "protocol", "resource", "scope", "url", "user-agent", "verb", "key", "type",
    "resourceVersion", "resourceVersionMatch", "limit", "continue", "method", "mediaType", "encoder", "len",
    "err", "count", NULL};

static int known_key(const char *p, int64_t n) {
    for (int i = 0; KNOWN_KEYS[i]; i++)
        if ((int64_t)strlen(KNOWN_KEYS[i]) == n && memcmp(KNOWN_KEYS[i], p, n) == 0) return 1;
    return 0;
}

/* _fields(): first value of `key` in k:v,k:v fields (a value runs to the next ",<known>:") */
static int field_value(const char *f, int64_t n, const char *key, Str *out) {
    int64_t klen = (int64_t)strlen(key);
    const char *e = f + n, *p = f;
    const char *cur_key = NULL; int64_t cur_klen = 0;
    const char *vstart = NULL;
    while (1) {
        const char *c = (const char *)fmemchr(p, ',', e - p);
        const char *pe = c ? c : e;
        const char *colon = (const char *)fmemchr(p, ':', pe - p);
        if (colon && known_key(p, colon - p)) {
            if (cur_key && cur_klen == klen && memcmp(cur_key, key, klen) == 0) {
                out->p = vstart; out->n = (p - 1) - vstart;
                return 1;
            }
            cur_key = p; cur_klen = colon - p; vstart = colon + 1;
        }
        if (!c) break;
        p = c + 1;
    }
    if (cur_key && cur_klen == klen && memcmp(cur_key, key, klen) == 0) {
        out->p = vstart; out->n = e - vstart;
        return 1;
    }
    return 0;
}

/* a Go-quoted "..." at p: returns the position after the closing quote, or NULL */
static const char *quoted_end(const char *p, const char *e) {
    if (p >= e || *p != '"') return NULL;
    const char *q = to_quote_esc(p + 1, e);
    return q ? q + 1 : NULL;
}

static PyObject *unescaped_quote_str(const char *p, int64_t n) {
    /* str.replace('\\"', '"') */
    char *buf = (char *)malloc(n + 1);
    if (!buf) return PyErr_NoMemory();
    int64_t j = 0;
    for (int64_t i = 0; i < n; i++) {
        if (p[i] == '\\' && i + 1 < n && p[i + 1] == '"') { buf[j++] = '"'; i++; }
        else buf[j++] = p[i];
    }
    PyObject *s = PyUnicode_DecodeUTF8(buf, j, "strict");
    free(buf);
    return s;
}

static PyObject *str_of(const char *p, int64_t n) { return PyUnicode_DecodeUTF8(p, n, "strict"); }

static inline const char *rstrip_sp(const char *p, const char *e) {
    while (e > p && e[-1] == ' ') e--;
    return e;
}

/* a duration text (stripped of spaces) -> ns; -1 invalid; -2 refuse (negative: the reference decides) */
static int64_t dur_field(const char *p, const char *e) {
    while (p < e && *p == ' ') p++;
    e = rstrip_sp(p, e);
    if (p < e && *p == '-') return -2;
    return go_duration_ns(p, e - p);
}

static PyObject *ns_or_none(int64_t v) {
    if (v < 0) Py_RETURN_NONE;
    return PyLong_FromLongLong(v);
}

/* T3 date dd-Mon-yyyy hh:mm:ss(.f+) -> local ns; 0 if no match */
static int t3_local_ns(const char *p, const char *e, int64_t *out) {
    while (p < e && *p == ' ') p++;
    e = rstrip_sp(p, e);
    static const char *MON[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    if (e - p < 20) return 0;
    if (!isdig(p[0]) || !isdig(p[1]) || p[2] != '-' || p[6] != '-' || p[11] != ' ') return 0;
    if (!(p[3] >= 'A' && p[3] <= 'Z' && p[4] >= 'a' && p[4] <= 'z' && p[5] >= 'a' && p[5] <= 'z')) return 0;
    for (int k = 7; k < 11; k++) if (!isdig(p[k])) return 0;
    const char *t = p + 12;
    if (!(isdig(t[0]) && isdig(t[1]) && t[2] == ':' && isdig(t[3]) && isdig(t[4]) && t[5] == ':' && isdig(t[6]) && isdig(t[7])))
        return 0;
    const char *f = t + 8;
    int64_t frac = 0;
    if (f < e) {
        if (*f != '.' || f + 1 >= e) return 0;
        int k = 0;
        for (const char *q = f + 1; q < e; q++) {
            if (!isdig(*q)) return 0;
            if (k < 9) { frac = frac * 10 + (*q - '0'); k++; }
        }
        for (; k < 9; k++) frac *= 10;
    }
    int mon = 0;
    for (int m = 0; m < 12; m++) if (memcmp(p + 3, MON[m], 3) == 0) mon = m + 1;
    if (!mon) return -1;  /* matches the pattern, unknown month: started is None */
    int64_t y = (p[7] - '0') * 1000 + (p[8] - '0') * 100 + (p[9] - '0') * 10 + (p[10] - '0');
    int64_t d = two(p);
    /* days_from_civil */
    int64_t yy = y - (mon <= 2);
    int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
    int64_t yoe = yy - era * 400;
    int64_t doy = (153 * (mon + (mon > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t days = era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
    *out = ((days * 86400 + two(t) * 3600 + two(t + 3) * 60 + two(t + 6)) * 1000000000LL) + frac;
    return 1;
}

/* one record: 1 handled (tuples appended), 0 not handled */
static int trace_t3_one(Py_ssize_t pos, const char *m, int64_t mn, const char *c, int64_t cn, int has_cont,
                        PyObject *traces, PyObject *steps) {
    /* ASCII printable only (the reference's \s and strip() see more whitespace than this does) */
    for (int64_t i = 0; i < mn; i++) if ((unsigned char)m[i] < 0x20 || (unsigned char)m[i] >= 0x80) return 0;
    for (int64_t i = 0; i < cn; i++)
        if (((unsigned char)c[i] < 0x20 && c[i] != '\n') || (unsigned char)c[i] >= 0x80) return 0;
    /* header: _header() */
    const char *e = rstrip_sp(m, m + mn);
    if (e > m && e[-1] == ':') e--;
    if (e <= m || e[-1] != ')') return 0;
    const char *tt = NULL;
    for (const char *q = e - 14; q >= m; q--) if (memcmp(q, " (total time: ", 14) == 0) { tt = q; break; }
    if (!tt) return 0;
    const char *total = tt + 14, *total_e = e - 1;
    if (fmemchr(total, ')', total_e - total)) return 0;
    const char *head_e = tt;
    if (head_e <= m || head_e[-1] != ')') return 0;
    const char *j = NULL;
    for (const char *q = head_e - 2; q >= m; q--) if (q[0] == ' ' && q[1] == '(') { j = q; break; }
    if (!j) return 0;
    const char *st = j + 2, *st_e = head_e - 1;
    for (const char *q = st; q < st_e; q++) if (*q == '(' || *q == ')') return 0;
    if (st_e - st >= 9 && memcmp(st, "started: ", 9) == 0) st += 9;
    else if (st_e - st >= 8 && memcmp(st, "started ", 8) == 0) st += 8;
    if (st_e - st >= 4 && isdig(st[0]) && isdig(st[1]) && isdig(st[2]) && isdig(st[3])) return 0;  /* T2 */
    /* ^Trace\[(\d+)\]: "(name)"(rest) */
    const char *p = m;
    if (!STARTS(p, j, "Trace[")) return 0;
    p += 6;
    const char *id = p;
    while (p < j && isdig(*p)) p++;
    if (p == id || !STARTS(p, j, "]: ")) return 0;
    const char *id_e = p;
    p += 3;
    const char *name_end = quoted_end(p, j);
    if (!name_end) return 0;
    const char *name = p + 1, *name_e = name_end - 1;
    const char *fields = NULL, *fields_e = NULL;
    if (name_end < j) {
        if (*name_end != ' ') return 0;
        fields = name_end + 1; fields_e = j;
    }
    int64_t total_ns = dur_field(total, total_e);
    if (total_ns == -2) return 0;
    int64_t start_local = 0;
    int sres = t3_local_ns(st, st_e, &start_local);
    /* steps */
    PyObject *my_steps = PyList_New(0);
    if (!my_steps) return -1;
    int64_t end_ns = -3;  /* -3: no END line */
    if (has_cont) {
        const char *lp = c, *ce = c + cn;
        Py_ssize_t k = 0;
        while (lp <= ce) {
            const char *nl = (const char *)memchr(lp, '\n', ce - lp);
            const char *le = nl ? nl : ce;
            /* ^Trace\[(\d+)\]:(.*)$ with the record's id */
            const char *b = lp;
            if (STARTS(b, le, "Trace[")) {
                b += 6;
                const char *d0 = b;
                while (b < le && isdig(*b)) b++;
                if (b > d0 && b + 1 < le && b[0] == ']' && b[1] == ':'
                    && (b - d0) == (id_e - id) && memcmp(d0, id, b - d0) == 0) {
                    b += 2;
                    if (b < le && *b == ' ') b++;
                    const char *body = b, *be = le;
                    const char *sp = body;
                    while (sp < be && *sp == ' ') sp++;
                    int depth = (int)(sp - body);
                    int done = 0;
                    /* RX_OLD_STEP: sp \[off\] \[dur\] msg\s*$ */
                    if (sp < be && *sp == '[') {
                        const char *o = sp + 1;
                        const char *oc = (const char *)fmemchr(o, ']', be - o);
                        if (oc && oc > o && STARTS(oc, be, "] [")) {
                            const char *dd = oc + 3;
                            const char *dc = (const char *)fmemchr(dd, ']', be - dd);
                            if (dc && dc > dd && STARTS(dc, be, "] ")) {
                                const char *msg = dc + 2, *msg_e = rstrip_sp(msg, be);
                                int64_t off = dur_field(o, oc), du = dur_field(dd, dc);
                                if (off == -2 || du == -2) { Py_DECREF(my_steps); return 0; }
                                if (msg_e - msg == 3 && memcmp(msg, "END", 3) == 0) {
                                    end_ns = off;  /* -1 when invalid: the last END decides */
                                } else {
                                    PyObject *t = Py_BuildValue("(nniNNONsO)", pos, k, depth, ns_or_none(off), ns_or_none(du),
                                                                Py_None, str_of(msg, msg_e - msg), "", Py_False);
                                    if (!t || PyList_Append(my_steps, t)) { Py_XDECREF(t); Py_DECREF(my_steps); return -1; }
                                    Py_DECREF(t);
                                }
                                done = 1;
                            }
                        }
                    }
                    /* RX_T17_END: "..." \[off\] \[dur\] END\s*$ (body starts with the quote: no spaces) */
                    if (!done && body < be && *body == '"') {
                        const char *qe = quoted_end(body, be);
                        if (qe && STARTS(qe, be, " [")) {
                            const char *o = qe + 2;
                            const char *oc = (const char *)fmemchr(o, ']', be - o);
                            if (oc && oc > o && STARTS(oc, be, "] [")) {
                                const char *dd = oc + 3;
                                const char *dc = (const char *)fmemchr(dd, ']', be - dd);
                                const char *r = dc ? rstrip_sp(dc, be) : NULL;
                                if (dc && dc > dd && r - dc == 5 && memcmp(dc, "] END", 5) == 0) {
                                    int64_t off = dur_field(o, oc);
                                    if (off == -2) { Py_DECREF(my_steps); return 0; }
                                    end_ns = off;
                                    done = 1;
                                }
                            }
                        }
                    }
                    /* RX_NEW_STEP: sp \[? (---)? "msg"( fields)? D+ms \(clk\) \]* \s*$ */
                    if (!done) {
                        const char *q = sp;
                        int open = 0;
                        if (q < be && *q == '[') { open = 1; q++; }
                        if (STARTS(q, be, "---")) q += 3;
                        const char *qe = quoted_end(q, be);
                        if (qe) {
                            const char *r = rstrip_sp(qe, be);
                            while (r > qe && r[-1] == ']') r--;
                            if (r > qe && r[-1] == ')') {
                                const char *cl = r - 1, *cs = cl;
                                while (cs > qe && (isdig(cs[-1]) || cs[-1] == ':' || cs[-1] == '.')) cs--;
                                if (cs < cl && cs - qe >= 1 && cs[-1] == '(' && cs - 1 > qe && cs[-2] == ' ') {
                                    const char *msx = cs - 2;  /* the space before '(' */
                                    if (msx - qe >= 3 && msx[-1] == 's' && msx[-2] == 'm') {
                                        const char *de = msx - 2, *ds = de;
                                        while (ds > qe && isdig(ds[-1])) ds--;
                                        if (de - ds > 15) { Py_DECREF(my_steps); return 0; }  /* the reference's int() */
                                        if (ds < de && ds > qe && ds[-1] == ' ') {
                                            const char *sp2 = ds - 1;  /* the space before the digits */
                                            const char *fs = NULL, *fe = NULL;
                                            int ok = 1;
                                            if (sp2 > qe) {
                                                if (*qe != ' ') ok = 0;
                                                else { fs = qe + 1; fe = sp2; }
                                            }
                                            if (ok) {
                                                int64_t msv = 0;
                                                for (const char *z = ds; z < de; z++) msv = msv * 10 + (*z - '0');
                                                PyObject *mstr = unescaped_quote_str(q + 1, qe - 1 - (q + 1));
                                                PyObject *fstr = fs ? str_of(fs, fe - fs) : str_of("", 0);
                                                PyObject *t = Py_BuildValue("(nniOOLNNO)", pos, k, depth, Py_None, Py_None,
                                                                            (long long)msv, mstr, fstr, open ? Py_True : Py_False);
                                                if (!t || PyList_Append(my_steps, t)) { Py_XDECREF(t); Py_DECREF(my_steps); return -1; }
                                                Py_DECREF(t);
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            if (!nl) break;
            lp = nl + 1;
            k++;
        }
    }
    if (end_ns >= 0) total_ns = end_ns;
    Str url, aid, ua;
    int hu = 0, ha = 0, hua = 0;
    if (fields) {
        hu = field_value(fields, fields_e - fields, "url", &url);
        ha = field_value(fields, fields_e - fields, "audit-id", &aid);
        hua = field_value(fields, fields_e - fields, "user-agent", &ua);
    }
    PyObject *start_obj;
    if (sres == 1) start_obj = PyLong_FromLongLong(start_local);
    else { start_obj = Py_None; Py_INCREF(Py_None); }
    PyObject *t = Py_BuildValue("(nNNNNNNNN)", pos, str_of(id, id_e - id), unescaped_quote_str(name, name_e - name),
                                fields ? str_of(fields, fields_e - fields) : str_of("", 0),
                                hu ? str_of(url.p, url.n) : (Py_INCREF(Py_None), Py_None),
                                ha ? str_of(aid.p, aid.n) : (Py_INCREF(Py_None), Py_None),
                                hua ? str_of(ua.p, ua.n) : (Py_INCREF(Py_None), Py_None),
                                start_obj, ns_or_none(total_ns));
    if (!t || PyList_Append(traces, t)) { Py_XDECREF(t); Py_DECREF(my_steps); return -1; }
    Py_DECREF(t);
    Py_ssize_t ns = PyList_GET_SIZE(my_steps);
    for (Py_ssize_t i = 0; i < ns; i++)
        if (PyList_Append(steps, PyList_GET_ITEM(my_steps, i))) { Py_DECREF(my_steps); return -1; }
    Py_DECREF(my_steps);
    return 1;
}

/* traces_t3(msgs: list[str], conts: list[str|None]) -> (handled: bytes, traces: list[tuple], steps: list[tuple])
   traces: (pos, id, name, fields, url, audit_id, user_agent, started_local_ns|None, total_ns|None)
   steps:  (pos, k, depth, offset_ns|None, duration_ns|None (old form), ms|None (new form), msg, fields,
            nested) */
/* strings for traces_t3: a list of str/None, or an Arrow string array as (int32 offsets, data,
   validity or None, length) with offset 0 */
typedef struct {
    PyObject *list;
    Py_buffer off, data, valid;
    int has_valid;
    Py_ssize_t n;
} StrSrc;

static int strsrc_open(PyObject *o, StrSrc *s) {
    memset(s, 0, sizeof(*s));
    if (PyList_Check(o)) { s->list = o; s->n = PyList_GET_SIZE(o); return 0; }
    PyObject *a, *b, *c;
    Py_ssize_t len;
    if (!PyTuple_Check(o) || !PyArg_ParseTuple(o, "OOOn", &a, &b, &c, &len)) {
        PyErr_SetString(PyExc_TypeError, "traces_t3: a list of str or (offsets, data, validity, length)");
        return -1;
    }
    if (PyObject_GetBuffer(a, &s->off, PyBUF_SIMPLE)) return -1;
    if (PyObject_GetBuffer(b, &s->data, PyBUF_SIMPLE)) { PyBuffer_Release(&s->off); return -1; }
    if (c != Py_None) {
        if (PyObject_GetBuffer(c, &s->valid, PyBUF_SIMPLE)) { PyBuffer_Release(&s->off); PyBuffer_Release(&s->data); return -1; }
        s->has_valid = 1;
    }
    s->n = len;
    const int32_t *o32 = (const int32_t *)s->off.buf;
    if (len < 0 || s->off.len < (len + 1) * 4 || (s->has_valid && s->valid.len < (len + 7) / 8) ||
        o32[0] < 0 || o32[len] > s->data.len) {
        PyErr_SetString(PyExc_ValueError, "traces_t3: buffers do not match");
        return -1;  /* released by strsrc_close */
    }
    return 0;
}

static void strsrc_close(StrSrc *s) {
    if (s->list) return;
    if (s->off.obj) PyBuffer_Release(&s->off);
    if (s->data.obj) PyBuffer_Release(&s->data);
    if (s->has_valid) PyBuffer_Release(&s->valid);
}

/* the i-th string: 1 and (p, n); 0 when null (or not a str); -1 on error */
static int strsrc_get(StrSrc *s, Py_ssize_t i, const char **p, Py_ssize_t *n) {
    if (s->list) {
        PyObject *o = PyList_GET_ITEM(s->list, i);
        if (!PyUnicode_Check(o)) return 0;
        *p = PyUnicode_AsUTF8AndSize(o, n);
        return *p ? 1 : -1;
    }
    if (s->has_valid && !((((const uint8_t *)s->valid.buf)[i >> 3] >> (i & 7)) & 1)) return 0;
    const int32_t *o = (const int32_t *)s->off.buf;
    if (o[i + 1] < o[i]) { PyErr_SetString(PyExc_ValueError, "traces_t3: offsets out of order"); return -1; }
    *p = (const char *)s->data.buf + o[i];
    *n = o[i + 1] - o[i];
    return 1;
}

static PyObject *fs_traces_t3(PyObject *self, PyObject *args) {
    PyObject *om, *oc;
    if (!PyArg_ParseTuple(args, "OO", &om, &oc)) return NULL;
    StrSrc ms, cs;
    if (strsrc_open(om, &ms)) { strsrc_close(&ms); return NULL; }
    if (strsrc_open(oc, &cs)) { strsrc_close(&ms); strsrc_close(&cs); return NULL; }
    PyObject *handled = NULL, *traces = NULL, *steps = NULL;
    Py_ssize_t n = ms.n;
    if (cs.n != n) { PyErr_SetString(PyExc_ValueError, "msgs and conts differ in length"); goto fail; }
    handled = PyBytes_FromStringAndSize(NULL, n);
    traces = PyList_New(0);
    steps = PyList_New(0);
    if (!handled || !traces || !steps) goto fail;
    char *h = PyBytes_AS_STRING(handled);
    for (Py_ssize_t i = 0; i < n; i++) {
        h[i] = 0;
        const char *m, *c = "";
        Py_ssize_t mn, cn = 0;
        int gm = strsrc_get(&ms, i, &m, &mn);
        if (gm < 0) goto fail;
        if (gm == 0) continue;
        int gc = strsrc_get(&cs, i, &c, &cn);
        if (gc < 0) goto fail;
        if (gc == 0) {
            if (cs.list && PyList_GET_ITEM(cs.list, i) != Py_None) continue;  /* not a str: not taken */
            c = ""; cn = 0;
        }
        int r = trace_t3_one(i, m, mn, c, cn, gc == 1 && cn > 0, traces, steps);
        if (r < 0) goto fail;
        h[i] = (char)r;
    }
    strsrc_close(&ms); strsrc_close(&cs);
    return Py_BuildValue("(NNN)", handled, traces, steps);
fail:
    strsrc_close(&ms); strsrc_close(&cs);
    Py_XDECREF(handled); Py_XDECREF(traces); Py_XDECREF(steps);
    return NULL;
}

/* memmem where the C library has none */
static const char *find_bytes(const char *s, size_t n, const char *k, size_t m) {
    if (m == 0) return s;
#if defined(__GLIBC__) || defined(__APPLE__) || defined(__FreeBSD__) || defined(__musl__)
    return (const char *)memmem(s, n, k, m);
#else
    const char *e = s + n;
    while (n >= m) {
        const char *q = (const char *)memchr(s, k[0], n - m + 1);
        if (!q) return NULL;
        if (!memcmp(q, k, m)) return q;
        s = q + 1;
        n = e - s;
    }
    return NULL;
#endif
}

/* scan_lines(buffer, key) -> (positions, found, braces): the offset of every \n of the buffer as int64 in
   the machine's byte order, whether key occurs in it, and whether every line begins with '{' (the first
   byte and every byte after a \n but the last): the audit log's block scan, audit._scan */
static PyObject *fs_scan_lines(PyObject *self, PyObject *args) {
    Py_buffer b, k;
    if (!PyArg_ParseTuple(args, "y*y*", &b, &k)) return NULL;
    const char *p = (const char *)b.buf, *e = p + b.len;
    size_t cap = (size_t)b.len / 64 + 16, n = 0;
    int64_t *o = (int64_t *)malloc(cap * sizeof(int64_t));
    int found = 0, nomem = o == NULL, braces = b.len > 0 && p[0] == '{';
    Py_BEGIN_ALLOW_THREADS
    /* by pieces that stay in the CPU cache for both searches (the key across two pieces is found in the
       second): two passes over a whole block read it from memory twice */
    const size_t PIECE = 256 << 10, m = (size_t)k.len;
    found = m == 0;
    for (const char *at = p; !nomem && at < e; at += PIECE) {
        const char *pe = (size_t)(e - at) < PIECE ? e : at + PIECE;
        for (const char *q = at; q < pe;) {
            const char *r = (const char *)memchr(q, '\n', pe - q);
            if (!r) break;
            if (n == cap) {
                int64_t *g = (int64_t *)realloc(o, 2 * cap * sizeof(int64_t));
                if (!g) { nomem = 1; break; }
                o = g;
                cap *= 2;
            }
            o[n++] = r - p;
            q = r + 1;
            if (q < e && *q != '{') braces = 0;
        }
        if (!found) {
            const char *from = (size_t)(at - p) >= m ? at - (m - 1) : p;
            found = find_bytes(from, pe - from, (const char *)k.buf, m) != NULL;
        }
    }
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&b);
    PyBuffer_Release(&k);
    if (nomem) {
        free(o);
        return PyErr_NoMemory();
    }
    PyObject *pos = PyBytes_FromStringAndSize((const char *)o, (Py_ssize_t)(n * sizeof(int64_t)));
    free(o);
    if (!pos) return NULL;
    return Py_BuildValue("(NOO)", pos, found ? Py_True : Py_False, braces ? Py_True : Py_False);
}

static PyMethodDef Methods[] = {
    {"traces_t3", fs_traces_t3, METH_VARARGS, "traces_t3(msgs, conts) -> (handled, traces, steps): T3 Trace blocks; msgs and conts are lists of str "
     "or Arrow string arrays as (offsets, data, validity, length)"},
    {"gather", fs_gather, METH_VARARGS, "gather(data, starts, ends, rows) -> (int32 offsets, text)"},
    {"count_lines", fs_count_lines, METH_VARARGS, "count_lines(buffer) -> number of newlines"},
    {"scan_lines", fs_scan_lines, METH_VARARGS,
     "scan_lines(buffer, key) -> (int64 offsets of the newlines, whether key is in buffer, whether every line "
     "begins with '{')"},
    {"split_lines", fs_split_lines, METH_VARARGS,
     "split_lines(buffer) -> (int32 offsets, text, n, utf8_ok): Arrow buffers of the lines"},
    {"scan", fs_scan, METH_VARARGS,
     "scan(offsets, data, offset, length, large_offsets, access_log[, raw[, year]]) -> dict of buffers"},
    {"classify", fs_classify, METH_VARARGS, "classify(method, uri) -> dict (RequestInfoFactory)"},
    {"duration_ns", fs_duration, METH_VARARGS, "duration_ns(text) -> exact ns of a Go duration, -1 if invalid"},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef Module = {PyModuleDef_HEAD_INIT, "_fastscan", NULL, -1, Methods};

PyMODINIT_FUNC PyInit__fastscan(void) {
    if (PyType_Ready(&OwnedBufType) < 0) return NULL;
    PyObject *m = PyModule_Create(&Module);
    if (!m) return NULL;
    PyObject *d = PyList_New(0);  /* DICT_FIELDS: the fields scan() returns dictionary-encoded */
    for (int k = 0; d && k < NSCOL; k++) {
        if (!SCOL_DICT[k]) continue;
        PyObject *name = PyUnicode_FromString(SCOL_NAMES[k]);
        if (!name || PyList_Append(d, name)) Py_CLEAR(d);
        Py_XDECREF(name);
    }
    if (!d || PyModule_AddObject(m, "DICT_FIELDS", d)) { Py_XDECREF(d); Py_DECREF(m); return NULL; }
    return m;
}
