"""The run report (HTML + PDF) and the comparison of two runs (issue #9).

>>> build(open_run("out/run"), "out/report")      # doctest: +SKIP
{'html': PosixPath('out/report/report.html'), 'pdf': PosixPath('out/report/report.pdf')}
"""

from __future__ import annotations

from pathlib import Path

from ..run import Run
from .model import SECTIONS, build_model
from .render import PDFUnavailable, render_html, table_overflow, write_pdf

__all__ = ["build", "build_model", "render_html", "PDFUnavailable"]


def build(
    run: Run,
    out_dir,
    *,
    pdf: bool = True,
    correct_skew: bool = False,
    offsets: dict | None = None,
    nodes: int | None = None,
    pods_per_node: int | None = None,
    buckets=None,
    progress=None,
) -> dict:
    """Write ``report.html`` (self-contained) and, with ``pdf``, ``report.pdf`` into ``out_dir``.

    Parameters
    ----------
    run : Run
        An ingested run (:func:`kubelog.run.open_run` or :func:`kubelog.engine.ingest`).
    out_dir : path
        Created if missing; existing report files are overwritten.
    pdf : bool
        Also render the PDF (raises :class:`PDFUnavailable` when WeasyPrint cannot be imported,
        after the HTML is written).
    correct_skew : bool
        Apply the clock offsets found by :func:`kubelog.analysis.skew.analyze`
        (:func:`kubelog.analysis.skew.corrections`), to the test-reported percentiles too.
    offsets : dict, optional
        ``{domain: seconds ahead of the apiserver}`` given by the user; they win over the estimates.
    nodes, pods_per_node, buckets
        The load options of ``kubelog latency --by-load`` (None = their defaults).
    progress : callable, optional
        Called with ``(done, total, what)`` as the report advances (sections, then the HTML and the PDF).

    Returns
    -------
    dict
        ``{"html": Path, "pdf": Path}`` (``pdf`` only when written) and ``"sections"``:
        ``{key: status}`` with status ``ok``/``unavailable``/``error``; with the PDF also
        ``"pdf_pages"`` (int), ``"bookmarks"`` (the PDF outline: heading texts in order) and
        ``"overflow_px"`` (how far the widest table reaches past the page's content box; 0 = fits).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    steps = 2 + len(SECTIONS) + (1 if pdf else 0)
    say = progress or (lambda *a: None)
    model = build_model(
        run,
        correct_skew=correct_skew,
        offsets=offsets,
        nodes=nodes,
        pods_per_node=pods_per_node,
        buckets=buckets,
        progress=lambda i, n, t: say(i, steps, t),
    )
    say(len(SECTIONS), steps, "HTML")
    html = render_html(model)
    paths = {"html": out / "report.html"}
    paths["html"].write_text(html, encoding="utf-8")
    if pdf:
        say(len(SECTIONS) + 1, steps, "PDF")
        paths["pdf"] = out / "report.pdf"
        doc = write_pdf(render_html(model, pdf=True), paths["pdf"])
        paths["pdf_pages"] = len(doc.pages)
        paths["bookmarks"] = _labels(doc.make_bookmark_tree())
        paths["overflow_px"] = table_overflow(doc)
    paths["sections"] = {s.key: s.status for s in model["sections"]}
    say(steps, steps, "done")
    return paths


def _labels(tree) -> list:
    """Flatten WeasyPrint's bookmark tree ``[(label, target, children, state)]`` to labels in order."""
    out = []
    for label, _target, children, *_ in tree:
        out.append(label)
        out += _labels(children)
    return out
