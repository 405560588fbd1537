"""CLI commands, one module each.

Every module here defines ``register(app: typer.Typer) -> None`` and is
discovered by :mod:`kubelog.cli`.  A command parses its options, calls one
library function, and prints (data to stdout, messages to stderr).
"""
