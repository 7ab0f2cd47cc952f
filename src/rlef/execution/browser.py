"""Headless Chromium over the DevTools protocol: open a page, evaluate JavaScript in it, take a
screenshot, and record every dialog (alert, confirm, prompt), uncaught exception, console error
and Content-Security-Policy violation the page produces.

    python -m rlef.execution.browser page.html -o shot.png [--fragment outcome=recovered] [--width 1400]

tests/test_viewer.py drives the viewer's pages with it; results/viewer/'s screenshot comes from
its command line. Here in execution/ because it starts a process (the only folder that does): a
browser on pages of untrusted model output (the page's CSP allows no network and no script but its own).
Needs a Chromium (Debian: apt-get install chromium) and websocket-client.
"""
from __future__ import annotations

import argparse
import base64
import json
import shutil
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

BINARIES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_chromium() -> str | None:
    return next((path for path in map(shutil.which, BINARIES) if path), None)


class Browser:
    """One headless Chromium with one page; a context manager. `dialogs` and `errors` collect what
    the page did, for tests to assert on."""

    def __init__(self, width: int = 1280, height: int = 900, binary: str | None = None, timeout: float = 30):
        import websocket  # websocket-client: only this tool needs it

        binary = binary or find_chromium()
        if binary is None:
            raise FileNotFoundError(f"no Chromium found (looked for {', '.join(BINARIES)})")
        self.timeout, self.dialogs, self.errors, self._id, self._loaded = timeout, [], [], 0, False
        self._profile = tempfile.mkdtemp(prefix="rlef-chromium-")
        # --no-sandbox: CI runs as root, where Chromium's own sandbox cannot start
        self._process = subprocess.Popen(
            [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
             "--no-default-browser-check", "--hide-scrollbars", "--remote-debugging-port=0",
             f"--user-data-dir={self._profile}", f"--window-size={width},{height}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            self._ws = websocket.create_connection(self._page_socket(), timeout=timeout, suppress_origin=True)
            for method in ("Page.enable", "Runtime.enable", "Log.enable"):
                self.call(method)
            self.call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1,
                      mobile=False)
        except BaseException:
            self.close()
            raise

    def _page_socket(self) -> str:
        """The DevTools websocket of the first page, once Chromium has written its port."""
        port_file, deadline = Path(self._profile) / "DevToolsActivePort", time.time() + self.timeout
        while not (port_file.is_file() and port_file.read_text().strip()):
            if time.time() > deadline or self._process.poll() is not None:
                raise RuntimeError("Chromium did not start its DevTools server")
            time.sleep(0.05)
        port = port_file.read_text().split()[0]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=self.timeout) as response:
            targets = json.load(response)
        return next(t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page")

    def call(self, method: str, **params) -> dict:
        """Send one command; record the events that arrive before its answer."""
        self._id += 1
        wanted = self._id
        self._ws.send(json.dumps({"id": wanted, "method": method, "params": params}))
        while True:
            message = json.loads(self._ws.recv())
            if message.get("id") == wanted:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self._event(message)

    def _event(self, message: dict) -> None:
        method, params = message.get("method"), message.get("params", {})
        if method == "Page.loadEventFired":
            self._loaded = True
        elif method == "Page.javascriptDialogOpening":
            self.dialogs.append(f"{params.get('type')}: {params.get('message')}")
            self._id += 1  # dismiss it, or the page stays blocked; the answer is not awaited
            self._ws.send(json.dumps({"id": self._id, "method": "Page.handleJavaScriptDialog",
                                      "params": {"accept": False}}))
        elif method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            self.errors.append(details.get("exception", {}).get("description") or details.get("text", ""))
        elif method == "Runtime.consoleAPICalled" and params.get("type") == "error":
            self.errors.append(" ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", [])))
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            self.errors.append(params["entry"].get("text", ""))

    def evaluate(self, expression: str):
        """The value of a JavaScript expression in the page (promises awaited)."""
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression!r} threw: {result['exceptionDetails'].get('text')}")
        return result["result"].get("value")

    def open(self, url: str, ready: str = "document.readyState === 'complete'") -> None:
        """Load `url` afresh (by way of about:blank: a new fragment alone would not reload the
        page), wait for its load event, then until the `ready` expression is true."""
        for target in ("about:blank", url):
            self._loaded = False
            failed = self.call("Page.navigate", url=target).get("errorText")
            if failed:
                raise RuntimeError(f"{target}: {failed}")
            deadline = time.time() + self.timeout
            while not self._loaded:
                if time.time() > deadline:
                    raise TimeoutError(f"{target} did not finish loading")
                self._event(json.loads(self._ws.recv()))
        self.wait_for(ready)

    def wait_for(self, expression: str) -> None:
        deadline = time.time() + self.timeout
        while not self.evaluate(f"Boolean({expression})"):
            if time.time() > deadline:
                raise TimeoutError(f"the page never made {expression!r} true")
            time.sleep(0.05)

    def screenshot(self, path: Path) -> Path:
        data = self.call("Page.captureScreenshot", format="png")["data"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))
        return path

    def close(self) -> None:
        if getattr(self, "_ws", None) is not None:
            self._ws.close()
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
        shutil.rmtree(self._profile, ignore_errors=True)

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def main() -> None:
    parser = argparse.ArgumentParser(description="a screenshot of a viewer page in headless Chromium")
    parser.add_argument("page", type=Path)
    parser.add_argument("-o", "--output", type=Path, required=True, help="the PNG")
    parser.add_argument("--fragment", default="", help="the page's filters, as in its address: outcome=recovered")
    parser.add_argument("--width", type=int, default=1400)
    parser.add_argument("--height", type=int, default=1600)
    args = parser.parse_args()
    with Browser(args.width, args.height) as browser:
        url = args.page.resolve().as_uri() + (f"#{args.fragment}" if args.fragment else "")
        browser.open(url, ready="document.body && document.body.dataset.ready === '1'")
        browser.screenshot(args.output)
        if browser.errors or browser.dialogs:
            raise SystemExit(f"the page reported {browser.errors + browser.dialogs}")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
