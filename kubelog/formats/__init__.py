"""Input formats: the registry and detection.

Each module in this package that defines ``FORMAT`` (a :class:`~kubelog.formats.base.Format`)
is registered.  Detection asks the sniffers in increasing ``priority`` over the head of
the input; the first that claims it wins.  ``kubelog ingest --input-format NAME`` skips detection.
A file no sniffer claims is recorded as ``unknown`` with its line count.
"""

from __future__ import annotations

import importlib
import pkgutil

from .base import Format, Head

_REGISTRY: dict[str, Format] | None = None


def registry() -> dict[str, Format]:
    """All formats by name, in sniffing order."""
    global _REGISTRY
    if _REGISTRY is None:
        found: dict[str, Format] = {}
        for mod in pkgutil.iter_modules(__path__):
            if mod.name.startswith("_") or mod.name in ("base", "reasons"):
                continue
            m = importlib.import_module(f"{__name__}.{mod.name}")
            fmts = getattr(m, "FORMATS", None) or ([m.FORMAT] if hasattr(m, "FORMAT") else [])
            for f in fmts:
                if f.name in found:
                    raise RuntimeError(f"format {f.name!r} registered twice ({mod.name})")
                found[f.name] = f
        _REGISTRY = dict(sorted(found.items(), key=lambda kv: (kv[1].priority, kv[0])))
    return _REGISTRY


def get(name: str) -> Format:
    reg = registry()
    if name not in reg:
        raise KeyError(f"unknown format {name!r}; known: {', '.join(reg)}")
    return reg[name]


def detect(head: Head) -> Format | None:
    """The first format (by priority) whose sniffer claims ``head``, or None."""
    for f in registry().values():
        try:
            if f.sniff(head):
                return f
        except Exception:  # a sniffer must never break detection
            continue
    return None
