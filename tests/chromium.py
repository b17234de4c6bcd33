"""Headless Chromium driven over the DevTools protocol on a pipe (``--remote-debugging-pipe``): no extra package.

``Browser.look(url, width)`` loads a page in a phone-like (``mobile``) or desktop viewport of that width,
evaluates a script and saves a screenshot. Used by the browser tests; the tests skip, saying why, when no
Chromium is installed (``make test`` installs Debian's ``chromium`` when it can).
"""
from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--remote-debugging-pipe"]


def chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "/usr/bin/chromium"):
        found = shutil.which(name)
        if found:
            return found
    return None


class Browser:
    def __init__(self, exe: str):
        self.profile = tempfile.mkdtemp(prefix="crm-chromium-")
        to_chrome_r, self._w = os.pipe()
        self._r, from_chrome_w = os.pipe()

        def fds() -> None:  # the protocol's fixed descriptors: Chromium reads 3, writes 4 (kept by pass_fds,
            # which subprocess honours after this runs)
            a, b = os.dup(to_chrome_r), os.dup(from_chrome_w)  # in case either is 3 or 4 already
            os.dup2(a, 3)
            os.dup2(b, 4)

        self.proc = subprocess.Popen([exe, *FLAGS, f"--user-data-dir={self.profile}", "about:blank"],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, pass_fds=(3, 4),
                                     preexec_fn=fds)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._buf = b""
        self._n = 0

    def _send(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        self._n += 1
        msg: dict[str, Any] = {"id": self._n, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self._w, json.dumps(msg).encode() + b"\0")
        while True:
            reply = self._read()
            if reply.get("id") == self._n:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})

    def _read(self) -> dict:
        while b"\0" not in self._buf:
            chunk = os.read(self._r, 1 << 20)
            if not chunk:
                raise RuntimeError("chromium closed the DevTools pipe")
            self._buf += chunk
        raw, self._buf = self._buf.split(b"\0", 1)
        return json.loads(raw)

    def _wait_event(self, name: str, session: str) -> None:
        while True:
            msg = self._read()
            if msg.get("method") == name and msg.get("sessionId") == session:
                return

    def look(self, url: str, width: int, script: str, screenshot: Path | None = None, height: int = 900) -> Any:
        target = self._send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self._send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        try:
            self._send("Emulation.setDeviceMetricsOverride", {"width": width, "height": height,
                                                              "deviceScaleFactor": 1, "mobile": width < 600},
                       session)
            self._send("Page.enable", {}, session)
            self._send("Page.navigate", {"url": url}, session)
            self._wait_event("Page.loadEventFired", session)
            result = self._send("Runtime.evaluate", {"expression": script, "returnByValue": True}, session)
            if screenshot is not None:
                shot = self._send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True},
                                  session)
                screenshot.parent.mkdir(parents=True, exist_ok=True)
                screenshot.write_bytes(base64.b64decode(shot["data"]))
            return result["result"].get("value")
        finally:
            self._send("Target.closeTarget", {"targetId": target})

    def close(self) -> None:
        try:
            self._send("Browser.close")
        except (RuntimeError, OSError):
            pass
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for fd in (self._r, self._w):
            try:
                os.close(fd)
            except OSError:
                pass
        shutil.rmtree(self.profile, ignore_errors=True)
