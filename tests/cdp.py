"""A small Chrome DevTools Protocol client for tests: Debian's chromium, headless, over a loopback
websocket (websocket-client). Collects console errors, exceptions and every network request a page makes.

>>> with Browser() as b:                       # doctest: +SKIP
...     page = b.open("file:///tmp/report.html")
...     page.errors, page.requests
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "chrome")


def find_chromium() -> str | None:
    for c in CANDIDATES:
        p = shutil.which(c)
        if p:
            return p
    return None


class Page:
    def __init__(self, ws):
        self.ws = ws
        self._id = 0
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.events: list[dict] = []

    def _handle(self, msg: dict):
        m, p = msg.get("method"), msg.get("params", {})
        if m == "Runtime.exceptionThrown":
            d = p.get("exceptionDetails", {})
            self.errors.append(
                "exception: " + str(d.get("exception", {}).get("description") or d.get("text", ""))[:300]
            )
        elif m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            self.errors.append("console: " + json.dumps(p.get("args", []))[:300])
        elif m == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
            self.errors.append("log: " + p["entry"].get("text", "")[:300])
        elif m == "Network.requestWillBeSent":
            self.requests.append(p.get("request", {}).get("url", ""))
        if m:
            self.events.append(msg)

    def call(self, method: str, timeout: float = 30, **params) -> dict:
        self._id += 1
        self.ws.send(json.dumps({"id": self._id, "method": method, "params": params}))
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == self._id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            self._handle(msg)
        raise TimeoutError(method)

    def wait_event(self, name: str, timeout: float = 30) -> dict:
        for e in self.events:
            if e.get("method") == name:
                return e
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            msg = json.loads(self.ws.recv())
            self._handle(msg)
            if msg.get("method") == name:
                return msg
        raise TimeoutError(name)

    def evaluate(self, expr: str):
        r = self.call("Runtime.evaluate", expression=expr, returnByValue=True)
        return r.get("result", {}).get("value")


class Browser:
    """Headless chromium with a DevTools port on 127.0.0.1 chosen by chromium itself."""

    def __init__(self, width: int = 1280, height: int = 900):
        self.exe = find_chromium()
        if not self.exe:
            raise FileNotFoundError("no chromium on PATH")
        self.width, self.height = width, height

    def __enter__(self):
        import websocket

        self.dir = tempfile.mkdtemp(prefix="kubelog-chromium-")
        self.proc = subprocess.Popen(
            [
                self.exe,
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-extensions",
                "--disable-background-networking",
                "--disable-sync",
                "--remote-debugging-address=127.0.0.1",
                "--remote-debugging-port=0",
                f"--user-data-dir={self.dir}",
                f"--window-size={self.width},{self.height}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        port_file = Path(self.dir) / "DevToolsActivePort"
        end = time.monotonic() + 60
        while not port_file.is_file() or not port_file.read_text().strip():
            if time.monotonic() > end or self.proc.poll() is not None:
                self.__exit__(None, None, None)
                raise RuntimeError("chromium did not open its DevTools port")
            time.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        targets = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10).read())
        url = next(t["webSocketDebuggerUrl"] for t in targets if t.get("type") == "page")
        self.ws = websocket.create_connection(url, timeout=60, suppress_origin=True)
        return self

    def open(self, url: str) -> Page:
        page = Page(self.ws)
        for d in ("Runtime", "Log", "Network", "Page"):
            page.call(f"{d}.enable")
        page.call(
            "Emulation.setDeviceMetricsOverride",
            width=self.width,
            height=self.height,
            deviceScaleFactor=1,
            mobile=False,
        )
        page.call("Page.navigate", url=url)
        page.wait_event("Page.loadEventFired", timeout=60)
        time.sleep(0.3)
        page.call("Runtime.evaluate", expression="1")  # drain events sent before now
        return page

    def __exit__(self, *exc):
        try:
            if getattr(self, "ws", None) is not None:
                self.ws.close()
        finally:
            if self.proc.poll() is None:
                self.proc.terminate()
                try:
                    self.proc.wait(10)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(10)
            shutil.rmtree(self.dir, ignore_errors=True)
        return False


def on_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")
