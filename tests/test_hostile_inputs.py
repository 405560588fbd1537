"""Issue 17, the input side: what kubelog keeps and what it says when inputs are damaged, nested,
unreadable, hostile or huge.  Every input is built here (tmp_path), small."""

import gzip
import io
import json
import os
import struct
import tarfile
import zipfile

from typer.testing import CliRunner

from kubelog import sources
from kubelog.cli import app
from kubelog.engine import ingest

GOOD = (
    'I0620 12:33:17.389016      11 httplog.go:132] "HTTP" verb="GET" URI="/api/v1/nodes/n1" latency="1.5ms" '
    'userAgent="kubelet/v1.30.2" audit-ID="a" srcIP="10.0.0.1:1" resp=200\n'
)


def _beside(tmp_path):
    """A run directory beside the input directory ``tmp_path`` (an output inside an input is refused)."""
    return tmp_path.with_name(tmp_path.name + "-run")


def acc(e):
    return e["lines_read"] == e["record_lines"] + e["continuation_lines"] + sum(e["counted"].values())


def by_name(run, suffix):
    return next(e for e in run.inputs if e["path"].endswith(suffix))


def cli(*args):
    r = CliRunner().invoke(app, [str(a) for a in args])
    return r.exit_code, r.stdout, r.stderr


# -- 8: markdown and CSV output of log text ----------------------------------------------------------

HOSTILE_URI = "/api/v1/=HYPERLINK(1)<img src=x onerror=alert(1)>|x"


def test_markdown_escapes_html_and_csv_neutralises_formulas(tmp_path):
    line = GOOD.replace("/api/v1/nodes/n1", HOSTILE_URI)
    line2 = GOOD.replace("/api/v1/nodes/n1", "/api/v1/@SUM(1)")
    (tmp_path / "a.log").write_text(line + line2)
    code, _, _ = cli("ingest", tmp_path / "a.log", "--out", tmp_path / "r", "-q")
    assert code == 0
    code, md, _ = cli("latency", tmp_path / "r", "--format", "markdown")
    assert code == 0
    assert "<img" not in md and "&lt;img src=x onerror=alert(1)>" in md
    row = next(l for l in md.splitlines() if "HYPERLINK" in l)
    assert row.count(" | ") == 7 and "\\|x" in row  # the pipe in the data opens no cell
    code, csv, _ = cli("latency", tmp_path / "r", "--format", "csv")
    assert code == 0
    cells = [l.split(",")[1] for l in csv.splitlines()[1:]]
    assert sorted(cells) == sorted(["'=HYPERLINK(1)<img src=x onerror=alert(1)>|x", "'@SUM(1)"])
    assert all(not c.startswith(("=", "+", "-", "@")) for c in cells)


def test_render_rules_in_one_place():
    import pandas as pd
    from kubelog.output import render

    df = pd.DataFrame({"t": ["=1+1", "+1", "-cmd", "@x", "\tx", "ok", "a\nb<b>&"], "n": [-1.5] * 7})
    import csv

    rows = list(csv.reader(io.StringIO(render(df, "csv"), newline="")))
    assert [r[0] for r in rows[1:]] == ["'=1+1", "'+1", "'-cmd", "'@x", "'\tx", "ok", "a\nb<b>&"]
    assert "\n'\rx," in render(pd.DataFrame({"t": ["\rx"], "n": [1]}), "csv")
    assert {r[1] for r in rows[1:]} == {"-1.5"}  # numbers unchanged
    md = render(df, "markdown")
    assert "| a b&lt;b>&amp; | -1.5 |" in md


# -- 1: NUL bytes at the start of a text file --------------------------------------------------------


def test_leading_nul_bytes_keep_the_text(tmp_path):
    # a pre-allocated / copytruncated file: a hole of NULs, then text; a NUL-only line further on
    data = b"\0" * 20000 + GOOD.encode() * 2 + b"\0" * 100 + b"\n" + GOOD.encode()
    (tmp_path / "kube-apiserver.log").write_bytes(data)
    (tmp_path / "real-binary.bin").write_bytes(b"\x00\x01\x02\x03" * 1000)
    run = ingest([tmp_path], _beside(tmp_path))
    e = by_name(run, "kube-apiserver.log")
    assert e["format"] == "klog" and e["rows"]["requests"] == 3, e
    assert e["lines_read"] == 4 and acc(e)
    assert e["info"]["nul_bytes"] == 20100 and e["info"]["nul_lines"] == 2
    assert any("kube-apiserver.log:1: 20,100 NUL bytes removed from 2 line(s)" in x for x in e["errors"]), e["errors"]
    assert e["bytes"] == len(data)  # hashed as it is on disk
    b = by_name(run, "real-binary.bin")
    assert b["format"] == "binary" and acc(b)


# -- 3: archives in archives -------------------------------------------------------------------------


def _tar(members: dict, gz: bool = False) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz" if gz else "w") as tf:
        for name, data in members.items():
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            tf.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


def _zip(members: dict) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def test_nested_archives_are_read_to_the_stated_depth(tmp_path):
    g = GOOD.encode()
    (tmp_path / "tar-in-tar.tar").write_bytes(_tar({"inner.tar": _tar({"a.log": g})}))
    (tmp_path / "tgz-in-tgz.tgz").write_bytes(_tar({"inner.tgz": _tar({"b.log": g * 2}, gz=True)}, gz=True))
    (tmp_path / "zip-in-tar.tar").write_bytes(_tar({"inner.zip": _zip({"c.log": g * 3})}))
    (tmp_path / "tar-in-zip.zip").write_bytes(_zip({"inner.tar": _tar({"d.log": g * 4})}))
    (tmp_path / "gz-in-gz.log.gz.gz").write_bytes(gzip.compress(gzip.compress(g * 5)))
    deep = _tar({"l4.log": g})  # level 4: not opened
    for lvl in (3, 2, 1):
        deep = _tar({f"l{lvl}.tar": deep})
    (tmp_path / "deep.tar").write_bytes(deep)
    (tmp_path / "five-gz.log.gz").write_bytes(gzip.compress(gzip.compress(gzip.compress(gzip.compress(g)))))
    run = ingest([tmp_path], _beside(tmp_path))
    rows = {e["path"].split(str(tmp_path) + "/")[1]: e["rows"].get("requests") for e in run.inputs}
    assert rows["tar-in-tar.tar!inner.tar!a.log"] == 1
    assert rows["tgz-in-tgz.tgz!inner.tgz!b.log"] == 2
    assert rows["zip-in-tar.tar!inner.zip!c.log"] == 3
    assert rows["tar-in-zip.zip!inner.tar!d.log"] == 4
    assert rows["gz-in-gz.log.gz.gz"] == 5
    assert by_name(run, "inner.zip!c.log")["container"] == "tar/zip"
    assert sources.MAX_NESTING == 3
    d = by_name(run, "deep.tar!l1.tar!l2.tar!l3.tar")
    assert d["format"] == "error" and "nested more than 3 levels deep: not read" in d["errors"][0]
    f = by_name(run, "five-gz.log.gz")
    assert f["format"] == "error" and "more than 3 compression layers" in f["errors"][0]
    for e in run.inputs:
        assert e["format"] != "binary" and acc(e), e


# -- 4: unreadable files and directories --------------------------------------------------------------


def test_unreadable_file_and_directory_are_named_and_skipped(tmp_path, monkeypatch):
    d = tmp_path / "in"
    (d / "locked").mkdir(parents=True)
    (d / "locked" / "x.log").write_text(GOOD)
    (d / "ok.log").write_text(GOOD)
    (d / "noread.log").write_text(GOOD)
    os.chmod(d / "locked", 0)
    os.chmod(d / "noread.log", 0)
    if os.geteuid() == 0:  # root reads anything: the same refusals, injected
        real_scandir, real_open = os.scandir, open

        def scandir(p="."):
            if os.fspath(p).endswith("locked"):
                raise PermissionError(13, "Permission denied", os.fspath(p))
            return real_scandir(p)

        def fake_open(p, *a, **k):
            if os.fspath(p).endswith("noread.log"):
                raise PermissionError(13, "Permission denied", os.fspath(p))
            return real_open(p, *a, **k)

        monkeypatch.setattr(os, "scandir", scandir)
        monkeypatch.setattr(sources, "open", fake_open, raising=False)
    try:
        code, out, err = cli("ingest", d, "--out", tmp_path / "run", "-q")
        # nothing readable at all: exit 3, as before
        code3, _, err3 = cli("ingest", d / "locked", "--out", tmp_path / "run2", "-q")
    finally:
        os.chmod(d / "locked", 0o755)
        os.chmod(d / "noread.log", 0o644)
    assert code3 == 3 and f"{d}/locked: unreadable directory (Permission denied): skipped" in err3
    assert code == 8, (code, err)
    lines = err.splitlines()
    assert f"{d}/locked: unreadable directory (Permission denied): skipped" in lines
    assert f"{d}/noread.log: cannot read (Permission denied): skipped" in lines
    from kubelog import open_run

    run = open_run(tmp_path / "run")
    assert by_name(run, "ok.log")["rows"]["requests"] == 1
    assert by_name(run, "/locked")["format"] == "error" and by_name(run, "noread.log")["format"] == "error"


# -- 5: lines over the line limit are said on stderr --------------------------------------------------


def test_overlong_line_is_said_on_stderr_with_file_and_line(tmp_path, monkeypatch):
    from kubelog.sources import lines as L

    monkeypatch.setattr(L, "MAX_LINE", 10 << 10)
    (tmp_path / "a.log").write_bytes(
        GOOD.encode() + b"I0620 12:33:18.000000 1 x.go:1] " + b"y" * (20 << 10) + b"\n" + GOOD.encode()
    )
    code, _, err = cli("ingest", tmp_path / "a.log", "--out", tmp_path / "run")
    assert code == 0
    assert f"{tmp_path}/a.log:2: 1 line(s) longer than" in err, err
    from kubelog import open_run

    run = open_run(tmp_path / "run")
    e = run.inputs[0]
    assert e["counted"] == {"overlong line (> 32 MiB, skipped)": 1} and acc(e)
    ps = run.table("parse_stats")
    row = ps[ps.reason.str.startswith("overlong")].iloc[0]
    assert json.loads(row["examples"])[0]["line_no"] == 2


# -- 6: zip bombs: overlapping entries, and the cap over a whole archive ------------------------------


def _overlapping_zip(n: int, data: bytes) -> bytes:
    """One stored-once deflated member and ``n`` central-directory entries that all point at it."""
    one = _zip({"m00000.log": data})
    eocd = one.rindex(b"PK\x05\x06")
    cd_size, cd_off = struct.unpack("<II", one[eocd + 12 : eocd + 20])
    cd = one[cd_off : cd_off + cd_size]
    entries = b"".join(cd.replace(b"m00000.log", f"m{i:05d}.log".encode()) for i in range(n))
    tail = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, n, n, len(entries), cd_off, 0)
    return one[:cd_off] + entries + tail


def test_overlapping_zip_is_refused(tmp_path):
    z = _overlapping_zip(2000, GOOD.encode() * 300)
    assert len(z) < 200_000
    (tmp_path / "bomb.zip").write_bytes(z)
    (tmp_path / "ok.log").write_text(GOOD)
    run = ingest([tmp_path], _beside(tmp_path))
    b = by_name(run, "bomb.zip")
    assert b["format"] == "error" and "overlap" in b["errors"][0] and "zip bomb" in b["errors"][0]
    assert sum(e["lines_read"] for e in run.inputs) == 1


def test_decompression_cap_holds_for_the_whole_archive(tmp_path, monkeypatch):
    monkeypatch.setattr(sources, "MIN_BOMB_BYTES", 64 << 10)
    inner = gzip.compress(GOOD.encode() * 600, 9)  # ~130 KB from ~1 KB: under 200x on its own
    assert 100 * len(inner) < len(GOOD) * 600 < 200 * len(inner)
    arc = _tar({f"m{i:03d}.log.gz": inner for i in range(200)}, gz=True)  # 26 MB in all
    (tmp_path / "many.tgz").write_bytes(arc)
    run = ingest([tmp_path / "many.tgz"], tmp_path / "run")
    assert any("decompression bomb" in x and "many.tgz" in x for e in run.inputs for x in e["errors"])
    total = sum(e["lines_read"] for e in run.inputs)
    assert 0 < total < 200 * 600 / 4  # stopped early: the cap is 200x the archive's size in all
    # the members after the stop are not opened (the pre-scan stops there too): the archive's entry says so
    assert by_name(run, "many.tgz")["format"] == "error" and all(acc(e) for e in run.inputs)
    # a tgz of a plain log at 155x is no bomb: its bytes count once (the tar stream), not again as a member
    (tmp_path / "plain.tgz").write_bytes(_tar({"a.log": GOOD.encode() * 600}, gz=True))
    run = ingest([tmp_path / "plain.tgz"], tmp_path / "run2")
    assert run.inputs[0]["rows"]["requests"] == 600 and not run.inputs[0]["errors"]


# -- 7: symbolic links -------------------------------------------------------------------------------


def test_symlinks_are_not_followed(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("root:x:0:0:SECRET-LINE\n")
    d = tmp_path / "in"
    (d / "sub").mkdir(parents=True)
    (d / "ok.log").write_text(GOOD)
    (d / "passwd.log").symlink_to(secret)
    (d / "sub" / "again.log").symlink_to(d / "ok.log")
    (d / "outdir").symlink_to(tmp_path, target_is_directory=True)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        ti = tarfile.TarInfo("etc-passwd")
        ti.type, ti.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tf.addfile(ti)
    (d / "links.tar").write_bytes(buf.getvalue())
    zbuf = io.BytesIO()
    with zipfile.ZipFile(zbuf, "w") as zf:
        zi = zipfile.ZipInfo("link")
        zi.external_attr = 0o120777 << 16
        zf.writestr(zi, "/etc/passwd")
    (d / "links.zip").write_bytes(zbuf.getvalue())
    code, _, err = cli("ingest", d, "--out", tmp_path / "run", "-q")
    assert code == 0, err
    assert f"{d}/passwd.log: symbolic link to {secret}, outside the input tree: not followed" in err.splitlines()
    assert "links.tar!etc-passwd: symbolic link member to /etc/passwd: not followed" in err
    from kubelog import open_run

    run = open_run(tmp_path / "run")
    skipped = sorted(e["path"].removeprefix(str(d) + "/") for e in run.inputs if e["format"] == "skipped")
    assert skipped == ["links.tar!etc-passwd", "links.zip!link", "outdir", "passwd.log", "sub/again.log"]
    assert "inside the input tree" in by_name(run, "again.log")["errors"][0]
    assert sum(e["lines_read"] for e in run.inputs) == 1
    blob = (tmp_path / "run" / "manifest.json").read_text() + run.table("parse_stats").to_json()
    assert "SECRET" not in blob and "root:x" not in blob
    code, _, err = cli("ingest", d, "--out", tmp_path / "run2")  # not quiet: the same line among the others
    assert code == 0 and f"{d}/passwd.log: symbolic link to {secret}, outside the input tree: not followed" in err


# -- 2: a JSON list cut mid-array keeps its complete items --------------------------------------------


def _event(i):
    t = f"2024-01-01T00:00:{i:02d}Z"
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": f"e{i}", "namespace": "default", "creationTimestamp": t},
        "involvedObject": {"kind": "Pod", "name": f"p{i}"},
        "reason": "Scheduled",
        "message": "m",
        "source": {"component": "default-scheduler"},
        "firstTimestamp": t,
        "lastTimestamp": t,
        "count": 1,
        "type": "Normal",
    }


def test_truncated_json_list_keeps_complete_items(tmp_path):
    doc = {
        "apiVersion": "v1",
        "items": [_event(i) for i in range(90)],
        "kind": "List",
        "metadata": {"resourceVersion": ""},
    }
    pretty = json.dumps(doc, indent=4)  # kubectl get events -o json
    cut = pretty.index('"name": "e87"') + 6
    (tmp_path / "events.json").write_text(pretty[:cut])
    pods = {
        "kind": "PodList",
        "apiVersion": "v1",
        "metadata": {},
        "items": [
            {
                "metadata": {
                    "name": f"p{i}",
                    "namespace": "d",
                    "uid": f"u{i}",
                    "creationTimestamp": "2024-01-01T00:00:00Z",
                },
                "spec": {"containers": [{"name": "c"}], "nodeName": "n1"},
                "status": {"phase": "Running"},
            }
            for i in range(4)
        ],
    }
    compact = json.dumps(pods)  # one line, as the API answers
    (tmp_path / "pods.json").write_text(compact[: compact.index('"p3"')] + "\n")
    arr = json.dumps([_event(i) for i in range(3)], indent=2)
    (tmp_path / "array-events.json").write_text(arr[: arr.rindex("{") + 10])
    (tmp_path / "whole-one-line.json").write_text(json.dumps(doc))
    run = ingest([tmp_path], _beside(tmp_path))
    e = by_name(run, "/events.json")
    assert e["format"] == "objects" and e["rows"]["events"] == 87, e
    item_start = pretty[: pretty.index('"name": "e87"')].count("\n") + 1 - 4  # the line of its "{"
    total = pretty[:cut].count("\n") + 1
    assert e["lines_read"] == total
    assert e["counted"] == {"malformed JSON (truncated object)": total - item_start + 1}, e["counted"]
    assert e["record_lines"] == 87 and acc(e)
    assert any(":" in x and "87 complete list items before it kept" in x for x in e["errors"]), e["errors"]
    ps = run.table("parse_stats")
    ex = json.loads(ps[(ps.source_id == e["source_id"])].examples.iloc[0])[0]
    assert ex["line_no"] == item_start
    p = by_name(run, "pods.json")
    assert p["rows"]["pod_transitions"] == 3 and p["lines_read"] == 1 and p["record_lines"] == 1 and acc(p)
    assert p["counted"] == {}  # its one line holds the kept items: a record line
    a = by_name(run, "array-events.json")
    assert a["rows"]["events"] == 2 and acc(a) and a["counted"]["malformed JSON (truncated object)"] >= 1
    w = by_name(run, "whole-one-line.json")  # 90 objects on one line: one record line, no overshoot
    assert w["rows"]["events"] == 90 and w["record_lines"] == 1 and acc(w) and not w["errors"], w


# -- 4 (cont.): an input read only in part also exits 5 ------------------------------------------------


def test_read_error_and_truncated_stream_exit_5_with_what_was_read_kept(tmp_path, monkeypatch):
    g = GOOD.encode()
    (tmp_path / "ok.log").write_text(GOOD)
    gz = gzip.compress(g * 2000)
    (tmp_path / "cut.log.gz").write_bytes(gz[: len(gz) // 2])
    (tmp_path / "eio.log").write_bytes(g * 2000)
    real_open = open

    class Failing(io.RawIOBase):  # a disk that fails after 64 KiB
        def __init__(self, f):
            self.f, self.n = f, 0

        def readable(self):
            return True

        def fileno(self):
            return self.f.fileno()

        def readinto(self, b):
            if self.n >= 64 << 10:
                raise OSError(5, "Input/output error")
            k = self.f.readinto(memoryview(b)[: (64 << 10) - self.n])
            self.n += k
            return k

        def close(self):
            self.f.close()
            super().close()

    def fake_open(p, *a, **k):
        f = real_open(p, *a, **k)
        return io.BufferedReader(Failing(f)) if os.fspath(p).endswith("eio.log") else f

    monkeypatch.setattr(sources, "open", fake_open, raising=False)
    code, _, err = cli("ingest", tmp_path, "--out", _beside(tmp_path), "-q", "--threads", "1")
    assert code == 8, err
    import re

    assert re.search(r"eio\.log:\d+: read error after 65536 bytes: \[Errno 5\] Input/output error", err), err
    assert "cut.log.gz" in err and "truncated" in err
    from kubelog import open_run

    run = open_run(_beside(tmp_path))
    e = by_name(run, "eio.log")
    assert e["read_complete"] is False and 0 < e["rows"]["requests"] < 2000 and acc(e)
    assert by_name(run, "cut.log.gz")["read_complete"] is False
    assert by_name(run, "ok.log")["read_complete"] is True


# -- properties: any cut of a JSON list, any NUL holes ------------------------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_LIST = json.dumps(
    {"apiVersion": "v1", "items": [_event(i) for i in range(6)], "kind": "List", "metadata": {"resourceVersion": ""}},
    indent=4,
)
_ITEM_ENDS = []  # position just after each item's closing brace
_dec = json.JSONDecoder()
_p = _LIST.index("[") + 1
for _ in range(6):
    _p = _LIST.index("{", _p)
    _p = _dec.raw_decode(_LIST, _p)[1]
    _ITEM_ENDS.append(_p)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.integers(1, len(_LIST) - 1))
def test_any_cut_of_a_json_list_keeps_the_complete_items(tmp_path_factory, cut):
    d = tmp_path_factory.mktemp("cut")
    (d / "events.json").write_text(_LIST[:cut])
    run = ingest([d / "events.json"], d / "run")
    e = run.inputs[0]
    complete = sum(1 for x in _ITEM_ENDS if x <= cut)
    assert acc(e), e
    if e["format"] == "objects":
        assert e["rows"].get("events", 0) == complete, (cut, e)
    else:  # a cut inside the first bytes no longer sniffs as an object dump
        assert complete == 0


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(holes=st.lists(st.tuples(st.integers(0, 20 * len(GOOD)), st.integers(1, 3000)), min_size=1, max_size=4))
def test_nul_holes_anywhere_keep_the_accounting(tmp_path_factory, holes):
    data = bytearray(GOOD.encode() * 20)
    for at, n in sorted(holes, reverse=True):
        data[at:at] = b"\0" * n
    data[0:0] = b"\0"  # NULs at the start: the stripper is on
    d = tmp_path_factory.mktemp("nul")
    (d / "a.log").write_bytes(bytes(data))
    run = ingest([d / "a.log"], d / "run")
    e = run.inputs[0]
    assert acc(e) and e["lines_read"] == 20, e
    assert e["info"]["nul_bytes"] == 1 + sum(n for _, n in holes)
    assert e["rows"].get("requests", 0) + e["rows"].get("messages", 0) >= 20 - len(holes)
