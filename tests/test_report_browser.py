"""The HTML report in a real headless browser (Debian's chromium over the DevTools protocol): no console
error, no network request beyond the file itself and its inline data: URIs, the headline matrix visible
on the first screen. Saves a screenshot of it as bench/out/report-page1.png (a CI artifact); with
KUBELOG_UPDATE_SCREENSHOT=1 also as docs/report-page1.png (the README's image)."""

from __future__ import annotations

import base64
import os
import shutil
from pathlib import Path

import pytest

from cdp import Browser, find_chromium, on_ci

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def browser():
    if not find_chromium():
        if on_ci():
            pytest.fail("CI must have chromium: .ci/run installs it (apt-get install chromium)")
        pytest.skip("no chromium on PATH (apt-get install chromium; .ci/run installs it on CI)")
    pytest.importorskip("websocket", reason="websocket-client is in the test extras")
    with Browser(width=1280, height=900) as b:
        yield b


@pytest.mark.slow
def test_html_report_in_a_headless_browser(browser, sample_runs, tmp_path):
    from kubelog.report import build

    run = sample_runs["skew-timeout-1.14"][0]
    res = build(run, tmp_path / "rep", pdf=False)
    page = browser.open(res["html"].resolve().as_uri())
    assert page.errors == []
    outside = [u[:80] for u in page.requests if not u.startswith(("data:", "file:"))]
    assert outside == []
    assert any(u.startswith("file:") for u in page.requests)  # the check sees requests at all
    seen = page.evaluate("""(() => {
        const t = document.querySelector('#summary table.wide');
        if (!t) return null;
        const r = t.getBoundingClientRect(), s = getComputedStyle(t);
        return {top: r.top, bottom: r.bottom, width: r.width, height: r.height, vis: s.visibility,
                disp: s.display, text: t.innerText, vw: window.innerWidth, vh: window.innerHeight};
    })()""")
    assert seen is not None, "no headline matrix in the summary"
    assert seen["disp"] != "none" and seen["vis"] == "visible" and seen["height"] > 50 and seen["width"] > 300
    assert 0 <= seen["top"] < seen["vh"] and seen["width"] <= seen["vw"]  # on the first screen, not cut sideways
    assert "PATCH nodes/status (resource)" in seen["text"] and "PATCH pods/status (resource)" in seen["text"]
    # the raw tables are there, collapsed
    closed = page.evaluate("Array.from(document.querySelectorAll('details')).filter(d => !d.open).length")
    assert closed >= 1
    shot = base64.b64decode(page.call("Page.captureScreenshot", format="png")["data"])
    assert shot.startswith(b"\x89PNG")
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "report-page1.png").write_bytes(shot)
    if os.environ.get("KUBELOG_UPDATE_SCREENSHOT") == "1":
        shutil.copyfile(out / "report-page1.png", ROOT / "docs" / "report-page1.png")


def test_console_errors_and_network_requests_are_seen(browser, tmp_path):
    """The checks above can fail: a page with a script error and a remote image is caught."""
    bad = tmp_path / "bad.html"
    bad.write_text(
        '<html><body><img src="http://127.0.0.1:9/x.png"><script>console.error("boom");'
        "undefinedFunction()</script></body></html>"
    )
    page = browser.open(bad.as_uri())
    assert any("boom" in e for e in page.errors) and any("undefinedFunction" in e for e in page.errors)
    assert any(u.startswith("http://127.0.0.1:9/") for u in page.requests)
