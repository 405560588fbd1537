"""The per-format samples under tests/samples/<format>/ (docs/formats/<format>.md describes each format).

Every sample is a small file in the real shape of one variant.  Beside it:

* ``<sample>.<table>.csv`` — the rows kubelog must give in ``<table>`` (the CSV's columns only, in
  ``line_no`` order; an empty cell is a null; numbers compared to 1e-9 relative);
* ``<sample>.options.json`` (optional) — ingest options (``year``, ``tz``) and expectations:
  ``counted`` ({reason: lines}, exact), ``info`` ({key: value} that must be in the manifest's ``info``),
  ``warnings`` (substrings that must be among the input's errors; otherwise there must be none).

The tests: each sample is claimed by its directory's format, parses with exact line accounting and
gives its expected rows; and no other format's sniffer claims it (except the generic format a
refinement is asked before: klog for cl2-log).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest

from kubelog.formats import detect, reasons, registry
from kubelog.formats.base import HEAD_BYTES, Head

SAMPLES = Path(__file__).resolve().parent / "samples"
AUX = (".csv", ".options.json", ".md")


def _samples() -> list[tuple[str, Path]]:
    out = []
    for d in sorted(p for p in SAMPLES.iterdir() if p.is_dir()):
        for f in sorted(d.iterdir()):
            if f.is_file() and not f.name.endswith(AUX):
                out.append((d.name, f))
    return out


ALL = _samples()
IDS = [f"{fmt}/{f.name}" for fmt, f in ALL]


def _options(f: Path) -> dict:
    o = f.with_name(f.name + ".options.json")
    return json.loads(o.read_text()) if o.is_file() else {}


def _expected(f: Path) -> dict[str, Path]:
    pre = f.name + "."
    return {p.name[len(pre) : -4]: p for p in f.parent.glob(f.name + ".*.csv")}


def _cell(v) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NaT:
        return ""
    if isinstance(v, pd.Timestamp):
        return v.isoformat()
    if isinstance(v, (bool,)):
        return "true" if v else "false"
    return str(v)


def _same(a: str, e: str) -> bool:
    if a == e:
        return True
    try:
        fa, fe = float(a), float(e)
    except ValueError:
        return False
    return math.isclose(fa, fe, rel_tol=1e-9, abs_tol=1e-12)


def test_every_format_dir_is_a_format():
    names = set(registry())
    for d in SAMPLES.iterdir():
        if d.is_dir():
            assert d.name in names, f"tests/samples/{d.name}: no such format"
    for fmt, f in ALL:
        assert _expected(f) or _options(f).get("counted"), f"{fmt}/{f.name}: no expected rows beside it"


@pytest.mark.parametrize("fmt,path", ALL, ids=IDS)
def test_sample(fmt, path, ingest_to):
    opts = _options(path)
    run = ingest_to(path, **{k: opts[k] for k in ("year", "tz") if k in opts})
    inp = run.inputs[0]
    assert inp["format"] == fmt
    assert inp["lines_read"] == inp["record_lines"] + inp["continuation_lines"] + sum(inp["counted"].values())
    assert "unaccounted (parser bug)" not in inp["counted"]
    if "counted" in opts:
        assert inp["counted"] == opts["counted"]
    for k, v in opts.get("info", {}).items():
        assert inp["info"].get(k) == v, (k, inp["info"].get(k))
    warns = opts.get("warnings", [])
    for w in warns:
        assert any(w in e for e in inp["errors"]), (w, inp["errors"])
    if not warns:
        assert not inp["errors"], inp["errors"]
    st = run.table("parse_stats")
    for reason, sev in zip(st["reason"], st["severity"]):
        d = reasons.lookup(reason)
        assert d is not None, f"reason {reason!r} is not declared in kubelog/formats/reasons.py"
        assert d.severity == sev, (reason, sev, d.severity)
    for table, csv in _expected(path).items():
        exp = pd.read_csv(csv, dtype=str, keep_default_na=False)
        got = run.table(table)
        if "line_no" in got:
            got = got.sort_values("line_no", kind="stable")
        assert len(got) == len(exp), f"{table}: {len(got)} rows, expected {len(exp)}\n{got.to_string()}"
        for c in exp.columns:
            assert c in got.columns, f"{table}: no column {c}"
            for i, (a, e) in enumerate(zip(got[c].tolist(), exp[c].tolist())):
                assert _same(_cell(a), e), f"{table} row {i} {c}: got {_cell(a)!r}, expected {e!r}"


# a format that is a refinement of a more generic one, asked before it: the generic sniffer also claims
# the refinement's samples (cl2-log is klog text that names clusterloader2's sources)
REFINES = {"cl2-log": {"klog"}}


@pytest.mark.parametrize("fmt,path", ALL, ids=IDS)
def test_no_other_format_claims(fmt, path):
    """Every sniffer runs on every sample: only the sample's own format (and the generic format it
    refines, asked after it) claims it."""
    data = path.read_bytes()[:HEAD_BYTES]
    head = Head(str(path), data)
    assert detect(head).name == fmt
    order = list(registry())
    for name, f in registry().items():
        if name == fmt:
            continue
        if name in REFINES.get(fmt, ()):
            assert order.index(name) > order.index(fmt), f"{fmt} must be asked before {name}"
            continue
        assert not f.sniff(head), f"{name} claims {fmt}/{path.name}"


def test_reasons_in_the_code_are_declared():
    """Every reason written literally in the parsers (and the klog non-record patterns, the wrappers'
    marker reasons) is declared once in kubelog/formats/reasons.py, with the severity it is written with."""
    import re
    from kubelog.formats import klog
    from kubelog.sources import lines as L

    root = Path(__file__).resolve().parent.parent / "kubelog"
    found = []
    rx = re.compile(r'\bcount(?:_many)?\(\s*(f?)"([^"]+)"(?:[^()]|\([^()]*\))*?severity="(\w+)"')
    for f in root.rglob("*.py"):
        for m in rx.finditer(f.read_text()):
            name = re.sub(r"\{[^}]*\}", "{x}", m.group(2)) if m.group(1) else m.group(2)
            found.append((f.name, name, m.group(3)))
    found += [("klog.py", r, sev) for r, sev, _ in klog.NOT_RECORDS]
    found += [("lines.py", w.marker_reason, None) for w in L.WRAPPERS if w.marker_re]
    assert len(found) > 30
    for where, name, sev in found:
        d = reasons.lookup(name) or next(
            (r for r in reasons.DECLARED if "{" in r.name and re.sub(r"\{[^}]*\}", "{x}", r.name) == name), None
        )
        assert d is not None, f"{where}: reason {name!r} not declared"
        assert sev is None or d.severity == sev, f"{where}: {name!r} written as {sev}, declared {d.severity}"
    names = [r.name for r in reasons.DECLARED]
    assert len(names) == len(set(names))
