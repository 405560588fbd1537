"""Benchmark log generator: exact line count, determinism, counts agree with a quick parse."""

import re
from collections import Counter

import numpy as np

from kubelog.synth import gofmt, vec
from kubelog.synth.bench import write_apiserver_log

HDR = re.compile(r"^[IWEF]\d{4} \d{2}:\d{2}:\d{2}\.\d{6} +\d+ [^ :\]]+:\d+\] ")
ACC = re.compile(
    r'httplog\.go:132\] "HTTP" verb="([A-Z]+)" URI="[^"]*" latency="([^"]+)" userAgent="[^"]*" '
    r'audit-ID="[0-9a-f-]{36}" srcIP="[^"]+" (?:apf_[A-Za-z_]+=\S+ )*resp=(\d+)'
)


def test_vectorised_formatters_match_scalar():
    rng = np.random.default_rng(5)
    v = np.concatenate(
        [
            [0, 1, 999, 1000, 929214, 1926865, 3000145050, 498000602260, 3723500000000],
            (10 ** rng.uniform(0, 13, 3000)).astype(np.int64),
        ]
    )
    assert vec.go_duration(v).to_pylist() == [gofmt.go_duration(x) for x in v]
    ns = 1692780000 * 10**9 + np.cumsum(rng.integers(0, 10**9, 3000))
    k = gofmt.KlogClock()
    assert vec.klog_header("I", ns, 11, "x.go:1").to_pylist() == [k.header("I", x, 11, "x.go:1") for x in ns]


def test_bench_log(tmp_path):
    p = tmp_path / "a.log"
    res = write_apiserver_log(p, 30011, seed=4, block=10000)
    write_apiserver_log(tmp_path / "b.log", 30011, seed=4, block=10000)
    assert p.read_bytes() == (tmp_path / "b.log").read_bytes()
    lines = p.read_text(encoding="utf-8").split("\n")
    assert lines[-1] == ""
    lines = lines[:-1]
    assert len(lines) == res["lines"] == 30011
    heads = [ln for ln in lines if HDR.match(ln)]
    assert len(lines) - len(heads) == res["continuation_lines"]
    verbs, codes = Counter(), Counter()
    for ln in heads:
        m = ACC.search(ln)
        if m:
            verbs[m.group(1)] += 1
            codes[m.group(3)] += 1
    assert dict(verbs) == res["by_verb"]
    assert dict(codes) == res["by_code"]
    assert sum(1 for ln in heads if "trace.go:236] Trace[" in ln) == res["traces"]
    assert 300 < res["bytes"] / res["lines"] < 500
