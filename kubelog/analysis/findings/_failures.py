"""Failures and their context, for the failure finding (failure.py) and the others that look at it:
which specs, measurements, statuses and jobs failed (:func:`collect_failures`), how their texts are
classified (docs/diagnose.md, :data:`FAILURE_KINDS`), the section and STEPs of the e2e log
around a failure, the wait that failed and the progress series that stalled."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

import pandas as pd

from .base import Ctx, Evidence, _dur, _first_line, _go_dur, _msg_text, _table, _test_text  # noqa: F401


#: the e2e framework's and clusterloader2's failure texts: (kind, regex, meaning)
FAILURE_KINDS = [
    (
        "watch_timeout",
        r"Timeout reached waiting for all Pods being observed by the watch",
        "the latency pods were not all observed by the watch (inverted-check bug, §4.4)",
    ),
    (
        "pod_startup_slo",
        r"too high (?:pod startup |(?P<metric>[\w ]+?) )?latency (?P<pct>\d+)th percentil\w*:? (?:got )?"
        r"(?P<value>[\dhmsµun.]+)(?: expected: (?P<threshold>[\dhmsµun.]+))?",
        "pod startup latency SLO missed (or a clock offset, when hours)",
    ),
    (
        "api_slo",
        r"There should be no high-latency requests|too high latency.*(?:api|request)",
        "API call latency SLO missed",
    ),
    (
        "pods_lost",
        r"Number of reported pods(?: for (?P<rc>\S+))? changed: (?P<got>\d+) vs (?P<want>\d+)",
        "pods were lost (node died, eviction)",
    ),
    ("only_n_started", r"Only (?P<got>\d+) pods started out of (?P<want>\d+)", "the RC runner timed out"),
    (
        "containers_failed",
        r"(?P<got>\d+) containers failed which is more than allowed (?P<want>\d+)",
        "containers restarted",
    ),
    (
        "pod_not_running",
        r"gave up waiting for pod '(?P<pod>[^']+)' to be 'running' after (?P<timeout>\S+)",
        "a latency pod did not start",
    ),
    ("memory", r"is using (?P<got>[\d.]+)/(?P<want>\d+) MB of memory", "resource-constraint check failed"),
    ("scaling", r"error while scaling RC (?P<rc>\S+) to (?P<want>\d+) replicas", "load scaling failed"),
    ("start_pods", r"Error waiting for (?P<want>\d+) pods to be running - probably a timeout", "StartPods timed out"),
    (
        "ssh",
        r"ssh: handshake failed|error getting SSH client|in ssh connection to",
        "a measurement could not reach the master over SSH (test-infrastructure problem, not the cluster)",
    ),
    (
        "pods_not_running",
        r"Error while waiting for replication controller (?P<rc>\S+) pods to be running|"
        r"Timeout while waiting for pods with labels",
        "the controller's pods were not all Running when WaitForControlledPodsRunning gave up (10 minutes)",
    ),
    (
        "timeout",
        r"timed out waiting for the condition|context deadline exceeded|Timeout reached|objects timed out|"
        r"\btimed out\b",
        "a wait.Poll deadline passed: look at what it was waiting for",
    ),
    ("measurement", r"measurement call (?P<method>\S+) - (?P<id>\S+) error", "a clusterloader2 measurement failed"),
    (
        "api_not_found",
        r"the server could not find the requested resource",
        "the API the test uses does not exist on this cluster (test config newer or older than the cluster)",
    ),
]


#: waits whose limit the failure text implies: (regex, what it waited for, limit in s or None = the ``timeout``
#: group, where the limit comes from)
KNOWN_WAITS = [
    (
        r"Error while waiting for replication controller (?P<rc>\S+) pods to be running",
        "the pods of replication controller {rc} Running",
        600.0,
        "WaitForControlledPodsRunning → testutils.WaitForEnoughPodsWithLabelRunning polls every 5 s for 10 minutes "
        "(test/utils/runners.go)",
    ),
    (
        r"Timeout while waiting for pods with labels \"?(?P<labels>[^\"\s]+)",
        "the pods with labels {labels} Running",
        600.0,
        "testutils.WaitForEnoughPodsWithLabelRunning polls every 5 s for 10 minutes (test/utils/runners.go)",
    ),
    (
        r"gave up waiting for pod '(?P<pod>[^']+)' to be 'running' after (?P<timeout>\S+)",
        "pod {pod} running",
        None,
        "the timeout printed in the failure",
    ),
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


_CLEANUP_STEP = re.compile(
    r"^(?:Deleting created Collections|Cleaning up|Collecting resource usage|Destroying namespace|"
    r"Removing additional|deleting \{|Deleting |Dumping )"
)


_COUNTERS = ["created", "running", "pending", "waiting", "inactive", "terminating", "unknown", "runningButNotReady"]


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
    """Kind, meaning and captured fields of a failure text (docs/diagnose.md).

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


def collect_failures(ctx: Ctx) -> list[_Failure]:
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
                items = [
                    ln.strip().strip("[]")
                    for ln in re.split(r"\n(?=measurement call)|\[(?=measurement call)", msg)
                    if "measurement call" in ln
                ]
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
                out.append(
                    _Failure(
                        spec,
                        kind,
                        item,
                        meaning,
                        ctx.where(r["source_id"], r["line_no"]),
                        int(r["source_id"]),
                        int(r["line_no"]),
                        str(r.get("origin")),
                        groups,
                        evidence=[Evidence(ctx.where(r["source_id"], r["line_no"]), _first_line(item, 400))],
                    )
                )
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
            mm = msgs[
                (msgs["source_id"] == sid)
                & msgs["msg"]
                .fillna("")
                .str.contains(r"Got errors during step execution:|Resource cleanup error:|^\s*Errors: \[", regex=True)
            ]
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
            inner = (
                text[1:-1]
                if text.startswith("[") and text.endswith("]") and not text.startswith("[measurement")
                else text
            )
            items = (
                [inner]
                if "measurement call" not in inner
                else [x.strip(" []\n") for x in re.split(r"(?=measurement call)", inner) if x.strip(" []\n")]
            )
            for item in items:
                key = re.sub(r"\s+", " ", item.strip(" []"))[:200]
                if key in seen:
                    continue
                seen.add(key)
                kind, meaning, groups = classify(item)
                w = ctx.where(sid, line_no) if line_no else inp.get("path", "?")
                if status == "Success":
                    meaning += f"; the test's final status is nevertheless {status}"
                out.append(
                    _Failure(
                        what,
                        kind,
                        item,
                        meaning,
                        w,
                        sid,
                        line_no,
                        "cl2-log",
                        groups,
                        fatal=(status != "Success"),
                        evidence=[Evidence(w, _first_line(item, 400))],
                    )
                )
        if status and status != "Success":
            st = (
                msgs[(msgs["source_id"] == sid) & msgs["msg"].fillna("").str.match(r"\s*Status: ")]
                if len(msgs)
                else msgs
            )
            ev = [Evidence(ctx.where(r["source_id"], r["line_no"]), _msg_text(r)) for _, r in st.head(1).iterrows()]
            mine = [f for f in out if f.origin == "cl2-log" and f.source_id == sid and f.fatal]
            if mine:
                mine[0].evidence += ev
            else:
                ln = int(st["line_no"].iloc[0]) if len(st) else None
                out.append(
                    _Failure(
                        what,
                        "cl2_status",
                        f"Status: {status}",
                        "",
                        ev[0].where if ev else inp.get("path", "?"),
                        sid,
                        ln,
                        "cl2-log",
                        {},
                        evidence=ev,
                    )
                )
    # e2e suite result without spec rows
    if not any(f.fatal for f in out):
        for inp in run.manifest.get("inputs", []):
            suite = (inp.get("info") or {}).get("suite") or {}
            if str(suite.get("result", "")).upper() == "FAIL" or (
                str(suite.get("failures", "0")).isdigit() and int(suite.get("failures", "0")) > 0 and not len(specs)
            ):
                out.append(
                    _Failure(
                        f"suite {suite.get('name', '')}".strip(),
                        "suite",
                        f"suite result {suite.get('result')}",
                        "",
                        inp.get("path", "?"),
                        inp.get("source_id"),
                        None,
                        "suite",
                        {},
                    )
                )
    # kube-burner jobSummary: passed false
    for inp in run.manifest.get("inputs", []):
        for k, job in enumerate((inp.get("info") or {}).get("job_summary") or []):
            if isinstance(job, dict) and job.get("passed") is False:
                sid = inp.get("source_id")
                ps = ctx.table("perf_summaries", columns=["metric", "source_id", "line_no"])
                rows = ps[(ps["source_id"] == sid) & (ps["metric"] == "job_elapsed")] if len(ps) else ps
                ln = int(rows["line_no"].iloc[min(k, len(rows) - 1)]) if len(rows) else None
                w = ctx.where(sid, ln) if ln else inp.get("path", "?")
                msg = (
                    f"kube-burner job {job.get('jobName', '?')} passed=false "
                    f"({job.get('jobIterations', '?')} iterations, elapsed {job.get('elapsedTime', '?')} s)"
                )
                out.append(
                    _Failure(
                        f"kube-burner {job.get('jobName', '')}".strip(),
                        "kube_burner",
                        msg,
                        "kube-burner marks a job failed when an alert or a measurement threshold failed "
                        "or objects did not become ready in time",
                        w,
                        sid,
                        ln,
                        "kube-burner",
                        {},
                        evidence=[Evidence(w, msg)],
                    )
                )
    # logs that stop before the end: a killed job (CI timeout) or a cut log
    tl = ctx.table("test_log", columns=["ts", "level", "msg", "spec", "source_id", "line_no"])
    for inp in run.manifest.get("inputs", []):
        info = inp.get("info") or {}
        sid = inp.get("source_id")
        suite = info.get("suite") or {}
        cl2 = info.get("cl2") or {}
        unfinished_e2e = (
            inp.get("format") == "e2e-log"
            and suite.get("will_run")
            and "ran" not in suite
            and "result" not in suite
            and not any(f.source_id == sid for f in out)
        )
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
        msg = (
            f"the {'e2e' if unfinished_e2e else 'clusterloader2'} log ends before the "
            f"{'suite summary' if unfinished_e2e else 'Test Finished block'}"
        )
        out.append(
            _Failure(
                inp.get("path", "?"),
                "unfinished",
                msg,
                f"it stops{running}: the job was killed (CI timeout, OOM) or the log was cut, and the "
                "last wait never ended",
                ctx.where(sid, last_line) if last_line else inp.get("path", "?"),
                sid,
                last_line + 1,
                "e2e-log" if unfinished_e2e else "cl2-log",
                {},
                evidence=ev,
            )
        )
    return out


def _cl2_context(ctx: Ctx, f: _Failure) -> dict:
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


def _spec_context(ctx: Ctx, f: _Failure) -> dict:
    """Nearest STEP, last timestamped line, 'Waiting up to' lines and section before a failure block."""
    tl = ctx.table("test_log")
    if not len(tl) or f.source_id is None or f.line_no is None or f.origin not in ("e2e-log",):
        return {}
    t = tl[(tl["source_id"] == f.source_id) & (tl["line_no"] < f.line_no)].sort_values("line_no")
    if not len(t):
        return {}
    res = {"rows": t}
    # the section (It/BeforeEach/AfterEach header) the failure belongs to
    hdr = t[
        (t["level"] == "GINKGO")
        & t["msg"].fillna("").str.match(r"\[(It|BeforeEach|AfterEach|JustBeforeEach|Measure)\]")
    ]
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


def _progress_stall(ctx: Ctx, f: _Failure | None, before_line: int | None) -> dict | None:
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
        incomplete = (not pd.isna(exp) and exp > 0 and (last["running"] < exp)) or any(
            (not pd.isna(last.get(c))) and last.get(c, 0) > 0 for c in ("pending", "waiting", "unknown", "terminating")
        )
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
    stalled = [
        c
        for c in ("created", "running", "pending", "waiting", "runningButNotReady", "unknown", "terminating")
        if not pd.isna(last.get(c))
        and (c in ("created", "running") or last.get(c, 0) > 0)
        and changed_since[c] <= since["ts"]
    ]
    return {
        "source_id": sid,
        "label": label,
        "rows": g,
        "first": g.iloc[0],
        "last": last,
        "since": since,
        "since_ts": since["ts"],
        "last_ts": last["ts"],
        "stalled": stalled,
        "stalled_s": (last["ts"] - since["ts"]).total_seconds(),
        "clock": last.get("clock") or "test",
    }


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


def _slo_summary_evidence(ctx: Ctx, f: _Failure) -> list:
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
        e = Evidence(
            ctx.where(r["source_id"], r["line_no"]),
            f"{r['origin']} pod_startup ({r['phase'] or ''}) p50 {fmt(r['p50_s'])} p90 {fmt(r['p90_s'])} "
            f"p99 {fmt(r['p99_s'])} — the {pct}th percentile matches the failure",
        )
        if all(e.text != o.text or e.where.rsplit(":", 1)[0] != o.where.rsplit(":", 1)[0] for o in out):
            out.append(e)
    return out[:2]


def _api_summary_evidence(ctx: Ctx) -> tuple[list, str]:
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
        return " ".join(
            str(d.get(k, ""))
            for k in ("verb", "Verb", "resource", "Resource", "subresource", "Subresource", "scope", "Scope")
            if d.get(k)
        ) or str(r["labels"])

    ev = [
        Evidence(
            ctx.where(r["source_id"], r["line_no"]),
            f"{lab(r)}: p50 {_dur(r['p50_s'])} p90 {_dur(r['p90_s'])} "
            f"p99 {_dur(r['p99_s'])}" + (f" (n={int(r['count'])})" if not pd.isna(r["count"]) else ""),
        )
        for _, r in api.head(3).iterrows()
    ]
    return ev, (f"The test reported {len(api)} API call group(s) with p99 ≥ 1 s; slowest: {ev[0].text}.")
