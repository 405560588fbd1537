"""The ingest output as an fsspec URL (issue 19): a real S3 (moto's server, in a thread on a free port)
reached through s3fs.  An ingest to s3:// on a 2-worker LocalCluster gives the local run's tables; every
command that reads a run reads it from the URL; the commit protocol (kubelog.remote): manifest last, an
existing run refused without --force, --force deletes only what the replaced run's manifest lists, a
failed ingest deletes only its own parts, an incomplete prefix is refused in one line."""

from __future__ import annotations

import json
import os
import logging
import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

pytest.importorskip("s3fs")
moto_server = pytest.importorskip("moto.server")

from kubelog.cli import app  # noqa: E402
from kubelog.engine import Options, ingest  # noqa: E402
from kubelog.run import open_run  # noqa: E402

SAMPLES = Path(__file__).resolve().parent.parent / "sample_logs"
TIMINGS = {"ingest_seconds", "parse_seconds"}
BUCKET = "kubelog-test"


def _inputs(name: str) -> list[str]:
    return [str(p) for p in sorted((SAMPLES / name).iterdir()) if p.name != "truth.json"]


def _forget_filesystems() -> None:
    """kubelog's cache of URL -> filesystem (made before this module's S3 endpoint was set)."""
    try:
        from kubelog.remote import filesystem
    except ImportError:  # the code before URLs (the tests then fail on what they check)
        return
    filesystem.cache_clear()


@pytest.fixture(scope="module")
def s3():
    """A moto S3 server on a free port, and the environment that points fsspec (and the Dask workers
    started after it) at it: fsspec's own FSSPEC_S3_ENDPOINT_URL, AWS_* for the credentials."""
    import fsspec

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's server logs every request
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    env = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "FSSPEC_S3_ENDPOINT_URL": endpoint,
    }
    mp = pytest.MonkeyPatch()
    for k, v in env.items():
        mp.setenv(k, v)
    mp.setitem(fsspec.config.conf, "s3", {"endpoint_url": endpoint})  # fsspec read its env at import
    _forget_filesystems()
    fs = fsspec.filesystem("s3", skip_instance_cache=True)
    fs.mkdir(BUCKET)
    try:
        yield fs
    finally:
        _forget_filesystems()
        mp.undo()
        server.stop()


@pytest.fixture(scope="module")
def cluster(s3):
    """A 2-worker LocalCluster (processes), started after the S3 environment: its address."""
    from kubelog.analysis.distributed import client_for

    with client_for("local:2") as c:
        assert len(c.scheduler_info()["workers"]) == 2
        yield c.scheduler.address


@pytest.fixture(scope="module")
def healthy(s3, tmp_path_factory):
    """healthy-1.28 ingested locally and, in this process, to s3://…/healthy: (local run, URL)."""
    inputs = _inputs("healthy-1.28")
    local = ingest(inputs, tmp_path_factory.mktemp("local") / "healthy", options=Options())
    url = f"s3://{BUCKET}/runs/healthy"
    ingest(inputs, url, options=Options())
    return local, url


def _manifest(run) -> dict:
    m = {k: v for k, v in run.manifest.items() if k not in TIMINGS and k != "parts"}
    m["inputs"] = [{k: v for k, v in e.items() if k not in TIMINGS} for e in m["inputs"]]
    return m


def _untokened(rel: str) -> str:
    """``requests/part-00001-0000-<token>.parquet`` → ``requests/part-00001-0000.parquet``."""
    stem, token = rel[: -len(".parquet")].rsplit("-", 1)
    assert len(token) == 16
    return stem + ".parquet"


def assert_same_as_local(local, url: str, s3) -> None:
    """The run at ``url`` has the local run's manifest (timings and its list of parts aside), the
    same part files (named with the ingest's token) with the same rows, and nothing unlisted."""
    import pyarrow.parquet as pq

    run = open_run(url)
    assert _manifest(run) == _manifest(local)
    root = url[len("s3://") :]
    s3.invalidate_cache()
    objects = sorted(p[len(root) + 1 :] for p in s3.find(root))
    assert objects == sorted(run.manifest["parts"] + ["manifest.json"])
    local_parts = sorted(str(p.relative_to(local.path)) for p in Path(local.path).glob("*/part-*.parquet"))
    assert sorted(_untokened(p) for p in run.manifest["parts"]) == local_parts
    for rel in run.manifest["parts"]:
        a = pq.read_table(Path(local.path) / _untokened(rel))
        b = pq.read_table(f"{root}/{rel}", filesystem=s3)
        assert a.equals(b), rel
    for table in {p.split("/")[0] for p in local_parts}:
        assert run.arrow(table).equals(local.arrow(table)), table
        assert run.rows(table) == local.rows(table)


def test_ingest_to_s3_on_a_2_worker_cluster_gives_the_local_run(s3, cluster, tmp_path):
    """A multi-file run: every input a task on the Dask workers, which write its parts to S3."""
    inputs = _inputs("skew-timeout-1.14")
    assert len(inputs) > 3
    local = ingest(inputs, tmp_path / "a", options=Options())
    url = f"s3://{BUCKET}/runs/skew"
    r = CliRunner().invoke(app, ["ingest", *inputs, "--out", url, "--scheduler", cluster, "-q"])
    assert r.exit_code == 0, r.output
    assert r.stdout.strip() == url
    assert_same_as_local(local, url, s3)


def test_byte_ranges_of_a_large_log_written_to_s3_by_the_workers(s3, cluster, tmp_path, ranged_apiserver_log):
    """A large plain apiserver log: its byte ranges are Dask tasks, each writing its own parts to S3
    (the client rewrites those after a Dec→Jan rollover through the same file system)."""
    log = ranged_apiserver_log
    local = ingest([log], tmp_path / "a", options=Options())
    url = f"s3://{BUCKET}/runs/large"
    run = ingest([log], url, options=Options(scheduler=cluster))
    assert len([p for p in run.manifest["parts"] if "-L" in p]) >= 3
    assert_same_as_local(local, url, s3)


def test_audit_log_ranges_written_to_s3_by_the_workers(s3, cluster, tmp_path, monkeypatch):
    """A large plain audit log: its byte ranges are Dask tasks (engine.folds), each writing its own
    ``requests`` part to S3 through the run's file system, as a large klog log's do."""
    from test_engine_folds import _audit_log

    from kubelog.engine import blocks
    from kubelog.formats import audit as A

    monkeypatch.setattr(A, "READ", 4 << 10)
    monkeypatch.setattr(blocks, "PROCESS_MIN_BYTES", 1)
    (tmp_path / "audit.log").write_bytes(_audit_log())
    local = ingest([tmp_path / "audit.log"], tmp_path / "a", options=Options())
    url = f"s3://{BUCKET}/runs/audit-ranges"
    run = ingest([tmp_path / "audit.log"], url, options=Options(scheduler=cluster))
    assert len([p for p in run.manifest["parts"] if "-L" in p]) >= 3
    assert_same_as_local(local, url, s3)


@pytest.mark.parametrize(
    "args",
    [
        ["latency"],
        ["latency", "--by-load"],
        ["latency", "--by", "verb,user"],
        ["pods"],
        ["slo"],
        ["load"],
        ["skew"],
        ["specs"],
        ["diagnose"],
        ["summaries"],
    ],
    ids=lambda a: "-".join(a),
)
def test_commands_read_the_run_at_the_url(healthy, args):
    local, url = healthy
    a = CliRunner().invoke(app, [args[0], str(local.path), *args[1:], "-F", "csv"])
    b = CliRunner().invoke(app, [args[0], url, *args[1:], "-F", "csv"])
    assert a.exit_code == 0, a.output
    assert b.exit_code == 0, b.output
    assert b.stdout == a.stdout


@pytest.mark.slow  # ~8-10 s on the loaded 2-core machine
def test_info_and_report_read_the_run_at_the_url(healthy, tmp_path):
    local, url = healthy
    a = CliRunner().invoke(app, ["info", str(local.path), "-F", "json"])
    b = CliRunner().invoke(app, ["info", url, "-F", "json"])
    assert a.exit_code == b.exit_code == 0, b.output
    ja, jb = json.loads(a.stdout), json.loads(b.stdout)
    assert jb["tables"] == ja["tables"]  # rows and time ranges, from the listed parts' metadata
    assert [e["sha256"] for e in jb["inputs"]] == [e["sha256"] for e in ja["inputs"]]
    r = CliRunner().invoke(app, ["report", url, "--out", str(tmp_path / "rep"), "--no-pdf", "-q"])
    assert r.exit_code == 0, r.output
    assert "kubelog report — healthy" in (tmp_path / "rep" / "report.html").read_text()


def test_compare_reads_runs_at_urls_and_file_urls_of_run_directories(healthy):
    local, url = healthy
    a = CliRunner().invoke(app, ["compare", str(local.path), str(local.path), "-F", "csv"])
    b = CliRunner().invoke(app, ["compare", url, f"file://{local.path}", "-F", "csv"])
    assert a.exit_code == b.exit_code == 0, b.output
    assert b.stdout == a.stdout


@pytest.mark.slow  # ~8-10 s on the loaded 2-core machine
def test_latency_on_dask_from_the_url_equals_pandas(healthy, cluster):
    """`latency` and `--by-load` with --scheduler: the workers read the listed parts from S3."""
    local, url = healthy
    for extra in ([], ["--by-load"]):
        a = CliRunner().invoke(app, ["latency", str(local.path), "-F", "csv", *extra])
        b = CliRunner().invoke(app, ["latency", url, "-F", "csv", "--scheduler", cluster, *extra])
        assert a.exit_code == b.exit_code == 0, b.output
        assert b.stdout == a.stdout


def test_an_existing_run_is_refused_without_force(healthy, s3):
    _, url = healthy
    root = url[len("s3://") :]
    s3.invalidate_cache()
    before = {p: s3.info(p)["ETag"] for p in s3.find(root)}
    assert f"{root}/manifest.json" in before and len(before) > 5  # the run the fixture wrote is there
    r = CliRunner().invoke(app, ["ingest", *_inputs("healthy-1.28"), "--out", url, "-q"])
    assert r.exit_code == 4
    assert r.stderr.strip().count("\n") == 0 and "use --force" in r.stderr
    s3.invalidate_cache()
    assert {p: s3.info(p)["ETag"] for p in s3.find(root)} == before


def test_force_deletes_only_what_the_replaced_run_listed(s3, healthy):
    """Objects kubelog did not write under the prefix (one even named like a part) stay, whatever
    --force does; --force over a run deletes that run's listed parts once the new manifest is in."""
    local, _ = healthy
    url = f"s3://{BUCKET}/runs/shared"
    root = url[len("s3://") :]
    foreign = {f"{root}/notes.txt": b"mine", f"{root}/requests/part-00000-0000.parquet": b"not kubelog's"}
    for p, data in foreign.items():
        s3.pipe_file(p, data)
    inputs = _inputs("healthy-1.28")
    r = CliRunner().invoke(app, ["ingest", *inputs, "--out", url, "-q"])
    assert r.exit_code == 4 and "holds objects but no manifest.json" in r.stderr
    r = CliRunner().invoke(app, ["ingest", *inputs, "--out", url, "--force", "-q"])
    assert r.exit_code == 0, r.output
    first = open_run(url).manifest["parts"]
    r = CliRunner().invoke(app, ["ingest", *inputs, "--out", url, "--force", "-q"])
    assert r.exit_code == 0, r.output
    run = open_run(url)
    assert not set(first) & set(run.manifest["parts"])
    s3.invalidate_cache()
    left = set(s3.find(root))
    assert left == set(foreign) | {f"{root}/{p}" for p in run.manifest["parts"]} | {f"{root}/manifest.json"}
    for p, data in foreign.items():
        assert s3.cat_file(p) == data
    assert run.arrow("requests").equals(local.arrow("requests"))  # the look-alike part is not read


def test_a_foreign_manifest_is_not_replaced(s3):
    url = f"s3://{BUCKET}/runs/foreign-manifest"
    s3.pipe_file(f"{url[5:]}/manifest.json", b'{"mine": true}')
    r = CliRunner().invoke(app, ["ingest", *_inputs("healthy-1.28"), "--out", url, "--force", "-q"])
    assert r.exit_code == 2 and "was not written by kubelog" in r.stderr
    assert s3.cat_file(f"{url[5:]}/manifest.json") == b'{"mine": true}'


def test_a_failed_ingest_leaves_no_manifest_and_deletes_its_own_parts(s3, healthy, monkeypatch):
    """The third input fails the run (an output error) after the first two wrote parts: no manifest,
    none of its parts; a foreign object stays; over an existing run (--force) the old run is intact."""
    from kubelog.engine import core
    from kubelog.errors import OutputError

    parse_one, calls, seen = core.parse_one, [], {}

    def failing(op, s, opts, tmp):
        calls.append(s.display)
        if len(calls) == 3:
            seen["parts"] = tmp.own_parts()
            raise OutputError(f"{s.display}: injected failure")
        return parse_one(op, s, opts, tmp)

    monkeypatch.setattr(core, "parse_one", failing)
    inputs = _inputs("healthy-1.28")
    url = f"s3://{BUCKET}/runs/failed"
    root = url[len("s3://") :]
    s3.pipe_file(f"{root}/keep.txt", b"x")
    with pytest.raises(OutputError, match="injected"):
        ingest(inputs, url, force=True)
    assert len(seen["parts"]) >= 2  # it had written parts
    s3.invalidate_cache()
    assert s3.find(root) == [f"{root}/keep.txt"]
    # over an existing run: the failed --force leaves it whole and readable
    _, good = healthy
    before = open_run(good).manifest
    calls.clear()
    with pytest.raises(OutputError, match="injected"):
        ingest(inputs, good, force=True)
    s3.invalidate_cache()
    groot = good[len("s3://") :]
    assert sorted(s3.find(groot)) == sorted([f"{groot}/{p}" for p in before["parts"]] + [f"{groot}/manifest.json"])
    assert open_run(good).manifest == before


def test_an_incomplete_prefix_is_refused_in_one_line(s3):
    url = f"s3://{BUCKET}/runs/incomplete"
    s3.pipe_file(f"{url[5:]}/requests/part-00000-0000-0123456789abcdef.parquet", b"x")
    for cmd in (["latency", url], ["info", url], ["latency", url, "--by-load"]):
        r = CliRunner().invoke(app, cmd)
        assert r.exit_code == 3, r.output
        assert r.stderr.strip().count("\n") == 0
        assert "an incomplete kubelog run" in r.stderr and url in r.stderr
    r = CliRunner().invoke(app, ["latency", f"s3://{BUCKET}/runs/nothing-here"])
    assert r.exit_code == 3 and "is not a kubelog run (no manifest.json)" in r.stderr


def test_a_retried_task_removes_its_own_parts_only(s3):
    """What a lost worker's attempt wrote of a task's inputs (this ingest's token) goes first."""
    from kubelog import remote
    from kubelog.engine import executors

    rr = remote.RemoteRun(f"s3://{BUCKET}/runs/retry", "0123456789abcdef")
    other = "fedcba9876543210"
    names = [
        f"requests/part-00001-0000-{rr.token}.parquet",
        f"requests/part-00001-L000000000001-{rr.token}.parquet",
        f"messages/part-00010-0000-{rr.token}.parquet",
        f"requests/part-00002-0000-{rr.token}.parquet",
        f"requests/part-00001-0000-{other}.parquet",
        "requests/part-00001-0000.parquet",
    ]
    for n in names:
        s3.pipe_file(f"{rr.root}/{n}", b"x")
    executors.remove_parts_of(rr, {1, 10})
    s3.invalidate_cache()
    assert sorted(p[len(rr.root) + 1 :] for p in s3.find(rr.root)) == sorted(names[3:])


def test_a_protocol_without_its_package_is_one_line(tmp_path):
    pytest.importorskip("fsspec")
    try:
        import gcsfs  # noqa: F401

        pytest.skip("gcsfs is installed")
    except ImportError:
        pass
    r = CliRunner().invoke(app, ["latency", "gcs://bucket/run"])
    assert r.exit_code == 2 and r.stderr.strip().count("\n") == 0
    assert "kubelog[s3]" in r.stderr
    r = CliRunner().invoke(app, ["ingest", *_inputs("healthy-1.28"), "--out", "gcs://bucket/run", "-q"])
    assert r.exit_code == 2 and "kubelog[s3]" in r.stderr


def test_each_run_store_at_a_url_is_refused(tmp_path):
    r = CliRunner().invoke(app, ["ingest", "--each-run", str(SAMPLES), "--out", f"s3://{BUCKET}/store", "-q"])
    assert r.exit_code == 2 and r.stderr.strip().count("\n") == 0 and "not a URL" in r.stderr


def test_a_commit_by_another_ingest_meanwhile_fails_this_one(s3, monkeypatch):
    """No lock at a URL: when manifest.json changed while this ingest ran (another ingest committed),
    this one does not overwrite it (exit 6) and deletes its own parts; the other's manifest stays."""
    from kubelog.engine import core
    from kubelog.errors import OutputBusy

    url = f"s3://{BUCKET}/runs/raced"
    root = url[len("s3://") :]
    parse_one = core.parse_one
    theirs = b'{"the other ingest": true}'

    def racing(op, s, opts, tmp):
        s3.pipe_file(f"{root}/manifest.json", theirs)
        return parse_one(op, s, opts, tmp)

    monkeypatch.setattr(core, "parse_one", racing)
    with pytest.raises(OutputBusy, match="another ingest wrote manifest.json while this one ran"):
        ingest(_inputs("healthy-1.28"), url)
    s3.invalidate_cache()
    assert s3.find(root) == [f"{root}/manifest.json"] and s3.cat_file(f"{root}/manifest.json") == theirs


def test_a_missing_bucket_is_one_line_and_not_created(s3):
    url = "s3://kubelog-no-such-bucket/runs/r"
    r = CliRunner().invoke(app, ["ingest", *_inputs("healthy-1.28"), "--out", url, "-q"])
    assert r.exit_code == 5, r.output
    assert r.stderr.strip().count("\n") == 0 and f"{url}: cannot write" in r.stderr
    s3.invalidate_cache()
    assert not s3.exists("kubelog-no-such-bucket")


def _die_marker(token: str) -> str:
    import tempfile

    return os.path.join(tempfile.gettempdir(), f"kubelog-test-died-{token}")


def _parse_then_die_once(args):
    """A whole-input task: the first attempt of one task (whichever creates the marker, named by the
    ingest's token) writes its parts to the URL and then kills its worker; the others run as usual."""
    ref, scans, opts, tmp = args
    try:
        os.close(os.open(_die_marker(tmp.token), os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return _PARSE_REF_TASK(args)
    from kubelog.engine import core

    core.parse_ref(ref, scans, opts, tmp)
    os._exit(1)


def _original_task():
    from kubelog.engine import core

    return core._parse_ref_task


_PARSE_REF_TASK = _original_task()


def test_a_worker_lost_mid_task_is_retried_without_duplicate_parts(s3, cluster, tmp_path, monkeypatch):
    """One task writes its parts to S3, then its worker dies; Dask runs it again on a worker, which
    first deletes those parts (this ingest's token): the run is the local one, no part twice."""
    from kubelog.engine import core

    monkeypatch.setattr(core, "_parse_ref_task", _parse_then_die_once)
    inputs = _inputs("healthy-1.28")
    local = ingest(inputs, tmp_path / "a", options=Options())
    url = f"s3://{BUCKET}/runs/retried"
    run = ingest(inputs, url, options=Options(scheduler=cluster))
    token = run.manifest["parts"][0].rsplit("-", 1)[1].split(".")[0]
    assert os.path.exists(_die_marker(token))  # a worker died
    os.unlink(_die_marker(token))
    assert_same_as_local(local, url, s3)
