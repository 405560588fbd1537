"""The command line keeps one set of conventions (issue 22): checked on every command's --help and
on the commands' behaviour at the edge (bad arguments: exit 2, one line, nothing written)."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from kubelog.cli import app


@pytest.mark.parametrize(
    "args, says",
    [
        (["--nodes", "0"], "nodes must be a whole number >= 1"),
        (["--nodes", "-3"], "nodes must be a whole number >= 1"),
        (["--pods-per-node", "0"], "pods per node"),
        (["--skew", "bogus"], "'bogus' is not NAME=VALUE"),
        (["--skew", "test=abc"], "'abc' is not a duration"),
        (["--skew", "test=nan"], "must be finite"),
        (["--drift", "test=fast"], "is not a drift"),
        (["--scale", "0"], "scale must be a positive number"),
        (["--era", "2.0"], "era must be one of"),
        (["--wrap", "gzip"], "wrap must be None"),
    ],
)
def test_synth_bad_arguments_exit_2_with_one_line_and_write_nothing(tmp_path, args, says):
    out = tmp_path / "run"
    r = CliRunner().invoke(app, ["synth", "--out", str(out), *args])
    assert r.exit_code == 2, r.output
    assert r.exception is None or isinstance(r.exception, SystemExit), r.exception
    lines = [ln for ln in r.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("kubelog: ") and says in lines[0], r.output
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


import typer.main  # noqa: E402

COMMANDS = typer.main.get_command(app).commands
#: Commands whose output is data (stdout): each takes -F/--format table|csv|json|markdown.
DATA_COMMANDS = sorted(set(COMMANDS) - {"ingest", "report", "synth"})


def _opts(cmd: str) -> dict[str, list[str]]:
    """{option name: all its flags} of a command."""
    return {
        p.name: list(p.opts) + list(p.secondary_opts)
        for p in COMMANDS[cmd].params
        if getattr(p, "param_type_name", "") == "option"
    }


@pytest.mark.parametrize("cmd", DATA_COMMANDS)
def test_data_commands_take_format_F(cmd):
    flags = [f for fl in _opts(cmd).values() for f in fl]
    assert "--format" in flags and "-F" in flags, f"{cmd}: no -F/--format"
    r = CliRunner().invoke(app, [cmd, "--help"], env={"COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"})
    assert "table|csv|json|markdown" in r.output.replace(" ", ""), f"{cmd}: -F must offer table, csv, json, markdown"


@pytest.mark.parametrize("cmd", sorted(COMMANDS))
def test_no_lower_f_and_one_name_per_concept(cmd):
    flags = {f: name for name, fl in _opts(cmd).items() for f in fl}
    assert "-f" not in flags, f"{cmd}: -f is ambiguous (input or output format?)"
    if "--format" in flags:  # --format is the output format everywhere
        assert "-F" in flags, cmd
    if "-o" in flags:
        assert flags["-o"] == flags.get("--out"), f"{cmd}: -o must be --out"
    for hidden in ("--json", "--markdown"):  # old spellings stay only as hidden aliases
        if hidden in flags:
            p = next(p for p in COMMANDS[cmd].params if hidden in p.opts)
            assert p.hidden, f"{cmd}: {hidden} should be -F {hidden[2:]}"


@pytest.mark.slow
def test_python_api_requests_is_one_row_per_request(sample_runs):
    """The README's `run.requests()`: a request logged by both the access log and the audit log is one row."""
    run, truth = sample_runs["healthy-1.28"]
    raw = run.table("requests")
    assert set(raw["origin"]) == {"httplog", "audit"}  # the raw table has a row per record
    req = run.requests()
    assert len(req) == truth["requests"]["total"] < len(raw)
    assert req.columns.tolist() == raw.columns.tolist()
    assert run.requests(columns=["verb", "origin"]).columns.tolist() == ["verb", "origin"]


@pytest.mark.parametrize("cmd", ["info", "latency", "pods", "slo", "skew", "specs", "summaries", "load", "diagnose"])
def test_terminal_output_fits_100_columns(sample_runs, cmd):
    runs = [r for r, _ in sample_runs.values()]
    for run in runs:
        r = CliRunner().invoke(app, [cmd, str(run.path)], env={"COLUMNS": "100"})
        assert r.exit_code in (0, 1), (cmd, run.path, r.output[-2000:])
        long = [ln for ln in r.stdout.splitlines() if len(ln) > 100]
        assert not long, f"{cmd} {run.path.name}: {len(long)} lines over 100 characters, e.g. {long[0]!r}"


def _json_keys_ok(out, schema, where: str) -> None:
    if schema.rows:
        assert isinstance(out, list), where
        for row in out:
            assert list(row) == list(schema.keys), f"{where}: keys {list(row)} != documented {list(schema.keys)}"
        return
    assert isinstance(out, dict) and list(out) == list(schema.keys), f"{where}: {list(out)} != {list(schema.keys)}"
    for member, keys in schema.nested.items():
        for row in out[member]:
            assert list(row) == list(keys), f"{where} {member}: {list(row)} != documented {list(keys)}"


def test_every_data_command_documents_its_json_schema():
    """docs/cli.md lists the -F json keys of every data command (from JSON_SCHEMAS)."""
    from kubelog.commands._common import JSON_SCHEMAS

    assert {c for c, _ in JSON_SCHEMAS} == set(DATA_COMMANDS)


# compare takes two runs and history many (their JSON keys: test_compare.py, test_history.py)
@pytest.mark.parametrize("cmd", [c for c in DATA_COMMANDS if c not in ("compare", "history")])
def test_json_output_has_exactly_the_documented_keys(sample_runs, cmd):
    """Every documented variant of every command, on every sample run: the keys in docs/cli.md, in order;
    and its -F csv is one rectangular table."""
    import csv
    import io
    import json

    from kubelog.commands._common import JSON_SCHEMAS

    for (c, args), schema in JSON_SCHEMAS.items():
        if c != cmd:
            continue
        checked = 0
        for name, (run, _) in sample_runs.items():
            r = CliRunner().invoke(
                app, [cmd, *([] if cmd in ("formats", "tables") else [str(run.path)]), *args, "-F", "json"]
            )
            assert r.exit_code == 0, (cmd, args, r.output[-1000:])
            out = json.loads(r.stdout)
            checked += bool(out)
            _json_keys_ok(out, schema, f"{cmd} {' '.join(args)} on {name}")
            # -F csv of the same invocation: one RFC 4180 table, rectangular, the JSON row keys as header
            r = CliRunner().invoke(
                app, [cmd, *([] if cmd in ("formats", "tables") else [str(run.path)]), *args, "-F", "csv"]
            )
            assert r.exit_code == 0, (cmd, args, r.output[-1000:])
            rows = list(csv.reader(io.StringIO(r.stdout, newline=""), strict=True))
            assert rows and all(len(row) == len(rows[0]) for row in rows), (cmd, args, name, r.stdout[:300])
            if schema.rows and out:
                assert rows[0] == list(schema.keys), (cmd, args, rows[0])
        assert checked, (cmd, args)  # a schema checked on nothing proves nothing


def test_compare_json_has_exactly_the_documented_keys(sample_runs):
    import json

    from kubelog.commands._common import JSON_SCHEMAS

    (a, _), (b, _) = sample_runs["healthy-1.28"], sample_runs["skew-timeout-1.14"]
    r = CliRunner().invoke(app, ["compare", str(a.path), str(b.path), "-F", "json", "--n-boot", "100"])
    assert r.exit_code == 0, r.output[-1000:]
    out = json.loads(r.stdout)
    assert out
    _json_keys_ok(out, JSON_SCHEMAS[("compare", ())], "compare")


#: One name for one concept: (flag, its short form or None), on every command that has the flag.
SAME_NAMES = {
    "--correct-skew": None,
    "--offset": None,
    "--nodes": None,
    "--pods-per-node": None,
    "--buckets": None,
    "--out": "-o",
    "--quiet": "-q",
    "--all": None,
    "--format": "-F",
}
#: Other spellings people would try for the same concepts: none may exist.
NOT_NAMES = [
    "--skew-correct",
    "--correct",
    "--offsets",
    "--node",
    "--n-nodes",
    "--ppn",
    "--pods-per-nodes",
    "--bucket",
    "--output",
    "--output-dir",
    "--silent",
    "--verbose",
    "--all-rows",
    "--show-all",
    "--fmt",
]


def _help_text(cmd: str) -> str:
    import re

    r = CliRunner().invoke(app, [cmd, "--help"], env={"COLUMNS": "250", "NO_COLOR": "1", "TERM": "dumb"})
    assert r.exit_code == 0, r.output
    return re.sub(r"\x1b\[[0-9;]*m", "", r.output)


@pytest.mark.parametrize("cmd", sorted(COMMANDS))
def test_same_option_names_for_the_same_concepts(cmd):
    flags = {f: name for name, fl in _opts(cmd).items() for f in fl}
    text = _help_text(cmd)
    for long, short in SAME_NAMES.items():
        if long in flags:
            assert long in text, f"{cmd}: {long} is not in --help"
            if short:
                assert flags.get(short) == flags[long], f"{cmd}: {long} must have the short form {short}"
        if short and short in flags:
            assert flags[short] == flags.get(long), f"{cmd}: {short} must mean {long}"
    for bad in NOT_NAMES:
        assert bad not in flags, f"{cmd}: {bad} — the convention is one of {sorted(SAME_NAMES)}"
    if cmd != "skew" and ("--offset" in flags or "--correct-skew" in flags):  # they come together (skew finds
        # the offsets: its --correct-skew shows what correcting with them changes)
        assert "--offset" in flags and "--correct-skew" in flags, f"{cmd}: --offset and --correct-skew go together"
    if "--buckets" in flags:  # load buckets need the capacity they are shares of
        assert "--nodes" in flags and "--pods-per-node" in flags, cmd


#: Commands that print a table in the terminal view; each takes --all (no row limit on a terminal).
TABLE_COMMANDS = sorted(set(DATA_COMMANDS) - {"info"})


@pytest.mark.parametrize("cmd", TABLE_COMMANDS)
def test_table_commands_take_all(cmd):
    assert "--all" in {f for fl in _opts(cmd).values() for f in fl}, f"{cmd}: no --all"


def test_quiet_silences_everything_but_errors(tmp_path):
    """synth -q: only the truth.json path on stdout, nothing on stderr (it printed a summary there)."""
    r = CliRunner().invoke(app, ["synth", "--out", str(tmp_path / "run"), "--nodes", "2", "--pods-per-node", "3", "-q"])
    assert r.exit_code == 0, r.output
    assert r.stderr == "" and r.stdout.strip().endswith("truth.json")
    r = CliRunner().invoke(app, ["synth", "--out", str(tmp_path / "run2"), "--nodes", "2", "--pods-per-node", "3"])
    assert r.stderr.startswith("synth: ")  # the summary, without -q
    r = CliRunner().invoke(app, ["synth", "--out", str(tmp_path / "run3"), "--nodes", "0", "-q"])
    assert r.exit_code == 2 and r.stderr.startswith("kubelog: ")  # errors are never silenced
    r = CliRunner().invoke(app, ["formats", "-q"])
    assert r.exit_code == 0 and r.stderr == ""


def test_synth_progress_bar_only_on_a_terminal(tmp_path, monkeypatch):
    """The stages of kubelog.synth.generate reach the progress hook; the bar is drawn on stderr only when
    it is a terminal (CliRunner's is not) and never with -q."""
    from kubelog.commands import _common
    from kubelog.synth.run import GENERATE_STAGES

    r = CliRunner().invoke(app, ["synth", "--out", str(tmp_path / "a"), "--nodes", "2", "--pods-per-node", "3"])
    assert "simulating" not in r.stderr  # not a terminal: no bar
    seen = []
    monkeypatch.setattr(_common.StageProgress, "advance", lambda self, s: seen.append(s))
    r = CliRunner().invoke(
        app, ["synth", "--out", str(tmp_path / "b"), "--nodes", "2", "--pods-per-node", "3", "--tar"]
    )
    assert r.exit_code == 0, r.output
    assert seen == list(GENERATE_STAGES)


def test_stage_progress_draws_on_a_terminal_and_not_with_quiet(monkeypatch, capsys):
    from kubelog.commands import _common

    monkeypatch.setattr(_common, "progress_enabled", lambda: True)
    with _common.StageProgress("synth", 2) as bar:
        bar.advance("simulating")
        bar.advance("writing logs")
    err = capsys.readouterr().err
    assert "synth: writing logs" in err and "1/2" in err
    monkeypatch.undo()
    monkeypatch.setattr(_common, "quiet", True)
    assert not _common.progress_enabled()


JUNIT = """<?xml version="1.0" encoding="UTF-8"?>
  <testsuite tests="61" failures="1" time="10">
{skipped}
      <testcase name="Density should fail" classname="Kubernetes e2e Suite" time="857.7">
          <failure type="Failure">/go/src/x/density.go:606&#xA;Expected error&#xA;/go/src/x/density.go:970</failure>
      </testcase>
  </testsuite>
"""


def test_specs_lists_failures_first_after_a_summary(ingest_to, tmp_path):
    """Issue 22: `specs` printed thousands of skipped specs before the failed one."""
    import csv
    import io

    p = tmp_path / "junit_01.xml"
    p.write_text(
        JUNIT.format(
            skipped="\n".join(
                f'      <testcase name="Skipped {i}" classname="Kubernetes e2e Suite" time="0"><skipped></skipped>'
                "</testcase>"
                for i in range(60)
            )
        )
    )
    run = ingest_to(p)
    r = CliRunner().invoke(app, ["specs", str(run.path), "-F", "csv"])
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert len(rows) == 61 and rows[0]["state"] == "failed" and rows[0]["spec"] == "Density should fail"
    r = CliRunner().invoke(app, ["specs", str(run.path)], env={"COLUMNS": "100"})
    lines = r.stdout.splitlines()
    assert lines[0] == "61 specs: 1 failed, 0 pending, 0 passed, 60 skipped"
    assert lines[4].startswith("failed")


def test_report_and_compare_quiet(sample_runs, tmp_path):
    """report and compare print progress and notes on stderr (the ingest lines, the files written);
    -q leaves stdout as it was and stderr empty."""
    from pathlib import Path

    (a, _), (b, _) = sample_runs["healthy-1.28"], sample_runs["skew-timeout-1.14"]
    args = ["compare", str(a.path), str(b.path), "--n-boot", "100", "--out", str(tmp_path / "c"), "--no-pdf"]
    loud, quiet = CliRunner().invoke(app, args), CliRunner().invoke(app, [*args, "-q"])
    assert loud.exit_code == quiet.exit_code == 0, quiet.output[-1000:]
    assert "kubelog: wrote" in loud.stderr and quiet.stderr == "" and quiet.stdout == loud.stdout
    raw = Path(__file__).parent.parent / "sample_logs" / "healthy-1.28"
    r = CliRunner().invoke(app, ["report", str(raw), "--out", str(tmp_path / "r"), "--no-pdf", "-q"])
    assert r.exit_code == 0, r.output[-1000:]
    assert r.stderr == "" and r.stdout.strip().endswith("report.html")


def test_commands_take_exit_and_die_from_errors_not_from_cli():
    """Issue 22 (layout): the commands reached back into kubelog/cli.py for Exit/die, lazily, inside
    their functions; they come from kubelog/errors.py (with the exception types and exit codes), imported
    at the top of the module."""
    import ast
    import re
    from pathlib import Path

    import kubelog.commands
    import kubelog.errors

    assert kubelog.errors.Exit is kubelog.errors.ExitCode and callable(kubelog.errors.die)
    bad, top = [], {}
    for f in sorted(Path(kubelog.commands.__path__[0]).glob("*.py")):
        tree = ast.parse(f.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                mod = "." * node.level + (node.module or "")
                if mod in ("..cli", "kubelog.cli"):
                    bad.append(f"{f.name}:{node.lineno}")
                if mod in ("..errors", "kubelog.errors") and {"Exit", "die"} & {a.name for a in node.names}:
                    top[f.name] = node in tree.body
    assert not bad, f"commands import from kubelog.cli: {bad}"
    users = {
        f.name for f in Path(kubelog.commands.__path__[0]).glob("*.py") if re.search(r"(?<![\w.])die\(", f.read_text())
    }
    assert users <= set(top) and all(top.values()), (users - set(top), top)


def test_die_is_one_line_and_its_exit_code():
    import typer

    from kubelog.errors import Exit, die

    app1 = typer.Typer()
    app1.command()(lambda: die("x.log:3: bad", Exit.INPUT))
    r = CliRunner().invoke(app1, [])
    assert r.exit_code == 3 and r.stderr == "kubelog: x.log:3: bad\n" and r.stdout == ""


def test_cli_start_up_loads_no_heavy_module():
    """`kubelog --help` stays fast: importing the CLI (every command module, kubelog.errors with die)
    loads none of the analysis libraries; each command imports what it needs when it runs."""
    import subprocess
    import sys

    code = (
        "import sys, kubelog.cli; "
        "print(sorted(m for m in ('pandas', 'numpy', 'pyarrow', 'scipy', 'rich', 'dask', 'matplotlib') "
        "if m in sys.modules))"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert r.stdout.strip() == "[]", r.stdout


def test_version():
    from kubelog import __version__

    r = CliRunner().invoke(app, ["--version"])
    assert r.exit_code == 0 and r.stdout == f"kubelog {__version__}\n" and r.stderr == ""


#: Bad arguments of every command, caught at the edge (issue 22, Build 5). typer printed usage errors
#: (a value out of range, not a choice, an unknown option, a missing argument) as 5-6 lines in a box;
#: ingest wrote a run whose every parser failed on an unknown zone, format or a negative year (exit 0);
#: synth --seed -1 left its output directory behind; synth --host-skew without --hosts was ignored.
BAD_ARGS = [
    ("ingest", ["--jobs", "0"], "--jobs"),
    ("ingest", ["--jobs", "-1"], "--jobs"),
    ("ingest", ["--threads", "0"], "--threads"),
    ("ingest", ["--year", "abc"], "--year"),
    ("ingest", ["--year", "-5"], "--year -5"),
    ("ingest", ["--tz", "Mars/Olympus"], "'Mars/Olympus' is not a time zone"),
    ("ingest", ["--tz", "kubelet*=+25:99x"], "is not a time zone"),
    ("ingest", ["--input-format", "bogus"], "unknown format 'bogus'"),
    ("ingest", ["--input-format", "e2e*=bogus"], "unknown format 'bogus'"),
    ("ingest", ["--clock", "e2e*="], "--clock"),
    ("ingest", ["--scheduler", "bogus"], "--scheduler"),
    ("ingest", ["--bogus"], "No such option: --bogus"),
    ("latency", ["-F", "bogus"], "'bogus' is not one of"),
    ("latency", ["--percentiles", "0"], "--percentiles"),
    ("latency", ["--percentiles", "abc"], "--percentiles"),
    ("latency", ["--method", "bogus"], "--method"),
    ("latency", ["--by", "bogus"], "--by"),
    ("latency", ["--by-load", "--nodes", "0"], "--nodes"),
    ("latency", ["--by-load", "--nodes", "-3"], "--nodes"),
    ("latency", ["--by-load", "--pods-per-node", "0"], "--pods-per-node"),
    ("latency", ["--by-load", "--buckets", "abc"], "--buckets"),
    ("latency", ["--by-load", "--buckets", "50,10"], "--buckets"),
    ("latency", ["--by-load", "--offset", "bogus"], "--offset"),
    ("report", ["--nodes", "0"], "--nodes"),
    ("report", ["--pods-per-node", "-1"], "--pods-per-node"),
    ("report", ["--buckets", "0"], "--buckets"),
    ("report", ["--offset", "test=abc"], "--offset"),
    ("compare", ["--tolerance", "-1"], "--tolerance"),
    ("compare", ["--n-boot", "0"], "--n-boot"),
    ("compare", ["-F", "bogus"], "'bogus' is not one of"),
    ("compare", ["--offset", "new:bogus"], "--offset"),
    ("history", ["--jobs", "0"], "--jobs"),
    ("history", ["--min-n", "0"], "--min-n"),
    ("history", ["--min-runs", "1"], "--min-runs"),
    ("history", ["--alpha", "2"], "--alpha"),
    ("history", ["--penalty", "-1"], "--penalty"),
    ("history", ["--min-ratio", "0.5"], "--min-ratio"),
    ("history", ["--skew-tolerance", "-1"], "--skew-tolerance"),
    ("history", ["--scheduler", "bogus"], "--scheduler"),
    ("history", ["--metrics-out", "{tmp}/x.txt"], "--metrics-out"),
    ("synth", ["--seed", "-1"], "seed must be a whole number >= 0"),
    ("synth", ["--hosts", "0"], "--hosts"),
    ("synth", ["--host-skew", "1s"], "need hosts"),
    ("synth", ["--hosts", "2", "--host-drift", "abc"], "'abc' is not a drift in ppm"),
    ("synth", ["--timeout-phase", "bogus"], "--timeout-phase"),
    ("skew", ["--table", "bogus"], "--table"),
    ("skew", ["-F", "bogus"], "'bogus' is not one of"),
    ("skew", ["--offset", "bogus"], "No such option"),
    ("pods", ["--nodes", "0"], "--nodes"),
    ("pods", ["--pods-per-node", "-1"], "--pods-per-node"),
    ("pods", ["--by-load", "--buckets", "100,50"], "--buckets"),
    ("pods", ["--offset", "test=abc"], "--offset"),
    ("slo", ["--config", "{tmp}/none.toml"], "--config"),
    ("slo", ["--offset", "bogus"], "--offset"),
    ("slo", ["-F", "bogus"], "'bogus' is not one of"),
    ("load", ["--nodes", "0"], "--nodes"),
    ("load", ["--buckets", "abc"], "--buckets"),
    ("specs", ["--state", "bogus"], "--state"),
    ("info", ["-F", "bogus"], "'bogus' is not one of"),
    ("tables", ["extra"], "unexpected extra argument"),
    ("formats", ["-F", "bogus"], "'bogus' is not one of"),
    ("bogus", [], "No such command 'bogus'"),
]


@pytest.mark.parametrize("cmd, args, says", BAD_ARGS, ids=[f"{c} {' '.join(a)}" for c, a, _ in BAD_ARGS])
def test_bad_arguments_exit_2_one_line_nothing_written(tmp_path, cmd, args, says):
    """Every bad argument at the edge: exit 2, one line on stderr naming it, nothing on stdout, no
    traceback, nothing written. The run given is a directory that does not exist: the argument is
    refused before any input is looked at."""
    from pathlib import Path

    sample = Path(__file__).resolve().parent.parent / "sample_logs" / "healthy-1.28"
    nope = tmp_path / "no-run"
    out = tmp_path / "out"
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    pos = {
        "ingest": [str(sample), "--out", str(out)],
        "report": [str(sample), "--out", str(out)],
        "compare": [str(nope), str(nope), "--out", str(out)],
        "history": [str(nope), "--report", str(out)],
        "synth": ["--out", str(out), "--nodes", "2", "--pods-per-node", "2"],
        "tables": [],
        "formats": [],
        "bogus": [],
    }.get(cmd, [str(nope)])
    r = CliRunner().invoke(app, [cmd, *pos, *args] if cmd != "bogus" else ["bogus"])
    assert r.exit_code == 2, (r.exit_code, r.output)
    assert r.exception is None or isinstance(r.exception, SystemExit), r.exception
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("kubelog: ") and says in lines[0], r.stderr
    assert r.stdout == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == [], list(tmp_path.iterdir())


def test_help_and_no_arguments_unchanged():
    """The one-line usage errors leave help alone: `kubelog` alone prints the help (exit 2, as typer did),
    `-h` prints it and exits 0."""
    r = CliRunner().invoke(app, [])
    assert r.exit_code == 2 and "Usage: kubelog" in r.output and "Commands" in r.output
    r = CliRunner().invoke(app, ["latency", "-h"])
    assert r.exit_code == 0 and "Usage: kubelog latency" in r.stdout


@pytest.mark.parametrize("cmd", ["ingest", "report", "compare", "synth", "history", "formats"])
def test_long_commands_take_quiet(cmd):
    """-q/--quiet (nothing on stderr but errors) on every command that writes progress or notes there."""
    assert _opts(cmd).get("quiet") == ["--quiet", "-q"] or set(_opts(cmd).get("quiet", [])) == {"--quiet", "-q"}, cmd


def test_compare_and_history_fit_100_columns_and_lead_with_a_summary(sample_runs):
    """compare's summary and per-group lines reached 200 characters at COLUMNS=100, after the table;
    history's summary (126 characters) was on stderr only, after the table."""
    runs = {name: str(r.path) for name, (r, _) in sample_runs.items()}
    base, new = runs["healthy-1.28"], runs["legacy-skew-1.5"]
    for args in (
        ["compare", base, new, "--n-boot", "100"],
        ["compare", base, new, "--n-boot", "100", "--correct-skew", "--all"],
        ["history", *runs.values()],
    ):
        r = CliRunner().invoke(app, args, env={"COLUMNS": "100"})
        assert r.exit_code == 0, (args, r.output[-2000:])
        long = [ln for ln in r.output.splitlines() if len(ln) > 100]
        assert not long, f"{args[0]}: {len(long)} lines over 100 characters, e.g. {long[0]!r}"
        first = r.stdout.splitlines()[0]
        assert re.match(r"3 runs \(ordered by |\d+ regressions, \d+ improvements", first), first


def test_history_quiet(sample_runs):
    runs = [str(r.path) for r, _ in sample_runs.values()]
    loud = CliRunner().invoke(app, ["history", *runs, "-F", "json"])
    quiet = CliRunner().invoke(app, ["history", *runs, "-F", "json", "-q"])
    assert loud.exit_code == quiet.exit_code == 0, quiet.output[-1000:]
    assert loud.stderr.startswith("kubelog: 3 runs") and quiet.stderr == "" and quiet.stdout == loud.stdout


def test_the_library_imports_nothing_from_commands():
    """Layout (issue 22): library functions live outside kubelog/commands/ (report/model.py took
    specs_frame from commands/specs.py); only the CLI shell (cli.py, docgen.py) reaches into commands."""
    import ast
    from pathlib import Path

    import kubelog

    root = Path(kubelog.__file__).parent
    bad = []
    for f in sorted(root.rglob("*.py")):
        rel = f.relative_to(root).as_posix()
        if rel.startswith("commands/") or rel in ("cli.py", "docgen.py"):
            continue
        for node in ast.walk(ast.parse(f.read_text())):
            if isinstance(node, ast.ImportFrom):
                pkg = ".".join(("kubelog/" + rel).split("/")[: -node.level]) if node.level else ""
                mod = (pkg.replace("/", ".") + "." + (node.module or "")).strip(".") if node.level else node.module
                if mod and (mod == "kubelog.commands" or mod.startswith("kubelog.commands.")):
                    bad.append(f"{rel}:{node.lineno}")
    assert not bad, bad


def _fake_ctx(skew):
    import types

    import pandas as pd

    ts = pd.to_datetime(["2020-01-01T00:00:00Z", "2020-01-01T00:10:00Z"])
    log = pd.DataFrame(
        {"ts": ts, "level": ["STEP", "INFO"], "msg": ["Creating pods", "done"], "spec": ["s", "s"]}
    ).assign(source_id=0, line_no=[1, 2])
    run = types.SimpleNamespace(has=lambda t: True, table=lambda name, columns=None: log)
    return types.SimpleNamespace(run=run, specs=lambda: pd.DataFrame({"spec": ["s"], "state": ["passed"]}), skew=skew)


def test_plots_do_not_hide_a_bug_as_not_available():
    """No broad `except AttributeError` (issue 22): an AttributeError in the report's plots is a bug and
    surfaces (the report shows it as the section's error); an analysis that cannot be made
    (ValueError) still draws the phases as logged."""
    from kubelog.report import plots

    with pytest.raises(AttributeError):
        plots.spec_phases(_fake_ctx(lambda: object()))  # a skew report without .offsets: a bug

    def no_pairs():
        raise ValueError("no causal pairs")

    phases, how = plots.spec_phases(_fake_ctx(no_pairs))
    assert [p[0] for p in phases] == ["Creating pods"] and how.startswith("test clock as logged")


def test_info_leads_with_a_summary_and_lists_problems_first(ingest_to, tmp_path):
    """`info` listed every input in path order and no summary: on a run of hundreds of inputs the one
    that was not read to its end was somewhere in the middle."""
    import gzip

    good = tmp_path / "a-kube-apiserver.log"
    good.write_text("".join(f"I0101 00:00:0{i}.000000       1 x.go:1] hello {i}\n" for i in range(5)))
    whole = gzip.compress(b"".join(b"I0101 00:00:01.000000       1 x.go:1] line %d\n" % i for i in range(2000)))
    broken = tmp_path / "z-kubelet.log.gz"
    broken.write_bytes(whole[: len(whole) // 2])  # a truncated stream: read, not to its end
    run = ingest_to(good, broken, year=2020)
    r = CliRunner().invoke(app, ["info", str(run.path)], env={"COLUMNS": "100"})
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    assert re.fullmatch(
        r"2 inputs, [\d,]+ lines read: 1 with problems \(listed first\); [\d,]+ rows in \d+ tables", lines[1]
    ), lines[1]
    paths = [ln for ln in lines if ln.endswith((".log", ".gz"))]
    assert paths[0].endswith("z-kubelet.log.gz") and paths[1].endswith("a-kube-apiserver.log"), paths
    run2 = ingest_to(good, year=2020)
    r = CliRunner().invoke(app, ["info", str(run2.path)])
    assert r.stdout.splitlines()[1].startswith("1 inputs, 5 lines read: every input read and balanced")


def test_help_paragraphs_wrap_to_the_terminal():
    """typer's rich help keeps a docstring's line breaks: a docstring wrapped at 100 columns came out
    ragged at 80 (a break every other line).  Every command's help is paragraphs of one line each, and
    `--help` at 80 columns fills its lines."""
    import re

    from typer.testing import CliRunner

    from kubelog.cli import app

    for info in app.registered_commands:
        assert info.help and not re.search(r"[^\n]\n[^\n]", info.help), info.callback.__name__
    out = CliRunner().invoke(app, ["load", "--help"], env={"COLUMNS": "80"}).output
    body = out.split("Arguments")[0].splitlines()
    text = [ln.strip() for ln in body if ln.strip() and not ln.strip().startswith("Usage")]
    # a wrapped paragraph: every line but a paragraph's last is nearly full
    short = [ln for ln, nxt in zip(text, text[1:]) if len(ln) < 60 and nxt[:1].islower()]
    assert not short, short
