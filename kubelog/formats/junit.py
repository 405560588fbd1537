"""JUnit XML written by ginkgo (``junit_01.xml``) and by clusterloader2 (``junit.xml``), docs/formats/junit.md.

Format
------
``<?xml ...?>`` then one ``<testsuite tests failures time [name errors]>`` (2017 ginkgo: no ``name``;
later ginkgo and CL2: ``name="Kubernetes e2e suite"`` / ``"ClusterLoaderV2"``, ``errors``) holding
``<testcase name classname time>`` elements with ``<skipped/>``, ``<failure type=...>`` (text
``code location\\nmessage\\nfailure location``, newlines escaped ``&#xA;``) and ``<system-out>``.
A ``<testsuites>`` root with several suites is accepted too.

Each testcase → one ``test_specs`` row (origin ``junit``): state passed / failed (failure or error) /
skipped (skipped) / pending (``status="pending"``); duration from ``time``; failure message and
location split from the failure text; ``start_ts`` from a ``timestamp`` attribute when present.
Suite attributes go to the manifest (``info.suite``).  ``kubelog specs`` merges these rows with
the e2e-log ones (same spec name): see :func:`kubelog.analysis.outcome.specs_frame`.

Accounting rule
---------------
The line where a ``<testcase`` starts is a record line (one test_specs row); the other lines up
to the next testcase or the closing ``</testsuite>`` are its continuation lines.  The XML
declaration, the ``<testsuite(s)>`` open/close lines and anything after are counted as
"junit envelope" (info).  A file that does not parse as XML is counted as "invalid XML" (error).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pyarrow as pa

from .base import Context, Format, Head, line_count, read_document, refuse_document

_TC_RE = re.compile(rb"<testcase[\s>/]")


def sniff(head: Head) -> bool:
    d = head.data.lstrip()[:4096]
    return (d.startswith(b"<?xml") or d.startswith(b"<testsuite")) and (b"<testsuite" in head.data[:8192])


def _split_failure(text: str) -> tuple[str | None, str | None]:
    lines = [l for l in (text or "").split("\n")]
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        return None, None
    loc = None
    if len(lines) >= 2 and re.match(r"^\s*\S*:\d+\s*$", lines[-1]):
        loc = lines[-1].strip()
        lines = lines[:-1]
    if len(lines) >= 2 and re.match(r"^\s*\S*:\d+\s*$", lines[0]):
        lines = lines[1:]
    msg = "\n".join(lines).strip()
    if loc == ":0":
        loc = None
    return msg or None, loc


def _ts(v: str | None):
    if not v:
        return None
    try:
        import pandas as pd  # not at module level: `kubelog ingest` loads every format

        t = pd.Timestamp(v)
        t = t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")
        return t.value
    except (ValueError, TypeError):
        return None


def parse(stream, ctx: Context) -> None:
    data = read_document(stream, ctx, "JUnit XML")
    if data is None:
        return
    n_lines = line_count(data)
    ctx.lines_read += n_lines
    try:
        root = ET.fromstring(data)
    except ET.ParseError as e:
        refuse_document(ctx, data, n_lines, "XML", e)
        return
    # line of each <testcase start, in document order
    nl_pos = [m.start() for m in re.finditer(rb"\n", data)]
    import bisect

    tc_lines = [bisect.bisect_right(nl_pos, m.start()) + 1 for m in _TC_RE.finditer(data)]
    close = data.rfind(b"</testsuite")
    close_line = bisect.bisect_right(nl_pos, close) + 1 if close >= 0 else n_lines + 1
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    rows = []
    info = []
    for su in suites:
        a = dict(su.attrib)
        tcs = su.findall("testcase")
        info.append(
            {
                **{k: a[k] for k in a},
                "testcases": len(tcs),
                "skipped_testcases": sum(1 for t in tcs if t.find("skipped") is not None),
            }
        )
        suite_ts = _ts(a.get("timestamp"))
        for tc in tcs:
            fail = tc.find("failure")
            if fail is None:
                fail = tc.find("error")
            skipped = tc.find("skipped")
            if fail is not None:
                state = "failed"
            elif skipped is not None or tc.get("status") in ("skipped",):
                state = "skipped"
            elif tc.get("status") == "pending":
                state = "pending"
            else:
                state = "passed"
            msg = loc = None
            if fail is not None:
                msg, loc = _split_failure((fail.text or "") or fail.get("message", ""))
                if msg is None and fail.get("message"):
                    msg = fail.get("message")
            try:
                dur = float(tc.get("time")) if tc.get("time") not in (None, "") else None
            except ValueError:
                dur = None
            rows.append(
                {
                    "spec": tc.get("name"),
                    "state": state,
                    "start_ts": _ts(tc.get("timestamp")) or suite_ts,
                    "duration_s": dur,
                    "failure_message": msg,
                    "failure_location": loc,
                    "origin": "junit",
                }
            )
    if len(tc_lines) != len(rows):  # unusual layout: attribute all rows to the first testcase line
        tc_lines = (tc_lines + [tc_lines[-1] if tc_lines else 1] * len(rows))[: len(rows)]
    for r, ln in zip(rows, tc_lines):
        r["line_no"] = ln
    # accounting
    starts = sorted(set(tc_lines))
    if starts:
        first, last_end = starts[0], max(close_line - 1, starts[-1])
        ctx.record_lines += len(starts)
        ctx.continuation_lines += (last_end - first + 1) - len(starts)
        env = n_lines - (last_end - first + 1)
    else:
        env = n_lines
    if env > 0:
        ctx.count("junit envelope (XML declaration, <testsuite> lines)", 1, None, n=env, severity="info")
    ctx.info["suite"] = info[0] if len(info) == 1 else info
    if not ctx.clock:
        ctx.clock = "test"
    if rows:
        ctx.emit(
            "test_specs",
            {
                "spec": [r["spec"] for r in rows],
                "state": [r["state"] for r in rows],
                "start_ts": pa.array([r["start_ts"] for r in rows], pa.int64()).cast(pa.timestamp("ns", tz="UTC")),
                "duration_s": [r["duration_s"] for r in rows],
                "failure_message": [r["failure_message"] for r in rows],
                "failure_location": [r["failure_location"] for r in rows],
                "origin": [r["origin"] for r in rows],
                "line_no": [r["line_no"] for r in rows],
            },
        )


FORMAT = Format(
    name="junit",
    description="JUnit XML of ginkgo e2e runs (junit_01.xml, 2017 and later shapes) and clusterloader2 (junit.xml)",
    priority=30,
    sniff=sniff,
    parse=parse,
    tables=("test_specs",),
)
