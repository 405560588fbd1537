"""e2e / ginkgo v1 test logs (docs/formats/e2e-log.md): ``build-log.txt``, ``e2e.log``, console logs.

Format
------
Framework ``Logf`` lines ``Mar  3 03:12:59.815: INFO: msg`` (``time.StampMilli``: no year, no zone,
local time of the machine running ``e2e.test``; clock domain ``test``), ``STEP: text`` lines (no
stamp), glog lines of the test binary (``I0108 14:46:43.842853   14261 e2e.go:185] ...``), ginkgo's
reporter output (suite header, ``------------------------------`` spec announcements,
``[BeforeEach] ...`` node headers, end blocks ``• [SLOW TEST:x seconds]`` / ``• Failure[ in Spec
Setup (BeforeEach)] [x seconds]`` / ``•! Panic`` / ``•... Timeout``, ``Summarizing N Failures``,
``Ran N of M Specs``, ``SUCCESS!``/``FAIL!``) and the JSON progress lines of newer ginkgo
(``{"msg":"PASSED ...","total":277,...}``).  Wrappers (Prow ``I0421 06:13:41.920] ``, Jenkins
``HH:MM:SS ``) and ANSI colour are removed by :mod:`kubelog.sources.lines`.

Quirks handled
--------------
* Skipped specs print ``S`` with no newline: runs of ``SSSS`` are counted (``ctx.info`` ``skipped_markers``)
  and stripped when something is glued behind them (``SSSSMar  5 ...``, ``SSSSI0603 ...``).
* The success bullet of a fast spec (``•``, also double-encoded ``â€¢``) is glued to the next output
  (``•{"msg":"PASSED ..."}``).
* Old pasted logs with a leading line number (``33 Apr 20 ...``) and stamp-less ``INFO: msg`` lines.
* Density/load outputs of 1.2–1.12: ``Pods: N out of M created, ...`` progress (Density and per-RC,
  INFO or glog ``runners.go``) → ``progress``; the five worst-latency lists (both label eras) and their
  ``perc50/90/99`` lines → ``perf_summaries`` + ``test_pod_latencies``; ``Top latency metric``;
  the pretty JSON blocks (``API calls latencies`` ns, ``[Result:Performance]`` PerfData ms,
  ``Pod startup latency`` ns, ``Scheduling latency`` ns, ``Cluster saturation time``, ``<Kind> JSON``
  summaries); ``E2E startup time``, saturation throughput, ``Approx throughput``;
  ``Error building encoder: json: unsupported value: NaN`` (saturation did not run).
* Specs → ``test_specs`` (name from the announcement or end block, state, duration, failure
  message and location, start time, last STEP).

Accounting rule
---------------
A record starts at a Logf line, a STEP line, a glog line, a JSON progress line, a ginkgo delimiter,
node header, end block (bullet) or suite line; each record is one ``test_log`` row.  Every other line
is a continuation line of the record before it (pretty JSON, multi-line messages, announcement and
end-block bodies, blank lines).  Lines before the first record are counted ("before the first e2e
record"); lines holding only ``S`` markers are counted ("skipped-spec markers").

Parsing
-------
A block of lines at a time (:meth:`_Parser.chunk`): classified with pyarrow.compute (RE2 forms of the
patterns on ASCII lines, :func:`_classify` on the others), ``test_log`` rows built per column, and only the
records that mean more than their row interpreted one by one (:meth:`_Parser._interpret`).  The per-line
parse (:meth:`_Parser.line`, ``parse(..., per_line=True)``) is the reference both are compared with.
"""

from __future__ import annotations

import contextlib
import json
import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .. import timeutil
from ..sources import lines as L
from . import e2e_util as U
from .base import Context, Format, Head
from .klog import HEADER_RE, HEADER_START

MONTHS = {m: i + 1 for i, m in enumerate("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split())}
STAMP_RE = re.compile(
    r"^(?:\d{1,6} )?(?P<mon>Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) (?P<day>[ \d]\d) "
    r"(?P<h>\d\d):(?P<mi>\d\d):(?P<s>\d\d)\.(?P<ms>\d{3}): (?P<lvl>[A-Z]+): ?(?P<msg>.*)$"
)
BARE_INFO_RE = re.compile(r"^INFO: (?P<msg>.*)$")
# density/load output pasted without its Logf stamp and "INFO: " (issue reports, old docs): the lines
# are unambiguous on their own, each starts a record (a test_log row; perf rows as with the stamp)
BARE_PERF_RE = re.compile(
    r"^(?:(?:\d+% |\d+ )?worst [\w -]+ latencies: \[|perc50: [^,]+, perc90: |"
    r"WARNING - requests with too high latency: \{|(?:WARNING )?Top latency metric: \{)"
)
# ginkgo v1 reporter lines that identify an e2e log even with no Logf stamp nearby (a pasted failure
# block or run summary): stenographer.go's failure headers, summary and suite verdict
GINKGO_SURE_RE = re.compile(
    r"^(?:(?:•|â€¢)(?:! Panic|\.\.\. Timeout| Failure)(?: in [A-Z][\w ]+\([A-Za-z]+\))? \[[0-9.]+ seconds\]|"
    r"(?:•|â€¢) \[(?:SLOW TEST:[0-9.]+ seconds|MEASUREMENT)\]\s*$|S \[SKIPPING\]|P \[PENDING\]\s*$|"
    r"Summarizing \d+ Failures?:\s*$|Ran \d+ of \d+ Specs? in [0-9.]+ seconds|"
    r"(?:SUCCESS|FAIL)! -- \d+ Passed \| \d+ Failed)"
)
KLOG_RE = re.compile(HEADER_RE)  # glog lines of the test binary: the klog header, defined once in klog.py
DELIM_RE = re.compile(r"^-{30,}\s*$")
NODE_RE = re.compile(
    r"^\[(?:BeforeEach|JustBeforeEach|It|Measure|AfterEach|JustAfterEach|BeforeSuite|AfterSuite|"
    r"SynchronizedBeforeSuite|SynchronizedAfterSuite|ReportAfterSuite)\](?: |$)"
)
SUITE_RE = re.compile(
    r"^(?:Running Suite: |Random Seed: |Will run \d+ of \d+ specs|Ran \d+ of \d+ Specs? in |"
    r"SUCCESS!|FAIL!|Summarizing \d+ Failures?:|\[(?:Fail|Panic!|Timeout\.\.\.)\] |Ginkgo ran |"
    r"Test Suite (?:Passed|Failed)|JUnit report was created|PASS\s*$|FAIL\s*$|--- FAIL: |"
    r"Ginkgo timed out|Aborted by|Interrupted by)"
)
BULLET_RE = re.compile(r"^(?:•|â€¢)")
GLUE_RE = re.compile(
    r"^(S+)(?=STEP: |(?:\d{1,6} )?[A-Z][a-z]{2} [ \d]\d \d\d:|[IWEF]\d{4} |•|â€¢|\{\"msg\"|-{30}|"
    r"\[|Ran |SUCCESS!|FAIL!|Running Suite|JUnit report|INFO: |$)"
)
LOC_RE = re.compile(r"^\s*\S+:\d+\s*$")
END_RE = re.compile(
    r"^(?:•|â€¢)(?P<kind>! Panic|\.\.\. Timeout| Failure)?"
    r"(?P<ctx>[^\[]*?)\s*(?:\[(?:SLOW TEST:)?(?P<secs>[0-9.]+) seconds\])?\s*$"
)
# Counts of at most 18 digits (each fits the int64 columns): a line with a longer one is not a progress line.
PROGRESS_RE = re.compile(
    r"^(?P<label>.+?) Pods: (?P<created>\d{1,18}) out of (?P<expected>\d{1,18}) created, (?P<running>\d{1,18}) running"
    r"(?: \(\d+ updated\))?, (?P<pending>\d{1,18}) pending(?: scheduled)?, (?P<waiting>\d{1,18}) (?:waiting|not scheduled), "
    r"(?P<inactive>\d{1,18}) inactive, (?:(?P<terminating>\d{1,18}) terminating, )?(?P<unknown>\d{1,18}) unknown, "
    r"(?P<rnr>\d{1,18}) runningButNotReady"
)


_GLUED_TO_BULLET = re.compile(r"^(?:•|â€¢)(?=\{\"msg\"|[A-Z][a-z]{2} [ \d]\d |[IWEF]\d{4} |STEP: |S)")
_NODE_SUFFIX = re.compile(
    r" \[(?:It|BeforeEach|JustBeforeEach|AfterEach|JustAfterEach|Measure|BeforeSuite|AfterSuite)\]\s*$"
)
_E2E_STARTUP = re.compile(r"^E2E startup time for (\d+) pods: (\S+)")
_THROUGHPUT = re.compile(r"^Throughput \(pods/s\) during cluster saturation phase: (\S+)")
_APPROX = re.compile(r"^Approx throughput: (\S+) pods/min")


def _classify(text: str):
    """One line → (text without skipped-spec markers or None when nothing else was on it, record kind or None,
    the match of the stamp / glog header, the ``S`` markers or None): the per-line classifier."""
    glue = None
    m = GLUE_RE.match(text)
    if m:
        glue = m.group(1)
        text = text[m.end(1) :]
        if not text.strip():
            return None, None, None, glue
    kind = None
    mm = None
    c0 = text[:1]
    if c0.isdigit() or c0 in "JFMASOND":
        mm = STAMP_RE.match(text)
        if mm:
            kind = "stamp"
    if kind is None and c0 in "IWEF":
        mm = KLOG_RE.match(text)
        if mm:
            kind = "klog"
    if kind is None:
        if text.startswith("STEP: "):
            kind = "step"
        elif text.startswith('{"msg":"'):
            kind = "json"
        elif c0 == "-" and DELIM_RE.match(text):
            kind = "delim"
        elif c0 == "[" and NODE_RE.match(text):
            kind = "node"
        elif BULLET_RE.match(text):
            kind = "end"
        elif SUITE_RE.match(text):
            kind = "suite"
        elif text.startswith("INFO: "):
            kind = "bare"
        elif c0 in "WwTp0123456789" and BARE_PERF_RE.match(text):
            kind = "bare"
    return text, kind, mm, glue


# -- the same classifier on whole chunks (pyarrow.compute / RE2) -------------------------------------------------
# RE2 forms of the patterns above, used on lines of ASCII characters only: there RE2's [0-9], [A-Za-z0-9_] and the
# explicit whitespace class below are exactly Python's \d, \w and \s (Python's \s also takes \v and \x1c-\x1f,
# RE2's does not).  A line with any other character (the ginkgo bullet, µs, ...) and a line with skipped-spec
# markers glued in front is classified by :func:`_classify`, as on the per-line path.
_WS = r"[\t\n\x0b\x0c\r \x1c-\x1f]"
A_GLUE = (
    r'^S+(?:STEP: |(?:[0-9]{1,6} )?[A-Z][a-z]{2} [ 0-9][0-9] [0-9][0-9]:|[IWEF][0-9]{4} |\{"msg"|-{30}|'
    r"\[|Ran |SUCCESS!|FAIL!|Running Suite|JUnit report|INFO: |$)"
)
A_STAMP = (  # STAMP_RE without its ".*$" (which any rest of the line matches): the message is what follows
    r"^(?:[0-9]{1,6} )?(?P<mon>Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) (?P<day>[ 0-9][0-9]) "
    r"(?P<h>[0-9][0-9]):(?P<mi>[0-9][0-9]):(?P<s>[0-9][0-9])\.(?P<ms>[0-9]{3}): (?P<lvl>[A-Z]+): ?"
)
_A_STAMP_NC = re.sub(r"\(\?P<\w+>", "(?:", A_STAMP)
A_DELIM = r"^-{30,}" + _WS + r"*$"
A_SUITE = (
    r"^(?:Running Suite: |Random Seed: |Will run [0-9]+ of [0-9]+ specs|Ran [0-9]+ of [0-9]+ Specs? in |"
    r"SUCCESS!|FAIL!|Summarizing [0-9]+ Failures?:|\[(?:Fail|Panic!|Timeout\.\.\.)\] |Ginkgo ran |"
    r"Test Suite (?:Passed|Failed)|JUnit report was created|PASS" + _WS + r"*$|FAIL" + _WS + r"*$|--- FAIL: |"
    r"Ginkgo timed out|Aborted by|Interrupted by)"
)
A_BARE_PERF = (
    r"^(?:(?:[0-9]+% |[0-9]+ )?worst [A-Za-z0-9_ -]+ latencies: \[|perc50: [^,]+, perc90: |"
    r"WARNING - requests with too high latency: \{|(?:WARNING )?Top latency metric: \{)"
)
A_WRAPPER_CLOCK = (
    r"^[IWEF](?P<mo>[0-9][0-9])(?P<dd>[0-9][0-9]) (?P<h>[0-9][0-9]):(?P<mi>[0-9][0-9]):(?P<s>[0-9][0-9])\."
    r"(?P<ms>[0-9]{3})$"
)
# a Logf / glog / bare record whose line holds none of these (nor a first continuation line with "{") means nothing
# to _message: its test_log row is all it gives (a superset: the records that match go through _message)
A_EVENT = (
    r" Pods: | worst |perc50: |WARNING - requests with too high latency: |Top latency metric: |E2E|Throughput|"
    r"Approx|Error building encoder: json: unsupported value: |\{"
)
A_EVENT_NO_BRACE = A_EVENT.rsplit("|", 1)[0]
A_JSON_LABEL = (
    r"\[Result:Performance\]|API calls latencies|Cluster saturation time|Pod startup latency|Scheduling latency|JSON"
)
KINDS = (None, "stamp", "klog", "step", "json", "delim", "node", "end", "suite", "bare")
_K = {k: i for i, k in enumerate(KINDS)}
_LEVEL = {"step": "STEP", "json": "PROGRESS", "end": "END", "delim": "GINKGO", "node": "GINKGO", "suite": "SUITE"}
_LEVEL["bare"] = "INFO"
_EVENT_KINDS = np.array([k in ("delim", "end", "suite") for k in KINDS])
_MESSAGE_KINDS = np.array([k in ("stamp", "bare", "klog") for k in KINDS])


# first characters each RE2 form can start with (the patterns above): ASCII codes
_C_STAMP = np.frombuffer(b"JFMASOND", dtype=np.uint8)
_C_KLOG = np.frombuffer(b"IWEF", dtype=np.uint8)
_C_SUITE = np.frombuffer(b"RWSF[GTJP-AI", dtype=np.uint8)
_C_BARE = np.frombuffer(b"IwpWT", dtype=np.uint8)  # "INFO: ", A_BARE_PERF (and digits)
A_BARE = r"^(?:INFO: |" + A_BARE_PERF[1:] + ")"


_MONTH_CODE = np.array(sorted((ord(m[0]) << 16) | (ord(m[1]) << 8) | ord(m[2]) for m in MONTHS), dtype=np.int64)
_MONTH_NUM = np.array(
    [MONTHS[m] for m in sorted(MONTHS, key=lambda m: (ord(m[0]) << 16) | (ord(m[1]) << 8) | ord(m[2]))],
    dtype=np.int64,
)


def _starts_and_data(text: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Start offset of each string in the data buffer, and the data buffer, of a string array (no copy)."""
    if text.type not in (pa.string(), pa.large_string()):
        text = text.cast(pa.string())
    _, offs, data = text.buffers()
    dt = np.int32 if text.type == pa.string() else np.int64
    o = np.frombuffer(offs, dtype=dt, count=text.offset + len(text) + 1)[text.offset :]
    d = np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, dtype=np.uint8)
    return o[:-1].astype(np.int64), d


def _lengths(text: pa.Array) -> np.ndarray:
    """Byte length of each string of a string array."""
    return pc.binary_length(text).to_numpy(zero_copy_only=False).astype(np.int64)


_BIG = 2**31 - 1  # a slice's stop past any string's end (pyarrow's binary_slice wants one)


def _first_chars(text: pa.Array) -> np.ndarray:
    """The first byte of each string (0 for an empty one), read from the array's offsets and data buffers."""
    n = len(text)
    if text.type not in (pa.string(), pa.large_string()):
        text = text.cast(pa.string())
    _, offs, data = text.buffers()
    dt = np.int32 if text.type == pa.string() else np.int64
    o = np.frombuffer(offs, dtype=dt, count=text.offset + n + 1)[text.offset :]
    if data is None or o[-1] == o[0]:
        return np.zeros(n, dtype=np.uint8)
    d = np.frombuffer(data, dtype=np.uint8)
    nonempty = o[1:] > o[:-1]
    return np.where(nonempty, d[np.minimum(o[:-1], len(d) - 1)], 0).astype(np.uint8)


def _mask(arr) -> np.ndarray:
    return pc.fill_null(arr, False).to_numpy(zero_copy_only=False)


def _ints(arr) -> np.ndarray:
    return pc.cast(arr, pa.int64()).to_numpy(zero_copy_only=False)


class _Open:
    """The last record of a chunk, still taking continuation lines (the columnar path)."""

    __slots__ = ("kind", "line_no", "has_ts", "ts", "lvl", "wts", "text", "pieces", "hit")

    def __init__(self, **kw):
        for k, v in kw.items():
            setattr(self, k, v)


def _head_payload(head: Head) -> tuple[list[str], list[str]]:
    lines = head.lines(3000)
    wr = L.detect_wrappers(lines)
    out = []
    for l in lines:
        for w in wr:
            l = L._strip_one(L.WRAPPER_BY_NAME[w], l)
        out.append(re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", l))
    return wr, out


def sniff(head: Head) -> bool:
    if head.data[:1] in (b"{", b"[", b"<"):
        if not head.data.startswith(b'{"msg":'):
            return False
    _, p = _head_payload(head)
    stamps = sum(1 for l in p if STAMP_RE.match(l))
    steps = sum(1 for l in p if l.startswith("STEP: "))
    suite = any(l.startswith(("Running Suite: ", "Will run ", '{"msg":"Test Suite starting"')) for l in p)
    ginkgo = sum(1 for l in p if DELIM_RE.match(l) or NODE_RE.match(l) or BULLET_RE.match(l))
    if suite or stamps >= 3 or (stamps >= 1 and (steps + ginkgo) >= 1) or (steps >= 2 and ginkgo >= 1):
        return True
    # short snippets: a ginkgo failure block or summary, or density output without its stamps, is
    # an e2e log on its own; one or two Logf lines are too when they are most of the text
    if any(GINKGO_SURE_RE.match(l) for l in p):
        return True
    nonblank = [l for l in p if l.strip()]
    if not nonblank:
        return False
    if STAMP_RE.match(nonblank[0]):
        return True  # a Logf line first (then e.g. the pretty JSON it printed)
    # a ginkgo node header with its code location on the next line (`[BeforeEach] [k8s.io] Density` /
    # `  /go/src/.../framework.go:125`): an announcement block pasted on its own
    if any(NODE_RE.match(a) and LOC_RE.match(b) for a, b in zip(nonblank, nonblank[1:])):
        return True
    bare = sum(1 for l in nonblank if BARE_PERF_RE.match(l) or (l.startswith("INFO: ") and BARE_PERF_RE.match(l[6:])))
    return (stamps + bare + steps) >= 1 and (stamps + bare + steps) * 2 >= len(nonblank)


class _Parser:
    def __init__(self, ctx: Context, columnar: bool = True):
        self.ctx = ctx
        self.columnar = columnar  # False: the code before issue 20 (numpy per stamp, the line classifier per line)
        self.open: _Open | None = None  # the columnar path's record still taking continuation lines
        self.log_parts: list[dict] = []  # the columnar path's test_log columns, per chunk
        self.log_rows = 0
        self.to_utc = U.LocalToUTC(ctx.tz)
        self.year = ctx.year if ctx.year is not None else 1970
        self.prev_month = None
        self.tables: dict[str, list[dict]] = {}
        self.rec = None  # current record: dict(kind, line_no, text, cont, ts, lvl, ...)
        self.spec = None  # current spec: dict(name, start_ts, last_step, line_no)
        self.pending_metric = None
        self.suite: dict = {}
        self.skipped_markers = 0
        self.fail_summary: list = []
        self.unfinished = 0
        self.last_ts = None
        self.flushed_specs: set = set()  # names of test_specs rows already handed to the writer
        self.levels: list = []  # the columnar path's test_log levels, by code
        self._lv_code: dict = {}

    def _lv(self, s) -> int:
        """The code of level ``s`` in :attr:`levels` (the columnar path keeps levels as codes)."""
        c = self._lv_code.get(s)
        if c is None:
            c = self._lv_code[s] = len(self.levels)
            self.levels.append(s)
        return c

    def _lv_codes(self, arr: pa.Array) -> np.ndarray:
        """Codes of the level strings ``arr`` (no nulls)."""
        de = pc.dictionary_encode(arr)
        m = np.array([self._lv(v) for v in de.dictionary.to_pylist()] or [0], dtype=np.int32)
        return m[de.indices.to_numpy(zero_copy_only=False)]

    # -- time ----------------------------------------------------------------
    def _local_ns(self, mon: int, day: int, h: int, mi: int, s: int, frac_ns: int) -> int | None:
        if self.prev_month is not None and self.prev_month - mon > 6:
            self.year += 1
        self.prev_month = mon
        if not (1 <= day <= 31 and h < 24 and mi < 60 and s < 61):
            return None
        if self.columnar:
            d = U.civil_days(self.year, mon, day)
            return self.to_utc(((d * 86400 + h * 3600 + mi * 60 + s) * 1_000_000_000) + frac_ns)
        d = int(timeutil.days_from_civil(np.array([self.year]), np.array([mon]), np.array([day]))[0])
        local = ((d * 86400 + h * 3600 + mi * 60 + s) * 1_000_000_000) + frac_ns
        return int(timeutil.local_to_utc_ns(np.array([local], dtype=np.int64), self.ctx.tz or "UTC")[0])

    def _wrapper_ns(self, raw: str | None, year: int | None = None) -> int | None:
        if not raw:
            return None
        m = re.match(r"^[IWEF](\d\d)(\d\d) (\d\d):(\d\d):(\d\d)\.(\d{3})$", raw)
        if not m:
            return None
        mo, dd, h, mi, s, ms = map(int, m.groups())
        if not (1 <= mo <= 12 and 1 <= dd <= 31):
            return None
        year = self.year if year is None else year
        d = (
            U.civil_days(year, mo, dd)
            if self.columnar
            else int(timeutil.days_from_civil(np.array([year]), np.array([mo]), np.array([dd]))[0])
        )
        return (d * 86400 + h * 3600 + mi * 60 + s) * 1_000_000_000 + ms * 1_000_000

    def add(self, table: str, row: dict):
        self.tables.setdefault(table, []).append(row)

    # -- per line ---------------------------------------------------------------
    def line(self, text: str, line_no: int, wclock: str | None):
        ctx = self.ctx
        text, kind, mm, glue = _classify(text)
        if glue is not None:
            self.skipped_markers += len(glue)
            if text is None:
                ctx.count("skipped-spec markers (one S per skipped spec)", line_no, glue[:80], severity="info")
                return
        if kind is None:
            if self.rec is None:
                if text.strip():
                    ctx.count("before the first e2e record", line_no, text, severity="info")
                else:
                    ctx.count("blank line before the first e2e record", line_no, None, severity="info")
                return
            self.rec["cont"].append(text)
            ctx.continuation_lines += 1
            return
        self.close()
        ctx.record_lines += 1
        self.rec = {
            "kind": kind,
            "line_no": line_no,
            "text": text,
            "m": mm,
            "cont": [],
            "wts": self._wrapper_ns(wclock),
        }

    # -- per record ------------------------------------------------------------
    def close(self):
        r = self.rec
        if r is None:
            return
        self.rec = None
        kind, m, text = r["kind"], r["m"], r["text"]
        ts = None
        lvl = None
        msg = text
        if kind == "stamp":
            ts = self._local_ns(
                MONTHS[m["mon"]], int(m["day"]), int(m["h"]), int(m["mi"]), int(m["s"]), int(m["ms"]) * 1_000_000
            )
            lvl, msg = m["lvl"], m["msg"]
        elif kind == "bare":
            lvl, msg = "INFO", (text[6:] if text.startswith("INFO: ") else text)
        elif kind == "klog":
            t = m["time"]
            ts = self._local_ns(int(m["mm"]), int(m["dd"]), int(t[0:2]), int(t[3:5]), int(t[6:8]), int(t[9:15]) * 1000)
            lvl, msg = m["sev"], f"{m['file']}:{m['line']}] {m['msg']}"
        elif kind == "step":
            lvl, msg = "STEP", text[6:]
        elif kind == "json":
            lvl = "PROGRESS"
        elif kind == "end":
            lvl = "END"
        elif kind in ("delim", "node"):
            lvl = "GINKGO"
        else:
            lvl = "SUITE"
        full = msg if not r["cont"] else msg + "\n" + "\n".join(r["cont"])
        if self.spec is not None and self.spec.get("start_ts") is None and ts is not None:
            self.spec["start_ts"] = ts
        if ts is not None:
            self.last_ts = ts
        self.add(
            "test_log",
            {
                "ts": ts,
                "level": lvl,
                "msg": full,
                "spec": self.spec["name"] if self.spec else None,
                "wrapper_ts": r["wts"],
                "line_no": r["line_no"],
            },
        )
        self._interpret(r, msg, ts)

    def _interpret(self, r, msg, ts):
        """What a record means beyond its ``test_log`` row (specs, suite, density outputs)."""
        kind, m, text = r["kind"], r["m"], r["text"]
        try:
            if kind == "delim":
                self._announce(r)
            elif kind == "step" and self.spec is not None:
                self.spec["last_step"] = msg
            elif kind == "end":
                self._end(r)
            elif kind == "suite":
                self._suite(text, r)
            elif kind in ("stamp", "bare", "klog"):
                self._message(m["msg"] if kind != "bare" else msg, r, ts)
        except Exception as e:  # a strange block must not stop the parse
            self.ctx.error(f"could not interpret record: {type(e).__name__}: {e}", r["line_no"])

    def _announce(self, r):
        texts = []
        for l in r["cont"]:
            if not l.strip():
                continue
            if NODE_RE.match(l):
                break
            if LOC_RE.match(l):
                continue
            texts.append(l.strip())
        if not texts:
            return
        if self.spec is not None:
            self.unfinished += 1
        self.spec = {"name": " ".join(texts), "line_no": r["line_no"], "start_ts": None, "last_step": None}

    def _end(self, r):
        text = r["text"]
        first = text
        glued = None
        g = _GLUED_TO_BULLET.match(text)
        if g:
            first, glued = text[: g.end()], text[g.end() :]
        m = END_RE.match(first)
        kind = (m.group("kind") or "").strip() if m else ""
        secs = float(m.group("secs")) if m and m.group("secs") else None
        state = "passed"
        if kind in ("Failure", "! Panic", "... Timeout"):
            state = "failed"
        elif m and "Pending" in (m.group("ctx") or ""):
            state = "pending"
        elif m and "SKIPPING" in (m.group("ctx") or "").upper():
            state = "skipped"
        body = r["cont"]
        name_lines, rest = [], []
        seen_blank = False
        for l in body:
            if not seen_blank and not l.strip():
                seen_blank = True
                continue
            (rest if seen_blank else name_lines).append(l)
        names = [_NODE_SUFFIX.sub("", l.strip()) for l in name_lines if l.strip() and not LOC_RE.match(l)]
        name = " ".join(names) if names else (self.spec["name"] if self.spec else None)
        if glued and glued.startswith('{"msg":"'):
            try:
                gm = json.loads(glued)["msg"]
                if not name and " " in gm:
                    name = gm.split(" ", 1)[1]
            except (ValueError, KeyError, TypeError):
                pass
        fmsg = floc = None
        if state == "failed":
            nonblank = [l for l in rest if l.strip()]
            # stenographer.printFailure: the message, a blank line, then the location, both at the
            # indentation of the failed component (0 or more levels): the location is the first
            # `file:line` line after a blank line, or an unindented one
            locs = [
                i
                for i, l in enumerate(rest)
                if LOC_RE.match(l) and (not l.startswith(" ") or (i > 0 and not rest[i - 1].strip()))
            ]
            if locs:
                floc = rest[locs[0]].strip()
                msg_lines = rest[: locs[0]]
            else:
                msg_lines = nonblank
            fmsg = "\n".join(l.strip() for l in msg_lines).strip() or None
            fmsg = (kind.strip("!. ") + (m.group("ctx") or "") + ": " if kind != "Failure" and m else "") + (fmsg or "")
            fmsg = fmsg or None
            if m and m.group("ctx") and m.group("ctx").strip():
                fmsg = f"[{m.group('ctx').strip()}] " + (fmsg or "")
        if name is None:
            return
        sp = self.spec if (self.spec is not None) else {}
        if secs is None and sp.get("start_ts") is not None and self.last_ts is not None:
            secs = max(0.0, (self.last_ts - sp["start_ts"]) / 1e9)  # fast spec: first to last stamp
        self.add(
            "test_specs",
            {
                "spec": name,
                "state": state,
                "start_ts": sp.get("start_ts"),
                "duration_s": secs,
                "failure_message": fmsg,
                "failure_location": floc,
                "last_step": sp.get("last_step"),
                "origin": "e2e-log",
                "line_no": sp.get("line_no", r["line_no"]),
            },
        )
        self.spec = None

    def _suite(self, text: str, r):
        m = re.match(r"^Will run (\d+) of (\d+) specs", text)
        if m:
            self.suite["will_run"], self.suite["total"] = int(m.group(1)), int(m.group(2))
        m = re.match(r"^Ran (\d+) of (\d+) Specs? in ([0-9.]+) seconds", text)
        if m:
            self.suite.update(ran=int(m.group(1)), total=int(m.group(2)), seconds=float(m.group(3)))
        m = re.match(r"^(SUCCESS|FAIL)! -- (\d+) Passed \| (\d+) Failed \| (\d+) Pending \| (\d+) Skipped", text)
        if m:
            self.suite.update(
                result=m.group(1),
                passed=int(m.group(2)),
                failed=int(m.group(3)),
                pending=int(m.group(4)),
                skipped=int(m.group(5)),
            )
        m = re.match(r"^Ginkgo ran \d+ suites? in (\S+)", text)
        if m:
            self.suite["ginkgo_ran_s"] = U.dur_s(m.group(1))
        m = re.match(r"^Running Suite: (.*)$", text)
        if m:
            self.suite["name"] = m.group(1).strip()
        if text.startswith(("[Fail] ", "[Panic!] ", "[Timeout...] ")):
            loc = next((l.strip() for l in r["cont"] if LOC_RE.match(l)), None)
            self.fail_summary.append({"spec": text.split("] ", 1)[1].strip(), "location": loc, "line_no": r["line_no"]})

    def _summary_specs(self):
        """A failure listed under ``Summarizing N Failures:`` whose end block is not in the input (a
        pasted summary, a log cut before it) becomes a ``test_specs`` row (state failed, location)."""

        def key(name):
            return re.sub(
                r"\s+",
                " ",
                re.sub(
                    r"\[(?:It|BeforeEach|JustBeforeEach|AfterEach|JustAfterEach|Measurement|"
                    r"BeforeSuite|AfterSuite)\] ",
                    "",
                    name or "",
                ),
            ).strip()

        seen = {key(r.get("spec")) for r in self.tables.get("test_specs", [])} | self.flushed_specs
        for f in self.fail_summary:
            k = key(f["spec"])
            if k in seen:
                continue
            seen.add(k)
            self.add(
                "test_specs",
                {
                    "spec": k,
                    "state": "failed",
                    "start_ts": None,
                    "duration_s": None,
                    "failure_message": None,
                    "failure_location": f["location"],
                    "last_step": None,
                    "origin": "e2e-log",
                    "line_no": f["line_no"],
                },
            )

    # -- density / load outputs -------------------------------------------------------
    def _perf(self, ts, line_no, **kw):
        row = {"ts": ts, "origin": "e2e-log", "line_no": line_no}
        lab = kw.pop("labels", None)
        if lab is not None:
            row["labels"] = json.dumps(lab, sort_keys=True)
        row.update(kw)
        self.add("perf_summaries", row)

    def _test_kind(self):
        n = (self.spec or {}).get("name") or ""
        if "Density" in n:
            return "density"
        if "Load capacity" in n:
            return "load"
        return None

    def _message(self, msg: str, r, ts):
        ln = r["line_no"]
        cont = r["cont"]
        if " Pods: " in msg:
            p = PROGRESS_RE.search(msg)
            if p:
                g = p.groupdict()
                label = g["label"]
                if label.startswith("WaitForControlledPodsRunning: "):
                    label = label[len("WaitForControlledPodsRunning: ") :]
                if label == "Density":
                    label = "Density Pods"  # the aggregate watcher (docs/formats/e2e-log.md)
                self.add(
                    "progress",
                    {
                        "ts": ts,
                        "label": label,
                        "line_no": ln,
                        **{
                            k: int(g[k]) if g[k] is not None else None
                            for k in (
                                "expected",
                                "created",
                                "running",
                                "pending",
                                "waiting",
                                "inactive",
                                "terminating",
                                "unknown",
                            )
                        },
                        "runningButNotReady": int(g["rnr"]),
                    },
                )
                return
        if " worst " in msg and "latencies: [" in msg:
            w = U.WORST_RE.search(msg)
            if w:
                metric = U.LATENCY_NAMES.get(w.group("name").strip(), w.group("name").strip().replace(" ", "_"))
                self.pending_metric = metric
                for ns, pod, node, lat in U.worst_list(w.group("body")):
                    self.add(
                        "test_pod_latencies",
                        {
                            "ts": ts,
                            "metric": metric,
                            "phase": "latency",
                            "namespace": ns,
                            "pod": pod,
                            "node": node,
                            "latency_s": lat,
                            "origin": "e2e-log",
                            "line_no": ln,
                        },
                    )
                return
        if msg.startswith("perc50: ") and self.pending_metric:
            pc_ = U.perc_line(msg)
            if pc_:
                thr = pc_.pop("threshold_s")
                self._perf(
                    ts,
                    ln,
                    metric=self.pending_metric,
                    phase="latency",
                    labels={
                        **({"test": self._test_kind()} if self._test_kind() else {}),
                        **({"threshold_s": thr} if thr else {}),
                    },
                    **pc_,
                )
                self.pending_metric = None
                return
        if msg.startswith("WARNING - requests with too high latency: "):
            t = U.too_high_latency(msg)
            if t:
                lab = {
                    "source": "requests with too high latency",
                    "verb": t["verb"],
                    "resource": t["resource"],
                    "quantile": t["quantile"],
                }
                cols = {t["column"]: t["seconds"]} if t["column"] else {"value": t["seconds"], "unit": "s"}
                self._perf(ts, ln, metric="api_call", phase=self._test_kind(), labels=lab, **cols)
                return
        if "Top latency metric: " in msg:
            t = U.top_latency(msg)
            if t:
                self._perf(
                    ts,
                    ln,
                    metric="api_call",
                    phase=self._test_kind(),
                    labels={"source": "Top latency metric", **t["labels"]},
                    count=t.get("count"),
                    p50_s=t["p50_s"],
                    p90_s=t["p90_s"],
                    p99_s=t["p99_s"],
                    p100_s=t["p100_s"],
                )
                return
        m = _E2E_STARTUP.match(msg) if msg.startswith("E2E") else None
        if m:
            self._perf(
                ts,
                ln,
                metric="e2e_startup_time",
                phase="saturation",
                labels={"pods": int(m.group(1))},
                value=U.dur_s(m.group(2)),
                unit="s",
            )
            return
        m = _THROUGHPUT.match(msg) if msg.startswith("Throughput") else None
        if m:
            self._perf(
                ts, ln, metric="saturation_throughput", phase="saturation", value=U._num(m.group(1)), unit="pods/s"
            )
            return
        m = _APPROX.match(msg) if msg.startswith("Approx") else None
        if m:
            self._perf(ts, ln, metric="approx_throughput", phase="latency", value=U._num(m.group(1)), unit="pods/min")
            return
        if msg.startswith("Error building encoder: json: unsupported value: "):
            self._perf(
                ts,
                ln,
                metric="saturation_time",
                phase="saturation",
                labels={"error": msg.split(": ", 1)[1], "note": "saturation phase did not run"},
                value=None,
            )
            return
        if "{" in msg or (cont and cont[0].lstrip().startswith("{")):
            self._json_block(msg, cont, ts, ln)

    def _json_block(self, msg: str, cont: list[str], ts, ln):
        label = msg.split("{", 1)[0].strip().rstrip(":").strip()
        doc = U.json_after(msg if "{" in msg else cont[0], cont if "{" in msg else cont[1:])
        if not isinstance(doc, dict):
            return
        kind = self._test_kind()
        if label.startswith("[Result:Performance]") or "dataItems" in doc:
            for row in U.perfdata_rows(doc, kind if not label.endswith(" JSON") else label[:-5], "e2e-log"):
                row["labels"] = json.loads(row["labels"])
                self._perf(ts, ln, **{k: v for k, v in row.items() if k not in ("origin",)})
            return
        if label == "API calls latencies":
            for c in doc.get("apicalls") or []:
                lat = c.get("latency") or {}
                lab = {k: c[k] for k in ("resource", "subresource", "verb", "scope") if k in c}
                lab["source"] = "API calls latencies"
                self._perf(
                    ts,
                    ln,
                    metric="api_call",
                    phase=kind,
                    labels=lab,
                    count=c.get("count"),
                    **{
                        col: (lat.get(k) / 1e9 if isinstance(lat.get(k), (int, float)) else None)
                        for k, col in (
                            ("Perc50", "p50_s"),
                            ("Perc90", "p90_s"),
                            ("Perc99", "p99_s"),
                            ("Perc100", "p100_s"),
                        )
                    },
                )
            return
        if label == "Cluster saturation time":
            t = doc.get("timeToSaturate", doc.get("timeToStaturate"))
            lab = {k: doc[k] for k in ("numberOfNodes", "numberOfPods") if k in doc}
            self._perf(
                ts,
                ln,
                metric="saturation_time",
                phase="saturation",
                labels=lab,
                value=t / 1e9 if isinstance(t, (int, float)) else None,
                unit="s",
            )
            if "throughput" in doc:
                self._perf(
                    ts,
                    ln,
                    metric="saturation_throughput",
                    phase="saturation",
                    labels=lab,
                    value=U._num(doc["throughput"]),
                    unit="pods/s",
                )
            return
        if label in ("Pod startup latency", "Scheduling latency") or label.endswith("JSON"):
            base = (
                "pod_startup"
                if label == "Pod startup latency"
                else ("scheduling" if label == "Scheduling latency" else None)
            )
            for k, v in doc.items():
                if isinstance(v, dict) and any(q in v for q in ("Perc50", "Perc99")):
                    metric = (
                        base if (base == "pod_startup" and k == "latency") else (f"{base}_{k.lower()}" if base else k)
                    )
                    self._perf(
                        ts,
                        ln,
                        metric=metric,
                        phase="latency" if base == "pod_startup" else kind,
                        labels={"source": label},
                        **{
                            col: (v.get(q) / 1e9 if isinstance(v.get(q), (int, float)) else None)
                            for q, col in (
                                ("Perc50", "p50_s"),
                                ("Perc90", "p90_s"),
                                ("Perc99", "p99_s"),
                                ("Perc100", "p100_s"),
                            )
                        },
                    )

    # -- the columnar path (issue 20, round 7) ------------------------------------------------------------------
    def chunk(self, ch: L.LineChunk):
        """A chunk of lines at once, as :meth:`line` on each would: lines classified with pyarrow.compute, the
        ``test_log`` rows built per column.  What goes through the per-line code: lines with a non-ASCII character
        or skipped-spec markers (:func:`_classify`), and the records that mean more than their row (spec
        delimiters, end blocks, suite lines, and Logf/glog/bare records naming a density output or holding a
        ``{``: :meth:`_interpret`).  The last record stays open (:class:`_Open`) for the next chunk's lines."""
        n = len(ch.text)
        if n == 0:
            return
        text = pc.fill_null(ch.text, "")
        line_no = np.asarray(ch.line_no, dtype=np.int64)
        # each test on the lines whose first character it can start with (most lines are stamps or continuation
        # lines starting with a space: the other patterns see a few percent of the lines)
        c0 = _first_chars(text)

        def on(cands: np.ndarray, test) -> np.ndarray:
            i = np.flatnonzero(cands)
            if len(i) * 4 > n:  # many: the test on every line (a line of another start fails at once) beats a copy
                return cands & _mask(test(text))
            out = np.zeros(n, dtype=bool)
            if len(i):
                out[i] = _mask(test(text.take(pa.array(i))))
            return out

        digit = (c0 >= 48) & (c0 <= 57)
        kind = np.zeros(n, dtype=np.int8)
        # in _classify's order, each test on the lines no test before it claimed (the first that matches wins)
        for code, cands, pattern in (
            (1, digit | np.isin(c0, _C_STAMP), _A_STAMP_NC),
            (2, np.isin(c0, _C_KLOG), HEADER_START),
            (3, c0 == 83, None),
            (4, c0 == 123, None),
            (5, c0 == 45, A_DELIM),
            (6, c0 == 91, NODE_RE.pattern),
            (8, np.isin(c0, _C_SUITE), A_SUITE),
            (9, digit | np.isin(c0, _C_BARE), A_BARE),
        ):
            if code == 3:
                got = on(cands, lambda t: pc.starts_with(t, "STEP: "))
            elif code == 4:
                got = on(cands & (kind == 0), lambda t: pc.starts_with(t, '{"msg":"'))
            else:
                got = on(cands & (kind == 0), lambda t: pc.match_substring_regex(t, pattern))  # noqa: B023
            kind[got & (kind == 0)] = code
        # a STEP line has no markers glued in front (A_GLUE wants "S+" then one of its forms, none of them "TEP: ")
        py = ~_mask(pc.string_is_ascii(text)) | on(
            (c0 == 83) & (kind != 3), lambda t: pc.match_substring_regex(t, A_GLUE)
        )
        # a line starting with the ginkgo bullet ("•", or "â€¢" double-encoded) is an end block's first line as it
        # stands: _classify finds no glued markers (no "S" first) and no earlier kind (none starts with it)
        bullet = on(py & ((c0 == 0xE2) | (c0 == 0xC3)), lambda t: pc.match_substring_regex(t, "^(?:•|â€¢)"))
        kind[bullet] = _K["end"]
        py &= ~bullet
        drop = np.zeros(n, dtype=bool)
        counts = []  # (index, reason, text) of counted lines, in line order at the end
        pyvals: dict[int, tuple] = {}
        pidx = np.flatnonzero(py)
        if len(pidx):
            for i, t in zip(pidx.tolist(), text.take(pa.array(pidx)).to_pylist()):
                t2, k, m, glue = _classify(t)
                if glue is not None:
                    self.skipped_markers += len(glue)
                    if t2 is None:
                        drop[i] = True
                        counts.append((i, "skipped-spec markers (one S per skipped spec)", glue[:80]))
                        continue
                kind[i] = _K[k]
                pyvals[i] = (t2, k, m)
        starts = np.flatnonzero(kind != 0)
        first = 0
        if self.open is None:
            first = int(starts[0]) if len(starts) else n
            for i in np.flatnonzero(~drop[:first]).tolist():
                t = pyvals[i][0] if i in pyvals else text[i].as_py()
                if t.strip():
                    counts.append((i, "before the first e2e record", t))
                else:
                    counts.append((i, "blank line before the first e2e record", None))
        for i, reason, t in sorted(counts, key=lambda c: c[0]):
            self.ctx.count(reason, int(line_no[i]), t, severity="info")
        keep = ~drop
        keep[:first] = False
        self.ctx.record_lines += len(starts)
        self.ctx.continuation_lines += int(keep.sum()) - len(starts)
        if not keep.any():
            return
        # each kept line's piece of its record's message: the message part of a record's first line, the text
        # of a continuation line
        rep_idx, rep_val = [], []
        R = len(starts)
        k_r = kind[starts]
        vec = ~py[starts]
        mon, day, hh, mi, ss, frac = (np.zeros(R, dtype=np.int64) for _ in range(6))
        lvl = np.array([self._lv(_LEVEL.get(k)) for k in KINDS], dtype=np.int32)[k_r]  # codes into self.levels
        sel = np.flatnonzero(vec & (k_r == 1))
        if len(sel):  # most stamps start the line (no pasted line number): their fields are at fixed places
            t = text.take(pa.array(starts[sel]))
            c0s = _first_chars(t)
            fixed = (c0s < 48) | (c0s > 57)
            f = sel[fixed]
            tf = t if fixed.all() else t.filter(pa.array(fixed))
            # the ASCII digits of "Mon DD hh:mm:ss.mmm" read from the array's buffers (the pattern matched)
            o, d = _starts_and_data(tf)

            def num(a, b):
                v = np.zeros(len(o), dtype=np.int64)
                for k in range(a, b):
                    c = d[o + k].astype(np.int64)
                    v = v * 10 + np.where(c == 32, 0, c - 48)  # the day's leading space
                return v

            code = (d[o].astype(np.int64) << 16) | (d[o + 1].astype(np.int64) << 8) | d[o + 2]
            mon[f] = _MONTH_NUM[np.searchsorted(_MONTH_CODE, code)]
            day[f], hh[f], mi[f], ss[f] = num(4, 6), num(7, 9), num(10, 12), num(13, 15)
            frac[f] = num(16, 19) * 1_000_000
            # "LEVEL: msg" from byte 21 ("LEVEL:msg" too): the level ends at the first ":" (the pattern matched
            # [A-Z]+: there), the message after it and one space; cut by bytes (the lines are ASCII), one slice per
            # (level length, space) group
            ends = o + _lengths(tf)
            klen = np.zeros(len(o), dtype=np.int64)
            todo = np.arange(len(o))
            for k in range(1, 17):
                at = todo[d[o[todo] + 21 + k] == 58]
                klen[at] = k
                todo = np.setdiff1d(todo, at, assume_unique=True)
                if not len(todo):
                    break
            cut = 22 + klen
            sp = np.zeros(len(o), dtype=bool)
            inside = cut < ends - o
            sp[inside] = d[o[inside] + cut[inside]] == 32
            cut += sp
            grp = np.where(klen == 0, 0, klen * 2 + sp)  # 0: a level of more than 16 letters, split by pattern
            for g in np.unique(grp).tolist():
                gi = np.flatnonzero(grp == g)
                tg = tf if len(gi) == len(o) else tf.take(pa.array(gi))
                if g == 0:
                    lv = pc.split_pattern(pc.utf8_slice_codeunits(tg, 21), ":", max_splits=1)
                    lvl[f[gi]] = self._lv_codes(pc.list_element(lv, 0))
                    rest = pc.list_element(lv, 1)
                    msg = pc.if_else(pc.starts_with(rest, " "), pc.utf8_slice_codeunits(rest, 1), rest)
                else:
                    tb = tg.view(pa.binary())
                    lvl[f[gi]] = self._lv_codes(pc.binary_slice(tb, 21, 21 + g // 2).view(pa.string()))
                    msg = pc.binary_slice(tb, int(cut[gi[0]]), _BIG).view(pa.string())
                rep_idx.append(starts[f[gi]])
                rep_val.append(msg)
            sel = sel[~fixed]
            t = t.filter(pa.array(~fixed))
        if len(sel):
            x = pc.extract_regex(t, A_STAMP)
            mon[sel] = _ints(pc.index_in(x.field("mon"), value_set=pa.array(list(MONTHS)))) + 1
            day[sel] = _ints(pc.replace_substring(x.field("day"), " ", "0"))
            hh[sel], mi[sel], ss[sel] = _ints(x.field("h")), _ints(x.field("mi")), _ints(x.field("s"))
            frac[sel] = _ints(x.field("ms")) * 1_000_000
            lvl[sel] = self._lv_codes(x.field("lvl"))
            rep_idx.append(starts[sel])
            rep_val.append(pc.replace_substring_regex(t, _A_STAMP_NC, "", max_replacements=1))
        sel = np.flatnonzero(vec & (k_r == 2))
        if len(sel):
            x = pc.extract_regex(text.take(pa.array(starts[sel])), HEADER_RE)
            tm = x.field("time")
            mon[sel], day[sel] = _ints(x.field("mm")), _ints(x.field("dd"))
            hh[sel] = _ints(pc.utf8_slice_codeunits(tm, 0, 2))
            mi[sel] = _ints(pc.utf8_slice_codeunits(tm, 3, 5))
            ss[sel] = _ints(pc.utf8_slice_codeunits(tm, 6, 8))
            frac[sel] = _ints(pc.utf8_slice_codeunits(tm, 9, 15)) * 1000
            lvl[sel] = self._lv_codes(x.field("sev"))
            rep_idx.append(starts[sel])
            rep_val.append(pc.binary_join_element_wise(x.field("file"), ":", x.field("line"), "] ", x.field("msg"), ""))
        sel = starts[np.flatnonzero(vec & (k_r == 3))]
        if len(sel):
            rep_idx.append(sel)
            rep_val.append(pc.binary_slice(text.take(pa.array(sel)).view(pa.binary()), 6, _BIG).view(pa.string()))
        sel = starts[np.flatnonzero(vec & (k_r == 9))]
        if len(sel):
            t = text.take(pa.array(sel))
            info = _mask(pc.starts_with(t, "INFO: "))
            rep_idx.append(sel[info])
            rep_val.append(pc.binary_slice(t.filter(pa.array(info)).view(pa.binary()), 6, _BIG).view(pa.string()))
        if pyvals:
            pk = np.fromiter(pyvals, dtype=np.int64, count=len(pyvals))
            pj = np.searchsorted(starts, pk)
            rpos = {int(i): int(j) for i, j in zip(pk, pj) if j < R and starts[j] == i}
            pi, pv = [], []
            for i, (t, k, m) in pyvals.items():
                j = rpos.get(i)
                if j is None:
                    pi.append(i)
                    pv.append(t)  # a continuation line without its skipped-spec markers
                    continue
                msg = t
                if k == "stamp":
                    mon[j], day[j], hh[j], mi[j], ss[j] = (
                        MONTHS[m["mon"]],
                        int(m["day"]),
                        int(m["h"]),
                        int(m["mi"]),
                        int(m["s"]),
                    )
                    frac[j] = int(m["ms"]) * 1_000_000
                    lvl[j], msg = self._lv(m["lvl"]), m["msg"]
                elif k == "klog":
                    tm = m["time"]
                    mon[j], day[j], hh[j], mi[j], ss[j] = (
                        int(m["mm"]),
                        int(m["dd"]),
                        int(tm[0:2]),
                        int(tm[3:5]),
                        int(tm[6:8]),
                    )
                    frac[j] = int(tm[9:15]) * 1000
                    lvl[j], msg = self._lv(m["sev"]), f"{m['file']}:{m['line']}] {m['msg']}"
                elif k == "step":
                    msg = t[6:]
                elif k == "bare" and t.startswith("INFO: "):
                    msg = t[6:]
                pi.append(i)
                pv.append(msg)
            rep_idx.append(np.array(pi, dtype=np.int64))
            rep_val.append(pa.array(pv, pa.string()))
        pieces = text
        if rep_idx:
            idx = np.concatenate(rep_idx)
            order = np.argsort(idx, kind="stable")
            m_ = np.zeros(n, dtype=bool)
            m_[idx] = True
            vals = pa.concat_arrays([v.cast(pa.string()) for v in rep_val]).take(pa.array(order))
            pieces = pc.replace_with_mask(text, pa.array(m_), vals)
        kidx = np.flatnonzero(keep)
        kept = pieces if keep.all() else pieces.filter(pa.array(keep))
        # times: the year carried over a month going back (as _local_ns), the zone applied to the whole column
        stamped = (k_r == 1) | (k_r == 2)
        bump = np.zeros(R, dtype=np.int64)
        hs = np.flatnonzero(stamped)
        if len(hs):
            mons = mon[hs]
            prev = np.concatenate([[mons[0] if self.prev_month is None else self.prev_month], mons[:-1]])
            bump[hs] = (prev - mons) > 6
            self.prev_month = int(mons[-1])
        year_in = self.year + np.cumsum(bump)
        year_before = year_in - bump
        self.year = int(year_in[-1]) if R else self.year
        valid = stamped & (day >= 1) & (day <= 31) & (hh < 24) & (mi < 60) & (ss < 61)
        ts = np.zeros(R, dtype=np.int64)
        v = np.flatnonzero(valid)
        if len(v):
            d = timeutil.days_from_civil(year_in[v], mon[v], day[v])
            local = (d * 86400 + hh[v] * 3600 + mi[v] * 60 + ss[v]) * 1_000_000_000 + frac[v]
            ts[v] = self.to_utc.many(local)  # the zone's offset per distinct minute, as the per-line path has it
        wts = np.zeros(R, dtype=np.int64)
        has_wts = np.zeros(R, dtype=bool)
        if ch.wrapper_clock is not None and R:
            wc = pc.fill_null(ch.wrapper_clock.take(pa.array(starts)), "")
            x = pc.extract_regex(wc, A_WRAPPER_CLOCK)
            ok = _mask(pc.is_valid(x))
            if ok.any():
                o = np.flatnonzero(ok)
                x = x.filter(pa.array(ok))
                f = {k: _ints(x.field(k)) for k in ("mo", "dd", "h", "mi", "s", "ms")}
                good = (f["mo"] >= 1) & (f["mo"] <= 12) & (f["dd"] >= 1) & (f["dd"] <= 31)
                o, f = o[good], {k: v[good] for k, v in f.items()}
                d = timeutil.days_from_civil(year_before[o], f["mo"], f["dd"])
                wts[o] = (d * 86400 + f["h"] * 3600 + f["mi"] * 60 + f["s"]) * 1_000_000_000 + f["ms"] * 1_000_000
                has_wts[o] = True
            odd = np.flatnonzero(~_mask(pc.string_is_ascii(wc)))
            for j, raw in zip(odd.tolist(), wc.take(pa.array(odd)).to_pylist()):
                w = self._wrapper_ns(raw, int(year_before[j]))
                has_wts[j], wts[j] = w is not None, w or 0
        S = np.searchsorted(kidx, starts)
        nxt = np.append(S[1:], len(kidx))
        # each record's message piece of its first line (what _message reads is part of it: the tests below find a
        # superset of the records that mean something) and the messages of the records closed here
        firsts = kept.take(pa.array(S))
        msgs = pc.binary_join(pa.ListArray.from_arrays(pa.array(S, pa.int32()), kept), "\n") if R else None
        hit = np.zeros(R, dtype=bool)  # read for the Logf, bare and glog records only
        mk = np.flatnonzero(_MESSAGE_KINDS[k_r])
        if len(mk) == R:
            hit = _mask(pc.match_substring_regex(firsts, A_EVENT))
        elif len(mk):
            hit[mk] = _mask(pc.match_substring_regex(firsts.take(pa.array(mk)), A_EVENT))
        named = np.zeros(R, dtype=bool)
        hi = np.flatnonzero(hit)
        if len(hi):
            named[hi] = _mask(pc.match_substring_regex(firsts.take(pa.array(hi)), A_EVENT_NO_BRACE))
        fcb = nxt - S > 1  # a first continuation line holding a "{"
        if fcb.any():
            fcb[fcb] = _mask(pc.match_substring_regex(kept.take(pa.array(S[fcb] + 1)), r"\{"))  # (RE2: by memchr)
        # a record whose only claim is a "{" (most are pod dumps and the like) means something to _json_block
        # only under one of its labels, with "dataItems" in the document (written out or \u-escaped) or when
        # decoding it may fail deeply nested (RecursionError, an error of the reference): the others stay plain
        maybe = _MESSAGE_KINDS[k_r] & (hit | fcb) & ~named
        maybe[-1:] = False  # the open record: decided when it closes, on the whole A_EVENT
        mj = np.flatnonzero(maybe)
        if len(mj):
            mj = mj[~_mask(pc.match_substring_regex(firsts.take(pa.array(mj)), A_JSON_LABEL))]
        if len(mj):  # on the whole message (its lines joined by "\n", which none of these holds)
            lines = msgs.take(pa.array(mj))  # (each as a literal pattern: RE2 finds a literal by memchr)
            deep = _mask(pc.match_substring_regex(lines, "dataItems")) | _mask(pc.match_substring_regex(lines, r"\\u"))
            deep = deep.astype(np.int64) * 1000
            deep += pc.count_substring_regex(lines, r"\{").to_numpy(zero_copy_only=False)
            deep += pc.count_substring_regex(lines, r"\[").to_numpy(zero_copy_only=False)
            keep_ev = deep >= 100
            hit[mj] = keep_ev
            fcb[mj] = keep_ev
        lvl_r = lvl
        # the records closed by this chunk: the one left open by the chunk before, then all but the last here
        if R:
            head = kept.slice(0, S[0]) if R else kept
            recs = dict(
                kind=k_r[:-1],
                line_no=line_no[starts[:-1]],
                has_ts=valid[:-1],
                ts=ts[:-1],
                lvl=lvl_r[:-1],
                wts=wts[:-1],
                has_wts=has_wts[:-1],
                hit=hit[:-1] | fcb[:-1],
                multi=(nxt - S > 1)[:-1],
                first=firsts.slice(0, R - 1),
                msg=msgs,
            )

            def gather(js: np.ndarray) -> tuple[list, list]:
                """First-line texts and continuation lines of the records ``js`` (indices into starts)."""
                st = starts[js]
                texts = text.take(pa.array(st)).to_pylist()
                for q, i in enumerate(st.tolist()):
                    if i in pyvals:
                        texts[q] = pyvals[i][0]
                lo, hi = S[js] + 1, S[js + 1]
                lens = hi - lo
                pos = np.repeat(lo - np.cumsum(np.concatenate([[0], lens[:-1]])), lens) + np.arange(lens.sum())
                flat = kept.take(pa.array(pos, pa.int64())).to_pylist()
                ends = np.cumsum(lens).tolist()
                return texts, [flat[a:b] for a, b in zip([0] + ends[:-1], ends)]

            if self.open is not None:
                self._extend_open(head)
            self._close_records(recs, gather, self.open)
            j = R - 1
            t = pyvals[int(starts[j])][0] if int(starts[j]) in pyvals else text[int(starts[j])].as_py()
            self.open = _Open(
                kind=int(k_r[j]),
                line_no=int(line_no[starts[j]]),
                has_ts=bool(valid[j]),
                ts=int(ts[j]),
                lvl=lvl_r[j],
                wts=int(wts[j]) if has_wts[j] else None,
                text=t,
                pieces=[kept.slice(S[j], 1)],
                hit=bool(hit[j]),
            )
            self._extend_open(kept.slice(S[j] + 1))
        else:
            self._extend_open(kept)

    def _extend_open(self, cont: pa.Array):
        o = self.open
        if len(cont):
            if len(o.pieces) == 1:
                o.hit = o.hit or "{" in cont[0].as_py()
            o.pieces.append(cont)

    def _close_records(self, recs: dict, gather, op: "_Open | None"):
        """test_log rows of closed records, per column; the spec state carried through the plain ones, the others
        interpreted one by one in order."""
        if op is not None:
            allp = pa.concat_arrays([p.cast(pa.string()) for p in op.pieces])
            one = pc.binary_join(pa.ListArray.from_arrays(pa.array([0, len(allp)], pa.int32()), allp), "\n")
            recs = {
                "kind": np.concatenate([[op.kind], recs["kind"]]).astype(np.int8),
                "line_no": np.concatenate([[op.line_no], recs["line_no"]]),
                "has_ts": np.concatenate([[op.has_ts], recs["has_ts"]]),
                "ts": np.concatenate([[op.ts], recs["ts"]]),
                "lvl": np.concatenate([np.array([op.lvl], dtype=np.int32), recs["lvl"]]),
                "wts": np.concatenate([[op.wts or 0], recs["wts"]]),
                "has_wts": np.concatenate([[op.wts is not None], recs["has_wts"]]),
                "hit": np.concatenate([[op.hit], recs["hit"]]),
                "multi": np.concatenate([[len(allp) > 1], recs["multi"]]),
                "first": recs["first"],  # (without the open record's: firsts_at below)
                # chunked: the open record's row and this chunk's, not copied into one array
                "msg": pa.chunked_array([one.cast(pa.string()), recs["msg"].cast(pa.string())]),
            }
            inner = gather

            def gather(js):
                if len(js) and js[0] == 0:
                    texts, conts = inner(js[1:] - 1) if len(js) > 1 else ([], [])
                    return [op.text, *texts], [allp.slice(1).to_pylist(), *conts]
                return inner(js - 1)

            self.open = None
        k = recs["kind"]
        C = len(k)
        if C == 0:
            return
        has_ts, ts_c = recs["has_ts"], recs["ts"]
        # (a delimiter without continuation lines announces nothing: _announce finds no name)
        event = (_EVENT_KINDS[k] & ((k != _K["delim"]) | recs["multi"])) | (_MESSAGE_KINDS[k] & recs["hit"])
        ar = np.arange(C)
        last_ts = np.maximum.accumulate(np.where(has_ts, ar, -1))
        next_ts = np.minimum.accumulate(np.where(has_ts, ar, C)[::-1])[::-1]
        last_step = np.maximum.accumulate(np.where(k == 3, ar, -1))
        first = recs["first"]
        op_first = op.pieces[0][0].as_py() if op is not None else None

        def firsts_at(js: np.ndarray) -> list:
            """The message pieces of the first lines of records ``js``, as Python strings."""
            if op is None:
                return first.take(pa.array(js, pa.int64())).to_pylist()
            head = [op_first] if len(js) and js[0] == 0 else []
            return head + first.take(pa.array(js[len(head) :] - 1, pa.int64())).to_pylist()

        ev = np.flatnonzero(event)
        # the plain records between the events, segment i before event i (the last one after the last event): what
        # close() did for each of them, read per segment -- its first stamp (a spec's start), its last stamp, its last
        # STEP (a spec's last step)
        sa = np.concatenate([[0], ev + 1])
        sb = np.concatenate([ev, [C]])
        some = sa < sb
        nt = next_ts[np.minimum(sa, C - 1)]
        lt = last_ts[np.maximum(sb - 1, 0)]
        ls = last_step[np.maximum(sb - 1, 0)]
        seg_start, seg_last, seg_step = some & (nt < sb), some & (lt >= sa), some & (ls >= sa)
        start_v = ts_c[np.minimum(nt, C - 1)].tolist()
        last_v = ts_c[np.maximum(lt, 0)].tolist()
        step_v = [None] * len(sa)
        for i, t in zip(np.flatnonzero(seg_step).tolist(), firsts_at(ls[seg_step])):
            step_v[i] = t
        seg_start, seg_last, seg_step = seg_start.tolist(), seg_last.tolist(), seg_step.tolist()

        def catch_up(i):  # the plain records of segment i
            sp = self.spec
            if sp is not None and seg_start[i] and sp.get("start_ts") is None:
                sp["start_ts"] = start_v[i]
            if seg_last[i]:
                self.last_ts = last_v[i]
            if sp is not None and seg_step[i]:
                sp["last_step"] = step_v[i]

        names = [self.spec["name"] if self.spec else None]
        ev_spec = []
        texts, conts = gather(ev) if len(ev) else ([], [])
        firsts = firsts_at(ev)
        ev_kind = [KINDS[x] for x in k[ev].tolist()]
        ev_ts = [t if h else None for t, h in zip(ts_c[ev].tolist(), has_ts[ev].tolist())]
        ev_line = recs["line_no"][ev].tolist()
        ev_wts = [t if h else None for t, h in zip(recs["wts"][ev].tolist(), recs["has_wts"][ev].tolist())]
        for q in range(len(ev_kind)):
            catch_up(q)
            kind = ev_kind[q]
            text = texts[q]
            ts = ev_ts[q]
            m = STAMP_RE.match(text) if kind == "stamp" else (KLOG_RE.match(text) if kind == "klog" else None)
            ev_spec.append(self.spec["name"] if self.spec else None)
            if self.spec is not None and self.spec.get("start_ts") is None and ts is not None:
                self.spec["start_ts"] = ts
            if ts is not None:
                self.last_ts = ts
            r = {"kind": kind, "line_no": ev_line[q], "text": text, "m": m, "cont": conts[q], "wts": ev_wts[q]}
            self._interpret(r, firsts[q], ts)
            names.append(self.spec["name"] if self.spec else None)
        catch_up(len(ev_kind))
        # the spec of a plain record: the one after the last event before it; an event's: the one before it
        si = np.searchsorted(ev, ar).astype(np.int32)
        si[ev] = len(names) + np.arange(len(ev), dtype=np.int32)
        spec = pa.DictionaryArray.from_arrays(pa.array(si), pa.array(names + ev_spec, pa.string())).cast(pa.string())
        level = pa.DictionaryArray.from_arrays(pa.array(recs["lvl"], pa.int32()), pa.array(self.levels, pa.string()))
        self.log_parts.append(
            {
                "ts": pa.array(ts_c, pa.int64(), mask=~has_ts).cast(pa.timestamp("ns", tz="UTC")),
                "level": level.cast(pa.string()),
                "msg": recs["msg"],
                "spec": spec,
                "wrapper_ts": pa.array(recs["wts"], pa.int64(), mask=~recs["has_wts"]).cast(
                    pa.timestamp("ns", tz="UTC")
                ),
                "line_no": pa.array(recs["line_no"], pa.int64()),
            }
        )
        self.log_rows += C

    def close_open(self):
        """The last record of the input (the columnar path's :meth:`close`)."""
        if self.open is None:
            return
        empty = {
            "kind": np.zeros(0, np.int8),
            "line_no": np.zeros(0, np.int64),
            "has_ts": np.zeros(0, bool),
            "ts": np.zeros(0, np.int64),
            "lvl": np.zeros(0, np.int32),
            "wts": np.zeros(0, np.int64),
            "has_wts": np.zeros(0, bool),
            "hit": np.zeros(0, bool),
            "multi": np.zeros(0, bool),
            "first": pa.array([], pa.string()),
            "msg": pa.array([], pa.string()),
        }
        self._close_records(empty, None, self.open)

    # -- end ----------------------------------------------------------------------
    def finish(self):
        self.close()
        self.close_open()
        if self.spec is not None:
            self.unfinished += 1
        ctx = self.ctx
        if self.suite:
            ctx.info["suite"] = self.suite
        if self.skipped_markers:
            ctx.info["skipped_markers"] = self.skipped_markers
        if self.fail_summary:
            ctx.info["failures"] = self.fail_summary
            self._summary_specs()
        if self.unfinished:
            ctx.info["unfinished_specs"] = self.unfinished
        self.flush()

    def flush(self):
        ctx = self.ctx
        if not ctx.clock:
            ctx.clock = "test"
        if self.log_parts:
            parts = self.log_parts
            cols = {
                k: pa.chunked_array(
                    [c for p in parts for c in (p[k].chunks if isinstance(p[k], pa.ChunkedArray) else [p[k]])]
                )
                for k in parts[0]
            }
            cols["clock"] = pc.fill_null(pa.nulls(self.log_rows, pa.string()), ctx.clock)
            self.log_parts, self.log_rows = [], 0
            ctx.emit("test_log", cols)
        for table, rows in self.tables.items():
            if not rows:
                continue
            if table == "test_specs":
                # (re.sub(r"\s+", " ", x).strip(): str.split's whitespace is the pattern's \s, str.isspace)
                self.flushed_specs.update(" ".join((r.get("spec") or "").split()) for r in rows)
            cols: dict = {}
            keys = set()
            for r in rows:
                keys.update(r)
            for k in keys:
                vals = [r.get(k) for r in rows]
                if k in ("ts", "start_ts", "wrapper_ts"):
                    cols[k] = pa.array(vals, pa.int64()).cast(pa.timestamp("ns", tz="UTC"))
                else:
                    cols[k] = vals
            if table in ("test_log", "progress"):
                cols["clock"] = [ctx.clock] * len(rows)
            ctx.emit(table, cols)
        self.tables = {}


def parse(stream, ctx: Context, columnar: bool = True, per_line: bool = False) -> None:
    """``per_line=True``: the reference for the chunk classifier (each line through :meth:`_Parser.line`, the code
    before round 7 of issue 20); ``columnar=False`` too: the code before issue 20.  Compared with the default in
    tests/test_e2e.py."""
    head = stream.peek(256 * 1024)[: 256 * 1024] if hasattr(stream, "peek") else b""
    lines = head.decode("utf-8", "replace").splitlines()[:3000]
    wrappers = L.detect_wrappers(lines)
    ansi = L.has_ansi(head)
    if wrappers:
        ctx.info["wrapper"] = "+".join(wrappers)
    ctx.info["component"] = "e2e.test"
    if not ctx.clock:
        ctx.clock = "test"
    p = _Parser(ctx, columnar)
    stats = L.ReaderStats()
    n = 0
    for ch in L.iter_chunks(stream, wrappers, ansi, stats):
        ctx.lines_read += ch.n_physical
        ctx.continuation_lines += ch.joined
        if per_line or not columnar:
            texts = ch.text.to_pylist()
            wcl = ch.wrapper_clock.to_pylist() if ch.wrapper_clock is not None else [None] * len(texts)
            for t, ln, w in zip(texts, ch.line_no.tolist(), wcl):
                p.line(t or "", ln, w)
        else:
            with U.gc_paused():
                p.chunk(ch)
        n += len(ch.text)
        if p.log_rows + sum(len(v) for v in p.tables.values()) > 200_000:
            p.flush()
    with U.gc_paused() if columnar and not per_line else contextlib.nullcontext():
        p.finish()
    for reason, (cnt, ex) in stats.counted.items():
        ctx.count_many(reason, [e[0] for e in ex], [e[1] for e in ex], cnt, severity="info")
    ctx.lines_read += stats.skipped  # overlong lines: read and counted, in no chunk
    if stats.invalid_utf8_lines:
        ctx.error(
            f"{stats.invalid_utf8_lines} lines were not valid UTF-8 (bytes replaced with U+FFFD)",
            stats.first_invalid_utf8,
        )


FORMAT = Format(
    name="e2e-log",
    description="Kubernetes e2e / ginkgo v1 test log (Logf StampMilli lines, STEP, ginkgo spec blocks; "
    "density/load outputs), plain, Prow- or Jenkins-wrapped",
    priority=55,
    sniff=sniff,
    parse=parse,
    tables=("test_log", "test_specs", "progress", "perf_summaries", "test_pod_latencies"),
)
