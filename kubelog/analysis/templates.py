"""Drain-style log template mining for the ``messages`` table.

A message is reduced to a *template*: the constant words of the log call with
the variable parts replaced by ``<*>``.  The algorithm is Drain (He et al.,
ICWS 2017) in its simple form:

1. **Masking** (vectorized, on the whole column): numbers, durations, hex ids,
   UUIDs, IP addresses and ``host:port``, quoted strings and key=value values
   that hold a digit are replaced by ``<*>`` first, so that most messages
   collapse to a few distinct strings before any clustering happens.
2. **Clustering** of the *distinct* masked strings only: messages with the same
   token count and the same first ``depth`` tokens (tokens holding a digit
   are routed as ``<*>``) share a leaf; within a leaf a message joins the
   most similar group when the share of equal tokens is at least ``sim``
   (0.5 by default), and the group's template is generalized position by
   position to ``<*>`` where they differ; otherwise it starts a new group.

Only the first line of a multi-line message is used (continuation lines are
stack traces, JSON bodies, Trace steps) and it is cut at ``max_chars``.

>>> import pandas as pd
>>> msgs = pd.Series(["Unable to register node \\"n1\\" with API server: connection refused",
...                   "Unable to register node \\"n2\\" with API server: connection refused",
...                   "Started kubelet"])
>>> ids, t = mine_templates(msgs)
>>> list(t["template"])
['Unable to register node <*> with API server: connection refused', 'Started kubelet']
>>> ids.tolist()
[0, 0, 1]
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

WILDCARD = "<*>"

# Order matters: the longest, most specific shapes first.
_MASKS = [
    (r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b", WILDCARD),  # UUID
    (r"\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b", WILDCARD),  # IPv4[:port]
    (r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?", WILDCARD),  # RFC3339
    (r"\b\d{2}:\d{2}:\d{2}(?:\.\d+)?\b", WILDCARD),  # clock time
    (r"\"[^\"\s]*\d[^\"]*\"", WILDCARD),  # "quoted-with-digit"
    (r"'[^'\s]*\d[^']*'", WILDCARD),
    (r"\b0x[0-9a-fA-F]+\b", WILDCARD),
    (r"\b[0-9a-f]{10,}\b", WILDCARD),  # long hex ids
    (r"[\w.-]*\d[\w.-]*", WILDCARD),  # 12, 1.5ms, pod-12, node3
    (r"[-+]?\d+%?", WILDCARD),
]


def mask(texts: pd.Series, max_chars: int = 300) -> pd.Series:
    """First line of each text, cut at ``max_chars``, with variable parts replaced by ``<*>``.

    Parameters
    ----------
    texts : pandas.Series of str
        Log messages (nulls become ``""``).
    max_chars : int
        Characters kept of the first line.

    Returns
    -------
    pandas.Series of str
        Masked texts, same index.

    >>> mask(pd.Series(["took 1.5ms for pod-12 on 10.0.0.1:443"])).iloc[0]
    'took <*> for <*> on <*>'
    """
    s = texts.fillna("").astype(str).str.split("\n", n=1).str[0].str.slice(0, max_chars)
    for pat, rep in _MASKS:
        s = s.str.replace(pat, rep, regex=True)
    s = s.str.replace(r"(?:<\*>[\s,:;/_=-]*){2,}(?=\s|$)", WILDCARD + " ", regex=True).str.strip()
    return s


@dataclass
class _Group:
    tokens: list
    count: int = 0


@dataclass
class Drain:
    """Incremental Drain clustering of token lists.

    Parameters
    ----------
    sim : float
        Minimum share (0–1) of positions with equal tokens for a message to
        join a group.
    depth : int
        Number of leading tokens used to route a message to its leaf.
    max_children : int
        Distinct tokens per tree level before further tokens route as ``<*>``.
    max_groups : int
        Groups per leaf; once a leaf is full a message joins its most similar group even
        below ``sim`` (bounds the work per message on logs with very many shapes).
    """

    sim: float = 0.5
    depth: int = 3
    max_children: int = 100
    max_groups: int = 50
    groups: list = field(default_factory=list)
    _tree: dict = field(default_factory=dict)

    def _leaf(self, tokens: list) -> list:
        node = self._tree.setdefault(len(tokens), {})
        for tok in tokens[: self.depth]:
            key = WILDCARD if any(c.isdigit() for c in tok) else tok
            if key not in node and len(node) >= self.max_children:
                key = WILDCARD
            node = node.setdefault(key, {})
        return node.setdefault(None, [])

    def add(self, tokens: list, count: int = 1) -> int:
        """Cluster one message's tokens; returns its group id (index into ``groups``)."""
        leaf = self._leaf(tokens)
        best, best_sim = -1, -1.0
        n = max(len(tokens), 1)
        for gid in leaf:
            g = self.groups[gid].tokens
            same = sum(1 for a, b in zip(g, tokens) if a == b or a == WILDCARD)
            s = same / n
            if s > best_sim:
                best, best_sim = gid, s
        if best >= 0 and (best_sim >= self.sim or len(leaf) >= self.max_groups):
            g = self.groups[best]
            g.tokens = [a if a == b else WILDCARD for a, b in zip(g.tokens, tokens)]
            g.count += count
            return best
        self.groups.append(_Group(list(tokens), count))
        leaf.append(len(self.groups) - 1)
        return len(self.groups) - 1


def mine_templates(
    texts: pd.Series, *, sim: float = 0.5, depth: int = 3, max_chars: int = 300
) -> tuple[np.ndarray, pd.DataFrame]:
    """Template id of every message and the table of templates.

    Parameters
    ----------
    texts : pandas.Series of str
        Messages (e.g. ``run.table("messages")["msg"]``).
    sim, depth : float, int
        Drain parameters (see :class:`Drain`).
    max_chars : int
        Characters of the first line that are clustered.

    Returns
    -------
    ids : numpy.ndarray of int64
        Template id per input row (position order).
    templates : pandas.DataFrame
        ``template_id``, ``template`` (str), ``count`` (rows), ordered by id
        (first appearance of the distinct masked text).
    """
    if len(texts) == 0:
        return np.zeros(0, dtype=np.int64), pd.DataFrame({"template_id": [], "template": [], "count": []})
    masked = mask(texts.reset_index(drop=True), max_chars=max_chars)
    codes, uniques = pd.factorize(masked, sort=False)
    counts = np.bincount(codes, minlength=len(uniques))
    d = Drain(sim=sim, depth=depth)
    gid = np.empty(len(uniques), dtype=np.int64)
    for i, u in enumerate(uniques):
        gid[i] = d.add(u.split(), int(counts[i]))
    ids = gid[codes]
    t = pd.DataFrame(
        {
            "template_id": np.arange(len(d.groups)),
            "template": [" ".join(g.tokens) for g in d.groups],
            "count": [g.count for g in d.groups],
        }
    )
    return ids, t


def compare_windows(
    texts: pd.Series,
    in_window: np.ndarray,
    *,
    window_s: float,
    rest_s: float,
    min_count: int = 3,
    min_ratio: float = 5.0,
    sim: float = 0.5,
) -> pd.DataFrame:
    """Templates that are new, or much more frequent, inside a time window than in the rest of the run.

    Parameters
    ----------
    texts : pandas.Series of str
        Messages.
    in_window : numpy.ndarray of bool
        Per message, whether it falls in the window.
    window_s, rest_s : float
        Length of the window and of the rest of the run, in seconds (rates are
        per minute of each).
    min_count : int
        Minimum messages of a template in the window to be reported.
    min_ratio : float
        Minimum ratio of the per-minute rate in the window to the rate in the rest.

    Returns
    -------
    pandas.DataFrame
        ``template_id``, ``template``, ``n_window``, ``n_rest``, ``rate_window_per_min``,
        ``rate_rest_per_min``, ``ratio`` (inf for new templates), ``new`` (bool),
        ``first_row`` (position of the first message of the template in the window),
        sorted new first, then by ratio and count.
    """
    cols = [
        "template_id",
        "template",
        "n_window",
        "n_rest",
        "rate_window_per_min",
        "rate_rest_per_min",
        "ratio",
        "new",
        "first_row",
    ]
    if len(texts) == 0 or not np.any(in_window):
        return pd.DataFrame(columns=cols)
    ids, t = mine_templates(texts, sim=sim)
    inw = np.asarray(in_window, dtype=bool)
    ng = len(t)
    n_in = np.bincount(ids[inw], minlength=ng)
    n_out = np.bincount(ids[~inw], minlength=ng)
    pos = np.arange(len(ids))
    first = np.full(ng, -1, dtype=np.int64)
    wi = pos[inw][::-1]
    first[ids[wi]] = wi  # reversed assignment leaves the first position
    w_min = max(window_s, 1.0) / 60.0
    r_min = max(rest_s, 1.0) / 60.0
    rate_in = n_in / w_min
    rate_out = n_out / r_min
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(n_out == 0, np.inf, rate_in / np.where(rate_out == 0, 1, rate_out))
    out = pd.DataFrame(
        {
            "template_id": t["template_id"],
            "template": t["template"],
            "n_window": n_in,
            "n_rest": n_out,
            "rate_window_per_min": rate_in,
            "rate_rest_per_min": rate_out,
            "ratio": ratio,
            "new": n_out == 0,
            "first_row": first,
        }
    )
    out = out[(out["n_window"] >= min_count) & (out["ratio"] >= min_ratio)]
    return out.sort_values(["new", "ratio", "n_window"], ascending=[False, False, False]).reset_index(drop=True)[cols]
