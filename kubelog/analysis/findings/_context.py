"""The context every finding reads, computed once before the units run: the test-clock offset
(skew analysis or e2e anchor pairs), the requests, the run's span, and the last error burst that
serves as the window of a run without a failure."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from .base import Ctx, Evidence, _req_text, _test_text  # noqa: F401


def _skew_report(ctx: Ctx) -> dict:
    """The test domain's offset from :func:`kubelog.analysis.skew.analyze`, when that module exists."""
    try:
        from .. import skew  # type: ignore[attr-defined]

        rep = skew.analyze(ctx.run)
        d = rep.domains
        row = d[d["domain"] == "test"]
        if len(row) and not pd.isna(row["offset_s"].iloc[0]):
            return {
                "offset_s": float(row["offset_s"].iloc[0]),
                "source": "skew analysis",
                "text": str(row["text"].iloc[0]) if "text" in row else "",
                "evidence": [],
                "findings": list(getattr(rep, "findings", []) or []),
                "significant": bool(getattr(rep, "significant", False)),
            }
    except (ImportError, AttributeError):
        pass
    except Exception:  # noqa: BLE001 - the skew analysis failing must not stop the diagnosis
        pass
    return {}


def _test_offset(ctx: Ctx) -> dict:
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


def _anchor_offset(ctx: Ctx) -> dict:
    """Test clock minus apiserver clock from e2e ``Created replication controller`` ↔ ``POST replicationcontrollers``."""
    tl = ctx.table("test_log")
    if not len(tl) or not ctx.run.has("requests"):
        return {}
    import pyarrow.dataset as ds

    # only the rows used below (POST replicationcontrollers by the e2e client): not every request again
    rq = ctx.run.table(
        "requests",
        filter=(ds.field("verb") == "create")
        & (ds.field("resource") == "replicationcontrollers")
        & (ds.field("client") == "e2e"),
        columns=[
            "ts",
            "method",
            "verb",
            "resource",
            "namespace",
            "client",
            "code",
            "uri",
            "latency_s",
            "user_agent",
            "source_id",
            "line_no",
            "origin",
        ],
    )
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
        n = int(
            (
                created["msg"].str.contains(f"namespace: {m.group(1)},", regex=False)
                & (created["line_no"] < c["line_no"])
            ).sum()
        )
        if n >= len(cand):
            continue
        p = cand.iloc[n]
        diffs.append((c["ts"] - p["ts"]).total_seconds())
        if len(ev) < 2:
            ev += [
                Evidence(ctx.where(c["source_id"], c["line_no"]), _test_text(c)),
                Evidence(ctx.where(p["source_id"], p["line_no"]), _req_text(p)),
            ]
    if not diffs:
        return {}
    return {
        "offset_s": float(np.median(diffs)),
        "source": f"{len(diffs)} e2e anchor pair(s) (Created replication "
        "controller ↔ POST replicationcontrollers; the test logs after the response)",
        "evidence": ev[:4],
        "n": len(diffs),
    }


def _requests(ctx: Ctx) -> pd.DataFrame:
    if not ctx.run.has("requests"):
        return pd.DataFrame()
    cols = [
        "ts",
        "start_ts",
        "method",
        "verb",
        "resource",
        "subresource",
        "code",
        "client",
        "user_agent",
        "user",
        "uri",
        "latency_s",
        "source_id",
        "line_no",
        "long_running",
    ]
    from ..latency import kept_requests

    # the report's one read of the requests, when it kept them: already de-duplicated, so without the
    # columns only the de-duplication reads (a copy of a million rows each)
    rq = kept_requests(ctx.run, cols + ["origin"])
    if rq is None:
        rq = ctx.table("requests", columns=cols + ["hijacked", "audit_id", "origin", "stage", "server"])
        if not len(rq):
            return rq
        from ...formats.audit import dedup_requests

        rq = dedup_requests(rq)[0]  # (rows, n dropped[, note]) depending on the version
        if "server" in rq:  # requests served by a kubelet's own HTTP server are not API calls
            rq = rq[rq["server"].fillna("kube-apiserver").isin(["kube-apiserver", ""])]
    origins = rq["origin"].value_counts()
    if "httplog" in origins and "audit" in origins and origins["audit"] >= 0.5 * origins["httplog"]:
        # the same requests in both logs without shared audit IDs (access log before 1.22): keep the access log
        rq = rq[rq["origin"] != "audit"]
    return rq


def _run_span(ctx: Ctx, rq: pd.DataFrame):
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


def _error_burst(ctx: Ctx, rq: pd.DataFrame):
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
