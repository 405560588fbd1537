"""e2e and clusterloader2 run logs on a large input, as ratios measured in one run (issue 20).

Builds (once, in --dir) a large log of each kind by concatenating copies of a real one from the corpus
(``../shared/real_logs``: the provedge conformance e2e log, the Azure kubemark density CL2 log; copies of
one suite are still a valid log of that kind), then times, median of --repeat rounds, the four alternated
within each round (the machine's load moves: a round sees the same load for all four):

1. lines: the same bytes read into Arrow line chunks (``kubelog.sources.lines.iter_chunks``, the reader
   both parsers start from; nothing classified);
2. the library floor: the same chunks and ``pyarrow.compute.extract_regex`` of the line header over every
   line -- timestamp, level and message (e2e: the Logf ``Mon DD hh:mm:ss.mmm: LEVEL: msg`` stamp; CL2: the
   klog header ``Lmmdd hh:mm:ss.uuuuuu pid file:line] msg``), the analog of the access log's "tuned
   pyarrow/RE2 reference pulling a few fields": what a well-kept library does with the file, no record built;
3. kubelog's parser (``e2e.parse`` / the ``cl2-log`` blocks), each table built, with a no-op writer;
4. the per-line reference: the same with ``per_line`` (each line classified and turned into rows in Python,
   the code before round 7 of issue 20), whose output the parser's equals (tests/test_e2e.py, test_cl2.py).

Target (bench/README.md): the parser within 2x the library floor.  Prints Markdown. Usage:
    python bench/bench_testlogs.py [--e2e-copies 10] [--cl2-copies 30] [--repeat 5] [--dir /tmp/kubelog-bench-testlogs]
"""

from __future__ import annotations

import argparse
import io
import os
from pathlib import Path

import _common

REAL = Path(__file__).resolve().parents[2] / "shared" / "real_logs"

E2E_HEADER = (
    r"^(?P<mon>[A-Z][a-z]{2}) (?P<day>[ 0-9][0-9]) (?P<time>[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}): "
    r"(?P<level>[A-Z]+): (?P<msg>.*)$"
)
KLOG_HEADER = (
    r"^(?P<level>[IWEF])(?P<mmdd>[0-9]{4}) (?P<time>[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}) +[0-9]+ "
    r"(?P<src>[^ \]]+)\] (?P<msg>.*)$"
)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--e2e-copies", type=int, default=10)
    ap.add_argument("--cl2-copies", type=int, default=30)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--dir", default="/tmp/kubelog-bench-testlogs")
    ap.add_argument("--real", default=str(REAL))
    a = ap.parse_args()
    d = Path(a.dir)
    d.mkdir(parents=True, exist_ok=True)
    import pyarrow.compute as pc

    from kubelog import formats
    from kubelog.engine import blocks
    from kubelog.formats import e2e
    from kubelog.formats.base import Context
    from kubelog.sources import lines as L

    def parse_e2e(data, name, tz, per_line):
        ctx = Context(0, name, lambda t, x: None, year=2021, tz=tz)
        e2e.parse(io.BufferedReader(io.BytesIO(data)), ctx, per_line=per_line)
        return ctx.lines_read

    def parse_cl2(data, name, tz, per_line):
        ctx = Context(0, name, lambda t, x: None, year=2021, tz=tz, options={"per_line": per_line, "threads": 1})
        stream = io.BufferedReader(io.BytesIO(data))
        blocks.parse_input(formats.get("cl2-log").plan(stream, ctx), stream, ctx)
        return ctx.lines_read

    cases = [
        ("e2e-log", "conformance_e2e_provedge_2021.log", a.e2e_copies, parse_e2e, E2E_HEADER),
        ("cl2-log", "cl2_kubemark_azure_density_100nodes.log", a.cl2_copies, parse_cl2, KLOG_HEADER),
    ]
    print(f"Load average (1/5/15 min) at the start: {'/'.join(f'{x:.1f}' for x in os.getloadavg())}")
    print()
    print(
        "| format | input | MB | lines | tz | lines → Arrow (s) | library floor: + header regex (s) | parse (s) "
        "| MB/s | x library floor | per-line reference (s) | speed-up |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for fmt, name, copies, parse, header in cases:
        big = d / f"{copies}x-{name}"
        if not big.exists():
            big.write_bytes((Path(a.real) / name).read_bytes() * copies)
        data = big.read_bytes()
        mb = len(data) / 1e6

        def lines_only():
            for _ in L.iter_chunks(io.BufferedReader(io.BytesIO(data)), [], False, L.ReaderStats()):  # noqa: B023
                pass

        def floor():
            for ch in L.iter_chunks(io.BufferedReader(io.BytesIO(data)), [], False, L.ReaderStats()):  # noqa: B023
                pc.extract_regex(ch.text, header)  # noqa: B023

        for tz in ("UTC", "America/New_York"):
            runs = {
                "lines": lines_only,
                "floor": floor,
                "new": lambda: parse(data, big.name, tz, False),  # noqa: B023
                "ref": lambda: parse(data, big.name, tz, True),  # noqa: B023
            }
            n_lines = parse(data, big.name, tz, False)  # warm-up (imports, first allocations): not timed
            m = _common.alternated(runs, a.repeat)
            print(
                f"| {fmt} | {copies} x {name} | {mb:,.1f} | {n_lines:,} | {tz} | {m['lines']:.2f} | {m['floor']:.2f} "
                f"| {m['new']:.2f} | {mb / m['new']:,.1f} | {m['new'] / m['floor']:.2f}x | {m['ref']:.2f} "
                f"| {m['ref'] / m['new']:.2f}x |"
            )
    print()
    print(f"Load average (1/5/15 min) at the end: {'/'.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
