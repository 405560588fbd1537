"""e2e and clusterloader2 run logs on a large input, as ratios measured in one run (issue 20).

Builds (once, in --dir) a large log of each kind by concatenating copies of a real one from the corpus
(``../shared/real_logs``: the provedge conformance e2e log, the Azure kubemark density CL2 log; copies of
one suite are still a valid log of that kind), then times, median of --repeat:

1. the floor: the same bytes read into Arrow line chunks (``kubelog.sources.lines.iter_chunks``, the reader
   both parsers start from; nothing classified);
2. the parser (``e2e.parse`` / ``cl2.parse_log``), UTC and, for e2e, ``--tz America/New_York``;
3. the same with ``columnar=False``: the code before issue 20 (numpy/pandas per stamp), the reference.

Prints Markdown for bench/README.md. Usage:
    python bench/bench_testlogs.py [--e2e-copies 10] [--cl2-copies 30] [--repeat 3] [--dir /tmp/kubelog-bench-testlogs]
"""

from __future__ import annotations

import argparse
import io
import os
from pathlib import Path

from _common import timed

REAL = Path(__file__).resolve().parents[2] / "shared" / "real_logs"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--e2e-copies", type=int, default=10)
    ap.add_argument("--cl2-copies", type=int, default=30)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--dir", default="/tmp/kubelog-bench-testlogs")
    ap.add_argument("--real", default=str(REAL))
    a = ap.parse_args()
    d = Path(a.dir)
    d.mkdir(parents=True, exist_ok=True)
    from kubelog.formats import cl2, e2e
    from kubelog.formats.base import Context
    from kubelog.sources import lines as L

    cases = [
        ("e2e-log", "conformance_e2e_provedge_2021.log", a.e2e_copies, e2e.parse, ("UTC", "America/New_York")),
        ("cl2-log", "cl2_kubemark_azure_density_100nodes.log", a.cl2_copies, cl2.parse_log, ("UTC",)),
    ]
    print(f"Load average (1/5/15 min) at the start: {'/'.join(f'{x:.1f}' for x in os.getloadavg())}")
    print()
    print(
        "| format | input | MB | lines | floor: lines → Arrow (s) | tz | parse (s) | MB/s | x floor "
        "| reference, before issue 20 (s) | speed-up |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for fmt, name, copies, parse, zones in cases:
        src = Path(a.real) / name
        big = d / f"{copies}x-{name}"
        if not big.exists():
            one = src.read_bytes()
            big.write_bytes(one * copies)
        data = big.read_bytes()
        mb = len(data) / 1e6

        def floor():
            for _ in L.iter_chunks(io.BufferedReader(io.BytesIO(data)), [], False, L.ReaderStats()):  # noqa: B023
                pass

        def run(tz, columnar):
            def go():
                ctx = Context(0, big.name, lambda t, x: None, year=2021, tz=tz)  # noqa: B023
                parse(io.BufferedReader(io.BytesIO(data)), ctx, columnar=columnar)  # noqa: B023
                go.lines = ctx.lines_read

            return go

        f = timed(floor, a.repeat)
        for tz in zones:
            g = run(tz, True)
            new = timed(g, a.repeat)
            ref = timed(run(tz, False), 1)
            print(
                f"| {fmt} | {copies} x {name} | {mb:,.1f} | {g.lines:,} | {f:.2f} | {tz} | {new:.2f} | {mb / new:,.1f} "
                f"| {new / f:.0f}x | {ref:.2f} | {ref / new:.1f}x |"
            )


if __name__ == "__main__":
    main()
