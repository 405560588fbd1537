"""What the test itself reported: its specs (e2e logs and junit XML merged) and its summaries
(the percentiles and counts it printed, ``perf_summaries``).  The ``specs`` and ``summaries``
commands print these; the report and ``slo`` read them."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

STATES = ("passed", "failed", "skipped", "pending")
SPEC_COLUMNS = [
    "spec",
    "state",
    "start_ts",
    "duration_s",
    "failure_message",
    "failure_location",
    "last_step",
    "origin",
    "where",
]
SUMMARY_COLUMNS = [
    "ts",
    "origin",
    "metric",
    "phase",
    "labels",
    "count",
    "p50_s",
    "p90_s",
    "p99_s",
    "p100_s",
    "value",
    "unit",
    "where",
]


def specs_frame(run, state: str | None = None) -> pd.DataFrame:
    """One row per spec.

    When the same spec name comes from a junit file and from an e2e log, they are merged:
    state, duration and failure from junit (the reporter's verdict), start time and last STEP
    from the log (``origin`` = ``junit+e2e-log``). Specs of one origin are kept as they are.
    ``where`` is ``file:line`` of the row's source.
    """
    import pandas as pd

    df = run.table("test_specs")
    if df.empty:
        return pd.DataFrame(columns=SPEC_COLUMNS)
    df["where"] = [
        run.where(s, l) if pd.notna(l) else run.source_name(int(s)) for s, l in zip(df["source_id"], df["line_no"])
    ]
    ju = df[df["origin"] == "junit"].drop_duplicates("spec", keep="last")
    lg = df[df["origin"] != "junit"].drop_duplicates("spec", keep="last")
    if not ju.empty and not lg.empty:
        m = ju.merge(
            lg[["spec", "start_ts", "last_step", "duration_s", "where"]], on="spec", how="left", suffixes=("", "_log")
        )
        both = m["where_log"].notna()
        m["start_ts"] = m["start_ts"].where(m["start_ts"].notna(), m["start_ts_log"])
        m["last_step"] = m["last_step"].where(m["last_step"].notna(), m["last_step_log"])
        m.loc[both, "origin"] = "junit+e2e-log"
        m = m.drop(columns=[c for c in m.columns if c.endswith("_log")])
        out = pd.concat([m, lg[~lg["spec"].isin(ju["spec"])]], ignore_index=True)
    else:
        out = pd.concat([ju, lg], ignore_index=True)
    if state:
        out = out[out["state"] == state]
    return out[SPEC_COLUMNS].reset_index(drop=True)


def summaries_frame(run, metrics: list[str] | None = None, origins: list[str] | None = None) -> pd.DataFrame:
    """The ``perf_summaries`` rows of the run, in input/line order, with ``where`` = file:line."""
    import pandas as pd

    df = run.table("perf_summaries")
    if df.empty:
        return pd.DataFrame(columns=SUMMARY_COLUMNS)
    if metrics:
        df = df[df["metric"].isin(metrics)]
    if origins:
        df = df[df["origin"].isin(origins)]
    df = df.sort_values(["source_id", "line_no"], kind="stable")
    df["where"] = [
        run.where(s, l) if pd.notna(l) else run.source_name(int(s)) for s, l in zip(df["source_id"], df["line_no"])
    ]
    return df[SUMMARY_COLUMNS].reset_index(drop=True)


def run_started(run):
    """When the run started: the first time of the test log, else of the API requests (None without
    either).  The history orders runs by it and the store's index records it."""
    for table in ("test_log", "requests"):
        if run.has(table):
            ts = run.table(table, columns=["ts"])["ts"]
            if len(ts) and ts.notna().any():
                return ts.min()
    return None


def test_specs_of_record(run) -> "pd.DataFrame | None":
    """The specs that say how the test ended: junit's when the run has junit XML (the CI's verdict),
    else the e2e log's; None without any."""
    if not run.has("test_specs"):
        return None
    sp = run.table("test_specs")
    if not len(sp):
        return None
    return sp[sp["origin"] == "junit"] if (sp["origin"] == "junit").any() else sp
