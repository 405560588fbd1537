"""What every finding unit shares: the evidence and finding records, the diagnosis context (tables
read once, the failures, the clock offset, the window) and the text helpers that rebuild a line from
a table row."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

from ...run import Run
from . import register  # noqa: F401 - units import it from here
from .weights import WEIGHTS

SEVERITIES = ("critical", "error", "warning", "info")


@dataclass
class Evidence:
    """One piece of evidence: ``where`` is ``file:line``, ``text`` the (rebuilt) line."""

    where: str
    text: str


@dataclass
class Finding:
    """A ranked finding.

    Attributes
    ----------
    rank : int
        1 = most likely explanation of the failure.
    severity : str
        critical / error / warning / info.
    title, detail : str
        One line and a paragraph.
    evidence : list of Evidence
        File:line references with the lines.
    kind : str
        Machine-readable kind (failure:timeout, stall, clock, apiserver_errors, signature:etcd ...).
    score : float
        Ranking score (higher first).
    """

    rank: int
    severity: str
    title: str
    detail: str
    evidence: list = field(default_factory=list)
    kind: str = ""
    score: float = 0.0


def _hms(ts) -> str:
    if ts is None or pd.isna(ts):
        return "?"
    return pd.Timestamp(ts).strftime("%H:%M:%S")


def _dur(seconds: float) -> str:
    """``9h58m17.9s`` style duration of ``seconds``."""
    if seconds is None or (isinstance(seconds, float) and math.isnan(seconds)):
        return "?"
    s = abs(float(seconds))
    sign = "-" if seconds < 0 else ""
    if s >= 3600:
        s = round(s)
    elif s >= 60:
        s = round(s, 1)
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    if h >= 1:
        return f"{sign}{int(h)}h{int(m)}m{sec:.0f}s"
    if m >= 1:
        return f"{sign}{int(m)}m{sec:.1f}s"
    return f"{sign}{sec:.3g}s" if sec < 10 else f"{sign}{sec:.1f}s"


def _go_dur(text: str) -> float | None:
    from ...timeutil import parse_duration_ns

    try:
        return parse_duration_ns(text) / 1e9
    except Exception:  # noqa: BLE001 - not a Go duration
        return None


def _first_line(s, n: int = 240) -> str:
    s = "" if s is None or (isinstance(s, float) and math.isnan(s)) else str(s)
    line = s.strip().split("\n", 1)[0]
    return line if len(line) <= n else line[: n - 1] + "…"


def _table(run: Run, name: str, columns=None) -> pd.DataFrame:
    if not run.has(name):
        return pd.DataFrame(columns=columns or [])
    try:
        return run.table(name, columns=columns)
    except Exception:  # noqa: BLE001 - a missing column in an older run: read all
        return run.table(name)


class Ctx:
    """Shared state of one diagnosis.

    Set up by :func:`kubelog.analysis.diagnose.diagnose` before the units run: ``failures`` (and
    ``fatal``, ``failed``), ``off``/``theta`` (test clock minus apiserver clock), ``rq`` (the
    requests), ``span_s``. The failure unit sets ``window`` (test clock), ``primary_stall``,
    ``primary_finding`` and ``failure_finding``; the core then sets ``w0``/``w1`` (the window on the
    apiserver clock, or None) and ``window_info``; later units read them.
    """

    def __init__(self, run: Run):
        self.run = run
        self.findings: list[Finding] = []
        self._where_cache = {}
        self._tables = {}
        self._memo = {}
        self.failures: list = []
        self.fatal: list = []
        self.failed = False
        self.off: dict = {}
        self.theta = 0.0
        self.rq = pd.DataFrame()
        self.span_s = 0.0
        self.window: dict = {}
        self.window_info: dict = {}
        self.w0 = self.w1 = None
        self.primary_stall = None
        self.primary_finding = None
        self.failure_finding: dict = {}
        self.idle_ok = False
        self.signatures_found: list = []

    def table(self, name: str, columns=None) -> pd.DataFrame:
        """A table (or some of its columns), read once per diagnosis."""
        key = (name, tuple(columns) if columns else None)
        if key not in self._tables:
            self._tables[key] = _table(self.run, name, columns)
        return self._tables[key].copy(deep=False)

    def memo(self, key: str, fn):
        """``fn()`` computed once per diagnosis (a query several units share)."""
        if key not in self._memo:
            self._memo[key] = fn()
        return self._memo[key]

    def where(self, source_id, line_no) -> str:
        key = (int(source_id), int(line_no)) if not pd.isna(source_id) and not pd.isna(line_no) else None
        if key is None:
            return "?"
        if key not in self._where_cache:
            try:
                self._where_cache[key] = self.run.where(*key)
            except Exception:  # noqa: BLE001
                self._where_cache[key] = f"input{key[0]}:{key[1]}"
        return self._where_cache[key]

    def add(
        self, severity: str, title: str, detail: str, evidence, *, kind: str, weight: str, bonus: float = 0.0
    ) -> Finding:
        """Add a finding scored ``WEIGHTS[weight] + bonus``; returns it."""
        f = Finding(0, severity, title, detail, list(evidence), kind, float(WEIGHTS[weight] + bonus))
        self.findings.append(f)
        return f


_Ctx = Ctx


def safe(ctx: Ctx, name: str, fn, *args):
    """Run one analysis; a failure of it becomes an info finding instead of losing the diagnosis."""
    try:
        return fn(*args)
    except Exception as e:  # noqa: BLE001 - one analysis must not take the others down
        ctx.add(
            "info",
            f"the {name} analysis could not run: {type(e).__name__}: {e}",
            "This part of the diagnosis is missing; the other findings are unaffected.",
            [],
            kind="internal_error",
            weight="internal_error",
        )
        return None


_safe = safe


def _msg_text(r) -> str:
    lvl = r.get("level", "") or ""
    f = r.get("file", "")
    loc = f"{f}:{int(r['line'])}" if isinstance(f, str) and f and not pd.isna(r.get("line")) else ""
    ts = _hms(r.get("ts"))
    return f"{lvl}{ts} {loc}] {_first_line(r.get('msg'))}".strip()


def _req_text(r) -> str:
    lat = r.get("latency_s")
    lat = f"({lat * 1000:.1f}ms)" if lat is not None and not pd.isna(lat) else ""
    uri = r.get("uri") if isinstance(r.get("uri"), str) else f"{r.get('verb', '')} {r.get('resource', '')}"
    ua = r.get("user_agent", "") or r.get("client", "")
    return f"{_hms(r.get('ts'))} {r.get('method', '') or ''} {uri} {lat} {r.get('code')} [{ua}]"


def _test_text(r) -> str:
    lvl = r.get("level")
    ts = r.get("ts")
    head = f"{pd.Timestamp(ts).strftime('%b %d %H:%M:%S.%f')[:-3]}: " if ts is not None and not pd.isna(ts) else ""
    if lvl == "STEP":
        return f"STEP: {_first_line(r.get('msg'))}"
    return f"{head}{lvl}: {_first_line(r.get('msg'))}" if lvl == "INFO" else _first_line(r.get("msg"))


def _arrow_text(s: pd.Series):
    """``s`` as an Arrow string array (converted once, matched many times), or None."""
    try:
        import pyarrow as pa

        return pa.array(s.to_numpy(dtype=object), type=pa.large_string())
    except Exception:  # noqa: BLE001
        return None


def _contains(s: pd.Series, pat: str, arr=None) -> pd.Series:
    """Boolean mask of ``s`` matching ``pat``: RE2 through pyarrow on ``arr`` when given, else Python ``re``."""
    if arr is not None:
        try:
            import pyarrow.compute as pc

            m = pc.match_substring_regex(arr, pat)
            return pd.Series(m.fill_null(False).to_numpy(zero_copy_only=False), index=s.index, dtype=bool)
        except Exception:  # noqa: BLE001 - a pattern RE2 rejects: use Python's re
            pass
    return s.str.contains(pat, regex=True)
