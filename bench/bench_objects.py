"""Object dumps (``kubectl get -o json`` lists, watch streams, YAML) against ``json.loads`` of the same file (issue 20).

Inputs, made once in --dir from the pods.json and events.json of the synthetic 100-node x3 run (``kubelog synth``,
cached by ``_common.synthetic_run`` in --base): the two lists with their items copied --copies times (each copy's
names and uids made unique, as a larger run's would be), a watch stream of the pods (every pod ADDED, then each
MODIFIED once with a later deletion, one event per line, as ``--output-watch-events``/the API writes it), and the
events as a YAML list (not copied: YAML loading is ~50x slower than JSON).  Then, median of --repeat rounds, in
each round one after the other (the machine's load moves: a round sees the same load for all):

1. the floor: ``json.loads`` of the whole file (the watch stream: ``json.loads`` of each line; the YAML:
   ``yaml.load`` with the loader kubelog uses, ``CSafeLoader``) -- what a library does with the file, no row built;
   as a user runs it and with the garbage collector paused, as kubelog's parse runs (on a 45 MB document the
   collector's passes over the growing tree are a third of ``json.loads``' time): the ratios are to the latter;
2. kubelog's parse (``objects.parse`` with a no-op writer: every table column and the line accounting);
3. ``arrow=False``: the columnar path of round 5 (objects dispatched one by one, fields read by comprehensions);
4. ``columnar=False``: the per-object reference.
Rows 3 and 4 give the same tables (tests/test_objects.py); with an older tree on PYTHONPATH (no ``arrow``
option) row 3 is skipped.  Target (bench/README.md): the JSON lists within 2x the floor.  Prints Markdown.

Usage:
    python bench/bench_objects.py [--copies 4] [--repeat 5] [--dir /tmp/kubelog-bench-objects] [--base /tmp/kubelog-bench-run]
    PYTHONPATH=/tmp/old-tree python bench/bench_objects.py --no-reference --no-yaml   # another tree's code
"""

from __future__ import annotations

import argparse
import gc
import inspect
import io
import json
import os
from pathlib import Path

import _common


def _copies(items: list, n: int) -> list:
    out = []
    for k in range(n):
        for it in items:
            it = json.loads(json.dumps(it))
            md = it.get("metadata") or {}
            for f in ("name", "uid"):
                if k and isinstance(md.get(f), str):
                    md[f] = f"{md[f]}-c{k}"
            out.append(it)
    return out


def make_inputs(d: Path, base: Path, copies: int) -> dict[str, Path]:
    d.mkdir(parents=True, exist_ok=True)
    run = _common.synthetic_run(base, 100, 3)
    out = {}
    for name in ("pods", "events"):
        p = d / f"{name}-x{copies}.json"
        if not p.exists():
            doc = json.loads((run / f"{name}.json").read_text())
            doc["items"] = _copies(doc["items"], copies)
            p.write_text(json.dumps(doc, indent=4, sort_keys=True) + "\n")  # kubectl's layout
        out[f"{name}.json x{copies}"] = p
    p = d / f"pods-watch-x{copies}.json"
    if not p.exists():
        pods = json.loads(out[f"pods.json x{copies}"].read_text())["items"]
        lines = [json.dumps({"type": "ADDED", "object": o}) for o in pods]
        for o in pods:
            o["metadata"]["deletionTimestamp"] = o["metadata"].get("creationTimestamp")
            lines.append(json.dumps({"type": "MODIFIED", "object": o}))
        p.write_text("\n".join(lines) + "\n")
    out["pods watch stream"] = p
    p = d / "events.yaml"
    if not p.exists():
        import yaml

        p.write_text(yaml.safe_dump(json.loads((run / "events.json").read_text()), sort_keys=False))
    out["events.yaml x1"] = p
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--copies", type=int, default=4)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--dir", default="/tmp/kubelog-bench-objects")
    ap.add_argument("--base", default="/tmp/kubelog-bench-run")
    ap.add_argument("--no-reference", action="store_true", help="skip the per-object reference (slow)")
    ap.add_argument("--no-yaml", action="store_true", help="skip the YAML input (unchanged in round 8)")
    a = ap.parse_args()
    import yaml

    from kubelog.formats import objects as O
    from kubelog.formats.base import Context

    has_arrow = "arrow" in inspect.signature(O.parse).parameters
    inputs = make_inputs(Path(a.dir), Path(a.base), a.copies)
    Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    def parse(data: bytes, **kw):
        ctx = Context(0, "x", lambda t, x: None)
        O.parse(io.BufferedReader(io.BytesIO(data)), ctx, **kw)
        return ctx

    print(f"kubelog from {Path(O.__file__).parents[2]}; `arrow` option: {has_arrow}")
    print(f"Load average (1/5/15 min) at the start: {'/'.join(f'{x:.1f}' for x in os.getloadavg())}")
    print()
    print(
        "| input | MB | objects | rows | floor (s) | floor, GC paused (s) | parse (s) | MB/s | x floor (GC paused) "
        "| round 5 path, `arrow=False` (s) | x floor | per-object reference (s) | x floor |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for label, path in inputs.items():
        if a.no_yaml and label.endswith("yaml x1"):
            continue
        data = path.read_bytes()
        mb = len(data) / 1e6
        if label.endswith("yaml x1"):

            def floor():
                yaml.load(data, Loader=Loader)  # noqa: B023
        elif "watch" in label:

            def floor():
                [json.loads(ln) for ln in data.splitlines()]  # noqa: B023
        else:

            def floor():
                json.loads(data)  # noqa: B023

        def floor_nogc():  # the same with the garbage collector paused, as kubelog's parse runs
            gc.disable()
            try:
                floor()  # noqa: B023
            finally:
                gc.enable()

        runs = {"floor_gc": floor, "floor": floor_nogc, "new": lambda: parse(data)}  # noqa: B023
        if has_arrow:
            runs["round5"] = lambda: parse(data, arrow=False)  # noqa: B023
        if not a.no_reference:
            runs["ref"] = lambda: parse(data, columnar=False)  # noqa: B023
        rows: dict = {}
        ctx = Context(0, "x", lambda t, x, rows=rows: rows.__setitem__(t, rows.get(t, 0) + x.num_rows))
        O.parse(io.BufferedReader(io.BytesIO(data)), ctx)  # warm-up (imports, first allocations): not timed
        m = _common.alternated(runs, a.repeat)
        r5 = f"{m['round5']:.3f} | {m['round5'] / m['floor']:.2f}x" if has_arrow else "– | –"
        ref = f"{m['ref']:.3f} | {m['ref'] / m['floor']:.2f}x" if "ref" in m else "– | –"
        n_obj = sum(ctx.info.get("object_kinds", {}).values())
        print(
            f"| {label} | {mb:,.1f} | {n_obj:,} | {sum(rows.values()):,} | {m['floor_gc']:.3f} | {m['floor']:.3f} "
            f"| {m['new']:.3f} "
            f"| {mb / m['new']:,.1f} | {m['new'] / m['floor']:.2f}x | {r5} | {ref} |"
        )
    print()
    print(f"Load average (1/5/15 min) at the end: {'/'.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
