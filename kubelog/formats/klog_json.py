"""``--logging-format=json`` component logs (docs/formats/klog-json.md) → ``messages`` (+ ``requests``).

One JSON object per line: ``ts`` (epoch **milliseconds**, float), optional ``logger``, ``caller``
(``dir/file.go:123``), ``msg``, ``v`` (info) or ``err`` (error records), then the key/values.
Each JSON record is one record line and one ``messages`` row: ``level`` is ``E`` for records with ``err`` and
no ``v``, else ``I``; ``file``/``line`` from ``caller``; ``kv`` holds the other keys as JSON object text.
Access-log records (``msg`` ``"HTTP"`` with ``verb``/``URI``/``latency``/``resp``) also become ``requests`` rows
(``origin`` jsonlog; the record time is the request end). Lines that are not JSON (output before logging was
set up) are counted (``not JSON (plain text in a JSON-format log)``); no line is lost.
Status: minimal — Trace blocks and pod records in JSON mode are not extracted yet.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pyarrow as pa

from .. import timeutil
from . import httplog
from .audit import iter_lines
from .base import Context, Format, Head

RX_SNIFF = re.compile(r'^\{"ts":\d+(?:\.\d+)?,(?:"logger":"[^"]*",)?(?:"caller":"[^"]*",)?"msg":')
RX_TS = re.compile(rb'"ts":(\d+)(?:\.(\d+))?[,}]')
BASE_KEYS = ("ts", "logger", "caller", "msg", "v", "err")


def sniff(head: Head) -> bool:
    ls = [l for l in head.lines(100) if l.strip()]
    if not ls:
        return False
    hits = sum(1 for l in ls if RX_SNIFF.match(l))
    return hits >= 3 or (hits >= 1 and hits >= 0.5 * len(ls))


def parse(stream, ctx: Context) -> None:
    head = stream.peek(64 * 1024) if hasattr(stream, "peek") else b""
    name = ctx.name.rsplit("/", 1)[-1].lower()
    comp = ctx.info.get("component") or next(
        (
            c
            for c in ("kube-apiserver", "kube-scheduler", "kube-controller-manager", "kubelet", "kube-proxy")
            if c in name
        ),
        "",
    )
    del head
    ctx.info["component"] = comp
    if not ctx.clock:
        ctx.clock = (
            "apiserver"
            if comp in ("kube-apiserver", "kube-scheduler", "kube-controller-manager")
            else ("node" if comp == "kubelet" else comp or "unknown")
        )
    M = {k: [] for k in ("ts", "level", "file", "line", "msg", "kv", "line_no")}
    R = {
        k: []
        for k in ("method", "uri", "lat", "ua", "src", "resp", "aid", "hijacked", "apf_pl", "apf_fs", "end", "line_no")
    }

    def flush():
        if M["line_no"]:
            n = len(M["line_no"])
            ts = np.array(M["ts"], dtype=np.int64)
            ok = ts != np.iinfo(np.int64).min
            cols = dict(
                M,
                ts=timeutil.to_ts_array(ts, ok),
                clock=[ctx.clock] * n,
                component=[comp] * n,
                continuation_lines=[0] * n,
            )
            ctx.emit("messages", cols)
            for k in M:
                M[k] = []
        if R["line_no"]:
            S = pa.string()
            cols = {k: pa.array(R[k], S) for k in ("method", "uri", "lat", "ua", "src", "aid", "apf_pl", "apf_fs")}
            cols["resp"] = pa.array(R["resp"], pa.int32())
            cols["hijacked"] = pa.array(R["hijacked"], pa.bool_())
            req = httplog.to_requests(cols, np.array(R["end"], dtype=np.int64), ctx.clock, "jsonlog")
            req["line_no"] = R["line_no"]
            req["server"] = [comp] * len(R["line_no"])
            ctx.emit("requests", req)
            for k in R:
                R[k] = []

    for ln, raw in iter_lines(stream):
        ctx.lines_read += 1
        if raw is None:
            ctx.count("line too long (over 64 MiB, skipped)", ln, None, severity="error")
            continue
        s = raw.strip()
        if not s:
            ctx.count("blank line", ln, "", severity="info")
            continue
        d = None
        if s.startswith(b"{"):
            try:
                d = json.loads(s)
            except (ValueError, RecursionError):
                d = None
        if not isinstance(d, dict) or not isinstance(d.get("ts"), (int, float)):
            ctx.count("not JSON (plain text in a JSON-format log)", ln, raw[:300], severity="info")
            continue
        ctx.record_lines += 1
        tm = RX_TS.search(s)
        if tm and len(tm.group(1)) < 16:  # exact: epoch ms digits + fraction → ns
            ts_ns = int(tm.group(1)) * 1_000_000 + int(((tm.group(2) or b"") + b"000000")[:6])
        else:
            ts_ns = np.iinfo(np.int64).min
        caller = d.get("caller") if isinstance(d.get("caller"), str) else ""
        f, _, l = caller.rpartition(":")
        msg = d.get("msg") if isinstance(d.get("msg"), str) else ""
        kv = {k: v for k, v in d.items() if k not in ("ts", "caller", "msg", "v")}
        M["ts"].append(ts_ns)
        M["level"].append("E" if "err" in d and "v" not in d else "I")
        M["file"].append(f.rsplit("/", 1)[-1] if f else None)
        M["line"].append(int(l) if l.isdigit() else None)
        M["msg"].append(msg.rstrip("\n"))
        M["kv"].append(json.dumps(kv) if kv else None)
        M["line_no"].append(ln)
        if msg == "HTTP" and isinstance(d.get("URI"), str) and "verb" in d:
            resp = d.get("resp")
            R["method"].append(str(d.get("verb")))
            R["uri"].append(d["URI"])
            R["lat"].append(str(d.get("latency", "")))
            R["ua"].append(d.get("userAgent") if isinstance(d.get("userAgent"), str) else None)
            R["src"].append(d.get("srcIP") if isinstance(d.get("srcIP"), str) else None)
            R["resp"].append(resp if isinstance(resp, int) and not isinstance(resp, bool) else None)
            R["aid"].append(d.get("audit-ID") if isinstance(d.get("audit-ID"), str) else None)
            R["hijacked"].append(bool(d.get("hijacked", False)))
            R["apf_pl"].append(d.get("apf_pl") if isinstance(d.get("apf_pl"), str) else None)
            R["apf_fs"].append(d.get("apf_fs") if isinstance(d.get("apf_fs"), str) else None)
            R["end"].append(ts_ns)
            R["line_no"].append(ln)
        if len(M["line_no"]) >= 100_000:
            flush()
    flush()


FORMAT = Format(
    name="klog-json",
    description="component logs written with --logging-format=json (zap: ts in epoch ms, caller, msg, v/err, kv)",
    priority=40,
    sniff=sniff,
    parse=parse,
    tables=("messages", "requests"),
)
