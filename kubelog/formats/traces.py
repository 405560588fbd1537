"""utiltrace slow-operation Trace blocks (docs/formats/klog.md) → ``traces`` + ``trace_steps``.

A Trace block is ONE klog record: the header line carries the klog header, the step
lines are header-less continuation lines (also in journald/syslog-wrapped files, where
the wrapper is removed first). This module registers a *consuming* klog extractor
(``traces``, order 20): every record whose message starts a trace becomes one
``traces`` row (its primary row) and one ``trace_steps`` row per step line.

Variants
--------
T1 (≤ 1.7)   ``Trace "<name>" (started <time.Time.String()>):`` then ``[since start] [since prev] msg``
             lines and ``[total] [last] END`` (1.7: ``"<name>" [total] [last] END``).
T2 (1.8–1.18) ``Trace[N]: "<name>"[ fields] (started: <time.Time.String()>) (total time: <Duration>):``
             then ``Trace[N]: [since start] [since prev] msg[ fields]`` and ``Trace[N]: [t] [t] END``.
T3 (1.19+)   ``Trace[N]: "<name>"[ fields] (dd-Mon-yyyy hh:mm:ss.mmm) (total time: <int>ms):`` then
             ``Trace[N]: ---"msg"[ fields] <ms>ms (hh:mm:ss.mmm)``, nested traces
             ``Trace[N]: ["<name>"[ fields] <ms>ms (hh:mm:ss.mmm)`` whose steps carry one extra leading
             space per level (the closing ``]`` ends the nested trace's last line), and the END line.

Columns
-------
``traces.ts`` is the klog record time (the trace end as logged), ``started_ts`` the printed start:
T1/T2 print a full date with a numeric zone offset (exact, ns); T3 prints local time without zone,
interpreted in ``ctx.tz`` (ms resolution). ``total_s`` comes from the END line when present (ns
precision), else from the header ``(total time: ..)`` (T3: truncated integer ms). T1 traces have no
id: ``trace_id`` is generated as ``T1@<line_no>``.

``trace_steps``: ``kind`` is ``step`` or ``nested`` (a nested trace header; ``msg`` is its name);
``depth`` is the nesting level; ``offset_s`` is the time since trace start (T1/T2) or null (T3);
``duration_s`` the time since the previous step (T3: the printed integer ms). END lines are not
steps (they give ``total_s``). ``line_no`` of a step is the record's line plus the step's index
among the continuation lines (exact for unwrapped input and line-preserving wrappers).
Continuation lines that are not trace lines stay part of the record (they are rare) and are
ignored.

The trace dates also serve as year evidence for the whole run (``kubelog.timeutil.year_evidence``).
"""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .. import native, timeutil
from .klog import Records, register_extractor

MONTHS = {m: i + 1 for i, m in enumerate("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split())}

RX_HDR = re.compile(
    r'^Trace\[(?P<id>\d+)\]: "(?P<name>(?:[^"\\]|\\.)*)"(?: (?P<fields>.*?))? '
    r"\((?:started:? )?(?P<started>[^()]*)\) \(total time: (?P<total>[^)]*)\):?\s*$"
)
RX_T1 = re.compile(r'^Trace "(?P<name>(?:[^"\\]|\\.)*)" \(started:? (?P<started>[^()]*)\):?\s*$')
RX_PREFIX = re.compile(r"^Trace\[(?P<id>\d+)\]:(?P<rest>.*)$")
RX_OLD_STEP = re.compile(r"^(?P<sp> *)\[(?P<off>[^\]]+)\] \[(?P<dur>[^\]]+)\] (?P<msg>.*?)\s*$")
RX_T17_END = re.compile(r'^"(?:[^"\\]|\\.)*" \[(?P<off>[^\]]+)\] \[(?P<dur>[^\]]+)\] END\s*$')
RX_NEW_STEP = re.compile(
    r'^(?P<sp> *)(?P<open>\[)?(?:---)?"(?P<msg>(?:[^"\\]|\\.)*)"(?: (?P<fields>.*?))? '
    r"(?P<ms>[0-9]+)ms \((?P<clk>[0-9:.]+)\)(?P<close>\]*)\s*$"
)
RX_GO_TIME = re.compile(r"^(?P<d>\d{4}-\d\d-\d\d) (?P<t>\d\d:\d\d:\d\d(?:\.\d+)?) (?P<off>[+-]\d{4})")
RX_T3_DATE = re.compile(r"^(?P<d>\d\d)-(?P<mon>[A-Z][a-z]{2})-(?P<y>\d{4}) (?P<t>\d\d:\d\d:\d\d(?:\.\d+)?)$")


def go_time_ns(s: str) -> int | None:
    """UTC ns of a Go ``time.Time.String()`` value (``2019-09-27 07:28:26.9 +0000 UTC m=+1``)."""
    m = RX_GO_TIME.match(s.strip())
    if not m:
        return None
    y, mo, d = (int(x) for x in m.group("d").split("-"))
    hh, mi, rest = m.group("t").split(":")
    sec, _, frac = rest.partition(".")
    off = m.group("off")
    off_s = (1 if off[0] == "+" else -1) * (int(off[1:3]) * 3600 + int(off[3:5]) * 60)
    if y < 1900:  # 0001-01-01: Go zero time (not set)
        return None
    days = _days(y, mo, d)
    ns = (days * 86400 + int(hh) * 3600 + int(mi) * 60 + int(sec) - off_s) * 10**9
    return ns + int((frac + "000000000")[:9]) if frac else ns


def t3_time_ns(s: str, tz: str) -> int | None:
    m = RX_T3_DATE.match(s.strip())
    if not m or m.group("mon") not in MONTHS:
        return None
    hh, mi, rest = m.group("t").split(":")
    sec, _, frac = rest.partition(".")
    days = _days(int(m.group("y")), MONTHS[m.group("mon")], int(m.group("d")))
    local = (days * 86400 + int(hh) * 3600 + int(mi) * 60 + int(sec)) * 10**9 + int((frac + "000000000")[:9])
    if tz in ("UTC", "Z", "", None):
        return local
    return int(timeutil.local_to_utc_ns(np.array([local], dtype=np.int64), tz)[0])


def _days(y: int, m: int, d: int) -> int:
    """:func:`kubelog.timeutil.days_from_civil` for one date, in plain integers."""
    y -= m <= 2
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    return era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468


_NATIVE = None  # the C extension while extract() runs (looked up once per block, not per duration)


def _dur_s(text: str) -> float | None:
    text = text.strip()
    nat = _NATIVE
    if nat is not None and not text.startswith("-"):  # the C parser: the same value, 5x faster
        ns = nat.duration_ns(text)
        if ns >= 0:
            return ns / 1e9
    ns = timeutil.parse_duration_ns(text)
    return None if ns is None else ns / 1e9


_RX_NAME = re.compile(r'^Trace\[(?P<id>\d+)\]: "(?P<name>(?:[^"\\]|\\.)*)"(?P<rest>.*)$')


def _header(msg: str) -> tuple[str, str, str | None, str, str] | None:
    """:data:`RX_HDR` by string operations (the regex's lazy ``fields`` made it the slowest step
    of a trace): ``(id, name, fields, started, total)`` or None where the regex would not match.

    The end is anchored: ``... (<started>) (total time: <total>):``; ``started`` holds no
    parentheses, ``total`` no ``)``, so the last two groups are found from the right.
    """
    body = msg.rstrip()
    if body.endswith(":"):
        body = body[:-1]
    if not body.endswith(")"):
        return None
    i = body.rfind(" (total time: ")
    if i < 0 or ")" in body[i + 14 : -1]:
        return None
    total, head = body[i + 14 : -1], body[:i]
    j = head.rfind(" (")
    if not head.endswith(")") or j < 0:
        return None
    started = head[j + 2 : -1]
    if "(" in started or ")" in started:
        return None
    if started.startswith("started: "):
        started = started[9:]
    elif started.startswith("started "):
        started = started[8:]
    m = _RX_NAME.match(head[:j])
    if m is None:
        return None
    rest = m.group("rest")
    if rest and not rest.startswith(" "):
        return None
    return m.group("id"), m.group("name"), (rest[1:] if rest else None), started, total


def parse_block(msg: str, cont: str | None, tz: str = "UTC") -> tuple[dict, list[dict]] | None:
    """Parse one trace record (first-line message + continuation text) → (trace, steps) or None."""
    h = _header(msg)
    if h is None:
        m = RX_HDR.match(msg)
        if m:
            h = m.group("id"), m.group("name"), m.group("fields"), m.group("started"), m.group("total")
    steps: list[dict] = []
    if h is not None:
        tid, name, fields, started, total = h
        if started[:4].isdigit():
            variant, start_ns = "T2", go_time_ns(started)
        else:
            variant, start_ns = "T3", t3_time_ns(started, tz)
        total_s = _dur_s(total.strip())
        tr = dict(
            trace_id=tid,
            name=name.replace('\\"', '"'),
            fields=fields or "",
            started_ns=start_ns,
            total_s=total_s,
            variant=variant,
        )
    else:
        m = RX_T1.match(msg)
        if not m:
            return None
        tid = None
        tr = dict(
            trace_id=None,
            name=m.group("name"),
            fields="",
            started_ns=go_time_ns(m.group("started")),
            total_s=None,
            variant="T1",
        )
    end_total = None
    prev_ms_clock = None
    for k, line in enumerate((cont or "").split("\n") if cont else []):
        body = line
        pm = RX_PREFIX.match(line)
        if pm:
            if tid is not None and pm.group("id") != tid:
                continue
            body = pm.group("rest")
            body = body[1:] if body.startswith(" ") else body
        elif tr["variant"] != "T1":
            continue
        om = RX_OLD_STEP.match(body)
        if om:
            if om.group("msg") == "END":
                end_total = _dur_s(om.group("off"))
                continue
            steps.append(
                dict(
                    k=k,
                    depth=len(om.group("sp")),
                    offset_s=_dur_s(om.group("off")),
                    duration_s=_dur_s(om.group("dur")),
                    msg=om.group("msg"),
                    fields="",
                    kind="step",
                )
            )
            continue
        em = RX_T17_END.match(body)
        if em:
            end_total = _dur_s(em.group("off"))
            continue
        nm = RX_NEW_STEP.match(body)
        if nm:
            steps.append(
                dict(
                    k=k,
                    depth=len(nm.group("sp")),
                    offset_s=None,
                    duration_s=int(nm.group("ms")) / 1000.0,
                    msg=nm.group("msg").replace('\\"', '"'),
                    fields=nm.group("fields") or "",
                    kind="nested" if nm.group("open") else "step",
                )
            )
            prev_ms_clock = nm.group("clk")
    if end_total is not None:
        tr["total_s"] = end_total
    del prev_ms_clock
    # T2/T3 fields: pick out url / audit-id / user-agent
    got = _fields(tr["fields"])
    tr["url"] = got.get("url")
    tr["audit_id"] = got.get("audit-id")
    tr["user_agent"] = got.get("user-agent")
    return tr, steps


_KNOWN_KEYS = (
    "accept",
    "audit-id",
    "client",
    "api-group",
    "api-version",
    "name",
    "subresource",
    "namespace",
    "protocol",
    "resource",
    "scope",
    "url",
    "user-agent",
    "verb",
    "key",
    "type",
    "resourceVersion",
    "resourceVersionMatch",
    "limit",
    "continue",
    "method",
    "mediaType",
    "encoder",
    "len",
    "err",
    "count",
)
_KNOWN = frozenset(_KNOWN_KEYS)


def _fields(fields: str) -> dict[str, str]:
    """The known keys of unquoted ``k:v,k:v`` trace fields (values may contain ',' and spaces),
    the first value of each.

    A value ends where the next known key starts (``,key:``), so user agents with commas survive.
    """
    if not fields:
        return {}
    out: dict[str, str] = {}
    key = None
    val: list[str] = []
    for piece in fields.split(","):  # a piece that does not start with "<known key>:" continues a value
        k, colon, rest = piece.partition(":")
        if colon and k in _KNOWN:
            if key is not None and key not in out:
                out[key] = ",".join(val)
            key, val = k, [rest]
        elif key is not None:
            val.append(piece)
    if key is not None and key not in out:
        out[key] = ",".join(val)
    return out


def _field(fields: str, key: str) -> str | None:
    """Value of ``key`` in trace fields (see :func:`_fields`)."""
    return _fields(fields).get(key)


NATIVE_T3 = True  # T3 blocks through the C parser when built (tests switch it off to compare)


def _started_utc(started, tz: str) -> np.ndarray:
    """UTC ns of the C parser's local ``started`` times (None → 0: masked by the callers)."""
    return timeutil.local_to_utc_ns(np.array([0 if v is None else v for v in started], np.int64), tz)


def _seconds(ns) -> float | None:
    return None if ns is None else ns / 1e9


def _step_duration_s(ms, dur) -> float | None:
    """A step's duration: its printed milliseconds where it has them, else its Go duration (ns)."""
    return (ms / 1000.0) if ms is not None else _seconds(dur)


def _native_t3(msgs: list, conts: list, tz: str, got: tuple | None = None) -> dict:
    """``{index: parse_block(...) result}`` for the T3 records the C parser takes (the rest: not in
    the dict, parsed by :func:`parse_block`, the reference); ``got``: its result if already had."""
    handled, traces, steps = got if got is not None else _NATIVE.traces_t3(msgs, conts)
    if not traces:
        return {}
    utc = _started_utc([t[7] for t in traces], tz)
    out: dict[int, tuple] = {}
    for t, u in zip(traces, utc.tolist()):
        pos, tid, name, fields, url, aid, ua, started, total = t
        out[pos] = (
            dict(
                trace_id=tid,
                name=name,
                fields=fields,
                started_ns=None if started is None else u,
                total_s=_seconds(total),
                variant="T3",
                url=url,
                audit_id=aid,
                user_agent=ua,
            ),
            [],
        )
    for pos, k, depth, off, dur, ms, msg, fields, nested in steps:
        out[pos][1].append(
            dict(
                k=k,
                depth=depth,
                offset_s=_seconds(off),
                duration_s=_step_duration_s(ms, dur),
                msg=msg,
                fields=fields,
                kind="nested" if nested else "step",
            )
        )
    return out


def _buffers(a: pa.Array) -> tuple:
    """(int32 offsets, data, validity or None, length) of a string array, for the C parser."""
    if a.offset:
        a = pa.concat_arrays([a])  # a copy that starts at offset 0
    v, o, d = a.buffers()
    return o, d if d is not None else b"", v if a.null_count else None, len(a)


def _native_t3_columns(got: tuple, clocks, cidx: np.ndarray, rec: Records, tz: str):
    """The ``traces`` and ``trace_steps`` columns of :func:`extract` built column-wise from the C
    parser's rows (``got``), when it took every candidate record (else None: the per-record path,
    which gives the same rows, handles the mix)."""
    _, traces, steps = got
    if len(traces) != len(cidx):
        return None
    pos, tid, name, fields, url, aid, ua, started, total = zip(*traces)
    if None in tid or list(pos) != list(range(len(cidx))):
        return None
    rows = cidx[np.asarray(pos, np.int64)]
    line_no = rec.line_no[rows]
    utc = _started_utc(started, tz)
    tsz = pa.timestamp("ns", tz="UTC")
    T = {
        "trace_id": list(tid),
        "ts": pa.array(rec.ts_ns[rows], pa.int64()).cast(tsz),
        "started_ts": pa.array(utc, pa.int64(), mask=np.array([v is None for v in started])).cast(tsz),
        "clock": clocks,
        "name": list(name),
        "fields": list(fields),
        "url": list(url),
        "audit_id": list(aid),
        "user_agent": list(ua),
        "total_s": [_seconds(v) for v in total],
        "variant": ["T3"] * len(tid),
        "line_no": line_no,
    }
    out = {"traces": T}
    if steps:
        spos, k, depth, off, dur, ms, smsg, sfields, nested = zip(*steps)
        spos = np.asarray(spos, np.int64)
        if (np.diff(spos) < 0).any():
            return None
        starts = np.flatnonzero(np.r_[True, spos[1:] != spos[:-1]])  # steps come grouped by trace
        step_no = np.arange(len(spos)) - np.repeat(starts, np.diff(np.r_[starts, len(spos)]))
        out["trace_steps"] = {
            "trace_id": [tid[j] for j in spos.tolist()],
            "step_no": step_no,
            "depth": list(depth),
            "offset_s": [_seconds(v) for v in off],
            "duration_s": [_step_duration_s(m, d) for m, d in zip(ms, dur)],
            "msg": list(smsg),
            "fields": list(sfields),
            "kind": ["nested" if v else "step" for v in nested],
            "line_no": line_no[spos] + 1 + np.asarray(k, np.int64),
        }
    return out


def extract(rec: Records, ctx) -> tuple:
    global _NATIVE
    _NATIVE = native.module()
    msg = rec.msg
    cand = pc.fill_null(pc.or_(pc.starts_with(msg, "Trace["), pc.starts_with(msg, 'Trace "')), False)
    cand = cand.to_numpy(zero_copy_only=False)
    if not cand.any():
        return None, {}
    mask = np.zeros(len(rec), dtype=bool)
    tz = getattr(ctx, "tz", "UTC") or "UTC"
    T = {
        c: []
        for c in (
            "trace_id",
            "ts",
            "started_ts",
            "clock",
            "name",
            "fields",
            "url",
            "audit_id",
            "user_agent",
            "total_s",
            "variant",
            "line_no",
        )
    }
    S = {c: [] for c in ("trace_id", "step_no", "depth", "offset_s", "duration_s", "msg", "fields", "kind", "line_no")}
    cidx = np.flatnonzero(cand)
    ia = pa.array(cidx)
    marr, carr, clocks = msg.take(ia), rec.cont.take(ia), rec.clock.take(ia)
    got = None
    if _NATIVE is not None and NATIVE_T3 and marr.type == carr.type == pa.string():
        got = _NATIVE.traces_t3(_buffers(marr), _buffers(carr))  # the Arrow strings read in place
        cols = _native_t3_columns(got, clocks, cidx, rec, tz)
        if cols is not None:  # the C parser took every candidate: no per-trace Python
            mask[cidx] = True
            return mask, cols
    msgs, conts, clocks = marr.to_pylist(), carr.to_pylist(), clocks.to_pylist()
    fast = _native_t3(msgs, conts, tz, got) if _NATIVE is not None and NATIVE_T3 else {}
    for j, i in enumerate(cidx):
        got = fast.get(j) or parse_block(msgs[j], conts[j], tz)
        if got is None:
            continue
        tr, steps = got
        mask[i] = True
        ln = int(rec.line_no[i])
        tid = tr["trace_id"] or f"T1@{ln}"
        T["trace_id"].append(tid)
        T["ts"].append(int(rec.ts_ns[i]))
        T["started_ts"].append(tr["started_ns"])
        T["clock"].append(clocks[j])
        for k in ("name", "fields", "url", "audit_id", "user_agent", "total_s", "variant"):
            T[k].append(tr[k])
        T["line_no"].append(ln)
        for k, s in enumerate(steps):
            S["trace_id"].append(tid)
            S["step_no"].append(k)
            for k in ("depth", "offset_s", "duration_s", "msg", "fields", "kind"):
                S[k].append(s[k])
            S["line_no"].append(ln + 1 + s["k"])
    if not mask.any():
        return None, {}
    tsz = pa.timestamp("ns", tz="UTC")
    T["ts"] = pa.array(T["ts"], pa.int64()).cast(tsz)
    T["started_ts"] = pa.array(T["started_ts"], pa.int64()).cast(tsz)
    out = {"traces": T}
    if S["trace_id"]:
        out["trace_steps"] = S
    return mask, out


register_extractor("traces", extract, order=20, consumes=True)
