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
  docs/diagnose.md (:data:`FAILURE_KINDS`, :func:`classify`).
* **The wait**: the failure's own log line (``Unexpected error occurred: <err>`` / Failf's line)
  and message time, the section (``[It]``/``[BeforeEach]``/…) and the last ``STEP`` before the
  failure (the test's cleanup steps after an ``[It]`` failure are skipped), the wait the failure
  text implies (:data:`KNOWN_WAITS`, with its limit), ``Waiting up to <d>`` lines that could have
  run out at the failure, the nearest cl2 ``Step`` and how long the error came after the
  previous record, and the progress series (``progress``) that was still incomplete: its last
  counters and which of them stalled since when.
* **The window** ``[start of the wait that failed (or of the stall), failure]`` on the test clock
  (five minutes before the failure, never before its section started, when neither is known) is
  moved to the apiserver clock
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

* **What the test reported**: API-call latencies and pod-startup summaries it printed over the
  SLO thresholds (``perf_summaries``), the ones it flagged itself.

Each finding is a unit registered by name in :mod:`kubelog.analysis.findings` (one module per
finding or family: its evidence query, its severity rule, its wording), scored from the one
weights table (:data:`kubelog.analysis.findings.weights.WEIGHTS`); :class:`Diagnosis` renders them
all. docs/diagnose.md lists them.

Ranking: the failure (with its stall and, when the stuck pods account for exactly the
missing count, the cause folded in) first; a clock offset that explains a latency failure
above it; then causes and anomalies by score and severity. Each unit runs isolated: one that
fails becomes an ``internal_error`` info finding. Times in findings are ``HH:MM:SS`` UTC on
the named clock; durations are Go-style (``9h58m15s``, ``1m50.0s``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import pandas as pd

from ..run import Run
from .findings import WINDOW_ORDER, units
from .findings._context import _error_burst, _requests, _run_span, _test_offset
from .findings._failures import (
    CL2_MEASUREMENTS,
    FAILURE_KINDS,
    KNOWN_WAITS,
    classify,
    collect_failures,
)
from .findings.base import (
    SEVERITIES,
    Ctx,
    Evidence,
    Finding,
    _first_line,
    safe,
)
from .findings.signatures import SIGNATURES
from .findings.traces import trace_long_running, trace_url

__all__ = [
    "Diagnosis",
    "Evidence",
    "Finding",
    "classify",
    "diagnose",
    "FAILURE_KINDS",
    "KNOWN_WAITS",
    "SIGNATURES",
    "CL2_MEASUREMENTS",
    "trace_url",
    "trace_long_running",
]


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
        return {
            "failed": self.failed,
            "summary": self.summary,
            "window": self.window,
            "failures": self.failures,
            "findings": [asdict(f) for f in self.findings],
        }

    def to_markdown(self) -> str:
        """Markdown: summary, then each finding with its evidence in a code block."""
        out = [f"# Diagnosis: {'FAILED' if self.failed else 'no failure'}", "", _md_escape(self.summary), ""]
        if self.window.get("start"):
            out += [
                f"Window examined: {self.window['start']} → {self.window['end']} "
                f"({self.window.get('clock', '')} clock; "
                f"{_md_escape(self.window.get('reason', ''))})",
                "",
            ]
        if self.findings:
            out += ["| # | severity | finding | first evidence |", "|---|---|---|---|"]
            for f in self.findings:
                where = f.evidence[0].where if f.evidence else ""
                title = _md_escape(f.title)
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
            out += [
                f"window: {self.window['start']} → {self.window['end']} [{self.window.get('clock', '')}] "
                f"({self.window.get('reason', '')})",
                "",
            ]
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
    from ..output import md_escape  # the one markdown escape of log text (HTML, table pipes, line breaks)

    return md_escape(s).replace(">", "&gt;")


def _place_window(ctx: Ctx) -> dict:
    """The window on the apiserver clock (``ctx.w0``/``ctx.w1``) and its description: the failure's
    window moved by the test-clock offset, else the last burst of errors (when it is not most of the run)."""
    off, theta = ctx.off, ctx.theta
    base = {"test_offset_s": theta if off else None, "offset_source": off.get("source")}
    if ctx.window:
        w = ctx.window
        ctx.w0 = w["start_test"] - pd.Timedelta(seconds=theta)
        ctx.w1 = w["end_test"] - pd.Timedelta(seconds=theta)
        return {
            "start": ctx.w0.isoformat(),
            "end": ctx.w1.isoformat(),
            "clock": "apiserver" if off else "test (no offset to the apiserver clock could be measured; assumed 0)",
            "reason": w["reason"],
            "test_start": w["start_test"].isoformat(),
            "test_end": w["end_test"].isoformat(),
            **base,
        }
    e2e_failed = ctx.failed and any(f.origin == "e2e-log" for f in ctx.fatal)
    burst = None if e2e_failed else safe(ctx, "error burst", _error_burst, ctx, ctx.rq)
    if burst is not None and ctx.span_s and (burst[1] - burst[0]).total_seconds() > 0.5 * ctx.span_s:
        return {**base, "reason": "errors throughout the run: no window to compare with the rest"}
    if burst is not None:
        ctx.w0, ctx.w1 = burst
        return {
            "start": ctx.w0.isoformat(),
            "end": ctx.w1.isoformat(),
            "clock": "apiserver",
            "reason": "last burst of error messages / 5xx / 429 responses",
            **base,
        }
    return base


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
    ctx = Ctx(run)
    ctx.failures = safe(ctx, "failures", collect_failures, ctx) or []
    ctx.fatal = [f for f in ctx.failures if f.fatal]
    ctx.failed = bool(ctx.fatal)
    ctx.off = safe(ctx, "test clock offset", _test_offset, ctx) or {}
    ctx.theta = ctx.off.get("offset_s") or 0.0
    rq = safe(ctx, "requests", _requests, ctx)
    ctx.rq = rq if rq is not None else pd.DataFrame()
    span0, span1 = safe(ctx, "run span", _run_span, ctx, ctx.rq) or (None, None)
    ctx.span_s = (span1 - span0).total_seconds() if span0 is not None else 0.0

    placed = False
    for unit in units():
        if unit.order >= WINDOW_ORDER and not placed:
            ctx.window_info = _place_window(ctx)
            placed = True
        safe(ctx, unit.name, unit.run, ctx)
    if not placed:
        ctx.window_info = _place_window(ctx)
    if ctx.failed and ctx.primary_finding is not None:
        crit = [x for x in ctx.findings if x.kind.startswith("signature:") and x.severity == "critical"]
        if crit:
            ctx.primary_finding.detail += " Known signature(s) in this run: " + "; ".join(x.title for x in crit) + "."
    return _render(ctx)


def _render(ctx: Ctx) -> Diagnosis:
    """Rank the findings and write the summary."""
    run, failures, fatal = ctx.run, ctx.failures, ctx.fatal
    fs = sorted(ctx.findings, key=lambda x: (-x.score, SEVERITIES.index(x.severity)))
    for k, x in enumerate(fs, 1):
        x.rank = k
    if ctx.failed:
        ranked = [x for x in fs if x.kind.startswith("failure:") and x.severity == "critical"]
        summary = (
            f"{len(fatal)} failure(s): "
            + "; ".join(_first_line(x.title, 240) for x in ranked[:3])
            + (f". Most likely: {fs[0].title}." if fs and fs[0] not in ranked[:3] else ".")
        )
    else:
        nonfatal = [f for f in failures if not f.fatal]
        summary = "No failed spec, measurement or test status in this run."
        if nonfatal:
            summary += " Errors logged anyway: " + "; ".join(_first_line(f.message, 100) for f in nonfatal[:3]) + "."
        summary += f" {len(fs)} anomalies listed." if fs else " No anomalies found."
    suites = [(inp.get("info") or {}).get("suite") or {} for inp in run.manifest.get("inputs", [])]
    for su in suites:
        if su.get("ran") is not None and su.get("passed") is not None:
            summary += (
                f" Suite: ran {su.get('ran')} of {su.get('total', '?')} specs, {su.get('passed')} passed, "
                f"{su.get('failed', 0)} failed" + (f", {su['seconds']:.0f} s" if su.get("seconds") else "") + "."
            )
            break
    return Diagnosis(
        ctx.failed,
        summary,
        fs,
        ctx.window_info,
        [{"what": f.what, "kind": f.kind, "message": f.message, "where": f.where, "fatal": f.fatal} for f in failures],
    )
