"""The failure findings: one per failure, with the wait that failed, the progress that stalled and
the window the other findings compare with the rest of the run.

* **Where**: the failure's own log line (ExpectNoError's ``Unexpected error occurred: <err>`` or
  Failf's line, test/e2e/framework/util.go) and message time, else the last stamped line of the
  failing section; the nearest STEP is the last one before that line.
* **The wait**: the wait the failure text implies (:data:`KNOWN_WAITS`, with its limit), a
  ``Waiting up to <d>`` line of the section only when it could have run out at the failure, the
  progress series that stalled (its counters and since when), the clusterloader2 step.
* **The window** (test clock): the wait that failed, else the stall, else five minutes before the
  failure but never before the failing section started.
* **Severity**: critical for a failure that failed the run, error for one logged by a run whose
  status is Success; failures of the measurement machinery one step lower. Weights:
  ``failure.*`` in weights.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pandas as pd

from ._failures import (
    CL2_MEASUREMENTS,
    _api_summary_evidence,
    _cl2_context,
    _counters_text,
    _density_timeout,
    _Failure,
    _failure_moment,
    _known_wait,
    _progress_stall,
    _slo_summary_evidence,
    _spec_context,
    _spec_start,
    _step_at,
)
from .base import Ctx, Evidence, _dur, _first_line, _go_dur, _hms, _msg_text, _safe, _test_text, register
from .weights import WEIGHTS

#: failure kinds that are a wait or an SLO check running out: the likely first cause
_WAIT_KINDS = (
    "pod_startup_slo",
    "api_slo",
    "pods_lost",
    "only_n_started",
    "timeout",
    "watch_timeout",
    "unfinished",
    "pods_not_running",
)


@register("failure", order=10)
def failure(ctx: Ctx) -> None:
    """Each failed spec, measurement, status or job: what it waited for, what stalled, its window."""
    for i, f in enumerate(ctx.failures):
        _one(ctx, i, f)


@dataclass
class _Draft:
    """The finding of one failure while its stages fill it in."""

    title: str
    detail: list = field(default_factory=list)
    ev: list = field(default_factory=list)
    sc: dict = field(default_factory=dict)  # the e2e-log context (_spec_context)
    moment: object = None  # the failure's own log line
    fail_ts: object = None  # when it failed (test clock)
    wait: dict | None = None  # the wait that failed: start, goal, limit_s, reason
    wait_title: str | None = None
    stall: dict | None = None
    own: bool = True  # the stalled series belongs to the failing section

    @property
    def has_ts(self) -> bool:
        return self.fail_ts is not None and not pd.isna(self.fail_ts)


def _one(ctx: Ctx, i: int, f: _Failure) -> None:
    d = _Draft(
        f"{_first_line(f.message, 160)} — {_first_line(f.what, 72)}",
        [f"{f.what}: {f.message}" + (f" — {f.meaning}." if f.meaning else "")],
        list(f.evidence),
    )
    _locate(ctx, f, d)
    if f.kind in _STALL_KINDS:
        cut = d.sc.get("section_rows")
        cut_line = int(cut["line_no"].max()) + 1 if cut is not None and len(cut) else None
        d.stall = _safe(ctx, "progress", _progress_stall, ctx, f, cut_line or f.line_no)
    _implied_wait(ctx, f, d)
    _explicit_wait(f, d)
    _cl2(ctx, f, d)
    if d.stall is not None:
        _stalled(ctx, f, d)
    elif d.wait_title:
        d.title = d.wait_title
    _window(ctx, f, d)
    sev, bonus = _severity(i, f, d)
    _by_kind(ctx, f, d)
    ev = [e for k, e in enumerate(d.ev) if e not in d.ev[:k]]
    found = ctx.add(
        sev,
        d.title,
        " ".join(x for x in d.detail if x),
        ev[:8],
        kind=f"failure:{f.kind}",
        weight="failure.fatal" if f.fatal else "failure.nonfatal",
        bonus=bonus,
    )
    ctx.failure_finding[id(f)] = found
    if ctx.primary_stall is not None and ctx.primary_stall[0] is f and ctx.primary_finding is None:
        ctx.primary_finding = found


#: failure kinds whose stalled progress series is looked for
_STALL_KINDS = (
    "timeout",
    "only_n_started",
    "start_pods",
    "measurement",
    "other",
    "cl2_status",
    "api_not_found",
    "unfinished",
    "pods_not_running",
)


def _locate(ctx: Ctx, f: _Failure, d: _Draft) -> None:
    """Section, nearest STEP (the last before the failure's own line), last explicit wait, failure time."""
    sc = d.sc = _safe(ctx, "test-log context", _spec_context, ctx, f) or {}
    d.moment = moment = _failure_moment(f, sc.get("rows"))
    if moment is not None:  # the nearest STEP is the last one before the failure, not after it
        rows = sc.get("section_rows") if sc.get("section_rows") is not None else sc["rows"]
        st = rows[(rows["level"] == "STEP") & (rows["line_no"] < moment["line_no"])]
        if len(st):
            sc["step"] = st.iloc[-1]
            sc.pop("step_outside", None)
    if sc.get("step") is not None:
        st = sc["step"]
        d.detail.append(
            f"Nearest STEP: '{_first_line(st['msg'])}'"
            + (f" (no STEP inside [{sc.get('tag')}] before the failure)." if sc.get("step_outside") else ".")
        )
        d.ev.append(Evidence(ctx.where(st["source_id"], st["line_no"]), _test_text(st)))
    if sc.get("section") is not None:
        d.detail.append(f"Failed in [{sc.get('tag')}] ({_first_line(sc['section']['msg'], 80)}).")
    if sc.get("wait_line") is not None:
        wl = sc["wait_line"]
        d.detail.append(f"Last explicit wait: '{_first_line(wl['msg'])}'.")
        d.ev.append(Evidence(ctx.where(wl["source_id"], wl["line_no"]), _test_text(wl)))
    if sc.get("last_line") is not None:
        d.fail_ts = sc["last_line"]["ts"]
    if moment is not None:
        d.fail_ts = moment["ts"]
        d.ev.insert(1, Evidence(ctx.where(moment["source_id"], moment["line_no"]), _test_text(moment)))
    m_stamp = re.match(r"([A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2}\.\d{3}): ", f.message or "")
    if m_stamp and d.has_ts:
        # a Failf message carries its own stamp (test clock, year from the log's other lines)
        try:
            stamped = pd.Timestamp(f"{d.fail_ts.year} {m_stamp.group(1)}", tz="UTC")
            d.fail_ts = max(d.fail_ts, stamped)
        except ValueError:
            pass


def _implied_wait(ctx: Ctx, f: _Failure, d: _Draft) -> None:
    """The wait the failure text implies, with its limit (KNOWN_WAITS), and the STEP it ran in."""
    kw = _known_wait(f) if d.has_ts and f.origin == "e2e-log" else None
    if kw is None:
        return
    sc, fail_ts = d.sc, d.fail_ts
    start = fail_ts - pd.Timedelta(seconds=kw["limit_s"])
    st = (
        _step_at(sc["rows"], start, int(d.moment["line_no"]) if d.moment is not None else int(f.line_no))
        if sc.get("rows") is not None
        else None
    )
    d.wait = {
        "start": start,
        "goal": kw["goal"],
        "limit_s": kw["limit_s"],
        "reason": f"the wait that failed: {kw['goal']} ({_dur(kw['limit_s'])} limit)",
    }
    d.wait_title = (
        f"timed out after {_dur(kw['limit_s'])} waiting for {kw['goal']} "
        f"({_hms(start)} → {_hms(fail_ts)}, test clock)"
        + (f" in step '{_first_line(st['msg'], 90)}'" if st is not None else "")
        + f" — {_first_line(f.what, 72)}"
    )
    d.detail.append(
        f"The failure text is that of a wait with a fixed limit ({kw['source']}): it waited from "
        f"about {_hms(start)} to {_hms(fail_ts)} (test clock)"
        + (f", during STEP '{_first_line(st['msg'])}'." if st is not None else ".")
    )
    if st is not None:
        d.ev.append(Evidence(ctx.where(st["source_id"], st["line_no"]), _test_text(st)))


def _explicit_wait(f: _Failure, d: _Draft) -> None:
    """The section's last ``Waiting up to <d>`` line: the failing wait only if it could have run out at
    the failure (a wait that ended long before, e.g. a kube-system check right after the spec header, is not)."""
    wl = d.sc.get("wait_line")
    if wl is None or not d.has_ts:
        return
    mw = re.search(r"Waiting up to (\S+) for", str(wl["msg"]))
    limit = _go_dur(mw.group(1)) if mw else None
    if not limit or pd.isna(wl["ts"]):
        return
    waited = (d.fail_ts - wl["ts"]).total_seconds()
    fits = 0.9 * limit <= waited <= limit + max(60.0, 0.1 * limit)
    if fits and d.wait is None:
        d.wait = {
            "start": wl["ts"],
            "goal": _first_line(wl["msg"], 120),
            "limit_s": limit,
            "reason": f"the wait that failed: {_first_line(wl['msg'], 120)}",
        }
        if f.kind == "timeout":
            d.wait_title = (
                f"timed out in [{d.sc.get('tag')}]: {_first_line(wl['msg'], 120)} "
                f"(failed {_dur(waited)} later) — {_first_line(f.what, 72)}"
            )
    d.detail.append(
        f"That wait started at {_hms(wl['ts'])} with a {_dur(limit)} timeout; the failure came "
        f"{_dur(waited)} later"
        + (
            ": it is not the wait that failed."
            if not fits
            else (" (the timeout expired)." if waited >= 0.95 * limit else ".")
        )
    )


def _cl2(ctx: Ctx, f: _Failure, d: _Draft) -> None:
    """For an error clusterloader2 logged: its step and how long after the previous record it came."""
    cc = _safe(ctx, "clusterloader2 context", _cl2_context, ctx, f) or {}
    if "Resource cleanup" in f.message:
        d.detail.append(
            "It was waiting for the test's namespaces and objects to be deleted after the last step "
            "(clusterloader2 cleanup), so the measurements were already taken."
        )
    if not cc:
        return
    at = cc["at"]
    if cc.get("step") is not None:
        st = cc["step"]
        d.detail.append(f"Nearest clusterloader2 step: {_first_line(st['msg'])} at {_hms(st['ts'])}.")
        d.ev.append(Evidence(ctx.where(st["source_id"], st["line_no"]), _msg_text(st)))
    if cc.get("previous") is not None:
        pv = cc["previous"]
        gap = (at["ts"] - pv["ts"]).total_seconds()
        d.detail.append(
            f"The error came {_dur(gap)} after the previous record ({_hms(pv['ts'])} → {_hms(at['ts'])}), "
            "i.e. that is how long the wait ran."
            if gap >= 1
            else ""
        )
        if cc.get("step") is None or pv["line_no"] != cc["step"]["line_no"]:
            d.ev.append(Evidence(ctx.where(pv["source_id"], pv["line_no"]), _msg_text(pv)))
    d.ev[0] = Evidence(d.ev[0].where, _msg_text(at))
    d.fail_ts = at["ts"]


def _stalled(ctx: Ctx, f: _Failure, d: _Draft) -> None:
    """The progress series that stalled: its goal, last counters, since when; the title names it."""
    stall, sc = d.stall, d.sc
    last, since = stall["last"], stall["since"]
    d.fail_ts = max(d.fail_ts, last["ts"]) if d.has_ts else last["ts"]
    fail_ts = d.fail_ts
    ran = (last["ts"] - stall["first"]["ts"]).total_seconds()
    what = str(stall["label"]).rstrip(": ")
    exp = last.get("expected")
    if not pd.isna(exp) and exp:
        goal = f"all {int(exp)} {what} running" if what.endswith("Pods") else f"all {int(exp)} pods of {what} running"
    else:
        goal = f"{what} to finish"
    stall_txt = (
        f"{_counters_text(last)} unchanged since {_hms(stall['since_ts'])} "
        f"({stall['clock']} clock, until {_hms(fail_ts)})"
    )
    # the series belongs to this failure unless the failing section (e.g. AfterEach) started after it
    sec_rows = sc.get("section_rows")
    own = d.own = not (
        sec_rows is not None
        and len(sec_rows)
        and f.origin == "e2e-log"
        and int(last["line_no"]) < int(sec_rows["line_no"].min())
    )
    if not own:
        stall_txt = (
            f"{_counters_text(last)} unchanged since {_hms(stall['since_ts'])} "
            f"({stall['clock']} clock, until {_hms(last['ts'])})"
        )
        d.title = f"{d.wait_title or d.title}; earlier {what}: {stall_txt}"
    elif f.kind == "unfinished":
        d.title = f"{_first_line(f.message, 200)}, waiting for {goal}: {stall_txt}"
    elif f.kind in ("timeout", "only_n_started", "start_pods", "watch_timeout", "pods_not_running"):
        d.title = f"timed out waiting for {goal}: {stall_txt}"
    else:
        d.title = f"{d.title} — {what}: {stall_txt}"
    d.detail.append(
        (
            f"It was waiting for {goal}."
            if own
            else f"Before the failing [{sc.get('tag')}] section, the test was waiting for {goal}."
        )
        + f" The progress series '{what}' ran {_dur(ran)} "
        f"({_hms(stall['first']['ts'])} → {_hms(last['ts'])}); its last counters were "
        f"{_counters_text(last)}, and {', '.join(stall['stalled'])} had not changed for "
        f"{_dur(stall['stalled_s'])} (since {_hms(stall['since_ts'])})."
    )
    quiet = (fail_ts - last["ts"]).total_seconds() if d.has_ts else 0
    if quiet >= 60:
        d.detail.append(f"No progress line was printed after {_hms(last['ts'])}, {_dur(quiet)} before the failure.")
    dens = _density_timeout(f, stall)
    if dens is not None:
        d.detail.append(
            f"The density saturation wait has no printed timeout; density.go sets it to "
            f"max(pods / 8 per s, 2m) = {_dur(dens)} for {int(exp)} pods "
            f"(MinPodsPerSecondThroughput = 8, MinSaturationThreshold = 2m); the progress lines "
            f"cover {_dur(ran)} of it (they start 10 s after the RCs are created)."
        )
    elif sc.get("wait_line") is None:
        d.detail.append(f"The test did not print its timeout; the wait lasted at least {_dur(ran)}.")
    d.ev += [
        Evidence(
            ctx.where(since["source_id"], since["line_no"]),
            f"first stalled: {_hms(since['ts'])} {what}: {_counters_text(since)}",
        ),
        Evidence(
            ctx.where(last["source_id"], last["line_no"]), f"last: {_hms(last['ts'])} {what}: {_counters_text(last)}"
        ),
    ]
    if ctx.primary_stall is None and f.fatal:
        ctx.primary_stall = (f, stall)


def _window(ctx: Ctx, f: _Failure, d: _Draft) -> None:
    """The first fatal test-log failure sets the window (test clock): the wait that failed, else the
    stall, else five minutes before the failure but never before the failing section started."""
    if not f.fatal or ctx.window or d.fail_ts is None or f.origin not in ("e2e-log", "cl2-log"):
        return
    fail_ts, stall = d.fail_ts, d.stall
    if d.wait is not None and not (stall is not None and d.own):
        start, reason = d.wait["start"], d.wait["reason"]
    elif stall is not None:
        start, reason = stall["since_ts"], f"stall of '{stall['label']}'"
    else:
        start, reason = fail_ts - pd.Timedelta(minutes=5), "5 minutes before the failure"
        begun = _spec_start(d.sc)
        if begun is not None and not pd.isna(begun) and begun > start and begun < fail_ts:
            start, reason = begun, "from the start of the failing section to the failure"
    ctx.window = {"start_test": start, "end_test": fail_ts, "reason": reason, "finding": len(ctx.findings)}


def _severity(i: int, f: _Failure, d: _Draft) -> tuple[str, float]:
    """Severity rule: critical for a failure that failed the run, else error; a failure of the measurement
    machinery one step lower and ranked below the cluster's. Returns (severity, bonus to the weight)."""
    sev = "critical" if f.fatal else "error"
    bonus = -i + (WEIGHTS["failure.wait_bonus"] if f.kind in _WAIT_KINDS else 0)
    infra = f.kind == "ssh" or (f.kind == "measurement" and re.search(r"action (?:start|gather) failed", f.message))
    if infra:
        bonus += WEIGHTS["failure.infra_penalty"]
        sev = "error" if f.fatal else "warning"
        d.detail.append("This is a failure of the measurement machinery (metrics/SSH access), not of the cluster.")
    return sev, bonus


def _by_kind(ctx: Ctx, f: _Failure, d: _Draft) -> None:
    """What a pod-startup SLO miss, a clusterloader2 measurement or an API SLO miss adds."""
    if f.kind == "pod_startup_slo":
        d.ev += _slo_summary_evidence(ctx, f)
        val = _go_dur(f.groups.get("value", "")) if f.groups.get("value") else None
        thr = _go_dur(f.groups.get("threshold", "")) if f.groups.get("threshold") else (5.0 if val else None)
        if val is not None and thr:
            d.detail.append(
                f"The {f.groups.get('pct', '?')}th percentile {_dur(val)} is "
                f"{_dur(val - thr)} ({(val - thr) / thr * 100:.1f} %) over the {_dur(thr)} threshold"
                + ("" if f.groups.get("threshold") else " (density's default)")
                + ("; seconds, not hours: a real miss, not a clock offset." if val < 600 else ".")
            )
    mcall = re.search(r"measurement call (\w+) - (\S+) error", f.message)
    if mcall and mcall.group(1) in CL2_MEASUREMENTS:
        d.detail.append(
            f"Measurement {mcall.group(1)} (identifier {mcall.group(2)}) waits for / checks "
            f"{CL2_MEASUREMENTS[mcall.group(1)]}."
        )
    if f.kind == "api_slo":
        api_ev, api_txt = _api_summary_evidence(ctx)
        d.ev += api_ev
        if api_txt:
            d.detail.append(api_txt)
