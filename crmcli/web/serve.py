"""``crm serve``: the site's pages served live from the store, read-only, on 127.0.0.1 by default.

The standard library's ``http.server`` (threaded) is enough: a handful of colleagues reading static pages,
no new dependency to keep up to date, nothing to configure. The pages are the ones ``crm site build`` makes,
kept in the store's local cache folder (``<git-dir>/crm/cache/site``, beside the query index, never in git)
and brought up to date (by ``python -m crmcli.web.build`` in a process of its own) from a watcher thread:
at once when git's HEAD moves (every crm command commits), and every ``full_every`` seconds for hand edits.
Requests only read those files: a page costs a file read.

Safety: only GET and HEAD; only files inside the site folder (the path is resolved and checked, so
``..``, encoded or not, and symbolic links out of the folder get 404); no folder listings; no dot files
(the manifest); optional token (``?token=`` once, then a cookie; or ``Authorization: Bearer``); on
loopback, a request whose Host is not this machine is refused (a web page's DNS rebinding).
"""
from __future__ import annotations

import hmac
import http.server
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from crmcli.errors import CrmError
from crmcli.store import git
from crmcli.store.store import Store

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
TYPES = {".html": "text/html; charset=utf-8", ".json": "application/json", ".css": "text/css; charset=utf-8",
         ".js": "text/javascript; charset=utf-8", ".png": "image/png", ".svg": "image/svg+xml",
         ".txt": "text/plain; charset=utf-8"}


def site_folder(store: Store) -> Path:
    """Where the served pages live: the store's local cache, else a private temporary folder."""
    folder = store.state_dir / "cache" / "site"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        return folder
    except OSError:
        return Path(tempfile.mkdtemp(prefix="crm-site-"))


class BuildFailed(CrmError):
    """The pages could not be built (the child's one-line reason, and its exit code)."""


class Watcher(threading.Thread):
    """Rebuilds the site when the store changes; ``version`` counts builds."""

    def __init__(self, store: Store, folder: Path, *, poll: float = 1.0, full_every: float = 30.0,
                 log: Callable[[str], Any] = print):
        super().__init__(daemon=True, name="crm-site-watcher")
        self.store, self.folder, self.poll, self.full_every, self.log = store, folder, poll, full_every, log
        self.head: str | None = None
        self.checked = 0.0
        self.stop = threading.Event()
        self.version = 0

    def _head(self) -> str | None:
        if self.store.top is None:
            return None
        proc = git.run(["rev-parse", "-q", "--verify", "HEAD"], cwd=self.store.top, check=False)
        return proc.stdout.decode().strip() or None

    def build(self) -> None:
        """Bring the pages up to date, in a child process (``crmcli.web.build``'s main)."""
        head = self._head()
        started = time.monotonic()
        proc = subprocess.run([sys.executable, "-m", "crmcli.web.build", str(self.store.root), str(self.folder)],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            error = BuildFailed((proc.stderr.strip().splitlines() or ["the build failed"])[-1].removeprefix(
                "crm: error: "))
            error.exit_code = proc.returncode if 0 < proc.returncode < 64 else error.exit_code
            raise error
        self.head, self.checked, self.version = head, time.monotonic(), self.version + 1
        written = int(proc.stdout.strip() or 0)
        if written:
            self.log(f"crm serve: {written} page(s) updated in {time.monotonic() - started:.1f}s")

    def run(self) -> None:
        while not self.stop.wait(self.poll):
            try:
                if self._head() != self.head or time.monotonic() - self.checked >= self.full_every:
                    self.build()
            except Exception as exc:  # noqa: BLE001 - keep serving the last good pages; say why once per failure
                self.log(f"crm serve: could not rebuild the pages: {exc}")
                self.checked = time.monotonic()


def make_handler(folder: Path, token: str | None, local: bool = False) -> type[http.server.BaseHTTPRequestHandler]:
    """``local``: listening on loopback only, so a request naming another host (DNS rebinding) is refused."""
    root = folder.resolve()

    class Handler(http.server.BaseHTTPRequestHandler):
        server_version = "crm-serve"
        sys_version = ""

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
            return

        def _refuse(self, code: int, text: str) -> None:
            body = f"{code} {text}\n".encode()
            self.send_response(code)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _allowed(self, query: dict[str, list[str]]) -> tuple[bool, bool]:
            """(allowed, set the cookie)"""
            if not token:
                return True, False
            given = (query.get("token") or [""])[0]
            if given and hmac.compare_digest(given, token):
                return True, True
            auth = self.headers.get("Authorization", "")
            if auth.startswith("Bearer ") and hmac.compare_digest(auth[7:].strip(), token):
                return True, False
            for part in self.headers.get("Cookie", "").split(";"):
                name, _, value = part.strip().partition("=")
                if name == "crm_token" and hmac.compare_digest(value, token):
                    return True, False
            return False, False

        def _target(self, raw_path: str) -> Path | None:
            path = urllib.parse.unquote(raw_path)
            if "\x00" in path or "\\" in path:
                return None
            parts = [p for p in path.split("/") if p]
            if any(p.startswith(".") for p in parts):
                return None
            target = (root / "/".join(parts)).resolve()
            if target != root and root not in target.parents:
                return None
            if target.is_dir():
                target = target / "index.html"
            return target if target.is_file() else None

        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            url = urllib.parse.urlsplit(self.path)
            if local:
                name = urllib.parse.urlsplit("//" + self.headers.get("Host", "")).hostname or ""
                if not is_loopback(name):
                    self._refuse(403, "this server answers only addresses of this machine (127.0.0.1, localhost)")
                    return
            ok, cookie = self._allowed(urllib.parse.parse_qs(url.query))
            if not ok:
                self._refuse(401, "a token is needed: open the address crm serve printed (with ?token=...)")
                return
            target = self._target(url.path)
            if target is None:
                self._refuse(404, "not found")
                return
            data = target.read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", TYPES.get(target.suffix.lower(), "application/octet-stream"))
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-cache")
            self.send_header("X-Content-Type-Options", "nosniff")
            self.send_header("Referrer-Policy", "no-referrer")
            if cookie:
                self.send_header("Set-Cookie", f"crm_token={token}; Path=/; HttpOnly; SameSite=Strict")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        do_HEAD = do_GET  # noqa: N815

        def _read_only(self) -> None:
            self._refuse(405, "read-only: crm serve only answers GET and HEAD")

        do_POST = do_PUT = do_DELETE = do_PATCH = _read_only  # noqa: N815

    return Handler


class _Server6(http.server.ThreadingHTTPServer):
    address_family = socket.AF_INET6


def is_loopback(host: str) -> bool:
    return host in LOOPBACK or host.startswith("127.")


def serve(store: Store, *, host: str = "127.0.0.1", port: int = 8765, token: str | None = None,
          poll: float = 1.0, log: Callable[[str], Any] | None = None) -> None:
    """Build the pages, then serve them until interrupted (Ctrl-C)."""
    say = log or (lambda text: print(text, file=sys.stderr, flush=True))
    folder = site_folder(store)
    watcher = Watcher(store, folder, poll=poll, log=say)
    watcher.build()
    handler = make_handler(folder, token, local=is_loopback(host))
    server = _Server6((host, port), handler) if ":" in host else http.server.ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    shown = f"[{host}]" if ":" in host else host
    address = f"http://{shown}:{server.server_address[1]}/" + (f"?token={token}" if token else "")
    if not is_loopback(host):
        say(f"crm: warning: serving on {host}, not only this machine: anyone who can reach port "
            f"{server.server_address[1]} can read the records" + ("" if token else "; give --token to ask for one"))
    say(f"crm serve: {address}  (read-only; Ctrl-C stops)")
    watcher.start()
    try:
        server.serve_forever(poll_interval=0.5)
    finally:
        watcher.stop.set()
        server.server_close()
