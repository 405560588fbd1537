"""SLO verdicts: typed configuration with cited defaults, evaluated on a run.

Configuration
-------------
``slo_defaults.toml`` (beside this module; every default carries a comment and a ``source``
citing where it comes from) is read first, then the user's TOML file with the same keys.  Unknown
keys, wrong types and out-of-range values are rejected with a :class:`ConfigError` that names the
key and the file.

SLIs
----
``kubemark_2017.api_calls``
    p99 of API-call latency ≤ 1 s per group (verb/resource/subresource/scope by default), and,
    separately, on every API-call group the test itself reported (``perf_summaries`` ``api_call``
    rows: e2e ``Top latency metric`` lines, the ``WARNING`` ones marked "flagged by the test",
    clusterloader2 APIResponsiveness), as ``e2e-reported: VERB resource[/subresource] scope`` rows
    (:func:`reported_api_calls`); a percentile the test did not print is NO DATA.
``kubemark_2017.pod_startup``
    p99 of pod start-up (created → watched) ≤ 5 s.  Evaluated on the object-derived phases of
    :func:`kubelog.analysis.pods.pod_startup` (the pods the test measured when there are any, else
    all pods; without a watch time the created → running phase is used and labelled a lower bound)
    and, separately, on every start-up summary the test itself reported (``perf_summaries``
    ``pod_startup`` rows; kube-burner ``podReady`` per-pod latencies).  A pod that was seen but
    never ran counts as slower than any threshold.
``kubemark_2017.node_startup``
    p99 of node registration → first Ready ≤ 4 s (:func:`kubelog.analysis.pods.node_startup`).
``sig_scalability.mutating_api_calls``
    p99 ≤ 1 s per (verb, resource, subresource) of create/update/patch/delete on single objects.
``sig_scalability.read_only_api_calls``
    p99 per (resource, subresource, scope) of get/list: ≤ 1 s (resource), ≤ 30 s (namespace; 5 s
    for runs before 2022), ≤ 30 s (cluster).

API calls are the non-long-running requests of :func:`kubelog.analysis.validity.sli_requests`
(access log preferred over audit for the same request); non-resource URLs are excluded from the
SIG-Scalability SLIs.  Percentiles are nearest rank.  ``margin_s = threshold_s − observed_s``
(negative when violated).  Verdicts: ``PASS``, ``FAIL``, ``NO DATA``, ``INCONCLUSIVE (resolution)``.
A group over its threshold within the SLI's ``allowed_slow_calls`` is ``PASS`` with a note.

Resolution (pod start-up): a derived percentile carries its phase's resolution (the sum of its two ends'
resolutions, :mod:`kubelog.analysis.pods`: 1 s for a truncated ``creationTimestamp``, 2 s for the
e2e ``Found pod`` poll …).  The coarse sources of ``pod_startup`` are late-side ones — a start
truncated to the second, an end seen by a poll — so the true value lies in ``[observed − resolution,
observed]``: ``PASS`` when ``observed ≤ threshold``, ``FAIL`` only when ``observed − resolution >
threshold``, else ``INCONCLUSIVE (resolution)`` (the note gives the interval).  For the created →
running lower bound the interval is ``observed ± resolution`` when a running end is a truncated
``startedAt`` or ``Started`` event (it may err either way), ``[observed − resolution, observed]`` when
every running end is the kubelet's PLEG record (written up to a 1 s relist after the start).  The e2e density test's own printed percentiles use ``creationTimestamp`` (1 s,
truncated; test/e2e density.go ``createTimes[p.Name] = p.CreationTimestamp``): they get the same rule
with a 1 s resolution.  An empty clusterloader2 measurement (``0 worst … latencies: []``) is
``NO DATA``, never a row of zeros.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

import numpy as np
import pandas as pd

from ..run import Run
from . import stats

DEFAULTS_PATH = Path(__file__).with_name("slo_defaults.toml")
VERDICT_COLUMNS = [
    "sli",
    "group",
    "threshold_s",
    "percentile",
    "observed_s",
    "n",
    "margin_s",
    "verdict",
    "evidence",
    "note",
    "source",
]
MUTATING = ("create", "update", "patch", "delete")
READ_ONLY = ("get", "list")


class ConfigError(ValueError):
    """An SLO configuration file has an unknown key or a bad value."""


@dataclass
class SLI:
    """One SLI's settings (thresholds in seconds, percentile as a fraction)."""

    enabled: bool = True
    percentile: float = 0.99
    threshold_s: float = 1.0
    allowed_slow_calls: int = 0
    source: str = ""


@dataclass
class GroupedSLI(SLI):
    """An API-call SLI evaluated per group of request columns (``group_by``; empty = all calls)."""

    group_by: list = field(default_factory=lambda: ["verb", "resource", "subresource", "scope"])


@dataclass
class ReadOnlySLI(SLI):
    """Read-only API calls: a threshold per scope; namespace scope changed in 2022."""

    resource_threshold_s: float = 1.0
    namespace_threshold_s: float = 30.0
    namespace_threshold_before_s: float = 5.0
    namespace_threshold_change: str = "2022-01-01"
    cluster_threshold_s: float = 30.0


@dataclass
class Override:
    """A per-group override: matches an SLI and group fields; replaces threshold and/or percentile."""

    sli: str
    verb: str | None = None
    resource: str | None = None
    subresource: str | None = None
    scope: str | None = None
    group: str | None = None
    threshold_s: float | None = None
    percentile: float | None = None

    def matches(self, sli: str, key: dict, group_text: str) -> bool:
        if self.sli != sli:
            return False
        for k in ("verb", "resource", "subresource", "scope"):
            want = getattr(self, k)
            if want is not None and str(key.get(k, "")) != want:
                return False
        return self.group is None or self.group in group_text


SLI_TYPES = {
    "kubemark_2017.api_calls": GroupedSLI,
    "kubemark_2017.pod_startup": SLI,
    "kubemark_2017.node_startup": SLI,
    "sig_scalability.mutating_api_calls": SLI,
    "sig_scalability.read_only_api_calls": ReadOnlySLI,
}


@dataclass
class SLOConfig:
    """The SLO configuration: one settings object per SLI, overrides, and the files it came from.

    >>> cfg = SLOConfig.load()
    >>> cfg.sli("kubemark_2017.pod_startup").threshold_s
    5.0
    """

    slis: dict
    overrides: list = field(default_factory=list)
    files: list = field(default_factory=list)
    _used: set = field(default_factory=set, repr=False, compare=False)

    def sli(self, name: str) -> SLI:
        return self.slis[name]

    @classmethod
    def load(cls, path: str | Path | None = None) -> "SLOConfig":
        """Read ``slo_defaults.toml``, then ``path`` (if given) on top of it.

        Raises
        ------
        ConfigError
            Unknown key, wrong type or bad value; the message names the key and the file.
        FileNotFoundError
            ``path`` does not exist.
        """
        cfg = cls(slis={}, overrides=[], files=[])
        cfg._apply(DEFAULTS_PATH, initial=True)
        if path is not None:
            cfg._apply(Path(path), initial=False)
        return cfg

    def _apply(self, path: Path, initial: bool) -> None:
        try:
            with open(path, "rb") as f:
                data = tomllib.load(f)
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(f"{path}: not valid TOML: {e}") from None
        self.files.append(str(path))
        for top, v in data.items():
            if top == "overrides":
                if not isinstance(v, list):
                    raise ConfigError(f"{path}: 'overrides' must be an array of tables ([[overrides]])")
                for i, o in enumerate(v):
                    self.overrides.append(_override(o, f"{path}: overrides[{i}]"))
                continue
            if top not in {k.split(".")[0] for k in SLI_TYPES}:
                raise ConfigError(
                    f"{path}: unknown key {top!r} (known: {', '.join(sorted({k.split('.')[0] for k in SLI_TYPES} | {'overrides'}))})"
                )
            if not isinstance(v, dict):
                raise ConfigError(f"{path}: {top!r} must be a table")
            for name, body in v.items():
                full = f"{top}.{name}"
                if full not in SLI_TYPES:
                    known = ", ".join(k for k in SLI_TYPES if k.startswith(top + "."))
                    raise ConfigError(f"{path}: unknown key {full!r} (known: {known})")
                if not isinstance(body, dict):
                    raise ConfigError(f"{path}: {full!r} must be a table")
                base = self.slis.get(full) or SLI_TYPES[full]()
                self.slis[full] = _settings(base, body, f"{path}: {full}")
        if initial:
            missing = [k for k in SLI_TYPES if k not in self.slis]
            if missing:
                raise ConfigError(f"{path}: defaults lack {', '.join(missing)}")


def _check_value(name: str, value, typ, where: str):
    if typ is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where}.{name}: expected true/false, got {value!r}")
        return value
    if typ is int:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ConfigError(f"{where}.{name}: expected a non-negative integer, got {value!r}")
        return value
    if typ is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ConfigError(f"{where}.{name}: expected a number, got {value!r}")
        value = float(value)
        if name == "percentile" and not 0 < value <= 1:
            raise ConfigError(f"{where}.{name}: a fraction in (0, 1] (0.99 = 99th), got {value!r}")
        if name.endswith("_s") and value <= 0:
            raise ConfigError(f"{where}.{name}: seconds must be positive, got {value!r}")
        return value
    if typ is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where}.{name}: expected a string, got {value!r}")
        return value
    if typ is list:
        if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
            raise ConfigError(f"{where}.{name}: expected a list of strings, got {value!r}")
        return list(value)
    raise AssertionError(typ)


_TYPES = {
    "enabled": bool,
    "percentile": float,
    "threshold_s": float,
    "allowed_slow_calls": int,
    "source": str,
    "group_by": list,
    "resource_threshold_s": float,
    "namespace_threshold_s": float,
    "namespace_threshold_before_s": float,
    "namespace_threshold_change": str,
    "cluster_threshold_s": float,
}


def _settings(base: SLI, body: dict, where: str) -> SLI:
    allowed = {f.name for f in fields(base)}
    upd = {}
    for k, v in body.items():
        if k not in allowed:
            raise ConfigError(f"{where}: unknown key {k!r} (known: {', '.join(sorted(allowed))})")
        upd[k] = _check_value(k, v, _TYPES[k], where)
    if "group_by" in upd:
        from .. import tables

        bad = [c for c in upd["group_by"] if c not in tables.schema("requests").names]
        if bad:
            raise ConfigError(f"{where}.group_by: not columns of the requests table: {', '.join(bad)}")
    if "namespace_threshold_change" in upd:
        try:
            pd.Timestamp(upd["namespace_threshold_change"])
        except ValueError:
            raise ConfigError(
                f"{where}.namespace_threshold_change: not a date: {upd['namespace_threshold_change']!r}"
            ) from None
    return replace(base, **upd)


def _override(o, where: str) -> Override:
    if not isinstance(o, dict):
        raise ConfigError(f"{where}: must be a table")
    allowed = {f.name for f in fields(Override)}
    for k in o:
        if k not in allowed:
            raise ConfigError(f"{where}: unknown key {k!r} (known: {', '.join(sorted(allowed))})")
    if "sli" not in o:
        raise ConfigError(f"{where}: 'sli' is required (one of {', '.join(SLI_TYPES)})")
    if o["sli"] not in SLI_TYPES:
        raise ConfigError(f"{where}.sli: unknown SLI {o['sli']!r} (one of {', '.join(SLI_TYPES)})")
    kw = {"sli": o["sli"]}
    for k in ("verb", "resource", "subresource", "scope", "group"):
        if k in o:
            kw[k] = _check_value(k, o[k], str, where)
    for k in ("threshold_s", "percentile"):
        if k in o:
            kw[k] = _check_value(k, o[k], float, where)
    if "threshold_s" not in kw and "percentile" not in kw:
        raise ConfigError(f"{where}: sets neither threshold_s nor percentile")
    return Override(**kw)


# ---------------------------------------------------------------------------------------------


@dataclass
class SLOReport:
    """Verdicts of every enabled SLI, the validity audit, and the configuration used.

    Attributes
    ----------
    verdicts : DataFrame
        ``sli, group, threshold_s, percentile, observed_s, n, margin_s, verdict, evidence, note,
        source`` — seconds; ``verdict`` is PASS / FAIL / NO DATA; ``evidence`` lists ``file:line``
        of the worst cases.
    validity : DataFrame
        :func:`kubelog.analysis.validity.audit` (``check, count, detail``).
    config : SLOConfig
    """

    verdicts: pd.DataFrame
    validity: pd.DataFrame
    config: SLOConfig
    notes: list = field(default_factory=list)

    @property
    def violations(self) -> pd.DataFrame:
        """The FAIL rows of ``verdicts``."""
        return self.verdicts[self.verdicts["verdict"] == "FAIL"].reset_index(drop=True)


def evaluate(
    run: Run, config: SLOConfig | None = None, *, offsets: dict | None = None, corrections=None, pods=None
) -> SLOReport:
    """Evaluate every enabled SLI of ``config`` (default: ``SLOConfig.load()``) on ``run``.

    Parameters
    ----------
    run : Run
    config : SLOConfig, optional
    offsets : dict, optional
        ``{clock domain: seconds ahead}`` passed to :func:`kubelog.analysis.pods.pod_startup`.
    corrections : kubelog.analysis.skew.Corrections, optional
        The run's clock corrections (:func:`kubelog.analysis.skew.corrections`); used instead of
        ``offsets``.  The test-reported pod start-up rows are corrected with them too
        (raw − (θ_end − θ_start)), the raw value and the shift in the row's note.
    pods : PodStartup, optional
        Already computed :func:`kubelog.analysis.pods.pod_startup` of ``run`` with the same offsets;
        computed here when not given.

    Returns
    -------
    SLOReport
    """
    from . import pods as podsmod
    from . import validity as valmod

    cfg = config or SLOConfig.load()
    rows: list[dict] = []
    cfg._used = set()  # indices of overrides that matched a group in this evaluation
    need_api = any(
        cfg.sli(k).enabled
        for k in (
            "kubemark_2017.api_calls",
            "sig_scalability.mutating_api_calls",
            "sig_scalability.read_only_api_calls",
        )
    )
    group_cols = ["verb", "resource", "subresource", "scope"]
    extra = [c for c in cfg.sli("kubemark_2017.api_calls").group_by if c not in group_cols]
    want = list(dict.fromkeys(group_cols + extra + ["latency_s", "ts", "source_id", "line_no"]))
    req, ex = valmod.sli_requests(run, columns=want) if need_api else (None, None)
    if req is not None:
        # only these columns (api_requests adds the de-duplication's own: audit IDs, users, …), so
        # that the groupings below sort and copy ~100 MB, not ~300 MB, on a million requests
        req = req[want]
    if req is not None and len(req):
        for c in group_cols + extra:
            if req[c].hasnans:  # without NaN the column stays shared with the kept requests
                req[c] = req[c].fillna("")
    if corrections is None and offsets:
        from .skew import corrections as _corrections

        corrections = _corrections(run, offsets=offsets)
    if corrections is not None:
        offsets = corrections.pod_offsets()
    ps = pods if pods is not None else podsmod.pod_startup(run, offsets=offsets)
    nodes = podsmod.node_startup(run)

    s = cfg.sli("kubemark_2017.api_calls")
    if s.enabled:
        rows += _api_sli(run, cfg, "kubemark_2017.api_calls", s, req, list(s.group_by), lambda key: s.threshold_s)
        rows += _reported_api_rows(run, cfg, s, "kubemark_2017.api_calls")
    s = cfg.sli("sig_scalability.mutating_api_calls")
    if s.enabled:
        d = None if req is None else req[req["verb"].isin(MUTATING) & (req["scope"] == "resource")]
        rows += _api_sli(
            run,
            cfg,
            "sig_scalability.mutating_api_calls",
            s,
            d,
            ["verb", "resource", "subresource"],
            lambda key: s.threshold_s,
        )
    s = cfg.sli("sig_scalability.read_only_api_calls")
    if s.enabled:
        d = (
            None
            if req is None
            else req[req["verb"].isin(READ_ONLY) & req["scope"].isin(["resource", "namespace", "cluster"])]
        )
        ns_thr, ns_note = _namespace_threshold(s, d)
        thr = {"resource": s.resource_threshold_s, "namespace": ns_thr, "cluster": s.cluster_threshold_s}
        got = _api_sli(
            run,
            cfg,
            "sig_scalability.read_only_api_calls",
            s,
            d,
            ["resource", "subresource", "scope"],
            lambda key: thr.get(key.get("scope"), s.threshold_s),
        )
        for r in got:
            if "scope=namespace" in r["group"] and ns_note:
                r["note"] = "; ".join(x for x in (r["note"], ns_note) if x)
        rows += got
    s = cfg.sli("kubemark_2017.pod_startup")
    if s.enabled:
        rows += _pod_sli(run, cfg, s, ps, corrections)
    s = cfg.sli("kubemark_2017.node_startup")
    if s.enabled:
        rows += _node_sli(run, cfg, s, nodes)
    verdicts = pd.DataFrame(rows, columns=VERDICT_COLUMNS)
    validity = valmod.audit(run, pods=ps, exclusions=ex)
    notes = list(ps.notes)
    if corrections:
        notes = [corrections.describe()] + list(corrections.notes) + notes
    for i, o in enumerate(cfg.overrides):
        if i not in cfg._used:
            notes.append(
                f"override {i} ({o.sli}: "
                + ", ".join(
                    f"{k}={getattr(o, k)}"
                    for k in ("verb", "resource", "subresource", "scope", "group")
                    if getattr(o, k) is not None
                )
                + ") matched no group"
            )
    return SLOReport(verdicts=verdicts, validity=validity, config=cfg, notes=notes)


def _namespace_threshold(s: ReadOnlySLI, d):
    change = pd.Timestamp(s.namespace_threshold_change, tz="UTC")
    if d is None or d.empty or d["ts"].isna().all():
        return s.namespace_threshold_s, ""
    t = d["ts"].dropna().median()
    if t < change:
        return s.namespace_threshold_before_s, (
            f"run dated {t:%Y-%m-%d}, before {change:%Y-%m-%d}: namespace-scope "
            f"threshold {s.namespace_threshold_before_s:g} s"
        )
    return s.namespace_threshold_s, ""


def _apply_overrides(cfg: SLOConfig, sli: str, key: dict, group_text: str, thr: float, p: float, used=None):
    note = ""
    for i, o in enumerate(cfg.overrides):
        if o.matches(sli, key, group_text):
            if used is not None:
                used.add(i)
            if o.threshold_s is not None:
                thr = o.threshold_s
            if o.percentile is not None:
                p = o.percentile
            note = "override"
    return thr, p, note


def _resolved(obs, thr, res, two_sided=False) -> tuple[str, str]:
    """Verdict of a value known only to ``res`` seconds (module docstring) and its note."""
    lo, hi = obs - res, (obs + res if two_sided else obs)
    if hi <= thr:
        return "PASS", ""
    if lo > thr:
        return "FAIL", ""
    return (
        "INCONCLUSIVE (resolution)",
        f"the true value is in [{lo:.3g}, {hi:.3g}] s (resolution {res:g} s): the {thr:g} s threshold is inside",
    )


def _row(sli, group, thr, p, obs, n, evidence, note, source, verdict=None) -> dict:
    if verdict is None:
        verdict = "NO DATA" if (n == 0 or obs is None or pd.isna(obs)) else ("PASS" if obs <= thr else "FAIL")
    margin = (thr - obs) if verdict != "NO DATA" and obs is not None and not pd.isna(obs) else np.nan
    return {
        "sli": sli,
        "group": group,
        "threshold_s": float(thr),
        "percentile": float(p),
        "observed_s": (float(obs) if obs is not None and not pd.isna(obs) else np.nan),
        "n": int(n),
        "margin_s": margin,
        "verdict": verdict,
        "evidence": evidence,
        "note": note,
        "source": source,
    }


def _api_sli(run: Run, cfg: SLOConfig, name: str, s: SLI, d, by: list, threshold_of) -> list[dict]:
    if d is None or d.empty:
        return [
            _row(
                name,
                "(all)",
                s.threshold_s,
                s.percentile,
                None,
                0,
                "",
                "no API requests with a latency in the run",
                s.source,
            )
        ]
    out = []
    if by:
        groups = d.groupby(by, sort=True, observed=True, dropna=False)
    else:
        groups = [((), d)]
    for key, g in groups:
        key = dict(zip(by, key if isinstance(key, tuple) else (key,)))
        text = " ".join(f"{k}={v}" for k, v in key.items() if v != "") or (
            " ".join(f"{k}=''" for k in key) if key else "(all)"
        )
        thr, p, note = _apply_overrides(cfg, name, key, text, threshold_of(key), s.percentile, cfg._used)
        vals = g["latency_s"].to_numpy(dtype=float)
        obs = stats.percentile(vals, p)
        ev = ""
        if obs > thr:
            worst = g.nlargest(3, "latency_s")
            ev = "; ".join(f"{run.where(r.source_id, r.line_no)} ({r.latency_s:.3g} s)" for r in worst.itertuples())
        if obs > thr and p < 1 and stats.nearest_rank_index(len(vals), p) == len(vals) - 1 and len(vals) > 1:
            note = "; ".join(x for x in (note, f"n={len(vals)}: the {stats.label(p)[:-2]} is the slowest call") if x)
        out.append(_row(name, text, thr, p, obs, len(vals), ev, note, s.source))
    fails = [r for r in out if r["verdict"] == "FAIL"]
    if fails and len(fails) <= s.allowed_slow_calls:
        for r in fails:
            r["verdict"] = "PASS"
            r["note"] = "; ".join(
                x
                for x in (
                    r["note"],
                    f"over threshold, within allowed_slow_calls={s.allowed_slow_calls} ({len(fails)} slow groups)",
                )
                if x
            )
    order = {"FAIL": 0, "INCONCLUSIVE (resolution)": 1, "PASS": 2, "NO DATA": 3}
    out.sort(
        key=lambda r: (
            order[r["verdict"]],
            -(r["observed_s"] / r["threshold_s"]) if not pd.isna(r["observed_s"]) else 0,
        )
    )
    return out


def _pod_evidence(run: Run, per: pd.DataFrame, col: str, end: str, k: int = 3) -> str:
    """The ``k`` slowest pods by ``col`` with the input line of their ``end`` time."""
    w = per[per[col].notna()].nlargest(k, col)
    parts = []
    for r in w.to_dict("records"):
        src, ln = r.get(f"{end}_source_id"), r.get(f"{end}_line_no")
        loc = run.where(src, ln) if not (src is None or ln is None or pd.isna(src) or pd.isna(ln)) else "?"
        parts.append(f"{r['pod']} {r[col]:.3g} s ({loc})")
    return "; ".join(parts)


def _pod_sli(run: Run, cfg: SLOConfig, s: SLI, ps, corrections=None) -> list[dict]:
    name = "kubemark_2017.pod_startup"
    out = []
    per = ps.per_pod
    measured = per[per["measured"]]
    use = measured if (measured["pod_startup_s"].notna().any() or measured["not_running"].any()) else per
    pop = "measured pods" if use is measured and len(measured) else "all pods"
    col, lower = "pod_startup_s", False
    if not use[col].notna().any():
        t_c = use["created_ts_corrected"] if "created_ts_corrected" in use else use["created_ts"]
        t_r = use["running_ts_corrected"] if "running_ts_corrected" in use else use["running_ts"]
        c2r = (t_r - t_c).dt.total_seconds()
        if c2r.notna().any() or use["not_running"].any():
            use = use.assign(_c2r=c2r)
            col, lower = "_c2r", True
    vals = use[col].dropna().to_numpy(dtype=float)
    n_nr = int(use["not_running"].sum())
    allv = np.concatenate([vals, np.full(n_nr, np.inf)])
    group = f"derived: {pop}" + (" (created→running, a lower bound: no watch time)" if lower else "")
    thr, p, note = _apply_overrides(cfg, name, {}, group, s.threshold_s, s.percentile, cfg._used)
    if allv.size:
        obs = stats.percentile(allv, p)
        ev = _pod_evidence(run, use, col, "running" if lower else "watched") if obs > thr else ""
        notes = [note] if note else []
        if n_nr:
            notes.append(f"{n_nr} pods seen but never running count as slower than any threshold")
            nr = use[use["not_running"]].head(3)
            ev = "; ".join(x for x in (ev, "never running: " + ", ".join(nr["pod"])) if x)
        if not ps.per_pod.empty and ps.anomalies["cross_clock"].sum() and not lower:
            notes.append("ends on different clocks without correction (see validity)")
        end = "running" if lower else "watched"
        r = (use["created_resolution_s"] + use[f"{end}_resolution_s"])[use[col].notna()]
        res = float(r.max()) if len(r) and r.notna().any() else 0.0
        verdict = None
        if np.isfinite(obs) and res > 0:
            # a running end from the kubelet's PLEG record (or observedRunningTime) comes after the start,
            # like a poll: the lower bound errs only upwards; a truncated startedAt / Started event may
            # err either way
            from .pods import LATE_RUNNING_LABELS

            src = use.loc[use[col].notna(), "running_source"].fillna("")
            late = lower and src.str.endswith(LATE_RUNNING_LABELS).all()
            verdict, rnote = _resolved(obs, thr, res, two_sided=lower and not late)
            if rnote:
                notes.append(rnote)
        out.append(_row(name, group, thr, p, obs, allv.size, ev, "; ".join(notes), s.source, verdict=verdict))
    else:
        out.append(
            _row(
                name,
                "derived: pods",
                thr,
                p,
                None,
                0,
                "",
                "no pod with both a created and a watched/running time",
                s.source,
            )
        )
    out += _reported_pod_rows(run, cfg, s, name, corrections)
    return out


def _reported_correction(corrections, metric: str, obs: float, thr: float) -> tuple[float, str]:
    """A test-reported percentile moved to the reference clock, and the note saying so."""
    if not corrections:
        return obs, ""
    shift = corrections.phase_shift(metric)
    if not np.isfinite(shift):
        return obs, "not corrected for clock offsets (no offset for one of its clocks)"
    if shift == 0:
        return obs, ""
    lo, hi = corrections.phase_shift_range(metric)
    note = f"corrected for clock offsets: reported {obs:.6g} s − ({shift:+.6g} s = θ_end − θ_start)"
    if np.isfinite(lo) and np.isfinite(hi) and ((obs - hi <= thr) != (obs - lo <= thr)):
        note += f"; the verdict depends on the offset within its bounds ({obs - hi:.4g}–{obs - lo:.4g} s)"
    return obs - shift, note


def _reported_pod_rows(run: Run, cfg: SLOConfig, s: SLI, name: str, corrections=None) -> list[dict]:
    out = []
    stats.label(s.percentile)
    if run.has("perf_summaries"):
        ps = run.table(
            "perf_summaries",
            columns=[
                "metric",
                "phase",
                "labels",
                "count",
                "p50_s",
                "p90_s",
                "p99_s",
                "p100_s",
                "origin",
                "source_id",
                "line_no",
            ],
        )
        ps = ps[ps["metric"] == "pod_startup"]
        ps = ps.drop_duplicates(["phase", "source_id", "p50_s", "p90_s", "p99_s"])
        for r in ps.itertuples(index=False):
            where = run.where(r.source_id, r.line_no)
            lab = _labels(r.labels)
            extra = lab.get("summary") or lab.get("source") or ""
            group = f"e2e-reported: {r.phase or '?'} ({r.origin}{', ' + str(extra) if extra else ''})"
            thr, p, note = _apply_overrides(cfg, name, {}, group, s.threshold_s, s.percentile, cfg._used)
            own = lab.get("threshold_s")
            pc = stats.label(p)
            obs = getattr(r, pc.replace(".", "_"), None) if pc in ("p50_s", "p90_s", "p99_s", "p100_s") else None
            n = int(r.count) if r.count is not None and not pd.isna(r.count) else 0
            if r.count is not None and not pd.isna(r.count) and n == 0:
                out.append(
                    _row(name, group, thr, p, None, 0, where, "empty measurement: the test measured no pod", s.source)
                )
                continue
            if obs is None or pd.isna(obs):
                out.append(_row(name, group, thr, p, None, 0, where, f"the test did not report {pc}", s.source))
                continue
            obs, corr_note = _reported_correction(corrections, r.metric, float(obs), thr)
            own_note = corr_note
            if isinstance(own, (int, float)) and not isinstance(own, bool):
                own_note = "; ".join(
                    x
                    for x in (own_note, f"the test's own threshold {own:g} s: {'within' if obs <= own else 'exceeded'}")
                    if x
                )
            verdict, rnote = ("PASS" if obs <= thr else "FAIL"), ""
            if r.origin == "e2e-log":  # density: created = creationTimestamp, whole seconds, truncated
                verdict, rnote = _resolved(obs, thr, 1.0)
            out.append(
                _row(
                    name,
                    group,
                    thr,
                    p,
                    obs,
                    n,
                    where,
                    "; ".join(x for x in (note, "n not reported by the test" if not n else "", own_note, rnote) if x),
                    s.source,
                    verdict=verdict,
                )
            )
    if run.has("test_pod_latencies"):
        t = run.table(
            "test_pod_latencies", columns=["metric", "phase", "pod", "latency_s", "origin", "source_id", "line_no"]
        )
        t = t[(t["metric"] == "podReady") & t["latency_s"].notna()]
        for (phase, origin), g in t.groupby(["phase", "origin"], dropna=False):
            group = f"e2e-reported: {phase} podReady per pod ({origin})"
            thr, p, note = _apply_overrides(cfg, name, {}, group, s.threshold_s, s.percentile, cfg._used)
            obs = stats.percentile(g["latency_s"].to_numpy(dtype=float), p)
            ev = ""
            if obs > thr:
                w = g.nlargest(3, "latency_s")
                ev = "; ".join(
                    f"{r.pod} {r.latency_s:.3g} s ({run.where(r.source_id, r.line_no)})" for r in w.itertuples()
                )
            out.append(_row(name, group, thr, p, obs, len(g), ev, note, s.source))
    return out


def reported_api_calls(run: Run) -> pd.DataFrame:
    """The API-call latencies the test itself reported (``perf_summaries`` metric ``api_call``: e2e ``Top
    latency metric`` lines, ``WARNING`` ones included, clusterloader2 APIResponsiveness …), one row per
    distinct group and value, with ``group`` (``VERB resource[/subresource] scope``), ``flagged`` (the test
    printed it as a warning) and the row's ``labels`` as a dict.
    """
    cols = ["metric", "labels", "count", "p50_s", "p90_s", "p99_s", "origin", "source_id", "line_no"]
    if not run.has("perf_summaries"):
        return pd.DataFrame(columns=cols + ["group", "flagged", "lab"])
    ps = run.table("perf_summaries", columns=cols)
    ps = ps[ps["metric"] == "api_call"].drop_duplicates(["labels", "source_id", "p50_s", "p90_s", "p99_s"])
    lab = [_labels(x) for x in ps["labels"]]

    def get(d, k):
        v = d.get(k, d.get(k.lower(), ""))
        return "" if v is None else str(v)

    groups = []
    for d in lab:
        res = get(d, "Resource") + (f"/{get(d, 'Subresource')}" if get(d, "Subresource") else "")
        groups.append(" ".join(x for x in (get(d, "Verb"), res, get(d, "Scope")) if x) or "(unlabelled)")
    flagged = [bool(d.get("warning")) or "too high latency" in str(d.get("source", "")).lower() for d in lab]
    return ps.assign(group=groups, flagged=flagged, lab=lab).reset_index(drop=True)


def _reported_api_rows(run: Run, cfg: SLOConfig, s: SLI, name: str) -> list[dict]:
    """``e2e-reported`` rows: each API-call group the test reported, against the SLI's threshold.

    Tests report p50/p90/p99 only; with another percentile configured the row is NO DATA.
    """
    out = []
    rep = reported_api_calls(run)
    for r in rep.itertuples(index=False):
        group = f"e2e-reported: {r.group} ({r.origin}" + (", flagged by the test" if r.flagged else "") + ")"
        thr, p, note = _apply_overrides(cfg, name, {}, group, s.threshold_s, s.percentile, cfg._used)
        pc = stats.label(p)
        obs = getattr(r, pc, None) if pc in ("p50_s", "p90_s", "p99_s") else None
        where = run.where(r.source_id, r.line_no)
        if obs is None or pd.isna(obs):
            out.append(_row(name, group, thr, p, None, 0, where, f"the test did not report {pc}", s.source))
            continue
        n = int(r.count) if r.count is not None and not pd.isna(r.count) else 0
        notes = [note] if note else []
        if not n:
            notes.append("n not reported by the test")
        own = r.lab.get("threshold_s")
        if isinstance(own, (int, float)) and not isinstance(own, bool):
            notes.append(f"the test's own threshold {own:g} s: {'within' if obs <= own else 'exceeded'}")
        out.append(
            _row(
                name, group, thr, p, obs, n, where, "; ".join(notes), s.source, verdict="PASS" if obs <= thr else "FAIL"
            )
        )
    return out


def _labels(text) -> dict:
    import json

    if not isinstance(text, str) or not text:
        return {}
    try:
        d = json.loads(text)
    except ValueError:
        return {}
    return d if isinstance(d, dict) else {}


def _node_sli(run: Run, cfg: SLOConfig, s: SLI, nodes: pd.DataFrame) -> list[dict]:
    name = "kubemark_2017.node_startup"
    group = "nodes: registered→first Ready"
    thr, p, note = _apply_overrides(cfg, name, {}, group, s.threshold_s, s.percentile, cfg._used)
    v = nodes["startup_s"].dropna() if len(nodes) else pd.Series(dtype=float)
    if v.empty:
        return [_row(name, group, thr, p, None, 0, "", "no node with both a registration and a Ready time", s.source)]
    obs = stats.percentile(v.to_numpy(dtype=float), p)
    ev = ""
    if obs > thr:
        w = nodes[nodes["startup_s"].notna()].nlargest(3, "startup_s")
        ev = "; ".join(
            f"{r.node} {r.startup_s:.3g} s ({run.where(r.ready_source_id, r.ready_line_no)})" for r in w.itertuples()
        )
    return [_row(name, group, thr, p, obs, len(v), ev, note, s.source)]
