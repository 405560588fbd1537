"""Helpers shared by the test-side formats (e2e log, clusterloader2, kube-burner).

Not a format itself (no ``FORMAT``): parsing of the pieces that several test
outputs print the same way (docs/formats/e2e-log.md, cl2-log.md, cl2-json.md):

* Go durations (``1m0.144616567s``, ``-750ms``, ``0``) → seconds;
* "worst latency" lists, in every shape: ``{pod node 1.2s}`` (in-tree, ``%v`` of
  PodLatencyData), ``{Name:pod Node:node Latency:1.2s}`` (``%+v``), and
  ``{namespace/pod 1.2s}`` (clusterloader2);
* ``perc50: X, perc90: Y, perc99: Z[; threshold T]`` lines;
* ``Top latency metric: {...}`` lines of every version;
* PerfData documents ``{"version", "dataItems": [...]}`` → ``perf_summaries`` rows.

Everything here is pure (text in, dicts out) so the formats can keep their own
line accounting.
"""

from __future__ import annotations

import contextlib
import gc
import json
import math
import re
from functools import lru_cache

import numpy as np

from .. import timeutil

# in-tree list headers (≤1.10 and 1.11+) and CL2 names → perf metric label
LATENCY_NAMES = {
    "schedule": "create_to_schedule",
    "create-to-schedule": "create_to_schedule",
    "run-after-schedule": "schedule_to_run",
    "schedule-to-run": "schedule_to_run",
    "watch": "run_to_watch",
    "run-to-watch": "run_to_watch",
    "scheduled-to-end total": "schedule_to_watch",
    "schedule-to-watch": "schedule_to_watch",
    "e2e total": "pod_startup",
    "e2e": "pod_startup",
    "pod_startup": "pod_startup",
    "create_to_schedule": "create_to_schedule",
    "schedule_to_run": "schedule_to_run",
    "run_to_watch": "run_to_watch",
    "schedule_to_watch": "schedule_to_watch",
    "create_to_run": "create_to_run",
}

# the "10% " / "100 " count is absent when a list is pasted without its first words
WORST_RE = re.compile(r"(?:(?:(?P<pct>\d+)% |(?P<n>\d+) )?worst) (?P<name>[\w -]+?) latencies: \[(?P<body>.*)\]?\s*$")
PERC_RE = re.compile(
    r"perc50: (?P<p50>[^,]+), perc90: (?P<p90>[^,;]+), perc99: (?P<p99>[^,;\s]+)"
    r"(?:, perc100: (?P<p100>[^,;\s]+))?(?:; threshold:? (?P<thr>\S+))?"
)
_ELEM_RE = re.compile(r"\{([^{}]*)\}")
_DUR_TOKEN = r"-?(?:[0-9.]+(?:ns|us|µs|μs|Âµs|ms|s|m|h))+|0"


def dur_s(text: str | None) -> float | None:
    """Seconds of a Go duration (``2m40.055334722s`` → 160.055334722); None if not one."""
    if text is None:
        return None
    ns = timeutil.parse_duration_ns(text.strip())
    return None if ns is None else ns / 1e9


def worst_list(body: str) -> list[tuple[str | None, str, str | None, float | None]]:
    """Elements of a worst-latency list body → [(namespace, pod, node, latency_s)]."""
    out = []
    for m in _ELEM_RE.finditer(body):
        e = m.group(1).strip()
        if e.startswith("Name:"):
            kv = dict(re.findall(r"(\w+):(\S*)", e))
            pod, node, lat = kv.get("Name", ""), kv.get("Node") or None, dur_s(kv.get("Latency"))
            ns = None
        else:
            parts = e.split()
            if not parts:
                continue
            lat = dur_s(parts[-1])
            if len(parts) >= 3:
                pod, node = parts[0], parts[-2]
            else:
                pod, node = parts[0], None
            ns = None
        if "/" in pod:
            ns, pod = pod.split("/", 1)
        out.append((ns, pod, node, lat))
    return out


def perc_line(text: str) -> dict | None:
    """``perc50: .., perc90: .., perc99: ..[; threshold T]`` → {p50_s, p90_s, p99_s, p100_s, threshold_s}."""
    m = PERC_RE.search(text)
    if not m:
        return None
    return {
        "p50_s": dur_s(m.group("p50")),
        "p90_s": dur_s(m.group("p90")),
        "p99_s": dur_s(m.group("p99")),
        "p100_s": dur_s(m.group("p100")),
        "threshold_s": dur_s(m.group("thr")),
    }


_TOP_RE = re.compile(r"Top latency metric: \{(?P<body>.*)\}(?:; threshold: (?P<thr>\S+))?\s*$")


# 2015-2016 in-tree HighLatencyRequests: ``Logf("WARNING - requests with too high latency: %+v", metric)`` of a
# struct with unexported fields {verb, resource, quantile, latency time.Duration}: fmt cannot call the
# Duration's String() there, so the latency prints as integer nanoseconds (test/e2e/util.go, 2015).
TOO_HIGH_RE = re.compile(
    r"WARNING - requests with too high latency: \{verb:(?P<verb>\S*) resource:(?P<resource>\S*) "
    r"quantile:(?P<q>[0-9.]+) latency:(?P<ns>-?\d{1,18})\}"
)


def too_high_latency(text: str) -> dict | None:
    """A 2015-2016 ``WARNING - requests with too high latency: {verb:.. resource:.. quantile:0.99 latency:NS}``
    line → {verb, resource, quantile, column (p50_s/p90_s/p99_s or None), seconds}."""
    m = TOO_HIGH_RE.search(text)
    if not m:
        return None
    q = float(m.group("q"))
    col = {0.5: "p50_s", 0.9: "p90_s", 0.99: "p99_s"}.get(q)
    return {
        "verb": m.group("verb"),
        "resource": m.group("resource"),
        "quantile": q,
        "column": col,
        "seconds": int(m.group("ns")) / 1e9,
    }


def top_latency(text: str) -> dict | None:
    """A ``Top latency metric: {...}`` line (in-tree 1.2–1.12 or CL2) → labels and percentiles."""
    m = _TOP_RE.search(text)
    if not m:
        return None
    body = m.group("body")
    lat = re.search(r"Latency:(\{[^}]*\}|perc50: [^ ,]+, perc90: [^ ,]+, perc99: \S+)", body)
    labels = {}
    for k in ("Resource", "Subresource", "Verb", "Scope", "Count", "SlowCount"):
        km = re.search(rf"(?:^|\s){k}:(\S*)", body)
        if km:
            labels[k] = km.group(1)
    res = {"labels": {k: v for k, v in labels.items()}, "p50_s": None, "p90_s": None, "p99_s": None, "p100_s": None}
    if lat:
        t = lat.group(1)
        for k, col in (("50", "p50_s"), ("90", "p90_s"), ("99", "p99_s"), ("100", "p100_s")):
            pm = re.search(rf"(?:Perc{k}:|perc{k}: )({_DUR_TOKEN})", t)
            if pm:
                res[col] = dur_s(pm.group(1))
    if m.group("thr"):
        res["labels"]["threshold_s"] = dur_s(m.group("thr"))
    if "Count" in labels and labels["Count"].isdigit():
        res["count"] = int(labels["Count"])
    if "WARNING" in text[: m.start()]:
        res["labels"]["warning"] = True
    return res


def _num(v):
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


_UNIT_S = {"ms": 1e-3, "s": 1.0, "us": 1e-6, "µs": 1e-6, "ns": 1e-9, "min": 60.0, "m": 60.0, "h": 3600.0}


def perfdata_rows(doc: dict, phase: str | None, origin: str, scale_s: float | None = None) -> list[dict]:
    """PerfData ``{"version","dataItems":[{"data","unit","labels"}]}`` → perf_summaries rows.

    Latency items (unit ms/s/...) become p50_s/p90_s/p99_s/p100_s in seconds; the metric
    is ``labels.Metric`` (pod startup) or ``api_call`` (Verb/Resource labels) or
    ``perfdata``. Items with other units (MB, mCPU, ...) keep ``value`` per bucket.
    """
    rows = []
    top = doc.get("labels") or {}
    for it in doc.get("dataItems") or []:
        if not isinstance(it, dict):
            continue
        data = it.get("data") or {}
        unit = it.get("unit") or ""
        labels = dict(it.get("labels") or {})
        metric = labels.pop("Metric", None)
        if metric is None:
            metric = "api_call" if ("Verb" in labels or "Resource" in labels) else "perfdata"
        count = labels.get("Count")
        lab = {**top, **labels, "version": doc.get("version"), "unit": unit}
        sc = scale_s if scale_s is not None else _UNIT_S.get(unit)
        pk = {k: data.get(k) for k in ("Perc50", "Perc90", "Perc99", "Perc100")}
        if (
            sc is not None
            and any(v is not None for v in pk.values())
            and set(data) <= {"Perc50", "Perc90", "Perc99", "Perc100"}
        ):
            row = {
                "metric": metric,
                "phase": phase,
                "labels": json.dumps(lab, sort_keys=True),
                "count": int(count)
                if isinstance(count, str) and count.isascii() and count.isdigit() and len(count) <= 18
                else None,
                "origin": origin,
            }
            for k, col in (("Perc50", "p50_s"), ("Perc90", "p90_s"), ("Perc99", "p99_s"), ("Perc100", "p100_s")):
                v = _num(pk[k])
                row[col] = None if v is None else v * sc
            rows.append(row)
        else:
            for k, v in data.items():
                rows.append(
                    {
                        "metric": metric,
                        "phase": phase,
                        "origin": origin,
                        "labels": json.dumps({**lab, "bucket": k}, sort_keys=True),
                        "value": _num(v),
                        "unit": unit,
                    }
                )
    return rows


def json_after(first: str, cont: list[str]):
    """The JSON value that starts at the first ``{``/``[`` of ``first`` and runs over ``cont``.

    Lines after the value closes are ignored (``[Finish:Performance]``, blank lines).
    Returns None when it does not decode.
    """
    rest = "\n" + "\n".join(cont)
    for i in sorted(p for p in (first.find("{"), first.find("[")) if p >= 0):
        try:
            return json.JSONDecoder().raw_decode(first[i:] + rest)[0]
        except ValueError:
            continue
    return None
    text = first[i:] + "\n" + "\n".join(cont)
    try:
        return json.JSONDecoder().raw_decode(text)[0]
    except ValueError:
        # perfdash contract: stop at the first line that is no longer JSON-ish
        return None


@contextlib.contextmanager
def gc_paused():
    """Python's cyclic garbage collector paused for a block's work (the columnar paths): a block makes many
    short-lived objects, all freed by their reference counts, and collections triggered by their allocation
    found nothing to free but walked every long-lived object of the process (a full collection ~10 ms; issue 20,
    round 9 in bench/README.md).  Per block, so cyclic garbage waits one block at most."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


# -- wall-clock stamps → UTC ns, one record at a time --------------------------------------------------
# The line parsers (e2e, clusterloader2) convert a stamp per record.  Through numpy a scalar conversion
# cost ~10-40 µs (days_from_civil on 1-element arrays) and, for a named zone, a pandas tz_localize of one
# value (~1 ms) per record.  These give the same numbers from caches.


@lru_cache(maxsize=4096)
def civil_days(y: int, m: int, d: int) -> int:
    """Days since 1970-01-01 (:func:`kubelog.timeutil.days_from_civil` of one date)."""
    return int(timeutil.days_from_civil(np.array([y]), np.array([m]), np.array([d]))[0])


_MIN = 60 * 1_000_000_000


class LocalToUTC:
    """:func:`kubelog.timeutil.local_to_utc_ns` of one value, with the zone's offset cached per local minute
    where it is the same at the minute's first and last nanosecond (zone transitions fall on whole minutes;
    a minute holding one, or an ambiguous / nonexistent local time, is converted value by value)."""

    def __init__(self, tz: str | None):
        self.tz = tz or "UTC"
        self.identity = self.tz in ("UTC", "Z", "")
        self.cache: dict[int, int | None] = {}

    def _exact(self, local: int) -> int:
        return int(timeutil.local_to_utc_ns(np.array([local], dtype=np.int64), self.tz)[0])

    def __call__(self, local: int) -> int:
        if self.identity:
            return local
        k = local // _MIN
        off = self.cache.get(k, False)
        if off is False:
            a, b = self._exact(k * _MIN), self._exact(k * _MIN + _MIN - 1)
            nat = int(np.iinfo(np.int64).min)
            off = a - k * _MIN if nat not in (a, b) and a - k * _MIN == b - (k * _MIN + _MIN - 1) else None
            if len(self.cache) > 100_000:
                self.cache.clear()
            self.cache[k] = off
        return local + off if off is not None else self._exact(local)

    def many(self, local: np.ndarray) -> np.ndarray:
        """:meth:`__call__` of each value of ``local`` (int64 ns) at once: each distinct minute's offset looked up in
        (or added to) the same cache, new minutes converted together by their first and last nanosecond, the values
        of a minute without one offset by :func:`kubelog.timeutil.local_to_utc_ns`."""
        local = np.asarray(local, dtype=np.int64)
        if self.identity or not len(local):
            return local
        u, inv = np.unique(local // _MIN, return_inverse=True)
        ul = u.tolist()
        offs = [self.cache.get(k, False) for k in ul]
        new = [i for i, o in enumerate(offs) if o is False]
        if new:
            start = u[new] * _MIN
            a = timeutil.local_to_utc_ns(start, self.tz)
            b = timeutil.local_to_utc_ns(start + (_MIN - 1), self.tz)
            nat = np.iinfo(np.int64).min
            ok = ((a != nat) & (b != nat) & (a - start == b - (start + (_MIN - 1)))).tolist()
            for i, good, off in zip(new, ok, (a - start).tolist()):
                offs[i] = off if good else None
            if len(self.cache) + len(new) > 100_000:
                self.cache.clear()
            self.cache.update((ul[i], offs[i]) for i in new)
        has = np.array([o is not None for o in offs], dtype=bool)[inv]
        out = local + np.array([o or 0 for o in offs], dtype=np.int64)[inv]
        if not has.all():
            out[~has] = timeutil.local_to_utc_ns(local[~has], self.tz)
        return out


# -- worst-latency lists of a whole block at once (the clusterloader2 log's 100-element lists) ---------------------
_PLAIN = r"^[\x20-\x7e]*$"  # printable ASCII: the only whitespace is the space, as for str.split / str.strip
_LONG_INT = r"(?:^|[^0-9.])[0-9]{7}"  # an integer part that could overflow int64 nanoseconds (hours): per value


def worst_lists(bodies: list[str]):
    """:func:`worst_list` of each of ``bodies``, as columns: (index of the body of each element: numpy; namespace,
    pod, node: Arrow strings; latency_s: Arrow float64), the elements in order.  Elements split and read with
    pyarrow.compute; an element with a character other than printable ASCII, or in the ``Name:`` form, goes
    through the per-element code, and a latency other than ``<seconds>[.<fraction>]s`` through
    :func:`dur_s`."""
    import pyarrow as pa
    import pyarrow.compute as pc

    def fill(a):
        return pc.fill_null(a, False).to_numpy(zero_copy_only=False)

    empty = (np.zeros(0, dtype=np.int64), *(pa.array([], pa.string()) for _ in range(3)), pa.array([], pa.float64()))
    if not bodies:
        return empty
    # `\{([^{}]*)\}` found left to right = each "}" whose nearest brace before it is a "{": split at "}", and a
    # piece holding a "{" (all but the last piece of a body) ends in an element
    pieces = pc.split_pattern(pa.array(bodies, pa.string()), "}")
    lens = pc.list_value_length(pieces).to_numpy(zero_copy_only=False).astype(np.int64)
    flat = pc.list_flatten(pieces)
    body_of = np.repeat(np.arange(len(bodies)), lens)
    keep = fill(pc.match_substring(flat, "{")).copy()
    keep[np.cumsum(lens) - 1] = False
    sel = np.flatnonzero(keep)
    if not len(sel):
        return empty
    body_of = body_of[sel]
    content = pc.extract_regex(flat.take(pa.array(sel)), r"\{(?P<c>[^{]*)$").field("c")
    e = pc.utf8_trim(content, " ")
    plain = fill(pc.match_substring_regex(content, _PLAIN)) & ~fill(pc.starts_with(e, "Name:"))
    plain &= fill(pc.not_equal(e, ""))
    n = len(sel)
    p = np.flatnonzero(plain)
    toks = pc.split_pattern_regex(e.filter(pa.array(plain)), " +")
    tl = pc.list_value_length(toks).to_numpy(zero_copy_only=False).astype(np.int64)
    tv = pc.list_flatten(toks)
    end = np.cumsum(tl)
    beg = end - tl
    first = tv.take(pa.array(beg))
    last = tv.take(pa.array(end - 1))
    node = pc.if_else(pa.array(tl >= 3), tv.take(pa.array(np.maximum(end - 2, beg))), pa.scalar(None, pa.string()))
    two = pc.split_pattern(first, "/", max_splits=1)
    has_ns = pc.list_value_length(two).to_numpy(zero_copy_only=False) == 2
    ns = pc.if_else(pa.array(has_ns), pc.list_element(two, 0), pa.scalar(None, pa.string()))
    pod = pc.replace_substring_regex(first, "^[^/]*/", "", max_replacements=1)  # after the first "/", if any
    # latencies: "<int>[.<frac>]s" (%v of a time.Duration under a minute) read from the digits; others by dur_s
    x = pc.extract_regex(last, r"^(?P<i>[0-9]{1,9})(?:\.(?P<f>[0-9]{1,9}))?s$")
    ok = fill(pc.is_valid(x))
    lat = np.full(len(p), np.nan)
    o = np.flatnonzero(ok)
    if len(o):
        xo = x.filter(pa.array(ok))
        f9 = pc.utf8_rpad(xo.field("f"), 9, "0")
        nsec = pc.cast(xo.field("i"), pa.int64()).to_numpy(zero_copy_only=False) * 1_000_000_000
        nsec += pc.cast(f9, pa.int64()).to_numpy(zero_copy_only=False)
        lat[o] = nsec.astype(np.float64) / 1e9
    lat_valid = ok.copy()
    bad = np.flatnonzero(~ok)
    if len(bad):
        for q, t in zip(bad.tolist(), last.take(pa.array(bad)).to_pylist()):
            v = dur_s(t)
            if v is not None:
                lat[q], lat_valid[q] = v, True
    cols = [ns, pod, node, pa.array(lat, pa.float64(), mask=~lat_valid)]
    if len(p) == n:
        return (body_of, *cols)
    # elements for the per-element code: all columns as lists, in element order
    out = [[None] * n for _ in range(4)]
    for c, col in enumerate(cols):
        for j, v in zip(p.tolist(), col.to_pylist()):
            out[c][j] = v
    drop = np.zeros(n, dtype=bool)
    odd = np.flatnonzero(~plain)
    for j, c in zip(odd.tolist(), content.take(pa.array(odd)).to_pylist()):
        got = worst_list("{" + c + "}")
        if not got:
            drop[j] = True
            continue
        for k in range(4):
            out[k][j] = got[0][k]
    k = np.flatnonzero(~drop).tolist()
    return (
        body_of[~drop],
        *(pa.array([out[c][i] for i in k], pa.string()) for c in range(3)),
        pa.array([out[3][i] for i in k], pa.float64()),
    )
