"""The findings of ``kubelog diagnose``, registered by name (the way clusterloader2 registers its
measurements: ``measurement.Register(name, factory)``).

A finding is one small unit in one module of this package::

    from .base import Ctx, Evidence, register

    @register("nodes_notready", order=150)
    def nodes_notready(ctx: Ctx) -> None:
        \"\"\"Nodes whose Ready condition went false.\"\"\"
        nt = ctx.table("node_transitions")                        # the evidence query
        nr = nt[nt["milestone"] == "notready"] if len(nt) else nt
        if not len(nr):
            return
        ctx.add("error", f"{nr['node'].nunique()} node(s) became NotReady: …",   # severity rule, wording
                "Nodes whose Ready condition went false during the run.",
                [Evidence(ctx.where(r["source_id"], r["line_no"]), "…") for _, r in nr.head(4).iterrows()],
                kind="nodes_notready", weight="nodes_notready")              # the score: weights.WEIGHTS

* ``name`` is unique: registering a name twice raises :class:`DuplicateFinding` (at import).
* ``order`` says when the unit runs: below :data:`WINDOW_ORDER` before the window of the failure
  is placed on the apiserver clock (the failure findings, which choose that window), at or
  above it after (everything compared with the window).
* ``weight`` names a row of :data:`kubelog.analysis.findings.weights.WEIGHTS`, the one table of
  ranking scores; an unknown name raises ``KeyError``. The shipped findings keep their rows in
  weights.py; a new one may bring its rows with ``register(..., weights={"row": score})``.
* A unit that raises becomes an ``internal_error`` info finding; the others still run.
* One renderer, :class:`kubelog.analysis.diagnose.Diagnosis` (text, Markdown, JSON, CSV), shows
  every finding: units only supply severity, title, detail and evidence.

Adding a finding is adding one module here: :func:`units` imports every module of the package.
docs/diagnose.md lists the findings and the weights.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from typing import Callable

#: units with an order below this run before the window is placed on the apiserver clock
WINDOW_ORDER = 100


class DuplicateFinding(ValueError):
    """Two units registered under one name."""


@dataclass(frozen=True)
class Unit:
    """A registered finding: its ``name``, the function that looks for it, when it runs."""

    name: str
    run: Callable
    order: int
    module: str
    doc: str


#: name → Unit, in registration order
REGISTRY: dict[str, Unit] = {}


def register(name: str, *, order: int, weights: dict | None = None):
    """Decorator: register ``fn(ctx)`` as the finding ``name``; a second unit with that name is refused.

    ``weights`` adds rows to :data:`~kubelog.analysis.findings.weights.WEIGHTS` for a finding that
    brings its own (a row already there with another value is refused), so that a new finding is
    one new module.
    """
    from .weights import WEIGHTS

    def deco(fn):
        if name in REGISTRY:
            raise DuplicateFinding(
                f"finding {name!r} is registered twice: {REGISTRY[name].module}.{REGISTRY[name].run.__name__}"
                f" and {fn.__module__}.{fn.__name__}"
            )
        for k, v in (weights or {}).items():
            if k in WEIGHTS and WEIGHTS[k] != v:
                raise DuplicateFinding(f"weight {k!r} of finding {name!r} is already {WEIGHTS[k]:g} in the table")
            WEIGHTS[k] = float(v)
        doc = (fn.__doc__ or "").strip().split("\n", 1)[0]
        REGISTRY[name] = Unit(name, fn, int(order), fn.__module__, doc)
        return fn

    return deco


_LOADED = False


def units() -> list[Unit]:
    """Every registered unit (each module of this package imported once), in run order."""
    global _LOADED
    if not _LOADED:
        for m in pkgutil.iter_modules(__path__):
            if not m.name.startswith("_"):
                importlib.import_module(f"{__name__}.{m.name}")
        _LOADED = True
    return sorted(REGISTRY.values(), key=lambda u: u.order)
