"""Clock-skew estimation from causal pairs: the pure math layer.

No I/O and no knowledge of kubelog's tables: only numpy arrays in, small
dataclasses out.  The extraction of causal pairs from logs lives elsewhere and
calls into this module.  The model and the derivations are in
``docs/skew.md`` (section numbers below refer to it).

Conventions
-----------
All times are float **seconds**; timestamps are epoch seconds as read on
their own clock (not corrected).

For an ordered domain pair ``(A, B)`` the **offset** is::

    θ = C_B − C_A          (clock B minus clock A at the same real instant)

so θ > 0 means B's clock is *ahead of* A's, and an event read ``t_b`` on B
happened at ``t_b − θ`` on A's clock.  A causal pair ``(e on A) → (f on B)``
with minimum delay δ is a *forward* pair of ``(A, B)`` and gives an **upper**
bound ``θ ≤ t_b − t_a − δ``; a pair ``(f' on B) → (e' on A)`` is a *backward*
pair and gives a **lower** bound ``θ ≥ t_b' − t_a' + δ``.

A timestamp with resolution ``q`` (e.g. a whole-second ``metav1.Time``,
``q = 1``) is **truncated**: the true reading lies in ``[t, t + q)``.  Only the
receiver's resolution loosens a bound (the send's true reading is ≥ its
truncated value, which is already the conservative side), so

    U = min over forward pairs  (t_b + q_b − t_a − δ)
    L = max over backward pairs (t_b − t_a − q_a + δ)

where ``q_b``/``q_a`` are the resolutions of the receiving side.

float64 epoch seconds carry ~0.24 µs of rounding (2024); bounds are exact
arithmetic on those floats and are not widened for it.

Examples
--------
>>> fwd = Pairs.from_arrays("test", "apiserver", send_ts=[100.0], recv_ts=[110.3])
>>> bwd = Pairs.from_arrays("apiserver", "test", send_ts=[110.4], recv_ts=[100.5])
>>> est = offset_bounds(fwd, bwd)
>>> est.kind, round(est.lower, 3), round(est.upper, 3), round(est.estimate, 3)
('two-sided', 9.9, 10.3, 10.1)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Iterable, Mapping, NamedTuple

import numpy as np

__all__ = [
    "CausalPair",
    "Pairs",
    "group_pairs",
    "pairs_from_round_trips",
    "OffsetEstimate",
    "MaxSatisfied",
    "offset_bounds",
    "max_satisfied_offset",
    "NtpResult",
    "ntp_offset",
    "DriftFit",
    "fit_offset_drift",
    "OneWayDrift",
    "fit_one_way_drift",
    "StepResult",
    "detect_step",
    "SystemSolution",
    "solve_system",
    "Violations",
    "count_violations",
    "lamport_check",
    "format_duration",
    "describe",
    "describe_estimate",
    "domain_name",
]

#: Prior bound on relative drift |ω| (NTP frequency tolerance, 500 ppm).
MAX_DRIFT = 5e-4
#: Minimum time span (s) of the pairs before drift is fitted at all.
MIN_DRIFT_SPAN_S = 600.0
#: Offsets within this many seconds of a whole number of hours look like a zone mismatch
#: (generous enough for the 2017 Kubemark case, 10 h − 1 m 44.8 s).
TZ_TOLERANCE_S = 120.0

#: Slack for float64 rounding of epoch-second timestamps (ulp ≈ 0.24 µs in 2024).
FLOAT_TOL_S = 1e-6

KINDS = ("two-sided", "lower-only", "upper-only", "none")


# ---------------------------------------------------------------------------
# Data model
# ---------------------------------------------------------------------------


class CausalPair(NamedTuple):
    """One happens-before relation between two clock domains.

    The event read ``t_a`` on ``domain_a``'s clock happened before the event
    read ``t_b`` on ``domain_b``'s clock, by at least ``min_delay_s`` seconds
    of real time.  ``res_a_s``/``res_b_s`` are the timestamps' resolutions
    (truncation: the true reading is in ``[t, t + res)``), ``evidence`` a
    short human pointer (file:line, audit-ID, …).
    """

    domain_a: str
    t_a: float
    domain_b: str
    t_b: float
    min_delay_s: float = 0.0
    res_a_s: float = 0.0
    res_b_s: float = 0.0
    evidence: str = ""


@dataclass(frozen=True)
class Pairs:
    """A batch of causal pairs, all sent on ``send_domain`` and received on ``recv_domain``.

    Attributes
    ----------
    send_domain, recv_domain : str
        Clock domains of the earlier (send) and later (receive) events.
    send_ts, recv_ts : ndarray of float
        Raw readings, epoch seconds, each on its own clock.
    min_delay : ndarray of float
        Known minimum real-time delay δ ≥ 0 between send and receive, seconds.
    res_send, res_recv : ndarray of float
        Timestamp resolutions q ≥ 0, seconds (truncation: true reading in ``[t, t+q)``).
    evidence : ndarray of object (str)
        One human-readable pointer per pair.
    """

    send_domain: str
    recv_domain: str
    send_ts: np.ndarray
    recv_ts: np.ndarray
    min_delay: np.ndarray
    res_send: np.ndarray
    res_recv: np.ndarray
    evidence: np.ndarray

    @classmethod
    def from_arrays(
        cls,
        send_domain: str,
        recv_domain: str,
        send_ts,
        recv_ts,
        min_delay=0.0,
        res_send=0.0,
        res_recv=0.0,
        evidence=None,
    ) -> "Pairs":
        """Build from array-likes; scalars broadcast to the number of pairs.

        Raises ``ValueError`` on non-finite timestamps, negative delays or
        resolutions, or mismatched lengths.
        """
        s = np.atleast_1d(np.asarray(send_ts, dtype=float))
        r = np.atleast_1d(np.asarray(recv_ts, dtype=float))
        if s.shape != r.shape or s.ndim != 1:
            raise ValueError(f"send_ts and recv_ts must be 1-D of equal length, got {s.shape} and {r.shape}")
        n = s.size
        d, qs, qr = (np.broadcast_to(np.asarray(x, dtype=float), (n,)).copy() for x in (min_delay, res_send, res_recv))
        if not (np.isfinite(s).all() and np.isfinite(r).all()):
            raise ValueError("timestamps must be finite (drop or count unparsed times before building Pairs)")
        for name, x in (("min_delay", d), ("res_send", qs), ("res_recv", qr)):
            if not np.isfinite(x).all() or (x < 0).any():
                raise ValueError(f"{name} must be finite and >= 0")
        if evidence is None:
            ev = np.array([""] * n, dtype=object)
        elif isinstance(evidence, str):
            ev = np.array([evidence] * n, dtype=object)
        else:
            ev = np.array(list(evidence), dtype=object)
            if ev.size != n:
                raise ValueError(f"evidence has {ev.size} entries for {n} pairs")
        return cls(send_domain, recv_domain, s, r, d, qs, qr, ev)

    @classmethod
    def empty(cls, send_domain: str, recv_domain: str) -> "Pairs":
        """No pairs between the two domains."""
        return cls.from_arrays(send_domain, recv_domain, [], [])

    @classmethod
    def from_pairs(cls, pairs: Iterable[CausalPair]) -> "Pairs":
        """Build from :class:`CausalPair` records that share one ordered domain pair."""
        pairs = list(pairs)
        if not pairs:
            raise ValueError("no pairs: use Pairs.empty(send_domain, recv_domain)")
        keys = {(p.domain_a, p.domain_b) for p in pairs}
        if len(keys) != 1:
            raise ValueError(f"pairs span several ordered domain pairs {sorted(keys)}; use group_pairs()")
        ((a, b),) = keys
        cols = list(zip(*pairs))
        return cls.from_arrays(a, b, cols[1], cols[3], cols[4], cols[5], cols[6], cols[7])

    def __len__(self) -> int:
        return int(self.send_ts.size)

    def subset(self, idx) -> "Pairs":
        """The pairs selected by a boolean mask or an index array."""
        return Pairs(
            self.send_domain,
            self.recv_domain,
            self.send_ts[idx],
            self.recv_ts[idx],
            self.min_delay[idx],
            self.res_send[idx],
            self.res_recv[idx],
            self.evidence[idx],
        )

    def upper_values(self) -> np.ndarray:
        """Per pair, the bound it puts on ``C_recv − C_send``: ``recv + q_recv − send − δ`` (an upper bound)."""
        return self.recv_ts + self.res_recv - self.send_ts - self.min_delay

    def lower_values(self) -> np.ndarray:
        """Per pair, the bound it puts on ``C_send − C_recv``: ``send − recv − q_recv + δ`` (a lower bound)."""
        return self.send_ts - self.recv_ts - self.res_recv + self.min_delay


def group_pairs(pairs: Iterable[CausalPair]) -> dict[tuple[str, str], Pairs]:
    """Group :class:`CausalPair` records by ordered ``(domain_a, domain_b)``."""
    groups: dict[tuple[str, str], list[CausalPair]] = {}
    for p in pairs:
        groups.setdefault((p.domain_a, p.domain_b), []).append(p)
    return {k: Pairs.from_pairs(v) for k, v in groups.items()}


def pairs_from_round_trips(
    client: str, server: str, t1, t2, t3, t4, *, res_client=0.0, res_server=0.0, evidence=None
) -> tuple[Pairs, Pairs]:
    """Split NTP-style four-timestamp exchanges into a forward and a backward batch.

    ``t1`` (client sends) → ``t2`` (server receives), ``t3`` (server replies)
    → ``t4`` (client receives).  Returns ``(client→server, server→client)``,
    ready for :func:`offset_bounds`; the offset is ``C_server − C_client``.
    """
    fwd = Pairs.from_arrays(client, server, t1, t2, 0.0, res_client, res_server, evidence)
    bwd = Pairs.from_arrays(server, client, t3, t4, 0.0, res_server, res_client, evidence)
    return fwd, bwd


def _orient(pairs_ab: Pairs | None, pairs_ba: Pairs | None) -> tuple[Pairs, Pairs, str, str]:
    """Check that the two batches are opposite directions of one domain pair; fill in empties."""
    if pairs_ab is None and pairs_ba is None:
        raise ValueError("need at least one batch of pairs (possibly Pairs.empty(a, b))")
    if pairs_ab is None:
        a, b = pairs_ba.recv_domain, pairs_ba.send_domain
        pairs_ab = Pairs.empty(a, b)
    a, b = pairs_ab.send_domain, pairs_ab.recv_domain
    if pairs_ba is None:
        pairs_ba = Pairs.empty(b, a)
    if (pairs_ba.send_domain, pairs_ba.recv_domain) != (b, a):
        raise ValueError(f"pairs_ba must go {b}→{a}, got {pairs_ba.send_domain}→{pairs_ba.recv_domain}")
    return pairs_ab, pairs_ba, a, b


def _forward_upper(p: Pairs) -> np.ndarray:
    """Upper bounds on θ = C_B − C_A from A→B pairs (seconds)."""
    return p.upper_values()


def _backward_lower(p: Pairs) -> np.ndarray:
    """Lower bounds on θ = C_B − C_A from B→A pairs (seconds)."""
    return p.lower_values()


# ---------------------------------------------------------------------------
# §1 Offset-only interval bounds, with the max-satisfied fallback
# ---------------------------------------------------------------------------


@dataclass
class MaxSatisfied:
    """The offset interval satisfied by the most pairs (robust fallback; docs/skew.md, max_satisfied_offset).

    Attributes
    ----------
    lower, upper : float
        The chosen interval of θ (seconds) where the most constraints hold; may be ±inf.
    estimate : float or None
        Midpoint of the interval if both ends are finite, else the finite end, else None.
    n_satisfied, n_violated : int
        Constraint counts at any θ inside the interval.
    violated_ab, violated_ba : ndarray of int
        Indices of the violated forward / backward pairs (the suspects).
    intervals : list of (float, float)
        Every interval reaching the maximum (``lower``/``upper`` is the widest finite one).
    """

    lower: float
    upper: float
    estimate: float | None
    n_satisfied: int
    n_violated: int
    violated_ab: np.ndarray
    violated_ba: np.ndarray
    intervals: list[tuple[float, float]]


def _maxsat_count(u: np.ndarray, l: np.ndarray) -> int:
    """Largest number of constraints ``θ ≤ u_i``, ``θ ≥ l_j`` that one θ satisfies."""
    if u.size == 0 or l.size == 0:
        return int(u.size + l.size)
    us, ls = np.sort(u), np.sort(l)
    pts = np.concatenate([us, ls])
    f = (us.size - np.searchsorted(us, pts, "left")) + np.searchsorted(ls, pts, "right")
    return int(f.max())


def _maxsat(u: np.ndarray, l: np.ndarray) -> MaxSatisfied:
    """Sweep of the 2n breakpoints, O(n log n); see :func:`max_satisfied_offset`."""
    n = u.size + l.size
    us, ls = np.sort(u), np.sort(l)
    pts = np.unique(np.concatenate([us, ls]))

    def f(x):
        return (us.size - np.searchsorted(us, x, "left")) + np.searchsorted(ls, x, "right")

    if pts.size == 0:
        return MaxSatisfied(
            -math.inf, math.inf, None, 0, 0, np.array([], int), np.array([], int), [(-math.inf, math.inf)]
        )
    # Evaluate on: (-inf, p0), p0, (p0, p1), p1, ..., p_last, (p_last, inf).  f is piecewise
    # constant and its maximum is reached at a breakpoint, so runs of the max start and end at
    # breakpoints or at ±inf.
    mids = (pts[:-1] + pts[1:]) / 2
    xs = np.empty(2 * pts.size + 1)
    xs[1::2] = pts
    xs[2:-1:2] = mids
    vals = f(xs[1:-1])
    vals = np.concatenate([[us.size], vals, [ls.size]])  # f(-inf) = #upper, f(+inf) = #lower
    best = int(vals.max())
    is_best = vals == best
    intervals: list[tuple[float, float]] = []
    i = 0
    m = vals.size
    while i < m:
        if not is_best[i]:
            i += 1
            continue
        j = i
        while j + 1 < m and is_best[j + 1]:
            j += 1
        lo = -math.inf if i == 0 else float(pts[(i - 1) // 2]) if i % 2 == 1 else float(pts[(i - 2) // 2])
        hi = math.inf if j == m - 1 else float(pts[(j - 1) // 2]) if j % 2 == 1 else float(pts[j // 2])
        intervals.append((lo, hi))
        i = j + 1
    finite = [iv for iv in intervals if math.isfinite(iv[0]) and math.isfinite(iv[1])]
    lo, hi = max(finite, key=lambda iv: iv[1] - iv[0]) if finite else intervals[0]
    if math.isfinite(lo) and math.isfinite(hi):
        est, probe = (lo + hi) / 2, (lo + hi) / 2
    elif math.isfinite(lo) or math.isfinite(hi):
        est = lo if math.isfinite(lo) else hi
        probe = est
    else:
        est, probe = None, 0.0
    return MaxSatisfied(lo, hi, est, best, n - best, np.flatnonzero(u < probe), np.flatnonzero(l > probe), intervals)


def max_satisfied_offset(pairs_ab: Pairs | None, pairs_ba: Pairs | None = None) -> MaxSatisfied:
    """The offset θ = C_B − C_A interval that satisfies the most pairs.

    Each forward pair is a constraint ``θ ≤ u_i``, each backward pair
    ``θ ≥ l_j`` (resolutions and minimum delays included, see the module
    docstring).  The 2n breakpoints are swept in O(n log n).  Use it when
    :func:`offset_bounds` finds ``L > U``: a few mismatched pairs become the
    ``violated_*`` indices instead of silently moving the estimate.

    Examples
    --------
    >>> fwd = Pairs.from_arrays("a", "b", [0, 0, 0], [5.0, 6.0, 1.0])   # the 1.0 is a bad match
    >>> bwd = Pairs.from_arrays("b", "a", [4.0, 4.5], [0, 0])
    >>> ms = max_satisfied_offset(fwd, bwd)
    >>> ms.lower, ms.upper, ms.n_violated, ms.violated_ab.tolist()
    (4.5, 5.0, 1, [2])
    """
    pairs_ab, pairs_ba, _, _ = _orient(pairs_ab, pairs_ba)
    return _maxsat(_forward_upper(pairs_ab), _backward_lower(pairs_ba))


@dataclass
class OffsetEstimate:
    """Bounds on θ = C_B − C_A from causal pairs (docs/skew.md, offset_bounds).

    Attributes
    ----------
    domain_a, domain_b : str
        θ is ``C_{domain_b} − C_{domain_a}``, seconds; θ > 0: B's clock is ahead.
    lower, upper : float
        ``L = max`` over backward pairs, ``U = min`` over forward pairs; ±inf when
        that direction has no pairs.
    kind : str
        ``"two-sided"``, ``"lower-only"``, ``"upper-only"`` or ``"none"``.
    feasible : bool
        ``L ≤ U``.  When False, ``estimate`` is None and ``fallback`` holds the
        maximum-satisfied interval; ``conflicts_*`` name the pairs in conflict.
    estimate, uncertainty : float or None
        Midpoint ``(L+U)/2`` and half width ``(U−L)/2``; only for a feasible
        two-sided interval (a one-sided bound gets no invented midpoint).
    n_ab, n_ba : int
        Number of forward (A→B, upper-bounding) and backward (B→A) pairs.
    tightest_ab, tightest_ba : ndarray of int
        Indices of up to 3 tightest forward / backward pairs, tightest first.
    evidence : list of str
        Evidence strings of the single tightest pair each way.
    conflicts_ab, conflicts_ba : ndarray of int
        When infeasible: forward pairs with ``u < L`` and backward pairs with ``l > U``.
    fallback : MaxSatisfied or None
        Run only when infeasible.
    """

    domain_a: str
    domain_b: str
    lower: float
    upper: float
    kind: str
    feasible: bool
    estimate: float | None
    uncertainty: float | None
    n_ab: int
    n_ba: int
    tightest_ab: np.ndarray
    tightest_ba: np.ndarray
    evidence: list[str] = field(default_factory=list)
    conflicts_ab: np.ndarray = field(default_factory=lambda: np.array([], int))
    conflicts_ba: np.ndarray = field(default_factory=lambda: np.array([], int))
    fallback: MaxSatisfied | None = None

    @property
    def width(self) -> float:
        """``U − L`` in seconds (inf if one-sided)."""
        return self.upper - self.lower

    def contains(self, theta: float, tol: float = 0.0) -> bool:
        """Whether θ lies in ``[L − tol, U + tol]``."""
        return self.lower - tol <= theta <= self.upper + tol

    def reversed(self) -> "OffsetEstimate":
        """The same estimate for ``(B, A)``: θ' = −θ, bounds and directions swapped."""
        fb = self.fallback
        if fb is not None:
            fb = MaxSatisfied(
                -fb.upper,
                -fb.lower,
                None if fb.estimate is None else -fb.estimate,
                fb.n_satisfied,
                fb.n_violated,
                fb.violated_ba,
                fb.violated_ab,
                [(-h, -l) for l, h in fb.intervals],
            )
        kind = {"lower-only": "upper-only", "upper-only": "lower-only"}.get(self.kind, self.kind)
        return OffsetEstimate(
            self.domain_b,
            self.domain_a,
            -self.upper,
            -self.lower,
            kind,
            self.feasible,
            None if self.estimate is None else -self.estimate,
            self.uncertainty,
            self.n_ba,
            self.n_ab,
            self.tightest_ba,
            self.tightest_ab,
            list(reversed(self.evidence)),
            self.conflicts_ba,
            self.conflicts_ab,
            fb,
        )


def offset_bounds(pairs_ab: Pairs | None, pairs_ba: Pairs | None = None, *, tol: float = FLOAT_TOL_S) -> OffsetEstimate:
    """Interval bounds on the offset θ = C_B − C_A (docs/skew.md, offset_bounds).

    Parameters
    ----------
    pairs_ab : Pairs or None
        Forward pairs, sent on A and received on B; each gives ``θ ≤ t_b + q_b − t_a − δ``.
    pairs_ba : Pairs or None
        Backward pairs, sent on B and received on A; each gives ``θ ≥ t_b − t_a − q_a + δ``.
    tol : float
        ``L`` may exceed ``U`` by this much (seconds) and still count as feasible
        (uncertainty 0): float64 epoch seconds round by ~0.1 µs.

    Returns
    -------
    OffsetEstimate
        ``[lower, upper]`` in seconds, the midpoint and half width when two-sided and
        feasible, the tightest pairs, and, if ``L > U``, the conflicting pairs and the
        maximum-satisfied fallback.

    Examples
    --------
    One direction only gives one bound and no midpoint:

    >>> fwd = Pairs.from_arrays("apiserver", "test", [0.0, 10.0], [35900.0, 35911.0])
    >>> est = offset_bounds(fwd)
    >>> est.kind, est.upper, est.estimate
    ('upper-only', 35900.0, None)
    """
    pairs_ab, pairs_ba, a, b = _orient(pairs_ab, pairs_ba)
    u = _forward_upper(pairs_ab)
    l = _backward_lower(pairs_ba)
    U = float(u.min()) if u.size else math.inf
    L = float(l.max()) if l.size else -math.inf
    kind = "two-sided" if u.size and l.size else "upper-only" if u.size else "lower-only" if l.size else "none"
    t_ab = np.argsort(u, kind="stable")[:3]
    t_ba = np.argsort(-l, kind="stable")[:3]
    evidence = []
    if t_ab.size:
        evidence.append(str(pairs_ab.evidence[t_ab[0]]))
    if t_ba.size:
        evidence.append(str(pairs_ba.evidence[t_ba[0]]))
    feasible = L <= U + tol
    est = unc = None
    if feasible and kind == "two-sided":
        est, unc = (L + U) / 2, max((U - L) / 2, 0.0)
    out = OffsetEstimate(a, b, L, U, kind, feasible, est, unc, int(u.size), int(l.size), t_ab, t_ba, evidence)
    if not feasible:
        out.conflicts_ab = np.flatnonzero(u < L - tol)
        out.conflicts_ba = np.flatnonzero(l > U + tol)
        out.fallback = _maxsat(u, l)
    return out


# ---------------------------------------------------------------------------
# §2 NTP
# ---------------------------------------------------------------------------


class NtpResult(NamedTuple):
    """One NTP exchange: offset θ = C_server − C_client, round-trip delay and bounds (seconds)."""

    offset: float
    delay: float
    lower: float
    upper: float


def ntp_offset(t1, t2, t3, t4) -> NtpResult:
    """Offset and delay of a four-timestamp exchange (docs/skew.md, ntp_offset).

    Client A sends at ``t1`` (A clock), server B receives at ``t2`` and replies
    at ``t3`` (B clock), A receives at ``t4``.  Array inputs give array outputs.

    Returns
    -------
    NtpResult
        ``offset = ((t2 − t1) + (t3 − t4)) / 2`` (B − A), ``delay = (t4 − t1) − (t3 − t2)``,
        ``lower = t3 − t4``, ``upper = t2 − t1`` (width = delay).

    Examples
    --------
    >>> ntp_offset(0.0, 10.5, 10.75, 1.25)
    NtpResult(offset=10.0, delay=1.0, lower=9.5, upper=10.5)
    """
    t1, t2, t3, t4 = (np.asarray(x, dtype=float) for x in (t1, t2, t3, t4))
    res = (((t2 - t1) + (t3 - t4)) / 2, (t4 - t1) - (t3 - t2), t3 - t4, t2 - t1)
    if all(np.ndim(x) == 0 for x in res):
        res = tuple(float(x) for x in res)
    return NtpResult(*res)


# ---------------------------------------------------------------------------
# §3 Offset plus drift
# ---------------------------------------------------------------------------


@dataclass
class DriftFit:
    """Offset-plus-drift model θ(t) = θ0 + ω·(t − t_ref), t on A's clock (docs/skew.md, fit_offset_drift).

    Attributes
    ----------
    domain_a, domain_b : str
        θ(t) = C_B − C_A, seconds.
    status : str
        ``"ok"`` (a line separates the two directions), ``"infeasible"`` (no line
        does: step or bad pairs; ``margin_s`` < 0), or ``"insufficient"`` (one
        direction missing or too short a span; see ``reason``).
    reason : str
        Why the status is not ``"ok"``, or notes (e.g. drift range capped by the prior).
    t_ref : float
        Reference time on A's clock (middle of the pairs by default), epoch s.
    theta0 : float or None
        Bisector offset at ``t_ref``, seconds.
    drift : float or None
        Bisector relative drift ω (s/s); ``drift_ppm`` is ω·1e6.
    drift_range_ppm : (float, float) or None
        Feasible range of ω in ppm, or None if not determinable.
    drift_range_capped : bool
        True if the range hits the ±``max_drift`` prior: the data do not bound it there.
    theta0_range : (float, float) or None
        Feasible offsets at ``t_ref`` over all feasible lines, seconds.
    margin_s : float or None
        Max-margin LP value s*: > 0 strictly consistent, < 0 inconsistent by |s*| seconds.
    n_ab, n_ba : int
        Forward and backward pair counts; ``span_s`` their time span.
    """

    domain_a: str
    domain_b: str
    status: str
    reason: str
    t_ref: float
    theta0: float | None = None
    drift: float | None = None
    drift_range_ppm: tuple[float, float] | None = None
    drift_range_capped: bool = False
    theta0_range: tuple[float, float] | None = None
    margin_s: float | None = None
    n_ab: int = 0
    n_ba: int = 0
    span_s: float = 0.0
    max_drift: float = MAX_DRIFT
    _x_u: np.ndarray = field(default=None, repr=False)
    _u: np.ndarray = field(default=None, repr=False)
    _x_l: np.ndarray = field(default=None, repr=False)
    _l: np.ndarray = field(default=None, repr=False)

    @property
    def drift_ppm(self) -> float | None:
        """Relative drift ω in parts per million."""
        return None if self.drift is None else self.drift * 1e6

    def offset_at(self, t) -> np.ndarray | float | None:
        """The estimated θ at A-clock time(s) ``t``, seconds."""
        if self.theta0 is None:
            return None
        return self.theta0 + self.drift * (np.asarray(t, dtype=float) - self.t_ref)

    def bounds_at(self, t: float) -> tuple[float, float] | None:
        """Lowest and highest θ at A-clock time ``t`` over all feasible lines (LP), seconds."""
        if self.status != "ok":
            return None
        lo = _lp_line_extreme(self._x_u, self._u, self._x_l, self._l, t - self.t_ref, self.max_drift, -1)
        hi = _lp_line_extreme(self._x_u, self._u, self._x_l, self._l, t - self.t_ref, self.max_drift, +1)
        return lo, hi


def _linprog(c, A, b, bounds):
    from scipy.optimize import linprog

    res = linprog(c, A_ub=A, b_ub=b, bounds=bounds, method="highs")
    if res.status != 0:
        raise RuntimeError(f"linprog failed: {res.message}")
    return res.x, res.fun


def _scale(x_u, x_l):
    X = float(max(np.abs(x_u).max(initial=0.0), np.abs(x_l).max(initial=0.0), 1.0))
    return X


def _lp_line_extreme(x_u, u, x_l, l, x, max_drift, sign):
    """max (sign=+1) or min (-1) of θ0 + ω·x over lines with θ0 + ω·x_i ≤ u_i and θ0 + ω·x_j ≥ l_j."""
    X = _scale(x_u, x_l)
    c0 = (np.median(u) + np.median(l)) / 2  # centre the values for the LP's absolute tolerances
    A = np.vstack([np.column_stack([np.ones_like(x_u), x_u / X]), np.column_stack([-np.ones_like(x_l), -x_l / X])])
    b = np.concatenate([u - c0, c0 - l])
    z, _ = _linprog([-sign, -sign * x / X], A, b, [(None, None), (-max_drift * X, max_drift * X)])
    return float(z[0] + z[1] * x / X + c0)


def _lower_hull(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Indices of the lower convex hull of points (x, y), left to right (Andrew's monotone chain).

    A line lies below every point iff it lies below every lower-hull vertex, so the
    drift LPs only need these constraints.
    """
    order = np.lexsort((y, x))
    hull: list[int] = []
    xs, ys = x.tolist(), y.tolist()
    for i in order.tolist():
        while len(hull) >= 2:
            o, a = hull[-2], hull[-1]
            if (xs[a] - xs[o]) * (ys[i] - ys[o]) - (ys[a] - ys[o]) * (xs[i] - xs[o]) <= 0:
                hull.pop()
            else:
                break
        if hull and xs[hull[-1]] == xs[i]:  # same x: the lower y (sorted first) is kept
            continue
        hull.append(i)
    return np.array(hull, dtype=int)


def _drift_points(pairs_ab: Pairs, pairs_ba: Pairs):
    """Forward points (a_i, u_i) and backward points (a_j, l_j), both timed on A's clock."""
    return pairs_ab.send_ts, _forward_upper(pairs_ab), pairs_ba.recv_ts, _backward_lower(pairs_ba)


def fit_offset_drift(
    pairs_ab: Pairs | None,
    pairs_ba: Pairs | None,
    *,
    t_ref: float | None = None,
    max_drift: float = MAX_DRIFT,
    min_span_s: float = MIN_DRIFT_SPAN_S,
    tol: float = FLOAT_TOL_S,
) -> DriftFit:
    """Fit θ(t) = θ0 + ω·(t − t_ref) between forward and backward constraints (docs/skew.md, fit_offset_drift).

    Forward pairs give points ``(t_a, u)`` the line must stay below, backward
    pairs points ``(t_a, l)`` it must stay above (t_a = the A-clock reading).
    A max-margin LP (``scipy.optimize.linprog``/HiGHS) decides feasibility; when
    feasible, four more LPs give the extreme slopes ω_min/ω_max and the offset
    range at ``t_ref``; the estimate is the bisector of the two extreme lines
    (Duda et al. 1987, as in Trace Compass).  |ω| is limited by the prior
    ``max_drift`` (500 ppm).

    Parameters
    ----------
    pairs_ab, pairs_ba : Pairs
        Both directions are required: one-way data cannot give the offset
        (use :func:`fit_one_way_drift` for the drift alone).
    t_ref : float, optional
        Reference A-clock time for θ0; default the middle of the pairs' span.
    max_drift : float
        Prior bound on |ω| (s/s).
    min_span_s : float
        Minimum time span of all pairs (seconds) before drift is fitted.
    tol : float
        A margin down to ``−tol`` seconds still counts as feasible (float rounding).

    Returns
    -------
    DriftFit
    """
    pairs_ab, pairs_ba, a, b = _orient(pairs_ab, pairs_ba)
    x_u, u, x_l, l = _drift_points(pairs_ab, pairs_ba)
    ts = np.concatenate([x_u, x_l])
    span = float(ts.max() - ts.min()) if ts.size else 0.0
    if t_ref is None:
        t_ref = float((ts.max() + ts.min()) / 2) if ts.size else math.nan
    base = dict(
        domain_a=a, domain_b=b, t_ref=t_ref, n_ab=len(pairs_ab), n_ba=len(pairs_ba), span_s=span, max_drift=max_drift
    )
    if not len(pairs_ab) or not len(pairs_ba):
        return DriftFit(
            status="insufficient",
            reason="drift needs pairs in both directions; one-way data "
            "cannot give the offset (fit_one_way_drift gives the drift alone)",
            **base,
        )
    if span < min_span_s:
        return DriftFit(
            status="insufficient",
            reason=f"pairs span {span:.0f} s < {min_span_s:.0f} s: too short to see drift",
            **base,
        )
    xu, xl = x_u - t_ref, x_l - t_ref
    c0 = (np.median(u) + np.median(l)) / 2
    # only the lower hull of the forward points and the upper hull of the backward points constrain a line
    hu = _lower_hull(xu, u - c0)
    hl = _lower_hull(xl, -(l - c0))
    xu, u, xl, l = xu[hu], u[hu], xl[hl], l[hl]
    X = _scale(xu, xl)
    # Max-margin LP in variables (θ0 − c0, ω·X, s): maximise s.
    A = np.vstack(
        [
            np.column_stack([np.ones_like(xu), xu / X, np.ones_like(xu)]),
            np.column_stack([-np.ones_like(xl), -xl / X, np.ones_like(xl)]),
        ]
    )
    bvec = np.concatenate([u - c0, c0 - l])
    z, fun = _linprog([0.0, 0.0, -1.0], A, bvec, [(None, None), (-max_drift * X, max_drift * X), (None, None)])
    margin = -float(fun)
    base.update(_x_u=xu, _u=u, _x_l=xl, _l=l, margin_s=margin)
    if margin < -tol:
        return DriftFit(
            status="infeasible",
            reason=f"no line θ0 + ω·t separates the two directions (worst violation "
            f"{-margin:.6g} s): a clock step or mismatched pairs; the least-bad line is reported",
            theta0=float(z[0] + c0),
            drift=float(z[1] / X),
            **base,
        )
    A2, b2 = A[:, :2], bvec + max(0.0, -margin)  # within tol of feasible: relax to exactly feasible
    bnd2 = [(None, None), (-max_drift * X, max_drift * X)]
    w_lo, _ = _linprog([0.0, 1.0], A2, b2, bnd2)
    w_hi, _ = _linprog([0.0, -1.0], A2, b2, bnd2)
    om_lo, om_hi = float(w_lo[1] / X), float(w_hi[1] / X)

    def slice_mid(om):  # the feasible θ0 interval at slope om is [max(l − ω x), min(u − ω x)]
        return (float(np.max(l - om * xl)) + float(np.min(u - om * xu))) / 2

    om_hat = (om_lo + om_hi) / 2
    th_hat = (slice_mid(om_lo) + slice_mid(om_hi)) / 2
    th_lo = _lp_line_extreme(xu, u, xl, l, 0.0, max_drift, -1)
    th_hi = _lp_line_extreme(xu, u, xl, l, 0.0, max_drift, +1)
    capped = om_hi >= max_drift * (1 - 1e-6) or om_lo <= -max_drift * (1 - 1e-6)
    reason = (
        "drift range reaches the ±%g ppm prior: the data do not bound it there" % (max_drift * 1e6) if capped else ""
    )
    return DriftFit(
        status="ok",
        reason=reason,
        theta0=th_hat,
        drift=om_hat,
        drift_range_ppm=(om_lo * 1e6, om_hi * 1e6),
        drift_range_capped=capped,
        theta0_range=(th_lo, th_hi),
        **base,
    )


@dataclass
class OneWayDrift:
    """Moon–Skelly–Towsley one-way drift (docs/skew.md, fit_one_way_drift): d̃ = recv − send ≥ α·(t − t_ref) + β.

    ``drift`` α is the relative drift (s/s) of the receiver's clock against the
    sender's; ``beta`` (seconds) confounds the offset with the minimum delay and is
    **not** an offset.  ``status`` is ``"ok"`` or ``"insufficient"``.
    """

    send_domain: str
    recv_domain: str
    status: str
    reason: str
    t_ref: float
    drift: float | None = None
    beta: float | None = None
    n: int = 0
    span_s: float = 0.0

    @property
    def drift_ppm(self) -> float | None:
        """α in parts per million."""
        return None if self.drift is None else self.drift * 1e6


def fit_one_way_drift(
    pairs: Pairs, *, max_drift: float = MAX_DRIFT, min_span_s: float = MIN_DRIFT_SPAN_S
) -> OneWayDrift:
    """Drift from one direction only: the LP of Moon, Skelly and Towsley (INFOCOM 1999).

    Maximise ``α·t̄ + β`` subject to ``α·t_i + β ≤ d̃_i`` (t on the sender's
    clock, d̃ = recv − send − δ).  With t centred on its mean the optimum is the
    lower-convex-hull edge spanning t̄.
    """
    t = pairs.send_ts
    d = pairs.recv_ts - pairs.send_ts - pairs.min_delay
    span = float(t.max() - t.min()) if t.size else 0.0
    t_ref = float(t.mean()) if t.size else math.nan
    base = dict(send_domain=pairs.send_domain, recv_domain=pairs.recv_domain, t_ref=t_ref, n=len(pairs), span_s=span)
    if span < min_span_s:
        return OneWayDrift(status="insufficient", reason=f"pairs span {span:.0f} s < {min_span_s:.0f} s", **base)
    x = t - t_ref
    X = float(np.abs(x).max())
    c0 = float(d.min())
    A = np.column_stack([x / X, np.ones_like(x)])
    z, _ = _linprog([0.0, -1.0], A, d - c0, [(-max_drift * X, max_drift * X), (None, None)])
    return OneWayDrift(status="ok", reason="", drift=float(z[0] / X), beta=float(z[1] + c0), **base)


# ---------------------------------------------------------------------------
# §4 Steps
# ---------------------------------------------------------------------------


@dataclass
class StepResult:
    """A single clock step found by splitting the pairs in time (docs/skew.md, detect_step; after Paxson 1998).

    Times are on A's clock (forward pairs timed by their send, backward pairs by
    their receive).

    Attributes
    ----------
    found : bool
        True if splitting reduces the number of violated pairs.
    reason : str
        Human explanation.
    step_time : float or None
        Middle of ``step_window``, epoch s (A clock).
    step_window : (float, float) or None
        The step happened between these A-clock times (the last pair before and the
        first pair after the best split(s)).
    step_size : float or None
        ``after.estimate − before.estimate`` in seconds (> 0: B jumped ahead).
    step_size_bounds : (float, float) or None
        ``[after.L − before.U, after.U − before.L]`` when both sides are two-sided.
    before, after : OffsetEstimate or None
        Offset bounds of each segment.
    violations_single, violations_split : int
        Violated pairs with one offset for all pairs / with one offset per segment.
    """

    found: bool
    reason: str
    step_time: float | None = None
    step_window: tuple[float, float] | None = None
    step_size: float | None = None
    step_size_bounds: tuple[float, float] | None = None
    before: OffsetEstimate | None = None
    after: OffsetEstimate | None = None
    violations_single: int = 0
    violations_split: int = 0


def _seg_point(est: OffsetEstimate) -> float | None:
    if est.estimate is not None:
        return est.estimate
    if est.fallback is not None:
        return est.fallback.estimate
    return None


def detect_step(
    pairs_ab: Pairs | None, pairs_ba: Pairs | None, *, max_candidates: int = 128, tol: float = FLOAT_TOL_S
) -> StepResult:
    """Find the time where a single offset stops fitting, assuming one step.

    Events are sorted by A-clock time.  First an O(n) prefix/suffix test looks
    for splits where both segments are feasible (``L ≤ U``); if none exists the
    split minimising the total number of violated pairs (max-satisfied count of
    each segment) is searched on a grid of ``max_candidates`` splits, refined
    between the grid neighbours of the best one until all splits there are tried.  A step is reported only if the
    split has fewer violations than a single offset.  Note that drift also makes a
    long single-offset fit infeasible: compare with :func:`fit_offset_drift`.
    """
    pairs_ab, pairs_ba, a, b = _orient(pairs_ab, pairs_ba)
    u, l = _forward_upper(pairs_ab), _backward_lower(pairs_ba)
    t = np.concatenate([pairs_ab.send_ts, pairs_ba.recv_ts])
    is_u = np.concatenate([np.ones(u.size, bool), np.zeros(l.size, bool)])
    idx = np.concatenate([np.arange(u.size), np.arange(l.size)])
    val = np.concatenate([u, l])
    order = np.argsort(t, kind="stable")
    t, is_u, idx, val = t[order], is_u[order], idx[order], val[order]
    n = t.size
    v_single = n - _maxsat_count(u, l)
    if v_single == 0 or offset_bounds(pairs_ab, pairs_ba, tol=tol).feasible:
        return StepResult(False, "a single offset fits all pairs", violations_single=0)
    if n < 4:
        return StepResult(False, "too few pairs to locate a step", violations_single=v_single)
    # Prefix/suffix running bounds: U_pre[k], L_pre[k] over events[:k]; U_suf[k], L_suf[k] over events[k:].
    uu = np.where(is_u, val, np.inf)
    ll = np.where(~is_u, val, -np.inf)
    U_pre = np.concatenate([[np.inf], np.minimum.accumulate(uu)])
    L_pre = np.concatenate([[-np.inf], np.maximum.accumulate(ll)])
    U_suf = np.concatenate([np.minimum.accumulate(uu[::-1])[::-1], [np.inf]])
    L_suf = np.concatenate([np.maximum.accumulate(ll[::-1])[::-1], [-np.inf]])
    ks = np.arange(1, n)
    # a split must fall between distinct times
    ks = ks[t[ks] > t[ks - 1]]
    ok = (L_pre[ks] <= U_pre[ks] + tol) & (L_suf[ks] <= U_suf[ks] + tol)
    if ok.any():
        good = ks[ok]
        best_cost = 0
        k_lo, k_hi = int(good.min()), int(good.max())
        window = (float(t[k_lo - 1]), float(t[k_hi]))
    else:

        def cost(k):
            pu, pl = val[:k][is_u[:k]], val[:k][~is_u[:k]]
            su, sl = val[k:][is_u[k:]], val[k:][~is_u[k:]]
            return (k - _maxsat_count(pu, pl)) + (n - k - _maxsat_count(su, sl))

        if ks.size == 0:
            return StepResult(False, "all pairs share one time", violations_single=v_single)
        # coarse-to-fine: a grid of max_candidates splits, then the same between the best one's
        # neighbours, until every split in the range is evaluated (a heuristic: cost is not unimodal)
        lo_i, hi_i = 0, ks.size - 1
        while True:
            if hi_i - lo_i + 1 <= max_candidates:
                fine = ks[lo_i : hi_i + 1]
                fcosts = np.array([cost(k) for k in fine])
                break
            gpos = np.unique(np.linspace(lo_i, hi_i, max_candidates).round().astype(int))
            costs = np.array([cost(k) for k in ks[gpos]])
            gi = int(np.argmin(costs))
            lo_i, hi_i = int(gpos[max(gi - 1, 0)]), int(gpos[min(gi + 1, gpos.size - 1)])
        best_cost = int(fcosts.min())
        good = fine[fcosts == best_cost]
        k_lo, k_hi = int(good.min()), int(good.max())
        window = (float(t[k_lo - 1]), float(t[k_hi]))
        if best_cost >= v_single:
            return StepResult(
                False,
                f"no split reduces the {v_single} violated pairs: not a single step "
                "(try drift, or inspect the violated pairs)",
                violations_single=v_single,
                violations_split=best_cost,
            )
    t_step = (window[0] + window[1]) / 2
    ab_before = pairs_ab.send_ts < t_step
    ba_before = pairs_ba.recv_ts < t_step
    before = offset_bounds(pairs_ab.subset(ab_before), pairs_ba.subset(ba_before))
    after = offset_bounds(pairs_ab.subset(~ab_before), pairs_ba.subset(~ba_before))
    p0, p1 = _seg_point(before), _seg_point(after)
    size = None if p0 is None or p1 is None else p1 - p0
    size_bounds = None
    if before.kind == after.kind == "two-sided" and before.feasible and after.feasible:
        size_bounds = (after.lower - before.upper, after.upper - before.lower)
    reason = (
        f"a single offset leaves {v_single} of {n} pairs violated; splitting at A-clock time "
        f"{t_step:.3f} leaves {best_cost}"
    )
    return StepResult(True, reason, t_step, window, size, size_bounds, before, after, v_single, best_cost)


# ---------------------------------------------------------------------------
# §5 Many domains: difference constraints
# ---------------------------------------------------------------------------


@dataclass
class SystemSolution:
    """Offsets of every domain relative to a reference from pairwise bounds (docs/skew.md, solve_system).

    Attributes
    ----------
    reference : str
        The reference domain R.
    feasible : bool
        False iff the constraints contain a negative cycle.
    bounds : dict[str, (float, float)]
        ``lo ≤ θ_k − θ_R ≤ hi`` for each domain k (seconds; ±inf when unconstrained;
        empty when infeasible).  Includes transitive information.
    estimate : dict[str, float or None]
        Midpoint when both bounds are finite.
    upper_path, lower_path : dict[str, list[str]]
        The chain of domains giving each bound: R→…→k for ``hi``, k→…→R for ``lo``.
    negative_cycle : list[str]
        The inconsistent domains, in cycle order (first repeated at the end), when infeasible.
    cycle_slack : float
        Sum of the cycle's edge weights (< 0): by how many seconds the bounds contradict.
    """

    reference: str
    feasible: bool
    bounds: dict[str, tuple[float, float]]
    estimate: dict[str, float | None]
    upper_path: dict[str, list[str]] = field(default_factory=dict)
    lower_path: dict[str, list[str]] = field(default_factory=dict)
    negative_cycle: list[str] = field(default_factory=list)
    cycle_slack: float = 0.0


def _bellman_ford(nodes, edges, source, tol):
    """Shortest paths from ``source``; edges are (u, v, w).  Returns (dist, pred)."""
    dist = {k: math.inf for k in nodes}
    pred: dict[str, str | None] = {k: None for k in nodes}
    dist[source] = 0.0
    for _ in range(len(nodes) - 1):
        changed = False
        for u, v, w in edges:
            if dist[u] + w < dist[v] - tol:
                dist[v], pred[v] = dist[u] + w, u
                changed = True
        if not changed:
            break
    return dist, pred


def _find_negative_cycle(nodes, edges, tol):
    """Bellman–Ford from a virtual source joined to every node; returns (cycle, weight) or (None, 0)."""
    dist = {k: 0.0 for k in nodes}
    pred: dict[str, str | None] = {k: None for k in nodes}
    last = None
    for _ in range(len(nodes)):
        last = None
        for u, v, w in edges:
            if dist[u] + w < dist[v] - tol:
                dist[v], pred[v] = dist[u] + w, u
                last = v
        if last is None:
            return None, 0.0
    x = last
    for _ in range(len(nodes)):  # walk back into the cycle
        x = pred[x]
    cycle = [x]
    y = pred[x]
    while y != x:
        cycle.append(y)
        y = pred[y]
    cycle.append(x)
    cycle.reverse()  # now in edge order: cycle[i] → cycle[i+1]
    wmin = {}
    for u, v, w in edges:
        wmin[(u, v)] = min(w, wmin.get((u, v), math.inf))
    weight = sum(wmin[(cycle[i], cycle[i + 1])] for i in range(len(cycle) - 1))
    return cycle, weight


def _path(pred, target):
    out = [target]
    seen = {target}
    while pred.get(out[-1]) is not None:
        nxt = pred[out[-1]]
        if nxt in seen:
            break
        out.append(nxt)
        seen.add(nxt)
    return out[::-1]


def solve_system(
    bounds: Mapping[tuple[str, str], object], reference: str = "apiserver", *, tol: float = FLOAT_TOL_S
) -> SystemSolution:
    """Transitive offset bounds for every domain relative to ``reference`` (Bellman–Ford).

    Parameters
    ----------
    bounds : mapping ``(a, b) → (L, U)``
        ``L ≤ θ_b − θ_a ≤ U`` in seconds (the :func:`offset_bounds` convention for the
        ordered pair ``(a, b)``); ±inf for a missing side.  An :class:`OffsetEstimate`
        is accepted as the value too (its ``lower``/``upper`` are used).
    reference : str
        The domain R all offsets are expressed against.
    tol : float
        Relaxations smaller than this (seconds) are ignored, so a zero-width
        interval is not taken for a negative cycle by rounding.

    Returns
    -------
    SystemSolution
        ``−dist(k→R) ≤ θ_k − θ_R ≤ dist(R→k)``; on a negative cycle, ``feasible`` is False
        and ``negative_cycle`` names the inconsistent domains.

    Examples
    --------
    >>> sol = solve_system({("apiserver", "test"): (10.0, 11.0), ("test", "node/a"): (-1.0, 0.5)})
    >>> sol.bounds["node/a"]
    (9.0, 11.5)
    """
    nodes: list[str] = [reference]
    edges: list[tuple[str, str, float]] = []
    for (a, b), v in bounds.items():
        lo, hi = (v.lower, v.upper) if hasattr(v, "lower") else v
        lo, hi = float(lo), float(hi)
        for k in (a, b):
            if k not in nodes:
                nodes.append(k)
        if math.isfinite(hi):
            edges.append((a, b, hi))  # θ_b − θ_a ≤ hi
        if math.isfinite(lo):
            edges.append((b, a, -lo))  # θ_a − θ_b ≤ −lo
    cycle, weight = _find_negative_cycle(nodes, edges, tol)
    if cycle is not None:
        return SystemSolution(reference, False, {}, {}, negative_cycle=cycle, cycle_slack=weight)
    d_from, p_from = _bellman_ford(nodes, edges, reference, tol)
    rev = [(v, u, w) for u, v, w in edges]
    d_to, p_to = _bellman_ford(nodes, rev, reference, tol)
    out_b, out_e, up, lp = {}, {}, {}, {}
    for k in nodes:
        lo, hi = -d_to[k], d_from[k]
        lo = 0.0 if lo == 0 else lo  # no -0.0
        out_b[k] = (lo, hi)
        out_e[k] = (lo + hi) / 2 if math.isfinite(lo) and math.isfinite(hi) else None
        if math.isfinite(hi):
            up[k] = _path(p_from, k)
        if math.isfinite(lo):
            lp[k] = _path(p_to, k)[::-1]
    return SystemSolution(reference, True, out_b, out_e, up, lp)


# ---------------------------------------------------------------------------
# §7 Lamport post-check
# ---------------------------------------------------------------------------


class Violations(NamedTuple):
    """Causal-order violations among pairs: count, indices and the worst one (seconds)."""

    n: int
    n_violated: int
    indices: np.ndarray
    worst_s: float


OffsetLike = float | Callable[[np.ndarray], np.ndarray] | None


def _apply(off: OffsetLike, t: np.ndarray) -> np.ndarray:
    if off is None:
        return np.zeros_like(t)
    if callable(off):
        return np.asarray(off(t), dtype=float)
    return np.full_like(t, float(off))


def count_violations(
    pairs: Pairs, offset_send: OffsetLike = None, offset_recv: OffsetLike = None, *, tol: float = FLOAT_TOL_S
) -> Violations:
    """Count pairs whose corrected times break the clock condition ``C'(f) ≥ C'(e) + δ``.

    Each timestamp is corrected to the reference clock as ``t − θ_domain``
    (θ_domain = C_domain − C_reference; a float, or a callable of the raw times for
    drift models; None = 0).  A pair is violated only if even the latest true
    receive reading (``recv + q_recv``) precedes ``send + δ`` by more than ``tol``.
    """
    s = pairs.send_ts - _apply(offset_send, pairs.send_ts)
    r = pairs.recv_ts + pairs.res_recv - _apply(offset_recv, pairs.recv_ts)
    gap = r - (s + pairs.min_delay)  # ≥ 0 when consistent
    bad = gap < -tol
    worst = float(-gap.min()) if gap.size and bad.any() else 0.0
    return Violations(len(pairs), int(bad.sum()), np.flatnonzero(bad), worst)


def lamport_check(pairs: Iterable[Pairs], offsets: Mapping[str, OffsetLike]) -> dict[str, Violations]:
    """Violations before (raw) and after applying ``offsets`` (per domain, vs. the reference).

    Returns ``{"before": Violations, "after": Violations}`` summed over all batches;
    indices refer to the batches concatenated in the given order.
    """
    res = {"before": [], "after": []}
    for p in pairs:
        res["before"].append(count_violations(p))
        res["after"].append(count_violations(p, offsets.get(p.send_domain), offsets.get(p.recv_domain)))

    def merge(vs):
        idx, n0 = [], 0
        for v in vs:
            idx.append(v.indices + n0)
            n0 += v.n
        return Violations(
            n0,
            sum(v.n_violated for v in vs),
            np.concatenate(idx) if idx else np.array([], int),
            max((v.worst_s for v in vs), default=0.0),
        )

    return {k: merge(v) for k, v in res.items()}


# ---------------------------------------------------------------------------
# Human text
# ---------------------------------------------------------------------------

_DOMAIN_NAMES = {
    "apiserver": "the master",
    "master": "the master",
    "test": "the test machine",
    "e2e": "the test machine",
    "test-runner": "the test machine",
    "clusterloader2": "the test machine",
    "ci": "the CI log collector",
    "scheduler": "the master",
    "controller-manager": "the master",
}


def domain_name(domain: str, names: Mapping[str, str] | None = None) -> str:
    """A human name for a clock domain: ``"test"`` → "the test machine", ``"node/h1"`` → "node host h1"."""
    if names and domain in names:
        return names[domain]
    if domain in _DOMAIN_NAMES:
        return _DOMAIN_NAMES[domain]
    if domain.startswith("node/"):
        return f"node host {domain[5:]}"
    if domain.startswith("host/"):
        return f"host {domain[5:]}"
    return f"clock domain {domain!r}"


def _decimals_for(unc: float | None, default: int = 1) -> int:
    if unc is None or not math.isfinite(unc) or unc <= 0:
        return default
    return int(min(max(-math.floor(math.log10(unc)), 0), 6))


def format_duration(seconds: float, decimals: int = 1) -> str:
    """Format a duration humanely: ``35895.2`` → ``"9 h 58 m 15.2 s"``, ``0.0123`` → ``"12.3 ms"``.

    The sign is kept (``"−1 m 44.8 s"``); units: d, h, m, s, ms, µs.  ``decimals``
    applies to the seconds field (or, below 1 s, scaled to the ms/µs unit).

    Examples
    --------
    >>> format_duration(35895.2), format_duration(-104.8), format_duration(0.0123, 4)
    ('9 h 58 m 15.2 s', '−1 m 44.8 s', '12.3 ms')
    """
    if not math.isfinite(seconds):
        return "∞" if seconds > 0 else "−∞"
    sign = "−" if seconds < 0 else ""
    x = round(abs(seconds), decimals)
    if x == 0:
        return "0 s"
    if x < 1:
        if x >= 1e-3:
            v, unit, dd = x * 1e3, "ms", max(decimals - 3, 0)
        else:
            v, unit, dd = x * 1e6, "µs", max(decimals - 6, 0)
        return f"{sign}{v:.{dd}f} {unit}"
    days, rem = divmod(x, 86400)
    h, rem = divmod(rem, 3600)
    m, s = divmod(rem, 60)
    parts = []
    if days:
        parts.append(f"{int(days)} d")
    if h or days:
        parts.append(f"{int(h)} h")
    if m or h or days:
        parts.append(f"{int(m)} m")
    s_txt = f"{s:.{decimals}f}"
    if parts and "." in s_txt:  # "9 h 58 m 15 s", not "15.0 s", inside a compound duration
        s_txt = s_txt.rstrip("0").rstrip(".")
    if not (parts and s_txt == "0"):
        parts.append(f"{s_txt} s")
    return sign + " ".join(parts)


def _counts_text(n_by_kind: Mapping[str, int] | None) -> str:
    if not n_by_kind:
        return ""
    items = [f"{n:,} {k}" for k, n in n_by_kind.items()]
    body = items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
    return f" (from {body})"


def _tz_text(offset: float, tol: float = TZ_TOLERANCE_S) -> str:
    """'≈ 10 h time-zone difference − 1 m 44.8 s' if |offset| is near a whole number of hours ≥ 1."""
    a = abs(offset)
    hours = round(a / 3600)
    if hours < 1 or abs(a - hours * 3600) > tol:
        return ""
    resid = a - hours * 3600
    if round(resid, 1) == 0:
        return f"≈ {hours} h time-zone difference"
    op = "+" if resid > 0 else "−"
    return f"≈ {hours} h time-zone difference {op} {format_duration(abs(resid), 1)}"


def describe(
    offset: float,
    uncertainty: float | None,
    domain: str,
    reference: str = "apiserver",
    n_by_kind: Mapping[str, int] | None = None,
    *,
    names: Mapping[str, str] | None = None,
) -> str:
    """One sentence for a user: how far ``domain``'s clock is from ``reference``'s.

    Parameters
    ----------
    offset : float
        θ = C_domain − C_reference, seconds (> 0: ahead).
    uncertainty : float or None
        Half width of the interval, seconds.
    n_by_kind : mapping, optional
        Evidence counts, e.g. ``{"pod watch observations": 3000, "API round trips": 41}``.
    names : mapping, optional
        Overrides for :func:`domain_name`.

    Examples
    --------
    >>> describe(35895.2, 0.4, "test", "apiserver", {"pod watch observations": 3000, "API round trips": 41})
    "the test machine's clock is 9 h 58 m 15.2 s ± 0.4 s ahead of the master, likely a time-zone mismatch \
(≈ 10 h time-zone difference − 1 m 44.8 s) (from 3,000 pod watch observations and 41 API round trips)"
    """
    dn, rn = domain_name(domain, names), domain_name(reference, names)
    dec = _decimals_for(uncertainty)
    pm = ""
    if uncertainty is not None and math.isfinite(uncertainty):
        # same unit as the offset: "15.2 s ± 0.4 s", "12.3 ms ± 0.5 ms", not "± 400 ms"
        if uncertainty >= 60:
            pm = f" ± {format_duration(uncertainty, dec)}"
        else:
            scale, unit = (
                (1, "s")
                if max(abs(offset), uncertainty) >= 1
                else (1e3, "ms")
                if max(abs(offset), uncertainty) >= 1e-3
                else (1e6, "µs")
            )
            dd = max(dec - {1: 0, 1e3: 3, 1e6: 6}[scale], 0)
            pm = f" ± {uncertainty * scale:.{dd}f} {unit}"
    if round(offset, dec) == 0:
        txt = f"{dn}'s clock agrees with {rn}'s ({format_duration(0.0)}{pm})"
    else:
        rel = "ahead of" if offset > 0 else "behind"
        txt = f"{dn}'s clock is {format_duration(abs(offset), dec)}{pm} {rel} {rn}"
        if uncertainty is not None and abs(offset) <= uncertainty:
            txt += " (consistent with no skew)"
    tz = _tz_text(offset)
    if tz:
        txt += f", likely a time-zone mismatch ({tz})"
    return txt + _counts_text(n_by_kind)


def describe_estimate(
    est: OffsetEstimate, n_by_kind: Mapping[str, int] | None = None, *, names: Mapping[str, str] | None = None
) -> str:
    """Describe ``est.domain_b`` relative to ``est.domain_a``, one-sided and infeasible cases included.

    Examples
    --------
    >>> bwd = Pairs.from_arrays("test", "apiserver", [35900.0, 35950.0], [5.0, 60.0])
    >>> describe_estimate(offset_bounds(None, bwd), {"pod watch observations": 2})
    "the test machine's clock is at least 9 h 58 m 15 s ahead of the master (no bound the other way), \
likely a time-zone mismatch (≈ 10 h time-zone difference − 1 m 45 s) (from 2 pod watch observations)"
    """
    dn, rn = domain_name(est.domain_b, names), domain_name(est.domain_a, names)
    counts = _counts_text(n_by_kind)
    if est.kind == "none":
        return f"no causal pairs between {dn} and {rn}: offset unknown"
    if not est.feasible:
        fb = est.fallback
        n = est.n_ab + est.n_ba
        txt = (
            f"the pairs between {dn} and {rn} are inconsistent (no single offset fits: "
            f"{fb.n_violated} of {n} pairs violated at best)"
        )
        if fb.estimate is not None:
            txt += f"; most pairs agree with {format_duration(fb.estimate)}"
        return txt + ", possibly a clock step or drift" + counts
    if est.kind == "two-sided":
        return describe(est.estimate, est.uncertainty, est.domain_b, est.domain_a, n_by_kind, names=names)
    dec = 1
    if est.kind == "lower-only":
        x = est.lower
        txt = (
            f"{dn}'s clock is at least {format_duration(x, dec)} ahead of {rn}"
            if x > 0
            else f"{dn}'s clock is at most {format_duration(-x, dec)} behind {rn}"
        )
    else:
        x = est.upper
        txt = (
            f"{dn}'s clock is at least {format_duration(-x, dec)} behind {rn}"
            if x < 0
            else f"{dn}'s clock is at most {format_duration(x, dec)} ahead of {rn}"
        )
    txt += " (no bound the other way)"
    tz = _tz_text(x)
    if tz and abs(x) > 0:
        txt += f", likely a time-zone mismatch ({tz})"
    return txt + counts
