"""Are two ingests of the same inputs the same?  Every table of two run directories, compared by contents.

For speed work that must not change any output (bench/README.md, "Whole run", round 5): ingest the same
inputs with two codes (e.g. ``PYTHONPATH=<an export of the other tree>``) and compare.  Each table is read
with pyarrow a column at a time (its part files in order), its columns compared value by value and by type; the
manifest's per-input accounting (lines read, record lines, the parse statistics' counts) is compared too.
Prints one line per table and exits 1 on a difference.

Usage:
    python bench/compare_runs.py RUN_A RUN_B
    python bench/compare_runs.py --ingest INPUT... --old-tree /tmp/old-tree   # ingests with both codes first
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path


def _schema(run: Path, name: str):
    """The schema of table ``name`` of ``run`` (None: no part file)."""
    import pyarrow.parquet as pq

    parts = sorted((run / name).glob("*.parquet"))
    return pq.read_schema(parts[0]).remove_metadata() if parts else None


def _column(run: Path, name: str, column: str):
    """One column of table ``name``, its part files in order (one column at a time: a 3M-row table of
    32 columns read whole is ~2 GB)."""
    import pyarrow.parquet as pq

    return pq.read_table(run / name, columns=[column]).column(0)


def compare(a: Path, b: Path) -> bool:
    """True when every table of runs ``a`` and ``b`` has the same rows (values and types) and their
    manifests the same accounting per input."""
    names = sorted({p.name for p in a.iterdir() if p.is_dir()} | {p.name for p in b.iterdir() if p.is_dir()})
    same = True
    for name in names:
        sa, sb = _schema(a, name), _schema(b, name)
        if sa is None or sb is None:
            ok = sa is None and sb is None
            print(f"{name}: {'both empty' if ok else 'only in one run'}")
            same &= ok
            continue
        if sa != sb:
            print(f"{name}: schemas differ\n{sa}\n{sb}")
            same = False
            continue
        diff, rows = [], None
        for c in sa.names:
            ca, cb = _column(a, name, c), _column(b, name, c)
            rows = len(ca), len(cb)
            if not ca.equals(cb):
                diff.append(c)
        print(
            f"{name}: {rows[0]:,} / {rows[1]:,} rows, {len(sa.names)} columns, "
            + ("same" if not diff else f"DIFFERENT: {diff}")
        )
        same &= not diff
    ma, mb = (json.loads((r / "manifest.json").read_text()) for r in (a, b))

    def accounting(m):
        keep = ("path", "format", "lines_read", "record_lines", "continuation_lines", "counted", "lost_lines", "rows")
        keep += ("info", "errors", "read_complete")
        return [{k: e.get(k) for k in keep} for e in m["inputs"]]

    acc = accounting(ma) == accounting(mb)
    print(f"manifest accounting per input: {'same' if acc else 'DIFFERENT'}")
    return same and acc


def _ingest(inputs: list[str], out: Path, tree: str | None) -> None:
    env = dict(os.environ)
    if tree:
        env["PYTHONPATH"] = tree
    code = "import sys, kubelog; print('kubelog from', kubelog.__file__); kubelog.ingest(sys.argv[2:], sys.argv[1])"
    # run from the output's directory: `python -c` puts the working directory first on sys.path, where a
    # checkout's kubelog/ would shadow PYTHONPATH's
    inputs = [str(Path(p).resolve()) for p in inputs]
    subprocess.run([sys.executable, "-c", code, str(out), *inputs], check=True, env=env, cwd=out.parent)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("runs", nargs="*")
    ap.add_argument("--ingest", nargs="+", help="inputs to ingest with this tree and with --old-tree")
    ap.add_argument("--old-tree", help="PYTHONPATH of the other code (an export of its kubelog/)")
    a = ap.parse_args()
    if a.ingest:
        with tempfile.TemporaryDirectory(prefix="kubelog-compare-") as d:
            old, new = Path(d) / "old", Path(d) / "new"
            _ingest(a.ingest, old, a.old_tree)
            _ingest(a.ingest, new, str(Path(__file__).resolve().parent.parent))
            sys.exit(0 if compare(old, new) else 1)
    sys.exit(0 if compare(Path(a.runs[0]), Path(a.runs[1])) else 1)


if __name__ == "__main__":
    main()
