"""HTML from the report model (Jinja2, autoescaped, strict undefined) and PDF from that HTML (WeasyPrint)."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import jinja2


class PDFUnavailable(RuntimeError):
    """WeasyPrint (or the pango library it needs) cannot be imported."""


def environment() -> jinja2.Environment:
    """The Jinja2 environment: package templates, autoescaping on, undefined names an error."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("kubelog.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=False,
    )
    env.filters["soft"] = soft_breaks
    return env


_SOFT = re.compile(r"([/_,:=&?;]|\.(?=[A-Za-z]))(?=\S)")


def soft_breaks(text) -> str:
    """``text`` with a zero-width space after ``/ _ , : = & ? ;`` (and ``.`` before a letter) inside long tokens, so that a narrow
    column wraps a path or a key=value list there and never inside a word."""
    s = str(text)
    if len(s) < 16:
        return s
    return " ".join(_SOFT.sub("\\1\u200b", w) if len(w) > 16 else w for w in s.split(" "))


def css() -> str:
    """The stylesheet inlined into every report."""
    return resources.files("kubelog.report").joinpath("templates/style.css").read_text(encoding="utf-8")


def render_html(model: dict, *, pdf: bool = False) -> str:
    """The self-contained HTML document of ``model`` (see :func:`kubelog.report.model.build_model`).

    With ``pdf`` the document meant for the PDF: no HTML-only tables or sections, long tables cut to
    their ``pdf_rows`` with a line saying how many rows the HTML has more.
    """
    t = environment().get_template("report.html.j2")
    return t.render(
        title=model["title"],
        generated=model["generated"],
        version=model["version"],
        sections=model["sections"],
        css=css(),
        pdf=pdf,
    )


def _weasyprint():
    try:
        import weasyprint
    except (ImportError, OSError) as e:  # OSError: pango/cairo shared libraries missing
        raise PDFUnavailable(f"PDF rendering needs WeasyPrint and the pango library: {e}") from e
    return weasyprint


def _fetcher(wp):
    """A URL fetcher allowing only inline ``data:`` URIs (the report is self-contained)."""
    from weasyprint.urls import URLFetcher

    return URLFetcher(allowed_protocols={"data"}, fail_on_errors=True)


def document(html: str):
    """The laid-out WeasyPrint document of ``html`` (pages, bookmarks)."""
    wp = _weasyprint()
    return wp.HTML(string=html, url_fetcher=_fetcher(wp), base_url=".").render()


def write_pdf(html: str, path: str | Path):
    """Render ``html`` to the PDF file ``path``; returns the WeasyPrint document (for its pages)."""
    doc = document(html)
    doc.write_pdf(str(path))
    return doc


def table_overflow(doc) -> float:
    """How far (CSS px, 1/96 in) the widest table or cell of ``doc`` reaches past its page's content box.

    0 when every table fits the page width.
    """
    worst = 0.0
    for pg in doc.pages:
        pb = pg._page_box
        right = pb.content_box_x() + pb.width
        stack = [pb]
        while stack:
            b = stack.pop()
            if type(b).__name__ in ("TableBox", "TableCellBox"):
                worst = max(worst, b.position_x + b.margin_width() - right)
            stack.extend(getattr(b, "children", None) or [])
    return max(worst, 0.0)
