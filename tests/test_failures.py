"""Ingest under process faults and output misuse (issue 17; docs/failures.md).

Faults happen in real processes: `kubelog ingest` runs as a subprocess, through tests/faultinject.py
where a worker process must be killed, fail to read, or pause (so that the test can signal the
ingest while it parses).  Every case ends either in a non-zero exit with one line on stderr and no
run directory (nor a temporary one), or in a run whose accounting names every line not parsed.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

TESTS = Path(__file__).resolve().parent
KUBELOG = str(Path(sys.executable).with_name("kubelog"))
N_SMALL = 12_000  # ~4.8 MB: five 1 MiB blocks for the worker processes of faultinject


@pytest.fixture(scope="session")
def small_log(tmp_path_factory) -> Path:
    from kubelog.synth.bench import write_apiserver_log

    p = tmp_path_factory.mktemp("failures") / "kube-apiserver.log"
    write_apiserver_log(str(p), N_SMALL, seed=7)
    return p


@pytest.fixture(scope="session")
def tiny_log(tmp_path_factory) -> Path:
    """~0.8 MB, parsed in this process: for what happens around the parsing."""
    from kubelog.synth.bench import write_apiserver_log

    p = tmp_path_factory.mktemp("failures-tiny") / "kube-apiserver.log"
    write_apiserver_log(str(p), 2_000, seed=5)
    return p


@pytest.fixture(scope="session")
def big_log(tmp_path_factory) -> Path:
    """Just over 64 MiB: the size from which `kubelog ingest` parses a file in worker processes."""
    from kubelog.engine import blocks
    from kubelog.synth.bench import write_apiserver_log

    p = tmp_path_factory.mktemp("failures-big") / "kube-apiserver.log"
    write_apiserver_log(str(p), 170_000, seed=3)
    assert p.stat().st_size >= blocks.PROCESS_MIN_BYTES
    return p


def _env() -> dict:
    env = dict(os.environ, PYTHONPATH=str(TESTS))
    env.pop("KUBELOG_WORKER_SERVER", None)
    return env


def faulty(fault: str, *args) -> list[str]:
    """The command line of `kubelog ARGS` with FAULT injected into its worker processes."""
    return [sys.executable, "-m", "faultinject", fault, "--", *map(str, args)]


def run(cmd, cwd, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=cwd, env=_env(), capture_output=True, text=True, timeout=120, **kw)


def leftovers(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if ".tmp-" in p.name or ".old-" in p.name)


def one_line(stderr: str) -> str:
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("kubelog: "), stderr
    return lines[0]


def manifest_entry(out: Path) -> dict:
    (e,) = json.loads((out / "manifest.json").read_text())["inputs"]
    return e


def session(sid: int) -> list[int]:
    """The live processes of session ``sid`` (an ingest started with start_new_session: it, its
    fork server and worker processes, and multiprocessing's resource tracker)."""
    pids = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[0] != "Z" and int(fields[4]) == sid:
                pids.append(int(d))
    return pids


def all_gone(sid: int, within: float = 5.0) -> list[int]:
    """The processes of session ``sid`` still alive after ``within`` seconds (none: returns at once)."""
    end = time.monotonic() + within
    while (left := session(sid)) and time.monotonic() < end:
        time.sleep(0.05)
    return left


def start_paused(tmp_path: Path, log: Path, out: Path):
    """Start an ingest whose worker pauses on its fourth block; return (process, worker pid)
    once the worker is paused there (:func:`resume` lets it go on)."""
    marks = tmp_path / "marks"
    marks.mkdir()
    cmd = faulty(f"pause@{3 * (1 << 20) + 10}@{marks}", "ingest", log, "--out", out, "-q")
    p = subprocess.Popen(
        cmd, cwd=tmp_path, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    end = time.monotonic() + 60
    while not any(marks.iterdir()):
        assert p.poll() is None, p.communicate()
        assert time.monotonic() < end, "the worker never reached the paused block"
        time.sleep(0.02)
    (mark,) = marks.iterdir()
    return p, int(mark.name)


def resume(tmp_path: Path) -> None:
    (tmp_path / "marks" / "go").touch()


def _kill_left(sid: int) -> None:
    """Clean up after a failing test: processes of the session this test started may be orphans."""
    for pid in session(sid):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


# -- worker processes ----------------------------------------------------------------------------


def test_worker_killed_mid_run_fails_the_run(tmp_path, small_log):
    """An out-of-memory kill of a worker: exit 7, one line naming the input, no run directory
    (it gave exit 0 and a 'complete' run with the blocks after the kill missing)."""
    out = tmp_path / "run"
    r = run(faulty("kill@3000000", "ingest", small_log, "--out", out, "-q"), tmp_path)
    assert r.returncode == 7, r.stderr
    line = one_line(r.stderr)
    assert small_log.name in line and "worker process died" in line
    assert not out.exists() and not leftovers(tmp_path)


def test_worker_that_cannot_start_fails_the_run(tmp_path, small_log):
    """Workers that die as they start: exit 7 (the blocks then failed one by one as 'parser
    failed' problems of the input, and the ingest exited 0)."""
    out = tmp_path / "run"
    r = run(faulty("startkill", "ingest", small_log, "--out", out, "-q"), tmp_path)
    assert r.returncode == 7, r.stderr
    assert "worker process died" in one_line(r.stderr)
    assert not out.exists() and not leftovers(tmp_path)


def test_block_that_fails_is_lost_and_named_never_balanced(tmp_path, small_log):
    """An I/O error reading one block in a worker: the run goes on, the block's lines are
    recorded as lost (line and byte range) and `kubelog info` does not call the input balanced
    (it did: the lines were counted as 'unaccounted (parser bug)' and the equation held). The run
    is written, but not every line is accounted for: exit 8 and one line naming the file (it was 0)."""
    out = tmp_path / "run"
    r = run(faulty("eio@3000000", "ingest", small_log, "--out", out, "-q"), tmp_path)
    assert r.returncode == 8, r.stderr
    (line,) = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert line.startswith(f"{small_log}:") and "lost (not parsed)" in line
    e = manifest_entry(out)
    assert e["lines_read"] == N_SMALL
    (lost,) = e["lost"]
    a, b = lost["bytes"]
    assert a <= 3000000 < b and "Input/output error" in lost["reason"]
    assert e["lost_lines"] == lost["lines"] > 0
    assert e["lines_read"] == e["record_lines"] + e["continuation_lines"] + sum(e["counted"].values()) + e["lost_lines"]
    info = run([KUBELOG, "info", out, "--json"], tmp_path)
    (i,) = json.loads(info.stdout)["inputs"]
    assert i["accounting_ok"] is False
    text = run([KUBELOG, "info", out], tmp_path).stdout
    assert f"LOST {lost['lines']:,}" in text and "NOT BALANCED" in text


def test_block_that_fails_in_a_thread_is_lost_too(tmp_path, tiny_log, monkeypatch):
    """The same for blocks parsed by threads (inputs below the worker processes' size): the
    failing block's lines are lost and named, the other blocks are kept (the rest of the input
    was dropped as 'parser klog failed' and its lines counted as 'unaccounted (parser bug)')."""
    from kubelog.formats import klog
    from kubelog.engine import Options, ingest
    from kubelog.sources import lines

    monkeypatch.setattr(lines, "BLOCK", 64 << 10)
    real = klog.KlogParser.parse_chunk  # the block parser, run on the engine's threads

    def parse_chunk(self, ch, first_block):
        if ch.line_no[0] <= 1000 <= ch.line_no[-1]:
            raise OSError(5, "Input/output error")
        return real(self, ch, first_block)

    monkeypatch.setattr(klog.KlogParser, "parse_chunk", parse_chunk)
    run = ingest([tiny_log], tmp_path / "run", options=Options(threads=2, processes=False))
    (e,) = run.inputs
    (lost,) = e["lost"]
    assert lost["first_line"] <= 1000 < lost["first_line"] + lost["lines"] and lost["bytes"] is None
    assert e["lines_read"] == 2_000 and e["lost_lines"] == lost["lines"] < 2_000
    assert "unaccounted (parser bug)" not in e["counted"]
    assert e["lines_read"] == e["record_lines"] + e["continuation_lines"] + sum(e["counted"].values()) + e["lost_lines"]
    assert run.rows("requests") > 0 and max(run.table("requests", ["line_no"])["line_no"]) > 1000 + lost["lines"]


def test_a_parser_that_fails_on_a_whole_input_exits_8_naming_it(tmp_path, monkeypatch):
    """A parser that raises on a whole input (not by blocks) after accounting its lines loses the
    rows it had not written: the ingest said nothing with -q and exited 0 (an event count of 21
    digits did that to the object dumps, a progress count to the e2e and clusterloader2 logs). Now
    the input is one line on stderr and the exit is 8; the run is written with what was parsed."""
    from typer.testing import CliRunner

    from kubelog.cli import app
    from kubelog.formats import e2e

    log = tmp_path / "e2e.log"
    log.write_text(
        "Mar  3 03:12:49.610: INFO: Density Pods: 2994 out of 3000 created, 2994 running, 6 pending, "
        "0 waiting, 0 inactive, 0 terminating, 0 unknown, 0 runningButNotReady\n"
    )

    def broken(*a, **k):
        raise OverflowError("Python int too large to convert to C long")

    monkeypatch.setattr(e2e._Parser, "flush", broken)
    out = tmp_path / "run"
    r = CliRunner().invoke(app, ["ingest", str(log), "--out", str(out), "-q", "--threads", "1"])
    assert r.exit_code == 8, r.output
    (line,) = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert line.startswith(f"{log}:") and "parser e2e-log failed: OverflowError" in line
    e = manifest_entry(out)
    assert e["parse_complete"] is False
    r = CliRunner().invoke(app, ["ingest", str(log), "--out", str(tmp_path / "run2"), "--threads", "1"])
    assert r.exit_code == 8 and "1 not read, not to the end or not wholly parsed (exit 8)" in r.stderr


@pytest.mark.parametrize(
    "name,text,table",
    [
        (
            "ev.json",
            '{"apiVersion":"v1","kind":"EventList","items":[{"apiVersion":"v1","kind":"Event","metadata":'
            '{"name":"p.1","namespace":"ns","creationTimestamp":"2024-01-01T00:00:00Z"},"involvedObject":{"kind":"Pod",'
            '"name":"p","namespace":"ns"},"reason":"Started","message":"x","count":123456789012345678901,'
            '"firstTimestamp":"2024-01-01T00:00:00Z","lastTimestamp":"2024-01-01T00:00:00Z","source":{"component":'
            '"kubelet","host":"n1"},"type":"Normal"}]}\n',
            "events",
        ),
        (
            "e2e.log",
            "Mar  3 03:12:49.610: INFO: Density Pods: 2994 out of 3000 created, 99999999999999999999999 "
            "running, 6 pending, 0 waiting, 0 inactive, 0 terminating, 0 unknown, 0 runningButNotReady\n",
            "test_log",
        ),
        (
            "cl2.log",
            "I0314 18:02:15.219771   28734 wait_for_pods.go:140] WaitForControlledPodsRunning: namespace(t-2), "
            "labelSelector(name=small-rc-0): Pods: 3 out of 3 created, 99999999999999999999999 running, 0 pending "
            "scheduled, 0 not scheduled, 0 inactive, 0 terminating, 0 unknown, 0 runningButNotReady\n",
            "messages",
        ),
    ],
)
def test_a_count_no_int64_holds_is_not_a_parser_failure(tmp_path, name, text, table):
    """A count of 21-23 digits made the input's parser fail (OverflowError): its rows were lost
    and the ingest exited 0. Such a count is as wrong as a string: the event is kept with the
    count rule's fallback, the line that is no longer a progress line is kept as a log line."""
    from kubelog.engine import Options, ingest, not_read

    p = tmp_path / name
    p.write_text(text)
    run = ingest([p], tmp_path / "run", options=Options(threads=1, processes=False))
    (e,) = run.inputs
    assert not not_read(run.inputs) and not e["errors"], e["errors"]
    assert e["record_lines"] == 1 and run.rows(table) == 1


def test_unaccounted_or_lost_lines_never_balance():
    """`kubelog info` and the report called an input balanced when its lines were counted as
    'unaccounted (parser bug)' (the equation holds: they are counted)."""
    from kubelog.info import balanced

    e = {"lines_read": 10, "record_lines": 4, "continuation_lines": 1, "counted": {"shell prompt": 5}}
    assert balanced(e)
    assert not balanced(dict(e, counted={"unaccounted (parser bug)": 5}))
    assert not balanced(dict(e, counted={}, lost_lines=5))


def test_folder_named_kubelog_in_the_current_directory(tmp_path, big_log):
    """Run from a directory holding a folder named kubelog (as the parent of a clone does): the
    worker processes imported it (ImportError) and the ingest exited 0 with lines missing."""
    (tmp_path / "kubelog").mkdir()
    (tmp_path / "kubelog" / "__init__.py").write_text("")
    out = tmp_path / "run"
    r = run([KUBELOG, "ingest", big_log, "--out", out, "-q"], tmp_path)
    assert r.returncode == 0, r.stderr
    e = manifest_entry(out)
    assert e["lines_read"] == 170_000 and not e["errors"] and not e["lost_lines"]
    assert e["lines_read"] == e["record_lines"] + e["continuation_lines"] + sum(e["counted"].values())
    assert e["bytes"] == big_log.stat().st_size  # the whole file was hashed, not its first 64 KiB


def test_worker_imports_kubelog_from_where_the_parent_did(tmp_path, monkeypatch):
    """The fork server's environment drops the current directory from sys.path and names the
    directory this kubelog came from."""
    from kubelog.engine import pool as workers

    monkeypatch.chdir(tmp_path)
    env = workers._import_env()
    assert env["PYTHONSAFEPATH"] == "1"
    root = workers._kubelog_root()
    assert (Path(root) / "kubelog" / "engine" / "pool.py").is_file()
    code = "import kubelog, os; print(os.path.dirname(os.path.dirname(kubelog.__file__)))"
    (tmp_path / "kubelog").mkdir()
    (tmp_path / "kubelog" / "__init__.py").write_text("")
    r = subprocess.run(
        [sys.executable, "-c", code], env=dict(os.environ, **env), cwd=tmp_path, capture_output=True, text=True
    )
    assert r.stdout.strip() == root, r.stderr


# -- signals -------------------------------------------------------------------------------------


def test_sigterm_mid_run_cleans_up_like_ctrl_c(tmp_path, small_log):
    """SIGTERM: exit 143, no run directory, no temporary directory, the workers gone (the
    temporary directory and four workers stayed)."""
    out = tmp_path / "run"
    p, worker = start_paused(tmp_path, small_log, out)
    try:
        p.send_signal(signal.SIGTERM)
        resume(tmp_path)  # the ingest waits for the blocks being parsed, then cleans up
        _, err = p.communicate(timeout=60)
        assert p.returncode == 143, err
        assert "terminated" in one_line(err)
        assert not out.exists() and not leftovers(tmp_path)
        assert not all_gone(p.pid)
    finally:
        _kill_left(p.pid)


def test_sigkill_mid_run_leaves_no_worker_and_the_next_run_cleans_up(tmp_path, small_log):
    """SIGKILL: the workers exit with their parent (they waited for work forever); the temporary
    directory left behind is removed by the next ingest into the same directory, whose name and
    marker file say whose it was."""
    out = tmp_path / "run"
    p, worker = start_paused(tmp_path, small_log, out)
    try:
        p.kill()
        p.communicate(timeout=60)
        assert not all_gone(p.pid), "worker processes left running after their parent was killed"
        assert leftovers(tmp_path) == [f".run.tmp-{p.pid}"]
        r = run([KUBELOG, "ingest", small_log, "--out", tmp_path / "other", "-q"], tmp_path)
        assert r.returncode == 0, r.stderr
        assert not leftovers(tmp_path)
    finally:
        _kill_left(p.pid)


def test_stale_temporary_directories_only_kubelogs_of_dead_processes(tmp_path):
    from kubelog import run as runmod

    live = tmp_path / f".a.tmp-{os.getpid()}"
    dead_pid = 2**22 + 12345  # above the default pid_max: no such process
    dead = tmp_path / f".b.tmp-{dead_pid}"
    foreign = tmp_path / f".c.tmp-{dead_pid}"  # the name, but no marker: not kubelog's
    for d in (live, dead, foreign):
        d.mkdir()
    (live / runmod.TMP_MARKER).write_text(f"{os.getpid()}\n")
    (dead / runmod.TMP_MARKER).write_text(f"{dead_pid} 1\n")
    (foreign / "mine.txt").write_text("x")
    assert runmod.remove_leftovers(tmp_path) == [dead]
    assert live.is_dir() and foreign.is_dir() and not dead.exists()


# -- the output directory ------------------------------------------------------------------------


def test_force_refuses_a_directory_that_is_not_a_run(tmp_path, tiny_log):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    r = run([KUBELOG, "ingest", tiny_log, "--out", mine, "--force", "-q"], tmp_path)
    assert r.returncode == 2 and "not" in one_line(r.stderr) and str(mine) in r.stderr
    assert (mine / "notes.txt").read_text() == "keep me"
    # a run it wrote is replaced; once a file of the user's is in it, it is not
    run_dir = tmp_path / "run"
    assert run([KUBELOG, "ingest", tiny_log, "--out", run_dir, "-q"], tmp_path).returncode == 0
    assert run([KUBELOG, "ingest", tiny_log, "--out", run_dir, "--force", "-q"], tmp_path).returncode == 0
    (run_dir / "requests" / "my-notes.txt").write_text("keep me")
    r = run([KUBELOG, "ingest", tiny_log, "--out", run_dir, "--force", "-q"], tmp_path)
    assert r.returncode == 2 and "my-notes.txt" in one_line(r.stderr)
    assert (run_dir / "requests" / "my-notes.txt").is_file()


def test_output_and_input_may_not_overlap(tmp_path, tiny_log):
    logs = tmp_path / "logs"
    logs.mkdir()
    shutil.copy(tiny_log, logs / "a.log")
    for out in (logs, logs / "run"):
        r = run([KUBELOG, "ingest", logs, "--out", out, "--force", "-q"], tmp_path)
        assert r.returncode == 2, r.stderr
        assert "inside" in one_line(r.stderr)
        assert (logs / "a.log").stat().st_size == tiny_log.stat().st_size
    r = run([KUBELOG, "ingest", tmp_path / "logs" / "a.log", "--out", tmp_path, "--force", "-q"], tmp_path)
    assert r.returncode == 2 and "inside the output" in one_line(r.stderr)
    assert sorted(p.name for p in logs.iterdir()) == ["a.log"]


def test_out_dot(tmp_path, tiny_log):
    """`--out .` in a directory of the user's: refused, one line each (it was a traceback)."""
    (tmp_path / "notes.txt").write_text("keep me")
    r = run([KUBELOG, "ingest", tiny_log, "--out", ".", "-q"], tmp_path)
    assert r.returncode == 4 and str(tmp_path) in one_line(r.stderr)
    r = run([KUBELOG, "ingest", tiny_log, "--out", ".", "--force", "-q"], tmp_path)
    assert r.returncode == 2 and str(tmp_path) in one_line(r.stderr)
    assert (tmp_path / "notes.txt").read_text() == "keep me"


def test_two_concurrent_ingests_to_the_same_output(tmp_path, small_log):
    """The second fails at once with exit 6 (both exited 0 and the first run was replaced)."""
    out = tmp_path / "run"
    p, worker = start_paused(tmp_path, small_log, out)
    try:
        r = run([KUBELOG, "ingest", small_log, "--out", out, "--force", "-q"], tmp_path)
        assert r.returncode == 6, r.stderr
        assert "another kubelog ingest" in one_line(r.stderr)
        resume(tmp_path)
        _, err = p.communicate(timeout=60)
        assert p.returncode == 0, err
        assert manifest_entry(out)["lines_read"] == N_SMALL
    finally:
        _kill_left(p.pid)


def _limited(limit: int):
    def pre():
        import resource

        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails (EFBIG)

    return pre


@pytest.mark.parametrize("where", ["main process", "worker processes"])
def test_disk_full(tmp_path, small_log, where):
    """A write that fails (the file size limit stands in for a full disk): exit 5, one line naming
    the file, no run directory and no temporary one (a 43-63 line traceback and exit 1)."""
    out = tmp_path / "run"
    cmd = (
        [KUBELOG, "ingest", small_log, "--out", out, "-q"]
        if where == "main process"
        else faulty("none", "ingest", small_log, "--out", out, "-q")
    )
    r = run(cmd, tmp_path, preexec_fn=_limited(60_000))
    assert r.returncode == 5, r.stderr
    assert "File too large" in one_line(r.stderr) and str(tmp_path) in r.stderr
    assert not out.exists() and not leftovers(tmp_path)


def _unshare_works() -> bool:
    return (
        shutil.which("unshare") is not None
        and subprocess.run(["unshare", "-rm", "true"], capture_output=True).returncode == 0
    )


def test_read_only_output_parent(tmp_path, tiny_log):
    """A read-only place for the run: exit 5, one line naming it."""
    ro = tmp_path / "ro"
    ro.mkdir()
    out = ro / "run"
    if os.geteuid() != 0:
        ro.chmod(0o555)
        cmd = [KUBELOG, "ingest", tiny_log, "--out", out, "-q"]
    elif _unshare_works():  # root ignores permissions: a read-only mount in a mount namespace
        script = f'mount -t tmpfs tmpfs "{ro}" && mount -o remount,ro "{ro}" && exec "$@"'
        cmd = ["unshare", "-rm", "sh", "-c", script, "sh", KUBELOG, "ingest", tiny_log, "--out", out, "-q"]
    else:
        pytest.skip("root without unshare: no way to make a directory read-only")
    try:
        r = run(cmd, tmp_path)
    finally:
        ro.chmod(0o755)
    assert r.returncode == 5, r.stderr
    line = one_line(r.stderr)
    assert str(ro) in line and ("Read-only" in line or "Permission denied" in line)
    assert not out.exists()


# -- property: never exit 0 with lines missing ---------------------------------------------------


@pytest.mark.slow
@settings(
    max_examples=5,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(kind=st.sampled_from(["kill", "eio", "none"]), at=st.floats(0, 1, exclude_max=True))
def test_any_fault_fails_the_run_or_is_named_in_its_accounting(tmp_path_factory, small_log, kind, at):
    """For a worker killed or an I/O error at a random block: either a failed run (exit 7, no run
    directory), or a run whose accounting names every line not parsed (lost ranges, in the file),
    with exit 8 and one line naming the file when there are any, exit 0 only when there are none."""
    d = tmp_path_factory.mktemp("prop")
    out = d / "run"
    byte = int(at * small_log.stat().st_size)
    r = run(faulty(f"{kind}@{byte}", "ingest", small_log, "--out", out, "-q"), d)
    assert not leftovers(d)
    if r.returncode not in (0, 8):
        one_line(r.stderr)
        assert not out.exists()
        return
    e = manifest_entry(out)
    if r.returncode == 8:
        (line,) = [ln for ln in r.stderr.splitlines() if ln.strip()]
        assert line.startswith(f"{small_log}:") and e["lost"]
    else:
        assert not r.stderr.strip() and not e["lost"]
    assert e["lines_read"] == N_SMALL
    assert e["lines_read"] == e["record_lines"] + e["continuation_lines"] + sum(e["counted"].values()) + e["lost_lines"]
    assert "unaccounted (parser bug)" not in e["counted"]
    assert e["lost_lines"] == sum(x["lines"] for x in e["lost"])
    for x in e["lost"]:
        assert 1 <= x["first_line"] and x["first_line"] + x["lines"] - 1 <= N_SMALL
    if kind == "eio":
        assert any(x["bytes"][0] <= byte < x["bytes"][1] for x in e["lost"])
    else:
        assert kind == "none" and not e["lost"]
