"""The progress of `kubelog ingest` (issue 22 item 4): bytes and lines per input, updated as each
block of an input is merged, drawn by rich on stderr only on a terminal (or KUBELOG_PROGRESS=1),
never with -q."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

KUBELOG = str(Path(sys.executable).with_name("kubelog"))
ANSI = re.compile(r"\x1b\[[0-9;?]*[a-zA-Z]")


class Recorder:
    """The engine's monitor interface, recording its calls."""

    def __init__(self):
        self.started, self.advances, self.finished = [], [], []

    def start(self, inputs):
        self.started.extend(inputs)

    def advance(self, source_id, nbytes, lines):
        self.advances.append((source_id, nbytes, lines))

    def done(self, entry):
        self.finished.append(entry)


def test_monitor_sees_each_block_of_an_input(tmp_path, monkeypatch):
    """A klog input of many blocks: the monitor hears of the bytes and lines after every block, in
    increasing order, and the last call has all its lines; then the input is done."""
    from kubelog.engine import Options, ingest
    from kubelog.sources import lines as L
    from kubelog.synth.bench import write_apiserver_log

    log = tmp_path / "kube-apiserver.log"
    write_apiserver_log(log, 3_000, seed=4)
    monkeypatch.setattr(L, "BLOCK", 64 << 10)  # ~20 blocks
    rec = Recorder()
    run = ingest([log], tmp_path / "run", options=Options(threads=2), monitor=rec)
    (e,) = run.inputs
    assert rec.started == [(0, str(log), log.stat().st_size)]
    steps = [a for a in rec.advances if a[0] == 0]
    assert len(steps) >= 10, steps
    assert [s[2] for s in steps] == sorted(s[2] for s in steps) and steps[-1][2] == e["lines_read"] == 3_000
    assert [s[1] for s in steps] == sorted(s[1] for s in steps) and steps[-1][1] == log.stat().st_size
    assert [d["source_id"] for d in rec.finished] == [0]


def test_monitor_on_the_byte_ranges_of_worker_processes(tmp_path, monkeypatch):
    """The same when the blocks are byte ranges parsed by the local process pool: the byte ends
    of the ranges."""
    from kubelog.engine import Options, blocks, ingest
    from kubelog.sources import lines as L
    from kubelog.synth.bench import write_apiserver_log

    log = tmp_path / "kube-apiserver.log"
    write_apiserver_log(log, 6_000, seed=4)
    monkeypatch.setattr(blocks, "PROCESS_MIN_BYTES", 1)
    monkeypatch.setattr(blocks, "PROCESS_BLOCK", 1 << 20)
    monkeypatch.setattr(L, "BLOCK", 1 << 20)
    rec = Recorder()
    ingest([log], tmp_path / "run", options=Options(threads=2), monitor=rec)
    steps = [a for a in rec.advances if a[0] == 0]
    assert len(steps) >= 2 and steps[-1] == (0, log.stat().st_size, 6_000), steps


def _ingest(tmp_path, *args, env=None):
    base = {k: v for k, v in os.environ.items() if k != "KUBELOG_PROGRESS"}
    return subprocess.run(
        [KUBELOG, "ingest", *map(str, args)],
        capture_output=True,
        text=True,
        env=dict(base, COLUMNS="120", **(env or {})),
        cwd=tmp_path,
        timeout=120,
    )


def test_bar_shows_bytes_and_lines_per_input(tmp_path):
    """KUBELOG_PROGRESS=1 draws the bar on a pipe: its final rows name every input with its bytes
    and its lines."""
    samples = Path(__file__).resolve().parent.parent / "sample_logs" / "healthy-1.28"
    r = _ingest(tmp_path, samples, "--out", tmp_path / "run", env={"KUBELOG_PROGRESS": "1"})
    assert r.returncode == 0, r.stderr
    import json

    inputs = json.loads((tmp_path / "run" / "manifest.json").read_text())["inputs"]
    text = ANSI.sub("", r.stderr).replace("\r", "\n")
    for e in inputs:
        name = Path(e["path"]).name
        rows = [ln for ln in text.splitlines() if name in ln and " lines" in ln and "/" in ln.split(name)[-1]]
        assert rows, (name, text[-3000:])
        final = rows[-1]  # the last frame drawn
        assert re.search(rf" {e['lines_read']:,} lines", final), (final, e["lines_read"])
        m = re.search(r" ([0-9.]+)/([0-9.]+) (bytes|kB|MB)", final)
        size = os.path.getsize(samples / name)
        assert m and m.group(1) == m.group(2), final  # all its bytes
        assert m.group(3) == ("bytes" if size < 1000 else "kB" if size < 1e6 else "MB"), final


def test_no_bar_off_a_terminal_or_with_quiet(tmp_path):
    samples = Path(__file__).resolve().parent.parent / "sample_logs" / "healthy-1.28"
    r = _ingest(tmp_path, samples, "--out", tmp_path / "a")
    assert r.returncode == 0 and "━" not in r.stderr and "\x1b[" not in r.stderr
    r = _ingest(tmp_path, samples, "--out", tmp_path / "b", "-q", env={"KUBELOG_PROGRESS": "1"})
    assert r.returncode == 0 and r.stderr == ""
