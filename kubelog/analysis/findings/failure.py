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

import pandas as pd

from ._failures import (CL2_MEASUREMENTS, _api_summary_evidence, _cl2_context, _counters_text, _density_timeout,
                        _Failure, _failure_moment, _known_wait, _progress_stall, _slo_summary_evidence, _spec_context,
                        _spec_start, _step_at)
from .base import Ctx, Evidence, _dur, _first_line, _go_dur, _hms, _msg_text, _safe, _test_text, register
from .weights import WEIGHTS

#: failure kinds that are a wait or an SLO check running out: the likely first cause
_WAIT_KINDS = ("pod_startup_slo", "api_slo", "pods_lost", "only_n_started", "timeout", "watch_timeout",
               "unfinished", "pods_not_running")


@register("failure", order=10)
def failure(ctx: Ctx) -> None:
    """Each failed spec, measurement, status or job: what it waited for, what stalled, its window."""
    for i, f in enumerate(ctx.failures):
        _one(ctx, i, f)


def _one(ctx: Ctx, i: int, f: _Failure) -> None:
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
        if ctx.primary_stall is None and f.fatal:
            ctx.primary_stall = (f, stall)
    if stall is None and wait_title:
        title = wait_title
    if f.fatal and not ctx.window and fail_ts is not None and f.origin in ("e2e-log", "cl2-log"):
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
        ctx.window = {"start_test": start, "end_test": fail_ts, "reason": reason, "finding": len(ctx.findings)}
    # severity rule: fatal failures are critical, the others errors; failures of the measurement
    # machinery one step lower and ranked below the cluster's
    sev = "critical" if f.fatal else "error"
    bonus = -i + (WEIGHTS["failure.wait_bonus"] if f.kind in _WAIT_KINDS else 0)
    infra = f.kind == "ssh" or (f.kind == "measurement" and re.search(r"action (?:start|gather) failed", f.message))
    if infra:
        bonus += WEIGHTS["failure.infra_penalty"]
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
    found = ctx.add(sev, title, " ".join(d for d in detail if d), ev[:8], kind=f"failure:{f.kind}",
                    weight="failure.fatal" if f.fatal else "failure.nonfatal", bonus=bonus)
    ctx.failure_finding[id(f)] = found
    if ctx.primary_stall is not None and ctx.primary_stall[0] is f and ctx.primary_finding is None:
        ctx.primary_finding = found
