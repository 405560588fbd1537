"""Every reason a line can be counted with (``parse_stats``): declared once, with its severity and
meaning.  ``Context.count`` takes the declared severity when the caller gives none; the tests check that
every reason the parsers write (literal in the code or seen on the samples) is declared here, with the
severity it is written with; ``kubelog formats --markdown`` prints the table (docs/formats.md).

Severity: ``info`` — the line is not a record and nothing is lost (a blank line, a wrapper's marker,
a superseded audit stage); ``warning`` — text kubelog could not read as its format (it is shown, the
rest of the input is kept); ``error`` — content lost or refused (too long, malformed, a parser bug).
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Reason:
    name: str  # as written in parse_stats; ``{x}`` marks a part filled in by the parser
    severity: str  # info | warning | error
    meaning: str

    def matches(self, reason: str) -> bool:
        if "{" not in self.name:
            return reason == self.name
        rx = "".join("(.+)" if p.startswith("{") else re.escape(p) for p in re.split(r"(\{[^}]*\})", self.name))
        return re.fullmatch(rx, reason) is not None


_R = Reason
DECLARED: list[Reason] = [
    # -- any input ------------------------------------------------------------------------
    _R(
        "unknown format (no sniffer claimed the input)",
        "warning",
        "no format recognised the input: every line counted, none read",
    ),
    _R("binary content (NUL bytes), not a log", "warning", "NUL bytes in the first 8 KiB: not parsed"),
    _R("empty input", "info", "the input has no bytes"),
    _R("unaccounted (parser bug)", "error", "lines a parser neither made records of nor counted: a bug, reported"),
    _R("{what} too large (not parsed)", "error", "a one-document input (JSON/XML/YAML) above the size limit: refused"),
    _R("invalid {what} (not parsed)", "error", "a one-document input that does not decode: every line counted"),
    _R("overlong line (> 32 MiB, skipped)", "info", "a line longer than the reader holds: read past, not parsed"),
    _R("line too long (over 64 MiB, skipped)", "error", "a JSON line longer than the limit: skipped"),
    _R("blank line", "info", "an empty line where no record continues"),
    # -- wrappers ---------------------------------------------------------------------------
    _R("journald marker line", "info", "journalctl's own lines (`-- Logs begin at …`, `-- No entries --`, boots)"),
    _R("minikube section header", "info", "`==> file <==` headers of `minikube logs`"),
    # -- klog text ------------------------------------------------------------------------
    _R("klog file header", "info", "the four lines klog writes at the top of a log file (`Log file created at:` …)"),
    _R("shell prompt", "info", "a shell prompt pasted with the log"),
    _R("shell trace (set -x)", "info", "`+ cmd` lines of a shell run with set -x (container entrypoints)"),
    _R("kubectl/client error", "warning", "an `error:` / `Error from server` line of the tool that fetched the log"),
    _R("not klog: deprecation notice", "info", "`Flag --x has been deprecated` printed before logging starts"),
    _R("blank line outside a record", "info", "a blank line before the first klog record of a block"),
    _R("not a klog record (before the first record)", "warning", "text before the input's first klog header"),
    _R("header-less line at a block boundary", "warning", "a continuation line whose record is in the previous block"),
    _R(
        "invalid date in klog header (kept, time null)",
        "warning",
        "a header with an impossible date: the record is kept, its time null (counts 0 lines)",
    ),
    _R(
        "pod/event record not understood ({error})",
        "warning",
        "a pod or event record an extractor could not read: kept as a message (counts 0 lines)",
    ),
    # -- access log without header ---------------------------------------------------------------
    _R("not an access-log line", "warning", "a line among header-less access-log lines that is not one"),
    # -- e2e ------------------------------------------------------------------------------
    _R("before the first e2e record", "info", "text before the first Logf/STEP/ginkgo line (a job's preamble)"),
    _R("blank line before the first e2e record", "info", "a blank line before the first e2e record"),
    _R("skipped-spec markers (one S per skipped spec)", "info", "ginkgo's `SSSS` skip markers alone on a line"),
    # -- kube-burner text -----------------------------------------------------------------------
    _R("before the first kube-burner record", "info", "text before the first logrus record"),
    # -- audit ----------------------------------------------------------------------------
    _R("audit line too long (over 64 MiB, skipped)", "error", "an audit line longer than the limit: skipped"),
    _R("not JSON (audit line)", "warning", "a line of a JSON audit log that is not JSON"),
    _R("JSON value is not an object (audit line)", "warning", "a JSON audit line that is not an object"),
    _R(
        "audit stage RequestReceived (request row from a later stage)",
        "info",
        "the RequestReceived event of a request whose later stage is in the file (that stage gives the row)",
    ),
    _R(
        "audit stage ResponseStarted (request row from ResponseComplete)",
        "info",
        "the ResponseStarted event of a long-running request whose completion is in the file",
    ),
    _R("not a legacy audit line", "warning", "a line of a legacy audit log that is not an AUDIT line"),
    _R(
        "audit legacy request/early-stage line (merged into its response line)",
        "info",
        "the request line of a legacy/basic audit pair (its response line gives the row)",
    ),
    # -- JSON component logs ------------------------------------------------------------------
    _R("not JSON (plain text in a JSON-format log)", "info", "text printed before --logging-format=json took effect"),
    # -- documents ------------------------------------------------------------------------
    _R(
        "junit envelope (XML declaration, <testsuite> lines)",
        "info",
        "the lines of a junit file outside its test cases",
    ),
    _R(
        "malformed JSON",
        "error",
        "invalid JSON in an object dump: its lines counted, parsing resumes at the next `{` line",
    ),
    _R("malformed JSON (truncated object)", "error", "an object dump cut in the middle of an object"),
    _R("malformed YAML", "error", "invalid YAML: this document and the rest of the input counted"),
    _R(
        "HTTP response headers (curl -i)", "info", "the status line and headers `curl -i` writes before a response body"
    ),
    _R("kubelog ground truth (not a log)", "info", "kubelog synth's truth.json beside a synthetic run"),
]


def lookup(reason: str) -> Reason | None:
    """The declaration of ``reason`` (exact names first, then templates), or None."""
    for r in DECLARED:
        if "{" not in r.name and r.name == reason:
            return r
    for r in DECLARED:
        if "{" in r.name and r.matches(reason):
            return r
    return None


def markdown() -> list[str]:
    out = [
        "## Counted lines",
        "",
        "Lines that belong to no record are counted in `parse_stats` with one of these reasons "
        "(`kubelog info` shows them per input); `{…}` is filled in by the parser.",
        "",
        "| reason | severity | meaning |",
        "|---|---|---|",
    ]
    out += [f"| `{r.name}` | {r.severity} | {r.meaning} |" for r in DECLARED]
    return out
