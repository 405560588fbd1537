"""Diagnose failed runs: which wait timed out, what stalled, what the cluster and the apiserver did.

:func:`diagnose` reads a run directory's tables and returns a :class:`Diagnosis`: ranked
:class:`Finding` objects, each with its evidence as ``file:line`` references and the
lines themselves (rebuilt from the table rows, never re-read from the raw logs).

What is looked at
-----------------
* **Failures**: failed specs (``test_specs``; e2e log preferred over junit, the same message
  once), clusterloader2 measurement errors (junit step testcases, ``Got errors during step
  execution``, ``Errors:``), the cl2 final ``Status`` and logged errors (``manifest
  inputs[*].info["cl2"]``), kube-burner ``jobSummary`` ``passed: false``, and logs that end
  before the suite summary / Test Finished block (a killed job). Texts are classified with
  formats-test.md §4.7 (:data:`FAILURE_KINDS`, :func:`classify`).
* **The wait**: the section (``[It]``/``[BeforeEach]``/…) and nearest ``STEP`` before the
  failure block (the test's cleanup steps after an ``[It]`` failure are skipped), ``Waiting up
  to <d>`` lines, the nearest cl2 ``Step`` and how long the error came after the previous
  record, and the progress series (``progress``) that was still incomplete: its last
  counters and which of them stalled since when.
* **The window** ``[stall start, failure]`` on the test clock is moved to the apiserver clock
  by the test-clock offset: the skew analysis (:mod:`kubelog.analysis.skew`, when present and
  consistent) or the e2e ``Created replication controller`` ↔ ``POST replicationcontrollers``
  anchor pairs. A run without failure uses its last burst of error messages and 5xx/429
  responses as the window.
* **In the window vs the rest of the run**: error responses (405/409/429/5xx) by
  verb/resource, latency percentiles (nearest rank, with n), Trace blocks, controllers and
  kubelets that went silent, watch (re)starts, Warning events, NotReady nodes, pods stuck
  between scheduled and started (only where an object dump or the node's kubelet log would
  have shown the start) or Failed, clock offsets (an e2e pod-startup latency of hours is an
  offset when object timestamps say seconds), known signatures (:data:`SIGNATURES`: the
  NaN encoder error, MethodNotAllowed on ``localsubjectaccessreviews``, image pulls, missing
  kubeconfig/kubectl, ``Only N pods started``, etcd timeouts, unregistered nodes, 403 floods
  …) and Drain log templates new or much more frequent in the window
  (:mod:`kubelog.analysis.templates`).

Ranking: the failure (with its stall and, when the stuck pods account for exactly the
missing count, the cause folded in) first; a clock offset that explains a latency failure
above it; then causes and anomalies by severity. Each analysis runs isolated: one that
fails becomes an ``internal_error`` info finding. Times in findings are ``HH:MM:SS`` UTC on
the named clock; durations are Go-style (``9h58m15s``, ``1m50.0s``).
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from ..run import Run
from . import stats

SEVERITIES = ("critical", "error", "warning", "info")

#: formats-test.md §4.7 and the clusterloader2 error texts: (kind, regex, meaning)
FAILURE_KINDS = [
    ("watch_timeout", r"Timeout reached waiting for all Pods being observed by the watch",
     "the latency pods were not all observed by the watch (inverted-check bug, §4.4)"),
    ("pod_startup_slo", r"too high (?:pod startup |(?P<metric>[\w ]+?) )?latency (?P<pct>\d+)th percentil\w*:? (?:got )?"
                        r"(?P<value>[\dhmsµun.]+)(?: expected: (?P<threshold>[\dhmsµun.]+))?",
     "pod startup latency SLO missed (or a clock offset, when hours)"),
    ("api_slo", r"There should be no high-latency requests|too high latency.*(?:api|request)",
     "API call latency SLO missed"),
    ("pods_lost", r"Number of reported pods(?: for (?P<rc>\S+))? changed: (?P<got>\d+) vs (?P<want>\d+)",
     "pods were lost (node died, eviction)"),
    ("only_n_started", r"Only (?P<got>\d+) pods started out of (?P<want>\d+)", "the RC runner timed out"),
    ("containers_failed", r"(?P<got>\d+) containers failed which is more than allowed (?P<want>\d+)",
     "containers restarted"),
    ("pod_not_running", r"gave up waiting for pod '(?P<pod>[^']+)' to be 'running' after (?P<timeout>\S+)",
     "a latency pod did not start"),
    ("memory", r"is using (?P<got>[\d.]+)/(?P<want>\d+) MB of memory", "resource-constraint check failed"),
    ("scaling", r"error while scaling RC (?P<rc>\S+) to (?P<want>\d+) replicas", "load scaling failed"),
    ("start_pods", r"Error waiting for (?P<want>\d+) pods to be running - probably a timeout", "StartPods timed out"),
    ("ssh", r"ssh: handshake failed|error getting SSH client|in ssh connection to",
     "a measurement could not reach the master over SSH (test-infrastructure problem, not the cluster)"),
    ("pods_not_running", r"Error while waiting for replication controller (?P<rc>\S+) pods to be running|"
                         r"Timeout while waiting for pods with labels",
     "the controller's pods were not all Running when WaitForControlledPodsRunning gave up (10 minutes)"),
    ("timeout", r"timed out waiting for the condition|context deadline exceeded|Timeout reached|objects timed out|"
                r"\btimed out\b",
     "a wait.Poll deadline passed: look at what it was waiting for"),
    ("measurement", r"measurement call (?P<method>\S+) - (?P<id>\S+) error", "a clusterloader2 measurement failed"),
    ("api_not_found", r"the server could not find the requested resource",
     "the API the test uses does not exist on this cluster (test config newer or older than the cluster)"),
]

#: known signatures: (kind, severity, regex over message texts, title)
SIGNATURES = [
    ("nan_encoder", "critical", r"json: unsupported value: (?:NaN|\+Inf)",
     "saturation never ran: the saturation summary held NaN/+Inf (Error building encoder; the It failed before "
     "saturation started)"),
    ("lsar_405", "critical", r"(?i)MethodNotAllowed.*localsubjectaccessreviews|"
     r"localsubjectaccessreviews.*(?:405|MethodNotAllowed|not allowed)",
     "MethodNotAllowed on localsubjectaccessreviews: apiserver/controller-manager run without certificates "
     "(namespace creation crawls)"),
    ("kubeconfig", "critical",
     r"(?i)kubeconfig[\w./-]*\"?:? (?:no such file or directory|not found|does not exist)|kubectl: (?:command )?not found|"
     r"error loading config file|(?:stat|open) \S*kubeconfig\S*: no such file|"
     r"invalid configuration: no configuration has been provided",
     "kubeconfig or kubectl missing"),
    ("only_n_started", "error", r"Only \d+ pods started out of \d+", "RC runner: only part of the pods started"),
    ("image_pull", "error", r"ErrImagePull|ImagePullBackOff|Failed to pull image|Back-off pulling image|pull access denied|"
                           r"manifest unknown|ErrImageNeverPull",
     "image pull failures"),
    ("etcd", "error", r"etcdserver: request timed out|etcdserver: leader changed|etcdserver: too many requests|"
                      r"context deadline exceeded|Txn call failed|connection refused[^\n]*:2379|"
                      r"createTransport failed to connect",
     "etcd unavailable or too slow (context deadline exceeded / request timed out)"),
    ("handler_timeout", "warning", r"timeout or abort while handling|http: Handler timeout",
     "apiserver request handlers timed out"),
    ("node_not_found", "error", r"node \"[^\"]+\" not found|Unable to register node",
     "a node never registered (kubelet cannot find its Node object)"),
    ("crashloop", "warning", r"CrashLoopBackOff|Back-off restarting failed container", "containers crash-looping"),
    ("evicted", "warning", r"\bEvicted\b|The node was low on resource", "pods evicted"),
    ("oom", "warning", r"OOMKilled|Out of memory|oom-kill", "out of memory"),
    ("watch_errors", "info", r"watch chan error|very short watch|Unexpected watch close|too old resource version|"
                             r"required revision has been compacted",
     "watch errors (clients relist)"),
]

#: waits whose limit the failure text implies: (regex, what it waited for, limit in s or None = the ``timeout``
#: group, where the limit comes from)
KNOWN_WAITS = [
    (r"Error while waiting for replication controller (?P<rc>\S+) pods to be running",
     "the pods of replication controller {rc} Running", 600.0,
     "WaitForControlledPodsRunning → testutils.WaitForEnoughPodsWithLabelRunning polls every 5 s for 10 minutes "
     "(test/utils/runners.go)"),
    (r"Timeout while waiting for pods with labels \"?(?P<labels>[^\"\s]+)",
     "the pods with labels {labels} Running", 600.0,
     "testutils.WaitForEnoughPodsWithLabelRunning polls every 5 s for 10 minutes (test/utils/runners.go)"),
    (r"gave up waiting for pod '(?P<pod>[^']+)' to be 'running' after (?P<timeout>\S+)",
     "pod {pod} running", None, "the timeout printed in the failure"),
]

#: what a clusterloader2 measurement waits for or checks (perf-tests clusterloader2/pkg/measurement)
CL2_MEASUREMENTS = {
    "WaitForControlledPodsRunning": "every pod of the test's Deployments/RCs/… running (or deleted) within its timeout",
    "WaitForRunningPods": "the selected pods running",
    "WaitForGenericK8sObjects": "objects reaching the expected condition",
    "PodStartupLatency": "pod startup percentiles under the threshold (5 s by default)",
    "APIResponsiveness": "API call latency percentiles under the SLO (1 s / 5 s / 30 s)",
    "APIResponsivenessPrometheus": "API call latency percentiles from Prometheus under the SLO",
    "APIResponsivenessPrometheusSimple": "API call latency percentiles from Prometheus under the SLO",
    "SchedulingThroughput": "scheduler throughput above its threshold",
    "SchedulingMetrics": "scheduler metrics gathered from the scheduler's /metrics",
    "EtcdMetrics": "etcd metrics gathered over SSH from the master",
    "TestMetrics": "the bundle of resource/metrics measurements (SchedulingMetrics, EtcdMetrics, …)",
    "WaitForNodes": "the expected number of nodes Ready",
}

_CLEANUP_STEP = re.compile(r"^(?:Deleting created Collections|Cleaning up|Collecting resource usage|Destroying namespace|"
                           r"Removing additional|deleting \{|Deleting |Dumping )")
_COUNTERS = ["created", "running", "pending", "waiting", "inactive", "terminating", "unknown", "runningButNotReady"]
_ERROR_CODES = {405, 409, 429}
#: pod_transitions origins that hold the whole object (its status says whether it started)
_OBJECT_ORIGINS = ("pods-json", "pods-yaml", "watch")
#: pod milestones that prove a pod started
_STARTED = {"started", "container_started", "ready", "running", "pleg_container_started", "containers_ready",
            "running_observed", "watch_observed", "startup_logged", "watched"}


@dataclass
class Evidence:
    """One piece of evidence: ``where`` is ``file:line``, ``text`` the (rebuilt) line."""
    where: str
    text: str


@dataclass
class Finding:
    """A ranked finding.

    Attributes
    ----------
    rank : int
        1 = most likely explanation of the failure.
    severity : str
        critical / error / warning / info.
    title, detail : str
        One line and a paragraph.
    evidence : list of Evidence
        File:line references with the lines.
    kind : str
        Machine-readable kind (failure:timeout, stall, clock, apiserver_errors, signature:etcd ...).
    score : float
        Ranking score (higher first).
    """
    rank: int
    severity: str
    title: str
    detail: str
    evidence: list = field(default_factory=list)
    kind: str = ""
    score: float = 0.0


@dataclass
class Diagnosis:
    """Result of :func:`diagnose`.

    Attributes
    ----------
    failed : bool
        True when a spec, a measurement or the cl2 status failed.
    summary : str
        One paragraph.
    findings : list of Finding
        Ranked, most important first.
    window : dict
        The window examined: ``start``/``end`` (ISO, apiserver clock), ``clock``, ``reason``,
        ``test_offset_s`` (test minus apiserver clock, seconds, when estimated).
    failures : list of dict
        Every failure found: ``what``, ``kind``, ``message``, ``where``.
    """
    failed: bool
    summary: str
    findings: list = field(default_factory=list)
    window: dict = field(default_factory=dict)
    failures: list = field(default_factory=list)

    def to_dict(self) -> dict:
        """Plain JSON-serialisable dict."""
        return {"failed": self.failed, "summary": self.summary, "window": self.window,
                "failures": self.failures, "findings": [asdict(f) for f in self.findings]}

    def to_markdown(self) -> str:
        """Markdown: summary, then each finding with its evidence in a code block."""
        out = [f"# Diagnosis: {'FAILED' if self.failed else 'no failure'}", "", _md_escape(self.summary), ""]
        if self.window.get("start"):
            out += [f"Window examined: {self.window['start']} → {self.window['end']} "
                    f"({self.window.get('clock', '')} clock; "
                    f"{_md_escape(self.window.get('reason', ''))})", ""]
        if self.findings:
            out += ["| # | severity | finding | first evidence |", "|---|---|---|---|"]
            for f in self.findings:
                where = f.evidence[0].where if f.evidence else ""
                title = _md_escape(f.title).replace("|", "\\|")
                where = where.replace("`", "")
                out.append(f"| {f.rank} | {f.severity} | {title} | `{where}` |")
            out.append("")
        for f in self.findings:
            out += [f"## {f.rank}. [{f.severity}] {_md_escape(f.title)}", "", _md_escape(f.detail), ""]
            if f.evidence:
                out.append("```")
                for e in f.evidence:
                    out.append(f"{e.where}: {e.text}".replace("```", "'''"))
                out += ["```", ""]
        return "\n".join(out)

    def to_text(self, width: int = 120) -> str:
        """Terminal view: numbered findings, indented detail and evidence."""
        import textwrap
        out = [("FAILED: " if self.failed else "") + self.summary, ""]
        if self.window.get("start"):
            out += [f"window: {self.window['start']} → {self.window['end']} [{self.window.get('clock', '')}] "
                    f"({self.window.get('reason', '')})", ""]
        for f in self.findings:
            out.append(f"{f.rank:>2}. [{f.severity.upper()}] {f.title}")
            out += textwrap.wrap(f.detail, width=width, initial_indent="     ", subsequent_indent="     ")
            for e in f.evidence:
                t = e.text if len(e.text) <= width else e.text[: width - 1] + "…"
                out.append(f"       {e.where}")
                out.append(f"         {t}")
            out.append("")
        return "\n".join(out)


def _md_escape(s: str) -> str:
    return s.replace("<", "&lt;").replace(">", "&gt;")


# ---------------------------------------------------------------------------------------------- helpers

def _hms(ts) -> str:
    if ts is None or pd.isna(ts):
        return "?"
    return pd.Timestamp(ts).strftime("%H:%M:%S")


def _dur(seconds: float) -> str:
    """``9h58m17.9s`` style duration of ``seconds``."""
    if seconds is None or (isinstance(seconds, float) and math.isnan(seconds)):
        return "?"
    s = abs(float(seconds))
    sign = "-" if seconds < 0 else ""
    if s >= 3600:
        s = round(s)
    elif s >= 60:
        s = round(s, 1)
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    if h >= 1:
        return f"{sign}{int(h)}h{int(m)}m{sec:.0f}s"
    if m >= 1:
        return f"{sign}{int(m)}m{sec:.1f}s"
    return f"{sign}{sec:.3g}s" if sec < 10 else f"{sign}{sec:.1f}s"


def _go_dur(text: str) -> float | None:
    from ..timeutil import parse_duration_ns
    try:
        return parse_duration_ns(text) / 1e9
    except Exception:  # noqa: BLE001 - not a Go duration
        return None


def _first_line(s, n: int = 240) -> str:
    s = "" if s is None or (isinstance(s, float) and math.isnan(s)) else str(s)
    line = s.strip().split("\n", 1)[0]
    return line if len(line) <= n else line[: n - 1] + "…"


def _table(run: Run, name: str, columns=None) -> pd.DataFrame:
    if not run.has(name):
        return pd.DataFrame(columns=columns or [])
    try:
        return run.table(name, columns=columns)
    except Exception:  # noqa: BLE001 - a missing column in an older run: read all
        return run.table(name)


class _Ctx:
    """Shared state of one diagnosis."""

    def __init__(self, run: Run):
        self.run = run
        self.findings: list[Finding] = []
        self._where_cache = {}
        self._tables = {}

    def table(self, name: str, columns=None) -> pd.DataFrame:
        """A table (or some of its columns), read once per diagnosis."""
        key = (name, tuple(columns) if columns else None)
        if key not in self._tables:
            self._tables[key] = _table(self.run, name, columns)
        return self._tables[key].copy(deep=False)

    def where(self, source_id, line_no) -> str:
        key = (int(source_id), int(line_no)) if not pd.isna(source_id) and not pd.isna(line_no) else None
        if key is None:
            return "?"
        if key not in self._where_cache:
            try:
                self._where_cache[key] = self.run.where(*key)
            except Exception:  # noqa: BLE001
                self._where_cache[key] = f"input{key[0]}:{key[1]}"
        return self._where_cache[key]

    def add(self, severity, title, detail, evidence, kind, score):
        self.findings.append(Finding(0, severity, title, detail, list(evidence), kind, float(score)))


def _msg_text(r) -> str:
    lvl = r.get("level", "") or ""
    f = r.get("file", "")
    loc = f"{f}:{int(r['line'])}" if isinstance(f, str) and f and not pd.isna(r.get("line")) else ""
    ts = _hms(r.get("ts"))
    return f"{lvl}{ts} {loc}] {_first_line(r.get('msg'))}".strip()


def _req_text(r) -> str:
    lat = r.get("latency_s")
    lat = f"({lat * 1000:.1f}ms)" if lat is not None and not pd.isna(lat) else ""
    uri = r.get("uri") if isinstance(r.get("uri"), str) else f"{r.get('verb', '')} {r.get('resource', '')}"
    ua = r.get('user_agent', '') or r.get('client', '')
    return f"{_hms(r.get('ts'))} {r.get('method', '') or ''} {uri} {lat} {r.get('code')} [{ua}]"


def _test_text(r) -> str:
    lvl = r.get("level")
    ts = r.get("ts")
    head = f"{pd.Timestamp(ts).strftime('%b %d %H:%M:%S.%f')[:-3]}: " if ts is not None and not pd.isna(ts) else ""
    if lvl == "STEP":
        return f"STEP: {_first_line(r.get('msg'))}"
    return f"{head}{lvl}: {_first_line(r.get('msg'))}" if lvl == "INFO" else _first_line(r.get("msg"))


# ---------------------------------------------------------------------------------------------- failures

@dataclass
class _Failure:
    what: str
    kind: str
    message: str
    meaning: str
    where: str
    source_id: int | None
    line_no: int | None
    origin: str
    groups: dict
    fatal: bool = True
    evidence: list = field(default_factory=list)


def classify(message: str) -> tuple[str, str, dict]:
    """Kind, meaning and captured fields of a failure text (formats-test.md §4.7).

    >>> classify('s: "timed out waiting for the condition"')[0]
    'timeout'
    >>> k, _, g = classify("too high pod startup latency 50th percentile: 9h58m17.888055586s")
    >>> k, g["value"]
    ('pod_startup_slo', '9h58m17.888055586s')
    """
    for kind, pat, meaning in FAILURE_KINDS:
        m = re.search(pat, message or "")
        if m:
            return kind, meaning, {k: v for k, v in m.groupdict().items() if v is not None}
    return "other", "", {}


def _core_message(msg: str) -> str:
    """The line of a gomega/ginkgo failure message that says what failed."""
    if not isinstance(msg, str):
        return ""
    m = re.search(r'\bs: "((?:[^"\\]|\\.)*)"', msg)
    if m:  # a Go %#v string: unquote \" and \\
        return re.sub(r'\\(["\\])', r"\1", m.group(1))
    lines = [ln.strip() for ln in msg.split("\n") if ln.strip()]
    for ln in lines:
        if classify(ln)[0] != "other":
            return ln
    return lines[0] if lines else ""


def _collect_failures(ctx: _Ctx) -> list[_Failure]:
    run = ctx.run
    out: list[_Failure] = []
    seen: set = set()
    specs = _table(run, "test_specs")
    if len(specs):
        failed = specs[specs["state"].isin(["failed", "panicked", "timedout", "timeout"])].copy()
        failed["_pref"] = (failed["origin"] != "e2e-log").astype(int)
        # clusterloader2 junit: the step testcases name the step; the "overall" one repeats their errors
        failed["_overall"] = failed["spec"].fillna("").str.contains(r" overall(?: \(|$)", regex=True).astype(int)
        failed = failed.sort_values(["_pref", "_overall", "source_id", "line_no"])
        for _, r in failed.iterrows():
            msg = r.get("failure_message")
            spec = re.sub(r"\s*\((?:/|\./)[^)]*\)\s*$", "", str(r["spec"]))
            items = []
            if isinstance(msg, str) and "measurement call" in msg:
                items = [ln.strip().strip("[]") for ln in re.split(r"\n(?=measurement call)|\[(?=measurement call)", msg)
                         if "measurement call" in ln]
            if not items:
                items = [_core_message(msg) or "(no failure message)"]
            for item in items:
                key = re.sub(r"\s+", " ", item)[:200]
                if "measurement call" not in item:  # the same message from two specs is two failures
                    key = (re.sub(r"\s+|\[(?:It|BeforeEach|AfterEach)\]", "", spec), key)
                if key in seen:
                    continue
                seen.add(key)
                kind, meaning, groups = classify(item)
                out.append(_Failure(spec, kind, item, meaning, ctx.where(r["source_id"], r["line_no"]),
                                    int(r["source_id"]), int(r["line_no"]), str(r.get("origin")), groups,
                                    evidence=[Evidence(ctx.where(r["source_id"], r["line_no"]), _first_line(item, 400))]))
    # clusterloader2 status and logged errors
    msgs = ctx.table("messages", columns=["ts", "component", "level", "file", "line", "msg", "source_id", "line_no"])
    for inp in run.manifest.get("inputs", []):
        info = (inp.get("info") or {}).get("cl2")
        if not info:
            continue
        sid = inp.get("source_id")
        status = info.get("status")
        what = f"clusterloader2 {info.get('test', '')}".strip()
        errs = []  # (line_no | None, text)
        if len(msgs):
            mm = msgs[(msgs["source_id"] == sid) & msgs["msg"].fillna("").str.contains(
                r"Got errors during step execution:|Resource cleanup error:|^\s*Errors: \[", regex=True)]
            for _, r in mm.sort_values("line_no").iterrows():
                text = re.sub(r"^\s*(?:Got errors during step execution|Errors):\s*", "", r["msg"])
                errs.append((int(r["line_no"]), text))
        for err in info.get("errors") or []:
            m = re.match(r"(\d+): (.*)", err, re.S)
            errs.append((int(m.group(1)), m.group(2)) if m else (None, err))
        if info.get("test_errors"):
            errs.append((None, str(info["test_errors"])))
        for line_no, text in errs:
            text = text.strip()
            inner = text[1:-1] if text.startswith("[") and text.endswith("]") and not text.startswith("[measurement") \
                else text
            items = ([inner] if "measurement call" not in inner else
                     [x.strip(" []\n") for x in re.split(r"(?=measurement call)", inner) if x.strip(" []\n")])
            for item in items:
                key = re.sub(r"\s+", " ", item.strip(" []"))[:200]
                if key in seen:
                    continue
                seen.add(key)
                kind, meaning, groups = classify(item)
                w = ctx.where(sid, line_no) if line_no else inp.get("path", "?")
                if status == "Success":
                    meaning += f"; the test's final status is nevertheless {status}"
                out.append(_Failure(what, kind, item, meaning, w, sid, line_no, "cl2-log", groups,
                                    fatal=(status != "Success"), evidence=[Evidence(w, _first_line(item, 400))]))
        if status and status != "Success":
            st = msgs[(msgs["source_id"] == sid) & msgs["msg"].fillna("").str.match(r"\s*Status: ")] if len(msgs) else msgs
            ev = [Evidence(ctx.where(r["source_id"], r["line_no"]), _msg_text(r)) for _, r in st.head(1).iterrows()]
            mine = [f for f in out if f.origin == "cl2-log" and f.source_id == sid and f.fatal]
            if mine:
                mine[0].evidence += ev
            else:
                ln = int(st["line_no"].iloc[0]) if len(st) else None
                out.append(_Failure(what, "cl2_status", f"Status: {status}", "", ev[0].where if ev else inp.get("path", "?"),
                                    sid, ln, "cl2-log", {}, evidence=ev))
    # e2e suite result without spec rows
    if not any(f.fatal for f in out):
        for inp in run.manifest.get("inputs", []):
            suite = (inp.get("info") or {}).get("suite") or {}
            if str(suite.get("result", "")).upper() == "FAIL" or (str(suite.get("failures", "0")).isdigit()
                                                                   and int(suite.get("failures", "0")) > 0
                                                                   and not len(specs)):
                out.append(_Failure(f"suite {suite.get('name', '')}".strip(), "suite", f"suite result {suite.get('result')}",
                                    "", inp.get("path", "?"), inp.get("source_id"), None, "suite", {}))
    # kube-burner jobSummary: passed false
    for inp in run.manifest.get("inputs", []):
        for k, job in enumerate((inp.get("info") or {}).get("job_summary") or []):
            if isinstance(job, dict) and job.get("passed") is False:
                sid = inp.get("source_id")
                ps = ctx.table("perf_summaries", columns=["metric", "source_id", "line_no"])
                rows = ps[(ps["source_id"] == sid) & (ps["metric"] == "job_elapsed")] if len(ps) else ps
                ln = int(rows["line_no"].iloc[min(k, len(rows) - 1)]) if len(rows) else None
                w = ctx.where(sid, ln) if ln else inp.get("path", "?")
                msg = (f"kube-burner job {job.get('jobName', '?')} passed=false "
                       f"({job.get('jobIterations', '?')} iterations, elapsed {job.get('elapsedTime', '?')} s)")
                out.append(_Failure(f"kube-burner {job.get('jobName', '')}".strip(), "kube_burner", msg,
                                    "kube-burner marks a job failed when an alert or a measurement threshold failed "
                                    "or objects did not become ready in time", w, sid, ln, "kube-burner", {},
                                    evidence=[Evidence(w, msg)]))
    # logs that stop before the end: a killed job (CI timeout) or a cut log
    tl = ctx.table("test_log", columns=["ts", "level", "msg", "spec", "source_id", "line_no"])
    for inp in run.manifest.get("inputs", []):
        info = inp.get("info") or {}
        sid = inp.get("source_id")
        suite = info.get("suite") or {}
        cl2 = info.get("cl2") or {}
        unfinished_e2e = inp.get("format") == "e2e-log" and suite.get("will_run") and "ran" not in suite \
            and "result" not in suite and not any(f.source_id == sid for f in out)
        unfinished_cl2 = bool(cl2) and not cl2.get("finished") and not cl2.get("status")
        if not (unfinished_e2e or unfinished_cl2):
            continue
        last_line = int(inp.get("lines_read") or 0)
        ev, running = [], ""
        if unfinished_e2e and len(tl):
            t = tl[tl["source_id"] == sid].sort_values("line_no")
            hdr = t[(t["level"] == "GINKGO") & t["msg"].fillna("").str.match(r"\[(It|BeforeEach|AfterEach)\]")]
            if len(hdr):
                h = hdr.iloc[-1]
                running = " inside " + _first_line(h["msg"], 160)
                ev.append(Evidence(ctx.where(sid, h["line_no"]), _first_line(h["msg"], 200)))
            if len(t):
                ev.append(Evidence(ctx.where(sid, t["line_no"].iloc[-1]), "last record: " + _test_text(t.iloc[-1])))
        msg = (f"the {'e2e' if unfinished_e2e else 'clusterloader2'} log ends before the "
               f"{'suite summary' if unfinished_e2e else 'Test Finished block'}")
        out.append(_Failure(inp.get("path", "?"), "unfinished", msg,
                            f"it stops{running}: the job was killed (CI timeout, OOM) or the log was cut, and the "
                            "last wait never ended",
                            ctx.where(sid, last_line) if last_line else inp.get("path", "?"), sid, last_line + 1,
                            "e2e-log" if unfinished_e2e else "cl2-log", {}, evidence=ev))
    return out


# ---------------------------------------------------------------------------------------------- test-log context

def _cl2_context(ctx: _Ctx, f: _Failure) -> dict:
    """For an error logged by clusterloader2: the last step started before it and the record before it."""
    if f.origin != "cl2-log" or f.source_id is None or f.line_no is None:
        return {}
    m = ctx.table("messages", columns=["ts", "component", "level", "file", "line", "msg", "source_id", "line_no"])
    if not len(m):
        return {}
    m = m[(m["source_id"] == f.source_id) & (m["line_no"] <= f.line_no)].sort_values("line_no")
    if not len(m):
        return {}
    res = {"at": m.iloc[-1]}
    before = m.iloc[:-1]
    steps = before[before["msg"].fillna("").str.match(r'Step "[^"]*" (?:started|ended)')]
    if len(steps):
        res["step"] = steps.iloc[-1]
    if len(before):
        res["previous"] = before.iloc[-1]
    return res


def _spec_context(ctx: _Ctx, f: _Failure) -> dict:
    """Nearest STEP, last timestamped line, 'Waiting up to' lines and section before a failure block."""
    tl = ctx.table("test_log")
    if not len(tl) or f.source_id is None or f.line_no is None or f.origin not in ("e2e-log",):
        return {}
    t = tl[(tl["source_id"] == f.source_id) & (tl["line_no"] < f.line_no)].sort_values("line_no")
    if not len(t):
        return {}
    res = {"rows": t}
    # the section (It/BeforeEach/AfterEach header) the failure belongs to
    hdr = t[(t["level"] == "GINKGO")
            & t["msg"].fillna("").str.match(r"\[(It|BeforeEach|AfterEach|JustBeforeEach|Measure)\]")]
    # failing node tag ([It] / [BeforeEach] ...) from the END block
    end = tl[(tl["source_id"] == f.source_id) & (tl["line_no"] == f.line_no)]
    tag = None
    if len(end):
        m = re.search(r"\[(It|BeforeEach|AfterEach|JustBeforeEach)\]\s*\n", str(end["msg"].iloc[0]))
        tag = m.group(1) if m else None
    if tag is None and len(hdr):  # no failure block (log cut): the section that was running
        tag = re.match(r"\[(\w+)\]", hdr["msg"].iloc[-1]).group(1)
    res["tag"] = tag
    if tag and len(hdr):
        hs = hdr[hdr["msg"].str.startswith(f"[{tag}]")]
        if len(hs):
            h = hs.iloc[-1] if tag != "AfterEach" else hs.iloc[-1]
            res["section"] = h
            nxt = hdr[hdr["line_no"] > h["line_no"]]
            stop = int(nxt["line_no"].iloc[0]) if len(nxt) else f.line_no
            sec = t[(t["line_no"] >= h["line_no"]) & (t["line_no"] < stop)]
            # within It, the test's own cleanup steps come after the failure: cut there
            if tag == "It":
                cl = sec[(sec["level"] == "STEP") & sec["msg"].fillna("").str.match(_CLEANUP_STEP)]
                if len(cl):
                    sec = sec[sec["line_no"] < int(cl["line_no"].iloc[0])]
            res["section_rows"] = sec
    sec = res.get("section_rows", t)
    steps = sec[sec["level"] == "STEP"]
    if not len(steps):
        first = int(sec["line_no"].min()) if len(sec) else f.line_no
        steps = t[(t["level"] == "STEP") & (t["line_no"] < first)]
        res["step_outside"] = True
    if len(steps):
        res["step"] = steps.iloc[-1]
    stamped = sec.dropna(subset=["ts"])
    if len(stamped):
        res["last_line"] = stamped.iloc[-1]
    waits = sec[sec["msg"].fillna("").str.contains(r"Waiting up to \S+ for", regex=True)]
    if len(waits):
        res["wait_line"] = waits.iloc[-1]
    return res


def _progress_stall(ctx: _Ctx, f: _Failure | None, before_line: int | None) -> dict | None:
    """The incomplete progress series before a failure and which counters stalled since when."""
    pr = ctx.table("progress")
    if not len(pr):
        return None
    if f is not None and f.source_id is not None and f.origin in ("e2e-log", "cl2-log"):
        pr = pr[pr["source_id"] == f.source_id]
        if before_line is not None:
            pr = pr[pr["line_no"] < before_line]
    if not len(pr):
        return None
    pr = pr.sort_values(["ts", "line_no"])
    best = None
    for (sid, label), g in pr.groupby(["source_id", "label"], sort=False):
        last = g.iloc[-1]
        exp = last.get("expected")
        incomplete = (not pd.isna(exp) and exp > 0 and (last["running"] < exp)) or \
            any((not pd.isna(last.get(c))) and last.get(c, 0) > 0 for c in ("pending", "waiting", "unknown", "terminating"))
        if not incomplete:
            continue
        named = bool(f is not None and f.groups.get("rc") and f.groups["rc"] in str(label))
        key = (named, last["ts"])
        if best is None or key > best[2]:
            best = ((sid, label), g, key)
    if best is None:
        return None
    (sid, label), g, _ = best
    g = g.reset_index(drop=True)
    last = g.iloc[-1]
    vals = g[_COUNTERS].fillna(-1).to_numpy()
    same = (vals == vals[-1]).all(axis=1)
    k = len(g) - 1
    while k > 0 and same[k - 1]:
        k -= 1
    since = g.iloc[k]
    changed_since = {}
    for c in _COUNTERS:
        col = g[c].fillna(-1).to_numpy()
        j = len(col) - 1
        while j > 0 and col[j - 1] == col[-1]:
            j -= 1
        changed_since[c] = g["ts"].iloc[j]
    stalled = [c for c in ("created", "running", "pending", "waiting", "runningButNotReady", "unknown", "terminating")
               if not pd.isna(last.get(c)) and (c in ("created", "running") or last.get(c, 0) > 0)
               and changed_since[c] <= since["ts"]]
    return {"source_id": sid, "label": label, "rows": g, "first": g.iloc[0], "last": last, "since": since,
            "since_ts": since["ts"], "last_ts": last["ts"], "stalled": stalled,
            "stalled_s": (last["ts"] - since["ts"]).total_seconds(), "clock": last.get("clock") or "test"}


_STAMP_PREFIX = re.compile(r"^[A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2}\.\d{3}: ")


def _failure_moment(f: _Failure, rows: pd.DataFrame | None):
    """The e2e log line where the failure happened, or None.

    ``framework.ExpectNoError`` logs ``Unexpected error occurred: <err>`` and ``framework.Failf``
    logs ``<msg>`` (test/e2e/framework/util.go) just before failing the spec, so the last INFO line
    before the failure block that carries the failure text is the moment of the failure (test clock).
    """
    if f.origin != "e2e-log" or rows is None or not len(rows):
        return None
    key = _STAMP_PREFIX.sub("", _first_line(f.message, 400)).strip()
    if len(key) < 12:
        return None
    cand = rows[(rows["level"] == "INFO") & rows["msg"].fillna("").str.contains(key[:200], regex=False)]
    cand = cand.dropna(subset=["ts"])
    return cand.iloc[-1] if len(cand) else None


def _known_wait(f: _Failure) -> dict | None:
    """The wait a failure text names and its limit (:data:`KNOWN_WAITS`), or None."""
    for pat, goal, limit, source in KNOWN_WAITS:
        m = re.search(pat, f.message or "")
        if not m:
            continue
        g = {k: (v if v is not None else "?") for k, v in m.groupdict().items()}
        lim = limit if limit is not None else _go_dur(g.get("timeout", ""))
        if lim:
            return {"goal": goal.format(**g), "limit_s": float(lim), "source": source}
    return None


def _step_at(rows: pd.DataFrame, ts, before_line: int):
    """The STEP that was running at test-clock time ``ts``: STEP lines carry no stamp, so each takes
    the stamp of the last stamped line before it (a lower bound of when it started)."""
    r = rows[rows["line_no"] < before_line].sort_values("line_no")
    stamp = r["ts"].ffill()
    st = r[(r["level"] == "STEP") & (stamp <= ts + pd.Timedelta(seconds=1)).fillna(False).to_numpy()]
    return st.iloc[-1] if len(st) else None


def _spec_start(sc: dict):
    """Test-clock time the failing section started (first stamped line after its header), or None."""
    sec = sc.get("section_rows")
    if sec is None or not len(sec):
        return None
    s = sec.dropna(subset=["ts"])
    return s["ts"].iloc[0] if len(s) else None


def _density_timeout(f: _Failure, stall: dict) -> float | None:
    """Saturation timeout of the density test, seconds: max(totalPods / 8, 120) (density.go), or None."""
    exp = stall["last"].get("expected")
    if "Density" not in str(f.what) or pd.isna(exp) or not exp or not str(stall["label"]).lower().startswith("density"):
        return None
    return max(float(exp) / 8.0, 120.0)


def _counters_text(r) -> str:
    exp = r.get("expected")
    cr = r.get("created")
    cr = "?" if cr is None or pd.isna(cr) else int(cr)
    parts = [f"created {cr}/{int(exp)}" if not pd.isna(exp) and exp else f"created {cr}"]
    for c in ("running", "pending", "waiting", "inactive", "terminating", "unknown", "runningButNotReady"):
        v = r.get(c)
        if not pd.isna(v) and (v or c in ("running", "pending")):
            parts.append(f"{c} {int(v)}")
    return ", ".join(parts)


def _slo_summary_evidence(ctx: _Ctx, f: _Failure) -> list:
    """The perf_summaries row whose percentile equals the value in the failure text (cl2 JSON, e2e summary)."""
    ps = ctx.table("perf_summaries")
    pct, val = f.groups.get("pct"), _go_dur(f.groups.get("value", "")) if f.groups.get("value") else None
    if not len(ps) or val is None or pct not in ("50", "90", "99"):
        return []
    col = f"p{pct}_s"
    hit = ps[(ps["metric"] == "pod_startup") & ((ps[col] - val).abs() < 5e-4)]
    def fmt(v):
        return _dur(v) if v >= 60 else f"{v:.6g}s"
    out = []
    for _, r in hit.iterrows():
        e = Evidence(ctx.where(r["source_id"], r["line_no"]),
                     f"{r['origin']} pod_startup ({r['phase'] or ''}) p50 {fmt(r['p50_s'])} p90 {fmt(r['p90_s'])} "
                     f"p99 {fmt(r['p99_s'])} — the {pct}th percentile matches the failure")
        if all(e.text != o.text or e.where.rsplit(":", 1)[0] != o.where.rsplit(":", 1)[0] for o in out):
            out.append(e)
    return out[:2]


def _api_summary_evidence(ctx: _Ctx) -> tuple[list, str]:
    """The slowest API call groups the test itself reported (perf_summaries metric api_call), p99 ≥ 1 s."""
    ps = ctx.table("perf_summaries")
    if not len(ps):
        return [], ""
    api = ps[(ps["metric"] == "api_call") & (ps["p99_s"] >= 1.0)].sort_values("p99_s", ascending=False)
    if not len(api):
        return [], ""

    def lab(r):
        try:
            d = json.loads(r["labels"]) if isinstance(r["labels"], str) else {}
        except ValueError:
            d = {}
        return " ".join(str(d.get(k, "")) for k in ("verb", "Verb", "resource", "Resource", "subresource", "Subresource",
                                                     "scope", "Scope") if d.get(k)) or str(r["labels"])
    ev = [Evidence(ctx.where(r["source_id"], r["line_no"]), f"{lab(r)}: p50 {_dur(r['p50_s'])} p90 {_dur(r['p90_s'])} "
                   f"p99 {_dur(r['p99_s'])}" + (f" (n={int(r['count'])})" if not pd.isna(r["count"]) else ""))
          for _, r in api.head(3).iterrows()]
    return ev, (f"The test reported {len(api)} API call group(s) with p99 ≥ 1 s; slowest: {ev[0].text}.")


# ---------------------------------------------------------------------------------------------- clocks

def _skew_report(ctx: _Ctx) -> dict:
    """The test domain's offset from :func:`kubelog.analysis.skew.analyze`, when that module exists."""
    try:
        from . import skew  # type: ignore[attr-defined]
        rep = skew.analyze(ctx.run)
        d = rep.domains
        row = d[d["domain"] == "test"]
        if len(row) and not pd.isna(row["offset_s"].iloc[0]):
            return {"offset_s": float(row["offset_s"].iloc[0]), "source": "skew analysis",
                    "text": str(row["text"].iloc[0]) if "text" in row else "", "evidence": [],
                    "findings": list(getattr(rep, "findings", []) or []),
                    "significant": bool(getattr(rep, "significant", False))}
    except (ImportError, AttributeError):
        pass
    except Exception:  # noqa: BLE001 - the skew analysis failing must not stop the diagnosis
        pass
    return {}


def _test_offset(ctx: _Ctx) -> dict:
    """Test clock minus apiserver clock, seconds.

    The skew analysis (when present) is used when it agrees with the e2e anchor pairs within
    60 s, or when there are no anchors; otherwise the anchors win (the two disagreeing by more
    than that means one of them paired the wrong events, and the anchors are shown as evidence).
    """
    own = _anchor_offset(ctx)
    sk = _skew_report(ctx)
    if sk and (not own or abs(sk["offset_s"] - own["offset_s"]) <= 60):
        sk["evidence"] = own.get("evidence", [])
        return sk
    if sk and own:
        own["source"] += f"; the skew analysis said {sk['offset_s']:.1f} s, which these anchors contradict"
    return own


def _anchor_offset(ctx: _Ctx) -> dict:
    """Test clock minus apiserver clock from e2e ``Created replication controller`` ↔ ``POST replicationcontrollers``."""
    tl = ctx.table("test_log")
    rq = ctx.table("requests", columns=["ts", "method", "verb", "resource", "namespace", "client", "code", "uri",
                                               "latency_s", "user_agent", "source_id", "line_no", "origin"])
    if not len(tl) or not len(rq):
        return {}
    created = tl[tl["msg"].fillna("").str.contains("Created replication controller with name:", regex=False)]
    created = created.dropna(subset=["ts"])
    posts = rq[(rq["verb"] == "create") & (rq["resource"] == "replicationcontrollers") & (rq["client"] == "e2e")]
    posts = posts.sort_values("ts").drop_duplicates(subset=["ts", "namespace"])
    diffs, ev = [], []
    for _, c in created.iterrows():
        m = re.search(r"namespace: (\S+?),", c["msg"])
        if not m:
            continue
        cand = posts[posts["namespace"] == m.group(1)]
        if not len(cand):
            continue
        # the n-th "Created" line pairs with the n-th POST in that namespace
        n = int((created["msg"].str.contains(f"namespace: {m.group(1)},", regex=False) &
                 (created["line_no"] < c["line_no"])).sum())
        if n >= len(cand):
            continue
        p = cand.iloc[n]
        diffs.append((c["ts"] - p["ts"]).total_seconds())
        if len(ev) < 2:
            ev += [Evidence(ctx.where(c["source_id"], c["line_no"]), _test_text(c)),
                   Evidence(ctx.where(p["source_id"], p["line_no"]), _req_text(p))]
    if not diffs:
        return {}
    return {"offset_s": float(np.median(diffs)), "source": f"{len(diffs)} e2e anchor pair(s) (Created replication "
            "controller ↔ POST replicationcontrollers; the test logs after the response)", "evidence": ev[:4],
            "n": len(diffs)}


def _object_startup(ctx: _Ctx) -> pd.Series:
    """Pod startup (created → started/ready) per pod from object sources (pods-json, watch, audit), seconds."""
    pt = ctx.table("pod_transitions", columns=["namespace", "pod", "milestone", "ts", "origin"])
    if not len(pt):
        return pd.Series(dtype=float)
    pt = pt[pt["origin"].isin(["pods-json", "watch", "pods-yaml"])]
    a = pt[pt["milestone"] == "created"].groupby(["namespace", "pod"])["ts"].min()
    b = pt[pt["milestone"].isin(["ready", "started", "container_started"])].groupby(["namespace", "pod"])["ts"].min()
    d = (b - a).dropna().dt.total_seconds()
    return d[d >= 0]


def _clock_findings(ctx: _Ctx, failures: list[_Failure], off: dict) -> None:
    ps = ctx.table("perf_summaries")
    e2e_ps = ps[(ps["metric"] == "pod_startup") & ps["origin"].isin(["e2e-log"])] if len(ps) else ps
    e2e_p50 = float(e2e_ps["p50_s"].dropna().iloc[0]) if len(e2e_ps) and e2e_ps["p50_s"].notna().any() else None
    obj = _object_startup(ctx)
    obj_p50 = stats.percentile(obj.to_numpy(), 0.5) if len(obj) else None
    theta = off.get("offset_s")
    slo = [f for f in failures if f.kind == "pod_startup_slo"]
    slo_val = None
    for f in slo:
        v = _go_dur(f.groups.get("value", "")) if f.groups.get("value") else None
        if v is not None:
            slo_val = v
            break
    est = theta
    how = off.get("source", "")
    if e2e_p50 is not None and e2e_p50 > 600 and obj_p50 is not None and obj_p50 < 60:
        if est is None or abs(est) < 60:
            est, how = e2e_p50 - obj_p50, "e2e-reported pod startup minus object-derived startup"
    big_val = slo_val is not None and slo_val >= 600
    if est is None or abs(est) < 60:
        if big_val:
            ev = [f.evidence[0] for f in slo[:1] if f.evidence]
            ctx.add("critical", f"pod startup latency {_dur(slo_val)} is almost certainly a clock offset, not a slow cluster",
                    f"The reported latency is {_dur(slo_val)}; a density run with that startup time would not have finished. "
                    "No test-clock anchor could be paired to measure the offset.", ev, "clock", 108)
        return
    ev = list(off.get("evidence", []))[:4]
    for f in slo[:1]:
        ev = f.evidence[:1] + ev
    if len(e2e_ps):
        r = e2e_ps.iloc[0]
        ev.append(Evidence(ctx.where(r["source_id"], r["line_no"]),
                           f"e2e pod_startup p50 {_dur(r['p50_s'])}, p90 {_dur(r['p90_s'])}, p99 {_dur(r['p99_s'])}"))
    detail = (f"The test machine's clock is {_dur(abs(est))} {'ahead of' if est > 0 else 'behind'} the apiserver's "
              f"(estimate from {how}).")
    if obj_p50 is not None:
        detail += (f" Pod startup measured on object timestamps (pods created → started, {len(obj)} pods) has "
                   f"p50 {_dur(obj_p50)}.")
    explains = slo_val is not None and abs(slo_val - abs(est)) < max(0.1 * abs(est), 120)
    reported = e2e_p50 is not None and abs(est) > 600 and abs(e2e_p50 - abs(est)) < max(0.1 * abs(est), 120) and \
        (obj_p50 is None or obj_p50 < 60)
    for sentence in off.get("findings") or []:
        detail += f" Skew analysis: {sentence}"
    if explains or reported or (big_val and abs(est) > 600):
        shown = slo_val if slo_val is not None else e2e_p50
        title = f"pod startup latency {_dur(shown)} is a clock offset, not a slow cluster"
        detail += (" The e2e test computes watch − create across the two clocks, so the offset lands in the latency; "
                   "the cluster itself started pods in seconds.")
        ctx.add("critical", title, detail, ev, "clock", 110)
    else:
        sev = "warning" if abs(est) >= 60 else "info"
        ctx.add(sev, f"test clock is {_dur(abs(est))} {'ahead of' if est > 0 else 'behind'} the apiserver clock",
                detail + " Latencies the test computes across clocks (e2e pod startup, run→watch) include it.",
                ev, "clock", 62 if abs(est) >= 3600 else 48)


# ---------------------------------------------------------------------------------------------- window analyses

def _requests(ctx: _Ctx) -> pd.DataFrame:
    if not ctx.run.has("requests"):
        return pd.DataFrame()
    from .latency import api_requests
    cols = ["ts", "start_ts", "method", "verb", "resource", "subresource", "code", "client", "user_agent", "user",
            "uri", "latency_s", "source_id", "line_no", "long_running"]
    rq = ctx.table("requests", columns=cols + ["hijacked", "audit_id", "origin", "stage", "server"])
    if not len(rq):
        return rq
    from ..formats.audit import dedup_requests
    rq = dedup_requests(rq)[0]  # (rows, n dropped[, note]) depending on the version
    if "server" in rq:  # requests served by a kubelet's own HTTP server are not API calls
        rq = rq[rq["server"].fillna("kube-apiserver").isin(["kube-apiserver", ""])]
    origins = rq["origin"].value_counts()
    if "httplog" in origins and "audit" in origins and origins["audit"] >= 0.5 * origins["httplog"]:
        # the same requests in both logs without shared audit IDs (access log before 1.22): keep the access log
        rq = rq[rq["origin"] != "audit"]
    return rq


def _apiserver_window(ctx: _Ctx, rq: pd.DataFrame, w0, w1, span, stall: dict | None = None, idle_ok: bool = False) -> dict:
    """Errors, latency, clients, watches in [w0, w1] (apiserver clock) vs the rest."""
    res = {}
    if not len(rq):
        return res
    if w0 is None:  # no window: the error responses of the whole run
        codes = rq["code"].fillna(-1).astype(int)
        e = rq[(codes.isin(list(_ERROR_CODES)) | (codes >= 500)).to_numpy()]
        if len(e):
            g = e.groupby(["verb", "resource", "code"], dropna=False).size().sort_values(ascending=False)
            parts = [f"{int(n)}× {c} on {v} {r or '(non-resource)'}" for (v, r, c), n in g.head(6).items()]
            ctx.add("warning", f"{len(e)} error responses (405/409/429/5xx) in the run",
                    "By verb/resource/code: " + "; ".join(parts) + ".",
                    [Evidence(ctx.where(r["source_id"], r["line_no"]), _req_text(r)) for _, r in e.head(4).iterrows()],
                    "apiserver_errors", 50)
        return res
    t = rq["start_ts"].fillna(rq["ts"])
    inw = ((t >= w0) & (t <= w1)).to_numpy()
    win_s = max((w1 - w0).total_seconds(), 1.0)
    rest_s = max(span - win_s, 1.0)
    comparable = rest_s >= 60 or rest_s >= 0.5 * win_s
    res["comparable"] = comparable
    lr = rq["long_running"].fillna(False).astype(bool).to_numpy()
    codes = rq["code"].fillna(-1).astype(int)
    # overview: requests per client in the window vs the rest of the run (per minute)
    n_in = int(inw.sum())
    by_client = pd.DataFrame({"client": rq["client"].fillna("?").to_numpy(), "in": inw})
    g = by_client.groupby("client")["in"].agg(["sum", "count"])
    g["rate_in"] = g["sum"] / win_s * 60
    g["rate_out"] = (g["count"] - g["sum"]) / rest_s * 60
    g = g.sort_values("sum", ascending=False)
    n_err_in = int(((codes.isin(list(_ERROR_CODES)) | (codes >= 500)).to_numpy() & inw).sum())
    parts = [f"{c} {int(r['sum'])} ({r['rate_in']:.0f}/min" + (f" vs {r['rate_out']:.0f}/min" if comparable else "") + ")"
             for c, r in g.head(6).iterrows()]
    ctx.add("info", f"apiserver in the window: {n_in} requests, {n_err_in} error responses",
            f"Requests started in the window ({_dur(win_s)}) by client"
            + (" (rate in the window vs in the rest of the run)" if comparable else "") + ": " + "; ".join(parts) + ".",
            [], "apiserver_overview", 24)
    err = (codes.isin(list(_ERROR_CODES)) | (codes >= 500)).to_numpy()
    # error codes by verb/resource/code
    e = rq[err].assign(_in=inw[err])
    if len(e):
        g = e.groupby(["verb", "resource", "code"], dropna=False)["_in"].agg(["sum", "count"]).reset_index()
        g["n_in"] = g["sum"].astype(int)
        g["n_out"] = (g["count"] - g["sum"]).astype(int)
        g["rate_in"] = g["n_in"] / win_s * 60
        g["rate_out"] = g["n_out"] / rest_s * 60
        hot = g[(g["n_in"] > 0) & ((g["rate_in"] >= 2 * g["rate_out"]) | (not comparable))]
        hot = hot.sort_values("n_in", ascending=False)
        if len(hot):
            rows = e[e["_in"]]
            ev = [Evidence(ctx.where(r["source_id"], r["line_no"]), _req_text(r)) for _, r in rows.head(4).iterrows()]
            parts = [f"{int(r.n_in)}× {r.code} on {r.verb} {r.resource or '(non-resource)'}"
                     + (f" (rest of run: {int(r.n_out)})" if comparable else "") for r in hot.head(6).itertuples()]
            n_in = int(hot["n_in"].sum())
            ctx.add("error" if n_in >= 5 else "warning", f"{n_in} error responses (405/409/429/5xx) in the window",
                    "In the window: " + "; ".join(parts) + f". Window {_dur(win_s)}, rest {_dur(rest_s)}"
                    + ("." if comparable else " (too little of the run outside the window to compare)."),
                    ev, "apiserver_errors", 64 if n_in >= 5 else 52)
            res["errors_in_window"] = n_in
    # latency percentiles in vs out
    nl = ~lr & rq["latency_s"].notna().to_numpy()
    a, b = rq["latency_s"].to_numpy()[nl & inw], rq["latency_s"].to_numpy()[nl & ~inw]
    if len(a) >= 20 and len(b) >= 20 and comparable:
        pa = [stats.percentile(a, p) for p in (0.5, 0.99)]
        pb = [stats.percentile(b, p) for p in (0.5, 0.99)]
        res["latency"] = {"window": {"n": len(a), "p50_s": pa[0], "p99_s": pa[1]},
                          "rest": {"n": len(b), "p50_s": pb[0], "p99_s": pb[1]}}
        if not (pa[1] > 2 * pb[1] and pa[1] > 0.5):
            ctx.add("info", f"API latency in the window is like the rest of the run (p99 {_dur(pa[1])} vs {_dur(pb[1])})",
                    f"Non-long-running requests: window n={len(a)} p50 {_dur(pa[0])} p99 {_dur(pa[1])}; "
                    f"rest n={len(b)} p50 {_dur(pb[0])} p99 {_dur(pb[1])} (nearest rank). The apiserver was not slow.",
                    [], "apiserver_latency", 22)
        else:
            slow = rq[nl & inw].nlargest(3, "latency_s")
            ctx.add("warning", f"API latency p99 {_dur(pa[1])} in the window vs {_dur(pb[1])} in the rest of the run",
                    f"Non-long-running requests: window n={len(a)} p50 {_dur(pa[0])} p99 {_dur(pa[1])}; "
                    f"rest n={len(b)} p50 {_dur(pb[0])} p99 {_dur(pb[1])} (nearest rank).",
                    [Evidence(ctx.where(r["source_id"], r["line_no"]), _req_text(r)) for _, r in slow.iterrows()],
                    "apiserver_latency", 55)
    # clients that went silent: the controllers, and each node's kubelet (audit user system:node:<name>)
    silent = []
    groups = [(comp, rq[rq["client"] == comp]) for comp in ("kube-controller-manager", "kube-scheduler")]
    if "user" in rq:
        nodes_u = rq[rq["user"].fillna("").str.startswith("system:node:")]
        groups += [(f"kubelet of {u[len('system:node:'):]}", g) for u, g in nodes_u.groupby("user")]
    for comp, c in groups:
        if len(c) < 10:
            continue
        tc = c["start_ts"].fillna(c["ts"])
        before = int((tc < w0).sum())
        inside = int(((tc >= w0) & (tc <= w1)).sum())
        if before >= 10 and inside == 0 and win_s >= 30:
            last = c.loc[tc[tc < w0].idxmax()]
            silent.append((comp, before, last))
    node_silent = [x for x in silent if x[0].startswith("kubelet of ")]
    silent = [x for x in silent if not x[0].startswith("kubelet of ")]
    if node_silent:
        ctx.add("error", f"{len(node_silent)} kubelet(s) went silent in the window: "
                + ", ".join(x[0][len("kubelet of "):] for x in node_silent[:5]),
                "; ".join(f"{x[0]}: {x[1]} requests before the window, last at {_hms(x[2]['ts'])}" for x in node_silent[:5])
                + ". A kubelet that stops talking to the apiserver stops starting pods and reporting status.",
                [Evidence(ctx.where(x[2]["source_id"], x[2]["line_no"]), "last request: " + _req_text(x[2]))
                 for x in node_silent[:4]], "silent_kubelets", 67)
    if silent:
        lastp = stall["last"] if stall is not None else None
        work_left = not idle_ok and (lastp is None or (not pd.isna(lastp.get("expected"))
                                                       and lastp["created"] < lastp["expected"])
                                     or (not pd.isna(lastp.get("waiting")) and lastp["waiting"] > 0))
        ctx.add("error" if work_left else "info", "silent clients: " + ", ".join(s[0] for s in silent) + " sent no requests in the window",
                "; ".join(f"{s[0]}: {s[1]} requests before the window, last at {_hms(s[2]['ts'])}" for s in silent)
                + (". A controller that stops talking to the apiserver stops creating or binding pods." if work_left else
                   ". Expected here: every pod was already created and scheduled, so they had nothing left to do."),
                [Evidence(ctx.where(s[2]["source_id"], s[2]["line_no"]), "last request: " + _req_text(s[2])) for s in silent],
                "silent_clients", 66 if work_left else 20)
    # watch restarts
    w = rq[rq["verb"] == "watch"]
    if len(w):
        tw = w["start_ts"].fillna(w["ts"])
        wi = int(((tw >= w0) & (tw <= w1)).sum())
        rate_in, rate_out = wi / win_s * 60, (len(w) - wi) / rest_s * 60
        res["watches"] = {"window": wi, "rest": len(w) - wi}
        if wi >= 5 and comparable and rate_in >= 3 * max(rate_out, 1e-9):
            ev = [Evidence(ctx.where(r["source_id"], r["line_no"]), _req_text(r))
                  for _, r in w[((tw >= w0) & (tw <= w1)).to_numpy()].head(3).iterrows()]
            ctx.add("warning", f"{wi} watch (re)starts in the window ({rate_in:.1f}/min vs {rate_out:.1f}/min)",
                    "Clients re-established watches much more often than in the rest of the run (relists, broken "
                    "watch streams).", ev, "watch_restarts", 42)
    return res


_TRACE_METHOD = {"get": "GET", "list": "GET", "watch": "GET", "create": "POST", "update": "PUT", "patch": "PATCH",
                 "delete": "DELETE", "deletecollection": "DELETE"}


def trace_url(name, url) -> str:
    """The request path of a Trace block: its ``url`` field, else (old formats, ``Trace "Get /api/v1/…"``)
    the path in its name; "" when neither has one."""
    if isinstance(url, str) and url:
        return url
    m = re.match(r'\s*"?[A-Za-z]+ (/[^\s"]*)', name if isinstance(name, str) else "")
    return m.group(1) if m else ""


def trace_long_running(name, url) -> bool:
    """True for a Trace of a request that lasts as long as its client wants: a watch, a proxy/exec/attach/
    port-forward, or a pod log read (``Get …/pods/X/log``: the handler's trace spans the stream, and old
    formats print the path without ``?follow=true``) — RequestInfo's long-running rule
    (:func:`kubelog.formats.requestinfo.classify_one`) plus every ``log`` read."""
    from ..formats.requestinfo import classify_one
    u = trace_url(name, url)
    if not u:
        return False
    m = re.match(r'\s*"?([A-Za-z]+)', name if isinstance(name, str) else "")
    verb = m.group(1).lower() if m else "get"
    method = _TRACE_METHOD.get(verb, verb.upper())
    info = classify_one(method, u)
    return bool(info["long_running"] or verb == "watch" or (method == "GET" and info["subresource"] == "log"))


def _traces(ctx: _Ctx, w0, w1) -> None:
    tr = ctx.table("traces", columns=["ts", "started_ts", "name", "total_s", "url", "user_agent", "source_id", "line_no"])
    if not len(tr):
        return
    tr = tr.dropna(subset=["total_s"])
    pairs = tr[["name", "url"]].drop_duplicates()
    lr_keys = {(n, u) for n, u in pairs.itertuples(index=False) if trace_long_running(n, u)}
    lr = np.array([(n, u) in lr_keys for n, u in tr[["name", "url"]].itertuples(index=False)], dtype=bool)
    long_tr = tr[lr & (tr["total_s"] >= 1.0).to_numpy()]
    if len(long_tr):
        lt = long_tr.sort_values("total_s", ascending=False)
        ctx.add("info", f"{len(lt)} Trace block(s) of long-running requests (pod log reads, watches), longest "
                        f"{_dur(float(lt['total_s'].iloc[0]))}",
                "A pod log follow or a watch lasts as long as its client reads; its Trace says nothing about "
                "storage or apiserver slowness, so these are left out of the slow-request traces.",
                [Evidence(ctx.where(r["source_id"], r["line_no"]),
                          f'Trace "{_first_line(r["name"], 120)}"'
                          + (f' {trace_url(None, r["url"])}' if isinstance(r["url"], str) and r["url"] else "")
                          + f' total {_dur(r["total_s"])} (ended {_hms(r["ts"])})')
                 for _, r in lt.head(2).iterrows()], "traces_long_running", 14)
    tr = tr[~lr]
    if w0 is not None:
        inw = (tr["ts"] >= w0) & (tr["ts"] <= w1 + pd.Timedelta(minutes=1))
    else:
        inw = pd.Series(True, index=tr.index)
    slow = tr[tr["total_s"] >= 1.0]
    if not len(slow):
        return
    top = slow.sort_values("total_s", ascending=False)
    n_in = int(inw[slow.index].sum())
    mx = float(top["total_s"].iloc[0])
    ev = [Evidence(ctx.where(r["source_id"], r["line_no"]),
                   f'Trace "{_first_line(r["name"], 120)}" total {_dur(r["total_s"])} (ended {_hms(r["ts"])})')
          for _, r in top.head(4).iterrows()]
    kinds = top["name"].fillna("").str.split(" ").str[0].value_counts().head(5)
    sev = "error" if mx >= 30 else ("warning" if mx >= 5 else "info")
    where = f", {n_in} of them in the window" if w0 is not None else ""
    ctx.add(sev, f"{len(slow)} slow-request Trace blocks, longest {_dur(mx)}",
            f"Trace blocks ≥ 1 s{where}: " + ", ".join(f"{k or '?'} {v}" for k, v in kinds.items())
            + (". Traces at the 1-minute request timeout mean storage (etcd) calls were not answering." if mx >= 55 else "."),
            ev, "traces", 60 if mx >= 30 else (44 if mx >= 5 else 32))


def _events(ctx: _Ctx, w0, w1) -> None:
    ev = ctx.table("events", columns=["ts", "type", "reason", "message", "count", "object_kind", "object_name",
                                             "host", "source_id", "line_no"])
    if not len(ev):
        return
    # Warning events, plus the node controller's NodeNotReady and evictions, which are type Normal
    warn = ev[(ev["type"] == "Warning") | ev["reason"].isin(["NodeNotReady", "Evicted", "OOMKilling"])]
    if not len(warn):
        return
    cnt = warn.assign(n=warn["count"].fillna(1)).groupby("reason")["n"].sum().sort_values(ascending=False)
    evi = [Evidence(ctx.where(r["source_id"], r["line_no"]),
                    f'{_hms(r["ts"])} {r["type"]} {r["reason"]} {r["object_kind"]}/{r["object_name"]}: {_first_line(r["message"], 160)}')
           for _, g in warn.groupby("reason", sort=False) for _, r in g.head(1).iterrows()][:4]
    serious = ("NodeNotReady", "Evicted", "FailedScheduling", "OOMKilling")
    sev = "error" if any(r in cnt.index for r in serious) else "warning"
    det = "Warning events recorded by the cluster (count summed)."
    if w0 is not None:
        inw = warn[(warn["ts"] >= w0) & (warn["ts"] <= w1)]
        det += (f" {int(inw['count'].fillna(1).sum())} of them in the window"
                + (": " + ", ".join(f"{k} ×{int(v)}" for k, v in inw.assign(n=inw["count"].fillna(1))
                                   .groupby("reason")["n"].sum().sort_values(ascending=False).head(5).items())
                   if len(inw) else "") + ".")
    ctx.add(sev, f"{len(warn)} Warning events ({int(cnt.sum())} with repeats): "
            + ", ".join(f"{k} ×{int(v)}" for k, v in cnt.head(5).items()),
            det, evi, "events", 50 if sev == "error" else 40)


def _nodes(ctx: _Ctx) -> None:
    nt = ctx.table("node_transitions")
    if not len(nt):
        return
    nr = nt[nt["milestone"] == "notready"]
    if not len(nr):
        return
    nodes = nr["node"].unique()
    ctx.add("error", f"{len(nodes)} node(s) became NotReady: " + ", ".join(map(str, nodes[:5])),
            "Nodes whose Ready condition went false during the run.",
            [Evidence(ctx.where(r["source_id"], r["line_no"]), f"{_hms(r['ts'])} {r['node']} NotReady ({r['origin']})")
             for _, r in nr.head(4).iterrows()], "nodes_notready", 63)


def _stuck_pods(ctx: _Ctx) -> dict | None:
    """Pods that were scheduled but never started, or never scheduled, grouped by node."""
    pt = ctx.table("pod_transitions", columns=["namespace", "pod", "node", "milestone", "ts", "origin", "detail",
                                                      "source_id", "line_no"])
    if not len(pt):
        return None
    ms = pt.groupby(["namespace", "pod"])["milestone"].agg(set)
    started = ms.map(lambda s: bool(s & _STARTED))
    scheduled = ms.map(lambda s: bool(s & {"scheduled", "bound"}))
    # absence of a start only counts where a source would have shown it: an object dump/watch that
    # holds the pod, or a kubelet log of the pod's node
    obj = set(map(tuple, pt.loc[pt["origin"].isin(_OBJECT_ORIGINS), ["namespace", "pod"]].drop_duplicates().to_numpy()))
    kub_nodes = set(pt.loc[pt["origin"] == "kubelet", "node"].dropna().astype(str))
    node_of_pod = pt.dropna(subset=["node"]).groupby(["namespace", "pod"])["node"].first()

    def covered(key) -> bool:
        if key in obj:
            return True
        n = node_of_pod.get(key)
        return n is not None and (n in kub_nodes or any(str(n).endswith("-" + k) for k in kub_nodes))

    cov = pd.Series([covered(k) for k in ms.index], index=ms.index, dtype=bool)
    det = pt.loc[pt["origin"].isin(_OBJECT_ORIGINS) & pt["detail"].notna(), ["namespace", "pod", "detail", "source_id",
                                                                              "line_no"]]
    term = det[det["detail"].str.contains(r'"phase": ?"(?:Failed|Succeeded)"', regex=True)]
    terminal = set(map(tuple, term[["namespace", "pod"]].to_numpy()))
    cov &= ~pd.Series([k in terminal for k in ms.index], index=ms.index, dtype=bool)
    failed_pods = term[term["detail"].str.contains(r'"phase": ?"Failed"', regex=True)].drop_duplicates(["namespace", "pod"])
    # a pod deleted within a minute of being scheduled (scale-down, cleanup) had no time to start
    sched_ts = pt[pt["milestone"].isin(["scheduled", "bound"])].groupby(["namespace", "pod"])["ts"].min()
    del_ts = pt[pt["milestone"] == "deleted"].groupby(["namespace", "pod"])["ts"].min()
    quick = ((del_ts - sched_ts).dt.total_seconds() < 60).reindex(ms.index).fillna(False).astype(bool)
    pending = ms[scheduled & ~started & cov & ~quick].index
    unsched = ms[~scheduled & ~started & cov & ms.map(lambda s: "created" in s)].index
    res = {"pending": len(pending), "unscheduled": len(unsched), "by_node": {}, "evidence": []}
    if len(failed_pods):
        reasons = failed_pods["detail"].str.extract(r'"reason": ?"([^"]+)"', expand=False).fillna("no reason")
        res["failed"] = {"count": len(failed_pods), "reasons": reasons.value_counts().to_dict(),
                         "evidence": [Evidence(ctx.where(r["source_id"], r["line_no"]),
                                               f"pod {r['namespace']}/{r['pod']} {r['detail']}")
                                      for _, r in failed_pods.head(3).iterrows()]}
    if not len(pending) and not len(unsched):
        return res if "failed" in res else None
    pt_i = pt.set_index(["namespace", "pod"])
    if len(pending):
        rows = pt_i.loc[pending].reset_index()
        node_of = rows.dropna(subset=["node"]).groupby(["namespace", "pod"])["node"].first()
        by_node = node_of.value_counts()
        res["by_node"] = {str(k): int(v) for k, v in by_node.items()}
        res["pods"] = [(str(p), str(n)) for (_, p), n in node_of.items()]
        sched = rows[rows["milestone"].isin(["scheduled", "bound"])].sort_values("ts")
        res["evidence"] = [Evidence(ctx.where(r["source_id"], r["line_no"]),
                                    f"{_hms(r['ts'])} pod {r['pod']} {r['milestone']} on {r['node']} ({r['origin']}); never started")
                           for _, r in sched.drop_duplicates(["namespace", "pod"]).head(3).iterrows()]
        all_nodes = pt.loc[pt["milestone"].isin(["scheduled", "bound"]), "node"].dropna().nunique()
        res["all_nodes"] = int(all_nodes)
        # kubelet log of the node(s): last record
        m = ctx.table("messages", columns=["ts", "component", "level", "file", "line", "msg", "source_id", "line_no"])
        if len(m):
            for node in list(by_node.index)[:2]:
                km = m[(m["component"] == "kubelet") & m["msg"].fillna("").str.contains(str(node), regex=False)]
                if not len(km):
                    srcs = [i["source_id"] for i in ctx.run.manifest.get("inputs", []) if str(node) in str(i.get("path", ""))]
                    km = m[m["source_id"].isin(srcs)]
                if len(km):
                    last = km.sort_values("ts").iloc[-1]
                    res["evidence"].append(Evidence(ctx.where(last["source_id"], last["line_no"]),
                                                    f"last kubelet record of {node}: " + _msg_text(last)))
    return res


def _arrow_text(s: pd.Series):
    """``s`` as an Arrow string array (converted once, matched many times), or None."""
    try:
        import pyarrow as pa
        return pa.array(s.to_numpy(dtype=object), type=pa.large_string())
    except Exception:  # noqa: BLE001
        return None


def _contains(s: pd.Series, pat: str, arr=None) -> pd.Series:
    """Boolean mask of ``s`` matching ``pat``: RE2 through pyarrow on ``arr`` when given, else Python ``re``."""
    if arr is not None:
        try:
            import pyarrow.compute as pc
            m = pc.match_substring_regex(arr, pat)
            return pd.Series(m.fill_null(False).to_numpy(zero_copy_only=False), index=s.index, dtype=bool)
        except Exception:  # noqa: BLE001 - a pattern RE2 rejects: use Python's re
            pass
    return s.str.contains(pat, regex=True)


def _signatures(ctx: _Ctx, w0, w1, rq: pd.DataFrame) -> list[str]:
    found = []
    m = ctx.table("messages", columns=["ts", "component", "level", "file", "line", "msg", "source_id", "line_no"])
    tl = ctx.table("test_log", columns=["ts", "level", "msg", "source_id", "line_no"])
    sp = ctx.table("test_specs", columns=["failure_message", "source_id", "line_no"])
    ev = ctx.table("events", columns=["ts", "reason", "message", "type", "source_id", "line_no"])
    texts = []
    if len(m):
        texts.append((m, m["msg"].fillna(""), _msg_text))
    if len(tl):
        texts.append((tl, tl["msg"].fillna(""), _test_text))
    if len(sp):
        texts.append((sp, sp["failure_message"].fillna(""), lambda r: _first_line(_core_message(r["failure_message"]))))
    ts_ = ctx.table("trace_steps", columns=["trace_id", "msg", "fields", "source_id", "line_no"])
    if len(ts_):
        texts.append((ts_, ts_["msg"].fillna("") + " " + ts_["fields"].fillna(""),
                      lambda r: f"Trace[{r['trace_id']}] step: {_first_line(r['msg'], 120)} {_first_line(r['fields'], 120)}"))
    if len(ev):
        texts.append((ev, (ev["reason"].fillna("") + " " + ev["message"].fillna("")),
                      lambda r: f"{_hms(r['ts'])} {r['type']} {r['reason']}: {_first_line(r['message'], 160)}"))
    # one Arrow copy per text column, only worth it for large tables
    texts = [(df, s, fmt, _arrow_text(s) if len(s) > 50_000 else None) for df, s, fmt in texts]
    for kind, sev, pat, title in SIGNATURES:
        total, evid, first_ts, last_ts, n_win = 0, [], None, None, 0
        rx = re.compile(pat)
        for df, s, fmt, arr in texts:
            hit = _contains(s, pat, arr)
            n = int(hit.sum())
            if not n:
                continue
            total += n
            rows = df[hit.to_numpy()]
            if "ts" in rows and rows["ts"].notna().any():
                if w0 is not None:
                    n_win += int(((rows["ts"] >= w0) & (rows["ts"] <= w1)).sum())
                a, b = rows["ts"].min(), rows["ts"].max()
                first_ts = a if first_ts is None else min(first_ts, a)
                last_ts = b if last_ts is None else max(last_ts, b)
            # one example per distinct matched text first (e.g. both "context deadline exceeded" and a grpc error)
            what = s[hit].head(500).map(lambda x: (rx.search(x) or [""])[0])
            firsts = list(what.drop_duplicates().index)
            order = firsts + [i for i in what.index if i not in set(firsts)]
            for i in order[: min(2, max(0, 5 - len(evid)))]:
                text = fmt(df.loc[i])
                mt = rx.search(s.at[i])
                if mt and mt.group(0)[:60] not in text:  # the match is further into the record: show it
                    a, b = max(0, mt.start() - 80), min(len(s.at[i]), mt.end() + 80)
                    text += " … " + s.at[i][a:b].replace("\n", " ") + (" …" if b < len(s.at[i]) else "")
                evid.append(Evidence(ctx.where(df.at[i, "source_id"], df.at[i, "line_no"]), text))
        extra = ""
        if kind == "lsar_405" and len(rq):
            h = rq[(rq["resource"] == "localsubjectaccessreviews") & (rq["code"] == 405)]
            total += len(h)
            evid += [Evidence(ctx.where(r["source_id"], r["line_no"]), _req_text(r)) for _, r in h.head(2).iterrows()]
            ns = rq[(rq["resource"] == "namespaces") & (rq["verb"] == "create") & (rq["subresource"].fillna("") == "")]
            if total and len(ns):
                sp = (ns["ts"].max() - ns["ts"].min()).total_seconds()
                extra = (f" Namespace creation: {len(ns)} POST namespaces over {_dur(sp)}"
                         + (f" ({len(ns) / sp * 60:.1f}/min)" if sp > 0 else "")
                         + f", latency p99 {_dur(stats.percentile(ns['latency_s'].to_numpy(), 0.99))}.")
        if not total:
            continue
        found.append(kind)
        span = f", {_hms(first_ts)} → {_hms(last_ts)}" if first_ts is not None else ""
        if w0 is not None:
            span += f"; {n_win} in the window"
        if sev == "error" and total < 3:
            sev = "warning"  # one or two lines of an error signature: worth a look, not an explanation
        score = {"critical": 86, "error": 68, "warning": 46, "info": 30}[sev] + min(6, math.log10(total + 1) * 2)
        ctx.add(sev, f"{title} ({total} lines)", f"Known signature '{kind}' matched {total} records{span}.{extra}", evid,
                f"signature:{kind}", score)
    # 403 floods by resource (node authorizer before registration)
    if len(rq):
        f4 = rq[rq["code"] == 403]
        if len(f4) >= 20:
            g = f4.groupby(["resource", "client"], dropna=False).size().sort_values(ascending=False)
            (res, cl), n = g.index[0], int(g.iloc[0])
            extra = (" A kubelet refused by the node authorizer on its own csinodes/node objects has not registered "
                     "its Node." if res in ("csinodes", "nodes", "leases") and cl == "kubelet" else "")
            ctx.add("error" if "node_not_found" in found else "warning",
                    f"{len(f4)} × 403 Forbidden, mostly {res} by {cl} ({n})",
                    "403 by resource/client: " + ", ".join(f"{r or '-'}/{c} {int(v)}" for (r, c), v in g.head(5).items())
                    + "." + extra,
                    [Evidence(ctx.where(r["source_id"], r["line_no"]), _req_text(r))
                     for _, r in f4[f4["resource"] == res].head(2).iterrows()], "apiserver_403", 60 if extra else 45)
    return found


def _templates(ctx: _Ctx, w0, w1, span_s) -> None:
    m = ctx.table("messages", columns=["ts", "component", "level", "file", "line", "msg", "source_id", "line_no"])
    if not len(m):
        return
    if w0 is None:
        _error_templates(ctx, m)
        return
    from .templates import compare_windows
    m = m.dropna(subset=["ts"]).reset_index(drop=True)
    if len(m) > 500_000:
        m = m[m["level"].isin(["E", "W", "F"]) | ((m["ts"] >= w0 - pd.Timedelta(minutes=10)) & (m["ts"] <= w1))]
        m = m.reset_index(drop=True)
    inw = ((m["ts"] >= w0) & (m["ts"] <= w1)).to_numpy()
    if inw.all() or not inw.any():
        return
    win_s = max((w1 - w0).total_seconds(), 1.0)
    rest_s = span_s - win_s
    if not (rest_s >= 60 or rest_s >= 0.5 * win_s):
        return  # the window is nearly the whole run: nothing to compare with
    c = compare_windows(m["msg"], inw, window_s=win_s, rest_s=max(span_s - win_s, 1.0))
    if not len(c):
        return
    top = c.head(5)
    ev = []
    for r in top.itertuples():
        if r.first_row >= 0:
            row = m.iloc[int(r.first_row)]
            ev.append(Evidence(ctx.where(row["source_id"], row["line_no"]), _msg_text(row)))
    lines = [f"'{_first_line(r.template, 120)}' {r.n_window}× in window"
             + (" (new)" if r.new else f" vs {r.n_rest}× before ({r.ratio:.0f}× the rate)") for r in top.itertuples()]
    ctx.add("info", f"{len(c)} log templates new or much more frequent in the window",
            "Drain templates of messages: " + "; ".join(lines) + ".", ev[:4], "templates", 36)


def _error_templates(ctx: _Ctx, m: pd.DataFrame) -> None:
    """Without a window: the most frequent templates of E/F-level messages of the run."""
    from .templates import mine_templates
    e = m[m["level"].isin(["E", "F"])].reset_index(drop=True)
    if len(e) < 3:
        return
    ids, t = mine_templates(e["msg"])
    t = t.sort_values("count", ascending=False).head(5)
    ev = []
    for tid in t["template_id"]:
        row = e.iloc[int(np.argmax(ids == tid))]
        ev.append(Evidence(ctx.where(row["source_id"], row["line_no"]), _msg_text(row)))
    ctx.add("info", f"{len(e)} error-level log records in {len(set(ids.tolist()))} templates",
            "Most frequent Drain templates of E/F messages: "
            + "; ".join(f"'{_first_line(r.template, 120)}' ×{r.count}" for r in t.itertuples()) + ".",
            ev[:4], "templates", 34)


def _run_span(ctx: _Ctx, rq: pd.DataFrame):
    ts = []
    for name in ("messages", "traces"):
        d = ctx.table(name, columns=["ts", "clock"])
        if len(d) and name == "messages" and (d["clock"].fillna("") != "test").any():
            d = d[d["clock"].fillna("") != "test"]  # the test machine's clock is another domain
        if len(d):
            ts += [d["ts"].min(), d["ts"].max()]
    if len(rq):
        ts += [rq["ts"].min(), rq["ts"].max()]
    ts = [t for t in ts if t is not None and not pd.isna(t)]
    return (min(ts), max(ts)) if ts else (None, None)


def _error_burst(ctx: _Ctx, rq: pd.DataFrame):
    """Last burst of E/F messages and 5xx/429/0 responses: (start, end) or None."""
    t = []
    m = ctx.table("messages", columns=["ts", "level"])
    if len(m):
        t.append(m.loc[m["level"].isin(["E", "F"]), "ts"])
    if len(rq):
        c = rq["code"].fillna(-1)
        t.append(rq.loc[(c >= 500) | (c == 429), "start_ts"].fillna(rq["ts"]))
    if not t:
        return None
    s = pd.concat(t).dropna().sort_values()
    if len(s) < 3:
        return None
    gaps = s.diff().dt.total_seconds().fillna(0).to_numpy()
    cut = np.nonzero(gaps > 120)[0]
    start = s.iloc[cut[-1]] if len(cut) else s.iloc[0]
    if (s >= start).sum() < 3:
        return None
    return start, s.iloc[-1]


# ---------------------------------------------------------------------------------------------- main

def _safe(ctx: _Ctx, name: str, fn, *args):
    """Run one analysis; a failure of it becomes an info finding instead of losing the diagnosis."""
    try:
        return fn(*args)
    except Exception as e:  # noqa: BLE001 - one analysis must not take the others down
        ctx.add("info", f"the {name} analysis could not run: {type(e).__name__}: {e}",
                "This part of the diagnosis is missing; the other findings are unaffected.", [], "internal_error", 0)
        return None


def diagnose(run: Run) -> Diagnosis:
    """Explain a failed (or healthy) run from its tables.

    Parameters
    ----------
    run : kubelog.run.Run
        An ingested run.

    Returns
    -------
    Diagnosis
        ``failed``, ``summary``, ranked ``findings`` (each with file:line evidence),
        ``window`` examined (apiserver clock) and the ``failures`` found.

    Examples
    --------
    >>> d = diagnose(open_run("out/run"))   # doctest: +SKIP
    >>> d.findings[0].title                  # doctest: +SKIP
    'timed out waiting for all 90 Density Pods running: created 90/90, running 79, pending 11 unchanged since
    22:28:32 (test clock) — 11 pods stuck Pending on hollow-node-hhgtm (11)'
    """
    ctx = _Ctx(run)
    failures = _safe(ctx, "failures", _collect_failures, ctx) or []
    fatal = [f for f in failures if f.fatal]
    failed = bool(fatal)
    off = _safe(ctx, "test clock offset", _test_offset, ctx) or {}
    theta = off.get("offset_s") or 0.0
    rq = _safe(ctx, "requests", _requests, ctx)
    rq = rq if rq is not None else pd.DataFrame()
    span0, span1 = _safe(ctx, "run span", _run_span, ctx, rq) or (None, None)
    span_s = (span1 - span0).total_seconds() if span0 is not None else 0.0

    # --- the failure findings, with their wait, stall and window
    window = {}
    primary_stall = None
    primary_finding = None
    failure_finding = {}
    for i, f in enumerate(failures):
        sc = _safe(ctx, "test-log context", _spec_context, ctx, f) or {}
        moment = _failure_moment(f, sc.get("rows"))
        if moment is not None:  # the nearest STEP is the last one before the failure, not after it
            rows = sc.get("section_rows") if sc.get("section_rows") is not None else sc["rows"]
            st = rows[(rows["level"] == "STEP") & (rows["line_no"] < moment["line_no"])]
            if len(st):
                sc["step"] = st.iloc[-1]
                sc.pop("step_outside", None)
        cut_line = None
        if sc.get("section_rows") is not None and len(sc["section_rows"]):
            cut_line = int(sc["section_rows"]["line_no"].max()) + 1
        stall = _safe(ctx, "progress", _progress_stall, ctx, f, cut_line or f.line_no) if f.kind in (
            "timeout", "only_n_started", "start_pods", "measurement", "other", "cl2_status", "api_not_found",
            "unfinished", "pods_not_running") else None
        ev = list(f.evidence)
        detail = [f"{f.what}: {f.message}" + (f" — {f.meaning}." if f.meaning else "")]
        wait_title = None
        title = f"{_first_line(f.message, 160)} — {_first_line(f.what, 72)}"
        fail_ts = None
        if sc.get("step") is not None:
            st = sc["step"]
            detail.append(f"Nearest STEP: '{_first_line(st['msg'])}'" + (
                f" (no STEP inside [{sc.get('tag')}] before the failure)." if sc.get("step_outside") else "."))
            ev.append(Evidence(ctx.where(st["source_id"], st["line_no"]), _test_text(st)))
        if sc.get("section") is not None:
            detail.append(f"Failed in [{sc.get('tag')}] ({_first_line(sc['section']['msg'], 80)}).")
        if sc.get("wait_line") is not None:
            wl = sc["wait_line"]
            detail.append(f"Last explicit wait: '{_first_line(wl['msg'])}'.")
            ev.append(Evidence(ctx.where(wl["source_id"], wl["line_no"]), _test_text(wl)))
        if sc.get("last_line") is not None:
            fail_ts = sc["last_line"]["ts"]
        if moment is not None:
            fail_ts = moment["ts"]
            ev.insert(1, Evidence(ctx.where(moment["source_id"], moment["line_no"]), _test_text(moment)))
        m_stamp = re.match(r"([A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2}\.\d{3}): ", f.message or "")
        if m_stamp and fail_ts is not None and not pd.isna(fail_ts):
            # a Failf message carries its own stamp (test clock, year from the log's other lines)
            try:
                stamped = pd.Timestamp(f"{fail_ts.year} {m_stamp.group(1)}", tz="UTC")
                fail_ts = max(fail_ts, stamped)
            except ValueError:
                pass
        own = True
        wait = None  # the wait that failed: {"start", "goal", "limit_s", "reason"}
        has_ts = fail_ts is not None and not pd.isna(fail_ts)
        kw = _known_wait(f) if has_ts and f.origin == "e2e-log" else None
        if kw is not None:
            start = fail_ts - pd.Timedelta(seconds=kw["limit_s"])
            st = _step_at(sc["rows"], start, int(moment["line_no"]) if moment is not None else int(f.line_no)) \
                if sc.get("rows") is not None else None
            wait = {"start": start, "goal": kw["goal"], "limit_s": kw["limit_s"],
                    "reason": f"the wait that failed: {kw['goal']} ({_dur(kw['limit_s'])} limit)"}
            wait_title = (f"timed out after {_dur(kw['limit_s'])} waiting for {kw['goal']} "
                          f"({_hms(start)} → {_hms(fail_ts)}, test clock)"
                          + (f" in step '{_first_line(st['msg'], 90)}'" if st is not None else "")
                          + f" — {_first_line(f.what, 72)}")
            detail.append(f"The failure text is that of a wait with a fixed limit ({kw['source']}): it waited from "
                          f"about {_hms(start)} to {_hms(fail_ts)} (test clock)"
                          + (f", during STEP '{_first_line(st['msg'])}'." if st is not None else "."))
            if st is not None:
                ev.append(Evidence(ctx.where(st["source_id"], st["line_no"]), _test_text(st)))
        if sc.get("wait_line") is not None and has_ts:
            wl = sc["wait_line"]
            mw = re.search(r"Waiting up to (\S+) for", str(wl["msg"]))
            limit = _go_dur(mw.group(1)) if mw else None
            if limit and not pd.isna(wl["ts"]):
                waited = (fail_ts - wl["ts"]).total_seconds()
                # the failing wait only if it could have run out at the failure: a wait that ended long
                # before (e.g. a kube-system check right after the spec header) is not it
                fits = 0.9 * limit <= waited <= limit + max(60.0, 0.1 * limit)
                if fits and wait is None:
                    wait = {"start": wl["ts"], "goal": _first_line(wl["msg"], 120), "limit_s": limit,
                            "reason": f"the wait that failed: {_first_line(wl['msg'], 120)}"}
                    if f.kind == "timeout":
                        wait_title = (f"timed out in [{sc.get('tag')}]: {_first_line(wl['msg'], 120)} "
                                      f"(failed {_dur(waited)} later) — {_first_line(f.what, 72)}")
                detail.append(f"That wait started at {_hms(wl['ts'])} with a {_dur(limit)} timeout; the failure came "
                              f"{_dur(waited)} later" + (": it is not the wait that failed." if not fits else
                                                         (" (the timeout expired)." if waited >= 0.95 * limit else ".")))
        cc = _safe(ctx, "clusterloader2 context", _cl2_context, ctx, f) or {}
        if "Resource cleanup" in f.message:
            detail.append("It was waiting for the test's namespaces and objects to be deleted after the last step "
                          "(clusterloader2 cleanup), so the measurements were already taken.")
        if cc:
            at = cc["at"]
            if cc.get("step") is not None:
                st = cc["step"]
                detail.append(f"Nearest clusterloader2 step: {_first_line(st['msg'])} at {_hms(st['ts'])}.")
                ev.append(Evidence(ctx.where(st["source_id"], st["line_no"]), _msg_text(st)))
            if cc.get("previous") is not None:
                pv = cc["previous"]
                gap = (at["ts"] - pv["ts"]).total_seconds()
                detail.append(f"The error came {_dur(gap)} after the previous record ({_hms(pv['ts'])} → {_hms(at['ts'])}), "
                              "i.e. that is how long the wait ran." if gap >= 1 else "")
                if cc.get("step") is None or pv["line_no"] != cc["step"]["line_no"]:
                    ev.append(Evidence(ctx.where(pv["source_id"], pv["line_no"]), _msg_text(pv)))
            ev[0] = Evidence(ev[0].where, _msg_text(at))
            fail_ts = at["ts"]
        if stall is not None:
            last, since = stall["last"], stall["since"]
            fail_ts = max(fail_ts, last["ts"]) if fail_ts is not None and not pd.isna(fail_ts) else last["ts"]
            ran = (last["ts"] - stall["first"]["ts"]).total_seconds()
            what = str(stall["label"]).rstrip(": ")
            exp = last.get("expected")
            if not pd.isna(exp) and exp:
                goal = f"all {int(exp)} {what} running" if what.endswith("Pods") else f"all {int(exp)} pods of {what} running"
            else:
                goal = f"{what} to finish"
            stall_txt = (f"{_counters_text(last)} unchanged since {_hms(stall['since_ts'])} "
                         f"({stall['clock']} clock, until {_hms(fail_ts)})")
            # the series belongs to this failure unless the failing section (e.g. AfterEach) started after it
            sec_rows = sc.get("section_rows")
            own = not (sec_rows is not None and len(sec_rows) and f.origin == "e2e-log"
                       and int(last["line_no"]) < int(sec_rows["line_no"].min()))
            if not own:
                stall_txt = (f"{_counters_text(last)} unchanged since {_hms(stall['since_ts'])} "
                             f"({stall['clock']} clock, until {_hms(last['ts'])})")
                title = f"{wait_title or title}; earlier {what}: {stall_txt}"
            elif f.kind == "unfinished":
                title = f"{_first_line(f.message, 200)}, waiting for {goal}: {stall_txt}"
            elif f.kind in ("timeout", "only_n_started", "start_pods", "watch_timeout", "pods_not_running"):
                title = f"timed out waiting for {goal}: {stall_txt}"
            else:
                title = f"{title} — {what}: {stall_txt}"
            detail.append((f"It was waiting for {goal}." if own else
                           f"Before the failing [{sc.get('tag')}] section, the test was waiting for {goal}.")
                          + f" The progress series '{what}' ran {_dur(ran)} "
                          f"({_hms(stall['first']['ts'])} → {_hms(last['ts'])}); its last counters were "
                          f"{_counters_text(last)}, and {', '.join(stall['stalled'])} had not changed for "
                          f"{_dur(stall['stalled_s'])} (since {_hms(stall['since_ts'])}).")
            quiet = (fail_ts - last["ts"]).total_seconds() if fail_ts is not None and not pd.isna(fail_ts) else 0
            if quiet >= 60:
                detail.append(f"No progress line was printed after {_hms(last['ts'])}, {_dur(quiet)} before the failure.")
            dens = _density_timeout(f, stall)
            if dens is not None:
                detail.append(f"The density saturation wait has no printed timeout; density.go sets it to "
                              f"max(pods / 8 per s, 2m) = {_dur(dens)} for {int(exp)} pods "
                              f"(MinPodsPerSecondThroughput = 8, MinSaturationThreshold = 2m); the progress lines "
                              f"cover {_dur(ran)} of it (they start 10 s after the RCs are created).")
            elif sc.get("wait_line") is None:
                detail.append("The test did not print its timeout; the wait lasted at least "
                              f"{_dur(ran)}.")
            ev += [Evidence(ctx.where(since["source_id"], since["line_no"]),
                            f"first stalled: {_hms(since['ts'])} {what}: {_counters_text(since)}"),
                   Evidence(ctx.where(last["source_id"], last["line_no"]),
                            f"last: {_hms(last['ts'])} {what}: {_counters_text(last)}")]
            if primary_stall is None and f.fatal:
                primary_stall = (f, stall)
        if stall is None and wait_title:
            title = wait_title
        if f.fatal and not window and fail_ts is not None and f.origin in ("e2e-log", "cl2-log"):
            own_stall = stall is not None and own
            if wait is not None and not own_stall:
                start, reason = wait["start"], wait["reason"]
            elif stall is not None:
                start, reason = stall["since_ts"], f"stall of '{stall['label']}'"
            else:  # five minutes before the failure, never before the failing section started
                start, reason = fail_ts - pd.Timedelta(minutes=5), "5 minutes before the failure"
                begun = _spec_start(sc)
                if begun is not None and not pd.isna(begun) and begun > start and begun < fail_ts:
                    start, reason = begun, "from the start of the failing section to the failure"
            window = {"start_test": start, "end_test": fail_ts, "reason": reason, "finding": len(ctx.findings)}
        sev = "critical" if f.fatal else "error"
        score = (100 - i) if f.fatal else 74 - i
        if f.kind in ("pod_startup_slo", "api_slo", "pods_lost", "only_n_started", "timeout", "watch_timeout",
                      "unfinished", "pods_not_running"):
            score += 5
        infra = f.kind == "ssh" or (f.kind == "measurement" and re.search(r"action (?:start|gather) failed", f.message))
        if infra:
            score -= 20
            sev = "error" if f.fatal else "warning"
            detail.append("This is a failure of the measurement machinery (metrics/SSH access), not of the cluster.")
        if f.kind == "pod_startup_slo":
            ev += _slo_summary_evidence(ctx, f)
            val = _go_dur(f.groups.get("value", "")) if f.groups.get("value") else None
            thr = _go_dur(f.groups.get("threshold", "")) if f.groups.get("threshold") else (5.0 if val else None)
            if val is not None and thr:
                detail.append(f"The {f.groups.get('pct', '?')}th percentile {_dur(val)} is "
                              f"{_dur(val - thr)} ({(val - thr) / thr * 100:.1f} %) over the {_dur(thr)} threshold"
                              + ("" if f.groups.get("threshold") else " (density's default)")
                              + ("; seconds, not hours: a real miss, not a clock offset." if val < 600 else "."))
        mcall = re.search(r"measurement call (\w+) - (\S+) error", f.message)
        if mcall and mcall.group(1) in CL2_MEASUREMENTS:
            detail.append(f"Measurement {mcall.group(1)} (identifier {mcall.group(2)}) waits for / checks "
                          f"{CL2_MEASUREMENTS[mcall.group(1)]}.")
        if f.kind == "api_slo":
            api_ev, api_txt = _api_summary_evidence(ctx)
            ev += api_ev
            if api_txt:
                detail.append(api_txt)
        ev = [e for k, e in enumerate(ev) if e not in ev[:k]]
        ctx.add(sev, title, " ".join(d for d in detail if d), ev[:8], f"failure:{f.kind}", score)
        failure_finding[id(f)] = ctx.findings[-1]
        if primary_stall is not None and primary_stall[0] is f and primary_finding is None:
            primary_finding = ctx.findings[-1]

    # --- window on the apiserver clock
    w0 = w1 = None
    if window:
        w0 = window["start_test"] - pd.Timedelta(seconds=theta)
        w1 = window["end_test"] - pd.Timedelta(seconds=theta)
        wd = {"start": w0.isoformat(), "end": w1.isoformat(),
              "clock": "apiserver" if off else "test (no offset to the apiserver clock could be measured; assumed 0)",
              "reason": window["reason"],
              "test_start": window["start_test"].isoformat(), "test_end": window["end_test"].isoformat(),
              "test_offset_s": theta if off else None, "offset_source": off.get("source")}
    else:
        burst = None if failed and fatal and any(f.origin == "e2e-log" for f in fatal) else _safe(ctx, "error burst", _error_burst, ctx, rq)
        if burst is not None and span_s and (burst[1] - burst[0]).total_seconds() > 0.5 * span_s:
            wd = {"test_offset_s": theta if off else None, "offset_source": off.get("source"),
                  "reason": "errors throughout the run: no window to compare with the rest"}
            burst = None
        elif burst is not None:
            w0, w1 = burst
            wd = {"start": w0.isoformat(), "end": w1.isoformat(), "clock": "apiserver",
                  "reason": "last burst of error messages / 5xx / 429 responses",
                  "test_offset_s": theta if off else None, "offset_source": off.get("source")}
        else:
            wd = {"test_offset_s": theta if off else None, "offset_source": off.get("source")}

    # --- cause: pods stuck on nodes
    idle_ok = False
    stuck = _safe(ctx, "stuck pods", _stuck_pods, ctx)
    if stuck is not None and stuck.get("failed"):
        fp = stuck["failed"]
        ctx.add("warning", f"{fp['count']} pod(s) in phase Failed: " + ", ".join(f"{k} ×{v}" for k, v in fp["reasons"].items()),
                "Pods the object dump shows as Failed (evictions, errors).", fp["evidence"], "failed_pods", 47)
    if stuck is not None and (stuck["pending"] or stuck["unscheduled"]):
        by_node = stuck["by_node"]
        nodes_txt = ", ".join(f"{n} ({c})" for n, c in list(by_node.items())[:4])
        if len(by_node) > 4:
            nodes_txt = f"{len(by_node)} nodes: {nodes_txt}, …"
        concentrated = bool(by_node) and stuck.get("all_nodes", 0) >= 2 and len(by_node) <= stuck["all_nodes"] // 2
        missing = set()
        if primary_stall is not None:
            lp = primary_stall[1]["last"]
            missing.add(int(0 if pd.isna(lp.get("pending")) else lp.get("pending"))
                        + int(0 if pd.isna(lp.get("waiting")) else lp.get("waiting")))
        named = None  # a failure that names the controller whose pods are stuck
        for f in fatal:
            if f.kind == "only_n_started" and f.groups.get("got") and f.groups.get("want"):
                missing.add(int(f.groups["want"]) - int(f.groups["got"]))
            rc = f.groups.get("rc")
            if named is None and rc and any(p.startswith(rc + "-") for p, _ in stuck.get("pods", [])):
                named = f
        matches = (stuck["pending"] + stuck["unscheduled"]) in missing or named is not None
        if named is not None and primary_stall is None:
            primary_finding = failure_finding.get(id(named), primary_finding)
            idle_ok = stuck["unscheduled"] == 0  # every pod was created and bound: the controllers had no work
        if matches and primary_finding is None:
            primary_finding = next((x for x in ctx.findings if x.kind == "failure:only_n_started"), None)
        title = f"{stuck['pending']} pods scheduled but never started" + (f", all on {nodes_txt}" if concentrated else
                                                                          (f" ({nodes_txt})" if nodes_txt else ""))
        if stuck["unscheduled"]:
            title += f"; {stuck['unscheduled']} never scheduled"
        det = (f"Pod milestones (pod_transitions): {stuck['pending']} pods were bound to a node but never reported a "
               f"started/ready milestone; {stuck['unscheduled']} were created but never scheduled.")
        if concentrated:
            det += (f" They are concentrated on {len(by_node)} of {stuck.get('all_nodes')} nodes: the kubelet of "
                    f"{', '.join(by_node)} stopped starting pods.")
        if named is not None:
            det += f" They are the pods of {named.groups['rc']}, the controller the failure names."
        elif matches:
            det += " This is exactly the number the stalled progress counter is missing."
        ctx.add("critical" if matches else "error", title, det, stuck["evidence"][:5], "stuck_pods",
                99 if matches else (70 if concentrated else 55))
        if matches and primary_finding is not None:  # fold the cause into the failure's finding
            top = primary_finding
            top.score = max(top.score, 101.0)
            top.title += f" — {stuck['pending']} pods stuck Pending" + (f" on {nodes_txt}" if concentrated else "")
            top.detail += (f" Cause: {stuck['pending']} pods were scheduled but never started"
                           + (f", all on {nodes_txt}" if concentrated else "") + ".")
            top.evidence += stuck["evidence"][:3]

    _safe(ctx, "clock", _clock_findings, ctx, failures, off)
    _safe(ctx, "apiserver window", _apiserver_window, ctx, rq, w0, w1, span_s, primary_stall[1] if primary_stall else None,
          idle_ok)
    _safe(ctx, "traces", _traces, ctx, w0, w1)
    _safe(ctx, "events", _events, ctx, w0, w1)
    _safe(ctx, "nodes", _nodes, ctx)
    _safe(ctx, "signatures", _signatures, ctx, w0, w1, rq)
    _safe(ctx, "templates", _templates, ctx, w0, w1, span_s)
    if failed and primary_finding is not None:
        crit = [x for x in ctx.findings if x.kind.startswith("signature:") and x.severity == "critical"]
        if crit:
            primary_finding.detail += " Known signature(s) in this run: " + "; ".join(x.title for x in crit) + "."

    fs = sorted(ctx.findings, key=lambda x: (-x.score, SEVERITIES.index(x.severity)))
    for k, x in enumerate(fs, 1):
        x.rank = k
    if failed:
        ranked = [x for x in fs if x.kind.startswith("failure:") and x.severity == "critical"]
        summary = (f"{len(fatal)} failure(s): " + "; ".join(_first_line(x.title, 240) for x in ranked[:3])
                   + (f". Most likely: {fs[0].title}." if fs and fs[0] not in ranked[:3] else "."))
    else:
        nonfatal = [f for f in failures if not f.fatal]
        summary = "No failed spec, measurement or test status in this run."
        if nonfatal:
            summary += " Errors logged anyway: " + "; ".join(_first_line(f.message, 100) for f in nonfatal[:3]) + "."
        summary += f" {len(fs)} anomalies listed." if fs else " No anomalies found."
    suites = [(inp.get("info") or {}).get("suite") or {} for inp in run.manifest.get("inputs", [])]
    for su in suites:
        if su.get("ran") is not None and su.get("passed") is not None:
            summary += (f" Suite: ran {su.get('ran')} of {su.get('total', '?')} specs, {su.get('passed')} passed, "
                        f"{su.get('failed', 0)} failed" + (f", {su['seconds']:.0f} s" if su.get("seconds") else "") + ".")
            break
    return Diagnosis(failed, summary, fs, wd,
                     [{"what": f.what, "kind": f.kind, "message": f.message, "where": f.where, "fatal": f.fatal}
                      for f in failures])
