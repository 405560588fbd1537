"""The README, docs/, notebooks, sample_logs/README.md and the Makefile name only commands and options
that exist: every `kubelog CMD --opt …` they show is checked against the CLI itself (issue 22: notebook 01
named a `kubelog matrix` command that never existed)."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest
import typer.main

from kubelog.cli import app

ROOT = Path(__file__).resolve().parent.parent
CLI = typer.main.get_command(app)
GENERATED = {"docs/cli.md", "docs/formats.md", "docs/tables.md"}


def _texts() -> dict[str, str]:
    out = {}
    for p in [
        ROOT / "README.md",
        ROOT / "sample_logs/README.md",
        ROOT / "bench/README.md",
        *sorted((ROOT / "docs").rglob("*.md")),
    ]:
        rel = p.relative_to(ROOT).as_posix()
        if p.is_file() and rel not in GENERATED:
            out[rel] = p.read_text(encoding="utf-8")
    for p in sorted((ROOT / "notebooks").glob("*.ipynb")):
        cells = json.loads(p.read_text(encoding="utf-8"))["cells"]
        out[p.relative_to(ROOT).as_posix()] = "\n".join("".join(c["source"]) for c in cells)
    mk = (ROOT / "Makefile").read_text(encoding="utf-8")
    out["Makefile"] = "\n".join(
        "`kubelog " + ln.split("$(KUBELOG)", 1)[1].split(";")[0].split("|")[0].strip() + "`"
        for ln in mk.splitlines()
        if "$(KUBELOG)" in ln and "KUBELOG :=" not in ln
    )
    return out


def _invocations(text: str) -> list[str]:
    """`kubelog …` in backticks, and lines of shell code that start with kubelog."""
    found = re.findall(r"`(?:\.venv/bin/)?kubelog ([^`\n]+)`", text)
    for block in re.findall(r"```[a-z]*\n(.*?)```", text, flags=re.S):
        found += re.findall(r"^\s*(?:\$ )?(?:\.venv/bin/)?kubelog ([^\n#|>]+)", block, flags=re.M)
    return found


def _cases():
    from kubelog.formats import reasons

    for name, text in _texts().items():
        for inv in _invocations(text):
            if reasons.lookup(f"kubelog {inv.strip()}"):  # a parse-stat reason that starts with "kubelog"
                continue
            yield pytest.param(name, inv.strip(), id=f"{name}: kubelog {inv.strip()[:50]}")


@pytest.mark.parametrize("where, inv", list(_cases()))
def test_named_commands_and_options_exist(where, inv):
    try:
        words = shlex.split(inv)
    except ValueError:
        words = inv.split()
    if not words or words[0] in ("--help", "-h", "--version"):
        return
    cmd = words[0]
    assert cmd in CLI.commands, f"{where}: `kubelog {inv}` — there is no command {cmd!r}"
    flags = {f for p in CLI.commands[cmd].params for f in (*p.opts, *getattr(p, "secondary_opts", ()))}
    for w in words[1:]:
        if w.startswith("-") and not re.fullmatch(r"-\d.*", w):
            flag = w.split("=", 1)[0]
            assert flag in flags | {"--help", "-h"}, f"{where}: `kubelog {inv}` — {cmd} has no option {flag}"
