"""kube-apiserver access-log lines without their klog header (docs/formats/access-log.md).

A request line copied out of an apiserver log into an issue or a doc often loses its
``I0305 10:15:02.104711    1234 httplog.go:132] `` header: ``GET /api/v1/pods: (1.02ms) 200
[[kube-scheduler/v1.5.2 ...] 10.0.0.2:43842]`` or ``"HTTP" verb="LIST" URI="/api/v1/pods" latency="1.2s"
... resp=200``.  Such a line is still unambiguous: every access-log variant
(:mod:`kubelog.formats.httplog`) is read from it, with no time (the time was in the header).

Accounting: each access-log line is a record line (one ``requests`` row, ``ts``/``start_ts``
null, ``latency_s`` exact); blank lines and other lines are counted.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from ..sources import lines as L
from . import httplog
from .base import Context, Format, Head
from .klog import _HEADER_START_RX


def _access_mask(lines: list[str]) -> np.ndarray:
    mask, _ = httplog.extract(pa.array(lines, pa.string()), None)
    return mask


def sniff(head: Head) -> bool:
    lines = [l for l in head.lines(400) if l.strip()]
    if not lines or any(_HEADER_START_RX.match(l) for l in lines):
        return False  # klog text (the klog format reads its access-log records)
    hits = int(_access_mask(lines).sum())
    return hits >= 1 and 2 * hits >= len(lines)


def parse(stream, ctx: Context) -> None:
    ctx.clock = ctx.clock or "apiserver"
    ctx.info["component"] = "kube-apiserver"
    stats = L.ReaderStats()
    for ch in L.iter_chunks(stream, [], False, stats):
        ctx.lines_read += ch.n_physical
        ctx.continuation_lines += ch.joined
        n = len(ch.text)
        if n == 0:
            continue
        mask, cols = httplog.extract(ch.text, None)
        rows = np.flatnonzero(mask)
        texts = None
        if len(rows) < n:
            texts = ch.text.to_pylist()
            for i in np.flatnonzero(~mask).tolist():
                t = texts[i] or ""
                ln = int(ch.line_no[i])
                if t.strip():
                    ctx.count("not an access-log line", ln, t, severity="warning")
                else:
                    ctx.count("blank line", ln, None, severity="info")
        if not len(rows):
            continue
        ctx.record_lines += len(rows)
        req = httplog.to_requests(cols, np.zeros(len(rows), dtype=np.int64), ctx.clock)
        none = pa.nulls(len(rows), pa.timestamp("ns", tz="UTC"))
        req["ts"], req["start_ts"] = none, none  # the time was in the klog header that is gone
        req["line_no"] = pa.array(ch.line_no[rows], pa.int64())
        req["server"] = pa.array(["kube-apiserver"] * len(rows))
        ctx.emit("requests", req)
    ctx.lines_read += stats.skipped
    for reason, (cnt, ex) in stats.counted.items():
        ctx.count_many(reason, [e[0] for e in ex], [e[1] for e in ex], cnt, severity="info")


FORMAT = Format(
    name="access-log",
    description="kube-apiserver access-log lines without their klog header (pasted requests, every variant): "
    "requests with no time",
    priority=79,
    sniff=sniff,
    parse=parse,
    tables=("requests",),
)
