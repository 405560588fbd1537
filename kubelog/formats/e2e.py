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
"""

from __future__ import annotations

import json
import re

import numpy as np
import pyarrow as pa

from .. import timeutil
from ..sources import lines as L
from . import e2e_util as U
from .base import Context, Format, Head
from .klog import HEADER_RE

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
PROGRESS_RE = re.compile(
    r"^(?P<label>.+?) Pods: (?P<created>\d+) out of (?P<expected>\d+) created, (?P<running>\d+) running"
    r"(?: \(\d+ updated\))?, (?P<pending>\d+) pending(?: scheduled)?, (?P<waiting>\d+) (?:waiting|not scheduled), "
    r"(?P<inactive>\d+) inactive, (?:(?P<terminating>\d+) terminating, )?(?P<unknown>\d+) unknown, "
    r"(?P<rnr>\d+) runningButNotReady"
)


_E2E_STARTUP = re.compile(r"^E2E startup time for (\d+) pods: (\S+)")
_THROUGHPUT = re.compile(r"^Throughput \(pods/s\) during cluster saturation phase: (\S+)")
_APPROX = re.compile(r"^Approx throughput: (\S+) pods/min")


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

    def _wrapper_ns(self, raw: str | None) -> int | None:
        if not raw:
            return None
        m = re.match(r"^[IWEF](\d\d)(\d\d) (\d\d):(\d\d):(\d\d)\.(\d{3})$", raw)
        if not m:
            return None
        mo, dd, h, mi, s, ms = map(int, m.groups())
        if not (1 <= mo <= 12 and 1 <= dd <= 31):
            return None
        d = (
            U.civil_days(self.year, mo, dd)
            if self.columnar
            else int(timeutil.days_from_civil(np.array([self.year]), np.array([mo]), np.array([dd]))[0])
        )
        return (d * 86400 + h * 3600 + mi * 60 + s) * 1_000_000_000 + ms * 1_000_000

    def add(self, table: str, row: dict):
        self.tables.setdefault(table, []).append(row)

    # -- per line ---------------------------------------------------------------
    def line(self, text: str, line_no: int, wclock: str | None):
        ctx = self.ctx
        m = GLUE_RE.match(text)
        if m:
            self.skipped_markers += len(m.group(1))
            text = text[m.end(1) :]
            if not text.strip():
                ctx.count("skipped-spec markers (one S per skipped spec)", line_no, m.group(1)[:80], severity="info")
                return
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
        g = re.match(r"^(?:•|â€¢)(?=\{\"msg\"|[A-Z][a-z]{2} [ \d]\d |[IWEF]\d{4} |STEP: |S)", text)
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
        names = [
            re.sub(
                r" \[(?:It|BeforeEach|JustBeforeEach|AfterEach|JustAfterEach|Measure|BeforeSuite|AfterSuite)\]\s*$",
                "",
                l.strip(),
            )
            for l in name_lines
            if l.strip() and not LOC_RE.match(l)
        ]
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

    # -- end ----------------------------------------------------------------------
    def finish(self):
        self.close()
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
        for table, rows in self.tables.items():
            if not rows:
                continue
            if table == "test_specs":
                self.flushed_specs.update(re.sub(r"\s+", " ", r.get("spec") or "").strip() for r in rows)
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


def parse(stream, ctx: Context, columnar: bool = True) -> None:
    """``columnar=False``: the reference (the code before issue 20), compared with the default in tests/test_e2e.py."""
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
        texts = ch.text.to_pylist()
        wcl = ch.wrapper_clock.to_pylist() if ch.wrapper_clock is not None else [None] * len(texts)
        for t, ln, w in zip(texts, ch.line_no.tolist(), wcl):
            p.line(t or "", ln, w)
        n += len(texts)
        if sum(len(v) for v in p.tables.values()) > 200_000:
            p.flush()
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
