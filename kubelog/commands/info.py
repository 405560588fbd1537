"""kubelog info."""
from __future__ import annotations

import json
from pathlib import Path

import typer

from ._common import open_run_or_die


def register(app: typer.Typer) -> None:
    @app.command("info")
    def info_cmd(
        run_dir: Path = typer.Argument(..., help="Run directory made by `kubelog ingest`."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON instead of text."),
    ):
        """What was ingested: per input its format, wrapper, clock, year anchor and line
        accounting; per table its rows and time range.

        For every input: lines_read == record_lines + continuation_lines + sum(counted)
        + lost_lines, where record_lines are the lines that start a record (one primary row
        each) and lost_lines were read but not parsed (a block whose parser failed; their
        line and byte ranges are listed). An input is balanced only when nothing is lost and
        nothing is counted as 'unaccounted (parser bug)'.
        """
        from ..info import run_info
        run = open_run_or_die(run_dir)
        info = run_info(run)
        if as_json:
            typer.echo(json.dumps(info, indent=1, ensure_ascii=False))
            return
        typer.echo(f"run {run.path}  (kubelog {run.manifest.get('kubelog_version')})")
        for e in info["inputs"]:
            typer.echo(f"\n{e['path']}")
            typer.echo(f"  format {e['format']}" + (f", wrapper {e['wrapper']}" if e.get('wrapper') else "")
                       + (f", {e['compression']}" if e.get('compression') else "")
                       + f", component {e.get('component') or '-'}, clock {e.get('clock') or '-'}")
            typer.echo(f"  year {e.get('year')} from {e.get('year_source')} ({e.get('year_detail')})")
            lost = e.get("lost_lines", 0)
            adds_up = e["lines_read"] == (e["record_lines"] + e["continuation_lines"]
                                          + sum(e["counted"].values()) + lost)
            typer.echo(f"  lines {e['lines_read']:,} = records {e['record_lines']:,} + continuation "
                       f"{e['continuation_lines']:,} + counted {sum(e['counted'].values()):,}"
                       + (f" + LOST {lost:,}" if lost else "")
                       + ("" if e["accounting_ok"] else "   ← NOT BALANCED" if adds_up else "   ← DOES NOT ADD UP"))
            for x in e.get("lost") or []:
                b = f", bytes {x['bytes'][0]:,}-{x['bytes'][1]:,}" if x.get("bytes") else ""
                typer.echo(f"  lost {x['lines']:,}: lines {x['first_line']:,}-{x['first_line'] + x['lines'] - 1:,}{b}: "
                           f"{x['reason']}")
            if e["rows"]:
                typer.echo("  rows " + ", ".join(f"{k} {v:,}" for k, v in e["rows"].items()))
            for k, v in e["counted"].items():
                typer.echo(f"  counted {v:,}: {k}")
            for err in e.get("errors", []):
                typer.echo(f"  problem: {err.splitlines()[0]}")
        typer.echo("\ntables")
        for t, d in info["tables"].items():
            rng = f"  {d['ts_min']} → {d['ts_max']}" if d.get("ts_min") else ""
            typer.echo(f"  {t:17s} {d['rows']:>12,}{rng}")
