"""kubelog's own ``truth.json`` (written by ``kubelog synth`` next to a synthetic run).

It is the answer key, not a log: recognised so that ingesting a synthetic run's folder
does not report it as an unknown input.  All its lines are counted with the reason
``kubelog ground truth (not a log)`` (severity info); tests compare it with the run.
"""

from __future__ import annotations

from .base import Context, Format, Head, line_count, read_document

REASON = "kubelog ground truth (not a log)"


def sniff(head: Head) -> bool:
    t = head.data[:4096]
    return t.lstrip().startswith(b"{") and b'"generator"' in t and b"kubelog" in t


def parse(stream, ctx: Context) -> None:
    data = read_document(stream, ctx, "truth.json")
    if data is None:
        return
    n = line_count(data)
    ctx.lines_read += n
    ctx.count(REASON, 1, None, n=n, severity="info")


FORMAT = Format(
    name="kubelog-truth",
    description="kubelog synth's truth.json (the answer key of a synthetic run): recognised and counted, not parsed",
    priority=5,
    sniff=sniff,
    parse=parse,
    tables=(),
)
