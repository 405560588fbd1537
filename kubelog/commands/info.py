"""kubelog info."""

from __future__ import annotations

import json

import typer

from ._common import FORMAT_OPTION, RUN_HELP, echo_data, json_schema, legacy_alias, open_run_or_die

INPUT_COLUMNS = [
    "path",
    "format",
    "wrapper",
    "compression",
    "component",
    "clock",
    "year",
    "year_source",
    "lines_read",
    "record_lines",
    "continuation_lines",
    "counted",
    "accounting_ok",
    "problems",
]

INPUT_KEYS = [
    "source_id",
    "path",
    "sha256",
    "bytes",
    "compression",
    "container",
    "format",
    "wrapper",
    "component",
    "clock",
    "tz",
    "year",
    "year_source",
    "year_detail",
    "lines_read",
    "record_lines",
    "continuation_lines",
    "counted",
    "lost_lines",
    "lost",
    "rows",
    "info",
    "errors",
    "read_complete",
    "parse_complete",
    "parse_seconds",
    "accounting_ok",
]
json_schema(
    "info",
    ["inputs", "tables"],
    rows=False,
    nested={"inputs": INPUT_KEYS},
    note="`tables` maps each table name to {`rows`, `ts_min`, `ts_max`}; `counted` maps reasons to lines",
)


def _has_problem(e: dict) -> bool:
    """An input not read (or not to its end), with errors, or whose accounting does not balance."""
    from ..engine import NOT_READ

    return bool(
        not e.get("accounting_ok", True)
        or e.get("errors")
        or e.get("format") in NOT_READ
        or e.get("read_complete") is False
    )


def register(app: typer.Typer) -> None:
    @app.command("info")
    def info_cmd(
        run_dir: str = typer.Argument(..., metavar="RUN_DIR|URL", help=RUN_HELP),
        fmt=FORMAT_OPTION,
        as_json: bool = typer.Option(False, "--json", hidden=True, help="Same as --format json."),
    ):
        """What was ingested: per input its format, wrapper, clock, year anchor and line
        accounting; per table its rows and time range.

        For every input: lines_read == record_lines + continuation_lines + sum(counted)
        + lost_lines, where record_lines are the lines that start a record (one primary row
        each) and lost_lines were read but not parsed (a block whose parser failed; their
        line and byte ranges are listed). An input is balanced only when nothing is lost and
        nothing is counted as 'unaccounted (parser bug)'. The table view leads with a summary
        (inputs, lines, how many have problems) and lists the inputs with problems (not read or not
        to the end, errors, not balanced) first. `-F json` gives everything (inputs
        with their counted reasons, tables); `-F csv` and `-F markdown` give one row per input.
        """
        import pandas as pd

        from ..info import run_info
        from ..output import fit_line

        fmt = legacy_alias(fmt, json=as_json)
        run = open_run_or_die(run_dir)
        info = run_info(run)
        if fmt == "json":
            typer.echo(json.dumps(info, indent=1, ensure_ascii=False))
            return
        if fmt in ("csv", "markdown"):
            rows = [
                {
                    **{k: e.get(k) for k in INPUT_COLUMNS},
                    "counted": sum(e["counted"].values()),
                    "problems": len(e.get("errors", [])),
                }
                for e in info["inputs"]
            ]
            echo_data(pd.DataFrame(rows, columns=INPUT_COLUMNS), fmt)
            return

        def say(s: str = "") -> None:
            typer.echo(fit_line(s))

        say(f"run {run.path}  (kubelog {run.manifest.get('kubelog_version')})")
        # the view leads with a summary, then the inputs with problems (issue 22: failures first)
        bad = [e for e in info["inputs"] if _has_problem(e)]
        nrows = sum(d["rows"] for d in info["tables"].values())
        say(
            f"{len(info['inputs']):,} inputs, {sum(e['lines_read'] for e in info['inputs']):,} lines read: "
            + (f"{len(bad):,} with problems (listed first)" if bad else "every input read and balanced")
            + f"; {nrows:,} rows in {len(info['tables'])} tables"
        )
        for e in bad + [e for e in info["inputs"] if not _has_problem(e)]:
            say()
            say(e["path"])
            say(
                f"  format {e['format']}"
                + (f", wrapper {e['wrapper']}" if e.get("wrapper") else "")
                + (f", {e['compression']}" if e.get("compression") else "")
                + f", component {e.get('component') or '-'}, clock {e.get('clock') or '-'}"
            )
            if e.get("year_source"):  # inputs not read (format error / skipped) have none
                say(f"  year {e.get('year')} from {e.get('year_source')} ({e.get('year_detail')})")
            if (e.get("info") or {}).get("tz_evidence") or e.get("tz", "UTC") != "UTC":
                say(f"  zone {e.get('tz')} from {(e.get('info') or {}).get('tz_evidence') or '--tz'}")
            lost = e.get("lost_lines", 0)
            adds_up = e["lines_read"] == (
                e["record_lines"] + e["continuation_lines"] + sum(e["counted"].values()) + lost
            )
            say(
                f"  lines {e['lines_read']:,} = records {e['record_lines']:,} + continuation "
                f"{e['continuation_lines']:,} + counted {sum(e['counted'].values()):,}"
                + (f" + LOST {lost:,}" if lost else "")
                + ("" if e["accounting_ok"] else "   ← NOT BALANCED" if adds_up else "   ← DOES NOT ADD UP")
            )
            for x in e.get("lost") or []:
                b = f", bytes {x['bytes'][0]:,}-{x['bytes'][1]:,}" if x.get("bytes") else ""
                say(
                    f"  lost {x['lines']:,}: lines {x['first_line']:,}-{x['first_line'] + x['lines'] - 1:,}{b}: "
                    f"{x['reason']}"
                )
            if e["rows"]:
                say("  rows " + ", ".join(f"{k} {v:,}" for k, v in e["rows"].items()))
            for k, v in e["counted"].items():
                say(f"  counted {v:,}: {k}")
            for err in e.get("errors", []):
                say(f"  problem: {err.splitlines()[0]}")
        say()
        say("tables")
        for t, d in info["tables"].items():
            rng = f"  {d['ts_min']} → {d['ts_max']}" if d.get("ts_min") else ""
            say(f"  {t:17s} {d['rows']:>12,}{rng}")
