"""The optional compiled helpers (``kubelog._fastscan``, built from ``kubelog/_native/fastscan.c``).

:func:`module` returns the extension, or None when it was not built (no C compiler at
install time) or ``KUBELOG_NO_NATIVE`` is set; every caller has a pure-Python/Arrow
path that gives the same result (the tests run both).
"""

from __future__ import annotations

import os

try:
    from . import _fastscan
except ImportError:  # pragma: no cover - depends on the install
    _fastscan = None


def module():
    """The C extension, or None (not built, or disabled with ``KUBELOG_NO_NATIVE=1``)."""
    if _fastscan is None or os.environ.get("KUBELOG_NO_NATIVE"):
        return None
    return _fastscan


def built():
    """The C extension if it was built, whether or not ``KUBELOG_NO_NATIVE`` disables it."""
    return _fastscan


def status() -> str:
    """One line for ``kubelog formats`` and ``--version``-like reports."""
    if _fastscan is None:
        return "C scanner: not built (pure-Python/Arrow parser in use)"
    if os.environ.get("KUBELOG_NO_NATIVE"):
        return "C scanner: disabled by KUBELOG_NO_NATIVE"
    return "C scanner: in use"
